/*
 * test_db.c: unit tests of storage/db.c's single writer: jobs queued
 * together share one transaction, a failing job rolls back alone (none of
 * its rows stay, every other job of its group commits), and a group whose
 * jobs all succeed runs each job once; the step bound of statements and of
 * every kind of search.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../api/limits.h"
#include "db.h"
#include "registry.h"
#include "traces.h"
#include "unit.h"

#define JOBS 24            /* jobs queued behind the blocker, one group */
#define QUEUE_WAIT_MS 5000 /* how long to wait for them to be queued */

static struct mlf_db *db;

static enum mlf_status create_table_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	(void)arg;
	sqlite3_stmt *st = mlf_stmt(c, "CREATE TABLE IF NOT EXISTS unit_rows (job INTEGER NOT NULL)", err);
	return st ? mlf_step_done(c, st, err) : err->status;
}

/* The first job: holds the writer until the others are queued. */
static sem_t blocker_running, blocker_release;
static enum mlf_status blocker_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	(void)c, (void)arg, (void)err;
	sem_post(&blocker_running);
	while (sem_wait(&blocker_release) != 0)
		;
	return MLF_OK;
}

struct row_job {
	int id;
	int fail;          /* fail after inserting its rows */
	_Atomic int calls; /* times the writer ran it */
	enum mlf_status status;
	struct mlf_error err;
};

/* Inserts three rows, then fails when asked to (its rows must not stay). */
static enum mlf_status row_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct row_job *j = arg;
	atomic_fetch_add(&j->calls, 1);
	for (int i = 0; i < 3; i++) {
		sqlite3_stmt *st = mlf_stmt(c, "INSERT INTO unit_rows (job) VALUES (?1)", err);
		if (!st)
			return err->status;
		sqlite3_bind_int(st, 1, j->id);
		enum mlf_status s = mlf_step_done(c, st, err);
		if (s != MLF_OK)
			return s;
	}
	return j->fail ? mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "job %d refused", j->id) : MLF_OK;
}

static void *blocker_main(void *p)
{
	struct mlf_error err = {0};
	*(enum mlf_status *)p = mlf_db_write(db, blocker_fn, NULL, &err);
	return NULL;
}

static void *row_main(void *p)
{
	struct row_job *j = p;
	j->status = mlf_db_write(db, row_fn, j, &j->err);
	return NULL;
}

static int rows_of(int id)
{
	struct mlf_error err = {0};
	struct mlf_conn *c = mlf_db_read(db, &err);
	sqlite3_stmt *st = c ? mlf_stmt(c, "SELECT count(*) FROM unit_rows WHERE job = ?1", &err) : NULL;
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, id);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

/* Queues JOBS row jobs behind a blocker, so that the writer takes them as
 * one group; returns 1 when they were all queued together. */
static int run_as_one_group(struct row_job *jobs)
{
	pthread_t blocker, t[JOBS];
	enum mlf_status blocker_status = MLF_INTERNAL_ERROR;
	sem_init(&blocker_running, 0, 0);
	sem_init(&blocker_release, 0, 0);
	if (pthread_create(&blocker, NULL, blocker_main, &blocker_status) != 0)
		return 0;
	while (sem_wait(&blocker_running) != 0)
		;
	for (int i = 0; i < JOBS; i++)
		pthread_create(&t[i], NULL, row_main, &jobs[i]);
	int waited = 0;
	while (mlf_db_queued(db) < JOBS && waited < QUEUE_WAIT_MS) {
		nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
		waited++;
	}
	int queued = mlf_db_queued(db) == JOBS;
	sem_post(&blocker_release);
	pthread_join(blocker, NULL);
	for (int i = 0; i < JOBS; i++)
		pthread_join(t[i], NULL);
	sem_destroy(&blocker_running);
	sem_destroy(&blocker_release);
	return queued && blocker_status == MLF_OK;
}

TEST(group_without_failures_runs_each_job_once)
{
	static struct row_job jobs[JOBS];
	for (int i = 0; i < JOBS; i++)
		jobs[i] = (struct row_job){.id = 100 + i};
	CHECK(run_as_one_group(jobs));
	for (int i = 0; i < JOBS; i++) {
		CHECK(jobs[i].status == MLF_OK);
		CHECK(jobs[i].calls == 1);
		CHECK(rows_of(jobs[i].id) == 3);
	}
}

TEST(failing_jobs_roll_back_alone)
{
	static struct row_job jobs[JOBS];
	for (int i = 0; i < JOBS; i++)
		jobs[i] = (struct row_job){.id = 200 + i, .fail = i % 3 == 1};
	CHECK(run_as_one_group(jobs));
	int reruns = 0;
	for (int i = 0; i < JOBS; i++) {
		if (jobs[i].fail) {
			CHECK(jobs[i].status == MLF_INVALID_PARAMETER_VALUE);
			char want[64];
			snprintf(want, sizeof want, "job %d refused", jobs[i].id);
			CHECK_STR(jobs[i].err.msg, want);
			CHECK(rows_of(jobs[i].id) == 0);
		} else {
			CHECK(jobs[i].status == MLF_OK);
			CHECK(rows_of(jobs[i].id) == 3);
		}
		CHECK(jobs[i].calls >= 1 && jobs[i].calls <= 2);
		reruns += jobs[i].calls - 1;
	}
	CHECK(reruns >= 1); /* the group ran once without savepoints, then with them */
}

