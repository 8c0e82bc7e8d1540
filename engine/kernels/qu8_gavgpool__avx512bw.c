/* Global average pooling of uint8 tensors for avx512bw. */
#include "kernels_isa.h"
#include "simd_avx512bw.h"
#include "qu8_gavgpool.inc.h"
