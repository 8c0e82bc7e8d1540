/* Frame preprocessing: crop, bilinear resize, colour conversion to RGB and
 * normalisation into the network's NHWC float input.
 *
 * The resize is separable and done row by row: for each output row the two
 * source rows it needs are converted to RGB at only the columns the output
 * needs and interpolated horizontally (cached, so an upscale converts each
 * source row once), then the two rows are blended vertically. The per-column
 * source offsets and weights are computed once per call. Everything is
 * float, and the result equals converting the whole frame to RGB (clamped to
 * 0..255) and then resizing it like torch's F.interpolate(mode='bilinear',
 * align_corners=False, antialias=False) / TF's resize_bilinear with
 * half_pixel_centers=True.
 *
 * YUV chroma is upsampled with nearest neighbour: the chroma sample at
 * (x / 2, y / 2) of the frame (not of the crop) covers its 2x2 luma block.
 * Each source pixel is converted (BT.601, clamped to 0..255) before it is
 * interpolated, so a YUV frame resizes exactly like its RGB conversion. */
#include "internal.h"
#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Outputs up to this wide use stack scratch (about 24 KiB); wider ones one
 * malloc per call. The network's 224-wide input stays on the stack. */
#define STACK_COLUMNS 512
/* Keeps every size computation far from int overflow. */
#define MAX_SIDE 65536
/* The heap scratch holds the ints after the floats in one allocation. */
_Static_assert(sizeof(int) == sizeof(float), "int and float sizes differ");

/* ---- geometry ----------------------------------------------------------- */

mnv3_rect mnv3_centre_crop(int width, int height, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    fraction = 1.0;
  mnv3_rect r;
  /* TF: start = int((side - side * fraction) / 2), size = side - 2 * start */
  r.x = (int)(((double)width - (double)width * fraction) / 2.0);
  r.y = (int)(((double)height - (double)height * fraction) / 2.0);
  r.width = width - 2 * r.x;
  r.height = height - 2 * r.y;
  if (r.width < 1) { /* a 1-pixel side with a tiny fraction */
    r.x = (width - 1) / 2;
    r.width = 1;
  }
  if (r.height < 1) {
    r.y = (height - 1) / 2;
    r.height = 1;
  }
  return r;
}

int mnv3_packed_pixel_bytes(mnv3_pixel_format format) {
  switch (format) {
  case MNV3_PIXEL_RGB:
  case MNV3_PIXEL_BGR:
    return 3;
  case MNV3_PIXEL_RGBX:
  case MNV3_PIXEL_BGRX:
  case MNV3_PIXEL_XRGB:
  case MNV3_PIXEL_XBGR:
  case MNV3_PIXEL_RGBA:
  case MNV3_PIXEL_BGRA:
  case MNV3_PIXEL_ARGB:
  case MNV3_PIXEL_ABGR:
    return 4;
  default:
    return 0;
  }
}

/* Byte offsets of R, G and B inside a packed pixel. */
static void packed_offsets(mnv3_pixel_format format, int off[3]) {
  static const int table[][3] = {
      [MNV3_PIXEL_RGB] = {0, 1, 2},  [MNV3_PIXEL_BGR] = {2, 1, 0},
      [MNV3_PIXEL_RGBX] = {0, 1, 2}, [MNV3_PIXEL_BGRX] = {2, 1, 0},
      [MNV3_PIXEL_XRGB] = {1, 2, 3}, [MNV3_PIXEL_XBGR] = {3, 2, 1},
      [MNV3_PIXEL_RGBA] = {0, 1, 2}, [MNV3_PIXEL_BGRA] = {2, 1, 0},
      [MNV3_PIXEL_ARGB] = {1, 2, 3}, [MNV3_PIXEL_ABGR] = {3, 2, 1},
  };
  memcpy(off, table[format], sizeof table[format]);
}

static const char *format_name(mnv3_pixel_format format) {
  static const char *const names[MNV3_PIXEL_FORMAT_COUNT] = {
      "RGB",  "BGR",  "RGBX", "BGRX", "XRGB", "XBGR", "RGBA", "BGRA",
      "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21", "GRAY8"};
  return (unsigned)format < MNV3_PIXEL_FORMAT_COUNT ? names[format] : "?";
}

