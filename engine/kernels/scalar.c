/* The scalar variant: plain C reference kernels, the twins every SIMD
 * variant is tested against, and the fallback on CPUs without one. Written
 * for clarity. */
#include "kernels.h"

#include <string.h>

/* Packed layout shared by the reference kernels: bias[out_c], then the
 * weights with the output channel fastest: [kh][kw][in_c][out_c] (depthwise:
 * [kh][kw][c]). */
static size_t scalar_packed_size(int out_c, int in_c, int kernel) {
  return (size_t)out_c + (size_t)kernel * kernel * in_c * out_c;
}

static size_t scalar_dw_packed_size(int out_c, int in_c, int kernel) {
  return (size_t)out_c + (size_t)kernel * kernel * out_c;
}

static void scalar_pack(const float *weight, const float *bias, int out_c, int in_c,
                     int kernel, float *dst) {
  memcpy(dst, bias, (size_t)out_c * sizeof *dst);
  float *w = dst + out_c;
  for (int o = 0; o < out_c; o++)
    for (int i = 0; i < in_c; i++)
      for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
          w[(((size_t)ky * kernel + kx) * in_c + i) * out_c + o] =
              weight[(((size_t)o * in_c + i) * kernel + ky) * kernel + kx];
}

static void scalar_dw_pack(const float *weight, const float *bias, int out_c,
                        int in_c, int kernel, float *dst) {
  scalar_pack(weight, bias, out_c, 1, kernel, dst);
}

static inline float epilogue(const mnv3_conv_args *a, float v, size_t index) {
  v = mnv3_clamp_range(v, a->pre_lo, a->pre_hi);
  if (a->residual)
    v += a->residual[index];
  return mnv3_activate(v, a->act, -INFINITY, INFINITY, a->post_lo, a->post_hi);
}

static void scalar_dense(const mnv3_conv_args *a, int row_begin, int row_end) {
  const float *bias = a->packed, *w = a->packed + a->out_c;
  for (int oy = row_begin; oy < row_end; oy++)
    for (int ox = 0; ox < a->out_w; ox++) {
      const size_t pixel = (size_t)oy * a->out_w + ox;
      for (int o = 0; o < a->out_c; o++) {
        float acc = bias[o];
        for (int ky = 0; ky < a->kernel; ky++) {
          const int iy = oy * a->stride - a->pad_top + ky * a->dilation;
          if (iy < 0 || iy >= a->in_h)
            continue;
          for (int kx = 0; kx < a->kernel; kx++) {
            const int ix = ox * a->stride - a->pad_left + kx * a->dilation;
            if (ix < 0 || ix >= a->in_w)
              continue;
            const float *in = a->input + ((size_t)iy * a->in_w + ix) * a->in_c;
            const float *wk = w + ((size_t)ky * a->kernel + kx) * a->in_c * a->out_c;
            for (int i = 0; i < a->in_c; i++)
              acc += in[i] * wk[(size_t)i * a->out_c + o];
          }
        }
        a->output[pixel * a->out_c + o] = epilogue(a, acc, pixel * a->out_c + o);
      }
    }
}

static void scalar_depthwise(const mnv3_conv_args *a, int row_begin, int row_end) {
  const int c = a->out_c;
  const float *bias = a->packed, *w = a->packed + c;
  for (int oy = row_begin; oy < row_end; oy++)
    for (int ox = 0; ox < a->out_w; ox++) {
      const size_t pixel = (size_t)oy * a->out_w + ox;
      for (int ch = 0; ch < c; ch++) {
        float acc = bias[ch];
        for (int ky = 0; ky < a->kernel; ky++) {
          const int iy = oy * a->stride - a->pad_top + ky * a->dilation;
          if (iy < 0 || iy >= a->in_h)
            continue;
          for (int kx = 0; kx < a->kernel; kx++) {
            const int ix = ox * a->stride - a->pad_left + kx * a->dilation;
            if (ix < 0 || ix >= a->in_w)
              continue;
            acc += a->input[((size_t)iy * a->in_w + ix) * c + ch] *
                   w[((size_t)ky * a->kernel + kx) * c + ch];
          }
        }
        a->output[pixel * c + ch] = epilogue(a, acc, pixel * c + ch);
      }
    }
}

static void scalar_pointwise(const mnv3_conv_args *a, int row_begin, int row_end) {
  const float *bias = a->packed, *w = a->packed + a->out_c;
  const size_t begin = (size_t)row_begin * a->out_w, end = (size_t)row_end * a->out_w;
  for (size_t p = begin; p < end; p++) {
    const float *in = a->input + p * a->in_c;
    for (int o = 0; o < a->out_c; o++) {
      float acc = bias[o];
      for (int i = 0; i < a->in_c; i++) {
        const float x = a->in_gate ? fminf(fmaxf(in[i] * a->in_gate[i], a->gate_lo), a->gate_hi)
                                   : in[i];
        acc += x * w[(size_t)i * a->out_c + o];
      }
      a->output[p * a->out_c + o] = epilogue(a, acc, p * a->out_c + o);
    }
  }
}

