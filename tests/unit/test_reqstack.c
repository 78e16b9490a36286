/*
 * test_reqstack.c: unit tests of server/reqstack.c. A thread with a stack as
 * small as a Debian civetweb worker's (100 KiB) runs SQLite's LIKE on the
 * deepest pattern a connection accepts (MLF_MAX_LIKE_PATTERN_BYTES of "%a")
 * through mlf_reqstack_run: on its own stack that pattern overflows it; on
 * the request stack it must finish, within half of MLF_REQUEST_STACK_BYTES,
 * and the deep pages must be zero (returned) after the request.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../../api/limits.h"
#include "reqstack.h"
#include "unit.h"

#define WORKER_STACK (100 * 1024) /* civetweb's USE_STACK_SIZE in Debian's build */
#define VALUE_BYTES 30000         /* longer than the pattern's literal part */

struct like_job {
	int rc, match;
	long used; /* request-stack bytes touched, measured inside the request */
};

static int run_like(void *p)
{
	struct like_job *j = p;
	int runs = (MLF_MAX_LIKE_PATTERN_BYTES - 2) / 2;
	char *pat = malloc(MLF_MAX_LIKE_PATTERN_BYTES + 1), *val = malloc(VALUE_BYTES + 1);
	for (int i = 0; i < runs; i++) {
		pat[2 * i] = '%';
		pat[2 * i + 1] = 'a';
	}
	strcpy(pat + 2 * runs, "%b");
	memset(val, 'a', VALUE_BYTES);
	val[VALUE_BYTES] = '\0';
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_open(":memory:", &db);
	sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MLF_MAX_LIKE_PATTERN_BYTES);
	sqlite3_prepare_v2(db, "SELECT ?1 LIKE ?2, lower(?1) LIKE lower(?2)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, val, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pat, -1, SQLITE_STATIC);
	j->rc = sqlite3_step(st);
	j->match = sqlite3_column_int(st, 0) + sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(pat);
	free(val);
	j->used = mlf_reqstack_high_water();
	return 7;
}

static int shallow(void *p)
{
	*(long *)p = mlf_reqstack_high_water();
	return 1;
}

static long used_after;
static int deep_result;

static void *worker(void *p)
{
	struct like_job *j = p;
	deep_result = mlf_reqstack_run(run_like, j);
	mlf_reqstack_run(shallow, &used_after);
	mlf_reqstack_thread_exit();
	return NULL;
}

TEST(deepest_like_fits_the_request_stack)
{
	struct like_job j = {0};
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, WORKER_STACK);
	pthread_t t;
	CHECK(pthread_create(&t, &a, worker, &j) == 0);
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	CHECK(deep_result == 7);
	CHECK(j.rc == SQLITE_ROW);
	CHECK(j.match == 0);
	printf("deepest LIKE (%d-byte pattern): %ld bytes of the request stack\n", MLF_MAX_LIKE_PATTERN_BYTES, j.used);
	CHECK(j.used > WORKER_STACK); /* it would not have fitted a worker's stack */
	CHECK(j.used < MLF_REQUEST_STACK_BYTES / 2);
	/* the deep pages were given back: only the warm part was ever nonzero */
	CHECK(used_after <= MLF_REQUEST_STACK_WARM_BYTES);
}

static int nested(void *p)
{
	int *depth = p;
	return ++*depth;
}

TEST(runs_and_returns_on_the_same_thread)
{
	int d = 0;
	for (int i = 0; i < 1000; i++)
		CHECK(mlf_reqstack_run(nested, &d) == i + 1);
	mlf_reqstack_thread_exit();
	CHECK(mlf_reqstack_high_water() == 0);
}

int main(void)
{
	RUN(deepest_like_fits_the_request_stack);
	RUN(runs_and_returns_on_the_same_thread);
	DONE();
}
