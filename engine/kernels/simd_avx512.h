/* AVX-512F vector vocabulary for the kernel templates (*.inc.h). Included
 * only by files compiled with -mavx512f -mavx2 -mfma. */
#ifndef MNV3_SIMD_AVX512_H
#define MNV3_SIMD_AVX512_H

#include <immintrin.h>

#define VW 16 /* floats per vector */
#define ISA_SUFFIX(name) name##__avx512
#define ISA_STR "avx512"
typedef __m512 vf;

static inline vf vzero(void) { return _mm512_setzero_ps(); }
static inline vf vset1(float x) { return _mm512_set1_ps(x); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* n in 1..VW lanes; the others read as zero and are not written. */
static inline vf vload_n(const float *p, int n) {
  return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
static inline void vstore_n(float *p, vf v, int n) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }

#endif
