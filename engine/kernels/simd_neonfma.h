/* AArch64 NEON vector vocabulary for the kernel templates (*.inc.h). */
#ifndef MNV3_SIMD_NEONFMA_H
#define MNV3_SIMD_NEONFMA_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define VW 4 /* floats per vector */
#define VBYTES 16 /* bytes per vector */
#define ISA_SUFFIX(name) name##__neonfma
#define ISA_STR "neonfma"
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
/* The lanes quantized as mnv3_quantize_u8 does (bytes 0..3 of the result). */
typedef uint8x8_t vpacked_u8;
/* ... of v clamped first to a range whose image under inv_scale is [qlo,
   qhi] (mnv3_quantize_bounds): one clamp for both. */
static inline vpacked_u8 vquantize_u8_within(vf v, float inv_scale, int zero, float qlo,
                                             float qhi) {
  vf t = vmulq_f32(v, vdupq_n_f32(inv_scale));
  t = vminnmq_f32(vmaxnmq_f32(t, vdupq_n_f32(qlo)), vdupq_n_f32(qhi));
  const int32x4_t q = vaddq_s32(vcvtnq_s32_f32(t), vdupq_n_s32(zero));
  return vqmovn_u16(vcombine_u16(vqmovun_s32(q), vqmovun_s32(q)));
}
static inline vpacked_u8 vquantize_u8(vf v, float inv_scale, int zero) {
  return vquantize_u8_within(v, inv_scale, zero, (float)-zero, (float)(255 - zero));
}
/* The first n (1..VW) of them. */
static inline void vstore_bytes(uint8_t *p, vpacked_u8 b, int n) {
  uint8_t tmp[8];
  vst1_u8(tmp, b);
  memcpy(p, tmp, (size_t)n);
}
/* VW pixels of 3 bytes (R, G, B) from one packed vector per channel. */
static inline void vstore_bytes_rgb(uint8_t *dst, vpacked_u8 r, vpacked_u8 g, vpacked_u8 b) {
  const uint8x8x3_t pixels = {{r, g, b}};
  vst3_lane_u8(dst, pixels, 0);
  vst3_lane_u8(dst + 3, pixels, 1);
  vst3_lane_u8(dst + 6, pixels, 2);
  vst3_lane_u8(dst + 9, pixels, 3);
}
static inline void vstore_u8(uint8_t *p, vf v, float inv_scale, int zero, int n) {
  vstore_bytes(p, vquantize_u8(v, inv_scale, zero), n);
}
/* NEON has no store that bypasses the caches: a plain store, no fence. */
static inline void vstream(float *p, vf v) { vst1q_f32(p, v); }
static inline void vstream_fence(void) {}
static inline vf vfma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf vadd(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vsub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vmul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vdiv(vf a, vf b) { return vdivq_f32(a, b); }
/* The "nm" forms return the number when one operand is NaN, like fminf. */
static inline vf vmin(vf a, vf b) { return vminnmq_f32(a, b); }
static inline vf vmax(vf a, vf b) { return vmaxnmq_f32(a, b); }

/* Integer lanes, a byte gather and an interleaving store, for frame preprocessing.
   NEON has no gather: the lanes are loaded one by one. */
typedef int32x4_t vi;
static inline vi vload_i(const int *p) { return vld1q_s32(p); }
static inline vi vset1_i(int x) { return vdupq_n_s32(x); }
static inline vi vmin_i(vi a, vi b) { return vminq_s32(a, b); }
static inline vi vsub_i(vi a, vi b) { return vsubq_s32(a, b); }
/* n (1..VW) bytes at p zero-extended into the lanes (the rest 0). */
static inline vi vload_u8_n(const uint8_t *p, int n) {
  uint8_t tmp[8] = {0};
  memcpy(tmp, p, (size_t)n);
  return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(tmp)))));
}
/* The 4 bytes at base + offset, little endian, per lane. */
static inline vi vgather_u8x4(const uint8_t *base, vi offset) {
  int32_t at[4], word[4];
  vst1q_s32(at, offset);
  for (int i = 0; i < 4; i++)
    memcpy(&word[i], base + at[i], 4);
  return vld1q_s32(word);
}
static inline vf vcvt_f(vi v) { return vcvtq_f32_s32(v); }
/* A byte offset within 4-byte words: the table lookup's selector of that
   byte (its index in the register's 16 bytes; 0x80 is out of the table and
   clears the lane's other three bytes). No window here: the taps are read
   with vgather_u8x4. */
static inline vi vbyte_selector(vi offset) {
  static const int32_t lane[4] = {(int32_t)0x80808000, (int32_t)0x80808004,
                                  (int32_t)0x80808008, (int32_t)0x8080800C};
  return vorrq_s32(vandq_s32(offset, vdupq_n_s32(3)), vld1q_s32(lane));
}
/* The selected byte of each lane, as an int: one table lookup. */
static inline vi vbyte_at(vi word, vi selector) {
  return vreinterpretq_s32_u8(
      vqtbl1q_u8(vreinterpretq_u8_s32(word), vreinterpretq_u8_s32(selector)));
}
/* VW pixels of 3 floats (R, G, B) from one vector per channel. */
static inline void vstore_rgb(float *dst, vf r, vf g, vf b) {
  const float32x4x3_t pixels = {{r, g, b}};
  vst3q_f32(dst, pixels);
}

/* Class scores (argmax): lanes past n read as `fill`, NaN lanes replaced,
   the largest lane, and the lanes equal to x as bits. */
static inline vf vload_fill(const float *p, int n, float fill) {
  float buf[4] = {fill, fill, fill, fill};
  memcpy(buf, p, (size_t)n * sizeof *p);
  return vld1q_f32(buf);
}
static inline vf vnan_to(vf v, float fill) {
  return vbslq_f32(vceqq_f32(v, v), v, vdupq_n_f32(fill));
}
static inline float vhmax(vf v) { return vmaxvq_f32(v); }
static inline unsigned veq_bits(vf v, float x) {
  static const uint32_t lane_bit[4] = {1, 2, 4, 8};
  return vaddvq_u32(vandq_u32(vceqq_f32(v, vdupq_n_f32(x)), vld1q_u32(lane_bit)));
}

#endif
