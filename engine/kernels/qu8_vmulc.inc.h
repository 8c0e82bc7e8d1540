/* Template: squeeze-and-excitation gating of uint8 tensors (kernels.h:
 * mnv3_qu8_vmulc_fn) for one ISA: the reference's float operations in its
 * order, VW channels a vector (the channel counts of MobileNetV3 leave 8
 * over 16: a partial vector, not a scalar loop), each channel's multiplier
 * computed once per call. Include after one simd_<isa>.h. */
#define CHUNK 1024 /* channels whose multipliers stay on the stack */

void ISA_SUFFIX(mnv3_qu8_vmulc)(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                                int channels, uint8_t *out, const mnv3_qu8_requant *rq) {
  float m[CHUNK];
  const vi in_zero = vset1_i(gate->in_zero);
  const vf lo = vset1(rq->post_lo), hi = vset1(rq->post_hi);
  /* Locals: a uint8 store may alias *rq, which would be read again after
     each one. */
  const float inv_scale = rq->out_inv_scale;
  const int out_zero = rq->out_zero;
  for (int c0 = 0; c0 < channels; c0 += CHUNK) {
    const int nc = channels - c0 < CHUNK ? channels - c0 : CHUNK;
    for (int c = 0; c < nc; c++)
      m[c] = gate->in_scale *
             ((float)(gate->gate[c0 + c] - gate->gate_zero) * gate->gate_scale);
    for (int p = 0; p < pixels; p++) {
      const size_t row = (size_t)p * channels + c0;
      for (int c = 0; c < nc; c += VW) {
        const int n = nc - c < VW ? nc - c : VW; /* the last vector's lanes */
        const vi x = vsub_i(vload_u8_n(in + row + c, n), in_zero);
        const vf v = vmin(vmax(vmul(vcvt_f(x), n == VW ? vload(m + c) : vload_n(m + c, n)), lo),
                          hi);
        vstore_u8(out + row + c, v, inv_scale, out_zero, n);
      }
    }
  }
}
