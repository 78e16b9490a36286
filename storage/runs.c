/*
 * runs.c: runs and what is logged to them (params, metrics, tags, dataset
 * and model inputs, model outputs), and search_runs. Writes are writer
 * jobs (see db.h); reads load whole runs with one query per table for a
 * whole page of runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/limits.h"
#include "metric_blocks.h"
#include "pool.h"
#include "search.h"
#include "tracking.h"

/* MLflow stores +-Infinity as the largest finite doubles, NaN as 0 with
 * is_nan = 1. */
#define STORED_INF 1.7976931348623157e308

static const char *const adjectives[] = {
    "able",   "amber",  "brave",  "bright", "calm",   "clever", "crisp", "dapper", "eager", "fair",
    "fleet",  "gentle", "glad",   "grand",  "happy",  "honest", "jolly", "keen",   "kind",  "lively",
    "lucky",  "merry",  "mighty", "neat",   "noble",  "polite", "proud", "quick",  "quiet", "rare",
    "silent", "smart",  "sharp",  "shy",    "steady", "sunny",  "swift", "tidy",   "vast",  "warm",
    "wise",   "witty",  "zesty",  "bold",   "cool",   "deep",   "fresh", "gold",   "light", "young"};
static const char *const nouns[] = {
    "ant",  "bass",  "bat",   "bear", "bee",   "bird",  "boar",  "carp",  "cat",   "colt", "crab",  "crow", "deer",
    "doe",  "dove",  "duck",  "eel",  "elk",   "finch", "fish",  "foal",  "fox",   "frog", "goat",  "gull", "hare",
    "hawk", "hen",   "horse", "jay",  "koi",   "lamb",  "lark",  "lynx",  "mole",  "moth", "mouse", "newt", "owl",
    "ox",   "panda", "pig",   "ram",  "robin", "seal",  "shark", "sloth", "snail", "swan", "toad"};

static void random_run_name(char *out, size_t n)
{
	unsigned char r[4];
	char hex[33];
	mlf_uuid_hex(hex);
	for (int i = 0; i < 4; i++)
		r[i] = (unsigned char)strtoul((char[]){hex[2 * i], hex[2 * i + 1], 0}, NULL, 16);
	snprintf(out, n, "%s-%s-%u", adjectives[r[0] % (sizeof adjectives / sizeof *adjectives)],
	         nouns[r[1] % (sizeof nouns / sizeof *nouns)], ((unsigned)r[2] << 8 | r[3]) % 1000);
}

/* ---- reading ---- */

static const char SQL_RUN_INFO[] =
    "SELECT run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage FROM runs WHERE run_uuid = ?1";

static void info_from_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_run_info *o)
{
	o->run_id = mlf_col_text(a, st, 0);
	o->experiment_id = sqlite3_column_int64(st, 1);
	o->run_name = mlf_col_text(a, st, 2);
	o->user_id = mlf_col_text(a, st, 3);
	o->status = mlf_col_text(a, st, 4);
	o->has_start_time = sqlite3_column_type(st, 5) != SQLITE_NULL;
	o->start_time = sqlite3_column_int64(st, 5);
	o->has_end_time = sqlite3_column_type(st, 6) != SQLITE_NULL;
	o->end_time = sqlite3_column_int64(st, 6);
	o->artifact_uri = mlf_col_text(a, st, 7);
	o->lifecycle_stage = mlf_col_text(a, st, 8);
}

enum mlf_status mlf_run_get_info(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, struct mlf_run_info *out,
                                 struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, SQL_RUN_INFO, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	int rc = sqlite3_step(st);
	enum mlf_status s = MLF_OK;
	if (rc == SQLITE_ROW)
		info_from_row(a, st, out);
	else if (rc == SQLITE_DONE)
		s = mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Run with id=%s not found", run_id);
	else
		s = mlf_db_error(c, rc, err);
	sqlite3_reset(st);
	return s;
}

