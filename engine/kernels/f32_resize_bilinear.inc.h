/* Template: bilinear resize, align_corners=False, for one ISA: the
 * reference's formula and operation order (separate multiplies and adds, no
 * FMA), h = (1 - lx) * p0 + lx * p1 along each source row, then
 * (1 - ly) * h0 + ly * h1.
 *
 * The output rows go in chunks of columns that fit L1 with their two
 * horizontally interpolated source rows, which are kept while consecutive
 * output rows need them (an 8x upscale reuses each for 8 rows), so an output
 * row costs one vertical blend, done flat over the chunk's floats. With
 * `streaming`, the blend writes whole vectors with non-temporal stores: the
 * final map of a segmentation (44 MB at 512x1024) is not read back soon, and
 * stores that bypass the cache skip reading every line first. */
#include "simd_epilogue.h"

#include <stdint.h>

/* Floats of one chunk row: 2 source rows and the output stay in L1. */
#define CHUNK_FLOATS 2048

/* The horizontal pass of source row sy over output columns [x0, x1). */
static void hrow(const float *in, int in_w, int channels, int out_w, int sy, int x0, int x1,
                 float *h) {
  const float *src = in + (size_t)sy * in_w * channels;
  for (int ox = x0; ox < x1; ox++) {
    int i0, i1;
    float fx;
    mnv3_resize_source_index(ox, in_w, out_w, &i0, &i1, &fx);
    const vf lx = vset1(fx), lx1 = vset1(1.0f - fx);
    const float *p0 = src + (size_t)i0 * channels, *p1 = src + (size_t)i1 * channels;
    float *o = h + (size_t)(ox - x0) * channels;
    int c = 0;
    for (; c + VW <= channels; c += VW)
      vstore(o + c, vadd(vmul(lx1, vload(p0 + c)), vmul(lx, vload(p1 + c))));
    if (c < channels) {
      const int n = channels - c;
      vstore_n(o + c, vadd(vmul(lx1, vload_n(p0 + c, n)), vmul(lx, vload_n(p1 + c, n))), n);
    }
  }
}

/* dst[j] = ly1 * h0[j] + ly * h1[j] for n floats. */
static void vblend(const float *h0, const float *h1, float fy, float *dst, size_t n,
                   int streaming) {
  const vf ly = vset1(fy), ly1 = vset1(1.0f - fy);
  size_t j = 0;
  if (streaming) {
    /* Plain stores up to the first vector-aligned address, then streams. */
    size_t head = (VW - (uintptr_t)dst / sizeof(float) % VW) % VW;
    head = head < n ? head : n;
    if (head)
      vstore_n(dst, vadd(vmul(ly1, vload_n(h0, (int)head)), vmul(ly, vload_n(h1, (int)head))),
               (int)head);
    for (j = head; j + VW <= n; j += VW)
      vstream(dst + j, vadd(vmul(ly1, vload(h0 + j)), vmul(ly, vload(h1 + j))));
  }
  for (; j + VW <= n; j += VW)
    vstore(dst + j, vadd(vmul(ly1, vload(h0 + j)), vmul(ly, vload(h1 + j))));
  if (j < n) {
    const int rest = (int)(n - j);
    vstore_n(dst + j, vadd(vmul(ly1, vload_n(h0 + j, rest)), vmul(ly, vload_n(h1 + j, rest))),
             rest);
  }
}

void ISA_SUFFIX(mnv3_f32_resize_bilinear)(const float *in, int in_h, int in_w, int channels,
                                          float *out, int out_h, int out_w, int row_begin,
                                          int row_end, int streaming) {
  float rows[2][CHUNK_FLOATS] __attribute__((aligned(64)));
  int chunk_w = CHUNK_FLOATS / channels;
  if (chunk_w < 1) { /* more channels than a chunk holds: the plain 4-tap form */
    mnv3_f32_resize_bilinear__scalar(in, in_h, in_w, channels, out, out_h, out_w, row_begin, row_end,
                             streaming);
    return;
  }
  for (int x0 = 0; x0 < out_w; x0 += chunk_w) {
    const int x1 = x0 + chunk_w < out_w ? x0 + chunk_w : out_w;
    const size_t n = (size_t)(x1 - x0) * channels;
    int held[2] = {-1, -1}; /* source row in each slot */
    for (int oy = row_begin; oy < row_end; oy++) {
      int y0, y1;
      float fy;
      mnv3_resize_source_index(oy, in_h, out_h, &y0, &y1, &fy);
      int s0 = held[0] == y0 ? 0 : held[1] == y0 ? 1 : -1;
      if (s0 < 0) {
        s0 = held[0] == y1 ? 1 : 0; /* keep the slot holding y1 */
        hrow(in, in_w, channels, out_w, y0, x0, x1, rows[s0]);
        held[s0] = y0;
      }
      int s1 = held[s0 ^ 1] == y1 ? s0 ^ 1 : held[s0] == y1 ? s0 : -1;
      if (s1 < 0) {
        s1 = s0 ^ 1;
        hrow(in, in_w, channels, out_w, y1, x0, x1, rows[s1]);
        held[s1] = y1;
      }
      vblend(rows[s0], rows[s1], fy,
             out + ((size_t)(oy - row_begin) * out_w + x0) * channels, n, streaming);
    }
  }
  if (streaming)
    vstream_fence(); /* the streams reach memory before another thread reads */
}
