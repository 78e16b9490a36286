/*
 * metric_blocks.h: per-block summaries of metric series, so the charts'
 * min/max sample reads one summary row per block of steps instead of every
 * point (storage/metric_blocks.c; the sampler is in storage/metrics.c).
 *
 * A series (run_uuid, key) is cut into blocks of MLF_METRIC_BLOCK_STEPS
 * consecutive steps (block = step >> MLF_METRIC_BLOCK_SHIFT). Each block
 * keeps its first and last point and its lowest and highest finite point,
 * in the order of mlf_mm_before. Triggers on MLflow's metrics table keep
 * the blocks up to date whoever writes the file (mlflowd, stock MLflow's
 * server or its SQLAlchemy store): every insert merges its point into its
 * block. A series is summarized when it has a row in
 * mlflowd_metric_series; only then are its blocks complete. The insert
 * trigger adds that row with a series' first point; a series that had
 * points before the triggers existed is built on first use
 * (mlf_metric_blocks_build). Any delete or update of a series' points
 * drops the row (and the deleted point's block), so the series is built
 * again before its blocks are used.
 *
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_METRIC_BLOCKS_H
#define MLF_METRIC_BLOCKS_H

#include <stdint.h>

#include "db.h"

/* Steps per block: 32. Smaller blocks cost more summary rows to read for
 * a whole series; larger ones round the sampler's bucket width up
 * further and leave more points to read where a range cuts a block. */
#define MLF_METRIC_BLOCK_SHIFT 5
#define MLF_METRIC_BLOCK_STEPS (INT64_C(1) << MLF_METRIC_BLOCK_SHIFT)
/* Points one write job of a build reads at most (plus the rest of the
 * block it stops in), so a long series does not hold the writer for long. */
#define MLF_METRIC_BLOCKS_BUILD_ROWS 100000
/* Points one read builds at most before it leaves the remaining series to
 * be read point by point (and built by a later read); a series once begun
 * is finished. */
#define MLF_METRIC_BLOCKS_BUILD_BUDGET 2000000
/* Slots of the writer's set of summarized series (8 bytes each). */
#define MLF_METRIC_MARKS_SLOTS 65536

/* A point as stored: value as in the metrics table (no NaN; is_nan says). */
struct mlf_mm_point {
	int64_t step, timestamp;
	double value;
	int is_nan;
};

/* What a bucket or a block keeps: its first and last point and the points
 * with its lowest and highest finite value (has_ext: it has a finite one). */
struct mlf_mm_summary {
	struct mlf_mm_point first, last, lo, hi;
	int has_ext;
};

/* The series order: (step, timestamp, value, is_nan), unique in a series
 * by MLflow's primary key. */
int mlf_mm_before(const struct mlf_mm_point *a, const struct mlf_mm_point *b);

/* The point in st's current row (value, timestamp, step, is_nan), as
 * stored. */
struct mlf_mm_point mlf_mm_point_at(sqlite3_stmt *st);

/* s = the summary of the one point p. */
void mlf_mm_from_point(struct mlf_mm_summary *s, const struct mlf_mm_point *p);

/* Merge o into s: first and last by mlf_mm_before, lowest and highest
 * value with ties going to the point first in that order (the rules the
 * triggers follow). */
void mlf_mm_merge(struct mlf_mm_summary *s, const struct mlf_mm_summary *o);

/* The block of a step (floor division by MLF_METRIC_BLOCK_STEPS, as
 * SQLite's >> computes it). */
int64_t mlf_metric_block_of(int64_t step);

/* Create the summary tables and triggers on the writer's connection h at
 * open, in one transaction. When the triggers are missing or not exactly
 * mlflowd's (a table rebuild by a migration drops them), every summary is
 * dropped first: what was written without them is unknown. 0 on success,
 * else -1 with a reason in msg. */
int mlf_metric_blocks_install(sqlite3 *h, char *msg, size_t n);

/* *ready = 1 when the series' blocks are complete (read connection c,
 * inside the caller's read transaction if any). */
enum mlf_status mlf_metric_blocks_ready(struct mlf_conn *c, const char *run_id, const char *key, int *ready,
                                        struct mlf_error *err);

/* Make the series of run_ids x key that have points summarized, through
 * write jobs of at most about MLF_METRIC_BLOCKS_BUILD_ROWS points each,
 * until about MLF_METRIC_BLOCKS_BUILD_BUDGET points were read; call
 * outside a read transaction of c (the reads after it must see the jobs'
 * commits). A series written meanwhile stays right: the writers keep the
 * blocks a job has built. A series without points is left alone (no
 * write for a name nobody logged). */
enum mlf_status mlf_metric_blocks_ensure(struct mlf_conn *c, const char *const *run_ids, int nruns, const char *key,
                                         struct mlf_error *err);

/* The stored blocks [from, to] of a series in block order, for the
 * sampler: st is a cached statement of c positioned by the caller's loop;
 * mlf_metric_blocks_row reads the current row. */
sqlite3_stmt *mlf_metric_blocks_query(struct mlf_conn *c, const char *run_id, const char *key, int64_t from, int64_t to,
                                      struct mlf_error *err);
void mlf_metric_blocks_row(sqlite3_stmt *st, struct mlf_mm_summary *s);

/* ---- mlflowd's own inserts (storage/runs.c) ----
 * No trigger runs on mlflowd's writer connection (db.c), so a write job
 * that inserts points keeps the blocks itself: for each series of the
 * job it reads the series' state before its points go in, then merges the
 * job's blocks (mlf_mm_blocks_of, made on the request's thread) into the
 * series' blocks whatever its state, as the trigger would (a series being
 * built keeps the blocks a build job wrote), and marks a new series (no
 * points before). mlflowd never deletes or updates points. */
struct mlf_mm_block {
	int64_t block;
	struct mlf_mm_summary s;
};

/* The blocks of n points of one series, merged per block, in block order,
 * into out (room for n); returns how many. */
int mlf_mm_blocks_of(const struct mlf_mm_point *pts, int n, struct mlf_mm_block *out);

/* Whether the writer connection c has seen the series summarized (a set
 * of hashes, MLF_METRIC_MARKS_SLOTS of them, emptied when half full): a
 * series it names may have lost its mark since, or be another series with
 * the same hash; then mlflowd does not mark it, and it is built on its
 * first min/max read, so the set can never make a sample wrong. */
int mlf_metric_blocks_known(struct mlf_conn *c, const char *run_id, const char *key);
void mlf_metric_blocks_remember(struct mlf_conn *c, const char *run_id, const char *key);

/* *marked: the series is summarized; *has_points: it has points. The
 * strings are bound without copies (they must outlive the statement's
 * next reset, which mlf_rows_done does before returning). */
enum mlf_status mlf_metric_blocks_state(struct mlf_conn *c, const char *run_id, const char *key, int *marked,
                                        int *has_points, struct mlf_error *err);
/* Merge blocks into the series' summaries (as the insert trigger merges a
 * point); mark: also mark the series summarized. */
enum mlf_status mlf_metric_blocks_merge(struct mlf_conn *c, const char *run_id, const char *key,
                                        const struct mlf_mm_block *blocks, int n, int mark, struct mlf_error *err);

#endif
