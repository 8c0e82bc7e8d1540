/* Fuzzes the YAML config parser (mnv3_config_parse), then builds the network
 * a parsed config describes (mnv3_network_build). The input is the YAML
 * text. Relative paths resolve against a scratch folder holding a labels
 * file and a weights file, so that label loading is reached too. */
#include "fuzz_common.h"

#include <math.h>
#include <unistd.h>

static char base_dir[64];
static const char *const scratch_files[] = {"labels.txt", "w.safetensors",
                                            "m.tflite"};

static void remove_scratch(void) {
  char path[128];
  for (size_t i = 0; i < sizeof scratch_files / sizeof *scratch_files; i++) {
    snprintf(path, sizeof path, "%s/%s", base_dir, scratch_files[i]);
    unlink(path);
  }
  rmdir(base_dir);
}

static void make_scratch(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/mnv3-fuzz-config-XXXXXX");
  FUZZ_CHECK(mkdtemp(base_dir) != NULL, "cannot create a scratch folder");
  static const char *const contents[] = {"background\ncat\ndog\r\n\n", "", ""};
  for (size_t i = 0; i < sizeof scratch_files / sizeof *scratch_files; i++) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", base_dir, scratch_files[i]);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot create %s", path);
    fputs(contents[i], f);
    fclose(f);
  }
  atexit(remove_scratch);
}

/* What the parser promises about a config it accepted. */
static void check_config(const mnv3_config *c) {
  FUZZ_CHECK(c->architecture && c->path, "architecture or path missing");
  FUZZ_CHECK(c->num_classes >= 1 && c->num_classes <= 100000, "num_classes %d",
             c->num_classes);
  FUZZ_CHECK(c->width_multiplier > 0 && c->width_multiplier <= 4,
             "width %g", c->width_multiplier);
  FUZZ_CHECK(c->input_height >= 32 && c->input_height <= 2048 &&
                 c->input_width >= 32 && c->input_width <= 2048,
             "input %dx%d", c->input_height, c->input_width);
  FUZZ_CHECK(c->crop > 0 && c->crop <= 1, "crop %g", c->crop);
  for (int i = 0; i < 3; i++)
    FUZZ_CHECK(isfinite(c->mean[i]) && isfinite(c->std[i]) && c->std[i] > 0,
               "mean %g std %g", (double)c->mean[i], (double)c->std[i]);
  FUZZ_CHECK(c->palette_size >= 0 && c->palette_size <= 256, "palette %d",
             c->palette_size);
  FUZZ_CHECK((c->labels != NULL) == (c->num_labels > 0) || c->num_labels == 0,
             "labels %p count %d", (void *)c->labels, c->num_labels);
  for (int i = 0; i < c->num_labels; i++)
    FUZZ_CHECK(c->labels[i] != NULL, "label %d is NULL", i);
}

static void check_network(const mnv3_network *net, const mnv3_config *c) {
  FUZZ_CHECK(net->num_ops > 0 && net->ops, "no ops");
  FUZZ_CHECK(net->num_classes == c->num_classes, "classes %d vs %d",
             net->num_classes, c->num_classes);
  FUZZ_CHECK(net->output > 0 && net->output < net->num_tensors, "output %d of %d",
             net->output, net->num_tensors);
  for (int i = 0; i < net->num_ops; i++) {
    const mnv3_op *op = &net->ops[i];
    FUZZ_CHECK(op->in0 >= 0 && op->in0 < op->out && op->out < net->num_tensors &&
                   op->in1 < op->out && op->in1 >= MNV3_NO_TENSOR,
               "op %d tensors %d, %d -> %d", i, op->in0, op->in1, op->out);
    if (op->kind == MNV3_OP_CONV)
      FUZZ_CHECK(op->in_ch > 0 && op->out_ch > 0 && op->kernel > 0 &&
                     op->stride > 0 && op->dilation > 0 && op->key[0] &&
                     memchr(op->key, '\0', sizeof op->key),
                 "op %d: conv %d -> %d, k %d", i, op->in_ch, op->out_ch,
                 op->kernel);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!base_dir[0])
    make_scratch();
  mnv3_config cfg;
  mnv3_error err = {{0}};
  if (mnv3_config_parse("fuzz.yaml", base_dir, (const char *)data, size, &cfg,
                        &err) != 0) {
    fuzz_check_message(&err, "config");
    return 0;
  }
  check_config(&cfg);
  mnv3_network net;
  if (mnv3_network_build(&cfg, &net, &err) == 0) {
    check_network(&net, &cfg);
    mnv3_network_clear(&net);
  } else {
    fuzz_check_message(&err, "network");
  }
  mnv3_config_clear(&cfg);
  return 0;
}
