/* AVX2 + FMA3 vector vocabulary for the kernel templates (*.inc.h).
 * Included only by files compiled with -mavx2 -mfma. */
#ifndef MNV3_SIMD_AVX2_H
#define MNV3_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define VW 8 /* floats per vector */
#define ISA_SUFFIX(name) name##__avx2
#define ISA_STR "avx2"
typedef __m256 vf;

/* 8 all-ones then 8 zeros: a window at 8 - n masks the first n lanes. */
static const int32_t vmask_window[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                         0,  0,  0,  0,  0,  0,  0,  0};
static inline __m256i vmask(int n) {
  return _mm256_loadu_si256((const __m256i *)(vmask_window + 8 - n));
}

static inline vf vzero(void) { return _mm256_setzero_ps(); }
static inline vf vset1(float x) { return _mm256_set1_ps(x); }
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vload_n(const float *p, int n) { return _mm256_maskload_ps(p, vmask(n)); }
static inline void vstore_n(float *p, vf v, int n) { _mm256_maskstore_ps(p, vmask(n), v); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }

#endif
