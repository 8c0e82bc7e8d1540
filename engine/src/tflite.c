/* Loads the weights of a quantized TFLite MobileNetV3 (Google's TF-slim and
 * TF-Hub releases) into a network built from the config.
 *
 * The TFLite operators are walked in execution order and matched against the
 * network's ops, following the data flow: each network op consumes the
 * TFLite tensor that stands for its input, and the TFLite ops that make up
 * one network op (a convolution, then its HARD_SWISH; a 1x1 convolution then
 * ADD 3 and MUL 1/6 for a hard sigmoid; the residual ADD) are taken
 * together. Weights are dequantized to float, and the range each quantized
 * activation tensor can represent becomes a clamp on the op that produces
 * it: the uint8 TF-slim graph has no ReLU operators at all, only ranges
 * starting at 0. */
#include "internal.h"
#include "tflite_reader.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How far a graph constant may be from the value a pattern needs (the
 * constants are themselves quantized). */
#define CONST_TOLERANCE 0.01

typedef struct range {
  float lo, hi;
} range;

static const range RANGE_ALL = {-INFINITY, INFINITY};

typedef struct loader {
  tfl_model m;
  mnv3_network *net;
  mnv3_error *error;
  int next;        /* the next TFLite op to match */
  int *net_of;     /* TFLite tensor -> network tensor id, or -1 */
  int *readers;    /* TFLite tensor -> how many ops read it */
  mnv3_op **producer; /* network tensor id -> its op (NULL for the input) */
  range input;     /* clamp the graph applies to the network input */
} loader;

/* ---- small helpers ------------------------------------------------------- */

static const char *op_name(const loader *l, int index) {
  static _Thread_local char buf[32];
  if (index >= l->m.num_ops)
    return "the end of the graph";
  return tfl_op_name(l->m.ops[index].code, buf, sizeof buf);
}

static const char *tensor_name(const loader *l, int t) {
  static _Thread_local char buf[96];
  return tfl_tensor_name(&l->m, &l->m.tensors[t], buf, sizeof buf);
}

/* What the network op is, for messages: "a depthwise convolution
 * (features.3.block.1, 5x5 stride 2)". */
static const char *describe(const mnv3_op *op) {
  static _Thread_local char buf[192];
  switch (op->kind) {
  case MNV3_OP_CONV:
    snprintf(buf, sizeof buf, "%s (%s, %dx%d stride %d, %d -> %d channels)",
             op->depthwise ? "a depthwise convolution" : "a convolution", op->key,
             op->kernel, op->kernel, op->stride, op->in_ch, op->out_ch);
    break;
  case MNV3_OP_GLOBAL_POOL:
    snprintf(buf, sizeof buf, "a global average pooling (AVERAGE_POOL_2D or MEAN)");
    break;
  case MNV3_OP_MUL_CHANNEL:
    snprintf(buf, sizeof buf, "the squeeze-and-excitation gating (MUL)");
    break;
  case MNV3_OP_RESIZE:
    snprintf(buf, sizeof buf, "a bilinear resize");
    break;
  }
  return buf;
}

static int unexpected(loader *l, const mnv3_op *op) {
  return mnv3_fail(l->error, "op %d is %s where %s was expected; this .tflite does "
                             "not hold the network the config describes",
                   l->next, op_name(l, l->next), describe(op));
}

static const tfl_op *peek(const loader *l) {
  return l->next < l->m.num_ops ? &l->m.ops[l->next] : NULL;
}

static int in_tensor(const loader *l, const tfl_op *op, int i) {
  return tfl_op_input(&l->m, op, (uint32_t)i);
}

static int out_tensor(const loader *l, const tfl_op *op) {
  return tfl_op_output(&l->m, op, 0);
}

/* The values a quantized tensor can hold; everything for float tensors. */
static range tensor_range(const loader *l, int t) {
  const tfl_tensor *x = &l->m.tensors[t];
  int qmin, qmax;
  switch (x->type) {
  case TFL_UINT8: qmin = 0; qmax = 255; break;
  case TFL_INT8: qmin = -128; qmax = 127; break;
  case TFL_INT16: qmin = -32768; qmax = 32767; break;
  default: return RANGE_ALL;
  }
  if (x->scale.count != 1)
    return RANGE_ALL;
  const double s = tfl_vec_f32(&l->m, x->scale, 0);
  const double z = x->zero_point.count ? (double)tfl_vec_i64(&l->m, x->zero_point, 0) : 0;
  if (!(s > 0) || !isfinite(s))
    return RANGE_ALL;
  return (range){(float)((qmin - z) * s), (float)((qmax - z) * s)};
}

static range intersect(range a, range b) {
  return (range){fmaxf(a.lo, b.lo), fminf(a.hi, b.hi)};
}

static range shift(range a, float by) { return (range){a.lo + by, a.hi + by}; }

/* What a fused activation lets through. */
static range act_range(int act) {
  switch (act) {
  case TFL_ACT_RELU: return (range){0.0f, INFINITY};
  case TFL_ACT_RELU6: return (range){0.0f, 6.0f};
  case TFL_ACT_RELU_N1_TO_1: return (range){-1.0f, 1.0f};
  default: return RANGE_ALL;
  }
}

