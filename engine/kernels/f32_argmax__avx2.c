/* Argmax over class scores for avx2. */
#include "simd_avx2.h"
#include "kernels_isa.h"
#include "f32_argmax.inc.h"
