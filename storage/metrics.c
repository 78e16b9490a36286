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
#include "metric_blocks.h"
#include "pool.h"
#include "tracking.h"

double mlf__stored_to_double(double v, int is_nan); /* runs.c */

/* The point in st's current row (value, timestamp, step, is_nan). */
static struct mlf_metric metric_at(sqlite3_stmt *st, const char *key, const char *run_id)
{
	return (struct mlf_metric){.key = key,
	                           .value =
	                               mlf__stored_to_double(sqlite3_column_double(st, 0), sqlite3_column_int(st, 3)),
	                           .timestamp = sqlite3_column_int64(st, 1),
	                           .step = sqlite3_column_int64(st, 2),
	                           .run_id = run_id};
}

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
		(*out)[(*n)++] = metric_at(st, key, run_id);
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

/* The rows of the series with steps in [lo, hi], in index (step) order,
 * into *rows (malloc'd); *sorted tells whether they are in MLflow's order. */
static enum mlf_status read_steps(struct mlf_conn *c, const char *run_id, const char *key, int64_t lo, int64_t hi,
                                  struct series_row **rows, size_t *n, int *sorted, struct mlf_error *err)
{
	static const char sql[] = "SELECT value, timestamp, step, is_nan FROM metrics INDEXED BY "
	                          "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2 "
	                          "AND step BETWEEN ?3 AND ?4";
	*rows = NULL;
	*n = 0;
	*sorted = 1;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, lo);
	sqlite3_bind_int64(st, 4, hi);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			struct series_row *nr = realloc(*rows, cap * sizeof **rows);
			if (!nr) {
				sqlite3_reset(st);
				free(*rows);
				*rows = NULL;
				*n = 0;
				return mlf_fail(err, MLF_INTERNAL_ERROR, "out of memory reading metric history");
			}
			*rows = nr;
		}
		struct series_row *r = &(*rows)[(*n)++];
		r->stored = sqlite3_column_double(st, 0);
		r->timestamp = sqlite3_column_int64(st, 1);
		r->step = sqlite3_column_int64(st, 2);
		r->is_nan = sqlite3_column_int(st, 3);
		if (*sorted && *n > 1 && cmp_series_row(r - 1, r) > 0)
			*sorted = 0;
	}
	if (!mlf_rows_done(c, st, rc, err)) {
		free(*rows);
		*rows = NULL;
		*n = 0;
		return err->status;
	}
	return MLF_OK;
}

/* ---- a long series read in two step ranges at once ----
 *
 * A long series is read by two threads (pool.h), each on its own read
 * connection, one half of the step range each. The halves are used only
 * when the caller's connection shows, by its data_version read before and
 * after, that nothing was committed in between: then every connection saw
 * the caller's snapshot. */

struct split_read {
	struct mlf_db *db;
	const char *run_id, *key;
	int64_t lo[2], hi[2];
	struct series_row *rows[2]; /* owned: each half's rows */
	size_t n[2];
	int sorted[2];
	enum mlf_status s[2];
	struct mlf_error err[2];
};

static enum mlf_status split_read_half(struct mlf_conn *c, void *p, int i, struct mlf_error *err)
{
	struct split_read *sr = p;
	return read_steps(c, sr->run_id, sr->key, sr->lo[i], sr->hi[i], &sr->rows[i], &sr->n[i], &sr->sorted[i], err);
}

static void split_task(void *p, int i)
{
	struct split_read *sr = p;
	sr->s[i] = mlf_db_read_in_txn(sr->db, split_read_half, sr, i, &sr->err[i]);
}

/* The first and last step of the series (0 when it has no rows). */
static int step_bounds(struct mlf_conn *c, const char *run_id, const char *key, int64_t *first, int64_t *last)
{
	static const char first_sql[] = "SELECT step FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	                                "WHERE run_uuid = ?1 AND key = ?2 ORDER BY step LIMIT 1";
	static const char last_sql[] = "SELECT step FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	                               "WHERE run_uuid = ?1 AND key = ?2 ORDER BY step DESC LIMIT 1";
	const char *sqls[2] = {first_sql, last_sql};
	int64_t *outs[2] = {first, last};
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = mlf_stmt(c, sqls[i], NULL);
		if (!st)
			return 0;
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*outs[i] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return 0;
	}
	return 1;
}

