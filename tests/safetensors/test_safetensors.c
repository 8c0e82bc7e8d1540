/* Tests of the safetensors weight loader. Files are written byte by byte
 * here (no Python), so that every malformed variant can be produced: each
 * error path is checked for its message and for leaving the network empty.
 * Run under valgrind too (see meson.build). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);         \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

/* ---- the network under test --------------------------------------------- */

static mnv3_op conv_op(const char *key, int in, int out, int k, int dw,
                       int bn, int bias, int linear) {
  mnv3_op op = {.kind = MNV3_OP_CONV, .in_ch = in, .out_ch = out, .kernel = k,
                .stride = 1, .dilation = 1, .depthwise = dw, .has_bn = bn,
                .has_bias = bias, .is_linear = linear, .in1 = MNV3_NO_TENSOR,
                .pre_lo = -INFINITY, .pre_hi = INFINITY,
                .post_lo = -INFINITY, .post_hi = INFINITY};
  snprintf(op.key, sizeof op.key, "%s", key);
  return op;
}

/* conv+BN, depthwise+BN, a non-conv op, a plain conv with neither bias nor
 * BN, a conv with both (KEY.0.bias), a linear layer with bias, and LR-ASPP's
 * "cbr" conv+BN (whose BatchNorm has torch's default eps, 1e-5). */
static void make_net(mnv3_network *net) {
  memset(net, 0, sizeof *net);
  net->num_ops = 7;
  net->ops = calloc((size_t)net->num_ops, sizeof *net->ops);
  net->ops[0] = conv_op("features.0", 3, 4, 3, 0, 1, 0, 0);
  net->ops[1] = conv_op("features.1.block.0", 4, 4, 3, 1, 1, 0, 0);
  net->ops[2] = (mnv3_op){.kind = MNV3_OP_GLOBAL_POOL, .in1 = MNV3_NO_TENSOR};
  net->ops[3] = conv_op("head", 4, 2, 1, 0, 0, 0, 0);
  net->ops[4] = conv_op("neck", 2, 3, 1, 0, 1, 1, 0);
  net->ops[5] = conv_op("classifier.3", 3, 5, 1, 0, 0, 1, 1);
  net->ops[6] = conv_op("classifier.cbr", 5, 3, 1, 0, 1, 0, 0);
  net->ops[6].bn_eps = 1e-5f;
  net->ops[0].bn_eps = 1e-3f; /* the others leave it 0: the default, 1e-3 */
  for (int i = 0; i < net->num_ops; i++)
    net->ops[i].in0 = i, net->ops[i].out = i + 1;
  net->num_tensors = net->num_ops + 1;
  net->output = net->num_ops;
  net->num_classes = 5;
}

static void free_net(mnv3_network *net) {
  for (int i = 0; i < net->num_ops; i++) {
    free(net->ops[i].weight);
    free(net->ops[i].bias);
  }
  free(net->ops);
  memset(net, 0, sizeof *net);
}

static int net_is_empty(const mnv3_network *net) {
  for (int i = 0; i < net->num_ops; i++)
    if (net->ops[i].weight || net->ops[i].bias)
      return 0;
  return 1;
}

/* ---- the tensors a network needs, with deterministic values ------------- */

typedef struct tspec {
  char name[160];
  int ndim;
  uint64_t shape[4];
  size_t count;
  float *values;
} tspec;

typedef struct tset {
  tspec t[64];
  int n;
} tset;

static uint32_t rng = 12345;
/* Multiples of 1/64 in [-127/64, 127/64]: exact in F32, F16 and BF16, so a
 * file in any dtype holds exactly the same values. */
static float next_value(int positive) {
  rng = rng * 1103515245u + 12345u;
  int v = (int)((rng >> 16) % 255) - 127;
  if (positive)
    v = abs(v) + 1;
  return (float)v / 64.0f;
}

