/*
 * tracking.h: the tracking entities (experiments, runs, metrics, params,
 * tags, dataset inputs, model inputs/outputs) as plain C structs, and the
 * storage operations on them. Reads take a read connection (mlf_db_read);
 * writes take the db and run as jobs on the single writer (mlf_db_write),
 * so a returned MLF_OK means committed.
 *
 * Existence and state checks that need the database (unknown ids, deleted
 * runs, duplicate names, param overwrites) happen here with MLflow's error
 * codes and messages; syntactic validation (lengths, key charset, limits)
 * is the api layer's job.
 *
 * Every struct and string a read returns lives in the caller's arena.
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_TRACKING_H
#define MLF_TRACKING_H

#include <stdint.h>

#include "base.h"
#include "db.h"

struct mlf_kv {
	const char *key;
	const char *value;
};

enum mlf_view_type { MLF_VIEW_ACTIVE_ONLY = 1, MLF_VIEW_DELETED_ONLY = 2, MLF_VIEW_ALL = 3 };

/* ---- experiments (storage/experiments.c) ---- */

struct mlf_experiment {
	int64_t id;
	const char *name;
	const char *artifact_location;
	const char *lifecycle_stage; /* "active" or "deleted" */
	int64_t creation_time, last_update_time;
	struct mlf_kv *tags;
	int ntags;
	const char *workspace; /* the workspace column ("default"); NULL omits it */
};

/* Parse an experiment id as MLflow's SQL store does (an integer);
 * MLF_INVALID_PARAMETER_VALUE otherwise. */
enum mlf_status mlf_experiment_id_parse(const char *text, int64_t *out, struct mlf_error *err);

/* Create; artifact_location NULL means <default root>/<id>. */
enum mlf_status mlf_experiment_create(struct mlf_db *db, const char *name, const char *artifact_location,
                                      const struct mlf_kv *tags, int ntags, int64_t *out_id, struct mlf_error *err);
/* The same with the default artifact root given by the caller (the
 * server's --default-artifact-root): a NULL or "" artifact_location becomes
 * MLflow's append_to_uri_path(default_root, id). default_root is borrowed.
 * mlf_experiment_create derives the root from experiment 0's location. */
enum mlf_status mlf_experiment_create_with_root(struct mlf_db *db, const char *default_root, const char *name,
                                                const char *artifact_location, const struct mlf_kv *tags, int ntags,
                                                int64_t *out_id, struct mlf_error *err);
enum mlf_status mlf_experiment_get(struct mlf_conn *c, struct mlf_arena *a, int64_t id, struct mlf_experiment *out,
                                   struct mlf_error *err);
enum mlf_status mlf_experiment_get_by_name(struct mlf_conn *c, struct mlf_arena *a, const char *name,
                                           struct mlf_experiment *out, struct mlf_error *err);
/* One page of a search; *next_offset is -1 when there are no more. */
enum mlf_status mlf_experiment_search(struct mlf_conn *c, struct mlf_arena *a, enum mlf_view_type view,
                                      const char *filter, const char *const *order_by, int n_order_by,
                                      int64_t max_results, int64_t offset, struct mlf_experiment **out, int *n,
                                      int64_t *next_offset, struct mlf_error *err);
enum mlf_status mlf_experiment_rename(struct mlf_db *db, int64_t id, const char *new_name, struct mlf_error *err);
/* Soft delete (with its runs) or restore. */
enum mlf_status mlf_experiment_set_deleted(struct mlf_db *db, int64_t id, int deleted, struct mlf_error *err);
enum mlf_status mlf_experiment_set_tag(struct mlf_db *db, int64_t id, const char *key, const char *value,
                                       struct mlf_error *err);
enum mlf_status mlf_experiment_delete_tag(struct mlf_db *db, int64_t id, const char *key, struct mlf_error *err);

struct mlf_dataset_summary {
	int64_t experiment_id;
	const char *name, *digest, *context; /* context may be NULL */
};
enum mlf_status mlf_experiment_search_datasets(struct mlf_conn *c, struct mlf_arena *a, const int64_t *exp_ids,
                                               int n_exp, struct mlf_dataset_summary **out, int *n,
                                               struct mlf_error *err);

/* ---- runs (storage/runs.c) ---- */

struct mlf_metric {
	const char *key;
	double value;
	int64_t timestamp;
	int64_t step;
	const char *run_id;   /* set in bulk history answers */
	const char *model_id; /* optional (log paths) */
	const char *dataset_name, *dataset_digest;
};

struct mlf_run_info {
	const char *run_id;
	int64_t experiment_id;
	const char *run_name;
	const char *user_id;
	const char *status; /* "RUNNING", ... */
	int64_t start_time;
	int has_start_time;
	int64_t end_time;
	int has_end_time;
	const char *artifact_uri;
	const char *lifecycle_stage;
};

struct mlf_dataset {
	const char *name, *digest, *source_type, *source, *schema, *profile; /* schema/profile may be NULL */
};

struct mlf_dataset_input {
	struct mlf_kv *tags;
	int ntags;
	struct mlf_dataset dataset;
};

struct mlf_model_io {
	const char *model_id;
	int64_t step; /* outputs only */
};

struct mlf_run {
	struct mlf_run_info info;
	struct mlf_metric *metrics; /* latest value per key */
	int nmetrics;
	struct mlf_kv *params;
	int nparams;
	struct mlf_kv *tags;
	int ntags;
	struct mlf_dataset_input *inputs;
	int ninputs;
	struct mlf_model_io *model_inputs;
	int nmodel_inputs;
	struct mlf_model_io *model_outputs;
	int nmodel_outputs;
	int no_outputs; /* encoding hint: leave the outputs field out */
};

