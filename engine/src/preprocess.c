/* Frame preprocessing: crop, bilinear resize, colour conversion to RGB and
 * normalisation into the network's NHWC float input.
 *
 * The resize is separable and done row by row: for each output row the two
 * source rows it needs are read at only the columns the output needs and
 * interpolated horizontally (cached, so an upscale reads each
 * source row once), then the two rows are blended vertically. The per-column
 * source offsets and weights are computed once per call. A pixel is one
 * 4-lane float vector (R, G, B, unused), so the vertical blend is one vector
 * operation per pixel. YUV frames, what cameras and decoders produce, go
 * through the dispatched kernel mnv3_yuv_resize_fn instead (kernels.h),
 * which makes each output row from its two source rows, many columns per
 * instruction, with no row cache: a downscale, the usual case, needs two
 * new source rows per output row anyway. Packed RGB and gray rows are done
 * here per pixel. With a thread pool the output rows are split into one
 * band per thread.
 *
 * Everything is float. RGB and gray frames resize like torch's
 * F.interpolate(mode='bilinear', align_corners=False, antialias=False) / TF's
 * resize_bilinear with half_pixel_centers=True. YUV frames resize their Y, U
 * and V that way, then convert once per output pixel (BT.601, clamped to
 * 0..255), as hardware scalers do: one conversion per output pixel instead
 * of one per tap (four), which made the conversion most of the cost. Only
 * where a tap's own conversion would clamp (colours past the RGB gamut)
 * does that differ from converting the frame first.
 *
 * YUV chroma is upsampled with nearest neighbour: the chroma sample at
 * (x / 2, y / 2) of the frame (not of the crop) covers its 2x2 luma block,
 * and each luma tap brings its own chroma. */
#include "internal.h"
#include "kernels.h"
#include "preprocess.h"
#include "workers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Outputs up to this wide use stack scratch (about 12 KiB of column tables,
 * 16 KiB of rows per band); wider ones one malloc per call. The network's
 * 224-wide input stays on the stack. */
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

/* One RGB pixel as four float lanes (R, G, B, unused): a whole pixel is one
 * SSE/NEON register. The lanes are computed with exactly the scalar
 * operations, in the same order. */
typedef float v4f __attribute__((vector_size(16)));

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
  int y_bytes, u_bytes, v_bytes; /* YUV: bytes of a row from y, u and v */
  mnv3_yuv_resize_fn yuv_resize;
  mnv3_yuv_coefs coefs; /* YUV */
  float luma[256]; /* gray and packed: byte -> float without a conversion */
} source;

/* BT.601 (Kr = 0.299, Kb = 0.114). Limited range scales Y' by 255/219 after
 * removing 16 and chroma by 255/224; full range uses the codes as they are.
 * Computed in double, each rounded once to float. */
static void yuv_coefs(int full_range, mnv3_yuv_coefs *k) {
  const double kr = 0.299, kb = 0.114, kg = 1.0 - kr - kb;
  const double cs = full_range ? 1.0 : 255.0 / 224.0;
  k->y_offset = full_range ? 0.0f : 16.0f;
  k->y_scale = (float)(full_range ? 1.0 : 255.0 / 219.0);
  k->rv = (float)(2.0 * (1.0 - kr) * cs);
  k->gu = (float)(-2.0 * (1.0 - kb) * kb / kg * cs);
  k->gv = (float)(-2.0 * (1.0 - kr) * kr / kg * cs);
  k->bu = (float)(2.0 * (1.0 - kb) * cs);
}

