/* Template: depthwise convolution, any kernel, stride and dilation, for one
 * ISA. Include after one simd_<isa>.h with these defined:
 *   DW_PX  output pixels in flight in the interior (independent FMA chains)
 *   DW_CB  channel vectors per border pixel
 * and optionally (defaults below):
 *   DW_KMAX       the largest kernel the unrolled paths keep in registers (5)
 *   DW_TILE_BYTES L1 bytes for the kernel rows of a 5x5 column tile (24K)
 *
 * Channels are vectorised; the weights are packed bias[cp], w[k*k][cp] with
 * cp the channel count rounded up to whole vectors. Like the reference, a
 * tap outside the input is skipped, and the taps are summed ky then kx
 * ascending from the bias, in every path (interior, border, any thread). */
#include "simd_epilogue.h"

#include <string.h>

static inline size_t dw_padded(int c) { return ((size_t)c + VW - 1) / VW * VW; }

static size_t dwconv_packed_size(int out_c, int in_c, int kernel) {
  (void)in_c;
  return dw_padded(out_c) * (1 + (size_t)kernel * kernel);
}

static void dwconv_pack(const float *weight, const float *bias, int out_c,
                        int in_c, int kernel, float *dst) {
  (void)in_c;
  const size_t cp = dw_padded(out_c);
  memset(dst, 0, dwconv_packed_size(out_c, in_c, kernel) * sizeof *dst);
  memcpy(dst, bias, (size_t)out_c * sizeof *dst);
  for (int c = 0; c < out_c; c++)
    for (int t = 0; t < kernel * kernel; t++)
      dst[cp * (1 + (size_t)t) + c] = weight[(size_t)c * kernel * kernel + t];
}

/* Input row iy: in the tensor, or where the fused executor keeps it. */
static inline const float *dw_input_row(const mnv3_conv_args *a, int iy) {
  return a->rows ? a->rows[iy] : a->input + (size_t)iy * a->in_w * a->in_c;
}

/* Loads n lanes: whole vectors in the common case, masked at the tail. */
static inline __attribute__((always_inline)) vf dw_load(const float *p, int full, int n) {
  return full ? vload(p) : vload_n(p, n);
}

static inline __attribute__((always_inline)) void
dw_finish(const mnv3_conv_args *a, vf v, size_t index, int full, int n,
          const vepilogue *e) {
  v = vpre_clamp(v, e);
  if (a->residual)
    v = vadd(v, dw_load(a->residual + index, full, n));
  v = vactivate(v, e);
  if (full)
    vstore(a->output + index, v);
  else
    vstore_n(a->output + index, v, n);
}

/* Channels [c, c + nv * VW) (the last vector may hold fewer, up to c_end)
 * of one output pixel, taps clipped to the input: the border path. nv
 * vectors in flight keep the FMA units busy without pixel blocking. */
static inline __attribute__((always_inline)) void
dw_pixel(const mnv3_conv_args *a, int oy, int ox, int c, const int nv, int c_end,
         const int K, const int S, const int D, const vepilogue *e) {
  const int C = a->out_c;
  const size_t cp = dw_padded(C);
  const float *w = a->packed + cp + c;
  const int iy0 = oy * S - a->pad_top, ix0 = ox * S - a->pad_left;
  const int last_n = c_end - (c + (nv - 1) * VW); /* lanes of the last vector */
  vf acc[DW_CB];
#pragma GCC unroll 16
  for (int j = 0; j < nv; j++)
    acc[j] = vload(a->packed + c + j * VW);
  for (int ky = 0; ky < K; ky++) {
    const int iy = iy0 + ky * D;
    if (iy < 0 || iy >= a->in_h)
      continue;
    for (int kx = 0; kx < K; kx++) {
      const int ix = ix0 + kx * D;
      if (ix < 0 || ix >= a->in_w)
        continue;
      const float *in = dw_input_row(a, iy) + (size_t)ix * C + c;
      const float *wk = w + (size_t)(ky * K + kx) * cp;
#pragma GCC unroll 16
      for (int j = 0; j < nv; j++)
        acc[j] = vfma(dw_load(in + j * VW, j < nv - 1 || last_n == VW, last_n),
                      vload(wk + j * VW), acc[j]);
    }
  }
  const size_t index = ((size_t)oy * a->out_w + ox) * C + c;
#pragma GCC unroll 16
  for (int j = 0; j < nv; j++)
    dw_finish(a, acc[j], index + j * VW, j < nv - 1 || last_n == VW,
              j < nv - 1 ? VW : last_n, e);
}

