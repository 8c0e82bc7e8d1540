/* Template: global average pool over a channel range, for one ISA. Like the
 * reference, each channel is summed in double, pixels in order, so the
 * result is exact to it; channels go in chunks that the compiler
 * vectorises (meson builds with -O3). A chunk spans whole pixel rows of
 * every MobileNetV3 layer (8 KB of sums, in L1), so the tensor is read
 * once, front to back: 64-channel chunks read it in strided passes that
 * defeated the prefetcher (LR-ASPP's 32x64x960 pools 2-3.5x slower). */
#include "kernels.h"

#define GAVGPOOL_CHUNK 1024

void ISA_SUFFIX(mnv3_f32_gavgpool)(const float *in, int pixels, int channels, int c_begin,
                         int c_end, float *out, float post_lo, float post_hi) {
  double sums[GAVGPOOL_CHUNK];
  for (int c0 = c_begin; c0 < c_end; c0 += GAVGPOOL_CHUNK) {
    const int n = c_end - c0 < GAVGPOOL_CHUNK ? c_end - c0 : GAVGPOOL_CHUNK;
    for (int c = 0; c < n; c++)
      sums[c] = 0.0;
    for (int p = 0; p < pixels; p++) {
      const float *row = in + (size_t)p * channels + c0;
      for (int c = 0; c < n; c++)
        sums[c] += row[c];
    }
    for (int c = 0; c < n; c++)
      out[c0 + c] = fminf(fmaxf((float)(sums[c] / pixels), post_lo), post_hi);
  }
}
