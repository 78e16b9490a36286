/*
 * logged_models.c: the MLflow 3 logged-model endpoints under
 * /api/2.0/mlflow/logged-models (create, get, finalize, delete, params,
 * tags, search). Their artifact listings and downloads live in
 * api/artifacts.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../storage/logged_models.h"
#include "../storage/search.h"
#include "api.h"
#include "limits.h"

/* ================================================================
 * request parsing
 * ================================================================ */

static enum mlf_status parse_experiment_id(struct mlf_req *req, const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (!*text || *end || errno)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid experiment ID: '%.200s'", text);
	*out = v;
	return MLF_OK;
}

/* [{key, value}] array field into kvs (arena). Duplicate keys keep the last
 * value, as MLflow's upserts do. */
static enum mlf_status get_kvs(struct mlf_req *req, const char *name, struct mlf_kv **out, int *n)
{
	*out = NULL;
	*n = 0;
	cJSON *arr = mlf_get_item(req, name);
	if (!arr)
		return MLF_OK;
	if (!cJSON_IsArray(arr))
		return mlf_bad_type(req, name, arr);
	int cnt = cJSON_GetArraySize(arr);
	struct mlf_kv *v = mlf_arena_alloc(&req->arena, (size_t)(cnt + 1) * sizeof *v);
	int k = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsObject(e))
			return mlf_bad_type(req, name, arr);
		const char *key, *val;
		enum mlf_status s = mlf_obj_str(req, e, "key", 1, &key);
		if (s == MLF_OK)
			s = mlf_obj_str(req, e, "value", 0, &val);
		if (s != MLF_OK)
			return s;
		if (strlen(key) > 255)
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			                "'%.100s' exceeds the maximum length of 255 characters", key);
		int j;
		for (j = 0; j < k; j++)
			if (!strcmp(v[j].key, key))
				break;
		v[j].key = key;
		v[j].value = val ? val : "";
		if (j == k)
			k++;
	}
	*out = v;
	*n = k;
	return MLF_OK;
}

static const char *model_id_param(struct mlf_req *req)
{
	return req->nparams > 0 ? req->params[0] : "";
}

/* ================================================================
 * encoding
 * ================================================================ */

static void put_kv_array(struct mlf_json *j, const char *name, const struct mlf_kv *kv, int n)
{
	if (n == 0)
		return;
	mlf_json_key(j, name);
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++) {
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "key", kv[i].key);
		mlf_json_kv_str(j, "value", kv[i].value);
		mlf_json_obj_end(j);
	}
	mlf_json_arr_end(j);
}

static void put_model(struct mlf_json *j, const struct mlf_logged_model *m)
{
	mlf_json_obj_begin(j);
	mlf_json_key(j, "info");
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "model_id", m->model_id);
	char exp[32];
	snprintf(exp, sizeof exp, "%lld", (long long)m->experiment_id);
	mlf_json_kv_str(j, "experiment_id", exp);
	mlf_json_kv_str(j, "name", m->name);
	mlf_json_kv_int(j, "creation_timestamp_ms", m->creation_timestamp_ms);
	mlf_json_kv_int(j, "last_updated_timestamp_ms", m->last_updated_timestamp_ms);
	mlf_json_kv_str(j, "artifact_uri", m->artifact_location);
	mlf_json_kv_str(j, "status", mlf_lm_status_name(m->status));
	mlf_json_kv_str(j, "model_type", m->model_type);
	mlf_json_kv_str(j, "source_run_id", m->source_run_id);
	mlf_json_kv_str(j, "status_message", m->status_message);
	put_kv_array(j, "tags", m->tags, m->ntags);
	mlf_json_obj_end(j);
	mlf_json_key(j, "data");
	mlf_json_obj_begin(j);
	put_kv_array(j, "params", m->params, m->nparams);
	if (m->nmetrics > 0) {
		mlf_json_key(j, "metrics");
		mlf_json_arr_begin(j);
		for (int i = 0; i < m->nmetrics; i++) {
			const struct mlf_lm_metric *x = &m->metrics[i];
			mlf_json_obj_begin(j);
			mlf_json_kv_str(j, "key", x->key);
			if (!x->is_null)
				mlf_json_kv_double(j, "value", x->value);
			mlf_json_kv_int(j, "timestamp", x->timestamp);
			mlf_json_kv_int(j, "step", x->step);
			mlf_json_kv_str(j, "dataset_name", x->dataset_name);
			mlf_json_kv_str(j, "dataset_digest", x->dataset_digest);
			mlf_json_kv_str(j, "model_id", m->model_id);
			mlf_json_kv_str(j, "run_id", x->run_id);
			mlf_json_obj_end(j);
		}
		mlf_json_arr_end(j);
	}
	mlf_json_obj_end(j);
	mlf_json_obj_end(j);
}

