/* Depthwise convolution for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#define DW_PX 8
#define DW_CB 8
#include "f32_dwconv.inc.h"
