/* mnv3_context_class_mask is the per-pixel argmax of the segmentation scores
 * the engine returns (first maximum wins), at odd input sizes. The plugin's
 * tests compare their masks with this function, so it is checked here
 * against the raw output itself. */
#include "mnv3/mnv3.h"

#include <stdio.h>
#include <stdlib.h>

static int check_size(mnv3_context *ctx, int height, int width, unsigned seed) {
  mnv3_error err;
  const size_t n = (size_t)3 * height * width;
  float *input = malloc(n * sizeof *input);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    input[i] = (float)((seed >> 8) & 0xffff) / 16384.0f - 2.0f;
  }
  if (mnv3_context_run_nchw(ctx, input, 1, height, width, &err) < 0) {
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
  mnv3_context_class_mask(ctx, 0, mask, stride);
  int wrong = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int best = 0;
      for (int c = 1; c < classes; c++)
        if (scores[((size_t)c * h + y) * w + x] > scores[((size_t)best * h + y) * w + x])
          best = c;
      wrong += mask[(size_t)y * stride + x] != best;
    }
  printf("%dx%d, %d classes: %d of %d mask pixels differ from the argmax\n", h, w,
         classes, wrong, h * w);
  free(input);
  free(scores);
  free(mask);
  return wrong != 0;
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
  mnv3_context *ctx = mnv3_context_new(model, 1, &err);
  int failed = check_size(ctx, 97, 131, 1) + check_size(ctx, 64, 200, 2) +
               check_size(ctx, 33, 35, 3);
  mnv3_context_free(ctx);
  mnv3_model_unref(model);
  printf("%s\n", failed ? "FAIL" : "PASS");
  return failed != 0;
}
