/* Blending a segmentation class mask onto a frame in place.
 *
 * The mask is scaled to the destination rectangle with nearest neighbour
 * (mask column = dx * mask_width / dest_width, torch's 'nearest'), and each
 * enabled class's colour is mixed in with 8-bit fixed-point weights, so that
 * alpha 0 leaves every byte as it was and alpha 1 writes the colour exactly.
 *
 * RGB-family formats get the colour in R, G and B (alpha/padding bytes are
 * never written); GRAY8 gets its BT.601 luma; YUV formats get the colour's
 * BT.601 Y'CbCr (limited range unless frame->full_range): Y per pixel, and
 * Cb/Cr per chroma sample with the class at the top-left pixel of its 2x2
 * block. A chroma sample is shared by its whole block, so it is blended only
 * when the block (clipped to the frame) lies inside dest: nothing outside
 * dest ever changes. */
#include "internal.h"
#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STACK_COLUMNS 4096

typedef struct blend_table {
  uint8_t on[256];        /* class enabled */
  uint16_t add[256][3];   /* colour * a + 128 per target channel */
  uint16_t keep;          /* 256 - a */
} blend_table;

static inline uint8_t mix(const blend_table *t, uint8_t src, int cls, int k) {
  return (uint8_t)((src * t->keep + t->add[cls][k]) >> 8);
}

/* ---- colour targets ----------------------------------------------------- */

static int clamp_round(double v) {
  long r = lround(v);
  return r < 0 ? 0 : (r > 255 ? 255 : (int)r);
}

/* BT.601: Kr = 0.299, Kb = 0.114. */
static void rgb_to_ycbcr(const uint8_t rgb[3], int full_range, int out[3]) {
  const double kr = 0.299, kb = 0.114, kg = 1.0 - kr - kb;
  double r = rgb[0], g = rgb[1], b = rgb[2];
  double y = kr * r + kg * g + kb * b;
  double cb = (b - y) / (2.0 * (1.0 - kb)), cr = (r - y) / (2.0 * (1.0 - kr));
  if (full_range) {
    out[0] = clamp_round(y);
    out[1] = clamp_round(128.0 + cb);
    out[2] = clamp_round(128.0 + cr);
  } else {
    out[0] = clamp_round(16.0 + y * 219.0 / 255.0);
    out[1] = clamp_round(128.0 + cb * 224.0 / 255.0);
    out[2] = clamp_round(128.0 + cr * 224.0 / 255.0);
  }
}

static void table_init(blend_table *t, const mnv3_frame *f,
                       const uint8_t colors[256][3], const uint8_t *enabled,
                       int a) {
  int yuv = f->format >= MNV3_PIXEL_I420 && f->format <= MNV3_PIXEL_NV21;
  t->keep = (uint16_t)(256 - a);
  for (int c = 0; c < 256; c++) {
    t->on[c] = enabled ? enabled[c] != 0 : 1;
    int target[3];
    if (yuv) {
      rgb_to_ycbcr(colors[c], f->full_range, target);
    } else if (f->format == MNV3_PIXEL_GRAY8) {
      rgb_to_ycbcr(colors[c], 1, target); /* GRAY8 holds full-range luma */
    } else {
      for (int k = 0; k < 3; k++)
        target[k] = colors[c][k];
    }
    for (int k = 0; k < 3; k++)
      t->add[c][k] = (uint16_t)(target[k] * a + 128);
  }
}

/* ---- geometry ----------------------------------------------------------- */

typedef struct mask_map {
  const uint8_t *mask;
  int stride, mw, mh;
  mnv3_rect dest;
  const int *col; /* mask column of each dest column */
} mask_map;

static const uint8_t *mask_row(const mask_map *m, int frame_y) {
  int my = (int)((int64_t)(frame_y - m->dest.y) * m->mh / m->dest.height);
  return m->mask + (size_t)my * m->stride;
}

static void columns_init(int *col, int dest_w, int mask_w) {
  /* col[dx] = dx * mask_w / dest_w, stepped without a division per pixel */
  int index = 0, rem = 0;
  for (int dx = 0; dx < dest_w; dx++) {
    col[dx] = index;
    rem += mask_w;
    while (rem >= dest_w) {
      rem -= dest_w;
      index++;
    }
  }
}

