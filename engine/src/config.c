/* The YAML model config: libyaml events -> a small bounded tree -> checked
 * values in struct mnv3_config. Every error names FILE:LINE:COLUMN, the key
 * path, what was expected and what was found. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strndup, realpath */
#endif
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* Hostile-input guards: a real config is a few hundred bytes and a few
 * hundred nodes, nested 3 deep. */
#define MAX_CONFIG_BYTES ((size_t)1 << 20)
#define MAX_DEPTH 64
#define MAX_NODES 100000
#define MAX_LABELS_BYTES ((size_t)16 << 20)

#define MAX_CLASSES 100000
#define MAX_SEGMENT_CLASSES 256 /* the segmentation mask is 8-bit */
#define MIN_INPUT_SIDE 32
#define MAX_INPUT_SIDE 2048

typedef enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP } node_kind;

typedef struct node {
  node_kind kind;
  size_t line, column; /* 1-based */
  /* scalar */
  char *value;
  size_t length;
  int plain; /* not quoted, not a block literal */
  /* sequence: items; mapping: key, value, key, value, ... */
  struct node **items;
  size_t count, capacity;
} node;

typedef struct parse_ctx {
  const char *name; /* file name shown in messages */
  mnv3_error *error;
  size_t nodes;
  int file_missing; /* set by resolve_file when the file does not exist */
} parse_ctx;

static const char *const ARCHITECTURES[] = {
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "lraspp_mobilenet_v3_large",
};
#define NUM_ARCHITECTURES (sizeof ARCHITECTURES / sizeof ARCHITECTURES[0])
#define SEGMENT_ARCHITECTURE "lraspp_mobilenet_v3_large"

/* ---- messages ------------------------------------------------------------ */

static int fail_at_mark(parse_ctx *c, size_t line, size_t column,
                        const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at_mark(parse_ctx *c, size_t line, size_t column,
                        const char *key, const char *fmt, ...) {
  char message[768];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  if (key && *key)
    return mnv3_fail(c->error, "%s:%zu:%zu: %s: %s", c->name, line, column,
                     key, message);
  return mnv3_fail(c->error, "%s:%zu:%zu: %s", c->name, line, column, message);
}

#define fail_at(c, n, key, ...)                                                \
  fail_at_mark((c), (n)->line, (n)->column, (key), __VA_ARGS__)

/* A short, printable rendering of what the user wrote, for "got ...". */
static const char *describe(const node *n, char *buf, size_t size) {
  if (n->kind == NODE_SEQ)
    return "a list";
  if (n->kind == NODE_MAP)
    return "a mapping";
  if (n->plain && n->length == 0)
    return "an empty value";
  const size_t shown_max = 60;
  size_t shown = n->length < shown_max ? n->length : shown_max;
  size_t o = 0;
  buf[o++] = '\'';
  for (size_t i = 0; i < shown && o + 5 < size; i++) {
    unsigned char ch = (unsigned char)n->value[i];
    buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
  }
  if (shown < n->length && o + 5 < size) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o++] = '\'';
  buf[o] = '\0';
  return buf;
}

/* ---- the tree ------------------------------------------------------------ */

static void node_free(node *n) {
  if (!n)
    return;
  for (size_t i = 0; i < n->count; i++)
    node_free(n->items[i]); /* depth is bounded by MAX_DEPTH */
  free(n->items);
  free(n->value);
  free(n);
}

static int node_append(node *parent, node *child) {
  if (parent->count == parent->capacity) {
    size_t capacity = parent->capacity ? parent->capacity * 2 : 8;
    node **items = realloc(parent->items, capacity * sizeof *items);
    if (!items)
      return -1;
    parent->items = items;
    parent->capacity = capacity;
  }
  parent->items[parent->count++] = child;
  return 0;
}

