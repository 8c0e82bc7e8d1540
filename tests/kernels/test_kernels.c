/* Every kernel variant this CPU can run against the reference kernels, on
 * random data at odd sizes and channel counts, every kernel/stride/dilation,
 * both paddings, residual on and off, every activation, finite and infinite
 * clamps, pointwise inputs with and without a squeeze-and-excitation gate,
 * and the byte loops of mask blending (exact).
 * SIMD results may differ from the reference by FMA rounding only:
 * |got - ref| <= 1e-5 x (|ref| + sum of |terms|). And each variant must give
 * bitwise the same result however the executor splits rows and channels
 * between threads.
 *
 * A table whose float kernels are another's (neondot: neonfma's;
 * avx512vnni: avx512bw's; avxvnni: avx2's) is not
 * tested again here.
 *
 *   test_kernels                run everything; prints "N passed, N failed"
 *   test_kernels --list         print the ISAs this CPU can run, one a line
 *   test_kernels --list-float   only those with float kernels of their own */
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static unsigned seed = 12345;

static float frand(void) { /* uniform in [-1, 1) */
  seed = seed * 1103515245u + 12345u;
  return (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *random_floats(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  for (size_t i = 0; i < n; i++)
    p[i] = 2.0f * frand();
  return p;
}

static float *alloc_floats(size_t n) {
  float *p = aligned_alloc(64, ((n ? n : 1) * sizeof(float) + 63) / 64 * 64);
  memset(p, 0, (n ? n : 1) * sizeof(float));
  return p;
}

static const mnv3_act acts[] = {MNV3_ACT_NONE, MNV3_ACT_RELU, MNV3_ACT_HSWISH,
                                MNV3_ACT_HSIGMOID, MNV3_ACT_SIGMOID};
static const char *act_names[] = {"none", "relu", "hswish", "hsigmoid", "sigmoid"};

typedef enum family { POINTWISE, DEPTHWISE, DENSE } family;

static const mnv3_conv_kernel *family_kernel(const mnv3_kernels *k, family f) {
  return f == POINTWISE ? k->pointwise : f == DEPTHWISE ? k->depthwise : k->dense;
}

/* One convolution problem: unpacked weights, input, residual. */
typedef struct problem {
  family fam;
  int in_h, in_w, in_c, out_h, out_w, out_c, kernel, stride, dilation, pad_top, pad_left;
  int residual;
  mnv3_act act;
  float pre_lo, pre_hi, post_lo, post_hi;
  int gated; /* pointwise: the input goes through a gate (in_gate) */
  float gate_lo, gate_hi;
  float *weight, *bias, *input, *res;
  float *gate, *gated_input; /* gated: the gate, and vmulc's result */
  double *magnitude; /* per output: |bias| + sum |x w| + |residual| */
} problem;

static void problem_init(problem *p) {
  const int per_out = p->fam == DEPTHWISE ? p->kernel * p->kernel
                                          : p->in_c * p->kernel * p->kernel;
  const size_t outputs = (size_t)p->out_h * p->out_w * p->out_c;
  p->weight = random_floats((size_t)p->out_c * per_out);
  p->bias = random_floats((size_t)p->out_c);
  p->input = random_floats((size_t)p->in_h * p->in_w * p->in_c);
  p->res = p->residual ? random_floats(outputs) : NULL;
  if (p->gated) {
    p->gate = random_floats((size_t)p->in_c);
    p->gated_input = random_floats((size_t)p->in_h * p->in_w * p->in_c);
    mnv3_f32_vmulc__scalar(p->input, p->gate, p->in_h * p->in_w, p->in_c, p->gated_input,
                         p->gate_lo, p->gate_hi);
  }
  const float *conv_input = p->gated ? p->gated_input : p->input;
  p->magnitude = calloc(outputs ? outputs : 1, sizeof *p->magnitude);
  /* The magnitude bound of each output, straight from the definition. */
  for (int oy = 0; oy < p->out_h; oy++)
    for (int ox = 0; ox < p->out_w; ox++)
      for (int o = 0; o < p->out_c; o++) {
        const size_t idx = ((size_t)oy * p->out_w + ox) * p->out_c + o;
        double m = fabs(p->bias[o]) + (p->res ? fabs(p->res[idx]) : 0.0);
        for (int ky = 0; ky < p->kernel; ky++)
          for (int kx = 0; kx < p->kernel; kx++) {
            const int iy = oy * p->stride - p->pad_top + ky * p->dilation;
            const int ix = ox * p->stride - p->pad_left + kx * p->dilation;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
              continue;
            const float *in = conv_input + ((size_t)iy * p->in_w + ix) * p->in_c;
            if (p->fam == DEPTHWISE) {
              m += fabs(in[o] * p->weight[((size_t)o * p->kernel + ky) * p->kernel + kx]);
            } else {
              for (int i = 0; i < p->in_c; i++)
                m += fabs(in[i] * p->weight[(((size_t)o * p->in_c + i) * p->kernel + ky) *
                                                p->kernel + kx]);
            }
          }
        p->magnitude[idx] = m;
      }
}

static void problem_clear(problem *p) {
  free(p->weight);
  free(p->bias);
  free(p->input);
  free(p->res);
  free(p->gate);
  free(p->gated_input);
  free(p->magnitude);
}

/* Packs for `kernel` and runs it over [rows) x [channels) tiles of the
 * given sizes (0: everything at once), as the executor would; with
 * `row_table`, the input is read through a table of row pointers into a
 * copy with the rows in reverse order (the fused executor's form). */
static float *run_rows(const problem *p, const mnv3_conv_kernel *kernel, int tile_rows,
                       int tile_channels, int row_table) {
  float *packed = alloc_floats(kernel->packed_size(p->out_c, p->in_c, p->kernel));
  kernel->pack(p->weight, p->bias, p->out_c, p->in_c, p->kernel, packed);
  float *out = alloc_floats((size_t)p->out_h * p->out_w * p->out_c);
  mnv3_conv_args a = {.input = p->input, .in_h = p->in_h, .in_w = p->in_w, .in_c = p->in_c,
                      .output = out, .out_h = p->out_h, .out_w = p->out_w, .out_c = p->out_c,
                      .packed = packed, .residual = p->res, .kernel = p->kernel,
                      .stride = p->stride, .dilation = p->dilation, .pad_top = p->pad_top,
                      .pad_left = p->pad_left, .act = p->act, .pre_lo = p->pre_lo,
                      .pre_hi = p->pre_hi, .post_lo = p->post_lo, .post_hi = p->post_hi,
                      .oc_begin = 0, .oc_end = p->out_c,
                      .in_gate = p->gated ? p->gate : NULL, .gate_lo = p->gate_lo,
                      .gate_hi = p->gate_hi};
  const size_t row_floats = (size_t)p->in_w * p->in_c;
  float *reversed = NULL;
  const float **table = NULL;
  if (row_table) {
    reversed = alloc_floats(row_floats * p->in_h);
    table = malloc((size_t)p->in_h * sizeof *table);
    for (int y = 0; y < p->in_h; y++) {
      float *row = reversed + (size_t)(p->in_h - 1 - y) * row_floats;
      memcpy(row, p->input + (size_t)y * row_floats, row_floats * sizeof *row);
      table[y] = row;
    }
    a.input = NULL;
    a.rows = table;
  }
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
  free(reversed);
  free(table);
  return out;
}

static float *run(const problem *p, const mnv3_conv_kernel *kernel, int tile_rows,
                  int tile_channels) {
  return run_rows(p, kernel, tile_rows, tile_channels, 0);
}

static void describe(char *buf, size_t size, const problem *p, const mnv3_conv_kernel *k) {
  snprintf(buf, size,
           "%s in %dx%dx%d out %dx%dx%d k%d s%d d%d pad %d,%d residual %d act %s "
           "clamps [%g,%g] [%g,%g] gate %d [%g,%g]",
           k->name, p->in_h, p->in_w, p->in_c, p->out_h, p->out_w, p->out_c, p->kernel,
           p->stride, p->dilation, p->pad_top, p->pad_left, p->residual,
           act_names[p->act], p->pre_lo, p->pre_hi, p->post_lo, p->post_hi, p->gated,
           p->gate_lo, p->gate_hi);
}

static void check_problem(const problem *p, const mnv3_kernels *variant) {
  const mnv3_conv_kernel *kernel = family_kernel(variant, p->fam);
  const mnv3_conv_kernel *ref = family_kernel(&mnv3_kernels_scalar, p->fam);
  const size_t n = (size_t)p->out_h * p->out_w * p->out_c;
  float *want = run(p, ref, 0, 0);
  float *got = run(p, kernel, 0, 0);
  char what[320];
  describe(what, sizeof what, p, kernel);
  size_t bad = n;
  for (size_t i = 0; i < n && bad == n; i++) {
    const double err = fabs((double)got[i] - want[i]);
    if (!(err <= 1e-5 * (fabs(want[i]) + p->magnitude[i])) &&
        !(isnan(got[i]) && isnan(want[i])))
      bad = i;
  }
  if (bad < n) {
    fprintf(stderr, "FAIL %s: element %zu is %.9g, the reference %.9g\n", what, bad,
            got[bad], want[bad]);
    failed++;
  } else {
    passed++;
  }
  /* Thread splits: one row at a time, and rows x channel blocks. */
  const int block = kernel->channel_block;
  const int splits[][2] = {{1, 0}, {2, block}, {1, 3 * block}, {p->out_h, block}};
  for (size_t s = 0; s < sizeof splits / sizeof *splits; s++) {
    float *split = run(p, kernel, splits[s][0], splits[s][1]);
    if (memcmp(split, got, n * sizeof *got) != 0) {
      fprintf(stderr, "FAIL %s: tiles of %d rows x %d channels change the result\n",
              what, splits[s][0], splits[s][1]);
      failed++;
    } else {
      passed++;
    }
    free(split);
  }
  /* A gate read with the input is the multiply done first, to the bit. */
  if (p->gated) {
    problem premultiplied = *p;
    premultiplied.gated = 0;
    premultiplied.input = p->gated_input;
    float *ungated = run(&premultiplied, kernel, 0, 0);
    if (memcmp(ungated, got, n * sizeof *got) != 0) {
      fprintf(stderr, "FAIL %s: the gated input differs from vmulc then the kernel\n",
              what);
      failed++;
    } else {
      passed++;
    }
    free(ungated);
  }
  if (kernel->input_rows) {
    float *rows = run_rows(p, kernel, 1, 0, 1);
    if (memcmp(rows, got, n * sizeof *got) != 0) {
      fprintf(stderr, "FAIL %s: reading rows through a table changes the result\n", what);
      failed++;
    } else {
      passed++;
    }
    free(rows);
  }
  free(want);
  free(got);
}

/* Activation, residual and clamps cycle with a counter so that, over the
 * shapes, every combination comes up. */
static void set_epilogue(problem *p, int counter, int allow_residual) {
  p->act = acts[counter % 5];
  p->residual = allow_residual && (counter / 5) % 2;
  const int clamped = (counter / 10) % 2;
  p->pre_lo = clamped ? -2.5f : -INFINITY;
  p->pre_hi = clamped ? 2.0f : INFINITY;
  p->post_lo = clamped ? -0.25f : -INFINITY;
  p->post_hi = clamped ? 1.5f : INFINITY;
}

static const int sizes[][2] = {{1, 1}, {7, 5}, {17, 13}};
#define NUM_SIZES (int)(sizeof sizes / sizeof *sizes)

/* Torch padding ((k-1)/2*d each side) or TF SAME (odd pixel bottom/right). */
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

static void test_pointwise(const mnv3_kernels *v) {
  static const int channels[][2] = {{1, 1},   {3, 7},    {7, 17},  {17, 33},
                                    {33, 120}, {120, 33}, {16, 961}, {961, 17}};
  int counter = 0;
  for (size_t c = 0; c < sizeof channels / sizeof *channels; c++)
    for (int s = 0; s < NUM_SIZES; s++)
      for (int e = 0; e < 20; e += (channels[c][0] * channels[c][1] > 10000 ? 7 : 1)) {
        problem p = {POINTWISE, sizes[s][0], sizes[s][1], channels[c][0], sizes[s][0],
                     sizes[s][1], channels[c][1], 1, 1, 1, 0, 0};
        set_epilogue(&p, counter++ + e, 1);
        /* Every other problem gated, with the clamps on or off. */
        p.gated = (counter + e) % 2 && p.in_c <= MNV3_GATED_MAX_IN_C;
        p.gate_lo = (counter + e) % 4 == 1 ? -0.75f : -INFINITY;
        p.gate_hi = (counter + e) % 4 == 1 ? 1.25f : INFINITY;
        problem_init(&p);
        check_problem(&p, v);
        problem_clear(&p);
      }
}

static void test_depthwise(const mnv3_kernels *v) {
  static const int channels[] = {1, 3, 7, 17, 33, 120, 961};
  static const int kernels[] = {3, 5, 7};
  int counter = 0;
  for (int ki = 0; ki < 3; ki++)
    for (int stride = 1; stride <= 2; stride++)
      for (int dilation = 1; dilation <= 2; dilation++)
        for (int ci = 0; ci < 7; ci++)
          for (int s = 0; s < NUM_SIZES; s++)
            for (int same = 0; same <= 1; same++) {
              problem p = {DEPTHWISE, sizes[s][0], sizes[s][1], channels[ci]};
              p.kernel = kernels[ki];
              p.stride = stride;
              p.dilation = dilation;
              p.out_c = channels[ci];
              p.out_h = output_size(p.in_h, p.kernel, stride, dilation, same, &p.pad_top);
              p.out_w = output_size(p.in_w, p.kernel, stride, dilation, same, &p.pad_left);
              if (p.out_h < 1 || p.out_w < 1)
                continue;
              set_epilogue(&p, counter++, 1);
              problem_init(&p);
              check_problem(&p, v);
              problem_clear(&p);
            }
}

/* Wide rows: several column tiles of the channel-vector-outer 5x5 path
 * (a tile is 72 output columns with AVX-512, 152 with AVX2), blocks and
 * their halving rest at odd widths, odd channel counts. */
static void test_depthwise_wide(const mnv3_kernels *v) {
  static const int shapes[][4] = {/* h, w, c, kernel */
                                  {6, 83, 17, 5}, {5, 161, 33, 5}, {7, 157, 3, 5}, {6, 83, 17, 3}};
  int counter = 3;
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
    for (int same = 0; same <= 1; same++) {
      problem p = {DEPTHWISE, shapes[i][0], shapes[i][1], shapes[i][2]};
      p.kernel = shapes[i][3];
      p.stride = 1;
      p.dilation = 1;
      p.out_c = shapes[i][2];
      p.out_h = output_size(p.in_h, p.kernel, 1, 1, same, &p.pad_top);
      p.out_w = output_size(p.in_w, p.kernel, 1, 1, same, &p.pad_left);
      set_epilogue(&p, counter++ * 7, 1);
      problem_init(&p);
      check_problem(&p, v);
      problem_clear(&p);
    }
}

static void test_dense(const mnv3_kernels *v) {
  /* in_c, out_c, kernel, stride, dilation: the stem, then other shapes. */
  static const int shapes[][5] = {{3, 16, 3, 2, 1}, {3, 1, 3, 2, 1},  {3, 7, 3, 2, 1},
                                  {3, 17, 3, 2, 1}, {3, 33, 3, 2, 1}, {5, 17, 3, 1, 2},
                                  {2, 9, 5, 2, 1},  {1, 3, 1, 2, 1}, {4, 24, 3, 1, 1}};
  int counter = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
    for (int s = 0; s < NUM_SIZES; s++)
      for (int same = 0; same <= 1; same++)
        for (int e = 0; e < 5; e++) {
          problem p = {DENSE, sizes[s][0], sizes[s][1], shapes[i][0]};
          p.out_c = shapes[i][1];
          p.kernel = shapes[i][2];
          p.stride = shapes[i][3];
          p.dilation = shapes[i][4];
          p.out_h = output_size(p.in_h, p.kernel, p.stride, p.dilation, same, &p.pad_top);
          p.out_w = output_size(p.in_w, p.kernel, p.stride, p.dilation, same, &p.pad_left);
          if (p.out_h < 1 || p.out_w < 1)
            continue;
          set_epilogue(&p, counter++ * 3 + e, 1);
          problem_init(&p);
          check_problem(&p, v);
          problem_clear(&p);
        }
}

static void expect_bytes(const char *what, const mnv3_kernels *v, const uint8_t *got,
                         const uint8_t *want, size_t n) {
  if (memcmp(got, want, n) != 0) {
    fprintf(stderr, "FAIL %s (%s): differs from the reference\n", what, v->isa);
    failed++;
  } else {
    passed++;
  }
}

static void expect_same(const char *what, const mnv3_kernels *v, const float *got,
                        const float *want, size_t n) {
  if (memcmp(got, want, n * sizeof *got) != 0) {
    fprintf(stderr, "FAIL %s (%s): differs from the reference\n", what, v->isa);
    failed++;
  } else {
    passed++;
  }
}

/* Pool, gate and resize do the reference's operations in its order: exact. */
static void test_small_ops(const mnv3_kernels *v) {
  static const int channels[] = {1, 3, 7, 17, 33, 120, 961};
  for (int ci = 0; ci < 7; ci++)
    for (int s = 0; s < NUM_SIZES; s++) {
      const int c = channels[ci], h = sizes[s][0], w = sizes[s][1];
      const size_t n = (size_t)h * w * c;
      float *in = random_floats(n), *gate = random_floats((size_t)c);
      float *want = alloc_floats(n), *got = alloc_floats(n);
      const float lo = s == 1 ? -0.5f : -INFINITY, hi = s == 1 ? 0.75f : INFINITY;

      mnv3_kernels_scalar.gavgpool(in, h * w, c, 0, c, want, lo, hi);
      for (int c0 = 0; c0 < c; c0 += 16) /* in channel tiles, as the executor */
        v->gavgpool(in, h * w, c, c0, c0 + 16 < c ? c0 + 16 : c, got, lo, hi);
      expect_same("global pool", v, got, want, (size_t)c);

      mnv3_kernels_scalar.vmulc(in, gate, h * w, c, want, lo, hi);
      v->vmulc(in, gate, h * w, c, got, lo, hi);
      expect_same("channel gate", v, got, want, n);

      const int oh = 2 * h + 3, ow = 3 * w + 1;
      float *rwant = alloc_floats((size_t)oh * ow * c), *rgot = alloc_floats((size_t)oh * ow * c);
      mnv3_kernels_scalar.resize(in, h, w, c, rwant, oh, ow, 0, oh, 0);
      for (int streaming = 0; streaming < 2; streaming++) {
        memset(rgot, 0, (size_t)oh * ow * c * sizeof *rgot);
        for (int r = 0; r < oh; r += 4)
          v->resize(in, h, w, c, rgot + (size_t)r * ow * c, oh, ow, r, r + 4 < oh ? r + 4 : oh,
                    streaming);
        expect_same(streaming ? "bilinear resize, streaming" : "bilinear resize", v, rgot, rwant,
                    (size_t)oh * ow * c);
      }
      free(rwant);
      free(rgot);
      free(in);
      free(gate);
      free(want);
      free(got);
    }
}

/* Output columns sampling a row of in_w source pixels at out_w columns
   (bilinear taps as preprocess.c computes them), with chroma at `step`
   bytes per sample (1: I420, 2: NV12). */
static void yuv_columns(int in_w, int out_w, int step, int *a0, int *a1, int *c0,
                        int *c1, float *w0, float *w1) {
  const float scale = (float)in_w / (float)out_w;
  for (int x = 0; x < out_w; x++) {
    float src = scale * ((float)x + 0.5f) - 0.5f;
    src = src < 0.0f ? 0.0f : src;
    int lo = (int)src < in_w - 1 ? (int)src : in_w - 1;
    a0[x] = lo;
    a1[x] = lo < in_w - 1 ? lo + 1 : lo;
    w1[x] = src - (float)lo;
    w0[x] = 1.0f - w1[x];
    c0[x] = (a0[x] >> 1) * step;
    c1[x] = (a1[x] >> 1) * step;
  }
}

/* A row of the network's input from two YUV rows: rows from 1 to 1920
   pixels into 1 to 333 columns (down- and upscaling, so both the window and
   the gather paths of a variant run, and tails shorter than a vector),
   chroma planar and interleaved, limited and full range, two distinct
   source rows or one read twice (as two luma rows of one chroma row share
   it), and a few vertical weights and normalisations. Exact. */
static void test_yuv_resize(const mnv3_kernels *v) {
  static const int in_widths[] = {1, 3, 5, 17, 64, 130, 257, 1920};
  static const int out_widths[] = {1, 7, 16, 33, 100, 224, 333};
  for (int iw = 0; iw < 8; iw++)
    for (int ow = 0; ow < 7; ow++)
      for (int step = 1; step <= 2; step++)
        for (int same_row = 0; same_row < 2; same_row++) {
          const int in_w = in_widths[iw], out_w = out_widths[ow];
          const int chroma_bytes = (in_w + 1) / 2 * step;
          uint8_t *y = malloc(2 * (size_t)in_w), *chroma = malloc(2 * (size_t)chroma_bytes);
          for (int i = 0; i < 2 * in_w; i++)
            y[i] = (uint8_t)(frand() * 128.0f + 128.0f);
          for (int i = 0; i < 2 * chroma_bytes; i++)
            chroma[i] = (uint8_t)(frand() * 128.0f + 128.0f);
          int *cols = malloc(4 * sizeof(int) * (size_t)out_w);
          float *weights = alloc_floats(2 * (size_t)out_w);
          yuv_columns(in_w, out_w, step, cols, cols + out_w, cols + 2 * out_w, cols + 3 * out_w,
                      weights, weights + out_w);
          const mnv3_yuv_coefs coefs = step == 1
              ? (mnv3_yuv_coefs){16.0f, 255.0f / 219.0f, 1.596f, -0.392f, -0.813f, 2.017f}
              : (mnv3_yuv_coefs){0.0f, 1.0f, 1.402f, -0.344f, -0.714f, 1.772f};
          const float h1 = (float)(iw + ow) / 13.0f;
          /* NV12: V one byte after U in the same row, one byte fewer of it. */
          const uint8_t *v0 = step == 2 ? chroma + 1 : chroma;
          const int second = !same_row;
          const mnv3_yuv_rows rows = {
              {y, y + second * in_w}, {chroma, chroma + second * chroma_bytes},
              {v0, v0 + second * chroma_bytes},
              in_w, chroma_bytes, step == 2 ? chroma_bytes - 1 : chroma_bytes,
              cols, cols + out_w, cols + 2 * out_w, cols + 3 * out_w,
              weights, weights + out_w, 1.0f - h1, h1, &coefs,
              {1.0f / (255.0f * 0.229f), 1.0f / (255.0f * 0.224f), 1.0f / 255.0f},
              {-0.485f / 0.229f, -0.456f / 0.224f, step == 1 ? -1.0f : 0.0f}};
          float *want = alloc_floats(3 * (size_t)out_w), *got = alloc_floats(3 * (size_t)out_w);
          mnv3_kernels_scalar.yuv_resize(&rows, 0, out_w, want);
          const int split = out_w / 3; /* two calls, as a caller may split a row */
          v->yuv_resize(&rows, 0, split, got);
          v->yuv_resize(&rows, split, out_w, got);
          expect_same("yuv rows to rgb", v, got, want, 3 * (size_t)out_w);
          free(y);
          free(chroma);
          free(cols);
          free(weights);
          free(want);
          free(got);
        }
}

/* Argmax over class scores: class counts around the vector widths and
   past the registers a variant keeps, with ties (scores drawn from a few
   values), NaNs (first and elsewhere), infinities and signed zeros. Exact. */
static void test_argmax(const mnv3_kernels *v) {
  static const int class_counts[] = {1, 2, 3, 7, 8, 16, 17, 19, 21, 31, 33, 64, 129, 200};
  static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN};
  const int pixels = 301;
  for (int ci = 0; ci < 14; ci++) {
    const int classes = class_counts[ci];
    const size_t n = (size_t)pixels * classes;
    float *scores = random_floats(n);
    for (size_t i = 0; i < n; i++) {
      const float r = frand();
      if (r > 0.9f)
        scores[i] = specials[(i / 7) % 5];
      else if (r > 0.5f)
        scores[i] = (float)(int)(4.0f * r); /* ties */
    }
    uint8_t *want = malloc((size_t)pixels), *got = malloc((size_t)pixels);
    mnv3_kernels_scalar.argmax(scores, pixels, classes, want);
    v->argmax(scores, pixels, classes, got);
    if (memcmp(got, want, (size_t)pixels) != 0) {
      fprintf(stderr, "FAIL argmax of %d classes (%s): differs from the reference\n", classes,
              v->isa);
      failed++;
    } else {
      passed++;
    }
    free(scores);
    free(want);
    free(got);
  }
}

static unsigned urand(unsigned bound) { /* uniform in [0, bound) */
  seed = seed * 1103515245u + 12345u;
  return (seed >> 8) % bound;
}

/* keep 0..256 and any add the 16-bit arithmetic allows with it. */
static void random_weights(uint16_t *keep, uint16_t *add) {
  *keep = (uint16_t)urand(257);
  *add = (uint16_t)urand(65536u - 255u * *keep);
}

/* A row of n mask bytes: random, runs of random lengths, a change at every
   byte, or one class. */
static void mask_bytes(uint8_t *p, int n, int kind) {
  for (int i = 0; i < n;) {
    const int len = kind == 1 ? 1 + (int)urand(200) : 1;
    const uint8_t c = kind == 0 || kind == 1 ? (uint8_t)urand(256) : kind == 2 ? (uint8_t)(i & 1) : 7;
    for (int k = 0; k < len && i < n; k++)
      p[i++] = c;
  }
}

/* Mask blending's byte loops: sizes around the vector widths, past 255 of
   them (class changes count in 8 bits per lane) and unaligned, random bytes
   and weights; GUARD random bytes on each side of a row must be neither
   written nor read (a class count reading them would change). Exact. */
#define GUARD 80
static void test_blend(const mnv3_kernels *v) {
  static const int sizes[] = {0,  1,   2,   15,  16,  17,   31,   32,    33,   63,
                              64, 65,  127, 128, 129, 1000, 1921, 16321, 70000};
  for (int si = 0; si < (int)(sizeof sizes / sizeof *sizes); si++) {
    const int n = sizes[si], offset = si % 3; /* the row's alignment */
    const size_t bytes = (size_t)n + 2 * GUARD + offset;
    uint8_t *frame = malloc(bytes), *want = malloc(bytes), *got = malloc(bytes);
    uint16_t *keep = malloc(((size_t)n + 1) * sizeof *keep), *add = malloc(((size_t)n + 1) * sizeof *add);
    for (size_t i = 0; i < bytes; i++)
      frame[i] = (uint8_t)urand(256);
    uint8_t *const row_want = want + GUARD + offset, *const row_got = got + GUARD + offset;
    char what[64];

    uint16_t k, a;
    random_weights(&k, &a);
    memcpy(want, frame, bytes);
    memcpy(got, frame, bytes);
    mnv3_kernels_scalar.blend_const(row_want, n, k, a);
    v->blend_const(row_got, n, k, a);
    snprintf(what, sizeof what, "blend_const of %d bytes", n);
    expect_bytes(what, v, got, want, bytes);

    for (int i = 0; i < n; i++)
      random_weights(&keep[i], &add[i]);
    memcpy(want, frame, bytes);
    memcpy(got, frame, bytes);
    mnv3_kernels_scalar.blend_lines(row_want, keep, add, n);
    v->blend_lines(row_got, keep, add, n);
    snprintf(what, sizeof what, "blend_lines of %d bytes", n);
    expect_bytes(what, v, got, want, bytes);

    for (int kind = 0; kind < 4; kind++) {
      mask_bytes(row_got, n, kind);
      const int changes = v->count_changes(row_got, n);
      if (changes != mnv3_kernels_scalar.count_changes(row_got, n)) {
        fprintf(stderr, "FAIL count_changes of %d bytes, kind %d (%s): %d, reference %d\n", n,
                kind, v->isa, changes, mnv3_kernels_scalar.count_changes(row_got, n));
        failed++;
      } else {
        passed++;
      }
    }
    free(frame);
    free(want);
    free(got);
    free(keep);
    free(add);
  }
}

/* The table of the list whose float kernels list[i] takes: a later one for
   a table that extends another (they come best first), else list[i]. */
static const mnv3_kernels *float_owner(const mnv3_kernels *const *list, int n, int i) {
  for (int j = i + 1; j < n; j++)
    if (list[j]->pointwise == list[i]->pointwise)
      return list[j];
  return list[i];
}

int main(int argc, char **argv) {
  const mnv3_kernels *list[8];
  const int n = mnv3_kernels_available(list, 8);
  const int list_all = argc > 1 && strcmp(argv[1], "--list") == 0;
  if (list_all || (argc > 1 && strcmp(argv[1], "--list-float") == 0)) {
    for (int i = 0; i < n; i++)
      if (list_all || float_owner(list, n, i) == list[i])
        printf("%s\n", list[i]->isa);
    return 0;
  }
  /* The reference against itself checks the harness (splits, tolerance). */
  for (int i = 0; i < n; i++) {
    const mnv3_kernels *owner = float_owner(list, n, i);
    if (owner != list[i]) {
      printf("%s: the float kernels of %s\n", list[i]->isa, owner->isa);
      continue;
    }
    const int before = failed;
    test_pointwise(list[i]);
    test_depthwise(list[i]);
    test_depthwise_wide(list[i]);
    test_dense(list[i]);
    test_small_ops(list[i]);
    test_yuv_resize(list[i]);
    test_argmax(list[i]);
    test_blend(list[i]);
    printf("%s: %s\n", list[i]->isa, failed == before ? "ok" : "FAILED");
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