static size_t element_count(const tfl_tensor *t) {
  size_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->shape[i] != 0 && n > SIZE_MAX / 16 / (size_t)t->shape[i])
      return SIZE_MAX;
    n *= (size_t)t->shape[i];
  }
  return n;
}

static float read_float(const uint8_t *p) {
  float f;
  memcpy(&f, p, sizeof f); /* TFLite files are little-endian, like our targets */
  return f;
}

/* Dequantizes a constant tensor into out[count] (in the tensor's own
 * layout). fallback_scale, if not NULL, supplies per-channel scales when
 * the tensor has none (int32 biases: input scale * weight scale). */
static int corrupt_value(loader *l, int t, size_t index) {
  return mnv3_fail(l->error, "tensor %d ('%s') holds a non-finite value at index "
                             "%zu: the model is corrupt", t, tensor_name(l, t), index);
}

static int dequantize(loader *l, int t, float *out, size_t count,
                      const float *fallback_scale, size_t fallback_count) {
  const tfl_model *m = &l->m;
  const tfl_tensor *x = &m->tensors[t];
  const size_t esize = tfl_type_size(x->type);
  if (!x->data)
    return mnv3_fail(l->error, "tensor %d ('%s') should hold constant weights "
                               "but has no data", t, tensor_name(l, t));
  if (esize == 0 || x->type == TFL_FLOAT16 || x->type == TFL_INT64)
    return mnv3_fail(l->error, "tensor %d ('%s') has type %s; weights must be "
                               "float32, uint8, int8, int16 or int32 (biases)",
                     t, tensor_name(l, t), tfl_type_name(x->type));
  if (element_count(x) != count || x->data_size != count * esize)
    return mnv3_fail(l->error, "tensor %d ('%s') holds %zu bytes where %zu "
                               "values of %s were expected", t, tensor_name(l, t),
                     x->data_size, count, tfl_type_name(x->type));
  /* Per-channel parameters run along quantized_dimension. */
  size_t channels = 1, inner = 1;
  const size_t nscale = x->scale.count;
  if (nscale > 1) {
    const int dim = x->quantized_dimension;
    if (dim < 0 || dim >= x->rank || (size_t)x->shape[dim] != nscale)
      return mnv3_fail(l->error, "tensor %d ('%s') has %zu scales along dimension "
                                 "%d, which does not match its shape", t,
                       tensor_name(l, t), nscale, dim);
    channels = nscale;
    for (int i = dim + 1; i < x->rank; i++)
      inner *= (size_t)x->shape[i];
  } else if (nscale == 0 && fallback_scale && fallback_count > 1) {
    if (x->rank < 1 || (size_t)x->shape[x->rank - 1] != fallback_count)
      return mnv3_fail(l->error, "tensor %d ('%s') has no scale and does not "
                                 "match its weights' channels", t, tensor_name(l, t));
    channels = fallback_count;
  }
  const size_t nzero = x->zero_point.count;
  if (nzero > 1 && nzero != nscale)
    return mnv3_fail(l->error, "tensor %d ('%s') has %zu zero points for %zu "
                               "scales", t, tensor_name(l, t), nzero, nscale);
  const int quantized = x->type != TFL_FLOAT32;
  if (quantized && nscale == 0 && !fallback_scale)
    return mnv3_fail(l->error, "tensor %d ('%s') is %s but has no quantization "
                               "scale", t, tensor_name(l, t), tfl_type_name(x->type));
  for (size_t i = 0; i < count; i++) {
    const uint8_t *p = x->data + i * esize;
    if (!quantized) {
      out[i] = read_float(p);
      if (!isfinite(out[i]))
        return corrupt_value(l, t, i);
      continue;
    }
    double q;
    switch (x->type) {
    case TFL_UINT8: q = p[0]; break;
    case TFL_INT8: q = (int8_t)p[0]; break;
    case TFL_INT16: q = (int16_t)(p[0] | p[1] << 8); break;
    default: q = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                           (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24); break;
    }
    const size_t c = channels > 1 ? (i / inner) % channels : 0;
    const double s = nscale ? tfl_vec_f32(&l->m, x->scale, nscale > 1 ? (uint32_t)c : 0)
                            : fallback_scale[fallback_count > 1 ? c : 0];
    const double z = nzero ? (double)tfl_vec_i64(&l->m, x->zero_point,
                                                 nzero > 1 ? (uint32_t)c : 0)
                           : 0.0;
    if (!isfinite(s) || s < 0.0)
      return mnv3_fail(l->error, "tensor %d ('%s') has quantization scale %g; "
                                 "scales must be finite and not negative: the "
                                 "model is corrupt", t, tensor_name(l, t), s);
    out[i] = (float)((q - z) * s);
    if (!isfinite(out[i]))
      return corrupt_value(l, t, i);
  }
  return 0;
}

