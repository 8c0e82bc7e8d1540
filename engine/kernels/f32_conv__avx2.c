/* Dense convolution (the stem) for avx2 (-mavx2 -mfma). */
#include "simd_avx2.h"
#include "kernels_isa.h"
#define CONV_PX 4
#include "f32_conv.inc.h"
