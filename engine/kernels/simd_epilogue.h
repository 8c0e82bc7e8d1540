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
  return e->post_clamp ? vmin(vmax(v, e->vpost_lo), e->vpost_hi) : v;
}

static inline vf vactivate(vf v, const vepilogue *e) { return vactivate_as(v, e, e->act); }

#endif
