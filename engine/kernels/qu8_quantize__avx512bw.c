/* Float to uint8 quantization (the 8-bit stem's input) for avx512bw. */
#include "kernels_isa.h"
#include "simd_avx512bw.h"
#include "qu8_quantize.inc.h"
