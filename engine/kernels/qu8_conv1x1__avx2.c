/* 8-bit 1x1 convolution (a GEMM over pixels) for AVX2, exact: inputs
 * zero-extended and weights (|w| <= 255) held in 16 bits, vpmaddwd sums
 * products in pairs into int32, so nothing saturates (unlike vpmaddubsw,
 * whose int16 pairs overflow for 255 * 127 * 2). The input zero point is
 * folded into a per-channel correction at packing: sum (x - z) w =
 * sum x w - z sum w.
 *
 * Packed as qu8_conv1x1_pack.inc.h says; a block's weights: per step of
 * 16 input channels, 8 vectors of 16 int16 weights (one per channel). */
#include "kernels_isa.h"
#include "simd_avx2.h"
#include "qu8_epilogue_vec.h"

#define OC_BLOCK 8
#define K_STEP 16
/* Weight bytes of a chunk of blocks that one pixel after another reuse
   from L1. */
#define CHUNK_BYTES 16384

#define W_TYPE int16_t
#define W_OFFSET(j, k) (((k) / K_STEP * OC_BLOCK + (j)) * K_STEP + (k) % K_STEP)
#define CORRECTION(z) (-(z))
#include "qu8_conv1x1_pack.inc.h"

/* Eight vectors of 8 partial sums to the 8 sums, in order. */
static inline __m256i reduce8(const __m256i acc[8]) {
  const __m256i h01 = _mm256_hadd_epi32(acc[0], acc[1]), h23 = _mm256_hadd_epi32(acc[2], acc[3]);
  const __m256i h45 = _mm256_hadd_epi32(acc[4], acc[5]), h67 = _mm256_hadd_epi32(acc[6], acc[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

static inline __attribute__((always_inline)) void
finish_blocks(const q_layer *k, int out_c, const int32_t *sums, int b0, int b1,
              const float *scale, const float *bias, size_t p, const mnv3_act act,
              const int form) {
  for (int blk = b0; blk < b1; blk++) {
    const int oc = blk * OC_BLOCK, n = out_c - oc < OC_BLOCK ? out_c - oc : OC_BLOCK;
    q_store(k, vcvt_f(vload_i(sums + (blk - b0) * OC_BLOCK)), scale + oc, bias + oc,
            p * (size_t)out_c + oc, n, act, form);
  }
}

/* The epilogue of one pixel's blocks [b0, b1), out of line: its registers
   would crowd the accumulators'. */
static void finish_pixel(const q_layer *k, int out_c, const int32_t *sums, int b0, int b1,
                         const float *scale, const float *bias, size_t p) {
  Q_BY_LAYER(k, finish_blocks(k, out_c, sums, b0, b1, scale, bias, p, act, form));
}

static void run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const int in_c = a->in_c, out_c = a->out_c;
  const size_t ocp = round_up((size_t)out_c, OC_BLOCK), kp = round_up((size_t)in_c, K_STEP);
  const size_t steps = kp / K_STEP, full_steps = (size_t)in_c / K_STEP;
  const int rem = in_c % K_STEP;
  const float *scale = a->packed, *bias = scale + ocp;
  const int32_t *corr = (const int32_t *)(bias + ocp);
  const int16_t *weights = (const int16_t *)(corr + ocp);
  const size_t block_bytes = 2 * OC_BLOCK * kp;
  const int chunk = CHUNK_BYTES / block_bytes > 1 ? (int)(CHUNK_BYTES / block_bytes) : 1;
  const q_layer layer = q_layer_of(a);
  const size_t p_begin = (size_t)row_begin * a->out_w, p_end = (size_t)row_end * a->out_w;
  const int b_begin = a->oc_begin / OC_BLOCK, b_end = (a->oc_end + OC_BLOCK - 1) / OC_BLOCK;
  int32_t sums[CHUNK_BYTES / (2 * OC_BLOCK * K_STEP) * OC_BLOCK];
  for (int b0 = b_begin; b0 < b_end; b0 += chunk) {
    const int b1 = b0 + chunk < b_end ? b0 + chunk : b_end;
    for (size_t p = p_begin; p < p_end; p++) {
      const uint8_t *in = a->input + p * in_c;
      /* The last, partial step of input channels, read once per pixel. */
      __m256i tail = _mm256_setzero_si256();
      if (rem == 8) {
        tail = _mm256_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(in + in_c - 8)));
      } else if (rem) {
        uint8_t tmp[K_STEP] = {0};
        memcpy(tmp, in + full_steps * K_STEP, (size_t)rem);
        tail = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)tmp));
      }
      for (int blk = b0; blk < b1; blk++) {
        const int16_t *w = weights + (size_t)blk * OC_BLOCK * kp;
        __m256i acc[OC_BLOCK];
        for (int n = 0; n < OC_BLOCK; n++)
          acc[n] = _mm256_setzero_si256();
        for (size_t s = 0; s < steps; s++) {
          const __m256i x = s < full_steps
                                ? _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(in + s * K_STEP)))
                                : tail;
          const int16_t *ws = w + s * OC_BLOCK * K_STEP;
#pragma GCC unroll 8
          for (int n = 0; n < OC_BLOCK; n++)
            acc[n] = _mm256_add_epi32(
                acc[n], _mm256_madd_epi16(x, _mm256_loadu_si256((const __m256i *)(ws + n * K_STEP))));
        }
        const int oc = blk * OC_BLOCK;
        vstore_i(sums + (blk - b0) * OC_BLOCK,
                 _mm256_add_epi32(reduce8(acc), _mm256_loadu_si256((const __m256i *)(corr + oc))));
      }
      finish_pixel(&layer, out_c, sums, b0, b1, scale, bias, p);
    }
  }
}

const mnv3_qconv_kernel mnv3_qu8_conv1x1__avx2 = {.name = "qu8_conv1x1__avx2",
                                                  .packed_size = packed_size,
                                                  .pack = pack,
                                                  .run = run,
                                                  .channel_block = OC_BLOCK};
