/* Mask blending byte loops for avx512 (-mavx512bw). */
#include "simd_avx512.h"
#include "kernels_isa.h"
#include "u8_blend.inc.h"