/* A scalar constant operand (ADD 3, MUL 1/6, MUL 2, ...). */
static int scalar_constant(loader *l, int t, double *value) {
  if (t < 0 || !l->m.tensors[t].data || element_count(&l->m.tensors[t]) != 1)
    return -1;
  float v;
  mnv3_error saved = l->error ? *l->error : (mnv3_error){{0}};
  if (dequantize(l, t, &v, 1, NULL, 0)) {
    if (l->error)
      *l->error = saved;
    return -1;
  }
  *value = v;
  return 0;
}

static int near(double value, double want) {
  return fabs(value - want) <= CONST_TOLERANCE * fmax(1.0, fabs(want));
}

/* An elementwise op of `t` and a scalar constant: returns the constant's
 * operand index (value in *value), or -1 when the op is not of that shape. */
static int const_operand(loader *l, const tfl_op *op, int t, double *value) {
  if (op->inputs.count != 2)
    return -1;
  const int a = in_tensor(l, op, 0), b = in_tensor(l, op, 1);
  if (a == t && scalar_constant(l, b, value) == 0)
    return 1;
  if (b == t && scalar_constant(l, a, value) == 0 && op->code != TFL_SUB)
    return 0;
  return -1;
}

/* Records that TFLite tensor t now stands for network tensor id. */
static void bind(loader *l, int t, int id) { l->net_of[t] = id; }

static int check_reads(loader *l, const tfl_op *op, int t, int want_id,
                       const char *role) {
  if (t < 0 || l->net_of[t] != want_id)
    return mnv3_fail(l->error, "op %d (%s) reads tensor %d ('%s') where %s was "
                               "expected; the graph is wired differently from the "
                               "network the config describes", l->next,
                     op_name(l, l->next), t, t >= 0 ? tensor_name(l, t) : "none",
                     role);
  (void)op;
  return 0;
}

/* ---- the graph input ----------------------------------------------------- */

/* The network takes [-1, 1] (config mean/std 0.5). A float graph may first
 * QUANTIZE its input and rescale [0, 1] to [-1, 1] with MUL 2 and SUB 1
 * (TF-Hub); those ops are done by the config's normalisation instead, and
 * the ranges of their tensors become a clamp on the network input. */
static int match_input(loader *l) {
  if (l->m.inputs.count != 1)
    return mnv3_fail(l->error, "the graph has %u inputs; a MobileNetV3 "
                               "classifier has one image input", l->m.inputs.count);
  int t = tfl_vec_i32(&l->m, l->m.inputs, 0);
  const tfl_tensor *x = &l->m.tensors[t];
  if (x->rank != 4 || x->shape[0] != 1 || x->shape[3] != 3)
    return mnv3_fail(l->error, "the graph input '%s' is not a 1 x H x W x 3 image",
                     tensor_name(l, t));
  if (x->type != TFL_FLOAT32 && x->type != TFL_UINT8 && x->type != TFL_INT8)
    return mnv3_fail(l->error, "the graph input has type %s; float32, uint8 or "
                               "int8 were expected", tfl_type_name(x->type));
  /* value(tensor) = a * value(graph input) + b along the prefix; the ranges
     are kept in graph-input units until the final scale is known. */
  double a = 1.0, b = 0.0;
  range seen[8];
  double seen_a[8], seen_b[8];
  int num_seen = 0;
  seen[num_seen] = tensor_range(l, t);
  seen_a[num_seen] = a;
  seen_b[num_seen++] = b;
  for (const tfl_op *op; (op = peek(l)) && num_seen < 8; l->next++) {
    double c;
    int which;
    if ((op->code == TFL_QUANTIZE || op->code == TFL_DEQUANTIZE) &&
        in_tensor(l, op, 0) == t) {
      /* only the clamp of the output type matters in float */
    } else if (op->code == TFL_MUL && (which = const_operand(l, op, t, &c)) >= 0 &&
               c > 0 && op->activation == TFL_ACT_NONE) {
      a *= c;
      b *= c;
    } else if ((op->code == TFL_SUB || op->code == TFL_ADD) &&
               (which = const_operand(l, op, t, &c)) >= 0 &&
               op->activation == TFL_ACT_NONE) {
      b += op->code == TFL_SUB ? -c : c;
    } else {
      break;
    }
    t = out_tensor(l, op);
    seen[num_seen] = tensor_range(l, t);
    seen_a[num_seen] = a;
    seen_b[num_seen++] = b;
  }
  if (!(near(a, 1.0) && near(b, 0.0)) && !(near(a, 2.0) && near(b, -1.0)))
    return mnv3_fail(l->error, "the graph rescales its input as %g * x %+g; only "
                               "a [-1, 1] input or the [0, 1] -> [-1, 1] rescale "
                               "(2 * x - 1) is supported", a, b);
  /* Every prefix tensor's range, in the units of the final one. */
  l->input = RANGE_ALL;
  for (int i = 0; i < num_seen; i++) {
    if (isinf(seen[i].lo) && isinf(seen[i].hi))
      continue;
    const double k = a / seen_a[i];
    const double lo = (seen[i].lo - seen_b[i]) * k + b;
    const double hi = (seen[i].hi - seen_b[i]) * k + b;
    l->input = intersect(l->input, (range){(float)lo, (float)hi});
  }
  bind(l, t, 0);
  return 0;
}