static void source_init(const mnv3_frame *f, source *s) {
  s->plane0 = f->planes[0];
  s->stride0 = f->strides[0];
  s->u = s->v = NULL;
  s->stride_u = s->stride_v = s->bpp = s->chroma_step = 0;
  /* Chroma rows hold (width + 1) / 2 samples; the second plane pointer of
     an interleaved format starts one byte in. */
  const int chroma_w = (f->width + 1) / 2;
  s->y_bytes = f->width;
  s->u_bytes = s->v_bytes = chroma_w;
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
    s->u_bytes = 2 * chroma_w;
    s->v_bytes = 2 * chroma_w - 1;
    break;
  case MNV3_PIXEL_NV21:
    s->kind = SOURCE_YUV;
    s->v = f->planes[1];
    s->u = f->planes[1] + 1;
    s->stride_u = s->stride_v = f->strides[1];
    s->chroma_step = 2;
    s->v_bytes = 2 * chroma_w;
    s->u_bytes = 2 * chroma_w - 1;
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
  s->yuv_resize = mnv3_kernels_get()->yuv_resize;
  if (s->kind == SOURCE_YUV)
    yuv_coefs(f->full_range, &s->coefs);
  else
    for (int i = 0; i < 256; i++)
      s->luma[i] = (float)i;
}

/* ---- per-column sampling ------------------------------------------------ */

/* Where output column x reads: byte offsets a0/a1 of its two source pixels
 * in a row of plane 0, c0/c1 of their chroma samples in a chroma row, and
 * the weights. Computed once per call, shared by every row and thread. */
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

static inline v4f splat(float v) { return (v4f){v, v, v, v}; }

/* Scalar per channel: building a vector from three scattered bytes costs
 * more than it saves. The table turns bytes into floats without int
 * conversions. */
static void hpass_packed(const source *s, int y, const columns *c, int out_w,
                         v4f *dst_pixels) {
  const uint8_t *row = s->plane0 + (size_t)y * s->stride0;
  const int ro = s->off[0], go = s->off[1], bo = s->off[2];
  const float *f = s->luma;
  float *dst = (float *)dst_pixels;
  for (int x = 0; x < out_w; x++) {
    const uint8_t *p = row + c->a0[x], *q = row + c->a1[x];
    const float w0 = c->w0[x], w1 = c->w1[x];
    dst[4 * x + 0] = w0 * f[p[ro]] + w1 * f[q[ro]];
    dst[4 * x + 1] = w0 * f[p[go]] + w1 * f[q[go]];
    dst[4 * x + 2] = w0 * f[p[bo]] + w1 * f[q[bo]];
    dst[4 * x + 3] = 0.0f; /* defined: no garbage (or denormal) lane */
  }
}

static void hpass_gray(const source *s, int y, const columns *c, int out_w,
                       v4f *dst) {
  const uint8_t *row = s->plane0 + (size_t)y * s->stride0;
  for (int x = 0; x < out_w; x++) {
    float v = c->w0[x] * s->luma[row[c->a0[x]]] +
              c->w1[x] * s->luma[row[c->a1[x]]];
    dst[x] = splat(v);
  }
}

/* ---- the whole pass ----------------------------------------------------- */

typedef struct row_cache {
  v4f *rows[2];
  int tags[2]; /* absolute source row held, or -1 */
} row_cache;

/* What every band of output rows shares (read-only while they run). */
typedef struct job {
  const source *src;
  columns cols;
  const mnv3_rect *crop;
  int out_w, out_h;
  v4f scale, bias; /* (v / 255 - mean) / std = v * scale + bias */
  float *dst;
  v4f *heap_rows;  /* bands * 2 * out_w pixels when out_w > STACK_COLUMNS
                      (not YUV) */
  int band_rows;
} job;

static void fill_row(const job *j, row_cache *cache, int slot, int y) {
  v4f *dst = cache->rows[slot];
  /* YUV rows go through yuv_output_rows instead. */
  if (j->src->kind == SOURCE_PACKED)
    hpass_packed(j->src, y, &j->cols, j->out_w, dst);
  else
    hpass_gray(j->src, y, &j->cols, j->out_w, dst);
  cache->tags[slot] = y;
}

