/*
 * pool.h: a few helper threads that let one large read use the machine's
 * other cores (a long metric history read in two step ranges, the runs of
 * a bulk-interval read, the JSON of a long page in two halves).
 *
 * The caller of mlf_pool_run() runs tasks itself while idle helpers take
 * the others, so when every helper is busy with other requests the caller
 * simply runs them all: no waiting for a free thread, and no more threads
 * busy than the pool has.
 *
 * This header knows nothing of SQLite, JSON or HTTP.
 */
#ifndef MLF_POOL_H
#define MLF_POOL_H

/* Helper threads at most, whatever the number of CPUs. */
#define MLF_POOL_MAX_HELPERS 3

typedef void (*mlf_task_fn)(void *ctx, int i);

/* Start one helper per online CPU beyond the first, at most
 * MLF_POOL_MAX_HELPERS. on_exit(arg), when not NULL, runs in each helper
 * as it stops (to free what the tasks made it own, such as a read
 * connection). Call once, before any mlf_pool_run(); returns the number
 * of helpers started. */
int mlf_pool_start(void (*on_exit)(void *arg), void *arg);
/* Stop and join the helpers. No mlf_pool_run() may be in progress. */
void mlf_pool_stop(void);
/* Helpers running (0 before mlf_pool_start: every task then runs in its
 * caller). */
int mlf_pool_helpers(void);
/* Run fn(ctx, i) for every i in [0, n) and return when all have run. The
 * tasks may run on any thread, in any order, at the same time. */
void mlf_pool_run(int n, mlf_task_fn fn, void *ctx);

#endif