/* ---- per format family -------------------------------------------------- */

static void blend_packed(const mnv3_frame *f, uint8_t *plane,
                         const mask_map *m, const blend_table *t) {
  int bpp = mnv3_packed_pixel_bytes(f->format);
  int ro, go, bo;
  switch (f->format) {
  case MNV3_PIXEL_BGR: case MNV3_PIXEL_BGRX: case MNV3_PIXEL_BGRA:
    ro = 2, go = 1, bo = 0;
    break;
  case MNV3_PIXEL_XRGB: case MNV3_PIXEL_ARGB:
    ro = 1, go = 2, bo = 3;
    break;
  case MNV3_PIXEL_XBGR: case MNV3_PIXEL_ABGR:
    ro = 3, go = 2, bo = 1;
    break;
  default: /* RGB, RGBX, RGBA */
    ro = 0, go = 1, bo = 2;
    break;
  }
  for (int y = m->dest.y; y < m->dest.y + m->dest.height; y++) {
    const uint8_t *mrow = mask_row(m, y);
    uint8_t *p = plane + (size_t)y * f->strides[0] + (size_t)m->dest.x * bpp;
    for (int dx = 0; dx < m->dest.width; dx++, p += bpp) {
      int cls = mrow[m->col[dx]];
      if (!t->on[cls])
        continue;
      p[ro] = mix(t, p[ro], cls, 0);
      p[go] = mix(t, p[go], cls, 1);
      p[bo] = mix(t, p[bo], cls, 2);
    }
  }
}

/* Luma of YUV and GRAY8 frames: channel 0 of the table. */
static void blend_luma(const mnv3_frame *f, uint8_t *plane, const mask_map *m,
                       const blend_table *t) {
  for (int y = m->dest.y; y < m->dest.y + m->dest.height; y++) {
    const uint8_t *mrow = mask_row(m, y);
    uint8_t *p = plane + (size_t)y * f->strides[0] + m->dest.x;
    for (int dx = 0; dx < m->dest.width; dx++) {
      int cls = mrow[m->col[dx]];
      if (t->on[cls])
        p[dx] = mix(t, p[dx], cls, 0);
    }
  }
}

/* First and one-past-last chroma index along one axis whose luma block
 * [2i, min(2i + 1, side - 1)] lies inside [lo, lo + len). */
static void chroma_span(int lo, int len, int side, int *first, int *end) {
  int last = lo + len - 1;
  *first = (lo + 1) / 2;
  /* The frame's last block may be one pixel wide: it counts when dest
     reaches the frame's edge. */
  *end = last == side - 1 ? last / 2 + 1 : (last + 1) / 2;
  if (*end < *first)
    *end = *first;
}

static void blend_chroma(const mnv3_frame *f, uint8_t *const planes[3],
                         const mask_map *m, const blend_table *t) {
  uint8_t *u, *v;
  int ustride, vstride, step;
  switch (f->format) {
  case MNV3_PIXEL_NV12:
    u = planes[1], v = planes[1] + 1, step = 2;
    ustride = vstride = f->strides[1];
    break;
  case MNV3_PIXEL_NV21:
    v = planes[1], u = planes[1] + 1, step = 2;
    ustride = vstride = f->strides[1];
    break;
  default: /* I420, YV12: the caller hands U in planes[1] */
    u = planes[1], v = planes[2], step = 1;
    ustride = f->strides[1], vstride = f->strides[2];
    break;
  }
  int cx0, cx1, cy0, cy1;
  chroma_span(m->dest.x, m->dest.width, f->width, &cx0, &cx1);
  chroma_span(m->dest.y, m->dest.height, f->height, &cy0, &cy1);
  for (int cy = cy0; cy < cy1; cy++) {
    const uint8_t *mrow = mask_row(m, 2 * cy);
    uint8_t *urow = u + (size_t)cy * ustride, *vrow = v + (size_t)cy * vstride;
    for (int cx = cx0; cx < cx1; cx++) {
      int cls = mrow[m->col[2 * cx - m->dest.x]];
      if (!t->on[cls])
        continue;
      urow[cx * step] = mix(t, urow[cx * step], cls, 1);
      vrow[cx * step] = mix(t, vrow[cx * step], cls, 2);
    }
  }
}

