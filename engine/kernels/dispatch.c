/* Chooses the kernels once per process from what the CPU and OS support
 * (libcpuinfo), or from MNV3_ISA (scalar, avx2, avxvnni, avx512bw, avx512vnni, neonfma,
 * neondot)
 * for tests and debugging. The SIMD variants are built in their own
 * libraries with their own flags; this file stays baseline so it runs on
 * any CPU of the family. */
#include "kernels_isa.h"

#include <cpuinfo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
const mnv3_kernels mnv3_kernels_avx512vnni = MNV3_KERNELS_TABLE_OF(avx512vnni, avx512bw);
const mnv3_kernels mnv3_kernels_avx512bw = MNV3_KERNELS_TABLE(avx512bw);
const mnv3_kernels mnv3_kernels_avxvnni = MNV3_KERNELS_TABLE_OF(avxvnni, avx2);
const mnv3_kernels mnv3_kernels_avx2 = MNV3_KERNELS_TABLE(avx2);
#elif defined(__aarch64__)
const mnv3_kernels mnv3_kernels_neondot = MNV3_KERNELS_TABLE_OF(neondot, neonfma);
const mnv3_kernels mnv3_kernels_neonfma = MNV3_KERNELS_TABLE(neonfma);
#endif

/* Every variant this build has, best first; the reference last. */
static const mnv3_kernels *const variants[] = {
#if defined(__x86_64__)
    &mnv3_kernels_avx512vnni,
    &mnv3_kernels_avx512bw,
    &mnv3_kernels_avxvnni,
    &mnv3_kernels_avx2,
#elif defined(__aarch64__)
    &mnv3_kernels_neondot,
    &mnv3_kernels_neonfma,
#endif
    &mnv3_kernels_scalar,
};
#define NUM_VARIANTS (int)(sizeof variants / sizeof *variants)

static int cpu_known;

#if defined(__x86_64__)
#include <cpuid.h>
/* AVX-VNNI: CPUID leaf 7 subleaf 1, EAX bit 4 (Debian 12's libcpuinfo
   predates it; the OS's saving of its registers is AVX2's, which cpuinfo
   checks). */
static int cpu_has_avxvnni(void) {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax >> 4 & 1);
}
#endif

static void detect(void) { cpu_known = cpuinfo_initialize(); }

static int supported(const mnv3_kernels *k) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (strcmp(k->isa, "scalar") == 0)
    return 1;
  pthread_once(&once, detect);
  if (!cpu_known)
    return 0;
#if defined(__x86_64__)
  /* cpuinfo reports an extension only when the OS saves its registers. */
  if (strcmp(k->isa, "avx512vnni") == 0)
    return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
           cpuinfo_has_x86_avx512vnni() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3();
  if (strcmp(k->isa, "avxvnni") == 0)
    return cpu_has_avxvnni() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3();
  if (strcmp(k->isa, "avx512bw") == 0)
    return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx2() &&
           cpuinfo_has_x86_fma3();
  if (strcmp(k->isa, "avx2") == 0)
    return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3();
#elif defined(__aarch64__)
  /* The dot product (sdot) came with ARMv8.2 and is optional there. */
  if (strcmp(k->isa, "neondot") == 0)
    return cpuinfo_has_arm_neon_fma() && cpuinfo_has_arm_neon_dot();
  if (strcmp(k->isa, "neonfma") == 0)
    return cpuinfo_has_arm_neon_fma();
#endif
  return 0;
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
    fprintf(stderr, "mnv3: MNV3_ISA=%s is not available on this CPU or build "
                    "(choose scalar, avx2, avxvnni, avx512bw, avx512vnni, neonfma or "
                    "neondot); using the "
                    "reference kernels\n", forced);
  chosen = &mnv3_kernels_scalar;
}

const mnv3_kernels *mnv3_kernels_get(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, choose);
  return chosen;
}

int mnv3_kernels_available(const mnv3_kernels **list, int max) {
  int n = 0;
  if (n < max)
    list[n++] = &mnv3_kernels_scalar;
  for (int i = 0; i < NUM_VARIANTS && n < max; i++)
    if (variants[i] != &mnv3_kernels_scalar && supported(variants[i]))
      list[n++] = variants[i];
  return n;
}
