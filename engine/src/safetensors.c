/* Weight loader for torchvision-layout safetensors files.
 *
 * Layout (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON mapping tensor names to
 * {dtype, shape, data_offsets}, then the data section. Everything is checked
 * before use because the file comes from outside; BatchNorm is folded into
 * the convolutions in double precision, so the weights are copied out and the
 * mapping released. A load either fills every CONV op or leaves the network
 * untouched. */
#include "internal.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* torchvision's MobileNetV3 BatchNorm2d(eps=0.001): the eps of an op that
 * does not set its own. */
#define BN_EPS 1e-3
#define MAX_DIMS 8
/* Same cap as the reference implementation: a bigger header is not sane. */
#define MAX_HEADER_BYTES (100u * 1024u * 1024u)
/* JSON numbers are doubles: integers are exact only up to 2^53. */
#define MAX_JSON_INT 9007199254740992.0

typedef enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_OTHER } st_dtype;

typedef struct st_tensor {
  const char *name; /* points into the parsed JSON */
  const char *dtype_name;
  st_dtype dtype;
  size_t elem_size; /* 0 for a dtype we do not know the size of */
  int ndim;
  uint64_t shape[MAX_DIMS];
  uint64_t begin, end; /* relative to the data section */
  int ignored;         /* num_batches_tracked: never read */
  int used;
} st_tensor;

typedef struct st_file {
  const char *name; /* for messages */
  const uint8_t *data;
  size_t data_size;
  st_tensor *tensors; /* sorted by name */
  int count;
} st_file;

/* ---- small helpers ------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void format_shape(char *buf, size_t size, const uint64_t *shape,
                         int ndim) {
  size_t len = 0;
  buf[0] = '\0';
  len += (size_t)snprintf(buf + len, size - len, "[");
  for (int i = 0; i < ndim && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? ", " : "",
                            (unsigned long long)shape[i]);
  if (len < size)
    snprintf(buf + len, size - len, "]");
}

/* Known dtypes and their sizes; only the float ones can hold weights, the
 * others are sized so that ignored entries can still be bounds-checked. */
static int parse_dtype(const char *s, st_dtype *dtype, size_t *size) {
  static const struct {
    const char *name;
    st_dtype dtype;
    size_t size;
  } table[] = {
      {"F32", ST_F32, 4},   {"F16", ST_F16, 2},     {"BF16", ST_BF16, 2},
      {"F64", ST_OTHER, 8}, {"I64", ST_OTHER, 8},   {"U64", ST_OTHER, 8},
      {"I32", ST_OTHER, 4}, {"U32", ST_OTHER, 4},   {"I16", ST_OTHER, 2},
      {"U16", ST_OTHER, 2}, {"I8", ST_OTHER, 1},    {"U8", ST_OTHER, 1},
      {"BOOL", ST_OTHER, 1}, {"F8_E4M3", ST_OTHER, 1},
      {"F8_E5M2", ST_OTHER, 1},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(s, table[i].name) == 0) {
      *dtype = table[i].dtype;
      *size = table[i].size;
      return 0;
    }
  return -1;
}

static int json_uint(const cJSON *item, uint64_t *out) {
  if (!cJSON_IsNumber(item))
    return -1;
  double d = item->valuedouble;
  if (!(d >= 0.0 && d <= MAX_JSON_INT) || d != floor(d))
    return -1;
  *out = (uint64_t)d;
  return 0;
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float value;
  if (exp == 0) { /* zero or subnormal: mant * 2^-24 */
    value = ldexpf((float)mant, -24);
  } else if (exp == 31) {
    value = mant ? NAN : INFINITY;
  } else {
    value = ldexpf((float)(mant | 0x400), (int)exp - 25);
  }
  return sign ? -value : value;
}

/* Element i of a tensor as float; bytes are little-endian whatever the host
 * and may be unaligned. */
static float read_elem(const st_file *f, const st_tensor *t, size_t i) {
  const uint8_t *p = f->data + t->begin + i * t->elem_size;
  union {
    uint32_t u;
    float f;
  } bits;
  switch (t->dtype) {
  case ST_F32:
    bits.u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
             (uint32_t)p[3] << 24;
    return bits.f;
  case ST_F16:
    return half_to_float((uint16_t)(p[0] | p[1] << 8));
  case ST_BF16:
    bits.u = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
    return bits.f;
  default:
    return NAN; /* unreachable: other dtypes are rejected before reading */
  }
}

