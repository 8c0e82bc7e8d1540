/* Template: dense convolution (the stem: any kernel, stride, dilation and
 * input channels), for one ISA. Include after one simd_<isa>.h with CONV_PX
 * (4 or 8) defined: output pixels in flight in the interior.
 *
 * Output channels are vectorised: weights are packed bias[ocp], then
 * w[ky][kx][ci][ocp] with ocp the output channels rounded up to whole
 * vectors; each input value is broadcast. Taps outside the input are
 * skipped and the sum runs ky, kx, ci ascending from the bias, in every path,
 * as in the reference. */
#include "simd_epilogue.h"

#include <string.h>

static inline size_t conv_padded(int c) { return ((size_t)c + VW - 1) / VW * VW; }

static size_t conv_packed_size(int out_c, int in_c, int kernel) {
  return conv_padded(out_c) * (1 + (size_t)kernel * kernel * in_c);
}

static void conv_pack(const float *weight, const float *bias, int out_c, int in_c,
                      int kernel, float *dst) {
  const size_t ocp = conv_padded(out_c);
  memset(dst, 0, conv_packed_size(out_c, in_c, kernel) * sizeof *dst);
  memcpy(dst, bias, (size_t)out_c * sizeof *dst);
  for (int o = 0; o < out_c; o++)
    for (int i = 0; i < in_c; i++)
      for (int t = 0; t < kernel * kernel; t++)
        dst[ocp * (1 + (size_t)t * in_c + i) + o] =
            weight[((size_t)o * in_c + i) * kernel * kernel + t];
}

static inline __attribute__((always_inline)) void
conv_finish(const mnv3_conv_args *a, vf v, size_t index, int n, const vepilogue *e) {
  v = vpre_clamp(v, e);
  if (a->residual)
    v = vadd(v, n == VW ? vload(a->residual + index) : vload_n(a->residual + index, n));
  v = vactivate(v, e);
  if (n == VW)
    vstore(a->output + index, v);
  else
    vstore_n(a->output + index, v, n);
}

/* One output pixel with taps clipped to the input. */
static inline __attribute__((always_inline)) void
conv_pixel(const mnv3_conv_args *a, int oy, int ox, int c, int n, const int K,
           const int S, const int D, const int CI, const vepilogue *e) {
  const size_t ocp = conv_padded(a->out_c);
  const float *w = a->packed + ocp + c;
  const int iy0 = oy * S - a->pad_top, ix0 = ox * S - a->pad_left;
  vf acc = vload(a->packed + c);
  for (int ky = 0; ky < K; ky++) {
    const int iy = iy0 + ky * D;
    if (iy < 0 || iy >= a->in_h)
      continue;
    for (int kx = 0; kx < K; kx++) {
      const int ix = ix0 + kx * D;
      if (ix < 0 || ix >= a->in_w)
        continue;
      const float *in = a->input + ((size_t)iy * a->in_w + ix) * CI;
      const float *wk = w + (size_t)(ky * K + kx) * CI * ocp;
      for (int i = 0; i < CI; i++)
        acc = vfma(vset1(in[i]), vload(wk + (size_t)i * ocp), acc);
    }
  }
  conv_finish(a, acc, ((size_t)oy * a->out_w + ox) * a->out_c + c, n, e);
}

/* np (<= CONV_PX) interior pixels from ox on. */
static inline __attribute__((always_inline)) void
conv_block(const mnv3_conv_args *a, int oy, int ox, int c, int n, const int np, const int K,
           const int S, const int D, const int CI, const vepilogue *e) {
  const size_t ocp = conv_padded(a->out_c);
  const float *w = a->packed + ocp + c;
  const float *in = a->input +
                    ((size_t)(oy * S - a->pad_top) * a->in_w + (ox * S - a->pad_left)) * CI;
  vf acc[CONV_PX];
  const vf b = vload(a->packed + c);
#pragma GCC unroll 16
  for (int p = 0; p < np; p++)
    acc[p] = b;
#pragma GCC unroll 3
  for (int ky = 0; ky < K; ky++)
#pragma GCC unroll 3
    for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 4
      for (int i = 0; i < CI; i++) {
        const vf wv = vload(w + ((size_t)(ky * K + kx) * CI + i) * ocp);
        const float *x = in + ((size_t)ky * D * a->in_w + (size_t)kx * D) * CI + i;
#pragma GCC unroll 16
        for (int p = 0; p < np; p++)
          acc[p] = vfma(vset1(x[(size_t)p * S * CI]), wv, acc[p]);
      }
  const size_t index = ((size_t)oy * a->out_w + ox) * a->out_c + c;
#pragma GCC unroll 16
  for (int p = 0; p < np; p++)
    conv_finish(a, acc[p], index + (size_t)p * a->out_c, n, e);
}

