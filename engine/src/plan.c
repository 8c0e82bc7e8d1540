/* Compiling a network into steps, planning memory for an input size, and
 * walking the steps. */
#include "plan.h"

#include "workers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const mnv3_conv_kernel *choose_kernel(const mnv3_kernels *k,
                                             const mnv3_op *op) {
  if (op->depthwise)
    return k->depthwise;
  if (op->kernel == 1 && op->stride == 1)
    return k->pointwise;
  return k->dense;
}

/* Whether step i's output is read by step i + 1 alone (and is not the
   network's output). */
static int only_next_reads(const mnv3_plan *plan, int i) {
  const int t = plan->steps[i].out;
  if (t == plan->output || plan->steps[i + 1].in0 != t)
    return 0;
  for (int j = 0; j < plan->num_steps; j++)
    if (j != i + 1 && (plan->steps[j].in0 == t || plan->steps[j].in1 == t))
      return 0;
  return 1;
}

/* An expansion (1x1, no residual) whose output only the next step reads, a
 * depthwise conv without residual whose kernel takes a row table, can run
 * fused; so can a squeeze-and-excitation gate multiply with the 1x1 conv
 * that alone reads it. MNV3_FUSE=0 turns fusion off (tests compare both
 * ways). */
static void mark_fusable(mnv3_plan *plan, unsigned flags) {
  const char *env = getenv("MNV3_FUSE");
  if ((env && strcmp(env, "0") == 0) || (flags & MNV3_PLAN_UNFUSED) || plan->int8)
    return;
  const mnv3_kernels *k = plan->kernels;
  for (int i = 0; i + 1 < plan->num_steps; i++) {
    mnv3_step *s = &plan->steps[i];
    const mnv3_step *next = &plan->steps[i + 1];
    if (!only_next_reads(plan, i) || next->kind != MNV3_OP_CONV)
      continue;
    if (s->kind == MNV3_OP_CONV)
      s->fusable = s->kernel == k->pointwise && s->in1 == MNV3_NO_TENSOR &&
                   next->kernel == k->depthwise && next->kernel->input_rows &&
                   next->in1 == MNV3_NO_TENSOR;
    else if (s->kind == MNV3_OP_MUL_CHANNEL)
      s->gate_fused = next->kernel == k->pointwise && next->in_ch <= MNV3_GATED_MAX_IN_C;
  }
}

/* ---- 8-bit ------------------------------------------------------------- */

static const mnv3_qconv_kernel *choose_qkernel(const mnv3_kernels *k, const mnv3_op *op) {
  if (!op->depthwise)
    return op->kernel == 1 && op->stride == 1 ? k->qpointwise : k->qdense;
  return k->qdepthwise->max_kernel && op->kernel > k->qdepthwise->max_kernel
             ? &mnv3_qu8_dwconv__scalar
             : k->qdepthwise;
}

/* uint8 for the range [lo, hi] (widened to hold 0, so that zero padding
   and ReLU are exact): a quantized TFLite tensor's range gives back its
   own scale and zero point. */
static mnv3_quant quant_of_range(float lo, float hi) {
  lo = fminf(lo, 0.0f);
  hi = fmaxf(hi, 0.0f);
  float scale = (hi - lo) / 255.0f;
  if (!(scale > 0.0f))
    scale = 1.0f / 255.0f;
  long zero = lrintf(-lo / scale);
  zero = zero < 0 ? 0 : zero > 255 ? 255 : zero;
  return (mnv3_quant){scale, 1.0f / scale, (int)zero};
}

/* Which tensors stay float, and the quantization of the others. */
static int plan_tensor_types(const mnv3_network *net, mnv3_plan *plan, mnv3_error *error) {
  plan->is_float = calloc((size_t)net->num_tensors, 1);
  plan->quant = calloc((size_t)net->num_tensors, sizeof *plan->quant);
  if (!plan->is_float || !plan->quant)
    return mnv3_fail(error, "out of memory compiling the network");
  plan->is_float[0] = plan->is_float[net->output] = 1;
  for (int i = 0; i < net->num_ops; i++)
    if (net->ops[i].kind == MNV3_OP_RESIZE)
      plan->is_float[net->ops[i].in0] = plan->is_float[net->ops[i].out] = 1;
  /* Every convolution runs in 8 bits. The stem, the one dense
     convolution, reads the float input, quantized first with the input's
     range (a quantized graph's own, or that of the config's pixels:
     model.c); everything else reads uint8 tensors. */
  for (int i = 0; i < net->num_ops; i++) {
    const mnv3_op *op = &net->ops[i];
    const int dense = op->kind == MNV3_OP_CONV && !op->depthwise &&
                      !(op->kernel == 1 && op->stride == 1);
    if (op->kind != MNV3_OP_RESIZE && plan->is_float[op->in0] != dense)
      return mnv3_fail(error, "8-bit inference cannot run '%s' (%s input)", op->key,
                       plan->is_float[op->in0] ? "a float" : "an 8-bit");
  }
  for (int t = 0; t < net->num_tensors; t++) {
    if (plan->is_float[t])
      continue;
    float lo = NAN, hi = NAN;
    const char *what = "";
    for (int i = 0; i < net->num_ops; i++)
      if (net->ops[i].out == t) {
        lo = net->act_ranges ? net->act_ranges[2 * i] : net->ops[i].post_lo;
        hi = net->act_ranges ? net->act_ranges[2 * i + 1] : net->ops[i].post_hi;
        what = net->ops[i].key[0] ? net->ops[i].key : "a pooling or gating output";
      }
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo))
      return mnv3_fail(error, "8-bit inference needs the range of every activation, and "
                              "%s has none: use a quantized .tflite, or make an 8-bit config "
                              "from this one with mnv3-run --quantize", what);
    plan->quant[t] = quant_of_range(lo, hi);
  }
  if (!isfinite(net->input_lo) || !isfinite(net->input_hi) || !(net->input_hi > net->input_lo))
    return mnv3_fail(error, "8-bit inference needs the range of the network's input");
  plan->quant[0] = quant_of_range(net->input_lo, net->input_hi);
  plan->input_lo = net->input_lo;
  plan->input_hi = net->input_hi;
  return 0;
}

