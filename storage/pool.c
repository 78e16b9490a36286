/*
 * pool.c: the helper threads of pool.h. One mutex guards a queue of jobs
 * that still have unclaimed tasks; a job lives on its caller's stack, and
 * the caller leaves mlf_pool_run() only once every task has finished, so
 * no helper touches a job after that.
 */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct pool_job {
	mlf_task_fn fn;
	void *ctx;
	int n;
	int next;              /* next task to claim (under mu) */
	int done;              /* tasks finished (under mu) */
	struct pool_job *link; /* next job in the queue */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* helpers: a job was queued, or stop */
	pthread_cond_t done_cv; /* callers: some job's last task finished */
	struct pool_job *queue; /* borrowed: jobs with tasks left to claim, oldest first */
	pthread_t threads[MLF_POOL_MAX_HELPERS];
	int nthreads, stop;
	_Atomic int helpers; /* nthreads, for readers outside mu (every request asks) */
	void (*on_exit)(void *);
	void *exit_arg;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .work_cv = PTHREAD_COND_INITIALIZER, .done_cv = PTHREAD_COND_INITIALIZER};

/* Claim a task of j; take j off the queue when it was the last. Under mu. */
static int claim(struct pool_job *j)
{
	int i = j->next++;
	if (j->next == j->n) {
		struct pool_job **pp = &pool.queue;
		while (*pp && *pp != j)
			pp = &(*pp)->link;
		if (*pp)
			*pp = j->link;
	}
	return i;
}

/* Run task i of j with mu released; count it done. Called and returns
 * with mu held. */
static void run_task(struct pool_job *j, int i)
{
	pthread_mutex_unlock(&pool.mu);
	j->fn(j->ctx, i);
	pthread_mutex_lock(&pool.mu);
	if (++j->done == j->n)
		pthread_cond_broadcast(&pool.done_cv);
}

static void *helper_main(void *unused)
{
	(void)unused;
	pthread_setname_np(pthread_self(), "mlflowd-pool");
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		while (!pool.stop && !pool.queue)
			pthread_cond_wait(&pool.work_cv, &pool.mu);
		if (pool.stop)
			break;
		struct pool_job *j = pool.queue;
		run_task(j, claim(j));
	}
	pthread_mutex_unlock(&pool.mu);
	if (pool.on_exit)
		pool.on_exit(pool.exit_arg);
	return NULL;
}

int mlf_pool_start(void (*on_exit)(void *arg), void *arg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > 1 ? (int)(cpus - 1) : 0;
	if (want > MLF_POOL_MAX_HELPERS)
		want = MLF_POOL_MAX_HELPERS;
	pthread_mutex_lock(&pool.mu);
	pool.on_exit = on_exit;
	pool.exit_arg = arg;
	pool.stop = 0;
	while (pool.nthreads < want && pthread_create(&pool.threads[pool.nthreads], NULL, helper_main, NULL) == 0)
		pool.nthreads++;
	int n = pool.nthreads;
	atomic_store(&pool.helpers, n);
	pthread_mutex_unlock(&pool.mu);
	return n;
}

void mlf_pool_stop(void)
{
	pthread_mutex_lock(&pool.mu);
	pool.stop = 1;
	atomic_store(&pool.helpers, 0);
	pthread_cond_broadcast(&pool.work_cv);
	int n = pool.nthreads;
	pthread_mutex_unlock(&pool.mu);
	for (int i = 0; i < n; i++)
		pthread_join(pool.threads[i], NULL);
	pthread_mutex_lock(&pool.mu);
	pool.nthreads = 0;
	pthread_mutex_unlock(&pool.mu);
}

int mlf_pool_helpers(void)
{
	return atomic_load(&pool.helpers);
}

void mlf_pool_run(int n, mlf_task_fn fn, void *ctx)
{
	struct pool_job j = {.fn = fn, .ctx = ctx, .n = n};
	if (n <= 0)
		return;
	pthread_mutex_lock(&pool.mu);
	if (n > 1 && pool.nthreads > 0 && !pool.stop) {
		struct pool_job **pp = &pool.queue;
		while (*pp)
			pp = &(*pp)->link;
		*pp = &j;
		pthread_cond_broadcast(&pool.work_cv);
	}
	while (j.next < j.n)
		run_task(&j, claim(&j));
	while (j.done < j.n)
		pthread_cond_wait(&pool.done_cv, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
}
