/* Mask blending byte loops for avx2 (-mavx2). */
#include "simd_avx2.h"
#include "kernels_isa.h"
#include "u8_blend.inc.h"
