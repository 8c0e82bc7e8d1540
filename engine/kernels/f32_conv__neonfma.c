/* Dense convolution (the stem) for neonfma (AArch64 NEON with FMA). */
#include "simd_neonfma.h"
#include "kernels_isa.h"
#define CONV_PX 4
#include "f32_conv.inc.h"
