/* Runs the kernels of 8-bit plans of one variant on problems read from a
 * file and writes their outputs, for test_qu8_numpy.py to compare with the
 * numpy model (tests/lib/qu8ref.py): the 8-bit convolutions (the stem's
 * on its float input, which the variant quantizes first), pooling and
 * gating.
 *
 *   qu8_kernel_io --list            the variants this CPU runs, one a line
 *   qu8_kernel_io ISA IN OUT        every problem of IN, outputs to OUT
 *
 * A problem is 32 little-endian int32 then 16 float32 (see the enums), then
 * its arrays; its output is appended to OUT. Convolutions run as the
 * executor splits them, in tiles of tile_rows x tile_channels (0: whole). */
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_POINTWISE, OP_DEPTHWISE, OP_STEM, OP_GAVGPOOL, OP_VMULC };
/* Integer fields. */
enum {
  I_OP, I_IN_H, I_IN_W, I_IN_C, I_IN_ZERO, I_OUT_H, I_OUT_W, I_OUT_C, I_KERNEL, I_STRIDE,
  I_DILATION, I_PAD_TOP, I_PAD_LEFT, I_ACT, I_RESIDUAL, I_RESIDUAL_ZERO, I_OUT_ZERO,
  I_FLOAT_OUT, I_TILE_ROWS, I_TILE_CHANNELS, I_GATE_ZERO, I_C_BEGIN, I_C_END, I_COUNT = 32
};
/* Float fields. */
enum {
  F_RESIDUAL_SCALE, F_PRE_LO, F_PRE_HI, F_POST_LO, F_POST_HI, F_OUT_INV_SCALE, F_MULTIPLIER,
  F_IN_SCALE, F_GATE_SCALE, F_IN_INV_SCALE, F_IN_LO, F_IN_HI, F_COUNT = 16
};

static FILE *in_file;

static void *read_array(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p || fread(p, 1, bytes, in_file) != bytes) {
    fprintf(stderr, "qu8_kernel_io: truncated problem\n");
    exit(2);
  }
  return p;
}

static const mnv3_kernels *find_variant(const char *isa) {
  const mnv3_kernels *list[8];
  const int n = mnv3_kernels_available(list, 8);
  for (int i = 0; i < n; i++)
    if (strcmp(list[i]->isa, isa) == 0)
      return list[i];
  return NULL;
}

/* Output tiles as the executor splits them: rows, and channels from
   multiples of the kernel's block. */
static void tiles(const int *iv, int channel_block, int *rows, int *channels) {
  *rows = iv[I_TILE_ROWS] > 0 ? iv[I_TILE_ROWS] : iv[I_OUT_H];
  *channels = iv[I_OUT_C];
  if (channel_block && iv[I_TILE_CHANNELS] > 0)
    *channels = (iv[I_TILE_CHANNELS] + channel_block - 1) / channel_block * channel_block;
}

/* One 8-bit convolution; returns its output and its size. The stem reads
   a float input, quantized by the variant as the plan does. */
static void *run_qconv(const mnv3_kernels *k, const int *iv, const float *fv, size_t *bytes) {
  const int op = iv[I_OP];
  const mnv3_qconv_kernel *kernel = op == OP_POINTWISE   ? k->qpointwise
                                    : op == OP_DEPTHWISE ? k->qdepthwise
                                                         : k->qdense;
  /* As the plan does: a kernel larger than the variant takes runs in the
     reference. */
  if (kernel->max_kernel && iv[I_KERNEL] > kernel->max_kernel)
    kernel = &mnv3_qu8_dwconv__scalar;
  const int in_c = iv[I_IN_C], out_c = iv[I_OUT_C], ks = iv[I_KERNEL];
  const size_t inputs = (size_t)iv[I_IN_H] * iv[I_IN_W] * in_c;
  const size_t outputs = (size_t)iv[I_OUT_H] * iv[I_OUT_W] * out_c;
  const size_t weights = (size_t)out_c * (op == OP_DEPTHWISE ? 1 : in_c) * ks * ks;
  uint8_t *input;
  if (op == OP_STEM) {
    float *x = read_array(sizeof(float) * inputs);
    input = malloc(inputs ? inputs : 1);
    k->qquantize(x, inputs, fv[F_IN_LO], fv[F_IN_HI], fv[F_IN_INV_SCALE], iv[I_IN_ZERO],
                 input);
    free(x);
  } else {
    input = read_array(inputs);
  }
  int16_t *weight = read_array(sizeof(int16_t) * weights);
  float *scale = read_array(sizeof(float) * out_c);
  float *bias = read_array(sizeof(float) * out_c);
  void *residual = iv[I_RESIDUAL] == 1   ? read_array(outputs)
                   : iv[I_RESIDUAL] == 2 ? read_array(sizeof(float) * outputs)
                                         : NULL;
  const size_t size = kernel->packed_size(out_c, in_c, ks);
  void *packed = aligned_alloc(64, (size + 63) / 64 * 64);
  kernel->pack(weight, scale, bias, iv[I_IN_ZERO], out_c, in_c, ks, packed);
  *bytes = outputs * (iv[I_FLOAT_OUT] ? sizeof(float) : 1);
  void *out = calloc(*bytes ? *bytes : 1, 1);
  mnv3_qconv_args a = {
      .input = input, .in_h = iv[I_IN_H], .in_w = iv[I_IN_W], .in_c = in_c,
      .in_zero = iv[I_IN_ZERO], .output = iv[I_FLOAT_OUT] ? NULL : out,
      .output_f32 = iv[I_FLOAT_OUT] ? out : NULL, .out_h = iv[I_OUT_H],
      .out_w = iv[I_OUT_W], .out_c = out_c, .packed = packed,
      .residual = iv[I_RESIDUAL] == 1 ? residual : NULL,
      .residual_f32 = iv[I_RESIDUAL] == 2 ? residual : NULL,
      .residual_scale = fv[F_RESIDUAL_SCALE], .residual_zero = iv[I_RESIDUAL_ZERO],
      .kernel = ks, .stride = iv[I_STRIDE], .dilation = iv[I_DILATION],
      .pad_top = iv[I_PAD_TOP], .pad_left = iv[I_PAD_LEFT], .act = (mnv3_act)iv[I_ACT],
      .pre_lo = fv[F_PRE_LO], .pre_hi = fv[F_PRE_HI], .post_lo = fv[F_POST_LO],
      .post_hi = fv[F_POST_HI], .out_inv_scale = fv[F_OUT_INV_SCALE],
      .out_zero = iv[I_OUT_ZERO]};
  const int out_h = iv[I_OUT_H];
  int rows, channels;
  tiles(iv, kernel->channel_block, &rows, &channels);
  for (int r = 0; r < out_h; r += rows)
    for (int c = 0; c < out_c; c += channels) {
      a.oc_begin = c;
      a.oc_end = c + channels < out_c ? c + channels : out_c;
      kernel->run(&a, r, r + rows < out_h ? r + rows : out_h);
    }
  free(input);
  free(weight);
  free(scale);
  free(bias);
  free(residual);
  free(packed);
  return out;
}

