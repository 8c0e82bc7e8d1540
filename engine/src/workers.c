/* Worker pools and parallel regions (see workers.h for why not pthreadpool).
 *
 * A region, as the caller runs it:
 *   close  seq becomes odd; wait until no worker is inside the last region
 *          (only a worker leaving with nothing to do can be, for a moment);
 *   write  the task, the counters reset;
 *   open   seq becomes even and new; sleeping workers are woken;
 *   work   every thread runs the tasks of its own share (the same share of
 *          each region, so a thread keeps working on the rows whose
 *          activations its caches hold), then takes tasks from the end of
 *          the shares of threads that are late or slower;
 *   wait   until `done` counts every task, spinning briefly, then asleep.
 * A worker joins a region by counting itself `inside` and then checking
 * that seq has not moved on: the caller never writes a task while a worker
 * that could read it is inside, and never waits for a worker that has not
 * joined. */
#include "workers.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

/* How long a thread spins before it sleeps: longer than the gap between
   two layers of one inference (a few microseconds), far shorter than the
   gap between two frames, and short enough that a spinning thread that
   stands in the way of a descheduled one costs little. */
#define SPIN_NS 50000

enum region_kind { REGION_1D, REGION_1D_TILE_1D, REGION_2D_TILE_2D };

typedef struct region {
  enum region_kind kind;
  void *task;
  void *context;
  size_t range_i, range_j, tile_i, tile_j;
  size_t tiles_j; /* 2D: tiles per row of tiles */
  size_t tasks;
  unsigned flags;
} region;

/* One thread's share of a region's tasks: it runs them from the front,
   others take them from the back; `left` decides who gets each one. */
typedef struct share {
  alignas(64) _Atomic size_t front, back; /* [front, back) */
  _Atomic size_t left;
} share;

typedef struct worker {
  mnv3_workers *pool;
  int index; /* its share; the caller's is 0 */
  pthread_t id;
} worker;

struct mnv3_workers {
  int threads;
  int refs; /* under registry_lock */
  worker *workers; /* threads - 1 */
  int started;     /* threads created */
  share *shares;   /* threads */
  pthread_mutex_t lease;

  /* A cache line each for what the caller writes once a region (seq and
     the task, read together) and what the threads update once a region:
     finishing does not evict the line that a waiting thread reads. */
  alignas(64) _Atomic uint32_t seq; /* futex: even = a region is open (or idle), odd = closed */
  _Atomic uint32_t sleepers;        /* workers asleep on seq */
  _Atomic int shutdown;
  region current; /* written only while seq is odd and nobody is inside */
  alignas(64) _Atomic uint32_t done; /* futex: tasks finished */
  _Atomic uint32_t caller_asleep;
  alignas(64) _Atomic uint32_t inside; /* workers that joined the current region */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
#define MAX_POOLS 8 /* distinct thread counts in one process */
static mnv3_workers *registry[MAX_POOLS];

static void futex_wait(_Atomic uint32_t *word, uint32_t value) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int count) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Spins until *word equals `target` or SPIN_NS pass; returns the last
   value read. */
static uint32_t spin_until_equal(_Atomic uint32_t *word, uint32_t target) {
  const int64_t deadline = now_ns() + SPIN_NS;
  uint32_t seen;
  while ((seen = atomic_load(word)) != target && now_ns() <= deadline)
    for (int i = 0; i < 64 && (seen = atomic_load(word)) != target; i++)
      cpu_relax();
  return seen;
}

/* ---- the floating-point mode of a thread that runs tasks --------------- */

typedef struct fp_mode {
#if defined(__x86_64__) || defined(__i386__)
  unsigned int mxcsr;
#elif defined(__aarch64__)
  uint64_t fpcr;
#else
  int unused;
#endif
} fp_mode;

static fp_mode flush_denormals(void) {
  fp_mode saved;
#if defined(__x86_64__) || defined(__i386__)
  saved.mxcsr = _mm_getcsr();
  _mm_setcsr(saved.mxcsr | 0x8040); /* flush-to-zero, denormals-are-zero */
#elif defined(__aarch64__)
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved.fpcr));
  __asm__ __volatile__("msr fpcr, %0" ::"r"(saved.fpcr | 0x1080000)); /* FZ, FZ16 */
#else
  saved.unused = 0;
#endif
  return saved;
}

static void restore_fp_mode(fp_mode saved) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(saved.mxcsr);
#elif defined(__aarch64__)
  __asm__ __volatile__("msr fpcr, %0" ::"r"(saved.fpcr));
#else
  (void)saved;
#endif
}

/* ---- running tasks ----------------------------------------------------- */

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