/* PX interior pixels (every column tap inside) from ox on, one channel
 * vector, rows ky_lo..ky_hi (the rows inside the input). With COLS (the
 * unrolled shapes, K <= DW_KMAX), each input column of a row is loaded once
 * and feeds every pixel and tap that reads it: (PX - 1) * S + (K - 1) * D + 1
 * loads per row instead of PX * K, and one pointer stepping by C instead of
 * PX * K addresses. A pixel's taps still arrive kx ascending within ky
 * ascending (column j = p * S + kx * D grows with kx), so the sums are the
 * same as the generic path's. */
#ifndef DW_KMAX
#define DW_KMAX 5
#endif
static inline __attribute__((always_inline)) void
dw_block(const mnv3_conv_args *a, int oy, int ox, int c, int full, int n,
         const int K, const int S, const int D, const int PX, int ky_lo, int ky_hi,
         const int COLS, const vepilogue *e) {
  const int C = a->out_c;
  const size_t cp = dw_padded(C);
  const float *w = a->packed + cp + c;
  const int iy0 = oy * S - a->pad_top, ix0 = ox * S - a->pad_left;
  vf acc[DW_PX];
  const vf b = vload(a->packed + c);
#pragma GCC unroll 16
  for (int p = 0; p < PX; p++)
    acc[p] = b;
  if (COLS) {
    const int ncol = (PX - 1) * S + (K - 1) * D + 1;
#pragma GCC unroll 5
    for (int ky = ky_lo; ky < ky_hi; ky++) {
      vf wv[DW_KMAX];
#pragma GCC unroll 5
      for (int kx = 0; kx < K; kx++)
        wv[kx] = vload(w + (size_t)(ky * K + kx) * cp);
      const float *x = dw_input_row(a, iy0 + ky * D) + (size_t)ix0 * C + c;
#pragma GCC unroll 32
      for (int j = 0; j < ncol; j++) {
        const vf xv = dw_load(x, full, n);
        x += C;
#pragma GCC unroll 5
        for (int kx = 0; kx < K; kx++) {
          const int t = j - kx * D; /* = p * S for the pixel p this tap feeds */
          if (t >= 0 && t % S == 0 && t / S < PX)
            acc[t / S] = vfma(xv, wv[kx], acc[t / S]);
        }
      }
    }
  } else {
#pragma GCC unroll 5
    for (int ky = ky_lo; ky < ky_hi; ky++)
#pragma GCC unroll 5
      for (int kx = 0; kx < K; kx++) {
        const vf wv = vload(w + (size_t)(ky * K + kx) * cp);
        const float *row =
            dw_input_row(a, iy0 + ky * D) + (size_t)(ix0 + kx * D) * C + c;
#pragma GCC unroll 16
        for (int p = 0; p < PX; p++)
          acc[p] = vfma(dw_load(row + (size_t)p * S * C, full, n), wv, acc[p]);
      }
  }
  const size_t index = ((size_t)oy * a->out_w + ox) * C + c;
#pragma GCC unroll 16
  for (int p = 0; p < PX; p++)
    dw_finish(a, acc[p], index + (size_t)p * C, full, n, e);
}

/* PX interior pixels, every channel vector (channels innermost, so that
 * consecutive loads stay in the same cache lines). */
