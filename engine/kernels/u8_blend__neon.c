/* Mask blending byte loops for neon (aarch64 only). */
#include "simd_neon.h"
#include "kernels_isa.h"
#include "u8_blend.inc.h"
