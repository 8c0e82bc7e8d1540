/* mnv3_preprocess bit for bit: against a plain scalar reference that
 * resizes the crop's samples (R, G, B, or Y and the nearest U, V) pixel by
 * pixel with the same float operations in the same order, then converts YUV
 * to RGB (none of the row caches, vector kernels and bands of rows of
 * mnv3_preprocess), and with 2 and 3 threads
 * against 1 (mnv3_preprocess_pool splits the output rows into bands).
 * Every pixel format, odd sizes, padded strides, random crops, up- and
 * downscaling, limited and full range. test_preprocess.py checks the maths
 * itself against numpy and torch; this checks that the fast paths change no
 * bit of it. */
#include "internal.h"
#include "preprocess.h"
#include "workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 12345u;
static int rnd(int n) {
  rng = rng * 1103515245u + 12345u;
  return (int)((rng >> 8) % (unsigned)n);
}

static float clamp255(float v) {
  v = v > 0.0f ? v : 0.0f;
  return v < 255.0f ? v : 255.0f;
}

/* BT.601 coefficients as float, computed in double and rounded once, as the
 * engine documents (kernels.h, mnv3_yuv_coefs). */
typedef struct coefs {
  float y_offset, y_scale, rv, gu, gv, bu;
} coefs;

static void coefs_init(int full, coefs *k) {
  const double kr = 0.299, kb = 0.114, kg = 1.0 - kr - kb;
  const double cs = full ? 1.0 : 255.0 / 224.0;
  k->y_offset = full ? 0.0f : 16.0f;
  k->y_scale = (float)(full ? 1.0 : 255.0 / 219.0);
  k->rv = (float)(2.0 * (1.0 - kr) * cs);
  k->gu = (float)(2.0 * (1.0 - kb) * kb / kg * cs);
  k->gv = (float)(2.0 * (1.0 - kr) * kr / kg * cs);
  k->bu = (float)(2.0 * (1.0 - kb) * cs);
}

/* The three samples of frame pixel (x, y), as floats on 0..255: R, G, B, or
 * Y, U, V with the chroma of its 2x2 block (nearest). */
static void samples(const mnv3_frame *f, int x, int y, float out[3]) {
  static const int offs[10][4] = {{3, 0, 1, 2}, {3, 2, 1, 0}, {4, 0, 1, 2}, {4, 2, 1, 0},
                                  {4, 1, 2, 3}, {4, 3, 2, 1}, {4, 0, 1, 2}, {4, 2, 1, 0},
                                  {4, 1, 2, 3}, {4, 3, 2, 1}};
  const uint8_t *row = f->planes[0] + (size_t)y * f->strides[0];
  if (f->format <= MNV3_PIXEL_ABGR) {
    const int *o = offs[f->format];
    for (int c = 0; c < 3; c++)
      out[c] = (float)row[x * o[0] + o[1 + c]];
    return;
  }
  if (f->format == MNV3_PIXEL_GRAY8) {
    out[0] = out[1] = out[2] = (float)row[x];
    return;
  }
  int u, v;
  const uint8_t *c1 = f->planes[1] + (size_t)(y / 2) * f->strides[1];
  if (f->format == MNV3_PIXEL_NV12 || f->format == MNV3_PIXEL_NV21) {
    u = c1[(x / 2) * 2 + (f->format == MNV3_PIXEL_NV21)];
    v = c1[(x / 2) * 2 + (f->format == MNV3_PIXEL_NV12)];
  } else {
    u = c1[x / 2];
    v = f->planes[2][(size_t)(y / 2) * f->strides[2] + x / 2];
  }
  out[0] = (float)row[x];
  out[1] = (float)u;
  out[2] = (float)v;
}

/* Interpolated Y, U, V to RGB on 0..255. */
static void yuv_to_rgb(const coefs *k, const float yuv[3], float rgb[3]) {
  const float yv = (yuv[0] - k->y_offset) * k->y_scale;
  const float cu = yuv[1] - 128.0f, cv = yuv[2] - 128.0f;
  rgb[0] = clamp255(yv + cv * k->rv);
  rgb[1] = clamp255(yv - cu * k->gu - cv * k->gv);
  rgb[2] = clamp255(yv + cu * k->bu);
}

static void taps(float scale, int o, int in, int *i0, int *i1, float *w0, float *w1) {
  float src = scale * ((float)o + 0.5f) - 0.5f;
  if (src < 0.0f)
    src = 0.0f;
  int lo = (int)src;
  if (lo > in - 1)
    lo = in - 1;
  *i0 = lo;
  *i1 = lo < in - 1 ? lo + 1 : lo;
  *w1 = src - (float)lo;
  *w0 = 1.0f - *w1;
}

