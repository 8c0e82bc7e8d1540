/* Template: multiply by a per-channel gate (squeeze-and-excitation), for one
 * ISA: out = clamp(in * gate[c]), the reference's operations. */
#include "simd_epilogue.h"

void ISA_SUFFIX(mnv3_f32_vmulc)(const float *in, const float *gate, int pixels, int channels,
                      float *out, float post_lo, float post_hi) {
  const vf lo = vset1(post_lo), hi = vset1(post_hi);
  for (int p = 0; p < pixels; p++) {
    const float *x = in + (size_t)p * channels;
    float *y = out + (size_t)p * channels;
    int c = 0;
    for (; c + VW <= channels; c += VW)
      vstore(y + c, vmin(vmax(vmul(vload(x + c), vload(gate + c)), lo), hi));
    if (c < channels) {
      const int n = channels - c;
      vstore_n(y + c, vmin(vmax(vmul(vload_n(x + c, n), vload_n(gate + c, n)), lo), hi), n);
    }
  }
}
