/* mnv3-run: run a MobileNetV3 model from the command line.
 *
 *   mnv3-run --config C.yaml [--weights W] --input-tensor IN.f32 --shape N,3,H,W --output OUT.f32
 *   mnv3-run --config C.yaml [--weights W] --image FILE [FILE...] [--top K]
 *   mnv3-run --config C.yaml [--weights W] --bench N [--shape 1,3,H,W] [--threads T]
 *   mnv3-run --config F.yaml --quantize DIR --output Q.yaml
 */
#include "mnv3/mnv3.h"

#ifdef MNV3_RUN_IMAGES
#include "classify_image.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage:\n"
    "  mnv3-run --config C.yaml [--weights W] --input-tensor IN.f32 --shape N,3,H,W --output OUT.f32\n"
    "  mnv3-run --config C.yaml [--weights W] --image FILE [FILE...] [--top K]\n"
    "  mnv3-run --config C.yaml [--weights W] --bench N [--shape 1,3,H,W] [--threads T]\n"
    "  mnv3-run --config F.yaml --quantize DIR --output Q.yaml\n"
    "options:\n"
    "  --threads T   threads per inference (default 1; 0 = automatic: one per CPU\n"
    "                while that is faster, as the GStreamer elements' default)\n"
    "  --quantize DIR  post-training quantization: calibrate the float config F.yaml\n"
    "                on the .jpg/.png images in DIR and write the 8-bit config Q.yaml\n"
    "                (model.precision: int8; its folder is made if missing), its\n"
    "                weights and labels copied beside it\n";

typedef struct options {
  const char *config, *weights, *input, *output, *quantize;
  int shape[4], has_shape;
  int threads, top_k, bench, images;
} options;

static int fail(const char *fmt, const char *arg) {
  fputs("mnv3-run: ", stderr);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
}

static int parse_int(const char *text, int lo, int hi, int *value) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < lo || v > hi)
    return -1;
  *value = (int)v;
  return 0;
}

static int parse_shape(const char *text, int shape[4]) {
  char *end;
  const char *p = text;
  for (int i = 0; i < 4; i++) {
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || v < 1 || v > 1 << 20)
      return -1;
    shape[i] = (int)v;
    if (i < 3 && *end != ',')
      return -1;
    p = end + 1;
  }
  return *end ? -1 : 0;
}

static float *read_tensor(const char *path, size_t count, const char **why) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *why = strerror(errno);
    return NULL;
  }
  float *data = malloc(count * sizeof *data);
  size_t got = data ? fread(data, sizeof *data, count, f) : 0;
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (!data || got != count || extra) {
    free(data);
    *why = "size does not match --shape (expected N*3*H*W little-endian float32 values)";
    return NULL;
  }
  return data;
}

