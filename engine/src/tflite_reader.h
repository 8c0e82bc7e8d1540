/* A bounds-checked reader for the few TFLite flatbuffer tables the engine
 * needs (tensorflow/lite/schema/schema.fbs, version 3): Model, OperatorCode,
 * SubGraph, Tensor, QuantizationParameters, Operator, Buffer and the builtin
 * options of the ops MobileNetV3 graphs hold.
 *
 * tfl_parse validates everything it records: every offset, vtable, vector and
 * tensor index lies inside the buffer, so the accessors below cannot read out
 * of bounds and need no error path. The traversal has a fixed depth (no
 * recursion) and flatbuffer offsets only point forward, so a malformed file
 * cannot make it loop; a work budget bounds files that reference the same
 * data many times.
 *
 * Implemented in tflite_reader.c; the loader (tflite.c), tests and fuzzers
 * include this header. */
#ifndef MNV3_TFLITE_READER_H
#define MNV3_TFLITE_READER_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* BuiltinOperator codes the loader knows by name. */
enum {
  TFL_ADD = 0,
  TFL_AVERAGE_POOL_2D = 1,
  TFL_CONV_2D = 3,
  TFL_DEPTHWISE_CONV_2D = 4,
  TFL_DEQUANTIZE = 6,
  TFL_FULLY_CONNECTED = 9,
  TFL_LOGISTIC = 14,
  TFL_MUL = 18,
  TFL_RELU = 19,
  TFL_RELU6 = 21,
  TFL_RESHAPE = 22,
  TFL_SOFTMAX = 25,
  TFL_CUSTOM = 32,
  TFL_MEAN = 40,
  TFL_SUB = 41,
  TFL_SQUEEZE = 43,
  TFL_QUANTIZE = 114,
  TFL_HARD_SWISH = 117,
};

/* TensorType */
enum {
  TFL_FLOAT32 = 0,
  TFL_FLOAT16 = 1,
  TFL_INT32 = 2,
  TFL_UINT8 = 3,
  TFL_INT64 = 4,
  TFL_INT16 = 7,
  TFL_INT8 = 9,
};

/* ActivationFunctionType and Padding */
enum { TFL_ACT_NONE = 0, TFL_ACT_RELU = 1, TFL_ACT_RELU_N1_TO_1 = 2, TFL_ACT_RELU6 = 3 };
enum { TFL_PAD_SAME = 0, TFL_PAD_VALID = 1 };

/* BuiltinOptions union tags */
enum {
  TFL_OPT_NONE = 0,
  TFL_OPT_CONV2D = 1,
  TFL_OPT_DEPTHWISE_CONV2D = 2,
  TFL_OPT_POOL2D = 5,
  TFL_OPT_FULLY_CONNECTED = 8,
  TFL_OPT_SOFTMAX = 9,
  TFL_OPT_ADD = 11,
  TFL_OPT_RESHAPE = 17,
  TFL_OPT_MUL = 21,
  TFL_OPT_REDUCER = 27,
  TFL_OPT_SUB = 28,
};

/* A validated vector of little-endian elements inside the model bytes. */
typedef struct tfl_vec {
  size_t pos;
  uint32_t count;
} tfl_vec;

#define TFL_MAX_RANK 8

typedef struct tfl_tensor {
  int rank;
  int32_t shape[TFL_MAX_RANK];
  int type;          /* TensorType */
  uint32_t buffer;
  tfl_vec name;      /* bytes, not NUL-terminated */
  const uint8_t *data; /* constant contents, NULL for activations */
  size_t data_size;
  int has_quant;
  tfl_vec scale;      /* float32 */
  tfl_vec zero_point; /* int64 */
  tfl_vec min, max;   /* float32 */
  int32_t quantized_dimension;
} tfl_tensor;

typedef struct tfl_op {
  int32_t code;  /* BuiltinOperator */
  tfl_vec inputs, outputs; /* int32 tensor indices, each -1 or valid */
  int options_type;        /* BuiltinOptions tag, TFL_OPT_NONE if absent */
  /* Decoded builtin options (defaults when absent or of another kind). */
  int padding, stride_w, stride_h, dilation_w, dilation_h;
  int depth_multiplier, filter_w, filter_h, activation, keep_dims;
  float beta;
} tfl_op;

typedef struct tfl_model {
  const uint8_t *bytes;
  size_t size;
  uint32_t version;
  int num_tensors;
  tfl_tensor *tensors;
  int num_ops;
  tfl_op *ops;
  tfl_vec inputs, outputs; /* int32 tensor indices of the (only) subgraph */
} tfl_model;

/* Parses and validates `bytes` (kept by reference: they must outlive the
 * model). On error the message says what is wrong and where. */
int tfl_parse(const uint8_t *bytes, size_t size, tfl_model *model,
              mnv3_error *error);
void tfl_model_clear(tfl_model *model);

/* Element i of a validated vector (i < vec.count). */
int32_t tfl_vec_i32(const tfl_model *model, tfl_vec vec, uint32_t i);
int64_t tfl_vec_i64(const tfl_model *model, tfl_vec vec, uint32_t i);
float tfl_vec_f32(const tfl_model *model, tfl_vec vec, uint32_t i);

/* Input/output tensor index i of an op (-1 for an omitted optional input). */
int tfl_op_input(const tfl_model *model, const tfl_op *op, uint32_t i);
int tfl_op_output(const tfl_model *model, const tfl_op *op, uint32_t i);

/* The tensor's name, truncated to fit `size` bytes, NUL-terminated. */
const char *tfl_tensor_name(const tfl_model *model, const tfl_tensor *tensor,
                            char *buf, size_t size);
/* "CONV_2D", ... or "BUILTIN_<n>". buf holds at least 24 bytes. */
const char *tfl_op_name(int32_t code, char *buf, size_t size);
const char *tfl_type_name(int type);
/* Bytes per element of a TensorType, 0 when unsupported. */
size_t tfl_type_size(int type);

#endif
