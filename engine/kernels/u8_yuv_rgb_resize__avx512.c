/* YUV rows to a row of the network's RGB input for avx512. */
#include "simd_avx512.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_resize.inc.h"
