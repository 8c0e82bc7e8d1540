/* AVX-512 (F and BW) vector vocabulary for the kernel templates (*.inc.h).
 * Included only by files compiled with -mavx512f -mavx512bw -mavx2 -mfma. */
#ifndef MNV3_SIMD_AVX512BW_H
#define MNV3_SIMD_AVX512BW_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define VW 16 /* floats per vector */
#define VBYTES 64 /* bytes per vector (byte and word lanes: -mavx512bw) */
#define ISA_SUFFIX(name) name##__avx512bw
#define ISA_STR "avx512bw"
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
/* VW lanes quantized as mnv3_quantize_u8 does, as bytes. */
typedef __m128i vpacked_u8;
/* ... of v clamped first to a range whose image under inv_scale is [qlo,
   qhi] (mnv3_quantize_bounds): one clamp for both. */
static inline vpacked_u8 vquantize_u8_within(vf v, float inv_scale, int zero, float qlo,
                                             float qhi) {
  vf t = _mm512_mul_ps(v, _mm512_set1_ps(inv_scale));
  t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(qlo)), _mm512_set1_ps(qhi));
  const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), _mm512_set1_epi32(zero));
  return _mm512_cvtepi32_epi8(q); /* 0..255 already */
}
static inline vpacked_u8 vquantize_u8(vf v, float inv_scale, int zero) {
  return vquantize_u8_within(v, inv_scale, zero, (float)-zero, (float)(255 - zero));
}
/* The first n (1..VW) of them. */
static inline void vstore_bytes(uint8_t *p, vpacked_u8 b, int n) {
  if (n == VW)
    _mm_storeu_si128((__m128i *)p, b);
  else /* a byte-masked store (AVX-512 BW): no loop over the bytes */
    _mm512_mask_storeu_epi8(p, (__mmask64)((1ull << n) - 1), _mm512_castsi128_si512(b));
}
/* VW pixels of 3 bytes (R, G, B) from one packed vector per channel: each
   16 output bytes take theirs from each channel by a byte shuffle. */
static inline void vstore_bytes_rgb(uint8_t *dst, vpacked_u8 r, vpacked_u8 g, vpacked_u8 b) {
  static const int8_t from[3][3][16] = {
      {{0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5},
       {-1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1},
       {-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1}},
      {{-1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1},
       {5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10},
       {-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1}},
      {{-1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1},
       {-1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1},
       {10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15}}};
  for (int k = 0; k < 3; k++) {
    const __m128i rg =
        _mm_or_si128(_mm_shuffle_epi8(r, _mm_loadu_si128((const __m128i *)from[k][0])),
                     _mm_shuffle_epi8(g, _mm_loadu_si128((const __m128i *)from[k][1])));
    _mm_storeu_si128((__m128i *)(dst + 16 * k),
                     _mm_or_si128(rg, _mm_shuffle_epi8(b, _mm_loadu_si128(
                                                             (const __m128i *)from[k][2]))));
  }
}
static inline void vstore_u8(uint8_t *p, vf v, float inv_scale, int zero, int n) {
  vstore_bytes(p, vquantize_u8(v, inv_scale, zero), n);
}
/* A store that bypasses the caches (p 64-byte aligned), and the fence that
   orders such stores before what follows. */
static inline void vstream(float *p, vf v) { _mm512_stream_ps(p, v); }
static inline void vstream_fence(void) { _mm_sfence(); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }

