/* 8-bit 1x1 convolution for AVX512-VNNI (vpdpbusd on 16 int32 lanes). */
#include "simd_avx512bw.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) { return _mm512_dpbusd_epi32(acc, x, w); }

#define QDOT_MR 6
#define QDOT_NAME mnv3_qu8_conv1x1__avx512vnni
#define QDOT_STR "avx512vnni"
#include "qu8_conv1x1_dot.inc.h"