/* run_uuid -> index into a page of runs, for distributing child rows. */
struct run_index {
	const char **keys;
	int *vals;
	size_t cap;
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static void index_build(struct mlf_arena *a, struct run_index *ix, struct mlf_run *runs, int n)
{
	ix->cap = 16;
	while (ix->cap < (size_t)n * 2)
		ix->cap *= 2;
	ix->keys = mlf_arena_alloc(a, ix->cap * sizeof *ix->keys);
	ix->vals = mlf_arena_alloc(a, ix->cap * sizeof *ix->vals);
	for (int i = 0; i < n; i++) {
		size_t h = hash_str(runs[i].info.run_id) & (ix->cap - 1);
		while (ix->keys[h])
			h = (h + 1) & (ix->cap - 1);
		ix->keys[h] = runs[i].info.run_id;
		ix->vals[h] = i;
	}
}

static int index_find(const struct run_index *ix, const char *key)
{
	size_t h = hash_str(key) & (ix->cap - 1);
	while (ix->keys[h]) {
		if (!strcmp(ix->keys[h], key))
			return ix->vals[h];
		h = (h + 1) & (ix->cap - 1);
	}
	return -1;
}

/* JSON array text of the page's run ids (for json_each). The page queries
 * below walk that array and seek each run's rows (CROSS JOIN keeps the
 * array outermost): cheaper than "IN (SELECT ... json_each)", which first
 * copies the ids into a temporary index. */
static char *ids_json(struct mlf_arena *a, struct mlf_run *runs, int n)
{
	size_t len = 3;
	for (int i = 0; i < n; i++)
		len += strlen(runs[i].info.run_id) + 3;
	char *s = mlf_arena_alloc(a, len), *p = s;
	*p++ = '[';
	for (int i = 0; i < n; i++) {
		/* run ids are hex (validated on the way in); quote defensively anyway */
		p += sprintf(p, "%s\"", i ? "," : "");
		for (const char *q = runs[i].info.run_id; *q; q++)
			if (*q != '"' && *q != '\\')
				*p++ = *q;
		*p++ = '"';
	}
	*p++ = ']';
	*p = '\0';
	return s;
}

/* Growable arrays inside run structs. */
#define PUSH(a, arr, n, cap, elem)                                                                  \
	do {                                                                                        \
		if ((n) == (cap)) {                                                                 \
			int nc = (cap) ? (cap)*2 : 8;                                               \
			(arr) = mlf_arena_grow((a), (arr), (size_t)(n), (size_t)nc, sizeof *(arr)); \
			(cap) = nc;                                                                 \
		}                                                                                   \
		(arr)[(n)++] = (elem);                                                              \
	} while (0)

static const char SQL_PAGE_METRICS[] =
    "SELECT m.run_uuid, m.key, m.value, m.timestamp, m.step, m.is_nan FROM json_each(?1) AS j "
    "CROSS JOIN latest_metrics AS m ON m.run_uuid = j.value";
static const char SQL_PAGE_PARAMS[] =
    "SELECT p.run_uuid, p.key, p.value FROM json_each(?1) AS j CROSS JOIN params AS p ON p.run_uuid = j.value";
static const char SQL_PAGE_TAGS[] =
    "SELECT t.run_uuid, t.key, t.value FROM json_each(?1) AS j CROSS JOIN tags AS t ON t.run_uuid = j.value";
static const char SQL_PAGE_DATASETS[] =
    "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, "
    "d.dataset_schema, d.dataset_profile FROM json_each(?1) AS j CROSS JOIN inputs i ON i.destination_id = j.value "
    "JOIN datasets d ON d.dataset_uuid = i.source_id WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'";
static const char SQL_PAGE_INPUT_TAGS[] =
    "SELECT i.destination_id, t.input_uuid, t.name, t.value FROM json_each(?1) AS j CROSS JOIN inputs i "
    "ON i.destination_id = j.value JOIN input_tags t ON t.input_uuid = i.input_uuid "
    "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'";
static const char SQL_PAGE_MODELS[] =
    "SELECT i.source_id, i.source_type, i.destination_id, i.step FROM json_each(?1) AS j CROSS JOIN inputs i "
    "ON i.source_id = j.value WHERE i.source_type IN ('RUN_INPUT', 'RUN_OUTPUT')";

double mlf__stored_to_double(double v, int is_nan);
double mlf__stored_to_double(double v, int is_nan)
{
	/* +-Infinity come back as the +-DBL_MAX they were stored as, as in MLflow. */
	return is_nan ? NAN : v;
}

/* What fill_runs() shares with its parts: the page's runs and their ids. */
struct fill_ctx {
	struct run_index *ix;
	struct mlf_run *runs;
	const char *ids; /* JSON array of the run ids */
	int *cap;        /* six capacities per run, one per array the parts grow */
};

/* The five parts of a page, one query each; a part grows only its own
 * arrays of the runs, so the parts may run at once (from their own arenas
 * and connections). */
enum { FILL_METRICS, FILL_PARAMS, FILL_TAGS, FILL_INPUTS, FILL_MODELS, FILL_PARTS };

/* Prepare a page query of c (its ?1 the page's run ids); NULL on error. */
static sqlite3_stmt *page_query(struct mlf_conn *c, const char *sql, const struct fill_ctx *f, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (st)
		sqlite3_bind_text(st, 1, f->ids, -1, SQLITE_STATIC);
	return st;
}

/* Step st to its next row whose column 0 names one of the page's runs:
 * that run's index, or -1 when the rows ended (*rc: the last step's result). */
static int next_page_row(sqlite3_stmt *st, const struct fill_ctx *f, int *rc)
{
	while ((*rc = sqlite3_step(st)) == SQLITE_ROW) {
		int i = index_find(f->ix, (const char *)sqlite3_column_text(st, 0));
		if (i >= 0)
			return i;
	}
	return -1;
}

static enum mlf_status fill_metrics(struct mlf_conn *c, struct mlf_arena *a, const struct fill_ctx *f,
                                    struct mlf_error *err)
{
	sqlite3_stmt *st;
	int rc;
	if (!(st = page_query(c, SQL_PAGE_METRICS, f, err)))
		return err->status;
	for (int i; (i = next_page_row(st, f, &rc)) >= 0;) {
		struct mlf_metric m = {
		    .key = mlf_col_text(a, st, 1),
		    .value = mlf__stored_to_double(sqlite3_column_double(st, 2), sqlite3_column_int(st, 5)),
		    .timestamp = sqlite3_column_int64(st, 3),
		    .step = sqlite3_column_int64(st, 4)};
		PUSH(a, f->runs[i].metrics, f->runs[i].nmetrics, f->cap[6 * i], m);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;

	return MLF_OK;
}

static enum mlf_status fill_kv(struct mlf_conn *c, struct mlf_arena *a, const struct fill_ctx *f, int t,
                               struct mlf_error *err)
{
	sqlite3_stmt *st;
	int rc;
	if (!(st = page_query(c, t == 0 ? SQL_PAGE_PARAMS : SQL_PAGE_TAGS, f, err)))
		return err->status;
	for (int i; (i = next_page_row(st, f, &rc)) >= 0;) {
		struct mlf_kv kv = {mlf_col_text(a, st, 1), mlf_col_text(a, st, 2)};
		if (t == 0)
			PUSH(a, f->runs[i].params, f->runs[i].nparams, f->cap[6 * i + 1], kv);
		else
			PUSH(a, f->runs[i].tags, f->runs[i].ntags, f->cap[6 * i + 2], kv);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	return MLF_OK;
}

static enum mlf_status fill_inputs(struct mlf_conn *c, struct mlf_arena *a, const struct fill_ctx *f,
                                   struct mlf_error *err)
{
	sqlite3_stmt *st;
	int rc;
	/* Dataset inputs, then their tags (matched by input_uuid). */
	const char **input_uuids = NULL;
	int ninputs_total = 0, cap_inputs = 0;
	int *input_run = NULL, cap_ir = 0, nir = 0;
	if (!(st = page_query(c, SQL_PAGE_DATASETS, f, err)))
		return err->status;
	for (int i; (i = next_page_row(st, f, &rc)) >= 0;) {
		struct mlf_dataset_input in = {0};
		in.dataset.name = mlf_col_text(a, st, 2);
		in.dataset.digest = mlf_col_text(a, st, 3);
		in.dataset.source_type = mlf_col_text(a, st, 4);
		in.dataset.source = mlf_col_text(a, st, 5);
		in.dataset.schema = mlf_col_text(a, st, 6);
		in.dataset.profile = mlf_col_text(a, st, 7);
		PUSH(a, f->runs[i].inputs, f->runs[i].ninputs, f->cap[6 * i + 3], in);
		PUSH(a, input_uuids, ninputs_total, cap_inputs, mlf_col_text(a, st, 1));
		PUSH(a, input_run, nir, cap_ir, i);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	if (ninputs_total) {
		int *tagcap = mlf_arena_alloc(a, sizeof(int) * (size_t)ninputs_total);
		if (!(st = page_query(c, SQL_PAGE_INPUT_TAGS, f, err)))
			return err->status;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *uuid = (const char *)sqlite3_column_text(st, 1);
			for (int k = 0; k < ninputs_total; k++) {
				if (strcmp(input_uuids[k], uuid))
					continue;
				int i = input_run[k];
				/* position of this input within its run */
				int pos = 0;
				for (int q = 0; q < k; q++)
					if (input_run[q] == i)
						pos++;
				struct mlf_dataset_input *in = &f->runs[i].inputs[pos];
				struct mlf_kv kv = {mlf_col_text(a, st, 2), mlf_col_text(a, st, 3)};
				PUSH(a, in->tags, in->ntags, tagcap[k], kv);
				break;
			}
		}
		if (!mlf_rows_done(c, st, rc, err))
			return err->status;
	}

