/*
 * traces.c: the trace store (see traces.h): trace_info with its tags,
 * request metadata and assessments, the span rows stock MLflow keeps in
 * the tracking store, search_traces, deletion and links to runs and
 * prompts. Writes are writer jobs; reads run on the caller's connection.
 */
#include "traces.h"
#include "../api/limits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

const char *const mlf_trace_token_keys[MLF_TRACE_NTOKENS] = {
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_input_tokens_above_1hr",
};
const char *const mlf_trace_cost_keys[MLF_TRACE_NCOSTS] = {"input_cost", "output_cost", "total_cost"};

/* The trace_info columns every read selects, in this order. */
#define TRACE_COLS                                                                                             \
	"t.request_id, t.experiment_id, t.timestamp_ms, t.execution_time_ms, t.status, t.client_request_id, "  \
	"t.request_preview, t.response_preview, t.trace_name, t.session_id, t.input_tokens, t.output_tokens, " \
	"t.total_tokens, t.cache_read_input_tokens, t.cache_creation_input_tokens, "                           \
	"t.cache_creation_input_tokens_above_1hr, t.input_cost, t.output_cost, t.total_cost"
#define TRACE_NCOLS 19

#define ASSESSMENT_COLS                                                                                                \
	"assessment_id, trace_id, name, assessment_type, value, error, created_timestamp, last_updated_timestamp, "    \
	"source_type, source_id, run_id, span_id, rationale, overrides, valid, assessment_metadata, aggregate_value, " \
	"is_numeric_value"

/* ================================================================
 * row decoding
 * ================================================================ */

static void read_trace_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_trace_info *o)
{
	memset(o, 0, sizeof *o);
	o->trace_id = mlf_col_text(a, st, 0);
	o->experiment_id = sqlite3_column_int64(st, 1);
	o->request_time_ms = sqlite3_column_int64(st, 2);
	o->has_execution = sqlite3_column_type(st, 3) != SQLITE_NULL;
	o->execution_ms = sqlite3_column_int64(st, 3);
	o->state = mlf_col_text(a, st, 4);
	o->client_request_id = mlf_col_text(a, st, 5);
	o->request_preview = mlf_col_text(a, st, 6);
	o->response_preview = mlf_col_text(a, st, 7);
	o->trace_name = mlf_col_text(a, st, 8);
	o->session_id = mlf_col_text(a, st, 9);
	for (int i = 0; i < MLF_TRACE_NTOKENS; i++) {
		o->has_token[i] = sqlite3_column_type(st, 10 + i) != SQLITE_NULL;
		o->tokens[i] = sqlite3_column_int64(st, 10 + i);
	}
	for (int i = 0; i < MLF_TRACE_NCOSTS; i++) {
		o->has_cost[i] = sqlite3_column_type(st, 16 + i) != SQLITE_NULL;
		o->costs[i] = sqlite3_column_double(st, 16 + i);
	}
}

static void read_assessment_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_assessment *o)
{
	memset(o, 0, sizeof *o);
	o->assessment_id = mlf_col_text(a, st, 0);
	o->trace_id = mlf_col_text(a, st, 1);
	o->name = mlf_col_text(a, st, 2);
	o->type = mlf_col_text(a, st, 3);
	o->value = mlf_col_text(a, st, 4);
	o->error = mlf_col_text(a, st, 5);
	o->created_ms = sqlite3_column_int64(st, 6);
	o->updated_ms = sqlite3_column_int64(st, 7);
	o->source_type = mlf_col_text(a, st, 8);
	o->source_id = mlf_col_text(a, st, 9);
	o->run_id = mlf_col_text(a, st, 10);
	o->span_id = mlf_col_text(a, st, 11);
	o->rationale = mlf_col_text(a, st, 12);
	o->overrides = mlf_col_text(a, st, 13);
	o->valid = sqlite3_column_int(st, 14);
	o->metadata = mlf_col_text(a, st, 15);
	o->has_aggregate = sqlite3_column_type(st, 16) != SQLITE_NULL;
	o->aggregate = sqlite3_column_double(st, 16);
	o->is_numeric = sqlite3_column_int(st, 17);
}

/* key/value rows of one trace from sql (?1 = trace id) into an arena array. */
static enum mlf_status read_kvs(struct mlf_conn *c, struct mlf_arena *a, const char *sql, const char *trace_id,
                                struct mlf_kv **out, int *n, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, trace_id);
	int cap = 0, k = 0, rc;
	struct mlf_kv *v = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			int ncap = cap ? cap * 2 : 8;
			v = mlf_arena_grow(a, v, (size_t)cap, (size_t)ncap, sizeof *v);
			cap = ncap;
		}
		v[k].key = mlf_col_text(a, st, 0);
		const char *val = mlf_col_text(a, st, 1);
		v[k].value = val ? val : "";
		k++;
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	*out = v;
	*n = k;
	return MLF_OK;
}

static enum mlf_status read_assessments(struct mlf_conn *c, struct mlf_arena *a, struct mlf_trace_info *t,
                                        struct mlf_error *err)
{
	static const char sql[] = "SELECT " ASSESSMENT_COLS " FROM assessments WHERE trace_id = ?1 "
	                          "ORDER BY created_timestamp, assessment_id";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, t->trace_id);
	int cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (t->nassessments == cap) {
			int ncap = cap ? cap * 2 : 4;
			t->assessments =
			    mlf_arena_grow(a, t->assessments, (size_t)cap, (size_t)ncap, sizeof *t->assessments);
			cap = ncap;
		}
		read_assessment_row(a, st, &t->assessments[t->nassessments++]);
	}
	return mlf_rows_done(c, st, rc, err) ? MLF_OK : err->status;
}

/* Tags, metadata and assessments of a trace whose row is already in t. */
static enum mlf_status fill_children(struct mlf_conn *c, struct mlf_arena *a, struct mlf_trace_info *t,
                                     struct mlf_error *err)
{
	static const char tags_sql[] =
	    "SELECT key, value FROM trace_tags WHERE request_id = ?1 AND key != '" MLF_TRACE_TAG_NAME "' ORDER BY key";
	static const char meta_sql[] =
	    "SELECT key, value FROM trace_request_metadata WHERE request_id = ?1 AND key NOT IN "
	    "('" MLF_TRACE_META_SESSION "', '" MLF_TRACE_META_TOKEN_USAGE "', '" MLF_TRACE_META_COST "') ORDER BY key";
	enum mlf_status s = read_kvs(c, a, tags_sql, t->trace_id, &t->tags, &t->ntags, err);
	if (s == MLF_OK)
		s = read_kvs(c, a, meta_sql, t->trace_id, &t->metadata, &t->nmetadata, err);
	if (s == MLF_OK)
		s = read_assessments(c, a, t, err);
	return s;
}

enum mlf_status mlf_trace_get(struct mlf_conn *c, struct mlf_arena *a, const char *trace_id, struct mlf_trace_info *out,
                              struct mlf_error *err)
{
	static const char sql[] = "SELECT " TRACE_COLS " FROM trace_info t WHERE t.request_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, trace_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Trace with ID %.200s is not found.",
			                trace_id);
		return mlf_db_error(c, rc, err);
	}
	read_trace_row(a, st, out);
	sqlite3_reset(st);
	return fill_children(c, a, out, err);
}

