/* Global average pool for avx512 (-mavx512f -mavx512bw). */
#include "simd_avx512.h"
#include "kernels_isa.h"
#include "f32_gavgpool.inc.h"