static int check_plane(const mnv3_frame *f, int plane, int row_bytes,
                       mnv3_error *error) {
  if (!f->planes[plane])
    return mnv3_fail(error, "%s frame: plane %d is NULL; pass a pointer to "
                     "its pixels", format_name(f->format), plane);
  if (f->strides[plane] < row_bytes)
    return mnv3_fail(error, "%s frame %dx%d: stride %d of plane %d is below "
                     "the %d bytes of one row; pass the real row pitch",
                     format_name(f->format), f->width, f->height,
                     f->strides[plane], plane, row_bytes);
  return 0;
}

int mnv3_frame_validate(const mnv3_frame *frame, mnv3_error *error) {
  if (!frame)
    return mnv3_fail(error, "frame is NULL");
  if ((unsigned)frame->format >= MNV3_PIXEL_FORMAT_COUNT)
    return mnv3_fail(error, "unknown pixel format %d; use one of "
                     "mnv3_pixel_format", (int)frame->format);
  if (frame->width < 1 || frame->height < 1 || frame->width > MAX_SIDE ||
      frame->height > MAX_SIDE)
    return mnv3_fail(error, "frame size %dx%d is out of range; each side "
                     "must be 1..%d", frame->width, frame->height, MAX_SIDE);
  int w = frame->width, cw = (frame->width + 1) / 2;
  switch (frame->format) {
  case MNV3_PIXEL_I420:
  case MNV3_PIXEL_YV12:
    if (check_plane(frame, 0, w, error) || check_plane(frame, 1, cw, error) ||
        check_plane(frame, 2, cw, error))
      return -1;
    return 0;
  case MNV3_PIXEL_NV12:
  case MNV3_PIXEL_NV21:
    if (check_plane(frame, 0, w, error) ||
        check_plane(frame, 1, 2 * cw, error))
      return -1;
    return 0;
  case MNV3_PIXEL_GRAY8:
    return check_plane(frame, 0, w, error);
  default:
    return check_plane(frame, 0, w * mnv3_packed_pixel_bytes(frame->format),
                       error);
  }
}

/* ---- sources ------------------------------------------------------------ */

typedef enum source_kind { SOURCE_PACKED, SOURCE_YUV, SOURCE_GRAY } source_kind;

/* How to read RGB out of a frame. The YUV formats differ only in where U and
 * V live: I420/YV12 have them in planes 1 and 2 with a step of 1, NV12/NV21
 * interleaved in plane 1 with a step of 2. */
typedef struct source {
  source_kind kind;
  const uint8_t *plane0, *u, *v;
  int stride0, stride_u, stride_v;
  int bpp, off[3];  /* packed: bytes per pixel, R/G/B offsets */
  int chroma_step;  /* YUV: bytes between chroma samples of a row */
  /* Byte -> float tables: no int conversions or multiplies per pixel.
     Packed/gray: lut[0] = the byte value. YUV: r = y + rv[V],
     g = y - gu[U] - gv[V], b = y + bu[U], y = lut[0][Y]. */
  float lut[5][256];
} source;

/* BT.601 (Kr = 0.299, Kb = 0.114). Limited range scales Y' by 255/219 after
 * removing 16 and chroma by 255/224; full range uses the codes as they are. */
static void yuv_tables(int full_range, source *s) {
  const double kr = 0.299, kb = 0.114, kg = 1.0 - kr - kb;
  double ys = full_range ? 1.0 : 255.0 / 219.0;
  double yo = full_range ? 0.0 : 16.0;
  double cs = full_range ? 1.0 : 255.0 / 224.0;
  double rv = 2.0 * (1.0 - kr) * cs, gu = 2.0 * (1.0 - kb) * kb / kg * cs;
  double gv = 2.0 * (1.0 - kr) * kr / kg * cs, bu = 2.0 * (1.0 - kb) * cs;
  for (int i = 0; i < 256; i++) {
    s->lut[0][i] = (float)(ys * (i - yo));
    s->lut[1][i] = (float)(rv * (i - 128));
    s->lut[2][i] = (float)(gu * (i - 128));
    s->lut[3][i] = (float)(gv * (i - 128));
    s->lut[4][i] = (float)(bu * (i - 128));
  }
}