	return MLF_OK;
}

static enum mlf_status fill_models(struct mlf_conn *c, struct mlf_arena *a, const struct fill_ctx *f,
                                   struct mlf_error *err)
{
	sqlite3_stmt *st;
	int rc;
	if (!(st = page_query(c, SQL_PAGE_MODELS, f, err)))
		return err->status;
	for (int i; (i = next_page_row(st, f, &rc)) >= 0;) {
		struct mlf_model_io m = {mlf_col_text(a, st, 2), sqlite3_column_int64(st, 3)};
		if (!strcmp((const char *)sqlite3_column_text(st, 1), "RUN_INPUT"))
			PUSH(a, f->runs[i].model_inputs, f->runs[i].nmodel_inputs, f->cap[6 * i + 4], m);
		else
			PUSH(a, f->runs[i].model_outputs, f->runs[i].nmodel_outputs, f->cap[6 * i + 5], m);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	return MLF_OK;
}

static enum mlf_status fill_part(struct mlf_conn *c, struct mlf_arena *a, const struct fill_ctx *f, int part,
                                 struct mlf_error *err)
{
	switch (part) {
	case FILL_METRICS: return fill_metrics(c, a, f, err);
	case FILL_PARAMS: return fill_kv(c, a, f, 0, err);
	case FILL_TAGS: return fill_kv(c, a, f, 1, err);
	case FILL_INPUTS: return fill_inputs(c, a, f, err);
	default: return fill_models(c, a, f, err);
	}
}

static void fill_ctx_init(struct mlf_arena *a, struct fill_ctx *f, struct run_index *ix, struct mlf_run *runs, int n)
{
	index_build(a, ix, runs, n);
	f->ix = ix;
	f->runs = runs;
	f->ids = ids_json(a, runs, n);
	f->cap = mlf_arena_alloc(a, sizeof(int) * (size_t)n * 6);
}

/* Load the metrics, params, tags, dataset inputs and model inputs and
 * outputs of runs[0..n) (whose info is set), on c. */
static enum mlf_status fill_runs(struct mlf_conn *c, struct mlf_arena *a, struct mlf_run *runs, int n,
                                 struct mlf_error *err)
{
	if (n == 0)
		return MLF_OK;
	struct run_index ix;
	struct fill_ctx f;
	fill_ctx_init(a, &f, &ix, runs, n);
	enum mlf_status s = MLF_OK;
	for (int part = 0; part < FILL_PARTS && s == MLF_OK; part++)
		s = fill_part(c, a, &f, part, err);
	return s;
}

/* fill_runs() with its parts spread over the pool's threads, each on the
 * read connection of the thread that takes it. */
struct fill_job {
	struct mlf_db *db;
	const struct fill_ctx *f;
	struct mlf_arena a[FILL_PARTS]; /* owned until adopted by the request's arena */
	enum mlf_status s[FILL_PARTS];
	struct mlf_error err[FILL_PARTS];
};

static enum mlf_status fill_job_part(struct mlf_conn *c, void *p, int part, struct mlf_error *err)
{
	struct fill_job *j = p;
	return fill_part(c, &j->a[part], j->f, part, err);
}

static void fill_task(void *p, int part)
{
	struct fill_job *j = p;
	j->s[part] = mlf_db_read_in_txn(j->db, fill_job_part, j, part, &j->err[part]);
}

static enum mlf_status fill_runs_parallel(struct mlf_conn *c, struct mlf_arena *a, struct mlf_run *runs, int n,
                                          struct mlf_error *err)
{
	struct run_index ix;
	struct fill_ctx f;
	fill_ctx_init(a, &f, &ix, runs, n);
	struct fill_job j = {.db = c->owner, .f = &f};
	mlf_pool_run(FILL_PARTS, fill_task, &j);
	enum mlf_status s = MLF_OK;
	for (int part = 0; part < FILL_PARTS; part++) {
		mlf_arena_adopt(a, &j.a[part]);
		if (s == MLF_OK && j.s[part] != MLF_OK) {
			*err = j.err[part];
			s = err->status;
		}
	}
	return s;
}

enum mlf_status mlf_run_get(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, struct mlf_run *out,
                            struct mlf_error *err)
{
	memset(out, 0, sizeof *out);
	enum mlf_status s = mlf_run_get_info(c, a, run_id, &out->info, err);
	if (s != MLF_OK)
		return s;
	return fill_runs(c, a, out, 1, err);
}

/* ---- search ---- */

/* One search: the page's runs, then their contents, in one read
 * transaction of c. With parallel set (c outside a transaction, the pool
 * has helpers), a long page's contents are read by the pool on other
 * connections; *retry is then set when c's data_version shows a commit
 * since the page was chosen (the threads may have seen another snapshot),
 * and the caller searches again without the pool. */
static enum mlf_status search_once(struct mlf_conn *c, struct mlf_arena *a, const int64_t *exp_ids, int n_exp,
                                   enum mlf_view_type view, const char *filter, const char *const *order_by,
                                   int n_order_by, int64_t max_results, int64_t offset, int parallel,
                                   struct mlf_run **out, int *n, int64_t *next_offset, int *retry,
                                   struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	*next_offset = -1;
	struct mlf_search_sql q;
	enum mlf_status s = mlf_search_runs_compile(a, filter, order_by, n_order_by, &q, err);
	if (s != MLF_OK)
		return s;
	struct mlf_buf sql = {0};
	mlf_buf_printf(&sql,
	               "SELECT r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, "
	               "r.artifact_uri, r.lifecycle_stage FROM runs r %s WHERE r.experiment_id IN (SELECT value FROM "
	               "json_each(?%d))",
	               q.joins, q.nbinds + 1);
	if (view == MLF_VIEW_ACTIVE_ONLY)
		mlf_buf_puts(&sql, " AND r.lifecycle_stage = 'active'");
	else if (view == MLF_VIEW_DELETED_ONLY)
		mlf_buf_puts(&sql, " AND r.lifecycle_stage = 'deleted'");
	if (q.where && *q.where)
		mlf_buf_printf(&sql, " AND (%s)", q.where);
	mlf_buf_printf(&sql, " ORDER BY %s LIMIT ?%d OFFSET ?%d", q.order, q.nbinds + 2, q.nbinds + 3);

	int own = mlf_read_begin(c, err);
	int64_t v1 = -1, v2 = -2;
	if (own < 0) {
		mlf_buf_release(&sql);
		return err->status;
	}
	parallel = parallel && own > 0 && mlf_data_version(c, &v1, NULL) == MLF_OK;
	sqlite3_stmt *st = mlf_stmt_dynamic(c, sql.data, err);
	mlf_buf_release(&sql);
	if (!st) {
		mlf_read_end(c, own);
		return err->status;
	}
	mlf_search_bind(st, &q);
	mlf_budget_begin_search(c);
	struct mlf_buf ids = {0};
	mlf_buf_putc(&ids, '[');
	for (int i = 0; i < n_exp; i++)
		mlf_buf_printf(&ids, "%s%lld", i ? "," : "", (long long)exp_ids[i]);
	mlf_buf_putc(&ids, ']');
	sqlite3_bind_text(st, q.nbinds + 1, ids.data, (int)ids.len, SQLITE_TRANSIENT);
	mlf_buf_release(&ids);
	sqlite3_bind_int64(st, q.nbinds + 2, max_results + 1);
	sqlite3_bind_int64(st, q.nbinds + 3, offset);

	int cap = 0, rc;
	struct mlf_run *runs = NULL;
	int count = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == max_results) {
			*next_offset = offset + max_results;
			break;
		}
		struct mlf_run r;
		memset(&r, 0, sizeof r);
		info_from_row(a, st, &r.info);
		PUSH(a, runs, count, cap, r);
	}
	mlf_budget_end(c);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		s = mlf_db_error(c, rc, err);
		sqlite3_finalize(st);
		mlf_read_end(c, own);
		return s;
	}
	sqlite3_finalize(st);
	if (parallel && count >= MLF_FILL_SPLIT_MIN_RUNS) {
		s = fill_runs_parallel(c, a, runs, count, err);
		mlf_read_end(c, own);
		own = 0;
		if (mlf_data_version(c, &v2, NULL) != MLF_OK || v2 != v1) {
			*retry = 1;
			*next_offset = -1;
			return MLF_OK;
		}
	} else {
		s = fill_runs(c, a, runs, count, err);
	}
	mlf_read_end(c, own);
	*out = runs;
	*n = count;
	return s;
}

enum mlf_status mlf_run_search(struct mlf_conn *c, struct mlf_arena *a, const int64_t *exp_ids, int n_exp,
                               enum mlf_view_type view, const char *filter, const char *const *order_by, int n_order_by,
                               int64_t max_results, int64_t offset, struct mlf_run **out, int *n, int64_t *next_offset,
                               struct mlf_error *err)
{
	int retry = 0;
	enum mlf_status s = search_once(c, a, exp_ids, n_exp, view, filter, order_by, n_order_by, max_results, offset,
	                                mlf_pool_helpers() > 0, out, n, next_offset, &retry, err);
	if (s == MLF_OK && retry)
		s = search_once(c, a, exp_ids, n_exp, view, filter, order_by, n_order_by, max_results, offset, 0, out,
		                n, next_offset, &retry, err);
	/* MLflow's search answers runs without their model inputs (its
	 * _search_runs builds RunInputs from the dataset inputs alone); only
	 * get-run carries them. */
	for (int i = 0; s == MLF_OK && i < *n; i++)
		(*out)[i].nmodel_inputs = 0;
	return s;
}

/* ---- writing ---- */

/* Check the run exists and is active, on the writer connection. */
static enum mlf_status check_active(struct mlf_conn *c, const char *run_id, int64_t *exp_id, struct mlf_error *err)
{
	static const char sql[] = "SELECT lifecycle_stage, experiment_id FROM runs WHERE run_uuid = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	int rc = sqlite3_step(st);
	enum mlf_status s = MLF_OK;
	if (rc == SQLITE_ROW) {
		const char *stage = (const char *)sqlite3_column_text(st, 0);
		if (exp_id)
			*exp_id = sqlite3_column_int64(st, 1);
		if (!stage || strcmp(stage, "active"))
			s = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
			             "The run %s must be in the 'active' state. Current state is %s.", run_id,
			             stage ? stage : "None");
	} else if (rc == SQLITE_DONE) {
		s = mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Run with id=%s not found", run_id);
	} else {
		s = mlf_db_error(c, rc, err);
	}
	sqlite3_reset(st);
	return s;
}

