/* YUV rows to a row of the network's RGB input for avx2. */
#include "simd_avx2.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_resize.inc.h"
