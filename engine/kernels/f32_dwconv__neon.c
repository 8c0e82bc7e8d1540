/* Depthwise convolution for neon (aarch64 only). */
#include "simd_neon.h"
#include "kernels_isa.h"
#define DW_PX 4
#define DW_CB 4
#include "f32_dwconv.inc.h"