enum mlf_status mlf_trace_spans(struct mlf_conn *c, struct mlf_arena *a, const char *trace_id, const char ***content,
                                int *n, struct mlf_error *err)
{
	static const char sql[] = "SELECT content FROM spans WHERE trace_id = ?1 "
	                          "ORDER BY parent_span_id IS NOT NULL, start_time_unix_nano, span_id";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, trace_id);
	int cap = 0, k = 0, rc;
	const char **v = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			int ncap = cap ? cap * 2 : 16;
			v = mlf_arena_grow(a, v, (size_t)cap, (size_t)ncap, sizeof *v);
			cap = ncap;
		}
		v[k++] = mlf_col_text(a, st, 0);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	*content = v;
	*n = k;
	return MLF_OK;
}

/* ================================================================
 * StartTraceV3
 * ================================================================ */

struct start_job {
	const struct mlf_trace_info *in;
	struct mlf_arena *a;
};

static int promoted_metadata(const char *key)
{
	return !strcmp(key, MLF_TRACE_META_SESSION) || !strcmp(key, MLF_TRACE_META_TOKEN_USAGE) ||
	       !strcmp(key, MLF_TRACE_META_COST);
}

/* Experiment's artifact location, checking that it exists and is active
 * (MLflow's messages). */
static enum mlf_status active_experiment(struct mlf_conn *c, struct mlf_arena *a, int64_t exp, const char **location,
                                         struct mlf_error *err)
{
	static const char sql[] = "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, exp);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists",
			                (long long)exp);
		return mlf_db_error(c, rc, err);
	}
	*location = mlf_col_text(a, st, 0);
	char *stage = mlf_col_text(a, st, 1);
	sqlite3_reset(st);
	if (!stage || strcmp(stage, "active"))
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "The experiment %lld must be in the 'active' state. Current state is %s.",
		                (long long)exp, stage ? stage : "None");
	if (!*location)
		*location = "";
	return MLF_OK;
}

/* MLflow's append_to_uri_path(location, "traces", id, "artifacts"). */
static const char *trace_location(struct mlf_arena *a, const char *loc, const char *id)
{
	const char *q = strchr(loc, '?');
	size_t plen = q ? (size_t)(q - loc) : strlen(loc);
	int slash = plen > 0 && loc[plen - 1] == '/';
	return mlf_arena_printf(a, "%.*s%straces/%s/artifacts%s", (int)plen, loc, slash ? "" : "/", id, q ? q : "");
}

static enum mlf_status put_kv(struct mlf_conn *c, const char *sql, const char *id, const char *key, const char *value,
                              struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, id);
	mlf_bind_text(st, 2, key);
	mlf_bind_text(st, 3, value);
	return mlf_step_done(c, st, err);
}

static const char SQL_TAG_UPSERT[] = "INSERT INTO trace_tags (request_id, key, value) VALUES (?1, ?2, ?3) "
                                     "ON CONFLICT (key, request_id) DO UPDATE SET value = excluded.value";
static const char SQL_META_UPSERT[] = "INSERT INTO trace_request_metadata (request_id, key, value) VALUES (?1, ?2, ?3) "
                                      "ON CONFLICT (key, request_id) DO UPDATE SET value = excluded.value";

static enum mlf_status insert_assessment(struct mlf_conn *c, const struct mlf_assessment *x, int64_t exp,
                                         int64_t trace_ts, struct mlf_error *err);
static enum mlf_status trace_exists(struct mlf_conn *c, const char *trace_id, int64_t *exp, int64_t *ts,
                                    struct mlf_error *err);

static enum mlf_status start_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct start_job *j = arg;
	const struct mlf_trace_info *in = j->in;
	const char *location = "";
	enum mlf_status s = active_experiment(c, j->a, in->experiment_id, &location, err);
	if (s != MLF_OK)
		return s;
	/* Insert, or merge into a row that exists (spans logged first). */
	static const char ins[] =
	    "INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status, "
	    "client_request_id, request_preview, response_preview, trace_name, session_id, input_tokens, "
	    "output_tokens, "
	    "total_tokens, cache_read_input_tokens, cache_creation_input_tokens, "
	    "cache_creation_input_tokens_above_1hr, "
	    "input_cost, output_cost, total_cost) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
	    "ON CONFLICT (request_id) DO UPDATE SET experiment_id = excluded.experiment_id, "
	    "timestamp_ms = excluded.timestamp_ms, execution_time_ms = excluded.execution_time_ms, "
	    "status = excluded.status, client_request_id = excluded.client_request_id, "
	    "trace_name = COALESCE(excluded.trace_name, trace_name), "
	    "session_id = COALESCE(excluded.session_id, session_id), "
	    "input_tokens = COALESCE(excluded.input_tokens, input_tokens), "
	    "output_tokens = COALESCE(excluded.output_tokens, output_tokens), "
	    "total_tokens = COALESCE(excluded.total_tokens, total_tokens), "
	    "cache_read_input_tokens = COALESCE(excluded.cache_read_input_tokens, cache_read_input_tokens), "
	    "cache_creation_input_tokens = COALESCE(excluded.cache_creation_input_tokens, "
	    "cache_creation_input_tokens), "
	    "cache_creation_input_tokens_above_1hr = COALESCE(excluded.cache_creation_input_tokens_above_1hr, "
	    "cache_creation_input_tokens_above_1hr), "
	    "input_cost = COALESCE(excluded.input_cost, input_cost), "
	    "output_cost = COALESCE(excluded.output_cost, output_cost), "
	    "total_cost = COALESCE(excluded.total_cost, total_cost), "
	    "request_preview = COALESCE(excluded.request_preview, request_preview), "
	    "response_preview = COALESCE(excluded.response_preview, response_preview)";
	sqlite3_stmt *st = mlf_stmt(c, ins, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, in->trace_id);
	sqlite3_bind_int64(st, 2, in->experiment_id);
	sqlite3_bind_int64(st, 3, in->request_time_ms);
	if (in->has_execution)
		sqlite3_bind_int64(st, 4, in->execution_ms);
	mlf_bind_text(st, 5, in->state);
	mlf_bind_text(st, 6, in->client_request_id);
	mlf_bind_text(st, 7, in->request_preview);
	mlf_bind_text(st, 8, in->response_preview);
	mlf_bind_text(st, 9, in->trace_name);
	mlf_bind_text(st, 10, in->session_id);
	for (int i = 0; i < MLF_TRACE_NTOKENS; i++)
		if (in->has_token[i])
			sqlite3_bind_int64(st, 11 + i, in->tokens[i]);
	for (int i = 0; i < MLF_TRACE_NCOSTS; i++)
		if (in->has_cost[i])
			sqlite3_bind_double(st, 17 + i, in->costs[i]);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;

	for (int i = 0; i < in->ntags && s == MLF_OK; i++)
		if (strcmp(in->tags[i].key, MLF_TRACE_TAG_NAME))
			s = put_kv(c, SQL_TAG_UPSERT, in->trace_id, in->tags[i].key, in->tags[i].value, err);
	if (s == MLF_OK)
		s = put_kv(c, SQL_TAG_UPSERT, in->trace_id, MLF_TRACE_TAG_ARTIFACT_LOCATION,
		           trace_location(j->a, location, in->trace_id), err);
	for (int i = 0; i < in->nmetadata && s == MLF_OK; i++)
		if (!promoted_metadata(in->metadata[i].key))
			s = put_kv(c, SQL_META_UPSERT, in->trace_id, in->metadata[i].key, in->metadata[i].value, err);
	if (s == MLF_OK)
		s = put_kv(c, SQL_META_UPSERT, in->trace_id, MLF_TRACE_META_FINALIZED, "true", err);
	for (int i = 0; i < in->nassessments && s == MLF_OK; i++)
		s = insert_assessment(c, &in->assessments[i], in->experiment_id, in->request_time_ms, err);
	return s;
}

