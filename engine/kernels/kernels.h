/* Compute kernels and the table that dispatches them.
 *
 * Activations are NHWC float32 with a pixel stride of exactly the channel
 * count. Every kernel family has a plain C reference, the "scalar" variant
 * (scalar.c), that each SIMD variant is tested against; a family's weights are packed once at load by
 * that variant's own pack function, so each ISA chooses its layout. */
#ifndef MNV3_KERNELS_H
#define MNV3_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Everything a convolution-like kernel needs. The executor splits work over
 * output rows, and over output channels for kernels with a channel_block: a
 * kernel computes rows [row_begin, row_end) and channels [oc_begin, oc_end).
 * Each output element must be computed by the same instruction sequence
 * whatever the split, so that results do not depend on the thread count. */
typedef struct mnv3_conv_args {
  const float *input;
  int in_h, in_w, in_c;
  float *output;
  int out_h, out_w, out_c;
  const float *packed;   /* weights and bias as the variant packed them */
  const float *residual; /* added after the pre clamp, before the activation; NULL for none */
  int kernel, stride, dilation, pad_top, pad_left;
  mnv3_act act;
  float pre_lo, pre_hi, post_lo, post_hi;
  int oc_begin, oc_end; /* oc_begin a multiple of channel_block */
  /* Input row iy starts at rows[iy] instead of input + iy * in_w * in_c
     (kernels with input_rows only; NULL otherwise): the fused executor keeps
     only a ring of rows of a tensor. */
  const float *const *rows;
  /* Pointwise kernels only, in_c <= MNV3_GATED_MAX_IN_C: input channel i
     is read as clamp(input * in_gate[i], gate_lo, gate_hi), the operations
     of vmulc (a squeeze-and-excitation gate), so the gated tensor is
     never written. NULL for none. */
  const float *in_gate;
  float gate_lo, gate_hi;
} mnv3_conv_args;

/* The widest input a pointwise kernel gates (each ISA keeps a tile's gated
   rows on its stack): every MobileNetV3 layer up to width 1.0. */
#define MNV3_GATED_MAX_IN_C 1024

typedef void (*mnv3_conv_fn)(const mnv3_conv_args *args, int row_begin,
                             int row_end);
/* Packs OIHW weights (depthwise: C x 1 x k x k) and a bias into dst, which
 * has room for packed_size() floats. */
typedef size_t (*mnv3_packed_size_fn)(int out_c, int in_c, int kernel);
typedef void (*mnv3_pack_fn)(const float *weight, const float *bias, int out_c,
                             int in_c, int kernel, float *dst);

typedef struct mnv3_conv_kernel {
  const char *name; /* XNNPACK style, <op>__<isa>: "f32_dwconv__scalar" */
  mnv3_packed_size_fn packed_size;
  mnv3_pack_fn pack;
  mnv3_conv_fn run;
  /* > 0: run honours [oc_begin, oc_end) in steps of this many channels;
     0: run computes every channel and the executor splits rows only. */
  int channel_block;
  int input_rows; /* 1: run honours args->rows */
} mnv3_conv_kernel;

/* Mean over pixels of channels [c_begin, c_end), clamped to the post range. */
typedef void (*mnv3_gavgpool_fn)(const float *in, int pixels, int channels,
                             int c_begin, int c_end, float *out, float post_lo,
                             float post_hi);
/* out = clamp(in * gate[channel]) for `pixels` pixels. */
typedef void (*mnv3_vmulc_fn)(const float *in, const float *gate,
                                    int pixels, int channels, float *out,
                                    float post_lo, float post_hi);
/* Bilinear, align_corners=False, rows [row_begin, row_end) of the output;
   out points at row row_begin (so a caller may keep only those rows).
   streaming: the output is not read again soon (a large final map); a
   variant may write it around the caches. */
typedef void (*mnv3_resize_fn)(const float *in, int in_h, int in_w,
                               int channels, float *out, int out_h, int out_w,
                               int row_begin, int row_end, int streaming);

/* YUV -> RGB (BT.601 for the coefficients preprocess.c builds), in float,
   each step rounded as written, from interpolated Y, U and V:
     l = (Y - y_offset) * y_scale
     r = l + (V - 128) * rv
     g = (l + (U - 128) * gu) + (V - 128) * gv
     b = l + (U - 128) * bu
   each then clamped to 0..255 (gu and gv are negative). Arithmetic rather
   than byte-indexed tables: a vector of table lookups is a gather, several
   times slower per lane than the three operations. */