static void *run_problem(const mnv3_kernels *k, const int *iv, const float *fv, size_t *bytes) {
  switch (iv[I_OP]) {
  case OP_POINTWISE:
  case OP_DEPTHWISE:
  case OP_STEM:
    return run_qconv(k, iv, fv, bytes);
  case OP_GAVGPOOL: {
    const int pixels = iv[I_IN_H] * iv[I_IN_W], c = iv[I_IN_C];
    uint8_t *in = read_array((size_t)pixels * c);
    const mnv3_qu8_requant rq = {fv[F_POST_LO], fv[F_POST_HI], fv[F_OUT_INV_SCALE],
                                 iv[I_OUT_ZERO]};
    *bytes = (size_t)c;
    uint8_t *out = calloc((size_t)c ? (size_t)c : 1, 1);
    k->qgavgpool(in, pixels, c, iv[I_C_BEGIN], iv[I_C_END], out, iv[I_IN_ZERO],
                 fv[F_MULTIPLIER], &rq);
    free(in);
    return out;
  }
  case OP_VMULC: {
    const int pixels = iv[I_IN_H] * iv[I_IN_W], c = iv[I_IN_C];
    uint8_t *in = read_array((size_t)pixels * c), *gate = read_array((size_t)c);
    const mnv3_qu8_requant rq = {fv[F_POST_LO], fv[F_POST_HI], fv[F_OUT_INV_SCALE],
                                 iv[I_OUT_ZERO]};
    const mnv3_qu8_gate g = {gate, iv[I_IN_ZERO], iv[I_GATE_ZERO], fv[F_IN_SCALE],
                             fv[F_GATE_SCALE]};
    *bytes = (size_t)pixels * c;
    uint8_t *out = calloc(*bytes ? *bytes : 1, 1);
    k->qvmulc(in, &g, pixels, c, out, &rq);
    free(in);
    free(gate);
    return out;
  }
  }
  fprintf(stderr, "qu8_kernel_io: unknown op %d\n", iv[I_OP]);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    const mnv3_kernels *list[8];
    const int n = mnv3_kernels_available(list, 8);
    for (int i = 0; i < n; i++)
      printf("%s\n", list[i]->isa);
    return 0;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: qu8_kernel_io --list | ISA IN OUT\n");
    return 2;
  }
  const mnv3_kernels *k = find_variant(argv[1]);
  if (!k) {
    fprintf(stderr, "qu8_kernel_io: this CPU does not run %s\n", argv[1]);
    return 2;
  }
  in_file = fopen(argv[2], "rb");
  FILE *out_file = fopen(argv[3], "wb");
  if (!in_file || !out_file) {
    perror("qu8_kernel_io");
    return 2;
  }
  int iv[I_COUNT];
  float fv[F_COUNT];
  while (fread(iv, sizeof iv, 1, in_file) == 1) {
    if (fread(fv, sizeof fv, 1, in_file) != 1) {
      fprintf(stderr, "qu8_kernel_io: truncated problem\n");
      return 2;
    }
    size_t bytes;
    void *out = run_problem(k, iv, fv, &bytes);
    if (fwrite(out, 1, bytes, out_file) != bytes) {
      perror("qu8_kernel_io");
      return 2;
    }
    free(out);
  }
  fclose(in_file);
  return fclose(out_file) == 0 ? 0 : 2;
}