static void add_spec(tset *s, const char *key, const char *suffix, int ndim,
                     const uint64_t *shape, int positive) {
  tspec *t = &s->t[s->n++];
  snprintf(t->name, sizeof t->name, "%s%s", key, suffix);
  t->ndim = ndim;
  t->count = 1;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i], t->count *= shape[i];
  t->values = malloc(t->count * sizeof(float));
  for (size_t i = 0; i < t->count; i++)
    t->values[i] = next_value(positive);
}

static void make_tensors(const mnv3_network *net, tset *s) {
  memset(s, 0, sizeof *s);
  for (int i = 0; i < net->num_ops; i++) {
    const mnv3_op *op = &net->ops[i];
    if (op->kind != MNV3_OP_CONV)
      continue;
    uint64_t o = (uint64_t)op->out_ch, k = (uint64_t)op->kernel;
    uint64_t w[4] = {o, op->depthwise ? 1 : (uint64_t)op->in_ch, k, k};
    const char *sep = op->has_bn ? ".0." : ".";
    char suffix[32];
    snprintf(suffix, sizeof suffix, "%sweight", sep);
    add_spec(s, op->key, suffix, op->is_linear ? 2 : 4, w, 0);
    if (op->has_bias) {
      snprintf(suffix, sizeof suffix, "%sbias", sep);
      add_spec(s, op->key, suffix, 1, &o, 0);
    }
    if (op->has_bn) {
      add_spec(s, op->key, ".1.weight", 1, &o, 0);
      add_spec(s, op->key, ".1.bias", 1, &o, 0);
      add_spec(s, op->key, ".1.running_mean", 1, &o, 0);
      add_spec(s, op->key, ".1.running_var", 1, &o, 1);
    }
  }
}

static void free_tensors(tset *s) {
  for (int i = 0; i < s->n; i++)
    free(s->t[i].values);
}

static const tspec *find_spec(const tset *s, const char *key,
                              const char *suffix) {
  char name[200];
  snprintf(name, sizeof name, "%s%s", key, suffix);
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->t[i].name, name) == 0)
      return &s->t[i];
  return NULL;
}

/* ---- a safetensors writer ----------------------------------------------- */

typedef struct builder {
  char header[1 << 16];
  size_t hlen;
  uint8_t *data;
  size_t dlen, dcap;
} builder;

static void b_init(builder *b) {
  b->hlen = 0;
  b->header[0] = '\0';
  b->data = NULL;
  b->dlen = b->dcap = 0;
}

/* An entry with explicit offsets (data not appended). */
static void b_entry(builder *b, const char *name, const char *dtype,
                    const char *shape, uint64_t begin, uint64_t end) {
  b->hlen += (size_t)snprintf(
      b->header + b->hlen, sizeof b->header - b->hlen,
      "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%llu,%llu]}",
      b->hlen ? "," : "", name, dtype, shape, (unsigned long long)begin,
      (unsigned long long)end);
}

static void b_bytes(builder *b, const void *bytes, size_t n) {
  if (b->dlen + n > b->dcap) {
    b->dcap = (b->dlen + n) * 2 + 64;
    b->data = realloc(b->data, b->dcap);
  }
  if (n)
    memcpy(b->data + b->dlen, bytes, n);
  b->dlen += n;
}

static void b_add(builder *b, const char *name, const char *dtype,
                  const char *shape, const void *bytes, size_t n) {
  b_entry(b, name, dtype, shape, b->dlen, b->dlen + n);
  b_bytes(b, bytes, n);
}

/* 8-byte length, "{entries}" padded with spaces, then the data. */
static uint8_t *b_finish_text(builder *b, const char *text, size_t *size) {
  size_t n = strlen(text), padded = (n + 7) / 8 * 8;
  *size = 8 + padded + b->dlen;
  uint8_t *out = malloc(*size + 1);
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)((uint64_t)padded >> (8 * i));
  memset(out + 8, ' ', padded);
  memcpy(out + 8, text, n);
  if (b->dlen)
    memcpy(out + 8 + padded, b->data, b->dlen);
  free(b->data);
  b->data = NULL;
  return out;
}