static inline __attribute__((always_inline)) void
dw_blocks(const mnv3_conv_args *a, int oy, int ox, const int K, const int S,
          const int D, const int PX, int ky_lo, int ky_hi, const int COLS,
          const vepilogue *e) {
  int c = a->oc_begin;
  if (ky_lo == 0 && ky_hi == K) { /* constant bounds: fully unrolled taps */
    for (; c + VW <= a->oc_end; c += VW)
      dw_block(a, oy, ox, c, 1, VW, K, S, D, PX, 0, K, COLS, e);
  } else {
    for (; c + VW <= a->oc_end; c += VW)
      dw_block(a, oy, ox, c, 1, VW, K, S, D, PX, ky_lo, ky_hi, COLS, e);
  }
  if (c < a->oc_end)
    dw_block(a, oy, ox, c, 0, a->oc_end - c, K, S, D, PX, ky_lo, ky_hi, COLS, e);
}

/* Every channel of one border pixel, DW_CB vectors at a time. */
static inline __attribute__((always_inline)) void
dw_pixels(const mnv3_conv_args *a, int oy, int ox, const int K, const int S,
          const int D, const vepilogue *e) {
  int c = a->oc_begin;
  for (; c + DW_CB * VW <= a->oc_end; c += DW_CB * VW)
    dw_pixel(a, oy, ox, c, DW_CB, c + DW_CB * VW, K, S, D, e);
  /* The rest in halving groups, so that a few chains still run side by
     side (one vector alone waits an FMA latency per tap). */
#pragma GCC unroll 4
  for (int nv = DW_CB / 2; nv >= 1; nv /= 2)
    while ((a->oc_end - c + VW - 1) / VW >= nv) {
      const int end = c + nv * VW < a->oc_end ? c + nv * VW : a->oc_end;
      dw_pixel(a, oy, ox, c, nv, end, K, S, D, e);
      c = end;
    }
}

/* Output row oy: columns whose taps are all inside in blocks of DW_PX (then
 * DW_PX / 2, and with COLS down to 1) pixels, the others pixel by pixel. */
static inline __attribute__((always_inline)) void
dw_row(const mnv3_conv_args *a, int oy, const int K, const int S, const int D,
       const int COLS, const vepilogue *e) {
  const int span = (K - 1) * D;
  const int iy0 = oy * S - a->pad_top;
  int ox_lo = (a->pad_left + S - 1) / S;
  int ox_hi = a->in_w - 1 - span + a->pad_left >= 0
                  ? (a->in_w - 1 - span + a->pad_left) / S + 1
                  : 0;
  if (ox_hi > a->out_w)
    ox_hi = a->out_w;
  if (ox_lo > ox_hi)
    ox_lo = ox_hi = a->out_w; /* every column is border */
  int ky_lo = 0, ky_hi = K;
  while (ky_lo < K && iy0 + ky_lo * D < 0)
    ky_lo++;
  while (ky_hi > ky_lo && iy0 + (ky_hi - 1) * D >= a->in_h)
    ky_hi--;
  int ox = 0;
  for (; ox < ox_lo; ox++)
    dw_pixels(a, oy, ox, K, S, D, e);
  for (; ox + DW_PX <= ox_hi; ox += DW_PX)
    dw_blocks(a, oy, ox, K, S, D, DW_PX, ky_lo, ky_hi, COLS, e);
  if (ox + DW_PX / 2 <= ox_hi) {
    dw_blocks(a, oy, ox, K, S, D, DW_PX / 2, ky_lo, ky_hi, COLS, e);
    ox += DW_PX / 2;
  }
  /* Narrow rows (7x7 with a 5x5 kernel has 3 interior columns) would
     otherwise go pixel by pixel; the column path gains even at 2 and 1. */
  if (COLS && DW_PX / 4 >= 1 && ox + DW_PX / 4 <= ox_hi) {
    dw_blocks(a, oy, ox, K, S, D, DW_PX / 4 >= 1 ? DW_PX / 4 : 1, ky_lo, ky_hi, COLS, e);
    ox += DW_PX / 4;
  }
  if (COLS && DW_PX / 8 >= 1 && ox + DW_PX / 8 <= ox_hi) {
    dw_blocks(a, oy, ox, K, S, D, DW_PX / 8 >= 1 ? DW_PX / 8 : 1, ky_lo, ky_hi, COLS, e);
    ox += DW_PX / 8;
  }
  for (; ox < a->out_w; ox++)
    dw_pixels(a, oy, ox, K, S, D, e);
}

