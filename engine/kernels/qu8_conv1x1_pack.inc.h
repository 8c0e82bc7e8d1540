/* The packing of the 8-bit 1x1 convolutions that go block by block of
 * OC_BLOCK output channels (AVX2, NEON), plain C. The including file
 * defines OC_BLOCK, K_STEP (input channels a step), and:
 *   W_TYPE           the packed weights' type
 *   W_OFFSET(j, k)   where the weight of output channel j of a block and
 *                    input channel k goes in the block's weights
 *   CORRECTION(z)    the factor of sum w that folds in the input zero
 *                    point z
 *
 * Packed: scale[ocp], bias[ocp] (float), correction[ocp] (int32), then per
 * block of OC_BLOCK output channels its kp W_TYPE weights per channel (zero
 * past in_c and out_c), ocp and kp the channels rounded up to the block and
 * the step. */
#include <stdint.h>
#include <string.h>

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static size_t packed_size(int out_c, int in_c, int kernel) {
  (void)kernel;
  const size_t ocp = round_up((size_t)out_c, OC_BLOCK), kp = round_up((size_t)in_c, K_STEP);
  return 12 * ocp + ocp * kp * sizeof(W_TYPE);
}

static void pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                 int out_c, int in_c, int kernel, void *dst) {
  const size_t ocp = round_up((size_t)out_c, OC_BLOCK), kp = round_up((size_t)in_c, K_STEP);
  memset(dst, 0, packed_size(out_c, in_c, kernel));
  float *s = dst, *b = s + ocp;
  int32_t *corr = (int32_t *)(b + ocp);
  W_TYPE *w = (W_TYPE *)(corr + ocp);
  for (int o = 0; o < out_c; o++) {
    s[o] = scale[o];
    b[o] = bias[o];
    int32_t sum = 0;
    for (int i = 0; i < in_c; i++) {
      const int16_t v = weight[(size_t)o * in_c + i];
      sum += v;
      w[(size_t)o / OC_BLOCK * OC_BLOCK * kp + W_OFFSET((size_t)o % OC_BLOCK, (size_t)i)] =
          (W_TYPE)v;
    }
    corr[o] = CORRECTION(in_zero) * sum;
  }
}
