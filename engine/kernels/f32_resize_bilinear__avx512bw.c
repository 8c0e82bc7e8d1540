/* Bilinear resize for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#include "f32_resize_bilinear.inc.h"
