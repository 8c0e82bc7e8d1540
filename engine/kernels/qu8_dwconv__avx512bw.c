/* 8-bit depthwise convolution for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#include "qu8_dwconv.inc.h"
