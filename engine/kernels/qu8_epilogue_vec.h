/* The epilogue of the 8-bit convolutions (kernels.h: mnv3_qconv_finish) on
 * one vector of output channels of any width, with the same float
 * operations in the same order, so that kernels built on it are exact to
 * the reference. Include after one simd_<isa>.h. */
#ifndef MNV3_QU8_EPILOGUE_VEC_H
#define MNV3_QU8_EPILOGUE_VEC_H

#include "simd_epilogue.h"

/* What the epilogue reads of a layer, made once per run; with Q_BY_LAYER
   its loops test no flag of the layer per vector (12 % of the 1x1 time of
   MobileNetV3-Large, measured). */
typedef struct q_layer {
  uint8_t *output;
  float *output_f32;
  const uint8_t *residual;
  const float *residual_f32;
  float residual_scale, out_inv_scale;
  int residual_zero, out_zero;
  vepilogue e;
} q_layer;

static inline q_layer q_layer_of(const mnv3_qconv_args *a) {
  return (q_layer){a->output,
                   a->output_f32,
                   a->residual,
                   a->residual_f32,
                   a->residual_scale,
                   a->out_inv_scale,
                   a->residual_zero,
                   a->out_zero,
                   vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi)};
}

/* What a specialised q_store knows of its layer at compile time. */
enum {
  Q_ANY = -1,     /* read from the layer */
  Q_UINT8 = 0,    /* uint8 output, no residual */
  Q_UINT8_ADD = 1 /* uint8 output and residual */
};

/* The value, before quantization, of n (1..VW) output channels of output
   element `index` (its first channel) from sum, the int32 accumulators as
   floats (exact); scale and bias are read as whole vectors (packings pad
   them). act and form are constants where the caller makes them so
   (Q_BY_LAYER), runtime values (k->e.act, Q_ANY) otherwise. */
static inline __attribute__((always_inline)) vf
q_value(const q_layer *k, vf sum, const float *scale, const float *bias, size_t index, int n,
        const mnv3_act act, const int form) {
  vf v = vadd(vmul(sum, vload(scale)), vload(bias));
  v = vpre_clamp(v, &k->e);
  if (form == Q_UINT8_ADD || (form == Q_ANY && k->residual)) {
    const vi r = vsub_i(vload_u8_n(k->residual + index, n), vset1_i(k->residual_zero));
    v = vadd(v, vmul(vcvt_f(r), vset1(k->residual_scale)));
  } else if (form == Q_ANY && k->residual_f32) {
    v = vadd(v, n == VW ? vload(k->residual_f32 + index) : vload_n(k->residual_f32 + index, n));
  }
  return vactivate_as(v, &k->e, act);
}

/* q_value, stored: quantized to uint8, or as floats. */
static inline __attribute__((always_inline)) void
q_store(const q_layer *k, vf sum, const float *scale, const float *bias, size_t index, int n,
        const mnv3_act act, const int form) {
  const vf v = q_value(k, sum, scale, bias, index, n, act, form);
  if (form == Q_ANY && k->output_f32) {
    if (n == VW)
      vstore(k->output_f32 + index, v);
    else
      vstore_n(k->output_f32 + index, v, n);
  } else {
    vstore_u8(k->output + index, v, k->out_inv_scale, k->out_zero, n);
  }
}

/* Up to Q_BATCH vectors of the same channels (scale, bias, n) at output
   elements index + j * stride, from sums[j]: every load (the layer's
   fields, scale, bias, residuals) before the first store, since a uint8
   store may alias any of them and would make the compiler read them
   again for each vector. */
#define Q_BATCH 8
static inline __attribute__((always_inline)) void
q_store_batch(const q_layer *k, const int count, const vf *sums, const float *scale,
              const float *bias, size_t index, size_t stride, int n, const mnv3_act act,
              const int form) {
  if (form == Q_ANY) {
    for (int j = 0; j < count; j++)
      q_store(k, sums[j], scale, bias, index + (size_t)j * stride, n, act, form);
    return;
  }
  vpacked_u8 bytes[Q_BATCH];
  const float inv_scale = k->out_inv_scale;
  const int zero = k->out_zero;
  uint8_t *const out = k->output;
#pragma GCC unroll 8
  for (int j = 0; j < count; j++)
    bytes[j] = vquantize_u8(q_value(k, sums[j], scale, bias, index + (size_t)j * stride, n,
                                    act, form),
                            inv_scale, zero);
#pragma GCC unroll 8
  for (int j = 0; j < count; j++)
    vstore_bytes(out + index + (size_t)j * stride, bytes[j], n);
}

/* Runs STATEMENT, which names `act` and `form`, with both constants for
   the layers MobileNetV3 is made of (uint8 out; no residual and NONE,
   ReLU or hard-swish, or a residual and no activation): their loops then
   have no branch on the layer and no call (the sigmoid's) to lose their
   registers to. The others run with both read from the layer. */
#define Q_BY_LAYER(k, STATEMENT)                                               \
  do {                                                                         \
    const mnv3_act act_ = (k)->e.act;                                          \
    if ((k)->output_f32 || (k)->residual_f32)                                  \
      Q_WITH(act_, Q_ANY, STATEMENT);                                          \
    else if ((k)->residual && act_ == MNV3_ACT_NONE)                           \
      Q_WITH(MNV3_ACT_NONE, Q_UINT8_ADD, STATEMENT);                           \
    else if ((k)->residual)                                                    \
      Q_WITH(act_, Q_UINT8_ADD, STATEMENT);                                    \
    else if (act_ == MNV3_ACT_NONE)                                            \
      Q_WITH(MNV3_ACT_NONE, Q_UINT8, STATEMENT);                               \
    else if (act_ == MNV3_ACT_RELU)                                            \
      Q_WITH(MNV3_ACT_RELU, Q_UINT8, STATEMENT);                               \
    else if (act_ == MNV3_ACT_HSWISH)                                          \
      Q_WITH(MNV3_ACT_HSWISH, Q_UINT8, STATEMENT);                             \
    else                                                                       \
      Q_WITH(act_, Q_UINT8, STATEMENT);                                        \
  } while (0)
#define Q_WITH(ACT, FORM, STATEMENT)                                           \
  do {                                                                         \
    const mnv3_act act = (ACT);                                                \
    const int form = (FORM);                                                   \
    STATEMENT;                                                                 \
  } while (0)

#endif
