/* 8-bit 1x1 convolution for plain AArch64 NEON: inputs zero-extended to 16
 * bits and weights (|w| <= 255) packed in 16, each weight vector multiplied
 * by one input lane and widened into int32 (smlal), so nothing saturates.
 * The correction is -z sum w (the step reads the inputs as they are).
 *
 * Weights of a block: per input channel, the 8 output channels'. */
#include "kernels_isa.h"
#include "qu8_epilogue_neon.h"

#define W_TYPE int16_t
#define W_OFFSET(j, k) ((k) * OC_BLOCK + (j))
#define CORRECTION(z) (-(z))

/* One input lane of every pixel times the weights of channel k. */
#define MAC(k)                                                                 \
  do {                                                                         \
    for (int r = 0; r < mr; r++) {                                             \
      acc[r][0] = vmlal_laneq_s16(acc[r][0], vget_low_s16(wk[k]), xs[r], k);   \
      acc[r][1] = vmlal_high_laneq_s16(acc[r][1], wk[k], xs[r], k);            \
    }                                                                          \
  } while (0)

static inline __attribute__((always_inline)) void
gemm_step(const int mr, int32x4_t acc[][2], const uint8x8_t x[], const int16_t *w) {
  int16x8_t wk[8], xs[4];
#pragma GCC unroll 8
  for (int k = 0; k < 8; k++)
    wk[k] = vld1q_s16(w + 8 * k);
#pragma GCC unroll 4
  for (int r = 0; r < mr; r++)
    xs[r] = vreinterpretq_s16_u16(vmovl_u8(x[r]));
  /* The lane of smlal is an immediate: no loop over k. */
  MAC(0);
  MAC(1);
  MAC(2);
  MAC(3);
  MAC(4);
  MAC(5);
  MAC(6);
  MAC(7);
}

#include "qu8_conv1x1_neon.inc.h"

const mnv3_qconv_kernel mnv3_qu8_conv1x1__neonfma = {.name = "qu8_conv1x1__neonfma",
                                                     .packed_size = packed_size,
                                                     .pack = pack,
                                                     .run = run,
                                                     .channel_block = OC_BLOCK};