static int run_tensor(const options *o, mnv3_context *ctx) {
  mnv3_error err;
  if (o->shape[1] != 3)
    return fail("%s", "--shape must be N,3,H,W: the input has 3 channels");
  const size_t count = (size_t)o->shape[0] * 3 * o->shape[2] * o->shape[3];
  const char *why = NULL;
  float *input = read_tensor(o->input, count, &why);
  if (!input) {
    fprintf(stderr, "mnv3-run: %s: %s\n", o->input, why);
    return 1;
  }
  int rc = mnv3_context_run_nchw(ctx, input, o->shape[0], o->shape[2], o->shape[3], &err);
  free(input);
  if (rc < 0)
    return fail("%s", err.message);
  const size_t n = mnv3_context_output_size(ctx);
  float *out = malloc(n * sizeof *out);
  if (!out)
    return fail("%s", "out of memory");
  mnv3_context_read_output(ctx, out);
  FILE *f = fopen(o->output, "wb");
  size_t written = f ? fwrite(out, sizeof *out, n, f) : 0;
  int closed = f ? fclose(f) : EOF;
  free(out);
  if (written != n || closed != 0) {
    fprintf(stderr, "mnv3-run: cannot write %s: %s\n", o->output, strerror(errno));
    return 1;
  }
  return 0;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run_bench(const options *o, const mnv3_model *model, mnv3_context *ctx) {
  mnv3_error err;
  int shape[4];
  if (o->has_shape) {
    memcpy(shape, o->shape, sizeof shape);
  } else {
    shape[0] = 1;
    shape[1] = 3;
    mnv3_model_input_size(model, &shape[2], &shape[3]);
  }
  const size_t count = (size_t)shape[0] * 3 * shape[2] * shape[3];
  float *input = malloc(count * sizeof *input);
  double *times = malloc((size_t)o->bench * sizeof *times);
  if (!input || !times) {
    free(input);
    free(times);
    return fail("%s", "out of memory");
  }
  unsigned seed = 12345;
  for (size_t i = 0; i < count; i++) {
    seed = seed * 1103515245u + 12345u;
    input[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  int rc = 0;
  /* Warm-up: plans memory, starts threads, fills caches. */
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = mnv3_context_run_nchw(ctx, input, shape[0], shape[2], shape[3], &err);
  for (int i = 0; i < o->bench && rc == 0; i++) {
    double t0 = now_ms();
    rc = mnv3_context_run_nchw(ctx, input, shape[0], shape[2], shape[3], &err);
    times[i] = now_ms() - t0;
  }
  if (rc == 0) {
    qsort(times, (size_t)o->bench, sizeof *times, compare_double);
    printf("{\"model\": \"%s\", \"precision\": \"%s\", \"shape\": [%d, %d, %d, %d], "
           "\"threads\": %d, \"isa\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f}\n",
           mnv3_model_architecture(model), mnv3_model_precision(model), shape[0], shape[1],
           shape[2], shape[3], o->threads, mnv3_isa_name(), times[o->bench / 2], times[0]);
  }
  free(input);
  free(times);
  return rc == 0 ? 0 : fail("%s", err.message);
}

int main(int argc, char **argv) {
  options o = {.threads = 1, .top_k = 5};
  static const struct option long_options[] = {
      {"config", required_argument, NULL, 'c'},
      {"weights", required_argument, NULL, 'w'},
      {"input-tensor", required_argument, NULL, 'i'},
      {"output", required_argument, NULL, 'o'},
      {"shape", required_argument, NULL, 's'},
      {"threads", required_argument, NULL, 't'},
      {"image", no_argument, NULL, 'm'},
      {"top", required_argument, NULL, 'k'},
      {"bench", required_argument, NULL, 'b'},
      {"quantize", required_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
    switch (c) {
    case 'c': o.config = optarg; break;
    case 'w': o.weights = optarg; break;
    case 'i': o.input = optarg; break;
    case 'o': o.output = optarg; break;
    case 'm': o.images = 1; break;
    case 'q': o.quantize = optarg; break;
    case 's':
      if (parse_shape(optarg, o.shape) < 0)
        return fail("--shape takes N,3,H,W with positive integers, got '%s'", optarg);
      o.has_shape = 1;
      break;
    case 't':
      if (parse_int(optarg, 0, 256, &o.threads) < 0)
        return fail("--threads takes 0..256, got '%s'", optarg);
      break;
    case 'k':
      if (parse_int(optarg, 1, 1000, &o.top_k) < 0)
        return fail("--top takes 1..1000, got '%s'", optarg);
      break;
    case 'b':
      if (parse_int(optarg, 1, 1000000, &o.bench) < 0)
        return fail("--bench takes a number of runs >= 1, got '%s'", optarg);
      break;
    case 'h':
      fputs(usage, stdout);
      return 0;
    default:
      fputs(usage, stderr);
      return 2;
    }
  }
  if (!o.config) {
    fputs("mnv3-run: --config is required\n", stderr);
    fputs(usage, stderr);
    return 2;
  }
  if (o.quantize) {
#ifdef MNV3_RUN_IMAGES
    if (!o.output)
      return fail("%s", "--quantize needs --output Q.yaml, the 8-bit config to write");
    if (o.weights)
      return fail("%s", "--quantize takes the weights the config names; drop --weights");
    return mnv3_tool_quantize(o.config, o.quantize, o.output);
#else
    return fail("%s", "this build has no image decoding (GStreamer was not found)");
#endif
  }
  if (o.images) {
#ifdef MNV3_RUN_IMAGES
    if (optind >= argc)
      return fail("%s", "--image needs at least one file");
    return mnv3_tool_classify_files(o.config, o.weights, argv + optind, argc - optind,
                                    o.top_k, o.threads) == 0 ? 0 : 1;
#else
    return fail("%s", "this build has no image decoding (GStreamer was not found)");
#endif
  }
  if (optind < argc)
    return fail("unexpected argument '%s'", argv[optind]);
  if (!o.bench && (!o.input || !o.output || !o.has_shape)) {
    fputs("mnv3-run: give --input-tensor, --shape and --output, or --image, or --bench\n", stderr);
    return 2;
  }

  mnv3_error err;
  mnv3_model *model = mnv3_model_load(o.config, o.weights, &err);
  if (!model)
    return fail("%s", err.message);
  mnv3_context *ctx = mnv3_context_new(model, o.threads, &err);
  int rc = ctx ? (o.bench ? run_bench(&o, model, ctx) : run_tensor(&o, ctx))
               : fail("%s", err.message);
  mnv3_context_free(ctx);
  mnv3_model_unref(model);
  return rc;
}
