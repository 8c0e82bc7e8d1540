/* Dense convolution (the stem) for avx512 (-mavx512f -mavx512bw). */
#include "simd_avx512.h"
#include "kernels_isa.h"
#define CONV_PX 8
#include "f32_conv.inc.h"
