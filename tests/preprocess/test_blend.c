/* mnv3_blend_mask on every pixel format: each byte of the frame (padding
 * included) is checked against what it must be, computed here independently
 * with the BT.601 matrices as published (limited range: Y = 16 + (65.481 R +
 * 128.553 G + 24.966 B) / 255, ...).
 *   - bytes outside dest, of disabled classes, alpha/X bytes and padding are
 *     unchanged;
 *   - alpha 0 changes nothing;
 *   - alpha 1 gives exactly the colour (RGB formats), the exact
 *     Y (YUV, GRAY8) and Cb/Cr within 1;
 *   - alpha 0.5 gives the mean within 1;
 *   - a YUV chroma sample changes only when its whole 2x2 block is in dest,
 *     following the class at the block's top-left pixel;
 *   - with a context of 2 and of 3 threads (the rows split into bands), the
 *     frame is byte for byte the one of the calling thread alone.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    checks++;                                                                  \
    if (!(cond)) {                                                             \
      if (failures++ < 20) {                                                   \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                   \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
      }                                                                        \
    }                                                                          \
  } while (0)

static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void) { /* xorshift32 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static const char *const names[MNV3_PIXEL_FORMAT_COUNT] = {
    "RGB",  "BGR",  "RGBX", "BGRX", "XRGB", "XBGR", "RGBA", "BGRA",
    "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21", "GRAY8"};

static int is_yuv(mnv3_pixel_format f) {
  return f >= MNV3_PIXEL_I420 && f <= MNV3_PIXEL_NV21;
}

/* bytes per pixel of packed formats and where R, G, B are */
static int packed_layout(mnv3_pixel_format f, int off[3]) {
  static const int t[10][4] = {
      {3, 0, 1, 2}, {3, 2, 1, 0}, {4, 0, 1, 2}, {4, 2, 1, 0}, {4, 1, 2, 3},
      {4, 3, 2, 1}, {4, 0, 1, 2}, {4, 2, 1, 0}, {4, 1, 2, 3}, {4, 3, 2, 1}};
  if (f > MNV3_PIXEL_ABGR)
    return 0;
  memcpy(off, &t[f][1], 3 * sizeof(int));
  return t[f][0];
}

static int round255(double v) {
  v = floor(v + 0.5);
  return v < 0 ? 0 : (v > 255 ? 255 : (int)v);
}

/* Target Y, Cb, Cr of a colour. */
static void ycbcr(const uint8_t c[3], int full, double out[3]) {
  double r = c[0], g = c[1], b = c[2];
  if (full) {
    out[0] = 0.299 * r + 0.587 * g + 0.114 * b;
    out[1] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    out[2] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  } else {
    out[0] = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
    out[1] = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
    out[2] = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  }
}

typedef struct scene {
  mnv3_frame frame;
  uint8_t *planes[3], *orig[3];
  size_t sizes[3];
  mnv3_rect dest;
  int mw, mh, mstride;
  uint8_t *mask;
  uint8_t colors[256][3];
  uint8_t enabled[256];
} scene;

static void scene_init(scene *s, mnv3_pixel_format f, int w, int h,
                       int full_range, mnv3_rect dest, int mw, int mh) {
  memset(s, 0, sizeof *s);
  s->frame.format = f;
  s->frame.width = w;
  s->frame.height = h;
  s->frame.full_range = full_range;
  int off[3], cw = (w + 1) / 2, ch = (h + 1) / 2;
  int bpp = packed_layout(f, off);
  int row[3] = {0, 0, 0}, rows[3] = {h, ch, ch};
  if (bpp)
    row[0] = w * bpp;
  else if (f == MNV3_PIXEL_GRAY8)
    row[0] = w;
  else if (f == MNV3_PIXEL_NV12 || f == MNV3_PIXEL_NV21)
    row[0] = w, row[1] = 2 * cw;
  else
    row[0] = w, row[1] = cw, row[2] = cw;
  for (int p = 0; p < 3; p++) {
    if (!row[p])
      continue;
    s->frame.strides[p] = row[p] + (int)(rnd() % 7); /* padded rows */
    s->sizes[p] = (size_t)s->frame.strides[p] * rows[p];
    s->planes[p] = malloc(s->sizes[p]);
    s->orig[p] = malloc(s->sizes[p]);
    for (size_t i = 0; i < s->sizes[p]; i++)
      s->orig[p][i] = (uint8_t)rnd();
    memcpy(s->planes[p], s->orig[p], s->sizes[p]);
    s->frame.planes[p] = s->planes[p];
  }
  s->dest = dest;
  s->mw = mw;
  s->mh = mh;
  s->mstride = mw + 3;
  s->mask = malloc((size_t)s->mstride * mh);
  for (int i = 0; i < s->mstride * mh; i++)
    s->mask[i] = (uint8_t)(rnd() % 4);
  for (int c = 0; c < 256; c++) {
    for (int k = 0; k < 3; k++)
      s->colors[c][k] = (uint8_t)rnd();
    s->enabled[c] = c != 1; /* class 1 disabled */
  }
}

