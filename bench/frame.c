/* Frame-level benchmark: the two per-frame operations of the plugin that are
 * not the network, on a 1920x1080 I420 frame, with the engine's public API:
 *
 *   prep   mnv3_context_set_frame (crop, bilinear resize, YUV to RGB,
 *          normalise) into the config's input size
 *   blend  mnv3_blend_mask of a mask at the config's input size (a few large
 *          regions, as a real scene's, every class shown, alpha 0.5)
 *
 * each timed hot (the frame just touched) and cold (the caches flushed by
 * writing a buffer larger than the last-level cache first, as the network's
 * run does in the pipeline). Prints JSON: median and min microseconds.
 *
 * --frame takes a raw 1920x1080 I420 frame instead of the synthetic one (what
 * bench/pipeline.py feeds the elements: `videotestsrc num-buffers=1 !
 * video/x-raw,format=I420,width=1920,height=1080 ! filesink location=F`);
 * --model-mask blends the mask the model itself infers on that frame (a
 * segmentation config), so that the blend sees the runs the pipeline sees.
 *
 *   mnv3-bench-frame --config C.yaml [--threads T] [--runs N] [--flush-mb M]
 *                    [--frame F.i420] [--model-mask]
 */
#include <mnv3/mnv3.h>

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_W 1920
#define FRAME_H 1080

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A smooth picture with some texture: every value in range, nothing the
   kernels could shortcut. */
static void fill_frame(uint8_t *y, uint8_t *u, uint8_t *v) {
  unsigned seed = 12345;
  for (int r = 0; r < FRAME_H; r++)
    for (int c = 0; c < FRAME_W; c++) {
      seed = seed * 1103515245u + 12345u;
      y[r * FRAME_W + c] = (uint8_t)(16 + (r * 3 + c) % 200 + (seed >> 28));
    }
  for (int r = 0; r < FRAME_H / 2; r++)
    for (int c = 0; c < FRAME_W / 2; c++) {
      u[r * (FRAME_W / 2) + c] = (uint8_t)(64 + (r + 2 * c) % 128);
      v[r * (FRAME_W / 2) + c] = (uint8_t)(192 - (2 * r + c) % 128);
    }
}

/* Regions as a segmentation of a real scene has them: background, and a
   few large blobs of other classes. */
static void fill_mask(uint8_t *mask, int w, int h) {
  static const struct { double x, y, r; int cls; } blobs[] = {
      {0.30, 0.55, 0.25, 15}, {0.70, 0.40, 0.18, 7}, {0.55, 0.80, 0.12, 12},
      {0.15, 0.20, 0.10, 3},
  };
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++) {
      const double x = (c + 0.5) / w, yy = (r + 0.5) / h;
      int cls = 0;
      for (size_t b = 0; b < sizeof blobs / sizeof blobs[0]; b++)
        if (hypot(x - blobs[b].x, (yy - blobs[b].y) * h / w * 2) < blobs[b].r)
          cls = blobs[b].cls;
      mask[r * w + c] = (uint8_t)cls;
    }
}

/* Reads and writes every cache line of a buffer larger than the last-level
   cache (memset would not do: glibc stores that much past the caches). */
static void evict(volatile uint8_t *buffer, size_t bytes) {
  for (size_t i = 0; i < bytes; i += 64)
    buffer[i]++;
}

static int read_frame(const char *path, uint8_t *planes[3]) {
  FILE *f = fopen(path, "rb");
  const size_t sizes[3] = {FRAME_W * FRAME_H, FRAME_W * FRAME_H / 4, FRAME_W * FRAME_H / 4};
  int ok = f != NULL;
  for (int p = 0; ok && p < 3; p++)
    ok = fread(planes[p], 1, sizes[p], f) == sizes[p];
  if (f)
    fclose(f);
  if (!ok)
    fprintf(stderr, "%s: cannot read a %dx%d I420 frame\n", path, FRAME_W, FRAME_H);
  return ok ? 0 : -1;
}

typedef struct timing {
  double median, min;
} timing;

static timing summarise(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, compare_double);
  return (timing){t[n / 2], t[0]};
}

