/* 8-bit dense convolution (the stem) for AArch64 NEON, with the 4-way
 * uint8 x int8 dot product emulated exactly (sdot takes int8 x int8 only):
 * products in 16 bits (255 x -128 fits), summed in pairs twice. The neondot
 * table runs this one too. */
#include "simd_neonfma.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) {
  const uint8x16_t xb = vreinterpretq_u8_s32(x);
  const int8x16_t wb = vreinterpretq_s8_s32(w);
  const int16x8_t lo = vmulq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(xb))),
                                 vmovl_s8(vget_low_s8(wb)));
  const int16x8_t hi = vmulq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(xb))),
                                 vmovl_s8(vget_high_s8(wb)));
  return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
}

#define CONVDOT_NAME mnv3_qu8_conv__neonfma
#define CONVDOT_STR "neonfma"
#include "qu8_conv_dot.inc.h"