/* A channel's weights as integers times a step: a quantized TFLite
   model's own integers where its grid holds them within
   MNV3_QU8_MAX_WEIGHT, spanning no more (a uint8 model's q - zero point),
   else symmetric int8 (step max|w| / 127, which gives a TFLite model's
   per-channel int8 weights back unchanged). Returns the step. */
static float channel_to_integers(const float *w, size_t n, float grid, int16_t *q) {
  const int max_weight = MNV3_QU8_MAX_WEIGHT;
  int on_grid = grid > 0.0f;
  float lo = 0.0f, hi = 0.0f;
  for (size_t j = 0; j < n && on_grid; j++) {
    const float k = w[j] / grid;
    on_grid = fabsf(k) <= (float)max_weight && fabsf(k - nearbyintf(k)) < 1e-3f;
    lo = fminf(lo, k);
    hi = fmaxf(hi, k);
  }
  /* As a uint8 model's weights: no wider span than 0..255 (kernels.h). */
  on_grid = on_grid && nearbyintf(hi) - nearbyintf(lo) <= (float)max_weight;
  float step = grid;
  if (!on_grid) {
    float max = 0.0f;
    for (size_t j = 0; j < n; j++)
      max = fmaxf(max, fabsf(w[j]));
    step = max > 0.0f ? max / 127.0f : 1.0f;
  }
  for (size_t j = 0; j < n; j++) {
    const long v = lrintf(w[j] / step);
    q[j] = (int16_t)(v < -max_weight ? -max_weight : v > max_weight ? max_weight : v);
  }
  return step;
}

/* Packs a convolution's weights as integers per output channel, with the
   scales that map the accumulator back to real values. */
static int pack_int8(const mnv3_plan *plan, const mnv3_op *op, mnv3_step *s,
                     mnv3_error *error) {
  const int group = op->depthwise ? 1 : op->in_ch;
  const size_t per_oc = (size_t)group * op->kernel * op->kernel;
  int16_t *q = malloc(sizeof(int16_t) * per_oc * op->out_ch);
  float *scale = malloc(sizeof(float) * op->out_ch);
  if (!q || !scale) {
    free(q);
    free(scale);
    return mnv3_fail(error, "out of memory packing '%s'", op->key);
  }
  const mnv3_quant *in = &plan->quant[op->in0];
  for (int o = 0; o < op->out_ch; o++)
    scale[o] = in->scale * channel_to_integers(op->weight + per_oc * o, per_oc,
                                               op->weight_step ? op->weight_step[o] : 0.0f,
                                               q + per_oc * o);
  const size_t size = s->qkernel->packed_size(op->out_ch, op->in_ch, op->kernel);
  s->qpacked = aligned_alloc(64, (size + 63) / 64 * 64);
  if (s->qpacked)
    s->qkernel->pack(q, scale, op->bias, in->zero, op->out_ch, op->in_ch, op->kernel,
                     s->qpacked);
  free(q);
  free(scale);
  return s->qpacked ? 0 : mnv3_fail(error, "out of memory packing '%s'", op->key);
}