/* Try the two-thread read of the series; c holds the read transaction
 * its caller began (*own_txn) at data_version `version`. Returns 1 with
 * the rows (in step order; *sorted as read_steps) when it read them, 0
 * when the caller must read the series itself (short series, no helper,
 * a commit in between, an error); either way *own_txn tells whether c
 * still holds a transaction the caller must end. */
static int read_split(struct mlf_conn *c, int *own_txn, int64_t version, const char *run_id, const char *key,
                      struct series_row **rows, size_t *n, int *sorted)
{
	int64_t first, last, v2 = -1;
	if (*own_txn <= 0 || mlf_pool_helpers() == 0 || !step_bounds(c, run_id, key, &first, &last) ||
	    (uint64_t)last - (uint64_t)first < MLF_HISTORY_SPLIT_MIN_STEPS)
		return 0;
	struct split_read sr = {.db = c->owner, .run_id = run_id, .key = key};
	int64_t mid = first + (int64_t)(((uint64_t)last - (uint64_t)first) / 2);
	sr.lo[0] = first;
	sr.hi[0] = mid;
	sr.lo[1] = mid + 1;
	sr.hi[1] = last;
	mlf_pool_run(2, split_task, &sr);
	mlf_read_end(c, *own_txn);
	*own_txn = 0;
	if (mlf_data_version(c, &v2, NULL) != MLF_OK)
		v2 = -1;
	int ok = v2 == version && sr.s[0] == MLF_OK && sr.s[1] == MLF_OK;
	struct series_row *all = ok ? realloc(sr.rows[0], (sr.n[0] + sr.n[1] + 1) * sizeof *all) : NULL;
	if (!all) {
		free(sr.rows[0]);
		free(sr.rows[1]);
		return 0;
	}
	if (sr.n[1])
		memcpy(all + sr.n[0], sr.rows[1], sr.n[1] * sizeof *all);
	*rows = all;
	*n = sr.n[0] + sr.n[1];
	*sorted = sr.sorted[0] && sr.sorted[1] &&
	          !(sr.n[0] && sr.n[1] && cmp_series_row(&all[sr.n[0] - 1], &all[sr.n[0]]) > 0);
	free(sr.rows[1]);
	return 1;
}