static enum mlf_status answer_model(struct mlf_req *req, const struct mlf_logged_model *m)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "model");
	put_model(&req->out, m);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* ================================================================
 * handlers
 * ================================================================ */

enum mlf_status mlf_api_logged_models_create(struct mlf_req *req)
{
	struct mlf_logged_model_create in = {0};
	const char *exp_text;
	cJSON *ev = mlf_get_item(req, "experiment_id");
	enum mlf_status s;
	if (ev && cJSON_IsNumber(ev)) {
		if (!mlf_json_to_int64(ev, &in.experiment_id))
			return mlf_bad_type(req, "experiment_id", ev);
	} else {
		s = mlf_get_str(req, "experiment_id", 1, &exp_text);
		if (s != MLF_OK)
			return s;
		s = parse_experiment_id(req, exp_text, &in.experiment_id);
		if (s != MLF_OK)
			return s;
	}
	const char *name;
	if ((s = mlf_get_str(req, "name", 0, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "model_type", 0, &in.model_type)) != MLF_OK ||
	    (s = mlf_get_str(req, "source_run_id", 0, &in.source_run_id)) != MLF_OK)
		return s;
	if (name && *name) {
		s = mlf_logged_model_name_check(name, &req->err);
		if (s != MLF_OK)
			return s;
		in.name = name;
	}
	if (in.source_run_id && !*in.source_run_id)
		in.source_run_id = NULL;
	struct mlf_kv *params, *tags;
	if ((s = get_kvs(req, "params", &params, &in.nparams)) != MLF_OK ||
	    (s = get_kvs(req, "tags", &tags, &in.ntags)) != MLF_OK)
		return s;
	in.params = params;
	in.tags = tags;
	struct mlf_logged_model m;
	s = mlf_logged_model_create(req->db, &req->arena, &in, &m, &req->err);
	if (s != MLF_OK)
		return s;
	return answer_model(req, &m);
}

enum mlf_status mlf_api_logged_models_get(struct mlf_req *req)
{
	const char *ad = NULL;
	cJSON *v = mlf_get_item(req, "allow_deleted");
	if (v && cJSON_IsString(v))
		ad = v->valuestring;
	int allow_deleted = (ad && !strcasecmp(ad, "true")) || cJSON_IsTrue(v);
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_logged_model m;
	enum mlf_status s = mlf_logged_model_get(c, &req->arena, model_id_param(req), allow_deleted, &m, &req->err);
	if (s != MLF_OK)
		return s;
	return answer_model(req, &m);
}

enum mlf_status mlf_api_logged_models_finalize(struct mlf_req *req)
{
	const char *model_id;
	enum mlf_status s = mlf_get_str(req, "model_id", 0, &model_id);
	if (s != MLF_OK)
		return s;
	if (!model_id || !*model_id)
		model_id = model_id_param(req);
	cJSON *sv = mlf_get_item(req, "status");
	int status;
	if (!sv || (cJSON_IsString(sv) && !*sv->valuestring))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'status'. See the API docs for more information "
		                "about request parameters.");
	if (cJSON_IsNumber(sv) && sv->valuedouble >= 0 && sv->valuedouble <= 3 &&
	    sv->valuedouble == (int)sv->valuedouble)
		status = (int)sv->valuedouble;
	else if (!cJSON_IsString(sv) || !mlf_lm_status_parse(sv->valuestring, &status))
		return mlf_bad_type(req, "status", sv);
	s = mlf_logged_model_finalize(req->db, model_id, status, &req->err);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_logged_model m;
	s = mlf_logged_model_get(c, &req->arena, model_id, 1, &m, &req->err);
	if (s != MLF_OK)
		return s;
	return answer_model(req, &m);
}

enum mlf_status mlf_api_logged_models_delete(struct mlf_req *req)
{
	return mlf_logged_model_delete(req->db, model_id_param(req), &req->err);
}

enum mlf_status mlf_api_logged_models_log_params(struct mlf_req *req)
{
	const char *model_id;
	enum mlf_status s = mlf_get_str(req, "model_id", 0, &model_id);
	if (s != MLF_OK)
		return s;
	if (!model_id || !*model_id)
		model_id = model_id_param(req);
	struct mlf_kv *params;
	int n;
	if ((s = get_kvs(req, "params", &params, &n)) != MLF_OK)
		return s;
	return mlf_logged_model_log_params(req->db, model_id, params, n, &req->err);
}

enum mlf_status mlf_api_logged_models_set_tags(struct mlf_req *req)
{
	struct mlf_kv *tags;
	int n;
	enum mlf_status s = get_kvs(req, "tags", &tags, &n);
	if (s != MLF_OK)
		return s;
	return mlf_logged_model_set_tags(req->db, model_id_param(req), tags, n, &req->err);
}

