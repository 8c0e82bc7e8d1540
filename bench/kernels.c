/* Kernel-level benchmark: per-step times of a model's compiled plan with
 * the kernels this process chose (MNV3_ISA forces a variant), and the
 * single-core FMA peak that "x % of peak" figures are measured against.
 * Prints JSON.
 *
 *   mnv3-bench-kernels --config C.yaml [--shape H,W] [--threads T] [--runs N]
 *   mnv3-bench-kernels --peak
 */
#include "model.h"
#include "workers.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- FMA peak ---------------------------------------------------------- */

/* 12 independent FMA chains: more than latency x ports on current cores,
   so the loop runs at the FMA units' throughput. Returns GFLOP/s. */
#if defined(__x86_64__)
#define PEAK_CHAINS 12
#define PEAK_BODY(V, FMA, SET1, ADD, STORE, LANES)                             \
  V acc[PEAK_CHAINS];                                                          \
  const V m = SET1(0.999999f), c = SET1(1e-7f);                                \
  for (int i = 0; i < PEAK_CHAINS; i++)                                        \
    acc[i] = SET1((float)i);                                                   \
  const double t0 = now_s();                                                   \
  for (long it = 0; it < iterations; it++)                                     \
    for (int i = 0; i < PEAK_CHAINS; i++)                                      \
      acc[i] = FMA(acc[i], m, c);                                              \
  const double t = now_s() - t0;                                               \
  V sum = acc[0];                                                              \
  for (int i = 1; i < PEAK_CHAINS; i++)                                        \
    sum = ADD(sum, acc[i]);                                                    \
  float lanes[LANES];                                                          \
  STORE(lanes, sum);                                                           \
  *sink += lanes[0];                                                           \
  return (double)iterations * PEAK_CHAINS * LANES * 2 / t * 1e-9;

