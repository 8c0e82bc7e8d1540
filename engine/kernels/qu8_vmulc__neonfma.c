/* 8-bit squeeze-and-excitation gating for AArch64 NEON, exact: 8 channels
 * at a time, each channel's multiplier and each product with the
 * reference's float steps in its order. */
#include "kernels_isa.h"
#include "qu8_epilogue_neon.h"

/* x - zero as float, for n (1..8) bytes at p. */
static inline void centered8(const uint8_t *p, int n, int zero, vf *lo, vf *hi) {
  int32x4_t i_lo, i_hi;
  q_widen8(q_load_u8x8(p, n), &i_lo, &i_hi);
  *lo = vcvtq_f32_s32(vsubq_s32(i_lo, vdupq_n_s32(zero)));
  *hi = vcvtq_f32_s32(vsubq_s32(i_hi, vdupq_n_s32(zero)));
}

void mnv3_qu8_vmulc__neonfma(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                             int channels, uint8_t *out, const mnv3_qu8_requant *rq) {
  const vf in_scale = vset1(gate->in_scale), gate_scale = vset1(gate->gate_scale);
  for (int p = 0; p < pixels; p++)
    for (int c = 0; c < channels; c += 8) {
      const int n = channels - c < 8 ? channels - c : 8;
      const size_t i = (size_t)p * channels + c;
      vf g_lo, g_hi, x_lo, x_hi;
      centered8(gate->gate + c, n, gate->gate_zero, &g_lo, &g_hi);
      centered8(in + i, n, gate->in_zero, &x_lo, &x_hi);
      q_requant4(out + i, vmul(x_lo, vmul(in_scale, vmul(g_lo, gate_scale))), rq,
                 n < 4 ? n : 4);
      if (n > 4)
        q_requant4(out + i + 4, vmul(x_hi, vmul(in_scale, vmul(g_hi, gate_scale))), rq, n - 4);
    }
}