enum mlf_status mlf_trace_start(struct mlf_db *db, struct mlf_arena *a, const struct mlf_trace_info *in,
                                struct mlf_trace_info *out, struct mlf_error *err)
{
	struct start_job j = {in, a};
	enum mlf_status s = mlf_db_write(db, start_fn, &j, err);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = mlf_db_read(db, err);
	if (!c)
		return err->status;
	return mlf_trace_get(c, a, in->trace_id, out, err);
}

/* ================================================================
 * log_spans
 * ================================================================ */

struct spans_job {
	int64_t exp;
	const struct mlf_span_row *spans;
	int nspans;
	const struct mlf_span_trace *traces;
	int ntraces;
	struct mlf_arena *a;
	unsigned char *created; /* per trace: created by this batch */
};

static enum mlf_status span_trace_fn(struct mlf_conn *c, const struct spans_job *j, const struct mlf_span_trace *t,
                                     unsigned char *created, struct mlf_error *err)
{
	int64_t exp = 0;
	*created = 0;
	struct mlf_error probe;
	enum mlf_status s = trace_exists(c, t->trace_id, &exp, NULL, &probe);
	sqlite3_stmt *st;
	if (s == MLF_RESOURCE_DOES_NOT_EXIST) {
		const char *location = "";
		if ((s = active_experiment(c, j->a, j->exp, &location, err)) != MLF_OK)
			return s;
		static const char ins[] = "INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, "
		                          "execution_time_ms, status, request_preview, response_preview, session_id) "
		                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
		if (!(st = mlf_stmt(c, ins, err)))
			return err->status;
		mlf_bind_text(st, 1, t->trace_id);
		sqlite3_bind_int64(st, 2, j->exp);
		sqlite3_bind_int64(st, 3, t->min_start_ms);
		if (t->has_end)
			sqlite3_bind_int64(st, 4, t->max_end_ms - t->min_start_ms);
		mlf_bind_text(st, 5, t->root_status ? t->root_status : "IN_PROGRESS");
		mlf_bind_text(st, 6, t->request_preview);
		mlf_bind_text(st, 7, t->response_preview);
		mlf_bind_text(st, 8, t->session_id);
		if ((s = mlf_step_done(c, st, err)) != MLF_OK)
			return s;
		*created = 1;
		s = put_kv(c, SQL_TAG_UPSERT, t->trace_id, MLF_TRACE_TAG_ARTIFACT_LOCATION,
		           trace_location(j->a, location, t->trace_id), err);
	} else if (s == MLF_OK) {
		/* times grow to cover the spans until the client finalized the
		 * trace info; an unfinished trace takes its root span's status */
		static const char upd[] =
		    "UPDATE trace_info SET "
		    "timestamp_ms = CASE WHEN fin THEN timestamp_ms ELSE MIN(timestamp_ms, ?2) END, "
		    "execution_time_ms = CASE WHEN fin OR ?3 IS NULL THEN execution_time_ms "
		    "ELSE MAX(timestamp_ms + COALESCE(execution_time_ms, 0), ?3) - MIN(timestamp_ms, ?2) END, "
		    "status = CASE WHEN ?4 IS NOT NULL AND status IN ('IN_PROGRESS', 'STATE_UNSPECIFIED') THEN ?4 "
		    "ELSE status END, "
		    "request_preview = COALESCE(request_preview, ?5), response_preview = COALESCE(response_preview, "
		    "?6), session_id = COALESCE(session_id, ?7) "
		    "FROM (SELECT EXISTS (SELECT 1 FROM trace_request_metadata WHERE request_id = ?1 AND key = "
		    "'" MLF_TRACE_META_FINALIZED "') AS fin) WHERE request_id = ?1";
		if (!(st = mlf_stmt(c, upd, err)))
			return err->status;
		mlf_bind_text(st, 1, t->trace_id);
		sqlite3_bind_int64(st, 2, t->min_start_ms);
		if (t->has_end)
			sqlite3_bind_int64(st, 3, t->max_end_ms);
		mlf_bind_text(st, 4, t->root_status);
		mlf_bind_text(st, 5, t->request_preview);
		mlf_bind_text(st, 6, t->response_preview);
		mlf_bind_text(st, 7, t->session_id);
		s = mlf_step_done(c, st, err);
	} else {
		*err = probe;
		return s;
	}
	for (int i = 0; i < t->ntags && s == MLF_OK; i++) {
		if (!strcmp(t->tags[i].key, MLF_TRACE_TAG_NAME)) {
			static const char name_sql[] = "UPDATE trace_info SET trace_name = ?2 WHERE request_id = ?1";
			if (!(st = mlf_stmt(c, name_sql, err)))
				return err->status;
			mlf_bind_text(st, 1, t->trace_id);
			mlf_bind_text(st, 2, t->tags[i].value);
			s = mlf_step_done(c, st, err);
		} else {
			s = put_kv(c, SQL_TAG_UPSERT, t->trace_id, t->tags[i].key, t->tags[i].value, err);
		}
	}
	if (s == MLF_OK && t->user_id && *t->user_id) {
		static const char user_sql[] = "INSERT INTO trace_request_metadata (request_id, key, value) "
		                               "VALUES (?1, '" MLF_TRACE_META_USER "', ?2) ON CONFLICT DO NOTHING";
		if (!(st = mlf_stmt(c, user_sql, err)))
			return err->status;
		mlf_bind_text(st, 1, t->trace_id);
		mlf_bind_text(st, 2, t->user_id);
		s = mlf_step_done(c, st, err);
	}
	return s;
}

/* ---- token usage and cost of a trace, summed over its span tree ---- */

/* The summed keys: MLflow's token-usage keys, then its cost keys. */
#define USAGE_NKEYS (MLF_TRACE_NTOKENS + MLF_TRACE_NCOSTS)
/* Token-usage keys every total has (the cache keys only when a span has them). */
#define USAGE_REQUIRED 3

/* A sum as Python keeps it: an integer until a float joins it. */
struct pysum {
	int is_float, overflow; /* overflow: no number (out of range, or not a number) */
	int64_t i;
	double d;
};

