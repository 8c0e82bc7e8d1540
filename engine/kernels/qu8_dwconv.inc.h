/* Template: 8-bit depthwise convolution, any kernel up to 11x11, stride and
 * dilation, for one ISA; include after one simd_<isa>.h.
 *
 * It sums in float, and exactly: x - z and w are integers of at most 9 bits,
 * so every product is below 2^16 and every partial sum of up to 121 taps
 * below 2^23, all exact in float32 (24-bit significand); the sum is then
 * the reference's int32 accumulator converted to float, to the bit. That
 * turns each tap into one FMA, as in the float kernel, once the input is in
 * float: rows of a tile of output columns are converted once into a
 * scratch (x - z, and 0 outside the input, which is how the reference
 * skips those taps) and every tap of every pixel of the tile reads them
 * from there.
 *
 * Packed: scale[cp], bias[cp], then per vector of VW channels, per tap, VW
 * weights as floats (zero past out_c). */
#include "qu8_dw_columns.h"
#include "qu8_epilogue_vec.h"

#include <limits.h>

#define MAX_KERNEL 11
/* Bytes of converted input per tile (on the stack). */
#define SCRATCH_BYTES 24576
#define SCRATCH_VECTORS (SCRATCH_BYTES / (int)sizeof(vf))
/* More than a ring can have (span^2 <= SCRATCH_VECTORS, dw_tiling_of), and
   at least a kernel's rows: the scratch rows' count bound. */
#define MAX_SCRATCH_ROWS 28
_Static_assert(MAX_SCRATCH_ROWS * MAX_SCRATCH_ROWS > SCRATCH_VECTORS &&
                   MAX_SCRATCH_ROWS >= MAX_KERNEL,
               "MAX_SCRATCH_ROWS bounds the scratch rows");
/* Bytes of input rows that make one band (see dw_run). */
#define DW_L2_INPUT (256 * 1024)
/* Output pixels whose taps go at once: independent FMA chains. */
#define DW_PIXELS 4
/* Scratch columns the taps of DW_PIXELS pixels of a dense tile span, at
   most (dw_pixels: a 5x5 kernel dilated by 2). */
#define DW_MAX_COLUMNS ((DW_PIXELS - 1) + 4 * 2 + 1)

static size_t dw_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static size_t dw_packed_size(int out_c, int in_c, int kernel) {
  (void)in_c;
  const size_t cp = dw_round_up((size_t)out_c, VW);
  return sizeof(float) * cp * (2 + (size_t)kernel * kernel);
}

static void dw_pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                    int out_c, int in_c, int kernel, void *dst) {
  (void)in_zero; /* subtracted from every input as it is converted */
  const size_t cp = dw_round_up((size_t)out_c, VW);
  const int taps = kernel * kernel;
  memset(dst, 0, dw_packed_size(out_c, in_c, kernel));
  float *s = dst, *b = s + cp, *w = b + cp;
  memcpy(s, scale, (size_t)out_c * sizeof *s);
  memcpy(b, bias, (size_t)out_c * sizeof *b);
  for (int c = 0; c < out_c; c++)
    for (int t = 0; t < taps; t++)
      w[((size_t)(c / VW) * taps + t) * VW + c % VW] = (float)weight[(size_t)c * taps + t];
}

/* How a tile maps scratch rows to the input's (its columns: map): dense
   tiles keep every input row they span, in a ring, for the output rows
   after (so each input element is converted about once); the others keep
   one row per kernel row, converted again for each output row. */
typedef struct dw_tiling {
  dw_columns map;
  int rows; /* scratch rows: a ring of input rows, or one per kernel row */
  int ring;
  int columns; /* scratch columns per row */
} dw_tiling;

static dw_tiling dw_tiling_of(const mnv3_qconv_args *a) {
  const int K = a->kernel, span = (K - 1) * a->dilation + 1;
  const int ring = SCRATCH_VECTORS / span >= span;
  const int rows = ring ? span : K, columns = SCRATCH_VECTORS / rows;
  return (dw_tiling){dw_columns_of(a, columns, INT_MAX), rows, ring, columns};
}

/* VW channels of one input pixel (n of them real; the others read as long
   as they lie in the input, and are multiplied by zero weights) minus the
   zero point, as floats. */
