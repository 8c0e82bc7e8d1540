/* Declarations of the SIMD variants' entry points, one set per ISA suffix:
 * <op>__<isa>.c defines them from the <op>.inc.h templates, and
 * dispatch.c gathers them into that ISA's table. */
#ifndef MNV3_KERNELS_ISA_H
#define MNV3_KERNELS_ISA_H

#include "kernels.h"

#define MNV3_DECLARE_ISA(isa)                                                  \
  extern const mnv3_conv_kernel mnv3_f32_conv1x1__##isa;                       \
  extern const mnv3_conv_kernel mnv3_f32_dwconv__##isa;                        \
  extern const mnv3_conv_kernel mnv3_f32_conv__##isa;                          \
  void mnv3_f32_gavgpool__##isa(const float *in, int pixels, int channels,     \
                                int c_begin, int c_end, float *out,            \
                                float post_lo, float post_hi);                 \
  void mnv3_f32_vmulc__##isa(const float *in, const float *gate, int pixels,   \
                             int channels, float *out, float post_lo,          \
                             float post_hi);                                   \
  void mnv3_f32_resize_bilinear__##isa(const float *in, int in_h, int in_w,    \
                                       int channels, float *out, int out_h,    \
                                       int out_w, int row_begin, int row_end,   \
                                       int streaming);                          \
  void mnv3_u8_yuv_rgb_resize__##isa(const mnv3_yuv_rows *rows, int x_begin,  \
                                     int x_end, float *dst);                   \
  void mnv3_f32_argmax__##isa(const float *scores, int pixels, int channels,   \
                              uint8_t *out);                                   \
  void mnv3_u8_blend_const__##isa(uint8_t *p, int n, uint16_t keep,            \
                                  uint16_t add);                               \
  void mnv3_u8_blend_lines__##isa(uint8_t *p, const uint16_t *keep,            \
                                  const uint16_t *add, int n);                 \
  int mnv3_u8_count_changes__##isa(const uint8_t *p, int n);

/* The table of one ISA, for dispatch.c: the float kernels of F32, the 8-bit
   ones of NAME (an ISA that adds only integer instructions reuses the float
   kernels of the one it extends). */
#define MNV3_KERNELS_TABLE_OF(NAME, F32)                                       \
  {                                                                            \
    .isa = #NAME, .pointwise = &mnv3_f32_conv1x1__##F32,                       \
    .depthwise = &mnv3_f32_dwconv__##F32, .dense = &mnv3_f32_conv__##F32,      \
    .gavgpool = mnv3_f32_gavgpool__##F32, .vmulc = mnv3_f32_vmulc__##F32,      \
    .resize = mnv3_f32_resize_bilinear__##F32,                                 \
    .yuv_resize = mnv3_u8_yuv_rgb_resize__##F32,                               \
    .argmax = mnv3_f32_argmax__##F32,                                          \
    .blend_const = mnv3_u8_blend_const__##F32,                                 \
    .blend_lines = mnv3_u8_blend_lines__##F32,                                 \
    .count_changes = mnv3_u8_count_changes__##F32,                             \
    MNV3_QU8_KERNELS_##NAME                                                    \
  }
#define MNV3_KERNELS_TABLE(ISA) MNV3_KERNELS_TABLE_OF(ISA, ISA)

/* The 8-bit kernels of each table: AVX-512 CPUs run the AVX2 ones. NEON's
   are exact to the references as AVX2's (qu8_epilogue_neon.h). */
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__avx2;
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__avx2;
void mnv3_qu8_gavgpool__avx2(const uint8_t *in, int pixels, int channels, int c_begin,
                             int c_end, uint8_t *out, int in_zero, float multiplier,
                             const mnv3_qu8_requant *rq);
void mnv3_qu8_vmulc__avx2(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                          int channels, uint8_t *out, const mnv3_qu8_requant *rq);
#define MNV3_QU8_KERNELS_AVX2                                                  \
  .qpointwise = &mnv3_qu8_conv1x1__avx2, .qdepthwise = &mnv3_qu8_dwconv__avx2, \
  .qgavgpool = mnv3_qu8_gavgpool__avx2, .qvmulc = mnv3_qu8_vmulc__avx2,
