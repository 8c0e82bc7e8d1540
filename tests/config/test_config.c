/* Tests for the YAML config loader (engine/src/config.c): exact values of a
 * full config, defaults, built-in palettes, and one case per error kind with
 * its FILE:LINE:COLUMN and key path. Writes its files into a mkdtemp folder. */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static char tmp_dir[PATH_MAX];  /* as mkdtemp made it */
static char real_dir[PATH_MAX]; /* realpath of it, as the loader reports */
static int checks_run;

/* Files created, removed at exit (deepest first). */
static char created[64][PATH_MAX];
static int num_created;

/* snprintf into a PATH_MAX buffer, failing the test on truncation. */
static void format_path(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void format_path(char *out, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(out, PATH_MAX, fmt, args);
  va_end(args);
  CHECK(n >= 0 && n < PATH_MAX, "path too long");
}

static void remember(const char *path) {
  CHECK(num_created < 64, "too many temporary files");
  format_path(created[num_created++], "%s", path);
}

static void cleanup(void) {
  for (int i = num_created - 1; i >= 0; i--)
    remove(created[i]);
  rmdir(tmp_dir);
}

static void make_dir(const char *name) {
  char path[PATH_MAX];
  format_path(path, "%s/%s", tmp_dir, name);
  CHECK(mkdir(path, 0700) == 0, "mkdir %s: %s", path, strerror(errno));
  remember(path);
}

static void write_file(const char *name, const char *text) {
  char path[PATH_MAX];
  format_path(path, "%s/%s", tmp_dir, name);
  int existed = access(path, F_OK) == 0;
  FILE *f = fopen(path, "wb");
  CHECK(f, "cannot write %s: %s", path, strerror(errno));
  fputs(text, f);
  CHECK(fclose(f) == 0, "cannot write %s", path);
  if (!existed)
    remember(path);
}

/* Writes `yaml` to configs/cfg.yaml and loads it from there. */
static int load_yaml(const char *yaml, mnv3_config *cfg, mnv3_error *err) {
  char path[PATH_MAX];
  write_file("configs/cfg.yaml", yaml);
  format_path(path, "%s/configs/cfg.yaml", tmp_dir);
  memset(err, 0, sizeof *err);
  return mnv3_config_load(path, cfg, err);
}

static int is_zeroed(const mnv3_config *cfg) {
  static const mnv3_config zero;
  return memcmp(cfg, &zero, sizeof zero) == 0;
}

/* Parses `yaml` in memory as "cfg.yaml" (relative paths against tmp_dir) and
 * expects an error whose message contains every needle. */
static void expect_error_(int line, const char *yaml, size_t length,
                          const char *needle1, const char *needle2,
                          const char *needle3) {
  mnv3_config cfg;
  mnv3_error err = {{0}};
  memset(&cfg, 0x5a, sizeof cfg); /* the loader must not read garbage */
  int rc = mnv3_config_parse("cfg.yaml", tmp_dir, yaml, length, &cfg, &err);
  CHECK(rc == -1, "test line %d: expected an error, got success", line);
  CHECK(is_zeroed(&cfg), "test line %d: config not zeroed after an error",
        line);
  const char *needles[3] = {needle1, needle2, needle3};
  for (int i = 0; i < 3; i++)
    CHECK(!needles[i] || strstr(err.message, needles[i]),
          "test line %d: message lacks \"%s\": %s", line, needles[i],
          err.message);
  checks_run++;
}

#define expect_error(yaml, ...)                                                \
  expect_error_(__LINE__, (yaml), strlen(yaml), __VA_ARGS__)

#define MODEL_SMALL "model:\n  architecture: mobilenet_v3_small\n"

static void expect_path(const char *got, const char *relative) {
  char want[PATH_MAX];
  format_path(want, "%s/%s", real_dir, relative);
  CHECK(got && strcmp(got, want) == 0, "path: want %s, got %s", want,
        got ? got : "(null)");
}

static void close_enough(double got, double want, const char *what) {
  CHECK(fabs(got - want) < 1e-6, "%s: want %g, got %g", what, want, got);
}

/* A labels file: "background" then n - 1 class names, CRLF endings and
 * trailing blanks, which the loader must strip. */
static void write_labels(const char *name, int lines, int with_background) {
  size_t size = (size_t)lines * 32 + 1;
  char *text = malloc(size);
  CHECK(text, "out of memory");
  size_t o = 0;
  for (int i = 0; i < lines; i++) {
    if (with_background && i == 0)
      o += (size_t)snprintf(text + o, size - o, "background \r\n");
    else
      o += (size_t)snprintf(text + o, size - o, "class %d\t \r\n",
                            i - with_background);
  }
  write_file(name, text);
  free(text);
}

static void test_full_config(void) {
  write_file("models/w.safetensors", "not read by the config loader");
  write_labels("models/labels1001.txt", 1001, 1);
  const char *yaml =
      "# a full config\n"
      "model:\n"
      "  architecture: mobilenet_v3_large\n"
      "  width-multiplier: 0.75\n"
      "  num-classes: 1001\n"
      "  background-class: true\n"
      "  weights: ../models/w.safetensors\n"
      "  name: large 0.75\n"
      "labels: ../models/labels1001.txt\n"
      "input:\n"
      "  size: [256, 320]\n"
      "  mean: [0.5, 0.25, 0]\n"
      "  std:\n"
      "    - 0.5\n"
      "    - 2\n"
      "    - 1e-1\n"
      "  crop: 0.875\n"
      "palette: [[1, 2, 3], [255, 0, 128]]\n";
  mnv3_config cfg;
  mnv3_error err;
  int rc = load_yaml(yaml, &cfg, &err);
  CHECK(rc == 0, "full config failed: %s", err.message);
  char want_path[PATH_MAX];
  format_path(want_path, "%s/configs/cfg.yaml", tmp_dir);
  CHECK(strcmp(cfg.path, want_path) == 0, "path %s", cfg.path);
  CHECK(strcmp(cfg.architecture, "mobilenet_v3_large") == 0, "arch %s",
        cfg.architecture);
  CHECK(strcmp(cfg.name, "large 0.75") == 0, "name %s", cfg.name);
  close_enough(cfg.width_multiplier, 0.75, "width_multiplier");
  CHECK(cfg.num_classes == 1001, "num_classes %d", cfg.num_classes);
  CHECK(cfg.background_class == 1, "background_class %d",
        cfg.background_class);
  expect_path(cfg.weights_path, "models/w.safetensors");
  expect_path(cfg.labels_path, "models/labels1001.txt");
  /* background dropped, names stripped of "\t \r" */
  CHECK(cfg.num_labels == 1000, "num_labels %d", cfg.num_labels);
  CHECK(strcmp(cfg.labels[0], "class 0") == 0, "labels[0] '%s'",
        cfg.labels[0]);
  CHECK(strcmp(cfg.labels[999], "class 999") == 0, "labels[999] '%s'",
        cfg.labels[999]);
  CHECK(cfg.input_height == 256 && cfg.input_width == 320, "size %dx%d",
        cfg.input_height, cfg.input_width);
  close_enough(cfg.mean[0], 0.5, "mean[0]");
  close_enough(cfg.mean[1], 0.25, "mean[1]");
  close_enough(cfg.mean[2], 0.0, "mean[2]");
  close_enough(cfg.std[0], 0.5, "std[0]");
  close_enough(cfg.std[1], 2.0, "std[1]");
  close_enough(cfg.std[2], 0.1, "std[2]");
  close_enough(cfg.crop, 0.875, "crop");
  CHECK(cfg.has_palette == 1 && cfg.palette_size == 2, "palette %d/%d",
        cfg.has_palette, cfg.palette_size);
  CHECK(cfg.palette[0][0] == 1 && cfg.palette[0][1] == 2 &&
            cfg.palette[0][2] == 3,
        "palette[0]");
  CHECK(cfg.palette[1][0] == 255 && cfg.palette[1][1] == 0 &&
            cfg.palette[1][2] == 128,
        "palette[1]");
  mnv3_config_clear(&cfg);
  CHECK(is_zeroed(&cfg), "clear left data behind");
  mnv3_config_clear(&cfg); /* clearing a zeroed config is fine */
  checks_run++;
}

/* Background class with a file that already omits it: every line is kept. */
static void test_labels_without_background_line(void) {
  write_labels("models/labels1000.txt", 1000, 0);
  mnv3_config cfg;
  mnv3_error err;
  int rc = load_yaml("model:\n"
                     "  architecture: mobilenet_v3_small\n"
                     "  num-classes: 1001\n"
                     "  background-class: true\n"
                     "labels: ../models/labels1000.txt\n",
                     &cfg, &err);
  CHECK(rc == 0, "%s", err.message);
  CHECK(cfg.num_labels == 1000 && strcmp(cfg.labels[0], "class 0") == 0 &&
            strcmp(cfg.labels[999], "class 999") == 0,
        "num_labels %d, labels[0] '%s'", cfg.num_labels, cfg.labels[0]);
  mnv3_config_clear(&cfg);

  /* No background: exactly num-classes lines, last line without '\n'. */
  write_file("models/three.txt", "cat\ndog  \nbird");
  rc = load_yaml("model: {architecture: mobilenet_v3_small, num-classes: 3}\n"
                 "labels: ../models/three.txt\n",
                 &cfg, &err);
  CHECK(rc == 0, "%s", err.message);
  CHECK(cfg.num_labels == 3 && strcmp(cfg.labels[1], "dog") == 0 &&
            strcmp(cfg.labels[2], "bird") == 0,
        "three labels: %d", cfg.num_labels);
  mnv3_config_clear(&cfg);
  checks_run++;
}

static void test_defaults(void) {
  mnv3_config cfg;
  mnv3_error err = {{0}};
  const char *yaml = MODEL_SMALL;
  int rc = mnv3_config_parse("mem.yaml", NULL, yaml, strlen(yaml), &cfg, &err);
  CHECK(rc == 0, "%s", err.message);
  CHECK(strcmp(cfg.path, "mem.yaml") == 0, "path %s", cfg.path);
  CHECK(strcmp(cfg.architecture, "mobilenet_v3_small") == 0, "arch");
  /* The file's name without its extension. */
  CHECK(strcmp(cfg.name, "mem") == 0, "default name %s", cfg.name);
  close_enough(cfg.width_multiplier, 1.0, "default width");
  CHECK(cfg.num_classes == 1000, "default classes %d", cfg.num_classes);
  CHECK(cfg.background_class == 0, "default background");
  CHECK(!cfg.weights_path && !cfg.labels_path && !cfg.labels &&
            cfg.num_labels == 0,
        "no weights/labels by default");
  CHECK(cfg.input_height == 224 && cfg.input_width == 224, "default size");
  const float mean[3] = {0.485f, 0.456f, 0.406f};
  const float std[3] = {0.229f, 0.224f, 0.225f};
  for (int i = 0; i < 3; i++) {
    CHECK(cfg.mean[i] == mean[i], "default mean[%d] %g", i, cfg.mean[i]);
    CHECK(cfg.std[i] == std[i], "default std[%d] %g", i, cfg.std[i]);
  }
  close_enough(cfg.crop, 1.0, "default crop");
  CHECK(!cfg.has_palette && cfg.palette_size == 0, "no default palette");
  mnv3_config_clear(&cfg);

  yaml = "model:\n  architecture: lraspp_mobilenet_v3_large\n";
  rc = mnv3_config_parse("mem.yaml", NULL, yaml, strlen(yaml), &cfg, &err);
  CHECK(rc == 0, "%s", err.message);
  CHECK(cfg.num_classes == 21, "lraspp default classes %d", cfg.num_classes);
  mnv3_config_clear(&cfg);
  checks_run++;
}

/* A config path relative to the working folder still gives absolute paths. */
static void test_relative_config_path(void) {
  char cwd[PATH_MAX];
  CHECK(getcwd(cwd, sizeof cwd), "getcwd");
  CHECK(chdir(tmp_dir) == 0, "chdir");
  write_file("configs/rel.yaml", "model:\n"
                                 "  architecture: mobilenet_v3_small\n"
                                 "  weights: ../models/w.safetensors\n");
  mnv3_config cfg;
  mnv3_error err;
  int rc = mnv3_config_load("configs/rel.yaml", &cfg, &err);
  CHECK(chdir(cwd) == 0, "chdir back");
  CHECK(rc == 0, "%s", err.message);
  expect_path(cfg.weights_path, "models/w.safetensors");
  mnv3_config_clear(&cfg);
  checks_run++;
}

static void test_palettes(void) {
  mnv3_config cfg;
  mnv3_error err;
  const char *yaml = MODEL_SMALL "palette: voc\n";
  int rc = mnv3_config_parse("p.yaml", NULL, yaml, strlen(yaml), &cfg, &err);
  CHECK(rc == 0, "%s", err.message);
  CHECK(cfg.has_palette && cfg.palette_size == 256, "voc size %d",
        cfg.palette_size);
  /* Reference values of the VOC devkit colour map (labelcolormap.m). */
  static const struct { int id; uint8_t rgb[3]; } voc[] = {
      {0, {0, 0, 0}},       {1, {128, 0, 0}},    {2, {0, 128, 0}},
      {3, {128, 128, 0}},   {4, {0, 0, 128}},    {8, {64, 0, 0}},
      {15, {192, 128, 128}}, {20, {0, 64, 128}}, {255, {224, 224, 192}},
  };
  for (size_t i = 0; i < sizeof voc / sizeof voc[0]; i++)
    CHECK(memcmp(cfg.palette[voc[i].id], voc[i].rgb, 3) == 0,
          "voc[%d] = %d,%d,%d", voc[i].id, cfg.palette[voc[i].id][0],
          cfg.palette[voc[i].id][1], cfg.palette[voc[i].id][2]);
  mnv3_config_clear(&cfg);

  yaml = MODEL_SMALL "palette: cityscapes\n";
  rc = mnv3_config_parse("p.yaml", NULL, yaml, strlen(yaml), &cfg, &err);
  CHECK(rc == 0, "%s", err.message);
  CHECK(cfg.has_palette && cfg.palette_size == 19, "cityscapes size %d",
        cfg.palette_size);
  static const uint8_t road[3] = {128, 64, 128}, person[3] = {220, 20, 60},
                       bicycle[3] = {119, 11, 32};
  CHECK(memcmp(cfg.palette[0], road, 3) == 0, "road");
  CHECK(memcmp(cfg.palette[11], person, 3) == 0, "person");
  CHECK(memcmp(cfg.palette[18], bicycle, 3) == 0, "bicycle");
  mnv3_config_clear(&cfg);
  checks_run++;
}

static void test_file_errors(void) {
  mnv3_config cfg;
  mnv3_error err = {{0}};
  char path[PATH_MAX];
  format_path(path, "%s/configs/absent.yaml", tmp_dir);
  CHECK(mnv3_config_load(path, &cfg, &err) == -1, "absent config loaded");
  CHECK(strstr(err.message, "cannot open") && strstr(err.message, path) &&
            strstr(err.message, "No such file or directory"),
        "absent config: %s", err.message);
  CHECK(is_zeroed(&cfg), "config not zeroed");

  /* weights: a missing file is kept as an error for when the weights are
     used (a caller may override them); it names the resolved path */
  char want[PATH_MAX];
  int rc = load_yaml(MODEL_SMALL "  weights: missing.safetensors\n", &cfg,
                     &err);
  format_path(want, "%s/configs/missing.safetensors", tmp_dir);
  CHECK(rc == 0 && !cfg.weights_path && cfg.weights_error &&
            strstr(cfg.weights_error, "cfg.yaml:3:12: model.weights: ") &&
            strstr(cfg.weights_error, want),
        "missing weights: %s", cfg.weights_error ? cfg.weights_error : err.message);
  mnv3_config_clear(&cfg);
  rc = load_yaml(MODEL_SMALL "  weights: [1]\n", &cfg, &err);
  CHECK(rc == -1 && strstr(err.message, "cfg.yaml:3:12: model.weights: "),
        "weights of the wrong type: %s", err.message);
  CHECK(is_zeroed(&cfg), "config not zeroed");

  rc = load_yaml(MODEL_SMALL "labels: ../models/nolabels.txt\n", &cfg, &err);
  CHECK(rc == -1 && strstr(err.message, "cfg.yaml:3:9: labels: ") &&
            strstr(err.message, "models/nolabels.txt") &&
            strstr(err.message, "not found"),
        "missing labels: %s", err.message);

  /* wrong label counts: file, count found, counts accepted */
  rc = load_yaml(MODEL_SMALL "labels: ../models/labels1000.txt\n"
                             "input: {crop: 0.5}\n"
                             "model2: x\n",
                 &cfg, &err);
  CHECK(rc == -1 && strstr(err.message, "cfg.yaml:5:1: unknown key 'model2'"),
        "unknown key checked first: %s", err.message);
  rc = load_yaml("model:\n"
                 "  architecture: mobilenet_v3_small\n"
                 "  num-classes: 1002\n"
                 "  background-class: true\n"
                 "labels: ../models/labels1000.txt\n",
                 &cfg, &err);
  CHECK(rc == -1 && strstr(err.message, "cfg.yaml:5:9: labels: ") &&
            strstr(err.message, "labels1000.txt has 1000 lines") &&
            strstr(err.message, "1002") && strstr(err.message, "1001"),
        "label count with background: %s", err.message);
  rc = load_yaml(MODEL_SMALL "labels: ../models/three.txt\n", &cfg, &err);
  CHECK(rc == -1 && strstr(err.message, "three.txt has 3 lines") &&
            strstr(err.message, "expected 1000"),
        "label count: %s", err.message);
  /* a folder is not a file */
  rc = load_yaml(MODEL_SMALL "labels: ../models\n", &cfg, &err);
  CHECK(rc == -1 && strstr(err.message, "labels: expected a regular file"),
        "folder as labels: %s", err.message);
  CHECK(is_zeroed(&cfg), "config not zeroed");
  checks_run++;
}

static void test_syntax_errors(void) {
  /* libyaml's problem, at its position */
  expect_error("model:\n  architecture: [a, b\n", "cfg.yaml:3:1: invalid YAML",
               "did not find expected ',' or ']'", "line 2, column 17");
  expect_error("model:\n\tarchitecture: x\n", "cfg.yaml:2:1: invalid YAML",
               "tab", NULL);
  expect_error("model:\n  architecture: x\n   y: 2\n",
               "cfg.yaml:3:5: invalid YAML",
               "mapping values are not allowed", NULL);
  expect_error("model: \"abc\xff\"\n", "cfg.yaml:1:12: invalid YAML",
               "UTF-8", NULL);
  expect_error("", "cfg.yaml:1:1: model: missing required key", "empty",
               NULL);
  expect_error("# only a comment\n", "cfg.yaml:1:1: model: missing", NULL,
               NULL);
  expect_error("---\n" MODEL_SMALL "---\n" MODEL_SMALL,
               "cfg.yaml:4:1: expected a single YAML document", NULL, NULL);
  expect_error("- model\n", "cfg.yaml:1:1: ", "expected a mapping, got a list",
               NULL);
}

static void test_key_errors(void) {
  expect_error("modle:\n  architecture: mobilenet_v3_small\n",
               "cfg.yaml:1:1: unknown key 'modle'",
               "allowed keys at the top level: model, labels, input, palette",
               NULL);
  expect_error(MODEL_SMALL "  widht: 1\n", "cfg.yaml:3:3: model: ",
               "unknown key 'widht'",
               "architecture, width-multiplier, num-classes, "
               "background-class, weights, name");
  expect_error(MODEL_SMALL "  name: [a]\n", "cfg.yaml:3:9: model.name: ",
               "expected a name, got a list", NULL);
  expect_error(MODEL_SMALL "input:\n  size: [224, 224]\n  scale: 2\n",
               "cfg.yaml:5:3: input: unknown key 'scale'",
               "size, mean, std, crop", NULL);
  expect_error(MODEL_SMALL "  architecture: mobilenet_v3_large\n",
               "cfg.yaml:3:3: model.architecture: duplicate key",
               "line 2, column 3", NULL);
  expect_error(MODEL_SMALL "input: {crop: 0.5, crop: 0.5}\n",
               "cfg.yaml:3:20: input.crop: duplicate key", NULL, NULL);
  expect_error("input:\n  crop: 0.5\n", "cfg.yaml:1:1: model: missing required "
               "key", NULL, NULL);
  expect_error("model:\n  num-classes: 10\n",
               "cfg.yaml:2:3: model.architecture: missing required key",
               "mobilenet_v3_large, mobilenet_v3_small, "
               "lraspp_mobilenet_v3_large",
               NULL);
  expect_error("model:\n  architecture: mobilenet_v4\n",
               "cfg.yaml:2:17: model.architecture: expected one of "
               "mobilenet_v3_large, mobilenet_v3_small, "
               "lraspp_mobilenet_v3_large",
               "got 'mobilenet_v4'", NULL);
  expect_error("model:\n  ? [a, b]\n  : 1\n", "cfg.yaml:2:5: model: ",
               "expected a key name, got a list", NULL);
}

static void test_type_errors(void) {
  expect_error("model: mobilenet_v3_small\n",
               "cfg.yaml:1:8: model: expected a mapping, got "
               "'mobilenet_v3_small'",
               NULL, NULL);
  expect_error("model:\n  architecture:\n    name: mobilenet_v3_small\n",
               "cfg.yaml:3:5: model.architecture: expected an architecture "
               "name, got a mapping",
               NULL, NULL);
  expect_error(MODEL_SMALL "  width-multiplier: abc\n",
               "cfg.yaml:3:21: model.width-multiplier: expected a number",
               "got 'abc'", NULL);
  expect_error(MODEL_SMALL "  width-multiplier: 1.0x\n",
               "cfg.yaml:3:21: model.width-multiplier", "got '1.0x'", NULL);
  expect_error(MODEL_SMALL "  width-multiplier: nan\n",
               "cfg.yaml:3:21: model.width-multiplier", "got 'nan'", NULL);
  expect_error(MODEL_SMALL "  width-multiplier: inf\n",
               "cfg.yaml:3:21: model.width-multiplier", "got 'inf'", NULL);
  expect_error(MODEL_SMALL "  width-multiplier: \"1.0\"\n",
               "cfg.yaml:3:21: model.width-multiplier", "got '1.0'", NULL);
  expect_error(MODEL_SMALL "  width-multiplier:\n",
               "cfg.yaml:3:20: model.width-multiplier", "got an empty value",
               NULL);
  expect_error(MODEL_SMALL "  num-classes: 10.5\n",
               "cfg.yaml:3:16: model.num-classes: expected an integer",
               "got '10.5'", NULL);
  expect_error(MODEL_SMALL "  num-classes: 99999999999999999999999\n",
               "cfg.yaml:3:16: model.num-classes", NULL, NULL);
  expect_error(MODEL_SMALL "  background-class: yes\n",
               "cfg.yaml:3:21: model.background-class: expected true or "
               "false, got 'yes'",
               NULL, NULL);
  expect_error(MODEL_SMALL "input:\n  size: [224]\n",
               "cfg.yaml:4:9: input.size: expected a list of 2 integers",
               "got a list of 1", NULL);
  expect_error(MODEL_SMALL "input:\n  size: 224\n",
               "cfg.yaml:4:9: input.size: expected a list", "got '224'",
               NULL);
  expect_error(MODEL_SMALL "input:\n  mean: [0.5, 0.5]\n",
               "cfg.yaml:4:9: input.mean: expected a list of 3 numbers",
               "got a list of 2", NULL);
  expect_error(MODEL_SMALL "input:\n  mean: [0.5, x, 0.5]\n",
               "cfg.yaml:4:15: input.mean[1]: expected a number", "got 'x'",
               NULL);
  expect_error(MODEL_SMALL "labels: [a.txt]\n",
               "cfg.yaml:3:9: labels: expected a file path, got a list", NULL,
               NULL);
  expect_error(MODEL_SMALL "palette: [[1, 2]]\n",
               "cfg.yaml:3:11: palette[0]: expected a colour [r, g, b]",
               "got a list of 2", NULL);
  expect_error(MODEL_SMALL "palette: pascal\n",
               "cfg.yaml:3:10: palette: expected voc, cityscapes",
               "got 'pascal'", NULL);
}

static void test_range_errors(void) {
  expect_error(MODEL_SMALL "  width-multiplier: -1\n",
               "cfg.yaml:3:21: model.width-multiplier: expected a number > 0 "
               "and <= 4, got '-1'",
               NULL, NULL);
  expect_error(MODEL_SMALL "  width-multiplier: 0\n",
               "cfg.yaml:3:21: model.width-multiplier", "got '0'", NULL);
  expect_error(MODEL_SMALL "  width-multiplier: 4.5\n",
               "cfg.yaml:3:21: model.width-multiplier", "got '4.5'", NULL);
  expect_error(MODEL_SMALL "  num-classes: 0\n",
               "cfg.yaml:3:16: model.num-classes: expected an integer from 1 "
               "to 100000, got '0'",
               NULL, NULL);
  expect_error(MODEL_SMALL "  num-classes: 100001\n",
               "cfg.yaml:3:16: model.num-classes", "got '100001'", NULL);
  expect_error("model:\n  architecture: lraspp_mobilenet_v3_large\n"
               "  num-classes: 300\n",
               "cfg.yaml:3:16: model.num-classes: expected an integer from 1 "
               "to 256",
               "8-bit", "got '300'");
  expect_error(MODEL_SMALL "  num-classes: 1\n  background-class: true\n",
               "cfg.yaml:4:21: model.background-class", "num-classes >= 2",
               NULL);
  expect_error(MODEL_SMALL "input:\n  size: [16, 224]\n",
               "cfg.yaml:4:10: input.size[0] (height): expected an integer "
               "from 32 to 2048, got '16'",
               NULL, NULL);
  expect_error(MODEL_SMALL "input:\n  size: [224, 4096]\n",
               "cfg.yaml:4:15: input.size[1] (width)", "got '4096'", NULL);
  expect_error(MODEL_SMALL "input:\n  std: [0.2, 0, 0.2]\n",
               "cfg.yaml:4:14: input.std[1]: expected a number > 0",
               "got '0'", NULL);
  expect_error(MODEL_SMALL "input:\n  crop: 0\n",
               "cfg.yaml:4:9: input.crop: expected a number > 0 and <= 1",
               "got '0'", NULL);
  expect_error(MODEL_SMALL "input:\n  crop: 1.01\n", "cfg.yaml:4:9: input.crop",
               "got '1.01'", NULL);
  expect_error(MODEL_SMALL "palette: [[0, 0, 0], [1, 2, 256]]\n",
               "cfg.yaml:3:29: palette[1][2]: expected an integer from 0 to "
               "255, got '256'",
               NULL, NULL);
  expect_error(MODEL_SMALL "palette: []\n", "cfg.yaml:3:10: palette",
               "got a list of 0", NULL);

  /* more than 256 palette entries */
  size_t size = 64 + 257 * 12;
  char *yaml = malloc(size);
  CHECK(yaml, "out of memory");
  size_t o = (size_t)snprintf(yaml, size, MODEL_SMALL "palette:\n");
  for (int i = 0; i < 257; i++)
    o += (size_t)snprintf(yaml + o, size - o, "- [1, 2, 3]\n");
  expect_error(yaml, "cfg.yaml:4:1: palette", "got a list of 257", NULL);
  free(yaml);
}

/* Hostile input must fail cleanly, without deep recursion or huge memory. */
static void test_hostile_input(void) {
  /* nesting far beyond the limit, inside a valid-looking key */
  size_t depth = 100000;
  char *deep = malloc(depth * 2 + 64);
  CHECK(deep, "out of memory");
  size_t o = (size_t)sprintf(deep, "model:\n  architecture: ");
  memset(deep + o, '[', depth);
  memset(deep + o + depth, ']', depth);
  deep[o + 2 * depth] = '\0';
  expect_error(deep, "cfg.yaml:2:", "nests deeper than 64 levels", NULL);
  free(deep);

  /* block-style nesting */
  char block[4096];
  o = 0;
  for (int i = 0; i < 70; i++)
    o += (size_t)snprintf(block + o, sizeof block - o, "%*sk%d:\n", i, "", i);
  expect_error(block, "nests deeper than 64 levels", NULL, NULL);

  /* aliases are refused: no billion laughs */
  expect_error("a: &a [x, x, x, x, x, x, x, x, x]\n"
               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
               "cfg.yaml:2:8: YAML aliases (*a) are not supported", NULL,
               NULL);
  expect_error("model: &m\n  architecture: mobilenet_v3_small\nx: *m\n",
               "cfg.yaml:3:4: YAML aliases", NULL, NULL);

  /* size limit, both in memory and from a file */
  size_t big = ((size_t)1 << 20) + 1;
  char *huge = malloc(big + 1);
  CHECK(huge, "out of memory");
  memset(huge, '#', big);
  memcpy(huge, MODEL_SMALL, strlen(MODEL_SMALL));
  huge[strlen(MODEL_SMALL)] = '#';
  huge[big] = '\0';
  expect_error(huge, "cfg.yaml: the config is 1048577 bytes", NULL, NULL);
  mnv3_config cfg;
  mnv3_error err;
  CHECK(load_yaml(huge, &cfg, &err) == -1 &&
            strstr(err.message, "larger than 1024 KiB"),
        "huge file: %s", err.message);
  free(huge);

  /* too many values (each tiny) within the size limit */
  size_t count = 150000;
  char *wide = malloc(count * 2 + 64);
  CHECK(wide, "out of memory");
  o = (size_t)sprintf(wide, "model: [");
  for (size_t i = 0; i < count; i++) {
    wide[o++] = '1';
    wide[o++] = ',';
  }
  wide[o - 1] = ']';
  wide[o] = '\0';
  expect_error(wide, "more than 100000 YAML values", NULL, NULL);
  free(wide);

  /* a NUL inside a string must not truncate it silently */
  expect_error_(__LINE__, "model:\n  architecture: \"mobilenet_v3_small\\0x\"\n",
                strlen("model:\n  architecture: \"mobilenet_v3_small\\0x\"\n"),
                "cfg.yaml:2:17: model.architecture: expected an architecture "
                "name",
                NULL, NULL);
  /* NULL error pointer: still fails, no crash */
  const char *bad = "model: 1\n";
  CHECK(mnv3_config_parse("x", NULL, bad, strlen(bad), &cfg, NULL) == -1,
        "error NULL");
  checks_run++;
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmp_dir, sizeof tmp_dir, "%s/mnv3-config-XXXXXX",
           base && *base ? base : "/tmp");
  CHECK(mkdtemp(tmp_dir), "mkdtemp %s: %s", tmp_dir, strerror(errno));
  atexit(cleanup);
  CHECK(realpath(tmp_dir, real_dir), "realpath %s", tmp_dir);
  make_dir("configs");
  make_dir("models");

  test_full_config();
  test_labels_without_background_line();
  test_defaults();
  test_relative_config_path();
  test_palettes();
  test_file_errors();
  test_syntax_errors();
  test_key_errors();
  test_type_errors();
  test_range_errors();
  test_hostile_input();
  printf("config: %d checks passed\n", checks_run);
  return 0;
}
