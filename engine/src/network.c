/* The MobileNetV3 family as data: the paper's block tables (as torchvision
 * 0.14 spells them) turned into a flat list of ops with torchvision's
 * state_dict key names, so that a weight file can be matched key by key. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bneck {
  int in, kernel, expanded, out;
  int se, hswish, stride;
  int in_last_stage; /* dilated (rate 2, stride 1) for segmentation */
} bneck;

/* Howard et al., Table 1 (Large) and Table 2 (Small). */
static const bneck large_blocks[] = {
    {16, 3, 16, 16, 0, 0, 1, 0},    {16, 3, 64, 24, 0, 0, 2, 0},
    {24, 3, 72, 24, 0, 0, 1, 0},    {24, 5, 72, 40, 1, 0, 2, 0},
    {40, 5, 120, 40, 1, 0, 1, 0},   {40, 5, 120, 40, 1, 0, 1, 0},
    {40, 3, 240, 80, 0, 1, 2, 0},   {80, 3, 200, 80, 0, 1, 1, 0},
    {80, 3, 184, 80, 0, 1, 1, 0},   {80, 3, 184, 80, 0, 1, 1, 0},
    {80, 3, 480, 112, 1, 1, 1, 0},  {112, 3, 672, 112, 1, 1, 1, 0},
    {112, 5, 672, 160, 1, 1, 2, 1}, {160, 5, 960, 160, 1, 1, 1, 1},
    {160, 5, 960, 160, 1, 1, 1, 1},
};
static const bneck small_blocks[] = {
    {16, 3, 16, 16, 1, 0, 2, 0},   {16, 3, 72, 24, 0, 0, 2, 0},
    {24, 3, 88, 24, 0, 0, 1, 0},   {24, 5, 96, 40, 1, 1, 2, 0},
    {40, 5, 240, 40, 1, 1, 1, 0},  {40, 5, 240, 40, 1, 1, 1, 0},
    {40, 5, 120, 48, 1, 1, 1, 0},  {48, 5, 144, 48, 1, 1, 1, 0},
    {48, 5, 288, 96, 1, 1, 2, 1},  {96, 5, 576, 96, 1, 1, 1, 1},
    {96, 5, 576, 96, 1, 1, 1, 1},
};

typedef struct arch {
  const char *name;
  const bneck *blocks;
  int num_blocks;
  int last_channel; /* classifier hidden width before rounding */
  int segmentation;
} arch;

static const arch archs[] = {
    {"mobilenet_v3_large", large_blocks,
     sizeof large_blocks / sizeof *large_blocks, 1280, 0},
    {"mobilenet_v3_small", small_blocks,
     sizeof small_blocks / sizeof *small_blocks, 1024, 0},
    {"lraspp_mobilenet_v3_large", large_blocks,
     sizeof large_blocks / sizeof *large_blocks, 0, 1},
};

#define LRASPP_INTER_CHANNELS 128

int mnv3_round_channels(double channels, double width_multiplier) {
  const double v = channels * width_multiplier;
  const int divisor = 8;
  int rounded = (int)(v + divisor / 2.0) / divisor * divisor;
  if (rounded < divisor)
    rounded = divisor;
  if (rounded < 0.9 * v)
    rounded += divisor;
  return rounded;
}

typedef struct builder {
  mnv3_network *net;
  int capacity;
  const char *prefix; /* "features" or "backbone" */
} builder;