int mnv3_plan_compile(mnv3_network *net, const mnv3_kernels *kernels, unsigned flags,
                      mnv3_plan *plan, mnv3_error *error) {
  const int int8 = (flags & MNV3_PLAN_INT8) != 0;
  memset(plan, 0, sizeof *plan);
  plan->kernels = kernels;
  plan->int8 = int8;
  plan->steps = calloc((size_t)net->num_ops, sizeof *plan->steps);
  if (!plan->steps)
    return mnv3_fail(error, "out of memory compiling the network");
  plan->num_steps = net->num_ops;
  plan->num_tensors = net->num_tensors;
  plan->output = net->output;
  plan->output_channels = net->num_classes;
  if (int8 && plan_tensor_types(net, plan, error) < 0) {
    mnv3_plan_clear(plan);
    return -1;
  }
  for (int i = 0; i < net->num_ops; i++) {
    mnv3_op *op = &net->ops[i];
    mnv3_step *s = &plan->steps[i];
    s->kind = op->kind;
    s->in0 = op->in0;
    s->in1 = op->in1;
    s->out = op->out;
    s->post_lo = op->post_lo;
    s->post_hi = op->post_hi;
    if (op->kind != MNV3_OP_CONV)
      continue;
    if (!op->weight || !op->bias) {
      mnv3_plan_clear(plan);
      return mnv3_fail(error, "no weights loaded for '%s'", op->key);
    }
    s->in_ch = op->in_ch;
    s->out_ch = op->out_ch;
    s->kernel_size = op->kernel;
    s->stride = op->stride;
    s->dilation = op->dilation;
    s->depthwise = op->depthwise;
    s->padding = op->padding;
    s->act = op->act;
    s->pre_lo = op->pre_lo;
    s->pre_hi = op->pre_hi;
    if (int8) {
      s->qkernel = choose_qkernel(kernels, op);
      if (pack_int8(plan, op, s, error) < 0) {
        mnv3_plan_clear(plan);
        return -1;
      }
      free(op->weight);
      free(op->bias);
      op->weight = op->bias = NULL;
      continue;
    }
    s->kernel = choose_kernel(kernels, op);
    const size_t size = s->kernel->packed_size(op->out_ch, op->in_ch, op->kernel);
    /* 64-byte alignment so that SIMD variants can use aligned loads. */
    s->packed = aligned_alloc(64, (size * sizeof(float) + 63) / 64 * 64);
    if (!s->packed) {
      mnv3_plan_clear(plan);
      return mnv3_fail(error, "out of memory packing '%s'", op->key);
    }
    s->kernel->pack(op->weight, op->bias, op->out_ch, op->in_ch, op->kernel, s->packed);
    free(op->weight);
    free(op->bias);
    op->weight = op->bias = NULL;
  }
  mark_fusable(plan, flags);
  return 0;
}

void mnv3_plan_clear(mnv3_plan *plan) {
  for (int i = 0; i < plan->num_steps && plan->steps; i++) {
    free(plan->steps[i].packed);
    free(plan->steps[i].qpacked);
  }
  free(plan->steps);
  free(plan->is_float);
  free(plan->quant);
  memset(plan, 0, sizeof *plan);
}

/* ---- scheduling -------------------------------------------------------- */

static int conv_output_size(const mnv3_step *s, int in, int *pad) {
  const int span = (s->kernel_size - 1) * s->dilation + 1;
  if (s->padding == MNV3_PAD_SAME) {
    const int out = (in + s->stride - 1) / s->stride;
    const int total = (out - 1) * s->stride + span - in;
    *pad = total > 0 ? total / 2 : 0;
    return out;
  }
  *pad = (s->kernel_size - 1) / 2 * s->dilation;
  return (in + 2 * *pad - span) / s->stride + 1;
}

/* Rows (or columns) of a convolution's input framed to hold every tap of
   its out rows: the pad before, the input, the pad after. */
static int framed_extent(const mnv3_step *s, int in, int out, int pad_before) {
  const int taps = (out - 1) * s->stride + (s->kernel_size - 1) * s->dilation + 1;
  return taps > pad_before + in ? taps : pad_before + in;
}

typedef struct block {
  size_t offset, size;
  int tensor;
} block;

/* First fit into the gaps between live tensors (kept sorted by offset). */
static size_t place(block *live, int *num_live, size_t size, int tensor) {
  size_t offset = 0;
  int at = 0;
  for (; at < *num_live; at++) {
    if (live[at].offset >= offset + size)
      break;
    offset = live[at].offset + live[at].size;
  }
  memmove(&live[at + 1], &live[at], (size_t)(*num_live - at) * sizeof *live);
  live[at] = (block){offset, size, tensor};
  (*num_live)++;
  return offset;
}

static void release(block *live, int *num_live, int tensor) {
  for (int i = 0; i < *num_live; i++)
    if (live[i].tensor == tensor) {
      memmove(&live[i], &live[i + 1], (size_t)(*num_live - i - 1) * sizeof *live);
      (*num_live)--;
      return;
    }
}

/* Arena space of tensor id (8-bit plans: bytes rounded up to floats). */
static size_t arena_floats_for(size_t n, int bytes) {
  if (bytes)
    n = (n + 3) / 4;
  return (n + 15) / 16 * 16; /* 64-byte aligned starts */
}

static size_t aligned_floats(const mnv3_plan *plan, int id, const mnv3_tensor_info *t) {
  return arena_floats_for((size_t)t->h * t->w * t->c, plan->int8 && !plan->is_float[id]);
}

/* ---- fused expansion + depthwise ----------------------------------------
 * The depthwise conv's output rows go in FUSED_BANDS bands (tasks); each
 * band computes the expanded rows it needs, once each, into a ring of
 * span + 1 rows, and runs the depthwise conv row by row through a row
 * table. Band edges recompute a few expanded rows; every element is still
 * computed by the same kernel code as unfused, so the results are bitwise
 * the same, with any number of threads. */

#define FUSED_BANDS 4
/* Fuse when the expanded tensor would not stay in L2 ... */
#define FUSE_MIN_FLOATS (256 * 1024)
/* ... and a band's ring does. */
#define FUSE_MAX_RING_FLOATS (256 * 1024)

static int fused_span(const mnv3_step *dw) { return (dw->kernel_size - 1) * dw->dilation; }

