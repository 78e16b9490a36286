/*
 * metric_blocks.c: the per-block summaries of metric series that the
 * charts' min/max sample reads (see metric_blocks.h): their tables and
 * triggers, the merge rules both follow, the build of a series written
 * before the triggers existed, and the reads.
 */
#include "metric_blocks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mlf_mm_before(const struct mlf_mm_point *a, const struct mlf_mm_point *b)
{
	if (a->step != b->step)
		return a->step < b->step;
	if (a->timestamp != b->timestamp)
		return a->timestamp < b->timestamp;
	if (a->value != b->value)
		return a->value < b->value;
	return a->is_nan < b->is_nan;
}

struct mlf_mm_point mlf_mm_point_at(sqlite3_stmt *st)
{
	return (struct mlf_mm_point){.value = sqlite3_column_double(st, 0),
	                             .timestamp = sqlite3_column_int64(st, 1),
	                             .step = sqlite3_column_int64(st, 2),
	                             .is_nan = sqlite3_column_int(st, 3)};
}

void mlf_mm_from_point(struct mlf_mm_summary *s, const struct mlf_mm_point *p)
{
	s->first = s->last = s->lo = s->hi = *p;
	s->has_ext = !p->is_nan;
}

void mlf_mm_merge(struct mlf_mm_summary *s, const struct mlf_mm_summary *o)
{
	if (mlf_mm_before(&o->first, &s->first))
		s->first = o->first;
	if (mlf_mm_before(&s->last, &o->last))
		s->last = o->last;
	if (!o->has_ext)
		return;
	if (!s->has_ext || o->lo.value < s->lo.value || (o->lo.value == s->lo.value && mlf_mm_before(&o->lo, &s->lo)))
		s->lo = o->lo;
	if (!s->has_ext || o->hi.value > s->hi.value || (o->hi.value == s->hi.value && mlf_mm_before(&o->hi, &s->hi)))
		s->hi = o->hi;
	s->has_ext = 1;
}

int64_t mlf_metric_block_of(int64_t step)
{
	/* floor division without relying on >> of a negative number */
	return step >= 0 ? step / MLF_METRIC_BLOCK_STEPS : -((-(step + 1)) / MLF_METRIC_BLOCK_STEPS) - 1;
}

/* ---- tables and triggers ---- */

static const char tables_sql[] =
    "CREATE TABLE IF NOT EXISTS mlflowd_metric_blocks (run_uuid TEXT NOT NULL, \"key\" TEXT NOT NULL, "
    "block INTEGER NOT NULL, "
    "f_step INTEGER NOT NULL, f_ts INTEGER NOT NULL, f_value REAL NOT NULL, f_nan INTEGER NOT NULL, "
    "l_step INTEGER NOT NULL, l_ts INTEGER NOT NULL, l_value REAL NOT NULL, l_nan INTEGER NOT NULL, "
    "lo_step INTEGER, lo_ts INTEGER, lo_value REAL, hi_step INTEGER, hi_ts INTEGER, hi_value REAL, "
    "PRIMARY KEY (run_uuid, \"key\", block)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS mlflowd_metric_series (run_uuid TEXT NOT NULL, \"key\" TEXT NOT NULL, "
    "PRIMARY KEY (run_uuid, \"key\")) WITHOUT ROWID;";

/* SET col to the inserted block's value when cond holds (SQLite's UPDATE
 * evaluates every SET expression on the row as it was). */
#define PICK(cond, col) col " = CASE WHEN " cond " THEN excluded." col " ELSE " col " END"
#define FIRST_C "(excluded.f_step, excluded.f_ts, excluded.f_value, excluded.f_nan) < (f_step, f_ts, f_value, f_nan)"
#define LAST_C "(excluded.l_step, excluded.l_ts, excluded.l_value, excluded.l_nan) > (l_step, l_ts, l_value, l_nan)"
#define LO_C                                                                                            \
	"excluded.lo_value IS NOT NULL AND (lo_value IS NULL OR (excluded.lo_value, excluded.lo_step, " \
	"excluded.lo_ts) "                                                                              \
	"< (lo_value, lo_step, lo_ts))"
#define HI_C                                                                                      \
	"excluded.hi_value IS NOT NULL AND (hi_value IS NULL OR excluded.hi_value > hi_value OR " \
	"(excluded.hi_value = hi_value AND (excluded.hi_step, excluded.hi_ts) < (hi_step, hi_ts)))"
