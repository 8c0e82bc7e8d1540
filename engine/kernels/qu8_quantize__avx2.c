/* Float to uint8 quantization (the 8-bit stem's input) for avx2. */
#include "kernels_isa.h"
#include "simd_avx2.h"
#include "qu8_quantize.inc.h"
