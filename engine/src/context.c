/* Run contexts: scratch memory planned once per input shape, the choice of
 * threads per inference (threading.h), the input slots and the last output. */
#include "model.h"

#include "preprocess.h"
#include "threading.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SIDE 32
#define MAX_SIDE 2048

struct mnv3_context {
  mnv3_model *model;
  mnv3_threading threading;
  mnv3_schedule schedule;
  float *arena;
  size_t arena_floats;
  float *input; /* batch slots, NHWC */
  size_t input_floats;
  float *output; /* batch x (h x w x classes), NHWC */
  size_t output_floats;
  int batch; /* of the last output */
  /* Segmentation: runs keep only each image's class mask (set_mask_only). */
  int mask_only;
  int last_mask_only; /* how the last output was made */
  uint8_t *masks;     /* batch x h x w, for mask-only runs */
  size_t masks_bytes;
  float *mask_rows;   /* per band: a few upsampled score rows */
  size_t mask_rows_floats;
  float *scratch;      /* mnv3_context_scratch */
  size_t scratch_floats;
};

mnv3_context *mnv3_context_new(mnv3_model *model, int threads, mnv3_error *error) {
  mnv3_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) {
    mnv3_fail(error, "out of memory creating a context");
    return NULL;
  }
  if (mnv3_threading_init(&ctx->threading, threads, error) < 0) {
    free(ctx);
    return NULL;
  }
  ctx->model = mnv3_model_ref(model);
  return ctx;
}

void mnv3_context_free(mnv3_context *ctx) {
  if (!ctx)
    return;
  mnv3_threading_clear(&ctx->threading);
  mnv3_schedule_clear(&ctx->schedule);
  free(ctx->arena);
  free(ctx->input);
  free(ctx->output);
  free(ctx->masks);
  free(ctx->mask_rows);
  free(ctx->scratch);
  mnv3_model_unref(ctx->model);
  free(ctx);
}

const mnv3_model *mnv3_context_model(const mnv3_context *ctx) { return ctx->model; }

/* Grows a buffer; contents are kept only when `keep` (input slots). */
static int reserve(float **buffer, size_t *capacity, size_t floats, int keep,
                   mnv3_error *error) {
  if (floats <= *capacity)
    return 0;
  float *grown;
  if (keep) {
    grown = realloc(*buffer, floats * sizeof(float));
  } else {
    grown = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    if (grown)
      free(*buffer);
  }
  if (!grown)
    return mnv3_fail(error, "out of memory: %zu MB of activations",
                     floats * sizeof(float) >> 20);
  *buffer = grown;
  *capacity = floats;
  return 0;
}

static int check_shape(int batch, int height, int width, mnv3_error *error) {
  if (batch < 1)
    return mnv3_fail(error, "batch must be at least 1, got %d", batch);
  if (height < MIN_SIDE || height > MAX_SIDE || width < MIN_SIDE || width > MAX_SIDE)
    return mnv3_fail(error, "input size %dx%d (height x width) is outside %d..%d",
                     height, width, MIN_SIDE, MAX_SIDE);
  return 0;
}

/* Plans memory for an input size, once per size change. */
static int prepare(mnv3_context *ctx, int height, int width, mnv3_error *error) {
  if (ctx->schedule.tensors && ctx->schedule.in_h == height && ctx->schedule.in_w == width)
    return 0;
  mnv3_schedule_clear(&ctx->schedule);
  if (mnv3_schedule_build(&ctx->model->plan, height, width, &ctx->schedule, error) < 0)
    return -1;
  if (reserve(&ctx->arena, &ctx->arena_floats, ctx->schedule.arena_floats, 0, error) < 0) {
    mnv3_schedule_clear(&ctx->schedule);
    return -1;
  }
  return 0;
}

static size_t image_output_floats(const mnv3_context *ctx) {
  const mnv3_tensor_info *t = &ctx->schedule.tensors[ctx->model->plan.output];
  return (size_t)t->h * t->w * t->c;
}