static uint8_t *b_finish(builder *b, size_t *size) {
  char *text = malloc(b->hlen + 3);
  sprintf(text, "{%s}", b->header);
  uint8_t *out = b_finish_text(b, text, size);
  free(text);
  return out;
}

/* Values here are exact in every dtype (see next_value), so the encodings
 * below need no rounding. */
static size_t encode(const float *v, size_t n, const char *dtype,
                     uint8_t *out) {
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    if (strcmp(dtype, "F32") == 0) {
      for (int j = 0; j < 4; j++)
        out[4 * i + j] = (uint8_t)(u >> (8 * j));
    } else {
      uint16_t h;
      if (strcmp(dtype, "BF16") == 0)
        h = (uint16_t)(u >> 16);
      else if ((u & 0x7fffffff) == 0)
        h = (uint16_t)(u >> 16);
      else /* normal F16: rebias the exponent, drop 13 mantissa bits */
        h = (uint16_t)((u >> 16 & 0x8000) |
                       ((((u >> 23) & 0xff) - 127 + 15) << 10) |
                       ((u >> 13) & 0x3ff));
      out[2 * i] = (uint8_t)h;
      out[2 * i + 1] = (uint8_t)(h >> 8);
    }
  }
  return n * (strcmp(dtype, "F32") == 0 ? 4 : 2);
}

static void shape_json(const tspec *t, char *buf, size_t size) {
  size_t len = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < t->ndim; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? "," : "",
                            (unsigned long long)t->shape[i]);
  snprintf(buf + len, size - len, "]");
}

/* One change to the good file: drop `skip`; replace (or add) `name` with the
 * given dtype, shape and bytes. */
typedef struct mutation {
  const char *skip;
  const char *name, *dtype, *shape;
  const void *bytes;
  size_t nbytes;
} mutation;

static uint8_t *build_file(const tset *s, const char *dtype,
                           const mutation *m, size_t *size) {
  static builder b;
  b_init(&b);
  int replaced = 0;
  for (int i = 0; i < s->n; i++) {
    const tspec *t = &s->t[i];
    if (m && m->skip && strcmp(m->skip, t->name) == 0)
      continue;
    if (m && m->name && strcmp(m->name, t->name) == 0) {
      b_add(&b, m->name, m->dtype, m->shape, m->bytes, m->nbytes);
      replaced = 1;
      continue;
    }
    uint8_t *bytes = malloc(t->count * 4);
    size_t n = encode(t->values, t->count, dtype, bytes);
    char shape[64];
    shape_json(t, shape, sizeof shape);
    b_add(&b, t->name, dtype, shape, bytes, n);
    free(bytes);
    if (i == 0) { /* ignored whatever its dtype, like torch's I64 counter */
      uint8_t counter[8] = {7};
      b_add(&b, "features.0.1.num_batches_tracked", "I64", "[]", counter, 8);
    }
  }
  if (m && m->name && !replaced)
    b_add(&b, m->name, m->dtype, m->shape, m->bytes, m->nbytes);
  return b_finish(&b, size);
}

/* ---- checks ------------------------------------------------------------- */

