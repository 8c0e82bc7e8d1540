/* mnv3: MobileNetV3 inference engine. Public API.
 *
 * A model is loaded once from a YAML config and is immutable afterwards: it
 * can be shared by any number of threads and run contexts. A context holds
 * everything one inference needs (planned scratch memory, the choice of
 * threads; the worker threads themselves are shared by the process) and
 * must be used by one thread at a time.
 *
 * Every function that can fail takes an mnv3_error*, which may be NULL; on
 * failure the message says what went wrong and what to fix.
 */
#ifndef MNV3_H
#define MNV3_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MNV3_BUILDING_LIBRARY) && defined(__GNUC__)
#define MNV3_API __attribute__((visibility("default")))
#else
#define MNV3_API
#endif

typedef struct mnv3_model mnv3_model;
typedef struct mnv3_context mnv3_context;

typedef struct mnv3_error {
  char message[1024];
} mnv3_error;

typedef enum mnv3_task {
  MNV3_TASK_CLASSIFY = 0, /* output: logits, batch x classes */
  MNV3_TASK_SEGMENT = 1,  /* output: scores, batch x classes x H x W */
} mnv3_task;

/* ---- models ------------------------------------------------------------ */

/* Loads the model a YAML config describes. weights_override, if not NULL,
 * replaces the config's model.weights (a .safetensors or .tflite path). */
MNV3_API mnv3_model *mnv3_model_load(const char *config_path,
                                     const char *weights_override,
                                     mnv3_error *error);
MNV3_API mnv3_model *mnv3_model_ref(mnv3_model *model);
MNV3_API void mnv3_model_unref(mnv3_model *model);

MNV3_API mnv3_task mnv3_model_task(const mnv3_model *model);
/* e.g. "mobilenet_v3_small" */
MNV3_API const char *mnv3_model_architecture(const mnv3_model *model);
/* The config's model.name, by default the config file's name without its
 * folder and extension (e.g. "mobilenet_v3_small_tfslim_uint8"): names the
 * model in results when several run side by side. */
MNV3_API const char *mnv3_model_name(const mnv3_model *model);
/* "int8" or "fp32": the arithmetic the model runs in (model.precision). */
MNV3_API const char *mnv3_model_precision(const mnv3_model *model);
/* Classes as the user sees them (a TFLite "background" output is hidden);
 * every class id of the API is in [0, this). */
MNV3_API int mnv3_model_num_classes(const mnv3_model *model);
/* The label of a class, or NULL when the config names no labels. */
MNV3_API const char *mnv3_model_label(const mnv3_model *model, int class_id);
/* The network input size from the config's input.size. */
MNV3_API void mnv3_model_input_size(const mnv3_model *model, int *height,
                                    int *width);
/* A palette colour for a class (RGB), from the config or built in. */
MNV3_API void mnv3_model_class_color(const mnv3_model *model, int class_id,
                                     uint8_t rgb[3]);

/* ---- contexts ---------------------------------------------------------- */

/* threads: how many threads run one inference. 1: the calling thread;
 * N > 1: always N (contexts asking for the same N share a pool of N - 1
 * workers and take turns); <= 0: automatic, splitting an inference over one
 * thread per CPU only while that is measured to be faster and no other
 * inference of the process is running. Results are bitwise the same for
 * any choice. */
MNV3_API mnv3_context *mnv3_context_new(mnv3_model *model, int threads,
                                        mnv3_error *error);
MNV3_API void mnv3_context_free(mnv3_context *ctx);
MNV3_API const mnv3_model *mnv3_context_model(const mnv3_context *ctx);

/* Runs the network on a normalised float32 NCHW tensor. Any height and width
 * from 32 to 2048 and batch >= 1; buffers are planned again only when the
 * shape changes. Returns 0 on success. */
MNV3_API int mnv3_context_run_nchw(mnv3_context *ctx, const float *input,
                                   int batch, int height, int width,
                                   mnv3_error *error);

/* Shape of the last output: batch, channels, and for segmentation the height
 * and width (1 x 1 for classification). `channels` counts every network
 * output: for a TFLite model with a hidden background output it is
 * mnv3_model_num_classes() + 1. */
MNV3_API void mnv3_context_output_shape(const mnv3_context *ctx, int *batch,
                                        int *channels, int *height, int *width);
/* Copies the last output as NCHW float32 (batch*channels*height*width
 * values), exactly what the network computes, background output included. */
MNV3_API size_t mnv3_context_output_size(const mnv3_context *ctx);
MNV3_API void mnv3_context_read_output(const mnv3_context *ctx, float *dst);

/* ---- frames ------------------------------------------------------------ */

typedef enum mnv3_pixel_format {
  MNV3_PIXEL_RGB = 0,
  MNV3_PIXEL_BGR,
  MNV3_PIXEL_RGBX,
  MNV3_PIXEL_BGRX,
  MNV3_PIXEL_XRGB,
  MNV3_PIXEL_XBGR,
  MNV3_PIXEL_RGBA,
  MNV3_PIXEL_BGRA,
  MNV3_PIXEL_ARGB,
  MNV3_PIXEL_ABGR,
  MNV3_PIXEL_I420, /* planes: Y, U, V (2x2 subsampled) */
  MNV3_PIXEL_YV12, /* planes: Y, U, V as for I420 (the caller maps the order) */
  MNV3_PIXEL_NV12, /* planes: Y, interleaved UV */
  MNV3_PIXEL_NV21, /* planes: Y, interleaved VU */
  MNV3_PIXEL_GRAY8,
  MNV3_PIXEL_FORMAT_COUNT
} mnv3_pixel_format;

