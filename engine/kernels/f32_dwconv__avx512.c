/* Depthwise convolution for avx512 (-mavx512f -mavx512bw). */
#include "simd_avx512.h"
#include "kernels_isa.h"
#define DW_PX 8
#define DW_CB 8
#include "f32_dwconv.inc.h"