/* ---- pass-through ops ----------------------------------------------------- */

/* RESHAPE, SQUEEZE, (DE)QUANTIZE and average pooling of a 1 x 1 map change
 * nothing in float but their output range; that range is folded into the
 * clamp of the op that produced their input. */
static int is_pass_through(const loader *l, const tfl_op *op) {
  const int t = in_tensor(l, op, 0);
  if (t < 0 || l->net_of[t] < 0 || op->outputs.count != 1)
    return 0;
  switch (op->code) {
  case TFL_RESHAPE:
  case TFL_SQUEEZE:
  case TFL_QUANTIZE:
  case TFL_DEQUANTIZE:
    return 1;
  case TFL_AVERAGE_POOL_2D: {
    const tfl_tensor *x = &l->m.tensors[t];
    return x->rank == 4 && x->shape[1] == 1 && x->shape[2] == 1 &&
           op->filter_w == 1 && op->filter_h == 1 &&
           op->activation == TFL_ACT_NONE;
  }
  default:
    return 0;
  }
}

static int skip_pass_through(loader *l) {
  for (const tfl_op *op; (op = peek(l)) && is_pass_through(l, op); l->next++) {
    const int in = in_tensor(l, op, 0), out = out_tensor(l, op);
    const int id = l->net_of[in];
    const range r = tensor_range(l, out);
    mnv3_op *producer = l->producer[id];
    const range now = producer ? (range){producer->post_lo, producer->post_hi} : l->input;
    const range narrowed = intersect(now, r);
    if (narrowed.lo != now.lo || narrowed.hi != now.hi) {
      /* Narrowing the producer's clamp is exact only when nobody else reads
         the unnarrowed tensor. */
      if (l->readers[in] != 1)
        return mnv3_fail(l->error, "op %d (%s) narrows the range of tensor '%s', "
                                   "which other ops read too; this cannot be "
                                   "expressed", l->next, op_name(l, l->next),
                         tensor_name(l, in));
      if (producer) {
        producer->post_lo = narrowed.lo;
        producer->post_hi = narrowed.hi;
      } else {
        l->input = narrowed;
      }
    }
    bind(l, out, id);
  }
  return 0;
}

/* ---- convolutions --------------------------------------------------------- */

/* Converts the weights of the TFLite op `tc` into op->weight (OIHW,
 * depthwise C x 1 x k x k) and op->bias. */
static int load_conv_weights(loader *l, const tfl_op *tc, mnv3_op *op) {
  const int wt = in_tensor(l, tc, 1), bt = in_tensor(l, tc, 2);
  const int in = in_tensor(l, tc, 0);
  if (wt < 0)
    return mnv3_fail(l->error, "op %d (%s) has no weights", l->next, op_name(l, l->next));
  const tfl_tensor *w = &l->m.tensors[wt];
  const int k = op->kernel;
  int ok;
  if (tc->code == TFL_FULLY_CONNECTED)
    ok = w->rank == 2 && w->shape[0] == op->out_ch && w->shape[1] == op->in_ch && k == 1;
  else if (tc->code == TFL_DEPTHWISE_CONV_2D)
    ok = w->rank == 4 && w->shape[0] == 1 && w->shape[1] == k && w->shape[2] == k &&
         w->shape[3] == op->out_ch;
  else
    ok = w->rank == 4 && w->shape[0] == op->out_ch && w->shape[1] == k &&
         w->shape[2] == k && w->shape[3] == op->in_ch;
  if (!ok) {
    char dims[64] = "";
    for (int i = 0, n = 0; i < w->rank && n < (int)sizeof dims - 12; i++)
      n += snprintf(dims + n, sizeof dims - (size_t)n, "%s%d", i ? " x " : "",
                    (int)w->shape[i]);
    return mnv3_fail(l->error, "op %d (%s) has %s weights where %s was expected",
                     l->next, op_name(l, l->next), dims, describe(op));
  }
  const size_t per_out = op->depthwise ? (size_t)k * k : (size_t)op->in_ch * k * k;
  const size_t count = per_out * (size_t)op->out_ch;
  float *raw = malloc(count * sizeof *raw);
  float *weight = malloc(count * sizeof *weight);
  float *bias = calloc((size_t)op->out_ch, sizeof *bias);
  float *wscale = NULL, *step = NULL;
  if (!raw || !weight || !bias) {
    mnv3_fail(l->error, "out of memory loading %s", op->key);
    goto fail;
  }
  if (dequantize(l, wt, raw, count, NULL, 0))
    goto fail;
  /* The weights' grid per output channel (quantized_dimension is the
     output channel in every layout below). */
  if (w->type != TFL_FLOAT32 && (w->scale.count == 1 || w->scale.count == (size_t)op->out_ch)) {
    if (!(step = malloc((size_t)op->out_ch * sizeof *step))) {
      mnv3_fail(l->error, "out of memory loading %s", op->key);
      goto fail;
    }
    for (int o = 0; o < op->out_ch; o++)
      step[o] = tfl_vec_f32(&l->m, w->scale, w->scale.count == 1 ? 0 : (uint32_t)o);
  }
  /* TFLite: OHWI, depthwise 1HWO, fully connected OI. */
  for (int o = 0; o < op->out_ch; o++)
    for (int y = 0; y < k; y++)
      for (int x = 0; x < k; x++) {
        if (op->depthwise) {
          weight[((size_t)o * k + y) * k + x] = raw[((size_t)y * k + x) * op->out_ch + o];
          continue;
        }
        for (int i = 0; i < op->in_ch; i++)
          weight[(((size_t)o * op->in_ch + i) * k + y) * k + x] =
              raw[(((size_t)o * k + y) * k + x) * op->in_ch + i];
      }
  if (bt >= 0) {
    /* An int32 bias without its own scale has input scale * weight scale. */
    const tfl_tensor *x = &l->m.tensors[in];
    size_t nscale = w->scale.count;
    if (nscale) {
      wscale = malloc(nscale * sizeof *wscale);
      if (!wscale) {
        mnv3_fail(l->error, "out of memory loading %s", op->key);
        goto fail;
      }
      const float in_scale = x->scale.count == 1 ? tfl_vec_f32(&l->m, x->scale, 0) : 1.0f;
      for (size_t i = 0; i < nscale; i++)
        wscale[i] = in_scale * tfl_vec_f32(&l->m, w->scale, (uint32_t)i);
    }
    if (dequantize(l, bt, bias, (size_t)op->out_ch, wscale, nscale))
      goto fail;
  }
  free(raw);
  free(wscale);
  free(op->weight);
  free(op->bias);
  free(op->weight_step);
  op->weight = weight;
  op->bias = bias;
  op->weight_step = step;
  return 0;
fail:
  free(raw);
  free(weight);
  free(bias);
  free(wscale);
  free(step);
  return -1;
}

