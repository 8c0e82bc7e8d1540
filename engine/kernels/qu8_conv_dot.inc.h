/* Template: 8-bit dense convolution (kernels.h; the stem: 3 input
 * channels, any kernel, stride and dilation) on a 4-way uint8 x int8 dot
 * product into int32 lanes. Include after one simd_<isa>.h, with
 * CONVDOT_NAME (the kernel's symbol), CONVDOT_STR (its ISA) and vdot_u8s8
 * defined as for qu8_conv1x1_dot.inc.h (or exactly emulated where the ISA
 * has no dot product).
 *
 * Lanes are output channels. A pixel's input bytes go in words of 4, one
 * broadcast each, against the 4 weights of every channel: a 3x3 stem on
 * RGB takes 9 dot products per vector of output channels where a float
 * sum takes 27 multiply-adds, and its input needs no interleave. The word
 * of an RGB pixel also holds the next pixel's first byte, whose weight is
 * zero. Taps outside the input read a word of the zero point z, which
 * adds nothing after the accumulators' start of -z sum w (the reference
 * skips them). MobileNetV3's stem (3x3, stride 2, RGB) has its own
 * loops: per row, the columns whose taps all lie inside go 8 pixels at a
 * time, no test, with constants and the 9 weight vectors in registers;
 * the border columns, and every pixel of other dense layers (none in the
 * networks), go one at a time through one general, out-of-line copy
 * (fewer copies: compilers took minutes over one per layer kind). int32
 * sums: exact, the reference's to the bit.
 *
 * Packed: a 64-byte header (the plane count, qu8_dot_weights.h),
 * scale[cp] and bias[cp] (float), start[cp] (int32), then per vector of
 * VW channels, per plane, per tap (ky, kx), per word of input channels,
 * VW x 4 int8 (zero past in_c and out_c). */
#include "qu8_dot_weights.h"
#include "qu8_epilogue_vec.h"

#include <stddef.h>
#include <string.h>

#define CD_HEADER 64
#define CD_MAX_PLANES 2
/* Output pixels whose dot products go at once: independent chains (8
   hide the dot product's latency: 4 took 1.15x as long). */
#define CD_PIXELS 8

static size_t cd_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static int cd_words(int in_c) { return (in_c + 3) / 4; }

/* Bytes of one plane of one vector of channels. */
static size_t cd_plane_bytes(int in_c, int kernel) {
  return (size_t)kernel * kernel * cd_words(in_c) * VW * 4;
}

static size_t cd_packed_size(int out_c, int in_c, int kernel) {
  const size_t cp = cd_round_up((size_t)out_c, VW);
  return CD_HEADER + 12 * cp + cp / VW * CD_MAX_PLANES * cd_plane_bytes(in_c, kernel);
}

static void cd_pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                    int out_c, int in_c, int kernel, void *dst) {
  memset(dst, 0, cd_packed_size(out_c, in_c, kernel));
  const size_t cp = cd_round_up((size_t)out_c, VW);
  const size_t per_oc = (size_t)in_c * kernel * kernel;
  const int words = cd_words(in_c), taps = kernel * kernel;
  int32_t planes = 1;
  for (int c = 0; c < out_c; c++) {
    int lo = 0, hi = 0;
    for (size_t j = 0; j < per_oc; j++) {
      lo = weight[c * per_oc + j] < lo ? weight[c * per_oc + j] : lo;
      hi = weight[c * per_oc + j] > hi ? weight[c * per_oc + j] : hi;
    }
    if (!qu8_fits_int8(lo, hi))
      planes = 2;
  }
  memcpy(dst, &planes, sizeof planes);
  float *s = (float *)((uint8_t *)dst + CD_HEADER), *b = s + cp;
  int32_t *start = (int32_t *)(b + cp);
  int8_t *w = (int8_t *)(start + cp);
  for (int c = 0; c < out_c; c++) {
    const int16_t *cw = weight + c * per_oc; /* OIHW */
    int hi = 0;
    for (size_t j = 0; j < per_oc; j++)
      hi = cw[j] > hi ? cw[j] : hi;
    const int sign = qu8_channel_sign(hi, planes);
    int32_t sum = 0;
    for (int i = 0; i < in_c; i++)
      for (int tap = 0; tap < taps; tap++) {
        const int v = sign * cw[(size_t)i * taps + tap];
        sum += v;
        for (int pl = 0; pl < planes; pl++) {
          const size_t word = (((size_t)(c / VW) * planes + pl) * taps + tap) * words + i / 4;
          w[word * VW * 4 + (size_t)(c % VW) * 4 + i % 4] = qu8_plane_weight(v, pl, planes);
        }
      }
    start[c] = -in_zero * sum;
    s[c] = (float)sign * scale[c];
    b[c] = bias[c];
  }
}

/* The word of a tap: 4 bytes from p, or (checked) the zero point's for a
   tap outside the input, and a copy for a word that would read past the
   input's end. */
