/*
 * serialize.c: JSON encoders for the entities several resources answer
 * with (runs, run infos, metrics, tag lists), in MLflow's wire shape:
 * snake_case, int64 as numbers, unset fields omitted.
 */
#include <stdio.h>

#include "api.h"

void mlf_write_tags(struct mlf_json *j, const char *field, const struct mlf_kv *kv, int n)
{
	if (n == 0)
		return;
	mlf_json_key(j, field);
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++) {
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "key", kv[i].key);
		mlf_json_kv_str(j, "value", kv[i].value ? kv[i].value : "");
		mlf_json_obj_end(j);
	}
	mlf_json_arr_end(j);
}

#define PUT_LIT(b, lit) mlf_buf_append((b), lit, sizeof lit - 1)

/* Written by hand: metric histories are the largest answers (hundreds of
 * thousands of these objects). */
void mlf_write_metric_with(struct mlf_json *j, const struct mlf_metric *m, const struct mlf_buf *key_json,
                           int with_run_id, const struct mlf_buf *run_json)
{
	struct mlf_buf *b = mlf_json_raw_value(j);
	PUT_LIT(b, "{\"key\":");
	if (key_json)
		mlf_buf_append(b, key_json->data, key_json->len);
	else
		mlf_json_escape(b, m->key, strlen(m->key));
	PUT_LIT(b, ",\"value\":");
	mlf_json_put_double(b, m->value);
	PUT_LIT(b, ",\"timestamp\":");
	mlf_buf_put_i64(b, m->timestamp);
	PUT_LIT(b, ",\"step\":");
	mlf_buf_put_i64(b, m->step);
	if (with_run_id && m->run_id) {
		PUT_LIT(b, ",\"run_id\":");
		if (run_json)
			mlf_buf_append(b, run_json->data, run_json->len);
		else
			mlf_json_escape(b, m->run_id, strlen(m->run_id));
	}
	mlf_buf_putc(b, '}');
}

void mlf_write_metric(struct mlf_json *j, const struct mlf_metric *m, int with_run_id)
{
	mlf_write_metric_with(j, m, NULL, with_run_id, NULL);
}

void mlf_write_run_info(struct mlf_json *j, const struct mlf_run_info *i)
{
	char exp[24];
	snprintf(exp, sizeof exp, "%lld", (long long)i->experiment_id);
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "run_uuid", i->run_id);
	mlf_json_kv_str(j, "experiment_id", exp);
	mlf_json_kv_str(j, "run_name", i->run_name);
	mlf_json_kv_str(j, "user_id", i->user_id);
	mlf_json_kv_str(j, "status", i->status);
	if (i->has_start_time)
		mlf_json_kv_int(j, "start_time", i->start_time);
	if (i->has_end_time)
		mlf_json_kv_int(j, "end_time", i->end_time);
	mlf_json_kv_str(j, "artifact_uri", i->artifact_uri);
	mlf_json_kv_str(j, "lifecycle_stage", i->lifecycle_stage);
	mlf_json_kv_str(j, "run_id", i->run_id);
	mlf_json_obj_end(j);
}

static void write_model_io(struct mlf_json *j, const char *field, const struct mlf_model_io *m, int n, int step)
{
	if (n == 0)
		return;
	mlf_json_key(j, field);
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++) {
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "model_id", m[i].model_id);
		if (step)
			mlf_json_kv_int(j, "step", m[i].step);
		mlf_json_obj_end(j);
	}
	mlf_json_arr_end(j);
}

void mlf_write_run(struct mlf_json *j, const struct mlf_run *r)
{
	mlf_json_obj_begin(j);
	mlf_json_key(j, "info");
	mlf_write_run_info(j, &r->info);

	mlf_json_key(j, "data");
	mlf_json_obj_begin(j);
	if (r->nmetrics) {
		mlf_json_key(j, "metrics");
		mlf_json_arr_begin(j);
		for (int i = 0; i < r->nmetrics; i++)
			mlf_write_metric(j, &r->metrics[i], 0);
		mlf_json_arr_end(j);
	}
	mlf_write_tags(j, "params", r->params, r->nparams);
	mlf_write_tags(j, "tags", r->tags, r->ntags);
	mlf_json_obj_end(j);

	mlf_json_key(j, "inputs");
	mlf_json_obj_begin(j);
	if (r->ninputs) {
		mlf_json_key(j, "dataset_inputs");
		mlf_json_arr_begin(j);
		for (int i = 0; i < r->ninputs; i++) {
			const struct mlf_dataset_input *in = &r->inputs[i];
			mlf_json_obj_begin(j);
			mlf_write_tags(j, "tags", in->tags, in->ntags);
			mlf_json_key(j, "dataset");
			mlf_json_obj_begin(j);
			mlf_json_kv_str(j, "name", in->dataset.name);
			mlf_json_kv_str(j, "digest", in->dataset.digest);
			mlf_json_kv_str(j, "source_type", in->dataset.source_type);
			mlf_json_kv_str(j, "source", in->dataset.source);
			mlf_json_kv_str(j, "schema", in->dataset.schema);
			mlf_json_kv_str(j, "profile", in->dataset.profile);
			mlf_json_obj_end(j);
			mlf_json_obj_end(j);
		}
		mlf_json_arr_end(j);
	}
	write_model_io(j, "model_inputs", r->model_inputs, r->nmodel_inputs, 0);
	mlf_json_obj_end(j);

	if (!r->no_outputs) {
		mlf_json_key(j, "outputs");
		mlf_json_obj_begin(j);
		write_model_io(j, "model_outputs", r->model_outputs, r->nmodel_outputs, 1);
		mlf_json_obj_end(j);
	}
	mlf_json_obj_end(j);
}