static int check_conv_options(loader *l, const tfl_op *tc, const mnv3_op *op) {
  if (tc->code == TFL_FULLY_CONNECTED)
    return 0;
  const int want = tc->code == TFL_DEPTHWISE_CONV_2D ? TFL_OPT_DEPTHWISE_CONV2D
                                                     : TFL_OPT_CONV2D;
  if (tc->options_type != want)
    return mnv3_fail(l->error, "op %d (%s) lacks its convolution options", l->next,
                     op_name(l, l->next));
  if (tc->stride_w != op->stride || tc->stride_h != op->stride ||
      tc->dilation_w != op->dilation || tc->dilation_h != op->dilation)
    return mnv3_fail(l->error, "op %d (%s) has stride %dx%d and dilation %dx%d "
                               "where %s with dilation %d was expected", l->next,
                     op_name(l, l->next), tc->stride_h, tc->stride_w,
                     tc->dilation_h, tc->dilation_w, describe(op), op->dilation);
  /* VALID equals SAME for a 1x1 kernel. */
  if (tc->padding != TFL_PAD_SAME && op->kernel != 1)
    return mnv3_fail(l->error, "op %d (%s) uses VALID padding; only SAME padding "
                               "is supported for %dx%d kernels", l->next,
                     op_name(l, l->next), op->kernel, op->kernel);
  if (op->depthwise && tc->depth_multiplier > 1)
    return mnv3_fail(l->error, "op %d (DEPTHWISE_CONV_2D) has depth multiplier "
                               "%d; 1 was expected", l->next, tc->depth_multiplier);
  return 0;
}

/* A network CONV with act HSIGMOID: relu6(x + 3) / 6 spelt either as
 * conv -> ADD 3 [-> RELU6] -> MUL 1/6 (TF-slim) or as conv with the 3 folded
 * into its bias and a fused RELU6 -> MUL 1/6 (TF-Hub). */
