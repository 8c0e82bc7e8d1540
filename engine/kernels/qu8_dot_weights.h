/* How the 8-bit dot-product kernels (qu8_conv1x1_dot.inc.h,
 * qu8_dwconv_dot.inc.h) fit weights into the int8 that vpdpbusd and sdot
 * take. A released uint8 model's q - zero point spans up to 255 values
 * (kernels.h); such a channel is negated (with its scale: (-a) * (-s) = a
 * * s in float, no bit changes) when that fits, else split in two planes,
 * w = h + l with h = floor(w / 2), l = w - h, both int8 for -256 <= w <=
 * 254. */
#ifndef MNV3_QU8_DOT_WEIGHTS_H
#define MNV3_QU8_DOT_WEIGHTS_H

#include <stdint.h>

/* Whether a channel whose weights lie in [lo, hi] fits int8, as it is or
   negated. */
static inline int qu8_fits_int8(int lo, int hi) {
  return (lo >= INT8_MIN && hi <= INT8_MAX) || (-hi >= INT8_MIN && -lo <= INT8_MAX);
}

/* The sign a channel whose weights reach hi is packed with, in `planes`
   planes: -1 when hi would not fit (the channel then fits negated). */
static inline int qu8_channel_sign(int hi, int planes) {
  return hi > (planes == 1 ? INT8_MAX : 2 * INT8_MAX) ? -1 : 1;
}

/* The plane `plane` of weight v (already signed) in `planes` planes. */
static inline int8_t qu8_plane_weight(int v, int plane, int planes) {
  if (planes == 1)
    return (int8_t)v;
  const int high = v >> 1; /* floor(v / 2) */
  return (int8_t)(plane == 0 ? high : v - high);
}

#endif
