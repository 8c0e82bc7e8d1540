/* Template: 1x1 convolution (stride 1) as a GEMM over pixels, for one ISA.
 * Include after one simd_<isa>.h with GEMM_MR defined (pixels per tile).
 *
 * output[p][o] = act(bias[o] + sum_i input[p][i] * w[o][i] (+ residual)).
 * Weights are packed in panels of NR = 2 vectors of output channels (the
 * last panel rounded up to whole vectors): bias[width], then w[in_c][width].
 * A register tile of GEMM_MR pixels x one panel broadcasts inputs and
 * accumulates in FMAs, k ascending from the bias: every output element gets
 * the same FMA chain whatever the tile or thread that computes it. */
#include "simd_epilogue.h"

#include <string.h>

#define NR (2 * VW)
/* Bytes of input pixels kept in L1 across the output panels. */
#ifndef CONV1X1_L1_INPUT
#define CONV1X1_L1_INPUT 16384
#endif
/* Bytes of input that make one block, if the layer's whole input fits. */
#ifndef CONV1X1_L2_INPUT
#define CONV1X1_L2_INPUT (256 * 1024)
#endif
#ifndef GEMV_PANELS
#define GEMV_PANELS 4
#endif

static size_t conv1x1_packed_size(int out_c, int in_c, int kernel) {
  (void)kernel;
  const size_t padded = ((size_t)out_c + VW - 1) / VW * VW;
  return padded * ((size_t)in_c + 1);
}

static void conv1x1_pack(const float *weight, const float *bias, int out_c,
                         int in_c, int kernel, float *dst) {
  (void)kernel;
  for (int n0 = 0; n0 < out_c; n0 += NR) {
    const int width = out_c - n0 >= NR ? NR : (out_c - n0 + VW - 1) / VW * VW;
    float *panel = dst + (size_t)(n0 / NR) * NR * ((size_t)in_c + 1);
    memset(panel, 0, (size_t)width * ((size_t)in_c + 1) * sizeof *panel);
    for (int j = 0; j < width && n0 + j < out_c; j++) {
      panel[j] = bias[n0 + j];
      for (int i = 0; i < in_c; i++)
        panel[(size_t)(i + 1) * width + j] = weight[(size_t)(n0 + j) * in_c + i];
    }
  }
}

/* mr pixels x nv vectors; last_n lanes of the last vector are real. */
static inline __attribute__((always_inline)) void
conv1x1_tile(const int mr, const int nv, int k, const float *a, size_t lda,
             const float *w, float *c, size_t ldc, const float *res, int last_n,
             const vepilogue *e) {
  vf acc[GEMM_MR][2];
#pragma GCC unroll 16
  for (int i = 0; i < mr; i++) {
    acc[i][0] = vload(w);
    if (nv > 1)
      acc[i][1] = vload(w + VW);
  }
  w += nv * VW;
  for (int kk = 0; kk < k; kk++) {
    const vf w0 = vload(w);
    const vf w1 = nv > 1 ? vload(w + VW) : w0;
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
      const vf x = vset1(a[i * lda + kk]);
      acc[i][0] = vfma(x, w0, acc[i][0]);
      if (nv > 1)
        acc[i][1] = vfma(x, w1, acc[i][1]);
    }
    w += nv * VW;
  }
#pragma GCC unroll 16
  for (int i = 0; i < mr; i++)
#pragma GCC unroll 2
    for (int j = 0; j < nv; j++) {
      const int n = j == nv - 1 ? last_n : VW;
      float *out = c + i * ldc + j * VW;
      vf v = vpre_clamp(acc[i][j], e);
      if (n == VW) {
        if (res)
          v = vadd(v, vload(res + i * ldc + j * VW));
        vstore(out, vactivate(v, e));
      } else {
        if (res)
          v = vadd(v, vload_n(res + i * ldc + j * VW, n));
        vstore_n(out, vactivate(v, e), n);
      }
    }
}

#define CONV1X1_CASE(m)                                                        \
  case m:                                                                      \
    if (nv == 2)                                                               \
      conv1x1_tile(m, 2, k, in, lda, w, out, ldc, res, last_n, e);             \
    else                                                                       \
      conv1x1_tile(m, 1, k, in, lda, w, out, ldc, res, last_n, e);             \
    break;

#define CONV1X1_CASES_1_4 CONV1X1_CASE(1) CONV1X1_CASE(2) CONV1X1_CASE(3) CONV1X1_CASE(4)
#if GEMM_MR == 4
#define CONV1X1_CASES CONV1X1_CASES_1_4
#elif GEMM_MR == 6
#define CONV1X1_CASES CONV1X1_CASES_1_4 CONV1X1_CASE(5) CONV1X1_CASE(6)
#elif GEMM_MR == 7
#define CONV1X1_CASES CONV1X1_CASES_1_4 CONV1X1_CASE(5) CONV1X1_CASE(6) CONV1X1_CASE(7)
#elif GEMM_MR == 8
#define CONV1X1_CASES                                                          \
  CONV1X1_CASES_1_4 CONV1X1_CASE(5) CONV1X1_CASE(6) CONV1X1_CASE(7) CONV1X1_CASE(8)
#else
#error "GEMM_MR must be 4, 6, 7 or 8"
#endif

/* Pixels [p0, p1) of one panel, in tiles of GEMM_MR and one remainder;
   input holds pixel p0's row and those after it. */
