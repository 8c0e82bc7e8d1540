/* Test harness for mnv3_preprocess and mnv3_centre_crop, driven by
 * test_preprocess.py.
 *
 *   preprocess_dump frame FORMAT W H S0 S1 S2 FULL_RANGE CX CY CW CH OUT_H
 *                   OUT_W M0 M1 M2 D0 D1 D2 IN.raw OUT.f32
 *     IN.raw holds the planes back to back: plane 0 (S0 * H bytes), then for
 *     YUV the chroma planes (S1 * ((H+1)/2), and S2 * ((H+1)/2) for
 *     I420/YV12). Each plane gets its own exact-size allocation so that an
 *     out-of-bounds read shows under ASan/valgrind. CW <= 0 passes crop NULL.
 *     OUT.f32 gets OUT_H * OUT_W * 3 floats (NHWC). On failure the engine's
 *     message goes to stderr and the exit code is 2.
 *
 *   preprocess_dump centre-crop W H FRACTION
 *     prints "x y width height" of mnv3_centre_crop.
 */
#include "internal.h"
#include "preprocess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[MNV3_PIXEL_FORMAT_COUNT] = {
    "RGB",  "BGR",  "RGBX", "BGRX", "XRGB", "XBGR", "RGBA", "BGRA",
    "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21", "GRAY8"};

static int parse_format(const char *name) {
  for (int i = 0; i < MNV3_PIXEL_FORMAT_COUNT; i++)
    if (strcmp(name, format_names[i]) == 0)
      return i;
  return -1;
}

static int num_planes(mnv3_pixel_format f) {
  if (f == MNV3_PIXEL_I420 || f == MNV3_PIXEL_YV12)
    return 3;
  if (f == MNV3_PIXEL_NV12 || f == MNV3_PIXEL_NV21)
    return 2;
  return 1;
}

static int run_frame(char **argv) {
  int format = parse_format(argv[0]);
  if (format < 0) {
    fprintf(stderr, "unknown format %s\n", argv[0]);
    return 1;
  }
  mnv3_frame frame = {.format = (mnv3_pixel_format)format};
  frame.width = atoi(argv[1]);
  frame.height = atoi(argv[2]);
  for (int i = 0; i < 3; i++)
    frame.strides[i] = atoi(argv[3 + i]);
  frame.full_range = atoi(argv[6]);
  mnv3_rect crop = {atoi(argv[7]), atoi(argv[8]), atoi(argv[9]),
                    atoi(argv[10])};
  int out_h = atoi(argv[11]), out_w = atoi(argv[12]);
  mnv3_normalize norm;
  for (int c = 0; c < 3; c++) {
    norm.mean[c] = strtof(argv[13 + c], NULL);
    norm.std[c] = strtof(argv[16 + c], NULL);
  }
  const char *in_path = argv[19], *out_path = argv[20];

  FILE *in = fopen(in_path, "rb");
  if (!in) {
    perror(in_path);
    return 1;
  }
  uint8_t *planes[3] = {NULL, NULL, NULL};
  int np = num_planes(frame.format);
  for (int p = 0; p < np; p++) {
    int rows = p == 0 ? frame.height : (frame.height + 1) / 2;
    size_t size = (size_t)frame.strides[p] * rows;
    planes[p] = malloc(size ? size : 1);
    if (fread(planes[p], 1, size, in) != size) {
      fprintf(stderr, "%s: too short for plane %d\n", in_path, p);
      return 1;
    }
    frame.planes[p] = planes[p];
  }
  if (fgetc(in) != EOF) {
    fprintf(stderr, "%s: longer than the planes\n", in_path);
    return 1;
  }
  fclose(in);

  size_t n = (out_h > 0 && out_w > 0) ? (size_t)out_h * out_w * 3 : 1;
  float *out = malloc(n * sizeof *out);
  mnv3_error err = {{0}};
  int status = 0;
  if (mnv3_preprocess(&frame, crop.width > 0 ? &crop : NULL, &norm, out_h,
                      out_w, out, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    status = 2;
  } else {
    FILE *o = fopen(out_path, "wb");
    if (!o || fwrite(out, sizeof *out, n, o) != n || fclose(o) != 0) {
      perror(out_path);
      status = 1;
    }
  }
  for (int p = 0; p < 3; p++)
    free(planes[p]);
  free(out);
  return status;
}

int main(int argc, char **argv) {
  if (argc == 23 && strcmp(argv[1], "frame") == 0)
    return run_frame(argv + 2);
  if (argc == 5 && strcmp(argv[1], "centre-crop") == 0) {
    mnv3_rect r = mnv3_centre_crop(atoi(argv[2]), atoi(argv[3]),
                                   strtod(argv[4], NULL));
    printf("%d %d %d %d\n", r.x, r.y, r.width, r.height);
    return 0;
  }
  fprintf(stderr, "usage: see the comment at the top of preprocess_dump.c\n");
  return 1;
}