static inline __attribute__((always_inline)) int cd_word(const uint8_t *p, int inside,
                                                         const uint8_t *end, int zword,
                                                         const int checked) {
  int32_t word = zword;
  if (!checked || (inside && p + 4 <= end))
    memcpy(&word, p, 4);
  else if (inside)
    memcpy(&word, p, (size_t)(end - p)); /* past the end: any bytes, zero weights */
  return word;
}

/* np (1..CD_PIXELS) output pixels in a row from input row iy0 and column
   ix0 on. checked: taps may lie outside the input (np 1 then). K, words,
   planes, and S and IC (stride and input channels; 0: the layer's):
   constants where the caller makes them so. wr: the weights in registers
   (the stem's), or NULL to read them from w. */
static inline __attribute__((always_inline)) void
cd_pixels(const int np, const int K, const int words, const int planes, const int S,
          const int IC, const int checked, const mnv3_qconv_args *a, int iy0, int ix0,
          const int8_t *w, const vi *wr, const int32_t *start, const float *scale,
          const float *bias, size_t index, int n, int zword, const q_layer *k,
          const mnv3_act act, const int form) {
  const int in_c = IC ? IC : a->in_c;
  const size_t pixel_step = (size_t)(S ? S : a->stride) * in_c;
  const size_t row_bytes = (size_t)a->in_w * in_c;
  const uint8_t *end = a->input + (size_t)a->in_h * row_bytes;
  const uint8_t *in = a->input + (ptrdiff_t)iy0 * (ptrdiff_t)row_bytes + (ptrdiff_t)ix0 * in_c;
  vi acc[CD_PIXELS];
#pragma GCC unroll 8
  for (int j = 0; j < np; j++)
    acc[j] = vload_i(start);
#pragma GCC unroll 11
  for (int ky = 0; ky < K; ky++) {
    const int row_inside = !checked || (iy0 + ky * a->dilation >= 0 &&
                                        iy0 + ky * a->dilation < a->in_h);
#pragma GCC unroll 11
    for (int kx = 0; kx < K; kx++) {
      const int inside = row_inside && (!checked || (ix0 + kx * a->dilation >= 0 &&
                                                     ix0 + kx * a->dilation < a->in_w));
      const uint8_t *p = in + (ptrdiff_t)ky * a->dilation * (ptrdiff_t)row_bytes +
                         (ptrdiff_t)kx * a->dilation * in_c;
#pragma GCC unroll 4
      for (int g = 0; g < words; g++) {
        vi x[CD_PIXELS];
#pragma GCC unroll 8
        for (int j = 0; j < np; j++)
          x[j] = vset1_i(cd_word(p + j * pixel_step + 4 * g, inside, end, zword, checked));
#pragma GCC unroll 2
        for (int pl = 0; pl < planes; pl++) {
          const size_t at = ((size_t)pl * K * K + ky * K + kx) * words + g;
          const vi wv = wr ? wr[at] : vload_i((const int *)(const void *)(w + at * VW * 4));
#pragma GCC unroll 8
          for (int j = 0; j < np; j++)
            acc[j] = vdot_u8s8(acc[j], x[j], wv);
        }
      }
    }
  }
  vf sums[CD_PIXELS];
#pragma GCC unroll 8
  for (int j = 0; j < np; j++)
    sums[j] = vcvt_f(acc[j]);
  q_store_batch(k, np, sums, scale, bias, index, (size_t)a->out_c, n, act, form);
}

/* The output columns [lo, hi) of row iy0 whose taps all lie inside the
   input and whose words can all be read whole (none past its end). */
static void cd_whole_columns(const mnv3_qconv_args *a, int iy0, int *lo, int *hi) {
  const int span = (a->kernel - 1) * a->dilation, s = a->stride;
  *lo = *hi = 0;
  if (iy0 < 0 || iy0 + span >= a->in_h)
    return;
  *lo = (a->pad_left + s - 1) / s;
  const int last = a->in_w - 1 - span + a->pad_left; /* x * s <= last */
  *hi = last < 0 ? 0 : last / s + 1;
  *hi = *hi < a->out_w ? *hi : a->out_w;
  const size_t total = (size_t)a->in_h * a->in_w * a->in_c;
  const size_t reach = 4 * (size_t)cd_words(a->in_c);
  const size_t bottom_row = (size_t)(iy0 + span) * a->in_w;
  /* while the last column's last tap would read past the input */
  while (*hi > *lo &&
         (bottom_row + (size_t)((*hi - 1) * s - a->pad_left + span)) * a->in_c + reach > total)
    (*hi)--;
  *lo = *lo < *hi ? *lo : *hi;
}

/* The layer's weights and epilogue, as cd_pixels reads them. */
typedef struct cd_layer {
  const int8_t *weights;
  const int32_t *start;
  const float *scale, *bias;
  size_t vector_bytes;
  int words, planes, zword;
} cd_layer;

/* One output pixel of any layer, taps checked (the border, and every
   pixel of layers other than the stem): one copy, out of line, with the
   epilogue reading the layer (the same bits as the specialised ones). */