/* ---- class masks without the full-resolution scores -------------------- */

/* The plan's last step when a mask-only run can replace it: the bilinear
 * upsampling of the scores to the input size, straight into the output. */
static const mnv3_step *final_upsampling(const mnv3_plan *plan) {
  if (plan->num_steps < 2)
    return NULL;
  const mnv3_step *s = &plan->steps[plan->num_steps - 1];
  return s->kind == MNV3_OP_RESIZE && s->out == plan->output && s->in0 != 0 ? s : NULL;
}

/* Mask rows per task: enough tasks to balance busy cores, each with
 * MASK_GROUP_ROWS scratch rows of upsampled scores: one resize call per
 * group reuses each source row's horizontal pass for the rows that need it
 * (an 8x upscale: 4 output rows share most of theirs). */
#define MASK_TASKS_PER_THREAD 4
#define MASK_GROUP_ROWS 4

typedef struct mask_task {
  const mnv3_kernels *k;
  const float *in; /* the low-resolution scores */
  int in_h, in_w, classes, out_h, out_w;
  uint8_t *mask;
  size_t mask_stride;
  float *rows; /* MASK_GROUP_ROWS rows of out_w x classes floats per band */
  int band_rows;
} mask_task;

static void run_mask_band(void *context, size_t band) {
  const mask_task *t = context;
  const size_t row_floats = (size_t)t->out_w * t->classes;
  float *rows = t->rows + band * MASK_GROUP_ROWS * row_floats;
  const int begin = (int)band * t->band_rows;
  const int end = begin + t->band_rows < t->out_h ? begin + t->band_rows : t->out_h;
  for (int y0 = begin; y0 < end; y0 += MASK_GROUP_ROWS) {
    const int y1 = y0 + MASK_GROUP_ROWS < end ? y0 + MASK_GROUP_ROWS : end;
    t->k->resize(t->in, t->in_h, t->in_w, t->classes, rows, t->out_h, t->out_w, y0, y1, 0);
    for (int oy = y0; oy < y1; oy++)
      t->k->argmax(rows + (size_t)(oy - y0) * row_floats, t->out_w, t->classes,
                   t->mask + (size_t)oy * t->mask_stride);
  }
}

/* Runs every step but the final upsampling on one image, then upsamples and
 * takes the argmax a few rows at a time (threaded over rows). */
static int mask_image(mnv3_context *ctx, mnv3_threading_run *run, const float *input,
                      size_t input_plane, uint8_t *mask, size_t stride, mnv3_error *error) {
  const mnv3_plan *plan = &ctx->model->plan;
  const mnv3_step *last = final_upsampling(plan);
  const mnv3_tensor_info *in = &ctx->schedule.tensors[last->in0];
  const mnv3_tensor_info *out = &ctx->schedule.tensors[plan->output];
  for (int i = 0; i < plan->num_steps - 1; i++) /* the output tensor is never touched */
    mnv3_plan_execute_step(plan, &ctx->schedule, ctx->arena, input, input_plane, NULL,
                           mnv3_threading_step(run), i);
  mnv3_workers *workers = mnv3_threading_step(run);
  const size_t threads = mnv3_workers_threads(workers);
  size_t bands = threads > 1 ? threads * MASK_TASKS_PER_THREAD : 1;
  if (bands > (size_t)out->h)
    bands = (size_t)out->h;
  const size_t row_floats = (size_t)out->w * out->c;
  if (reserve(&ctx->mask_rows, &ctx->mask_rows_floats, bands * MASK_GROUP_ROWS * row_floats, 0,
              error) < 0)
    return -1;
  mask_task t = {plan->kernels, ctx->arena + in->offset, in->h, in->w, in->c, out->h, out->w,
                 mask, stride, ctx->mask_rows, 0};
  t.band_rows = (int)(((size_t)out->h + bands - 1) / bands);
  bands = ((size_t)out->h + t.band_rows - 1) / t.band_rows;
  /* Through the pool even for one band: the same denormal mode as the
     plan's own resize step, so the same values. */
  mnv3_parallelize_1d(workers, run_mask_band, &t, bands, MNV3_FLUSH_DENORMALS);
  return 0;
}

