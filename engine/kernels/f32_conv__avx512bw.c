/* Dense convolution (the stem) for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#define CONV_PX 8
#include "f32_conv.inc.h"
