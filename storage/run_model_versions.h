/*
 * run_model_versions.h: the registered model versions made from one run,
 * read straight from MLflow's model_versions table (what the run page's
 * "Registered models" shows). Read-only; the registry's own endpoints live
 * elsewhere. Strings live in the caller's arena; no JSON or HTTP here.
 */
#ifndef MLF_RUN_MODEL_VERSIONS_H
#define MLF_RUN_MODEL_VERSIONS_H

#include <stdint.h>

#include "base.h"
#include "db.h"

/* MLflow's SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT: the page size of the
 * run's model-version search. */
#define MLF_RUN_MODEL_VERSIONS_MAX 10000

struct mlf_model_version {
	const char *name;
	int64_t version;
	int64_t creation_time, last_updated_time;
	const char *description, *user_id, *current_stage, *source, *run_id, *status, *status_message, *run_link;
	/* any may be NULL (SQL NULL) */
};

/* Versions with run_id = run_id in the default workspace, leaving out
 * deleted ones (stage Deleted_Internal), in MLflow's default order
 * (last_updated_time DESC, name ASC, version DESC), at most
 * MLF_RUN_MODEL_VERSIONS_MAX. */
enum mlf_status mlf_run_model_versions(struct mlf_conn *c, struct mlf_arena *a, const char *run_id,
                                       struct mlf_model_version **out, int *n, struct mlf_error *err);

#endif
