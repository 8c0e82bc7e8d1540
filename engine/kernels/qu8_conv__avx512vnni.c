/* 8-bit dense convolution (the stem) for AVX512-VNNI (vpdpbusd on 16 int32 lanes). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) { return _mm512_dpbusd_epi32(acc, x, w); }

#define CONVDOT_NAME mnv3_qu8_conv__avx512vnni
#define CONVDOT_STR "avx512vnni"
#include "qu8_conv_dot.inc.h"