enum mlf_status mlf_metric_history(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, const char *key,
                                   int64_t max_results, int64_t offset, int paged, struct mlf_metric **out, int *n,
                                   int64_t *next_offset, struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	*next_offset = -1;
	/* One read transaction, so data_version describes the rows read. */
	int own_txn = mlf_read_begin(c, err);
	int64_t version = 0;
	enum mlf_status s = MLF_OK;
	if (own_txn < 0)
		return err->status;
	if ((s = mlf_data_version(c, &version, err)) != MLF_OK)
		goto done;
	struct series_cache *sc = c->read_cache_free == series_cache_free ? c->read_cache : NULL;
	struct series_row *rows;
	size_t total;
	int from_cache =
	    offset > 0 && sc && sc->data_version == version && !strcmp(sc->run_id, run_id) && !strcmp(sc->key, key);
	if (from_cache) {
		rows = sc->rows;
		total = sc->n;
	} else {
		int sorted;
		if (!read_split(c, &own_txn, version, run_id, key, &rows, &total, &sorted)) {
			/* Read here, in a read transaction of c (again, when the split
			 * read ended the first one). */
			if (!own_txn && sqlite3_get_autocommit(c->db)) {
				if ((own_txn = mlf_read_begin(c, err)) < 0 ||
				    (s = mlf_data_version(c, &version, err)) != MLF_OK) {
					s = err->status;
					goto done;
				}
			}
			if ((s = read_steps(c, run_id, key, INT64_MIN, INT64_MAX, &rows, &total, &sorted, err)) !=
			    MLF_OK)
				goto done;
		}
		/* Training loops log time and step together: usually in order already. */
		if (!sorted)
			qsort(rows, total, sizeof *rows, cmp_series_row);
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
	mlf_read_end(c, own_txn);
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
	/* Without a step range the bounds are left out: SQLite then checks
	 * each index entry against the (run_uuid, key) prefix only. */
	static const char scan_sql[] = "SELECT step, rowid FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	                               "WHERE run_uuid = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4";
	static const char scan_all_sql[] = "SELECT step, rowid FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	                                   "WHERE run_uuid = ?1 AND key = ?2";
	int whole = lo == INT64_MIN && hi == INT64_MAX;
	static const char pick_sql[] = "SELECT m.value, m.timestamp, m.step, m.is_nan FROM json_each(?1) AS j "
	                               "CROSS JOIN metrics AS m ON m.rowid = j.value";
	if (max_results < 2)
		return 0;
	sqlite3_stmt *st = mlf_stmt(c, whole ? scan_all_sql : scan_sql, NULL);
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (!whole) {
		sqlite3_bind_int64(st, 3, lo);
		sqlite3_bind_int64(st, 4, hi);
	}
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
	/* The kept rows' rowids, in bucket order (MLflow's step order), are
	 * walked as a JSON array, one rowid seek each, in one statement. */
	struct mlf_buf ids = {0};
	mlf_buf_putc(&ids, '[');
	for (int64_t bkt = 0; bkt < max_results; bkt++) {
		int64_t at = bkt + 1 == max_results ? total - 1 : bkt < r ? bkt * (q + 1) : r * (q + 1) + (bkt - r) * q;
		if (bkt)
			mlf_buf_putc(&ids, ',');
		mlf_buf_put_i64(&ids, rows[at].rowid);
	}
	mlf_buf_putc(&ids, ']');
	int start = *n, ok_rows = (st = mlf_stmt(c, pick_sql, NULL)) != NULL;
	struct mlf_error ignored;
	if (ok_rows) {
		sqlite3_bind_text(st, 1, ids.data, (int)ids.len, SQLITE_STATIC);
		ok_rows = push_rows(c, a, st, key, rid, out, n, cap, &ignored) == MLF_OK && *n == start + max_results;
	}
	mlf_buf_release(&ids);
	free(rows);
	if (!ok_rows) {
		*n = start;
		return 0;
	}
	return 1;
}

/* One run's sample: split the ordered series into max_results equal
 * buckets (NTILE), keep each bucket's first point, and make sure the
 * series' last point is kept (replacing the final sample when at the cap).
 * Appends to *out (grown in a, *cap its capacity). */
static enum mlf_status sample_run(struct mlf_conn *c, struct mlf_arena *a, const char *rid, const char *k,
                                  int has_range, int64_t start_step, int64_t end_step, int64_t max_results,
                                  struct mlf_metric **out, int *n, int *cap, struct mlf_error *err)
{
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
	int first = *n;
	if (sample_by_rows(c, a, rid, k, has_range ? start_step : INT64_MIN, has_range ? end_step : INT64_MAX,
	                   max_results, out, n, cap))
		return MLF_OK;
	sqlite3_stmt *st = mlf_stmt(c, sample_sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, rid);
	mlf_bind_text(st, 2, k);
	sqlite3_bind_int64(st, 3, max_results);
	sqlite3_bind_int(st, 4, has_range);
	sqlite3_bind_int64(st, 5, start_step);
	sqlite3_bind_int64(st, 6, end_step);
	enum mlf_status s = push_rows(c, a, st, k, rid, out, n, cap, err);
	if (s != MLF_OK)
		return s;
	if (!(st = mlf_stmt(c, last_sql, err)))
		return err->status;
	mlf_bind_text(st, 1, rid);
	mlf_bind_text(st, 2, k);
	sqlite3_bind_int(st, 3, has_range);
	sqlite3_bind_int64(st, 4, start_step);
	sqlite3_bind_int64(st, 5, end_step);
	int before = *n;
	if ((s = push_rows(c, a, st, k, rid, out, n, cap, err)) != MLF_OK)
		return s;
	if (*n == before)
		return MLF_OK;
	struct mlf_metric last = (*out)[*n - 1];
	(*n)--;
	int have = *n - first;
	if (have > 0) {
		struct mlf_metric *p = &(*out)[*n - 1];
		int same = p->step == last.step && p->timestamp == last.timestamp &&
		           ((isnan(p->value) && isnan(last.value)) || p->value == last.value);
		if (same)
			return MLF_OK;
		if (have >= max_results) {
			*p = last;
			return MLF_OK;
		}
	}
	(*out)[(*n)++] = last;
	return MLF_OK;
}

/* One run's sample of a bulk read: sample_run (MLflow's) or minmax_run. */
typedef enum mlf_status (*sampler_fn)(struct mlf_conn *c, struct mlf_arena *a, const char *rid, const char *k,
                                      int has_range, int64_t start_step, int64_t end_step, int64_t max_results,
                                      struct mlf_metric **out, int *n, int *cap, struct mlf_error *err);

/* The min/max sample of one run (mlf_metric_history_bulk_minmax): the
 * step range [lo, hi] of the series (within the asked range) is cut into
 * about max_results buckets of equal step width, and each bucket keeps
 * its first and last point and the points with its lowest and highest
 * finite value, in series order (mlf_mm_before): a spike anywhere stays
 * visible, and each bucket costs at most four points.
 *
 * Buckets at least a block wide (metric_blocks.h) are whole blocks: their
 * width is rounded up to a multiple of MLF_METRIC_BLOCK_STEPS and they
 * start at a block's first step. A summarized series is then read as one
 * summary row per block, and points only where the asked range cuts a
 * block; other series are read point by point, with the same buckets and
 * the same merge rules, so both give the same sample. */
struct buckets {
	int64_t base;   /* first step of bucket 0 */
	uint64_t width; /* steps per bucket */
};

static struct buckets buckets_of(int64_t lo, int64_t hi, int64_t max_results)
{
	uint64_t q = ((uint64_t)hi - (uint64_t)lo) / (uint64_t)max_results;
	uint64_t w = q + 1;
	const uint64_t b = (uint64_t)MLF_METRIC_BLOCK_STEPS, top = UINT64_C(1) << 63;
	if (q >= top) /* a span near 2^64 in one bucket: two halves */
		return (struct buckets){mlf_metric_block_of(lo) * MLF_METRIC_BLOCK_STEPS, top};
	if (w < b)
		return (struct buckets){lo, w};
	return (struct buckets){mlf_metric_block_of(lo) * MLF_METRIC_BLOCK_STEPS, (w + b - 1) / b * b};
}

static uint64_t bucket_of(const struct buckets *g, int64_t step)
{
	return ((uint64_t)step - (uint64_t)g->base) / g->width;
}

/* The sample being built: the current bucket's summary, flushed to out. */
struct mm_acc {
	struct mlf_arena *a;
	const char *key, *run_id; /* borrowed */
	struct mlf_metric **out;  /* grown in a */
	int *n, *cap;
	struct buckets g;
	uint64_t bucket;
	int have;
	struct mlf_mm_summary s;
};

static void acc_flush(struct mm_acc *q)
{
	if (!q->have)
		return;
	q->have = 0;
	struct mlf_mm_point p[4] = {q->s.first, q->s.last, q->s.lo, q->s.hi};
	int np = q->s.has_ext ? 4 : 2;
	for (int i = 1; i < np; i++)
		for (int j = i; j > 0 && mlf_mm_before(&p[j], &p[j - 1]); j--) {
			struct mlf_mm_point t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	for (int i = 0; i < np; i++) {
		if (i && !mlf_mm_before(&p[i - 1], &p[i]))
			continue; /* the same point again */
		if (*q->n == *q->cap) {
			int nc = *q->cap ? *q->cap * 2 : 64;
			*q->out = mlf_arena_grow(q->a, *q->out, (size_t)*q->n, (size_t)nc, sizeof **q->out);
			*q->cap = nc;
		}
		(*q->out)[(*q->n)++] = (struct mlf_metric){.key = q->key,
		                                           .value = mlf__stored_to_double(p[i].value, p[i].is_nan),
		                                           .timestamp = p[i].timestamp,
		                                           .step = p[i].step,
		                                           .run_id = q->run_id};
	}
}

static void acc_add(struct mm_acc *q, const struct mlf_mm_summary *s)
{
	uint64_t b = bucket_of(&q->g, s->first.step);
	if (q->have && b != q->bucket)
		acc_flush(q);
	if (q->have) {
		mlf_mm_merge(&q->s, s);
		return;
	}
	q->s = *s;
	q->bucket = b;
	q->have = 1;
}

/* Every point of the series with a step in [from, to], into q. */
static enum mlf_status acc_points(struct mlf_conn *c, struct mm_acc *q, int64_t from, int64_t to, struct mlf_error *err)
{
	static const char rows_sql[] = "SELECT value, timestamp, step, is_nan FROM metrics INDEXED BY "
	                               "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2 "
	                               "AND step BETWEEN ?3 AND ?4 ORDER BY step";
	sqlite3_stmt *st = mlf_stmt(c, rows_sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, q->run_id);
	mlf_bind_text(st, 2, q->key);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mlf_mm_point p = mlf_mm_point_at(st);
		struct mlf_mm_summary one;
		mlf_mm_from_point(&one, &p);
		acc_add(q, &one);
	}
	return mlf_rows_done(c, st, rc, err) ? MLF_OK : err->status;
}

/* The summaries of blocks [from, to] of the series, into q. */
static enum mlf_status acc_blocks(struct mlf_conn *c, struct mm_acc *q, int64_t from, int64_t to, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_metric_blocks_query(c, q->run_id, q->key, from, to, err);
	if (!st)
		return err->status;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mlf_mm_summary s;
		mlf_metric_blocks_row(st, &s);
		acc_add(q, &s);
	}
	return mlf_rows_done(c, st, rc, err) ? MLF_OK : err->status;
}