/* Runs batch images from input: ctx->input (NHWC) when input_plane is 0,
   else, for an 8-bit plan, the caller's NCHW images (mnv3_plan_execute). */
static int execute(mnv3_context *ctx, const float *input, size_t input_plane, int batch,
                   int height, int width, mnv3_error *error) {
  if (prepare(ctx, height, width, error) < 0)
    return -1;
  const int mask_only = ctx->mask_only && final_upsampling(&ctx->model->plan);
  const size_t per_image = image_output_floats(ctx);
  const mnv3_tensor_info *o = &ctx->schedule.tensors[ctx->model->plan.output];
  const size_t mask_bytes = (size_t)o->h * o->w;
  if (mask_only) {
    if (ctx->masks_bytes < mask_bytes * batch) {
      uint8_t *grown = realloc(ctx->masks, mask_bytes * batch);
      if (!grown)
        return mnv3_fail(error, "out of memory: %zu MB of class masks",
                         mask_bytes * batch >> 20);
      ctx->masks = grown;
      ctx->masks_bytes = mask_bytes * batch;
    }
  } else if (reserve(&ctx->output, &ctx->output_floats, per_image * (size_t)batch, 0,
                     error) < 0) {
    return -1;
  }
  const size_t in_floats = (size_t)height * width * 3;
  const float lo = ctx->model->input_lo, hi = ctx->model->input_hi;
  /* A float plan runs on ctx->input, clamped here; an 8-bit plan's stem
     clamps as it quantizes. */
  if (!ctx->model->plan.int8 && (isfinite(lo) || isfinite(hi))) {
    /* Compares, not fmaxf/fminf (library calls here): the loop vectorises,
       and a NaN still becomes lo. */
    float *x = ctx->input;
    for (size_t i = 0; i < in_floats * (size_t)batch; i++) {
      const float at_least_lo = x[i] >= lo ? x[i] : lo;
      x[i] = at_least_lo <= hi ? at_least_lo : hi;
    }
  }
  ctx->batch = 0; /* no result until this run completes */
  const mnv3_plan *plan = &ctx->model->plan;
  mnv3_threading_run run;
  mnv3_threading_begin(&ctx->threading, &run, 1);
  int failed = 0;
  for (int b = 0; b < batch && !failed; b++) {
    const float *in = input + in_floats * b; /* NHWC or NCHW, the same size */
    if (mask_only)
      failed = mask_image(ctx, &run, in, input_plane, ctx->masks + mask_bytes * b,
                          (size_t)o->w, error) < 0;
    else
      for (int i = 0; i < plan->num_steps; i++)
        mnv3_plan_execute_step(plan, &ctx->schedule, ctx->arena, in, input_plane,
                               ctx->output + per_image * b, mnv3_threading_step(&run), i);
  }
  mnv3_threading_end(&ctx->threading, &run);
  if (failed)
    return -1;
  ctx->batch = batch;
  ctx->last_mask_only = mask_only;
  return 0;
}

int mnv3_context_run_nchw(mnv3_context *ctx, const float *input, int batch,
                          int height, int width, mnv3_error *error) {
  if (check_shape(batch, height, width, error) < 0)
    return -1;
  const size_t plane = (size_t)height * width;
  /* An 8-bit plan's stem quantizes the planes as it reads them: no float
     copy in NHWC (24 us of a 224 x 224 run, memory-bound). */
  if (ctx->model->plan.int8)
    return execute(ctx, input, plane, batch, height, width, error);
  if (reserve(&ctx->input, &ctx->input_floats, plane * 3 * (size_t)batch, 0, error) < 0)
    return -1;
  for (int b = 0; b < batch; b++)
    for (size_t p = 0; p < plane; p++)
      for (int c = 0; c < 3; c++)
        ctx->input[(b * plane + p) * 3 + c] = input[(b * 3 + (size_t)c) * plane + p];
  return execute(ctx, ctx->input, 0, batch, height, width, error);
}