static inline __attribute__((always_inline)) void
dw_rows(const mnv3_conv_args *a, int row_begin, int row_end, const int K,
        const int S, const int D, const int COLS) {
  const vepilogue ep = vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi);
  for (int oy = row_begin; oy < row_end; oy++)
    dw_row(a, oy, K, S, D, COLS, &ep);
}


/* ---- Channel-vector-outer path (5x5, stride 1) --------------------------
 * For one channel vector at a time: column tiles sized so that the kernel
 * rows of a tile stay in L1, then rows, then blocks of pixels. The pixel-
 * outer path above walks every channel per pixel block, which streams the
 * 25 taps of the wide 5x5 layers (28x28x120, 7x7x960) from L2; this order
 * measured 1.1-1.5x faster there and slower on the 3x3 and stride-2 layers,
 * so only 5x5 stride 1 takes it, on rows of 14 columns and more (in the
 * model, 7x7x960 after its expansion ran faster pixel-outer). Sums: bias +
 * taps, ky then kx ascending;
 * kernel rows outside the input are skipped, columns outside add x = 0 (the
 * same value as skipping, up to the sign of a zero). Which happens depends
 * only on the output position, so results do not depend on the split. */
#ifndef DW_TILE_BYTES
#define DW_TILE_BYTES (24 * 1024)
#endif

static inline __attribute__((always_inline)) void dwc_block(const mnv3_conv_args *a, const float *wv, int oy, int ox,
                        int c, const int full, int n, const int K, const int S,
                        const int D, const int PX, int ky_lo, int ky_hi,
                        const int GUARD, const vepilogue *e) {
  const int C = a->in_c;
  const int iy0 = oy * S - a->pad_top, ix0 = ox * S - a->pad_left;
  const int ncol = (PX - 1) * S + (K - 1) * D + 1;
  vf acc[DW_PX];
  /* wv: this vector's bias; its taps follow, dw_padded(C) floats apart. */
  const vf b = vload(wv);
#pragma GCC unroll 16
  for (int p = 0; p < PX; p++)
    acc[p] = b;
#pragma GCC unroll 5
  for (int ky = ky_lo; ky < ky_hi; ky++) {
    vf w[DW_KMAX];
#pragma GCC unroll 5
    for (int kx = 0; kx < K; kx++)
      w[kx] = vload(wv + (size_t)(1 + ky * K + kx) * dw_padded(a->out_c));
    const float *row = dw_input_row(a, iy0 + ky * D) + c;
#pragma GCC unroll 40
    for (int j = 0; j < ncol; j++) {
      const int ix = ix0 + j;
      vf x;
      if (GUARD) {
        x = vzero();
        if ((unsigned)ix < (unsigned)a->in_w)
          x = dw_load(row + (size_t)ix * C, full, n);
      } else {
        x = dw_load(row + (size_t)ix * C, full, n);
      }
#pragma GCC unroll 5
      for (int kx = 0; kx < K; kx++) {
        const int t = j - kx * D; /* = p * S for the pixel p this tap feeds */
        if (t >= 0 && t % S == 0 && t / S < PX)
          acc[t / S] = vfma(x, w[kx], acc[t / S]);
      }
    }
  }
  const size_t index = ((size_t)oy * a->out_w + ox) * a->out_c + c;
#pragma GCC unroll 16
  for (int p = 0; p < PX; p++)
    dw_finish(a, acc[p], index + (size_t)p * a->out_c, full, n, e);
}

