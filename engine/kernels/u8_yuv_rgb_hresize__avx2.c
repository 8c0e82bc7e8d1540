/* YUV row to RGB with horizontal interpolation for avx2. */
#include "simd_avx2.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_hresize.inc.h"
