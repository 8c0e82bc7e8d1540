/* 8-bit dense convolution (the stem) for AVX-VNNI (vpdpbusd on 8 int32 lanes). */
#include "simd_avx2.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) { return _mm256_dpbusd_avx_epi32(acc, x, w); }

#define CONVDOT_NAME mnv3_qu8_conv__avxvnni
#define CONVDOT_STR "avxvnni"
#include "qu8_conv_dot.inc.h"
