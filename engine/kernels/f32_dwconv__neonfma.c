/* Depthwise convolution for neonfma (AArch64 NEON with FMA). */
#include "simd_neonfma.h"
#include "kernels_isa.h"
#define DW_PX 4
#define DW_CB 4
#include "f32_dwconv.inc.h"
