/*
 * log_model.c: POST /mlflow/runs/log-model, the MLflow 2.x way of
 * recording a logged model (2.x clients' log_model and autolog call it;
 * stock 3.17.2 still serves it): the model's MLmodel fields as JSON, of
 * which MLflow keeps run_id, artifact_path, utc_time_created, model_uuid
 * and the flavors (without each flavor's "config") as one more entry of
 * the run's mlflow.log-model.history tag, written as Python's json.dumps
 * writes it (api/pyjson.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "api.h"
#include "pyjson.h"

#define LOG_MODEL_HISTORY_TAG "mlflow.log-model.history"

/* str(datetime.utcnow()): "YYYY-MM-DD HH:MM:SS.ffffff" (no fraction when
 * the microseconds are 0, as Python writes it). */
static void utc_now(char out[32])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
	if (tv.tv_usec)
		snprintf(out + n, 32 - n, ".%06ld", (long)tv.tv_usec);
}

/* Model.from_dict(model).get_tags_dict(), or NULL with err set. */
static struct mlf_py *history_entry(struct mlf_req *req, struct mlf_py *model)
{
	struct mlf_arena *a = &req->arena;
	/* MLflow names the missing fields as a Python set, whose order
	 * varies from process to process; this is one of them. */
	static const char *const mandatory[] = {"run_id", "utc_time_created", "artifact_path", "flavors"};
	struct mlf_buf missing = {0};
	for (size_t i = 0; i < sizeof mandatory / sizeof *mandatory; i++)
		if (!mlf_py_get(model, mandatory[i]))
			mlf_buf_printf(&missing, "%s'%s'", missing.len ? ", " : "", mandatory[i]);
	if (missing.len) {
		mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Model json is missing mandatory fields: {%s}",
		         missing.data);
		mlf_buf_release(&missing);
		return NULL;
	}
	struct mlf_py *flavors = mlf_py_get(model, "flavors");
	if (flavors->type != MLF_PY_DICT && flavors->type != MLF_PY_NULL) {
		mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Model json field 'flavors' must be an object");
		return NULL;
	}
	struct mlf_py *entry = mlf_py_new(a, MLF_PY_DICT);
	mlf_py_set(a, entry, "run_id", mlf_py_get(model, "run_id"));
	mlf_py_set(a, entry, "artifact_path", mlf_py_get(model, "artifact_path"));
	struct mlf_py *created = mlf_py_get(model, "utc_time_created");
	struct mlf_buf text = {0};
	char now[32];
	if (mlf_py_truthy(created)) {
		mlf_py_str(&text, created);
	} else {
		utc_now(now);
		mlf_buf_puts(&text, now);
	}
	mlf_py_set(a, entry, "utc_time_created", mlf_py_new_str(a, text.len ? text.data : ""));
	mlf_buf_release(&text);
	struct mlf_py *uuid = mlf_py_get(model, "model_uuid");
	mlf_py_set(a, entry, "model_uuid", uuid ? uuid : mlf_py_new(a, MLF_PY_NULL));
	struct mlf_py *kept = mlf_py_new(a, MLF_PY_DICT);
	for (size_t i = 0; flavors->type == MLF_PY_DICT && i < flavors->n; i++) {
		struct mlf_py *conf = flavors->items[i];
		if (conf->type == MLF_PY_DICT) {
			struct mlf_py *copy = mlf_py_new(a, MLF_PY_DICT);
			for (size_t k = 0; k < conf->n; k++)
				if (!mlf_py_str_is(conf->keys[k], "config"))
					mlf_py_add(a, copy, conf->keys[k], conf->items[k]);
			conf = copy;
		}
		mlf_py_add(a, kept, flavors->keys[i], conf);
	}
	mlf_py_set(a, entry, "flavors", kept);
	return entry;
}

struct merge_ctx {
	struct mlf_req *req;
	struct mlf_py *entry;
};

/* json.dumps(json.loads(old) + [entry]), or json.dumps([entry]). */
static char *append_entry(const char *old, void *p, struct mlf_error *err)
{
	struct merge_ctx *m = p;
	struct mlf_py *list = NULL;
	if (old) {
		list = mlf_py_loads(&m->req->arena, old, strlen(old));
		if (!list || list->type != MLF_PY_LIST) {
			mlf_fail(err, MLF_INTERNAL_ERROR, "The run's %s tag does not hold a JSON list",
			         LOG_MODEL_HISTORY_TAG);
			return NULL;
		}
		/* a new list each time: the job may run again after a rollback */
		struct mlf_py *copy = mlf_py_new(&m->req->arena, MLF_PY_LIST);
		for (size_t i = 0; i < list->n; i++)
			mlf_py_append(&m->req->arena, copy, list->items[i]);
		list = copy;
	} else {
		list = mlf_py_new(&m->req->arena, MLF_PY_LIST);
	}
	mlf_py_append(&m->req->arena, list, m->entry);
	struct mlf_buf b = {0};
	mlf_py_dumps(&b, list);
	return b.data; /* owned by the caller now */
}

enum mlf_status mlf_api_runs_log_model(struct mlf_req *req)
{
	const char *run_id, *model_json;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "run_id", 1, &run_id)) != MLF_OK ||
	    (s = mlf_get_str(req, "model_json", 1, &model_json)) != MLF_OK)
		return s;
	struct mlf_py *model = mlf_py_loads(&req->arena, model_json, strlen(model_json));
	if (!model)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Malformed model info. \n %s \n is not a valid JSON.", model_json);
	if (model->type != MLF_PY_DICT)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Model json must be a JSON object");
	struct merge_ctx m = {req, history_entry(req, model)};
	if (!m.entry)
		return req->err.status;
	if ((s = mlf_run_merge_tag(req->db, run_id, LOG_MODEL_HISTORY_TAG, append_entry, &m, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}
