/* Fuzzes the TFLite importer (mnv3_tflite_load_bytes: the flatbuffer reader
 * and the graph matcher): the input is the .tflite file. The network is the
 * one both released models hold (MobileNetV3-Small 1.0, 1001 outputs with a
 * background class), so that seeds made from them reach the matcher. */
#include "fuzz_common.h"

static void released_config(mnv3_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->architecture = (char *)"mobilenet_v3_small";
  cfg->width_multiplier = 1.0;
  cfg->num_classes = 1001;
  cfg->background_class = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mnv3_config cfg;
  mnv3_network net;
  mnv3_error err = {{0}};
  released_config(&cfg);
  FUZZ_CHECK(mnv3_network_build(&cfg, &net, &err) == 0, "%s", err.message);

  if (mnv3_tflite_load_bytes("fuzz.tflite", data, size, &net, &err) == 0) {
    fuzz_check_weights(&net, "tflite");
    FUZZ_CHECK(!(net.input_lo > net.input_hi), "tflite: input range [%g, %g]",
               (double)net.input_lo, (double)net.input_hi);
  } else {
    fuzz_check_message(&err, "tflite");
    fuzz_check_no_weights(&net, "tflite");
  }
  mnv3_network_clear(&net);
  return 0;
}