/* One band: the ring of expanded rows, then the row table. */
static size_t band_floats(const mnv3_plan *plan, const mnv3_schedule *sch, int i) {
  const mnv3_tensor_info *e = &sch->tensors[plan->steps[i].out];
  const size_t ring = (size_t)(fused_span(&plan->steps[i + 1]) + 1) * e->w * e->c;
  const size_t table = (size_t)e->h * sizeof(float *) / sizeof(float);
  return (ring + table + 15) / 16 * 16;
}

static size_t fused_floats(const mnv3_plan *plan, const mnv3_schedule *sch, int i) {
  return FUSED_BANDS * band_floats(plan, sch, i);
}

static int worth_fusing(const mnv3_plan *plan, const mnv3_schedule *sch, int i) {
  const mnv3_tensor_info *e = &sch->tensors[plan->steps[i].out];
  const size_t ring = (size_t)(fused_span(&plan->steps[i + 1]) + 1) * e->w * e->c;
  return (size_t)e->h * e->w * e->c >= FUSE_MIN_FLOATS && ring <= FUSE_MAX_RING_FLOATS;
}

int mnv3_schedule_build(const mnv3_plan *plan, int in_h, int in_w,
                        mnv3_schedule *sch, mnv3_error *error) {
  memset(sch, 0, sizeof *sch);
  sch->in_h = in_h;
  sch->in_w = in_w;
  const int n = plan->num_tensors;
  sch->tensors = calloc((size_t)n, sizeof *sch->tensors);
  sch->pad_top = calloc((size_t)plan->num_steps, sizeof *sch->pad_top);
  sch->pad_left = calloc((size_t)plan->num_steps, sizeof *sch->pad_left);
  sch->fused = calloc((size_t)plan->num_steps, sizeof *sch->fused);
  int *last_use = calloc((size_t)n, sizeof *last_use);
  block *live = calloc((size_t)n + 2, sizeof *live); /* + the quantized input */
  if (!sch->tensors || !sch->pad_top || !sch->pad_left || !sch->fused || !last_use ||
      !live) {
    free(last_use);
    free(live);
    mnv3_schedule_clear(sch);
    return mnv3_fail(error, "out of memory planning buffers");
  }
  sch->tensors[0] = (mnv3_tensor_info){in_h, in_w, 3, 0};
  for (int i = 0; i < plan->num_steps; i++) {
    const mnv3_step *s = &plan->steps[i];
    const mnv3_tensor_info *a = &sch->tensors[s->in0];
    mnv3_tensor_info *o = &sch->tensors[s->out];
    switch (s->kind) {
    case MNV3_OP_CONV:
      o->h = conv_output_size(s, a->h, &sch->pad_top[i]);
      o->w = conv_output_size(s, a->w, &sch->pad_left[i]);
      o->c = s->out_ch;
      break;
    case MNV3_OP_GLOBAL_POOL:
      *o = (mnv3_tensor_info){1, 1, a->c, 0};
      break;
    case MNV3_OP_MUL_CHANNEL:
      *o = (mnv3_tensor_info){a->h, a->w, a->c, 0};
      break;
    case MNV3_OP_RESIZE:
      *o = (mnv3_tensor_info){sch->tensors[s->in1].h, sch->tensors[s->in1].w, a->c, 0};
      break;
    }
    last_use[s->in0] = i;
    if (s->in1 != MNV3_NO_TENSOR)
      last_use[s->in1] = i;
  }
  last_use[plan->output] = plan->num_steps;
  for (int i = 0; i + 1 < plan->num_steps; i++) {
    const mnv3_step *s = &plan->steps[i];
    sch->fused[i] = s->fusable && worth_fusing(plan, sch, i);
    /* A fused expansion reads its input while the depthwise conv writes;
       a fused gate's 1x1 conv reads the multiply's inputs. */
    if ((sch->fused[i] || s->gate_fused) && last_use[s->in0] == i)
      last_use[s->in0] = i + 1;
    if (s->gate_fused && last_use[s->in1] == i)
      last_use[s->in1] = i + 1;
  }

  /* Tensor 0 is the caller's input and never lives in the arena; an 8-bit
     plan's stem reads it quantized, from the arena (id n while placed). */
  int num_live = 0;
  for (int i = 0; i < plan->num_steps; i++) {
    const mnv3_step *s = &plan->steps[i];
    mnv3_tensor_info *o = &sch->tensors[s->out];
    const int quantizes_input = plan->int8 && s->in0 == 0 && s->kind == MNV3_OP_CONV;
    if (quantizes_input) {
      sch->input_u8_h = framed_extent(s, in_h, o->h, sch->pad_top[i]);
      /* A dot product's word of a pixel's 3 bytes reads one byte more. */
      sch->input_u8_w = framed_extent(s, in_w, o->w, sch->pad_left[i]) + 1;
      const size_t size =
          arena_floats_for((size_t)sch->input_u8_h * sch->input_u8_w * 3, 1);
      sch->input_u8_offset = place(live, &num_live, size, n);
      if (sch->input_u8_offset + size > sch->arena_floats)
        sch->arena_floats = sch->input_u8_offset + size;
    }
    if (!s->gate_fused) { /* a fused gate's output is never written */
      const size_t size =
          sch->fused[i] ? fused_floats(plan, sch, i) : aligned_floats(plan, s->out, o);
      o->offset = place(live, &num_live, size, s->out);
      if (o->offset + size > sch->arena_floats)
        sch->arena_floats = o->offset + size;
    }
    if (s->in0 != 0 && last_use[s->in0] == i)
      release(live, &num_live, s->in0);
    if (s->in1 > 0 && last_use[s->in1] == i)
      release(live, &num_live, s->in1);
    if (quantizes_input)
      release(live, &num_live, n);
    /* The inputs of a step that ran inside this one (a fused expansion or
       gate) are read here last. */
    if (i > 0 && (sch->fused[i - 1] || plan->steps[i - 1].gate_fused)) {
      const mnv3_step *inner = &plan->steps[i - 1];
      if (inner->in0 != 0 && last_use[inner->in0] == i)
        release(live, &num_live, inner->in0);
      if (inner->in1 > 0 && last_use[inner->in1] == i)
        release(live, &num_live, inner->in1);
    }
  }
  free(last_use);
  free(live);
  return 0;
}

