/* Fuzzes frame preprocessing (mnv3_preprocess) and mask blending
 * (mnv3_blend_mask) for every pixel format. The first bytes of the input
 * choose the format, size, strides, crop, output size, normalisation and the
 * blend parameters; the rest are the pixels. Planes are allocated to exactly
 * stride * (rows - 1) + row bytes, so that AddressSanitizer (or valgrind)
 * sees any read or write past the last row of a tightly packed frame. */
#include "fuzz_common.h"

#include <math.h>

typedef struct plane_geom {
  int row_bytes, rows;
} plane_geom;

/* Plane geometry of a format, as the public header documents it. */
static int plane_layout(mnv3_pixel_format fmt, int w, int h, plane_geom g[3]) {
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  static const int bpp[] = {3, 3, 4, 4, 4, 4, 4, 4, 4, 4};
  switch (fmt) {
  case MNV3_PIXEL_I420:
  case MNV3_PIXEL_YV12:
    g[0] = (plane_geom){w, h};
    g[1] = g[2] = (plane_geom){cw, ch};
    return 3;
  case MNV3_PIXEL_NV12:
  case MNV3_PIXEL_NV21:
    g[0] = (plane_geom){w, h};
    g[1] = (plane_geom){2 * cw, ch};
    return 2;
  case MNV3_PIXEL_GRAY8:
    g[0] = (plane_geom){w, h};
    return 1;
  default:
    g[0] = (plane_geom){w * bpp[fmt], h};
    return 1;
  }
}

/* A rectangle inside w x h, or (rarely) raw values to exercise the checks. */
static mnv3_rect take_rect(fuzz_cursor *c, int w, int h, int raw) {
  mnv3_rect r;
  if (raw) {
    r.x = (int16_t)fuzz_take(c, 2);
    r.y = (int16_t)fuzz_take(c, 2);
    r.width = (int16_t)fuzz_take(c, 2);
    r.height = (int16_t)fuzz_take(c, 2);
    return r;
  }
  r.x = fuzz_range(c, 2, 0, w - 1);
  r.y = fuzz_range(c, 2, 0, h - 1);
  r.width = fuzz_range(c, 2, 1, w - r.x);
  r.height = fuzz_range(c, 2, 1, h - r.y);
  return r;
}

static int inside(const mnv3_rect *r, int x, int y) {
  return x >= r->x && x < r->x + r->width && y >= r->y && y < r->y + r->height;
}

/* RGB byte offsets of the packed formats, -1 for the others. */
static void rgb_offsets(mnv3_pixel_format fmt, int off[3]) {
  static const int table[][3] = {
      {0, 1, 2}, {2, 1, 0}, {0, 1, 2}, {2, 1, 0}, {1, 2, 3},
      {3, 2, 1}, {0, 1, 2}, {2, 1, 0}, {1, 2, 3}, {3, 2, 1},
  };
  if ((int)fmt <= MNV3_PIXEL_ABGR)
    memcpy(off, table[fmt], sizeof table[fmt]);
  else
    off[0] = off[1] = off[2] = -1;
}

static void check_output(const mnv3_frame *f, const mnv3_rect *crop,
                         const mnv3_normalize *n, int oh, int ow,
                         const float *out) {
  /* Every output is a convex mix of 0..255 values, normalised. */
  for (int c = 0; c < 3; c++) {
    double a = (0.0 - n->mean[c]) / n->std[c], b = (1.0 - n->mean[c]) / n->std[c];
    double lo = fmin(a, b), hi = fmax(a, b), eps = 1e-4 * (1 + fabs(lo) + fabs(hi));
    for (size_t i = c; i < (size_t)oh * ow * 3; i += 3)
      FUZZ_CHECK(out[i] >= lo - eps && out[i] <= hi + eps,
                 "output %zu = %g outside [%g, %g]", i, (double)out[i], lo, hi);
  }
  /* At scale 1 the half-pixel-centre resize samples pixel centres exactly:
   * the output is the crop itself. */
  int off[3];
  rgb_offsets(f->format, off);
  if (oh != crop->height || ow != crop->width ||
      (off[0] < 0 && f->format != MNV3_PIXEL_GRAY8))
    return;
  const int bpp = f->format == MNV3_PIXEL_GRAY8 ? 1 : (off[0] < 0 ? 0 : (f->format <= MNV3_PIXEL_BGR ? 3 : 4));
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int c = 0; c < 3; c++) {
        const uint8_t *px = f->planes[0] + (size_t)(crop->y + y) * f->strides[0] +
                            (size_t)(crop->x + x) * bpp;
        const int v = f->format == MNV3_PIXEL_GRAY8 ? px[0] : px[off[c]];
        const double want = (v / 255.0 - n->mean[c]) / n->std[c];
        const double got = out[((size_t)y * ow + x) * 3 + c];
        FUZZ_CHECK(fabs(got - want) <= 1e-4 * (1 + fabs(want)),
                   "scale-1 output (%d, %d, %d) = %g, pixel %d gives %g", x, y,
                   c, got, v, want);
      }
}