/* One span as the sums see it: its place in the tree, whether its usage
 * (0) and cost (1) attributes are JSON objects, and their entries (SQLite
 * type of each value, 0 when the key is absent). */
struct usage_node {
	const char *id, *parent;
	int has[2];
	int type[USAGE_NKEYS];
	int64_t i[USAGE_NKEYS];
	double d[USAGE_NKEYS];
};

struct usage_total {
	int has_data;
	struct pysum sum[USAGE_NKEYS];
	int present[USAGE_NKEYS];
};

/* A value's part of a sum: numbers (JSON booleans read as 1 and 0, as
 * Python adds them); text or null makes the total unknown (MLflow fails
 * the whole request on them; mlflowd keeps the spans and leaves that
 * total unset). */
static void pysum_add(struct pysum *x, const struct usage_node *n, int k)
{
	if (n->type[k] == SQLITE_INTEGER) {
		if (x->is_float)
			x->d += (double)n->i[k];
		else if (__builtin_add_overflow(x->i, n->i[k], &x->i))
			x->overflow = 1;
	} else if (n->type[k] == SQLITE_FLOAT) {
		if (!x->is_float)
			x->d = (double)x->i, x->is_float = 1;
		x->d += n->d[k];
	} else {
		x->overflow = 1;
	}
}

static int node_cmp(const void *a, const void *b)
{
	const struct usage_node *const *x = a, *const *y = b;
	return strcmp((*x)->id, (*y)->id);
}

/* MLflow's _aggregate_from_nodes over nodes[0..n) for usage (which 0) or
 * cost (1): a span's map counts unless an ancestor's does (a parent with a
 * parent outside the nodes is a root); spans are visited in MLflow's order
 * (a stack of the roots, children pushed in list order) so float sums
 * round as MLflow's do. */
static void usage_aggregate(struct mlf_arena *a, const struct usage_node *nodes, int n, int which,
                            struct usage_total *out)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return;
	const struct usage_node **byid = mlf_arena_alloc(a, sizeof *byid * (size_t)n);
	int *head = mlf_arena_alloc(a, sizeof(int) * (size_t)n), *tail = mlf_arena_alloc(a, sizeof(int) * (size_t)n);
	int *next = mlf_arena_alloc(a, sizeof(int) * (size_t)n), *stack = mlf_arena_alloc(a, sizeof(int) * (size_t)n);
	unsigned char *above = mlf_arena_alloc(a, (size_t)n);
	for (int i = 0; i < n; i++) {
		byid[i] = &nodes[i];
		head[i] = tail[i] = next[i] = -1;
	}
	qsort(byid, (size_t)n, sizeof *byid, node_cmp);
	int sp = 0;
	for (int i = 0; i < n; i++) {
		const struct usage_node key = {.id = nodes[i].parent}, *kp = &key, **found = NULL;
		if (nodes[i].parent)
			found = bsearch(&kp, byid, (size_t)n, sizeof *byid, node_cmp);
		if (!found) {
			stack[sp] = i, above[sp++] = 0;
			continue;
		}
		int p = (int)(*found - nodes);
		if (tail[p] < 0)
			head[p] = i;
		else
			next[tail[p]] = i;
		tail[p] = i;
	}
	int from = which ? MLF_TRACE_NTOKENS : 0, to = which ? USAGE_NKEYS : MLF_TRACE_NTOKENS;
	for (int k = from; k < to; k++)
		out->sum[k].is_float = which; /* costs start at 0.0, token counts at 0 */
	int required = which ? USAGE_NKEYS : USAGE_REQUIRED;
	/* every node is pushed once (a tree from the roots), so n slots do */
	while (sp > 0) {
		sp--;
		int i = stack[sp], anc = above[sp];
		const struct usage_node *x = &nodes[i];
		if (x->has[which] && !anc) {
			for (int k = from; k < to; k++) {
				if (!x->type[k])
					continue; /* absent: adds the default 0 */
				out->present[k] = 1;
				pysum_add(&out->sum[k], x, k);
			}
			out->has_data = 1;
		}
		for (int ch = head[i]; ch >= 0; ch = next[ch])
			stack[sp] = ch, above[sp++] = (unsigned char)(anc || x->has[which]);
	}
	for (int k = from; k < required; k++)
		out->present[k] = 1;
}

/* MLflow's token_count_or_none of a sum. */
static int token_count(const struct pysum *x, int64_t *out)
{
	if (x->overflow)
		return 0;
	if (!x->is_float) {
		*out = x->i;
		return 1;
	}
	double d = x->d;
	if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
		return 0;
	*out = (int64_t)d;
	return 1;
}

/* A span of the batch: its id and its place in the batch. */
struct batch_span {
	const char *id;
	int pos;
};

static int batch_cmp(const void *a, const void *b)
{
	const struct batch_span *x = a, *y = b;
	return strcmp(x->id, y->id);
}

/* Per span: the JSON type and value of each key of its usage map u and its
 * cost map c (in the order of struct usage_node's keys). */
#define USAGE_COLS                                         \
	USAGE_KEY("input_tokens")                          \
	USAGE_KEY("output_tokens")                         \
	USAGE_KEY("total_tokens")                          \
	USAGE_KEY("cache_read_input_tokens")               \
	USAGE_KEY("cache_creation_input_tokens")           \
	USAGE_KEY("cache_creation_input_tokens_above_1hr") \
	COST_KEY("input_cost") COST_KEY("output_cost") COST_KEY("total_cost")
/* u and c: the span's usage and cost attributes when they are the JSON text
 * of an object (NULL otherwise; content that is not JSON has neither). */
#define USAGE_OBJECTS ATTR_OBJECT(MLF_SPAN_ATTR_USAGE, "u") ", " ATTR_OBJECT(MLF_SPAN_ATTR_COST, "c")
#define USAGE_KEY(k) ", json_type(u, '$." k "'), json_extract(u, '$." k "')"
#define COST_KEY(k) ", json_type(c, '$." k "'), json_extract(c, '$." k "')"
#define ATTR_OBJECT(attr, name)                                                                             \
	"CASE WHEN json_valid(content) THEN (SELECT CASE WHEN json_valid(v) THEN CASE WHEN json_type(v) = " \
	"'object' THEN v END END FROM (SELECT json_extract(content, '$.attributes.\"" attr "\"') AS v)) END AS " name

/* Sum the token usage and cost of trace t (index ti of the batch) into its
 * columns, as MLflow's log_spans does: from this batch's spans when the
 * batch created the trace, else over every stored span of it (the batch's
 * first, in batch order, then the others by id); not when the client's
 * StartTraceV3 finalized the trace with values of its own, nor when the
 * batch's own spans carry none. */