/* The folding redone here in double from the values written. */
static void check_folded(const mnv3_network *net, const tset *s,
                         const char *what) {
  for (int i = 0; i < net->num_ops; i++) {
    const mnv3_op *op = &net->ops[i];
    if (op->kind != MNV3_OP_CONV) {
      CHECK(!op->weight && !op->bias, "%s: op %d is not a conv", what, i);
      continue;
    }
    CHECK(op->weight && op->bias, "%s: op %s not loaded", what, op->key);
    if (!op->weight || !op->bias)
      continue;
    const char *sep = op->has_bn ? ".0." : ".";
    char suffix[32];
    snprintf(suffix, sizeof suffix, "%sweight", sep);
    const tspec *w = find_spec(s, op->key, suffix);
    snprintf(suffix, sizeof suffix, "%sbias", sep);
    const tspec *cb = op->has_bias ? find_spec(s, op->key, suffix) : NULL;
    const tspec *g = find_spec(s, op->key, ".1.weight");
    const tspec *beta = find_spec(s, op->key, ".1.bias");
    const tspec *mean = find_spec(s, op->key, ".1.running_mean");
    const tspec *var = find_spec(s, op->key, ".1.running_var");
    size_t per = w->count / (size_t)op->out_ch;
    /* The decimal values torch uses, not their float roundings. */
    double eps = op->bn_eps == 1e-5f ? 1e-5 : 1e-3;
    for (int o = 0; o < op->out_ch; o++) {
      double scale = 1, shift = 0;
      if (op->has_bn) {
        scale = (double)g->values[o] / sqrt((double)var->values[o] + eps);
        shift = (double)beta->values[o] - (double)mean->values[o] * scale;
      }
      float want_b = (float)(shift + (cb ? scale * cb->values[o] : 0.0));
      CHECK(op->bias[o] == want_b, "%s: %s bias[%d] = %.9g, want %.9g", what,
            op->key, o, op->bias[o], want_b);
      for (size_t j = 0; j < per; j++) {
        float want = (float)((double)w->values[o * per + j] * scale);
        CHECK(op->weight[o * per + j] == want,
              "%s: %s weight[%zu] = %.9g, want %.9g", what, op->key,
              o * per + j, op->weight[o * per + j], want);
      }
    }
  }
}

static void check_error(const uint8_t *bytes, size_t size, const char *what,
                        const char *expect) {
  mnv3_network net;
  make_net(&net);
  mnv3_error err = {{0}};
  int rc = mnv3_safetensors_load_bytes("m.safetensors", bytes, size, &net,
                                       &err);
  CHECK(rc == -1, "%s: load succeeded", what);
  CHECK(strncmp(err.message, "m.safetensors: ", 15) == 0,
        "%s: message does not name the file: %s", what, err.message);
  CHECK(strstr(err.message, expect) != NULL,
        "%s: message '%s' lacks '%s'", what, err.message, expect);
  CHECK(net_is_empty(&net), "%s: weights left in the network", what);
  free_net(&net);
}

static void check_mutation(const tset *s, const mutation *m, const char *what,
                           const char *expect) {
  size_t size;
  uint8_t *bytes = build_file(s, "F32", m, &size);
  check_error(bytes, size, what, expect);
  free(bytes);
}

/* A file of only the entries given as raw header text (over `data`). */
static void check_header(const char *text, const void *data, size_t n,
                         const char *what, const char *expect) {
  builder b;
  b_init(&b);
  b_bytes(&b, data, n);
  size_t size;
  uint8_t *bytes = b_finish_text(&b, text, &size);
  check_error(bytes, size, what, expect);
  free(bytes);
}

/* ---- tests -------------------------------------------------------------- */

static void test_folding(const tset *s) {
  static const char *dtypes[] = {"F32", "F16", "BF16"};
  for (int d = 0; d < 3; d++) {
    size_t size;
    uint8_t *bytes = build_file(s, dtypes[d], NULL, &size);
    mnv3_network net;
    make_net(&net);
    mnv3_error err = {{0}};
    int rc = mnv3_safetensors_load_bytes("m.safetensors", bytes, size, &net,
                                         &err);
    CHECK(rc == 0, "%s: %s", dtypes[d], err.message);
    check_folded(&net, s, dtypes[d]);
    /* A second load replaces the weights (valgrind checks the old ones are
     * freed) with the same values. */
    rc = mnv3_safetensors_load_bytes("m.safetensors", bytes, size, &net, &err);
    CHECK(rc == 0, "%s reload: %s", dtypes[d], err.message);
    check_folded(&net, s, dtypes[d]);
    const mnv3_op *plain = &net.ops[3];
    for (int o = 0; plain->bias && o < plain->out_ch; o++)
      CHECK(plain->bias[o] == 0.0f, "conv without bias or BN: bias %g",
            plain->bias[o]);
    free_net(&net);
    free(bytes);
  }
}

