/*
 * metrics.c: metric history reads: one series in pages, and the sampled
 * multi-run history the UI charts use (get-history-bulk-interval).
 * Every query names MLflow's (run_uuid, key, step) index: without table
 * statistics SQLite would otherwise walk the primary-key index of the key
 * across every run that logged it.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../api/limits.h"
#include "tracking.h"

double mlf__stored_to_double(double v, int is_nan); /* runs.c */

/* Append every row of st (value, timestamp, step, is_nan) to out. */
static enum mlf_status push_rows(struct mlf_conn *c, struct mlf_arena *a, sqlite3_stmt *st, const char *key,
                                 const char *run_id, struct mlf_metric **out, int *n, int *cap, struct mlf_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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
	return mlf_rows_done(c, st, rc, err) ? MLF_OK : err->status;
}

/* ---- one series, paged ----
 *
 * MLflow orders a series by (timestamp, step, value); its indexes hold a
 * series in step order, so putting it in order means reading all of it, and
 * a paged read (the client asks for 25,000 points at a time) would do that
 * once per page. Instead the first page keeps the ordered series on its
 * read connection, and the following pages are cut from it for as long as
 * PRAGMA data_version, read inside each page's read transaction, says that
 * no other connection (mlflowd's writer or another process) has committed
 * since. A civetweb worker serves one client connection at a time on one
 * read connection, so the pages of one read meet their cache. */

struct series_row {
	double stored; /* as stored: NaN as 0 with is_nan set */
	int64_t timestamp, step;
	int is_nan;
};

struct series_cache {
	char *run_id, *key;      /* owned */
	int64_t data_version;    /* of the transaction that read it */
	struct series_row *rows; /* owned: n rows in MLflow's order */
	size_t n;
};

/* Rows held by every connection's cache together, bounded by
 * MLF_HISTORY_CACHE_TOTAL_ROWS. */
static _Atomic size_t cached_rows;

static void series_cache_free(void *p)
{
	struct series_cache *sc = p;
	if (!sc)
		return;
	atomic_fetch_sub(&cached_rows, sc->n);
	free(sc->run_id);
	free(sc->key);
	free(sc->rows);
	free(sc);
}

static int cmp_series_row(const void *pa, const void *pb)
{
	const struct series_row *x = pa, *y = pb;
	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	if (x->stored != y->stored)
		return x->stored < y->stored ? -1 : 1;
	return x->is_nan - y->is_nan;
}

/* All rows of the series in MLflow's order, into *rows (malloc'd). */
static enum mlf_status read_series(struct mlf_conn *c, const char *run_id, const char *key, struct series_row **rows,
                                   size_t *n, struct mlf_error *err)
{
	static const char sql[] = "SELECT value, timestamp, step, is_nan FROM metrics INDEXED BY "
	                          "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2";
	*rows = NULL;
	*n = 0;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	size_t cap = 0;
	int rc, sorted = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			struct series_row *nr = realloc(*rows, cap * sizeof **rows);
			if (!nr) {
				sqlite3_reset(st);
				free(*rows);
				*rows = NULL;
				return mlf_fail(err, MLF_INTERNAL_ERROR, "out of memory reading metric history");
			}
			*rows = nr;
		}
		struct series_row *r = &(*rows)[(*n)++];
		r->stored = sqlite3_column_double(st, 0);
		r->timestamp = sqlite3_column_int64(st, 1);
		r->step = sqlite3_column_int64(st, 2);
		r->is_nan = sqlite3_column_int(st, 3);
		if (sorted && *n > 1 && cmp_series_row(r - 1, r) > 0)
			sorted = 0;
	}
	if (!mlf_rows_done(c, st, rc, err)) {
		free(*rows);
		*rows = NULL;
		*n = 0;
		return err->status;
	}
	/* Training loops log time and step together: usually in order already. */
	if (!sorted)
		qsort(*rows, *n, sizeof **rows, cmp_series_row);
	return MLF_OK;
}

