/* Bilinear resize for neonfma (AArch64 NEON with FMA). */
#include "simd_neonfma.h"
#include "kernels_isa.h"
#include "f32_resize_bilinear.inc.h"
