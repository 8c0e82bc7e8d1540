/* How far an 8-bit plan's tensors are from the float plan's, step by step,
 * on one input: where quantization error enters and how it grows. Prints
 * JSON, one line a step: the relative RMS error of the 8-bit tensor
 * (dequantized) against the float one, and its quantization step.
 *
 *   mnv3-int8-error --config C.yaml --input IN.f32
 *
 * IN.f32: the network input as NHWC float32 at the config's input size
 * (tests/tflite/tflite_ref.py preprocesses photos so). The config's
 * model.precision does not matter: both plans are built from it. */
#include "model.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run {
  mnv3_plan plan;
  mnv3_schedule sch;
  float *arena, *output;
} run;

static int prepare(const mnv3_config *config, int int8, int h, int w, run *r,
                   mnv3_error *err) {
  mnv3_network net;
  memset(r, 0, sizeof *r);
  if (mnv3_network_load(config, NULL, &net, err) < 0)
    return -1;
  /* Unfused: every float tensor is written, for the comparison. */
  const unsigned flags = MNV3_PLAN_UNFUSED | (int8 ? MNV3_PLAN_INT8 : 0);
  const int rc = mnv3_plan_compile(&net, mnv3_kernels_get(), flags, &r->plan, err) == 0 &&
                         mnv3_schedule_build(&r->plan, h, w, &r->sch, err) == 0
                     ? 0
                     : -1;
  mnv3_network_clear(&net);
  if (rc < 0)
    return -1;
  const mnv3_tensor_info *o = &r->sch.tensors[r->plan.output];
  r->arena = aligned_alloc(64, (r->sch.arena_floats * sizeof(float) + 63) / 64 * 64);
  r->output = malloc((size_t)o->h * o->w * o->c * sizeof(float));
  return r->arena && r->output ? 0 : mnv3_fail(err, "out of memory");
}

/* Element i of tensor id as a real value. */
static double value(const run *r, int id, size_t i) {
  const float *f = id == r->plan.output ? r->output : r->arena + r->sch.tensors[id].offset;
  if (!r->plan.int8 || r->plan.is_float[id])
    return f[i];
  const mnv3_quant *q = &r->plan.quant[id];
  return ((double)((const uint8_t *)f)[i] - q->zero) * q->scale;
}

int main(int argc, char **argv) {
  const char *config_path = NULL, *input_path = NULL;
  static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                          {"input", required_argument, NULL, 'i'},
                                          {NULL, 0, NULL, 0}};
  for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    if (opt == 'c')
      config_path = optarg;
    else if (opt == 'i')
      input_path = optarg;
    else
      return 2;
  }
  if (!config_path || !input_path) {
    fprintf(stderr, "usage: mnv3-int8-error --config C.yaml --input IN.f32\n");
    return 2;
  }
  mnv3_error err;
  mnv3_config config;
  if (mnv3_config_load(config_path, &config, &err) < 0) {
    fprintf(stderr, "mnv3-int8-error: %s\n", err.message);
    return 1;
  }
  const int h = config.input_height, w = config.input_width;
  float *input = malloc((size_t)h * w * 3 * sizeof *input);
  FILE *f = fopen(input_path, "rb");
  if (!input || !f || fread(input, sizeof *input, (size_t)h * w * 3, f) != (size_t)h * w * 3) {
    fprintf(stderr, "mnv3-int8-error: %s: expected %dx%dx3 float32 values\n", input_path, h, w);
    return 1;
  }
  fclose(f);
  run fp, q;
  if (prepare(&config, 0, h, w, &fp, &err) < 0 || prepare(&config, 1, h, w, &q, &err) < 0) {
    fprintf(stderr, "mnv3-int8-error: %s\n", err.message);
    return 1;
  }
  for (int i = 0; i < fp.plan.num_steps; i++) {
    mnv3_plan_execute_step(&fp.plan, &fp.sch, fp.arena, input, 0, fp.output, NULL, i);
    mnv3_plan_execute_step(&q.plan, &q.sch, q.arena, input, 0, q.output, NULL, i);
    const int id = fp.plan.steps[i].out;
    const mnv3_tensor_info *t = &fp.sch.tensors[id];
    const size_t n = (size_t)t->h * t->w * t->c;
    double err2 = 0.0, ref2 = 0.0;
    for (size_t j = 0; j < n; j++) {
      const double ref = value(&fp, id, j), d = value(&q, id, j) - ref;
      err2 += d * d;
      ref2 += ref * ref;
    }
    const mnv3_step *s = &q.plan.steps[i];
    printf("{\"step\": %d, \"op\": \"%s\", \"out\": [%d, %d, %d], \"relative_rms_error\": "
           "%.5f, \"rms\": %.5g, \"step_size\": %.5g}\n",
           i, s->qkernel ? s->qkernel->name : s->kernel ? s->kernel->name
              : s->kind == MNV3_OP_GLOBAL_POOL ? "global_pool"
              : s->kind == MNV3_OP_MUL_CHANNEL ? "mul_channel" : "resize",
           t->h, t->w, t->c, ref2 > 0 ? sqrt(err2 / ref2) : 0.0, sqrt(ref2 / (n ? n : 1)),
           q.plan.is_float[id] ? 0.0 : q.plan.quant[id].scale);
  }
  return 0;
}
