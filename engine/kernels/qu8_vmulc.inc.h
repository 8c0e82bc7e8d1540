/* Template: squeeze-and-excitation gating of uint8 tensors (kernels.h:
 * mnv3_qu8_vmulc_fn) for one ISA: the reference's float operations in its
 * order, VW elements a vector, each channel's multiplier computed once per
 * call. The tensor goes as one flat run of vectors, with the channels'
 * multipliers repeated until their pattern spans whole vectors
 * (MobileNetV3's channel counts, multiples of 8 but not always of 16, take
 * two pixels): no partial vector per pixel. Channel counts whose pattern
 * is longer than PERIOD_MAX go pixel by pixel, in chunks of channels. Include
 * after one simd_<isa>.h. */
#define PERIOD_MAX 2048

static inline __attribute__((always_inline)) float
gate_multiplier(const mnv3_qu8_gate *gate, int c) {
  return gate->in_scale * ((float)(gate->gate[c] - gate->gate_zero) * gate->gate_scale);
}

void ISA_SUFFIX(mnv3_qu8_vmulc)(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                                int channels, uint8_t *out, const mnv3_qu8_requant *rq) {
  float m[PERIOD_MAX];
  const vi in_zero = vset1_i(gate->in_zero);
  /* Locals: a uint8 store may alias *rq, which would be read again after
     each one. The post clamp goes with the quantization's. */
  const float inv_scale = rq->out_inv_scale;
  const int out_zero = rq->out_zero;
  float qlo, qhi;
  mnv3_quantize_bounds(rq->post_lo, rq->post_hi, inv_scale, out_zero, &qlo, &qhi);
#define GATED_STORE(p, v, n)                                                   \
  vstore_bytes(p, vquantize_u8_within(v, inv_scale, out_zero, qlo, qhi), n)
  size_t period = (size_t)channels;
  while (period % VW)
    period += (size_t)channels;
  if (period <= PERIOD_MAX) {
    for (int c = 0; c < channels; c++)
      m[c] = gate_multiplier(gate, c);
    for (size_t i = (size_t)channels; i < period; i++)
      m[i] = m[i - (size_t)channels];
    const size_t total = (size_t)pixels * channels;
    size_t i = 0, at = 0; /* at: i's place in the pattern, whole vectors */
    for (; i + VW <= total; i += VW) {
      const vi x = vsub_i(vload_u8_n(in + i, VW), in_zero);
      GATED_STORE(out + i, vmul(vcvt_f(x), vload(m + at)), VW);
      at = at + VW == period ? 0 : at + VW;
    }
    if (i < total) {
      const int n = (int)(total - i);
      const vi x = vsub_i(vload_u8_n(in + i, n), in_zero);
      GATED_STORE(out + i, vmul(vcvt_f(x), vload(m + at)), n);
    }
    return;
  }
  for (int c0 = 0; c0 < channels; c0 += PERIOD_MAX) {
    const int nc = channels - c0 < PERIOD_MAX ? channels - c0 : PERIOD_MAX;
    for (int c = 0; c < nc; c++)
      m[c] = gate_multiplier(gate, c0 + c);
    for (int p = 0; p < pixels; p++) {
      const size_t row = (size_t)p * channels + c0;
      for (int c = 0; c < nc; c += VW) {
        const int n = nc - c < VW ? nc - c : VW; /* the last vector's lanes */
        const vi x = vsub_i(vload_u8_n(in + row + c, n), in_zero);
        GATED_STORE(out + row + c, vmul(vcvt_f(x), n == VW ? vload(m + c) : vload_n(m + c, n)),
                    n);
      }
    }
  }
#undef GATED_STORE
}