static void reference(const mnv3_frame *f, const mnv3_rect *c, const mnv3_normalize *n,
                      int oh, int ow, float *dst) {
  coefs k;
  coefs_init(f->full_range, &k);
  float scale[3], bias[3];
  for (int k = 0; k < 3; k++) {
    scale[k] = 1.0f / (255.0f * n->std[k]);
    bias[k] = -n->mean[k] / n->std[k];
  }
  const float sx = (float)c->width / (float)ow, sy = (float)c->height / (float)oh;
  const int yuv = f->format >= MNV3_PIXEL_I420 && f->format <= MNV3_PIXEL_NV21;
  for (int oy = 0; oy < oh; oy++) {
    int y0, y1;
    float h0, h1;
    taps(sy, oy, c->height, &y0, &y1, &h0, &h1);
    for (int ox = 0; ox < ow; ox++) {
      int x0, x1;
      float w0, w1, p[3], q[3], r0[3], r1[3], blended[3], rgb[3];
      taps(sx, ox, c->width, &x0, &x1, &w0, &w1);
      samples(f, c->x + x0, c->y + y0, p);
      samples(f, c->x + x1, c->y + y0, q);
      for (int k = 0; k < 3; k++)
        r0[k] = w0 * p[k] + w1 * q[k];
      samples(f, c->x + x0, c->y + y1, p);
      samples(f, c->x + x1, c->y + y1, q);
      for (int k = 0; k < 3; k++)
        r1[k] = w0 * p[k] + w1 * q[k];
      for (int k = 0; k < 3; k++)
        blended[k] = h0 * r0[k] + h1 * r1[k];
      if (yuv)
        yuv_to_rgb(&k, blended, rgb);
      else
        memcpy(rgb, blended, sizeof rgb);
      for (int k = 0; k < 3; k++)
        dst[((size_t)oy * ow + ox) * 3 + k] = rgb[k] * scale[k] + bias[k];
    }
  }
}

int main(void) {
  mnv3_workers *pools[2] = {mnv3_workers_acquire(2, NULL), mnv3_workers_acquire(3, NULL)};
  int failures = 0, cases = 0;
  for (int it = 0; it < 300; it++) {
    const mnv3_pixel_format fmt = (mnv3_pixel_format)(it % MNV3_PIXEL_FORMAT_COUNT);
    const int big = it % 50 == 0;
    const int w = 1 + rnd(big ? 700 : 90), h = 1 + rnd(big ? 500 : 90);
    const int bpp = mnv3_packed_pixel_bytes(fmt), cw = (w + 1) / 2, ch = (h + 1) / 2;
    const int nv = fmt == MNV3_PIXEL_NV12 || fmt == MNV3_PIXEL_NV21;
    const int s0 = (bpp ? bpp : 1) * w + rnd(5), s1 = (nv ? 2 * cw : cw) + rnd(4),
              s2 = cw + rnd(4);
    uint8_t *p0 = malloc((size_t)s0 * h), *p1 = malloc((size_t)s1 * ch),
            *p2 = malloc((size_t)s2 * ch);
    for (size_t i = 0; i < (size_t)s0 * h; i++)
      p0[i] = (uint8_t)rnd(256);
    for (size_t i = 0; i < (size_t)s1 * ch; i++)
      p1[i] = (uint8_t)rnd(256);
    for (size_t i = 0; i < (size_t)s2 * ch; i++)
      p2[i] = (uint8_t)rnd(256);
    const mnv3_frame f = {fmt, w, h, {p0, p1, p2}, {s0, s1, s2}, rnd(2)};
    mnv3_rect c;
    c.width = 1 + rnd(w);
    c.height = 1 + rnd(h);
    c.x = rnd(w - c.width + 1);
    c.y = rnd(h - c.height + 1);
    const int oh = 1 + rnd(big ? 600 : 150), ow = 1 + rnd(big ? 800 : 150);
    const mnv3_normalize n = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    const size_t count = (size_t)oh * ow * 3;
    float *want = malloc(count * sizeof(float)), *got = malloc(count * sizeof(float));
    reference(&f, &c, &n, oh, ow, want);
    mnv3_error err;
    for (int threads = 1; threads <= 3; threads++) {
      memset(got, 0xff, count * sizeof(float));
      mnv3_workers *pool = threads == 1 ? NULL : pools[threads - 2];
      cases++;
      if (mnv3_preprocess_pool(&f, &c, &n, oh, ow, got, pool, &err) != 0) {
        fprintf(stderr, "FAIL format %d: %s\n", fmt, err.message);
        failures++;
      } else if (memcmp(got, want, count * sizeof(float)) != 0) {
        size_t i = 0;
        while (got[i] == want[i] || (got[i] != got[i] && want[i] != want[i]))
          i++;
        if (failures < 10)
          fprintf(stderr, "FAIL format %d %dx%d crop %d,%d %dx%d -> %dx%d, %d thread(s): "
                  "value %zu is %.9g, the reference %.9g\n", fmt, w, h, c.x, c.y, c.width,
                  c.height, oh, ow, threads, i, (double)got[i], (double)want[i]);
        failures++;
      }
    }
    free(p0);
    free(p1);
    free(p2);
    free(want);
    free(got);
  }
  mnv3_workers_release(pools[0]);
  mnv3_workers_release(pools[1]);
  printf("%d of %d preprocess runs differ from the reference bit for bit\n", failures, cases);
  printf("%s\n", failures ? "FAIL" : "PASS");
  return failures != 0;
}