static void scalar_gavgpool(const float *in, int pixels, int channels, int c_begin,
                            int c_end, float *out, float post_lo, float post_hi) {
  for (int c = c_begin; c < c_end; c++) {
    double sum = 0.0;
    for (int p = 0; p < pixels; p++)
      sum += in[(size_t)p * channels + c];
    out[c] = fminf(fmaxf((float)(sum / pixels), post_lo), post_hi);
  }
}

/* ---- 8-bit ---------------------------------------------------------------
 * Packed: scale[out_c], bias[out_c] (floats), then the int16 weights laid
 * out as the float ones: [kh][kw][in_c][out_c] (depthwise [kh][kw][c]). */
static size_t scalar_qpacked_size(int out_c, int in_c, int kernel) {
  return 2 * sizeof(float) * (size_t)out_c +
         sizeof(int16_t) * (size_t)kernel * kernel * in_c * out_c;
}

static size_t scalar_qdw_packed_size(int out_c, int in_c, int kernel) {
  return scalar_qpacked_size(out_c, 1, kernel);
}

static void scalar_qpack(const int16_t *weight, const float *scale, const float *bias,
                         int in_zero, int out_c, int in_c, int kernel, void *dst) {
  (void)in_zero; /* the reference subtracts it from every input */
  float *f = dst;
  memcpy(f, scale, (size_t)out_c * sizeof *f);
  memcpy(f + out_c, bias, (size_t)out_c * sizeof *f);
  int16_t *w = (int16_t *)(f + 2 * out_c);
  for (int o = 0; o < out_c; o++)
    for (int i = 0; i < in_c; i++)
      for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
          w[(((size_t)ky * kernel + kx) * in_c + i) * out_c + o] =
              weight[(((size_t)o * in_c + i) * kernel + ky) * kernel + kx];
}

static void scalar_qdw_pack(const int16_t *weight, const float *scale, const float *bias,
                            int in_zero, int out_c, int in_c, int kernel, void *dst) {
  (void)in_c;
  scalar_qpack(weight, scale, bias, in_zero, out_c, 1, kernel, dst);
}

/* Dense (the stem; 1x1 convolutions run it too) and depthwise alike: groups
   of in_c input channels (1 for depthwise, where input channel = output
   channel). */
static void scalar_qconv(const mnv3_qconv_args *a, int row_begin, int row_end,
                         int depthwise) {
  const float *scale = a->packed, *bias = scale + a->out_c;
  const int16_t *w = (const int16_t *)(bias + a->out_c);
  const int group = depthwise ? 1 : a->in_c;
  for (int oy = row_begin; oy < row_end; oy++)
    for (int ox = 0; ox < a->out_w; ox++) {
      const size_t pixel = (size_t)oy * a->out_w + ox;
      for (int o = 0; o < a->out_c; o++) {
        int32_t acc = 0;
        for (int ky = 0; ky < a->kernel; ky++) {
          const int iy = oy * a->stride - a->pad_top + ky * a->dilation;
          if (iy < 0 || iy >= a->in_h)
            continue;
          for (int kx = 0; kx < a->kernel; kx++) {
            const int ix = ox * a->stride - a->pad_left + kx * a->dilation;
            if (ix < 0 || ix >= a->in_w)
              continue;
            const uint8_t *in = a->input + ((size_t)iy * a->in_w + ix) * a->in_c;
            const int16_t *wk = w + ((size_t)ky * a->kernel + kx) * group * a->out_c;
            if (depthwise)
              acc += (in[o] - a->in_zero) * wk[o];
            else
              for (int i = 0; i < a->in_c; i++)
                acc += (in[i] - a->in_zero) * wk[(size_t)i * a->out_c + o];
          }
        }
        mnv3_qconv_finish(a, acc, scale[o], bias[o], pixel * a->out_c + o);
      }
    }
}

static void scalar_qdense(const mnv3_qconv_args *a, int row_begin, int row_end) {
  scalar_qconv(a, row_begin, row_end, 0);
}

static void scalar_qdepthwise(const mnv3_qconv_args *a, int row_begin, int row_end) {
  scalar_qconv(a, row_begin, row_end, 1);
}