static enum mlf_status trace_usage_fn(struct mlf_conn *c, const struct spans_job *j, int ti, const int *mine, int nmine,
                                      struct mlf_error *err)
{
	const struct mlf_span_trace *t = &j->traces[ti];
	static const char flags_sql[] =
	    "SELECT EXISTS (SELECT 1 FROM trace_request_metadata WHERE request_id = ?1 AND key = "
	    "'" MLF_TRACE_META_FINALIZED "'), "
	    "COALESCE(input_tokens, output_tokens, total_tokens, cache_read_input_tokens, "
	    "cache_creation_input_tokens, cache_creation_input_tokens_above_1hr) IS NOT NULL, "
	    "COALESCE(input_cost, output_cost, total_cost) IS NOT NULL FROM trace_info WHERE request_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, flags_sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, t->trace_id);
	int rc = sqlite3_step(st), keep[2] = {1, 1};
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 0))
		keep[0] = !sqlite3_column_int(st, 1), keep[1] = !sqlite3_column_int(st, 2);
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	if (!keep[0] && !keep[1])
		return MLF_OK;

	static const char nodes_sql[] = "SELECT span_id, parent_span_id, u IS NOT NULL, c IS NOT NULL" USAGE_COLS
	                                " FROM (SELECT span_id, parent_span_id, " USAGE_OBJECTS
	                                " FROM spans WHERE trace_id = ?1 AND content != '') "
	                                "ORDER BY span_id";
	if (!(st = mlf_stmt(c, nodes_sql, err)))
		return err->status;
	mlf_bind_text(st, 1, t->trace_id);
	/* the batch's spans of this trace, by id, to put their nodes first */
	struct batch_span *batch = mlf_arena_alloc(j->a, sizeof *batch * (size_t)(nmine + 1));
	int nb = 0;
	for (int i = 0; i < nmine; i++)
		batch[nb].id = j->spans[mine[i]].span_id, batch[nb].pos = nb, nb++;
	qsort(batch, (size_t)nb, sizeof *batch, batch_cmp);
	int cap = nb + 16, n = 0, nin = 0;
	struct usage_node *all = mlf_arena_alloc(j->a, sizeof *all * (size_t)cap);
	int *order = mlf_arena_alloc(j->a, sizeof(int) * (size_t)cap); /* batch position, or -1 */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			int ncap = cap * 2;
			all = mlf_arena_grow(j->a, all, (size_t)cap, (size_t)ncap, sizeof *all);
			order = mlf_arena_grow(j->a, order, (size_t)cap, (size_t)ncap, sizeof *order);
			cap = ncap;
		}
		struct usage_node *x = &all[n];
		memset(x, 0, sizeof *x);
		x->id = mlf_col_text(j->a, st, 0);
		x->parent = mlf_col_text(j->a, st, 1);
		x->has[0] = sqlite3_column_int(st, 2);
		x->has[1] = sqlite3_column_int(st, 3);
		for (int k = 0; k < USAGE_NKEYS; k++) {
			if (sqlite3_column_type(st, 4 + 2 * k) == SQLITE_NULL)
				continue; /* key absent */
			int type = sqlite3_column_type(st, 5 + 2 * k);
			x->type[k] = type == SQLITE_NULL ? SQLITE_TEXT : type; /* null: present, not a number */
			x->i[k] = sqlite3_column_int64(st, 5 + 2 * k);
			x->d[k] = sqlite3_column_double(st, 5 + 2 * k);
		}
		struct batch_span key = {x->id, 0};
		const struct batch_span *in = bsearch(&key, batch, (size_t)nb, sizeof *batch, batch_cmp);
		order[n] = in ? in->pos : -1;
		nin += in != NULL;
		n++;
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	/* the batch's nodes first, in batch order; the others after, by id */
	struct usage_node *nodes = mlf_arena_alloc(j->a, sizeof *nodes * (size_t)(n + 1));
	int *slot = mlf_arena_alloc(j->a, sizeof(int) * (size_t)(nb + 1));
	for (int b = 0; b < nb; b++)
		slot[b] = -1;
	for (int i = 0; i < n; i++)
		if (order[i] >= 0)
			slot[order[i]] = i;
	int m = 0;
	for (int b = 0; b < nb; b++)
		if (slot[b] >= 0)
			nodes[m++] = all[slot[b]];
	for (int i = 0; i < n; i++)
		if (order[i] < 0)
			nodes[m++] = all[i];

	int wrote = 0;
	int64_t tokens[MLF_TRACE_NTOKENS];
	double costs[MLF_TRACE_NCOSTS];
	int has_tok[MLF_TRACE_NTOKENS] = {0}, has_cost[MLF_TRACE_NCOSTS] = {0};
	for (int which = 0; which < 2; which++) {
		struct usage_total tot;
		usage_aggregate(j->a, nodes, nin, which, &tot);
		if (!keep[which] || !tot.has_data)
			continue;
		if (!j->created[ti])
			usage_aggregate(j->a, nodes, n, which, &tot);
		if (!tot.has_data)
			continue;
		for (int k = 0; which == 0 && k < MLF_TRACE_NTOKENS; k++)
			wrote |= has_tok[k] = tot.present[k] && token_count(&tot.sum[k], &tokens[k]);
		for (int k = 0; which == 1 && k < MLF_TRACE_NCOSTS; k++) {
			const struct pysum *x = &tot.sum[MLF_TRACE_NTOKENS + k];
			costs[k] = x->is_float ? x->d : (double)x->i;
			wrote |= has_cost[k] = !x->overflow && isfinite(costs[k]);
		}
	}
	if (!wrote)
		return MLF_OK;
	static const char upd[] =
	    "UPDATE trace_info SET input_tokens = COALESCE(?2, input_tokens), output_tokens = COALESCE(?3, "
	    "output_tokens), total_tokens = COALESCE(?4, total_tokens), cache_read_input_tokens = COALESCE(?5, "
	    "cache_read_input_tokens), cache_creation_input_tokens = COALESCE(?6, cache_creation_input_tokens), "
	    "cache_creation_input_tokens_above_1hr = COALESCE(?7, cache_creation_input_tokens_above_1hr), "
	    "input_cost = COALESCE(?8, input_cost), output_cost = COALESCE(?9, output_cost), "
	    "total_cost = COALESCE(?10, total_cost) WHERE request_id = ?1";
	if (!(st = mlf_stmt(c, upd, err)))
		return err->status;
	mlf_bind_text(st, 1, t->trace_id);
	for (int k = 0; k < MLF_TRACE_NTOKENS; k++)
		if (has_tok[k])
			sqlite3_bind_int64(st, 2 + k, tokens[k]);
	for (int k = 0; k < MLF_TRACE_NCOSTS; k++)
		if (has_cost[k])
			sqlite3_bind_double(st, 2 + MLF_TRACE_NTOKENS + k, costs[k]);
	return mlf_step_done(c, st, err);
}

/* trace_usage_fn for each trace of the batch with usage or cost in its
 * spans, given its spans (a counting sort of the batch by trace, which
 * keeps batch order). */
