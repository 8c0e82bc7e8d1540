/* How many threads run each inference of a context (mnv3_context_new's
 * `threads`).
 *
 *   1      the calling thread alone.
 *   N > 1  every inference split over the process's pool of N threads;
 *          contexts that ask for the same N share the pool and take turns.
 *   0      automatic (the default). An inference is split over the pool of
 *          one thread per CPU only when that is measured to be faster:
 *          - never while another inference of this process runs (streams
 *            then run side by side, one thread each, and a split inference
 *            goes on on its own thread from the next layer on);
 *          - each context times its inferences both ways (a few runs of the
 *            other way now and then) and keeps the faster, so a core lost
 *            to other programs turns the split off within a few frames;
 *          - while it runs on one thread, it tries two again only when the
 *            CPUs were partly idle over the last 100 ms (/proc/stat), and
 *            less often each time that loses.
 * The result is bitwise the same whichever way a run is made. */
#ifndef MNV3_THREADING_H
#define MNV3_THREADING_H

#include "workers.h"

#include <stdint.h>

typedef struct mnv3_threading {
  int requested;         /* 0 automatic, else the fixed thread count */
  mnv3_workers *workers; /* NULL when requested is 1 */
  /* Automatic: the current choice and what it is based on. */
  int split;                      /* 1: inferences run on the pool */
  double serial_ns, split_ns;     /* moving averages, 0 until measured */
  unsigned warmup_left;           /* first inferences, not timed */
  unsigned since_probe, probe_interval;
  unsigned probe_left;            /* runs of a probe (the other way) to go */
  double probe_ns;                /* their total */
} mnv3_threading;

/* One run on a context: an inference or a side job (preprocessing, blending). */
typedef struct mnv3_threading_run {
  mnv3_workers *leased; /* NULL: the calling thread alone */
  int automatic;        /* the context's threads is 0 */
  int split;            /* how the run was meant to go */
  int timed;            /* an inference whose time counts */
  int64_t start_ns;
} mnv3_threading_run;

int mnv3_threading_init(mnv3_threading *threading, int threads, mnv3_error *error);
void mnv3_threading_clear(mnv3_threading *threading);

/* Starts a run and returns the pool to split it over, or NULL. An
 * inference (`inference` 1) is timed for the automatic choice; a side job
 * follows the choice the inferences made. */
mnv3_workers *mnv3_threading_begin(mnv3_threading *threading, mnv3_threading_run *run,
                                   int inference);
/* The pool for the run's next step: NULL from the moment another run of the
 * process has begun (automatic mode). */
mnv3_workers *mnv3_threading_step(mnv3_threading_run *run);
void mnv3_threading_end(mnv3_threading *threading, mnv3_threading_run *run);

#endif
