/*
 * routes.c: the one route table of mlflowd. Patterns are relative to the
 * API prefixes: each entry is served under /api/2.0 and /ajax-api/2.0
 * (MLF_ROUTE_V3: the 3.0 prefixes; MLF_ROUTE_AJAX_ONLY: /ajax-api only;
 * MLF_ROUTE_ROOT: at the path itself). The dispatcher (server/http.c)
 * answers 404 ENDPOINT_NOT_FOUND for a path in no entry and 405 for a
 * known path with another method.
 */
#include "http.h"

const struct mlf_route mlf_routes[] = {
    /* experiments */
    {"GET", "/mlflow/experiments/get-by-name", mlf_api_experiments_get_by_name, 0},
    {"POST", "/mlflow/experiments/create", mlf_api_experiments_create, 0},
    {"GET", "/mlflow/experiments/get", mlf_api_experiments_get, 0},
    {"GET", "/mlflow/experiments/search", mlf_api_experiments_search, 0},
    {"POST", "/mlflow/experiments/search", mlf_api_experiments_search, 0},
    {"POST", "/mlflow/experiments/update", mlf_api_experiments_update, 0},
    {"POST", "/mlflow/experiments/delete", mlf_api_experiments_delete, 0},
    {"POST", "/mlflow/experiments/restore", mlf_api_experiments_restore, 0},
    {"POST", "/mlflow/experiments/set-experiment-tag", mlf_api_experiments_set_tag, 0},
    {"POST", "/mlflow/experiments/delete-experiment-tag", mlf_api_experiments_delete_tag, 0},
    {"POST", "/mlflow/experiments/search-datasets", mlf_api_experiments_search_datasets, MLF_ROUTE_AJAX_ONLY},

    /* runs */
    {"POST", "/mlflow/runs/create", mlf_api_runs_create, 0},
    {"GET", "/mlflow/runs/get", mlf_api_runs_get, 0},
    {"POST", "/mlflow/runs/update", mlf_api_runs_update, 0},
    {"POST", "/mlflow/runs/delete", mlf_api_runs_delete, 0},
    {"POST", "/mlflow/runs/restore", mlf_api_runs_restore, 0},
    {"POST", "/mlflow/runs/search", mlf_api_runs_search, 0},
    {"POST", "/mlflow/runs/set-tag", mlf_api_runs_set_tag, 0},
    {"POST", "/mlflow/runs/delete-tag", mlf_api_runs_delete_tag, 0},
    {"POST", "/mlflow/runs/log-metric", mlf_api_runs_log_metric, 0},
    {"POST", "/mlflow/runs/log-parameter", mlf_api_runs_log_param, 0},
    {"POST", "/mlflow/runs/log-batch", mlf_api_runs_log_batch, 0},
    {"POST", "/mlflow/runs/log-inputs", mlf_api_runs_log_inputs, 0},
    {"POST", "/mlflow/runs/outputs", mlf_api_runs_log_outputs, 0},
    /* runs: the MLflow 2.x logged-model record (api/log_model.c) */
    {"POST", "/mlflow/runs/log-model", mlf_api_runs_log_model, 0},

    /* metrics */
    {"GET", "/mlflow/metrics/get-history", mlf_api_metrics_get_history, 0},
    {"GET", "/mlflow/metrics/get-history-bulk-interval", mlf_api_metrics_get_history_bulk_interval, 0},
    {"GET", "/mlflow/metrics/get-history-bulk", mlf_api_metrics_get_history_bulk, MLF_ROUTE_AJAX_ONLY},

    /* artifacts: the proxied artifact service (raw, streaming) */
    {"GET", "/mlflow-artifacts/artifacts", mlf_api_mlflow_artifacts_list, MLF_ROUTE_RAW},
    {"GET", "/mlflow-artifacts/artifacts/{path...}", mlf_api_mlflow_artifacts_get, MLF_ROUTE_RAW},
    {"HEAD", "/mlflow-artifacts/artifacts/{path...}", mlf_api_mlflow_artifacts_get, MLF_ROUTE_RAW},
    {"PUT", "/mlflow-artifacts/artifacts/{path...}", mlf_api_mlflow_artifacts_put, MLF_ROUTE_RAW},
    {"DELETE", "/mlflow-artifacts/artifacts/{path...}", mlf_api_mlflow_artifacts_delete, MLF_ROUTE_RAW},
    {"POST", "/mlflow-artifacts/mpu/{op}/{path...}", mlf_api_mlflow_artifacts_mpu, MLF_ROUTE_RAW},
    {"GET", "/mlflow-artifacts/presigned/{path...}", mlf_api_mlflow_artifacts_presigned, MLF_ROUTE_RAW},
    /* artifacts: run and logged-model listings and downloads */
    {"GET", "/mlflow/artifacts/list", mlf_api_artifacts_list, MLF_ROUTE_RAW},
    {"GET", "/get-artifact", mlf_api_get_artifact, MLF_ROUTE_RAW | MLF_ROUTE_ROOT},
    {"GET", "/mlflow/logged-models/{model_id}/artifacts/directories", mlf_api_logged_models_list_artifacts,
     MLF_ROUTE_RAW},
    {"GET", "/mlflow/logged-models/{model_id}/artifacts/files", mlf_api_logged_models_get_artifact,
     MLF_ROUTE_RAW | MLF_ROUTE_AJAX_ONLY},

    /* logged models (MLflow 3, under the 2.0 prefixes) */
    {"POST", "/mlflow/logged-models", mlf_api_logged_models_create, 0},
    {"POST", "/mlflow/logged-models/search", mlf_api_logged_models_search, 0},
    {"GET", "/mlflow/logged-models/{model_id}", mlf_api_logged_models_get, 0},
    {"PATCH", "/mlflow/logged-models/{model_id}", mlf_api_logged_models_finalize, 0},
    {"DELETE", "/mlflow/logged-models/{model_id}", mlf_api_logged_models_delete, 0},
    {"POST", "/mlflow/logged-models/{model_id}/params", mlf_api_logged_models_log_params, 0},
    {"PATCH", "/mlflow/logged-models/{model_id}/tags", mlf_api_logged_models_set_tags, 0},
    {"DELETE", "/mlflow/logged-models/{model_id}/tags/{tag_key...}", mlf_api_logged_models_delete_tag, 0},

    /* traces (MLflow 3): specific paths before {trace_id} */
    {"POST", "/mlflow/traces", mlf_api_traces_start, MLF_ROUTE_V3},
    {"GET", "/mlflow/traces/get", mlf_api_traces_get, MLF_ROUTE_V3},
    {"GET", "/mlflow/traces/batchGet", mlf_api_traces_batch_get, MLF_ROUTE_V3},
    {"POST", "/mlflow/traces/batchGetInfos", mlf_api_traces_batch_get_infos, MLF_ROUTE_V3},
    {"POST", "/mlflow/traces/search", mlf_api_traces_search, MLF_ROUTE_V3},
    {"POST", "/mlflow/traces/delete-traces", mlf_api_traces_delete, MLF_ROUTE_BOTH},
    {"POST", "/mlflow/traces/link-to-run", mlf_api_traces_link_to_run, 0},
    {"POST", "/mlflow/traces/link-prompts", mlf_api_traces_link_prompts, 0},
    {"GET", "/mlflow/traces/{trace_id}", mlf_api_traces_get_info, MLF_ROUTE_V3},
    {"PATCH", "/mlflow/traces/{trace_id}/tags", mlf_api_traces_set_tag, MLF_ROUTE_BOTH},
    {"DELETE", "/mlflow/traces/{trace_id}/tags", mlf_api_traces_delete_tag, MLF_ROUTE_BOTH},
    {"POST", "/mlflow/traces/{trace_id}/assessments", mlf_api_assessments_create, MLF_ROUTE_V3},
    {"GET", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", mlf_api_assessments_get, MLF_ROUTE_V3},
    {"PATCH", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", mlf_api_assessments_update, MLF_ROUTE_V3},
    {"DELETE", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", mlf_api_assessments_delete, MLF_ROUTE_V3},
    {"POST", "/v1/traces", mlf_api_otlp_traces, MLF_ROUTE_RAW | MLF_ROUTE_ROOT},
    /* MLflow's web UI (--static-dir): GraphQL at the root, as MLflow serves it */
    {"POST", "/graphql", mlf_api_graphql, MLF_ROUTE_ROOT},
    {"GET", "/graphql", mlf_api_graphql, MLF_ROUTE_ROOT},
    {"GET", "/mlflow/ui-telemetry", mlf_api_ui_telemetry_config, MLF_ROUTE_V3 | MLF_ROUTE_AJAX_ONLY},
    {"POST", "/mlflow/ui-telemetry", mlf_api_ui_telemetry_post, MLF_ROUTE_V3 | MLF_ROUTE_AJAX_ONLY},
    {"GET", "/mlflow/assistant/config", mlf_api_assistant_config, MLF_ROUTE_V3 | MLF_ROUTE_AJAX_ONLY},
    {"GET", "/mlflow/assistant/providers", mlf_api_assistant_providers, MLF_ROUTE_V3 | MLF_ROUTE_AJAX_ONLY},
    {"GET", "/mlflow/gateway-proxy", mlf_api_gateway_proxy, MLF_ROUTE_AJAX_ONLY},
    {"POST", "/mlflow/gateway-proxy", mlf_api_gateway_proxy, MLF_ROUTE_AJAX_ONLY},
    /* trace metrics (the GenAI overview's charts) and evaluation datasets: none kept */
    {"POST", "/mlflow/traces/metrics", mlf_api_empty_search, MLF_ROUTE_V3 | MLF_ROUTE_AJAX_ONLY},
    {"POST", "/mlflow/datasets/search", mlf_api_empty_search, MLF_ROUTE_V3 | MLF_ROUTE_AJAX_ONLY},
    /* the UI's read of a trace's span data and attachments */
    {"GET", "/mlflow/get-trace-artifact", mlf_api_get_trace_artifact,
     MLF_ROUTE_RAW | MLF_ROUTE_AJAX_ONLY | MLF_ROUTE_BOTH},
    /* mlflowd-only endpoints of the web UI (api/ui.c) */
    {"GET", "/mlflowd/experiments/keys", mlf_api_mlflowd_experiment_keys, MLF_ROUTE_AJAX_ONLY},
    {"GET", "/mlflowd/metrics/get-history-bulk-minmax", mlf_api_mlflowd_metrics_bulk_minmax, MLF_ROUTE_AJAX_ONLY},

    /* model registry (and prompts, stored as registered models) */
    {"POST", "/mlflow/registered-models/create", mlf_api_registered_models_create, 0},
    {"GET", "/mlflow/registered-models/get", mlf_api_registered_models_get, 0},
    {"POST", "/mlflow/registered-models/rename", mlf_api_registered_models_rename, 0},
    {"PATCH", "/mlflow/registered-models/update", mlf_api_registered_models_update, 0},
    {"DELETE", "/mlflow/registered-models/delete", mlf_api_registered_models_delete, 0},
    {"GET", "/mlflow/registered-models/search", mlf_api_registered_models_search, 0},
    {"POST", "/mlflow/registered-models/get-latest-versions", mlf_api_registered_models_get_latest_versions, 0},
    {"GET", "/mlflow/registered-models/get-latest-versions", mlf_api_registered_models_get_latest_versions, 0},
    {"POST", "/mlflow/registered-models/set-tag", mlf_api_registered_models_set_tag, 0},
    {"DELETE", "/mlflow/registered-models/delete-tag", mlf_api_registered_models_delete_tag, 0},
    {"POST", "/mlflow/registered-models/alias", mlf_api_registered_models_set_alias, 0},
    {"DELETE", "/mlflow/registered-models/alias", mlf_api_registered_models_delete_alias, 0},
    {"GET", "/mlflow/registered-models/alias", mlf_api_registered_models_get_alias, 0},
    {"POST", "/mlflow/model-versions/create", mlf_api_model_versions_create, 0},
    {"GET", "/mlflow/model-versions/get", mlf_api_model_versions_get, 0},
    {"PATCH", "/mlflow/model-versions/update", mlf_api_model_versions_update, 0},
    {"DELETE", "/mlflow/model-versions/delete", mlf_api_model_versions_delete, 0},
    {"GET", "/mlflow/model-versions/search", mlf_api_model_versions_search, 0},
    {"GET", "/mlflow/model-versions/get-download-uri", mlf_api_model_versions_get_download_uri, 0},
    {"POST", "/mlflow/model-versions/transition-stage", mlf_api_model_versions_transition_stage, 0},
    {"POST", "/mlflow/model-versions/set-tag", mlf_api_model_versions_set_tag, 0},
    {"DELETE", "/mlflow/model-versions/delete-tag", mlf_api_model_versions_delete_tag, 0},
    {"GET", "/model-versions/get-artifact", mlf_api_model_versions_get_artifact, MLF_ROUTE_RAW | MLF_ROUTE_ROOT},

    /* server */
    {"GET", "/mlflow/server-info", mlf_api_server_info, MLF_ROUTE_V3},
};

const size_t mlf_nroutes = sizeof mlf_routes / sizeof mlf_routes[0];
