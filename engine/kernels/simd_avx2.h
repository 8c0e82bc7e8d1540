/* AVX2 + FMA3 vector vocabulary for the kernel templates (*.inc.h).
 * Included only by files compiled with -mavx2 -mfma. */
#ifndef MNV3_SIMD_AVX2_H
#define MNV3_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define VW 8 /* floats per vector */
#define VBYTES 32 /* bytes per vector */
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
/* A store that bypasses the caches (p 32-byte aligned), and the fence that
   orders such stores before what follows. */
static inline void vstream(float *p, vf v) { _mm256_stream_ps(p, v); }
static inline void vstream_fence(void) { _mm_sfence(); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }

/* VW lanes quantized as mnv3_quantize_u8 does, as bytes (the low 8). */
typedef __m128i vpacked_u8;
/* ... of v clamped first to a range whose image under inv_scale is [qlo,
   qhi] (mnv3_quantize_bounds): one clamp for both. */
static inline vpacked_u8 vquantize_u8_within(vf v, float inv_scale, int zero, float qlo,
                                             float qhi) {
  vf t = _mm256_mul_ps(v, _mm256_set1_ps(inv_scale));
  t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(qlo)), _mm256_set1_ps(qhi));
  const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(t), _mm256_set1_epi32(zero));
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  return _mm_packus_epi16(w, w);
}
static inline vpacked_u8 vquantize_u8(vf v, float inv_scale, int zero) {
  return vquantize_u8_within(v, inv_scale, zero, (float)-zero, (float)(255 - zero));
}
/* The first n (1..VW) of them. */
static inline void vstore_bytes(uint8_t *p, vpacked_u8 b, int n) {
  if (n == VW) {
    _mm_storel_epi64((__m128i *)p, b);
  } else {
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)tmp, b);
    for (int i = 0; i < n; i++)
      p[i] = tmp[i];
  }
}
/* VW pixels of 3 bytes (R, G, B) from one packed vector per channel: R and
   G in one register, each output's bytes from it and from B by byte
   shuffles. */
static inline void vstore_bytes_rgb(uint8_t *dst, vpacked_u8 r, vpacked_u8 g, vpacked_u8 b) {
  static const int8_t from_rg[2][16] = {
      {0, 8, -1, 1, 9, -1, 2, 10, -1, 3, 11, -1, 4, 12, -1, 5},
      {13, -1, 6, 14, -1, 7, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1}};
  static const int8_t from_b[2][16] = {
      {-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1},
      {-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, -1, -1, -1, -1, -1, -1}};
  const __m128i rg = _mm_unpacklo_epi64(r, g);
  __m128i out[2];
  for (int k = 0; k < 2; k++)
    out[k] = _mm_or_si128(_mm_shuffle_epi8(rg, _mm_loadu_si128((const __m128i *)from_rg[k])),
                          _mm_shuffle_epi8(b, _mm_loadu_si128((const __m128i *)from_b[k])));
  _mm_storeu_si128((__m128i *)dst, out[0]);
  _mm_storel_epi64((__m128i *)(dst + 16), out[1]);
}
static inline void vstore_u8(uint8_t *p, vf v, float inv_scale, int zero, int n) {
  vstore_bytes(p, vquantize_u8(v, inv_scale, zero), n);
}

/* Integer lanes, a byte gather and an interleaving store, for frame preprocessing. */
typedef __m256i vi;
static inline vi vload_i(const int *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline void vstore_i(int *p, vi v) { _mm256_storeu_si256((__m256i *)p, v); }
static inline vi vset1_i(int x) { return _mm256_set1_epi32(x); }
static inline vi vmin_i(vi a, vi b) { return _mm256_min_epi32(a, b); }
static inline vi vsub_i(vi a, vi b) { return _mm256_sub_epi32(a, b); }
static inline vi vadd_i(vi a, vi b) { return _mm256_add_epi32(a, b); }
/* The 4 bytes at base + offset, little endian, per lane. */
static inline vi vgather_u8x4(const uint8_t *base, vi offset) {
  return _mm256_i32gather_epi32((const int *)(const void *)base, offset, 1);
}
static inline vf vcvt_f(vi v) { return _mm256_cvtepi32_ps(v); }
/* n (1..VW) bytes at p, zero-extended to int lanes (the others 0). */
static inline vi vload_u8_n(const uint8_t *p, int n) {
  if (n == VW)
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
  uint64_t bytes = 0;
  memcpy(&bytes, p, (size_t)n);
  return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)bytes));
}
/* VW bytes of each of 4 rows, lane j holding byte j of r0, r1, r2, r3
   (low to high): the 4 taps of one channel that a dot product takes. Rows
   0-1 and 2-3 share the 128-bit lanes; a dword permute brings each lane
   the 4x4 byte blocks of its channels, a byte shuffle transposes them. */
