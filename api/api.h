/*
 * api.h: what a REST handler sees. The server layer builds a struct mlf_req
 * (decoded JSON or query parameters, path parameters, an arena, the store)
 * and calls one handler from the route table; the handler validates the
 * input, calls storage, and writes its JSON answer into req->out. On error
 * it returns a status and fills req->err; the dispatcher writes MLflow's
 * error body. Handlers never write to the network themselves, except the
 * streaming ones (flag MLF_ROUTE_RAW) which use the server's helpers.
 */
#ifndef MLF_API_H
#define MLF_API_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../storage/base.h"
#include "../storage/db.h"
#include "../storage/tracking.h"
#include "json.h"

struct mlf_config;

#define MLF_MAX_PATH_PARAMS 4

struct mlf_req {
	const char *method;                      /* "GET", "POST", ... */
	const char *path;                        /* path below the API prefix, e.g. "/mlflow/runs/get" */
	const char *prefix;                      /* "/api/2.0", "/ajax-api/2.0", ... or "" */
	cJSON *in;                               /* request fields: JSON body, or query string as an object
	                                            (repeated keys become arrays); never NULL; owned by dispatcher */
	const char *params[MLF_MAX_PATH_PARAMS]; /* {x} segments of the route, arena-owned */
	int nparams;
	struct mlf_arena arena;       /* request-scoped memory, released by the dispatcher */
	struct mlf_json out;          /* the JSON answer (status 200) */
	struct mlf_error err;         /* filled by a failing handler */
	struct mlf_db *db;            /* the store; borrowed */
	const struct mlf_config *cfg; /* server configuration; borrowed */
	void *conn;                   /* the civetweb connection (raw handlers only) */
	int raw_done;                 /* set by a raw handler that answered itself */
};

typedef enum mlf_status (*mlf_handler_fn)(struct mlf_req *req);

/* ---- experiments (api/experiments.c) ---- */
enum mlf_status mlf_api_experiments_create(struct mlf_req *req);
enum mlf_status mlf_api_experiments_get(struct mlf_req *req);
enum mlf_status mlf_api_experiments_get_by_name(struct mlf_req *req);
enum mlf_status mlf_api_experiments_search(struct mlf_req *req);
enum mlf_status mlf_api_experiments_update(struct mlf_req *req);
enum mlf_status mlf_api_experiments_delete(struct mlf_req *req);
enum mlf_status mlf_api_experiments_restore(struct mlf_req *req);
enum mlf_status mlf_api_experiments_set_tag(struct mlf_req *req);
enum mlf_status mlf_api_experiments_delete_tag(struct mlf_req *req);
enum mlf_status mlf_api_experiments_search_datasets(struct mlf_req *req);

/* ---- runs (api/runs.c) ---- */
enum mlf_status mlf_api_runs_create(struct mlf_req *req);
enum mlf_status mlf_api_runs_get(struct mlf_req *req);
enum mlf_status mlf_api_runs_update(struct mlf_req *req);
enum mlf_status mlf_api_runs_delete(struct mlf_req *req);
enum mlf_status mlf_api_runs_restore(struct mlf_req *req);
enum mlf_status mlf_api_runs_search(struct mlf_req *req);
enum mlf_status mlf_api_runs_set_tag(struct mlf_req *req);
/* api/log_model.c */
enum mlf_status mlf_api_runs_log_model(struct mlf_req *req);
enum mlf_status mlf_api_runs_delete_tag(struct mlf_req *req);
enum mlf_status mlf_api_runs_log_metric(struct mlf_req *req);
enum mlf_status mlf_api_runs_log_param(struct mlf_req *req);
enum mlf_status mlf_api_runs_log_batch(struct mlf_req *req);
enum mlf_status mlf_api_runs_log_inputs(struct mlf_req *req);
enum mlf_status mlf_api_runs_log_outputs(struct mlf_req *req);

/* ---- metrics (api/metrics.c) ---- */
enum mlf_status mlf_api_metrics_get_history(struct mlf_req *req);
enum mlf_status mlf_api_metrics_get_history_bulk(struct mlf_req *req);
enum mlf_status mlf_api_metrics_get_history_bulk_interval(struct mlf_req *req);

/* ---- GraphQL for MLflow's web UI (api/graphql.c) ---- */
enum mlf_status mlf_api_graphql(struct mlf_req *req);
/* ---- mlflowd-only endpoints of the web UI (api/ui.c) ---- */
enum mlf_status mlf_api_mlflowd_experiment_keys(struct mlf_req *req);
enum mlf_status mlf_api_mlflowd_metrics_bulk_minmax(struct mlf_req *req); /* in api/metrics.c */

/* ---- server info (api/server_info.c) ---- */
enum mlf_status mlf_api_server_info(struct mlf_req *req);
/* Endpoints MLflow's web UI calls on every page, answered with stock's defaults. */
enum mlf_status mlf_api_ui_telemetry_config(struct mlf_req *req);
enum mlf_status mlf_api_ui_telemetry_post(struct mlf_req *req);
enum mlf_status mlf_api_assistant_config(struct mlf_req *req);
enum mlf_status mlf_api_assistant_providers(struct mlf_req *req);
enum mlf_status mlf_api_gateway_proxy(struct mlf_req *req);
enum mlf_status mlf_api_empty_search(struct mlf_req *req);