/* ---- header ------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int cmp_begin(const void *a, const void *b) {
  const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

static int parse_entry(const st_file *f, const cJSON *entry, st_tensor *t,
                       mnv3_error *err) {
  t->name = entry->string;
  t->ignored = ends_with(t->name, "num_batches_tracked");
  if (!cJSON_IsObject(entry))
    return mnv3_fail(err, "%s: header entry '%s' is not an object", f->name,
                     t->name);

  const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
  const cJSON *offs = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
  if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
    return mnv3_fail(err,
                     "%s: tensor '%s' needs \"dtype\" (string), \"shape\" "
                     "(array) and \"data_offsets\" (array)",
                     f->name, t->name);

  t->dtype_name = dtype->valuestring;
  if (parse_dtype(t->dtype_name, &t->dtype, &t->elem_size) != 0) {
    if (!t->ignored)
      return mnv3_fail(err,
                       "%s: tensor '%s' has unknown dtype '%s' (F32, F16 or "
                       "BF16 expected)",
                       f->name, t->name, t->dtype_name);
    t->dtype = ST_OTHER;
    t->elem_size = 0;
  } else if (t->dtype == ST_OTHER && !t->ignored) {
    return mnv3_fail(err,
                     "%s: tensor '%s' has dtype %s; weights must be F32, F16 "
                     "or BF16",
                     f->name, t->name, t->dtype_name);
  }

  int ndim = cJSON_GetArraySize(shape);
  if (ndim > MAX_DIMS)
    return mnv3_fail(err, "%s: tensor '%s' has %d dimensions (at most %d)",
                     f->name, t->name, ndim, MAX_DIMS);
  t->ndim = ndim;
  uint64_t count = 1;
  int overflow = 0;
  for (int i = 0; i < ndim; i++) {
    if (json_uint(cJSON_GetArrayItem(shape, i), &t->shape[i]) != 0)
      return mnv3_fail(err,
                       "%s: tensor '%s': shape entries must be non-negative "
                       "integers",
                       f->name, t->name);
    overflow |= __builtin_mul_overflow(count, t->shape[i], &count);
  }

  if (cJSON_GetArraySize(offs) != 2 ||
      json_uint(cJSON_GetArrayItem(offs, 0), &t->begin) != 0 ||
      json_uint(cJSON_GetArrayItem(offs, 1), &t->end) != 0)
    return mnv3_fail(err,
                     "%s: tensor '%s': data_offsets must be [begin, end], two "
                     "non-negative integers",
                     f->name, t->name);
  if (t->end < t->begin)
    return mnv3_fail(err,
                     "%s: tensor '%s': data_offsets [%llu, %llu] end before "
                     "begin",
                     f->name, t->name, (unsigned long long)t->begin,
                     (unsigned long long)t->end);

  char shape_text[160];
  format_shape(shape_text, sizeof shape_text, t->shape, t->ndim);
  uint64_t bytes = 0;
  if (t->elem_size)
    overflow |= __builtin_mul_overflow(count, (uint64_t)t->elem_size, &bytes);
  if (overflow)
    return mnv3_fail(err, "%s: tensor '%s': shape %s is too large (overflow)",
                     f->name, t->name, shape_text);
  if (count == 0 && !t->ignored)
    return mnv3_fail(err,
                     "%s: tensor '%s' has an empty shape %s; no weight of this "
                     "network is empty",
                     f->name, t->name, shape_text);
  if (t->elem_size && t->end - t->begin != bytes)
    return mnv3_fail(err,
                     "%s: tensor '%s': data_offsets [%llu, %llu] span %llu "
                     "bytes but shape %s of %s needs %llu",
                     f->name, t->name, (unsigned long long)t->begin,
                     (unsigned long long)t->end,
                     (unsigned long long)(t->end - t->begin), shape_text,
                     t->dtype_name, (unsigned long long)bytes);
  if (t->end > f->data_size)
    return mnv3_fail(err,
                     "%s: tensor '%s': data_offsets [%llu, %llu] go past the "
                     "end of the data section (%zu bytes): the file is "
                     "truncated or the offsets are wrong",
                     f->name, t->name, (unsigned long long)t->begin,
                     (unsigned long long)t->end, f->data_size);
  return 0;
}

/* The data section must be tiled exactly by the tensors, as the reference
 * implementation requires: no overlap, no hole, nothing after the last. */