static void scene_free(scene *s) {
  for (int p = 0; p < 3; p++) {
    free(s->planes[p]);
    free(s->orig[p]);
  }
  free(s->mask);
}

static int class_at(const scene *s, int x, int y) {
  const mnv3_rect *d = &s->dest;
  int mx = (x - d->x) * s->mw / d->width, my = (y - d->y) * s->mh / d->height;
  return s->mask[my * s->mstride + mx];
}

static int inside(const mnv3_rect *d, int x, int y) {
  return x >= d->x && x < d->x + d->width && y >= d->y && y < d->y + d->height;
}

/* mode: 0 = alpha 0, 1 = alpha 1 (opaque), 2 = alpha 0.5 */
static void check_byte(const scene *s, uint8_t got, uint8_t orig,
                       double target, int mode, double tol, const char *what,
                       int x, int y) {
  const char *name = names[s->frame.format];
  if (mode == 0) {
    CHECK(got == orig, "%s %s (%d,%d): alpha 0 changed %d to %d", name, what,
          x, y, orig, got);
  } else if (mode == 2) {
    double want = 0.5 * orig + 0.5 * target;
    CHECK(fabs(got - want) <= 1.0 + tol, "%s %s (%d,%d): alpha 0.5 gave %d, "
          "want %.2f", name, what, x, y, got, want);
  } else {
    CHECK(abs(got - round255(target)) <= tol, "%s %s (%d,%d): opaque gave %d, "
          "want %d", name, what, x, y, got, round255(target));
  }
}

static void verify(const scene *s, int mode) {
  const mnv3_frame *f = &s->frame;
  const char *name = names[f->format];
  int off[3], bpp = packed_layout(f->format, off);
  int changed[3] = {0, 0, 0}; /* bytes that may change: all others must not */
  uint8_t *may[3] = {NULL, NULL, NULL};
  for (int p = 0; p < 3; p++)
    if (s->planes[p])
      may[p] = calloc(s->sizes[p], 1);

  for (int y = 0; y < f->height; y++)
    for (int x = 0; x < f->width; x++) {
      if (!inside(&s->dest, x, y))
        continue;
      int cls = class_at(s, x, y);
      if (!s->enabled[cls])
        continue;
      const uint8_t *col = s->colors[cls];
      if (bpp) {
        size_t base = (size_t)y * f->strides[0] + (size_t)x * bpp;
        for (int k = 0; k < 3; k++) {
          size_t i = base + off[k];
          may[0][i] = 1;
          check_byte(s, s->planes[0][i], s->orig[0][i], col[k], mode, 0,
                     (const char *[]){"R", "G", "B"}[k], x, y);
        }
      } else {
        double t[3];
        ycbcr(col, is_yuv(f->format) ? f->full_range : 1, t);
        size_t i = (size_t)y * f->strides[0] + x;
        may[0][i] = 1;
        check_byte(s, s->planes[0][i], s->orig[0][i], t[0], mode, 0, "Y", x, y);
      }
    }

  if (is_yuv(f->format)) {
    int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;
    int nv = f->format == MNV3_PIXEL_NV12 || f->format == MNV3_PIXEL_NV21;
    for (int cy = 0; cy < ch; cy++)
      for (int cx = 0; cx < cw; cx++) {
        int x0 = 2 * cx, y0 = 2 * cy;
        int x1 = x0 + 1 < f->width ? x0 + 1 : x0;
        int y1 = y0 + 1 < f->height ? y0 + 1 : y0;
        if (!inside(&s->dest, x0, y0) || !inside(&s->dest, x1, y1))
          continue;
        int cls = class_at(s, x0, y0);
        if (!s->enabled[cls])
          continue;
        double t[3];
        ycbcr(s->colors[cls], f->full_range, t);
        size_t iu, iv;
        int pu, pv;
        if (nv) {
          size_t base = (size_t)cy * f->strides[1] + 2 * (size_t)cx;
          pu = pv = 1;
          iu = base + (f->format == MNV3_PIXEL_NV12 ? 0 : 1);
          iv = base + (f->format == MNV3_PIXEL_NV12 ? 1 : 0);
        } else {
          pu = 1, pv = 2;
          iu = (size_t)cy * f->strides[1] + cx;
          iv = (size_t)cy * f->strides[2] + cx;
        }
        may[pu][iu] = may[pv][iv] = 1;
        check_byte(s, s->planes[pu][iu], s->orig[pu][iu], t[1], mode, 1, "Cb",
                   x0, y0);
        check_byte(s, s->planes[pv][iv], s->orig[pv][iv], t[2], mode, 1, "Cr",
                   x0, y0);
      }
  }

  /* Every other byte (outside dest, disabled classes, alpha/X, padding,
     shared chroma at dest's border) must be exactly as before. */
  for (int p = 0; p < 3; p++) {
    if (!s->planes[p])
      continue;
    for (size_t i = 0; i < s->sizes[p]; i++)
      if (!may[p][i] && s->planes[p][i] != s->orig[p][i])
        changed[p]++;
    CHECK(changed[p] == 0, "%s plane %d: %d bytes changed that must not",
          name, p, changed[p]);
    free(may[p]);
  }
}

