/* YUV row to RGB with horizontal interpolation for neon. */
#include "simd_neon.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_hresize.inc.h"
