/* 8-bit depthwise convolution for AVX-VNNI (the VEX vpdpbusd, 8 int32 lanes). */
#include "simd_avx2.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) { return _mm256_dpbusd_avx_epi32(acc, x, w); }

#define DWDOT_NAME mnv3_qu8_dwconv__avxvnni
#define DWDOT_STR "avxvnni"
#include "qu8_dwconv_dot.inc.h"