/* Integer lanes, a byte gather and an interleaving store, for frame preprocessing. */
typedef __m512i vi;
static inline vi vload_i(const int *p) { return _mm512_loadu_si512(p); }
static inline void vstore_i(int *p, vi v) { _mm512_storeu_si512(p, v); }
static inline vi vset1_i(int x) { return _mm512_set1_epi32(x); }
static inline vi vmin_i(vi a, vi b) { return _mm512_min_epi32(a, b); }
static inline vi vsub_i(vi a, vi b) { return _mm512_sub_epi32(a, b); }
static inline vi vadd_i(vi a, vi b) { return _mm512_add_epi32(a, b); }
/* The 4 bytes at base + offset, little endian, per lane. */
static inline vi vgather_u8x4(const uint8_t *base, vi offset) {
  return _mm512_i32gather_epi32(offset, (const void *)base, 1);
}
static inline vf vcvt_f(vi v) { return _mm512_cvtepi32_ps(v); }
/* n (1..VW) bytes at p, zero-extended to int lanes (the others 0). */
static inline vi vload_u8_n(const uint8_t *p, int n) {
  if (n == VW)
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
  /* byte-masked: the bytes past n are neither read nor can fault */
  return _mm512_cvtepu8_epi32(
      _mm512_castsi512_si128(_mm512_maskz_loadu_epi8((__mmask64)((1ull << n) - 1), p)));
}
/* VW bytes of each of 4 rows, lane j holding byte j of r0, r1, r2, r3
   (low to high): the 4 taps of one channel that a dot product takes. The
   rows go in the 4 128-bit lanes; a dword permute brings each lane the
   4x4 byte blocks of its channels, a byte shuffle transposes them. */
static inline vi vload_u8_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                                const uint8_t *r3) {
  __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)r0));
  v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)r1), 1);
  v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)r2), 2);
  v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)r3), 3);
  v = _mm512_permutexvar_epi32(
      _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0), v);
  const __m128i t = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(t));
}
/* A byte offset within 4-byte words: the word it lies in, and the byte
   shuffle's selector of that byte within its lane (its index in the lane's
   16 bytes; 0x80 clears the lane's other three bytes). */
static inline vi vdword_of_byte(vi offset) { return _mm512_srli_epi32(offset, 2); }
static inline vi vbyte_selector(vi offset) {
  const vi lane = _mm512_set_epi32(
      (int)0x8080800C, (int)0x80808008, (int)0x80808004, (int)0x80808000,
      (int)0x8080800C, (int)0x80808008, (int)0x80808004, (int)0x80808000,
      (int)0x8080800C, (int)0x80808008, (int)0x80808004, (int)0x80808000,
      (int)0x8080800C, (int)0x80808008, (int)0x80808004, (int)0x80808000);
  return _mm512_or_si512(_mm512_and_si512(offset, _mm512_set1_epi32(3)), lane);
}
/* The selected byte of each lane, as an int: one shuffle, no shift and mask. */
static inline vi vbyte_at(vi word, vi selector) { return _mm512_shuffle_epi8(word, selector); }
/* A window of VWINDOW_BYTES bytes of a row, and its 4-byte word `dword`
   (0..31, per lane): a two-table dword permute, no gather. */
#define VWINDOW_BYTES 128
typedef struct vwindow {
  __m512i lo, hi;
} vwindow;
static inline vwindow vload_window(const uint8_t *p) {
  return (vwindow){_mm512_loadu_si512(p), _mm512_loadu_si512(p + 64)};
}
static inline vi vwindow_dword(vwindow w, vi dword) {
  return _mm512_permutex2var_epi32(w.lo, dword, w.hi);
}
/* VW pixels of 3 floats (R, G, B) from one vector per channel: each output
   vector takes its lanes from R and G, then from B, by two-table permutes. */
static inline void vstore_rgb(float *dst, vf r, vf g, vf b) {
  static const int32_t from_rg[3][16] = {
      {0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5},
      {21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26},
      {0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0}};
  static const int32_t with_b[3][16] = {
      {0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15},
      {0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15},
      {26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31}};
  for (int k = 0; k < 3; k++) {
    const vf rg = _mm512_permutex2var_ps(r, _mm512_loadu_si512(from_rg[k]), g);
    _mm512_storeu_ps(dst + 16 * k, _mm512_permutex2var_ps(rg, _mm512_loadu_si512(with_b[k]), b));
  }
}

/* Class scores (argmax): lanes past n read as `fill`, NaN lanes replaced,
   the largest lane, and the lanes equal to x as bits. */
static inline vf vload_fill(const float *p, int n, float fill) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), (__mmask16)((1u << n) - 1u), p);
}
static inline vf vnan_to(vf v, float fill) {
  return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_set1_ps(fill));
}
static inline float vhmax(vf v) { return _mm512_reduce_max_ps(v); }
static inline unsigned veq_bits(vf v, float x) {
  return _mm512_cmp_ps_mask(v, _mm512_set1_ps(x), _CMP_EQ_OQ);
}

#endif
