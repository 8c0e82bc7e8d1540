/* The 8-bit kernels of every variant this CPU can run against the
 * reference, bitwise: random uint8 inputs and weights (int8, and the
 * q - zero point of released uint8 models) at odd sizes and
 * channel counts, every kernel size, stride, dilation and padding the
 * network uses and more, residual none/uint8/float, uint8 and float
 * outputs, every activation, clamps on and off; then every split of rows
 * and channels between threads; then pooling, gating and the quantization
 * of the stem's float input.
 *
 *   test_qu8_kernels     prints "N passed, N failed" */
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static unsigned seed = 4242;

static unsigned next_random(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}

static float frand(void) { return (float)(next_random() & 0xffff) / 32768.0f - 1.0f; }

static uint8_t *random_bytes(size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)next_random();
  return p;
}

static void check(int ok, const char *what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    fprintf(stderr, "FAIL %s\n", what);
  }
}

typedef enum family { POINTWISE, DEPTHWISE, DENSE } family;
static const char *family_names[] = {"pointwise", "depthwise", "dense"};

static const mnv3_qconv_kernel *family_kernel(const mnv3_kernels *k, family f) {
  return f == POINTWISE ? k->qpointwise : f == DEPTHWISE ? k->qdepthwise : k->qdense;
}

typedef struct problem {
  family fam;
  int in_h, in_w, in_c, out_h, out_w, out_c, kernel, stride, dilation, pad_top, pad_left;
  int in_zero, residual; /* 0 none, 1 uint8, 2 float */
  int float_output;
  mnv3_act act;
  float pre_lo, pre_hi, post_lo, post_hi;
  int16_t *weight;
  float *scale, *bias, *res_f32;
  uint8_t *input, *res;
} problem;

static void problem_init(problem *p, int counter) {
  static const mnv3_act acts[] = {MNV3_ACT_NONE, MNV3_ACT_RELU, MNV3_ACT_HSWISH,
                                  MNV3_ACT_HSIGMOID, MNV3_ACT_SIGMOID};
  const size_t per_out =
      (size_t)(p->fam == DEPTHWISE ? 1 : p->in_c) * p->kernel * p->kernel;
  const size_t outputs = (size_t)p->out_h * p->out_w * p->out_c;
  p->act = acts[counter % 5];
  p->residual = (counter / 5) % 3;
  p->float_output = (counter / 15) % 2;
  const int clamped = (counter / 30) % 2;
  p->pre_lo = clamped ? -2.5f : -INFINITY;
  p->pre_hi = clamped ? 2.0f : INFINITY;
  p->post_lo = clamped ? -0.25f : -INFINITY;
  p->post_hi = clamped ? 1.5f : INFINITY;
  p->in_zero = (int)(next_random() % 256);
  /* Symmetric int8 (-127..127), or a released uint8 model's own weights,
     the widest the kernels take (kernels.h): q - zero point, both 0..255,
     with channels that reach 255 and -255 (zero points 0 and 255); every
     other 32 of them within -127..128, as most of a uint8 model's are (the
     VNNI kernels' panels of such channels take one int8 plane, the others
     two). */
  const int uint8_weights = (counter / 60) % 2;
  p->weight = malloc(sizeof *p->weight * (per_out * p->out_c + 1));
  for (int o = 0; o < p->out_c; o++) {
    const int narrow = (o / 32) % 2;
    const int zero = narrow ? 127 : o % 3 == 0 ? 0 : o % 3 == 1 ? 255 : (int)(next_random() % 256);
    int16_t *w = p->weight + per_out * o;
    for (size_t i = 0; i < per_out; i++)
      w[i] = (int16_t)(uint8_weights ? (int)(next_random() % 256) - zero
                                     : (int)(next_random() % 255) - 127);
    if (uint8_weights)
      w[0] = (int16_t)(narrow ? 128 : zero ? -zero : 255);
  }
  p->scale = malloc(sizeof(float) * p->out_c);
  p->bias = malloc(sizeof(float) * p->out_c);
  /* Scales that spread the sums over the activations' interesting range. */
  for (int o = 0; o < p->out_c; o++) {
    p->scale[o] = (1.0f + frand()) * 4.0f / (127.0f * 128.0f * sqrtf((float)per_out));
    p->bias[o] = frand();
  }
  p->input = random_bytes((size_t)p->in_h * p->in_w * p->in_c);
  p->res = random_bytes(outputs);
  p->res_f32 = malloc(sizeof(float) * (outputs ? outputs : 1));
  for (size_t i = 0; i < outputs; i++)
    p->res_f32[i] = 2.0f * frand();
}

