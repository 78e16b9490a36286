/*
 * metrics.c: metric history reads: one series in pages, and the sampled
 * multi-run history the UI charts use (get-history-bulk-interval).
 */
#include <math.h>
#include <string.h>

#include "tracking.h"

double mlf__stored_to_double(double v, int is_nan); /* runs.c */

static enum mlf_status push_rows(struct mlf_conn *c, struct mlf_arena *a, sqlite3_stmt *st, const char *key,
                                 const char *run_id, struct mlf_metric **out, int *n, int *cap, int64_t limit,
                                 int *more, struct mlf_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit >= 0 && *n >= limit) {
			if (more)
				*more = 1;
			break;
		}
		if (*n == *cap) {
			int nc = *cap ? *cap * 2 : 64;
			*out = mlf_arena_grow(a, *out, (size_t)*n, (size_t)nc, sizeof **out);
			*cap = nc;
		}
		struct mlf_metric *m = &(*out)[(*n)++];
		m->key = key;
		m->value = mlf__stored_to_double(sqlite3_column_double(st, 0), sqlite3_column_int(st, 3));
		m->timestamp = sqlite3_column_int64(st, 1);
		m->step = sqlite3_column_int64(st, 2);
		m->run_id = run_id;
	}
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	sqlite3_reset(st);
	return ok ? MLF_OK : mlf_db_error(c, rc, err);
}

enum mlf_status mlf_metric_history(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, const char *key,
                                   int64_t max_results, int64_t offset, struct mlf_metric **out, int *n,
                                   int64_t *next_offset, struct mlf_error *err)
{
	static const char sql[] = "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2 "
	                          "ORDER BY timestamp, step, value LIMIT ?3 OFFSET ?4";
	*out = NULL;
	*n = 0;
	*next_offset = -1;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, max_results > 0 ? max_results + 1 : -1);
	sqlite3_bind_int64(st, 4, offset);
	int cap = 0, more = 0;
	const char *k = mlf_arena_strdup(a, key);
	enum mlf_status s = push_rows(c, a, st, k, NULL, out, n, &cap, max_results > 0 ? max_results : -1, &more, err);
	if (s == MLF_OK && more)
		*next_offset = offset + max_results;
	return s;
}

enum mlf_status mlf_metric_history_bulk_interval(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                                 int nruns, const char *key, int has_range, int64_t start_step,
                                                 int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                                 struct mlf_error *err)
{
	/* Per run: split the ordered series into max_results equal buckets
	 * (NTILE), keep each bucket's first point, and make sure the series'
	 * last point is kept (replacing the final sample when at the cap). */
	static const char sample_sql[] =
	    "WITH b AS (SELECT value, timestamp, step, is_nan, "
	    "NTILE(?3) OVER (ORDER BY step, timestamp, value, is_nan) AS bucket FROM metrics "
	    "WHERE run_uuid = ?1 AND key = ?2 AND (?4 = 0 OR step BETWEEN ?5 AND ?6)), "
	    "r AS (SELECT value, timestamp, step, is_nan, ROW_NUMBER() OVER (PARTITION BY bucket "
	    "ORDER BY step, timestamp, value, is_nan) AS rn FROM b) "
	    "SELECT value, timestamp, step, is_nan FROM r WHERE rn = 1 ORDER BY step, timestamp, value, is_nan";
	static const char last_sql[] =
	    "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2 "
	    "AND (?3 = 0 OR step BETWEEN ?4 AND ?5) ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC LIMIT "
	    "1";
	*out = NULL;
	*n = 0;
	int cap = 0;
	const char *k = mlf_arena_strdup(a, key);
	if (max_results < 1)
		max_results = 1;
	for (int r = 0; r < nruns; r++) {
		const char *rid = mlf_arena_strdup(a, run_ids[r]);
		int first = *n;
		sqlite3_stmt *st = mlf_stmt(c, sample_sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, rid);
		mlf_bind_text(st, 2, key);
		sqlite3_bind_int64(st, 3, max_results);
		sqlite3_bind_int(st, 4, has_range);
		sqlite3_bind_int64(st, 5, start_step);
		sqlite3_bind_int64(st, 6, end_step);
		enum mlf_status s = push_rows(c, a, st, k, rid, out, n, &cap, -1, NULL, err);
		if (s != MLF_OK)
			return s;
		if (!(st = mlf_stmt(c, last_sql, err)))
			return err->status;
		mlf_bind_text(st, 1, rid);
		mlf_bind_text(st, 2, key);
		sqlite3_bind_int(st, 3, has_range);
		sqlite3_bind_int64(st, 4, start_step);
		sqlite3_bind_int64(st, 5, end_step);
		int before = *n;
		if ((s = push_rows(c, a, st, k, rid, out, n, &cap, -1, NULL, err)) != MLF_OK)
			return s;
		if (*n == before)
			continue;
		struct mlf_metric last = (*out)[*n - 1];
		(*n)--;
		int have = *n - first;
		if (have > 0) {
			struct mlf_metric *p = &(*out)[*n - 1];
			int same = p->step == last.step && p->timestamp == last.timestamp &&
			           ((isnan(p->value) && isnan(last.value)) || p->value == last.value);
			if (same)
				continue;
			if (have >= max_results) {
				*p = last;
				continue;
			}
		}
		(*out)[(*n)++] = last;
	}
	return MLF_OK;
}