static inline vi vload_u8_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                                const uint8_t *r3) {
  const __m128i a = _mm_castpd_si128(
      _mm_loadh_pd(_mm_castsi128_pd(_mm_loadl_epi64((const __m128i *)r0)), (const double *)r1));
  const __m128i b = _mm_castpd_si128(
      _mm_loadh_pd(_mm_castsi128_pd(_mm_loadl_epi64((const __m128i *)r2)), (const double *)r3));
  __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
  v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
  const __m128i t = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(t));
}
/* A byte offset within 4-byte words: the word it lies in, and the byte
   shuffle's selector of that byte within its lane (its index in the lane's
   16 bytes; 0x80 clears the lane's other three bytes). */
static inline vi vdword_of_byte(vi offset) { return _mm256_srli_epi32(offset, 2); }
static inline vi vbyte_selector(vi offset) {
  const vi lane = _mm256_set_epi32((int)0x8080800C, (int)0x80808008, (int)0x80808004,
                                   (int)0x80808000, (int)0x8080800C, (int)0x80808008,
                                   (int)0x80808004, (int)0x80808000);
  return _mm256_or_si256(_mm256_and_si256(offset, _mm256_set1_epi32(3)), lane);
}
/* The selected byte of each lane, as an int: one shuffle, no shift and mask. */
static inline vi vbyte_at(vi word, vi selector) { return _mm256_shuffle_epi8(word, selector); }
/* A window of VWINDOW_BYTES bytes of a row, and its 4-byte word `dword`
   (0..15, per lane): dword permutes of both halves, no gather. */
#define VWINDOW_BYTES 64
typedef struct vwindow {
  __m256i lo, hi;
} vwindow;
static inline vwindow vload_window(const uint8_t *p) {
  return (vwindow){_mm256_loadu_si256((const __m256i *)p),
                   _mm256_loadu_si256((const __m256i *)(p + 32))};
}
static inline vi vwindow_dword(vwindow w, vi dword) {
  const vi in_hi = _mm256_cmpgt_epi32(dword, _mm256_set1_epi32(7));
  return _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(w.lo, dword),
                            _mm256_permutevar8x32_epi32(w.hi, dword), in_hi);
}
/* VW pixels of 3 floats (R, G, B) from one vector per channel: each output
   vector gathers its pixels from each channel by a permute, then blends. */
static inline void vstore_rgb(float *dst, vf r, vf g, vf b) {
  static const int32_t pixel[3][8] = {
      {0, 0, 0, 1, 1, 1, 2, 2}, {2, 3, 3, 3, 4, 4, 4, 5}, {5, 5, 6, 6, 6, 7, 7, 7}};
  const __m256i p0 = _mm256_loadu_si256((const __m256i *)pixel[0]);
  const __m256i p1 = _mm256_loadu_si256((const __m256i *)pixel[1]);
  const __m256i p2 = _mm256_loadu_si256((const __m256i *)pixel[2]);
  /* Lanes holding G, then B, in each output vector (blend immediates). */
  _mm256_storeu_ps(dst, _mm256_blend_ps(_mm256_blend_ps(_mm256_permutevar8x32_ps(r, p0),
                   _mm256_permutevar8x32_ps(g, p0), 0x92), _mm256_permutevar8x32_ps(b, p0), 0x24));
  _mm256_storeu_ps(dst + 8, _mm256_blend_ps(_mm256_blend_ps(_mm256_permutevar8x32_ps(r, p1),
                   _mm256_permutevar8x32_ps(g, p1), 0x24), _mm256_permutevar8x32_ps(b, p1), 0x49));
  _mm256_storeu_ps(dst + 16, _mm256_blend_ps(_mm256_blend_ps(_mm256_permutevar8x32_ps(r, p2),
                   _mm256_permutevar8x32_ps(g, p2), 0x49), _mm256_permutevar8x32_ps(b, p2), 0x92));
}

/* Class scores (argmax): lanes past n read as `fill`, NaN lanes replaced,
   the largest lane, and the lanes equal to x as bits. */
static inline vf vload_fill(const float *p, int n, float fill) {
  const __m256i in = vmask(n);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, in), _mm256_castsi256_ps(in));
}
static inline vf vnan_to(vf v, float fill) {
  return _mm256_blendv_ps(v, _mm256_set1_ps(fill), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
static inline float vhmax(vf v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
static inline unsigned veq_bits(vf v, float x) {
  return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(x), _CMP_EQ_OQ));
}

#endif
