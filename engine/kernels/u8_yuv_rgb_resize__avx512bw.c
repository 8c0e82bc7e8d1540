/* YUV rows to a row of the network's RGB input for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#include "u8_yuv_rgb_resize.inc.h"
