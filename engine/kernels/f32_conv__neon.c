/* Dense convolution (the stem) for neon (aarch64 only). */
#include "simd_neon.h"
#include "kernels_isa.h"
#define CONV_PX 4
#include "f32_conv.inc.h"
