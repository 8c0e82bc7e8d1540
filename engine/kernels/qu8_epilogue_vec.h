/* The epilogue of the 8-bit convolutions (kernels.h: mnv3_qconv_finish) on
 * one vector of output channels of any width, with the same float
 * operations in the same order, so that kernels built on it are exact to
 * the reference. Include after one simd_<isa>.h. */
#ifndef MNV3_QU8_EPILOGUE_VEC_H
#define MNV3_QU8_EPILOGUE_VEC_H

#include "simd_epilogue.h"

/* n (1..VW) output channels of output element `index` (its first channel)
   from sum, the int32 accumulators as floats (exact); scale and bias are
   read as whole vectors (packings pad them). act is e->act, as a constant
   where the caller can make it one (Q_BY_ACTIVATION). */
static inline __attribute__((always_inline)) void
q_store(const mnv3_qconv_args *a, vf sum, const float *scale, const float *bias,
        size_t index, int n, const vepilogue *e, const mnv3_act act) {
  vf v = vadd(vmul(sum, vload(scale)), vload(bias));
  v = vpre_clamp(v, e);
  if (a->residual) {
    const vi r = vsub_i(vload_u8_n(a->residual + index, n), vset1_i(a->residual_zero));
    v = vadd(v, vmul(vcvt_f(r), vset1(a->residual_scale)));
  } else if (a->residual_f32) {
    v = vadd(v, n == VW ? vload(a->residual_f32 + index) : vload_n(a->residual_f32 + index, n));
  }
  v = vactivate_as(v, e, act);
  if (a->output_f32) {
    if (n == VW)
      vstore(a->output_f32 + index, v);
    else
      vstore_n(a->output_f32 + index, v, n);
  } else {
    vstore_u8(a->output + index, v, a->out_inv_scale, a->out_zero, n);
  }
}

/* Runs STATEMENT, which names `act`, with act a constant for the common
   activations: their loops then have no call (the sigmoid's) to lose
   their registers to. */
#define Q_BY_ACTIVATION(e, STATEMENT)                                          \
  switch ((e)->act) {                                                          \
  case MNV3_ACT_NONE: {                                                        \
    const mnv3_act act = MNV3_ACT_NONE;                                        \
    STATEMENT;                                                                 \
  } break;                                                                     \
  case MNV3_ACT_RELU: {                                                        \
    const mnv3_act act = MNV3_ACT_RELU;                                        \
    STATEMENT;                                                                 \
  } break;                                                                     \
  case MNV3_ACT_HSWISH: {                                                      \
    const mnv3_act act = MNV3_ACT_HSWISH;                                      \
    STATEMENT;                                                                 \
  } break;                                                                     \
  default: {                                                                   \
    const mnv3_act act = (e)->act;                                             \
    STATEMENT;                                                                 \
  } break;                                                                     \
  }

#endif
