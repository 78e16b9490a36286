/*
 * server_info.c: /api/3.0/mlflow/server-info, which clients and the UI
 * probe for the store type and workspace support.
 */
#include "api.h"

enum mlf_status mlf_api_server_info(struct mlf_req *req)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_str(&req->out, "store_type", "SqlStore");
	mlf_json_kv_bool(&req->out, "workspaces_enabled", 0);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}