static enum mlf_status run_simple(struct mlf_conn *c, const char *sql, int64_t *out, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	int rc = sqlite3_step(st);
	if (out && rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MLF_OK : mlf_db_error(c, rc, err);
}

/* Begins a read transaction unless the caller holds one: 1 when it began
 * one (end it with read_end), 0 when not, -1 on error (err set). */
static int read_begin(struct mlf_conn *c, struct mlf_error *err)
{
	if (!sqlite3_get_autocommit(c->db))
		return 0;
	return run_simple(c, "BEGIN", NULL, err) == MLF_OK ? 1 : -1;
}

static void read_end(struct mlf_conn *c, int own)
{
	if (own > 0)
		run_simple(c, "COMMIT", NULL, NULL);
}

enum mlf_status mlf_metric_history(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, const char *key,
                                   int64_t max_results, int64_t offset, int paged, struct mlf_metric **out, int *n,
                                   int64_t *next_offset, struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	*next_offset = -1;
	/* One read transaction, so data_version describes the rows read. */
	int own_txn = read_begin(c, err);
	int64_t version = 0;
	enum mlf_status s = MLF_OK;
	if (own_txn < 0)
		return err->status;
	if ((s = run_simple(c, "PRAGMA data_version", &version, err)) != MLF_OK)
		goto done;
	struct series_cache *sc = c->read_cache_free == series_cache_free ? c->read_cache : NULL;
	struct series_row *rows;
	size_t total;
	int from_cache =
	    offset > 0 && sc && sc->data_version == version && !strcmp(sc->run_id, run_id) && !strcmp(sc->key, key);
	if (from_cache) {
		rows = sc->rows;
		total = sc->n;
	} else if ((s = read_series(c, run_id, key, &rows, &total, err)) != MLF_OK) {
		goto done;
	}
	size_t from = (uint64_t)offset < total ? (size_t)offset : total;
	size_t count = total - from;
	if (max_results > 0 && (uint64_t)max_results < count) {
		count = (size_t)max_results;
		*next_offset = offset + max_results;
	}
	*out = mlf_arena_alloc(a, (count ? count : 1) * sizeof **out);
	const char *k = mlf_arena_strdup(a, key);
	for (size_t i = 0; i < count; i++) {
		const struct series_row *r = &rows[from + i];
		struct mlf_metric *m = &(*out)[i];
		m->key = k;
		m->value = mlf__stored_to_double(r->stored, r->is_nan);
		m->timestamp = r->timestamp;
		m->step = r->step;
		m->run_id = NULL;
	}
	*n = (int)count;
	if (!from_cache) {
		/* Keep it when more pages of it will be asked for and it fits. */
		int keep = paged && *next_offset >= 0 && total <= MLF_HISTORY_CACHE_SERIES_ROWS;
		if (keep && atomic_fetch_add(&cached_rows, total) + total > MLF_HISTORY_CACHE_TOTAL_ROWS) {
			atomic_fetch_sub(&cached_rows, total);
			keep = 0;
		}
		struct series_cache *fresh = keep ? calloc(1, sizeof *fresh) : NULL;
		if (fresh) {
			fresh->run_id = strdup(run_id);
			fresh->key = strdup(key);
			fresh->data_version = version;
			fresh->rows = rows;
			fresh->n = total;
		} else {
			if (keep)
				atomic_fetch_sub(&cached_rows, total);
			free(rows);
		}
		if (c->read_cache && c->read_cache_free)
			c->read_cache_free(c->read_cache);
		c->read_cache = fresh;
		c->read_cache_free = fresh ? series_cache_free : NULL;
	}
done:
	read_end(c, own_txn);
	return s;
}

struct step_row {
	int64_t step, rowid;
};

/* Fast sampling for long series with one row per step (the usual training
 * loop, gaps allowed): MLflow's NTILE over the rows ordered by (step,
 * timestamp, value) then sees the rows in step order, which is the order
 * of MLflow's (run_uuid, key, step) index. One pass over that index range
 * (steps and rowids only, no table access) gives every row's position;
 * the rows MLflow keeps (the first of each of max_results equal buckets,
 * and the last row in place of the final sample) are then fetched by
 * rowid. Returns 1 when it produced exactly max_results points (appended
 * to out), 0 when the caller must use the general SQL sampling (short
 * series, or several rows at one step). */
static int sample_by_rows(struct mlf_conn *c, struct mlf_arena *a, const char *rid, const char *key, int64_t lo,
                          int64_t hi, int64_t max_results, struct mlf_metric **out, int *n, int *cap)
{
	static const char scan_sql[] = "SELECT step, rowid FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	                               "WHERE run_uuid = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4";
	static const char pick_sql[] = "SELECT value, timestamp, step, is_nan FROM metrics WHERE rowid = ?1";
	if (max_results < 2)
		return 0;
	sqlite3_stmt *st = mlf_stmt(c, scan_sql, NULL);
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, lo);
	sqlite3_bind_int64(st, 4, hi);
	struct step_row *rows = NULL;
	size_t nrows = 0, rcap = 0;
	int ok = 1, rc;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (nrows == rcap) {
			rcap = rcap ? rcap * 2 : 1024;
			struct step_row *nr = realloc(rows, rcap * sizeof *rows);
			if (!nr) {
				ok = 0;
				break;
			}
			rows = nr;
		}
		int64_t step = sqlite3_column_int64(st, 0);
		if (nrows && rows[nrows - 1].step == step)
			ok = 0; /* several rows at one step: their order needs timestamp and value */
		rows[nrows].step = step;
		rows[nrows++].rowid = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (!ok || (int64_t)nrows <= max_results) {
		free(rows);
		return 0;
	}
	/* NTILE(max_results) over nrows: the first r buckets hold q + 1. The
	 * kept rows are fetched one rowid seek each, in bucket order, which is
	 * MLflow's step order. */
	int64_t total = (int64_t)nrows, q = total / max_results, r = total % max_results;
	int start = *n, ok_rows = (st = mlf_stmt(c, pick_sql, NULL)) != NULL;
	struct mlf_error ignored;
	for (int64_t bkt = 0; ok_rows && bkt < max_results; bkt++) {
		int64_t at = bkt + 1 == max_results ? total - 1 : bkt < r ? bkt * (q + 1) : r * (q + 1) + (bkt - r) * q;
		int before = *n;
		sqlite3_bind_int64(st, 1, rows[at].rowid);
		ok_rows = push_rows(c, a, st, key, rid, out, n, cap, &ignored) == MLF_OK && *n == before + 1;
	}
	free(rows);
	if (!ok_rows) {
		*n = start;
		return 0;
	}
	return 1;
}

