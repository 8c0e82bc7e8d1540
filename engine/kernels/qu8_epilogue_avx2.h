/* The epilogue of the 8-bit convolutions (kernels.h: mnv3_qconv_finish) on
 * eight output channels at once, with the same float operations in the same
 * order, so that the AVX2 8-bit kernels are exact to the reference. */
#ifndef MNV3_QU8_EPILOGUE_AVX2_H
#define MNV3_QU8_EPILOGUE_AVX2_H

#include "simd_avx2.h"
#include "simd_epilogue.h"

#include <string.h>

/* n (1..8) bytes at p, zero-extended to 32-bit lanes. */
static inline __m256i q_load_u8x8(const uint8_t *p, int n) {
  if (n == 8)
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
  uint8_t tmp[8] = {0};
  memcpy(tmp, p, (size_t)n);
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)tmp));
}

/* Output channels [oc, oc + n) of output element `index` (its first
   channel), from their int32 accumulators. */
static inline void q_finish8(const mnv3_qconv_args *a, __m256i acc, const float *scale,
                             const float *bias, size_t index, int n, const vepilogue *e) {
  vf v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), n == 8 ? vload(scale) : vload_n(scale, n));
  v = _mm256_add_ps(v, n == 8 ? vload(bias) : vload_n(bias, n));
  v = vpre_clamp(v, e);
  if (a->residual) {
    const __m256i r = _mm256_sub_epi32(q_load_u8x8(a->residual + index, n),
                                       _mm256_set1_epi32(a->residual_zero));
    v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_cvtepi32_ps(r), vset1(a->residual_scale)));
  } else if (a->residual_f32) {
    v = _mm256_add_ps(v, n == 8 ? vload(a->residual_f32 + index)
                                : vload_n(a->residual_f32 + index, n));
  }
  v = vactivate(v, e);
  if (a->output_f32) {
    if (n == 8)
      vstore(a->output_f32 + index, v);
    else
      vstore_n(a->output_f32 + index, v, n);
    return;
  }
  vf t = _mm256_mul_ps(v, vset1(a->out_inv_scale));
  t = _mm256_max_ps(t, vset1(-512.0f));
  t = _mm256_min_ps(t, vset1(512.0f));
  const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(t), _mm256_set1_epi32(a->out_zero));
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i b = _mm_packus_epi16(w, w);
  if (n == 8) {
    _mm_storel_epi64((__m128i *)(a->output + index), b);
  } else {
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)tmp, b);
    memcpy(a->output + index, tmp, (size_t)n);
  }
}

static inline vepilogue q_epilogue(const mnv3_qconv_args *a) {
  return vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi);
}

#endif