static int match_hard_sigmoid(loader *l, mnv3_op *op, int fused, int *t, range *pre) {
  const tfl_op *next = peek(l);
  double c;
  if (fused == TFL_ACT_RELU6) {
    for (int o = 0; o < op->out_ch; o++)
      op->bias[o] -= 3.0f;
    *pre = shift(intersect(*pre, act_range(TFL_ACT_RELU6)), -3.0f);
  } else if (fused == TFL_ACT_NONE && next && next->code == TFL_ADD &&
             const_operand(l, next, *t, &c) >= 0 && near(c, 3.0)) {
    /* (x + 3) clamped to the ADD's range is x clamped to that range - 3. */
    range sum = intersect(tensor_range(l, out_tensor(l, next)),
                          act_range(next->activation));
    *t = out_tensor(l, next);
    l->next++;
    next = peek(l);
    if (next && next->code == TFL_RELU6 && in_tensor(l, next, 0) == *t) {
      sum = intersect(sum, intersect(act_range(TFL_ACT_RELU6),
                                     tensor_range(l, out_tensor(l, next))));
      *t = out_tensor(l, next);
      l->next++;
    }
    if (!(sum.lo >= -1e-3f && sum.hi <= 6.0f + 1e-3f))
      return mnv3_fail(l->error, "op %d: the hard sigmoid of %s does not clamp "
                                 "x + 3 to [0, 6] (its range is [%g, %g])",
                       l->next, op->key, sum.lo, sum.hi);
    *pre = intersect(*pre, shift(sum, -3.0f));
  } else {
    return mnv3_fail(l->error, "op %d is %s where the hard sigmoid of %s (ADD 3, "
                               "or a fused RELU6 with the 3 in the bias) was "
                               "expected", l->next, op_name(l, l->next), op->key);
  }
  next = peek(l);
  if (!next || next->code != TFL_MUL || const_operand(l, next, *t, &c) < 0 ||
      !near(c * 6.0, 1.0) || next->activation != TFL_ACT_NONE)
    return mnv3_fail(l->error, "op %d is %s where the hard sigmoid of %s should "
                               "divide by 6 (MUL 0.1667)", l->next,
                     op_name(l, l->next), op->key);
  *t = out_tensor(l, next);
  l->next++;
  return 0;
}

/* Takes the ops after the convolution that complete the network op's
 * activation (and residual) and sets its clamps. t: the conv's output. */
static int match_epilogue(loader *l, mnv3_op *op, int fused, int t) {
  range pre = intersect(tensor_range(l, t), act_range(fused));
  const tfl_op *next;
  switch (op->act) {
  case MNV3_ACT_NONE:
    if (fused != TFL_ACT_NONE)
      return mnv3_fail(l->error, "op %d (%s) has a fused activation where %s has "
                                 "none", l->next - 1, op_name(l, l->next - 1),
                       op->key);
    break;
  case MNV3_ACT_RELU:
    /* A quantized range starting at 0 is the ReLU of the uint8 graphs. */
    if (fused == TFL_ACT_NONE && !(pre.lo >= -1e-6f))
      return mnv3_fail(l->error, "op %d (%s) has no ReLU (neither fused nor by its "
                                 "output range, which starts at %g) where %s needs "
                                 "one", l->next - 1, op_name(l, l->next - 1),
                       pre.lo, op->key);
    if (fused != TFL_ACT_NONE && fused != TFL_ACT_RELU && fused != TFL_ACT_RELU6)
      return mnv3_fail(l->error, "op %d has fused activation %d where %s needs a "
                                 "ReLU", l->next - 1, fused, op->key);
    break;
  case MNV3_ACT_HSWISH:
  case MNV3_ACT_SIGMOID: {
    const int code = op->act == MNV3_ACT_HSWISH ? TFL_HARD_SWISH : TFL_LOGISTIC;
    next = peek(l);
    char buf[32];
    if (fused != TFL_ACT_NONE || !next || next->code != code ||
        in_tensor(l, next, 0) != t)
      return mnv3_fail(l->error, "op %d is %s where the %s of %s was expected",
                       l->next, op_name(l, l->next), tfl_op_name(code, buf, sizeof buf),
                       op->key);
    t = out_tensor(l, next);
    l->next++;
    break;
  }
  case MNV3_ACT_HSIGMOID:
    if (match_hard_sigmoid(l, op, fused, &t, &pre))
      return -1;
    break;
  }
  range post = tensor_range(l, t);
  if (op->in1 != MNV3_NO_TENSOR) {
    /* The residual ADD: the conv's range applies before the sum. */
    next = peek(l);
    if (!next || next->code != TFL_ADD || next->inputs.count != 2 ||
        next->activation != TFL_ACT_NONE)
      return mnv3_fail(l->error, "op %d is %s where the residual ADD of %s was "
                                 "expected", l->next, op_name(l, l->next), op->key);
    const int a = in_tensor(l, next, 0), b = in_tensor(l, next, 1);
    const int other = a == t ? b : a;
    if ((a != t && b != t) || check_reads(l, next, other, op->in1, "the block's input"))
      return mnv3_fail(l->error, "op %d (ADD) does not add the block input to the "
                                 "output of %s", l->next, op->key);
    t = out_tensor(l, next);
    post = tensor_range(l, t);
    l->next++;
  }
  op->pre_lo = pre.lo;
  op->pre_hi = pre.hi;
  op->post_lo = post.lo;
  op->post_hi = post.hi;
  bind(l, t, op->out);
  return 0;
}

static int match_conv(loader *l, mnv3_op *op) {
  const tfl_op *tc = peek(l);
  const int want = op->depthwise ? TFL_DEPTHWISE_CONV_2D : TFL_CONV_2D;
  if (!tc || (tc->code != want &&
              !(tc->code == TFL_FULLY_CONNECTED && !op->depthwise && op->kernel == 1)))
    return unexpected(l, op);
  if (check_reads(l, tc, in_tensor(l, tc, 0), op->in0, "the output of the previous layer") ||
      check_conv_options(l, tc, op) || load_conv_weights(l, tc, op))
    return -1;
  const int out = out_tensor(l, tc);
  const tfl_tensor *y = &l->m.tensors[out];
  if (y->rank < 1 || y->shape[y->rank - 1] != op->out_ch)
    return mnv3_fail(l->error, "op %d (%s) writes %d channels where %s was expected",
                     l->next, op_name(l, l->next),
                     y->rank ? (int)y->shape[y->rank - 1] : 0, describe(op));
  op->padding = MNV3_PAD_SAME;
  const int fused = tc->activation;
  l->next++;
  return match_epilogue(l, op, fused, out);
}

