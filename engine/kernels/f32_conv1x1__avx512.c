/* 1x1 convolution (GEMM) for avx512 (-mavx512f -mavx512bw). */
#include "simd_avx512.h"
#include "kernels_isa.h"
#define GEMM_MR 7
#define GEMV_PANELS 4
#include "f32_conv1x1.inc.h"
