/* Test helper: loads a safetensors file into a network of CONV ops given on
 * the command line and writes the folded weights, so that test_fold_torch.py
 * can compare them with torch's own BatchNorm fusion.
 *
 *   fold-dump FILE OUT KEY:IN:OUT:K:DEPTHWISE:BN:BIAS:LINEAR:BN_EPS ...
 *
 * OUT receives, op after op, the weight then the bias as float32.
 *
 *   fold-dump --arch FILE ARCHITECTURE WIDTH CLASSES
 *
 * loads FILE into the network mnv3_network_build makes (the real naming of
 * every layer) and prints how many convs were filled, or the error. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_op(const char *spec, mnv3_op *op) {
  const char *colon = strchr(spec, ':');
  if (!colon || (size_t)(colon - spec) >= sizeof op->key)
    return -1;
  memset(op, 0, sizeof *op);
  op->kind = MNV3_OP_CONV;
  memcpy(op->key, spec, (size_t)(colon - spec));
  return sscanf(colon + 1, "%d:%d:%d:%d:%d:%d:%d:%g", &op->in_ch,
                &op->out_ch, &op->kernel, &op->depthwise, &op->has_bn,
                &op->has_bias, &op->is_linear, &op->bn_eps) == 8 ? 0 : -1;
}

static int load_arch(char **argv) {
  mnv3_config config = {.architecture = argv[3],
                        .width_multiplier = atof(argv[4]),
                        .num_classes = atoi(argv[5])};
  mnv3_network net;
  mnv3_error err = {{0}};
  if (mnv3_network_build(&config, &net, &err) != 0) {
    fprintf(stderr, "build: %s\n", err.message);
    return 2;
  }
  int rc = mnv3_safetensors_load(argv[2], &net, &err);
  int convs = 0, filled = 0;
  for (int i = 0; i < net.num_ops; i++)
    if (net.ops[i].kind == MNV3_OP_CONV) {
      convs++;
      filled += net.ops[i].weight && net.ops[i].bias;
    }
  if (rc == 0)
    printf("loaded %d of %d convs\n", filled, convs);
  else
    fprintf(stderr, "%s\n(%d convs filled)\n", err.message, filled);
  mnv3_network_clear(&net);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "--arch") == 0)
    return load_arch(argv);
  if (argc < 4) {
    fprintf(stderr, "usage: %s FILE OUT KEY:IN:OUT:K:DW:BN:BIAS:LINEAR:EPS...\n",
            argv[0]);
    return 2;
  }
  mnv3_network net = {.num_ops = argc - 3};
  net.ops = calloc((size_t)net.num_ops, sizeof *net.ops);
  for (int i = 0; i < net.num_ops; i++)
    if (parse_op(argv[3 + i], &net.ops[i]) != 0) {
      fprintf(stderr, "bad op spec '%s'\n", argv[3 + i]);
      return 2;
    }
  mnv3_error err = {{0}};
  int rc = mnv3_safetensors_load(argv[1], &net, &err);
  if (rc != 0)
    fprintf(stderr, "%s\n", err.message);
  FILE *out = rc == 0 ? fopen(argv[2], "wb") : NULL;
  for (int i = 0; out && i < net.num_ops; i++) {
    const mnv3_op *op = &net.ops[i];
    size_t per = (size_t)(op->depthwise ? 1 : op->in_ch) *
                 (size_t)(op->kernel * op->kernel);
    fwrite(op->weight, sizeof(float), (size_t)op->out_ch * per, out);
    fwrite(op->bias, sizeof(float), (size_t)op->out_ch, out);
  }
  if (out)
    fclose(out);
  for (int i = 0; i < net.num_ops; i++) {
    free(net.ops[i].weight);
    free(net.ops[i].bias);
  }
  free(net.ops);
  return rc == 0 && out ? 0 : 1;
}
