/* Squeeze-and-excitation gating of uint8 tensors for AVX2: the reference's
 * float operations in its order, eight channels a vector, each channel's
 * multiplier computed once per call. */
#include "kernels_isa.h"
#include "simd_avx2.h"

#define CHUNK 1024 /* channels whose multipliers stay on the stack */

void mnv3_qu8_vmulc__avx2(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                          int channels, uint8_t *out, const mnv3_qu8_requant *rq) {
  float m[CHUNK];
  const __m256i in_zero = _mm256_set1_epi32(gate->in_zero);
  const vf lo = vset1(rq->post_lo), hi = vset1(rq->post_hi);
  for (int c0 = 0; c0 < channels; c0 += CHUNK) {
    const int nc = channels - c0 < CHUNK ? channels - c0 : CHUNK;
    for (int c = 0; c < nc; c++)
      m[c] = gate->in_scale *
             ((float)(gate->gate[c0 + c] - gate->gate_zero) * gate->gate_scale);
    for (int p = 0; p < pixels; p++) {
      const size_t row = (size_t)p * channels + c0;
      int c = 0;
      for (; c + VW <= nc; c += VW) {
        const __m256i x = _mm256_sub_epi32(
            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(in + row + c))), in_zero);
        vf v = _mm256_mul_ps(_mm256_cvtepi32_ps(x), vload(m + c));
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        vstore_u8(out + row + c, v, rq->out_inv_scale, rq->out_zero, VW);
      }
      for (; c < nc; c++) {
        const float v = (float)(in[row + c] - gate->in_zero) * m[c];
        out[row + c] = mnv3_quantize_u8(fminf(fmaxf(v, rq->post_lo), rq->post_hi),
                                        rq->out_inv_scale, rq->out_zero);
      }
    }
  }
}