static const char SQL_TAG_UPSERT[] = "INSERT INTO tags(key, value, run_uuid) VALUES (?1, ?2, ?3) "
                                     "ON CONFLICT(key, run_uuid) DO UPDATE SET value = excluded.value";
static const char SQL_RUN_RENAME[] = "UPDATE runs SET name = ?1 WHERE run_uuid = ?2";

static enum mlf_status set_tag(struct mlf_conn *c, const char *run_id, const char *key, const char *value,
                               struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, SQL_TAG_UPSERT, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, key);
	mlf_bind_text(st, 2, value);
	mlf_bind_text(st, 3, run_id);
	enum mlf_status s = mlf_step_done(c, st, err);
	if (s == MLF_OK && !strcmp(key, "mlflow.runName")) {
		if (!(st = mlf_stmt(c, SQL_RUN_RENAME, err)))
			return err->status;
		mlf_bind_text(st, 1, value);
		mlf_bind_text(st, 2, run_id);
		s = mlf_step_done(c, st, err);
	}
	return s;
}

struct create_job {
	const struct mlf_run_create *in;
	struct mlf_arena *a;
	struct mlf_run *out;
};

static enum mlf_status create_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct create_job *j = arg;
	const struct mlf_run_create *in = j->in;
	const char *exp_text = in->experiment_id && *in->experiment_id ? in->experiment_id : "0";
	int64_t exp_id;
	enum mlf_status s = mlf_experiment_id_parse(exp_text, &exp_id, err);
	if (s != MLF_OK)
		return s;
	static const char exp_sql[] =
	    "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, exp_sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, exp_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists",
			                (long long)exp_id);
		return mlf_db_error(c, rc, err);
	}
	char *location = mlf_col_text(j->a, st, 0);
	char *stage = mlf_col_text(j->a, st, 1);
	sqlite3_reset(st);
	if (!stage || strcmp(stage, "active"))
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "The experiment %lld must be in the 'active' state. Current state is %s.",
		                (long long)exp_id, stage ? stage : "None");

	const char *tag_name = NULL;
	for (int i = 0; i < in->ntags; i++)
		if (!strcmp(in->tags[i].key, "mlflow.runName"))
			tag_name = in->tags[i].value;
	if (in->run_name && *in->run_name && tag_name && strcmp(in->run_name, tag_name))
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
		                "values (run_name='%s', mlflow.runName='%s').",
		                in->run_name, tag_name);
	char generated[64];
	const char *name = in->run_name && *in->run_name ? in->run_name : tag_name;
	if (!name || !*name) {
		random_run_name(generated, sizeof generated);
		name = generated;
	}
	char run_id[33];
	mlf_uuid7_hex(run_id);
	size_t ll = location ? strlen(location) : 0;
	char *artifact_uri = mlf_arena_printf(j->a, "%s%s%s/artifacts", location ? location : "",
	                                      ll && location[ll - 1] == '/' ? "" : "/", run_id);

	static const char ins[] =
	    "INSERT INTO runs(run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
	    "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time) "
	    "VALUES (?1, ?2, 'UNKNOWN', '', '', ?3, 'RUNNING', ?4, NULL, '', 'active', ?5, ?6, NULL)";
	if (!(st = mlf_stmt(c, ins, err)))
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, name);
	mlf_bind_text(st, 3, in->user_id);
	if (in->has_start_time)
		sqlite3_bind_int64(st, 4, in->start_time);
	else
		sqlite3_bind_null(st, 4);
	mlf_bind_text(st, 5, artifact_uri);
	sqlite3_bind_int64(st, 6, exp_id);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;
	for (int i = 0; i < in->ntags; i++)
		if ((s = set_tag(c, run_id, in->tags[i].key, in->tags[i].value, err)) != MLF_OK)
			return s;
	if (!tag_name && (s = set_tag(c, run_id, "mlflow.runName", name, err)) != MLF_OK)
		return s;
	/* Read it back on the writer connection (the commit is still pending). */
	memset(j->out, 0, sizeof *j->out);
	if ((s = mlf_run_get_info(c, j->a, run_id, &j->out->info, err)) != MLF_OK)
		return s;
	return fill_runs(c, j->a, j->out, 1, err);
}