int mnv3_context_set_frame(mnv3_context *ctx, int index, const mnv3_frame *frame,
                           const mnv3_rect *crop, mnv3_error *error) {
  const mnv3_config *cfg = &ctx->model->config;
  if (index < 0)
    return mnv3_fail(error, "frame index must not be negative, got %d", index);
  const size_t slot = (size_t)cfg->input_height * cfg->input_width * 3;
  if (reserve(&ctx->input, &ctx->input_floats, slot * ((size_t)index + 1), 1, error) < 0)
    return -1;
  mnv3_rect centre;
  if (!crop) {
    centre = mnv3_centre_crop(frame->width, frame->height, cfg->crop);
    crop = &centre;
  }
  mnv3_normalize norm;
  memcpy(norm.mean, cfg->mean, sizeof norm.mean);
  memcpy(norm.std, cfg->std, sizeof norm.std);
  mnv3_threading_run run;
  const int rc = mnv3_preprocess_pool(frame, crop, &norm, cfg->input_height, cfg->input_width,
                                      ctx->input + slot * index,
                                      mnv3_context_side_job_begin(ctx, &run), error);
  mnv3_context_side_job_end(ctx, &run);
  return rc;
}

int mnv3_context_set_mask_only(mnv3_context *ctx, int mask_only, mnv3_error *error) {
  if (mask_only && ctx->model->task != MNV3_TASK_SEGMENT)
    return mnv3_fail(error, "mask-only runs need a segmentation model; this "
                     "model classifies");
  ctx->mask_only = mask_only != 0;
  return 0;
}

int mnv3_context_run(mnv3_context *ctx, int batch, mnv3_error *error) {
  const mnv3_config *cfg = &ctx->model->config;
  if (check_shape(batch, cfg->input_height, cfg->input_width, error) < 0)
    return -1;
  const size_t slot = (size_t)cfg->input_height * cfg->input_width * 3;
  if (ctx->input_floats < slot * (size_t)batch)
    return mnv3_fail(error, "run of %d frames, but only %zu were set", batch,
                     ctx->input_floats / slot);
  return execute(ctx, ctx->input, 0, batch, cfg->input_height, cfg->input_width, error);
}

/* ---- results ----------------------------------------------------------- */

void mnv3_context_output_shape(const mnv3_context *ctx, int *batch, int *channels,
                               int *height, int *width) {
  const mnv3_tensor_info *t =
      ctx->schedule.tensors ? &ctx->schedule.tensors[ctx->model->plan.output] : NULL;
  *batch = t ? ctx->batch : 0;
  *channels = t ? t->c : 0;
  *height = t ? t->h : 0;
  *width = t ? t->w : 0;
}

size_t mnv3_context_output_size(const mnv3_context *ctx) {
  if (!ctx->schedule.tensors || ctx->last_mask_only)
    return 0;
  return image_output_floats(ctx) * (size_t)ctx->batch;
}

void mnv3_context_read_output(const mnv3_context *ctx, float *dst) {
  if (!ctx->schedule.tensors || ctx->last_mask_only)
    return;
  const mnv3_tensor_info *t = &ctx->schedule.tensors[ctx->model->plan.output];
  const size_t plane = (size_t)t->h * t->w;
  for (int b = 0; b < ctx->batch; b++)
    for (size_t p = 0; p < plane; p++)
      for (int c = 0; c < t->c; c++)
        dst[((size_t)b * t->c + c) * plane + p] = ctx->output[((size_t)b * plane + p) * t->c + c];
}

/* Softmax over every network output (a hidden background class included, as
 * TF's own softmax does); callers report the user's classes only. */
