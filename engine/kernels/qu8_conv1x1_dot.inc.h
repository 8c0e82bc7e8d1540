/* Template: 8-bit 1x1 convolution (a GEMM over pixels) with a 4-way
 * uint8 x int8 dot product into int32 lanes (x86 VNNI's vpdpbusd: 64
 * multiply-adds per 512-bit instruction, exact, no int16 step to saturate).
 * Include after one simd_<isa>.h, with QDOT_MR (pixels per tile), QDOT_NAME
 * (the kernel's symbol) and QDOT_STR (its ISA) defined, and:
 *   vi vdot_u8s8(vi acc, vi x, vi w)  acc + per lane the 4 products of
 *                                     x's bytes (uint8) and w's (int8)
 *
 * Weights are int8 for vpdpbusd, negated or in two planes where they
 * must be (qu8_dot_weights.h). A panel of channels takes two planes only
 * when one of its channels does not fit int8 either way: in Google's
 * uint8 MobileNetV3-Small, 15 % of
 * the 1x1 weights (but 40 of 42 layers have such a channel somewhere).
 * The input zero point is folded into the accumulators' start:
 * sum (x - z) w = sum x w - z sum w.
 *
 * Packed: panels of NR = 2 vectors of output channels (the last rounded up
 * to whole vectors), each room for two planes: a 64-byte header (the
 * panel's plane count), start[width] (int32: -z sum w), scale[width],
 * bias[width] (float), then per group of 4 input channels, per plane,
 * width x 4 int8 (a channel's 4 weights together, as vpdpbusd takes them;
 * zero past in_c and out_c). */
#include "qu8_dot_weights.h"
#include "qu8_epilogue_vec.h"

#include <string.h>

#define NR (2 * VW)
#define HEADER 64
#define MAX_PLANES 2
/* Bytes of input pixels kept in L1 across the output panels. */
#define QDOT_L1_INPUT 16384
/* Bytes of input that make one block, if the layer's whole input fits. */
#define QDOT_L2_INPUT (256 * 1024)

static size_t groups_of(int in_c) { return ((size_t)in_c + 3) / 4; }

static size_t panel_bytes(int width, int in_c) {
  return HEADER + (size_t)width * 12 + groups_of(in_c) * MAX_PLANES * width * 4;
}

static int panel_width(int out_c, int n0) {
  return out_c - n0 >= NR ? NR : (out_c - n0 + VW - 1) / VW * VW;
}

static size_t qdot_packed_size(int out_c, int in_c, int kernel) {
  (void)kernel;
  size_t size = 0;
  for (int n0 = 0; n0 < out_c; n0 += NR)
    size += panel_bytes(panel_width(out_c, n0), in_c);
  return size;
}

static void qdot_pack(const int16_t *weight, const float *scale, const float *bias,
                      int in_zero, int out_c, int in_c, int kernel, void *dst) {
  memset(dst, 0, qdot_packed_size(out_c, in_c, kernel));
  uint8_t *panel = dst;
  for (int n0 = 0; n0 < out_c; n0 += NR) {
    const int width = panel_width(out_c, n0), real = out_c - n0 < width ? out_c - n0 : width;
    int lo[NR], hi[NR];
    int32_t planes = 1;
    for (int j = 0; j < real; j++) {
      const int16_t *row = weight + (size_t)(n0 + j) * in_c;
      lo[j] = hi[j] = 0;
      for (int i = 0; i < in_c; i++) {
        lo[j] = row[i] < lo[j] ? row[i] : lo[j];
        hi[j] = row[i] > hi[j] ? row[i] : hi[j];
      }
      if (!qu8_fits_int8(lo[j], hi[j]))
        planes = 2;
    }
    memcpy(panel, &planes, sizeof planes);
    int32_t *start = (int32_t *)(panel + HEADER);
    float *s = (float *)(start + width), *b = s + width;
    int8_t *w = (int8_t *)(b + width);
    for (int j = 0; j < real; j++) {
      const int16_t *row = weight + (size_t)(n0 + j) * in_c;
      const int sign = qu8_channel_sign(hi[j], planes);
      int32_t sum = 0;
      for (int i = 0; i < in_c; i++) {
        const int v = sign * row[i];
        sum += v;
        int8_t *group = w + (size_t)(i / 4) * planes * width * 4 + j * 4 + i % 4;
        for (int pl = 0; pl < planes; pl++)
          group[(size_t)pl * width * 4] = qu8_plane_weight(v, pl, planes);
      }
      start[j] = -in_zero * sum;
      s[j] = (float)sign * scale[n0 + j];
      b[j] = bias[n0 + j];
    }
    panel += panel_bytes(width, in_c);
  }
}