typedef struct mnv3_yuv_coefs {
  float y_offset, y_scale, rv, gu, gv, bu;
} mnv3_yuv_coefs;

/* One output row of the network's input from a YUV frame. Its two source
   rows (top, bottom: luma rows with their chroma rows) are each sampled
   at every output column, every plane with the same weights: two luma taps
   at byte offsets a0[x] and a1[x], chroma at c0[x] and c1[x] (the chroma
   of those luma pixels), p = w0[x] * tap0 + w1[x] * tap1 per plane. The
   rows are blended, Y = h0 * p_top + h1 * p_bottom (U, V alike), converted
   once (mnv3_yuv_coefs), clamped, and normalised: out = rgb * scale + bias
   per channel (separate multiplies and adds, no FMA). The offsets never
   decrease along x, and a1 - a0 and c1 - c0 are each 0..3, so one 4-byte
   read holds both taps; *_bytes are how many bytes may be read from each
   row pointer (the SIMD variants' reads stay within them). */
typedef struct mnv3_yuv_rows {
  const uint8_t *y[2], *u[2], *v[2]; /* top, bottom */
  int y_bytes, u_bytes, v_bytes;
  const int *a0, *a1, *c0, *c1;
  const float *w0, *w1;
  float h0, h1;
  const mnv3_yuv_coefs *coefs;
  float scale[3], bias[3];
} mnv3_yuv_rows;

/* Output columns [x_begin, x_end) of the row: 3 floats (R, G, B) each, dst
   pointing at column 0. */
typedef void (*mnv3_yuv_resize_fn)(const mnv3_yuv_rows *rows, int x_begin,
                                   int x_end, float *dst);

/* For each of `pixels` pixels of `channels` scores (pixel stride =
   channels), the index of the first maximum (a NaN never wins; a NaN first
   score does: nothing compares greater), as torch.argmax for NaN-free
   scores. */
typedef void (*mnv3_argmax_fn)(const float *scores, int pixels, int channels,
                               uint8_t *out);

/* Mask blending (blend.c), in place on n bytes: p[i] = (uint8_t)((uint16_t)
   (p[i] * keep + add) >> 8), the 16-bit arithmetic wrapping (callers keep
   keep * 255 + add below 65536). blend_const has one weight pair for every
   byte, blend_lines one per byte. */
typedef void (*mnv3_blend_const_fn)(uint8_t *p, int n, uint16_t keep, uint16_t add);
typedef void (*mnv3_blend_lines_fn)(uint8_t *p, const uint16_t *keep, const uint16_t *add,
                                    int n);
/* How many i in [1, n) have p[i] != p[i - 1] (class changes along a mask row). */
typedef int (*mnv3_count_changes_fn)(const uint8_t *p, int n);
/* Their references; the SIMD variants finish the last bytes (fewer than a
   vector) with them. */
void mnv3_u8_blend_const__scalar(uint8_t *p, int n, uint16_t keep, uint16_t add);
void mnv3_u8_blend_lines__scalar(uint8_t *p, const uint16_t *keep, const uint16_t *add, int n);
int mnv3_u8_count_changes__scalar(const uint8_t *p, int n);

/* ---- 8-bit inference -------------------------------------------------------
 * Activations are uint8 per tensor, real = (q - zero) * scale; weights are
 * integers per output channel, real = w * scale: -127..127 for float models
 * (symmetric int8), up to -255..255 where a released uint8 model's own
 * weights (q - its zero point) are kept exactly; a channel's weights then
 * span at most 255 values (max - min <= 255), which lets the VNNI kernels
 * hold those beyond int8 in two int8 planes. A convolution sums
 * (x - in_zero) * w over its taps in int32 (a tap outside the input adds nothing, as if it held the
 * zero point), then runs the float epilogue of the float kernels on
 * acc * scale[oc] + bias[oc] (a multiply then an add, never fused), and
 * quantizes: q = clamp(rint(v * out_inv_scale) + out_zero, 0, 255), the
 * rounding to nearest even (XNNPACK's "fp32" requantization, with the
 * activation evaluated in float between the two). Every step is exact in
 * int32 or float32, so each SIMD variant is bitwise equal to the
 * reference. */
