/* Per-channel gate multiply for avx2 (-mavx2 -mfma). */
#include "simd_avx2.h"
#include "kernels_isa.h"
#include "f32_vmulc.inc.h"
