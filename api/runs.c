/*
 * runs.c: the runs resource: create, get, update, delete, restore, search,
 * and logging (metrics, params, tags, batches, inputs, outputs).
 * Request parsing and MLflow's validation happen here; storage/runs.c
 * does the rest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../storage/search.h"
#include "api.h"
#include "limits.h"

static const char *const run_statuses[] = {NULL, "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};

/* ---- request parsing ---- */

/* Enum given as a name or a number; returns the name or NULL. */
static enum mlf_status parse_status(struct mlf_req *req, const char **out)
{
	cJSON *v = mlf_get_item(req, "status");
	*out = NULL;
	if (!v)
		return MLF_OK;
	if (cJSON_IsString(v)) {
		for (int i = 1; i <= 5; i++)
			if (!strcmp(v->valuestring, run_statuses[i])) {
				*out = run_statuses[i];
				return MLF_OK;
			}
		char *end;
		long n = strtol(v->valuestring, &end, 10);
		if (*v->valuestring && !*end && n >= 1 && n <= 5) {
			*out = run_statuses[n];
			return MLF_OK;
		}
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 5 &&
	           v->valuedouble == floor(v->valuedouble)) {
		*out = run_statuses[(int)v->valuedouble];
		return MLF_OK;
	}
	return mlf_bad_type(req, "status", v);
}

/* Parse an array of {key, value} objects. kind selects MLflow's limits
 * and messages: 'p' params, 't' run tags. */
static enum mlf_status parse_kv_array(struct mlf_req *req, cJSON *arr, const char *field, char kind,
                                      struct mlf_kv **out, int *n)
{
	*out = NULL;
	*n = 0;
	if (!arr || cJSON_IsNull(arr))
		return MLF_OK;
	if (!cJSON_IsArray(arr))
		return mlf_bad_type(req, field, arr);
	int count = cJSON_GetArraySize(arr), i = 0;
	*out = mlf_arena_alloc(&req->arena, sizeof **out * (size_t)(count ? count : 1));
	cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		char path[64];
		snprintf(path, sizeof path, "%s[%d].key", field, i);
		if (!cJSON_IsObject(e))
			return mlf_bad_type(req, field, arr);
		const char *k, *v;
		enum mlf_status s = mlf_obj_str(req, e, "key", 1, &k);
		if (s != MLF_OK) {
			if (s == MLF_INVALID_PARAMETER_VALUE && !cJSON_GetObjectItemCaseSensitive(e, "key"))
				return mlf_fail(&req->err, s,
				                "Missing value for required parameter '%s'. See the API docs for more "
				                "information about request parameters.",
				                path);
			return s;
		}
		if ((s = mlf_obj_str(req, e, "value", 0, &v)) != MLF_OK)
			return s;
		if ((s = mlf_validate_key(req, k, kind == 'p' ? "key" : "key")) != MLF_OK)
			return s;
		if ((s = mlf_validate_length(req, kind == 'p' ? "Param key" : path, k, MLF_MAX_ENTITY_KEY_LENGTH)) !=
		    MLF_OK)
			return s;
		v = mlf_utf8_truncate(&req->arena, v ? v : "",
		                      kind == 'p' ? MLF_MAX_PARAM_VAL_LENGTH : MLF_MAX_TAG_VAL_LENGTH);
		(*out)[i].key = k;
		(*out)[i].value = v;
		i++;
	}
	*n = i;
	return MLF_OK;
}