/* Widening of special F16 / BF16 bit patterns, checked against constants. */
static void test_widening(void) {
  mnv3_network net = {.num_ops = 1};
  net.ops = calloc(1, sizeof *net.ops);
  net.ops[0] = conv_op("fc", 4, 2, 1, 0, 0, 1, 1);
  static const uint16_t half[8] = {0x3C00, 0xC000, 0x7BFF, 0x0001,
                                   0x8400, 0x3555, 0x03FF, 0x8000};
  const float want_w[8] = {1.0f, -2.0f, 65504.0f, ldexpf(1, -24),
                           -ldexpf(1, -14), 0.333251953125f,
                           ldexpf(1023, -24), -0.0f};
  static const uint16_t bf[2] = {0x3F80, 0xC2F7};
  const float want_b[2] = {1.0f, -123.5f};
  uint8_t wb[16], bb[4];
  for (int i = 0; i < 8; i++)
    wb[2 * i] = (uint8_t)half[i], wb[2 * i + 1] = (uint8_t)(half[i] >> 8);
  for (int i = 0; i < 2; i++)
    bb[2 * i] = (uint8_t)bf[i], bb[2 * i + 1] = (uint8_t)(bf[i] >> 8);
  builder b;
  b_init(&b);
  b_add(&b, "fc.bias", "BF16", "[2]", bb, sizeof bb);
  b_add(&b, "fc.weight", "F16", "[2,4]", wb, sizeof wb);
  size_t size;
  uint8_t *bytes = b_finish(&b, &size);
  mnv3_error err = {{0}};
  int rc = mnv3_safetensors_load_bytes("w.safetensors", bytes, size, &net,
                                       &err);
  CHECK(rc == 0, "widening: %s", err.message);
  for (int i = 0; rc == 0 && i < 8; i++)
    CHECK(net.ops[0].weight[i] == want_w[i] &&
              signbit(net.ops[0].weight[i]) == signbit(want_w[i]),
          "F16 %#06x -> %.9g, want %.9g", half[i], net.ops[0].weight[i],
          want_w[i]);
  for (int i = 0; rc == 0 && i < 2; i++)
    CHECK(net.ops[0].bias[i] == want_b[i], "BF16 %#06x -> %.9g, want %.9g",
          bf[i], net.ops[0].bias[i], want_b[i]);
  free_net(&net);
  free(bytes);
}

/* The same good file through the mmap path, and a missing file. */
static void test_file(const tset *s) {
  const char *dir = getenv("TMPDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/mnv3-st-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp %s", path);
  if (fd < 0)
    return;
  size_t size;
  uint8_t *bytes = build_file(s, "F32", NULL, &size);
  CHECK(write(fd, bytes, size) == (ssize_t)size, "write %s", path);
  close(fd);
  mnv3_network net;
  make_net(&net);
  mnv3_error err = {{0}};
  CHECK(mnv3_safetensors_load(path, &net, &err) == 0, "file: %s", err.message);
  check_folded(&net, s, "file");
  free_net(&net);

  /* A file cut inside the data, through the mmap path. */
  CHECK(truncate(path, (off_t)size - 3) == 0, "truncate %s", path);
  make_net(&net);
  CHECK(mnv3_safetensors_load(path, &net, &err) == -1, "truncated file loaded");
  CHECK(strstr(err.message, path) && strstr(err.message, "truncated"),
        "truncated file: %s", err.message);
  CHECK(net_is_empty(&net), "truncated file: weights left");
  unlink(path);
  CHECK(mnv3_safetensors_load(path, &net, &err) == -1, "missing file loaded");
  CHECK(strstr(err.message, "cannot open") && strstr(err.message, path),
        "missing file: %s", err.message);
  free_net(&net);
  free(bytes);
}

