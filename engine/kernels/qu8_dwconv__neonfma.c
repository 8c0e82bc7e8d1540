/* 8-bit depthwise convolution, any kernel, stride and dilation, for AArch64
 * NEON, exact: x - z widened to int16 (usubl; |x - z| <= 255), times int16
 * weights (|w| <= 255) widened into int32 (smlal), 8 channels per step. Taps outside the
 * input are skipped, as in the reference. The dot-product table runs it
 * too: sdot sums 4 products into one lane, which suits a depthwise sum
 * only after transposing 4 taps into each channel's lanes.
 *
 * Packed: scale[cp], bias[cp] (float), then per group of 8 channels, per
 * tap, the 8 channels' int16 weights (zero past out_c). */
#include "kernels_isa.h"
#include "qu8_epilogue_neon.h"

#define CV 8 /* channels per step */

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static size_t packed_size(int out_c, int in_c, int kernel) {
  (void)in_c;
  const size_t cp = round_up((size_t)out_c, CV);
  return 8 * cp + cp * kernel * kernel * sizeof(int16_t);
}

static void pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                 int out_c, int in_c, int kernel, void *dst) {
  (void)in_zero; /* subtracted from every input */
  const size_t cp = round_up((size_t)out_c, CV), taps = (size_t)kernel * kernel;
  memset(dst, 0, packed_size(out_c, in_c, kernel));
  float *s = dst, *b = s + cp;
  int16_t *w = (int16_t *)(b + cp);
  memcpy(s, scale, (size_t)out_c * sizeof *s);
  memcpy(b, bias, (size_t)out_c * sizeof *b);
  for (int c = 0; c < out_c; c++)
    for (size_t t = 0; t < taps; t++)
      w[((size_t)c / CV * taps + t) * CV + c % CV] = weight[(size_t)c * taps + t];
}

static void run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const int C = a->out_c, K = a->kernel, S = a->stride, D = a->dilation;
  const size_t cp = round_up((size_t)C, CV), taps = (size_t)K * K;
  const float *scale = a->packed, *bias = scale + cp;
  const int16_t *weights = (const int16_t *)(bias + cp);
  const uint8x8_t zero = vdup_n_u8((uint8_t)a->in_zero);
  const vepilogue e = q_epilogue(a);
  for (int oy = row_begin; oy < row_end; oy++)
    for (int ox = 0; ox < a->out_w; ox++) {
      const int iy0 = oy * S - a->pad_top, ix0 = ox * S - a->pad_left;
      const size_t pixel = (size_t)oy * a->out_w + ox;
      for (int c = a->oc_begin; c < a->oc_end; c += CV) {
        const int n = C - c < CV ? C - c : CV;
        const int16_t *w = weights + (size_t)c / CV * taps * CV;
        int32x4_t lo = vdupq_n_s32(0), hi = lo;
        for (int ky = 0; ky < K; ky++) {
          const int iy = iy0 + ky * D;
          if (iy < 0 || iy >= a->in_h)
            continue;
          const uint8_t *row = a->input + (size_t)iy * a->in_w * C + c;
          for (int kx = 0; kx < K; kx++) {
            const int ix = ix0 + kx * D;
            if (ix < 0 || ix >= a->in_w)
              continue;
            const int16x8_t x =
                vreinterpretq_s16_u16(vsubl_u8(q_load_u8x8(row + (size_t)ix * C, n), zero));
            const int16x8_t wt = vld1q_s16(w + ((size_t)ky * K + kx) * CV);
            lo = vmlal_s16(lo, vget_low_s16(x), vget_low_s16(wt));
            hi = vmlal_high_s16(hi, x, wt);
          }
        }
        q_finish8(a, lo, hi, scale + c, bias + c, pixel * C + c, n, &e);
      }
    }
}

const mnv3_qconv_kernel mnv3_qu8_dwconv__neonfma = {.name = "qu8_dwconv__neonfma",
                                                    .packed_size = packed_size,
                                                    .pack = pack,
                                                    .run = run,
                                                    .channel_block = CV};
