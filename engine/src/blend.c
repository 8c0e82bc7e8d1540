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

typedef struct blend_table {
  uint8_t on[256];        /* class enabled */
  uint16_t add[256][3];   /* colour * a + 128 per target channel */
  uint16_t keep;          /* 256 - a */
  /* Per target channel and class, the byte weights keep | add << 16: a
     disabled class has keep 256 and add 0, which leaves a byte as it was
     (one load per pixel, no branch on the class). */
  uint32_t weights[3][256];
} blend_table;

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
    for (int k = 0; k < 3; k++) {
      t->add[c][k] = (uint16_t)(target[k] * a + 128);
      t->weights[k][c] = t->on[c] ? t->keep | (uint32_t)t->add[c][k] << 16 : 256;
    }
  }
}

/* ---- geometry ----------------------------------------------------------- */

typedef struct mask_map {
  const uint8_t *mask;
  int stride, mw, mh;
  mnv3_rect dest;
  const int *col; /* mask column of each dest column */
} mask_map;

static int mask_row_index(const mask_map *m, int frame_y) {
  return (int)((int64_t)(frame_y - m->dest.y) * m->mh / m->dest.height);
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

/* ---- per-byte lines ------------------------------------------------------ */

/* Every frame row that maps to the same mask row blends with the same
 * per-byte weights: out = (in * keep + add) >> 8, where a disabled class (or
 * an alpha/padding byte) has keep 256 and add 0, which leaves the byte as it
 * was. The weights of a row are built once per mask row (a 256-row mask on
 * a 1080-row frame: once per 4.2 rows), and the per-row loop is plain 16-bit
 * arithmetic on contiguous bytes, which the compiler vectorises.
 * keep + colour weight = 256 keeps in * keep + add below 65536. */
typedef struct line {
  uint16_t *keep, *add;   /* plane 0 (packed, luma) or the chroma plane(s) */
  uint16_t *keep2, *add2; /* the V plane of I420/YV12 */
  int mask_row;           /* the mask row the weights hold, or -1 */
} line;

/* One entry of weights per line entry, entry j reading mask column map[j].
 * (Writing each run of equal columns with wide stores was slower: the
 * overlapping stores stall the blend's loads right after.) */
static void fill_plain(const int *map, int n, const uint8_t *mrow, const uint32_t *tab,
                       uint16_t *keep, uint16_t *add) {
  for (int j = 0; j < n; j++) {
    const uint32_t w = tab[mrow[map[j]]];
    keep[j] = (uint16_t)w;
    add[j] = (uint16_t)(w >> 16);
  }
}

/* Two bytes per entry (interleaved chroma): channel k0 then k1. A class's
 * keep is the same for every channel. */
static void fill_pairs(const int *map, int n, const uint8_t *mrow, const uint32_t *t0,
                       const uint32_t *t1, uint16_t *keep, uint16_t *add) {
  for (int j = 0; j < n; j++) {
    const int cls = mrow[map[j]];
    const uint32_t w0 = t0[cls], w1 = t1[cls];
    keep[2 * j] = keep[2 * j + 1] = (uint16_t)w0;
    add[2 * j] = (uint16_t)(w0 >> 16);
    add[2 * j + 1] = (uint16_t)(w1 >> 16);
  }
}

/* bpp bytes per entry (packed RGB): R, G, B at their offsets, the rest (a
 * 4-byte format's alpha/padding) untouched. */
static void fill_packed(const int *map, int n, const uint8_t *mrow, const blend_table *t,
                        const int off[3], int bpp, uint16_t *keep, uint16_t *add) {
  if (bpp == 4)
    for (int j = 0; j < 4 * n; j++) {
      keep[j] = 256;
      add[j] = 0;
    }
  for (int j = 0; j < n; j++) {
    const int cls = mrow[map[j]];
    for (int c = 0; c < 3; c++) {
      keep[j * bpp + off[c]] = (uint16_t)t->weights[c][cls];
      add[j * bpp + off[c]] = (uint16_t)(t->weights[c][cls] >> 16);
    }
  }
}

static void blend_bytes(uint8_t *restrict p, const uint16_t *restrict keep,
                        const uint16_t *restrict add, int n) {
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)((uint16_t)(p[i] * keep[i] + add[i]) >> 8);
}

/* ---- per format family -------------------------------------------------- */

static void packed_rgb_offsets(mnv3_pixel_format format, int off[3]) {
  switch (format) {
  case MNV3_PIXEL_BGR: case MNV3_PIXEL_BGRX: case MNV3_PIXEL_BGRA:
    off[0] = 2, off[1] = 1, off[2] = 0;
    break;
  case MNV3_PIXEL_XRGB: case MNV3_PIXEL_ARGB:
    off[0] = 1, off[1] = 2, off[2] = 3;
    break;
  case MNV3_PIXEL_XBGR: case MNV3_PIXEL_ABGR:
    off[0] = 3, off[1] = 2, off[2] = 1;
    break;
  default: /* RGB, RGBX, RGBA */
    off[0] = 0, off[1] = 1, off[2] = 2;
    break;
  }
}

