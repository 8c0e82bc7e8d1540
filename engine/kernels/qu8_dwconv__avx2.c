/* 8-bit depthwise convolution, any kernel up to 11x11, stride and
 * dilation, for AVX2, exact: 16 channels per vector, (x - z) and w (|w| <=
 * 255) in int16, taps interleaved in pairs so that vpmaddwd adds two taps'
 * products into int32. A tap outside the input
 * reads as 0 (x = z), as the reference skips it.
 *
 * Packed: scale[cp], bias[cp] (float), then per vector of 16 channels, per
 * pair of taps (the last one paired with a zero tap), the weights of the
 * two interleaved in the order vpunpcklwd and vpunpckhwd give: channels
 * 0-3 and 8-11 (low), 4-7 and 12-15 (high). */
#include "kernels_isa.h"
#include "qu8_epilogue_avx2.h"

#define CV 16 /* channels per vector */
#define MAX_KERNEL 11

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static size_t pairs_of(int kernel) { return ((size_t)kernel * kernel + 1) / 2; }

static size_t packed_size(int out_c, int in_c, int kernel) {
  (void)in_c;
  const size_t cp = round_up((size_t)out_c, CV);
  return 8 * cp + cp / CV * pairs_of(kernel) * 2 * CV * sizeof(int16_t);
}

/* Lane order of vpunpcklwd (half 0) and vpunpckhwd (half 1) on 16 int16. */
static int channel_of(int half, int lane) { return (lane / 4) * 8 + half * 4 + lane % 4; }

static void pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                 int out_c, int in_c, int kernel, void *dst) {
  (void)in_zero; /* subtracted from every input */
  const size_t cp = round_up((size_t)out_c, CV), pairs = pairs_of(kernel);
  const int taps = kernel * kernel;
  memset(dst, 0, packed_size(out_c, in_c, kernel));
  float *s = dst, *b = s + cp;
  int16_t *w = (int16_t *)(b + cp);
  memcpy(s, scale, (size_t)out_c * sizeof *s);
  memcpy(b, bias, (size_t)out_c * sizeof *b);
  for (size_t v = 0; v < cp / CV; v++)
    for (size_t p = 0; p < pairs; p++)
      for (int half = 0; half < 2; half++)
        for (int lane = 0; lane < 8; lane++)
          for (int t = 0; t < 2; t++) {
            const int c = (int)v * CV + channel_of(half, lane), tap = 2 * (int)p + t;
            if (c < out_c && tap < taps)
              w[(((v * pairs + p) * 2 + half) * 8 + lane) * 2 + t] =
                  weight[(size_t)c * taps + tap];
          }
}

/* 16 channels at p (n of them valid), minus the zero point, as int16. */
static inline __m256i load_centered(const uint8_t *p, int n, __m256i zero) {
  __m128i x;
  if (n == CV) {
    x = _mm_loadu_si128((const __m128i *)p);
  } else if (n == 8) {
    x = _mm_loadl_epi64((const __m128i *)p);
  } else {
    uint8_t tmp[CV] = {0};
    memcpy(tmp, p, (size_t)n);
    x = _mm_loadu_si128((const __m128i *)tmp);
  }
  return _mm256_sub_epi16(_mm256_cvtepu8_epi16(x), zero);
}

static void run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const int C = a->out_c, K = a->kernel, taps = K * K;
  const size_t cp = round_up((size_t)C, CV), pairs = pairs_of(K);
  const float *scale = a->packed, *bias = scale + cp;
  const int16_t *weights = (const int16_t *)(bias + cp);
  const __m256i zero = _mm256_set1_epi16((int16_t)a->in_zero);
  const vepilogue e = q_epilogue(a);
  const int v_begin = a->oc_begin / CV, v_end = (a->oc_end + CV - 1) / CV;
  const uint8_t *tap[MAX_KERNEL * MAX_KERNEL + 1];
  for (int oy = row_begin; oy < row_end; oy++)
    for (int ox = 0; ox < a->out_w; ox++) {
      /* Each tap's input pixel, NULL outside the input. */
      for (int t = 0; t < taps; t++) {
        const int iy = oy * a->stride - a->pad_top + (t / K) * a->dilation;
        const int ix = ox * a->stride - a->pad_left + (t % K) * a->dilation;
        tap[t] = iy < 0 || iy >= a->in_h || ix < 0 || ix >= a->in_w
                     ? NULL
                     : a->input + ((size_t)iy * a->in_w + ix) * C;
      }
      tap[taps] = NULL; /* the zero tap of an odd count */
      const size_t pixel = (size_t)oy * a->out_w + ox;
      for (int v = v_begin; v < v_end; v++) {
        const int c = v * CV, n = C - c < CV ? C - c : CV;
        const int16_t *w = weights + (size_t)v * pairs * 2 * CV;
        __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
        for (size_t p = 0; p < pairs; p++) {
          const uint8_t *pa = tap[2 * p], *pb = tap[2 * p + 1];
          if (!pa && !pb)
            continue;
          const __m256i xa = pa ? load_centered(pa + c, n, zero) : _mm256_setzero_si256();
          const __m256i xb = pb ? load_centered(pb + c, n, zero) : _mm256_setzero_si256();
          const __m256i *wp = (const __m256i *)(w + p * 2 * CV);
          lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb),
                                                      _mm256_loadu_si256(wp)));
          hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb),
                                                      _mm256_loadu_si256(wp + 1)));
        }
        const __m256i first = _mm256_permute2x128_si256(lo, hi, 0x20);
        const __m256i second = _mm256_permute2x128_si256(lo, hi, 0x31);
        q_finish8(a, first, scale + c, bias + c, pixel * C + c, n < 8 ? n : 8, &e);
        if (n > 8)
          q_finish8(a, second, scale + c + 8, bias + c + 8, pixel * C + c + 8, n - 8, &e);
      }
    }
}

const mnv3_qconv_kernel mnv3_qu8_dwconv__avx2 = {.name = "qu8_dwconv__avx2",
                                                 .packed_size = packed_size,
                                                 .pack = pack,
                                                 .run = run,
                                                 .channel_block = CV,
                                                 .max_kernel = MAX_KERNEL};
