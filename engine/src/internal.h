/* Engine internals shared between the loaders, the network builder, the
 * compiler and the executor. Nothing here is public. */
#ifndef MNV3_INTERNAL_H
#define MNV3_INTERNAL_H

#include "mnv3/mnv3.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------ */

/* Formats into error->message (error may be NULL). Always returns -1 so that
 * callers can write `return mnv3_fail(err, ...)`. */
int mnv3_fail(mnv3_error *error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes an existing message, e.g. with a file name. */
void mnv3_error_prefix(mnv3_error *error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- config (config.c) ------------------------------------------------- */

typedef struct mnv3_config {
  char *path;              /* the YAML file */
  char *architecture;      /* mobilenet_v3_large | mobilenet_v3_small |
                              lraspp_mobilenet_v3_large */
  char *name;              /* model.name, default: the YAML file's stem */
  double width_multiplier; /* model.width-multiplier, default 1.0 */
  int num_classes;         /* model.num-classes: outputs of the network */
  int background_class;    /* model.background-class: output 0 is "background"
                              and is hidden from users (TF releases) */
  int int8;                /* model.precision: int8 (else fp32, the default) */
  char *weights_path;      /* model.weights, resolved against the YAML's folder */
  char *weights_error;     /* why model.weights is unusable (file:line:col:
                              missing file), reported when it is used */
  char *labels_path;       /* labels, resolved, or NULL */
  char **labels;           /* num_labels strings, or NULL */
  int num_labels;
  int input_height, input_width; /* input.size: [height, width] */
  float mean[3], std[3];   /* input.mean, input.std (RGB, on 0..1 pixels) */
  double crop;             /* input.crop: centre-crop fraction, (0, 1], default 1 */
  float *ranges;           /* activation-ranges: num_ranges [lo, hi] pairs, */
  int num_ranges;          /* one per op output in network order, or none */
  int has_palette;         /* palette: list of [r, g, b] in the config */
  uint8_t palette[256][3];
  int palette_size;
} mnv3_config;

/* Parses and validates a config (labels file read too). On error, the
 * message names file, line and column and what was expected. */
int mnv3_config_load(const char *path, mnv3_config *config, mnv3_error *error);
void mnv3_config_clear(mnv3_config *config);
/* Parses a YAML document held in memory (fuzzing, tests); `name` stands for
 * the file name in messages and relative paths resolve against base_dir. */
int mnv3_config_parse(const char *name, const char *base_dir, const char *text,
                      size_t length, mnv3_config *config, mnv3_error *error);

/* ---- the network as data (network.c) ----------------------------------- */

typedef enum mnv3_act {
  MNV3_ACT_NONE = 0,
  MNV3_ACT_RELU,
  MNV3_ACT_HSWISH,
  MNV3_ACT_HSIGMOID, /* relu6(x + 3) / 6 */
  MNV3_ACT_SIGMOID,
} mnv3_act;

typedef enum mnv3_op_kind {
  MNV3_OP_CONV,        /* any kernel, stride, dilation; groups 1 or depthwise */
  MNV3_OP_GLOBAL_POOL, /* mean over H and W -> 1 x 1 x C */
  MNV3_OP_MUL_CHANNEL, /* in0[h][w][c] * in1[0][0][c] */
  MNV3_OP_RESIZE,      /* bilinear, align_corners=False, to the size of in1 */
} mnv3_op_kind;

typedef enum mnv3_padding {
  MNV3_PAD_TORCH = 0, /* symmetric (k - 1) / 2 * dilation */
  MNV3_PAD_SAME,      /* TensorFlow SAME: the odd pixel goes bottom/right */
} mnv3_padding;

/* A tensor id: 0 is the network input; every op writes a new id. */
#define MNV3_NO_TENSOR (-1)

typedef struct mnv3_op {
  mnv3_op_kind kind;
  int in0, in1, out; /* tensor ids; in1 is the residual for CONV, the gate
                        for MUL_CHANNEL, the size reference for RESIZE */
  /* CONV */
  int in_ch, out_ch, kernel, stride, dilation, depthwise;
  mnv3_padding padding;
  mnv3_act act;
  /* Output range clamps, +-INFINITY unless the weights say otherwise
     (quantized TFLite tensors): pre_* on conv + bias, before the residual
     and the activation; post_* on the op's output. */
  float pre_lo, pre_hi, post_lo, post_hi;
  /* torchvision state_dict naming: with BN, the conv is key.0.weight and the
     BN key.1.{weight,bias,running_mean,running_var}; without, key.weight and
     key.bias (when has_bias). is_linear: nn.Linear, weight [out, in]. */
  char key[96];
  int has_bn, has_bias, is_linear;
  float bn_eps; /* torchvision: 1e-3 in MobileNetV3, 1e-5 in the LR-ASPP head */
  /* Filled by the weight loader: BN folded, OIHW (depthwise: C x 1 x k x k),
     owned by the network. */
  float *weight;
  float *bias;
  /* Quantized TFLite weights: per output channel, the step of the grid the
     weights lie on (weight = integer * step), so that 8-bit plans keep
     them exactly; NULL otherwise. Owned by the network. */
  float *weight_step;
} mnv3_op;

typedef struct mnv3_network {
  mnv3_task task;
  int num_classes; /* network outputs */
  int num_tensors;
  int output;      /* tensor id of the result */
  float input_lo, input_hi; /* the input tensor's range (quantized graphs) */
  /* Measured ranges of the ops' outputs (activation-ranges, 2 per op),
     preferred to the post ranges by 8-bit plans; NULL for none. Not owned. */
  const float *act_ranges;
  int num_ops;
  mnv3_op *ops;
} mnv3_network;

/* Builds the op list for config->architecture at config->width_multiplier
 * and config->num_classes, weights not yet loaded. */
int mnv3_network_build(const mnv3_config *config, mnv3_network *net,
                       mnv3_error *error);
void mnv3_network_clear(mnv3_network *net);
/* torchvision's _make_divisible(v * width, 8) */
int mnv3_round_channels(double channels, double width_multiplier);

/* ---- weights ----------------------------------------------------------- */

/* Fills every CONV op's weight and bias from a torchvision-layout
 * safetensors file, folding BatchNorm with each op's bn_eps (1e-3 where the
 * op sets none). Every key must be used. */
int mnv3_safetensors_load(const char *path, mnv3_network *net,
                          mnv3_error *error);
/* The same from bytes in memory (fuzzing, tests). */
int mnv3_safetensors_load_bytes(const char *name, const uint8_t *bytes,
                                size_t size, mnv3_network *net,
                                mnv3_error *error);

/* Either of the two below, by the file name's extension. */
int mnv3_weights_load(const char *path, mnv3_network *net, mnv3_error *error);
/* The network of a config with its weights (from `weights`, or the
 * config's when NULL) and its activation ranges. */
int mnv3_network_load(const mnv3_config *config, const char *weights, mnv3_network *net,
                      mnv3_error *error);

/* Fills the network's weights from a TFLite MobileNetV3 flatbuffer:
 * dequantised, with SAME padding and the quantized ranges as clamps. */
int mnv3_tflite_load(const char *path, mnv3_network *net, mnv3_error *error);
int mnv3_tflite_load_bytes(const char *name, const uint8_t *bytes, size_t size,
                           mnv3_network *net, mnv3_error *error);

/* ---- preprocessing (preprocess.c) -------------------------------------- */

typedef struct mnv3_normalize {
  float mean[3], std[3]; /* on 0..1 RGB */
} mnv3_normalize;

/* Crops `crop` out of `frame`, resizes it bilinearly (half-pixel centres,
 * like torchvision's antialias=False resize and TF's half_pixel_centers) to
 * out_height x out_width, converts to RGB and writes (pixel / 255 - mean) /
 * std as NHWC float32 into dst. */
int mnv3_preprocess(const mnv3_frame *frame, const mnv3_rect *crop,
                    const mnv3_normalize *norm, int out_height, int out_width,
                    float *dst, mnv3_error *error);

/* ---- contexts (context.c) ---------------------------------------------- */

struct mnv3_workers;
struct mnv3_threading_run;
/* For engine parts that split a call's work over the context's threads
 * (mnv3_blend_mask): begin returns the pool to split it over now (NULL:
 * the calling thread alone, e.g. while another stream infers); end must
 * follow. */
struct mnv3_workers *mnv3_context_side_job_begin(mnv3_context *ctx,
                                                 struct mnv3_threading_run *run);
void mnv3_context_side_job_end(mnv3_context *ctx, struct mnv3_threading_run *run);
/* A scratch buffer of at least `bytes` owned by the context and kept
 * between calls (grown when a call needs more; its contents are not kept):
 * for engine parts that run between inferences on the context's thread
 * (mnv3_blend_mask). NULL when out of memory. */
void *mnv3_context_scratch(mnv3_context *ctx, size_t bytes);

#endif