static const float *softmax_stats(const mnv3_context *ctx, int index, float *max,
                                  double *sum) {
  const int outputs = ctx->model->plan.output_channels;
  const float *logits = ctx->output + (size_t)index * outputs;
  *max = logits[0];
  for (int c = 1; c < outputs; c++)
    *max = fmaxf(*max, logits[c]);
  *sum = 0.0;
  for (int c = 0; c < outputs; c++)
    *sum += exp((double)logits[c] - *max);
  return logits;
}

int mnv3_context_probabilities(const mnv3_context *ctx, int index, float *probs) {
  if (ctx->model->task != MNV3_TASK_CLASSIFY || index < 0 || index >= ctx->batch || !probs)
    return 0;
  const int outputs = ctx->model->plan.output_channels;
  const int offset = ctx->model->class_offset;
  float max;
  double sum;
  const float *logits = softmax_stats(ctx, index, &max, &sum);
  for (int c = offset; c < outputs; c++)
    probs[c - offset] = (float)(exp((double)logits[c] - max) / sum);
  return outputs - offset;
}

int mnv3_context_top_k(const mnv3_context *ctx, int index, int k, mnv3_class_score *out) {
  if (ctx->model->task != MNV3_TASK_CLASSIFY || index < 0 || index >= ctx->batch || k <= 0)
    return 0;
  const int outputs = ctx->model->plan.output_channels;
  const int offset = ctx->model->class_offset;
  const float *logits = ctx->output + (size_t)index * outputs;
  /* Select on logits (softmax keeps the order), ties keep the lower id;
     then turn the k selected into probabilities. No allocation per frame. */
  int n = 0;
  for (int c = 0; c + offset < outputs; c++) {
    const float l = logits[c + offset];
    if (n == k && l <= out[k - 1].score)
      continue;
    int at = n < k ? n : k - 1;
    while (at > 0 && out[at - 1].score < l) {
      out[at] = out[at - 1];
      at--;
    }
    out[at] = (mnv3_class_score){c, l};
    if (n < k)
      n++;
  }
  float max;
  double sum;
  softmax_stats(ctx, index, &max, &sum);
  for (int i = 0; i < n; i++)
    out[i].score = (float)(exp((double)out[i].score - max) / sum);
  return n;
}

void mnv3_context_class_mask(const mnv3_context *ctx, int index, uint8_t *mask, int stride) {
  if (!ctx->schedule.tensors || index < 0 || index >= ctx->batch)
    return;
  const mnv3_tensor_info *t = &ctx->schedule.tensors[ctx->model->plan.output];
  if (ctx->last_mask_only) {
    const uint8_t *kept = ctx->masks + (size_t)index * t->h * t->w;
    for (int y = 0; y < t->h; y++)
      memcpy(mask + (size_t)y * stride, kept + (size_t)y * t->w, (size_t)t->w);
    return;
  }
  const float *scores = ctx->output + (size_t)index * t->h * t->w * t->c;
  for (int y = 0; y < t->h; y++)
    ctx->model->plan.kernels->argmax(scores + (size_t)y * t->w * t->c, t->w, t->c,
                                     mask + (size_t)y * stride);
}

mnv3_workers *mnv3_context_side_job_begin(mnv3_context *ctx, mnv3_threading_run *run) {
  return mnv3_threading_begin(&ctx->threading, run, 0);
}

void mnv3_context_side_job_end(mnv3_context *ctx, mnv3_threading_run *run) {
  mnv3_threading_end(&ctx->threading, run);
}

void *mnv3_context_scratch(mnv3_context *ctx, size_t bytes) {
  mnv3_error unused; /* the caller words its own message */
  const size_t floats = (bytes + sizeof(float) - 1) / sizeof(float);
  return reserve(&ctx->scratch, &ctx->scratch_floats, floats, 0, &unused) < 0 ? NULL
                                                                              : ctx->scratch;
}