static const v4f *cached_row(const row_cache *c, int y) {
  if (c->tags[0] == y)
    return c->rows[0];
  if (c->tags[1] == y)
    return c->rows[1];
  return NULL;
}

/* The horizontally interpolated rows y0 and y1, converting only what the
 * cache does not hold yet (never evicting the row the other one needs). */
static void get_rows(const job *j, row_cache *cache, int y0, int y1,
                     const v4f **r0, const v4f **r1) {
  *r0 = cached_row(cache, y0);
  if (!*r0) {
    int slot = cache->tags[0] == y1 ? 1 : 0;
    fill_row(j, cache, slot, y0);
    *r0 = cache->rows[slot];
  }
  *r1 = cached_row(cache, y1);
  if (!*r1) {
    int slot = cache->rows[0] == *r0 ? 1 : 0;
    fill_row(j, cache, slot, y1);
    *r1 = cache->rows[slot];
  }
}

/* YUV output rows [begin, end), each from its two source rows by the
 * kernel. Chroma row y/2 covers luma rows 2k and 2k+1 (nearest
 * upsampling). */
static void yuv_output_rows(const job *j, int begin, int end) {
  const source *s = j->src;
  const columns *c = &j->cols;
  mnv3_yuv_rows rows = {.y_bytes = s->y_bytes, .u_bytes = s->u_bytes, .v_bytes = s->v_bytes,
                        .a0 = c->a0, .a1 = c->a1, .c0 = c->c0, .c1 = c->c1,
                        .w0 = c->w0, .w1 = c->w1, .coefs = &s->coefs};
  for (int k = 0; k < 3; k++) {
    rows.scale[k] = j->scale[k];
    rows.bias[k] = j->bias[k];
  }
  const float yscale = (float)j->crop->height / (float)j->out_h;
  for (int oy = begin; oy < end; oy++) {
    int i[2];
    sample_at(yscale, oy, j->crop->height, &i[0], &i[1], &rows.h0, &rows.h1);
    for (int r = 0; r < 2; r++) {
      const int y = j->crop->y + i[r];
      rows.y[r] = s->plane0 + (size_t)y * s->stride0;
      rows.u[r] = s->u + (size_t)(y >> 1) * s->stride_u;
      rows.v[r] = s->v + (size_t)(y >> 1) * s->stride_v;
    }
    s->yuv_resize(&rows, 0, j->out_w, j->dst + (size_t)oy * j->out_w * 3);
  }
}

/* Output rows [begin, end): vertical blend of two cached rows, normalised.
 * A pixel is stored as 16 bytes at 3 floats apart (the next pixel
 * overwrites the 4th lane); the row's last pixel stores its 3 floats. */
static void output_rows(const job *j, v4f *rows, int begin, int end) {
  row_cache cache = {{rows, rows + j->out_w}, {-1, -1}};
  const int w = j->out_w;
  const float yscale = (float)j->crop->height / (float)j->out_h;
  for (int oy = begin; oy < end; oy++) {
    int i0, i1;
    float h0, h1;
    sample_at(yscale, oy, j->crop->height, &i0, &i1, &h0, &h1);
    const v4f *r0, *r1;
    get_rows(j, &cache, j->crop->y + i0, j->crop->y + i1, &r0, &r1);
    const v4f vh0 = splat(h0), vh1 = splat(h1);
    float *out = j->dst + (size_t)oy * w * 3;
    for (int x = 0; x < w - 1; x++) {
      v4f v = (vh0 * r0[x] + vh1 * r1[x]) * j->scale + j->bias;
      memcpy(out + 3 * x, &v, sizeof v);
    }
    v4f v = (vh0 * r0[w - 1] + vh1 * r1[w - 1]) * j->scale + j->bias;
    memcpy(out + 3 * (w - 1), &v, 3 * sizeof(float));
  }
}

/* One band of output rows, with its own two-row cache: on the task's stack
 * for usual widths. */