/* The step range [*lo, *hi] of one run's series within the asked range,
 * from one seek at each end of its (run_uuid, key, step) index range
 * (MIN and MAX in one statement would read the whole range); *empty when
 * it has no point there. */
static enum mlf_status series_range(struct mlf_conn *c, const char *rid, const char *k, int has_range,
                                    int64_t start_step, int64_t end_step, int64_t *lo, int64_t *hi, int *empty,
                                    struct mlf_error *err)
{
	static const char first_sql[] =
	    "SELECT step FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	    "WHERE run_uuid = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4 ORDER BY step LIMIT 1";
	static const char last_sql[] = "SELECT step FROM metrics INDEXED BY index_metrics_run_uuid_key_step "
	                               "WHERE run_uuid = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4 ORDER BY step DESC "
	                               "LIMIT 1";
	*empty = 1;
	for (int end = 0; end < 2; end++) {
		sqlite3_stmt *st = mlf_stmt(c, end ? last_sql : first_sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, rid);
		mlf_bind_text(st, 2, k);
		sqlite3_bind_int64(st, 3, has_range ? start_step : INT64_MIN);
		sqlite3_bind_int64(st, 4, has_range ? end_step : INT64_MAX);
		int rc = sqlite3_step(st);
		int got = rc == SQLITE_ROW;
		if (got) {
			*(end ? hi : lo) = sqlite3_column_int64(st, 0);
			rc = sqlite3_step(st);
		}
		if (!mlf_rows_done(c, st, rc, err))
			return err->status;
		if (!got)
			return MLF_OK;
	}
	*empty = 0;
	return MLF_OK;
}

