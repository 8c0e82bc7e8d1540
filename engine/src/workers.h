/* Worker threads shared by the whole process, and parallel regions on them.
 *
 * Why not pthreadpool: its caller returns from a region only after every
 * worker has woken up and checked in, even a worker that found nothing
 * left to do, and both sides spin for up to a million pauses while they
 * wait. When the cores are shared (a decoder thread, other streams, other
 * programs), a descheduled worker stalls every layer for a time slice: a
 * one-stream pipeline with a decoder beside it ran 10x slower with two
 * threads than with one (bench/RESULTS.md, session 6). Here a region ends
 * when its tasks are done: tasks are claimed from one counter, a worker
 * that wakes late finds none and goes back to sleep, the caller runs
 * whatever nobody else took, and a thread that waits spins only briefly,
 * then sleeps on a futex so a preempted worker can have its core.
 *
 * One pool per thread count is shared by every context that asks for that
 * count (refcounted); regions on one pool are serialised by its lease
 * (mnv3_workers_lease), which a caller holds for a whole inference. */
#ifndef MNV3_WORKERS_H
#define MNV3_WORKERS_H

#include "internal.h"

#include <stddef.h>

typedef struct mnv3_workers mnv3_workers;

/* The threads one region may use: the CPUs this process may run on. */
int mnv3_cpu_count(void);

/* The process's pool of `threads` threads (the caller counts as one, so
 * threads - 1 are created), made on first use. */
mnv3_workers *mnv3_workers_acquire(int threads, mnv3_error *error);
void mnv3_workers_release(mnv3_workers *workers);
/* 1 for NULL: regions then run on the calling thread. */
size_t mnv3_workers_threads(const mnv3_workers *workers);

/* The right to run regions on a pool: one inference at a time. */
int mnv3_workers_try_lease(mnv3_workers *workers); /* 1 when taken */
void mnv3_workers_lease(mnv3_workers *workers);
void mnv3_workers_unlease(mnv3_workers *workers);

/* Regions, shaped like pthreadpool's: `workers` NULL (or one thread) runs
 * every task on the calling thread. With MNV3_FLUSH_DENORMALS every thread
 * flushes denormals to zero while it runs tasks, the caller included, so a
 * result does not depend on which thread computed it. */
#define MNV3_FLUSH_DENORMALS 1u

typedef void (*mnv3_task_1d)(void *context, size_t i);
typedef void (*mnv3_task_1d_tile_1d)(void *context, size_t start, size_t count);
typedef void (*mnv3_task_2d_tile_2d)(void *context, size_t start_i, size_t start_j,
                                     size_t count_i, size_t count_j);

void mnv3_parallelize_1d(mnv3_workers *workers, mnv3_task_1d task, void *context,
                         size_t range, unsigned flags);
void mnv3_parallelize_1d_tile_1d(mnv3_workers *workers, mnv3_task_1d_tile_1d task,
                                 void *context, size_t range, size_t tile, unsigned flags);
void mnv3_parallelize_2d_tile_2d(mnv3_workers *workers, mnv3_task_2d_tile_2d task,
                                 void *context, size_t range_i, size_t range_j,
                                 size_t tile_i, size_t tile_j, unsigned flags);

#endif
