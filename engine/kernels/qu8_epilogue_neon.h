/* The epilogue of the 8-bit convolutions (kernels.h: mnv3_qconv_finish) on
 * eight output channels at once for AArch64 NEON, with the same float
 * operations in the same order, so that the NEON 8-bit kernels (plain and
 * dot product alike) are exact to the reference; and the requantization
 * of the other 8-bit NEON kernels. */
#ifndef MNV3_QU8_EPILOGUE_NEON_H
#define MNV3_QU8_EPILOGUE_NEON_H

#include "simd_neonfma.h"
#include "simd_epilogue.h"

#include <string.h>

/* n (1..8) bytes at p, the rest 0. */
static inline uint8x8_t q_load_u8x8(const uint8_t *p, int n) {
  if (n == 8)
    return vld1_u8(p);
  uint8_t tmp[8] = {0};
  memcpy(tmp, p, (size_t)n);
  return vld1_u8(tmp);
}

/* 8 bytes to two vectors of int32. */
static inline void q_widen8(uint8x8_t b, int32x4_t *lo, int32x4_t *hi) {
  const uint16x8_t h = vmovl_u8(b);
  *lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h)));
  *hi = vreinterpretq_s32_u32(vmovl_high_u16(h));
}

/* The requantization of pooling and gating on n (1..4) lanes:
   fminf(fmaxf(v, post_lo), post_hi), then mnv3_quantize_u8. */
static inline void q_requant4(uint8_t *p, vf v, const mnv3_qu8_requant *rq, int n) {
  vstore_u8(p, vmin(vmax(v, vset1(rq->post_lo)), vset1(rq->post_hi)), rq->out_inv_scale,
            rq->out_zero, n);
}

/* Output channels [oc, oc + n), n in 1..4, of output element `index` (its
   first channel), from their int32 accumulators; `residual` holds their
   uint8 residuals. */
static inline void q_finish4(const mnv3_qconv_args *a, int32x4_t acc, const float *scale,
                             const float *bias, size_t index, int n, int32x4_t residual,
                             const vepilogue *e) {
  vf v = vmul(vcvtq_f32_s32(acc), n == 4 ? vload(scale) : vload_n(scale, n));
  v = vadd(v, n == 4 ? vload(bias) : vload_n(bias, n));
  v = vpre_clamp(v, e);
  if (a->residual)
    v = vadd(v, vmul(vcvtq_f32_s32(vsubq_s32(residual, vdupq_n_s32(a->residual_zero))),
                     vset1(a->residual_scale)));
  else if (a->residual_f32)
    v = vadd(v, n == 4 ? vload(a->residual_f32 + index) : vload_n(a->residual_f32 + index, n));
  v = vactivate(v, e);
  if (!a->output_f32)
    vstore_u8(a->output + index, v, a->out_inv_scale, a->out_zero, n);
  else if (n == 4)
    vstore(a->output_f32 + index, v);
  else
    vstore_n(a->output_f32 + index, v, n);
}

/* The same for n in 1..8 channels (lo: the accumulators of the first 4). */
static inline void q_finish8(const mnv3_qconv_args *a, int32x4_t lo, int32x4_t hi,
                             const float *scale, const float *bias, size_t index, int n,
                             const vepilogue *e) {
  int32x4_t r_lo = vdupq_n_s32(0), r_hi = r_lo;
  if (a->residual)
    q_widen8(q_load_u8x8(a->residual + index, n), &r_lo, &r_hi);
  q_finish4(a, lo, scale, bias, index, n < 4 ? n : 4, r_lo, e);
  if (n > 4)
    q_finish4(a, hi, scale + 4, bias + 4, index + 4, n - 4, r_hi, e);
}

static inline vepilogue q_epilogue(const mnv3_qconv_args *a) {
  return vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi);
}

#endif