enum mlf_status mlf_run_create(struct mlf_db *db, struct mlf_arena *a, const struct mlf_run_create *in,
                               struct mlf_run *out, struct mlf_error *err)
{
	struct create_job j = {in, a, out};
	return mlf_db_write(db, create_fn, &j, err);
}

struct update_job {
	const struct mlf_run_update *in;
	struct mlf_arena *a;
	struct mlf_run_info *out;
};

static enum mlf_status update_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct update_job *j = arg;
	const struct mlf_run_update *in = j->in;
	enum mlf_status s = check_active(c, in->run_id, NULL, err);
	if (s != MLF_OK)
		return s;
	static const char sql[] = "UPDATE runs SET status = COALESCE(?1, status), "
	                          "end_time = CASE WHEN ?2 THEN ?3 ELSE end_time END, "
	                          "name = COALESCE(?4, name) WHERE run_uuid = ?5";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, in->status);
	sqlite3_bind_int(st, 2, in->has_end_time);
	sqlite3_bind_int64(st, 3, in->end_time);
	mlf_bind_text(st, 4, in->run_name && *in->run_name ? in->run_name : NULL);
	mlf_bind_text(st, 5, in->run_id);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;
	if (in->run_name && *in->run_name &&
	    (s = set_tag(c, in->run_id, "mlflow.runName", in->run_name, err)) != MLF_OK)
		return s;
	return mlf_run_get_info(c, j->a, in->run_id, j->out, err);
}

enum mlf_status mlf_run_update(struct mlf_db *db, struct mlf_arena *a, const struct mlf_run_update *in,
                               struct mlf_run_info *out, struct mlf_error *err)
{
	struct update_job j = {in, a, out};
	return mlf_db_write(db, update_fn, &j, err);
}

struct delete_job {
	const char *run_id;
	int deleted;
};

static enum mlf_status delete_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct delete_job *j = arg;
	static const char sql[] = "UPDATE runs SET lifecycle_stage = ?1, deleted_time = ?2 WHERE run_uuid = ?3";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->deleted ? "deleted" : "active");
	if (j->deleted)
		sqlite3_bind_int64(st, 2, mlf_now_ms());
	else
		sqlite3_bind_null(st, 2);
	mlf_bind_text(st, 3, j->run_id);
	enum mlf_status s = mlf_step_done(c, st, err);
	if (s == MLF_OK && sqlite3_changes(c->db) == 0)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Run with id=%s not found", j->run_id);
	return s;
}

enum mlf_status mlf_run_set_deleted(struct mlf_db *db, const char *run_id, int deleted, struct mlf_error *err)
{
	struct delete_job j = {run_id, deleted};
	return mlf_db_write(db, delete_fn, &j, err);
}

/* Params: insert new keys; an existing key with another value fails the
 * whole job with MLflow's message. */
static enum mlf_status log_params(struct mlf_conn *c, const struct mlf_batch *b, struct mlf_error *err)
{
	static const char sel[] = "SELECT value FROM params WHERE key = ?1 AND run_uuid = ?2";
	static const char ins[] = "INSERT INTO params(key, value, run_uuid) VALUES (?1, ?2, ?3)";
	struct mlf_buf conflicts = {0};
	int nconf = 0;
	enum mlf_status s = MLF_OK;
	for (int i = 0; i < b->nparams && s == MLF_OK; i++) {
		sqlite3_stmt *st = mlf_stmt(c, sel, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, b->params[i].key);
		mlf_bind_text(st, 2, b->run_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *old = (const char *)sqlite3_column_text(st, 0);
			const char *nv = b->params[i].value ? b->params[i].value : "";
			if (strcmp(old ? old : "", nv)) {
				if (b->nparams == 1 && b->nmetrics == 0 && b->ntags == 0)
					s = mlf_fail(
					    err, MLF_INVALID_PARAMETER_VALUE,
					    "Changing param values is not allowed. Param with key='%s' was already "
					    "logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.",
					    b->params[i].key, old ? old : "", b->run_id, nv);
				else
					mlf_buf_printf(&conflicts,
					               "%s{'key': '%s', 'old_value': '%s', 'new_value': '%s'}",
					               nconf++ ? ", " : "", b->params[i].key, old ? old : "", nv);
			}
			sqlite3_reset(st);
			continue;
		}
		if (!mlf_rows_done(c, st, rc, err))
			return err->status;
		if (!(st = mlf_stmt(c, ins, err)))
			return err->status;
		mlf_bind_text(st, 1, b->params[i].key);
		mlf_bind_text(st, 2, b->params[i].value ? b->params[i].value : "");
		mlf_bind_text(st, 3, b->run_id);
		s = mlf_step_done(c, st, err);
	}
	if (s == MLF_OK && nconf)
		s = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		             "Changing param values is not allowed. Params were already logged='[%s]' for run ID='%s'.",
		             conflicts.data, b->run_id);
	mlf_buf_release(&conflicts);
	return s;
}