/* ---- artifacts (api/artifacts.c; raw streaming routes) ---- */
enum mlf_status mlf_api_mlflow_artifacts_get(struct mlf_req *req);
enum mlf_status mlf_api_mlflow_artifacts_put(struct mlf_req *req);
enum mlf_status mlf_api_mlflow_artifacts_delete(struct mlf_req *req);
enum mlf_status mlf_api_mlflow_artifacts_list(struct mlf_req *req);
enum mlf_status mlf_api_mlflow_artifacts_mpu(struct mlf_req *req);
enum mlf_status mlf_api_mlflow_artifacts_presigned(struct mlf_req *req);
enum mlf_status mlf_api_artifacts_list(struct mlf_req *req);
enum mlf_status mlf_api_get_artifact(struct mlf_req *req);
enum mlf_status mlf_api_get_trace_artifact(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_list_artifacts(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_get_artifact(struct mlf_req *req);

/* ---- logged models (api/logged_models.c) ---- */
enum mlf_status mlf_api_logged_models_create(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_get(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_finalize(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_delete(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_log_params(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_set_tags(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_delete_tag(struct mlf_req *req);
enum mlf_status mlf_api_logged_models_search(struct mlf_req *req);

/* ---- traces and assessments (api/traces.c) ---- */
enum mlf_status mlf_api_traces_start(struct mlf_req *req);
enum mlf_status mlf_api_traces_get_info(struct mlf_req *req);
enum mlf_status mlf_api_traces_get(struct mlf_req *req);
enum mlf_status mlf_api_traces_batch_get(struct mlf_req *req);
enum mlf_status mlf_api_traces_batch_get_infos(struct mlf_req *req);
enum mlf_status mlf_api_traces_search(struct mlf_req *req);
enum mlf_status mlf_api_traces_set_tag(struct mlf_req *req);
enum mlf_status mlf_api_traces_delete_tag(struct mlf_req *req);
enum mlf_status mlf_api_traces_delete(struct mlf_req *req);
enum mlf_status mlf_api_traces_link_to_run(struct mlf_req *req);
enum mlf_status mlf_api_traces_link_prompts(struct mlf_req *req);
enum mlf_status mlf_api_assessments_create(struct mlf_req *req);
enum mlf_status mlf_api_assessments_get(struct mlf_req *req);
enum mlf_status mlf_api_assessments_update(struct mlf_req *req);
enum mlf_status mlf_api_assessments_delete(struct mlf_req *req);
enum mlf_status mlf_api_otlp_traces(struct mlf_req *req);

/* ---- request text (api/decode.c) ---- */

/* Set on a cJSON number item whose text had a fraction or an exponent
 * ("9.0", "1e3"): a float to Python, whose messages say so. cJSON's own
 * type bits end below it and its type tests mask them. */
#define MLF_JSON_FLOAT_TEXT (1 << 12)

/* MLF_OK when s[0..n) is well-formed UTF-8 without a NUL byte, else
 * MLF_INVALID_PARAMETER_VALUE with err naming `where` ("the query
 * string"). */
enum mlf_status mlf_text_check(const char *s, size_t n, const char *where, struct mlf_error *err);
/* Decode a JSON request body into a new object (the caller owns it and
 * frees it with cJSON_Delete). A body that is empty, malformed, too deep
 * or not an object decodes to {} (MLflow's get_json(silent=True)); a
 * JSON string is decoded once more (old clients double-encode). Text that
 * is not UTF-8 or holds a NUL (raw or as \u0000, at either level) is
 * refused: NULL with err filled (MLF_INVALID_PARAMETER_VALUE). Numbers
 * written as floats carry MLF_JSON_FLOAT_TEXT. */
cJSON *mlf_decode_body(const char *body, size_t n, struct mlf_error *err);
/* ---- model registry (api/registry.c) ---- */
enum mlf_status mlf_api_registered_models_create(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_get(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_update(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_rename(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_delete(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_search(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_get_latest_versions(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_set_tag(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_delete_tag(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_set_alias(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_delete_alias(struct mlf_req *req);
enum mlf_status mlf_api_registered_models_get_alias(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_create(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_get(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_update(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_delete(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_search(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_get_download_uri(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_transition_stage(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_set_tag(struct mlf_req *req);
enum mlf_status mlf_api_model_versions_delete_tag(struct mlf_req *req);
/* The UI's /model-versions/get-artifact (raw; api/artifacts.c). */
enum mlf_status mlf_api_model_versions_get_artifact(struct mlf_req *req);
/* Download location of a live model version, with the registry's checks of
 * name and version (NULL name or version: "Missing value" errors). */
enum mlf_status mlf_api_model_version_download_uri(struct mlf_req *req, const char *name, const char *version_text,
                                                   const char **uri);

/* ---- request decoding helpers (api/decode.c) ----
 * Each getter looks a field up case-sensitively in req->in. "Required"
 * getters fail with MLflow's "Missing value for required parameter" error
 * when the field is absent, null or "". Type errors give MLflow's
 * "Invalid value ... for parameter ..." error. Returned strings live in
 * req->in or the arena. */
enum mlf_status mlf_get_str(struct mlf_req *req, const char *name, int required, const char **out);
/* run_id, falling back to run_uuid, as MLflow's handlers do. */
enum mlf_status mlf_get_run_id(struct mlf_req *req, const char **out);
/* int64 given as a JSON number or a decimal string; *present says whether
 * the field was given. */
enum mlf_status mlf_get_int64(struct mlf_req *req, const char *name, int required, int64_t *out, int *present);
/* double, also "NaN", "Infinity", "-Infinity". */
enum mlf_status mlf_get_double(struct mlf_req *req, const char *name, int required, double *out, int *present);
/* Array of strings (a single string counts as one element). */
enum mlf_status mlf_get_str_array(struct mlf_req *req, const char *name, const char ***out, int *n);
/* Field value as a cJSON item, NULL if absent or null. */
cJSON *mlf_get_item(struct mlf_req *req, const char *name);

/* Same checks for a sub-object (elements of arrays like metrics[]): `what`
 * names the field in messages. */
enum mlf_status mlf_obj_str(struct mlf_req *req, cJSON *obj, const char *name, int required, const char **out);
enum mlf_status mlf_obj_int64(struct mlf_req *req, cJSON *obj, const char *name, int required, int64_t *out,
                              int *present);
enum mlf_status mlf_obj_double(struct mlf_req *req, cJSON *obj, const char *name, int required, double *out,
                               int *present);

/* 1 with *out = v's value truncated toward zero when v is a JSON number
 * an int64 holds, else 0 (converting a larger double is undefined in C). */
int mlf_json_to_int64(const cJSON *v, int64_t *out);

/* MLflow's "Invalid value <json> for parameter 'x' supplied" error. */
enum mlf_status mlf_bad_type(struct mlf_req *req, const char *name, cJSON *v);

/* Start a paged read: decode page_token `token` (NULL or "" is offset 0)
 * into *offset, then take this thread's reader connection into *c
 * (borrowed from req->db; not to be closed). On failure returns the status
 * with req->err filled. Thread-safe as mlf_db_read is: per request. */
enum mlf_status mlf_page_read_begin(struct mlf_req *req, const char *token, int64_t *offset, struct mlf_conn **c);

#endif

/* ---- validation shared by resources (api/validate.c) ---- */
struct mlf_run;
struct mlf_run_info;
struct mlf_metric;

/* Length of s in Unicode code points (what MLflow's limits count). */
size_t mlf_utf8_len(const char *s);
/* s cut to at most limit code points (arena copy when cut; s otherwise). */
const char *mlf_utf8_truncate(struct mlf_arena *a, const char *s, size_t limit);
/* MLflow's checks of a metric/param/tag key: charset, path uniqueness;
 * `path` names the field in messages ("key", "metrics[3].key", ...). */
enum mlf_status mlf_validate_key(struct mlf_req *req, const char *key, const char *path);
/* Key length check with MLflow's "'<what>' exceeds the maximum length" message. */
enum mlf_status mlf_validate_length(struct mlf_req *req, const char *what, const char *value, size_t limit);
/* Path-uniqueness check of a name (posixpath.normpath must not change it):
 * MLflow's "Invalid value ... Names may be treated as files" error. */
enum mlf_status mlf_validate_path_unique(struct mlf_req *req, const char *value, const char *path);
/* MLflow's _validate_artifact_uri_scheme (api/experiments.c): a URI whose
 * scheme makes the server connect to the host it names is refused unless it
 * is the host of the default artifact root or the scheme is allowed by
 * MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES; `field` names the field. */
enum mlf_status mlf_validate_host_policy(struct mlf_req *req, const char *uri, const char *field);
/* MLflow's run id format check (log-batch, log-inputs). */
enum mlf_status mlf_validate_run_id(struct mlf_req *req, const char *run_id);

/* ---- entity encoders shared by resources (api/serialize.c) ---- */
void mlf_write_run_info(struct mlf_json *j, const struct mlf_run_info *info);
void mlf_write_run(struct mlf_json *j, const struct mlf_run *run);
void mlf_write_metric(struct mlf_json *j, const struct mlf_metric *m, int with_run_id);
/* The same, with m's key and run id already as JSON strings (quoted and
 * escaped) when key_json / run_json are not NULL: for long lists whose
 * points share them. Both are borrowed. */
void mlf_write_metric_with(struct mlf_json *j, const struct mlf_metric *m, const struct mlf_buf *key_json,
                           int with_run_id, const struct mlf_buf *run_json);
void mlf_write_tags(struct mlf_json *j, const char *field, const struct mlf_kv *kv, int n);
