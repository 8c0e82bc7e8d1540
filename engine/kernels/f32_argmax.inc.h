/* Template: argmax over each pixel's class scores (kernels.h,
 * mnv3_argmax_fn), for one ISA: a pixel's scores are held in a few vectors
 * (NaN lanes and lanes past the last class read as -inf), their largest
 * value is found by a reduction, and the answer is the first lane equal to
 * it: the first maximum, as the reference's running comparison finds it. */
#include "kernels.h"

#include <math.h>

/* Class counts up to this many vectors are kept in registers (VOC's 21 and
   Cityscapes' 19 in two AVX-512 vectors); more go to the reference. */
#define ARGMAX_VECTORS 8

void ISA_SUFFIX(mnv3_f32_argmax)(const float *scores, int pixels, int channels,
                                 uint8_t *out) {
  const int vectors = (channels + VW - 1) / VW;
  if (vectors > ARGMAX_VECTORS) {
    mnv3_f32_argmax__scalar(scores, pixels, channels, out);
    return;
  }
  for (int p = 0; p < pixels; p++) {
    const float *s = scores + (size_t)p * channels;
    if (isnan(s[0])) { /* nothing compares greater than a NaN first score */
      out[p] = 0;
      continue;
    }
    vf v[ARGMAX_VECTORS];
    vf top = vset1(-INFINITY);
    for (int k = 0; k < vectors; k++) {
      const int n = channels - k * VW < VW ? channels - k * VW : VW;
      v[k] = vnan_to(vload_fill(s + k * VW, n, -INFINITY), -INFINITY);
      top = vmax(top, v[k]);
    }
    const float best = vhmax(top);
    for (int k = 0; k < vectors; k++) {
      const unsigned hits = veq_bits(v[k], best);
      if (hits) {
        out[p] = (uint8_t)(k * VW + __builtin_ctz(hits));
        break;
      }
    }
  }
}