static double to_stored(double v, int *is_nan)
{
	*is_nan = isnan(v);
	if (*is_nan)
		return 0;
	if (isinf(v))
		return v > 0 ? STORED_INF : -STORED_INF;
	return v;
}

static const char SQL_METRIC_INSERT[] =
    "INSERT OR IGNORE INTO metrics(key, value, timestamp, run_uuid, step, is_nan) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_LATEST_UPSERT[] =
    "INSERT INTO latest_metrics(key, value, timestamp, step, is_nan, run_uuid) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT(key, run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, "
    "step = excluded.step, is_nan = excluded.is_nan "
    "WHERE (excluded.step, excluded.timestamp, excluded.value) > "
    "(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)";
static const char SQL_MODEL_METRIC[] =
    "INSERT OR IGNORE INTO logged_model_metrics(model_id, metric_name, metric_timestamp_ms, metric_step, "
    "metric_value, experiment_id, run_id, dataset_uuid, dataset_name, dataset_digest) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, "
    "(SELECT dataset_uuid FROM datasets WHERE experiment_id = ?6 AND name = ?8 AND digest = ?9), ?8, ?9 "
    "WHERE EXISTS (SELECT 1 FROM logged_models WHERE model_id = ?1)";

/* A metric as stored: value with NaN/Inf mapped, plus its batch position. */
struct stored_metric {
	const struct mlf_metric *m;
	double v;
	int is_nan;
};

/* Order of MLflow's metric primary key (key, timestamp, step, value):
 * inserting in index order keeps the b-tree pages hot. */
static int cmp_stored(const void *pa, const void *pb)
{
	const struct stored_metric *a = pa, *b = pb;
	int c = strcmp(a->m->key, b->m->key);
	if (c)
		return c;
	if (a->m->timestamp != b->m->timestamp)
		return a->m->timestamp < b->m->timestamp ? -1 : 1;
	if (a->m->step != b->m->step)
		return a->m->step < b->m->step ? -1 : 1;
	return (a->v > b->v) - (a->v < b->v);
}

/* MLflow's latest-value rule: the greatest (step, timestamp, value). */
static int newer(const struct stored_metric *a, const struct stored_metric *b)
{
	if (a->m->step != b->m->step)
		return a->m->step > b->m->step;
	if (a->m->timestamp != b->m->timestamp)
		return a->m->timestamp > b->m->timestamp;
	return a->v > b->v;
}

static enum mlf_status insert_model_metric(struct mlf_conn *c, const struct mlf_batch *b,
                                           const struct stored_metric *sm, int64_t exp_id, struct mlf_error *err)
{
	const struct mlf_metric *m = sm->m;
	sqlite3_stmt *st = mlf_stmt(c, SQL_MODEL_METRIC, err);
	if (!st)
		return err->status;
	sqlite3_bind_text(st, 1, m->model_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, m->timestamp);
	sqlite3_bind_int64(st, 4, m->step);
	if (sm->is_nan)
		sqlite3_bind_null(st, 5);
	else
		sqlite3_bind_double(st, 5, sm->v);
	sqlite3_bind_int64(st, 6, exp_id);
	sqlite3_bind_text(st, 7, b->run_id, -1, SQLITE_STATIC);
	mlf_bind_text(st, 8, m->dataset_name);
	mlf_bind_text(st, 9, m->dataset_digest);
	return mlf_step_done(c, st, err);
}

/* The batch's block summaries (metric_blocks.h), made on the request's
 * thread: for the g-th key of the batch (in sm's order), nblk[g] blocks
 * starting at blk + first[g]. */
struct batch_blocks {
	struct mlf_mm_block *blk; /* owned: one per metric at most */
	int *first, *nblk;        /* owned: one per key group */
};

/* Metrics: every point into metrics (a repeated point is a no-op), the
 * latest per key into latest_metrics, the block summaries of each series
 * merged here (no trigger runs on the writer's connection). sm holds the batch's points in primary-key order (prepared
 * by the caller's thread, not the writer's). The caller's strings outlive the job, so they are bound without copies. */