static void blend_packed(const mnv3_frame *f, uint8_t *plane, const mask_map *m,
                         const blend_table *t, line *l) {
  const int bpp = mnv3_packed_pixel_bytes(f->format);
  int off[3];
  packed_rgb_offsets(f->format, off);
  for (int y = m->dest.y; y < m->dest.y + m->dest.height; y++) {
    int my = mask_row_index(m, y);
    if (my != l->mask_row) {
      fill_packed(m->col, m->dest.width, m->mask + (size_t)my * m->stride, t, off, bpp,
                  l->keep, l->add);
      l->mask_row = my;
    }
    blend_bytes(plane + (size_t)y * f->strides[0] + (size_t)m->dest.x * bpp, l->keep,
                l->add, m->dest.width * bpp);
  }
}

/* Luma of YUV and GRAY8 frames: channel 0 of the table. */
static void blend_luma(const mnv3_frame *f, uint8_t *plane, const mask_map *m,
                       const blend_table *t, line *l) {
  for (int y = m->dest.y; y < m->dest.y + m->dest.height; y++) {
    int my = mask_row_index(m, y);
    if (my != l->mask_row) {
      fill_plain(m->col, m->dest.width, m->mask + (size_t)my * m->stride, t->weights[0],
                 l->keep, l->add);
      l->mask_row = my;
    }
    blend_bytes(plane + (size_t)y * f->strides[0] + m->dest.x, l->keep, l->add,
                m->dest.width);
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

/* Chroma: a sample follows the class at its block's top-left pixel; `map`
 * (scratch, one int per sample) gets each sample's mask column. NV12/NV21
 * interleave U and V: one line of 2 bytes per sample; I420/YV12 have a line
 * per plane. */
static void blend_chroma(const mnv3_frame *f, uint8_t *const planes[3], const mask_map *m,
                         int *map, const blend_table *t, line *l) {
  int cx0, cx1, cy0, cy1;
  chroma_span(m->dest.x, m->dest.width, f->width, &cx0, &cx1);
  chroma_span(m->dest.y, m->dest.height, f->height, &cy0, &cy1);
  const int n = cx1 - cx0;
  if (n <= 0)
    return;
  for (int i = 0; i < n; i++)
    map[i] = m->col[2 * (cx0 + i) - m->dest.x];
  const int interleaved = f->format == MNV3_PIXEL_NV12 || f->format == MNV3_PIXEL_NV21;
  /* Table channel of the first byte of a sample: U is channel 1, V 2. */
  const int first_k = f->format == MNV3_PIXEL_NV21 ? 2 : 1;
  for (int cy = cy0; cy < cy1; cy++) {
    int my = mask_row_index(m, 2 * cy);
    const uint8_t *mrow = m->mask + (size_t)my * m->stride;
    if (my != l->mask_row) {
      if (interleaved) {
        fill_pairs(map, n, mrow, t->weights[first_k], t->weights[3 - first_k], l->keep,
                   l->add);
      } else {
        fill_plain(map, n, mrow, t->weights[1], l->keep, l->add);
        fill_plain(map, n, mrow, t->weights[2], l->keep2, l->add2);
      }
      l->mask_row = my;
    }
    if (interleaved) {
      blend_bytes(planes[1] + (size_t)cy * f->strides[1] + 2 * (size_t)cx0, l->keep,
                  l->add, 2 * n);
    } else { /* I420, YV12: the caller hands U in planes[1] */
      blend_bytes(planes[1] + (size_t)cy * f->strides[1] + cx0, l->keep, l->add, n);
      blend_bytes(planes[2] + (size_t)cy * f->strides[2] + cx0, l->keep2, l->add2, n);
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

  /* One allocation: the column map, a chroma map, and lines of weights (up
     to 4 bytes per dest pixel). */
  const size_t w = (size_t)dest->width, line_entries = 4 * w;
  int *col = malloc(2 * w * sizeof(int) + 4 * line_entries * sizeof(uint16_t));
  if (!col)
    return mnv3_fail(error, "blend: out of memory for a %d-wide mask row",
                     dest->width);
  columns_init(col, dest->width, mask_width);
  int *chroma_map = col + w;
  uint16_t *mem = (uint16_t *)(col + 2 * w); /* malloc'd: no declared type */
  line l = {mem, mem + line_entries, mem + 2 * line_entries, mem + 3 * line_entries, -1};
  mask_map m = {mask, mask_stride, mask_width, mask_height, *dest, col};

  blend_table table;
  blend_table *t = &table;
  table_init(t, frame, colors, enabled, a);

  switch (frame->format) {
  case MNV3_PIXEL_I420:
  case MNV3_PIXEL_YV12:
  case MNV3_PIXEL_NV12:
  case MNV3_PIXEL_NV21:
    blend_luma(frame, planes[0], &m, t, &l);
    l.mask_row = -1;
    blend_chroma(frame, planes, &m, chroma_map, t, &l);
    break;
  case MNV3_PIXEL_GRAY8:
    blend_luma(frame, planes[0], &m, t, &l);
    break;
  default:
    blend_packed(frame, planes[0], &m, t, &l);
    break;
  }
  free(col);
  return 0;
}