static int check_layout(const st_file *f, mnv3_error *err) {
  st_tensor **order = malloc(((size_t)f->count + 1) * sizeof *order);
  if (!order)
    return mnv3_fail(err, "%s: out of memory", f->name);
  for (int i = 0; i < f->count; i++)
    order[i] = &f->tensors[i];
  qsort(order, (size_t)f->count, sizeof *order, cmp_begin);

  int rc = 0;
  uint64_t pos = 0;
  for (int i = 0; i < f->count && rc == 0; i++) {
    const st_tensor *t = order[i];
    if (t->begin < pos)
      rc = mnv3_fail(err,
                     "%s: tensors '%s' and '%s' overlap in the data section "
                     "(offsets %llu < %llu)",
                     f->name, order[i - 1]->name, t->name,
                     (unsigned long long)t->begin, (unsigned long long)pos);
    else if (t->begin > pos)
      rc = mnv3_fail(err,
                     "%s: %llu unused bytes in the data section before tensor "
                     "'%s' (offsets must be contiguous)",
                     f->name, (unsigned long long)(t->begin - pos), t->name);
    pos = t->end;
  }
  if (rc == 0 && pos != f->data_size)
    rc = mnv3_fail(err,
                   "%s: %llu stray bytes after the last tensor (data section "
                   "is %zu bytes, tensors end at %llu)",
                   f->name, (unsigned long long)(f->data_size - pos),
                   f->data_size, (unsigned long long)pos);
  free(order);
  return rc;
}

static int parse_header(st_file *f, const cJSON *root, mnv3_error *err) {
  int n = cJSON_GetArraySize(root);
  f->tensors = calloc((size_t)n + 1, sizeof *f->tensors);
  if (!f->tensors)
    return mnv3_fail(err, "%s: out of memory", f->name);
  for (const cJSON *e = root->child; e; e = e->next) {
    if (strcmp(e->string, "__metadata__") == 0) {
      if (!cJSON_IsObject(e))
        return mnv3_fail(err, "%s: \"__metadata__\" must be an object",
                         f->name);
      continue;
    }
    if (parse_entry(f, e, &f->tensors[f->count], err) != 0)
      return -1;
    f->count++;
  }
  qsort(f->tensors, (size_t)f->count, sizeof *f->tensors, cmp_name);
  for (int i = 1; i < f->count; i++)
    if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0)
      return mnv3_fail(err, "%s: tensor '%s' appears twice in the header",
                       f->name, f->tensors[i].name);
  return check_layout(f, err);
}

static cJSON *read_json(const char *name, const uint8_t *bytes, size_t size,
                        uint64_t *header_len, mnv3_error *err) {
  if (size < 8) {
    mnv3_fail(err,
              "%s: file is %zu bytes, too short for the 8-byte header length "
              "(truncated, or not a safetensors file)",
              name, size);
    return NULL;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | bytes[i];
  if (n > size - 8) {
    mnv3_fail(err,
              "%s: header length %llu is larger than the %zu bytes after it "
              "(truncated, or not a safetensors file)",
              name, (unsigned long long)n, size - 8);
    return NULL;
  }
  if (n > MAX_HEADER_BYTES) {
    mnv3_fail(err, "%s: header length %llu is larger than the %u allowed",
              name, (unsigned long long)n, MAX_HEADER_BYTES);
    return NULL;
  }
  const char *text = (const char *)bytes + 8;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, 0);
  if (!root) {
    size_t at = end && end >= text ? (size_t)(end - text) : 0;
    mnv3_fail(err,
              "%s: header is not valid JSON (error near byte %zu of the %llu-"
              "byte header)",
              name, at, (unsigned long long)n);
    return NULL;
  }
  /* The spec pads the header with spaces; anything else after the JSON
   * value means a corrupt header. */
  for (const char *p = end; p < text + n; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      mnv3_fail(err,
                "%s: unexpected bytes after the header JSON (at byte %zu of "
                "the %llu-byte header)",
                name, (size_t)(p - text), (unsigned long long)n);
      cJSON_Delete(root);
      return NULL;
    }
  if (!cJSON_IsObject(root)) {
    mnv3_fail(err, "%s: header JSON must be an object mapping tensor names "
                   "to {dtype, shape, data_offsets}", name);
    cJSON_Delete(root);
    return NULL;
  }
  *header_len = n;
  return root;
}

/* ---- weights ------------------------------------------------------------ */

#define ARCH_HINT                                                              \
  "; do the config's architecture, width-multiplier and num-classes match "   \
  "these weights?"

/* Looks a tensor up, checks its shape and that every value is finite, and
 * marks it used. */