static enum mlf_status minmax_run(struct mlf_conn *c, struct mlf_arena *a, const char *rid, const char *k,
                                  int has_range, int64_t start_step, int64_t end_step, int64_t max_results,
                                  struct mlf_metric **out, int *n, int *cap, struct mlf_error *err)
{
	int64_t lo, hi;
	int empty, ready = 0;
	if (series_range(c, rid, k, has_range, start_step, end_step, &lo, &hi, &empty, err) != MLF_OK)
		return err->status;
	if (empty)
		return MLF_OK;
	struct mm_acc q = {.a = a, .key = k, .run_id = rid, .out = out, .n = n, .cap = cap};
	q.g = buckets_of(lo, hi, max_results);
	if (q.g.width >= (uint64_t)MLF_METRIC_BLOCK_STEPS && mlf_metric_blocks_ready(c, rid, k, &ready, err) != MLF_OK)
		return err->status;
	/* blocks wholly inside the asked range are read as summaries */
	int64_t bl = mlf_metric_block_of(lo), bh = mlf_metric_block_of(hi), in_lo = bl, in_hi = bh;
	if (has_range && bl * MLF_METRIC_BLOCK_STEPS < start_step)
		in_lo++;
	if (has_range && bh * MLF_METRIC_BLOCK_STEPS + (MLF_METRIC_BLOCK_STEPS - 1) > end_step)
		in_hi--;
	enum mlf_status s = MLF_OK;
	if (!ready || in_lo > in_hi)
		s = acc_points(c, &q, lo, hi, err);
	else {
		if (in_lo > bl)
			s = acc_points(c, &q, lo, in_lo * MLF_METRIC_BLOCK_STEPS - 1, err);
		if (s == MLF_OK)
			s = acc_blocks(c, &q, in_lo, in_hi, err);
		if (s == MLF_OK && in_hi < bh)
			s = acc_points(c, &q, (in_hi + 1) * MLF_METRIC_BLOCK_STEPS, hi, err);
	}
	if (s == MLF_OK)
		acc_flush(&q);
	return s;
}