TEST(lone_failing_job_runs_once)
{
	struct row_job j = {.id = 300, .fail = 1};
	j.status = mlf_db_write(db, row_fn, &j, &j.err);
	CHECK(j.status == MLF_INVALID_PARAMETER_VALUE);
	CHECK(j.calls == 1);
	CHECK(rows_of(300) == 0);
}

TEST(budget_stops_a_long_statement_with_a_400)
{
	struct mlf_error err = {0};
	struct mlf_conn *c = mlf_db_read(db, &err);
	CHECK(c != NULL);
	const char *sql = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000000) "
	                  "SELECT count(*) FROM n";
	sqlite3_stmt *st = mlf_stmt_dynamic(c, sql, &err);
	CHECK(st != NULL);
	mlf_budget_begin(c, 10 * MLF_SEARCH_STEP_TICK);
	int rc = sqlite3_step(st);
	mlf_budget_end(c);
	CHECK((rc & 0xff) == SQLITE_INTERRUPT);
	CHECK(mlf_db_error(c, rc, &err) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(err.msg, "more than 1000000 steps") != NULL);
	sqlite3_finalize(st);
	/* unbounded again afterwards: the same statement runs to its end */
	st = mlf_stmt_dynamic(c,
	                      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) "
	                      "SELECT count(*) FROM n",
	                      &err);
	CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 300000);
	sqlite3_finalize(st);
}

static enum mlf_status fill_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	(void)arg;
	static const char sql[] =
	    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200000) "
	    "INSERT INTO registered_models (name, creation_time, last_updated_time) SELECT 'm' || x, x, x FROM n;"
	    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200000) "
	    "INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) "
	    "SELECT 'tr-' || x, 0, x, x, 'OK' FROM n;";
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK
	           ? MLF_OK
	           : mlf_fail(err, MLF_INTERNAL_ERROR, "%s", sqlite3_errmsg(c->db));
}

/* A store whose searches may take one tick of steps: a search that reads
 * every one of 200,000 rows is stopped with the 400, whichever entity. */
TEST(every_search_takes_the_stores_step_bound)
{
	char dir[] = "/tmp/mlflowd-test-budget-XXXXXX", path[80], cmd[112];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/b.db", dir);
	struct mlf_error err = {0};
	struct mlf_db *b = mlf_db_open(
	    &(struct mlf_db_options){.path = path, .default_artifact_root = dir, .search_steps = MLF_SEARCH_STEP_TICK},
	    &err);
	CHECK(b != NULL);
	CHECK(mlf_db_write(b, fill_fn, NULL, &err) == MLF_OK);
	struct mlf_conn *c = mlf_db_read(b, &err);
	CHECK(c != NULL);
	struct mlf_arena a = {0};
	struct mlf_registered_model *rms = NULL;
	struct mlf_page_pos pos = {0}, next = {0};
	int n = 0;
	CHECK(mlf_rm_search(c, &a, "name LIKE '%zzz%'", NULL, 0, 10, &pos, &rms, &n, &next, &err) ==
	      MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(err.msg, "steps of the database engine") != NULL);
	struct mlf_trace_info *tis = NULL;
	int64_t exp0 = 0, next_off = 0;
	struct mlf_trace_search q = {
	    .experiment_ids = &exp0, .nexp = 1, .filter = "trace.execution_time_ms > 999999999", .max_results = 10};
	memset(&err, 0, sizeof err);
	CHECK(mlf_trace_search(c, &a, &q, &tis, &n, &next_off, &err) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(err.msg, "steps of the database engine") != NULL);
	/* a search that stops after its page stays within the bound */
	memset(&err, 0, sizeof err);
	CHECK(mlf_rm_search(c, &a, "", NULL, 0, 10, &pos, &rms, &n, &next, &err) == MLF_OK && n == 10);
	mlf_arena_release(&a);
	mlf_db_thread_exit(b);
	mlf_db_close(b);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	char dir[] = "/tmp/mlflowd-test-db-XXXXXX", path[64], cmd[96];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/t.db", dir);
	struct mlf_error err = {0};
	db = mlf_db_open(&(struct mlf_db_options){.path = path, .default_artifact_root = dir}, &err);
	if (!db || mlf_db_write(db, create_table_fn, NULL, &err) != MLF_OK) {
		fprintf(stderr, "cannot open a store in %s: %s\n", dir, err.msg);
		return 1;
	}
	RUN(group_without_failures_runs_each_job_once);
	RUN(failing_jobs_roll_back_alone);
	RUN(lone_failing_job_runs_once);
	RUN(budget_stops_a_long_statement_with_a_400);
	RUN(every_search_takes_the_stores_step_bound);
	mlf_db_thread_exit(db);
	mlf_db_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	DONE();
}
