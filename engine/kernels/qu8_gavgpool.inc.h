/* Template: global average pooling of uint8 tensors (kernels.h:
 * mnv3_qu8_gavgpool_fn) for one ISA: int32 sums VW channels a vector, then
 * the reference's float operations; a partial vector for the channels left
 * over. Include after one simd_<isa>.h. */
void ISA_SUFFIX(mnv3_qu8_gavgpool)(const uint8_t *in, int pixels, int channels, int c_begin,
                                   int c_end, uint8_t *out, int in_zero, float multiplier,
                                   const mnv3_qu8_requant *rq) {
  const vf lo = vset1(rq->post_lo), hi = vset1(rq->post_hi);
  const vi offset = vset1_i(pixels * in_zero);
  for (int c = c_begin; c < c_end; c += VW) {
    const int n = c_end - c < VW ? c_end - c : VW; /* the last vector's lanes */
    vi sum = vset1_i(0);
    for (int p = 0; p < pixels; p++)
      sum = vadd_i(sum, vload_u8_n(in + (size_t)p * channels + c, n));
    const vf v = vmin(vmax(vmul(vcvt_f(vsub_i(sum, offset)), vset1(multiplier)), lo), hi);
    vstore_u8(out + c, v, rq->out_inv_scale, rq->out_zero, n);
  }
}
