/* Compiling a network into steps, planning memory for an input size, and
 * walking the steps. */
#include "plan.h"

#include <pthreadpool.h>
#include <stdlib.h>
#include <string.h>

static const mnv3_conv_kernel *choose_kernel(const mnv3_kernels *k,
                                             const mnv3_op *op) {
  if (op->depthwise)
    return &k->depthwise;
  if (op->kernel == 1 && op->stride == 1)
    return &k->pointwise;
  return &k->dense;
}

int mnv3_plan_compile(mnv3_network *net, const mnv3_kernels *kernels,
                      mnv3_plan *plan, mnv3_error *error) {
  memset(plan, 0, sizeof *plan);
  plan->kernels = kernels;
  plan->steps = calloc((size_t)net->num_ops, sizeof *plan->steps);
  if (!plan->steps)
    return mnv3_fail(error, "out of memory compiling the network");
  plan->num_steps = net->num_ops;
  plan->num_tensors = net->num_tensors;
  plan->output = net->output;
  plan->output_channels = net->num_classes;
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
    s->kernel = choose_kernel(kernels, op);
    s->in_ch = op->in_ch;
    s->out_ch = op->out_ch;
    s->kernel_size = op->kernel;
    s->stride = op->stride;
    s->dilation = op->dilation;
    s->padding = op->padding;
    s->act = op->act;
    s->pre_lo = op->pre_lo;
    s->pre_hi = op->pre_hi;
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
  return 0;
}

void mnv3_plan_clear(mnv3_plan *plan) {
  for (int i = 0; i < plan->num_steps; i++)
    free(plan->steps[i].packed);
  free(plan->steps);
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

static size_t aligned_floats(const mnv3_tensor_info *t) {
  const size_t n = (size_t)t->h * t->w * t->c;
  return (n + 15) / 16 * 16; /* 64-byte aligned starts */
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
  int *last_use = calloc((size_t)n, sizeof *last_use);
  block *live = calloc((size_t)n + 1, sizeof *live);
  if (!sch->tensors || !sch->pad_top || !sch->pad_left || !last_use || !live) {
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

  /* Tensor 0 is the caller's input and never lives in the arena. */
  int num_live = 0;
  for (int i = 0; i < plan->num_steps; i++) {
    const mnv3_step *s = &plan->steps[i];
    mnv3_tensor_info *o = &sch->tensors[s->out];
    o->offset = place(live, &num_live, aligned_floats(o), s->out);
    if (o->offset + aligned_floats(o) > sch->arena_floats)
      sch->arena_floats = o->offset + aligned_floats(o);
    if (s->in0 != 0 && last_use[s->in0] == i)
      release(live, &num_live, s->in0);
    if (s->in1 > 0 && last_use[s->in1] == i)
      release(live, &num_live, s->in1);
  }
  free(last_use);
  free(live);
  return 0;
}

void mnv3_schedule_clear(mnv3_schedule *sch) {
  free(sch->tensors);
  free(sch->pad_top);
  free(sch->pad_left);
  memset(sch, 0, sizeof *sch);
}

/* ---- execution --------------------------------------------------------- */

typedef struct conv_task {
  const mnv3_conv_kernel *kernel;
  mnv3_conv_args args;
} conv_task;

static void run_conv_rows(void *context, size_t row, size_t rows) {
  conv_task *t = context;
  t->kernel->run(&t->args, (int)row, (int)(row + rows));
}

typedef struct resize_task {
  const float *in;
  float *out;
  int in_h, in_w, c, out_h, out_w;
} resize_task;

static void run_resize_rows(void *context, size_t row, size_t rows) {
  resize_task *t = context;
  mnv3_resize_bilinear_ref(t->in, t->in_h, t->in_w, t->c, t->out, t->out_h,
                           t->out_w, (int)row, (int)(row + rows));
}

/* Enough tiles to balance threads, few enough to keep the overhead low. */
static size_t row_tile(struct pthreadpool *pool, int rows) {
  const size_t threads = pthreadpool_get_threads_count(pool);
  if (threads <= 1)
    return (size_t)rows;
  size_t tile = (size_t)rows / (threads * 4);
  return tile ? tile : 1;
}

void mnv3_plan_execute(const mnv3_plan *plan, const mnv3_schedule *sch,
                       float *arena, const float *input, float *output,
                       struct pthreadpool *pool) {
  const uint32_t flags = PTHREADPOOL_FLAG_DISABLE_DENORMALS;
#define TENSOR(id) ((id) == 0 ? (float *)input : arena + sch->tensors[id].offset)
  for (int i = 0; i < plan->num_steps; i++) {
    const mnv3_step *s = &plan->steps[i];
    const mnv3_tensor_info *a = &sch->tensors[s->in0];
    const mnv3_tensor_info *o = &sch->tensors[s->out];
    switch (s->kind) {
    case MNV3_OP_CONV: {
      conv_task t = {
          s->kernel,
          {TENSOR(s->in0), a->h, a->w, a->c, TENSOR(s->out), o->h, o->w, o->c,
           s->packed, s->in1 == MNV3_NO_TENSOR ? NULL : TENSOR(s->in1),
           s->kernel_size, s->stride, s->dilation, sch->pad_top[i], sch->pad_left[i],
           s->act, s->pre_lo, s->pre_hi, s->post_lo, s->post_hi}};
      pthreadpool_parallelize_1d_tile_1d(pool, run_conv_rows, &t, (size_t)o->h,
                                         row_tile(pool, o->h), flags);
      break;
    }
    case MNV3_OP_GLOBAL_POOL:
      mnv3_global_pool_ref(TENSOR(s->in0), a->h * a->w, a->c, TENSOR(s->out));
      break;
    case MNV3_OP_MUL_CHANNEL:
      mnv3_mul_channel_ref(TENSOR(s->in0), TENSOR(s->in1), a->h * a->w, a->c,
                           TENSOR(s->out), s->post_lo, s->post_hi);
      break;
    case MNV3_OP_RESIZE: {
      resize_task t = {TENSOR(s->in0), TENSOR(s->out), a->h, a->w, a->c, o->h, o->w};
      pthreadpool_parallelize_1d_tile_1d(pool, run_resize_rows, &t, (size_t)o->h,
                                         row_tile(pool, o->h), flags);
      break;
    }
    }
  }
  const mnv3_tensor_info *out = &sch->tensors[plan->output];
  memcpy(output, TENSOR(plan->output), (size_t)out->h * out->w * out->c * sizeof(float));
#undef TENSOR
}