void mnv3_schedule_clear(mnv3_schedule *sch) {
  free(sch->tensors);
  free(sch->pad_top);
  free(sch->pad_left);
  free(sch->fused);
  memset(sch, 0, sizeof *sch);
}

/* ---- execution --------------------------------------------------------- */

typedef struct conv_task {
  const mnv3_conv_kernel *kernel;
  mnv3_conv_args args;
} conv_task;

static void run_conv_tile(void *context, size_t row, size_t channel, size_t rows,
                          size_t channels) {
  const conv_task *t = context;
  mnv3_conv_args a = t->args;
  a.oc_begin = (int)channel;
  a.oc_end = (int)(channel + channels);
  t->kernel->run(&a, (int)row, (int)(row + rows));
}

typedef struct qconv_task {
  const mnv3_qconv_kernel *kernel;
  mnv3_qconv_args args;
} qconv_task;

static void run_qconv_tile(void *context, size_t row, size_t channel, size_t rows,
                           size_t channels) {
  const qconv_task *t = context;
  mnv3_qconv_args a = t->args;
  a.oc_begin = (int)channel;
  a.oc_end = (int)(channel + channels);
  t->kernel->run(&a, (int)row, (int)(row + rows));
}

typedef struct qsmall_task {
  const mnv3_kernels *k;
  const uint8_t *in;
  uint8_t *out;
  int pixels, in_w, c;
  float multiplier; /* pooling */
  mnv3_qu8_gate gate;
  mnv3_qu8_requant rq;
} qsmall_task;

static void run_qpool_channels(void *context, size_t channel, size_t channels) {
  const qsmall_task *t = context;
  t->k->qgavgpool(t->in, t->pixels, t->c, (int)channel, (int)(channel + channels), t->out,
                  t->gate.in_zero, t->multiplier, &t->rq);
}

/* The input quantized into its frame (mnv3_schedule.input_u8_*): rows of
   the frame, the image's quantized (from NHWC, or from NCHW planes plane
   floats apart), the rest its zero point. */
typedef struct quantize_task {
  const mnv3_kernels *k;
  const float *in;
  uint8_t *out;
  int in_h, in_w, top;
  size_t plane, framed_row_bytes, left_bytes;
  float lo, hi;
  mnv3_quant q;
} quantize_task;

static void run_quantize_rows(void *context, size_t row, size_t rows) {
  const quantize_task *t = context;
  for (size_t y = row; y < row + rows; y++) {
    uint8_t *out = t->out + y * t->framed_row_bytes;
    const ptrdiff_t iy = (ptrdiff_t)y - t->top;
    if (iy < 0 || iy >= t->in_h) {
      memset(out, t->q.zero, t->framed_row_bytes);
      continue;
    }
    memset(out, t->q.zero, t->left_bytes);
    const size_t pixels = (size_t)iy * t->in_w;
    if (t->plane)
      t->k->qquantize_planes(t->in + pixels, t->plane, (size_t)t->in_w, t->lo, t->hi,
                             t->q.inv_scale, t->q.zero, out + t->left_bytes);
    else
      t->k->qquantize(t->in + 3 * pixels, 3 * (size_t)t->in_w, t->lo, t->hi, t->q.inv_scale,
                      t->q.zero, out + t->left_bytes);
    const size_t right = t->left_bytes + 3 * (size_t)t->in_w;
    memset(out + right, t->q.zero, t->framed_row_bytes - right);
  }
}

static void run_qmul_rows(void *context, size_t row, size_t rows) {
  const qsmall_task *t = context;
  const size_t offset = row * (size_t)t->in_w * t->c;
  t->k->qvmulc(t->in + offset, &t->gate, (int)rows * t->in_w, t->c, t->out + offset, &t->rq);
}

typedef struct fused_task {
  mnv3_conv_args expand, dw;
  const mnv3_conv_kernel *expand_kernel, *dw_kernel;
  float *scratch;     /* FUSED_BANDS bands of band_floats */
  size_t band_floats;
  int band_rows;      /* output rows per band */
} fused_task;

