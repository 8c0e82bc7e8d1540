/* Post-training quantization: the float network runs on calibration
 * frames, and each activation's range is chosen to minimise its expected
 * squared quantization error (clipping outside the range, rounding inside),
 * not taken as the raw min/max, which a few outliers would stretch. The
 * result is an 8-bit config: the float one with model.precision int8 and
 * activation-ranges, its weights and labels copied beside it. */
#include "plan.h"
#include "preprocess.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINS 2048
/* Candidate ends per search of one end of a range. */
#define CANDIDATES 128

struct mnv3_calibrator {
  mnv3_config config;
  mnv3_network net; /* op list only: keys for the config's comments */
  mnv3_plan plan;   /* float, unfused: every tensor is written */
  mnv3_schedule schedule;
  float *arena, *output;
  float **inputs;
  int num_inputs;
};

void mnv3_calibrator_free(mnv3_calibrator *cal) {
  if (!cal)
    return;
  for (int i = 0; i < cal->num_inputs; i++)
    free(cal->inputs[i]);
  free(cal->inputs);
  free(cal->arena);
  free(cal->output);
  mnv3_schedule_clear(&cal->schedule);
  mnv3_plan_clear(&cal->plan);
  mnv3_network_clear(&cal->net);
  mnv3_config_clear(&cal->config);
  free(cal);
}

mnv3_calibrator *mnv3_calibrator_new(const char *config_path, mnv3_error *error) {
  mnv3_calibrator *cal = calloc(1, sizeof *cal);
  if (!cal) {
    mnv3_fail(error, "out of memory");
    return NULL;
  }
  if (mnv3_config_load(config_path, &cal->config, error) < 0) {
    free(cal);
    return NULL;
  }
  const mnv3_config *cfg = &cal->config;
  mnv3_network net;
  if (mnv3_network_build(cfg, &cal->net, error) < 0 ||
      mnv3_network_load(cfg, NULL, &net, error) < 0) {
    mnv3_calibrator_free(cal);
    return NULL;
  }
  const int rc = mnv3_plan_compile(&net, mnv3_kernels_get(), MNV3_PLAN_UNFUSED, &cal->plan,
                                   error);
  cal->net.input_lo = net.input_lo;
  cal->net.input_hi = net.input_hi;
  mnv3_network_clear(&net);
  if (rc < 0 || mnv3_schedule_build(&cal->plan, cfg->input_height, cfg->input_width,
                                    &cal->schedule, error) < 0) {
    mnv3_calibrator_free(cal);
    return NULL;
  }
  const mnv3_tensor_info *o = &cal->schedule.tensors[cal->plan.output];
  cal->arena = malloc(cal->schedule.arena_floats * sizeof(float));
  cal->output = malloc((size_t)o->h * o->w * o->c * sizeof(float));
  if (!cal->arena || !cal->output) {
    mnv3_fail(error, "out of memory planning the calibration runs");
    mnv3_calibrator_free(cal);
    return NULL;
  }
  return cal;
}

int mnv3_calibrator_add_frame(mnv3_calibrator *cal, const mnv3_frame *frame,
                              mnv3_error *error) {
  const mnv3_config *cfg = &cal->config;
  const size_t n = (size_t)cfg->input_height * cfg->input_width * 3;
  float *input = malloc(n * sizeof *input);
  float **inputs = realloc(cal->inputs, sizeof *inputs * (cal->num_inputs + 1));
  if (!input || !inputs) {
    free(input);
    return mnv3_fail(error, "out of memory keeping calibration frame %d", cal->num_inputs + 1);
  }
  cal->inputs = inputs;
  const mnv3_rect crop = mnv3_centre_crop(frame->width, frame->height, cfg->crop);
  mnv3_normalize norm;
  memcpy(norm.mean, cfg->mean, sizeof norm.mean);
  memcpy(norm.std, cfg->std, sizeof norm.std);
  if (mnv3_preprocess(frame, &crop, &norm, cfg->input_height, cfg->input_width, input,
                      error) < 0) {
    free(input);
    return -1;
  }
  /* The input range a quantized graph applies, as inference does. */
  for (size_t i = 0; i < n; i++)
    input[i] = fminf(fmaxf(input[i], cal->net.input_lo), cal->net.input_hi);
  cal->inputs[cal->num_inputs++] = input;
  return 0;
}

