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

/* The table of one ISA, for dispatch.c. */
#define MNV3_KERNELS_TABLE(ISA)                                                \
  {                                                                            \
    .isa = #ISA, .pointwise = &mnv3_f32_conv1x1__##ISA,                        \
    .depthwise = &mnv3_f32_dwconv__##ISA, .dense = &mnv3_f32_conv__##ISA,      \
    .gavgpool = mnv3_f32_gavgpool__##ISA, .vmulc = mnv3_f32_vmulc__##ISA, \
    .resize = mnv3_f32_resize_bilinear__##ISA,                                 \
    .yuv_resize = mnv3_u8_yuv_rgb_resize__##ISA,                               \
    .argmax = mnv3_f32_argmax__##ISA,                                          \
    .blend_const = mnv3_u8_blend_const__##ISA,                                 \
    .blend_lines = mnv3_u8_blend_lines__##ISA,                                 \
    .count_changes = mnv3_u8_count_changes__##ISA,                             \
    MNV3_QU8_KERNELS_##ISA                                                     \
  }

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
#define MNV3_QU8_KERNELS_avx512bw MNV3_QU8_KERNELS_AVX2
extern const mnv3_qconv_kernel mnv3_qu8_conv1x1__neonfma;
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__neonfma;
#define MNV3_QU8_KERNELS_neonfma                                               \
  .qpointwise = &mnv3_qu8_conv1x1__neonfma, .qdepthwise = &mnv3_qu8_dwconv__neonfma, \
  .qgavgpool = mnv3_qu8_gavgpool__scalar, .qvmulc = mnv3_qu8_vmulc__scalar,

MNV3_DECLARE_ISA(avx2)
MNV3_DECLARE_ISA(avx512bw)
MNV3_DECLARE_ISA(neonfma)

#endif