enum mlf_status mlf_api_logged_models_delete_tag(struct mlf_req *req)
{
	const char *key = req->nparams > 1 ? req->params[1] : "";
	return mlf_logged_model_delete_tag(req->db, model_id_param(req), key, &req->err);
}

enum mlf_status mlf_api_logged_models_search(struct mlf_req *req)
{
	struct mlf_lm_search q = {0};
	const char **ids;
	int nids;
	enum mlf_status s = mlf_get_str_array(req, "experiment_ids", &ids, &nids);
	if (s != MLF_OK)
		return s;
	if (nids == 0)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'experiment_ids'. See the API docs for more "
		                "information about request parameters.");
	int64_t *exp = mlf_arena_alloc(&req->arena, (size_t)nids * sizeof *exp);
	for (int i = 0; i < nids; i++)
		if ((s = parse_experiment_id(req, ids[i], &exp[i])) != MLF_OK)
			return s;
	q.experiment_ids = exp;
	q.nexp = nids;
	if ((s = mlf_get_str(req, "filter", 0, &q.filter)) != MLF_OK)
		return s;
	int present;
	int64_t mr;
	if ((s = mlf_get_int64(req, "max_results", 0, &mr, &present)) != MLF_OK)
		return s;
	q.max_results = present && mr > 0 ? mr : MLF_SEARCH_LOGGED_MODELS_DEFAULT;
	if (q.max_results > MLF_SEARCH_LOGGED_MODELS_MAX)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value for 'max_results': must be at most %d", MLF_SEARCH_LOGGED_MODELS_MAX);
	const char *token;
	if ((s = mlf_get_str(req, "page_token", 0, &token)) != MLF_OK)
		return s;
	if ((s = mlf_page_token_decode(&req->arena, token, &q.offset, &req->err)) != MLF_OK)
		return s;

	cJSON *ds = mlf_get_item(req, "datasets");
	if (ds) {
		if (!cJSON_IsArray(ds))
			return mlf_bad_type(req, "datasets", ds);
		int n = cJSON_GetArraySize(ds);
		struct mlf_lm_dataset *v = mlf_arena_alloc(&req->arena, (size_t)(n + 1) * sizeof *v);
		cJSON *e;
		cJSON_ArrayForEach(e, ds)
		{
			if (!cJSON_IsObject(e))
				return mlf_bad_type(req, "datasets", ds);
			struct mlf_lm_dataset *d = &v[q.ndatasets++];
			if ((s = mlf_obj_str(req, e, "dataset_name", 0, &d->name)) != MLF_OK ||
			    (s = mlf_obj_str(req, e, "dataset_digest", 0, &d->digest)) != MLF_OK)
				return s;
			if (d->digest && !*d->digest)
				d->digest = NULL;
		}
		q.datasets = v;
	}
	cJSON *ob = mlf_get_item(req, "order_by");
	if (ob) {
		if (!cJSON_IsArray(ob))
			return mlf_bad_type(req, "order_by", ob);
		int n = cJSON_GetArraySize(ob);
		struct mlf_lm_order *v = mlf_arena_alloc(&req->arena, (size_t)(n + 1) * sizeof *v);
		cJSON *e;
		cJSON_ArrayForEach(e, ob)
		{
			if (!cJSON_IsObject(e))
				return mlf_bad_type(req, "order_by", ob);
			struct mlf_lm_order *o = &v[q.norder++];
			if ((s = mlf_obj_str(req, e, "field_name", 1, &o->field_name)) != MLF_OK ||
			    (s = mlf_obj_str(req, e, "dataset_name", 0, &o->dataset_name)) != MLF_OK ||
			    (s = mlf_obj_str(req, e, "dataset_digest", 0, &o->dataset_digest)) != MLF_OK)
				return s;
			cJSON *asc = cJSON_GetObjectItemCaseSensitive(e, "ascending");
			o->ascending = !asc || cJSON_IsNull(asc) || cJSON_IsTrue(asc) ||
			               (cJSON_IsString(asc) && !strcasecmp(asc->valuestring, "true"));
			if (o->dataset_name && !*o->dataset_name)
				o->dataset_name = NULL;
			if (o->dataset_digest && !*o->dataset_digest)
				o->dataset_digest = NULL;
		}
		q.order_by = v;
	}

	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_logged_model *models;
	int n;
	int64_t next;
	s = mlf_logged_model_search(c, &req->arena, &q, &models, &n, &next, &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	if (n > 0) {
		mlf_json_key(&req->out, "models");
		mlf_json_arr_begin(&req->out);
		for (int i = 0; i < n; i++)
			put_model(&req->out, &models[i]);
		mlf_json_arr_end(&req->out);
	}
	if (next >= 0)
		mlf_json_kv_str(&req->out, "next_page_token", mlf_page_token_encode(&req->arena, next));
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}