int main(int argc, char **argv) {
  const char *config = NULL;
  int threads = 1, runs = 200;
  long flush_mb = 256;
  const char *frame_path = NULL;
  int model_mask = 0;
  static const struct option options[] = {
      {"config", required_argument, 0, 'c'}, {"threads", required_argument, 0, 't'},
      {"runs", required_argument, 0, 'n'},   {"flush-mb", required_argument, 0, 'f'},
      {"frame", required_argument, 0, 'i'},  {"model-mask", no_argument, 0, 'm'},
      {0, 0, 0, 0}};
  for (int o; (o = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (o) {
    case 'c': config = optarg; break;
    case 't': threads = atoi(optarg); break;
    case 'n': runs = atoi(optarg); break;
    case 'f': flush_mb = atol(optarg); break;
    case 'i': frame_path = optarg; break;
    case 'm': model_mask = 1; break;
    default: config = NULL; argc = 0; break;
    }
  }
  if (!config || threads < 1 || runs < 1 || flush_mb < 1) {
    fprintf(stderr, "usage: %s --config C.yaml [--threads T] [--runs N] [--flush-mb M] "
            "[--frame F.i420] [--model-mask]\n", argv[0]);
    return 2;
  }
  mnv3_error err;
  mnv3_model *model = mnv3_model_load(config, NULL, &err);
  if (!model) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  mnv3_context *ctx = mnv3_context_new(model, threads, &err);
  if (!ctx) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int in_h, in_w;
  mnv3_model_input_size(model, &in_h, &in_w);

  uint8_t *planes[3] = {malloc(FRAME_W * FRAME_H), malloc(FRAME_W * FRAME_H / 4),
                        malloc(FRAME_W * FRAME_H / 4)};
  uint8_t *mask = malloc((size_t)in_w * in_h);
  const size_t flush_bytes = (size_t)flush_mb << 20;
  uint8_t *flush = calloc(flush_bytes, 1);
  double *prep[2], *blend[2];
  for (int k = 0; k < 2; k++) {
    prep[k] = malloc(sizeof(double) * runs);
    blend[k] = malloc(sizeof(double) * runs);
  }
  if (!planes[0] || !planes[1] || !planes[2] || !mask || !flush || !prep[1] || !blend[1]) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  if (frame_path ? read_frame(frame_path, planes) : (fill_frame(planes[0], planes[1], planes[2]), 0))
    return 1;
  const mnv3_frame frame = {MNV3_PIXEL_I420, FRAME_W, FRAME_H,
                            {planes[0], planes[1], planes[2]},
                            {FRAME_W, FRAME_W / 2, FRAME_W / 2}, 0};
  if (model_mask) {
    if (mnv3_model_task(model) != MNV3_TASK_SEGMENT) {
      fprintf(stderr, "--model-mask needs a segmentation config\n");
      return 2;
    }
    if (mnv3_context_set_mask_only(ctx, 1, &err) || mnv3_context_set_frame(ctx, 0, &frame, NULL, &err) ||
        mnv3_context_run(ctx, 1, &err)) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    mnv3_context_class_mask(ctx, 0, mask, in_w);
  } else {
    fill_mask(mask, in_w, in_h);
  }
  uint8_t colors[256][3];
  for (int c = 0; c < 256; c++)
    for (int k = 0; k < 3; k++)
      colors[c][k] = (uint8_t)(c * (37 + 50 * k) % 256);

  /* k = 0 hot, 1 cold; alternating, so both see the same machine. */
  for (int i = 0; i < runs; i++)
    for (int cold = 0; cold < 2; cold++) {
      if (cold)
        evict(flush, flush_bytes);
      double t0 = now_us();
      if (mnv3_context_set_frame(ctx, 0, &frame, NULL, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
      }
      prep[cold][i] = now_us() - t0;
      if (cold)
        evict(flush, flush_bytes);
      t0 = now_us();
      const mnv3_blend b = {mask, in_w, in_h, in_w, (const uint8_t(*)[3])colors, NULL, 0.5f};
      if (mnv3_blend_mask(ctx, &frame, planes, NULL, &b, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
      }
      blend[cold][i] = now_us() - t0;
    }
  const timing ph = summarise(prep[0], runs), pc = summarise(prep[1], runs);
  const timing bh = summarise(blend[0], runs), bc = summarise(blend[1], runs);
  printf("{\"isa\": \"%s\", \"frame\": \"%dx%d I420\", \"input\": [%d, %d], "
         "\"threads\": %d, \"runs\": %d,\n"
         " \"prep_us\": {\"hot\": {\"median\": %.1f, \"min\": %.1f}, "
         "\"cold\": {\"median\": %.1f, \"min\": %.1f}},\n"
         " \"blend_us\": {\"hot\": {\"median\": %.1f, \"min\": %.1f}, "
         "\"cold\": {\"median\": %.1f, \"min\": %.1f}}}\n",
         mnv3_isa_name(), FRAME_W, FRAME_H, in_h, in_w, threads, runs, ph.median, ph.min,
         pc.median, pc.min, bh.median, bh.min, bc.median, bc.min);
  for (int k = 0; k < 2; k++) {
    free(prep[k]);
    free(blend[k]);
  }
  free(flush);
  free(mask);
  for (int p = 0; p < 3; p++)
    free(planes[p]);
  mnv3_context_free(ctx);
  mnv3_model_unref(model);
  return 0;
}