#define IF_FINITE(x) "CASE WHEN NEW.is_nan THEN NULL ELSE " x " END"
#define NEW_EXT IF_FINITE("NEW.step") ", " IF_FINITE("NEW.timestamp") ", " IF_FINITE("NEW.value")
#define SET_FIRST \
	PICK(FIRST_C, "f_step") ", " PICK(FIRST_C, "f_ts") ", " PICK(FIRST_C, "f_value") ", " PICK(FIRST_C, "f_nan")
#define SET_LAST \
	PICK(LAST_C, "l_step") ", " PICK(LAST_C, "l_ts") ", " PICK(LAST_C, "l_value") ", " PICK(LAST_C, "l_nan")
#define SET_LO PICK(LO_C, "lo_step") ", " PICK(LO_C, "lo_ts") ", " PICK(LO_C, "lo_value")
#define SET_HI PICK(HI_C, "hi_step") ", " PICK(HI_C, "hi_ts") ", " PICK(HI_C, "hi_value")
#define STR_(x) #x
#define STR(x) STR_(x)
#define SHIFT_S STR(MLF_METRIC_BLOCK_SHIFT) /* the block shift, in the triggers' SQL */

/* The triggers, exactly as they must stand in sqlite_master. */
static const char *const triggers[][2] = {
    {"mlflowd_metric_blocks_insert",
     "CREATE TRIGGER mlflowd_metric_blocks_insert AFTER INSERT ON metrics BEGIN "
     /* a series' first point: its blocks are complete from now on */
     "INSERT OR IGNORE INTO mlflowd_metric_series (run_uuid, \"key\") SELECT NEW.run_uuid, NEW.\"key\" "
     "WHERE NOT EXISTS (SELECT 1 FROM metrics WHERE run_uuid = NEW.run_uuid AND \"key\" = NEW.\"key\" "
     "AND rowid <> NEW.rowid); "
     "INSERT INTO mlflowd_metric_blocks VALUES (NEW.run_uuid, NEW.\"key\", NEW.step >> " SHIFT_S ", "
     "NEW.step, NEW.timestamp, NEW.value, NEW.is_nan, NEW.step, NEW.timestamp, NEW.value, NEW.is_nan, " NEW_EXT
     ", " NEW_EXT ") ON CONFLICT (run_uuid, \"key\", block) DO UPDATE SET " SET_FIRST ", " SET_LAST ", " SET_LO
     ", " SET_HI "; END"},
    {"mlflowd_metric_blocks_delete",
     "CREATE TRIGGER mlflowd_metric_blocks_delete AFTER DELETE ON metrics BEGIN "
     "DELETE FROM mlflowd_metric_series WHERE run_uuid = OLD.run_uuid AND \"key\" = OLD.\"key\"; "
     "DELETE FROM mlflowd_metric_blocks WHERE run_uuid = OLD.run_uuid AND \"key\" = OLD.\"key\" "
     "AND block = OLD.step >> " SHIFT_S "; END"},
    {"mlflowd_metric_blocks_update",
     "CREATE TRIGGER mlflowd_metric_blocks_update AFTER UPDATE ON metrics BEGIN "
     "DELETE FROM mlflowd_metric_series WHERE (run_uuid = OLD.run_uuid AND \"key\" = OLD.\"key\") "
     "OR (run_uuid = NEW.run_uuid AND \"key\" = NEW.\"key\"); END"},
};
#define NTRIGGERS ((int)(sizeof triggers / sizeof triggers[0]))

/* 1 when both tables and exactly mlflowd's triggers are in the file. */
static int installed(sqlite3 *h)
{
	sqlite3_stmt *st = NULL;
	int found = 0, tables = 0;
	if (sqlite3_prepare_v2(h,
	                       "SELECT type, name, sql FROM sqlite_master WHERE (type = 'trigger' AND tbl_name = "
	                       "'metrics' AND name LIKE 'mlflowd_metric_blocks_%') OR (type = 'table' AND name IN "
	                       "('mlflowd_metric_blocks', 'mlflowd_metric_series'))",
	                       -1, &st, NULL) != SQLITE_OK)
		return 0;
	int extra = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sql = (const char *)sqlite3_column_text(st, 2);
		if (!strcmp(type, "table")) {
			tables++;
			continue;
		}
		int ok = 0;
		for (int i = 0; i < NTRIGGERS; i++)
			if (!strcmp(name, triggers[i][0]) && sql && !strcmp(sql, triggers[i][1]))
				ok = 1;
		if (ok)
			found++;
		else
			extra++;
	}
	sqlite3_finalize(st);
	return tables == 2 && found == NTRIGGERS && !extra;
}

