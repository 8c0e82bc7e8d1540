/* 1x1 convolution (GEMM) for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#define GEMM_MR 7
#define GEMV_PANELS 4
#include "f32_conv1x1.inc.h"