static void conv1x1_panel(const mnv3_conv_args *a, const float *input, size_t p0,
                          size_t p1, int n0, const vepilogue *e) {
  const int k = a->in_c, width = a->out_c - n0 < NR ? a->out_c - n0 : NR;
  const int nv = (width + VW - 1) / VW, last_n = width - (nv - 1) * VW;
  const float *w = a->packed + (size_t)(n0 / NR) * NR * ((size_t)k + 1);
  const size_t lda = (size_t)k, ldc = (size_t)a->out_c;
  for (size_t p = p0; p < p1; p += GEMM_MR) {
    const int m = p1 - p < GEMM_MR ? (int)(p1 - p) : GEMM_MR;
    const float *in = input + (p - p0) * lda;
    float *out = a->output + p * ldc + n0;
    const float *res = a->residual ? a->residual + p * ldc + n0 : NULL;
    switch (m) {
      CONV1X1_CASES
    }
  }
}

/* One pixel (the FC layers on pooled features): weight-streaming bound, so
 * GEMV_PANELS full panels go at once, as that many memory streams and
 * independent FMA chains. Each output still gets the same FMA chain as in
 * conv1x1_tile. Returns the first channel not done. */
static int conv1x1_gemv(const mnv3_conv_args *a, const float *in, size_t p,
                        const vepilogue *e) {
  const int k = a->in_c;
  const size_t panel_floats = (size_t)NR * ((size_t)k + 1);
  int n0 = a->oc_begin;
  for (; n0 + GEMV_PANELS * NR <= a->oc_end; n0 += GEMV_PANELS * NR) {
    const float *w = a->packed + (size_t)(n0 / NR) * panel_floats;
    vf acc[GEMV_PANELS][2];
#pragma GCC unroll 8
    for (int q = 0; q < GEMV_PANELS; q++) {
      acc[q][0] = vload(w + q * panel_floats);
      acc[q][1] = vload(w + q * panel_floats + VW);
    }
    for (int kk = 0; kk < k; kk++) {
      const vf x = vset1(in[kk]);
      const float *wk = w + (size_t)(kk + 1) * NR;
#pragma GCC unroll 8
      for (int q = 0; q < GEMV_PANELS; q++) {
        acc[q][0] = vfma(x, vload(wk + q * panel_floats), acc[q][0]);
        acc[q][1] = vfma(x, vload(wk + q * panel_floats + VW), acc[q][1]);
      }
    }
    float *out = a->output + p * (size_t)a->out_c + n0;
    const float *res = a->residual ? a->residual + p * (size_t)a->out_c + n0 : NULL;
#pragma GCC unroll 16
    for (int j = 0; j < 2 * GEMV_PANELS; j++) {
      vf v = vpre_clamp(acc[j / 2][j % 2], e);
      if (res)
        v = vadd(v, vload(res + j * VW));
      vstore(out + j * VW, vactivate(v, e));
    }
  }
  return n0;
}

/* Rows [p0, p1) of the input with the SE gate applied, into dst: this
   ISA's vmulc, so the result is the unfused multiply's to the bit. */
static void conv1x1_gate_rows(const mnv3_conv_args *a, size_t p0, size_t p1, float *dst) {
  ISA_SUFFIX(mnv3_f32_vmulc)(a->input + p0 * (size_t)a->in_c, a->in_gate, (int)(p1 - p0),
                             a->in_c, dst, a->gate_lo, a->gate_hi);
}

/* Gated rows of one block: the L1 input block below, and at least a tile. */
#define GATED_FLOATS                                                           \
  (CONV1X1_L1_INPUT / 4 > GEMM_MR * MNV3_GATED_MAX_IN_C ? CONV1X1_L1_INPUT / 4  \
                                                      : GEMM_MR * MNV3_GATED_MAX_IN_C)

static void conv1x1_run(const mnv3_conv_args *a, int row_begin, int row_end) {
  const vepilogue e = vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi);
  const size_t p0 = (size_t)row_begin * a->out_w, p1 = (size_t)row_end * a->out_w;
  const size_t lda = (size_t)a->in_c;
  float gated[GATED_FLOATS];
  if (p1 - p0 == 1) {
    const float *in = a->input + p0 * lda;
    if (a->in_gate) {
      conv1x1_gate_rows(a, p0, p1, gated);
      in = gated;
    }
    for (int n0 = conv1x1_gemv(a, in, p0, &e); n0 < a->oc_end; n0 += NR)
      conv1x1_panel(a, in, p0, p1, n0, &e);
    return;
  }
  /* Blocks of pixels whose inputs stay in L1 while every panel passes
     over them: big layers then read their input from memory once, and the
     weights (at most a few hundred KB) come from L2. An input that fits in
     L2 whole (and, gated, in the gated buffer) is one block: each panel
     then passes over all the pixels while it is in L1/L2, so the weights,
     cold at every inference, come from L3 once instead of once per block.
     A gated block is gated once, into L1, for all the panels. */
  size_t block = CONV1X1_L1_INPUT / (sizeof(float) * lda) / GEMM_MR * GEMM_MR;
  if (block < GEMM_MR)
    block = GEMM_MR;
  if ((p1 - p0) * lda * sizeof(float) <= CONV1X1_L2_INPUT &&
      (!a->in_gate || (p1 - p0) * lda <= GATED_FLOATS))
    block = p1 - p0;
  for (size_t b0 = p0; b0 < p1; b0 += block) {
    const size_t b1 = p1 - b0 < block ? p1 : b0 + block;
    const float *in = a->input + b0 * lda;
    if (a->in_gate) {
      conv1x1_gate_rows(a, b0, b1, gated);
      in = gated;
    }
    for (int n0 = a->oc_begin; n0 < a->oc_end; n0 += NR)
      conv1x1_panel(a, in, b0, b1, n0, &e);
  }
}

const mnv3_conv_kernel ISA_SUFFIX(mnv3_f32_conv1x1) = {
    "f32_conv1x1__" ISA_STR, conv1x1_packed_size, conv1x1_pack, conv1x1_run, NR};
