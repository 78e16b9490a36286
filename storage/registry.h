/*
 * registry.h: MLflow's model registry in its own tables (registered_models,
 * model_versions, registered_model_tags, model_version_tags,
 * registered_model_aliases), all rows in workspace 'default' as MLflow
 * 3.17.2 writes them without workspaces: registered models with tags,
 * aliases and their latest version per stage; model versions with tags,
 * stages, MLflow's soft delete; the two searches (filters compiled by
 * storage/search.c).
 *
 * Reads take a read connection and read one snapshot; writes run as
 * writer jobs (a returned MLF_OK means committed). Existence checks and
 * their messages (404 RESOURCE_DOES_NOT_EXIST, 400 RESOURCE_ALREADY_EXISTS)
 * are made here; syntactic validation (names, aliases, stages, versions,
 * tag lengths, sources) is the api layer's. Everything returned lives in
 * the caller's arena. This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_REGISTRY_H
#define MLF_REGISTRY_H

#include <stdint.h>

#include "base.h"
#include "db.h"
#include "search.h"
#include "tracking.h"

/* MLflow's stage names (model_version_stages.py). */
#define MLF_STAGE_NONE "None"
#define MLF_STAGE_STAGING "Staging"
#define MLF_STAGE_PRODUCTION "Production"
#define MLF_STAGE_ARCHIVED "Archived"
#define MLF_STAGE_DELETED "Deleted_Internal"
/* The tag that marks prompts (registered models and their versions). */
#define MLF_PROMPT_TAG "mlflow.prompt.is_prompt"

struct mlf_model_version {
	const char *name;
	int64_t version;
	int64_t creation_time, last_updated_time;
	const char *description; /* may be NULL (omitted) */
	const char *user_id, *current_stage, *source, *run_id, *status, *status_message, *run_link; /* may be NULL */
	const char *storage_location;                                                               /* may be NULL */
	struct mlf_kv *tags;
	int ntags;
	const char **aliases; /* NULL where MLflow answers none (searches, latest_versions) */
	int naliases;
};

struct mlf_registered_model {
	const char *name;
	int64_t creation_time, last_updated_time;
	const char *description;          /* may be NULL */
	struct mlf_model_version *latest; /* latest version per stage */
	int nlatest;
	struct mlf_kv *tags;
	int ntags;
	struct mlf_kv *aliases; /* key = alias, value = version as text */
	int naliases;
};

/* ---- registered models ---- */

/* Create with tags (a repeated key keeps its last value). A taken name is
 * 400 RESOURCE_ALREADY_EXISTS with MLflow's model/prompt wording. */
enum mlf_status mlf_rm_create(struct mlf_db *db, const char *name, const char *description, const struct mlf_kv *tags,
                              int ntags, struct mlf_error *err);
/* 404 "Registered Model with name=X not found". */
enum mlf_status mlf_rm_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, struct mlf_registered_model *out,
                           struct mlf_error *err);
/* Whether the registered model carries mlflow.prompt.is_prompt = 'true'
 * (0 when it does not exist). */
int mlf_rm_is_prompt(struct mlf_conn *c, const char *name);
enum mlf_status mlf_rm_update(struct mlf_db *db, const char *name, const char *description, struct mlf_error *err);
/* Its versions, tags and aliases follow the new name. */
enum mlf_status mlf_rm_rename(struct mlf_db *db, const char *name, const char *new_name, struct mlf_error *err);
/* With its versions, their tags, its tags and aliases. */
enum mlf_status mlf_rm_delete(struct mlf_db *db, const char *name, struct mlf_error *err);
enum mlf_status mlf_rm_set_tag(struct mlf_db *db, const char *name, const char *key, const char *value,
                               struct mlf_error *err);
/* A missing tag is no error (MLflow's behaviour). */
enum mlf_status mlf_rm_delete_tag(struct mlf_db *db, const char *name, const char *key, struct mlf_error *err);

/* One page of search_registered_models, from pos (an offset, or the
 * sort key of the row before the page: search.h); next->offset is -1 at
 * the end, else next is the following page's position. The models' tags,
 * aliases and latest versions may live in c's cache (registry.c) instead
 * of the arena: valid until c's next search. */
enum mlf_status mlf_rm_search(struct mlf_conn *c, struct mlf_arena *a, const char *filter, const char *const *order_by,
                              int n_order_by, int64_t max_results, const struct mlf_page_pos *pos,
                              struct mlf_registered_model **out, int *n, struct mlf_page_pos *next,
                              struct mlf_error *err);
/* Latest version of each stage, restricted to `stages` (canonical names)
 * when nstages > 0; with aliases. */
enum mlf_status mlf_rm_latest_versions(struct mlf_conn *c, struct mlf_arena *a, const char *name,
                                       const char *const *stages, int nstages, struct mlf_model_version **out, int *n,
                                       struct mlf_error *err);

/* ---- aliases ---- */

/* The version must exist and not be deleted. */
enum mlf_status mlf_alias_set(struct mlf_db *db, const char *name, const char *alias, int64_t version,
                              struct mlf_error *err);
enum mlf_status mlf_alias_delete(struct mlf_db *db, const char *name, const char *alias, struct mlf_error *err);
/* "latest" (any case) is the highest live version. An unknown alias is
 * 400 "Registered model alias X not found." as in MLflow. */
enum mlf_status mlf_alias_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, const char *alias,
                              struct mlf_model_version *out, struct mlf_error *err);

/* ---- model versions ---- */

struct mlf_mv_create {
	const char *name;
	const char *source, *storage_location;       /* storage_location may be NULL */
	const char *run_id, *run_link, *description; /* may be NULL */
	const struct mlf_kv *tags;
	int ntags;
};

/* Version = highest ever used (deleted ones included) + 1; *version set. */
enum mlf_status mlf_mv_create(struct mlf_db *db, const struct mlf_mv_create *in, int64_t *version,
                              struct mlf_error *err);
/* Live versions only; 404 "Model Version (name=X, version=N) not found".
 * with_aliases fills out->aliases. */
enum mlf_status mlf_mv_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, int64_t version, int with_aliases,
                           struct mlf_model_version *out, struct mlf_error *err);
/* description NULL stores NULL. */
enum mlf_status mlf_mv_update(struct mlf_db *db, const char *name, int64_t version, const char *description,
                              struct mlf_error *err);
/* stage canonical; archive moves the other versions in that stage to
 * Archived. */
enum mlf_status mlf_mv_transition(struct mlf_db *db, const char *name, int64_t version, const char *stage, int archive,
                                  struct mlf_error *err);
/* MLflow's soft delete: stage Deleted_Internal, source/run redacted, its
 * aliases removed, its tags kept. */
enum mlf_status mlf_mv_delete(struct mlf_db *db, const char *name, int64_t version, struct mlf_error *err);
enum mlf_status mlf_mv_set_tag(struct mlf_db *db, const char *name, int64_t version, const char *key, const char *value,
                               struct mlf_error *err);
enum mlf_status mlf_mv_delete_tag(struct mlf_db *db, const char *name, int64_t version, const char *key,
                                  struct mlf_error *err);
/* One page of search_model_versions (live versions); pos and next as
 * for mlf_rm_search. */
enum mlf_status mlf_mv_search(struct mlf_conn *c, struct mlf_arena *a, const char *filter, const char *const *order_by,
                              int n_order_by, int64_t max_results, const struct mlf_page_pos *pos,
                              struct mlf_model_version **out, int *n, struct mlf_page_pos *next, struct mlf_error *err);

#endif