/* One metric object (log-metric body or a metrics[] element). */
static enum mlf_status parse_metric(struct mlf_req *req, cJSON *obj, const char *prefix, struct mlf_metric *m)
{
	char path[80];
	enum mlf_status s;
	int present;
	snprintf(path, sizeof path, "%skey", prefix);
	cJSON *kv = cJSON_GetObjectItemCaseSensitive(obj, "key");
	if (!kv || cJSON_IsNull(kv) || (cJSON_IsString(kv) && !*kv->valuestring))
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Missing value for required parameter '%s'. See the API docs for more information about "
		    "request parameters.",
		    path);
	if ((s = mlf_obj_str(req, obj, "key", 1, &m->key)) != MLF_OK)
		return s;
	snprintf(path, sizeof path, "%svalue", prefix);
	cJSON *vv = cJSON_GetObjectItemCaseSensitive(obj, "value");
	if (!vv || cJSON_IsNull(vv))
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Missing value for required parameter '%s'. See the API docs for more information about "
		    "request parameters.",
		    path);
	if (cJSON_IsBool(vv) || (!cJSON_IsNumber(vv) && !cJSON_IsString(vv)))
		return mlf_bad_type(req, path, vv);
	if ((s = mlf_obj_double(req, obj, "value", 1, &m->value, &present)) != MLF_OK)
		return s;
	snprintf(path, sizeof path, "%stimestamp", prefix);
	cJSON *tv = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
	if (!tv || cJSON_IsNull(tv))
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Missing value for required parameter '%s'. See the API docs for more information about "
		    "request parameters.",
		    path);
	if ((s = mlf_obj_int64(req, obj, "timestamp", 1, &m->timestamp, NULL)) != MLF_OK)
		return s;
	m->step = 0;
	if ((s = mlf_obj_int64(req, obj, "step", 0, &m->step, NULL)) != MLF_OK)
		return s;
	if ((s = mlf_obj_str(req, obj, "model_id", 0, &m->model_id)) != MLF_OK ||
	    (s = mlf_obj_str(req, obj, "dataset_name", 0, &m->dataset_name)) != MLF_OK ||
	    (s = mlf_obj_str(req, obj, "dataset_digest", 0, &m->dataset_digest)) != MLF_OK)
		return s;
	snprintf(path, sizeof path, "%sname", prefix);
	if ((s = mlf_validate_key(req, m->key, path)) != MLF_OK)
		return s;
	return mlf_validate_length(req, "Metric name", m->key, MLF_MAX_ENTITY_KEY_LENGTH);
}

static enum mlf_status run_id_checked(struct mlf_req *req, const char **run_id)
{
	return mlf_get_run_id(req, run_id);
}

/* ---- handlers ---- */

