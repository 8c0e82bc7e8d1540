/* Bilinear resize for avx512 (-mavx512f). */
#include "simd_avx512.h"
#include "kernels_isa.h"
#include "f32_resize_bilinear.inc.h"