/* A block of PX pixels: without checks when its kernel rows and columns are
 * all inside (and the vector is whole), else guarded. */
static inline __attribute__((always_inline)) void dwc_step(const mnv3_conv_args *a, const float *wv, int oy, int ox, int c,
                       const int full, int n, const int K, const int S, const int D,
                       const int PX, int ky_lo, int ky_hi, int rows_inside,
                       const vepilogue *e) {
  const int ix0 = ox * S - a->pad_left;
  if (full && rows_inside && ix0 >= 0 && ix0 + (PX - 1) * S + (K - 1) * D < a->in_w)
    dwc_block(a, wv, oy, ox, c, 1, VW, K, S, D, PX, 0, K, 0, e);
  else
    dwc_block(a, wv, oy, ox, c, full, n, K, S, D, PX, ky_lo, ky_hi, 1, e);
}

/* Output columns [x0, x1) of row oy, one channel vector: blocks of DW_PX
 * pixels, then halving blocks down to one for the rest. */
static inline __attribute__((always_inline)) void dwc_span(const mnv3_conv_args *a, const float *wv, int oy, int c,
                       const int full, int n, const int K, const int S, const int D,
                       int x0, int x1, int ky_lo, int ky_hi, int inside,
                       const vepilogue *e) {
  int ox = x0;
  for (; ox + DW_PX <= x1; ox += DW_PX)
    dwc_step(a, wv, oy, ox, c, full, n, K, S, D, DW_PX, ky_lo, ky_hi, inside, e);
  /* DW_SZ keeps sizes of DW_PX and above out of the instances. */
#define DW_SZ(m) (DW_PX > (m) ? (m) : 1)
  if (DW_PX > 8 && ox + 8 <= x1) {
    dwc_step(a, wv, oy, ox, c, full, n, K, S, D, DW_SZ(8), ky_lo, ky_hi, inside, e);
    ox += 8;
  }
  if (DW_PX > 4 && ox + 4 <= x1) {
    dwc_step(a, wv, oy, ox, c, full, n, K, S, D, DW_SZ(4), ky_lo, ky_hi, inside, e);
    ox += 4;
  }
  if (DW_PX > 2 && ox + 2 <= x1) {
    dwc_step(a, wv, oy, ox, c, full, n, K, S, D, DW_SZ(2), ky_lo, ky_hi, inside, e);
    ox += 2;
  }
#undef DW_SZ
  if (ox < x1)
    dwc_step(a, wv, oy, ox, c, full, n, K, S, D, 1, ky_lo, ky_hi, inside, e);
}

/* Output columns [x0, x1) of row oy, one channel vector: the left border
 * columns, the interior ones (whose taps are all inside: no checks), the
 * right border ones. */
static inline __attribute__((always_inline)) void dwc_row(const mnv3_conv_args *a, const float *wv, int oy, int c,
                      const int full, int n, const int K, const int S, const int D,
                      int x0, int x1, const vepilogue *e) {
  const int iy0 = oy * S - a->pad_top;
  int ky_lo = 0, ky_hi = K;
  while (ky_lo < K && iy0 + ky_lo * D < 0)
    ky_lo++;
  while (ky_hi > ky_lo && iy0 + (ky_hi - 1) * D >= a->in_h)
    ky_hi--;
  const int inside = ky_lo == 0 && ky_hi == K;
  /* One span: splitting at the interior columns would leave small blocks
     at the borders (7x7 rows), which measured slower than guarded blocks. */
  dwc_span(a, wv, oy, c, full, n, K, S, D, x0, x1, ky_lo, ky_hi, inside, e);
}

/* The unrolled shapes: for each channel vector, column tiles sized so that
 * the kernel rows of a tile stay in L1, then rows, then blocks. */