enum mlf_status mlf_api_runs_create(struct mlf_req *req)
{
	struct mlf_run_create in = {0};
	enum mlf_status s;
	cJSON *exp = mlf_get_item(req, "experiment_id");
	int64_t exp_num;
	if (exp && cJSON_IsNumber(exp) && !mlf_json_to_int64(exp, &exp_num))
		return mlf_bad_type(req, "experiment_id", exp);
	if (exp && cJSON_IsNumber(exp))
		in.experiment_id = mlf_arena_printf(&req->arena, "%lld", (long long)exp_num);
	else if ((s = mlf_get_str(req, "experiment_id", 0, &in.experiment_id)) != MLF_OK)
		return s;
	/* An unset proto string is "" in MLflow, and stored so. */
	if ((s = mlf_get_str(req, "user_id", 0, &in.user_id)) != MLF_OK ||
	    (s = mlf_get_str(req, "run_name", 0, &in.run_name)) != MLF_OK ||
	    (s = mlf_get_int64(req, "start_time", 0, &in.start_time, &in.has_start_time)) != MLF_OK)
		return s;
	struct mlf_kv *tags;
	int ntags;
	if ((s = parse_kv_array(req, mlf_get_item(req, "tags"), "tags", 't', &tags, &ntags)) != MLF_OK)
		return s;
	in.tags = tags;
	in.ntags = ntags;
	if (!in.user_id)
		in.user_id = "";
	struct mlf_run run;
	if ((s = mlf_run_create(req->db, &req->arena, &in, &run, &req->err)) != MLF_OK)
		return s;
	run.no_outputs = 1; /* MLflow's create answer carries no outputs field */
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "run");
	mlf_write_run(&req->out, &run);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_runs_get(struct mlf_req *req)
{
	const char *run_id;
	enum mlf_status s = run_id_checked(req, &run_id);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_run run;
	if ((s = mlf_run_get(c, &req->arena, run_id, &run, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "run");
	mlf_write_run(&req->out, &run);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_runs_update(struct mlf_req *req)
{
	struct mlf_run_update in = {0};
	enum mlf_status s;
	if ((s = run_id_checked(req, &in.run_id)) != MLF_OK || (s = parse_status(req, &in.status)) != MLF_OK ||
	    (s = mlf_get_int64(req, "end_time", 0, &in.end_time, &in.has_end_time)) != MLF_OK ||
	    (s = mlf_get_str(req, "run_name", 0, &in.run_name)) != MLF_OK)
		return s;
	struct mlf_run_info info;
	if ((s = mlf_run_update(req->db, &req->arena, &in, &info, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "run_info");
	mlf_write_run_info(&req->out, &info);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

static enum mlf_status set_deleted(struct mlf_req *req, int deleted)
{
	const char *run_id;
	enum mlf_status s = mlf_get_str(req, "run_id", 1, &run_id);
	if (s != MLF_OK)
		return s;
	return mlf_run_set_deleted(req->db, run_id, deleted, &req->err);
}

enum mlf_status mlf_api_runs_delete(struct mlf_req *req)
{
	return set_deleted(req, 1);
}

enum mlf_status mlf_api_runs_restore(struct mlf_req *req)
{
	return set_deleted(req, 0);
}

/* view type given as name or number; default ACTIVE_ONLY. */
static enum mlf_status parse_view(struct mlf_req *req, const char *field, enum mlf_view_type *out)
{
	cJSON *v = mlf_get_item(req, field);
	*out = MLF_VIEW_ACTIVE_ONLY;
	if (!v)
		return MLF_OK;
	static const char *const names[] = {NULL, "ACTIVE_ONLY", "DELETED_ONLY", "ALL"};
	if (cJSON_IsString(v)) {
		for (int i = 1; i <= 3; i++)
			if (!strcmp(v->valuestring, names[i])) {
				*out = (enum mlf_view_type)i;
				return MLF_OK;
			}
		char *end;
		long n = strtol(v->valuestring, &end, 10);
		if (*v->valuestring && !*end && n >= 1 && n <= 3) {
			*out = (enum mlf_view_type)n;
			return MLF_OK;
		}
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 3) {
		*out = (enum mlf_view_type)(int)v->valuedouble;
		return MLF_OK;
	}
	return mlf_bad_type(req, field, v);
}

static void write_run_elem(struct mlf_json *j, const void *runs, int i)
{
	mlf_write_run(j, &((const struct mlf_run *)runs)[i]);
}

enum mlf_status mlf_api_runs_search(struct mlf_req *req)
{
	enum mlf_status s;
	const char **exp_text = NULL, **order_by = NULL, *filter = NULL, *token = NULL;
	int n_exp = 0, n_order = 0, present = 0;
	int64_t max_results = MLF_SEARCH_MAX_RESULTS_DEFAULT;
	enum mlf_view_type view;
	cJSON *ev = mlf_get_item(req, "experiment_ids");
	if (ev && !cJSON_IsArray(ev) && !cJSON_IsString(ev))
		return mlf_bad_type(req, "experiment_ids", ev);
	/* experiment ids may come as numbers from hand-written clients */
	if (ev && cJSON_IsArray(ev)) {
		int cnt = cJSON_GetArraySize(ev), i = 0;
		exp_text = mlf_arena_alloc(&req->arena, sizeof *exp_text * (size_t)(cnt ? cnt : 1));
		cJSON *e;
		int64_t num;
		cJSON_ArrayForEach(e, ev)
		{
			if (cJSON_IsString(e))
				exp_text[i++] = e->valuestring;
			else if (cJSON_IsNumber(e) && mlf_json_to_int64(e, &num))
				exp_text[i++] = mlf_arena_printf(&req->arena, "%lld", (long long)num);
			else if (cJSON_IsNumber(e)) /* no experiment has such an id */
				exp_text[i++] = "-1";
			else
				return mlf_bad_type(req, "experiment_ids", ev);
		}
		n_exp = i;
	} else if ((s = mlf_get_str_array(req, "experiment_ids", &exp_text, &n_exp)) != MLF_OK) {
		return s;
	}
	if ((s = mlf_get_str(req, "filter", 0, &filter)) != MLF_OK ||
	    (s = mlf_get_str_array(req, "order_by", &order_by, &n_order)) != MLF_OK ||
	    (s = mlf_get_str(req, "page_token", 0, &token)) != MLF_OK ||
	    (s = mlf_get_int64(req, "max_results", 0, &max_results, &present)) != MLF_OK ||
	    (s = parse_view(req, "run_view_type", &view)) != MLF_OK)
		return s;
	if (present && max_results > MLF_SEARCH_MAX_RESULTS_THRESHOLD)
		return mlf_bad_type(req, "max_results", mlf_get_item(req, "max_results"));
	if (present && max_results < 0)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value %lld for parameter 'max_results' supplied. It must be a positive integer",
		    (long long)max_results);
	if (filter && strlen(filter) > MLF_MAX_FILTER_LENGTH)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Filter string is longer than %d characters",
		                MLF_MAX_FILTER_LENGTH);
	int64_t *exp_ids = mlf_arena_alloc(&req->arena, sizeof *exp_ids * (size_t)(n_exp ? n_exp : 1));
	for (int i = 0; i < n_exp; i++)
		if ((s = mlf_experiment_id_parse(exp_text[i], &exp_ids[i], &req->err)) != MLF_OK)
			return s;
	int64_t offset;
	struct mlf_conn *c;
	if ((s = mlf_page_read_begin(req, token, &offset, &c)) != MLF_OK)
		return s;
	struct mlf_run *runs;
	int n;
	int64_t next;
	if ((s = mlf_run_search(c, &req->arena, exp_ids, n_exp, view, filter, order_by, n_order, max_results, offset,
	                        &runs, &n, &next, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	if (n) {
		mlf_json_key(&req->out, "runs");
		mlf_json_arr_begin(&req->out);
		mlf_json_elems(&req->out, n, MLF_JSON_SPLIT_MIN_RUNS, write_run_elem, runs);
		mlf_json_arr_end(&req->out);
	}
	if (next >= 0)
		mlf_json_kv_str(&req->out, "next_page_token", mlf_page_token_encode(&req->arena, next));
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* set-tag and log-param: one {key, value} checked as MLflow does (`what`
 * names the key in the length message; the value is cut to value_limit)
 * and logged as a one-entry batch, a param when is_param, else a tag. */
static enum mlf_status log_one_kv(struct mlf_req *req, const char *what, size_t value_limit, int is_param)
{
	const char *run_id, *key, *value;
	enum mlf_status s;
	if ((s = run_id_checked(req, &run_id)) != MLF_OK || (s = mlf_get_str(req, "key", 1, &key)) != MLF_OK ||
	    (s = mlf_get_str(req, "value", 0, &value)) != MLF_OK)
		return s;
	if ((s = mlf_validate_key(req, key, "key")) != MLF_OK ||
	    (s = mlf_validate_length(req, what, key, MLF_MAX_ENTITY_KEY_LENGTH)) != MLF_OK)
		return s;
	struct mlf_kv kv = {key, mlf_utf8_truncate(&req->arena, value ? value : "", value_limit)};
	struct mlf_batch b = {.run_id = run_id};
	if (is_param) {
		b.params = &kv;
		b.nparams = 1;
	} else {
		b.tags = &kv;
		b.ntags = 1;
	}
	return mlf_run_log_batch(req->db, &b, &req->err);
}

enum mlf_status mlf_api_runs_set_tag(struct mlf_req *req)
{
	return log_one_kv(req, "key", MLF_MAX_TAG_VAL_LENGTH, 0);
}

enum mlf_status mlf_api_runs_delete_tag(struct mlf_req *req)
{
	const char *run_id, *key;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "run_id", 1, &run_id)) != MLF_OK || (s = mlf_get_str(req, "key", 1, &key)) != MLF_OK)
		return s;
	return mlf_run_delete_tag(req->db, run_id, key, &req->err);
}

enum mlf_status mlf_api_runs_log_metric(struct mlf_req *req)
{
	const char *run_id;
	enum mlf_status s = run_id_checked(req, &run_id);
	if (s != MLF_OK)
		return s;
	struct mlf_metric m = {0};
	if ((s = parse_metric(req, req->in, "", &m)) != MLF_OK)
		return s;
	struct mlf_batch b = {.run_id = run_id, .metrics = &m, .nmetrics = 1};
	return mlf_run_log_batch(req->db, &b, &req->err);
}

enum mlf_status mlf_api_runs_log_param(struct mlf_req *req)
{
	return log_one_kv(req, "Param key", MLF_MAX_PARAM_VAL_LENGTH, 1);
}

static enum mlf_status batch_limit(struct mlf_req *req, const char *what, int limit, int n)
{
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
	                "A batch logging request can contain at most %d %s. Got %d %s. Please split up %s across "
	                "multiple requests and try again.",
	                limit, what, n, what, what);
}

enum mlf_status mlf_api_runs_log_batch(struct mlf_req *req)
{
	enum mlf_status s;
	struct mlf_batch b = {0};
	if ((s = mlf_get_str(req, "run_id", 1, &b.run_id)) != MLF_OK)
		return s;
	cJSON *metrics = mlf_get_item(req, "metrics"), *params = mlf_get_item(req, "params"),
	      *tags = mlf_get_item(req, "tags");
	if (metrics && !cJSON_IsArray(metrics))
		return mlf_bad_type(req, "metrics", metrics);
	if (params && !cJSON_IsArray(params))
		return mlf_bad_type(req, "params", params);
	if (tags && !cJSON_IsArray(tags))
		return mlf_bad_type(req, "tags", tags);
	int nm = metrics ? cJSON_GetArraySize(metrics) : 0, np = params ? cJSON_GetArraySize(params) : 0,
	    nt = tags ? cJSON_GetArraySize(tags) : 0;
	if ((s = mlf_validate_run_id(req, b.run_id)) != MLF_OK)
		return s;

	struct mlf_metric *ms = mlf_arena_alloc(&req->arena, sizeof *ms * (size_t)(nm ? nm : 1));
	int i = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, metrics)
	{
		char prefix[32];
		snprintf(prefix, sizeof prefix, "metrics[%d].", i);
		if (!cJSON_IsObject(e))
			return mlf_bad_type(req, "metrics", metrics);
		if ((s = parse_metric(req, e, prefix, &ms[i])) != MLF_OK)
			return s;
		i++;
	}
	struct mlf_kv *ps, *ts;
	int nps, nts;
	if ((s = parse_kv_array(req, params, "params", 'p', &ps, &nps)) != MLF_OK ||
	    (s = parse_kv_array(req, tags, "tags", 't', &ts, &nts)) != MLF_OK)
		return s;
	/* MLflow's order: entity checks above, then batch sizes, then duplicates. */
	if (nm > MLF_MAX_METRICS_PER_BATCH)
		return batch_limit(req, "metrics", MLF_MAX_METRICS_PER_BATCH, nm);
	if (np > MLF_MAX_PARAMS_PER_BATCH)
		return batch_limit(req, "params", MLF_MAX_PARAMS_PER_BATCH, np);
	if (nt > MLF_MAX_TAGS_PER_BATCH)
		return batch_limit(req, "tags", MLF_MAX_TAGS_PER_BATCH, nt);
	if (nm + np + nt > MLF_MAX_ENTITIES_PER_BATCH)
		return batch_limit(req, "metrics, params, and tags", MLF_MAX_ENTITIES_PER_BATCH, nm + np + nt);
	/* Duplicate param keys in one request are refused. */
	struct mlf_buf dupes = {0};
	int nd = 0;
	for (int a = 0; a < nps; a++)
		for (int k = 0; k < a; k++)
			if (!strcmp(ps[a].key, ps[k].key)) {
				mlf_buf_printf(&dupes, "%s'%s'", nd++ ? ", " : "", ps[a].key);
				break;
			}
	if (nd) {
		s = mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Duplicate parameter keys have been submitted: [%s]. Please ensure the request contains only "
		    "one param value per param key.",
		    dupes.data);
		mlf_buf_release(&dupes);
		return s;
	}
	b.metrics = ms;
	b.nmetrics = nm;
	b.params = ps;
	b.nparams = nps;
	b.tags = ts;
	b.ntags = nts;
	return mlf_run_log_batch(req->db, &b, &req->err);
}

enum mlf_status mlf_api_runs_log_inputs(struct mlf_req *req)
{
	const char *run_id;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "run_id", 1, &run_id)) != MLF_OK || (s = mlf_validate_run_id(req, run_id)) != MLF_OK)
		return s;
	cJSON *ds = mlf_get_item(req, "datasets"), *models = mlf_get_item(req, "models");
	if (ds && !cJSON_IsArray(ds))
		return mlf_bad_type(req, "datasets", ds);
	if (models && !cJSON_IsArray(models))
		return mlf_bad_type(req, "models", models);
	int nd = ds ? cJSON_GetArraySize(ds) : 0, nm = models ? cJSON_GetArraySize(models) : 0;
	struct mlf_dataset_input *inputs = mlf_arena_alloc(&req->arena, sizeof *inputs * (size_t)(nd ? nd : 1));
	struct mlf_model_io *mios = mlf_arena_alloc(&req->arena, sizeof *mios * (size_t)(nm ? nm : 1));
	int i = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, ds)
	{
		struct mlf_dataset_input *in = &inputs[i++];
		cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "dataset");
		if (!cJSON_IsObject(d))
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			                "Missing value for required parameter 'datasets[%d].dataset'.", i - 1);
		struct {
			const char *field;
			const char **dst;
			int required;
			size_t limit;
		} fields[] = {
		    {"name", &in->dataset.name, 1, MLF_MAX_DATASET_NAME_SIZE},
		    {"digest", &in->dataset.digest, 1, MLF_MAX_DATASET_DIGEST_SIZE},
		    {"source_type", &in->dataset.source_type, 1, 0},
		    {"source", &in->dataset.source, 1, MLF_MAX_DATASET_SOURCE_SIZE},
		    {"schema", &in->dataset.schema, 0, MLF_MAX_DATASET_SCHEMA_SIZE},
		    {"profile", &in->dataset.profile, 0, MLF_MAX_DATASET_PROFILE_SIZE},
		};
		for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
			if ((s = mlf_obj_str(req, d, fields[f].field, 0, fields[f].dst)) != MLF_OK)
				return s;
			/* Unset proto strings read as "" in MLflow; schema and profile stay unset. */
			if (!*fields[f].dst && fields[f].required)
				*fields[f].dst = "";
			if (fields[f].limit &&
			    (s = mlf_validate_length(req, fields[f].field, *fields[f].dst, fields[f].limit)) != MLF_OK)
				return s;
		}
		/* Input tags: MLflow checks lengths only (no key charset rules). */
		cJSON *tv = cJSON_GetObjectItemCaseSensitive(e, "tags"), *te;
		if (tv && !cJSON_IsNull(tv) && !cJSON_IsArray(tv))
			return mlf_bad_type(req, "tags", tv);
		int nt = tv && cJSON_IsArray(tv) ? cJSON_GetArraySize(tv) : 0, t = 0;
		struct mlf_kv *tags = mlf_arena_alloc(&req->arena, sizeof *tags * (size_t)(nt ? nt : 1));
		cJSON *tag_list = nt ? tv : NULL;
		cJSON_ArrayForEach(te, tag_list)
		{
			if ((s = mlf_obj_str(req, te, "key", 0, &tags[t].key)) != MLF_OK ||
			    (s = mlf_obj_str(req, te, "value", 0, &tags[t].value)) != MLF_OK)
				return s;
			if (!tags[t].key)
				tags[t].key = "";
			if (!tags[t].value)
				tags[t].value = "";
			if ((s = mlf_validate_length(req, "key", tags[t].key, MLF_MAX_INPUT_TAG_KEY_SIZE)) != MLF_OK ||
			    (s = mlf_validate_length(req, "value", tags[t].value, MLF_MAX_INPUT_TAG_VALUE_SIZE)) !=
			        MLF_OK)
				return s;
			t++;
		}
		in->tags = tags;
		in->ntags = nt;
	}
	int k = 0;
	cJSON_ArrayForEach(e, models)
	{
		if ((s = mlf_obj_str(req, e, "model_id", 1, &mios[k].model_id)) != MLF_OK)
			return s;
		k++;
	}
	return mlf_run_log_inputs(req->db, run_id, inputs, nd, mios, nm, &req->err);
}

enum mlf_status mlf_api_runs_log_outputs(struct mlf_req *req)
{
	const char *run_id;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "run_id", 1, &run_id)) != MLF_OK)
		return s;
	cJSON *models = mlf_get_item(req, "models");
	if (!models)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'models'. See the API docs for more information "
		                "about request parameters.");
	if (!cJSON_IsArray(models))
		return mlf_bad_type(req, "models", models);
	int nm = cJSON_GetArraySize(models), k = 0;
	struct mlf_model_io *mios = mlf_arena_alloc(&req->arena, sizeof *mios * (size_t)(nm ? nm : 1));
	cJSON *e;
	cJSON_ArrayForEach(e, models)
	{
		if ((s = mlf_obj_str(req, e, "model_id", 1, &mios[k].model_id)) != MLF_OK ||
		    (s = mlf_obj_int64(req, e, "step", 0, &mios[k].step, NULL)) != MLF_OK)
			return s;
		k++;
	}
	return mlf_run_log_outputs(req->db, run_id, mios, nm, &req->err);
}
