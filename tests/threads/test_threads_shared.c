/* The process-wide worker pools, with Google's released MobileNetV3-Small
 * (../shared/models):
 *
 *   regions       every task of every region runs exactly once, with
 *                 regions started from several threads on shared pools
 *   pool-shared   8 contexts with the default threads (and 8 with threads=2)
 *                 start at most one worker per CPU in all, and the workers
 *                 end with the last context
 *   bitwise       6 threads inferring at once on one model (contexts with
 *                 threads 0, 1 and 2, so the pool is leased, shared and
 *                 passed over) give bitwise the outputs of one thread alone
 *   idle          with contexts alive after inferences, the process uses
 *                 (almost) no CPU time over an idle second: workers sleep
 *
 * Prints "N passed, N failed"; exit 0 when all passed.
 */
#include "mnv3/mnv3.h"
#include "workers.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "PASS" : "FAIL", what);
  ok ? passed++ : failed++;
}

static int process_threads(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

static double process_cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/* ---- regions ----------------------------------------------------------- */

/* 7 x 11 tasks: odd, so that no tile size divides them */
#define REGION_ROWS 7
#define REGION_COLS 11
#define REGION_TASKS (REGION_ROWS * REGION_COLS)

typedef struct region_check {
  _Atomic int runs[REGION_TASKS];
} region_check;

static void count_task(void *context, size_t i) {
  atomic_fetch_add(&((region_check *)context)->runs[i], 1);
}

static void count_tile(void *context, size_t start, size_t count) {
  for (size_t i = start; i < start + count; i++)
    count_task(context, i);
}

static void count_tile_2d(void *context, size_t row, size_t col, size_t rows, size_t cols) {
  for (size_t i = row; i < row + rows; i++)
    count_tile(context, i * REGION_COLS + col, cols);
}

typedef struct region_thread {
  mnv3_workers *workers;
  int bad; /* regions in which a task ran other than once */
} region_thread;

static void *run_regions(void *arg) {
  region_thread *t = arg;
  for (int r = 0; r < 3000; r++) {
    region_check c;
    for (int i = 0; i < REGION_TASKS; i++)
      atomic_init(&c.runs[i], 0);
    mnv3_workers_lease(t->workers);
    if (r % 3 == 0)
      mnv3_parallelize_1d(t->workers, count_task, &c, REGION_TASKS, MNV3_FLUSH_DENORMALS);
    else if (r % 3 == 1)
      mnv3_parallelize_1d_tile_1d(t->workers, count_tile, &c, REGION_TASKS, 4, 0);
    else
      mnv3_parallelize_2d_tile_2d(t->workers, count_tile_2d, &c, REGION_ROWS, REGION_COLS, 2,
                                  4, 0);
    mnv3_workers_unlease(t->workers);
    for (int i = 0; i < REGION_TASKS; i++)
      t->bad += atomic_load(&c.runs[i]) != 1;
  }
  return NULL;
}

static void test_regions(void) {
  mnv3_workers *pools[2] = {mnv3_workers_acquire(2, NULL), mnv3_workers_acquire(3, NULL)};
  region_thread t[4];
  pthread_t ids[4];
  for (int i = 0; i < 4; i++) {
    t[i] = (region_thread){pools[i % 2], 0};
    pthread_create(&ids[i], NULL, run_regions, &t[i]);
  }
  int bad = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(ids[i], NULL);
    bad += t[i].bad;
  }
  mnv3_workers_release(pools[0]);
  mnv3_workers_release(pools[1]);
  check(bad == 0, "regions: 12000 regions from 4 threads on 2 pools ran every task once");
}

/* ---- models and inputs ------------------------------------------------- */

#define SIDE 224
#define INPUTS 4

static mnv3_model *load_model(void) {
  const char *root = getenv("MNV3_SOURCE_ROOT");
  char config[4096], weights[4096];
  snprintf(config, sizeof config, "%s/configs/mobilenet_v3_small_tfslim_uint8.yaml",
           root ? root : ".");
  snprintf(weights, sizeof weights, "%s/../shared/models/v3-small_224_1.0_uint8.tflite",
           root ? root : ".");
  mnv3_error err;
  mnv3_model *m = mnv3_model_load(config, weights, &err);
  if (!m)
    fprintf(stderr, "test_threads_shared: %s\n", err.message);
  return m;
}

static float inputs[INPUTS][3 * SIDE * SIDE];
static float *expected[INPUTS];
static size_t output_floats;

static int infer(mnv3_context *ctx, int input, float *out) {
  mnv3_error err;
  if (mnv3_context_run_nchw(ctx, inputs[input], 1, SIDE, SIDE, &err) < 0) {
    fprintf(stderr, "test_threads_shared: %s\n", err.message);
    return -1;
  }
  mnv3_context_read_output(ctx, out);
  return 0;
}

