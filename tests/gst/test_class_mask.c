/* mnv3_context_class_mask is the per-pixel argmax of the segmentation scores
 * the engine returns (first maximum wins), at odd input sizes. The plugin's
 * tests compare their masks with this function, so it is checked here
 * against the raw output itself.
 *
 * Mask-only runs (mnv3_context_set_mask_only), which never build the
 * full-resolution scores, must give exactly the mask of the full run:
 * checked at odd sizes with 1 and 2 threads, against the argmax of the full
 * run's scores. */
#include "mnv3/mnv3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *random_input(int height, int width, unsigned seed) {
  const size_t n = (size_t)3 * height * width;
  float *input = malloc(n * sizeof *input);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    input[i] = (float)((seed >> 8) & 0xffff) / 16384.0f - 2.0f;
  }
  return input;
}

/* The argmax of NCHW scores, first maximum wins; stride w + 3. */
static unsigned char *argmax_of(const float *scores, int classes, int h, int w) {
  const int stride = w + 3;
  unsigned char *mask = malloc((size_t)stride * h);
  memset(mask, 0xee, (size_t)stride * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int best = 0;
      for (int c = 1; c < classes; c++)
        if (scores[((size_t)c * h + y) * w + x] > scores[((size_t)best * h + y) * w + x])
          best = c;
      mask[(size_t)y * stride + x] = (unsigned char)best;
    }
  return mask;
}

static int count_wrong(const unsigned char *mask, const unsigned char *expected, int h,
                       int w) {
  const int stride = w + 3;
  int wrong = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      wrong += mask[(size_t)y * stride + x] != expected[(size_t)y * stride + x];
  return wrong;
}

/* Full run: the class mask against the argmax of the scores; then the same
 * input mask-only: the mask against the same argmax, and no scores kept. */
static int check_size(mnv3_context *ctx, int threads, int height, int width, unsigned seed) {
  mnv3_error err;
  float *input = random_input(height, width, seed);
  if (mnv3_context_set_mask_only(ctx, 0, &err) < 0 ||
      mnv3_context_run_nchw(ctx, input, 1, height, width, &err) < 0) {
    fprintf(stderr, "run: %s\n", err.message);
    free(input);
    return 1;
  }
  int batch, classes, h, w;
  mnv3_context_output_shape(ctx, &batch, &classes, &h, &w);
  float *scores = malloc(mnv3_context_output_size(ctx) * sizeof *scores);
  const int stride = w + 3;
  unsigned char *mask = malloc((size_t)stride * h);
  mnv3_context_read_output(ctx, scores);
  unsigned char *expected = argmax_of(scores, classes, h, w);
  memcpy(mask, expected, (size_t)stride * h); /* keeps the padding equal */
  mnv3_context_class_mask(ctx, 0, mask, stride);
  int wrong = count_wrong(mask, expected, h, w);
  printf("%d thread(s), %dx%d, %d classes: %d of %d mask pixels differ from the argmax\n",
         threads, h, w, classes, wrong, h * w);

  memset(mask, 0xff, (size_t)stride * h);
  int failed = 0;
  if (mnv3_context_set_mask_only(ctx, 1, &err) < 0 ||
      mnv3_context_run_nchw(ctx, input, 1, height, width, &err) < 0) {
    fprintf(stderr, "mask-only run: %s\n", err.message);
    failed = 1;
  } else {
    mnv3_context_class_mask(ctx, 0, mask, stride);
    int wrong_only = count_wrong(mask, expected, h, w);
    size_t kept = mnv3_context_output_size(ctx);
    printf("  mask-only run: %d of %d differ, %zu score values kept\n", wrong_only, h * w,
           kept);
    failed = wrong_only != 0 || kept != 0;
  }
  mnv3_context_set_mask_only(ctx, 0, &err);
  free(input);
  free(scores);
  free(mask);
  free(expected);
  return wrong != 0 || failed;
}

/* A mask-only run of a real frame (set_frame: crop, resize, YUV) against the
 * full run of the same frame, and a batch of 2 mask-only. */
