/* The compiled form of a network: a flat list of steps with packed weights
 * (shared, read-only, built once per model), and the per-input-size
 * schedule (tensor shapes, padding, arena offsets) each context plans once
 * per shape. */
#ifndef MNV3_PLAN_H
#define MNV3_PLAN_H

#include "kernels.h"

typedef struct mnv3_step {
  mnv3_op_kind kind;
  int in0, in1, out;
  /* CONV */
  const mnv3_conv_kernel *kernel;
  float *packed;
  int in_ch, out_ch, kernel_size, stride, dilation, depthwise;
  mnv3_padding padding;
  mnv3_act act;
  float pre_lo, pre_hi, post_lo, post_hi;
  /* This 1x1 expansion feeds only the next step, a depthwise conv whose
     kernel reads input rows through a table: the two may run fused. */
  int fusable;
  /* MUL_CHANNEL: this gate multiply feeds only the next step, a 1x1 conv,
     which applies the gate as it reads its input (in0 times in1); the
     gated tensor is never written. */
  int gate_fused;
  /* 8-bit plans: the kernel and weights of every convolution (the stem
     reads the input quantized: mnv3_schedule.input_u8_offset) */
  const mnv3_qconv_kernel *qkernel;
  void *qpacked;
} mnv3_step;

/* How a uint8 tensor maps to real values: real = (q - zero) * scale. */
typedef struct mnv3_quant {
  float scale, inv_scale;
  int zero;
} mnv3_quant;

typedef struct mnv3_plan {
  const mnv3_kernels *kernels;
  int num_steps;
  mnv3_step *steps;
  int num_tensors;
  int output;
  int output_channels;
  /* 8-bit plans: every tensor is uint8 (quantized as quant[id] says)
     except those is_float marks: the input (quant[0] says how the stem
     quantizes it), the output and the bilinear resizes' inputs and
     outputs. */
  int int8;
  unsigned char *is_float;
  mnv3_quant *quant;
  float input_lo, input_hi; /* 8-bit plans: the stem clamps its input to these */
} mnv3_plan;

enum {
  /* int8 weights and uint8 activations, which needs a range for every
     activation (the network's activation ranges or the ops' post ranges) */
  MNV3_PLAN_INT8 = 1,
  /* no fused steps: every tensor is written (calibration, diagnostics) */
  MNV3_PLAN_UNFUSED = 2,
};

/* Packs the network's weights for `kernels` as `flags` say; the network's
 * unpacked weights are released. */
int mnv3_plan_compile(mnv3_network *net, const mnv3_kernels *kernels, unsigned flags,
                      mnv3_plan *plan, mnv3_error *error);
void mnv3_plan_clear(mnv3_plan *plan);

typedef struct mnv3_tensor_info {
  int h, w, c;
  size_t offset; /* in floats, within the arena */
} mnv3_tensor_info;

typedef struct mnv3_schedule {
  int in_h, in_w;
  mnv3_tensor_info *tensors; /* num_tensors */
  int *pad_top, *pad_left;   /* per step */
  /* Per step: 1 when this expansion and the next depthwise conv run fused,
     over bands of output rows, with the expanded tensor kept only as a ring
     of rows per band (its arena space holds the rings). */
  unsigned char *fused;
  /* 8-bit plans: the input quantized for the stem, at this offset (in
     floats), live while the stem runs: input_u8_h x input_u8_w x 3 bytes,
     the image at the stem's pad_top and pad_left in a frame of its zero
     point that holds every tap (and the last word's byte past the last
     pixel), so that the stem reads no pixel outside it */
  size_t input_u8_offset;
  int input_u8_h, input_u8_w;
  size_t arena_floats;
} mnv3_schedule;

/* Computes shapes, padding and a packed arena layout for one input size. */
int mnv3_schedule_build(const mnv3_plan *plan, int in_h, int in_w,
                        mnv3_schedule *schedule, mnv3_error *error);
void mnv3_schedule_clear(mnv3_schedule *schedule);

struct mnv3_workers;
/* Runs one image: input is in_h x in_w x 3 floats (NHWC) when input_plane
 * is 0; else 3 planes of in_h x in_w floats, input_plane floats apart
 * (NCHW), which only 8-bit plans take (their stem quantizes the input as
 * it reads it). The result is copied to output (tensors[plan->output]
 * sized). workers NULL: on the calling thread alone, with the same
 * result. */
void mnv3_plan_execute(const mnv3_plan *plan, const mnv3_schedule *schedule,
                       float *arena, const float *input, size_t input_plane,
                       float *output, struct mnv3_workers *workers);
/* Step i alone (mnv3_plan_execute runs them all in order): for per-layer
 * benchmarks, once the steps before it have run. */
void mnv3_plan_execute_step(const mnv3_plan *plan, const mnv3_schedule *schedule,
                            float *arena, const float *input, size_t input_plane,
                            float *output, struct mnv3_workers *workers, int step);

#endif
