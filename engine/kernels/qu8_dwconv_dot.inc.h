/* Template: 8-bit depthwise convolution on a 4-way uint8 x int8 dot
 * product into int32 lanes (x86 VNNI's vpdpbusd). Include after one
 * simd_<isa>.h, with DWDOT_NAME (the kernel's symbol), DWDOT_STR (its ISA)
 * and vdot_u8s8 defined as for qu8_conv1x1_dot.inc.h.
 *
 * A lane's 4 bytes hold one channel at 4 kernel rows: for each output row,
 * the kernel's rows go in groups of 4 (the last group's missing rows with
 * zero weights), the input columns a tile of output pixels reads are
 * interleaved once per group (vload_u8_rows4) into a scratch, and each
 * kernel column of a pixel is one dot product with that group's weights:
 * 3 for a 3x3 kernel where a float sum takes 9 multiply-adds, 10 for a
 * 5x5 instead of 25, and no conversion of the input. The input zero point
 * z is folded into the accumulators' start (sum (x - z) w = sum x w - z
 * sum w), and taps outside the input read z, so they add 0, as the
 * reference's skipped taps. int32 sums, exact: the reference's to the bit.
 *
 * At stride 1, the rows a kernel leaves free in its last group serve
 * the next output rows: 4 x groups - k + 1 output rows (2 for a 3x3, 4
 * for a 5x5) share one interleave of their input rows, each with its own
 * copy of the weights shifted down by its row (the interleave was 35 % of
 * a 3x3 layer's time, 25 % of a 5x5's), at the same count of dot products.
 *
 * Packed: a 64-byte header (the plane count, qu8_dot_weights.h), scale[cp]
 * and bias[cp] (float), start[cp] (int32: -z sum w), then per vector of VW
 * channels, per plane, per group of 4 kernel rows, per kernel column, VW x
 * 4 int8 (a channel's 4 rows together; zero past the kernel and out_c);
 * then the same again for each output row after the first that shares an
 * interleave, the kernel's rows shifted down by that row. */
#include "qu8_dot_weights.h"
#include "qu8_dw_columns.h"
#include "qu8_epilogue_vec.h"

#include <stddef.h>
#include <string.h>

#define DWD_HEADER 64
#define DWD_MAX_PLANES 2
#define DWD_MAX_KERNEL 11
#define DWD_MAX_GROUPS ((DWD_MAX_KERNEL + 3) / 4)
/* Scratch columns per group (DWD_MAX_GROUPS x this many vectors on the
   stack: 24 KB with AVX-512) and output pixels per tile at most. */
#define DWD_MAX_COLUMNS 128
#define DWD_TILE 32
/* Output pixels whose dot products go at once: independent chains. */
#define DWD_PIXELS 4

static size_t dwd_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static int dwd_groups(int kernel) { return (kernel + 3) / 4; }

/* Bytes of one plane of one vector of channels. */
static size_t dwd_plane_bytes(int kernel) {
  return (size_t)dwd_groups(kernel) * kernel * VW * 4;
}

/* Output rows per interleave at stride 1, and so weight sets: set r has
   kernel row ky in row r + ky of the groups. */
static int dwd_sets(int kernel) { return 4 * dwd_groups(kernel) - kernel + 1; }

static size_t dwd_packed_size(int out_c, int in_c, int kernel) {
  (void)in_c;
  const size_t cp = dwd_round_up((size_t)out_c, VW);
  return DWD_HEADER + 12 * cp +
         dwd_sets(kernel) * cp / VW * DWD_MAX_PLANES * dwd_plane_bytes(kernel);
}

/* The range [lo, hi] (holding 0) of a channel's n weights. */
static void dwd_range(const int16_t *w, int n, int *lo, int *hi) {
  *lo = *hi = 0;
  for (int t = 0; t < n; t++) {
    *lo = w[t] < *lo ? w[t] : *lo;
    *hi = w[t] > *hi ? w[t] : *hi;
  }
}

static void dwd_pack(const int16_t *weight, const float *scale, const float *bias, int in_zero,
                     int out_c, int in_c, int kernel, void *dst) {
  memset(dst, 0, dwd_packed_size(out_c, in_c, kernel));
  const size_t cp = dwd_round_up((size_t)out_c, VW);
  const int taps = kernel * kernel, groups = dwd_groups(kernel);
  int32_t planes = 1;
  for (int c = 0; c < out_c; c++) {
    int lo, hi;
    dwd_range(weight + (size_t)c * taps, taps, &lo, &hi);
    if (!qu8_fits_int8(lo, hi))
      planes = 2;
  }
  memcpy(dst, &planes, sizeof planes);
  float *s = (float *)((uint8_t *)dst + DWD_HEADER), *b = s + cp;
  int32_t *start = (int32_t *)(b + cp);
  int8_t *w = (int8_t *)(start + cp);
  const size_t set_bytes = cp / VW * planes * dwd_plane_bytes(kernel);
  for (int c = 0; c < out_c; c++) {
    const int16_t *kw = weight + (size_t)c * taps;
    int lo, hi;
    dwd_range(kw, taps, &lo, &hi);
    const int sign = qu8_channel_sign(hi, planes);
    int32_t sum = 0;
    for (int ky = 0; ky < kernel; ky++)
      for (int kx = 0; kx < kernel; kx++) {
        const int v = sign * kw[ky * kernel + kx];
        sum += v;
        for (int pl = 0; pl < planes; pl++)
          for (int set = 0; set < dwd_sets(kernel); set++) {
            const int row = set + ky;
            const size_t vec = ((size_t)(c / VW) * planes + pl) * groups + row / 4;
            w[set * set_bytes + (vec * kernel + kx) * VW * 4 + (size_t)(c % VW) * 4 + row % 4] =
                qu8_plane_weight(v, pl, planes);
          }
      }
    start[c] = -in_zero * sum;
    s[c] = (float)sign * scale[c];
    b[c] = bias[c];
  }
}

