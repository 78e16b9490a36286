/*
 * logged_models.h: MLflow 3 logged models (tables logged_models,
 * logged_model_params, logged_model_tags, logged_model_metrics) and
 * search_logged_models with its own small filter compiler (MLflow's
 * search_logged_model_utils grammar: comparisons joined by AND, compiled to
 * SQL with bound values only).
 *
 * Reads take a read connection; writes run as writer jobs (a returned
 * MLF_OK means committed). Everything returned lives in the caller's arena.
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_LOGGED_MODELS_H
#define MLF_LOGGED_MODELS_H

#include <stdint.h>

#include "base.h"
#include "db.h"
#include "tracking.h"

/* LoggedModelStatus, as stored in logged_models.status. */
enum mlf_lm_status { MLF_LM_UNSPECIFIED = 0, MLF_LM_PENDING = 1, MLF_LM_READY = 2, MLF_LM_UPLOAD_FAILED = 3 };

/* "LOGGED_MODEL_READY" <-> 2; parse accepts names and decimal numbers. */
const char *mlf_lm_status_name(int status);
int mlf_lm_status_parse(const char *text, int *out);

struct mlf_lm_metric {
	const char *key;
	double value;
	int is_null;
	int64_t timestamp, step;
	const char *run_id, *dataset_name, *dataset_digest; /* may be NULL */
};

struct mlf_logged_model {
	const char *model_id;
	int64_t experiment_id;
	const char *name;
	const char *artifact_location;
	int64_t creation_timestamp_ms, last_updated_timestamp_ms;
	int status;
	const char *status_message; /* may be NULL */
	const char *lifecycle_stage;
	const char *model_type;    /* may be NULL */
	const char *source_run_id; /* may be NULL */
	struct mlf_kv *tags;
	int ntags;
	struct mlf_kv *params;
	int nparams;
	struct mlf_lm_metric *metrics;
	int nmetrics;
};

struct mlf_logged_model_create {
	int64_t experiment_id;
	const char *name;                       /* NULL: a random name */
	const char *model_type, *source_run_id; /* may be NULL */
	const struct mlf_kv *params;
	int nparams;
	const struct mlf_kv *tags;
	int ntags;
};

/* Check a model name as MLflow does (non-empty, none of / : . % " '). */
enum mlf_status mlf_logged_model_name_check(const char *name, struct mlf_error *err);

enum mlf_status mlf_logged_model_create(struct mlf_db *db, struct mlf_arena *a,
                                        const struct mlf_logged_model_create *in, struct mlf_logged_model *out,
                                        struct mlf_error *err);
/* 404 "Logged model with ID 'x' not found." (also for deleted models
 * unless allow_deleted). */
enum mlf_status mlf_logged_model_get(struct mlf_conn *c, struct mlf_arena *a, const char *model_id, int allow_deleted,
                                     struct mlf_logged_model *out, struct mlf_error *err);
enum mlf_status mlf_logged_model_finalize(struct mlf_db *db, const char *model_id, int status, struct mlf_error *err);
enum mlf_status mlf_logged_model_delete(struct mlf_db *db, const char *model_id, struct mlf_error *err);
/* Upsert; a key repeated in one call keeps its last value. */
enum mlf_status mlf_logged_model_set_tags(struct mlf_db *db, const char *model_id, const struct mlf_kv *tags, int ntags,
                                          struct mlf_error *err);
enum mlf_status mlf_logged_model_delete_tag(struct mlf_db *db, const char *model_id, const char *key,
                                            struct mlf_error *err);
enum mlf_status mlf_logged_model_log_params(struct mlf_db *db, const char *model_id, const struct mlf_kv *params,
                                            int nparams, struct mlf_error *err);

struct mlf_lm_order {
	const char *field_name;
	int ascending;
	const char *dataset_name, *dataset_digest; /* may be NULL */
};

struct mlf_lm_dataset {
	const char *name;
	const char *digest; /* may be NULL */
};

struct mlf_lm_search {
	const int64_t *experiment_ids;
	int nexp;
	const char *filter; /* NULL or "" = all */
	const struct mlf_lm_dataset *datasets;
	int ndatasets;
	const struct mlf_lm_order *order_by;
	int norder;
	int64_t max_results;
	int64_t offset;
};

/* One page; *next_offset is -1 when there are no more. */
enum mlf_status mlf_logged_model_search(struct mlf_conn *c, struct mlf_arena *a, const struct mlf_lm_search *q,
                                        struct mlf_logged_model **out, int *n, int64_t *next_offset,
                                        struct mlf_error *err);

#endif