static enum mlf_status usage_totals(struct mlf_conn *c, const struct spans_job *j, struct mlf_error *err)
{
	int any = 0;
	for (int i = 0; i < j->ntraces; i++)
		any |= j->traces[i].has_usage;
	if (!any)
		return MLF_OK;
	int *start = mlf_arena_alloc(j->a, sizeof(int) * (size_t)(j->ntraces + 1));
	int *fill = mlf_arena_alloc(j->a, sizeof(int) * (size_t)(j->ntraces + 1));
	int *idx = mlf_arena_alloc(j->a, sizeof(int) * (size_t)(j->nspans + 1));
	memset(start, 0, sizeof(int) * (size_t)(j->ntraces + 1));
	for (int k = 0; k < j->nspans; k++)
		if (j->spans[k].trace >= 0 && j->spans[k].trace < j->ntraces)
			start[j->spans[k].trace + 1]++;
	for (int i = 0; i < j->ntraces; i++)
		start[i + 1] += start[i], fill[i] = start[i];
	for (int k = 0; k < j->nspans; k++)
		if (j->spans[k].trace >= 0 && j->spans[k].trace < j->ntraces)
			idx[fill[j->spans[k].trace]++] = k;
	enum mlf_status s = MLF_OK;
	for (int i = 0; i < j->ntraces && s == MLF_OK; i++)
		if (j->traces[i].has_usage)
			s = trace_usage_fn(c, j, i, idx + start[i], start[i + 1] - start[i], err);
	return s;
}

static enum mlf_status spans_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct spans_job *j = arg;
	enum mlf_status s = MLF_OK;
	for (int i = 0; i < j->ntraces && s == MLF_OK; i++)
		s = span_trace_fn(c, j, &j->traces[i], &j->created[i], err);
	static const char ins[] =
	    "INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status, "
	    "start_time_unix_nano, end_time_unix_nano, content, input_cost, output_cost, total_cost, model_name, "
	    "model_provider) "
	    "SELECT ?1, experiment_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14 FROM trace_info "
	    "WHERE request_id = ?1 "
	    "ON CONFLICT (trace_id, span_id) DO UPDATE SET parent_span_id = excluded.parent_span_id, "
	    "name = excluded.name, type = excluded.type, status = excluded.status, "
	    "start_time_unix_nano = excluded.start_time_unix_nano, end_time_unix_nano = excluded.end_time_unix_nano, "
	    "content = excluded.content, input_cost = excluded.input_cost, output_cost = excluded.output_cost, "
	    "total_cost = excluded.total_cost, model_name = excluded.model_name, "
	    "model_provider = excluded.model_provider";
	for (int i = 0; i < j->nspans && s == MLF_OK; i++) {
		const struct mlf_span_row *r = &j->spans[i];
		sqlite3_stmt *st = mlf_stmt(c, ins, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, r->trace_id);
		mlf_bind_text(st, 2, r->span_id);
		mlf_bind_text(st, 3, r->parent_span_id);
		mlf_bind_text(st, 4, r->name);
		mlf_bind_text(st, 5, r->type);
		mlf_bind_text(st, 6, r->status);
		sqlite3_bind_int64(st, 7, r->start_ns);
		if (r->has_end)
			sqlite3_bind_int64(st, 8, r->end_ns);
		mlf_bind_text(st, 9, r->content);
		for (int k = 0; k < MLF_TRACE_NCOSTS; k++)
			if (r->has_cost[k])
				sqlite3_bind_double(st, 10 + k, r->costs[k]);
		mlf_bind_text(st, 13, r->model_name);
		mlf_bind_text(st, 14, r->model_provider);
		s = mlf_step_done(c, st, err);
	}
	if (s == MLF_OK)
		s = usage_totals(c, j, err);
	static const char gen[] =
	    "UPDATE trace_info SET db_payload_generation = db_payload_generation + 1 WHERE request_id = ?1";
	for (int i = 0; i < j->ntraces && s == MLF_OK; i++) {
		sqlite3_stmt *st = mlf_stmt(c, gen, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, j->traces[i].trace_id);
		if ((s = mlf_step_done(c, st, err)) == MLF_OK)
			s = put_kv(c, SQL_TAG_UPSERT, j->traces[i].trace_id, MLF_TRACE_TAG_SPANS_LOCATION,
			           MLF_TRACE_SPANS_IN_STORE, err);
	}
	return s;
}

enum mlf_status mlf_spans_log(struct mlf_db *db, int64_t experiment_id, const struct mlf_span_row *spans, int nspans,
                              const struct mlf_span_trace *traces, int ntraces, struct mlf_error *err)
{
	struct mlf_arena a = {0};
	struct spans_job j = {experiment_id, spans, nspans, traces, ntraces, &a, NULL};
	j.created = mlf_arena_alloc(&a, (size_t)ntraces + 1);
	enum mlf_status s = mlf_db_write(db, spans_fn, &j, err);
	mlf_arena_release(&a);
	return s;
}

/* ================================================================
 * search
 * ================================================================ */

static enum mlf_status trace_search_txn(struct mlf_conn *c, struct mlf_arena *a, const struct mlf_trace_search *q,
                                        const struct mlf_search_sql *sql, struct mlf_trace_info **out, int *n,
                                        int64_t *next_offset, struct mlf_error *err)
{
	enum mlf_status s;
	struct mlf_buf b = {0};
	mlf_buf_printf(&b, "SELECT " TRACE_COLS " FROM trace_info t %s WHERE t.experiment_id IN (", sql->joins);
	for (int i = 0; i < q->nexp; i++)
		mlf_buf_printf(&b, "%s%lld", i ? ", " : "", (long long)q->experiment_ids[i]);
	mlf_buf_puts(&b, ")");
	if (*sql->where)
		mlf_buf_printf(&b, " AND (%s)", sql->where);
	mlf_buf_printf(&b, " ORDER BY %s LIMIT %lld OFFSET %lld", sql->order, (long long)q->max_results + 1,
	               (long long)q->offset);
	sqlite3_stmt *st = mlf_stmt_dynamic(c, b.data, err);
	mlf_buf_release(&b);
	if (!st)
		return err->status;
	int rc = mlf_search_bind(st, sql);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return mlf_db_error(c, rc, err);
	}
	struct mlf_trace_info *v = mlf_arena_alloc(a, sizeof *v * (size_t)(q->max_results + 1));
	int k = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k <= q->max_results)
		read_trace_row(a, st, &v[k++]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		s = mlf_db_error(c, rc, err);
		sqlite3_finalize(st);
		return s;
	}
	sqlite3_finalize(st);
	/* a full page gets a token, even when nothing follows it (the next page
	 * is then empty), as MLflow's store answers */
	*next_offset = -1;
	if (k >= q->max_results) {
		k = (int)q->max_results;
		*next_offset = q->offset + q->max_results;
	}
	for (int i = 0; i < k; i++)
		if ((s = fill_children(c, a, &v[i], err)) != MLF_OK)
			return s;
	*out = v;
	*n = k;
	return MLF_OK;
}

