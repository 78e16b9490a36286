/*
 * ui.c: mlflowd-only ajax endpoints the web UI uses (not part of MLflow's
 * API; served under /ajax-api/2.0/mlflowd/ only).
 *
 *   GET mlflowd/experiments/keys?experiment_id=ID
 *     -> {"params": [...], "metrics": [...], "tags": [...], "truncated": false}
 *   every distinct key logged by the experiment's runs (active and deleted),
 *   sorted; at most MLF_EXPERIMENT_KEYS_MAX per kind ("truncated": true
 *   when some kind had more).
 */
#include <stdio.h>

#include "../storage/ui_keys.h"
#include "api.h"

static void key_array(struct mlf_json *j, const char *name, const char **keys, int n)
{
	mlf_json_key(j, name);
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++)
		mlf_json_str(j, keys[i]);
	mlf_json_arr_end(j);
}

enum mlf_status mlf_api_mlflowd_experiment_keys(struct mlf_req *req)
{
	const char *text;
	int64_t id;
	enum mlf_status s = mlf_get_str(req, "experiment_id", 1, &text);
	if (s == MLF_OK)
		s = mlf_experiment_id_parse(text, &id, &req->err);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_experiment exp;
	if ((s = mlf_experiment_get(c, &req->arena, id, &exp, &req->err)) != MLF_OK)
		return s;
	struct mlf_experiment_keys k;
	if ((s = mlf_experiment_keys(c, &req->arena, id, &k, &req->err)) != MLF_OK)
		return s;
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	key_array(j, "params", k.params, k.nparams);
	key_array(j, "metrics", k.metrics, k.nmetrics);
	key_array(j, "tags", k.tags, k.ntags);
	mlf_json_kv_bool(j, "truncated", k.truncated);
	mlf_json_obj_end(j);
	return MLF_OK;
}