static void run_task(const region *r, size_t t) {
  switch (r->kind) {
  case REGION_1D:
    ((mnv3_task_1d)r->task)(r->context, t);
    break;
  case REGION_1D_TILE_1D: {
    const size_t start = t * r->tile_i;
    ((mnv3_task_1d_tile_1d)r->task)(r->context, start, min_size(r->tile_i, r->range_i - start));
    break;
  }
  case REGION_2D_TILE_2D: {
    const size_t i = t / r->tiles_j * r->tile_i, j = t % r->tiles_j * r->tile_j;
    ((mnv3_task_2d_tile_2d)r->task)(r->context, i, j, min_size(r->tile_i, r->range_i - i),
                                    min_size(r->tile_j, r->range_j - j));
    break;
  }
  }
}

/* Takes one task of a share, if any is left. */
static int take(share *s) {
  size_t left = atomic_load(&s->left);
  while (left > 0)
    if (atomic_compare_exchange_weak(&s->left, &left, left - 1))
      return 1;
  return 0;
}

/* Runs the tasks of share `self`, then whatever is left of the others. */
static void run_tasks(mnv3_workers *w, const region *r, int self) {
  const fp_mode saved = r->flags & MNV3_FLUSH_DENORMALS ? flush_denormals() : (fp_mode){0};
  uint32_t ran = 0;
  for (share *own = &w->shares[self]; take(own); ran++)
    run_task(r, atomic_fetch_add(&own->front, 1));
  for (int i = 1; i < w->threads; i++)
    for (share *other = &w->shares[(self + i) % w->threads]; take(other); ran++)
      run_task(r, atomic_fetch_sub(&other->back, 1) - 1);
  if (r->flags & MNV3_FLUSH_DENORMALS)
    restore_fp_mode(saved);
  if (ran && atomic_fetch_add(&w->done, ran) + ran == r->tasks &&
      atomic_load(&w->caller_asleep))
    futex_wake(&w->done, 1);
}

/* Every task on the calling thread. */
static void run_alone(const region *r) {
  const fp_mode saved = r->flags & MNV3_FLUSH_DENORMALS ? flush_denormals() : (fp_mode){0};
  for (size_t t = 0; t < r->tasks; t++)
    run_task(r, t);
  if (r->flags & MNV3_FLUSH_DENORMALS)
    restore_fp_mode(saved);
}

/* Whether seq announces a region this worker has not seen yet. */
static int is_new_region(uint32_t seq, uint32_t handled) {
  return seq != handled && !(seq & 1);
}

static void *worker_main(void *arg) {
  const worker *self = arg;
  mnv3_workers *w = self->pool;
  uint32_t handled = atomic_load(&w->seq);
  for (;;) {
    /* Spin through the caller's brief closed state too: sleeping there
       would cost every region a wake-up. */
    uint32_t seq = handled;
    for (const int64_t deadline = now_ns() + SPIN_NS; !is_new_region(seq, handled);) {
      for (int i = 0; i < 64 && !is_new_region(seq = atomic_load(&w->seq), handled); i++)
        cpu_relax();
      if (now_ns() > deadline)
        break;
    }
    while (!is_new_region(seq, handled)) {
      if (atomic_load(&w->shutdown))
        return NULL;
      atomic_fetch_add(&w->sleepers, 1);
      if (atomic_load(&w->seq) == seq)
        futex_wait(&w->seq, seq);
      atomic_fetch_sub(&w->sleepers, 1);
      seq = atomic_load(&w->seq);
    }
    if (atomic_load(&w->shutdown))
      return NULL;
    atomic_fetch_add(&w->inside, 1);
    if (atomic_load(&w->seq) == seq) {
      const region r = w->current;
      run_tasks(w, &r, self->index);
    }
    handled = seq;
    atomic_fetch_sub(&w->inside, 1);
  }
}

static void run_region(mnv3_workers *w, const region *r) {
  if (!w || w->threads <= 1 || r->tasks <= 1) {
    run_alone(r);
    return;
  }
  atomic_fetch_add(&w->seq, 1); /* closed */
  /* A worker is leaving the last region: a few instructions, unless it
     was preempted there. */
  while (spin_until_equal(&w->inside, 0) != 0)
    sched_yield();
  w->current = *r;
  for (int i = 0; i < w->threads; i++) {
    const size_t front = r->tasks * (size_t)i / (size_t)w->threads;
    const size_t back = r->tasks * (size_t)(i + 1) / (size_t)w->threads;
    atomic_store(&w->shares[i].front, front);
    atomic_store(&w->shares[i].back, back);
    atomic_store(&w->shares[i].left, back - front);
  }
  atomic_store(&w->done, 0);
  atomic_fetch_add(&w->seq, 1); /* open */
  if (atomic_load(&w->sleepers))
    futex_wake(&w->seq, INT_MAX);
  run_tasks(w, r, 0);
  const uint32_t total = (uint32_t)r->tasks;
  uint32_t done = spin_until_equal(&w->done, total);
  while (done != total) {
    atomic_store(&w->caller_asleep, 1);
    done = atomic_load(&w->done);
    if (done != total)
      futex_wait(&w->done, done);
    atomic_store(&w->caller_asleep, 0);
    done = atomic_load(&w->done);
  }
}

