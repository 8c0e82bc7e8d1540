/* Argmax over class scores for avx512bw (AVX-512 F and BW). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"
#include "f32_argmax.inc.h"
