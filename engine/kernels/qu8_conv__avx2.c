/* 8-bit dense convolution (the stem: 3 input channels, 3x3 stride 2) for
 * AVX2: the reference's sum in int32, with output channels innermost so
 * that the compiler vectorises it, and the vector epilogue.
 *
 * Packed: scale[ocp], bias[ocp] (float), then int32 weights
 * [kh][kw][in_c][ocp] (zero past out_c). */
#include "kernels_isa.h"
#include "qu8_epilogue_avx2.h"

#define OC_CHUNK 64 /* accumulators kept per pixel */

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static size_t packed_size(int out_c, int in_c, int kernel) {
  const size_t ocp = round_up((size_t)out_c, 8);
  return 8 * ocp + 4 * (size_t)kernel * kernel * in_c * ocp;
}

static void pack(const int8_t *weight, const float *scale, const float *bias, int in_zero,
                 int out_c, int in_c, int kernel, void *dst) {
  (void)in_zero; /* subtracted from every input */
  const size_t ocp = round_up((size_t)out_c, 8);
  memset(dst, 0, packed_size(out_c, in_c, kernel));
  float *s = dst, *b = s + ocp;
  int32_t *w = (int32_t *)(b + ocp);
  memcpy(s, scale, (size_t)out_c * sizeof *s);
  memcpy(b, bias, (size_t)out_c * sizeof *b);
  for (int o = 0; o < out_c; o++)
    for (int i = 0; i < in_c; i++)
      for (int t = 0; t < kernel * kernel; t++)
        w[((size_t)t * in_c + i) * ocp + o] = weight[((size_t)o * in_c + i) * kernel * kernel + t];
}

static void run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const size_t ocp = round_up((size_t)a->out_c, 8);
  const float *scale = a->packed, *bias = scale + ocp;
  const int32_t *weights = (const int32_t *)(bias + ocp);
  const vepilogue e = q_epilogue(a);
  int32_t acc[OC_CHUNK] __attribute__((aligned(32)));
  for (int oy = row_begin; oy < row_end; oy++)
    for (int ox = 0; ox < a->out_w; ox++) {
      const size_t pixel = (size_t)oy * a->out_w + ox;
      for (int c0 = a->oc_begin; c0 < a->oc_end; c0 += OC_CHUNK) {
        const int nc = a->oc_end - c0 < OC_CHUNK ? a->oc_end - c0 : OC_CHUNK;
        const int ncp = (nc + 7) / 8 * 8;
        memset(acc, 0, sizeof acc);
        for (int ky = 0; ky < a->kernel; ky++) {
          const int iy = oy * a->stride - a->pad_top + ky * a->dilation;
          if (iy < 0 || iy >= a->in_h)
            continue;
          for (int kx = 0; kx < a->kernel; kx++) {
            const int ix = ox * a->stride - a->pad_left + kx * a->dilation;
            if (ix < 0 || ix >= a->in_w)
              continue;
            const uint8_t *in = a->input + ((size_t)iy * a->in_w + ix) * a->in_c;
            const int32_t *wk =
                weights + ((size_t)ky * a->kernel + kx) * a->in_c * ocp + c0;
            for (int i = 0; i < a->in_c; i++) {
              const int32_t x = in[i] - a->in_zero;
              const int32_t *wi = wk + (size_t)i * ocp;
              for (int o = 0; o < ncp; o++)
                acc[o] += x * wi[o];
            }
          }
        }
        for (int o = 0; o < nc; o += 8)
          q_finish8(a, _mm256_load_si256((const __m256i *)(acc + o)), scale + c0 + o,
                    bias + c0 + o, pixel * a->out_c + c0 + o, nc - o < 8 ? nc - o : 8, &e);
      }
    }
}

const mnv3_qconv_kernel mnv3_qu8_conv__avx2 = {.name = "qu8_conv__avx2",
                                               .packed_size = packed_size,
                                               .pack = pack,
                                               .run = run,
                                               .channel_block = 8};
