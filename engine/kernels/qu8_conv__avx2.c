/* 8-bit dense convolution (the stem) for AVX2, whose vpdpbusd is emulated
 * exactly: the even and the odd bytes of each lane in 16 bits, summed in
 * pairs by vpmaddwd (255 x -128 twice fits int32; vpmaddubsw's int16
 * pairs would saturate). */
#include "simd_avx2.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) {
  const __m256i x_even = _mm256_and_si256(x, _mm256_set1_epi16(0x00ff));
  const __m256i x_odd = _mm256_srli_epi16(x, 8);
  const __m256i w_even = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8);
  const __m256i w_odd = _mm256_srai_epi16(w, 8);
  return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(x_even, w_even),
                                                _mm256_madd_epi16(x_odd, w_odd)));
}

#define CONVDOT_NAME mnv3_qu8_conv__avx2
#define CONVDOT_STR "avx2"
#include "qu8_conv_dot.inc.h"