/* The preview sample of one run (mlf_metric_history_bulk_firsts): the
 * buckets of minmax_run, each keeping only its first point, and the
 * range's last point. Each point is one seek of the (run_uuid, key, step)
 * index (the first step at or after the next bucket's start), so a run
 * costs about max_results rows read however long its series is. The
 * points are those minmax_run would keep as firsts and last (index order:
 * step, then rowid). */
static enum mlf_status firsts_run(struct mlf_conn *c, struct mlf_arena *a, const char *rid, const char *k,
                                  int has_range, int64_t start_step, int64_t end_step, int64_t max_results,
                                  struct mlf_metric **out, int *n, int *cap, struct mlf_error *err)
{
	static const char next_sql[] = "SELECT value, timestamp, step, is_nan, rowid FROM metrics INDEXED BY "
	                               "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2 "
	                               "AND step BETWEEN ?3 AND ?4 ORDER BY step LIMIT 1";
	static const char last_sql[] = "SELECT value, timestamp, step, is_nan, rowid FROM metrics INDEXED BY "
	                               "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2 "
	                               "AND step BETWEEN ?3 AND ?4 ORDER BY step DESC LIMIT 1";
	int64_t lo, hi;
	int empty;
	if (series_range(c, rid, k, has_range, start_step, end_step, &lo, &hi, &empty, err) != MLF_OK)
		return err->status;
	if (empty)
		return MLF_OK;
	struct buckets g = buckets_of(lo, hi, max_results);
	uint64_t last_bucket = bucket_of(&g, hi);
	int64_t from = lo, last_rowid = 0;
	int have = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (;;) {
			sqlite3_stmt *st = mlf_stmt(c, pass ? last_sql : next_sql, err);
			if (!st)
				return err->status;
			mlf_bind_text(st, 1, rid);
			mlf_bind_text(st, 2, k);
			sqlite3_bind_int64(st, 3, pass ? lo : from);
			sqlite3_bind_int64(st, 4, hi);
			int rc = sqlite3_step(st);
			int got = rc == SQLITE_ROW;
			struct mlf_metric m = {.key = k, .run_id = rid};
			int64_t rowid = 0;
			if (got) {
				m = metric_at(st, k, rid);
				rowid = sqlite3_column_int64(st, 4);
				rc = sqlite3_step(st);
			}
			if (!mlf_rows_done(c, st, rc, err))
				return err->status;
			if (!got || (pass && have && rowid == last_rowid))
				break;
			if (*n == *cap) {
				int nc = *cap ? *cap * 2 : 64;
				*out = mlf_arena_grow(a, *out, (size_t)*n, (size_t)nc, sizeof **out);
				*cap = nc;
			}
			(*out)[(*n)++] = m;
			have = 1;
			last_rowid = rowid;
			/* the next bucket's first step, unless this was the last bucket */
			uint64_t next = bucket_of(&g, m.step) + 1;
			if (pass || next > last_bucket)
				break;
			from = (int64_t)((uint64_t)g.base + next * g.width);
		}
	}
	return MLF_OK;
}

/* The runs of one bulk-interval read, sampled in parallel: each run on
 * the read connection of the thread that takes it, into its own part. */
struct bulk_part {
	struct mlf_arena a; /* owned: holds pts */
	struct mlf_metric *pts;
	int n, cap;
	enum mlf_status s;
	struct mlf_error err;
};

struct bulk_job {
	struct mlf_db *db;
	const char *const *run_ids; /* borrowed, arena copies */
	const char *key;
	int has_range;
	int64_t start_step, end_step, max_results;
	struct bulk_part *parts; /* owned by the caller: one per run */
	sampler_fn sample;
};

