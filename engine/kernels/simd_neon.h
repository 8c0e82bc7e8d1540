/* AArch64 NEON vector vocabulary for the kernel templates (*.inc.h). */
#ifndef MNV3_SIMD_NEON_H
#define MNV3_SIMD_NEON_H

#include <arm_neon.h>
#include <string.h>

#define VW 4 /* floats per vector */
#define ISA_SUFFIX(name) name##__neon
#define ISA_STR "neon"
typedef float32x4_t vf;

static inline vf vzero(void) { return vdupq_n_f32(0.0f); }
static inline vf vset1(float x) { return vdupq_n_f32(x); }
static inline vf vload(const float *p) { return vld1q_f32(p); }
static inline void vstore(float *p, vf v) { vst1q_f32(p, v); }
/* NEON has no masked memory access: go through a small buffer. */
static inline vf vload_n(const float *p, int n) {
  float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  memcpy(buf, p, (size_t)n * sizeof *p);
  return vld1q_f32(buf);
}
static inline void vstore_n(float *p, vf v, int n) {
  float buf[4];
  vst1q_f32(buf, v);
  memcpy(p, buf, (size_t)n * sizeof *p);
}
static inline vf vfma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf vadd(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vmul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vdiv(vf a, vf b) { return vdivq_f32(a, b); }
/* The "nm" forms return the number when one operand is NaN, like fminf. */
static inline vf vmin(vf a, vf b) { return vminnmq_f32(a, b); }
static inline vf vmax(vf a, vf b) { return vmaxnmq_f32(a, b); }

#endif