static inline vf dw_load(const uint8_t *p, int n, int whole, vf zero) {
  return vsub(vcvt_f(vload_u8_n(p, whole ? VW : n)), zero);
}

/* np (1..DW_PIXELS) output pixels, whose first tap column is col0 in the
   scratch. dense_k: 0, or the kernel size of a dense tile's layer (3x3 and
   5x5 at stride 1 or 2, 5x5 dilated by 2 at stride 1: dense_stride and
   dense_dilation), whose neighbouring pixels' taps share scratch columns:
   each column is then loaded once for all of them (the taps are bound by
   loads, not by FMAs: 27 loads instead of 45 for 4 pixels of a 3x3 kernel
   at stride 1). */
static inline __attribute__((always_inline)) void
dw_pixels(const int np, const int dense_k, const int dense_stride, const int dense_dilation,
          const mnv3_qconv_args *a, const vf *const *rows,
          int col0, const dw_tiling *t, const float *w, const float *scale, const float *bias,
          size_t index, size_t out_c, int n, const q_layer *k, const mnv3_act act,
          const int form) {
  vf acc[DW_PIXELS];
#pragma GCC unroll 4
  for (int j = 0; j < np; j++)
    acc[j] = vzero();
  if (dense_k) {
#pragma GCC unroll 5
    for (int ky = 0; ky < dense_k; ky++) {
      const vf *row = rows[ky] + col0;
      vf column[DW_MAX_COLUMNS];
#pragma GCC unroll 12
      for (int i = 0; i < (np - 1) * dense_stride + (dense_k - 1) * dense_dilation + 1; i++)
        column[i] = row[i];
#pragma GCC unroll 5
      for (int kx = 0; kx < dense_k; kx++) {
        const vf wt = vload(w + (size_t)(ky * dense_k + kx) * VW);
#pragma GCC unroll 4
        for (int j = 0; j < np; j++)
          acc[j] = vfma(column[j * dense_stride + kx * dense_dilation], wt, acc[j]);
      }
    }
  } else {
    const int K = a->kernel;
    for (int ky = 0; ky < K; ky++) {
      const vf *row = rows[ky] + col0;
      for (int kx = 0; kx < K; kx++) {
        const vf wt = vload(w + (size_t)(ky * K + kx) * VW);
#pragma GCC unroll 4
        for (int j = 0; j < np; j++)
          acc[j] = vfma(row[j * t->map.pixel_step + kx * t->map.tap_step], wt, acc[j]);
      }
    }
  }
  q_store_batch(k, np, acc, scale, bias, index, out_c, n, act, form);
}