struct mlf_run_create {
	const char *experiment_id; /* text; "" or NULL means "0" */
	const char *user_id;
	const char *run_name;
	int64_t start_time;
	int has_start_time;
	const struct mlf_kv *tags;
	int ntags;
};

/* Creates the run and returns it whole in out (arena). */
enum mlf_status mlf_run_create(struct mlf_db *db, struct mlf_arena *a, const struct mlf_run_create *in,
                               struct mlf_run *out, struct mlf_error *err);
/* Whole run (info, latest metrics, params, tags, inputs, outputs). */
enum mlf_status mlf_run_get(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, struct mlf_run *out,
                            struct mlf_error *err);
/* Info only. */
enum mlf_status mlf_run_get_info(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, struct mlf_run_info *out,
                                 struct mlf_error *err);

struct mlf_run_update {
	const char *run_id;
	const char *status; /* NULL: unchanged */
	int64_t end_time;
	int has_end_time;
	const char *run_name; /* NULL: unchanged */
};
enum mlf_status mlf_run_update(struct mlf_db *db, struct mlf_arena *a, const struct mlf_run_update *in,
                               struct mlf_run_info *out, struct mlf_error *err);
enum mlf_status mlf_run_set_deleted(struct mlf_db *db, const char *run_id, int deleted, struct mlf_error *err);

/* A batch of params, metrics and tags for one run, written atomically in
 * MLflow's order (params, metrics, tags). Also the path of the single
 * log-metric / log-parameter / set-tag calls. */
struct mlf_batch {
	const char *run_id;
	const struct mlf_metric *metrics;
	int nmetrics;
	const struct mlf_kv *params;
	int nparams;
	const struct mlf_kv *tags;
	int ntags;
};
enum mlf_status mlf_run_log_batch(struct mlf_db *db, const struct mlf_batch *b, struct mlf_error *err);
enum mlf_status mlf_run_delete_tag(struct mlf_db *db, const char *run_id, const char *key, struct mlf_error *err);

/* Rewrite one tag of an active run from its current value in a single
 * write (MLflow's record_logged_model appends to mlflow.log-model.history
 * so): merge gets the value (NULL when the tag is unset) and returns the
 * new one, heap-allocated (freed here), or NULL with err set to refuse.
 * It may be called more than once (a write job can run again) and runs
 * on the writer thread while the caller waits, so ctx may be the
 * caller's. */
typedef char *(*mlf_tag_merge_fn)(const char *old, void *ctx, struct mlf_error *err);
enum mlf_status mlf_run_merge_tag(struct mlf_db *db, const char *run_id, const char *key, mlf_tag_merge_fn merge,
                                  void *ctx, struct mlf_error *err);

enum mlf_status mlf_run_log_inputs(struct mlf_db *db, const char *run_id, const struct mlf_dataset_input *inputs,
                                   int ninputs, const struct mlf_model_io *models, int nmodels, struct mlf_error *err);
enum mlf_status mlf_run_log_outputs(struct mlf_db *db, const char *run_id, const struct mlf_model_io *models,
                                    int nmodels, struct mlf_error *err);

/* One page of search_runs; *next_offset is -1 when there are no more. */
enum mlf_status mlf_run_search(struct mlf_conn *c, struct mlf_arena *a, const int64_t *exp_ids, int n_exp,
                               enum mlf_view_type view, const char *filter, const char *const *order_by, int n_order_by,
                               int64_t max_results, int64_t offset, struct mlf_run **out, int *n, int64_t *next_offset,
                               struct mlf_error *err);

/* ---- metric history (storage/metrics.c) ---- */

/* A page of one metric's history in (timestamp, step, value) order.
 * max_results <= 0 means all. paged: the caller hands out page tokens, so
 * the ordered series may be kept on c for the next pages (metrics.c). */
enum mlf_status mlf_metric_history(struct mlf_conn *c, struct mlf_arena *a, const char *run_id, const char *key,
                                   int64_t max_results, int64_t offset, int paged, struct mlf_metric **out, int *n,
                                   int64_t *next_offset, struct mlf_error *err);

/* Sampled history of several runs, as get-history-bulk-interval answers:
 * at most max_results steps per run (plus each run's first and last). */
enum mlf_status mlf_metric_history_bulk_interval(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                                 int nruns, const char *key, int has_range, int64_t start_step,
                                                 int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                                 struct mlf_error *err);
/* The same runs and range sampled for charts (mlflowd only, not MLflow's
 * sampling): about max_results buckets of equal step width per run (at
 * most max_results + 1; a width of a block or more is a whole number of
 * blocks, metric_blocks.h), each giving its first, last, lowest and
 * highest point, so spikes survive (at most 4 points per bucket, in
 * step order). Series without block summaries are summarized first
 * (write jobs), so it must not run inside a read transaction of c. */
enum mlf_status mlf_metric_history_bulk_minmax(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                               int nruns, const char *key, int has_range, int64_t start_step,
                                               int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                               struct mlf_error *err);

/* The cheap preview of mlf_metric_history_bulk_minmax (same buckets): each
 * bucket's first point and the range's last, found by one index seek each,
 * so about max_results rows are read per run however long its series. */
enum mlf_status mlf_metric_history_bulk_firsts(struct mlf_conn *c, struct mlf_arena *a, const char *const *run_ids,
                                               int nruns, const char *key, int has_range, int64_t start_step,
                                               int64_t end_step, int64_t max_results, struct mlf_metric **out, int *n,
                                               struct mlf_error *err);

#endif
