/* Template: the byte loops of mask blending (kernels.h: mnv3_blend_const_fn,
 * mnv3_blend_lines_fn, mnv3_count_changes_fn) for one ISA, in GCC vector
 * extensions, so that one source serves every vector width. A blend step
 * widens a vector of bytes to two vectors of 16-bit words, whose multiply
 * and add wrap as the reference's uint16_t arithmetic does, and narrows the
 * shifted words back; the last bytes (fewer than a vector) go to the
 * reference. */
#include "kernels.h"

#include <string.h>

typedef uint8_t vbytes __attribute__((vector_size(VBYTES)));
typedef uint16_t vwords __attribute__((vector_size(2 * VBYTES))); /* VBYTES lanes */
typedef uint64_t vquads __attribute__((vector_size(VBYTES)));

/* memcpy: unaligned loads and stores, without aliasing questions. (Widening
   a whole vector rather than half of one: GCC 12 builds a half's words from
   two quarters, and the narrowing back takes about as long.) */
static inline void blend_step(uint8_t *p, vwords keep, vwords add) {
  vbytes bytes;
  memcpy(&bytes, p, sizeof bytes);
  const vwords mixed = __builtin_convertvector(bytes, vwords) * keep + add;
  bytes = __builtin_convertvector(mixed >> 8, vbytes);
  memcpy(p, &bytes, sizeof bytes);
}

void ISA_SUFFIX(mnv3_u8_blend_const)(uint8_t *p, int n, uint16_t keep, uint16_t add) {
  const vwords keeps = (vwords){0} + keep, adds = (vwords){0} + add;
  int i = 0;
  for (; i + VBYTES <= n; i += VBYTES)
    blend_step(p + i, keeps, adds);
  mnv3_u8_blend_const__scalar(p + i, n - i, keep, add);
}

void ISA_SUFFIX(mnv3_u8_blend_lines)(uint8_t *p, const uint16_t *keep, const uint16_t *add,
                                     int n) {
  int i = 0;
  for (; i + VBYTES <= n; i += VBYTES) {
    vwords keeps, adds;
    memcpy(&keeps, keep + i, sizeof keeps);
    memcpy(&adds, add + i, sizeof adds);
    blend_step(p + i, keeps, adds);
  }
  mnv3_u8_blend_lines__scalar(p + i, keep + i, add + i, n - i);
}

/* The byte counts of up to 255 vectors of compares, summed pairwise into
   64-bit lanes. */
static inline vquads widen_counts(vbytes counts) {
  vquads q;
  memcpy(&q, &counts, sizeof q);
  q = (q & 0x00ff00ff00ff00ffu) + (q >> 8 & 0x00ff00ff00ff00ffu);
  q = (q & 0x0000ffff0000ffffu) + (q >> 16 & 0x0000ffff0000ffffu);
  return (q & 0xffffffffu) + (q >> 32);
}

/* Byte compares of each position with the one before, counted per lane in
   8 bits: 255 vectors at most, then widened, so no count wraps. */
int ISA_SUFFIX(mnv3_u8_count_changes)(const uint8_t *p, int n) {
  vquads total = {0};
  int i = 1;
  while (i + VBYTES <= n) {
    vbytes counts = {0};
    for (int v = 0; v < 255 && i + VBYTES <= n; v++, i += VBYTES) {
      vbytes cur, prev;
      memcpy(&cur, p + i, sizeof cur);
      memcpy(&prev, p + i - 1, sizeof prev);
      counts -= (vbytes)(cur != prev); /* true is all ones: -1 */
    }
    total += widen_counts(counts);
  }
  int changes = 0;
  for (int k = 0; k < VBYTES / 8; k++)
    changes += (int)total[k];
  return changes + mnv3_u8_count_changes__scalar(p + i - 1, n - i + 1);
}
