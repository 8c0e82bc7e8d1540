/* Fuzzes the safetensors weight loader (mnv3_safetensors_load_bytes): the
 * input is the file. The network is a tiny MobileNetV3-Small (width 0.1,
 * 2 classes: 33k weights) so that a valid seed is small and every mutation
 * reaches the key matching and BatchNorm folding, not only the header. */
#include "fuzz_common.h"

/* The config the seeds in corpus/safetensors were made for
 * (fuzz/make_seeds.py: torchvision mobilenet_v3_small(width_mult=0.1,
 * num_classes=2)). */
static void tiny_config(mnv3_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->architecture = (char *)"mobilenet_v3_small";
  cfg->width_multiplier = 0.1;
  cfg->num_classes = 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mnv3_config cfg;
  mnv3_network net;
  mnv3_error err = {{0}};
  tiny_config(&cfg);
  FUZZ_CHECK(mnv3_network_build(&cfg, &net, &err) == 0, "%s", err.message);

  if (mnv3_safetensors_load_bytes("fuzz.safetensors", data, size, &net, &err) == 0) {
    fuzz_check_weights(&net, "safetensors");
  } else {
    fuzz_check_message(&err, "safetensors");
    fuzz_check_no_weights(&net, "safetensors");
  }
  mnv3_network_clear(&net);
  return 0;
}