static mnv3_op *new_op(builder *b, mnv3_op_kind kind, int in0, int in1) {
  mnv3_network *net = b->net;
  if (net->num_ops == b->capacity) {
    int capacity = b->capacity ? 2 * b->capacity : 64;
    mnv3_op *ops = realloc(net->ops, (size_t)capacity * sizeof *ops);
    if (!ops)
      return NULL;
    net->ops = ops;
    b->capacity = capacity;
  }
  mnv3_op *op = &net->ops[net->num_ops++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->in0 = in0;
  op->in1 = in1;
  op->out = net->num_tensors++;
  op->pre_lo = op->post_lo = -INFINITY;
  op->pre_hi = op->post_hi = INFINITY;
  return op;
}

typedef struct conv_spec {
  int in_ch, out_ch, kernel, stride, dilation, depthwise;
  mnv3_act act;
  int has_bn, has_bias, is_linear;
  float bn_eps; /* 0: MobileNetV3's BatchNorm eps of 1e-3 */
} conv_spec;

/* Returns the output tensor id, or -1 when out of memory. */
static int add_conv(builder *b, int input, int residual, const conv_spec *s,
                    const char *key_fmt, ...) __attribute__((format(printf, 5, 6)));
static int add_conv(builder *b, int input, int residual, const conv_spec *s,
                    const char *key_fmt, ...) {
  mnv3_op *op = new_op(b, MNV3_OP_CONV, input, residual);
  if (!op)
    return -1;
  op->in_ch = s->in_ch;
  op->out_ch = s->out_ch;
  op->kernel = s->kernel;
  op->stride = s->stride;
  op->dilation = s->dilation ? s->dilation : 1;
  op->depthwise = s->depthwise;
  op->act = s->act;
  op->has_bn = s->has_bn;
  op->has_bias = s->has_bias;
  op->is_linear = s->is_linear;
  op->bn_eps = s->bn_eps > 0 ? s->bn_eps : 1e-3f;
  va_list args;
  va_start(args, key_fmt);
  vsnprintf(op->key, sizeof op->key, key_fmt, args);
  va_end(args);
  return op->out;
}

static int add_simple(builder *b, mnv3_op_kind kind, int in0, int in1) {
  mnv3_op *op = new_op(b, kind, in0, in1);
  return op ? op->out : -1;
}

/* One inverted residual block (features.<index>), torchvision's
 * InvertedResidual: [expand 1x1] -> depthwise -> [SE] -> project 1x1. */
static int add_block(builder *b, int x, int index, const bneck *t,
                     double width, int dilated) {
  const int in = mnv3_round_channels(t->in, width);
  const int expanded = mnv3_round_channels(t->expanded, width);
  const int out = mnv3_round_channels(t->out, width);
  const mnv3_act act = t->hswish ? MNV3_ACT_HSWISH : MNV3_ACT_RELU;
  const int dilation = dilated && t->in_last_stage ? 2 : 1;
  const int stride = dilation > 1 ? 1 : t->stride;
  const char *p = b->prefix;
  int layer = 0;
  int y = x;
  if (expanded != in) {
    conv_spec expand = {in, expanded, 1, 1, 1, 0, act, 1, 0, 0};
    y = add_conv(b, y, MNV3_NO_TENSOR, &expand, "%s.%d.block.%d", p, index, layer++);
    if (y < 0)
      return -1;
  }
  conv_spec dw = {expanded, expanded, t->kernel, stride, dilation, 1, act, 1, 0, 0};
  y = add_conv(b, y, MNV3_NO_TENSOR, &dw, "%s.%d.block.%d", p, index, layer++);
  if (y < 0)
    return -1;
  if (t->se) {
    const int squeeze = mnv3_round_channels(expanded / 4, 1.0);
    conv_spec fc1 = {expanded, squeeze, 1, 1, 1, 0, MNV3_ACT_RELU, 0, 1, 0};
    conv_spec fc2 = {squeeze, expanded, 1, 1, 1, 0, MNV3_ACT_HSIGMOID, 0, 1, 0};
    int pooled = add_simple(b, MNV3_OP_GLOBAL_POOL, y, MNV3_NO_TENSOR);
    int s1 = pooled < 0 ? -1
                        : add_conv(b, pooled, MNV3_NO_TENSOR, &fc1, "%s.%d.block.%d.fc1",
                                   p, index, layer);
    int s2 = s1 < 0 ? -1
                    : add_conv(b, s1, MNV3_NO_TENSOR, &fc2, "%s.%d.block.%d.fc2", p,
                               index, layer);
    y = s2 < 0 ? -1 : add_simple(b, MNV3_OP_MUL_CHANNEL, y, s2);
    if (y < 0)
      return -1;
    layer++;
  }
  /* torchvision keeps the residual on the table's stride, so the dilated
     block that would have had stride 2 still has none. */
  const int residual = t->stride == 1 && in == out ? x : MNV3_NO_TENSOR;
  conv_spec project = {expanded, out, 1, 1, 1, 0, MNV3_ACT_NONE, 1, 0, 0};
  return add_conv(b, y, residual, &project, "%s.%d.block.%d", p, index, layer);
}

static int add_classifier_head(builder *b, int x, int channels, const arch *a,
                               double width, int num_classes) {
  const int hidden = mnv3_round_channels(a->last_channel, width);
  conv_spec fc0 = {channels, hidden, 1, 1, 1, 0, MNV3_ACT_HSWISH, 0, 1, 1};
  conv_spec fc3 = {hidden, num_classes, 1, 1, 1, 0, MNV3_ACT_NONE, 0, 1, 1};
  int pooled = add_simple(b, MNV3_OP_GLOBAL_POOL, x, MNV3_NO_TENSOR);
  int h = pooled < 0 ? -1 : add_conv(b, pooled, MNV3_NO_TENSOR, &fc0, "classifier.0");
  return h < 0 ? -1 : add_conv(b, h, MNV3_NO_TENSOR, &fc3, "classifier.3");
}

/* torchvision's LRASPPHead. The high classifier runs before the upsampling
 * to the low features' size instead of after: both are linear and the
 * bilinear weights sum to one, so the result is the same up to rounding
 * while the upsampled tensor has num_classes channels instead of 128. */
static int add_lraspp_head(builder *b, int input, int low, int low_ch,
                           int high, int high_ch, int num_classes) {
  /* The head's BatchNorm keeps PyTorch's default eps. */
  conv_spec cbr = {high_ch, LRASPP_INTER_CHANNELS, 1, 1, 1, 0, MNV3_ACT_RELU, 1, 0, 0, 1e-5f};
  conv_spec scale = {high_ch, LRASPP_INTER_CHANNELS, 1, 1, 1, 0, MNV3_ACT_SIGMOID, 0, 0, 0};
  conv_spec high_cls = {LRASPP_INTER_CHANNELS, num_classes, 1, 1, 1, 0, MNV3_ACT_NONE, 0, 1, 0};
  conv_spec low_cls = {low_ch, num_classes, 1, 1, 1, 0, MNV3_ACT_NONE, 0, 1, 0};
  int x = add_conv(b, high, MNV3_NO_TENSOR, &cbr, "classifier.cbr");
  int pooled = x < 0 ? -1 : add_simple(b, MNV3_OP_GLOBAL_POOL, high, MNV3_NO_TENSOR);
  int s = pooled < 0 ? -1 : add_conv(b, pooled, MNV3_NO_TENSOR, &scale, "classifier.scale.1");
  int gated = s < 0 ? -1 : add_simple(b, MNV3_OP_MUL_CHANNEL, x, s);
  int h = gated < 0 ? -1
                    : add_conv(b, gated, MNV3_NO_TENSOR, &high_cls, "classifier.high_classifier");
  int up = h < 0 ? -1 : add_simple(b, MNV3_OP_RESIZE, h, low);
  int sum = up < 0 ? -1 : add_conv(b, low, up, &low_cls, "classifier.low_classifier");
  return sum < 0 ? -1 : add_simple(b, MNV3_OP_RESIZE, sum, input);
}

static const arch *find_arch(const char *name) {
  for (size_t i = 0; i < sizeof archs / sizeof *archs; i++)
    if (name && strcmp(archs[i].name, name) == 0)
      return &archs[i];
  return NULL;
}

int mnv3_network_build(const mnv3_config *config, mnv3_network *net,
                       mnv3_error *error) {
  memset(net, 0, sizeof *net);
  const arch *a = find_arch(config->architecture);
  if (!a)
    return mnv3_fail(error, "unknown architecture '%s'",
                     config->architecture ? config->architecture : "(none)");
  const double width = config->width_multiplier > 0 ? config->width_multiplier : 1.0;
  builder b = {net, 0, a->segmentation ? "backbone" : "features"};
  net->task = a->segmentation ? MNV3_TASK_SEGMENT : MNV3_TASK_CLASSIFY;
  net->num_classes = config->num_classes;
  net->num_tensors = 1; /* tensor 0: the input */
  net->input_lo = -INFINITY;
  net->input_hi = INFINITY;

  const int stem_ch = mnv3_round_channels(a->blocks[0].in, width);
  conv_spec stem = {3, stem_ch, 3, 2, 1, 0, MNV3_ACT_HSWISH, 1, 0, 0};
  int x = add_conv(&b, 0, MNV3_NO_TENSOR, &stem, "%s.0", b.prefix);

  /* torchvision's LR-ASPP taps the output of the block three strided stages
     from the end ("C2", output stride 8). */
  int strided[16], num_strided = 0;
  for (int i = 0; i < a->num_blocks; i++)
    if (a->blocks[i].stride > 1)
      strided[num_strided++] = i + 1;
  const int low_index = num_strided >= 3 ? strided[num_strided - 3] : 0;
  int low = MNV3_NO_TENSOR, low_ch = 0;

  for (int i = 0; i < a->num_blocks && x >= 0; i++) {
    x = add_block(&b, x, i + 1, &a->blocks[i], width, a->segmentation);
    if (i + 1 == low_index) {
      low = x;
      low_ch = mnv3_round_channels(a->blocks[i].out, width);
    }
  }
  const int last_in = mnv3_round_channels(a->blocks[a->num_blocks - 1].out, width);
  const int last_out = 6 * last_in;
  conv_spec last = {last_in, last_out, 1, 1, 1, 0, MNV3_ACT_HSWISH, 1, 0, 0};
  if (x >= 0)
    x = add_conv(&b, x, MNV3_NO_TENSOR, &last, "%s.%d", b.prefix, a->num_blocks + 1);
  if (x >= 0)
    x = a->segmentation
            ? add_lraspp_head(&b, 0, low, low_ch, x, last_out, config->num_classes)
            : add_classifier_head(&b, x, last_out, a, width, config->num_classes);
  if (x < 0) {
    mnv3_network_clear(net);
    return mnv3_fail(error, "out of memory building %s", a->name);
  }
  net->output = x;
  return 0;
}

void mnv3_network_clear(mnv3_network *net) {
  for (int i = 0; i < net->num_ops; i++) {
    free(net->ops[i].weight);
    free(net->ops[i].bias);
    free(net->ops[i].weight_step);
  }
  free(net->ops);
  memset(net, 0, sizeof *net);
}