static void problem_clear(problem *p) {
  free(p->weight);
  free(p->scale);
  free(p->bias);
  free(p->input);
  free(p->res);
  free(p->res_f32);
}

/* Output bytes (uint8 or float) of `kernel` run over tiles as the executor
   splits them (0: everything at once). */
static void *run(const problem *p, const mnv3_qconv_kernel *kernel, int tile_rows,
                 int tile_channels, size_t *bytes) {
  void *packed = aligned_alloc(64, (kernel->packed_size(p->out_c, p->in_c, p->kernel) + 63) /
                                       64 * 64);
  kernel->pack(p->weight, p->scale, p->bias, p->in_zero, p->out_c, p->in_c, p->kernel, packed);
  const size_t outputs = (size_t)p->out_h * p->out_w * p->out_c;
  *bytes = outputs * (p->float_output ? sizeof(float) : 1);
  void *out = calloc(*bytes ? *bytes : 1, 1);
  mnv3_qconv_args a = {
      .input = p->input, .in_h = p->in_h, .in_w = p->in_w, .in_c = p->in_c,
      .in_zero = p->in_zero, .output = p->float_output ? NULL : out,
      .output_f32 = p->float_output ? out : NULL, .out_h = p->out_h, .out_w = p->out_w,
      .out_c = p->out_c, .packed = packed, .residual = p->residual == 1 ? p->res : NULL,
      .residual_f32 = p->residual == 2 ? p->res_f32 : NULL, .residual_scale = 0.0125f,
      .residual_zero = 117, .kernel = p->kernel, .stride = p->stride,
      .dilation = p->dilation, .pad_top = p->pad_top, .pad_left = p->pad_left,
      .act = p->act, .pre_lo = p->pre_lo, .pre_hi = p->pre_hi, .post_lo = p->post_lo,
      .post_hi = p->post_hi, .out_inv_scale = 1.0f / 0.0123f, .out_zero = 31};
  if (!tile_rows)
    tile_rows = p->out_h;
  if (!tile_channels || !kernel->channel_block)
    tile_channels = p->out_c;
  for (int r = 0; r < p->out_h; r += tile_rows)
    for (int c = 0; c < p->out_c; c += tile_channels) {
      a.oc_begin = c;
      a.oc_end = c + tile_channels < p->out_c ? c + tile_channels : p->out_c;
      kernel->run(&a, r, r + tile_rows < p->out_h ? r + tile_rows : p->out_h);
    }
  free(packed);
  return out;
}

static void check_problem(const problem *p, const mnv3_kernels *variant) {
  const mnv3_qconv_kernel *kernel = family_kernel(variant, p->fam);
  const mnv3_qconv_kernel *ref = family_kernel(&mnv3_kernels_scalar, p->fam);
  char what[320];
  snprintf(what, sizeof what,
           "%s (%s) in %dx%dx%d z%d out %dx%dx%d k%d s%d d%d pad %d,%d residual %d float "
           "out %d act %d clamps %g..%g",
           kernel->name, family_names[p->fam], p->in_h, p->in_w, p->in_c, p->in_zero,
           p->out_h, p->out_w, p->out_c, p->kernel, p->stride, p->dilation, p->pad_top,
           p->pad_left, p->residual, p->float_output, p->act, p->pre_lo, p->pre_hi);
  size_t bytes;
  void *want = run(p, ref, 0, 0, &bytes);
  void *got = run(p, kernel, 0, 0, &bytes);
  check(memcmp(want, got, bytes) == 0, what);
  const int block = kernel->channel_block;
  const int splits[][2] = {{1, 0}, {2, block}, {1, 3 * block}, {p->out_h, block}};
  for (size_t s = 0; s < sizeof splits / sizeof *splits; s++) {
    void *split = run(p, kernel, splits[s][0], splits[s][1], &bytes);
    char msg[400];
    snprintf(msg, sizeof msg, "%s: tiles of %d rows x %d channels", what, splits[s][0],
             splits[s][1]);
    check(memcmp(split, got, bytes) == 0, msg);
    free(split);
  }
  free(want);
  free(got);
}

static int output_size(int in, int k, int s, int d, int same, int *pad) {
  const int span = (k - 1) * d + 1;
  if (same) {
    const int out = (in + s - 1) / s;
    const int total = (out - 1) * s + span - in;
    *pad = total > 0 ? total / 2 : 0;
    return out;
  }
  *pad = (k - 1) / 2 * d;
  return (in + 2 * *pad - span) / s + 1;
}

