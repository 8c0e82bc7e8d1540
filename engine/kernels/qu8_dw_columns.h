/* How a tile of the 8-bit depthwise kernels (qu8_dwconv.inc.h,
 * qu8_dwconv_dot.inc.h) maps its scratch columns to input columns: a dense
 * tile takes every input column its pixels span (the taps of neighbouring
 * pixels share them); a dilation too wide for the scratch takes one pixel
 * at a time and only its kernel's columns. */
#ifndef MNV3_QU8_DW_COLUMNS_H
#define MNV3_QU8_DW_COLUMNS_H

#include "kernels.h"

typedef struct dw_columns {
  int pixels;     /* output pixels per tile */
  int in_step;    /* input columns per scratch column */
  int tap_step;   /* scratch columns between a pixel's taps */
  int pixel_step; /* scratch columns between neighbouring pixels */
} dw_columns;

/* For a scratch of `columns` columns, tiles of at most max_pixels. */
static inline dw_columns dw_columns_of(const mnv3_qconv_args *a, int columns, int max_pixels) {
  const int span = (a->kernel - 1) * a->dilation + 1;
  if (span > columns)
    return (dw_columns){1, a->dilation, 1, 0};
  const int fit = (columns - span) / a->stride + 1;
  return (dw_columns){fit < max_pixels ? fit : max_pixels, 1, a->dilation, a->stride};
}

#endif