static int check_frame(mnv3_context *ctx, int threads) {
  mnv3_error err;
  enum { FW = 333, FH = 201 };
  static uint8_t y[FW * FH], u[(FW + 1) / 2 * ((FH + 1) / 2)], v[sizeof u];
  unsigned seed = 99;
  for (size_t i = 0; i < sizeof y; i++) {
    seed = seed * 1103515245u + 12345u;
    y[i] = (uint8_t)(seed >> 16);
    if (i < sizeof u) {
      u[i] = (uint8_t)(seed >> 8);
      v[i] = (uint8_t)(seed >> 20);
    }
  }
  const mnv3_frame frame = {MNV3_PIXEL_I420, FW, FH, {y, u, v}, {FW, (FW + 1) / 2, (FW + 1) / 2}, 0};
  if (mnv3_context_set_frame(ctx, 0, &frame, NULL, &err) < 0 ||
      mnv3_context_run(ctx, 1, &err) < 0) {
    fprintf(stderr, "frame run: %s\n", err.message);
    return 1;
  }
  int batch, classes, h, w;
  mnv3_context_output_shape(ctx, &batch, &classes, &h, &w);
  float *scores = malloc(mnv3_context_output_size(ctx) * sizeof *scores);
  mnv3_context_read_output(ctx, scores);
  unsigned char *expected = argmax_of(scores, classes, h, w);
  const int stride = w + 3;
  unsigned char *mask = malloc((size_t)stride * h), *again = malloc((size_t)stride * h);
  memcpy(mask, expected, (size_t)stride * h);
  memcpy(again, expected, (size_t)stride * h);
  for (int i = 0; i < h; i++) /* the run must write every pixel */
    memset(mask + (size_t)i * stride, 0xff, (size_t)w);
  int failed = 0;
  if (mnv3_context_set_mask_only(ctx, 1, &err) < 0 || mnv3_context_run(ctx, 1, &err) < 0) {
    fprintf(stderr, "mask-only run: %s\n", err.message);
    failed = 1;
  } else {
    mnv3_context_class_mask(ctx, 0, mask, stride);
    mnv3_context_class_mask(ctx, 0, again, stride);
    int wrong = count_wrong(mask, expected, h, w), wrong_again = count_wrong(again, expected, h, w);
    printf("%d thread(s), I420 %dx%d frame -> %dx%d: mask-only run %d of %d differ, "
           "class_mask read again %d differ, %zu score values kept\n",
           threads, FW, FH, h, w, wrong, h * w, wrong_again, mnv3_context_output_size(ctx));
    failed = wrong != 0 || wrong_again != 0 || mnv3_context_output_size(ctx) != 0;
  }
  /* Batch of 2, mask-only: slot 1 holds the same frame, so both masks match. */
  if (!failed && (mnv3_context_set_frame(ctx, 1, &frame, NULL, &err) < 0 ||
                  mnv3_context_run(ctx, 2, &err) < 0)) {
    fprintf(stderr, "batch run: %s\n", err.message);
    failed = 1;
  } else if (!failed) {
    for (int b = 0; b < 2; b++) {
      memset(mask, 0xff, (size_t)stride * h);
      mnv3_context_class_mask(ctx, b, mask, stride);
      int wrong = count_wrong(mask, expected, h, w);
      printf("  batch of 2 mask-only, image %d: %d differ\n", b, wrong);
      failed |= wrong != 0;
    }
  }
  mnv3_context_set_mask_only(ctx, 0, &err);
  free(scores);
  free(expected);
  free(mask);
  free(again);
  return failed;
}

int main(void) {
  const char *config = getenv("MNV3_GST_LRASPP_CONFIG");
  mnv3_error err;
  mnv3_model *model = config ? mnv3_model_load(config, NULL, &err) : NULL;
  if (!model) {
    fprintf(stderr, "cannot load the LR-ASPP test model: %s\n",
            config ? err.message : "MNV3_GST_LRASPP_CONFIG is not set");
    return 1;
  }
  int failed = 0;
  for (int threads = 1; threads <= 2; threads++) {
    mnv3_context *ctx = mnv3_context_new(model, threads, &err);
    if (!ctx) {
      fprintf(stderr, "context: %s\n", err.message);
      return 1;
    }
    failed += check_size(ctx, threads, 97, 131, 1) + check_size(ctx, threads, 64, 200, 2) +
              check_size(ctx, threads, 33, 35, 3) + check_frame(ctx, threads);
    mnv3_context_free(ctx);
  }
  mnv3_model_unref(model);
  printf("%s\n", failed ? "FAIL" : "PASS");
  return failed != 0;
}