/* One video frame or image in memory. YUV is BT.601 limited range unless
 * full_range is set. */
typedef struct mnv3_frame {
  mnv3_pixel_format format;
  int width, height;
  const uint8_t *planes[3];
  int strides[3];
  int full_range;
} mnv3_frame;

/* A rectangle in frame pixels. */
typedef struct mnv3_rect {
  int x, y, width, height;
} mnv3_rect;

/* The part of a frame the network sees: the config's centre crop of the
 * whole frame. */
MNV3_API mnv3_rect mnv3_model_frame_crop(const mnv3_model *model, int width,
                                         int height);

/* Crops, resizes (bilinear, half-pixel centres), converts to RGB and
 * normalises a frame into batch slot `index` of the context's input at the
 * config's input size. crop may be NULL for the config's centre crop. */
MNV3_API int mnv3_context_set_frame(mnv3_context *ctx, int index,
                                    const mnv3_frame *frame,
                                    const mnv3_rect *crop, mnv3_error *error);
/* Runs the network on the frames set with mnv3_context_set_frame. */
MNV3_API int mnv3_context_run(mnv3_context *ctx, int batch, mnv3_error *error);

/* ---- results ----------------------------------------------------------- */

typedef struct mnv3_class_score {
  int class_id; /* the user's class index (background dropped) */
  float score;  /* softmax probability */
} mnv3_class_score;

/* The k best classes of image `index` of the last classification, best first,
 * with softmax probabilities. Returns how many were written (<= k). */
MNV3_API int mnv3_context_top_k(const mnv3_context *ctx, int index, int k,
                                mnv3_class_score *out);
/* Softmax probabilities of every class of image `index` of the last
 * classification into probs[mnv3_model_num_classes()]. Returns how many were
 * written: that count, or 0 (probs untouched) when the last run was not a
 * classification, index is out of range or probs is NULL. */
MNV3_API int mnv3_context_probabilities(const mnv3_context *ctx, int index,
                                        float *probs);

/* The per-pixel argmax of the last segmentation of image `index`, as class
 * ids at network resolution (height x width bytes, row stride `stride`). */
MNV3_API void mnv3_context_class_mask(const mnv3_context *ctx, int index,
                                      uint8_t *mask, int stride);

/* Segmentation without the full-resolution scores, for callers that read
 * only mnv3_context_class_mask: mask_only 1 makes the runs (mnv3_context_run,
 * run_nchw) keep each image's class mask instead of the scores
 * (mnv3_context_output_size is then 0); 0 (the default) keeps the scores.
 * The network's last step upsamples its low-resolution scores to the input
 * size (at 512x1024 a 44 MB tensor, written and then read again by the
 * argmax); mask-only runs do every step but that one, then upsample a few
 * rows at a time into a small scratch with the same kernel and take the
 * argmax there (threaded over rows). The mask is bitwise the argmax of the
 * full run's scores. Fails for a classification model. */
MNV3_API int mnv3_context_set_mask_only(mnv3_context *ctx, int mask_only,
                                        mnv3_error *error);

/* A class mask to blend onto a frame, and how (mnv3_blend_mask). */
typedef struct mnv3_blend {
  const uint8_t *mask; /* class ids: mask_height rows of mask_width bytes */
  int mask_width, mask_height;
  int mask_stride;               /* bytes from one mask row to the next */
  const uint8_t (*colors)[3];    /* RGB triplets for 256 classes */
  const uint8_t *enabled;        /* 256 flags: a class whose flag is 0 is left
                                    untouched; NULL enables every class */
  float alpha;                   /* [0, 1]: 0 leaves the frame as it is, 1
                                    paints the colours opaquely */
} mnv3_blend;

/* Blends blend->mask onto the `dest` rectangle of a frame in place (dest
 * NULL: the whole frame), scaling it with nearest neighbour; `planes` are
 * writable pointers to the frame's planes. ctx NULL (or a one-thread
 * context): runs on the calling thread; otherwise the frame's rows are split
 * over the context's threads, with the same bytes for any thread count. The
 * context must not be running anything else meanwhile (call it from the
 * thread that runs the context). */
MNV3_API int mnv3_blend_mask(mnv3_context *ctx, const mnv3_frame *frame,
                             uint8_t *const planes[3], const mnv3_rect *dest,
                             const mnv3_blend *blend, mnv3_error *error);

/* ---- post-training quantization ---------------------------------------- */

/* Makes an 8-bit config from a float one: the float network runs on
 * calibration frames (preprocessed as inference does), each activation's
 * range is chosen to minimise its expected quantization error, and
 * mnv3_calibrator_write writes output_path (the float config with
 * model.precision: int8 and activation-ranges) and, beside it, copies of
 * the weights and labels it names. */
typedef struct mnv3_calibrator mnv3_calibrator;
MNV3_API mnv3_calibrator *mnv3_calibrator_new(const char *config_path, mnv3_error *error);
MNV3_API int mnv3_calibrator_add_frame(mnv3_calibrator *cal, const mnv3_frame *frame,
                                       mnv3_error *error);
MNV3_API int mnv3_calibrator_write(mnv3_calibrator *cal, const char *output_path,
                                   mnv3_error *error);
MNV3_API void mnv3_calibrator_free(mnv3_calibrator *cal);

/* Name of the instruction set the kernels use, e.g. "avx512bw". */
MNV3_API const char *mnv3_isa_name(void);

#ifdef __cplusplus
}
#endif
#endif