/* Output rows [row_begin, row_end), channels [oc_begin, oc_end). */
static inline __attribute__((always_inline)) void
dw_rows(const mnv3_qconv_args *a, int row_begin, int row_end, const dw_tiling *t,
        const q_layer *k, const mnv3_act act, const int form) {
  const int C = a->out_c, K = a->kernel, taps = K * K;
  const size_t cp = dw_round_up((size_t)C, VW);
  const float *scale = a->packed, *bias = scale + cp, *weights = bias + cp;
  const size_t input_bytes = (size_t)a->in_h * a->in_w * C;
  const vf zero = vset1((float)a->in_zero);
  /* The steps of a dense tile (one that reads the input column by column)
     for dw_pixels' dense cases; 0 for the others. */
  const int stride = t->map.in_step == 1 ? t->map.pixel_step : 0, dilation = t->map.tap_step;
  vf scratch[SCRATCH_VECTORS];
  int held[MAX_SCRATCH_ROWS]; /* the input row in each scratch row */
  const vf *rows[MAX_KERNEL];
  for (int c = a->oc_begin; c < a->oc_end; c += VW) {
    const int n = C - c < VW ? C - c : VW;
    const float *w = weights + (size_t)(c / VW) * taps * VW;
    for (int x0 = 0; x0 < a->out_w; x0 += t->map.pixels) {
      const int np = a->out_w - x0 < t->map.pixels ? a->out_w - x0 : t->map.pixels;
      const int used =
          t->map.pixel_step ? (np - 1) * t->map.pixel_step + (K - 1) * t->map.tap_step + 1 : K;
      const int ix0 = x0 * a->stride - a->pad_left;
      for (int r = 0; r < t->rows; r++)
        held[r] = INT_MIN;
      for (int oy = row_begin; oy < row_end; oy++) {
        for (int ky = 0; ky < K; ky++) {
          const int iy = oy * a->stride - a->pad_top + ky * a->dilation;
          const int slot = t->ring ? (iy % t->rows + t->rows) % t->rows : ky;
          vf *row = scratch + (size_t)slot * t->columns;
          rows[ky] = row;
          if (t->ring && held[slot] == iy)
            continue;
          held[slot] = iy;
          /* Columns [lo, hi) lie in the input; the others are padding. */
          int lo = 0, hi = 0;
          if (iy >= 0 && iy < a->in_h) {
            lo = ix0 < 0 ? (-ix0 + t->map.in_step - 1) / t->map.in_step : 0;
            hi = (a->in_w - ix0 + t->map.in_step - 1) / t->map.in_step;
            hi = hi < 0 ? 0 : hi < used ? hi : used;
            lo = lo < hi ? lo : hi;
          }
          for (int col = 0; col < lo; col++)
            row[col] = vzero();
          const size_t step = (size_t)t->map.in_step * C;
          size_t at = ((size_t)iy * a->in_w + (size_t)(ix0 + lo * t->map.in_step)) * C + c;
          for (int col = lo; col < hi; col++, at += step)
            row[col] = dw_load(a->input + at, n, at + VW <= input_bytes, zero);
          for (int col = hi; col < used; col++)
            row[col] = vzero();
        }
        const size_t index = ((size_t)oy * a->out_w + x0) * C + c;
        int j = 0;
#define DW_ROW(DENSE_K, DENSE_STRIDE, DENSE_DILATION)                          \
  do {                                                                         \
    for (; j + DW_PIXELS <= np; j += DW_PIXELS)                                \
      dw_pixels(DW_PIXELS, DENSE_K, DENSE_STRIDE, DENSE_DILATION, a, rows,     \
                j * t->map.pixel_step, t, w, scale + c, bias + c,              \
                index + (size_t)j * C, (size_t)C, n, k, act, form);            \
    for (; j < np; j++)                                                        \
      dw_pixels(1, DENSE_K, DENSE_STRIDE, DENSE_DILATION, a, rows,             \
                j * t->map.pixel_step, t, w, scale + c, bias + c,              \
                index + (size_t)j * C, (size_t)C, n, k, act, form);            \
  } while (0)
        if (K == 3 && stride == 1 && dilation == 1)
          DW_ROW(3, 1, 1);
        else if (K == 5 && stride == 1 && dilation == 1)
          DW_ROW(5, 1, 1);
        else if (K == 3 && stride == 2 && dilation == 1)
          DW_ROW(3, 2, 1);
        else if (K == 5 && stride == 2 && dilation == 1)
          DW_ROW(5, 2, 1);
        else if (K == 5 && stride == 1 && dilation == 2)
          DW_ROW(5, 1, 2);
        else
          DW_ROW(0, 0, 0);
#undef DW_ROW
      }
    }
  }
}

static void dw_run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const q_layer layer = q_layer_of(a), *k = &layer;
  const dw_tiling t = dw_tiling_of(a);
  /* Bands of output rows whose input rows stay in L2 while each vector of
     channels passes over them: a pixel's channels share cache lines, so
     every vector of them would otherwise read the input from memory. */
  const size_t span = (size_t)(a->kernel - 1) * a->dilation + 1;
  const size_t fit = DW_L2_INPUT / ((size_t)a->in_w * a->out_c);
  const int band = fit > span ? (int)((fit - span) / (size_t)a->stride) + 1 : 1;
  for (int b0 = row_begin; b0 < row_end; b0 += band) {
    const int b1 = row_end - b0 < band ? row_end : b0 + band;
    Q_BY_LAYER(k, dw_rows(a, b0, b1, &t, k, act, form));
  }
}

const mnv3_qconv_kernel ISA_SUFFIX(mnv3_qu8_dwconv) = {.name = "qu8_dwconv__" ISA_STR,
                                                      .packed_size = dw_packed_size,
                                                      .pack = dw_pack,
                                                      .run = dw_run,
                                                      .channel_block = VW,
                                                      .max_kernel = MAX_KERNEL};