static void test_truncation(const tset *s) {
  size_t size;
  uint8_t *bytes = build_file(s, "F32", NULL, &size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | bytes[i];
  check_error(bytes, 0, "empty file", "too short for the 8-byte header");
  check_error(bytes, 5, "cut in the header length",
              "too short for the 8-byte header");
  char expect[128];
  snprintf(expect, sizeof expect, "header length %llu is larger than the %llu",
           (unsigned long long)n, (unsigned long long)n / 2);
  check_error(bytes, 8 + n / 2, "cut in the header", expect);
  check_error(bytes, size - 10, "cut in the data",
              "go past the end of the data section");
  check_error(bytes, size - 10, "cut in the data", "truncated");

  uint8_t *longer = malloc(size + 4);
  memcpy(longer, bytes, size);
  memset(longer + size, 0, 4);
  check_error(longer, size + 4, "trailing bytes", "4 stray bytes");
  longer[5] = 1; /* header length 2^40 */
  check_error(longer, size + 4, "header length past the file",
              "header length 1099511" /* 627776 + what the JSON has */);
  free(longer);
  free(bytes);
}

static void test_header_errors(void) {
  static const float four[4] = {1, 2, 3, 4};
  check_header("{\"a\": ", NULL, 0, "invalid JSON", "not valid JSON");
  check_header("{\"a\":{}} x", NULL, 0, "junk after JSON",
               "unexpected bytes after the header JSON");
  check_header("[1, 2]", NULL, 0, "not an object", "must be an object");
  check_header("{\"a\":[]}", NULL, 0, "entry not an object",
               "entry 'a' is not an object");
  check_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}", four, 16,
               "no offsets", "needs \"dtype\"");
  check_header("{\"w\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,16]}}",
               four, 16, "unknown dtype", "tensor 'w' has unknown dtype 'Q4'");
  check_header("{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
               four, 16, "unsupported dtype",
               "tensor 'w' has dtype F64; weights must be F32, F16 or BF16");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
               "\"data_offsets\":[1000,1016]}}",
               four, 16, "offsets out of range",
               "tensor 'w': data_offsets [1000, 1016] go past the end");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}",
               four, 16, "end before begin", "end before begin");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,-16]}}",
               four, 16, "negative offset", "two non-negative integers");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,16]}}",
               four, 16, "fractional dim", "non-negative integers");
  check_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               four, 16, "overlap", "tensors 'a' and 'b' overlap");
  check_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
               four, 16, "gap", "4 unused bytes in the data section before "
                                "tensor 'b'");
  check_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
               four, 16, "duplicate", "tensor 'a' appears twice");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}",
               four, 16, "size vs shape",
               "data_offsets [0, 12] span 12 bytes but shape [4] of F32 "
               "needs 16");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}",
               NULL, 0, "zero-sized", "tensor 'w' has an empty shape [0, 3]");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
               "\"data_offsets\":[0,16]}}",
               four, 16, "overflowing shape",
               "shape [4294967296, 4294967296, 16] is too large (overflow)");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,4],"
               "\"data_offsets\":[0,16]}}",
               four, 16, "too many dims", "9 dimensions");
  check_header("{\"__metadata__\":[],\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
               "\"data_offsets\":[0,16]}}",
               four, 16, "bad metadata", "\"__metadata__\" must be an object");
  /* Well-formed, but the network needs other tensors. */
  check_header("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\","
               "\"shape\":[4],\"data_offsets\":[0,16]}}",
               four, 16, "well-formed, wrong tensors",
               "missing tensor 'features.0.0.weight' (expected shape "
               "[4, 3, 3, 3])");
}