static int fail_syntax(parse_ctx *c, const yaml_parser_t *p, const char *text,
                       size_t length) {
  if (p->error == YAML_MEMORY_ERROR)
    return mnv3_fail(c->error, "%s: out of memory while parsing the config",
                     c->name);
  size_t line = p->problem_mark.line + 1, column = p->problem_mark.column + 1;
  if (p->error == YAML_READER_ERROR) {
    /* Reader errors only carry a byte offset: count lines ourselves. */
    line = 1;
    column = 1;
    for (size_t i = 0; i < p->problem_offset && i < length; i++) {
      if (text[i] == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
  }
  const char *problem = p->problem ? p->problem : "unknown error";
  /* libyaml's index counts characters; good enough for the ASCII tab test. */
  const char *hint = p->problem_mark.index < length &&
                             text[p->problem_mark.index] == '\t'
                         ? " (a tab: YAML indents with spaces only)"
                         : "";
  if (p->context)
    return fail_at_mark(c, line, column, NULL,
                        "invalid YAML: %s%s (%s at line %zu, column %zu)",
                        problem, hint, p->context, p->context_mark.line + 1,
                        p->context_mark.column + 1);
  return fail_at_mark(c, line, column, NULL, "invalid YAML: %s%s", problem,
                      hint);
}

static node *node_new(parse_ctx *c, const yaml_event_t *ev, node_kind kind) {
  if (++c->nodes > MAX_NODES) {
    fail_at_mark(c, ev->start_mark.line + 1, ev->start_mark.column + 1, NULL,
                 "the config has more than %d YAML values; it is not a "
                 "model config",
                 MAX_NODES);
    return NULL;
  }
  node *n = calloc(1, sizeof *n);
  if (!n) {
    mnv3_fail(c->error, "%s: out of memory", c->name);
    return NULL;
  }
  n->kind = kind;
  n->line = ev->start_mark.line + 1;
  n->column = ev->start_mark.column + 1;
  if (kind == NODE_SCALAR) {
    n->length = ev->data.scalar.length;
    n->value = malloc(n->length + 1);
    if (!n->value) {
      free(n);
      mnv3_fail(c->error, "%s: out of memory", c->name);
      return NULL;
    }
    memcpy(n->value, ev->data.scalar.value, n->length);
    n->value[n->length] = '\0';
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
               ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
  }
  return n;
}

/* Turns the event stream into a tree; refuses aliases, more than one
 * document, and nesting deeper than MAX_DEPTH. *root stays NULL for an empty
 * stream. On error the partial tree is freed. */
static int build_tree(parse_ctx *c, yaml_parser_t *p, const char *text,
                      size_t length, node **root) {
  node *stack[MAX_DEPTH];
  int depth = 0, documents = 0, rc = 0;
  *root = NULL;
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(p, &ev)) {
      rc = fail_syntax(c, p, text, length);
      break;
    }
    yaml_event_type_t type = ev.type;
    node *n = NULL;
    switch (type) {
    case YAML_DOCUMENT_START_EVENT:
      if (++documents > 1)
        rc = fail_at_mark(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
                          NULL,
                          "expected a single YAML document, found a second "
                          "one; keep only one");
      break;
    case YAML_ALIAS_EVENT:
      rc = fail_at_mark(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
                        NULL,
                        "YAML aliases (*%s) are not supported in a config; "
                        "write the value out",
                        (const char *)ev.data.alias.anchor);
      break;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      if (type != YAML_SCALAR_EVENT && depth == MAX_DEPTH) {
        rc = fail_at_mark(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
                          NULL, "the config nests deeper than %d levels",
                          MAX_DEPTH);
        break;
      }
      n = node_new(c, &ev,
                   type == YAML_SCALAR_EVENT          ? NODE_SCALAR
                   : type == YAML_SEQUENCE_START_EVENT ? NODE_SEQ
                                                       : NODE_MAP);
      if (!n) {
        rc = -1;
        break;
      }
      if (depth == 0) {
        *root = n;
      } else if (node_append(stack[depth - 1], n)) {
        node_free(n);
        rc = mnv3_fail(c->error, "%s: out of memory", c->name);
        break;
      }
      if (type != YAML_SCALAR_EVENT)
        stack[depth++] = n;
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      depth--;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
    if (rc || type == YAML_STREAM_END_EVENT)
      break;
  }
  if (rc) {
    node_free(*root);
    *root = NULL;
  }
  return rc;
}

/* ---- typed values -------------------------------------------------------- */

/* Checks that `map` is a mapping whose keys are all in allowed[] and appear
 * once; values[i] receives the value of allowed[i] (NULL when absent). */
static int scalar_is(const node *n, const char *text) {
  return n->kind == NODE_SCALAR && n->length == strlen(text) &&
         memcmp(n->value, text, n->length) == 0;
}

static void join_key(char *out, size_t size, const char *parent,
                     const char *key);

static int check_mapping(parse_ctx *c, const node *map, const char *path,
                         const char *const *allowed, size_t num_allowed,
                         const node **values) {
  char buf[96];
  char where[80], full[128];
  if (*path)
    snprintf(where, sizeof where, "in %s", path);
  else
    snprintf(where, sizeof where, "at the top level");
  if (map->kind != NODE_MAP)
    return fail_at(c, map, path, "expected a mapping, got %s",
                   describe(map, buf, sizeof buf));
  const node *keys[16] = {0};
  for (size_t i = 0; i < num_allowed; i++)
    values[i] = NULL;
  for (size_t k = 0; k + 1 < map->count; k += 2) {
    const node *key = map->items[k];
    if (key->kind != NODE_SCALAR)
      return fail_at(c, key, path, "expected a key name, got %s",
                     describe(key, buf, sizeof buf));
    size_t i = 0;
    while (i < num_allowed && !scalar_is(key, allowed[i]))
      i++;
    if (i == num_allowed) {
      char list[256] = "";
      for (size_t j = 0; j < num_allowed; j++) {
        strncat(list, allowed[j], sizeof list - strlen(list) - 1);
        if (j + 1 < num_allowed)
          strncat(list, ", ", sizeof list - strlen(list) - 1);
      }
      return fail_at(c, key, path, "unknown key %s; allowed keys %s: %s",
                     describe(key, buf, sizeof buf), where, list);
    }
    if (keys[i]) {
      join_key(full, sizeof full, path, allowed[i]);
      return fail_at(c, key, full,
                     "duplicate key (first given at line %zu, column %zu); "
                     "give it once",
                     keys[i]->line, keys[i]->column);
    }
    keys[i] = key;
    values[i] = map->items[k + 1];
  }
  return 0;
}

static void join_key(char *out, size_t size, const char *parent,
                     const char *key) {
  if (*parent)
    snprintf(out, size, "%s.%s", parent, key);
  else
    snprintf(out, size, "%s", key);
}

/* A non-empty scalar without NUL characters. */
static int get_string(parse_ctx *c, const node *n, const char *path,
                      const char *expected, const char **out) {
  char buf[96];
  if (n->kind != NODE_SCALAR || n->length == 0 ||
      strlen(n->value) != n->length)
    return fail_at(c, n, path, "expected %s, got %s", expected,
                   describe(n, buf, sizeof buf));
  *out = n->value;
  return 0;
}

/* A plain scalar that strtod reads entirely as a finite number. Quoted
 * scalars are strings in YAML and refused. */
static int scalar_number(const node *n, double *out) {
  if (n->kind != NODE_SCALAR || !n->plain || n->length == 0 ||
      isspace((unsigned char)n->value[0]))
    return -1;
  char *end;
  errno = 0;
  double v = strtod(n->value, &end);
  if (end != n->value + n->length || errno == ERANGE || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

static int scalar_integer(const node *n, long *out) {
  if (n->kind != NODE_SCALAR || !n->plain || n->length == 0 ||
      isspace((unsigned char)n->value[0]))
    return -1;
  char *end;
  errno = 0;
  long v = strtol(n->value, &end, 10);
  if (end != n->value + n->length || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

/* A number in (lo, hi] when lo_open, else in [lo, hi]. */
static int get_number(parse_ctx *c, const node *n, const char *path, double lo,
                      int lo_open, double hi, const char *expected,
                      double *out) {
  char buf[96];
  double v;
  if (scalar_number(n, &v) || (lo_open ? v <= lo : v < lo) || v > hi)
    return fail_at(c, n, path, "expected %s, got %s", expected,
                   describe(n, buf, sizeof buf));
  *out = v;
  return 0;
}

static int get_integer(parse_ctx *c, const node *n, const char *path, long lo,
                       long hi, int *out) {
  char buf[96];
  long v;
  if (scalar_integer(n, &v) || v < lo || v > hi)
    return fail_at(c, n, path, "expected an integer from %ld to %ld, got %s",
                   lo, hi, describe(n, buf, sizeof buf));
  *out = (int)v;
  return 0;
}

/* YAML 1.2 core booleans. */
static int get_bool(parse_ctx *c, const node *n, const char *path, int *out) {
  static const char *const truths[] = {"true", "True", "TRUE"};
  static const char *const falsehoods[] = {"false", "False", "FALSE"};
  char buf[96];
  if (n->kind == NODE_SCALAR && n->plain) {
    for (size_t i = 0; i < 3; i++) {
      if (strcmp(n->value, truths[i]) == 0) {
        *out = 1;
        return 0;
      }
      if (strcmp(n->value, falsehoods[i]) == 0) {
        *out = 0;
        return 0;
      }
    }
  }
  return fail_at(c, n, path, "expected true or false, got %s",
                 describe(n, buf, sizeof buf));
}

static int get_list(parse_ctx *c, const node *n, const char *path,
                    size_t length, const char *expected) {
  char buf[96];
  if (n->kind != NODE_SEQ)
    return fail_at(c, n, path, "expected %s, got %s", expected,
                   describe(n, buf, sizeof buf));
  if (n->count != length)
    return fail_at(c, n, path, "expected %s, got a list of %zu", expected,
                   n->count);
  return 0;
}

/* ---- files --------------------------------------------------------------- */

/* Reads a whole file of at most `limit` bytes. Returns 0, or -1 with errno
 * set, or -2 when the file is larger than the limit. */
static int read_whole_file(const char *path, size_t limit, char **out,
                           size_t *out_length) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  size_t capacity = 4096, length = 0;
  char *buf = malloc(capacity);
  int rc = 0;
  errno = 0;
  while (buf) {
    if (length == capacity) {
      if (capacity > limit) {
        rc = -2;
        break;
      }
      char *bigger = realloc(buf, capacity * 2);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      capacity *= 2;
    }
    size_t got = fread(buf + length, 1, capacity - length, f);
    length += got;
    if (got == 0) {
      if (ferror(f)) {
        rc = -1;
        if (!errno)
          errno = EIO;
      }
      break;
    }
  }
  int saved = errno;
  fclose(f);
  if (!buf) {
    errno = ENOMEM;
    return -1;
  }
  if (rc == 0 && length > limit)
    rc = -2;
  if (rc) {
    free(buf);
    errno = saved;
    return rc;
  }
  *out = buf;
  *out_length = length;
  return 0;
}

/* Resolves a path from the config against base_dir into an absolute path of
 * an existing regular file. */
static int resolve_file(parse_ctx *c, const node *n, const char *path,
                        const char *base_dir, char **out) {
  const char *value = NULL;
  if (get_string(c, n, path, "a file path", &value))
    return -1;
  char joined[PATH_MAX], absolute[PATH_MAX];
  int w;
  if (value[0] == '/')
    w = snprintf(joined, sizeof joined, "%s", value);
  else
    w = snprintf(joined, sizeof joined, "%s/%s",
                 base_dir && *base_dir ? base_dir : ".", value);
  if (w < 0 || (size_t)w >= sizeof joined)
    return fail_at(c, n, path, "the path is too long");
  if (joined[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
      return fail_at(c, n, path, "cannot get the current folder: %s",
                     strerror(errno));
    w = snprintf(absolute, sizeof absolute, "%s/%s", cwd, joined);
    if (w < 0 || (size_t)w >= sizeof absolute)
      return fail_at(c, n, path, "the path is too long");
  } else {
    memcpy(absolute, joined, strlen(joined) + 1);
  }
  struct stat st;
  c->file_missing = 1;
  if (stat(absolute, &st) != 0)
    return fail_at(c, n, path,
                   "file not found: %s (%s; relative paths resolve against "
                   "the config's folder)",
                   absolute, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail_at(c, n, path, "expected a regular file, got %s (not a file)",
                   absolute);
  c->file_missing = 0;
  *out = realpath(absolute, NULL);
  if (!*out)
    *out = strdup(absolute);
  if (!*out)
    return mnv3_fail(c->error, "%s: out of memory", c->name);
  return 0;
}

static void free_lines(char **lines, int count) {
  for (int i = 0; i < count; i++)
    free(lines[i]);
  free(lines);
}

/* One label per line; trailing whitespace and \r stripped; a final empty
 * line ignored. Keeps the user classes only (drops "background"). */
static int load_labels(parse_ctx *c, const node *n, mnv3_config *cfg) {
  char *text;
  size_t length;
  int rc = read_whole_file(cfg->labels_path, MAX_LABELS_BYTES, &text, &length);
  if (rc == -2)
    return fail_at(c, n, "labels", "%s is larger than %zu MiB",
                   cfg->labels_path, MAX_LABELS_BYTES >> 20);
  if (rc)
    return fail_at(c, n, "labels", "cannot read %s: %s", cfg->labels_path,
                   strerror(errno));
  if (memchr(text, '\0', length)) {
    free(text);
    return fail_at(c, n, "labels",
                   "%s contains a NUL byte; expected a text file with one "
                   "label per line",
                   cfg->labels_path);
  }
  /* Count lines: a final line without '\n' counts; the empty piece after a
   * final '\n' does not. */
  size_t count = 0;
  for (size_t i = 0; i < length; i++)
    count += text[i] == '\n';
  if (length > 0 && text[length - 1] != '\n')
    count++;

  int user = cfg->num_classes - cfg->background_class;
  int drop = 0;
  if (count == (size_t)cfg->num_classes && cfg->background_class)
    drop = 1;
  else if (count != (size_t)user) {
    free(text);
    if (cfg->background_class)
      return fail_at(c, n, "labels",
                     "%s has %zu lines; expected %d (one per network output, "
                     "model.num-classes) or %d (without the background "
                     "class)",
                     cfg->labels_path, count, cfg->num_classes, user);
    return fail_at(c, n, "labels",
                   "%s has %zu lines; expected %d (one per class, "
                   "model.num-classes)",
                   cfg->labels_path, count, cfg->num_classes);
  }

  char **labels = calloc((size_t)user, sizeof *labels);
  int stored = 0;
  const char *line = text;
  for (size_t i = 0; labels && i < count && stored < user; i++) {
    const char *end = memchr(line, '\n', (size_t)(text + length - line));
    if (!end)
      end = text + length;
    const char *next = end < text + length ? end + 1 : end;
    while (end > line && isspace((unsigned char)end[-1]))
      end--;
    if ((int)i >= drop) {
      labels[stored] = strndup(line, (size_t)(end - line));
      if (!labels[stored]) {
        free_lines(labels, stored);
        labels = NULL;
        break;
      }
      stored++;
    }
    line = next;
  }
  free(text);
  if (!labels)
    return mnv3_fail(c->error, "%s: out of memory reading labels", c->name);
  cfg->labels = labels;
  cfg->num_labels = user;
  return 0;
}

/* ---- sections ------------------------------------------------------------ */

enum { M_ARCH, M_WIDTH, M_CLASSES, M_BACKGROUND, M_WEIGHTS, M_NAME, M_PRECISION, M_COUNT };
static const char *const MODEL_KEYS[M_COUNT] = {
    "architecture", "width-multiplier", "num-classes", "background-class",
    "weights", "name", "precision"};

/* model.name, or the config file's name without its folder and extension:
   what results are labelled with when several models run side by side. */
static int parse_name(parse_ctx *c, const node *n, mnv3_config *cfg) {
  const char *name = NULL;
  size_t length;
  if (n) {
    if (get_string(c, n, "model.name", "a name", &name))
      return -1;
    length = strlen(name);
  } else {
    const char *slash = strrchr(c->name, '/');
    name = slash ? slash + 1 : c->name;
    const char *dot = strrchr(name, '.');
    length = dot && dot != name ? (size_t)(dot - name) : strlen(name);
  }
  if (!(cfg->name = strndup(name, length)))
    return mnv3_fail(c->error, "%s: out of memory", c->name);
  return 0;
}

static int parse_model(parse_ctx *c, const node *map, const char *base_dir,
                       mnv3_config *cfg) {
  const node *v[M_COUNT];
  char key[64], buf[96];
  if (check_mapping(c, map, "model", MODEL_KEYS, M_COUNT, v))
    return -1;

  if (!v[M_ARCH])
    return fail_at(c, map, "model.architecture",
                   "missing required key; expected one of: %s, %s, %s",
                   ARCHITECTURES[0], ARCHITECTURES[1], ARCHITECTURES[2]);
  const char *arch = NULL;
  if (get_string(c, v[M_ARCH], "model.architecture", "an architecture name",
                 &arch))
    return -1;
  size_t a = 0;
  while (a < NUM_ARCHITECTURES && strcmp(arch, ARCHITECTURES[a]) != 0)
    a++;
  if (a == NUM_ARCHITECTURES)
    return fail_at(c, v[M_ARCH], "model.architecture",
                   "expected one of %s, %s, %s; got %s", ARCHITECTURES[0],
                   ARCHITECTURES[1], ARCHITECTURES[2],
                   describe(v[M_ARCH], buf, sizeof buf));
  int segment = strcmp(arch, SEGMENT_ARCHITECTURE) == 0;
  if (!(cfg->architecture = strdup(arch)))
    return mnv3_fail(c->error, "%s: out of memory", c->name);
  if (parse_name(c, v[M_NAME], cfg))
    return -1;

  cfg->width_multiplier = 1.0;
  if (v[M_WIDTH] &&
      get_number(c, v[M_WIDTH], "model.width-multiplier", 0.0, 1, 4.0,
                 "a number > 0 and <= 4", &cfg->width_multiplier))
    return -1;

  cfg->num_classes = segment ? 21 : 1000;
  if (v[M_CLASSES]) {
    if (get_integer(c, v[M_CLASSES], "model.num-classes", 1, MAX_CLASSES,
                    &cfg->num_classes))
      return -1;
    if (segment && cfg->num_classes > MAX_SEGMENT_CLASSES)
      return fail_at(c, v[M_CLASSES], "model.num-classes",
                     "expected an integer from 1 to %d for %s (the mask is "
                     "8-bit), got %s",
                     MAX_SEGMENT_CLASSES, arch,
                     describe(v[M_CLASSES], buf, sizeof buf));
  }

  if (v[M_BACKGROUND]) {
    if (get_bool(c, v[M_BACKGROUND], "model.background-class",
                 &cfg->background_class))
      return -1;
    if (cfg->background_class && cfg->num_classes < 2)
      return fail_at(c, v[M_BACKGROUND], "model.background-class",
                     "true needs model.num-classes >= 2 (the background "
                     "output plus at least one class), got %d",
                     cfg->num_classes);
  }

  if (v[M_PRECISION]) {
    const char *precision = NULL;
    if (get_string(c, v[M_PRECISION], "model.precision", "fp32 or int8", &precision))
      return -1;
    if (strcmp(precision, "int8") != 0 && strcmp(precision, "fp32") != 0)
      return fail_at(c, v[M_PRECISION], "model.precision", "expected fp32 or int8; got %s",
                     describe(v[M_PRECISION], buf, sizeof buf));
    cfg->int8 = strcmp(precision, "int8") == 0;
  }

  join_key(key, sizeof key, "model", "weights");
  if (v[M_WEIGHTS]) {
    /* A missing weights file is an error only when the config's weights are
       used: a caller may give others (mnv3-run --weights). */
    mnv3_error missing;
    parse_ctx weights_ctx = *c;
    weights_ctx.error = &missing;
    weights_ctx.file_missing = 0;
    if (resolve_file(&weights_ctx, v[M_WEIGHTS], key, base_dir, &cfg->weights_path)) {
      if (!weights_ctx.file_missing)
        return mnv3_fail(c->error, "%s", missing.message);
      if (!(cfg->weights_error = strdup(missing.message)))
        return mnv3_fail(c->error, "%s: out of memory", c->name);
    }
  }
  return 0;
}

enum { I_SIZE, I_MEAN, I_STD, I_CROP, I_COUNT };
static const char *const INPUT_KEYS[I_COUNT] = {"size", "mean", "std", "crop"};

static int parse_triple(parse_ctx *c, const node *n, const char *path,
                        int positive, float out[3]) {
  char key[64];
  if (get_list(c, n, path, 3, "a list of 3 numbers [r, g, b]"))
    return -1;
  for (int i = 0; i < 3; i++) {
    double v = 0.0; /* set by get_number on success */
    snprintf(key, sizeof key, "%s[%d]", path, i);
    /* The value is stored as a float: it must stay finite and, for std,
       non-zero there. */
    if (get_number(c, n->items[i], key, positive ? FLT_MIN : -FLT_MAX, 0, FLT_MAX,
                   positive ? "a number > 0 that a float holds (1.2e-38 to 3.4e38)"
                            : "a number that a float holds (-3.4e38 to 3.4e38)",
                   &v))
      return -1;
    out[i] = (float)v;
  }
  return 0;
}

static int parse_input(parse_ctx *c, const node *map, mnv3_config *cfg) {
  const node *v[I_COUNT];
  if (check_mapping(c, map, "input", INPUT_KEYS, I_COUNT, v))
    return -1;
  if (v[I_SIZE]) {
    if (get_list(c, v[I_SIZE], "input.size", 2,
                 "a list of 2 integers [height, width]"))
      return -1;
    if (get_integer(c, v[I_SIZE]->items[0], "input.size[0] (height)",
                    MIN_INPUT_SIDE, MAX_INPUT_SIDE, &cfg->input_height) ||
        get_integer(c, v[I_SIZE]->items[1], "input.size[1] (width)",
                    MIN_INPUT_SIDE, MAX_INPUT_SIDE, &cfg->input_width))
      return -1;
  }
  if (v[I_MEAN] && parse_triple(c, v[I_MEAN], "input.mean", 0, cfg->mean))
    return -1;
  if (v[I_STD] && parse_triple(c, v[I_STD], "input.std", 1, cfg->std))
    return -1;
  if (v[I_CROP] && get_number(c, v[I_CROP], "input.crop", 0.0, 1, 1.0,
                              "a number > 0 and <= 1", &cfg->crop))
    return -1;
  return 0;
}

/* Pascal VOC devkit colour map: the bits of the class id are spread over the
 * high bits of r, g and b, three at a time. */
static void voc_palette(uint8_t palette[256][3]) {
  for (int i = 0; i < 256; i++) {
    int r = 0, g = 0, b = 0, id = i;
    for (int j = 0; j < 8; j++) {
      r |= (id & 1) << (7 - j);
      g |= ((id >> 1) & 1) << (7 - j);
      b |= ((id >> 2) & 1) << (7 - j);
      id >>= 3;
    }
    palette[i][0] = (uint8_t)r;
    palette[i][1] = (uint8_t)g;
    palette[i][2] = (uint8_t)b;
  }
}

/* Cityscapes train ids 0..18. */
static const uint8_t CITYSCAPES[19][3] = {
    {128, 64, 128},  {244, 35, 232}, {70, 70, 70},   {102, 102, 156},
    {190, 153, 153}, {153, 153, 153}, {250, 170, 30}, {220, 220, 0},
    {107, 142, 35},  {152, 251, 152}, {70, 130, 180}, {220, 20, 60},
    {255, 0, 0},     {0, 0, 142},    {0, 0, 70},     {0, 60, 100},
    {0, 80, 100},    {0, 0, 230},    {119, 11, 32},
};

static int parse_palette(parse_ctx *c, const node *n, mnv3_config *cfg) {
  char buf[96], key[64];
  const char *expected =
      "voc, cityscapes or a list of at most 256 colours [r, g, b]";
  if (scalar_is(n, "voc")) {
    voc_palette(cfg->palette);
    cfg->palette_size = 256;
  } else if (scalar_is(n, "cityscapes")) {
    memcpy(cfg->palette, CITYSCAPES, sizeof CITYSCAPES);
    cfg->palette_size = 19;
  } else if (n->kind == NODE_SEQ && n->count >= 1 && n->count <= 256) {
    for (size_t i = 0; i < n->count; i++) {
      snprintf(key, sizeof key, "palette[%zu]", i);
      if (get_list(c, n->items[i], key, 3, "a colour [r, g, b]"))
        return -1;
      for (int ch = 0; ch < 3; ch++) {
        int value;
        snprintf(key, sizeof key, "palette[%zu][%d]", i, ch);
        if (get_integer(c, n->items[i]->items[ch], key, 0, 255, &value))
          return -1;
        cfg->palette[i][ch] = (uint8_t)value;
      }
    }
    cfg->palette_size = (int)n->count;
  } else if (n->kind == NODE_SEQ) {
    return fail_at(c, n, "palette", "expected %s, got a list of %zu", expected,
                   n->count);
  } else {
    return fail_at(c, n, "palette", "expected %s, got %s", expected,
                   describe(n, buf, sizeof buf));
  }
  cfg->has_palette = 1;
  return 0;
}

/* activation-ranges: [[lo, hi], ...], what mnv3-run --quantize measured:
   the range of every op's output, in the network's order. */
static int parse_ranges(parse_ctx *c, const node *n, mnv3_config *cfg) {
  char buf[96], key[64];
  if (n->kind != NODE_SEQ || n->count < 1)
    return fail_at(c, n, "activation-ranges", "expected a list of [lo, hi], got %s",
                   describe(n, buf, sizeof buf));
  if (!(cfg->ranges = malloc(2 * sizeof(float) * n->count)))
    return mnv3_fail(c->error, "%s: out of memory", c->name);
  for (size_t i = 0; i < n->count; i++) {
    snprintf(key, sizeof key, "activation-ranges[%zu]", i);
    if (get_list(c, n->items[i], key, 2, "a range [lo, hi]"))
      return -1;
    double v[2];
    for (int j = 0; j < 2; j++) {
      snprintf(key, sizeof key, "activation-ranges[%zu][%d]", i, j);
      if (get_number(c, n->items[i]->items[j], key, -FLT_MAX, 0, FLT_MAX,
                     "a number that a float holds", &v[j]))
        return -1;
    }
    if (!(v[0] < v[1]))
      return fail_at(c, n->items[i], key, "expected lo < hi, got [%g, %g]", v[0], v[1]);
    cfg->ranges[2 * i] = (float)v[0];
    cfg->ranges[2 * i + 1] = (float)v[1];
  }
  cfg->num_ranges = (int)n->count;
  return 0;
}

enum { T_MODEL, T_LABELS, T_INPUT, T_PALETTE, T_RANGES, T_COUNT };
static const char *const TOP_KEYS[T_COUNT] = {"model", "labels", "input",
                                              "palette", "activation-ranges"};

static int fill_config(parse_ctx *c, const node *root, const char *base_dir,
                       mnv3_config *cfg) {
  static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
  static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
  cfg->input_height = cfg->input_width = 224;
  memcpy(cfg->mean, imagenet_mean, sizeof cfg->mean);
  memcpy(cfg->std, imagenet_std, sizeof cfg->std);
  cfg->crop = 1.0;

  if (!root || (root->kind == NODE_SCALAR && root->plain && !root->length))
    return fail_at_mark(c, 1, 1, "model",
                        "missing required key (the config is empty)");
  const node *v[T_COUNT];
  if (check_mapping(c, root, "", TOP_KEYS, T_COUNT, v))
    return -1;
  if (!v[T_MODEL])
    return fail_at(c, root, "model", "missing required key (a mapping with "
                                     "at least model.architecture)");
  if (parse_model(c, v[T_MODEL], base_dir, cfg))
    return -1;
  if (v[T_INPUT] && parse_input(c, v[T_INPUT], cfg))
    return -1;
  if (v[T_PALETTE] && parse_palette(c, v[T_PALETTE], cfg))
    return -1;
  if (v[T_RANGES] && parse_ranges(c, v[T_RANGES], cfg))
    return -1;
  if (v[T_LABELS]) {
    if (resolve_file(c, v[T_LABELS], "labels", base_dir, &cfg->labels_path) ||
        load_labels(c, v[T_LABELS], cfg))
      return -1;
  }
  return 0;
}

/* ---- public -------------------------------------------------------------- */

void mnv3_config_clear(mnv3_config *config) {
  if (!config)
    return;
  free(config->path);
  free(config->architecture);
  free(config->name);
  free(config->weights_path);
  free(config->ranges);
  free(config->weights_error);
  free(config->labels_path);
  free_lines(config->labels, config->num_labels);
  memset(config, 0, sizeof *config);
}

int mnv3_config_parse(const char *name, const char *base_dir, const char *text,
                      size_t length, mnv3_config *config, mnv3_error *error) {
  if (!config)
    return mnv3_fail(error, "mnv3_config_parse: config is NULL");
  memset(config, 0, sizeof *config);
  parse_ctx c = {.name = name ? name : "<config>", .error = error};
  if (!text && length)
    return mnv3_fail(error, "%s: config text is NULL", c.name);
  if (length > MAX_CONFIG_BYTES)
    return mnv3_fail(error,
                     "%s: the config is %zu bytes, more than the %zu KiB a "
                     "config may have",
                     c.name, length, MAX_CONFIG_BYTES >> 10);

  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return mnv3_fail(error, "%s: out of memory", c.name);
  yaml_parser_set_input_string(&parser,
                               (const unsigned char *)(text ? text : ""),
                               length);
  node *root;
  int rc = build_tree(&c, &parser, text, length, &root);
  yaml_parser_delete(&parser);
  if (rc)
    return -1;

  mnv3_config cfg;
  memset(&cfg, 0, sizeof cfg);
  rc = fill_config(&c, root, base_dir, &cfg);
  node_free(root);
  if (rc == 0 && !(cfg.path = strdup(c.name)))
    rc = mnv3_fail(error, "%s: out of memory", c.name);
  if (rc) {
    mnv3_config_clear(&cfg);
    return -1;
  }
  *config = cfg;
  return 0;
}

int mnv3_config_load(const char *path, mnv3_config *config,
                     mnv3_error *error) {
  if (!config)
    return mnv3_fail(error, "mnv3_config_load: config is NULL");
  memset(config, 0, sizeof *config);
  if (!path || !*path)
    return mnv3_fail(error, "no config path given");
  char *text;
  size_t length;
  int rc = read_whole_file(path, MAX_CONFIG_BYTES, &text, &length);
  if (rc == -2)
    return mnv3_fail(error,
                     "%s: the config is larger than %zu KiB; is it the right "
                     "file?",
                     path, MAX_CONFIG_BYTES >> 10);
  if (rc)
    return mnv3_fail(error, "cannot open config %s: %s", path,
                     strerror(errno));

  /* Relative paths inside resolve against the config's own folder. */
  const char *slash = strrchr(path, '/');
  char *base_dir;
  if (!slash)
    base_dir = strdup(".");
  else if (slash == path)
    base_dir = strdup("/");
  else
    base_dir = strndup(path, (size_t)(slash - path));
  if (!base_dir) {
    free(text);
    return mnv3_fail(error, "%s: out of memory", path);
  }
  rc = mnv3_config_parse(path, base_dir, text, length, config, error);
  free(base_dir);
  free(text);
  return rc;
}