__attribute__((target("avx2,fma"))) static double peak_avx2(long iterations, float *sink) {
  PEAK_BODY(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
__attribute__((target("avx512f"))) static double peak_avx512(long iterations, float *sink) {
  PEAK_BODY(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}
#endif

static int run_peak(void) {
  const mnv3_kernels *list[8];
  const int n = mnv3_kernels_available(list, 8);
  float sink = 0.0f;
  printf("{\"fma_peak_gflops_one_core\": {");
  int first = 1;
  for (int i = 0; i < n; i++) {
    double best = 0.0;
#if defined(__x86_64__)
    for (int rep = 0; rep < 5; rep++) {
      double g = 0.0;
      if (strcmp(list[i]->isa, "avx512bw") == 0)
        g = peak_avx512(20000000, &sink);
      else if (strcmp(list[i]->isa, "avx2") == 0)
        g = peak_avx2(20000000, &sink);
      if (g > best)
        best = g;
    }
#endif
    if (best > 0.0) {
      printf("%s\"%s\": %.1f", first ? "" : ", ", list[i]->isa, best);
      first = 0;
    }
  }
  printf("}, \"sink\": %g}\n", (double)sink);
  return 0;
}

/* ---- per-step times ---------------------------------------------------- */

static const char *kind_name(const mnv3_step *s) {
  switch (s->kind) {
  case MNV3_OP_CONV:
    return s->kernel ? s->kernel->name : s->qkernel->name;
  case MNV3_OP_GLOBAL_POOL:
    return "global_pool";
  case MNV3_OP_MUL_CHANNEL:
    return "mul_channel";
  case MNV3_OP_RESIZE:
    return "resize";
  }
  return "?";
}

static double step_flops(const mnv3_plan *plan, const mnv3_step *s,
                         const mnv3_tensor_info *o) {
  if (s->kind != MNV3_OP_CONV)
    return 0.0;
  const double taps = (double)s->kernel_size * s->kernel_size;
  (void)plan;
  return 2.0 * o->h * o->w * o->c * (s->depthwise ? taps : taps * s->in_ch);
}

static int run_steps(const char *config, int h, int w, int threads, int runs) {
  mnv3_error err;
  mnv3_model *model = mnv3_model_load(config, NULL, &err);
  if (!model) {
    fprintf(stderr, "mnv3-bench-kernels: %s\n", err.message);
    return 1;
  }
  if (h <= 0)
    mnv3_model_input_size(model, &h, &w);
  const mnv3_plan *plan = &model->plan;
  mnv3_schedule sch;
  if (mnv3_schedule_build(plan, h, w, &sch, &err) < 0) {
    fprintf(stderr, "mnv3-bench-kernels: %s\n", err.message);
    return 1;
  }
  const mnv3_tensor_info *out = &sch.tensors[plan->output];
  float *arena = aligned_alloc(64, (sch.arena_floats * sizeof(float) + 63) / 64 * 64);
  float *input = malloc((size_t)h * w * 3 * sizeof *input);
  float *output = malloc((size_t)out->h * out->w * out->c * sizeof *output);
  double *times = malloc((size_t)plan->num_steps * runs * sizeof *times);
  mnv3_workers *pool = threads > 1 ? mnv3_workers_acquire(threads, &err) : NULL;
  if (!arena || !input || !output || !times) {
    fprintf(stderr, "mnv3-bench-kernels: out of memory\n");
    return 1;
  }
  unsigned seed = 12345;
  for (size_t i = 0; i < (size_t)h * w * 3; i++) {
    seed = seed * 1103515245u + 12345u;
    input[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  for (int warm = 0; warm < 3; warm++)
    mnv3_plan_execute(plan, &sch, arena, input, 0, output, pool);
  for (int r = 0; r < runs; r++)
    for (int i = 0; i < plan->num_steps; i++) {
      const double t0 = now_s();
      mnv3_plan_execute_step(plan, &sch, arena, input, 0, output, pool, i);
      times[(size_t)i * runs + r] = now_s() - t0;
    }
  printf("{\"model\": \"%s\", \"shape\": [%d, %d], \"threads\": %d, \"isa\": \"%s\", "
         "\"steps\": [\n", mnv3_model_architecture(model), h, w, threads, plan->kernels->isa);
  double total = 0.0, total_flops = 0.0;
  for (int i = 0; i < plan->num_steps; i++) {
    const mnv3_step *s = &plan->steps[i];
    const mnv3_tensor_info *a = &sch.tensors[s->in0], *o = &sch.tensors[s->out];
    double *t = times + (size_t)i * runs;
    qsort(t, (size_t)runs, sizeof *t, compare_double);
    const double med = t[runs / 2], flops = step_flops(plan, s, o);
    total += med;
    total_flops += flops;
    printf("  {\"step\": %d, \"op\": \"%s\", \"in\": [%d, %d, %d], \"out\": [%d, %d, %d], "
           "\"k\": %d, \"stride\": %d, \"dilation\": %d, \"median_us\": %.2f, "
           "\"gflops\": %.1f}%s\n",
           i, kind_name(s), a->h, a->w, a->c, o->h, o->w, o->c,
           s->kind == MNV3_OP_CONV ? s->kernel_size : 0, s->stride, s->dilation,
           med * 1e6, flops / med * 1e-9, i + 1 < plan->num_steps ? "," : "");
  }
  printf("], \"sum_of_medians_ms\": %.3f, \"gflop\": %.3f, \"gflops\": %.1f}\n",
         total * 1e3, total_flops * 1e-9, total_flops / total * 1e-9);
  mnv3_workers_release(pool);
  free(arena);
  free(input);
  free(output);
  free(times);
  mnv3_schedule_clear(&sch);
  mnv3_model_unref(model);
  return 0;
}

int main(int argc, char **argv) {
  const char *config = NULL;
  int h = 0, w = 0, threads = 1, runs = 50, peak = 0;
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'}, {"shape", required_argument, NULL, 's'},
      {"threads", required_argument, NULL, 't'}, {"runs", required_argument, NULL, 'r'},
      {"peak", no_argument, NULL, 'p'},         {NULL, 0, NULL, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case 'c': config = optarg; break;
    case 's':
      if (sscanf(optarg, "%d,%d", &h, &w) != 2 || h < 32 || w < 32) {
        fprintf(stderr, "mnv3-bench-kernels: --shape takes H,W (each >= 32), got '%s'\n", optarg);
        return 2;
      }
      break;
    case 't': threads = atoi(optarg); break;
    case 'r': runs = atoi(optarg); break;
    case 'p': peak = 1; break;
    default:
      fprintf(stderr, "usage: mnv3-bench-kernels --config C.yaml [--shape H,W] "
                      "[--threads T] [--runs N] | --peak\n");
      return 2;
    }
  }
  if (peak)
    return run_peak();
  if (!config || runs < 1 || threads < 1) {
    fprintf(stderr, "mnv3-bench-kernels: give --config C.yaml (runs and threads >= 1), "
                    "or --peak\n");
    return 2;
  }
  return run_steps(config, h, w, threads, runs);
}
