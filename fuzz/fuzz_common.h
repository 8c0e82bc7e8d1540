/* Shared by the fuzz harnesses: an oracle that aborts (so libFuzzer, the
 * replay driver and valgrind all report it as a crash) and a cursor that
 * takes parameters from the front of the input. */
#ifndef MNV3_FUZZ_COMMON_H
#define MNV3_FUZZ_COMMON_H

#include "internal.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken engine contract: say which and stop. */
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: contract broken: %s: ", __FILE__, __LINE__,      \
              #cond);                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* Every failure must leave a NUL-terminated, non-empty message. */
static inline void fuzz_check_message(const mnv3_error *err, const char *what) {
  const void *nul = memchr(err->message, '\0', sizeof err->message);
  FUZZ_CHECK(nul != NULL, "%s: error message is not NUL-terminated", what);
  FUZZ_CHECK(err->message[0] != '\0', "%s failed without a message", what);
}

/* Parameters are read from the front of the input; past its end they are 0,
 * so every input is usable. */
typedef struct fuzz_cursor {
  const uint8_t *data;
  size_t size, pos;
} fuzz_cursor;

static inline uint32_t fuzz_take(fuzz_cursor *c, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; i++)
    v = v << 8 | (c->pos < c->size ? c->data[c->pos++] : 0);
  return v;
}

/* A value in [lo, hi] from `bytes` input bytes. */
static inline int fuzz_range(fuzz_cursor *c, int bytes, int lo, int hi) {
  return lo + (int)(fuzz_take(c, bytes) % (uint32_t)(hi - lo + 1));
}

/* Whatever is left of the input, for pixel data and the like. */
static inline const uint8_t *fuzz_rest(const fuzz_cursor *c, size_t *size) {
  *size = c->pos < c->size ? c->size - c->pos : 0;
  return c->data + (c->pos < c->size ? c->pos : c->size);
}

/* Conv weights that a successful load produced must all be there and
 * finite: the executor trusts them. */
static inline void fuzz_check_weights(const mnv3_network *net, const char *what) {
  for (int i = 0; i < net->num_ops; i++) {
    const mnv3_op *op = &net->ops[i];
    if (op->kind != MNV3_OP_CONV)
      continue;
    FUZZ_CHECK(op->weight && op->bias, "%s: op %d (%s) has no weights after a "
               "successful load", what, i, op->key);
    const size_t per_out = (size_t)(op->depthwise ? 1 : op->in_ch) *
                           (size_t)op->kernel * (size_t)op->kernel;
    for (size_t k = 0; k < per_out * (size_t)op->out_ch; k++)
      FUZZ_CHECK(isfinite(op->weight[k]), "%s: op %d (%s) weight %zu is %g",
                 what, i, op->key, k, (double)op->weight[k]);
    for (int o = 0; o < op->out_ch; o++)
      FUZZ_CHECK(isfinite(op->bias[o]), "%s: op %d (%s) bias %d is %g", what, i,
                 op->key, o, (double)op->bias[o]);
  }
}

/* A failed load must leave no weights behind (both loaders promise it). */
static inline void fuzz_check_no_weights(const mnv3_network *net,
                                         const char *what) {
  for (int i = 0; i < net->num_ops; i++)
    FUZZ_CHECK(!net->ops[i].weight && !net->ops[i].bias,
               "%s: op %d (%s) keeps weights after a failed load", what, i,
               net->ops[i].key);
}

#endif
