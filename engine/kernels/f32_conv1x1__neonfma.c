/* 1x1 convolution (GEMM) for neonfma (AArch64 NEON with FMA). */
#include "simd_neonfma.h"
#include "kernels_isa.h"
#define GEMM_MR 8
#include "f32_conv1x1.inc.h"