/* ---- pooling and gating --------------------------------------------------- */

static int match_global_pool(loader *l, mnv3_op *op) {
  const tfl_op *tp = peek(l);
  if (!tp || (tp->code != TFL_AVERAGE_POOL_2D && tp->code != TFL_MEAN))
    return unexpected(l, op);
  const int in = in_tensor(l, tp, 0);
  if (check_reads(l, tp, in, op->in0, "the feature map to pool"))
    return -1;
  const tfl_tensor *x = &l->m.tensors[in];
  if (x->rank != 4)
    return mnv3_fail(l->error, "op %d (%s) pools a tensor of rank %d", l->next,
                     op_name(l, l->next), x->rank);
  if (tp->code == TFL_AVERAGE_POOL_2D) {
    if (tp->filter_h != x->shape[1] || tp->filter_w != x->shape[2] ||
        tp->activation != TFL_ACT_NONE)
      return mnv3_fail(l->error, "op %d (AVERAGE_POOL_2D) has a %dx%d window over "
                                 "a %dx%d map; a global average was expected",
                       l->next, tp->filter_h, tp->filter_w, (int)x->shape[1],
                       (int)x->shape[2]);
  } else {
    const int axes = in_tensor(l, tp, 1);
    const tfl_tensor *a = axes >= 0 ? &l->m.tensors[axes] : NULL;
    int hw = 0;
    if (a && a->data && a->type == TFL_INT32 && element_count(a) == 2 &&
        a->data_size == 8) {
      for (int i = 0; i < 2; i++) {
        const uint8_t *p = a->data + 4 * i;
        const int32_t axis = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                                       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        hw |= axis == 1 || axis == -3 ? 1 : axis == 2 || axis == -2 ? 2 : 4;
      }
    }
    if (hw != 3)
      return mnv3_fail(l->error, "op %d (MEAN) does not average over height and "
                                 "width", l->next);
  }
  const range r = tensor_range(l, out_tensor(l, tp));
  op->post_lo = r.lo;
  op->post_hi = r.hi;
  bind(l, out_tensor(l, tp), op->out);
  l->next++;
  return 0;
}

static int match_mul_channel(loader *l, mnv3_op *op) {
  const tfl_op *tm = peek(l);
  if (!tm || tm->code != TFL_MUL || tm->inputs.count != 2 ||
      tm->activation != TFL_ACT_NONE)
    return unexpected(l, op);
  const int a = in_tensor(l, tm, 0), b = in_tensor(l, tm, 1);
  const int ida = a >= 0 ? l->net_of[a] : -1, idb = b >= 0 ? l->net_of[b] : -1;
  if (!((ida == op->in0 && idb == op->in1) || (ida == op->in1 && idb == op->in0)))
    return mnv3_fail(l->error, "op %d (MUL) does not multiply the feature map by "
                               "its squeeze-and-excitation gate", l->next);
  const range r = tensor_range(l, out_tensor(l, tm));
  op->post_lo = r.lo;
  op->post_hi = r.hi;
  bind(l, out_tensor(l, tm), op->out);
  l->next++;
  return 0;
}

/* ---- the whole graph ------------------------------------------------------ */

/* After the classifier: an optional SOFTMAX (the engine gives logits), then
 * nothing but pass-through ops up to the graph output. */
static int match_tail(loader *l) {
  if (skip_pass_through(l))
    return -1;
  const tfl_op *op = peek(l);
  int out = -1;
  if (op && op->code == TFL_SOFTMAX) {
    if (check_reads(l, op, in_tensor(l, op, 0), l->net->output, "the logits"))
      return -1;
    out = out_tensor(l, op);
    l->next++;
    /* A DEQUANTIZE of the probabilities may follow. */
    for (; (op = peek(l)) && (op->code == TFL_DEQUANTIZE || op->code == TFL_RESHAPE) &&
           in_tensor(l, op, 0) == out;
         l->next++)
      out = out_tensor(l, op);
  }
  if (l->next < l->m.num_ops)
    return mnv3_fail(l->error, "op %d (%s) follows the classifier; the graph "
                               "should end there", l->next, op_name(l, l->next));
  if (l->m.outputs.count != 1)
    return mnv3_fail(l->error, "the graph has %u outputs; one was expected",
                     l->m.outputs.count);
  const int result = tfl_vec_i32(&l->m, l->m.outputs, 0);
  if (result != out && l->net_of[result] != l->net->output)
    return mnv3_fail(l->error, "the graph output '%s' is not the classifier's "
                               "result", tensor_name(l, result));
  return 0;
}