void mnv3_qu8_gavgpool__scalar(const uint8_t *in, int pixels, int channels, int c_begin,
                               int c_end, uint8_t *out, int in_zero, float multiplier,
                               const mnv3_qu8_requant *rq) {
  for (int c = c_begin; c < c_end; c++) {
    int32_t sum = 0;
    for (int p = 0; p < pixels; p++)
      sum += in[(size_t)p * channels + c];
    const float v = (float)(sum - pixels * in_zero) * multiplier;
    out[c] = mnv3_quantize_u8(fminf(fmaxf(v, rq->post_lo), rq->post_hi), rq->out_inv_scale,
                              rq->out_zero);
  }
}

void mnv3_qu8_vmulc__scalar(const uint8_t *in, const mnv3_qu8_gate *gate, int pixels,
                            int channels, uint8_t *out, const mnv3_qu8_requant *rq) {
  for (size_t i = 0; i < (size_t)pixels * channels; i++) {
    const int c = (int)(i % (size_t)channels);
    const float m = gate->in_scale * ((float)(gate->gate[c] - gate->gate_zero) * gate->gate_scale);
    const float v = (float)(in[i] - gate->in_zero) * m;
    out[i] = mnv3_quantize_u8(fminf(fmaxf(v, rq->post_lo), rq->post_hi), rq->out_inv_scale,
                              rq->out_zero);
  }
}

static void scalar_qquantize(const float *in, size_t n, float lo, float hi, float inv_scale,
                             int zero, uint8_t *out) {
  for (size_t i = 0; i < n; i++)
    out[i] = mnv3_quantize_input_u8(in[i], lo, hi, inv_scale, zero);
}

static void scalar_qquantize_planes(const float *in, size_t plane, size_t pixels, float lo,
                                    float hi, float inv_scale, int zero, uint8_t *out) {
  for (size_t i = 0; i < pixels; i++)
    for (int c = 0; c < 3; c++)
      out[3 * i + c] = mnv3_quantize_input_u8(in[c * plane + i], lo, hi, inv_scale, zero);
}

static const mnv3_qconv_kernel qu8_conv__scalar = {
    .name = "qu8_conv__scalar", .packed_size = scalar_qpacked_size,
    .pack = scalar_qpack, .run = scalar_qdense};
static const mnv3_qconv_kernel qu8_conv1x1__scalar = {
    .name = "qu8_conv1x1__scalar", .packed_size = scalar_qpacked_size,
    .pack = scalar_qpack, .run = scalar_qdense};
const mnv3_qconv_kernel mnv3_qu8_dwconv__scalar = {
    .name = "qu8_dwconv__scalar", .packed_size = scalar_qdw_packed_size,
    .pack = scalar_qdw_pack, .run = scalar_qdepthwise};

/* channel_block 0 and no input_rows: the executor splits rows only and
 * never fuses these with the step before. */
static const mnv3_conv_kernel scalar_pointwise_kernel = {
    .name = "f32_conv1x1__scalar", .packed_size = scalar_packed_size,
    .pack = scalar_pack, .run = scalar_pointwise};
static const mnv3_conv_kernel scalar_depthwise_kernel = {
    .name = "f32_dwconv__scalar", .packed_size = scalar_dw_packed_size,
    .pack = scalar_dw_pack, .run = scalar_depthwise};
static const mnv3_conv_kernel scalar_dense_kernel = {
    .name = "f32_conv__scalar", .packed_size = scalar_packed_size, .pack = scalar_pack,
    .run = scalar_dense};

const mnv3_kernels mnv3_kernels_scalar = {
    .isa = "scalar",
    .pointwise = &scalar_pointwise_kernel,
    .depthwise = &scalar_depthwise_kernel,
    .dense = &scalar_dense_kernel,
    .gavgpool = scalar_gavgpool,
    .vmulc = mnv3_f32_vmulc__scalar,
    .resize = mnv3_f32_resize_bilinear__scalar,
    .yuv_resize = mnv3_u8_yuv_rgb_resize__scalar,
    .argmax = mnv3_f32_argmax__scalar,
    .blend_const = mnv3_u8_blend_const__scalar,
    .blend_lines = mnv3_u8_blend_lines__scalar,
    .count_changes = mnv3_u8_count_changes__scalar,
    .qpointwise = &qu8_conv1x1__scalar,
    .qdepthwise = &mnv3_qu8_dwconv__scalar,
    .qdense = &qu8_conv__scalar,
    .qgavgpool = mnv3_qu8_gavgpool__scalar,
    .qvmulc = mnv3_qu8_vmulc__scalar,
    .qquantize = scalar_qquantize,
    .qquantize_planes = scalar_qquantize_planes,
};