/* After a blend: nothing outside dest changed, nor alpha/padding bytes,
 * nor the stride padding; an opaque blend wrote the exact colours. */
static void check_blend(const mnv3_frame *f, const plane_geom *g, int nplanes,
                        uint8_t *const before[3], uint8_t *const after[3],
                        const mnv3_rect *d, const uint8_t *mask, int mw, int mh,
                        int ms, const uint8_t colors[256][3],
                        const uint8_t *enabled, int opaque) {
  int off[3];
  rgb_offsets(f->format, off);
  const int packed = off[0] >= 0;
  const int bpp = packed ? g[0].row_bytes / f->width : 1;
  for (int p = 0; p < nplanes; p++)
    for (int y = 0; y < g[p].rows; y++)
      for (int x = 0; x < f->strides[p] && (y < g[p].rows - 1 || x < g[p].row_bytes); x++) {
        const size_t i = (size_t)y * f->strides[p] + x;
        if (before[p][i] == after[p][i])
          continue;
        int may = 0;
        if (x < g[p].row_bytes) {
          if (p == 0) {
            int byte = x % bpp;
            may = inside(d, x / bpp, y) &&
                  (!packed || byte == off[0] || byte == off[1] || byte == off[2]);
          } else {
            /* A chroma sample is written only when its whole 2x2 block
               (clipped to the frame) lies inside dest. */
            int cx = f->format == MNV3_PIXEL_NV12 || f->format == MNV3_PIXEL_NV21 ? x / 2 : x;
            int x1 = 2 * cx + 1 < f->width ? 2 * cx + 1 : 2 * cx;
            int y1 = 2 * y + 1 < f->height ? 2 * y + 1 : 2 * y;
            may = inside(d, 2 * cx, 2 * y) && inside(d, x1, y1);
          }
        }
        FUZZ_CHECK(may, "plane %d byte (%d, %d) changed from %d to %d outside "
                   "dest x=%d y=%d %dx%d", p, x, y, before[p][i], after[p][i],
                   d->x, d->y, d->width, d->height);
      }
  if (!opaque || !packed)
    return;
  for (int y = d->y; y < d->y + d->height; y++)
    for (int x = d->x; x < d->x + d->width; x++) {
      const int my = (int)((int64_t)(y - d->y) * mh / d->height);
      const int mx = (int)((int64_t)(x - d->x) * mw / d->width);
      const int cls = mask[(size_t)my * ms + mx];
      if (enabled && !enabled[cls])
        continue;
      const uint8_t *px = after[0] + (size_t)y * f->strides[0] + (size_t)x * bpp;
      for (int c = 0; c < 3; c++)
        FUZZ_CHECK(px[off[c]] == colors[cls][c], "opaque blend at (%d, %d) "
                   "channel %d: %d, class %d colour %d", x, y, c, px[off[c]],
                   cls, colors[cls][c]);
    }
}

typedef struct blend_params {
  int flags, mw, mh, ms;
  float alpha;
  mnv3_rect dest;
  uint32_t seed;
} blend_params;

static blend_params take_blend(fuzz_cursor *cur, int w, int h) {
  blend_params b;
  b.flags = (int)fuzz_take(cur, 1);
  b.mw = fuzz_range(cur, 1, 0, 40); /* 0: an invalid mask */
  b.mh = fuzz_range(cur, 1, 0, 40);
  b.ms = b.mw + fuzz_range(cur, 1, 0, 7);
  b.alpha = (float)fuzz_take(cur, 1) / 200.0f; /* > 1 sometimes */
  b.dest = take_rect(cur, w, h, (b.flags & 3) == 3);
  b.seed = fuzz_take(cur, 2);
  return b;
}