/* One band of the depthwise conv's output rows; see FUSED_BANDS. */
static void run_fused_band(void *context, size_t band) {
  const fused_task *t = context;
  const mnv3_conv_args *ex = &t->expand;
  const int span = (t->dw.kernel - 1) * t->dw.dilation, ring_rows = span + 1;
  const size_t row_floats = (size_t)t->dw.in_w * t->dw.in_c;
  float *ring = t->scratch + band * t->band_floats;
  const float **table = (const float **)(ring + ring_rows * row_floats);
  const int oy0 = (int)band * t->band_rows;
  const int oy1 = oy0 + t->band_rows < t->dw.out_h ? oy0 + t->band_rows : t->dw.out_h;
  mnv3_conv_args e = *ex, d = t->dw;
  e.in_h = e.out_h = 1;
  d.rows = table;
  int next = 0; /* first expanded row not computed yet */
  for (int oy = oy0; oy < oy1; oy++) {
    const int top = oy * d.stride - d.pad_top;
    int lo = top < 0 ? 0 : top, hi = top + span;
    if (hi > d.in_h - 1)
      hi = d.in_h - 1;
    for (int iy = next > lo ? next : lo; iy <= hi; iy++) {
      float *slot = ring + (size_t)(iy % ring_rows) * row_floats;
      e.input = ex->input + (size_t)iy * ex->in_w * ex->in_c;
      e.output = slot;
      t->expand_kernel->run(&e, 0, 1);
      table[iy] = slot;
      next = iy + 1;
    }
    t->dw_kernel->run(&d, oy, oy + 1);
  }
}

typedef struct small_task {
  const mnv3_kernels *k;
  const float *in, *in1;
  float *out;
  int in_h, in_w, c, out_h, out_w;
  float post_lo, post_hi;
  int streaming; /* resize: write the output around the caches */
} small_task;

static void run_pool_channels(void *context, size_t channel, size_t channels) {
  const small_task *t = context;
  t->k->gavgpool(t->in, t->in_h * t->in_w, t->c, (int)channel, (int)(channel + channels),
                 t->out, t->post_lo, t->post_hi);
}

static void run_mul_rows(void *context, size_t row, size_t rows) {
  const small_task *t = context;
  const size_t offset = row * (size_t)t->in_w * t->c;
  t->k->vmulc(t->in + offset, t->in1, (int)rows * t->in_w, t->c, t->out + offset,
              t->post_lo, t->post_hi);
}

static void run_resize_rows(void *context, size_t row, size_t rows) {
  const small_task *t = context;
  t->k->resize(t->in, t->in_h, t->in_w, t->c, t->out + row * t->out_w * t->c,
               t->out_h, t->out_w, (int)row, (int)(row + rows), t->streaming);
}

/* Outputs from this size on are written around the caches (larger than
   any L2, and most of an L3 share). */
#define STREAM_MIN_BYTES (8u << 20)

/* Tasks per thread: enough to balance, few enough to keep overhead low. */
#define TASKS_PER_THREAD 4

static size_t row_tile(size_t threads, int rows) {
  if (threads <= 1)
    return (size_t)rows;
  const size_t tile = (size_t)rows / (threads * TASKS_PER_THREAD);
  return tile ? tile : 1;
}

/* Rows first; layers with fewer rows than tasks (7x7, 1x1) also split
 * their output channels, in whole blocks of the kernel. */
static void conv_tiles(size_t threads, int rows, int channels, int block,
                       size_t *tile_rows, size_t *tile_channels) {
  const size_t target = threads * TASKS_PER_THREAD;
  *tile_rows = row_tile(threads, rows);
  *tile_channels = (size_t)channels;
  if (threads <= 1 || block <= 0 || (size_t)rows >= target)
    return;
  const size_t blocks = ((size_t)channels + block - 1) / block;
  size_t splits = (target + rows - 1) / rows;
  if (splits > blocks)
    splits = blocks;
  *tile_channels = (blocks + splits - 1) / splits * block;
}

static mnv3_qu8_requant requant_to(const mnv3_plan *plan, const mnv3_step *s) {
  const mnv3_quant *q = &plan->quant[s->out];
  return (mnv3_qu8_requant){s->post_lo, s->post_hi, q->inv_scale, q->zero};
}

/* One step of an 8-bit plan (tensors as in mnv3_plan_execute_step): it
   reads uint8 tensors, or, the stem, the float input quantized first. */