#define MNV3_QU8_KERNELS_avx2 MNV3_QU8_KERNELS_AVX2
/* AVX-512: its own depthwise convolution, pooling and gating; AVX2's 1x1. */
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__avx512bw;
void mnv3_qu8_gavgpool__avx512bw(const uint8_t *in, int pixels, int channels, int c_begin,
                                 int c_end, uint8_t *out, int in_zero, float multiplier,
                                 const mnv3_qu8_requant *rq);
void mnv3_qu8_vmulc__avx512bw(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                              int channels, uint8_t *out, const mnv3_qu8_requant *rq);
#define MNV3_QU8_KERNELS_avx512bw                                              \
  .qpointwise = &mnv3_qu8_conv1x1__avx2, .qdepthwise = &mnv3_qu8_dwconv__avx512bw, \
  .qgavgpool = mnv3_qu8_gavgpool__avx512bw, .qvmulc = mnv3_qu8_vmulc__avx512bw,
/* x86 with VNNI (vpdpbusd): avx512vnni (AVX-512 F, BW and VNNI) and
   avxvnni (AVX-VNNI, the VEX form on 256 bits) have their own 1x1
   convolution, where nearly all the products are, and the other kernels
   of avx512bw and avx2. */
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__avx512vnni;
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__avxvnni;
#define MNV3_QU8_KERNELS_avx512vnni                                            \
  .qpointwise = &mnv3_qu8_conv1x1__avx512vnni,                                 \
  .qdepthwise = &mnv3_qu8_dwconv__avx512bw, .qgavgpool = mnv3_qu8_gavgpool__avx512bw, \
  .qvmulc = mnv3_qu8_vmulc__avx512bw,
#define MNV3_QU8_KERNELS_avxvnni                                               \
  .qpointwise = &mnv3_qu8_conv1x1__avxvnni, .qdepthwise = &mnv3_qu8_dwconv__avx2, \
  .qgavgpool = mnv3_qu8_gavgpool__avx2, .qvmulc = mnv3_qu8_vmulc__avx2,
/* Declared here, not in kernels.h: only dispatch.c names them. */
extern const mnv3_kernels mnv3_kernels_avx512vnni;
extern const mnv3_kernels mnv3_kernels_avxvnni;
/* NEON: the dot-product table (neondot: ARMv8.2 dotprod, the float kernels
   of neonfma) has its own 1x1 convolution, where nearly all the products
   are; the other 8-bit kernels are the plain NEON ones in both. */
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__neonfma;
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__neondot;
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__neonfma;
void mnv3_qu8_gavgpool__neonfma(const uint8_t *in, int pixels, int channels, int c_begin,
                                int c_end, uint8_t *out, int in_zero, float multiplier,
                                const mnv3_qu8_requant *rq);
void mnv3_qu8_vmulc__neonfma(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                             int channels, uint8_t *out, const mnv3_qu8_requant *rq);
#define MNV3_QU8_KERNELS_NEON(POINTWISE)                                       \
  .qpointwise = &POINTWISE, .qdepthwise = &mnv3_qu8_dwconv__neonfma,           \
  .qgavgpool = mnv3_qu8_gavgpool__neonfma, .qvmulc = mnv3_qu8_vmulc__neonfma,
#define MNV3_QU8_KERNELS_neonfma MNV3_QU8_KERNELS_NEON(mnv3_qu8_conv1x1__neonfma)
#define MNV3_QU8_KERNELS_neondot MNV3_QU8_KERNELS_NEON(mnv3_qu8_conv1x1__neondot)
/* Declared here, not in kernels.h: only dispatch.c names it. */
extern const mnv3_kernels mnv3_kernels_neondot;

MNV3_DECLARE_ISA(avx2)
MNV3_DECLARE_ISA(avx512bw)
MNV3_DECLARE_ISA(neonfma)

#endif
