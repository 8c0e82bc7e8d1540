/* Template: the network input to uint8 for the stem (kernels.h:
 * mnv3_qu8_quantize_fn): the context's clamp, as compares (vmax returns its
 * second operand, lo, for a NaN), then the quantization every 8-bit kernel
 * makes of its output (vstore_u8: the reference's mnv3_quantize_u8 to the
 * bit). Include after one simd_<isa>.h. */
void ISA_SUFFIX(mnv3_qu8_quantize)(const float *in, size_t n, float lo, float hi,
                                   float inv_scale, int zero, uint8_t *out) {
  const vf vlo = vset1(lo), vhi = vset1(hi);
  size_t i = 0;
  for (; i + VW <= n; i += VW)
    vstore_u8(out + i, vmin(vmax(vload(in + i), vlo), vhi), inv_scale, zero, VW);
  if (i < n)
    vstore_u8(out + i, vmin(vmax(vload_n(in + i, (int)(n - i)), vlo), vhi), inv_scale, zero,
              (int)(n - i));
}
