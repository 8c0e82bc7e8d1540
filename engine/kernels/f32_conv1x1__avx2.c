/* 1x1 convolution (GEMM) for avx2 (-mavx2 -mfma). */
#include "simd_avx2.h"
#include "kernels_isa.h"
#define GEMM_MR 6
#include "f32_conv1x1.inc.h"