static enum mlf_status log_metrics(struct mlf_conn *c, const struct mlf_batch *b, const struct stored_metric *sm,
                                   const struct batch_blocks *bb, int64_t exp_id, struct mlf_error *err)
{
	enum mlf_status s = MLF_OK;
	sqlite3_stmt *ins = mlf_stmt(c, SQL_METRIC_INSERT, err);
	if (!ins)
		return err->status;
	const struct stored_metric *best = NULL;
	int group = 0, marked = 0, has_points = 0;
	for (int i = 0; i < b->nmetrics && s == MLF_OK; i++) {
		const struct stored_metric *x = &sm[i];
		/* a key's first point: its series' state before its points go in */
		if (i == 0 || strcmp(sm[i - 1].m->key, x->m->key)) {
			if (mlf_metric_blocks_known(c, b->run_id, x->m->key))
				marked = has_points = 1;
			else if ((s = mlf_metric_blocks_state(c, b->run_id, x->m->key, &marked, &has_points, err)) !=
			         MLF_OK)
				break;
			else if (marked)
				mlf_metric_blocks_remember(c, b->run_id, x->m->key);
			if (!(ins = mlf_stmt(c, SQL_METRIC_INSERT, err))) {
				s = err->status;
				break;
			}
		}
		sqlite3_bind_text(ins, 1, x->m->key, -1, SQLITE_STATIC);
		sqlite3_bind_double(ins, 2, x->v);
		sqlite3_bind_int64(ins, 3, x->m->timestamp);
		sqlite3_bind_text(ins, 4, b->run_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 5, x->m->step);
		sqlite3_bind_int(ins, 6, x->is_nan);
		if ((s = mlf_step_done(c, ins, err)) != MLF_OK)
			break;
		if (x->m->model_id && *x->m->model_id) {
			if ((s = insert_model_metric(c, b, x, exp_id, err)) != MLF_OK)
				break;
			if (!(ins = mlf_stmt(c, SQL_METRIC_INSERT, err))) {
				s = err->status;
				break;
			}
		}
		if (!best || newer(x, best))
			best = x;
		/* End of this key's group: upsert its latest point. */
		if (i + 1 == b->nmetrics || strcmp(sm[i + 1].m->key, x->m->key)) {
			sqlite3_stmt *up = mlf_stmt(c, SQL_LATEST_UPSERT, err);
			if (!up) {
				s = err->status;
				break;
			}
			sqlite3_bind_text(up, 1, best->m->key, -1, SQLITE_STATIC);
			sqlite3_bind_double(up, 2, best->v);
			sqlite3_bind_int64(up, 3, best->m->timestamp);
			sqlite3_bind_int64(up, 4, best->m->step);
			sqlite3_bind_int(up, 5, best->is_nan);
			sqlite3_bind_text(up, 6, b->run_id, -1, SQLITE_STATIC);
			s = mlf_step_done(c, up, err);
			best = NULL;
			/* its blocks, into every series (as the insert trigger does: a
			 * series being built keeps what the build wrote), marking a new one */
			if (s == MLF_OK)
				s = mlf_metric_blocks_merge(c, b->run_id, x->m->key, bb->blk + bb->first[group],
				                            bb->nblk[group], !marked && !has_points, err);
			if (s == MLF_OK && !marked && !has_points)
				mlf_metric_blocks_remember(c, b->run_id, x->m->key);
			group++;
			if (!(ins = mlf_stmt(c, SQL_METRIC_INSERT, err))) {
				s = err->status;
				break;
			}
		}
	}
	return s;
}

struct batch_job {
	const struct mlf_batch *b;
	const struct stored_metric *sm; /* b's metrics in primary-key order */
	const struct batch_blocks *bb;  /* their block summaries */
};

static enum mlf_status batch_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	const struct batch_job *j = arg;
	const struct mlf_batch *b = j->b;
	int64_t exp_id = 0;
	enum mlf_status s = check_active(c, b->run_id, &exp_id, err);
	if (s == MLF_OK && b->nparams)
		s = log_params(c, b, err);
	if (s == MLF_OK && b->nmetrics)
		s = log_metrics(c, b, j->sm, j->bb, exp_id, err);
	for (int i = 0; i < b->ntags && s == MLF_OK; i++)
		s = set_tag(c, b->run_id, b->tags[i].key, b->tags[i].value, err);
	return s;
}

/* The block summaries of each key group of sm (b's points in primary-key
 * order): 0, or -1 when out of memory. */
static int batch_blocks_of(const struct mlf_batch *b, const struct stored_metric *sm, struct batch_blocks *bb)
{
	size_t n = (size_t)b->nmetrics;
	struct mlf_mm_point *pts = malloc(n * sizeof *pts);
	bb->blk = malloc(n * sizeof *bb->blk);
	bb->first = malloc(n * sizeof *bb->first);
	bb->nblk = malloc(n * sizeof *bb->nblk);
	if (!pts || !bb->blk || !bb->first || !bb->nblk) {
		free(pts);
		return -1;
	}
	int g = 0, used = 0;
	for (int i = 0; i < b->nmetrics;) {
		int j = i;
		for (; j < b->nmetrics && !strcmp(sm[j].m->key, sm[i].m->key); j++)
			pts[j - i] = (struct mlf_mm_point){sm[j].m->step, sm[j].m->timestamp, sm[j].v, sm[j].is_nan};
		bb->first[g] = used;
		bb->nblk[g] = mlf_mm_blocks_of(pts, j - i, bb->blk + used);
		used += bb->nblk[g++];
		i = j;
	}
	free(pts);
	return 0;
}

enum mlf_status mlf_run_log_batch(struct mlf_db *db, const struct mlf_batch *b, struct mlf_error *err)
{
	/* The metrics are mapped and sorted here, on the request's thread, so
	 * the single writer spends its time on SQLite alone. */
	struct stored_metric *sm = NULL;
	if (b->nmetrics) {
		if (!(sm = malloc(sizeof *sm * (size_t)b->nmetrics)))
			return mlf_fail(err, MLF_INTERNAL_ERROR, "out of memory");
		for (int i = 0; i < b->nmetrics; i++) {
			sm[i].m = &b->metrics[i];
			sm[i].v = to_stored(b->metrics[i].value, &sm[i].is_nan);
		}
		qsort(sm, (size_t)b->nmetrics, sizeof *sm, cmp_stored);
	}
	struct batch_blocks bb = {0};
	if (b->nmetrics && batch_blocks_of(b, sm, &bb) < 0) {
		free(sm);
		return mlf_fail(err, MLF_INTERNAL_ERROR, "out of memory");
	}
	struct batch_job j = {b, sm, &bb};
	enum mlf_status s = mlf_db_write(db, batch_fn, &j, err);
	free(sm);
	free(bb.blk);
	free(bb.first);
	free(bb.nblk);
	return s;
}

struct tag_job {
	const char *run_id, *key;
};

static enum mlf_status delete_tag_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct tag_job *j = arg;
	enum mlf_status s = check_active(c, j->run_id, NULL, err);
	if (s != MLF_OK)
		return s;
	static const char sql[] = "DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->run_id);
	mlf_bind_text(st, 2, j->key);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;
	if (sqlite3_changes(c->db) == 0)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No tag with name: %s in run with id %s", j->key,
		                j->run_id);
	return MLF_OK;
}

enum mlf_status mlf_run_delete_tag(struct mlf_db *db, const char *run_id, const char *key, struct mlf_error *err)
{
	struct tag_job j = {run_id, key};
	return mlf_db_write(db, delete_tag_fn, &j, err);
}

struct merge_tag_job {
	const char *run_id, *key;
	mlf_tag_merge_fn merge;
	void *ctx;
};

