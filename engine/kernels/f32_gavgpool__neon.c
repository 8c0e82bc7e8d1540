/* Global average pool for neon (aarch64 only). */
#include "simd_neon.h"
#include "kernels_isa.h"
#include "f32_gavgpool.inc.h"
