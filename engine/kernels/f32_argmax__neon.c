/* Argmax over class scores for neon. */
#include "simd_neon.h"
#include "kernels_isa.h"
#include "f32_argmax.inc.h"