static void source_init(const mnv3_frame *f, source *s) {
  memset(s, 0, sizeof *s);
  s->plane0 = f->planes[0];
  s->stride0 = f->strides[0];
  switch (f->format) {
  case MNV3_PIXEL_I420:
  case MNV3_PIXEL_YV12: /* the caller hands U in planes[1] for both */
    s->kind = SOURCE_YUV;
    s->u = f->planes[1];
    s->v = f->planes[2];
    s->stride_u = f->strides[1];
    s->stride_v = f->strides[2];
    s->chroma_step = 1;
    break;
  case MNV3_PIXEL_NV12:
    s->kind = SOURCE_YUV;
    s->u = f->planes[1];
    s->v = f->planes[1] + 1;
    s->stride_u = s->stride_v = f->strides[1];
    s->chroma_step = 2;
    break;
  case MNV3_PIXEL_NV21:
    s->kind = SOURCE_YUV;
    s->v = f->planes[1];
    s->u = f->planes[1] + 1;
    s->stride_u = s->stride_v = f->strides[1];
    s->chroma_step = 2;
    break;
  case MNV3_PIXEL_GRAY8:
    s->kind = SOURCE_GRAY;
    break;
  default:
    s->kind = SOURCE_PACKED;
    s->bpp = mnv3_packed_pixel_bytes(f->format);
    packed_offsets(f->format, s->off);
    break;
  }
  if (s->kind == SOURCE_YUV)
    yuv_tables(f->full_range, s);
  else
    for (int i = 0; i < 256; i++)
      s->lut[0][i] = (float)i;
}

/* ---- per-column sampling ------------------------------------------------ */

/* Where output column x reads: byte offsets a0/a1 of its two source pixels
 * in a row of plane 0, c0/c1 of their chroma samples in a chroma row, and
 * the weights. */
typedef struct columns {
  int *a0, *a1, *c0, *c1;
  float *w0, *w1;
} columns;

/* Half-pixel-centre source coordinate, clamped at the near edge the way
 * torch's area_pixel_compute_source_index does; index i1 stays in range. */
static void sample_at(float scale, int out_index, int in_size, int *i0,
                      int *i1, float *w0, float *w1) {
  float src = scale * ((float)out_index + 0.5f) - 0.5f;
  if (src < 0.0f)
    src = 0.0f;
  int lo = (int)src; /* src < in_size always: scale * (out - 0.5) - 0.5 */
  if (lo > in_size - 1)
    lo = in_size - 1;
  float frac = src - (float)lo;
  *i0 = lo;
  *i1 = lo < in_size - 1 ? lo + 1 : lo;
  *w1 = frac;
  *w0 = 1.0f - frac;
}

static void columns_init(const source *s, const mnv3_rect *crop, int out_w,
                         columns *c) {
  float scale = (float)crop->width / (float)out_w;
  for (int x = 0; x < out_w; x++) {
    int i0, i1;
    sample_at(scale, x, crop->width, &i0, &i1, &c->w0[x], &c->w1[x]);
    int x0 = crop->x + i0, x1 = crop->x + i1;
    switch (s->kind) {
    case SOURCE_PACKED:
      c->a0[x] = x0 * s->bpp;
      c->a1[x] = x1 * s->bpp;
      break;
    case SOURCE_YUV: /* nearest chroma: sample x/2 covers luma 2x and 2x+1 */
      c->a0[x] = x0;
      c->a1[x] = x1;
      c->c0[x] = (x0 >> 1) * s->chroma_step;
      c->c1[x] = (x1 >> 1) * s->chroma_step;
      break;
    case SOURCE_GRAY:
      c->a0[x] = x0;
      c->a1[x] = x1;
      break;
    }
  }
}

/* ---- horizontal pass: one source row to out_w interpolated RGB pixels --- */

static void hpass_packed(const source *s, int y, const columns *c, int out_w,
                         float *dst) {
  const uint8_t *row = s->plane0 + (size_t)y * s->stride0;
  const int ro = s->off[0], go = s->off[1], bo = s->off[2];
  const float *f = s->lut[0];
  for (int x = 0; x < out_w; x++) {
    const uint8_t *p = row + c->a0[x], *q = row + c->a1[x];
    float w0 = c->w0[x], w1 = c->w1[x];
    dst[3 * x + 0] = w0 * f[p[ro]] + w1 * f[q[ro]];
    dst[3 * x + 1] = w0 * f[p[go]] + w1 * f[q[go]];
    dst[3 * x + 2] = w0 * f[p[bo]] + w1 * f[q[bo]];
  }
}