void mnv3_parallelize_1d(mnv3_workers *w, mnv3_task_1d task, void *context, size_t range,
                         unsigned flags) {
  const region r = {.kind = REGION_1D, .task = (void *)task, .context = context,
                    .range_i = range, .tile_i = 1, .tasks = range, .flags = flags};
  run_region(w, &r);
}

void mnv3_parallelize_1d_tile_1d(mnv3_workers *w, mnv3_task_1d_tile_1d task, void *context,
                                 size_t range, size_t tile, unsigned flags) {
  const region r = {.kind = REGION_1D_TILE_1D, .task = (void *)task, .context = context,
                    .range_i = range, .tile_i = tile, .tasks = (range + tile - 1) / tile,
                    .flags = flags};
  run_region(w, &r);
}

void mnv3_parallelize_2d_tile_2d(mnv3_workers *w, mnv3_task_2d_tile_2d task, void *context,
                                 size_t range_i, size_t range_j, size_t tile_i, size_t tile_j,
                                 unsigned flags) {
  const size_t tiles_j = (range_j + tile_j - 1) / tile_j;
  const region r = {.kind = REGION_2D_TILE_2D, .task = (void *)task, .context = context,
                    .range_i = range_i, .range_j = range_j, .tile_i = tile_i,
                    .tile_j = tile_j, .tiles_j = tiles_j,
                    .tasks = (range_i + tile_i - 1) / tile_i * tiles_j, .flags = flags};
  run_region(w, &r);
}

/* ---- pools ------------------------------------------------------------- */

int mnv3_cpu_count(void) {
  static _Atomic int cached;
  int n = atomic_load(&cached);
  if (n > 0)
    return n;
  cpu_set_t set;
  n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (n <= 0)
    n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0)
    n = 1;
  atomic_store(&cached, n);
  return n;
}

static void destroy(mnv3_workers *w) {
  atomic_store(&w->shutdown, 1);
  atomic_fetch_add(&w->seq, 2);
  futex_wake(&w->seq, INT_MAX);
  for (int i = 0; i < w->started; i++)
    pthread_join(w->workers[i].id, NULL);
  pthread_mutex_destroy(&w->lease);
  free(w->workers);
  free(w->shares);
  free(w);
}

static mnv3_workers *create(int threads, mnv3_error *error) {
  mnv3_workers *w = aligned_alloc(64, (sizeof *w + 63) / 64 * 64);
  if (w) {
    memset(w, 0, sizeof *w);
    w->workers = calloc((size_t)threads, sizeof *w->workers);
    w->shares = aligned_alloc(64, (size_t)threads * sizeof *w->shares);
  }
  if (!w || !w->workers || !w->shares) {
    if (w) {
      free(w->workers);
      free(w->shares);
    }
    free(w);
    mnv3_fail(error, "out of memory creating %d worker threads", threads);
    return NULL;
  }
  w->threads = threads;
  pthread_mutex_init(&w->lease, NULL);
  memset(w->shares, 0, (size_t)threads * sizeof *w->shares);
  for (; w->started < threads - 1; w->started++) {
    worker *k = &w->workers[w->started];
    *k = (worker){.pool = w, .index = w->started + 1};
    const int rc = pthread_create(&k->id, NULL, worker_main, k);
    if (rc != 0) {
      destroy(w);
      mnv3_fail(error, "cannot start worker thread %d of %d (error %d); lower the "
                "thread count", w->started + 1, threads - 1, rc);
      return NULL;
    }
    pthread_setname_np(k->id, "mnv3-worker");
  }
  return w;
}

mnv3_workers *mnv3_workers_acquire(int threads, mnv3_error *error) {
  pthread_mutex_lock(&registry_lock);
  mnv3_workers *found = NULL;
  int free_slot = -1;
  for (int i = 0; i < MAX_POOLS; i++) {
    if (registry[i] && registry[i]->threads == threads)
      found = registry[i];
    else if (!registry[i] && free_slot < 0)
      free_slot = i;
  }
  if (!found && free_slot < 0)
    mnv3_fail(error, "more than %d different thread counts in one process", MAX_POOLS);
  else if (!found && (found = create(threads, error)))
    registry[free_slot] = found;
  if (found)
    found->refs++;
  pthread_mutex_unlock(&registry_lock);
  return found;
}

void mnv3_workers_release(mnv3_workers *w) {
  if (!w)
    return;
  pthread_mutex_lock(&registry_lock);
  const int last = --w->refs == 0;
  if (last)
    for (int i = 0; i < MAX_POOLS; i++)
      if (registry[i] == w)
        registry[i] = NULL;
  pthread_mutex_unlock(&registry_lock);
  if (last)
    destroy(w);
}

size_t mnv3_workers_threads(const mnv3_workers *w) { return w ? (size_t)w->threads : 1; }

int mnv3_workers_try_lease(mnv3_workers *w) { return pthread_mutex_trylock(&w->lease) == 0; }

void mnv3_workers_lease(mnv3_workers *w) { pthread_mutex_lock(&w->lease); }

void mnv3_workers_unlease(mnv3_workers *w) { pthread_mutex_unlock(&w->lease); }