static void test_content_errors(const tset *s) {
  check_mutation(s, &(mutation){.skip = "classifier.3.bias"}, "missing key",
                 "missing tensor 'classifier.3.bias' (expected shape [5])");
  check_mutation(s, &(mutation){.skip = "features.1.block.0.1.running_var"},
                 "missing BN key",
                 "missing tensor 'features.1.block.0.1.running_var' "
                 "(expected shape [4])");
  static const float one[1] = {1};
  check_mutation(s,
                 &(mutation){.name = "features.9.weight", .dtype = "F32",
                             .shape = "[1]", .bytes = one, .nbytes = 4},
                 "unexpected key",
                 "unexpected key 'features.9.weight': the network has no such "
                 "tensor (is this the right architecture / width multiplier?)");

  float big[4 * 25] = {0};
  check_mutation(s,
                 &(mutation){.name = "features.1.block.0.0.weight",
                             .dtype = "F32", .shape = "[4,1,5,5]",
                             .bytes = big, .nbytes = sizeof big},
                 "wrong shape",
                 "tensor 'features.1.block.0.0.weight': expected shape "
                 "[4, 1, 3, 3], got [4, 1, 5, 5]");
  check_mutation(s,
                 &(mutation){.name = "classifier.3.weight", .dtype = "F32",
                             .shape = "[5,3,1,1]", .bytes = big,
                             .nbytes = 15 * 4},
                 "linear as conv shape",
                 "expected shape [5, 3], got [5, 3, 1, 1]");

  const tspec *w = find_spec(s, "features.0", ".0.weight");
  float *bad = malloc(w->count * sizeof *bad);
  memcpy(bad, w->values, w->count * sizeof *bad);
  bad[17] = NAN;
  check_mutation(s,
                 &(mutation){.name = w->name, .dtype = "F32",
                             .shape = "[4,3,3,3]", .bytes = bad,
                             .nbytes = w->count * 4},
                 "NaN weight",
                 "tensor 'features.0.0.weight' holds a non-finite value "
                 "(NaN) at index 17");
  free(bad);
  static const uint16_t inf_half[5] = {0, 0, 0x7C00, 0, 0};
  check_mutation(s,
                 &(mutation){.name = "classifier.3.bias", .dtype = "F16",
                             .shape = "[5]", .bytes = inf_half, .nbytes = 10},
                 "Inf bias",
                 "tensor 'classifier.3.bias' holds a non-finite value (Inf) "
                 "at index 2");
  static const float neg_var[4] = {1, -0.5f, 1, 1};
  check_mutation(s,
                 &(mutation){.name = "features.1.block.0.1.running_var",
                             .dtype = "F32", .shape = "[4]", .bytes = neg_var,
                             .nbytes = 16},
                 "negative variance",
                 "'features.1.block.0.1.running_var' is negative");
}

/* Finite inputs whose folded weight overflows float: 3e38 * 2 / sqrt(1e-3). */
static void test_fold_overflow(void) {
  mnv3_network net = {.num_ops = 1};
  net.ops = calloc(1, sizeof *net.ops);
  net.ops[0] = conv_op("n", 1, 1, 1, 0, 1, 0, 0);
  static const float w[1] = {3e38f}, gamma[1] = {2}, zero[1] = {0};
  builder b;
  b_init(&b);
  b_add(&b, "n.0.weight", "F32", "[1,1,1,1]", w, 4);
  b_add(&b, "n.1.weight", "F32", "[1]", gamma, 4);
  b_add(&b, "n.1.bias", "F32", "[1]", zero, 4);
  b_add(&b, "n.1.running_mean", "F32", "[1]", zero, 4);
  b_add(&b, "n.1.running_var", "F32", "[1]", zero, 4);
  size_t size;
  uint8_t *bytes = b_finish(&b, &size);
  mnv3_error err = {{0}};
  CHECK(mnv3_safetensors_load_bytes("m.safetensors", bytes, size, &net,
                                    &err) == -1, "fold overflow loaded");
  CHECK(strstr(err.message, "m.safetensors: 'n' overflows float once "
                            "BatchNorm is folded") != NULL,
        "fold overflow: %s", err.message);
  CHECK(net_is_empty(&net), "fold overflow: weights left");
  free_net(&net);
  free(bytes);
}

int main(void) {
  mnv3_network net;
  make_net(&net);
  tset s;
  make_tensors(&net, &s);
  free_net(&net);

  test_folding(&s);
  test_widening();
  test_file(&s);
  test_truncation(&s);
  test_header_errors();
  test_content_errors(&s);
  test_fold_overflow();

  free_tensors(&s);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("safetensors: all checks passed\n");
  return 0;
}