static __attribute__((noinline)) void cd_pixel_any(const mnv3_qconv_args *a, const cd_layer *l,
                                                    const q_layer *k, int oy, int x, int c) {
  const int iy0 = oy * a->stride - a->pad_top, ix0 = x * a->stride - a->pad_left;
  cd_pixels(1, a->kernel, l->words, l->planes, 0, 0, 1, a, iy0, ix0,
            l->weights + (size_t)(c / VW) * l->vector_bytes, NULL, l->start + c, l->scale + c,
            l->bias + c, ((size_t)oy * a->out_w + x) * a->out_c + c,
            a->out_c - c < VW ? a->out_c - c : VW, l->zword, k, k->e.act, Q_ANY);
}

/* The stem's row oy, channels from c: its 9 weight vectors a plane in
   registers, its loops with constants, whole columns [lo, hi) 8 pixels at
   a time. */
static inline __attribute__((always_inline)) void
cd_stem_row(const mnv3_qconv_args *a, const cd_layer *l, const q_layer *k, int oy, int c,
            int lo, int hi, const int PLANES, const mnv3_act act, const int form) {
  const int8_t *w = l->weights + (size_t)(c / VW) * l->vector_bytes;
  const int n = a->out_c - c < VW ? a->out_c - c : VW;
  const int iy0 = oy * 2 - a->pad_top;
  vi wr[9 * CD_MAX_PLANES];
  for (int t = 0; t < 9 * PLANES; t++)
    wr[t] = vload_i((const int *)(const void *)(w + (size_t)t * VW * 4));
  int x = 0;
  for (; x < lo; x++)
    cd_pixel_any(a, l, k, oy, x, c);
  /* Two planes hold 18 weight vectors: 4 pixels' accumulators, not 8,
     keep clear of the stack (8 spilled and took twice as long). */
  const int tile = PLANES == 1 ? CD_PIXELS : CD_PIXELS / 2;
  for (; x < hi && hi - lo >= tile; x += tile) {
    /* The row's last tile ends at hi, over pixels done already (the same
       values again): single pixels would each wait on 9 dot products in
       a chain. */
    x = x + tile <= hi ? x : hi - tile;
    cd_pixels(tile, 3, 1, PLANES, 2, 3, 0, a, iy0, 2 * x - a->pad_left, w, wr,
              l->start + c, l->scale + c, l->bias + c,
              ((size_t)oy * a->out_w + x) * a->out_c + c, n, l->zword, k, act, form);
  }
  for (; x < hi; x++)
    cd_pixels(1, 3, 1, PLANES, 2, 3, 0, a, iy0, 2 * x - a->pad_left, w, wr, l->start + c,
              l->scale + c, l->bias + c, ((size_t)oy * a->out_w + x) * a->out_c + c, n,
              l->zword, k, act, form);
  for (; x < a->out_w; x++)
    cd_pixel_any(a, l, k, oy, x, c);
}

static void cd_run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const q_layer layer = q_layer_of(a), *k = &layer;
  const size_t cp = cd_round_up((size_t)a->out_c, VW);
  cd_layer l;
  memcpy(&l.planes, a->packed, sizeof l.planes);
  l.scale = (const float *)((const uint8_t *)a->packed + CD_HEADER);
  l.bias = l.scale + cp;
  l.start = (const int32_t *)(l.bias + cp);
  l.weights = (const int8_t *)(l.start + cp);
  l.words = cd_words(a->in_c);
  l.vector_bytes = (size_t)l.planes * cd_plane_bytes(a->in_c, a->kernel);
  l.zword = (int)(0x01010101u * (uint32_t)a->in_zero);
  /* MobileNetV3's stem has its own loops (a released uint8 model's
     weights may take two planes); other dense layers (none in the
     networks) go pixel by pixel. */
  const int stem = a->kernel == 3 && a->stride == 2 && a->in_c == 3 && a->dilation == 1;
  for (int oy = row_begin; oy < row_end; oy++) {
    int lo = 0, hi = 0;
    if (stem)
      cd_whole_columns(a, oy * a->stride - a->pad_top, &lo, &hi);
    for (int c = a->oc_begin; c < a->oc_end; c += VW) {
      if (!stem) {
        for (int x = 0; x < a->out_w; x++)
          cd_pixel_any(a, &l, k, oy, x, c);
        continue;
      }
      if (l.planes == 1)
        Q_BY_LAYER(k, cd_stem_row(a, &l, k, oy, c, lo, hi, 1, act, form));
      else
        Q_BY_LAYER(k, cd_stem_row(a, &l, k, oy, c, lo, hi, 2, act, form));
    }
  }
}

const mnv3_qconv_kernel CONVDOT_NAME = {.name = "qu8_conv__" CONVDOT_STR,
                                        .packed_size = cd_packed_size,
                                        .pack = cd_pack,
                                        .run = cd_run,
                                        .channel_block = VW};