/* ---- entry -------------------------------------------------------------- */

static int check_args(const mnv3_frame *frame, uint8_t *const planes[3],
                      const mnv3_rect *dest, const uint8_t *mask,
                      int mask_width, int mask_height, int mask_stride,
                      const uint8_t colors[256][3], float alpha,
                      mnv3_error *error) {
  if (!frame || !planes)
    return mnv3_fail(error, "blend: %s is NULL", !frame ? "frame" : "planes");
  /* Validate the writable planes with the frame's geometry. */
  mnv3_frame writable = *frame;
  for (int i = 0; i < 3; i++)
    writable.planes[i] = planes[i];
  if (mnv3_frame_validate(&writable, error)) {
    mnv3_error_prefix(error, "blend: ");
    return -1;
  }
  if (!mask || !colors)
    return mnv3_fail(error, "blend: %s is NULL", !mask ? "mask" : "colors");
  if (mask_width < 1 || mask_height < 1 || mask_stride < mask_width)
    return mnv3_fail(error, "blend: mask %dx%d with stride %d is invalid; "
                     "sides must be >= 1 and stride >= width", mask_width,
                     mask_height, mask_stride);
  if (!(alpha >= 0.0f && alpha <= 1.0f))
    return mnv3_fail(error, "blend: alpha %g is outside [0, 1]",
                     (double)alpha);
  if (dest->width < 1 || dest->height < 1 || dest->x < 0 || dest->y < 0 ||
      dest->x > frame->width - dest->width ||
      dest->y > frame->height - dest->height)
    return mnv3_fail(error, "blend: dest x=%d y=%d %dx%d does not lie within "
                     "the %dx%d frame; pass a non-empty rectangle inside it",
                     dest->x, dest->y, dest->width, dest->height,
                     frame->width, frame->height);
  return 0;
}

int mnv3_blend_mask(const mnv3_frame *frame, uint8_t *const planes[3],
                    const mnv3_rect *dest, const uint8_t *mask,
                    int mask_width, int mask_height, int mask_stride,
                    const uint8_t colors[256][3], const uint8_t *enabled,
                    float alpha, int mask_only, mnv3_error *error) {
  /* dest NULL: the whole frame */
  mnv3_rect whole = {0, 0, frame ? frame->width : 0, frame ? frame->height : 0};
  if (!dest)
    dest = &whole;
  if (check_args(frame, planes, dest, mask, mask_width, mask_height,
                 mask_stride, colors, alpha, error))
    return -1;
  int a = mask_only ? 256 : (int)lrintf(alpha * 256.0f);
  if (a == 0)
    return 0; /* nothing would change */

  int stack_cols[STACK_COLUMNS];
  int *col = stack_cols;
  if (dest->width > STACK_COLUMNS) {
    col = malloc((size_t)dest->width * sizeof *col);
    if (!col)
      return mnv3_fail(error, "blend: out of memory for a %d-wide mask row",
                       dest->width);
  }
  columns_init(col, dest->width, mask_width);
  mask_map m = {mask, mask_stride, mask_width, mask_height, *dest, col};

  blend_table table;
  blend_table *t = &table;
  table_init(t, frame, colors, enabled, a);

  switch (frame->format) {
  case MNV3_PIXEL_I420:
  case MNV3_PIXEL_YV12:
  case MNV3_PIXEL_NV12:
  case MNV3_PIXEL_NV21:
    blend_luma(frame, planes[0], &m, t);
    blend_chroma(frame, planes, &m, t);
    break;
  case MNV3_PIXEL_GRAY8:
    blend_luma(frame, planes[0], &m, t);
    break;
  default:
    blend_packed(frame, planes[0], &m, t);
    break;
  }
  if (col != stack_cols)
    free(col);
  return 0;
}
