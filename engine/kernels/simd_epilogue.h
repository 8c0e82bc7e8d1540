/* The fused epilogue of the reference kernels (scalar.c: pre clamp, + residual,
 * mnv3_activate, post clamp), vectorised with the same operations in the
 * same order, so that a SIMD kernel's epilogue is exact to the reference's.
 * Include after one simd_<isa>.h. */
#ifndef MNV3_SIMD_EPILOGUE_H
#define MNV3_SIMD_EPILOGUE_H

#include "kernels.h"

typedef struct vepilogue {
  mnv3_act act;
  float pre_lo, pre_hi, post_lo, post_hi; /* for the per-lane sigmoid */
  vf vpre_lo, vpre_hi, vpost_lo, vpost_hi;
  /* Most layers of float models clamp to (-inf, inf), which changes
     nothing but a NaN (to -inf): skipped, as in the reference, they leave
     the FMA ports to FMAs. */
  int pre_clamp, post_clamp;
} vepilogue;

static inline vepilogue vepilogue_make(mnv3_act act, float pre_lo, float pre_hi,
                                       float post_lo, float post_hi) {
  vepilogue e = {act, pre_lo, pre_hi, post_lo, post_hi,
                 vset1(pre_lo), vset1(pre_hi), vset1(post_lo), vset1(post_hi),
                 pre_lo > -INFINITY || pre_hi < INFINITY,
                 post_lo > -INFINITY || post_hi < INFINITY};
  return e;
}

/* Sigmoid (one small layer of LR-ASPP) goes lane by lane through the
 * reference: exactness matters more than speed there. */
static inline vf vsigmoid_lanes(vf v, const vepilogue *e) {
  float lanes[VW];
  vstore(lanes, v);
  for (int i = 0; i < VW; i++)
    lanes[i] = mnv3_activate(lanes[i], MNV3_ACT_SIGMOID, -INFINITY, INFINITY,
                             e->post_lo, e->post_hi);
  return vload(lanes);
}

/* conv + bias is clamped to the pre range before the residual is added. */
static inline vf vpre_clamp(vf v, const vepilogue *e) {
  return e->pre_clamp ? vmin(vmax(v, e->vpre_lo), e->vpre_hi) : v;
}

/* The post clamp, after the activation. */
static inline vf vpost_clamp(vf v, const vepilogue *e) {
  return e->post_clamp ? vmin(vmax(v, e->vpost_lo), e->vpost_hi) : v;
}

/* The activation act (e->act, or that known where this is inlined: a
   loop without the sigmoid's call keeps its constants in registers) and
   the post clamp, after the residual. */
static inline __attribute__((always_inline)) vf vactivate_as(vf v, const vepilogue *e,
                                                              const mnv3_act act) {
  const vf zero = vzero(), three = vset1(3.0f), six = vset1(6.0f);
  if (act == MNV3_ACT_SIGMOID)
    return vsigmoid_lanes(v, e);
  switch (act) {
  case MNV3_ACT_NONE:
  case MNV3_ACT_SIGMOID:
    break;
  case MNV3_ACT_RELU:
    v = vmax(v, zero);
    break;
  case MNV3_ACT_HSWISH:
    v = vmul(vmul(v, vmin(vmax(vadd(v, three), zero), six)), vset1(1.0f / 6.0f));
    break;
  case MNV3_ACT_HSIGMOID:
    v = vdiv(vmin(vmax(vadd(v, three), zero), six), six);
    break;
  }
  return vpost_clamp(v, e);
}

static inline vf vactivate(vf v, const vepilogue *e) { return vactivate_as(v, e, e->act); }

/* The activation of the 8-bit convolutions in output units
   (mnv3_qconv_activate), with a's act_slope, out_inv_scale and out_zero
   passed in: copies the caller keeps, so that they stay in registers. */
static inline __attribute__((always_inline)) vf
vqactivate_as(vf t, const mnv3_qconv_args *a, float slope, float inv_scale, float zero,
              const mnv3_act act) {
  const vf g = act == MNV3_ACT_HSWISH || act == MNV3_ACT_HSIGMOID
                   ? vmin(vmax(vfma(t, vset1(slope), vset1(0.5f)), vzero()), vset1(1.0f))
                   : t;
  switch (act) {
  case MNV3_ACT_NONE:
    return t;
  case MNV3_ACT_RELU:
    return vmax(t, vset1(zero));
  case MNV3_ACT_HSWISH:
    return vfma(t, g, vset1(zero));
  case MNV3_ACT_HSIGMOID:
    return vfma(g, vset1(inv_scale), vset1(zero));
  case MNV3_ACT_SIGMOID:
    break;
  }
  float lanes[VW];
  vstore(lanes, t);
  for (int i = 0; i < VW; i++)
    lanes[i] = mnv3_qconv_activate(a, lanes[i]);
  return vload(lanes);
}

#endif
