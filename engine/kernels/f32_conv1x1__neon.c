/* 1x1 convolution (GEMM) for neon (aarch64 only). */
#include "simd_neon.h"
#include "kernels_isa.h"
#define GEMM_MR 8
#include "f32_conv1x1.inc.h"