typedef struct mnv3_qconv_args {
  const uint8_t *input;
  int in_h, in_w, in_c, in_zero;
  /* One of the two: uint8 (quantized with out_inv_scale, out_zero) or float. */
  uint8_t *output;
  float *output_f32;
  int out_h, out_w, out_c;
  const void *packed;
  /* Added after the pre clamp, before the activation, as in the float
     kernels: uint8 (real = (r - residual_zero) * residual_scale) or float;
     both NULL for none. */
  const uint8_t *residual;
  const float *residual_f32;
  float residual_scale;
  int residual_zero;
  int kernel, stride, dilation, pad_top, pad_left;
  mnv3_act act;
  float pre_lo, pre_hi, post_lo, post_hi;
  float out_inv_scale;
  int out_zero;
  int oc_begin, oc_end; /* as in mnv3_conv_args */
} mnv3_qconv_args;

typedef void (*mnv3_qconv_fn)(const mnv3_qconv_args *args, int row_begin, int row_end);
/* Bytes for the packed weights of one layer. */
typedef size_t (*mnv3_qpacked_size_fn)(int out_c, int in_c, int kernel);
/* The widest weights every 8-bit kernel takes exactly: a uint8 model's
   q - zero point. */
#define MNV3_QU8_MAX_WEIGHT 255

/* Packs integer weights (OIHW; depthwise C x 1 x k x k; |w| <=
   MNV3_QU8_MAX_WEIGHT and, per channel, max - min <= MNV3_QU8_MAX_WEIGHT),
   the per-channel scale (input scale times weight scale) and float bias
   for a layer whose input has zero point in_zero. */
typedef void (*mnv3_qpack_fn)(const int16_t *weight, const float *scale, const float *bias,
                              int in_zero, int out_c, int in_c, int kernel, void *dst);

typedef struct mnv3_qconv_kernel {
  const char *name; /* "qu8_conv1x1__avx2" */
  mnv3_qpacked_size_fn packed_size;
  mnv3_qpack_fn pack;
  mnv3_qconv_fn run;
  int channel_block; /* as in mnv3_conv_kernel */
  int max_kernel;    /* the largest kernel size run takes; 0: any */
} mnv3_qconv_kernel;

/* uint8 to uint8 through the float value v: the post clamp, then the
   output quantization of the convolutions. */
typedef struct mnv3_qu8_requant {
  float post_lo, post_hi, out_inv_scale;
  int out_zero;
} mnv3_qu8_requant;

/* Mean of channels [c_begin, c_end) over pixels: v = (sum - pixels *
   in_zero) * multiplier, multiplier = in_scale / pixels. */
typedef void (*mnv3_qu8_gavgpool_fn)(const uint8_t *in, int pixels, int channels,
                                     int c_begin, int c_end, uint8_t *out, int in_zero,
                                     float multiplier, const mnv3_qu8_requant *rq);
/* A squeeze-and-excitation gate on `pixels` pixels: out = requant((in -
   in_zero) * m[c]), m[c] = in_scale * ((gate[c] - gate_zero) * gate_scale). */
typedef struct mnv3_qu8_gate {
  const uint8_t *gate;
  int in_zero, gate_zero;
  float in_scale, gate_scale;
} mnv3_qu8_gate;
typedef void (*mnv3_qu8_vmulc_fn)(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                                  int channels, uint8_t *out, const mnv3_qu8_requant *rq);
/* n floats clamped to [lo, hi] (a NaN becomes lo), then to uint8 as
   mnv3_quantize_u8: the network input, for the stem. */
typedef void (*mnv3_qu8_quantize_fn)(const float *in, size_t n, float lo, float hi,
                                     float inv_scale, int zero, uint8_t *out);
/* The same for pixels of an image given as 3 planes (NCHW: channel c of
   pixel i at in[c * plane + i]), written interleaved (out[3 * i + c]):
   mnv3_context_run_nchw's input quantized in one pass, with no float copy
   in NHWC between. */
typedef void (*mnv3_qu8_quantize_planes_fn)(const float *in, size_t plane, size_t pixels,
                                            float lo, float hi, float inv_scale, int zero,
                                            uint8_t *out);

/* The quantization shared by every variant: v * inv_scale limited to
   +-512 first (so that nothing overflows and a NaN becomes 0, as the
   vector min/max do: a > b ? a : b), rounded to nearest even. */