static const st_tensor *fetch(st_file *f, const char *key,
                              const uint64_t *shape, int ndim,
                              mnv3_error *err) {
  st_tensor probe = {.name = key};
  st_tensor *t = bsearch(&probe, f->tensors, (size_t)f->count,
                         sizeof *f->tensors, cmp_name);
  char want[160], got[160];
  format_shape(want, sizeof want, shape, ndim);
  if (!t || t->ignored) {
    mnv3_fail(err, "%s: missing tensor '%s' (expected shape %s)%s", f->name,
              key, want, ARCH_HINT);
    return NULL;
  }
  if (t->ndim != ndim || memcmp(t->shape, shape, (size_t)ndim * sizeof *shape)) {
    format_shape(got, sizeof got, t->shape, t->ndim);
    mnv3_fail(err, "%s: tensor '%s': expected shape %s, got %s%s", f->name,
              key, want, got, ARCH_HINT);
    return NULL;
  }
  size_t count = (size_t)((t->end - t->begin) / t->elem_size);
  for (size_t i = 0; i < count; i++) {
    float v = read_elem(f, t, i);
    if (!isfinite(v)) {
      mnv3_fail(err, "%s: tensor '%s' holds a non-finite value (%s) at index "
                     "%zu: the weights are corrupt",
                f->name, key, isnan(v) ? "NaN" : "Inf", i);
      return NULL;
    }
  }
  t->used = 1;
  return t;
}

static int check_op(const st_file *f, const mnv3_op *op, int index,
                    mnv3_error *err) {
  if (op->in_ch <= 0 || op->out_ch <= 0 || op->kernel <= 0 ||
      (op->depthwise && op->in_ch != op->out_ch) ||
      (op->is_linear && (op->kernel != 1 || op->depthwise)) ||
      memchr(op->key, '\0', sizeof op->key) == NULL || op->key[0] == '\0')
    return mnv3_fail(err,
                     "%s: internal error: op %d ('%.*s') is not a valid conv "
                     "(in %d, out %d, kernel %d, depthwise %d, linear %d)",
                     f->name, index, (int)sizeof op->key - 1, op->key,
                     op->in_ch, op->out_ch, op->kernel, op->depthwise,
                     op->is_linear);
  return 0;
}

/* op->bn_eps is a float, but torch adds eps as the double it was written
 * as (1e-5, not 1e-5f): recover that decimal value. */
static double bn_eps(const mnv3_op *op) {
  if (!(op->bn_eps > 0.0f) || !isfinite(op->bn_eps))
    return BN_EPS;
  char text[32];
  snprintf(text, sizeof text, "%.7g", (double)op->bn_eps);
  return strtod(text, NULL);
}

/* Reads one conv (and its BatchNorm) and folds them into w_out / b_out. */
static int load_conv(st_file *f, const mnv3_op *op, float **w_out,
                     float **b_out, mnv3_error *err) {
  uint64_t out = (uint64_t)op->out_ch, k = (uint64_t)op->kernel;
  uint64_t in = op->depthwise ? 1 : (uint64_t)op->in_ch;
  uint64_t wshape[4] = {out, in, k, k};
  int wdim = op->is_linear ? 2 : 4;
  const char *conv_sep = op->has_bn ? ".0." : ".";
  char key[192];

  snprintf(key, sizeof key, "%s%sweight", op->key, conv_sep);
  const st_tensor *w = fetch(f, key, wshape, wdim, err);
  if (!w)
    return -1;
  const st_tensor *cb = NULL, *bn[4] = {NULL};
  if (op->has_bias) {
    snprintf(key, sizeof key, "%s%sbias", op->key, conv_sep);
    if (!(cb = fetch(f, key, &out, 1, err)))
      return -1;
  }
  if (op->has_bn) {
    static const char *names[4] = {"weight", "bias", "running_mean",
                                   "running_var"};
    for (int i = 0; i < 4; i++) {
      snprintf(key, sizeof key, "%s.1.%s", op->key, names[i]);
      if (!(bn[i] = fetch(f, key, &out, 1, err)))
        return -1;
    }
  }

  size_t per_out = (size_t)(in * k * k);
  float *weight = malloc((size_t)out * per_out * sizeof *weight);
  float *bias = malloc((size_t)out * sizeof *bias);
  if (!weight || !bias) {
    free(weight);
    free(bias);
    return mnv3_fail(err, "%s: out of memory for '%s'", f->name, op->key);
  }
  const double eps = bn_eps(op);
  for (size_t o = 0; o < out; o++) {
    double scale = 1.0, shift = 0.0;
    if (op->has_bn) {
      double var = read_elem(f, bn[3], o);
      if (var + eps <= 0.0) {
        free(weight);
        free(bias);
        return mnv3_fail(err,
                         "%s: tensor '%s.1.running_var' is negative (%g) at "
                         "index %zu: a variance cannot be",
                         f->name, op->key, var, o);
      }
      scale = read_elem(f, bn[0], o) / sqrt(var + eps);
      shift = read_elem(f, bn[1], o) - read_elem(f, bn[2], o) * scale;
    }
    double b = shift + (cb ? scale * read_elem(f, cb, o) : 0.0);
    bias[o] = (float)b;
    int bad = !isfinite(bias[o]);
    for (size_t i = 0; i < per_out; i++) {
      weight[o * per_out + i] = (float)(read_elem(f, w, o * per_out + i) * scale);
      bad |= !isfinite(weight[o * per_out + i]);
    }
    if (bad) { /* finite inputs can still overflow float once folded */
      free(weight);
      free(bias);
      return mnv3_fail(err,
                       "%s: '%s' overflows float once BatchNorm is folded "
                       "(output channel %zu): the weights are corrupt",
                       f->name, op->key, o);
    }
  }
  *w_out = weight;
  *b_out = bias;
  return 0;
}