static inline __attribute__((always_inline)) void dwc_rows(const mnv3_conv_args *args, int row_begin, int row_end,
                       const int K, const int S, const int D) {
  /* A private copy: the vector stores may alias anything (the intrinsics'
     types are may_alias), which would reload every field after each store. */
  const mnv3_conv_args copy = *args, *a = &copy;
  const vepilogue e = vepilogue_make(a->act, a->pre_lo, a->pre_hi, a->post_lo, a->post_hi);
  const int span = (K - 1) * D + 1;
  int tile = DW_TILE_BYTES / (span * S * VW * (int)sizeof(float)) / DW_PX * DW_PX;
  if (tile < DW_PX)
    tile = DW_PX;
  for (int c = a->oc_begin; c < a->oc_end; c += VW) {
    const float *wv = a->packed + c;
    const int n = a->oc_end - c < VW ? a->oc_end - c : VW;
    for (int x0 = 0; x0 < a->out_w; x0 += tile) {
      const int x1 = x0 + tile < a->out_w ? x0 + tile : a->out_w;
      for (int oy = row_begin; oy < row_end; oy++) {
        if (n == VW)
          dwc_row(a, wv, oy, c, 1, VW, K, S, D, x0, x1, &e);
        else
          dwc_row(a, wv, oy, c, 0, n, K, S, D, x0, x1, &e);
      }
    }
  }
}

/* The shapes of MobileNetV3 get their own unrolled instances. */
static __attribute__((noinline)) void dw_3x3s1(const mnv3_conv_args *a, int b, int e) { dw_rows(a, b, e, 3, 1, 1, 1); }
static __attribute__((noinline)) void dw_3x3s2(const mnv3_conv_args *a, int b, int e) { dw_rows(a, b, e, 3, 2, 1, 1); }
static __attribute__((noinline)) void dw_3x3d2(const mnv3_conv_args *a, int b, int e) { dw_rows(a, b, e, 3, 1, 2, 1); }
static __attribute__((noinline)) void dw_5x5s1(const mnv3_conv_args *a, int b, int e) { dwc_rows(a, b, e, 5, 1, 1); }
static __attribute__((noinline)) void dw_5x5s1_narrow(const mnv3_conv_args *a, int b, int e) { dw_rows(a, b, e, 5, 1, 1, 1); }
static __attribute__((noinline)) void dw_5x5s2(const mnv3_conv_args *a, int b, int e) { dw_rows(a, b, e, 5, 2, 1, 1); }
static __attribute__((noinline)) void dw_5x5d2(const mnv3_conv_args *a, int b, int e) { dw_rows(a, b, e, 5, 1, 2, 1); }
static __attribute__((noinline)) void dw_generic(const mnv3_conv_args *a, int b, int e) {
  dw_rows(a, b, e, a->kernel, a->stride, a->dilation, 0);
}

static void dwconv_run(const mnv3_conv_args *a, int row_begin, int row_end) {
  const int k = a->kernel, s = a->stride, d = a->dilation;
  if (k == 3 && s == 1 && d == 1)
    dw_3x3s1(a, row_begin, row_end);
  else if (k == 3 && s == 2 && d == 1)
    dw_3x3s2(a, row_begin, row_end);
  else if (k == 3 && s == 1 && d == 2)
    dw_3x3d2(a, row_begin, row_end);
  else if (k == 5 && s == 1 && d == 1 && a->out_w >= 14)
    dw_5x5s1(a, row_begin, row_end); /* channel-vector-outer */
  else if (k == 5 && s == 1 && d == 1) /* 7x7: measured faster pixel-outer in the model */
    dw_5x5s1_narrow(a, row_begin, row_end);
  else if (k == 5 && s == 2 && d == 1)
    dw_5x5s2(a, row_begin, row_end);
  else if (k == 5 && s == 1 && d == 2)
    dw_5x5d2(a, row_begin, row_end);
  else
    dw_generic(a, row_begin, row_end);
}

const mnv3_conv_kernel ISA_SUFFIX(mnv3_f32_dwconv) = {
    "f32_dwconv__" ISA_STR, dwconv_packed_size, dwconv_pack, dwconv_run, VW, 1};