/* Runs every input; after each step, `visit` sees that step's output. */
typedef void (*visit_fn)(void *data, int step, const float *values, size_t n);

static void run_all(mnv3_calibrator *cal, visit_fn visit, void *data) {
  const mnv3_plan *plan = &cal->plan;
  for (int k = 0; k < cal->num_inputs; k++)
    for (int i = 0; i < plan->num_steps; i++) {
      mnv3_plan_execute_step(plan, &cal->schedule, cal->arena, cal->inputs[k], 0, cal->output,
                             NULL, i);
      const int id = plan->steps[i].out;
      const mnv3_tensor_info *t = &cal->schedule.tensors[id];
      visit(data, i, id == plan->output ? cal->output : cal->arena + t->offset,
            (size_t)t->h * t->w * t->c);
    }
}

typedef struct stats {
  float *lo, *hi;      /* per step: min and max over every input */
  double *histograms;  /* per step: BINS counts over [lo, hi] */
} stats;

static void visit_extremes(void *data, int step, const float *v, size_t n) {
  stats *s = data;
  for (size_t i = 0; i < n; i++) {
    s->lo[step] = fminf(s->lo[step], v[i]);
    s->hi[step] = fmaxf(s->hi[step], v[i]);
  }
}

static void visit_histogram(void *data, int step, const float *v, size_t n) {
  stats *s = data;
  double *h = s->histograms + (size_t)step * BINS;
  const float lo = s->lo[step], width = (s->hi[step] - lo) / BINS;
  for (size_t i = 0; i < n; i++) {
    int b = width > 0 ? (int)((v[i] - lo) / width) : 0;
    h[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
  }
}

/* Expected squared error of quantizing the histogram's values to 255 steps
   of [lo, hi]. */
static double range_error(const double *h, float min, float width, double lo, double hi) {
  const double step = (hi - lo) / 255.0, rounding = step * step / 12.0;
  double e = 0.0;
  for (int b = 0; b < BINS; b++) {
    if (!h[b])
      continue;
    const double v = min + (b + 0.5) * width;
    const double clip = v < lo ? lo - v : v > hi ? v - hi : 0.0;
    e += h[b] * (clip > 0.0 ? clip * clip : rounding);
  }
  return e;
}

/* Each end in turn moves to the candidate between 0 and its extreme that
   lowers the error most, twice over. */
static void choose_range(const double *h, float min, float max, float *lo_out,
                         float *hi_out) {
  double lo = fmin(min, 0.0), hi = fmax(max, 0.0);
  const float width = (max - min) / BINS;
  if (!(hi > lo)) {
    *lo_out = (float)lo;
    *hi_out = (float)lo + 1.0f;
    return;
  }
  for (int round = 0; round < 2; round++)
    for (int end = 0; end < 2; end++) {
      const double extreme = end ? fmax(max, 0.0) : fmin(min, 0.0);
      double best = range_error(h, min, width, lo, hi);
      for (int c = 1; c <= CANDIDATES; c++) {
        const double v = extreme * c / CANDIDATES;
        const double a = end ? lo : v, b = end ? v : hi;
        if (!(b > a))
          continue;
        const double e = range_error(h, min, width, a, b);
        if (e < best) {
          best = e;
          *(end ? &hi : &lo) = v;
        }
      }
    }
  *lo_out = (float)lo;
  *hi_out = (float)hi;
}

/* Copies `from` to `to`. */
static int copy_file(const char *from, const char *to, mnv3_error *error) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  if (!in || !out) {
    const int e = errno;
    if (in)
      fclose(in);
    return mnv3_fail(error, "cannot copy %s to %s: %s", from, to, strerror(e));
  }
  char buf[1 << 16];
  size_t n;
  int failed = 0;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    failed |= fwrite(buf, 1, n, out) != n;
  failed |= ferror(in) != 0;
  fclose(in);
  failed |= fclose(out) != 0;
  return failed ? mnv3_fail(error, "cannot copy %s to %s", from, to) : 0;
}

static const char *extension(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  return dot && (!slash || dot > slash) ? dot : "";
}

