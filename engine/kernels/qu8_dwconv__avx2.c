/* 8-bit depthwise convolution for AVX2. */
#include "simd_avx2.h"
#include "kernels_isa.h"
#include "qu8_dwconv.inc.h"