/* One scratch column: a group's 4 rows interleaved, or its one row
   zero-extended. */
static inline __attribute__((always_inline)) vi dwd_column(int rows, const uint8_t *p0,
                                                           const uint8_t *p1,
                                                           const uint8_t *p2,
                                                           const uint8_t *p3) {
  return rows == 1 ? vload_u8_n(p0, VW) : vload_u8_rows4(p0, p1, p2, p3);
}

/* count scratch columns from 4 rows, row r from p[r] on in steps of
   step[r] bytes (0 for a row of the zero point: padding, and rows past the
   kernel). Out of line: one loop for every kind of layer, with its
   pointers in registers. A group with one kernel row (the fifth of a 5x5
   kernel: rows past the kernel have zero weights, any bytes do) takes the
   row's bytes zero-extended, one instruction instead of an interleave of
   four. A vector reaching past the input (the last channels of the
   input's last pixel) is read from a copy. */
static __attribute__((noinline)) void dwd_interleave(int rows, const uint8_t *p0,
                                                     const uint8_t *p1, const uint8_t *p2,
                                                     const uint8_t *p3, const size_t step[4],
                                                     int count, vi *out, const uint8_t *end,
                                                     const uint8_t *zrow) {
  const uint8_t *const first[4] = {p0, p1, p2, p3};
  int whole = count; /* columns whose vectors all lie in the input */
  for (int r = 0; r < 4; r++)
    if (step[r]) {
      const ptrdiff_t room = end - first[r] - VW;
      const int fit = room < 0 ? 0 : (int)(room / (ptrdiff_t)step[r]) + 1;
      whole = fit < whole ? fit : whole;
    }
  const size_t s0 = step[0], s1 = step[1], s2 = step[2], s3 = step[3];
  int i = 0;
  if (rows == 1)
    for (; i < whole; i++, p0 += s0)
      out[i] = vload_u8_n(p0, VW);
  else
    for (; i < whole; i++, p0 += s0, p1 += s1, p2 += s2, p3 += s3)
      out[i] = vload_u8_rows4(p0, p1, p2, p3);
  for (; i < count; i++, p0 += s0, p1 += s1, p2 += s2, p3 += s3) {
    const uint8_t *q[4] = {p0, p1, p2, p3};
    uint8_t copy[4][VW];
    for (int r = 0; r < 4; r++)
      if (step[r] && q[r] + VW > end) {
        memcpy(copy[r], zrow, VW);
        memcpy(copy[r], q[r], (size_t)(end - q[r]));
        q[r] = copy[r];
      }
    out[i] = dwd_column(rows, q[0], q[1], q[2], q[3]);
  }
}

/* np (1..DWD_PIXELS) output pixels from scratch column col0; K and planes
   constants where the caller makes them so. */
static inline __attribute__((always_inline)) void
dwd_pixels(const int np, const int K, const int planes, vi cols[][DWD_MAX_COLUMNS], int col0,
           const dw_columns *t, const int8_t *w, const int32_t *start, const float *scale,
           const float *bias, size_t index, size_t out_c, int n, const q_layer *k,
           const mnv3_act act, const int form) {
  const int groups = dwd_groups(K);
  vi acc[DWD_PIXELS];
#pragma GCC unroll 4
  for (int j = 0; j < np; j++)
    acc[j] = vload_i(start);
#pragma GCC unroll 2
  for (int pl = 0; pl < planes; pl++)
#pragma GCC unroll 3
    for (int g = 0; g < groups; g++)
#pragma GCC unroll 11
      for (int kx = 0; kx < K; kx++) {
        const vi wv =
            vload_i((const int *)(const void *)(w + ((size_t)(pl * groups + g) * K + kx) * VW * 4));
#pragma GCC unroll 4
        for (int j = 0; j < np; j++)
          acc[j] = vdot_u8s8(acc[j], cols[g][col0 + j * t->pixel_step + kx * t->tap_step], wv);
      }
  vf sums[DWD_PIXELS];
#pragma GCC unroll 4
  for (int j = 0; j < np; j++)
    sums[j] = vcvt_f(acc[j]);
  q_store_batch(k, np, sums, scale, bias, index, out_c, n, act, form);
}

