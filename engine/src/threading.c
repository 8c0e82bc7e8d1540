/* The choice of threads per inference (see threading.h). */
#include "threading.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Runs of this process (inferences and side jobs) under way now. */
static _Atomic int running;

/* The first inferences of a context fault their arena in: not timed. */
#define WARMUP_RUNS 2
/* A probe: this many runs the other way, averaged. */
#define PROBE_RUNS 2
/* Runs between probes of a split while one thread is faster: doubled
   after each probe that loses, so a machine whose other core stays busy
   pays for a probe ever more rarely. */
#define PROBE_MIN 8
#define PROBE_MAX 512
/* While split, one thread is timed again this often (its time drifts with
   what else runs). */
#define SERIAL_REFRESH 64
/* A switch needs a margin (noise between frames is a few per cent). */
#define SWITCH_GAIN 0.97
/* The moving averages' weight of a new time. */
#define NEW_WEIGHT 0.25

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- how idle the CPUs have been --------------------------------------- */

/* The machine's idle CPU time over the last window, from /proc/stat,
   refreshed by whichever run looks first after the window has passed. */
#define IDLE_WINDOW_NS 100000000
/* A split is worth trying when at least this much of a CPU was idle. */
#define IDLE_ENOUGH 0.5

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t idle_sample_ns;
static unsigned long long idle_sample_ticks;
static _Atomic int idle_millicpus = -1; /* -1: no window measured yet */

/* Idle time of all the machine's CPUs together, in clock ticks. */
static int read_idle_ticks(unsigned long long *ticks) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f)
    return -1;
  unsigned long long user, nice, system, idle, iowait;
  const int n = fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait);
  fclose(f);
  if (n != 5)
    return -1;
  *ticks = idle + iowait;
  return 0;
}

static int cpus_partly_idle(void) {
  const int64_t now = now_ns();
  if (pthread_mutex_trylock(&idle_lock) == 0) {
    if (now - idle_sample_ns >= IDLE_WINDOW_NS) {
      unsigned long long ticks;
      if (read_idle_ticks(&ticks) < 0) {
        atomic_store(&idle_millicpus, 1000000); /* no /proc: the timings alone decide */
      } else {
        if (idle_sample_ns) {
          const double idle_s = (double)(ticks - idle_sample_ticks) / (double)sysconf(_SC_CLK_TCK);
          atomic_store(&idle_millicpus, (int)(idle_s * 1e12 / (double)(now - idle_sample_ns)));
        }
        idle_sample_ticks = ticks;
      }
      idle_sample_ns = now;
    }
    pthread_mutex_unlock(&idle_lock);
  }
  return atomic_load(&idle_millicpus) >= (int)(IDLE_ENOUGH * 1000);
}

/* ---- contexts ---------------------------------------------------------- */

int mnv3_threading_init(mnv3_threading *th, int threads, mnv3_error *error) {
  *th = (mnv3_threading){.requested = threads < 0 ? 0 : threads,
                         .warmup_left = WARMUP_RUNS,
                         .probe_interval = PROBE_MIN};
  const int pool = th->requested ? th->requested : mnv3_cpu_count();
  if (pool > 1 && !(th->workers = mnv3_workers_acquire(pool, error)))
    return -1;
  return 0;
}

void mnv3_threading_clear(mnv3_threading *th) {
  mnv3_workers_release(th->workers);
  th->workers = NULL;
}

/* Whether the next inference runs split, probes included. */
static int choose_split(mnv3_threading *th) {
  if (th->probe_left)
    return !th->split;
  th->since_probe++;
  const int due = th->since_probe >= (th->split ? SERIAL_REFRESH : th->probe_interval);
  if (due && (th->split || cpus_partly_idle())) {
    th->since_probe = 0;
    th->probe_left = PROBE_RUNS;
    th->probe_ns = 0;
    return !th->split;
  }
  return th->split;
}

mnv3_workers *mnv3_threading_begin(mnv3_threading *th, mnv3_threading_run *run,
                                   int inference) {
  const int others = atomic_fetch_add(&running, 1);
  *run = (mnv3_threading_run){.automatic = th->requested == 0};
  if (!th->workers)
    return NULL;
  if (!run->automatic) {
    mnv3_workers_lease(th->workers);
    run->leased = th->workers;
    run->split = 1;
    return run->leased;
  }
  if (others > 0)
    return NULL; /* side by side with another stream; not timed */
  if (!inference) {
    run->split = th->split;
  } else if (th->warmup_left) {
    th->warmup_left--;
    run->split = 0;
  } else {
    run->split = choose_split(th);
    run->timed = 1;
  }
  if (run->split) {
    if (!mnv3_workers_try_lease(th->workers)) {
      run->timed = 0; /* another context holds the pool */
      return NULL;
    }
    run->leased = th->workers;
  }
  cpus_partly_idle(); /* keep the idle window current */
  run->start_ns = now_ns();
  return run->leased;
}

mnv3_workers *mnv3_threading_step(mnv3_threading_run *run) {
  if (run->leased && run->automatic && atomic_load(&running) > 1) {
    run->timed = 0; /* part split, part not */
    return NULL;
  }
  return run->leased;
}

static void average_in(double *average, double ns) {
  *average = *average > 0 ? *average + NEW_WEIGHT * (ns - *average) : ns;
}

/* Folds a timed run into the choice. */
static void learn(mnv3_threading *th, int split, double ns) {
  if (th->probe_left && split != th->split) {
    th->probe_ns += ns;
    if (--th->probe_left)
      return;
    const double probe = th->probe_ns / PROBE_RUNS;
    if (split) {
      th->split_ns = probe;
      if (th->split_ns < th->serial_ns * SWITCH_GAIN) {
        th->split = 1;
      } else if (th->probe_interval < PROBE_MAX) {
        th->probe_interval *= 2;
      }
    } else {
      th->serial_ns = probe;
      if (th->serial_ns * SWITCH_GAIN < th->split_ns) {
        th->split = 0;
        th->probe_interval = PROBE_MIN;
      }
    }
    return;
  }
  if (split) {
    average_in(&th->split_ns, ns);
    if (th->split_ns * SWITCH_GAIN > th->serial_ns) {
      th->split = 0; /* lost its lead: something else wants the cores now */
      th->probe_interval = PROBE_MIN;
    }
  } else {
    average_in(&th->serial_ns, ns);
  }
}

void mnv3_threading_end(mnv3_threading *th, mnv3_threading_run *run) {
  if (run->timed)
    learn(th, run->split, (double)(now_ns() - run->start_ns));
  if (run->leased)
    mnv3_workers_unlease(run->leased);
  atomic_fetch_sub(&running, 1);
}