static enum mlf_status bulk_sample_run(struct mlf_conn *c, void *p, int i, struct mlf_error *err)
{
	struct bulk_job *j = p;
	struct bulk_part *part = &j->parts[i];
	return j->sample(c, &part->a, j->run_ids[i], j->key, j->has_range, j->start_step, j->end_step, j->max_results,
	                 &part->pts, &part->n, &part->cap, err);
}

static void bulk_task(void *p, int i)
{
	struct bulk_job *j = p;
	j->parts[i].s = mlf_db_read_in_txn(j->db, bulk_sample_run, j, i, &j->parts[i].err);
}

static enum mlf_status bulk_read(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids, int nruns,
                                 const char *key, int has_range, int64_t start_step, int64_t end_step,
                                 int64_t max_results, sampler_fn sample, struct mlf_metric **out, int *n,
                                 struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	if (max_results < 1)
		max_results = 1;
	const char *k = mlf_arena_strdup(a, key);
	const char **rids = mlf_arena_alloc(a, (size_t)(nruns > 0 ? nruns : 1) * sizeof *rids);
	for (int r = 0; r < nruns; r++)
		rids[r] = mlf_arena_strdup(a, run_ids[r]);
	/* Every write touches one run, so what a reader can tell apart is
	 * each run's own snapshot; MLflow too reads the runs one by one. With
	 * helper threads the runs are shared out, each sampled in a read
	 * transaction of the connection of the thread that takes it. */
	if (nruns > 1 && mlf_pool_helpers() > 0) {
		struct bulk_part *parts = calloc((size_t)nruns, sizeof *parts);
		if (parts) {
			struct bulk_job job = {c->owner, rids,        k,     has_range, start_step,
			                       end_step, max_results, parts, sample};
			mlf_pool_run(nruns, bulk_task, &job);
			enum mlf_status s = MLF_OK;
			int total = 0;
			for (int r = 0; r < nruns; r++) {
				total += parts[r].n;
				if (s == MLF_OK && parts[r].s != MLF_OK) {
					*err = parts[r].err;
					s = err->status;
				}
			}
			*out = mlf_arena_alloc(a, (size_t)(total ? total : 1) * sizeof **out);
			for (int r = 0; r < nruns; r++) {
				if (s == MLF_OK && parts[r].n) {
					memcpy(*out + *n, parts[r].pts, (size_t)parts[r].n * sizeof **out);
					*n += parts[r].n;
				}
				mlf_arena_release(&parts[r].a);
			}
			free(parts);
			return s;
		}
	}
	/* One read transaction: no lock taken and dropped around each statement. */
	int own_txn = mlf_read_begin(c, err);
	if (own_txn < 0)
		return err->status;
	enum mlf_status s = MLF_OK;
	int cap = 0;
	for (int r = 0; r < nruns && s == MLF_OK; r++)
		s = sample(c, a, rids[r], k, has_range, start_step, end_step, max_results, out, n, &cap, err);
	mlf_read_end(c, own_txn);
	return s;
}

enum mlf_status mlf_metric_history_bulk_interval(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                                 int nruns, const char *key, int has_range, int64_t start_step,
                                                 int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                                 struct mlf_error *err)
{
	return bulk_read(c, a, run_ids, nruns, key, has_range, start_step, end_step, max_results, sample_run, out, n,
	                 err);
}

enum mlf_status mlf_metric_history_bulk_minmax(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                               int nruns, const char *key, int has_range, int64_t start_step,
                                               int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                               struct mlf_error *err)
{
	/* series logged before the block triggers existed are summarized
	 * first; when that fails (a store that cannot be written), or for what
	 * is past its budget, the sample reads the points */
	struct mlf_error build_err = {0};
	(void)mlf_metric_blocks_ensure(c, run_ids, nruns, key, &build_err);
	return bulk_read(c, a, run_ids, nruns, key, has_range, start_step, end_step, max_results, minmax_run, out, n,
	                 err);
}

enum mlf_status mlf_metric_history_bulk_firsts(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                               int nruns, const char *key, int has_range, int64_t start_step,
                                               int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                               struct mlf_error *err)
{
	return bulk_read(c, a, run_ids, nruns, key, has_range, start_step, end_step, max_results, firsts_run, out, n,
	                 err);
}