static void blend(const blend_params *b, const uint8_t *pix, size_t pix_size,
                  const mnv3_frame *f, const plane_geom *g, int nplanes,
                  uint8_t *const pixels[3], size_t sizes[3]) {
  const int flags = b->flags, mw = b->mw, mh = b->mh, ms = b->ms;
  const float alpha = b->alpha;
  const mnv3_rect dest = b->dest;
  const uint32_t seed = b->seed;

  static uint8_t colors[256][3];
  uint8_t enabled[256];
  for (int c = 0; c < 256; c++) {
    for (int k = 0; k < 3; k++)
      colors[c][k] = (uint8_t)((c * 37 + k * 101 + seed) * 2654435761u >> 24);
    enabled[c] = ((c ^ seed) & 3) != 0;
  }
  uint8_t *mask = malloc((size_t)ms * (mh > 0 ? mh : 1) + 1);
  FUZZ_CHECK(mask != NULL, "out of memory");
  for (int i = 0; i < ms * mh; i++) /* a few classes, from the pixel bytes */
    mask[i] = (uint8_t)((pix_size ? pix[(size_t)i % pix_size] : 0) % 5 * 61 + (seed & 1));

  uint8_t *before[3] = {NULL, NULL, NULL};
  for (int p = 0; p < nplanes; p++) {
    before[p] = malloc(sizes[p]);
    FUZZ_CHECK(before[p] != NULL, "out of memory");
    memcpy(before[p], pixels[p], sizes[p]);
  }
  const int opaque = (flags & 4) != 0;
  const uint8_t *en = flags & 8 ? NULL : enabled;
  mnv3_error err = {{0}};
  /* flag 4: opaque, i.e. alpha 1 */
  const mnv3_blend blend = {mask, mw, mh, ms, (const uint8_t(*)[3])colors, en,
                            opaque ? 1.0f : alpha};
  if (mnv3_blend_mask(NULL, f, pixels, flags & 16 ? NULL : &dest, &blend, &err) == 0) {
    const mnv3_rect whole = {0, 0, f->width, f->height};
    check_blend(f, g, nplanes, before, pixels, flags & 16 ? &whole : &dest, mask,
                mw, mh, ms, (const uint8_t(*)[3])colors, en,
                opaque || alpha == 1.0f);
  } else {
    fuzz_check_message(&err, "blend");
    for (int p = 0; p < nplanes; p++)
      FUZZ_CHECK(memcmp(before[p], pixels[p], sizes[p]) == 0,
                 "a failed blend changed plane %d", p);
  }
  for (int p = 0; p < nplanes; p++)
    free(before[p]);
  free(mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_cursor cur = {data, size, 0};
  mnv3_frame f;
  memset(&f, 0, sizeof f);
  f.format = (mnv3_pixel_format)(fuzz_take(&cur, 1) % MNV3_PIXEL_FORMAT_COUNT);
  const int flags = (int)fuzz_take(&cur, 1);
  f.full_range = flags & 1;
  /* Wide frames (up to 5000 columns) reach the heap scratch paths. */
  if (flags & 2) {
    f.width = fuzz_range(&cur, 2, 1, 5000);
    f.height = fuzz_range(&cur, 1, 1, 4);
  } else {
    f.width = fuzz_range(&cur, 1, 1, 64);
    f.height = fuzz_range(&cur, 1, 1, 64);
  }
  plane_geom g[3];
  const int nplanes = plane_layout(f.format, f.width, f.height, g);
  size_t sizes[3] = {0, 0, 0};
  for (int p = 0; p < nplanes; p++) {
    const int extra = (int)fuzz_take(&cur, 1);
    /* 255: a stride one byte short of a row, which must be refused. */
    f.strides[p] = extra == 255 ? g[p].row_bytes - 1 : g[p].row_bytes + extra % 16;
    const int stride = f.strides[p] > 0 ? f.strides[p] : 0;
    sizes[p] = (size_t)stride * (g[p].rows - 1) + g[p].row_bytes;
  }
  const mnv3_rect crop = take_rect(&cur, f.width, f.height, (flags & 12) == 12);
  /* Up to 600 wide (past the 512-column stack scratch), 8192 pixels in all
     to keep executions fast. */
  const int ow = fuzz_range(&cur, 2, 1, 600);
  const int max_h = 8192 / ow < 600 ? 8192 / ow : 600;
  const int oh = fuzz_range(&cur, 2, 1, max_h);
  mnv3_normalize norm;
  for (int c = 0; c < 3; c++) {
    norm.mean[c] = (float)fuzz_take(&cur, 1) / 255.0f;
    norm.std[c] = (float)((int)fuzz_take(&cur, 1) - 128) / 64.0f; /* 0 sometimes */
  }
  const blend_params bp = take_blend(&cur, f.width, f.height);

  /* The rest of the input is the pixels, repeated to fill the planes. */
  size_t pix_size;
  const uint8_t *pix = fuzz_rest(&cur, &pix_size);
  uint8_t *pixels[3] = {NULL, NULL, NULL};
  for (int p = 0; p < nplanes; p++) {
    pixels[p] = malloc(sizes[p]);
    FUZZ_CHECK(pixels[p] != NULL, "out of memory");
    for (size_t i = 0; i < sizes[p]; i++)
      pixels[p][i] = pix_size ? pix[(i + 7919 * (size_t)p) % pix_size] : 0;
    f.planes[p] = pixels[p];
  }

  float *out = malloc((size_t)oh * ow * 3 * sizeof *out);
  FUZZ_CHECK(out != NULL, "out of memory");
  mnv3_error err = {{0}};
  const mnv3_rect whole = {0, 0, f.width, f.height};
  const int use_whole = (flags & 16) != 0;
  if (mnv3_preprocess(&f, use_whole ? NULL : &crop, &norm, oh, ow, out, &err) == 0)
    check_output(&f, use_whole ? &whole : &crop, &norm, oh, ow, out);
  else
    fuzz_check_message(&err, "preprocess");
  free(out);

  blend(&bp, pix, pix_size, &f, g, nplanes, pixels, sizes);
  for (int p = 0; p < nplanes; p++)
    free(pixels[p]);
  return 0;
}
