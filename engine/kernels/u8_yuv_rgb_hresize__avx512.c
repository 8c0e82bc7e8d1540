/* YUV row to RGB with horizontal interpolation for avx512. */
#include "simd_avx512.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_hresize.inc.h"
