/* The bounds-checked TFLite flatbuffer reader declared in tflite_reader.h
 * (what it reads and why it cannot read out of bounds are described there). */
#include "tflite_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field indices (schema.fbs declaration order). */
enum { MODEL_VERSION = 0, MODEL_OPERATOR_CODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { OPCODE_DEPRECATED = 0, OPCODE_BUILTIN = 3 };
enum { SUBGRAPH_TENSORS = 0, SUBGRAPH_INPUTS = 1, SUBGRAPH_OUTPUTS = 2, SUBGRAPH_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_NAME = 3, TENSOR_QUANT = 4 };
enum { QUANT_MIN = 0, QUANT_MAX = 1, QUANT_SCALE = 2, QUANT_ZERO_POINT = 3, QUANT_DIM = 6 };
enum { OP_OPCODE = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3, OP_OPTIONS = 4 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1, BUFFER_SIZE = 2 };

typedef struct reader {
  const uint8_t *p;
  size_t n;
  /* Elements validated so far: a file whose tables all point at the same
     big vector would otherwise cost size^2 work. */
  size_t work, work_limit;
  mnv3_error *error;
} reader;

typedef struct table {
  size_t pos;      /* the table's start */
  size_t vt;       /* its vtable */
  uint16_t vt_len; /* vtable bytes */
  uint16_t obj_len; /* table bytes */
} table;

/* ---- raw little-endian reads at validated positions --------------------- */

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) {
  return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static int in_bounds(const reader *r, size_t pos, size_t len) {
  return pos <= r->n && len <= r->n - pos;
}

static int charge(reader *r, size_t elements) {
  r->work += elements;
  if (r->work > r->work_limit)
    return mnv3_fail(r->error, "the file refers to the same data too many times "
                               "(a malformed or hostile flatbuffer)");
  return 0;
}

/* Follows the uoffset stored at `pos`. Offsets are unsigned and added, so
 * they always point forward; 0 would point at itself. */
static int deref(reader *r, size_t pos, size_t *target, const char *what) {
  if (!in_bounds(r, pos, 4))
    return mnv3_fail(r->error, "%s: offset at byte %zu is outside the %zu-byte file",
                     what, pos, r->n);
  uint32_t off = get_u32(r->p + pos);
  if (off == 0)
    return mnv3_fail(r->error, "%s: offset at byte %zu points to itself (cyclic)",
                     what, pos);
  if (off > r->n - pos)
    return mnv3_fail(r->error, "%s: offset at byte %zu leads to byte %zu, past the "
                               "end of the %zu-byte file", what, pos,
                     pos + (size_t)off, r->n);
  *target = pos + off;
  return 0;
}

static int table_at(reader *r, size_t pos, table *t, const char *what) {
  if (charge(r, 1))
    return -1;
  if (!in_bounds(r, pos, 4))
    return mnv3_fail(r->error, "%s: table at byte %zu is outside the file", what, pos);
  int64_t vt = (int64_t)pos - (int32_t)get_u32(r->p + pos);
  if (vt < 0 || !in_bounds(r, (size_t)vt, 4))
    return mnv3_fail(r->error, "%s: vtable of the table at byte %zu is outside the "
                               "file", what, pos);
  t->pos = pos;
  t->vt = (size_t)vt;
  t->vt_len = get_u16(r->p + t->vt);
  t->obj_len = get_u16(r->p + t->vt + 2);
  if (t->vt_len < 4 || t->vt_len % 2 || !in_bounds(r, t->vt, t->vt_len))
    return mnv3_fail(r->error, "%s: vtable at byte %zu has a bad size %u", what,
                     t->vt, t->vt_len);
  if (t->obj_len < 4 || !in_bounds(r, pos, t->obj_len))
    return mnv3_fail(r->error, "%s: table at byte %zu claims %u bytes past the end "
                               "of the file", what, pos, t->obj_len);
  return 0;
}

/* 1 and the field's position when present, 0 when absent, -1 on error. */
static int field(reader *r, const table *t, int index, size_t width, size_t *pos,
                 const char *what) {
  size_t slot = 4 + 2 * (size_t)index;
  if (slot + 2 > t->vt_len)
    return 0;
  uint16_t off = get_u16(r->p + t->vt + slot);
  if (off == 0)
    return 0;
  if ((size_t)off + width > t->obj_len)
    return mnv3_fail(r->error, "%s: field %d of the table at byte %zu lies outside "
                               "the table", what, index, t->pos);
  *pos = t->pos + off;
  return 1;
}

static int field_u8(reader *r, const table *t, int index, int def, int *out,
                    const char *what) {
  size_t pos = 0;
  int has = field(r, t, index, 1, &pos, what);
  if (has < 0)
    return -1;
  *out = has ? r->p[pos] : def;
  return 0;
}

static int field_i8(reader *r, const table *t, int index, int def, int *out,
                    const char *what) {
  size_t pos = 0;
  int has = field(r, t, index, 1, &pos, what);
  if (has < 0)
    return -1;
  *out = has ? (int8_t)r->p[pos] : def;
  return 0;
}

static int field_i32(reader *r, const table *t, int index, int32_t def,
                     int32_t *out, const char *what) {
  size_t pos = 0;
  int has = field(r, t, index, 4, &pos, what);
  if (has < 0)
    return -1;
  *out = has ? (int32_t)get_u32(r->p + pos) : def;
  return 0;
}

static int field_u64(reader *r, const table *t, int index, uint64_t *out,
                     const char *what) {
  size_t pos = 0;
  int has = field(r, t, index, 8, &pos, what);
  if (has < 0)
    return -1;
  *out = has ? get_u64(r->p + pos) : 0;
  return 0;
}

/* A vector field: 0 with an empty vector when absent. */
static int field_vec(reader *r, const table *t, int index, size_t elem,
                     tfl_vec *vec, const char *what) {
  size_t pos = 0, start = 0;
  vec->pos = 0;
  vec->count = 0;
  int has = field(r, t, index, 4, &pos, what);
  if (has <= 0)
    return has;
  if (deref(r, pos, &start, what))
    return -1;
  if (!in_bounds(r, start, 4))
    return mnv3_fail(r->error, "%s: vector length at byte %zu is outside the file",
                     what, start);
  uint32_t count = get_u32(r->p + start);
  if ((size_t)count > (r->n - start - 4) / elem)
    return mnv3_fail(r->error, "%s: vector at byte %zu claims %u elements, more "
                               "than the file holds", what, start, count);
  if (charge(r, count / 16))
    return -1;
  vec->pos = start + 4;
  vec->count = count;
  return 0;
}

/* Element i of a vector of tables. */
static int vec_table(reader *r, tfl_vec vec, uint32_t i, table *t, const char *what) {
  size_t target = 0;
  if (deref(r, vec.pos + 4 * (size_t)i, &target, what))
    return -1;
  return table_at(r, target, t, what);
}

/* A table-valued field; 0 when absent, 1 when read. */
static int field_table(reader *r, const table *t, int index, table *out,
                       const char *what) {
  size_t pos = 0, target = 0;
  int has = field(r, t, index, 4, &pos, what);
  if (has <= 0)
    return has;
  if (deref(r, pos, &target, what) || table_at(r, target, out, what))
    return -1;
  return 1;
}

/* ---- accessors ----------------------------------------------------------- */

int32_t tfl_vec_i32(const tfl_model *m, tfl_vec v, uint32_t i) {
  return (int32_t)get_u32(m->bytes + v.pos + 4 * (size_t)i);
}

int64_t tfl_vec_i64(const tfl_model *m, tfl_vec v, uint32_t i) {
  return (int64_t)get_u64(m->bytes + v.pos + 8 * (size_t)i);
}

float tfl_vec_f32(const tfl_model *m, tfl_vec v, uint32_t i) {
  uint32_t bits = get_u32(m->bytes + v.pos + 4 * (size_t)i);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

int tfl_op_input(const tfl_model *m, const tfl_op *op, uint32_t i) {
  return i < op->inputs.count ? tfl_vec_i32(m, op->inputs, i) : -1;
}

int tfl_op_output(const tfl_model *m, const tfl_op *op, uint32_t i) {
  return i < op->outputs.count ? tfl_vec_i32(m, op->outputs, i) : -1;
}

const char *tfl_tensor_name(const tfl_model *m, const tfl_tensor *t, char *buf,
                            size_t size) {
  if (size == 0)
    return buf;
  size_t len = t->name.count < size - 1 ? t->name.count : size - 1;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = m->bytes[t->name.pos + i];
    buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?'; /* messages stay printable */
  }
  buf[len] = '\0';
  return buf;
}

const char *tfl_op_name(int32_t code, char *buf, size_t size) {
  static const struct {
    int32_t code;
    const char *name;
  } names[] = {
      {TFL_ADD, "ADD"}, {TFL_AVERAGE_POOL_2D, "AVERAGE_POOL_2D"},
      {2, "CONCATENATION"}, {TFL_CONV_2D, "CONV_2D"},
      {TFL_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D"}, {TFL_DEQUANTIZE, "DEQUANTIZE"},
      {TFL_FULLY_CONNECTED, "FULLY_CONNECTED"}, {TFL_LOGISTIC, "LOGISTIC"},
      {17, "MAX_POOL_2D"}, {TFL_MUL, "MUL"}, {TFL_RELU, "RELU"},
      {TFL_RELU6, "RELU6"}, {TFL_RESHAPE, "RESHAPE"},
      {23, "RESIZE_BILINEAR"}, {TFL_SOFTMAX, "SOFTMAX"}, {28, "TANH"},
      {34, "PAD"}, {TFL_CUSTOM, "CUSTOM"}, {TFL_MEAN, "MEAN"}, {TFL_SUB, "SUB"},
      {TFL_SQUEEZE, "SQUEEZE"}, {TFL_QUANTIZE, "QUANTIZE"},
      {TFL_HARD_SWISH, "HARD_SWISH"},
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (names[i].code == code)
      return names[i].name;
  snprintf(buf, size, "BUILTIN_%d", (int)code);
  return buf;
}

const char *tfl_type_name(int type) {
  switch (type) {
  case TFL_FLOAT32: return "float32";
  case TFL_FLOAT16: return "float16";
  case TFL_INT32: return "int32";
  case TFL_UINT8: return "uint8";
  case TFL_INT64: return "int64";
  case TFL_INT16: return "int16";
  case TFL_INT8: return "int8";
  default: return "unsupported type";
  }
}

size_t tfl_type_size(int type) {
  switch (type) {
  case TFL_FLOAT32: case TFL_INT32: return 4;
  case TFL_FLOAT16: case TFL_INT16: return 2;
  case TFL_UINT8: case TFL_INT8: return 1;
  case TFL_INT64: return 8;
  default: return 0;
  }
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct buffer_ref {
  const uint8_t *data;
  size_t size;
} buffer_ref;

static int parse_buffers(reader *r, const table *root, buffer_ref **out,
                         uint32_t *count) {
  tfl_vec v;
  *out = NULL;
  *count = 0;
  if (field_vec(r, root, MODEL_BUFFERS, 4, &v, "Model.buffers"))
    return -1;
  if (v.count == 0)
    return 0;
  buffer_ref *bufs = calloc(v.count, sizeof *bufs);
  if (!bufs)
    return mnv3_fail(r->error, "out of memory reading %u buffers", v.count);
  for (uint32_t i = 0; i < v.count; i++) {
    table t;
    tfl_vec data;
    uint64_t offset, size;
    if (vec_table(r, v, i, &t, "Model.buffers") ||
        field_vec(r, &t, BUFFER_DATA, 1, &data, "Buffer.data") ||
        field_u64(r, &t, BUFFER_OFFSET, &offset, "Buffer.offset") ||
        field_u64(r, &t, BUFFER_SIZE, &size, "Buffer.size"))
      goto fail;
    if (data.count) {
      bufs[i].data = r->p + data.pos;
      bufs[i].size = data.count;
    } else if (offset > 1) {
      /* Large models keep buffers after the flatbuffer, at file offsets. */
      if (offset > r->n || size > r->n - offset) {
        mnv3_fail(r->error, "buffer %u: %llu bytes at file offset %llu lie past "
                            "the end of the %zu-byte file", i,
                  (unsigned long long)size, (unsigned long long)offset, r->n);
        goto fail;
      }
      bufs[i].data = r->p + offset;
      bufs[i].size = (size_t)size;
    }
  }
  *out = bufs;
  *count = v.count;
  return 0;
fail:
  free(bufs);
  return -1;
}

static int parse_tensor(reader *r, const table *t, int index,
                        const buffer_ref *bufs, uint32_t num_bufs, tfl_tensor *out) {
  char what[64];
  snprintf(what, sizeof what, "tensor %d", index);
  tfl_vec shape;
  int32_t buffer;
  if (field_vec(r, t, TENSOR_SHAPE, 4, &shape, what) ||
      field_i8(r, t, TENSOR_TYPE, 0, &out->type, what) ||
      field_i32(r, t, TENSOR_BUFFER, 0, &buffer, what) ||
      field_vec(r, t, TENSOR_NAME, 1, &out->name, what))
    return -1;
  if (shape.count > TFL_MAX_RANK)
    return mnv3_fail(r->error, "%s has rank %u; at most %d is supported", what,
                     shape.count, TFL_MAX_RANK);
  out->rank = (int)shape.count;
  for (uint32_t i = 0; i < shape.count; i++) {
    out->shape[i] = (int32_t)get_u32(r->p + shape.pos + 4 * (size_t)i);
    if (out->shape[i] < 0)
      return mnv3_fail(r->error, "%s has a negative dimension %d", what,
                       (int)out->shape[i]);
  }
  out->buffer = (uint32_t)buffer;
  if ((uint32_t)buffer >= num_bufs && buffer != 0)
    return mnv3_fail(r->error, "%s refers to buffer %u of %u", what,
                     (unsigned)buffer, num_bufs);
  if (buffer != 0 && bufs[buffer].size) {
    out->data = bufs[buffer].data;
    out->data_size = bufs[buffer].size;
  }
  table q;
  int has_q = field_table(r, t, TENSOR_QUANT, &q, what);
  if (has_q < 0)
    return -1;
  out->has_quant = has_q;
  if (has_q &&
      (field_vec(r, &q, QUANT_MIN, 4, &out->min, what) ||
       field_vec(r, &q, QUANT_MAX, 4, &out->max, what) ||
       field_vec(r, &q, QUANT_SCALE, 4, &out->scale, what) ||
       field_vec(r, &q, QUANT_ZERO_POINT, 8, &out->zero_point, what) ||
       field_i32(r, &q, QUANT_DIM, 0, &out->quantized_dimension, what)))
    return -1;
  return 0;
}

/* Decodes the builtin options the loader uses (others are left at defaults). */
static int parse_options(reader *r, const table *t, tfl_op *op, const char *what) {
  op->stride_w = op->stride_h = 1;
  op->dilation_w = op->dilation_h = 1;
  op->depth_multiplier = 1;
  op->beta = 1.0f;
  if (field_u8(r, t, OP_OPTIONS_TYPE, TFL_OPT_NONE, &op->options_type, what))
    return -1;
  table o;
  int has = field_table(r, t, OP_OPTIONS, &o, what);
  if (has <= 0)
    return has;
  int32_t sw = 1, sh = 1, dw = 1, dh = 1, dm = 1, fw = 0, fh = 0;
  int rc = 0;
  switch (op->options_type) {
  case TFL_OPT_CONV2D:
    rc = field_i8(r, &o, 0, 0, &op->padding, what) ||
         field_i32(r, &o, 1, 1, &sw, what) || field_i32(r, &o, 2, 1, &sh, what) ||
         field_i8(r, &o, 3, 0, &op->activation, what) ||
         field_i32(r, &o, 4, 1, &dw, what) || field_i32(r, &o, 5, 1, &dh, what);
    break;
  case TFL_OPT_DEPTHWISE_CONV2D:
    rc = field_i8(r, &o, 0, 0, &op->padding, what) ||
         field_i32(r, &o, 1, 1, &sw, what) || field_i32(r, &o, 2, 1, &sh, what) ||
         field_i32(r, &o, 3, 1, &dm, what) ||
         field_i8(r, &o, 4, 0, &op->activation, what) ||
         field_i32(r, &o, 5, 1, &dw, what) || field_i32(r, &o, 6, 1, &dh, what);
    break;
  case TFL_OPT_POOL2D:
    rc = field_i8(r, &o, 0, 0, &op->padding, what) ||
         field_i32(r, &o, 1, 1, &sw, what) || field_i32(r, &o, 2, 1, &sh, what) ||
         field_i32(r, &o, 3, 0, &fw, what) || field_i32(r, &o, 4, 0, &fh, what) ||
         field_i8(r, &o, 5, 0, &op->activation, what);
    break;
  case TFL_OPT_FULLY_CONNECTED:
  case TFL_OPT_ADD:
  case TFL_OPT_MUL:
  case TFL_OPT_SUB:
    rc = field_i8(r, &o, 0, 0, &op->activation, what);
    break;
  case TFL_OPT_REDUCER:
    rc = field_u8(r, &o, 0, 0, &op->keep_dims, what);
    break;
  case TFL_OPT_SOFTMAX: {
    size_t pos = 0;
    int has_beta = field(r, &o, 0, 4, &pos, what);
    rc = has_beta < 0;
    if (has_beta > 0) {
      uint32_t bits = get_u32(r->p + pos);
      memcpy(&op->beta, &bits, sizeof op->beta);
    }
    break;
  }
  default:
    break;
  }
  if (rc)
    return -1;
  op->stride_w = sw;
  op->stride_h = sh;
  op->dilation_w = dw;
  op->dilation_h = dh;
  op->depth_multiplier = dm;
  op->filter_w = fw;
  op->filter_h = fh;
  return 0;
}

static int check_indices(reader *r, tfl_vec v, int num_tensors, int allow_omitted,
                         const char *what) {
  for (uint32_t i = 0; i < v.count; i++) {
    int32_t t = (int32_t)get_u32(r->p + v.pos + 4 * (size_t)i);
    if (t >= num_tensors || t < (allow_omitted ? -1 : 0))
      return mnv3_fail(r->error, "%s refers to tensor %d; the graph has %d", what,
                       (int)t, num_tensors);
  }
  return 0;
}

static int parse_ops(reader *r, const table *sg, const int32_t *codes,
                     uint32_t num_codes, tfl_model *m) {
  tfl_vec v;
  if (field_vec(r, sg, SUBGRAPH_OPERATORS, 4, &v, "SubGraph.operators"))
    return -1;
  if (v.count == 0)
    return 0;
  m->ops = calloc(v.count, sizeof *m->ops);
  if (!m->ops)
    return mnv3_fail(r->error, "out of memory reading %u operators", v.count);
  m->num_ops = (int)v.count;
  for (uint32_t i = 0; i < v.count; i++) {
    char what[48];
    snprintf(what, sizeof what, "operator %u", i);
    tfl_op *op = &m->ops[i];
    table t;
    int32_t opcode;
    if (vec_table(r, v, i, &t, what) ||
        field_i32(r, &t, OP_OPCODE, 0, &opcode, what) ||
        field_vec(r, &t, OP_INPUTS, 4, &op->inputs, what) ||
        field_vec(r, &t, OP_OUTPUTS, 4, &op->outputs, what) ||
        parse_options(r, &t, op, what))
      return -1;
    if ((uint32_t)opcode >= num_codes)
      return mnv3_fail(r->error, "%s uses operator code %u; the file defines %u",
                       what, (unsigned)opcode, num_codes);
    op->code = codes[opcode];
    if (check_indices(r, op->inputs, m->num_tensors, 1, what) ||
        check_indices(r, op->outputs, m->num_tensors, 0, what))
      return -1;
  }
  return 0;
}

static int parse_codes(reader *r, const table *root, int32_t **out, uint32_t *count) {
  tfl_vec v;
  *out = NULL;
  *count = 0;
  if (field_vec(r, root, MODEL_OPERATOR_CODES, 4, &v, "Model.operator_codes"))
    return -1;
  if (v.count == 0)
    return 0;
  int32_t *codes = calloc(v.count, sizeof *codes);
  if (!codes)
    return mnv3_fail(r->error, "out of memory reading %u operator codes", v.count);
  for (uint32_t i = 0; i < v.count; i++) {
    table t;
    int deprecated;
    int32_t builtin;
    if (vec_table(r, v, i, &t, "Model.operator_codes") ||
        field_i8(r, &t, OPCODE_DEPRECATED, 0, &deprecated, "OperatorCode") ||
        field_i32(r, &t, OPCODE_BUILTIN, 0, &builtin, "OperatorCode")) {
      free(codes);
      return -1;
    }
    /* Codes past 127 live in builtin_code; older files only set the
       deprecated byte. The larger of the two is the real one. */
    codes[i] = builtin > deprecated ? builtin : deprecated;
  }
  *out = codes;
  *count = v.count;
  return 0;
}

static int parse_tensors(reader *r, const table *sg, const buffer_ref *bufs,
                         uint32_t num_bufs, tfl_model *m) {
  tfl_vec v;
  if (field_vec(r, sg, SUBGRAPH_TENSORS, 4, &v, "SubGraph.tensors"))
    return -1;
  if (v.count == 0)
    return mnv3_fail(r->error, "the graph has no tensors");
  if (v.count > INT32_MAX / 2)
    return mnv3_fail(r->error, "the graph claims %u tensors", v.count);
  m->tensors = calloc(v.count, sizeof *m->tensors);
  if (!m->tensors)
    return mnv3_fail(r->error, "out of memory reading %u tensors", v.count);
  m->num_tensors = (int)v.count;
  for (uint32_t i = 0; i < v.count; i++) {
    table t;
    if (vec_table(r, v, i, &t, "SubGraph.tensors") ||
        parse_tensor(r, &t, (int)i, bufs, num_bufs, &m->tensors[i]))
      return -1;
  }
  return 0;
}

int tfl_parse(const uint8_t *bytes, size_t size, tfl_model *m, mnv3_error *error) {
  memset(m, 0, sizeof *m);
  m->bytes = bytes;
  m->size = size;
  reader r = {bytes, size, 0, 0, error};
  r.work_limit = size + (1u << 20);
  if (!bytes || size < 8 || memcmp(bytes + 4, "TFL3", 4) != 0)
    return mnv3_fail(error, "not a TFLite model: the file (%zu bytes) lacks the "
                            "'TFL3' flatbuffer identifier", size);
  size_t root_pos = 0;
  table root;
  if (deref(&r, 0, &root_pos, "Model") || table_at(&r, root_pos, &root, "Model"))
    return -1;
  int32_t version;
  if (field_i32(&r, &root, MODEL_VERSION, 0, &version, "Model.version"))
    return -1;
  m->version = (uint32_t)version;
  if (version != 3)
    return mnv3_fail(error, "TFLite schema version %d; only version 3 is "
                            "supported", (int)version);

  tfl_vec subgraphs;
  if (field_vec(&r, &root, MODEL_SUBGRAPHS, 4, &subgraphs, "Model.subgraphs"))
    return -1;
  if (subgraphs.count != 1)
    return mnv3_fail(error, "the model has %u subgraphs; a MobileNetV3 "
                            "classifier has exactly one", subgraphs.count);

  int32_t *codes = NULL;
  uint32_t num_codes = 0, num_bufs = 0;
  buffer_ref *bufs = NULL;
  table sg;
  int rc = -1;
  if (parse_codes(&r, &root, &codes, &num_codes) ||
      parse_buffers(&r, &root, &bufs, &num_bufs) ||
      vec_table(&r, subgraphs, 0, &sg, "Model.subgraphs") ||
      parse_tensors(&r, &sg, bufs, num_bufs, m) ||
      field_vec(&r, &sg, SUBGRAPH_INPUTS, 4, &m->inputs, "SubGraph.inputs") ||
      field_vec(&r, &sg, SUBGRAPH_OUTPUTS, 4, &m->outputs, "SubGraph.outputs") ||
      check_indices(&r, m->inputs, m->num_tensors, 0, "SubGraph.inputs") ||
      check_indices(&r, m->outputs, m->num_tensors, 0, "SubGraph.outputs") ||
      parse_ops(&r, &sg, codes, num_codes, m))
    goto done;
  rc = 0;
done:
  free(codes);
  free(bufs);
  if (rc)
    tfl_model_clear(m);
  return rc;
}

void tfl_model_clear(tfl_model *m) {
  free(m->tensors);
  free(m->ops);
  memset(m, 0, sizeof *m);
}
