/* 8-bit 1x1 convolution for AArch64 NEON with the dot product (ARMv8.2
 * dotprod): sdot adds 4 products of int8 pairs into each int32 lane,
 * exactly. There is no uint8 x int8 dot without i8mm, so the step reads
 * each input as int8 x - 128 (x ^ 0x80) and the correction is
 * (128 - z) sum w: sum (x - z) w = sum (x - 128) w + (128 - z) sum w.
 *
 * Weights of a block: per step of 8 input channels, per group of 4 of
 * them, the 8 output channels' 4 weights (channels 0-3 in one vector, 4-7
 * in the next), as sdot's lane form takes them. */
#include "kernels_isa.h"
#include "qu8_epilogue_neon.h"

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

const mnv3_qconv_kernel mnv3_qu8_conv1x1__neondot = {.name = "qu8_conv1x1__neondot",
                                                     .packed_size = packed_size,
                                                     .pack = pack,
                                                     .run = run,
                                                     .channel_block = OC_BLOCK};
