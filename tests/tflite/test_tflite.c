/* The TFLite loader on the two released models and on broken copies of
 * them: what it fills in (weights, SAME padding, the quantized ranges as
 * clamps), the errors it gives for other networks, and that malformed
 * flatbuffers (truncated, bad offsets, cyclic offsets, random damage) are
 * rejected with a message and never read out of bounds. */
#include "internal.h"
#include "tflite_reader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UINT8_MODEL "v3-small_224_1.0_uint8.tflite"
#define INT8_MODEL "mobilenet_v3_small_100_224_int8_ptq.tflite"

static int failures;
/* --quick (for valgrind): fewer truncations and random damages. */
static int damage_rounds = 100, truncations = 64;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

typedef struct blob {
  uint8_t *bytes;
  size_t size;
} blob;

static blob read_model(const char *name) {
  const char *root = getenv("MNV3_SOURCE_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s/../shared/models/%s", root ? root : ".", name);
  blob b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s (set MNV3_SOURCE_ROOT)\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  b.size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  b.bytes = malloc(b.size);
  if (!b.bytes || fread(b.bytes, 1, b.size, f) != b.size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  return b;
}

static void build(mnv3_network *net, const char *arch, int classes) {
  mnv3_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.architecture = (char *)arch;
  cfg.width_multiplier = 1.0;
  cfg.num_classes = classes;
  cfg.background_class = 1;
  mnv3_error err;
  if (mnv3_network_build(&cfg, net, &err)) {
    fprintf(stderr, "mnv3_network_build: %s\n", err.message);
    exit(1);
  }
}

/* Loads bytes into a fresh small network; returns the loader's result. */
static int load(const uint8_t *bytes, size_t size, const char *arch, int classes,
                mnv3_error *err) {
  mnv3_network net;
  build(&net, arch, classes);
  memset(err->message, 0, sizeof err->message);
  int rc = mnv3_tflite_load_bytes("test.tflite", bytes, size, &net, err);
  if (rc == 0)
    for (int i = 0; i < net.num_ops; i++)
      if (net.ops[i].kind == MNV3_OP_CONV && (!net.ops[i].weight || !net.ops[i].bias))
        rc = 99; /* success must mean every weight was filled */
  mnv3_network_clear(&net);
  return rc;
}

static const mnv3_op *find_op(const mnv3_network *net, const char *key) {
  for (int i = 0; i < net->num_ops; i++)
    if (strcmp(net->ops[i].key, key) == 0)
      return &net->ops[i];
  return NULL;
}

/* ---- the released models ------------------------------------------------- */

static void check_loaded(const char *name, const blob *b) {
  mnv3_network net;
  mnv3_error err;
  build(&net, "mobilenet_v3_small", 1001);
  int rc = mnv3_tflite_load_bytes(name, b->bytes, b->size, &net, &err);
  CHECK(rc == 0, "%s: load failed: %s", name, err.message);
  if (rc) {
    mnv3_network_clear(&net);
    return;
  }
  int convs = 0, nonzero_convs = 0;
  for (int i = 0; i < net.num_ops; i++) {
    const mnv3_op *op = &net.ops[i];
    if (op->kind != MNV3_OP_CONV)
      continue;
    convs++;
    CHECK(op->weight && op->bias, "%s: %s has no weights", name, op->key);
    CHECK(op->padding == MNV3_PAD_SAME, "%s: %s is not SAME-padded", name, op->key);
    /* Every conv output of these graphs is quantized: a finite clamp. */
    CHECK(isfinite(op->pre_lo) && isfinite(op->pre_hi) && op->pre_lo < op->pre_hi,
          "%s: %s has pre clamp [%g, %g]", name, op->key, op->pre_lo, op->pre_hi);
    CHECK(isfinite(op->post_lo) && isfinite(op->post_hi),
          "%s: %s has post clamp [%g, %g]", name, op->key, op->post_lo, op->post_hi);
    if (op->act == MNV3_ACT_RELU)
      CHECK(op->pre_lo >= 0.0f, "%s: ReLU op %s has a pre clamp from %g", name,
            op->key, op->pre_lo);
    if (op->act == MNV3_ACT_HSIGMOID)
      CHECK(op->post_lo >= 0.0f && op->post_hi <= 1.0001f && op->pre_lo >= -3.0001f &&
                op->pre_hi <= 3.0001f,
            "%s: hard sigmoid %s clamps [%g, %g] -> [%g, %g]", name, op->key,
            op->pre_lo, op->pre_hi, op->post_lo, op->post_hi);
    size_t n = (size_t)op->out_ch * op->kernel * op->kernel * (op->depthwise ? 1 : op->in_ch);
    int finite = 1, nonzero = 0;
    for (size_t k = 0; k < n; k++) {
      finite &= isfinite(op->weight[k]);
      nonzero += op->weight[k] != 0.0f;
    }
    CHECK(finite, "%s: %s weights are not all finite", name, op->key);
    nonzero_convs += nonzero > 0;
  }
  /* 43 CONV_2D + 11 DEPTHWISE_CONV_2D. One SE layer of the int8 release
     really has all its weights quantized to 0. */
  CHECK(convs == 54, "%s: %d convolutions, MobileNetV3-Small has 54", name, convs);
  CHECK(nonzero_convs >= 53, "%s: only %d convolutions have non-zero weights", name,
        nonzero_convs);
  mnv3_network_clear(&net);
}

/* Spot values computed by hand from the uint8 graph (tflite_ref.py dump):
 * the stem conv's output tensor has scale 0.292073, zero point 99; its
 * HARD_SWISH output scale 0.173324, zero point 2. */
static void check_uint8_details(const blob *b) {
  mnv3_network net;
  mnv3_error err;
  build(&net, "mobilenet_v3_small", 1001);
  if (mnv3_tflite_load_bytes(UINT8_MODEL, b->bytes, b->size, &net, &err)) {
    CHECK(0, "uint8 load: %s", err.message);
    mnv3_network_clear(&net);
    return;
  }
  const mnv3_op *stem = find_op(&net, "features.0");
  CHECK(stem && fabsf(stem->pre_lo - (-99 * 0.292073f)) < 1e-3f &&
            fabsf(stem->pre_hi - (156 * 0.292073f)) < 1e-3f,
        "stem pre clamp [%g, %g]", stem ? stem->pre_lo : 0, stem ? stem->pre_hi : 0);
  CHECK(stem && fabsf(stem->post_lo - (-2 * 0.173324f)) < 1e-4f &&
            fabsf(stem->post_hi - (253 * 0.173324f)) < 1e-3f,
        "stem post clamp [%g, %g]", stem ? stem->post_lo : 0, stem ? stem->post_hi : 0);
  /* First depthwise: a ReLU by range only (zero point 0). */
  const mnv3_op *dw = find_op(&net, "features.1.block.0");
  CHECK(dw && dw->depthwise && dw->act == MNV3_ACT_RELU && dw->pre_lo == 0.0f,
        "features.1.block.0 pre clamp from %g", dw ? dw->pre_lo : -1);
  /* Stem weight [0][0][0][0] = (q - 108) * 0.0323273 with q the first byte
     of the OHWI buffer: recompute through the reader. */
  tfl_model m;
  if (tfl_parse(b->bytes, b->size, &m, &err) == 0) {
    const tfl_op *op0 = &m.ops[0];
    const tfl_tensor *w = &m.tensors[tfl_op_input(&m, op0, 1)];
    const float s = tfl_vec_f32(&m, w->scale, 0);
    const int64_t z = tfl_vec_i64(&m, w->zero_point, 0);
    /* OIHW [o=0][i=1][y=2][x=0] is OHWI [0][2][0][1]. */
    const float want = (float)(w->data[(2 * 3 + 0) * 3 + 1] - z) * s;
    CHECK(stem && fabsf(stem->weight[(1 * 3 + 2) * 3 + 0] - want) < 1e-7f,
          "stem weight layout: %g, want %g", stem ? stem->weight[5] : 0, want);
    CHECK(fabsf(s - 0.0323273f) < 1e-6f && z == 108, "stem weight scale %g zp %lld",
          s, (long long)z);
    tfl_model_clear(&m);
  } else {
    CHECK(0, "tfl_parse: %s", err.message);
  }
  mnv3_network_clear(&net);
}

/* The int8 graph: SE with the +3 folded into the bias (fused RELU6). */
static void check_int8_details(const blob *b) {
  mnv3_network net;
  mnv3_error err;
  build(&net, "mobilenet_v3_small", 1001);
  if (mnv3_tflite_load_bytes(INT8_MODEL, b->bytes, b->size, &net, &err)) {
    CHECK(0, "int8 load: %s", err.message);
    mnv3_network_clear(&net);
    return;
  }
  const mnv3_op *fc2 = find_op(&net, "features.1.block.1.fc2");
  CHECK(fc2 && fc2->act == MNV3_ACT_HSIGMOID && fabsf(fc2->pre_lo + 3.0f) < 1e-4f &&
            fabsf(fc2->pre_hi - 3.0f) < 1e-4f,
        "int8 SE fc2 pre clamp [%g, %g], want [-3, 3]", fc2 ? fc2->pre_lo : 0,
        fc2 ? fc2->pre_hi : 0);
  const mnv3_op *logits = find_op(&net, "classifier.3");
  CHECK(logits && logits->out_ch == 1001 && logits->is_linear, "int8 classifier");
  mnv3_network_clear(&net);
}

/* ---- networks that are not in the file ----------------------------------- */

static void check_wrong_network(const blob *b) {
  mnv3_error err;
  int rc = load(b->bytes, b->size, "mobilenet_v3_large", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "test.tflite: ") == err.message &&
            strstr(err.message, "DEPTHWISE_CONV_2D) has stride 2x2") &&
            strstr(err.message, "features.1.block.0, 3x3 stride 1"),
        "large config on the small model: rc %d, '%s'", rc, err.message);
  rc = load(b->bytes, b->size, "mobilenet_v3_small", 1000, &err);
  CHECK(rc == -1 && strstr(err.message, "1001 outputs") &&
            strstr(err.message, "num-classes 1000"),
        "num-classes 1000: rc %d, '%s'", rc, err.message);
  rc = load(b->bytes, b->size, "lraspp_mobilenet_v3_large", 21, &err);
  CHECK(rc == -1 && strstr(err.message, "classification"),
        "segmentation config: rc %d, '%s'", rc, err.message);
}

