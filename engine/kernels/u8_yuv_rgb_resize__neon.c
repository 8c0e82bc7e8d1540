/* YUV rows to a row of the network's RGB input for neon. */
#include "simd_neon.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_resize.inc.h"
