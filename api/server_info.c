/*
 * server_info.c: /api/3.0/mlflow/server-info, which clients and the UI
 * probe for the store type and features, and the small endpoints MLflow's
 * web UI calls on every page (telemetry settings, the assistant panel, the
 * gateway proxy, the GenAI views' trace metrics and dataset searches), answered
 * as stock MLflow answers them with its defaults and nothing stored: the
 * UI then shows its empty states instead of error banners or retries.
 */
#include "api.h"

enum mlf_status mlf_api_server_info(struct mlf_req *req)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_str(&req->out, "store_type", "SqlStore");
	mlf_json_kv_bool(&req->out, "workspaces_enabled", 0);
	mlf_json_kv_bool(&req->out, "trace_archival_enabled", 0);
	mlf_json_kv_bool(&req->out, "multipart_uploads_enabled", 0);
	mlf_json_kv_bool(&req->out, "multipart_downloads_enabled", 0);
	/* request-contract support, as stock advertises it */
	mlf_json_kv_bool(&req->out, "presigned_upload_run_id_supported", 1);
	mlf_json_kv_bool(&req->out, "presigned_upload_model_id_supported", 1);
	mlf_json_key(&req->out, "features_enabled");
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_bool(&req->out, "gateway", 0); /* mlflowd has no AI gateway: the UI hides it */
	mlf_json_obj_end(&req->out);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* GET ui-telemetry: the UI sends nothing. */
enum mlf_status mlf_api_ui_telemetry_config(struct mlf_req *req)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "disable_ui_events");
	mlf_json_arr_begin(&req->out);
	mlf_json_arr_end(&req->out);
	mlf_json_kv_bool(&req->out, "disable_ui_telemetry", 1);
	mlf_json_kv_int(&req->out, "ui_rollout_percentage", 0);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* POST ui-telemetry: events are dropped. */
enum mlf_status mlf_api_ui_telemetry_post(struct mlf_req *req)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_str(&req->out, "status", "disabled");
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* The assistant panel: no providers configured. */
enum mlf_status mlf_api_assistant_config(struct mlf_req *req)
{
	mlf_json_raw(&req->out, "{\"providers\": {}, \"projects\": {}, \"remote_access_allowed\": false}");
	return MLF_OK;
}

enum mlf_status mlf_api_assistant_providers(struct mlf_req *req)
{
	mlf_json_raw(&req->out, "{\"providers\": []}");
	return MLF_OK;
}

/* The gateway proxy: no gateway endpoints. */
enum mlf_status mlf_api_gateway_proxy(struct mlf_req *req)
{
	mlf_json_raw(&req->out, "{\"endpoints\": []}");
	return MLF_OK;
}

/* Trace metrics and evaluation-dataset searches: mlflowd keeps neither, so
 * every answer is empty (what stock answers for an experiment without
 * traces or datasets). */
enum mlf_status mlf_api_empty_search(struct mlf_req *req)
{
	mlf_json_raw(&req->out, "{}");
	return MLF_OK;
}
