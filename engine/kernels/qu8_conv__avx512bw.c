/* 8-bit dense convolution (the stem) for AVX-512 F and BW, whose missing
 * vpdpbusd is emulated exactly as in qu8_conv__avx2.c. */
#include "simd_avx512bw.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) {
  const __m512i x_even = _mm512_and_si512(x, _mm512_set1_epi16(0x00ff));
  const __m512i x_odd = _mm512_srli_epi16(x, 8);
  const __m512i w_even = _mm512_srai_epi16(_mm512_slli_epi16(w, 8), 8);
  const __m512i w_odd = _mm512_srai_epi16(w, 8);
  return _mm512_add_epi32(acc, _mm512_add_epi32(_mm512_madd_epi16(x_even, w_even),
                                                _mm512_madd_epi16(x_odd, w_odd)));
}

#define CONVDOT_NAME mnv3_qu8_conv__avx512bw
#define CONVDOT_STR "avx512bw"
#include "qu8_conv_dot.inc.h"