/* An op of the real graph replaced: the message names what was found and
 * what the network expected. */
static void check_replaced_op(const blob *b) {
  uint8_t *copy = malloc(b->size);
  memcpy(copy, b->bytes, b->size);
  mnv3_error err;
  /* Swap the opcode_index of op 2 (DEPTHWISE_CONV_2D) and op 3
     (AVERAGE_POOL_2D), walking the flatbuffer by hand: root -> subgraphs[0]
     -> operators[2..3] -> field 0. */
  const uint8_t *p = copy;
#define U32(o) ((uint32_t)p[o] | (uint32_t)p[(o) + 1] << 8 | (uint32_t)p[(o) + 2] << 16 | (uint32_t)p[(o) + 3] << 24)
#define U16(o) ((uint16_t)(p[o] | p[(o) + 1] << 8))
  size_t root = U32(0);
  size_t rvt = root - (int32_t)U32(root);
  size_t sgv = root + U16(rvt + 4 + 2 * 2);
  sgv += U32(sgv);
  size_t sg = sgv + 4 + U32(sgv + 4);
  size_t sgvt = sg - (int32_t)U32(sg);
  size_t opsv = sg + U16(sgvt + 4 + 2 * 3);
  opsv += U32(opsv);
  size_t opindex[2];
  for (int i = 0; i < 2; i++) {
    size_t at = opsv + 4 + 4 * (size_t)(2 + i);
    size_t op = at + U32(at);
    size_t vt = op - (int32_t)U32(op);
    opindex[i] = op + U16(vt + 4);
  }
  uint32_t a = U32(opindex[0]), c = U32(opindex[1]);
  memcpy(copy + opindex[0], &c, 4);
  memcpy(copy + opindex[1], &a, 4);
#undef U32
#undef U16
  int rc = load(copy, b->size, "mobilenet_v3_small", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "op 2 is AVERAGE_POOL_2D where a depthwise "
                                        "convolution (features.1.block.0, 3x3 stride 2"),
        "swapped ops: rc %d, '%s'", rc, err.message);
  free(copy);
}

