/* Template: the network input to uint8 for the stem (kernels.h:
 * mnv3_qu8_quantize_fn, and mnv3_qu8_quantize_planes_fn from NCHW): the
 * clamp to [lo, hi] and the quantization's own as one
 * (mnv3_quantize_bounds; a NaN still becomes lo), the reference's bits.
 * Include after one simd_<isa>.h. */
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

void ISA_SUFFIX(mnv3_qu8_quantize_planes)(const float *in, size_t plane, size_t pixels,
                                          float lo, float hi, float inv_scale, int zero,
                                          uint8_t *out) {
  float qlo, qhi;
  mnv3_quantize_bounds(lo, hi, inv_scale, zero, &qlo, &qhi);
  size_t i = 0;
  for (; i + VW <= pixels; i += VW)
    vstore_bytes_rgb(out + 3 * i,
                     vquantize_u8_within(vload(in + i), inv_scale, zero, qlo, qhi),
                     vquantize_u8_within(vload(in + plane + i), inv_scale, zero, qlo, qhi),
                     vquantize_u8_within(vload(in + 2 * plane + i), inv_scale, zero, qlo, qhi));
  for (; i < pixels; i++)
    for (int c = 0; c < 3; c++)
      out[3 * i + c] = mnv3_quantize_input_u8(in[c * plane + i], lo, hi, inv_scale, zero);
}
