/* Argmax over class scores for avx512. */
#include "simd_avx512.h"
#include "kernels_isa.h"
#include "f32_argmax.inc.h"