enum mlf_status mlf_trace_search(struct mlf_conn *c, struct mlf_arena *a, const struct mlf_trace_search *q,
                                 struct mlf_trace_info **out, int *n, int64_t *next_offset, struct mlf_error *err)
{
	struct mlf_search_sql sql;
	enum mlf_status s = mlf_search_traces_compile(a, q->filter, q->order_by, q->norder, &sql, err);
	if (s != MLF_OK)
		return s;
	/* one read transaction for the page and its children: one snapshot, and
	 * one WAL lock instead of one per statement (a third of the time) */
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	mlf_budget_begin_search(c); /* the page and its children, as other searches */
	s = trace_search_txn(c, a, q, &sql, out, n, next_offset, err);
	mlf_budget_end(c);
	mlf_read_end(c, own);
	return s;
}

/* ================================================================
 * tags, deletion, links
 * ================================================================ */

struct trace_job {
	const char *trace_id, *key, *value;
	int op; /* 0 set tag, 1 delete tag */
};

static enum mlf_status trace_exists(struct mlf_conn *c, const char *trace_id, int64_t *exp, int64_t *ts,
                                    struct mlf_error *err)
{
	static const char sql[] = "SELECT experiment_id, timestamp_ms FROM trace_info WHERE request_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, trace_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (exp)
			*exp = sqlite3_column_int64(st, 0);
		if (ts)
			*ts = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		return MLF_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Trace with ID %.200s is not found.", trace_id);
	return mlf_db_error(c, rc, err);
}

static enum mlf_status trace_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct trace_job *j = arg;
	enum mlf_status s = trace_exists(c, j->trace_id, NULL, NULL, err);
	if (s != MLF_OK)
		return s;
	int is_name = !strcmp(j->key, MLF_TRACE_TAG_NAME);
	if (j->op == 0) {
		if (is_name) {
			static const char sql[] = "UPDATE trace_info SET trace_name = ?2 WHERE request_id = ?1";
			sqlite3_stmt *st = mlf_stmt(c, sql, err);
			if (!st)
				return err->status;
			mlf_bind_text(st, 1, j->trace_id);
			mlf_bind_text(st, 2, j->value);
			return mlf_step_done(c, st, err);
		}
		return put_kv(c, SQL_TAG_UPSERT, j->trace_id, j->key, j->value, err);
	}
	static const char del_sql[] = "DELETE FROM trace_tags WHERE request_id = ?1 AND key = ?2";
	static const char del_name[] =
	    "UPDATE trace_info SET trace_name = NULL WHERE request_id = ?1 AND trace_name IS NOT NULL AND ?2 = ?2";
	sqlite3_stmt *st = mlf_stmt(c, is_name ? del_name : del_sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->trace_id);
	mlf_bind_text(st, 2, j->key);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;
	if (sqlite3_changes(c->db) == 0)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST,
		                "No trace tag with key '%.250s' for trace with ID '%.200s'", j->key, j->trace_id);
	return MLF_OK;
}

enum mlf_status mlf_trace_set_tag(struct mlf_db *db, const char *trace_id, const char *key, const char *value,
                                  struct mlf_error *err)
{
	struct trace_job j = {trace_id, key, value, 0};
	return mlf_db_write(db, trace_fn, &j, err);
}

enum mlf_status mlf_trace_delete_tag(struct mlf_db *db, const char *trace_id, const char *key, struct mlf_error *err)
{
	struct trace_job j = {trace_id, key, NULL, 1};
	return mlf_db_write(db, trace_fn, &j, err);
}

struct delete_job {
	int64_t exp;
	const char *const *ids;
	int nids;
	int64_t max_ts, max_traces;
	int64_t *deleted;
};

static enum mlf_status delete_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct delete_job *j = arg;
	*j->deleted = 0;
	enum mlf_status s = MLF_OK;
	if (j->nids > 0) {
		static const char sql[] = "DELETE FROM trace_info WHERE experiment_id = ?1 AND request_id = ?2";
		for (int i = 0; i < j->nids && s == MLF_OK; i++) {
			sqlite3_stmt *st = mlf_stmt(c, sql, err);
			if (!st)
				return err->status;
			sqlite3_bind_int64(st, 1, j->exp);
			mlf_bind_text(st, 2, j->ids[i]);
			s = mlf_step_done(c, st, err);
			*j->deleted += sqlite3_changes(c->db);
		}
		return s;
	}
	static const char sql[] = "DELETE FROM trace_info WHERE request_id IN (SELECT request_id FROM trace_info "
	                          "WHERE experiment_id = ?1 AND timestamp_ms <= ?2 ORDER BY timestamp_ms, request_id "
	                          "LIMIT ?3)";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, j->exp);
	sqlite3_bind_int64(st, 2, j->max_ts);
	sqlite3_bind_int64(st, 3, j->max_traces > 0 ? j->max_traces : -1);
	s = mlf_step_done(c, st, err);
	*j->deleted = sqlite3_changes(c->db);
	return s;
}

enum mlf_status mlf_traces_delete(struct mlf_db *db, int64_t experiment_id, const char *const *ids, int nids,
                                  int64_t max_timestamp_ms, int64_t max_traces, int64_t *deleted, struct mlf_error *err)
{
	struct delete_job j = {experiment_id, ids, nids, max_timestamp_ms, max_traces, deleted};
	return mlf_db_write(db, delete_fn, &j, err);
}

struct link_job {
	const char *const *trace_ids;
	int n;
	const char *run_id;
	const char *trace_id;
	const struct mlf_kv *prompts;
	int nprompts;
};

static enum mlf_status associate(struct mlf_conn *c, const char *src_type, const char *src_id, const char *dst_type,
                                 const char *dst_id, struct mlf_error *err)
{
	static const char sql[] =
	    "INSERT OR IGNORE INTO entity_associations (association_id, source_type, source_id, destination_type, "
	    "destination_id, created_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	char id[37];
	mlf_uuid_str(id);
	mlf_bind_text(st, 1, id);
	mlf_bind_text(st, 2, src_type);
	mlf_bind_text(st, 3, src_id);
	mlf_bind_text(st, 4, dst_type);
	mlf_bind_text(st, 5, dst_id);
	sqlite3_bind_int64(st, 6, mlf_now_ms());
	return mlf_step_done(c, st, err);
}

static enum mlf_status link_run_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct link_job *j = arg;
	static const char run_sql[] = "SELECT 1 FROM runs WHERE run_uuid = ?1";
	sqlite3_stmt *st = mlf_stmt(c, run_sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->run_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Run with id=%.100s not found", j->run_id);
	if (rc != SQLITE_ROW)
		return mlf_db_error(c, rc, err);
	enum mlf_status s = MLF_OK;
	for (int i = 0; i < j->n && s == MLF_OK; i++) {
		s = trace_exists(c, j->trace_ids[i], NULL, NULL, err);
		if (s == MLF_OK)
			s = associate(c, "trace", j->trace_ids[i], "run", j->run_id, err);
	}
	return s;
}

enum mlf_status mlf_traces_link_to_run(struct mlf_db *db, const char *const *trace_ids, int n, const char *run_id,
                                       struct mlf_error *err)
{
	struct link_job j = {.trace_ids = trace_ids, .n = n, .run_id = run_id};
	return mlf_db_write(db, link_run_fn, &j, err);
}