static void execute_int8_step(const mnv3_plan *plan, const mnv3_schedule *sch, float *arena,
                              const float *input, size_t input_plane, float *output,
                              mnv3_workers *workers, int i) {
  const unsigned flags = MNV3_FLUSH_DENORMALS;
  const size_t threads = mnv3_workers_threads(workers);
  const mnv3_kernels *k = plan->kernels;
  const mnv3_step *s = &plan->steps[i];
  const mnv3_tensor_info *a = &sch->tensors[s->in0];
  const mnv3_tensor_info *o = &sch->tensors[s->out];
  const mnv3_quant *qin = &plan->quant[s->in0];
#define BYTES(id) ((uint8_t *)(arena + sch->tensors[id].offset))
#define FLOATS(id) ((id) == plan->output ? output : arena + sch->tensors[id].offset)
  switch (s->kind) {
  case MNV3_OP_CONV: {
    const mnv3_quant *qout = &plan->quant[s->out];
    const int residual = s->in1 != MNV3_NO_TENSOR;
    const int residual_f32 = residual && plan->is_float[s->in1];
    const int stem = s->in0 == 0;
    uint8_t *in = stem ? (uint8_t *)(arena + sch->input_u8_offset) : BYTES(s->in0);
    if (stem) { /* the input quantized first, into its frame */
      quantize_task q = {.k = k,
                         .in = input,
                         .out = in,
                         .in_h = a->h,
                         .in_w = a->w,
                         .top = sch->pad_top[i],
                         .plane = input_plane,
                         .framed_row_bytes = (size_t)sch->input_u8_w * a->c,
                         .left_bytes = (size_t)sch->pad_left[i] * a->c,
                         .lo = plan->input_lo,
                         .hi = plan->input_hi,
                         .q = *qin};
      mnv3_parallelize_1d_tile_1d(workers, run_quantize_rows, &q, (size_t)sch->input_u8_h,
                                  row_tile(threads, sch->input_u8_h), flags);
    }
    qconv_task t = {
        .kernel = s->qkernel,
        .args = {.input = in, .in_h = stem ? sch->input_u8_h : a->h,
                 .in_w = stem ? sch->input_u8_w : a->w, .in_c = a->c,
                 .in_zero = qin->zero,
                 .output = plan->is_float[s->out] ? NULL : BYTES(s->out),
                 .output_f32 = plan->is_float[s->out] ? FLOATS(s->out) : NULL,
                 .out_h = o->h, .out_w = o->w, .out_c = o->c, .packed = s->qpacked,
                 .residual = residual && !residual_f32 ? BYTES(s->in1) : NULL,
                 .residual_f32 = residual_f32 ? FLOATS(s->in1) : NULL,
                 .residual_scale = residual ? plan->quant[s->in1].scale : 0.0f,
                 .residual_zero = residual ? plan->quant[s->in1].zero : 0,
                 .kernel = s->kernel_size, .stride = s->stride, .dilation = s->dilation,
                 .pad_top = stem ? 0 : sch->pad_top[i], .pad_left = stem ? 0 : sch->pad_left[i],
                 .act = s->act,
                 .pre_lo = s->pre_lo, .pre_hi = s->pre_hi, .post_lo = s->post_lo,
                 .post_hi = s->post_hi, .out_inv_scale = qout->inv_scale,
                 .out_zero = qout->zero, .oc_begin = 0, .oc_end = o->c}};
    size_t tile_rows, tile_channels;
    conv_tiles(threads, o->h, o->c, s->qkernel->channel_block, &tile_rows, &tile_channels);
    mnv3_parallelize_2d_tile_2d(workers, run_qconv_tile, &t, (size_t)o->h, (size_t)o->c,
                                tile_rows, tile_channels, flags);
    break;
  }
  case MNV3_OP_GLOBAL_POOL: {
    const int pixels = a->h * a->w;
    qsmall_task t = {.k = k, .in = BYTES(s->in0), .out = BYTES(s->out), .pixels = pixels,
                     .c = a->c, .multiplier = qin->scale / (float)pixels,
                     .gate = {.in_zero = qin->zero}, .rq = requant_to(plan, s)};
    size_t tile = threads <= 1 ? (size_t)a->c : ((size_t)a->c / (threads * 2) + 63) / 64 * 64;
    mnv3_parallelize_1d_tile_1d(workers, run_qpool_channels, &t, (size_t)a->c,
                                tile ? tile : 64, flags);
    break;
  }
  case MNV3_OP_MUL_CHANNEL: {
    const mnv3_quant *qgate = &plan->quant[s->in1];
    qsmall_task t = {.k = k, .in = BYTES(s->in0), .out = BYTES(s->out), .in_w = a->w,
                     .c = a->c,
                     .gate = {.gate = BYTES(s->in1), .in_zero = qin->zero,
                              .gate_zero = qgate->zero, .in_scale = qin->scale,
                              .gate_scale = qgate->scale},
                     .rq = requant_to(plan, s)};
    mnv3_parallelize_1d_tile_1d(workers, run_qmul_rows, &t, (size_t)a->h,
                                row_tile(threads, a->h), flags);
    break;
  }
  case MNV3_OP_RESIZE: /* float tensors: as in float plans */
    break;
  }
#undef BYTES
#undef FLOATS
}

