/* Float to uint8 quantization (the 8-bit stem's input) for neonfma. */
#include "kernels_isa.h"
#include "simd_neonfma.h"
#include "qu8_quantize.inc.h"
