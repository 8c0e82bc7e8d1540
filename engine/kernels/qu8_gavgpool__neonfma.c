/* 8-bit global average pool (squeeze-and-excitation) for AArch64 NEON,
 * exact: 8 channels at a time summed over the pixels in uint32 (uaddw),
 * then the reference's float steps. */
#include "kernels_isa.h"
#include "qu8_epilogue_neon.h"

void mnv3_qu8_gavgpool__neonfma(const uint8_t *in, int pixels, int channels, int c_begin,
                                int c_end, uint8_t *out, int in_zero, float multiplier,
                                const mnv3_qu8_requant *rq) {
  const int32x4_t offset = vdupq_n_s32(pixels * in_zero);
  const vf m = vset1(multiplier);
  for (int c = c_begin; c < c_end; c += 8) {
    const int n = c_end - c < 8 ? c_end - c : 8;
    uint32x4_t lo = vdupq_n_u32(0), hi = lo;
    for (int p = 0; p < pixels; p++) {
      const uint16x8_t x = vmovl_u8(q_load_u8x8(in + (size_t)p * channels + c, n));
      lo = vaddw_u16(lo, vget_low_u16(x));
      hi = vaddw_high_u16(hi, x);
    }
    q_requant4(out + c, vmul(vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(lo), offset)), m),
               rq, n < 4 ? n : 4);
    if (n > 4)
      q_requant4(out + c + 4,
                 vmul(vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(hi), offset)), m), rq,
                 n - 4);
  }
}