/* The epilogue of a tile: mr pixels x nv vectors of sums. */
static void qdot_finish(const q_layer *k, size_t out_c, int32_t sums[][NR], int mr, int nv,
                        const float *scale, const float *bias, size_t p, int n0, int last_n) {
  _Static_assert(QDOT_MR <= Q_BATCH, "a tile's pixels go in one batch");
  for (int j = 0; j < nv; j++) {
    vf column[QDOT_MR];
    for (int i = 0; i < mr; i++)
      column[i] = vcvt_f(vload_i(sums[i] + j * VW));
    Q_BY_LAYER(k, q_store_batch(k, mr, column, scale + j * VW, bias + j * VW,
                                p * out_c + n0 + j * VW, out_c, j == nv - 1 ? last_n : VW, act,
                                form));
  }
}

/* A pixel's 4 input bytes; n < 4 of them at the end of a pixel (the rest
   zero: never read past the input). */
static inline __attribute__((always_inline)) uint32_t group_word(const uint8_t *p, int n) {
  uint32_t word = 0;
  memcpy(&word, p, n ? (size_t)n : sizeof word);
  return word;
}

/* One group of 4 input channels of mr pixels (x: the first pixel's; n:
   as group_word's) into the accumulators, plane by plane. */
static inline __attribute__((always_inline)) void
qdot_group(const int mr, const int nv, const int planes, vi acc[][2], const uint8_t *x,
           size_t lda, int n, const int8_t *wg, int width) {
#pragma GCC unroll 2
  for (int pl = 0; pl < planes; pl++) {
    const int8_t *wp = wg + (size_t)pl * width * 4;
    const vi w0 = vload_i((const int *)(const void *)wp);
    const vi w1 = nv > 1 ? vload_i((const int *)(const void *)(wp + VW * 4)) : w0;
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
      const vi xb = vset1_i((int)group_word(x + i * lda, n));
      acc[i][0] = vdot_u8s8(acc[i][0], xb, w0);
      if (nv > 1)
        acc[i][1] = vdot_u8s8(acc[i][1], xb, w1);
    }
  }
}

/* mr pixels (from pixel p, whose input is at in) x nv vectors of one
   panel; width: the panel's; last_n lanes of the last vector are real. */
static inline __attribute__((always_inline)) void
qdot_tile(const int mr, const int nv, const int planes, const mnv3_qconv_args *a,
          const uint8_t *in, size_t p, const uint8_t *panel, int width, int n0, int last_n,
          const q_layer *k) {
  const size_t lda = (size_t)a->in_c;
  const int full = a->in_c / 4, rest = a->in_c % 4;
  const int32_t *start = (const int32_t *)panel;
  const float *scale = (const float *)(start + width), *bias = scale + width;
  const int8_t *w = (const int8_t *)(bias + width);
  const size_t group_bytes = (size_t)planes * width * 4;
  vi acc[QDOT_MR][2];
#pragma GCC unroll 16
  for (int i = 0; i < mr; i++) {
    acc[i][0] = vload_i(start);
    acc[i][1] = nv > 1 ? vload_i(start + VW) : acc[i][0];
  }
  for (int g = 0; g < full; g++)
    qdot_group(mr, nv, planes, acc, in + 4 * g, lda, 0, w + g * group_bytes, width);
  if (rest)
    qdot_group(mr, nv, planes, acc, in + 4 * full, lda, rest, w + full * group_bytes, width);
  /* The epilogue, out of line: its registers would crowd the
     accumulators'. */
  int32_t sums[QDOT_MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < mr; i++)
#pragma GCC unroll 2
    for (int j = 0; j < nv; j++)
      vstore_i(sums[i] + j * VW, acc[i][j]);
  qdot_finish(k, (size_t)a->out_c, sums, mr, nv, scale, bias, p, n0, last_n);
}

