/* Template: global average pool over a channel range, for one ISA. Like the
 * reference, each channel is summed in double, pixels in order, so the
 * result is exact to it; channels go in chunks that the compiler
 * vectorises (meson builds with -O3). */
#include "kernels.h"

#define GAVGPOOL_CHUNK 64

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
