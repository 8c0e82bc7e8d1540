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
                                       int out_w, int row_begin, int row_end,  \
                                       int streaming);                         \
  void mnv3_u8_yuv_rgb_resize__##isa(const mnv3_yuv_rows *rows, int x_begin,   \
                                     int x_end, float *dst);                   \
  void mnv3_f32_argmax__##isa(const float *scores, int pixels, int channels,   \
                              uint8_t *out);                                   \
  void mnv3_u8_blend_const__##isa(uint8_t *p, int n, uint16_t keep,            \
                                  uint16_t add);                               \
  void mnv3_u8_blend_lines__##isa(uint8_t *p, const uint16_t *keep,            \
                                  const uint16_t *add, int n);                 \
  int mnv3_u8_count_changes__##isa(const uint8_t *p, int n);                   \
  extern const mnv3_qconv_kernel mnv3_qu8_dwconv__##isa;                       \
  void mnv3_qu8_gavgpool__##isa(const uint8_t *in, int pixels, int channels,   \
                                int c_begin, int c_end, uint8_t *out,          \
                                int in_zero, float multiplier,                 \
                                const mnv3_qu8_requant *rq);                   \
  void mnv3_qu8_vmulc__##isa(const uint8_t *in, const mnv3_qu8_gate *gate,     \
                             int pixels, int channels, uint8_t *out,           \
                             const mnv3_qu8_requant *rq);                      \
  void mnv3_qu8_quantize__##isa(const float *in, size_t n, float lo,          \
                                float hi, float inv_scale, int zero,           \
                                uint8_t *out);                                 \
  void mnv3_qu8_quantize_planes__##isa(const float *in, size_t plane,          \
                                       size_t pixels, float lo, float hi,      \
                                       float inv_scale, int zero, uint8_t *out);

/* The table of one ISA, for dispatch.c: the kernels of F32 but the 8-bit
   convolutions of NAME (an ISA that adds only integer instructions reuses
   the others of the one it extends). */
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
    .qpointwise = &MNV3_QU8_POINTWISE_##NAME,                                  \
    .qdepthwise = &MNV3_QU8_DEPTHWISE_##NAME,                                  \
    .qdense = &MNV3_QU8_DENSE_##NAME,                                          \
    .qgavgpool = mnv3_qu8_gavgpool__##F32, .qvmulc = mnv3_qu8_vmulc__##F32,    \
    .qquantize = mnv3_qu8_quantize__##F32,                                     \
    .qquantize_planes = mnv3_qu8_quantize_planes__##F32,                       \
  }
#define MNV3_KERNELS_TABLE(ISA) MNV3_KERNELS_TABLE_OF(ISA, ISA)

/* The 8-bit 1x1 convolution of each table, where nearly all the products
   are: AVX-512 without VNNI runs AVX2's; the dot-product ISAs have their
   own: avx512vnni (AVX-512 F, BW and VNNI), avxvnni (AVX-VNNI, the VEX
   form on 256 bits), neondot (ARMv8.2 dotprod). NEON's are exact to the
   references as AVX2's (qu8_epilogue_neon.h). */
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__avx2;
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__avx512vnni;
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__avxvnni;
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__neonfma;
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__neondot;
#define MNV3_QU8_POINTWISE_avx2 mnv3_qu8_conv1x1__avx2
#define MNV3_QU8_POINTWISE_avx512bw mnv3_qu8_conv1x1__avx2
#define MNV3_QU8_POINTWISE_avx512vnni mnv3_qu8_conv1x1__avx512vnni
#define MNV3_QU8_POINTWISE_avxvnni mnv3_qu8_conv1x1__avxvnni
#define MNV3_QU8_POINTWISE_neonfma mnv3_qu8_conv1x1__neonfma
#define MNV3_QU8_POINTWISE_neondot mnv3_qu8_conv1x1__neondot
/* The 8-bit depthwise convolution of each table: the dot-product ISAs
   sum 4 kernel rows per instruction in int32 (qu8_dwconv_dot.inc.h), the
   others sum in float, exactly (qu8_dwconv.inc.h). */
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__avx512vnni;
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__avxvnni;
#define MNV3_QU8_DEPTHWISE_avx2 mnv3_qu8_dwconv__avx2
#define MNV3_QU8_DEPTHWISE_avx512bw mnv3_qu8_dwconv__avx512bw
#define MNV3_QU8_DEPTHWISE_avx512vnni mnv3_qu8_dwconv__avx512vnni
#define MNV3_QU8_DEPTHWISE_avxvnni mnv3_qu8_dwconv__avxvnni
#define MNV3_QU8_DEPTHWISE_neonfma mnv3_qu8_dwconv__neonfma
#define MNV3_QU8_DEPTHWISE_neondot mnv3_qu8_dwconv__neonfma
/* The 8-bit dense convolution (the stem) of each table: a dot product
   per 4 input bytes (qu8_conv_dot.inc.h), native on the VNNI ISAs and
   emulated exactly on the others (neondot takes neonfma's). */
extern const mnv3_qconv_kernel mnv3_qu8_conv__avx2;
extern const mnv3_qconv_kernel mnv3_qu8_conv__avx512bw;
extern const mnv3_qconv_kernel mnv3_qu8_conv__avx512vnni;
extern const mnv3_qconv_kernel mnv3_qu8_conv__avxvnni;
extern const mnv3_qconv_kernel mnv3_qu8_conv__neonfma;
#define MNV3_QU8_DENSE_avx2 mnv3_qu8_conv__avx2
#define MNV3_QU8_DENSE_avx512bw mnv3_qu8_conv__avx512bw
#define MNV3_QU8_DENSE_avx512vnni mnv3_qu8_conv__avx512vnni
#define MNV3_QU8_DENSE_avxvnni mnv3_qu8_conv__avxvnni
#define MNV3_QU8_DENSE_neonfma mnv3_qu8_conv__neonfma
#define MNV3_QU8_DENSE_neondot mnv3_qu8_conv__neonfma
/* Declared here, not in kernels.h: only dispatch.c names them. */
extern const mnv3_kernels mnv3_kernels_avx512vnni;
extern const mnv3_kernels mnv3_kernels_avxvnni;
extern const mnv3_kernels mnv3_kernels_neondot;

MNV3_DECLARE_ISA(avx2)
MNV3_DECLARE_ISA(avx512bw)
MNV3_DECLARE_ISA(neonfma)

#endif
