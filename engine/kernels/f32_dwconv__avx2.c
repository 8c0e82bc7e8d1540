/* Depthwise convolution for avx2 (-mavx2 -mfma). */
#include "simd_avx2.h"
#include "kernels_isa.h"
#define DW_PX 4
#define DW_CB 4
#include "f32_dwconv.inc.h"
