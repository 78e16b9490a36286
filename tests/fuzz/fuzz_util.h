/*
 * fuzz_util.h: what the libFuzzer harnesses of tests/fuzz share: a NUL-
 * terminated copy of the input, splitting it into lines, a failure that
 * libFuzzer reports as a crash, and a small real store (a SQLite file made
 * by mlflowd's own code, with experiments, runs, metrics, params, tags and
 * a logged model) that the search harnesses run their queries on.
 */
#ifndef MLF_FUZZ_UTIL_H
#define MLF_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "db.h"
#include "logged_models.h"
#include "tracking.h"

/* Stop with a message: libFuzzer saves the input as a crash. */
#define FUZZ_REQUIRE(cond, ...)                                                \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz invariant failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input as a C string in the arena (bytes after a NUL are dropped, as
 * every caller of these functions sees them). */
static inline char *fuzz_cstr(struct mlf_arena *a, const uint8_t *data, size_t n)
{
	return mlf_arena_strndup(a, (const char *)data, n);
}

/* Split s in place at '\n' into at most max lines; returns the count. */
static inline int fuzz_lines(char *s, char **lines, int max)
{
	int n = 0;
	while (n < max) {
		lines[n++] = s;
		char *nl = strchr(s, '\n');
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}

static struct mlf_db *fuzz_db;
static int64_t fuzz_exp_ids[2];
static char fuzz_dir[64];

/* At exit: close the store and remove its folder (it lives in RAM). */
static void fuzz_store_remove(void)
{
	mlf_db_close(fuzz_db);
	static const char *const files[] = {"runs.db", "runs.db-wal", "runs.db-shm"};
	char p[128];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", fuzz_dir, files[i]);
		unlink(p);
	}
	rmdir(fuzz_dir);
}

/* Open a fresh store under /tmp once per process and fill it. */
static inline struct mlf_db *fuzz_store(void)
{
	if (fuzz_db)
		return fuzz_db;
	static char path[96];
	snprintf(fuzz_dir, sizeof fuzz_dir, "%s/mlf-fuzz-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(fuzz_dir))
		abort();
	snprintf(path, sizeof path, "%s/runs.db", fuzz_dir);
	struct mlf_db_options opt = {.path = path, .default_artifact_root = "mlflow-artifacts:/"};
	struct mlf_error err = {0};
	fuzz_db = mlf_db_open(&opt, &err);
	FUZZ_REQUIRE(fuzz_db, "%s", err.msg);
	atexit(fuzz_store_remove);
	struct mlf_kv etags[] = {{"team", "a"}, {"mlflow.note.content", "x"}};
	FUZZ_REQUIRE(mlf_experiment_create(fuzz_db, "exp-a", NULL, etags, 2, &fuzz_exp_ids[0], &err) == MLF_OK, "%s",
	             err.msg);
	FUZZ_REQUIRE(mlf_experiment_create(fuzz_db, "exp-b", NULL, NULL, 0, &fuzz_exp_ids[1], &err) == MLF_OK, "%s",
	             err.msg);
	struct mlf_arena a = {0};
	for (int i = 0; i < 4; i++) {
		struct mlf_kv tags[] = {{"mlflow.user", i & 1 ? "bob" : "alice"}, {"t", i & 1 ? "x" : "y"}};
		struct mlf_run_create rc = {.experiment_id = i < 3 ? "1" : "2",
		                            .run_name = i & 1 ? "run-odd" : "run-even",
		                            .start_time = 1000 + i,
		                            .has_start_time = 1,
		                            .tags = tags,
		                            .ntags = 2};
		struct mlf_run r;
		FUZZ_REQUIRE(mlf_run_create(fuzz_db, &a, &rc, &r, &err) == MLF_OK, "%s", err.msg);
		struct mlf_metric m[] = {{.key = "acc", .value = 0.5 + i, .timestamp = 1, .step = i},
		                         {.key = "loss", .value = i == 2 ? 0.0 / 0.0 : 1.0 / (i + 1), .timestamp = 2}};
		struct mlf_kv p[] = {{"lr", i & 1 ? "0.1" : "0.01"}, {"p", "v"}};
		struct mlf_batch b = {.run_id = r.info.run_id,
		                      .metrics = m,
		                      .nmetrics = i == 3 ? 0 : 2,
		                      .params = p,
		                      .nparams = i == 0 ? 1 : 2};
		FUZZ_REQUIRE(mlf_run_log_batch(fuzz_db, &b, &err) == MLF_OK, "%s", err.msg);
		struct mlf_dataset_input in = {.dataset = {"ds", "d1", "local", "src", NULL, NULL}};
		if (i == 1)
			FUZZ_REQUIRE(mlf_run_log_inputs(fuzz_db, r.info.run_id, &in, 1, NULL, 0, &err) == MLF_OK, "%s",
			             err.msg);
	}
	struct mlf_kv lp[] = {{"alpha", "1"}};
	struct mlf_logged_model_create lm = {
	    .experiment_id = fuzz_exp_ids[0], .name = "model-a", .params = lp, .nparams = 1, .tags = lp, .ntags = 1};
	struct mlf_logged_model out;
	FUZZ_REQUIRE(mlf_logged_model_create(fuzz_db, &a, &lm, &out, &err) == MLF_OK, "%s", err.msg);
	mlf_arena_release(&a);
	return fuzz_db;
}

/* A search's status: a filter is either compiled to SQL that SQLite runs,
 * or refused as the client's mistake; anything else is a defect. */
static inline void fuzz_search_status(enum mlf_status s, const struct mlf_error *err, const char *what)
{
	FUZZ_REQUIRE(s == MLF_OK || s == MLF_INVALID_PARAMETER_VALUE, "%s: %s %s", what, mlf_status_name(s), err->msg);
	if (s != MLF_OK)
		FUZZ_REQUIRE(err->msg[0], "%s refused without a message", what);
}

#endif