static enum mlf_status bulk_interval(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids, int nruns,
                                     const char *key, int has_range, int64_t start_step, int64_t end_step,
                                     int64_t max_results, struct mlf_metric **out, int *n, struct mlf_error *err)
{
	/* Per run: split the ordered series into max_results equal buckets
	 * (NTILE), keep each bucket's first point, and make sure the series'
	 * last point is kept (replacing the final sample when at the cap). */
	static const char sample_sql[] =
	    "WITH b AS (SELECT value, timestamp, step, is_nan, "
	    "NTILE(?3) OVER (ORDER BY step, timestamp, value, is_nan) AS bucket FROM metrics INDEXED BY "
	    "index_metrics_run_uuid_key_step "
	    "WHERE run_uuid = ?1 AND key = ?2 AND (?4 = 0 OR step BETWEEN ?5 AND ?6)), "
	    "r AS (SELECT value, timestamp, step, is_nan, ROW_NUMBER() OVER (PARTITION BY bucket "
	    "ORDER BY step, timestamp, value, is_nan) AS rn FROM b) "
	    "SELECT value, timestamp, step, is_nan FROM r WHERE rn = 1 ORDER BY step, timestamp, value, is_nan";
	static const char last_sql[] =
	    "SELECT value, timestamp, step, is_nan FROM metrics INDEXED BY index_metrics_run_uuid_key_step WHERE "
	    "run_uuid = ?1 AND key = ?2 "
	    "AND (?3 = 0 OR step BETWEEN ?4 AND ?5) ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC LIMIT "
	    "1";
	int cap = 0; /* *out and *n start empty (the caller set them) */
	const char *k = mlf_arena_strdup(a, key);
	if (max_results < 1)
		max_results = 1;
	for (int r = 0; r < nruns; r++) {
		const char *rid = mlf_arena_strdup(a, run_ids[r]);
		int first = *n;
		if (sample_by_rows(c, a, rid, k, has_range ? start_step : INT64_MIN, has_range ? end_step : INT64_MAX,
		                   max_results, out, n, &cap))
			continue;
		sqlite3_stmt *st = mlf_stmt(c, sample_sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, rid);
		mlf_bind_text(st, 2, key);
		sqlite3_bind_int64(st, 3, max_results);
		sqlite3_bind_int(st, 4, has_range);
		sqlite3_bind_int64(st, 5, start_step);
		sqlite3_bind_int64(st, 6, end_step);
		enum mlf_status s = push_rows(c, a, st, k, rid, out, n, &cap, err);
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
		if ((s = push_rows(c, a, st, k, rid, out, n, &cap, err)) != MLF_OK)
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

enum mlf_status mlf_metric_history_bulk_interval(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                                 int nruns, const char *key, int has_range, int64_t start_step,
                                                 int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                                 struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	/* One read transaction: one snapshot for every run, and no lock
	 * taken and dropped around each statement. */
	int own_txn = read_begin(c, err);
	if (own_txn < 0)
		return err->status;
	enum mlf_status s =
	    bulk_interval(c, a, run_ids, nruns, key, has_range, start_step, end_step, max_results, out, n, err);
	read_end(c, own_txn);
	return s;
}