#define QDOT_CASE(m)                                                           \
  case m:                                                                      \
    if (planes == 1)                                                           \
      (nv == 2 ? qdot_tile(m, 2, 1, a, in, p, panel, width, n0, last_n, k)     \
               : qdot_tile(m, 1, 1, a, in, p, panel, width, n0, last_n, k));   \
    else                                                                       \
      (nv == 2 ? qdot_tile(m, 2, 2, a, in, p, panel, width, n0, last_n, k)     \
               : qdot_tile(m, 1, 2, a, in, p, panel, width, n0, last_n, k));   \
    break;

#define QDOT_CASES_1_4 QDOT_CASE(1) QDOT_CASE(2) QDOT_CASE(3) QDOT_CASE(4)
#if QDOT_MR == 4
#define QDOT_CASES QDOT_CASES_1_4
#elif QDOT_MR == 6
#define QDOT_CASES QDOT_CASES_1_4 QDOT_CASE(5) QDOT_CASE(6)
#elif QDOT_MR == 8
#define QDOT_CASES QDOT_CASES_1_4 QDOT_CASE(5) QDOT_CASE(6) QDOT_CASE(7) QDOT_CASE(8)
#else
#error "QDOT_MR must be 4, 6 or 8"
#endif

/* Pixels [p0, p1) of the panel at n0, in tiles of QDOT_MR and one
   remainder. */
static void qdot_panel(const mnv3_qconv_args *a, size_t p0, size_t p1, int n0,
                       const q_layer *k) {
  /* Every panel before the last is NR wide. */
  const uint8_t *header =
      (const uint8_t *)a->packed + (size_t)(n0 / NR) * panel_bytes(NR, a->in_c);
  int32_t planes;
  memcpy(&planes, header, sizeof planes);
  const uint8_t *panel = header + HEADER;
  const int width = panel_width(a->out_c, n0), real = a->out_c - n0 < NR ? a->out_c - n0 : NR;
  const int nv = (real + VW - 1) / VW, last_n = real - (nv - 1) * VW;
  for (size_t p = p0; p < p1; p += QDOT_MR) {
    const int m = p1 - p < QDOT_MR ? (int)(p1 - p) : QDOT_MR;
    const uint8_t *in = a->input + p * a->in_c;
    switch (m) {
      QDOT_CASES
    }
  }
}

static void qdot_run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const q_layer k = q_layer_of(a);
  const size_t p0 = (size_t)row_begin * a->out_w, p1 = (size_t)row_end * a->out_w;
  const size_t lda = (size_t)a->in_c;
  /* Blocks of pixels whose input stays in L1 while every panel passes
     over them; an input that fits in L2 whole is one block, so that each
     panel's weights are read from memory once (as in f32_conv1x1.inc.h). */
  size_t block = QDOT_L1_INPUT / lda / QDOT_MR * QDOT_MR;
  if (block < QDOT_MR)
    block = QDOT_MR;
  if ((p1 - p0) * lda <= QDOT_L2_INPUT)
    block = p1 - p0;
  for (size_t b0 = p0; b0 < p1; b0 += block) {
    const size_t b1 = p1 - b0 < block ? p1 : b0 + block;
    for (int n0 = a->oc_begin; n0 < a->oc_end; n0 += NR)
      qdot_panel(a, b0, b1, n0, &k);
  }
}

const mnv3_qconv_kernel QDOT_NAME = {.name = "qu8_conv1x1__" QDOT_STR,
                                     .packed_size = qdot_packed_size,
                                     .pack = qdot_pack,
                                     .run = qdot_run,
                                     .channel_block = NR};