static void run_band(void *context, size_t band) {
  const job *j = context;
  const int begin = (int)band * j->band_rows;
  const int end = begin + j->band_rows < j->out_h ? begin + j->band_rows : j->out_h;
  if (j->src->kind == SOURCE_YUV) {
    yuv_output_rows(j, begin, end);
    return;
  }
  if (j->heap_rows) {
    output_rows(j, j->heap_rows + band * 2 * (size_t)j->out_w, begin, end);
    return;
  }
  v4f rows[2 * STACK_COLUMNS];
  output_rows(j, rows, begin, end);
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


/* Output rows below this many per thread are not worth a pool dispatch. */
#define MIN_BAND_ROWS 16

int mnv3_preprocess_pool(const mnv3_frame *frame, const mnv3_rect *crop,
                         const mnv3_normalize *norm, int out_height,
                         int out_width, float *dst, mnv3_workers *workers,
                         mnv3_error *error) {
  mnv3_rect whole = {0, 0, frame ? frame->width : 0, frame ? frame->height : 0};
  if (!crop)
    crop = &whole;
  if (check_args(frame, crop, norm, out_height, out_width, dst, error))
    return -1;

  /* Bands of output rows, one per thread (none below MIN_BAND_ROWS rows):
     each converts its own source rows, so a band's first rows may repeat
     a source row of the band above; results do not depend on the split. */
  int bands = (int)mnv3_workers_threads(workers);
  if (bands > out_height / MIN_BAND_ROWS)
    bands = out_height / MIN_BAND_ROWS > 0 ? out_height / MIN_BAND_ROWS : 1;

  /* Column tables: stack for usual widths, else one bounded malloc that
     also holds every band's rows. */
  int stack_ints[4 * STACK_COLUMNS];
  float stack_floats[2 * STACK_COLUMNS];
  int *ints = stack_ints;
  float *floats = stack_floats;
  void *heap = NULL;
  v4f *heap_rows = NULL;
  source src;
  source_init(frame, &src);
  if (out_width > STACK_COLUMNS) {
    /* YUV rows need no scratch rows (yuv_output_rows). */
    size_t rows_bytes =
        src.kind == SOURCE_YUV ? 0 : (size_t)bands * 2 * out_width * sizeof(v4f);
    size_t bytes = rows_bytes + (size_t)out_width * 6 * sizeof(float);
    heap = aligned_alloc(16, (bytes + 15) / 16 * 16);
    if (!heap)
      return mnv3_fail(error, "preprocess: out of memory for a %d-wide row",
                       out_width);
    heap_rows = rows_bytes ? heap : NULL;
    floats = (float *)((char *)heap + rows_bytes);
    ints = (int *)(floats + 2 * (size_t)out_width); /* malloc'd: no declared type */
  }

  job j = {.src = &src, .crop = crop, .out_w = out_width, .out_h = out_height,
           .dst = dst, .heap_rows = heap_rows};
  j.cols = (columns){ints, ints + out_width, ints + 2 * out_width,
                     ints + 3 * out_width, floats, floats + out_width};
  columns_init(&src, crop, out_width, &j.cols);
  for (int c = 0; c < 3; c++) {
    j.scale[c] = 1.0f / (255.0f * norm->std[c]);
    j.bias[c] = -norm->mean[c] / norm->std[c];
  }
  j.band_rows = (out_height + bands - 1) / bands;
  bands = (out_height + j.band_rows - 1) / j.band_rows;

  if (bands > 1)
    mnv3_parallelize_1d(workers, run_band, &j, (size_t)bands, 0);
  else
    run_band(&j, 0);
  free(heap);
  return 0;
}

int mnv3_preprocess(const mnv3_frame *frame, const mnv3_rect *crop,
                    const mnv3_normalize *norm, int out_height, int out_width,
                    float *dst, mnv3_error *error) {
  return mnv3_preprocess_pool(frame, crop, norm, out_height, out_width, dst,
                              NULL, error);
}