static const int sizes[][2] = {{1, 1}, {7, 5}, {17, 13}};

/* A dense convolution (the stem's kind) of an in_h x in_w x in_c input. */
static void check_dense(const mnv3_kernels *v, int in_h, int in_w, int in_c, int out_c, int k,
                        int stride, int dilation, int same, int counter) {
  problem p = {DENSE, in_h, in_w, in_c, 0, 0, out_c, k, stride, dilation};
  p.out_h = output_size(p.in_h, k, stride, dilation, same, &p.pad_top);
  p.out_w = output_size(p.in_w, k, stride, dilation, same, &p.pad_left);
  problem_init(&p, counter);
  check_problem(&p, v);
  problem_clear(&p);
}

static void test_convolutions(const mnv3_kernels *v) {
  static const int pointwise[][2] = {{1, 1}, {3, 7}, {8, 17}, {17, 33}, {24, 72},
                                     {40, 120}, {120, 33}, {16, 961}, {961, 17}};
  static const int depthwise[] = {1, 3, 8, 17, 24, 33, 120, 961};
  /* input x output channels; and sizes wide enough for whole tiles */
  static const int dense[][2] = {{1, 1}, {3, 16}, {3, 17}, {5, 33}, {16, 9}};
  static const int dense_sizes[][2] = {{1, 1}, {7, 5}, {9, 41}, {20, 37}};
  int counter = 0;
  for (int s = 0; s < 4; s++)
    for (int k = 1; k <= 7; k += 2)
      for (int stride = 1; stride <= 2; stride++)
        for (int dilation = 1; dilation <= 2; dilation++)
          for (size_t c = 0; c < sizeof dense / sizeof *dense; c++, counter++)
            check_dense(v, dense_sizes[s][0], dense_sizes[s][1], dense[c][0], dense[c][1], k,
                        stride, dilation, counter % 2, counter);
  /* MobileNetV3's stem, every activation, residual and clamp, int8 and
     uint8-model weights (one plane and two). */
  for (int i = 0; i < 120; i += 7)
    check_dense(v, 224, 224, 3, 16, 3, 2, 1, 1, i);
  for (int s = 0; s < 3; s++) {
    for (size_t c = 0; c < sizeof pointwise / sizeof *pointwise; c++)
      for (int e = 0; e < 60; e += pointwise[c][0] * pointwise[c][1] > 10000 ? 13 : 7) {
        problem p = {POINTWISE, sizes[s][0], sizes[s][1], pointwise[c][0], sizes[s][0],
                     sizes[s][1], pointwise[c][1], 1, 1, 1, 0, 0};
        problem_init(&p, counter++ + e);
        check_problem(&p, v);
        problem_clear(&p);
      }
    for (int k = 1; k <= 7; k += 2)
      for (int stride = 1; stride <= 2; stride++)
        /* Dilation 10: a 7x7 kernel spans more columns than an AVX-512
           tile of qu8_dwconv.inc.h holds. */
        for (int dilation = 1; dilation <= 10; dilation = dilation == 2 ? 10 : dilation + 1)
          for (size_t c = 0; c < sizeof depthwise / sizeof *depthwise; c++) {
            const int same = counter % 2;
            problem p = {DEPTHWISE, sizes[s][0], sizes[s][1], depthwise[c], 0, 0,
                         depthwise[c], k, stride, dilation};
            p.out_h = output_size(p.in_h, k, stride, dilation, same, &p.pad_top);
            p.out_w = output_size(p.in_w, k, stride, dilation, same, &p.pad_left);
            problem_init(&p, counter++);
            check_problem(&p, v);
            problem_clear(&p);
          }
  }
}

