/* Mask blending byte loops for neonfma (AArch64 NEON with FMA). */
#include "simd_neonfma.h"
#include "kernels_isa.h"
#include "u8_blend.inc.h"