/* Contexts of 2 and 3 threads (a context needs a model: the TF-slim
 * MobileNetV3-Small of the shared folder). */
static mnv3_context *contexts[2];

/* The same blend through each threaded context, from the same original
 * bytes: every plane must equal the calling thread's result. */
static void check_threads(const scene *s, const mnv3_rect *dest, int mw,
                          int mh, float alpha) {
  const char *name = names[s->frame.format];
  for (int t = 0; t < 2; t++) {
    uint8_t *copy[3] = {NULL, NULL, NULL};
    for (int p = 0; p < 3; p++)
      if (s->planes[p]) {
        copy[p] = malloc(s->sizes[p]);
        memcpy(copy[p], s->orig[p], s->sizes[p]);
      }
    mnv3_error err = {{0}};
    const mnv3_blend b = {s->mask, mw, mh, s->mstride,
                          (const uint8_t(*)[3])s->colors, s->enabled, alpha};
    int rc = mnv3_blend_mask(contexts[t], &s->frame, copy, dest, &b, &err);
    CHECK(rc == 0, "%s %dx%d, %d threads: blend failed: %s", name,
          s->frame.width, s->frame.height, t + 2, err.message);
    for (int p = 0; p < 3; p++) {
      if (!copy[p])
        continue;
      size_t first = 0;
      while (first < s->sizes[p] && copy[p][first] == s->planes[p][first])
        first++;
      CHECK(first == s->sizes[p], "%s %dx%d dest %d,%d %dx%d, %d threads: "
            "plane %d differs from one thread's at byte %zu", name,
            s->frame.width, s->frame.height, s->dest.x, s->dest.y,
            s->dest.width, s->dest.height, t + 2, p, first);
      free(copy[p]);
    }
  }
}

static void run_case(mnv3_pixel_format f, int w, int h, int full_range,
                     mnv3_rect dest, int use_null_dest, int mw, int mh) {
  static const float alphas[3] = {0.0f, 1.0f, 0.5f};
  for (int mode = 0; mode < 3; mode++) {
    scene s;
    scene_init(&s, f, w, h, full_range, dest, mw, mh);
    mnv3_error err = {{0}};
    const mnv3_blend b = {s.mask, mw, mh, s.mstride, (const uint8_t(*)[3])s.colors,
                          s.enabled, alphas[mode]};
    int rc = mnv3_blend_mask(NULL, &s.frame, s.planes, use_null_dest ? NULL : &dest, &b,
                             &err);
    CHECK(rc == 0, "%s %dx%d: blend failed: %s", names[f], w, h, err.message);
    if (rc == 0) {
      verify(&s, mode);
      check_threads(&s, use_null_dest ? NULL : &dest, mw, mh, alphas[mode]);
    }
    scene_free(&s);
  }
}

static void expect_error(const char *what, int rc, const mnv3_error *err,
                         const char *needle) {
  CHECK(rc == -1 && strstr(err->message, needle) != NULL,
        "%s: rc %d, message \"%s\" (want \"%s\")", what, rc, err->message,
        needle);
}