/* The interior's last np < CONV_PX pixels as one shorter block: one pixel
   alone is a single chain of dependent FMAs, latency-bound. */
#define CONV_TAIL_CASE(m)                                                      \
  case m:                                                                      \
    conv_block(a, oy, ox, c, n, m, K, S, D, CI, e);                            \
    break;
#if CONV_PX != 4 && CONV_PX != 8
#error "CONV_PX must be 4 or 8"
#endif
static inline __attribute__((always_inline)) void
conv_tail(const mnv3_conv_args *a, int oy, int ox, int c, int n, int np, const int K,
          const int S, const int D, const int CI, const vepilogue *e) {
  switch (np) {
    CONV_TAIL_CASE(1)
    CONV_TAIL_CASE(2)
    CONV_TAIL_CASE(3)
#if CONV_PX == 8
    CONV_TAIL_CASE(4)
    CONV_TAIL_CASE(5)
    CONV_TAIL_CASE(6)
    CONV_TAIL_CASE(7)
#endif
  }
}

static inline __attribute__((always_inline)) void
conv_rows(const mnv3_conv_args *a, int row_begin, int row_end, const int K,
          const int S, const int D, const int CI) {
  const vepilogue e = vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi);
  const int span = (K - 1) * D;
  for (int oy = row_begin; oy < row_end; oy++) {
    const int iy0 = oy * S - a->pad_top;
    int ox_lo = (a->pad_left + S - 1) / S;
    int ox_hi = a->in_w - 1 - span + a->pad_left >= 0
                    ? (a->in_w - 1 - span + a->pad_left) / S + 1
                    : 0;
    if (ox_hi > a->out_w)
      ox_hi = a->out_w;
    if (ox_lo > ox_hi || iy0 < 0 || iy0 + span >= a->in_h)
      ox_lo = ox_hi = a->out_w;
    for (int c = a->oc_begin; c < a->oc_end; c += VW) {
      const int n = a->out_c - c < VW ? a->out_c - c : VW;
      int ox = 0;
      for (; ox < ox_lo; ox++)
        conv_pixel(a, oy, ox, c, n, K, S, D, CI, &e);
      for (; ox + CONV_PX <= ox_hi; ox += CONV_PX)
        conv_block(a, oy, ox, c, n, CONV_PX, K, S, D, CI, &e);
      if (ox < ox_hi) {
        conv_tail(a, oy, ox, c, n, ox_hi - ox, K, S, D, CI, &e);
        ox = ox_hi;
      }
      for (; ox < a->out_w; ox++)
        conv_pixel(a, oy, ox, c, n, K, S, D, CI, &e);
    }
  }
}

/* The MobileNetV3 stem (3x3, stride 2, RGB) gets an unrolled instance. */
static __attribute__((noinline)) void conv_3x3s2_rgb(const mnv3_conv_args *a, int b, int e) {
  conv_rows(a, b, e, 3, 2, 1, 3);
}
static __attribute__((noinline)) void conv_generic(const mnv3_conv_args *a, int b, int e) {
  conv_rows(a, b, e, a->kernel, a->stride, a->dilation, a->in_c);
}

static void conv_run(const mnv3_conv_args *a, int row_begin, int row_end) {
  if (a->kernel == 3 && a->stride == 2 && a->dilation == 1 && a->in_c == 3)
    conv_3x3s2_rgb(a, row_begin, row_end);
  else
    conv_generic(a, row_begin, row_end);
}

const mnv3_conv_kernel ISA_SUFFIX(mnv3_f32_conv) = {
    "f32_conv__" ISA_STR, conv_packed_size, conv_pack, conv_run, VW};
