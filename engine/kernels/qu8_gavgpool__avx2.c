/* Global average pooling of uint8 tensors for AVX2: int32 sums eight
 * channels a vector, then the reference's float operations. */
#include "kernels_isa.h"
#include "simd_avx2.h"

void mnv3_qu8_gavgpool__avx2(const uint8_t *in, int pixels, int channels, int c_begin,
                             int c_end, uint8_t *out, int in_zero, float multiplier,
                             const mnv3_qu8_requant *rq) {
  const vf lo = vset1(rq->post_lo), hi = vset1(rq->post_hi);
  const __m256i offset = _mm256_set1_epi32(pixels * in_zero);
  int c = c_begin;
  for (; c + VW <= c_end; c += VW) {
    __m256i sum = _mm256_setzero_si256();
    for (int p = 0; p < pixels; p++)
      sum = _mm256_add_epi32(sum, _mm256_cvtepu8_epi32(_mm_loadl_epi64(
                                      (const __m128i *)(in + (size_t)p * channels + c))));
    vf v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(sum, offset)), vset1(multiplier));
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    vstore_u8(out + c, v, rq->out_inv_scale, rq->out_zero, VW);
  }
  if (c < c_end)
    mnv3_qu8_gavgpool__scalar(in, pixels, channels, c, c_end, out, in_zero, multiplier, rq);
}
