/* The epilogue of the 8-bit convolutions (kernels.h: mnv3_qconv_finish) on
 * one vector of output channels of any width, with the same float
 * operations in the same order, so that kernels built on it are exact to
 * the reference. Include after one simd_<isa>.h. */
#ifndef MNV3_QU8_EPILOGUE_VEC_H
#define MNV3_QU8_EPILOGUE_VEC_H

#include "simd_epilogue.h"

/* What the epilogue reads of a layer, made once per run. With Q_BY_LAYER
   no flag of it is tested per vector (0.88 of Large's 1x1 time, measured;
   copying it into each tile's epilogue cost more than it saved). */
typedef struct q_layer {
  const mnv3_qconv_args *args; /* for the sigmoid */
  uint8_t *output;
  float *output_f32;
  const uint8_t *residual;
  const float *residual_f32;
  float residual_scale, pre_lo, pre_hi, post_lo, post_hi;
  float act_slope, out_inv_scale, out_zero;
  int residual_zero, pre_clamp, post_clamp;
  mnv3_act act;
} q_layer;

static inline q_layer q_layer_of(const mnv3_qconv_args *a) {
  return (q_layer){a,
                   a->output,
                   a->output_f32,
                   a->residual,
                   a->residual_f32,
                   a->residual_scale,
                   a->pre_lo,
                   a->pre_hi,
                   a->post_lo,
                   a->post_hi,
                   a->act_slope,
                   a->out_inv_scale,
                   (float)a->out_zero,
                   a->residual_zero,
                   a->pre_lo > -INFINITY || a->pre_hi < INFINITY,
                   a->post_lo > -INFINITY || a->post_hi < INFINITY,
                   a->act};
}

/* What a specialised q_store knows of its layer at compile time. */
enum {
  Q_ANY = -1,     /* read from the layer */
  Q_UINT8 = 0,    /* uint8 output, no residual, no clamps */
  Q_UINT8_ADD = 1 /* uint8 output and residual, no clamps */
};

/* n (1..VW) output channels of output element `index` (its first channel)
   from sum, the int32 accumulators as floats (exact); scale and bias are
   read as whole vectors (packings pad them). act and form are constants
   where the caller makes them so (Q_BY_LAYER), runtime values (k->act,
   Q_ANY) otherwise. */
static inline __attribute__((always_inline)) void
q_store(const q_layer *k, vf sum, const float *scale, const float *bias, size_t index, int n,
        const mnv3_act act, const int form) {
  vf t = vfma(sum, vload(scale), vload(bias));
  if (form == Q_ANY && k->pre_clamp)
    t = vmin(vmax(t, vset1(k->pre_lo)), vset1(k->pre_hi));
  if (form == Q_UINT8_ADD || (form == Q_ANY && k->residual)) {
    const vi r = vsub_i(n == VW ? vload_u8_n(k->residual + index, VW)
                                : vload_u8_n(k->residual + index, n),
                        vset1_i(k->residual_zero));
    t = vfma(vcvt_f(r), vset1(k->residual_scale), t);
  } else if (form == Q_ANY && k->residual_f32) {
    t = vfma(n == VW ? vload(k->residual_f32 + index) : vload_n(k->residual_f32 + index, n),
             vset1(k->residual_scale), t);
  }
  t = vqactivate_as(t, k->args, k->act_slope, k->out_inv_scale, k->out_zero, act);
  if (form == Q_ANY && k->post_clamp)
    t = vmin(vmax(t, vset1(k->post_lo)), vset1(k->post_hi));
  if (form == Q_ANY && k->output_f32) {
    if (n == VW)
      vstore(k->output_f32 + index, t);
    else
      vstore_n(k->output_f32 + index, t, n);
  } else {
    vstore_rounded_u8(k->output + index, t, n);
  }
}

/* Runs STATEMENT, which names `act` and `form`, with both constants for
   the layers MobileNetV3 is made of (uint8 out, no clamps; no residual and
   NONE, ReLU or hard-swish, or a residual and no activation): their loops
   then have no branch on the layer and no call (the sigmoid's) to lose
   their registers to. The others run with both read from the layer. */
#define Q_BY_LAYER(k, STATEMENT)                                               \
  do {                                                                         \
    const mnv3_act act_ = (k)->act;                                          \
    if ((k)->output_f32 || (k)->residual_f32 || (k)->pre_clamp || (k)->post_clamp) {                                \
      const mnv3_act act = act_;                                               \
      const int form = Q_ANY;                                                  \
      STATEMENT;                                                               \
    } else if ((k)->residual) {                                                \
      const int form = Q_UINT8_ADD;                                            \
      if (act_ == MNV3_ACT_NONE) {                                             \
        const mnv3_act act = MNV3_ACT_NONE;                                    \
        STATEMENT;                                                             \
      } else {                                                                 \
        const mnv3_act act = act_;                                             \
        STATEMENT;                                                             \
      }                                                                        \
    } else {                                                                   \
      const int form = Q_UINT8;                                                \
      if (act_ == MNV3_ACT_NONE) {                                             \
        const mnv3_act act = MNV3_ACT_NONE;                                    \
        STATEMENT;                                                             \
      } else if (act_ == MNV3_ACT_RELU) {                                      \
        const mnv3_act act = MNV3_ACT_RELU;                                    \
        STATEMENT;                                                             \
      } else if (act_ == MNV3_ACT_HSWISH) {                                    \
        const mnv3_act act = MNV3_ACT_HSWISH;                                  \
        STATEMENT;                                                             \
      } else {                                                                 \
        const mnv3_act act = act_;                                             \
        STATEMENT;                                                             \
      }                                                                        \
    }                                                                          \
  } while (0)

#endif
