/* YUV rows to a row of the network's RGB input for neonfma (AArch64 NEON with FMA). */
#include "simd_neonfma.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_resize.inc.h"