void mnv3_plan_execute_step(const mnv3_plan *plan, const mnv3_schedule *sch,
                            float *arena, const float *input, size_t input_plane,
                            float *output, mnv3_workers *workers, int i) {
  if (plan->int8 && plan->steps[i].kind != MNV3_OP_RESIZE) {
    execute_int8_step(plan, sch, arena, input, input_plane, output, workers, i);
    return;
  }
  const unsigned flags = MNV3_FLUSH_DENORMALS;
  const size_t threads = mnv3_workers_threads(workers);
  const mnv3_kernels *k = plan->kernels;
  /* The last step writes straight into the caller's buffer: no final copy
     (for segmentation, a full-resolution map). */
#define TENSOR(id)                                                             \
  ((id) == 0 ? (float *)input                                                  \
             : (id) == plan->output ? output : arena + sch->tensors[id].offset)
  {
    const mnv3_step *s = &plan->steps[i];
    const mnv3_tensor_info *a = &sch->tensors[s->in0];
    const mnv3_tensor_info *o = &sch->tensors[s->out];
    switch (s->kind) {
    case MNV3_OP_CONV: {
      if (i > 0 && sch->fused[i - 1])
        break; /* ran with the expansion before it */
      conv_task t = {
          .kernel = s->kernel,
          .args = {.input = TENSOR(s->in0), .in_h = a->h, .in_w = a->w, .in_c = a->c,
                   .output = TENSOR(s->out), .out_h = o->h, .out_w = o->w, .out_c = o->c,
                   .packed = s->packed,
                   .residual = s->in1 == MNV3_NO_TENSOR ? NULL : TENSOR(s->in1),
                   .kernel = s->kernel_size, .stride = s->stride, .dilation = s->dilation,
                   .pad_top = sch->pad_top[i], .pad_left = sch->pad_left[i],
                   .act = s->act, .pre_lo = s->pre_lo, .pre_hi = s->pre_hi,
                   .post_lo = s->post_lo, .post_hi = s->post_hi,
                   .oc_begin = 0, .oc_end = o->c}};
      if (i > 0 && plan->steps[i - 1].gate_fused) {
        const mnv3_step *gate = &plan->steps[i - 1];
        t.args.input = TENSOR(gate->in0);
        t.args.in_gate = TENSOR(gate->in1);
        t.args.gate_lo = gate->post_lo;
        t.args.gate_hi = gate->post_hi;
      }
      if (sch->fused[i]) {
        const mnv3_step *d = &plan->steps[i + 1];
        const mnv3_tensor_info *dout = &sch->tensors[d->out];
        fused_task f = {
            .expand = t.args,
            /* input: the ring of expanded rows, through args.rows */
            .dw = {.in_h = o->h, .in_w = o->w, .in_c = o->c, .output = TENSOR(d->out),
                   .out_h = dout->h, .out_w = dout->w, .out_c = dout->c,
                   .packed = d->packed, .kernel = d->kernel_size, .stride = d->stride,
                   .dilation = d->dilation, .pad_top = sch->pad_top[i + 1],
                   .pad_left = sch->pad_left[i + 1], .act = d->act, .pre_lo = d->pre_lo,
                   .pre_hi = d->pre_hi, .post_lo = d->post_lo, .post_hi = d->post_hi,
                   .oc_begin = 0, .oc_end = dout->c},
            .expand_kernel = s->kernel,
            .dw_kernel = d->kernel,
            .scratch = TENSOR(s->out),
            .band_floats = band_floats(plan, sch, i),
            .band_rows = (dout->h + FUSED_BANDS - 1) / FUSED_BANDS};
        mnv3_parallelize_1d(workers, run_fused_band, &f,
                                   (size_t)((dout->h + f.band_rows - 1) / f.band_rows), flags);
        break;
      }
      size_t tile_rows, tile_channels;
      conv_tiles(threads, o->h, o->c, s->kernel->channel_block, &tile_rows, &tile_channels);
      mnv3_parallelize_2d_tile_2d(workers, run_conv_tile, &t, (size_t)o->h,
                                         (size_t)o->c, tile_rows, tile_channels, flags);
      break;
    }
    case MNV3_OP_GLOBAL_POOL: {
      small_task t = {.k = k, .in = TENSOR(s->in0), .out = TENSOR(s->out), .in_h = a->h,
                      .in_w = a->w, .c = a->c, .out_h = 1, .out_w = 1,
                      .post_lo = s->post_lo, .post_hi = s->post_hi};
      /* Channel tiles of whole cache lines. */
      size_t tile = threads <= 1 ? (size_t)a->c
                                 : ((size_t)a->c / (threads * 2) + 15) / 16 * 16;
      mnv3_parallelize_1d_tile_1d(workers, run_pool_channels, &t, (size_t)a->c,
                                         tile ? tile : 16, flags);
      break;
    }
    case MNV3_OP_MUL_CHANNEL: {
      if (s->gate_fused)
        break; /* runs in the 1x1 conv after it */
      small_task t = {.k = k, .in = TENSOR(s->in0), .in1 = TENSOR(s->in1),
                      .out = TENSOR(s->out), .in_h = a->h, .in_w = a->w, .c = a->c,
                      .out_h = o->h, .out_w = o->w, .post_lo = s->post_lo,
                      .post_hi = s->post_hi};
      mnv3_parallelize_1d_tile_1d(workers, run_mul_rows, &t, (size_t)a->h,
                                         row_tile(threads, a->h), flags);
      break;
    }
    case MNV3_OP_RESIZE: {
      /* The network's output, when it is larger than the caches, goes
         around them: nothing reads it during this run. */
      const size_t out_bytes = (size_t)o->h * o->w * o->c * sizeof(float);
      small_task t = {.k = k, .in = TENSOR(s->in0), .out = TENSOR(s->out), .in_h = a->h,
                      .in_w = a->w, .c = a->c, .out_h = o->h, .out_w = o->w,
                      .streaming = s->out == plan->output && out_bytes >= STREAM_MIN_BYTES};
      mnv3_parallelize_1d_tile_1d(workers, run_resize_rows, &t, (size_t)o->h,
                                         row_tile(threads, o->h), flags);
      break;
    }
    }
  }
#undef TENSOR
}

void mnv3_plan_execute(const mnv3_plan *plan, const mnv3_schedule *sch,
                       float *arena, const float *input, size_t input_plane,
                       float *output, mnv3_workers *workers) {
  for (int i = 0; i < plan->num_steps; i++)
    mnv3_plan_execute_step(plan, sch, arena, input, input_plane, output, workers, i);
}