static void hpass_gray(const source *s, int y, const columns *c, int out_w,
                       float *dst) {
  const uint8_t *row = s->plane0 + (size_t)y * s->stride0;
  const float *f = s->lut[0];
  for (int x = 0; x < out_w; x++) {
    float v = c->w0[x] * f[row[c->a0[x]]] + c->w1[x] * f[row[c->a1[x]]];
    dst[3 * x + 0] = v;
    dst[3 * x + 1] = v;
    dst[3 * x + 2] = v;
  }
}

/* Written so that gcc emits maxss/minss, not branches. */
static inline float clamp255(float v) {
  v = v > 0.0f ? v : 0.0f;
  return v < 255.0f ? v : 255.0f;
}

static inline void yuv_to_rgb(const source *s, int Y, int U, int V,
                              float rgb[3]) {
  float yv = s->lut[0][Y];
  rgb[0] = clamp255(yv + s->lut[1][V]);
  rgb[1] = clamp255(yv - s->lut[2][U] - s->lut[3][V]);
  rgb[2] = clamp255(yv + s->lut[4][U]);
}

/* Converts each needed source pixel to RGB first (clamped), then
 * interpolates, so YUV frames resize exactly like their RGB conversion. */
static void hpass_yuv(const source *s, int y, const columns *c, int out_w,
                      float *dst) {
  const uint8_t *yrow = s->plane0 + (size_t)y * s->stride0;
  /* Chroma row y/2 covers luma rows 2k and 2k+1 (nearest upsampling). */
  const uint8_t *urow = s->u + (size_t)(y >> 1) * s->stride_u;
  const uint8_t *vrow = s->v + (size_t)(y >> 1) * s->stride_v;
  for (int x = 0; x < out_w; x++) {
    float p[3], q[3];
    yuv_to_rgb(s, yrow[c->a0[x]], urow[c->c0[x]], vrow[c->c0[x]], p);
    yuv_to_rgb(s, yrow[c->a1[x]], urow[c->c1[x]], vrow[c->c1[x]], q);
    float w0 = c->w0[x], w1 = c->w1[x];
    dst[3 * x + 0] = w0 * p[0] + w1 * q[0];
    dst[3 * x + 1] = w0 * p[1] + w1 * q[1];
    dst[3 * x + 2] = w0 * p[2] + w1 * q[2];
  }
}

/* ---- the whole pass ----------------------------------------------------- */

typedef struct row_cache {
  float *rows[2];
  int tags[2]; /* absolute source row held, or -1 */
} row_cache;

typedef struct job {
  source src;
  columns cols;
  int out_w;
  row_cache cache;
} job;

static void fill_row(job *j, int slot, int y) {
  float *dst = j->cache.rows[slot];
  switch (j->src.kind) {
  case SOURCE_PACKED:
    hpass_packed(&j->src, y, &j->cols, j->out_w, dst);
    break;
  case SOURCE_GRAY:
    hpass_gray(&j->src, y, &j->cols, j->out_w, dst);
    break;
  case SOURCE_YUV:
    hpass_yuv(&j->src, y, &j->cols, j->out_w, dst);
    break;
  }
  j->cache.tags[slot] = y;
}

static const float *cached_row(const row_cache *c, int y) {
  if (c->tags[0] == y)
    return c->rows[0];
  if (c->tags[1] == y)
    return c->rows[1];
  return NULL;
}

/* The horizontally interpolated rows y0 and y1, converting only what the
 * cache does not hold yet (never evicting the row the other one needs). */
static void get_rows(job *j, int y0, int y1, const float **r0,
                     const float **r1) {
  *r0 = cached_row(&j->cache, y0);
  if (!*r0) {
    int slot = j->cache.tags[0] == y1 ? 1 : 0;
    fill_row(j, slot, y0);
    *r0 = j->cache.rows[slot];
  }
  *r1 = cached_row(&j->cache, y1);
  if (!*r1) {
    int slot = j->cache.rows[0] == *r0 ? 1 : 0;
    fill_row(j, slot, y1);
    *r1 = j->cache.rows[slot];
  }
}