static int count_readers(loader *l) {
  l->readers = calloc((size_t)l->m.num_tensors, sizeof *l->readers);
  l->net_of = malloc((size_t)l->m.num_tensors * sizeof *l->net_of);
  l->producer = calloc((size_t)l->net->num_tensors + 1, sizeof *l->producer);
  if (!l->readers || !l->net_of || !l->producer)
    return mnv3_fail(l->error, "out of memory");
  for (int i = 0; i < l->m.num_tensors; i++)
    l->net_of[i] = -1;
  for (int i = 0; i < l->m.num_ops; i++)
    for (uint32_t k = 0; k < l->m.ops[i].inputs.count; k++) {
      const int t = tfl_op_input(&l->m, &l->m.ops[i], k);
      if (t >= 0)
        l->readers[t]++;
    }
  for (int i = 0; i < l->net->num_ops; i++) {
    mnv3_op *op = &l->net->ops[i];
    if (op->out < 0 || op->out >= l->net->num_tensors)
      return mnv3_fail(l->error, "internal error: network op %d writes tensor %d",
                       i, op->out);
    l->producer[op->out] = op;
  }
  return 0;
}

static int match_network(loader *l) {
  mnv3_network *net = l->net;
  if (net->task != MNV3_TASK_CLASSIFY)
    return mnv3_fail(l->error, "TFLite models can be loaded for classification "
                               "networks only; the config describes a "
                               "segmentation network");
  if (count_readers(l) || match_input(l))
    return -1;
  for (int i = 0; i < net->num_ops; i++) {
    mnv3_op *op = &net->ops[i];
    if (skip_pass_through(l))
      return -1;
    int rc;
    switch (op->kind) {
    case MNV3_OP_CONV:
      rc = match_conv(l, op);
      break;
    case MNV3_OP_GLOBAL_POOL:
      rc = match_global_pool(l, op);
      break;
    case MNV3_OP_MUL_CHANNEL:
      rc = match_mul_channel(l, op);
      break;
    default:
      rc = mnv3_fail(l->error, "the network needs %s, which TFLite graphs are "
                               "not matched for", describe(op));
      break;
    }
    if (rc) {
      /* The classes are the commonest mismatch: say so plainly. */
      if (op->kind == MNV3_OP_CONV && i == net->num_ops - 1 && peek(l) &&
          (peek(l)->code == TFL_CONV_2D || peek(l)->code == TFL_FULLY_CONNECTED)) {
        const int w = in_tensor(l, peek(l), 1);
        if (w >= 0 && l->m.tensors[w].rank >= 1 &&
            l->m.tensors[w].shape[0] != op->out_ch)
          return mnv3_fail(l->error, "the .tflite classifies into %d outputs but the "
                                     "config says num-classes %d (Google's releases "
                                     "have 1001: set num-classes: 1001 and "
                                     "background-class: true)",
                           (int)l->m.tensors[w].shape[0], op->out_ch);
      }
      return -1;
    }
  }
  return match_tail(l);
}

int mnv3_tflite_load_bytes(const char *name, const uint8_t *bytes, size_t size,
                           mnv3_network *net, mnv3_error *error) {
  loader l;
  memset(&l, 0, sizeof l);
  l.net = net;
  l.error = error;
  l.input = RANGE_ALL;
  int rc = tfl_parse(bytes, size, &l.m, error);
  if (rc == 0)
    rc = match_network(&l);
  if (rc == 0) {
    /* The range the graph gives its input (TF-Hub: [-1, 0.99608] after its
       own rescale); without it probabilities differ by up to 3e-4. */
    net->input_lo = l.input.lo;
    net->input_hi = l.input.hi;
  } else {
    /* Leave no half-loaded network behind. */
    for (int i = 0; i < net->num_ops; i++) {
      free(net->ops[i].weight);
      free(net->ops[i].bias);
      net->ops[i].weight = net->ops[i].bias = NULL;
    }
    mnv3_error_prefix(error, "%s: ", name);
  }
  free(l.net_of);
  free(l.readers);
  free(l.producer);
  tfl_model_clear(&l.m);
  return rc;
}

int mnv3_tflite_load(const char *path, mnv3_network *net, mnv3_error *error) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return mnv3_fail(error, "cannot open the TFLite model %s: %s (run models/fetch "
                            "to install the released models)", path, strerror(errno));
  uint8_t *bytes = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return mnv3_fail(error, "cannot read %s: not a regular file", path);
  }
  bytes = malloc(size ? (size_t)size : 1);
  if (!bytes) {
    fclose(f);
    return mnv3_fail(error, "out of memory reading %s (%ld bytes)", path, size);
  }
  const size_t got = fread(bytes, 1, (size_t)size, f);
  fclose(f);
  if (got != (size_t)size) {
    free(bytes);
    return mnv3_fail(error, "cannot read %s: got %zu of %ld bytes", path, got, size);
  }
  int rc = mnv3_tflite_load_bytes(path, bytes, (size_t)size, net, error);
  free(bytes);
  return rc;
}