/* output_path with its .yaml/.yml ending replaced by `suffix`. */
static char *beside(const char *output_path, const char *suffix) {
  const char *ext = extension(output_path);
  const size_t stem = strlen(output_path) - strlen(ext);
  char *p = malloc(stem + strlen(suffix) + 1);
  if (p) {
    memcpy(p, output_path, stem);
    strcpy(p + stem, suffix);
  }
  return p;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int write_config(const mnv3_calibrator *cal, const float *lo, const float *hi,
                        const char *output_path, const char *weights, const char *labels,
                        mnv3_error *error) {
  const mnv3_config *cfg = &cal->config;
  FILE *f = fopen(output_path, "w");
  if (!f)
    return mnv3_fail(error, "cannot write %s: %s", output_path, strerror(errno));
  fprintf(f, "# Made by mnv3-run --quantize from %s with %d calibration frames: the\n"
             "# same network and weights, run with 8-bit activations and weights\n"
             "# (model.precision: int8). activation-ranges holds the measured range of\n"
             "# each op's output, in the network's order.\n",
          base_name(cfg->path), cal->num_inputs);
  fprintf(f, "model:\n  architecture: %s\n  width-multiplier: %.9g\n  num-classes: %d\n"
             "  background-class: %s\n  weights: %s\n  precision: int8\n",
          cfg->architecture, cfg->width_multiplier, cfg->num_classes,
          cfg->background_class ? "true" : "false", base_name(weights));
  if (labels)
    fprintf(f, "labels: %s\n", base_name(labels));
  fprintf(f, "input:\n  size: [%d, %d]\n  crop: %.9g\n  mean: [%.9g, %.9g, %.9g]\n"
             "  std: [%.9g, %.9g, %.9g]\n",
          cfg->input_height, cfg->input_width, cfg->crop, cfg->mean[0], cfg->mean[1],
          cfg->mean[2], cfg->std[0], cfg->std[1], cfg->std[2]);
  if (cfg->has_palette) {
    fprintf(f, "palette:\n");
    for (int i = 0; i < cfg->palette_size; i++)
      fprintf(f, "  - [%d, %d, %d]\n", cfg->palette[i][0], cfg->palette[i][1],
              cfg->palette[i][2]);
  }
  fprintf(f, "activation-ranges:\n");
  for (int i = 0; i < cal->net.num_ops; i++)
    fprintf(f, "  - [%.9g, %.9g]  # %d %s\n", lo[i], hi[i], i,
            cal->net.ops[i].key[0] ? cal->net.ops[i].key
            : cal->net.ops[i].kind == MNV3_OP_GLOBAL_POOL ? "global pool"
            : cal->net.ops[i].kind == MNV3_OP_MUL_CHANNEL ? "gate"
                                                         : "resize");
  return fclose(f) == 0 ? 0 : mnv3_fail(error, "cannot write %s", output_path);
}

int mnv3_calibrator_write(mnv3_calibrator *cal, const char *output_path, mnv3_error *error) {
  const mnv3_config *cfg = &cal->config;
  if (!cal->num_inputs)
    return mnv3_fail(error, "no calibration frames: give at least one image");
  const int n = cal->plan.num_steps;
  stats s = {malloc(sizeof(float) * n), malloc(sizeof(float) * n),
             calloc((size_t)n * BINS, sizeof(double))};
  float *lo = malloc(sizeof(float) * n), *hi = malloc(sizeof(float) * n);
  char *weights = beside(output_path, extension(cfg->weights_path));
  char *labels = cfg->labels_path ? beside(output_path, ".labels.txt") : NULL;
  int rc = -1;
  if (!s.lo || !s.hi || !s.histograms || !lo || !hi || !weights ||
      (cfg->labels_path && !labels)) {
    mnv3_fail(error, "out of memory");
    goto done;
  }
  for (int i = 0; i < n; i++) {
    s.lo[i] = INFINITY;
    s.hi[i] = -INFINITY;
  }
  run_all(cal, visit_extremes, &s);
  run_all(cal, visit_histogram, &s);
  for (int i = 0; i < n; i++)
    choose_range(s.histograms + (size_t)i * BINS, s.lo[i], s.hi[i], &lo[i], &hi[i]);
  if (copy_file(cfg->weights_path, weights, error) == 0 &&
      (!labels || copy_file(cfg->labels_path, labels, error) == 0))
    rc = write_config(cal, lo, hi, output_path, weights, labels, error);
done:
  free(s.lo);
  free(s.hi);
  free(s.histograms);
  free(lo);
  free(hi);
  free(weights);
  free(labels);
  return rc;
}