void mnv3_f32_vmulc__scalar(const float *in, const float *gate, int pixels,
                          int channels, float *out, float post_lo, float post_hi) {
  for (int p = 0; p < pixels; p++)
    for (int c = 0; c < channels; c++) {
      const size_t i = (size_t)p * channels + c;
      out[i] = fminf(fmaxf(in[i] * gate[c], post_lo), post_hi);
    }
}

void mnv3_f32_resize_bilinear__scalar(const float *in, int in_h, int in_w, int channels,
                              float *out, int out_h, int out_w, int row_begin,
                              int row_end, int streaming) {
  (void)streaming; /* a hint for the SIMD variants */
  for (int oy = row_begin; oy < row_end; oy++) {
    int y0, y1;
    float ly;
    mnv3_resize_source_index(oy, in_h, out_h, &y0, &y1, &ly);
    for (int ox = 0; ox < out_w; ox++) {
      int x0, x1;
      float lx;
      mnv3_resize_source_index(ox, in_w, out_w, &x0, &x1, &lx);
      const float *p00 = in + ((size_t)y0 * in_w + x0) * channels;
      const float *p01 = in + ((size_t)y0 * in_w + x1) * channels;
      const float *p10 = in + ((size_t)y1 * in_w + x0) * channels;
      const float *p11 = in + ((size_t)y1 * in_w + x1) * channels;
      float *o = out + ((size_t)(oy - row_begin) * out_w + ox) * channels;
      for (int c = 0; c < channels; c++)
        o[c] = (1.0f - ly) * ((1.0f - lx) * p00[c] + lx * p01[c]) +
               ly * ((1.0f - lx) * p10[c] + lx * p11[c]);
    }
  }
}

static float clamp255(float v) {
  v = v > 0.0f ? v : 0.0f;
  return v < 255.0f ? v : 255.0f;
}

/* One plane of source row r (0 top, 1 bottom) at column x: its two taps,
   interpolated. */
static float yuv_plane_row(const uint8_t *const row[2], int r, int t0, int t1, float w0,
                           float w1) {
  return w0 * (float)row[r][t0] + w1 * (float)row[r][t1];
}

/* One plane at column x, both rows blended. */
static float yuv_plane(const mnv3_yuv_rows *rows, const uint8_t *const row[2], int t0,
                       int t1, int x) {
  const float w0 = rows->w0[x], w1 = rows->w1[x];
  return rows->h0 * yuv_plane_row(row, 0, t0, t1, w0, w1) +
         rows->h1 * yuv_plane_row(row, 1, t0, t1, w0, w1);
}

void mnv3_u8_yuv_rgb_resize__scalar(const mnv3_yuv_rows *rows, int x_begin, int x_end,
                                float *dst) {
  const mnv3_yuv_coefs *k = rows->coefs;
  for (int x = x_begin; x < x_end; x++) {
    const int c0 = rows->c0[x], c1 = rows->c1[x];
    const float y = yuv_plane(rows, rows->y, rows->a0[x], rows->a1[x], x);
    const float u = yuv_plane(rows, rows->u, c0, c1, x) - 128.0f;
    const float v = yuv_plane(rows, rows->v, c0, c1, x) - 128.0f;
    const float l = (y - k->y_offset) * k->y_scale;
    const float rgb[3] = {clamp255(l + v * k->rv), clamp255((l + u * k->gu) + v * k->gv),
                          clamp255(l + u * k->bu)};
    for (int c = 0; c < 3; c++)
      dst[3 * x + c] = rgb[c] * rows->scale[c] + rows->bias[c];
  }
}

/* Branch-free (selects, not jumps): the winner is unpredictable, and
   mispredictions made this loop cost 12 ms at 512x1024. */
void mnv3_f32_argmax__scalar(const float *scores, int pixels, int channels, uint8_t *out) {
  for (int p = 0; p < pixels; p++) {
    const float *s = scores + (size_t)p * channels;
    float best_score = s[0];
    int best = 0;
    for (int c = 1; c < channels; c++) {
      const int better = s[c] > best_score;
      best_score = better ? s[c] : best_score;
      best = better ? c : best;
    }
    out[p] = (uint8_t)best;
  }
}

void mnv3_u8_blend_const__scalar(uint8_t *p, int n, uint16_t keep, uint16_t add) {
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)((uint16_t)(p[i] * keep + add) >> 8);
}

void mnv3_u8_blend_lines__scalar(uint8_t *restrict p, const uint16_t *restrict keep,
                             const uint16_t *restrict add, int n) {
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)((uint16_t)(p[i] * keep[i] + add[i]) >> 8);
}

int mnv3_u8_count_changes__scalar(const uint8_t *p, int n) {
  int changes = 0;
  for (int i = 1; i < n; i++)
    changes += p[i] != p[i - 1];
  return changes;
}
