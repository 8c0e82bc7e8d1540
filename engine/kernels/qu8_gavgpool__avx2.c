/* Global average pooling of uint8 tensors for AVX2. */
#include "kernels_isa.h"
#include "simd_avx2.h"
#include "qu8_gavgpool.inc.h"