/* ---- malformed flatbuffers ----------------------------------------------- */

static void check_malformed(const blob *b) {
  mnv3_error err;
  int rc;
  /* Truncated anywhere: a clear error, never a crash. */
  const size_t cuts[] = {0, 1, 4, 7, 8, 12, 16, 64, 100, 1000, 4096};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    rc = load(b->bytes, cuts[i], "mobilenet_v3_small", 1001, &err);
    CHECK(rc == -1 && err.message[0], "truncated to %zu: rc %d", cuts[i], rc);
  }
  for (size_t cut = b->size / (size_t)truncations; cut < b->size;
       cut += b->size / (size_t)truncations) {
    rc = load(b->bytes, cut, "mobilenet_v3_small", 1001, &err);
    CHECK(rc == -1 && err.message[0], "truncated to %zu: rc %d", cut, rc);
  }

  uint8_t *copy = malloc(b->size);
  /* Root offset past the end. */
  memcpy(copy, b->bytes, b->size);
  const uint32_t far = (uint32_t)b->size + 16;
  memcpy(copy, &far, 4);
  rc = load(copy, b->size, "mobilenet_v3_small", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "past the end"), "root offset: '%s'", err.message);
  /* Root offset 0: the table would be its own offset (a cycle). */
  memset(copy, 0, 4);
  rc = load(copy, b->size, "mobilenet_v3_small", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "cyclic"), "cyclic root: '%s'", err.message);
  /* The root table's vtable offset pointing outside the file. */
  memcpy(copy, b->bytes, b->size);
  uint32_t root;
  memcpy(&root, copy, 4);
  const int32_t bad_vt = (int32_t)(root + 1000);
  memcpy(copy + root, &bad_vt, 4);
  rc = load(copy, b->size, "mobilenet_v3_small", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "vtable"), "bad vtable: '%s'", err.message);
  /* Not a TFLite file at all. */
  memcpy(copy, b->bytes, b->size);
  memcpy(copy + 4, "XXXX", 4);
  rc = load(copy, b->size, "mobilenet_v3_small", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "TFL3"), "identifier: '%s'", err.message);

  /* Random damage: any result but a crash or an out-of-bounds read (run
     under valgrind/ASan to see the latter); success only with all weights. */
  uint32_t seed = 12345;
  int rejected = 0;
  for (int round = 0; round < damage_rounds; round++) {
    memcpy(copy, b->bytes, b->size);
    for (int k = 0; k < 8; k++) {
      seed = seed * 1664525u + 1013904223u;
      /* Damage the flatbuffer metadata, which sits near the ends of the file
         (weights are in the middle and loading them cannot fail). */
      size_t region = (seed >> 8) % 2 ? 65536 : b->size;
      size_t pos = (seed >> 4) % region;
      if (region == 65536 && (seed & 1))
        pos = b->size - 1 - pos;
      seed = seed * 1664525u + 1013904223u;
      copy[pos] = (uint8_t)(seed >> 24);
    }
    rc = load(copy, b->size, "mobilenet_v3_small", 1001, &err);
    CHECK(rc == 0 || (rc == -1 && err.message[0]), "damaged copy %d: rc %d", round, rc);
    rejected += rc != 0;
  }
  CHECK(rejected > 0, "no damaged copy was rejected");
  free(copy);

  /* A hand-made flatbuffer whose root table's vtable is the table itself
     (soffset 0): the vtable then claims size 0. */
  uint8_t tiny[16] = {8, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0, 0, 0, 0, 0, 0, 0};
  rc = load(tiny, sizeof tiny, "mobilenet_v3_small", 1001, &err);
  CHECK(rc == -1 && strstr(err.message, "vtable"), "self vtable: '%s'", err.message);

  /* A missing file. */
  mnv3_network net;
  build(&net, "mobilenet_v3_small", 1001);
  rc = mnv3_tflite_load("/nonexistent/model.tflite", &net, &err);
  CHECK(rc == -1 && strstr(err.message, "/nonexistent/model.tflite") &&
            strstr(err.message, "models/fetch"),
        "missing file: '%s'", err.message);
  mnv3_network_clear(&net);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    damage_rounds = 6;
    truncations = 6;
  }
  blob u8 = read_model(UINT8_MODEL);
  blob i8 = read_model(INT8_MODEL);
  check_loaded(UINT8_MODEL, &u8);
  check_loaded(INT8_MODEL, &i8);
  check_uint8_details(&u8);
  check_int8_details(&i8);
  check_wrong_network(&u8);
  check_wrong_network(&i8);
  check_replaced_op(&u8);
  check_malformed(&u8);
  check_malformed(&i8);
  free(u8.bytes);
  free(i8.bytes);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all TFLite loader checks passed\n");
  return 0;
}
