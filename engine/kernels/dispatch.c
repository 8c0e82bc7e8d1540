/* Chooses the kernels once per process from what the CPU and OS support,
 * or from MNV3_ISA (scalar, avx2, avx512, neon) for tests and debugging. */
#include "kernels.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every variant this build has, best first; the reference last. */
static const mnv3_kernels *const variants[] = {
    &mnv3_kernels_ref,
};
#define NUM_VARIANTS (int)(sizeof variants / sizeof *variants)

static int supported(const mnv3_kernels *k) {
  return strcmp(k->isa, "scalar") == 0;
}

static const mnv3_kernels *chosen;

static void choose(void) {
  const char *forced = getenv("MNV3_ISA");
  for (int i = 0; i < NUM_VARIANTS; i++) {
    if (!supported(variants[i]))
      continue;
    if (forced && *forced && strcmp(forced, variants[i]->isa) != 0)
      continue;
    chosen = variants[i];
    return;
  }
  if (forced && *forced)
    fprintf(stderr, "mnv3: MNV3_ISA=%s is not available on this CPU or build; "
                    "using the reference kernels\n", forced);
  chosen = &mnv3_kernels_ref;
}

const mnv3_kernels *mnv3_kernels_get(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, choose);
  return chosen;
}

int mnv3_kernels_available(const mnv3_kernels **list, int max) {
  int n = 0;
  list[n++] = &mnv3_kernels_ref;
  for (int i = 0; i < NUM_VARIANTS && n < max; i++)
    if (variants[i] != &mnv3_kernels_ref && supported(variants[i]))
      list[n++] = variants[i];
  return n;
}