static enum mlf_status merge_tag_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	static const char sql[] = "SELECT value FROM tags WHERE run_uuid = ?1 AND key = ?2";
	struct merge_tag_job *j = arg;
	enum mlf_status s = check_active(c, j->run_id, NULL, err);
	if (s != MLF_OK)
		return s;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->run_id);
	mlf_bind_text(st, 2, j->key);
	int rc = sqlite3_step(st);
	char *old =
	    rc == SQLITE_ROW && sqlite3_column_text(st, 0) ? strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
	if (!mlf_rows_done(c, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, err)) {
		free(old);
		return err->status;
	}
	char *value = j->merge(old, j->ctx, err);
	free(old);
	if (!value)
		return err->status;
	s = set_tag(c, j->run_id, j->key, value, err);
	free(value);
	return s;
}

enum mlf_status mlf_run_merge_tag(struct mlf_db *db, const char *run_id, const char *key, mlf_tag_merge_fn merge,
                                  void *ctx, struct mlf_error *err)
{
	struct merge_tag_job j = {run_id, key, merge, ctx};
	return mlf_db_write(db, merge_tag_fn, &j, err);
}

struct inputs_job {
	const char *run_id;
	const struct mlf_dataset_input *inputs;
	int ninputs;
	const struct mlf_model_io *models;
	int nmodels;
	int outputs;
};

static enum mlf_status link_model(struct mlf_conn *c, const char *run_id, const struct mlf_model_io *m, int output,
                                  struct mlf_error *err)
{
	static const char sql[] =
	    "INSERT INTO inputs(input_uuid, source_type, source_id, destination_type, destination_id, step) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET step = excluded.step";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	char uuid[37];
	mlf_uuid_str(uuid);
	mlf_bind_text(st, 1, uuid);
	mlf_bind_text(st, 2, output ? "RUN_OUTPUT" : "RUN_INPUT");
	mlf_bind_text(st, 3, run_id);
	mlf_bind_text(st, 4, output ? "MODEL_OUTPUT" : "MODEL_INPUT");
	mlf_bind_text(st, 5, m->model_id);
	sqlite3_bind_int64(st, 6, output ? m->step : 0);
	return mlf_step_done(c, st, err);
}

static enum mlf_status inputs_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct inputs_job *j = arg;
	int64_t exp_id = 0;
	enum mlf_status s = check_active(c, j->run_id, &exp_id, err);
	if (s != MLF_OK)
		return s;
	static const char find_ds[] =
	    "SELECT dataset_uuid FROM datasets WHERE experiment_id = ?1 AND name = ?2 AND digest = ?3";
	static const char ins_ds[] =
	    "INSERT INTO datasets(dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, "
	    "dataset_schema, dataset_profile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	static const char find_in[] = "SELECT input_uuid FROM inputs WHERE source_type = 'DATASET' AND source_id = ?1 "
	                              "AND destination_type = 'RUN' AND destination_id = ?2";
	static const char ins_in[] =
	    "INSERT INTO inputs(input_uuid, source_type, source_id, destination_type, destination_id, step) "
	    "VALUES (?1, 'DATASET', ?2, 'RUN', ?3, 0)";
	static const char ins_tag[] = "INSERT INTO input_tags(input_uuid, name, value) VALUES (?1, ?2, ?3) "
	                              "ON CONFLICT DO UPDATE SET value = excluded.value";
	for (int i = 0; i < j->ninputs && s == MLF_OK; i++) {
		const struct mlf_dataset *d = &j->inputs[i].dataset;
		char ds_uuid[37], in_uuid[37];
		sqlite3_stmt *st = mlf_stmt(c, find_ds, err);
		if (!st)
			return err->status;
		sqlite3_bind_int64(st, 1, exp_id);
		mlf_bind_text(st, 2, d->name);
		mlf_bind_text(st, 3, d->digest);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(ds_uuid, sizeof ds_uuid, "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_reset(st);
		} else {
			if (!mlf_rows_done(c, st, rc, err))
				return err->status;
			mlf_uuid_str(ds_uuid);
			if (!(st = mlf_stmt(c, ins_ds, err)))
				return err->status;
			mlf_bind_text(st, 1, ds_uuid);
			sqlite3_bind_int64(st, 2, exp_id);
			mlf_bind_text(st, 3, d->name);
			mlf_bind_text(st, 4, d->digest);
			mlf_bind_text(st, 5, d->source_type);
			mlf_bind_text(st, 6, d->source);
			mlf_bind_text(st, 7, d->schema);
			mlf_bind_text(st, 8, d->profile);
			if ((s = mlf_step_done(c, st, err)) != MLF_OK)
				return s;
		}
		if (!(st = mlf_stmt(c, find_in, err)))
			return err->status;
		mlf_bind_text(st, 1, ds_uuid);
		mlf_bind_text(st, 2, j->run_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			/* Already linked: MLflow keeps the first link and its tags. */
			sqlite3_reset(st);
			continue;
		}
		sqlite3_reset(st);
		mlf_uuid_str(in_uuid);
		if (!(st = mlf_stmt(c, ins_in, err)))
			return err->status;
		mlf_bind_text(st, 1, in_uuid);
		mlf_bind_text(st, 2, ds_uuid);
		mlf_bind_text(st, 3, j->run_id);
		if ((s = mlf_step_done(c, st, err)) != MLF_OK)
			return s;
		for (int t = 0; t < j->inputs[i].ntags && s == MLF_OK; t++) {
			if (!(st = mlf_stmt(c, ins_tag, err)))
				return err->status;
			mlf_bind_text(st, 1, in_uuid);
			mlf_bind_text(st, 2, j->inputs[i].tags[t].key);
			mlf_bind_text(st, 3, j->inputs[i].tags[t].value);
			s = mlf_step_done(c, st, err);
		}
	}
	for (int i = 0; i < j->nmodels && s == MLF_OK; i++)
		s = link_model(c, j->run_id, &j->models[i], j->outputs, err);
	return s;
}

enum mlf_status mlf_run_log_inputs(struct mlf_db *db, const char *run_id, const struct mlf_dataset_input *inputs,
                                   int ninputs, const struct mlf_model_io *models, int nmodels, struct mlf_error *err)
{
	struct inputs_job j = {run_id, inputs, ninputs, models, nmodels, 0};
	return mlf_db_write(db, inputs_fn, &j, err);
}

enum mlf_status mlf_run_log_outputs(struct mlf_db *db, const char *run_id, const struct mlf_model_io *models,
                                    int nmodels, struct mlf_error *err)
{
	struct inputs_job j = {run_id, NULL, 0, models, nmodels, 1};
	return mlf_db_write(db, inputs_fn, &j, err);
}