static enum mlf_status link_prompts_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct link_job *j = arg;
	enum mlf_status s = trace_exists(c, j->trace_id, NULL, NULL, err);
	for (int i = 0; i < j->nprompts && s == MLF_OK; i++) {
		char id[512];
		snprintf(id, sizeof id, "%s/%s", j->prompts[i].key, j->prompts[i].value);
		s = associate(c, "trace", j->trace_id, "prompt_version", id, err);
	}
	return s;
}

enum mlf_status mlf_trace_link_prompts(struct mlf_db *db, const char *trace_id, const struct mlf_kv *prompts, int n,
                                       struct mlf_error *err)
{
	struct link_job j = {.trace_id = trace_id, .prompts = prompts, .nprompts = n};
	return mlf_db_write(db, link_prompts_fn, &j, err);
}

/* ================================================================
 * assessments
 * ================================================================ */

static enum mlf_status insert_assessment(struct mlf_conn *c, const struct mlf_assessment *x, int64_t exp,
                                         int64_t trace_ts, struct mlf_error *err)
{
	static const char sql[] = "INSERT INTO assessments (" ASSESSMENT_COLS ", experiment_id, trace_timestamp_ms) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	                          "?18, ?19, ?20)";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, x->assessment_id);
	mlf_bind_text(st, 2, x->trace_id);
	mlf_bind_text(st, 3, x->name);
	mlf_bind_text(st, 4, x->type);
	mlf_bind_text(st, 5, x->value);
	mlf_bind_text(st, 6, x->error);
	sqlite3_bind_int64(st, 7, x->created_ms);
	sqlite3_bind_int64(st, 8, x->updated_ms);
	mlf_bind_text(st, 9, x->source_type);
	mlf_bind_text(st, 10, x->source_id);
	mlf_bind_text(st, 11, x->run_id);
	mlf_bind_text(st, 12, x->span_id);
	mlf_bind_text(st, 13, x->rationale);
	mlf_bind_text(st, 14, x->overrides);
	sqlite3_bind_int(st, 15, x->valid);
	mlf_bind_text(st, 16, x->metadata);
	if (x->has_aggregate)
		sqlite3_bind_double(st, 17, x->aggregate);
	sqlite3_bind_int(st, 18, x->is_numeric);
	sqlite3_bind_int64(st, 19, exp);
	sqlite3_bind_int64(st, 20, trace_ts);
	return mlf_step_done(c, st, err);
}

static enum mlf_status create_assessment_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct mlf_assessment *x = arg;
	int64_t exp = 0, ts = 0;
	enum mlf_status s = trace_exists(c, x->trace_id, &exp, &ts, err);
	if (s != MLF_OK)
		return s;
	if (x->overrides) {
		static const char sql[] = "UPDATE assessments SET valid = 0 WHERE trace_id = ?1 AND assessment_id = ?2";
		sqlite3_stmt *st = mlf_stmt(c, sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, x->trace_id);
		mlf_bind_text(st, 2, x->overrides);
		if ((s = mlf_step_done(c, st, err)) != MLF_OK)
			return s;
		if (sqlite3_changes(c->db) == 0)
			return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST,
			                "Assessment with ID '%.100s' not found for trace '%.200s'", x->overrides,
			                x->trace_id);
	}
	return insert_assessment(c, x, exp, ts, err);
}

enum mlf_status mlf_assessment_create(struct mlf_db *db, struct mlf_arena *a, struct mlf_assessment *in,
                                      struct mlf_error *err)
{
	if (!in->assessment_id) {
		char hex[33];
		mlf_uuid_hex(hex);
		in->assessment_id = mlf_arena_printf(a, "a-%s", hex);
	}
	if (!in->created_ms)
		in->created_ms = mlf_now_ms();
	if (!in->updated_ms)
		in->updated_ms = in->created_ms;
	return mlf_db_write(db, create_assessment_fn, in, err);
}

enum mlf_status mlf_assessment_get(struct mlf_conn *c, struct mlf_arena *a, const char *trace_id, const char *id,
                                   struct mlf_assessment *out, struct mlf_error *err)
{
	static const char sql[] =
	    "SELECT " ASSESSMENT_COLS " FROM assessments WHERE trace_id = ?1 AND assessment_id = ?2";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, trace_id);
	mlf_bind_text(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_assessment_row(a, st, out);
		sqlite3_reset(st);
		return MLF_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST,
		                "Assessment with ID '%.100s' not found for trace '%.200s'", id, trace_id);
	return mlf_db_error(c, rc, err);
}

static enum mlf_status update_assessment_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	const struct mlf_assessment *x = arg;
	static const char sql[] =
	    "UPDATE assessments SET name = ?3, value = ?4, error = ?5, last_updated_timestamp = ?6, rationale = ?7, "
	    "assessment_metadata = ?8, aggregate_value = ?9, is_numeric_value = ?10 "
	    "WHERE trace_id = ?1 AND assessment_id = ?2";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, x->trace_id);
	mlf_bind_text(st, 2, x->assessment_id);
	mlf_bind_text(st, 3, x->name);
	mlf_bind_text(st, 4, x->value);
	mlf_bind_text(st, 5, x->error);
	sqlite3_bind_int64(st, 6, x->updated_ms);
	mlf_bind_text(st, 7, x->rationale);
	mlf_bind_text(st, 8, x->metadata);
	if (x->has_aggregate)
		sqlite3_bind_double(st, 9, x->aggregate);
	sqlite3_bind_int(st, 10, x->is_numeric);
	enum mlf_status s = mlf_step_done(c, st, err);
	if (s == MLF_OK && sqlite3_changes(c->db) == 0)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST,
		                "Assessment with ID '%.100s' not found for trace '%.200s'", x->assessment_id,
		                x->trace_id);
	return s;
}

enum mlf_status mlf_assessment_update(struct mlf_db *db, const struct mlf_assessment *in, struct mlf_error *err)
{
	return mlf_db_write(db, update_assessment_fn, (void *)in, err);
}

struct del_assessment_job {
	const char *trace_id, *id;
};

static enum mlf_status delete_assessment_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct del_assessment_job *j = arg;
	/* An assessment that overrode another one gives it back its validity. */
	static const char restore[] = "UPDATE assessments SET valid = 1 WHERE trace_id = ?1 AND assessment_id = "
	                              "(SELECT overrides FROM assessments "
	                              "WHERE trace_id = ?1 AND assessment_id = ?2)";
	static const char del[] = "DELETE FROM assessments WHERE trace_id = ?1 AND assessment_id = ?2";
	enum mlf_status s = MLF_OK;
	for (int k = 0; k < 2 && s == MLF_OK; k++) {
		sqlite3_stmt *st = mlf_stmt(c, k ? del : restore, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, j->trace_id);
		mlf_bind_text(st, 2, j->id);
		s = mlf_step_done(c, st, err);
	}
	return s;
}

enum mlf_status mlf_assessment_delete(struct mlf_db *db, const char *trace_id, const char *id, struct mlf_error *err)
{
	struct del_assessment_job j = {trace_id, id};
	return mlf_db_write(db, delete_assessment_fn, &j, err);
}
