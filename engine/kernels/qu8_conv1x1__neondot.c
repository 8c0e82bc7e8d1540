/* 8-bit 1x1 convolution for AArch64 NEON with the dot product (ARMv8.2
 * dotprod): sdot adds 4 products of int8 pairs into each int32 lane,
 * exactly. There is no uint8 x int8 dot without i8mm, so the step reads
 * each input as int8 x - 128 (x ^ 0x80) and the correction is
 * (128 - z) sum w: sum (x - z) w = sum (x - 128) w + (128 - z) sum w.
 *
 * Weights of a block: per step of 8 input channels, per group of 4 of
 * them, the 8 output channels' 4 weights (channels 0-3 in one vector, 4-7
 * in the next), as sdot's lane form takes them.
 *
 * A layer whose weights do not fit int8 (a released uint8 model's q - zero
 * point reaches 255) has no sdot form: it runs the plain NEON kernel,
 * packed for it behind a header that says so. */
#include "kernels_isa.h"
#include "qu8_epilogue_neon.h"

#define W_TYPE int8_t
#define W_OFFSET(j, k) ((k) / 4 * 4 * OC_BLOCK + (j) * 4 + (k) % 4)
#define CORRECTION(z) (128 - (z))

static inline __attribute__((always_inline)) void
gemm_step(const int mr, int32x4_t acc[][2], const uint8x8_t x[], const int8_t *w) {
  const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16);
  const int8x16_t w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
#pragma GCC unroll 4
  for (int r = 0; r < mr; r++) {
    const int8x8_t xs = vreinterpret_s8_u8(veor_u8(x[r], vdup_n_u8(0x80)));
    acc[r][0] = vdotq_lane_s32(acc[r][0], w0, xs, 0);
    acc[r][1] = vdotq_lane_s32(acc[r][1], w1, xs, 0);
    acc[r][0] = vdotq_lane_s32(acc[r][0], w2, xs, 1);
    acc[r][1] = vdotq_lane_s32(acc[r][1], w3, xs, 1);
  }
}

#include "qu8_conv1x1_neon.inc.h"

#define HEADER 16 /* bytes: the flag, the packing after it 16-byte aligned */

static size_t dot_packed_size(int out_c, int in_c, int kernel) {
  const size_t dot = packed_size(out_c, in_c, kernel);
  const size_t plain = mnv3_qu8_conv1x1__neonfma.packed_size(out_c, in_c, kernel);
  return HEADER + (dot > plain ? dot : plain);
}

static void dot_pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                     int out_c, int in_c, int kernel, void *dst) {
  int32_t wide = 0;
  for (size_t i = 0; i < (size_t)out_c * in_c; i++)
    wide |= weight[i] < INT8_MIN || weight[i] > INT8_MAX;
  memcpy(dst, &wide, sizeof wide);
  (wide ? mnv3_qu8_conv1x1__neonfma.pack : pack)(weight, scale, bias, in_zero, out_c, in_c,
                                                 kernel, (char *)dst + HEADER);
}

static void dot_run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  int32_t wide;
  memcpy(&wide, a->packed, sizeof wide);
  mnv3_qconv_args body = *a;
  body.packed = (const char *)a->packed + HEADER;
  (wide ? mnv3_qu8_conv1x1__neonfma.run : run)(&body, row_begin, row_end);
}

const mnv3_qconv_kernel mnv3_qu8_conv1x1__neondot = {.name = "qu8_conv1x1__neondot",
                                                     .packed_size = dot_packed_size,
                                                     .pack = dot_pack,
                                                     .run = dot_run,
                                                     .channel_block = OC_BLOCK};