static int check_all_used(const st_file *f, mnv3_error *err) {
  int unused = 0;
  const st_tensor *first = NULL;
  for (int i = 0; i < f->count; i++)
    if (!f->tensors[i].used && !f->tensors[i].ignored) {
      if (!first)
        first = &f->tensors[i];
      unused++;
    }
  if (!first)
    return 0;
  char more[64] = "";
  if (unused > 1)
    snprintf(more, sizeof more, " and %d more", unused - 1);
  return mnv3_fail(err,
                   "%s: unexpected key '%s'%s: the network has no such tensor "
                   "(is this the right architecture / width multiplier?)",
                   f->name, first->name, more);
}

static int load_weights(st_file *f, mnv3_network *net, mnv3_error *err) {
  size_t n = (size_t)(net->num_ops > 0 ? net->num_ops : 0);
  float **weights = calloc(n + 1, sizeof *weights);
  float **biases = calloc(n + 1, sizeof *biases);
  int rc = (weights && biases) ? 0 : mnv3_fail(err, "%s: out of memory", f->name);

  for (size_t i = 0; i < n && rc == 0; i++) {
    const mnv3_op *op = &net->ops[i];
    if (op->kind != MNV3_OP_CONV)
      continue;
    rc = check_op(f, op, (int)i, err);
    if (rc == 0)
      rc = load_conv(f, op, &weights[i], &biases[i], err);
  }
  if (rc == 0)
    rc = check_all_used(f, err);

  /* Only a complete load reaches the network; otherwise it stays as it was. */
  for (size_t i = 0; i < n && weights && biases; i++) {
    if (rc == 0 && net->ops[i].kind == MNV3_OP_CONV) {
      free(net->ops[i].weight);
      free(net->ops[i].bias);
      net->ops[i].weight = weights[i];
      net->ops[i].bias = biases[i];
    } else {
      free(weights[i]);
      free(biases[i]);
    }
  }
  free(weights);
  free(biases);
  return rc;
}

/* ---- entry points ------------------------------------------------------- */

int mnv3_safetensors_load_bytes(const char *name, const uint8_t *bytes,
                                size_t size, mnv3_network *net,
                                mnv3_error *err) {
  if (!name)
    name = "<memory>";
  if (!net || (size && !bytes))
    return mnv3_fail(err, "%s: internal error: no network or no bytes", name);
  uint64_t header_len = 0;
  cJSON *root = read_json(name, bytes, size, &header_len, err);
  if (!root)
    return -1;
  st_file f = {
      .name = name,
      .data = bytes + 8 + header_len,
      .data_size = size - 8 - (size_t)header_len,
  };
  int rc = parse_header(&f, root, err);
  if (rc == 0)
    rc = load_weights(&f, net, err);
  free(f.tensors);
  cJSON_Delete(root);
  return rc;
}

int mnv3_safetensors_load(const char *path, mnv3_network *net,
                          mnv3_error *err) {
  if (!path || !net)
    return mnv3_fail(err, "internal error: no weights path or no network");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return mnv3_fail(err, "cannot open weights '%s': %s", path,
                     strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return mnv3_fail(err, "weights '%s' is not a regular file", path);
  }
  size_t size = (size_t)st.st_size;
  if (size == 0) { /* mmap cannot map an empty file */
    close(fd);
    return mnv3_safetensors_load_bytes(path, (const uint8_t *)"", 0, net, err);
  }
  void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int saved = errno;
  close(fd);
  if (map == MAP_FAILED)
    return mnv3_fail(err, "cannot map weights '%s': %s", path,
                     strerror(saved));
  int rc = mnv3_safetensors_load_bytes(path, map, size, net, err);
  munmap(map, size);
  return rc;
}