static int run(sqlite3 *h, const char *sql, char *msg, size_t n)
{
	char *e = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &e) == SQLITE_OK)
		return 0;
	snprintf(msg, n, "%s", e ? e : sqlite3_errmsg(h));
	sqlite3_free(e);
	return -1;
}

int mlf_metric_blocks_install(sqlite3 *h, char *msg, size_t n)
{
	if (installed(h))
		return 0;
	if (run(h, "BEGIN IMMEDIATE", msg, n) < 0)
		return -1;
	int r = 0;
	/* any trigger of ours, whatever its text */
	sqlite3_stmt *st = NULL;
	char drops[4096] = "";
	if (sqlite3_prepare_v2(
	        h,
	        "SELECT group_concat('DROP TRIGGER \"' || replace(name, '\"', '\"\"') || '\";', '') FROM "
	        "sqlite_master WHERE type = 'trigger' AND name LIKE 'mlflowd_metric_blocks_%'",
	        -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(drops, sizeof drops, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	r = run(h, drops, msg, n);
	if (!r)
		r = run(h, tables_sql, msg, n);
	if (!r)
		r = run(h, "DELETE FROM mlflowd_metric_series; DELETE FROM mlflowd_metric_blocks;", msg, n);
	for (int i = 0; i < NTRIGGERS && !r; i++)
		r = run(h, triggers[i][1], msg, n);
	if (!r)
		r = run(h, "COMMIT", msg, n);
	if (r)
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* ---- reads ---- */

enum mlf_status mlf_metric_blocks_ready(struct mlf_conn *c, const char *run_id, const char *key, int *ready,
                                        struct mlf_error *err)
{
	static const char sql[] = "SELECT 1 FROM mlflowd_metric_series WHERE run_uuid = ?1 AND \"key\" = ?2";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	int rc = sqlite3_step(st);
	*ready = rc == SQLITE_ROW;
	if (*ready)
		rc = sqlite3_step(st);
	return mlf_rows_done(c, st, rc, err) ? MLF_OK : err->status;
}

sqlite3_stmt *mlf_metric_blocks_query(struct mlf_conn *c, const char *run_id, const char *key, int64_t from, int64_t to,
                                      struct mlf_error *err)
{
	static const char sql[] = "SELECT f_step, f_ts, f_value, f_nan, l_step, l_ts, l_value, l_nan, lo_step, lo_ts, "
	                          "lo_value, hi_step, hi_ts, hi_value FROM mlflowd_metric_blocks WHERE run_uuid = ?1 "
	                          "AND \"key\" = ?2 AND block BETWEEN ?3 AND ?4 ORDER BY block";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return NULL;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	return st;
}

void mlf_metric_blocks_row(sqlite3_stmt *st, struct mlf_mm_summary *s)
{
	s->first = (struct mlf_mm_point){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
	                                 sqlite3_column_double(st, 2), sqlite3_column_int(st, 3)};
	s->last = (struct mlf_mm_point){sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
	                                sqlite3_column_double(st, 6), sqlite3_column_int(st, 7)};
	s->has_ext = sqlite3_column_type(st, 10) != SQLITE_NULL;
	if (s->has_ext) {
		s->lo = (struct mlf_mm_point){sqlite3_column_int64(st, 8), sqlite3_column_int64(st, 9),
		                              sqlite3_column_double(st, 10), 0};
		s->hi = (struct mlf_mm_point){sqlite3_column_int64(st, 11), sqlite3_column_int64(st, 12),
		                              sqlite3_column_double(st, 13), 0};
	}
}

/* ---- building a series ---- */

struct build {
	const char *run_id, *key; /* borrowed */
	int64_t from;             /* in: the first block this job builds */
	int64_t next;             /* out: where the next job starts */
	int64_t rows;             /* out: the points it read */
	int done;                 /* out: the series is summarized */
};

/* Merge one block's summary into the stored one (as the insert trigger
 * merges a point); a block not stored yet is inserted as it is. */
static enum mlf_status put_block(struct mlf_conn *c, const char *run_id, const char *key, int64_t block,
                                 const struct mlf_mm_summary *s, struct mlf_error *err)
{
	static const char sql[] = "INSERT INTO mlflowd_metric_blocks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	                          "?11, ?12, ?13, ?14, ?15, "
	                          "?16, ?17) ON CONFLICT (run_uuid, \"key\", block) DO UPDATE SET " SET_FIRST
	                          ", " SET_LAST ", " SET_LO ", " SET_HI;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, block);
	const struct mlf_mm_point *fl[2] = {&s->first, &s->last};
	for (int i = 0; i < 2; i++) {
		sqlite3_bind_int64(st, 4 + 4 * i, fl[i]->step);
		sqlite3_bind_int64(st, 5 + 4 * i, fl[i]->timestamp);
		sqlite3_bind_double(st, 6 + 4 * i, fl[i]->value);
		sqlite3_bind_int(st, 7 + 4 * i, fl[i]->is_nan);
	}
	if (s->has_ext) {
		const struct mlf_mm_point *ext[2] = {&s->lo, &s->hi};
		for (int i = 0; i < 2; i++) {
			sqlite3_bind_int64(st, 12 + 3 * i, ext[i]->step);
			sqlite3_bind_int64(st, 13 + 3 * i, ext[i]->timestamp);
			sqlite3_bind_double(st, 14 + 3 * i, ext[i]->value);
		}
	}
	return mlf_step_done(c, st, err);
}

/* Mark a series summarized: its blocks are complete. */
static enum mlf_status mark_series(struct mlf_conn *c, const char *run_id, const char *key, struct mlf_error *err)
{
	static const char sql[] = "INSERT OR IGNORE INTO mlflowd_metric_series (run_uuid, \"key\") VALUES (?1, ?2)";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	mlf_bind_text(st, 2, key);
	return mlf_step_done(c, st, err);
}

/* One write job: blocks from b->from on, rebuilt from the points, up to
 * about MLF_METRIC_BLOCKS_BUILD_ROWS of them. Blocks past where it stops
 * are dropped too: the next job builds them from the points again. */
static enum mlf_status build_job(struct mlf_conn *c, void *p, struct mlf_error *err)
{
	static const char del_sql[] = "DELETE FROM mlflowd_metric_blocks WHERE run_uuid = ?1 AND \"key\" = ?2 "
	                              "AND block >= ?3";
	static const char rows_sql[] =
	    "SELECT value, timestamp, step, is_nan FROM metrics INDEXED BY "
	    "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2 AND step >= ?3 "
	    "ORDER BY step";
	struct build *b = p;
	b->done = 0;
	b->next = b->from;
	b->rows = 0;
	sqlite3_stmt *st = mlf_stmt(c, del_sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, b->run_id);
	mlf_bind_text(st, 2, b->key);
	sqlite3_bind_int64(st, 3, b->from);
	if (mlf_step_done(c, st, err) != MLF_OK)
		return err->status;
	if (!(st = mlf_stmt(c, rows_sql, err)))
		return err->status;
	mlf_bind_text(st, 1, b->run_id);
	mlf_bind_text(st, 2, b->key);
	sqlite3_bind_int64(st, 3, b->from * MLF_METRIC_BLOCK_STEPS);
	struct mlf_mm_summary cur, one;
	int64_t block = 0, rows = 0;
	int have = 0, rc, stopped = 0;
	enum mlf_status s = MLF_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mlf_mm_point pt = mlf_mm_point_at(st);
		int64_t bl = mlf_metric_block_of(pt.step);
		if (have && bl != block) {
			if ((s = put_block(c, b->run_id, b->key, block, &cur, err)) != MLF_OK)
				break;
			have = 0;
			if (rows >= MLF_METRIC_BLOCKS_BUILD_ROWS) {
				b->next = bl;
				stopped = 1;
				break;
			}
		}
		mlf_mm_from_point(&one, &pt);
		if (have)
			mlf_mm_merge(&cur, &one);
		else
			cur = one, block = bl, have = 1;
		rows++;
	}
	b->rows = rows;
	if (s != MLF_OK) {
		sqlite3_reset(st);
		return s;
	}
	if (stopped) {
		sqlite3_reset(st);
		return MLF_OK;
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	if (have && put_block(c, b->run_id, b->key, block, &cur, err) != MLF_OK)
		return err->status;
	b->done = 1;
	return mark_series(c, b->run_id, b->key, err);
}

enum mlf_status mlf_metric_blocks_ensure(struct mlf_conn *c, const char *const *run_ids, int nruns, const char *key,
                                         struct mlf_error *err)
{
	int64_t budget = MLF_METRIC_BLOCKS_BUILD_BUDGET;
	for (int r = 0; r < nruns && budget > 0; r++) {
		int marked = 0, has_points = 0;
		if (mlf_metric_blocks_state(c, run_ids[r], key, &marked, &has_points, err) != MLF_OK)
			return err->status;
		if (marked || !has_points) /* no write for names nobody logged */
			continue;
		/* a series once begun is finished: its jobs start over otherwise */
		struct build b = {.run_id = run_ids[r], .key = key, .next = mlf_metric_block_of(INT64_MIN)};
		do {
			b.from = b.next;
			if (mlf_db_write(c->owner, build_job, &b, err) != MLF_OK)
				return err->status;
			budget -= b.rows;
		} while (!b.done);
	}
	return MLF_OK;
}

/* ---- mlflowd's own inserts (storage/runs.c) ---- */

static int cmp_block(const void *pa, const void *pb)
{
	const struct mlf_mm_block *a = pa, *b = pb;
	return (a->block > b->block) - (a->block < b->block);
}

int mlf_mm_blocks_of(const struct mlf_mm_point *pts, int n, struct mlf_mm_block *out)
{
	for (int i = 0; i < n; i++) {
		out[i].block = mlf_metric_block_of(pts[i].step);
		mlf_mm_from_point(&out[i].s, &pts[i]);
	}
	qsort(out, (size_t)n, sizeof *out, cmp_block);
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (m && out[m - 1].block == out[i].block)
			mlf_mm_merge(&out[m - 1].s, &out[i].s);
		else
			out[m++] = out[i];
	}
	return m;
}

static uint64_t mark_hash(const char *run_id, const char *key)
{
	uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
	for (const char *p = run_id; *p; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
	h = (h ^ 0x1f) * UINT64_C(1099511628211);
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
	return h ? h : 1; /* 0 marks an empty slot */
}

int mlf_metric_blocks_known(struct mlf_conn *c, const char *run_id, const char *key)
{
	if (!c->marks)
		return 0;
	uint64_t h = mark_hash(run_id, key);
	for (size_t i = h % MLF_METRIC_MARKS_SLOTS;; i = (i + 1) % MLF_METRIC_MARKS_SLOTS) {
		if (c->marks[i] == h)
			return 1;
		if (!c->marks[i])
			return 0;
	}
}

void mlf_metric_blocks_remember(struct mlf_conn *c, const char *run_id, const char *key)
{
	/* the slot after the table counts the used slots */
	if (!c->marks && !(c->marks = calloc(MLF_METRIC_MARKS_SLOTS + 1, sizeof *c->marks)))
		return;
	if (mlf_metric_blocks_known(c, run_id, key))
		return;
	if (c->marks[MLF_METRIC_MARKS_SLOTS] >= MLF_METRIC_MARKS_SLOTS / 2)
		memset(c->marks, 0, (MLF_METRIC_MARKS_SLOTS + 1) * sizeof *c->marks);
	uint64_t h = mark_hash(run_id, key);
	size_t i = h % MLF_METRIC_MARKS_SLOTS;
	while (c->marks[i])
		i = (i + 1) % MLF_METRIC_MARKS_SLOTS;
	c->marks[i] = h;
	c->marks[MLF_METRIC_MARKS_SLOTS]++;
}

enum mlf_status mlf_metric_blocks_state(struct mlf_conn *c, const char *run_id, const char *key, int *marked,
                                        int *has_points, struct mlf_error *err)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM mlflowd_metric_series WHERE run_uuid = ?1 AND "
	                          "\"key\" = ?2), EXISTS (SELECT 1 FROM metrics INDEXED BY "
	                          "index_metrics_run_uuid_key_step WHERE run_uuid = ?1 AND key = ?2)";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	*marked = *has_points = 0;
	if (rc == SQLITE_ROW) {
		*marked = sqlite3_column_int(st, 0);
		*has_points = sqlite3_column_int(st, 1);
		rc = sqlite3_step(st);
	}
	return mlf_rows_done(c, st, rc, err) ? MLF_OK : err->status;
}

enum mlf_status mlf_metric_blocks_merge(struct mlf_conn *c, const char *run_id, const char *key,
                                        const struct mlf_mm_block *blocks, int n, int mark, struct mlf_error *err)
{
	for (int i = 0; i < n; i++)
		if (put_block(c, run_id, key, blocks[i].block, &blocks[i].s, err) != MLF_OK)
			return err->status;
	return mark ? mark_series(c, run_id, key, err) : MLF_OK;
}
