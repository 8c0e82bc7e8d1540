/* 8-bit 1x1 convolution for AVX-VNNI (the VEX vpdpbusd of Intel's client
 * cores since Alder Lake, and of AMD's Zen 5, on 8 int32 lanes). */
#include "simd_avx2.h"
#include "kernels_isa.h"

static inline vi vdot_u8s8(vi acc, vi x, vi w) { return _mm256_dpbusd_avx_epi32(acc, x, w); }

#define QDOT_MR 6
#define QDOT_NAME mnv3_qu8_conv1x1__avxvnni
#define QDOT_STR "avxvnni"
#include "qu8_conv1x1_dot.inc.h"