static inline uint8_t mnv3_quantize_u8(float v, float inv_scale, int zero) {
  float t = v * inv_scale;
  t = t > -512.0f ? t : -512.0f;
  t = t < 512.0f ? t : 512.0f;
  int q = (int)nearbyintf(t) + zero;
  q = q > 0 ? q : 0;
  return (uint8_t)(q < 255 ? q : 255);
}

/* The SIMD variants' form of a clamp to [lo, hi] followed by
   mnv3_quantize_u8: v * inv_scale clamped to [qlo, qhi], the images of lo
   and hi limited to -zero..255 - zero, then rounded. The same bits:
   rounding a product by inv_scale > 0 keeps order, so clamping before or
   after the multiply agrees, and rounding to nearest keeps the integer
   limits; a NaN becomes lo in both (the vector max returns its second
   operand). */
static inline void mnv3_quantize_bounds(float lo, float hi, float inv_scale, int zero,
                                        float *qlo, float *qhi) {
  const float floor_q = (float)-zero, ceil_q = (float)(255 - zero);
  const float l = lo * inv_scale, h = hi * inv_scale;
  *qlo = l > floor_q ? (l < ceil_q ? l : ceil_q) : floor_q;
  *qhi = h > floor_q ? (h < ceil_q ? h : ceil_q) : floor_q;
}

/* One input value as mnv3_qu8_quantize_fn takes it: clamped to [lo, hi]
   with compares (a NaN becomes lo), then quantized. */
static inline uint8_t mnv3_quantize_input_u8(float x, float lo, float hi, float inv_scale,
                                             int zero) {
  const float at_least_lo = x >= lo ? x : lo;
  return mnv3_quantize_u8(at_least_lo <= hi ? at_least_lo : hi, inv_scale, zero);
}

typedef struct mnv3_kernels {
  const char *isa;
  const mnv3_conv_kernel *pointwise; /* 1x1, stride 1: a GEMM over pixels */
  const mnv3_conv_kernel *depthwise; /* any kernel, stride and dilation */
  const mnv3_conv_kernel *dense;     /* the stem: full convolution, any kernel */
  mnv3_gavgpool_fn gavgpool; /* global average pool */
  mnv3_vmulc_fn vmulc;       /* per-channel gate multiply */
  mnv3_resize_fn resize;
  mnv3_yuv_resize_fn yuv_resize;   /* frame preprocessing */
  mnv3_argmax_fn argmax;           /* segmentation class masks */
  mnv3_blend_const_fn blend_const; /* mask blending */
  mnv3_blend_lines_fn blend_lines;
  mnv3_count_changes_fn count_changes;
  /* 8-bit inference */
  const mnv3_qconv_kernel *qpointwise;
  const mnv3_qconv_kernel *qdepthwise;
  const mnv3_qconv_kernel *qdense; /* the stem, on the quantized input */
  mnv3_qu8_gavgpool_fn qgavgpool;
  mnv3_qu8_vmulc_fn qvmulc;
  mnv3_qu8_quantize_fn qquantize;
  mnv3_qu8_quantize_planes_fn qquantize_planes;
} mnv3_kernels;

/* The reference twins. */
extern const mnv3_kernels mnv3_kernels_scalar;
/* SIMD variants (defined only where the build has them), named for what
 * they require: avx2 (with FMA3, which every AVX2 CPU has), avx512bw
 * (AVX-512 F and BW), neonfma (AArch64 NEON with FMA); and three that add
 * a dot product to one of those for their own 8-bit 1x1 convolution and
 * take its other kernels (declared in kernels_isa.h): avxvnni (AVX-VNNI,
 * with avx2's), avx512vnni (AVX512-VNNI, with avx512bw's), neondot (the
 * ARMv8.2 dot product, with neonfma's). */
extern const mnv3_kernels mnv3_kernels_avx2;
extern const mnv3_kernels mnv3_kernels_avx512bw;
extern const mnv3_kernels mnv3_kernels_neonfma;

/* The kernels for this process: chosen once from the CPU, or forced with
 * MNV3_ISA=scalar|avx2|avxvnni|avx512bw|avx512vnni|neonfma|neondot. */
const mnv3_kernels *mnv3_kernels_get(void);
/* Every variant this CPU can run, reference first (tests, benchmarks). */
int mnv3_kernels_available(const mnv3_kernels **list, int max);