static void test_small_ops(const mnv3_kernels *v) {
  static const int channels[] = {1, 7, 16, 33, 120, 961};
  const mnv3_qu8_requant rq = {-0.5f, 2.0f, 1.0f / 0.011f, 45};
  for (size_t c = 0; c < sizeof channels / sizeof *channels; c++)
    for (int pixels = 1; pixels <= 50; pixels += 7) {
      const int C = channels[c];
      const size_t n = (size_t)pixels * C;
      uint8_t *in = random_bytes(n), *gate = random_bytes((size_t)C);
      uint8_t *want = calloc(n, 1), *got = calloc(n, 1);
      char what[128];
      mnv3_qu8_gavgpool__scalar(in, pixels, C, 0, C, want, 77, 0.02f / pixels, &rq);
      v->qgavgpool(in, pixels, C, 0, C, got, 77, 0.02f / pixels, &rq);
      snprintf(what, sizeof what, "%s qgavgpool %d pixels x %d", v->isa, pixels, C);
      check(memcmp(want, got, (size_t)C) == 0, what);
      const mnv3_qu8_gate g = {gate, 19, 3, 0.017f, 1.0f / 255.0f};
      mnv3_qu8_vmulc__scalar(in, &g, pixels, C, want, &rq);
      v->qvmulc(in, &g, pixels, C, got, &rq);
      snprintf(what, sizeof what, "%s qvmulc %d pixels x %d", v->isa, pixels, C);
      check(memcmp(want, got, n) == 0, what);
      free(in);
      free(gate);
      free(want);
      free(got);
    }
  /* The quantization every variant follows: ties go to even, NaN to 0. */
  check(mnv3_quantize_u8(NAN, 4.0f, 128) == 0 && mnv3_quantize_u8(INFINITY, 4.0f, 128) == 255 &&
            mnv3_quantize_u8(-INFINITY, 4.0f, 128) == 0 &&
            mnv3_quantize_u8(3e38f, 4.0f, 0) == 255,
        "quantize of NaN, infinities and huge values");
  check(mnv3_quantize_u8(0.125f, 4.0f, 10) == 10 && mnv3_quantize_u8(0.375f, 4.0f, 10) == 12,
        "quantize rounds ties to even");
  /* The stem's input: clamped (a NaN to lo), then quantized. */
  for (size_t n = 1; n <= 100; n += 11) {
    float *x = malloc(n * sizeof *x);
    uint8_t *want = malloc(n), *got = malloc(n);
    for (size_t i = 0; i < n; i++)
      x[i] = i == n / 2 ? NAN : 3.0f * frand();
    for (int clamped = 0; clamped < 2; clamped++) {
      const float lo = clamped ? -2.1f : -INFINITY, hi = clamped ? 2.6f : INFINITY;
      mnv3_kernels_scalar.qquantize(x, n, lo, hi, 1.0f / 0.0186f, 113, want);
      v->qquantize(x, n, lo, hi, 1.0f / 0.0186f, 113, got);
      char what[128];
      snprintf(what, sizeof what, "%s qquantize %zu values, clamped %d", v->isa, n, clamped);
      check(memcmp(want, got, n) == 0, what);
    }
    free(x);
    free(want);
    free(got);
  }
  /* ... and from 3 planes (NCHW) to interleaved bytes; planes further
     apart than a row, as in an image's row of mnv3_context_run_nchw. */
  for (size_t pixels = 1; pixels <= 240; pixels += 13) {
    const size_t plane = pixels + 5;
    float *x = malloc(3 * plane * sizeof *x);
    uint8_t *want = malloc(3 * pixels), *got = malloc(3 * pixels);
    for (size_t i = 0; i < 3 * plane; i++)
      x[i] = i == plane + pixels / 2 ? NAN : 3.0f * frand();
    for (int clamped = 0; clamped < 2; clamped++) {
      const float lo = clamped ? -2.1f : -INFINITY, hi = clamped ? 2.6f : INFINITY;
      mnv3_kernels_scalar.qquantize_planes(x, plane, pixels, lo, hi, 1.0f / 0.0186f, 113, want);
      v->qquantize_planes(x, plane, pixels, lo, hi, 1.0f / 0.0186f, 113, got);
      int interleaved = 1; /* the reference against the other quantization */
      for (size_t i = 0; i < pixels; i++)
        for (int c = 0; c < 3; c++) {
          uint8_t one;
          mnv3_kernels_scalar.qquantize(x + c * plane + i, 1, lo, hi, 1.0f / 0.0186f, 113, &one);
          interleaved &= want[3 * i + c] == one;
        }
      char what[128];
      snprintf(what, sizeof what, "%s qquantize_planes %zu pixels, clamped %d", v->isa, pixels,
               clamped);
      check(interleaved && memcmp(want, got, 3 * pixels) == 0, what);
    }
    free(x);
    free(want);
    free(got);
  }
}

int main(void) {
  const mnv3_kernels *list[8];
  const int n = mnv3_kernels_available(list, 8);
  for (int i = 0; i < n; i++) {
    const int before = failed;
    test_convolutions(list[i]);
    test_small_ops(list[i]);
    printf("%s: %s\n", list[i]->isa, failed == before ? "ok" : "FAILED");
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