/* Output rows [row_begin, row_end), channels [oc_begin, oc_end). */
static inline __attribute__((always_inline)) void
dwd_rows(const mnv3_qconv_args *a, int row_begin, int row_end, const dw_columns *t,
         const q_layer *k, const mnv3_act act, const int form) {
  const int C = a->out_c, K = a->kernel, groups = dwd_groups(K);
  const size_t cp = dwd_round_up((size_t)C, VW);
  int32_t planes;
  memcpy(&planes, a->packed, sizeof planes);
  const float *scale = (const float *)((const uint8_t *)a->packed + DWD_HEADER);
  const float *bias = scale + cp;
  const int32_t *start = (const int32_t *)(bias + cp);
  const int8_t *weights = (const int8_t *)(start + cp);
  const size_t vector_bytes = (size_t)planes * dwd_plane_bytes(K);
  const size_t set_bytes = cp / VW * vector_bytes;
  /* Output rows per interleave (dwd_sets). */
  const int shared = a->stride == 1 && a->dilation == 1 ? dwd_sets(K) : 1;
  const uint8_t *end = a->input + (size_t)a->in_h * a->in_w * C;
  uint8_t zrow[VW];
  memset(zrow, a->in_zero, sizeof zrow);
  const vi padding = vload_u8_rows4(zrow, zrow, zrow, zrow);
  vi cols[DWD_MAX_GROUPS][DWD_MAX_COLUMNS];
  for (int oy = row_begin, rows; oy < row_end; oy += rows) {
    rows = row_end - oy < shared ? row_end - oy : shared;
    for (int x0 = 0; x0 < a->out_w; x0 += t->pixels) {
      const int np = a->out_w - x0 < t->pixels ? a->out_w - x0 : t->pixels;
      const int used = t->pixel_step ? (np - 1) * t->pixel_step + (K - 1) * t->tap_step + 1 : K;
      const int ix0 = x0 * a->stride - a->pad_left;
      /* Columns [lo, hi) lie in the input; the others are padding. */
      int lo = ix0 < 0 ? (-ix0 + t->in_step - 1) / t->in_step : 0;
      int hi = (a->in_w - ix0 + t->in_step - 1) / t->in_step;
      hi = hi < 0 ? 0 : hi < used ? hi : used;
      lo = lo < hi ? lo : hi;
      for (int c = a->oc_begin; c < a->oc_end; c += VW) {
        const int n = C - c < VW ? C - c : VW;
        for (int g = 0; g < groups; g++) {
          const uint8_t *p[4];
          size_t step[4];
          for (int r = 0; r < 4; r++) {
            const int ky = 4 * g + r, iy = oy * a->stride - a->pad_top + ky * a->dilation;
            const int inside = ky < K + rows - 1 && iy >= 0 && iy < a->in_h;
            p[r] = inside ? a->input + ((size_t)iy * a->in_w + ix0 + lo * t->in_step) * C + c
                          : zrow;
            step[r] = inside ? (size_t)t->in_step * C : 0;
          }
          vi *col = cols[g];
          for (int i = 0; i < lo; i++)
            col[i] = padding;
          dwd_interleave(K + rows - 1 - 4 * g, p[0], p[1], p[2], p[3], step, hi - lo, col + lo,
                         end, zrow);
          for (int i = hi; i < used; i++)
            col[i] = padding;
        }
        for (int r = 0; r < rows; r++) {
          const int8_t *w = weights + r * set_bytes + (size_t)(c / VW) * vector_bytes;
          const size_t index = ((size_t)(oy + r) * a->out_w + x0) * C + c;
          int j = 0;
#define DWD_ROW(KC, PLANES)                                                    \
  do {                                                                         \
    for (; j + DWD_PIXELS <= np; j += DWD_PIXELS)                              \
      dwd_pixels(DWD_PIXELS, KC, PLANES, cols, j * t->pixel_step, t, w,        \
                 start + c, scale + c, bias + c, index + (size_t)j * C,        \
                 (size_t)C, n, k, act, form);                                  \
    for (; j < np; j++)                                                        \
      dwd_pixels(1, KC, PLANES, cols, j * t->pixel_step, t, w, start + c,      \
                 scale + c, bias + c, index + (size_t)j * C, (size_t)C, n, k,  \
                 act, form);                                                   \
  } while (0)
          if (K == 3 && planes == 1)
            DWD_ROW(3, 1);
          else if (K == 5 && planes == 1)
            DWD_ROW(5, 1);
          else
            DWD_ROW(K, planes);
#undef DWD_ROW
        }
      }
    }
  }
}

static void dwd_run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const q_layer layer = q_layer_of(a), *k = &layer;
  const dw_columns t = dw_columns_of(a, DWD_MAX_COLUMNS, DWD_TILE);
  Q_BY_LAYER(k, dwd_rows(a, row_begin, row_end, &t, k, act, form));
}

const mnv3_qconv_kernel DWDOT_NAME = {.name = "qu8_dwconv__" DWDOT_STR,
                                      .packed_size = dwd_packed_size,
                                      .pack = dwd_pack,
                                      .run = dwd_run,
                                      .channel_block = VW,
                                      .max_kernel = DWD_MAX_KERNEL};