static int check_args(const mnv3_frame *frame, const mnv3_rect *crop,
                      const mnv3_normalize *norm, int out_height,
                      int out_width, const float *dst, mnv3_error *error) {
  if (mnv3_frame_validate(frame, error))
    return -1;
  if (!norm || !dst)
    return mnv3_fail(error, "preprocess: %s is NULL",
                     !norm ? "the normalisation" : "the output buffer");
  if (out_width < 1 || out_height < 1 || out_width > MAX_SIDE ||
      out_height > MAX_SIDE)
    return mnv3_fail(error, "preprocess: output size %dx%d is out of range; "
                     "each side must be 1..%d", out_width, out_height,
                     MAX_SIDE);
  for (int c = 0; c < 3; c++)
    if (!(norm->std[c] != 0.0f) || !isfinite(norm->std[c]) ||
        !isfinite(norm->mean[c]))
      return mnv3_fail(error, "preprocess: channel %d has mean %g, std %g; "
                       "std must be finite and non-zero", c,
                       (double)norm->mean[c], (double)norm->std[c]);
  if (crop->width < 1 || crop->height < 1 || crop->x < 0 || crop->y < 0 ||
      crop->x > frame->width - crop->width ||
      crop->y > frame->height - crop->height)
    return mnv3_fail(error, "crop x=%d y=%d %dx%d does not lie within the "
                     "%dx%d frame; pass a non-empty rectangle inside it",
                     crop->x, crop->y, crop->width, crop->height,
                     frame->width, frame->height);
  return 0;
}

/* Points the column arrays and row buffers into scratch: 4 * out_w ints
 * and 8 * out_w floats. */
static void scratch_layout(job *j, int *ints, float *floats, int out_w) {
  j->cols.a0 = ints;
  j->cols.a1 = ints + out_w;
  j->cols.c0 = ints + 2 * out_w;
  j->cols.c1 = ints + 3 * out_w;
  j->cols.w0 = floats;
  j->cols.w1 = floats + out_w;
  j->cache.rows[0] = floats + 2 * out_w;
  j->cache.rows[1] = floats + 5 * out_w;
  j->cache.tags[0] = j->cache.tags[1] = -1;
}

int mnv3_preprocess(const mnv3_frame *frame, const mnv3_rect *crop,
                    const mnv3_normalize *norm, int out_height, int out_width,
                    float *dst, mnv3_error *error) {
  mnv3_rect whole = {0, 0, frame ? frame->width : 0, frame ? frame->height : 0};
  if (!crop)
    crop = &whole;
  if (check_args(frame, crop, norm, out_height, out_width, dst, error))
    return -1;

  /* Stack scratch for usual widths, one bounded malloc for wider outputs. */
  int stack_ints[4 * STACK_COLUMNS];
  float stack_floats[8 * STACK_COLUMNS];
  int *ints = stack_ints;
  float *floats = stack_floats, *heap = NULL;
  if (out_width > STACK_COLUMNS) {
    heap = malloc((size_t)out_width * 12 * sizeof(float));
    if (!heap)
      return mnv3_fail(error, "preprocess: out of memory for a %d-wide row",
                       out_width);
    floats = heap;
    ints = (int *)(heap + 8 * (size_t)out_width); /* malloc'd: no declared type */
  }

  job j = {.out_w = out_width};
  source_init(frame, &j.src);
  scratch_layout(&j, ints, floats, out_width);
  columns_init(&j.src, crop, out_width, &j.cols);

  float scale[3], bias[3]; /* (v / 255 - mean) / std = v * scale + bias */
  for (int c = 0; c < 3; c++) {
    scale[c] = 1.0f / (255.0f * norm->std[c]);
    bias[c] = -norm->mean[c] / norm->std[c];
  }

  float yscale = (float)crop->height / (float)out_height;
  for (int oy = 0; oy < out_height; oy++) {
    int i0, i1;
    float h0, h1;
    sample_at(yscale, oy, crop->height, &i0, &i1, &h0, &h1);
    const float *r0, *r1;
    get_rows(&j, crop->y + i0, crop->y + i1, &r0, &r1);
    float *out = dst + (size_t)oy * out_width * 3;
    for (int i = 0; i < out_width * 3; i += 3) {
      out[i + 0] = (h0 * r0[i + 0] + h1 * r1[i + 0]) * scale[0] + bias[0];
      out[i + 1] = (h0 * r0[i + 1] + h1 * r1[i + 1]) * scale[1] + bias[1];
      out[i + 2] = (h0 * r0[i + 2] + h1 * r1[i + 2]) * scale[2] + bias[2];
    }
  }

  free(heap);
  return 0;
}