/* The fused epilogue every kernel applies to conv + bias (+ residual). */
static inline float mnv3_clamp_range(float v, float lo, float hi) {
  /* (-inf, inf) is no clamp at all (a NaN stays a NaN). */
  return lo > -INFINITY || hi < INFINITY ? fminf(fmaxf(v, lo), hi) : v;
}

static inline float mnv3_activate(float v, mnv3_act act, float pre_lo,
                                  float pre_hi, float post_lo, float post_hi) {
  v = mnv3_clamp_range(v, pre_lo, pre_hi);
  switch (act) {
  case MNV3_ACT_NONE:
    break;
  case MNV3_ACT_RELU:
    v = fmaxf(v, 0.0f);
    break;
  case MNV3_ACT_HSWISH:
    /* torch divides by 6; a multiply differs by at most one rounding and
       costs a fraction of a vector division (which dominated depthwise
       layers and small 1x1 layers). */
    v = v * fminf(fmaxf(v + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f);
    break;
  case MNV3_ACT_HSIGMOID:
    v = fminf(fmaxf(v + 3.0f, 0.0f), 6.0f) / 6.0f;
    break;
  case MNV3_ACT_SIGMOID:
    v = 1.0f / (1.0f + expf(-v));
    break;
  }
  return mnv3_clamp_range(v, post_lo, post_hi);
}

/* The epilogue of an 8-bit convolution on one accumulator, for the
   reference kernels (and SIMD tails). */
static inline void mnv3_qconv_finish(const mnv3_qconv_args *a, int32_t acc, float scale,
                                     float bias, size_t index) {
  float v = (float)acc * scale;
  v = v + bias;
  v = mnv3_clamp_range(v, a->pre_lo, a->pre_hi);
  if (a->residual)
    v += (float)(a->residual[index] - a->residual_zero) * a->residual_scale;
  else if (a->residual_f32)
    v += a->residual_f32[index];
  v = mnv3_activate(v, a->act, -INFINITY, INFINITY, a->post_lo, a->post_hi);
  if (a->output_f32)
    a->output_f32[index] = v;
  else
    a->output[index] = mnv3_quantize_u8(v, a->out_inv_scale, a->out_zero);
}

/* PyTorch's area_pixel_compute_source_index for align_corners=False: the
   two source indices of output index out_i and the weight of the second;
   shared by the reference and every SIMD resize. */
static inline void mnv3_resize_source_index(int out_i, int in_size, int out_size,
                                            int *i0, int *i1, float *lambda) {
  const float scale = (float)in_size / (float)out_size;
  float src = scale * (out_i + 0.5f) - 0.5f;
  if (src < 0.0f)
    src = 0.0f;
  int lo = (int)src;
  if (lo > in_size - 1)
    lo = in_size - 1;
  *i0 = lo;
  *i1 = lo < in_size - 1 ? lo + 1 : lo;
  *lambda = src - (float)lo;
}

/* The scalar vmulc (the kernel tests build gated inputs with it). */
void mnv3_f32_vmulc__scalar(const float *in, const float *gate, int pixels,
                          int channels, float *out, float post_lo, float post_hi);
/* Bilinear, align_corners=False, rows [row_begin, row_end) of the output,
   out pointing at row row_begin; streaming is ignored. */
void mnv3_f32_resize_bilinear__scalar(const float *in, int in_h, int in_w, int channels,
                              float *out, int out_h, int out_w, int row_begin,
                              int row_end, int streaming);
/* The reference of yuv_resize; the SIMD variants finish a row's last
   columns (fewer than a vector) with it. */
void mnv3_u8_yuv_rgb_resize__scalar(const mnv3_yuv_rows *rows, int x_begin,
                                int x_end, float *dst);
/* The reference of argmax; SIMD variants use it beyond the class counts
   they keep in registers. */
void mnv3_f32_argmax__scalar(const float *scores, int pixels, int channels, uint8_t *out);
/* 8-bit references: the depthwise one runs kernels larger than a SIMD
   variant's max_kernel; pooling finishes the AVX2 variant's last channels. */
extern const mnv3_qconv_kernel mnv3_qu8_dwconv__scalar;
void mnv3_qu8_gavgpool__scalar(const uint8_t *in, int pixels, int channels, int c_begin,
                               int c_end, uint8_t *out, int in_zero, float multiplier,
                               const mnv3_qu8_requant *rq);
void mnv3_qu8_vmulc__scalar(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                            int channels, uint8_t *out, const mnv3_qu8_requant *rq);

#endif