static void test_errors(void) {
  scene s;
  mnv3_rect d = {0, 0, 8, 6};
  scene_init(&s, MNV3_PIXEL_I420, 8, 6, 0, d, 4, 3);
  const mnv3_blend ok = {s.mask, 4, 3, 7, (const uint8_t(*)[3])s.colors, NULL, 0.5f};
  mnv3_blend bad;
  mnv3_error err;
  mnv3_rect out = {2, 1, 7, 5};
  err.message[0] = 0;
  expect_error("dest outside", mnv3_blend_mask(NULL, &s.frame, s.planes, &out, &ok, &err),
               &err, "does not lie within");
  bad = ok;
  bad.alpha = 1.5f;
  err.message[0] = 0;
  expect_error("alpha 1.5", mnv3_blend_mask(NULL, &s.frame, s.planes, &d, &bad, &err), &err,
               "alpha");
  bad.alpha = NAN;
  err.message[0] = 0;
  expect_error("alpha NaN", mnv3_blend_mask(NULL, &s.frame, s.planes, &d, &bad, &err), &err,
               "alpha");
  bad = ok;
  bad.mask = NULL;
  err.message[0] = 0;
  expect_error("mask NULL", mnv3_blend_mask(NULL, &s.frame, s.planes, &d, &bad, &err), &err,
               "mask");
  bad = ok;
  bad.mask_stride = 3;
  err.message[0] = 0;
  expect_error("mask stride", mnv3_blend_mask(NULL, &s.frame, s.planes, &d, &bad, &err), &err,
               "stride");
  err.message[0] = 0;
  expect_error("blend NULL", mnv3_blend_mask(NULL, &s.frame, s.planes, &d, NULL, &err), &err,
               "blend is NULL");
  uint8_t *no_v[3] = {s.planes[0], s.planes[1], NULL};
  err.message[0] = 0;
  expect_error("V plane NULL", mnv3_blend_mask(NULL, &s.frame, no_v, &d, &ok, &err), &err,
               "plane 2");
  /* nothing was written by the failed calls */
  for (int p = 0; p < 3; p++)
    CHECK(memcmp(s.planes[p], s.orig[p], s.sizes[p]) == 0,
          "a failing call changed plane %d", p);
  scene_free(&s);
}

int main(void) {
  struct {
    int w, h;
    mnv3_rect dest;
    int null_dest, mw, mh;
  } geoms[] = {
      {13, 9, {3, 1, 7, 6}, 0, 5, 3},    /* odd offsets, mask smaller */
      {13, 9, {0, 0, 13, 9}, 1, 20, 17}, /* whole frame, mask larger */
      {13, 9, {2, 4, 11, 5}, 0, 1, 1},   /* to the odd right/bottom edge */
      {1, 1, {0, 0, 1, 1}, 1, 3, 2},
      {6, 4, {1, 1, 4, 2}, 0, 4, 2},
      {641, 7, {0, 0, 641, 7}, 0, 224, 3},
      {4500, 2, {1, 0, 4499, 2}, 0, 9, 1}, /* wider than the stack columns */
      /* Large enough to be split over threads, at odd offsets and sizes:
         a noisy mask (per-byte lines), a coarse one (runs of one class),
         a downscaled one, and mixed rows. */
      {211, 171, {3, 5, 205, 165}, 0, 67, 51},
      {211, 171, {3, 5, 205, 165}, 0, 7, 9},
      {259, 131, {0, 0, 259, 131}, 1, 515, 263},
      {1921, 21, {1, 2, 1919, 19}, 0, 41, 7},
  };
  const char *root = getenv("MNV3_SOURCE_ROOT");
  char config[4096], weights[4096];
  snprintf(config, sizeof config,
           "%s/configs/mobilenet_v3_small_tfslim_uint8.yaml", root ? root : ".");
  snprintf(weights, sizeof weights,
           "%s/../shared/models/v3-small_224_1.0_uint8.tflite", root ? root : ".");
  mnv3_error err;
  mnv3_model *model = mnv3_model_load(config, weights, &err);
  if (!model) {
    fprintf(stderr, "cannot load the model for the threaded contexts (run "
            "through meson test, which sets MNV3_SOURCE_ROOT): %s\n",
            err.message);
    return 1;
  }
  for (int t = 0; t < 2; t++)
    if (!(contexts[t] = mnv3_context_new(model, t + 2, &err))) {
      fprintf(stderr, "cannot create a %d-thread context: %s\n", t + 2,
              err.message);
      return 1;
    }
  for (int f = 0; f < MNV3_PIXEL_FORMAT_COUNT; f++)
    for (size_t g = 0; g < sizeof geoms / sizeof geoms[0]; g++)
      for (int full = 0; full <= is_yuv((mnv3_pixel_format)f); full++)
        run_case((mnv3_pixel_format)f, geoms[g].w, geoms[g].h, full,
                 geoms[g].dest, geoms[g].null_dest, geoms[g].mw, geoms[g].mh);
  test_errors();
  for (int t = 0; t < 2; t++)
    mnv3_context_free(contexts[t]);
  mnv3_model_unref(model);
  printf("blend: %d checks, %d failed\n", checks, failures);
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
