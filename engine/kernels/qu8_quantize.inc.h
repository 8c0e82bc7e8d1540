/* Template: the network input to uint8 for the stem (kernels.h:
 * mnv3_qu8_quantize_fn): the clamp to [lo, hi] and the quantization's own
 * as one (mnv3_quantize_bounds; a NaN still becomes lo), the reference's
 * bits. Include after one simd_<isa>.h. */
void ISA_SUFFIX(mnv3_qu8_quantize)(const float *in, size_t n, float lo, float hi,
                                   float inv_scale, int zero, uint8_t *out) {
  float qlo, qhi;
  mnv3_quantize_bounds(lo, hi, inv_scale, zero, &qlo, &qhi);
  size_t i = 0;
  for (; i + VW <= n; i += VW)
    vstore_bytes(out + i, vquantize_u8_within(vload(in + i), inv_scale, zero, qlo, qhi), VW);
  if (i < n)
    vstore_bytes(out + i,
                 vquantize_u8_within(vload_n(in + i, (int)(n - i)), inv_scale, zero, qlo, qhi),
                 (int)(n - i));
}