/* ---- pool-shared ------------------------------------------------------- */

static void test_pool_shared(mnv3_model *model) {
  const int cpus = mnv3_cpu_count(), before = process_threads();
  float *out = malloc(output_floats * sizeof *out);
  mnv3_context *ctx[16];
  for (int i = 0; i < 16; i++) {
    ctx[i] = mnv3_context_new(model, i < 8 ? 0 : 2, NULL);
    infer(ctx[i], 0, out);
  }
  const int during = process_threads();
  for (int i = 0; i < 16; i++)
    mnv3_context_free(ctx[i]);
  const int after = process_threads();
  free(out);
  /* one pool of one thread per CPU, and one of 2 unless that is the same */
  const int allowed = (cpus - 1) + (cpus == 2 ? 0 : 1);
  char what[256];
  snprintf(what, sizeof what, "pool-shared: 16 contexts added %d threads (at most %d on %d "
           "CPUs), %d left after they were freed", during - before, allowed, cpus,
           after - before);
  check(during - before <= allowed && after == before, what);
}

/* ---- bitwise ----------------------------------------------------------- */

typedef struct infer_thread {
  mnv3_model *model;
  int threads, seed;
  int mismatches, errors;
} infer_thread;

static void *run_inferences(void *arg) {
  infer_thread *t = arg;
  mnv3_context *ctx = mnv3_context_new(t->model, t->threads, NULL);
  float *out = malloc(output_floats * sizeof *out);
  for (int r = 0; r < 60; r++) {
    const int input = (r + t->seed) % INPUTS;
    if (infer(ctx, input, out) < 0)
      t->errors++;
    else
      t->mismatches += memcmp(out, expected[input], output_floats * sizeof *out) != 0;
  }
  free(out);
  mnv3_context_free(ctx);
  return NULL;
}

static void test_bitwise(mnv3_model *model) {
  enum { THREADS = 6 };
  infer_thread t[THREADS];
  pthread_t ids[THREADS];
  for (int i = 0; i < THREADS; i++) {
    t[i] = (infer_thread){model, i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 2, i, 0, 0};
    pthread_create(&ids[i], NULL, run_inferences, &t[i]);
  }
  int mismatches = 0, errors = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(ids[i], NULL);
    mismatches += t[i].mismatches;
    errors += t[i].errors;
  }
  char what[256];
  snprintf(what, sizeof what, "bitwise: 360 inferences from 6 threads at once (threads 0, 1, "
           "2): %d differ from one thread alone, %d failed", mismatches, errors);
  check(mismatches == 0 && errors == 0, what);
}

/* ---- idle -------------------------------------------------------------- */

static void test_idle(mnv3_model *model) {
  mnv3_context *automatic = mnv3_context_new(model, 0, NULL);
  mnv3_context *fixed = mnv3_context_new(model, 2, NULL);
  float *out = malloc(output_floats * sizeof *out);
  for (int r = 0; r < 20; r++) {
    infer(automatic, r % INPUTS, out);
    infer(fixed, r % INPUTS, out);
  }
  usleep(100000); /* past the workers' spin */
  const double cpu0 = process_cpu_seconds();
  sleep(1);
  const double used = process_cpu_seconds() - cpu0;
  free(out);
  mnv3_context_free(automatic);
  mnv3_context_free(fixed);
  char what[256];
  snprintf(what, sizeof what, "idle: %.1f ms of CPU time over an idle second with contexts "
           "and their workers alive (at most 20)", used * 1e3);
  check(used <= 0.020, what);
}

int main(void) {
  test_regions();
  mnv3_model *model = load_model();
  if (!model) {
    printf("0 passed, 1 failed\n");
    return 1;
  }
  unsigned seed = 7;
  for (int i = 0; i < INPUTS; i++)
    for (size_t j = 0; j < 3 * SIDE * SIDE; j++) {
      seed = seed * 1103515245u + 12345u;
      inputs[i][j] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
  mnv3_context *alone = mnv3_context_new(model, 1, NULL);
  mnv3_context_run_nchw(alone, inputs[0], 1, SIDE, SIDE, NULL);
  output_floats = mnv3_context_output_size(alone);
  for (int i = 0; i < INPUTS; i++) {
    expected[i] = malloc(output_floats * sizeof(float));
    infer(alone, i, expected[i]);
  }
  mnv3_context_free(alone);

  test_pool_shared(model);
  test_bitwise(model);
  test_idle(model);

  for (int i = 0; i < INPUTS; i++)
    free(expected[i]);
  mnv3_model_unref(model);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
