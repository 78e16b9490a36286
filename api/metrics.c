/*
 * metrics.c: metric history endpoints: get-history (paged), the sampled
 * get-history-bulk-interval the UI charts use, and the legacy ajax
 * get-history-bulk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/search.h"
#include "api.h"
#include "limits.h"

/* A list of metrics to write: the points of a history share one key
 * string and, run by run, one run id string, so those are escaped once
 * (key_json when every point has the same key; run_json[i] for point i). */
struct metrics_out {
	const struct mlf_metric *ms;
	int with_run_id;
	const struct mlf_buf *key_json;  /* borrowed, or NULL */
	const struct mlf_buf **run_json; /* borrowed: n entries, or NULL */
};

static void write_metric_elem(struct mlf_json *j, const void *ctx, int i)
{
	const struct metrics_out *o = ctx;
	mlf_write_metric_with(j, &o->ms[i], o->key_json, o->with_run_id, o->run_json ? o->run_json[i] : NULL);
}

static void write_metrics(struct mlf_req *req, const struct mlf_metric *ms, int n, int with_run_id,
                          const char *next_token)
{
	mlf_json_obj_begin(&req->out);
	if (n) {
		mlf_json_key(&req->out, "metrics");
		mlf_json_arr_begin(&req->out);
		struct metrics_out o = {ms, with_run_id, NULL, NULL};
		/* The escaped strings, in the arena; their buffers are freed below. */
		int same_key = 1, nbufs = 0, runs = 0;
		for (int i = 0; i < n; i++) {
			same_key = same_key && ms[i].key == ms[0].key;
			runs += with_run_id && ms[i].run_id && (!i || ms[i].run_id != ms[i - 1].run_id);
		}
		struct mlf_buf *bufs = mlf_arena_alloc(&req->arena, (size_t)(runs + 1) * sizeof *bufs);
		if (same_key && ms[0].key) {
			mlf_json_escape(&bufs[nbufs], ms[0].key, strlen(ms[0].key));
			o.key_json = &bufs[nbufs++];
		}
		if (with_run_id) {
			const struct mlf_buf **rj = mlf_arena_alloc(&req->arena, (size_t)n * sizeof *rj);
			for (int i = 0; i < n; i++) {
				if (!ms[i].run_id)
					continue;
				if (i && ms[i].run_id == ms[i - 1].run_id) {
					rj[i] = rj[i - 1];
					continue;
				}
				mlf_json_escape(&bufs[nbufs], ms[i].run_id, strlen(ms[i].run_id));
				rj[i] = &bufs[nbufs++];
			}
			o.run_json = rj;
		}
		mlf_json_elems(&req->out, n, MLF_JSON_SPLIT_MIN_METRICS, write_metric_elem, &o);
		for (int i = 0; i < nbufs; i++)
			mlf_buf_release(&bufs[i]);
		mlf_json_arr_end(&req->out);
	}
	mlf_json_kv_str(&req->out, "next_page_token", next_token);
	mlf_json_obj_end(&req->out);
}

static enum mlf_status check_run(struct mlf_req *req, struct mlf_conn *c, const char *run_id)
{
	struct mlf_run_info info;
	return mlf_run_get_info(c, &req->arena, run_id, &info, &req->err);
}

enum mlf_status mlf_api_metrics_get_history(struct mlf_req *req)
{
	const char *run_id, *key, *token;
	int64_t max_results = 0;
	int present;
	enum mlf_status s;
	if ((s = mlf_get_run_id(req, &run_id)) != MLF_OK || (s = mlf_get_str(req, "metric_key", 1, &key)) != MLF_OK ||
	    (s = mlf_get_str(req, "page_token", 0, &token)) != MLF_OK ||
	    (s = mlf_get_int64(req, "max_results", 0, &max_results, &present)) != MLF_OK)
		return s;
	if (present && max_results <= 0)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value %lld for parameter 'max_results' supplied. It must be a positive integer.",
		    (long long)max_results);
	int64_t offset;
	struct mlf_conn *c;
	if ((s = mlf_page_read_begin(req, token, &offset, &c)) != MLF_OK)
		return s;
	if ((s = check_run(req, c, run_id)) != MLF_OK)
		return s;
	struct mlf_metric *ms;
	int n;
	int64_t next;
	if ((s = mlf_metric_history(c, &req->arena, run_id, key, present ? max_results : 0, offset, 1, &ms, &n, &next,
	                            &req->err)) != MLF_OK)
		return s;
	write_metrics(req, ms, n, 0, next >= 0 ? mlf_page_token_encode(&req->arena, next) : NULL);
	return MLF_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum mlf_status mlf_api_metrics_get_history_bulk(struct mlf_req *req)
{
	const char **run_ids, *key;
	int nruns;
	enum mlf_status s;
	if ((s = mlf_get_str_array(req, "run_id", &run_ids, &nruns)) != MLF_OK)
		return s;
	if (nruns == 0)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "GetMetricHistoryBulk request must specify at least one run_id.");
	if (nruns > MLF_BULK_MAX_RUN_IDS)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "GetMetricHistoryBulk request cannot specify more than %d run_ids. Received %d run_ids.",
		    MLF_BULK_MAX_RUN_IDS, nruns);
	cJSON *kv = cJSON_GetObjectItemCaseSensitive(req->in, "metric_key");
	if (!kv || !cJSON_IsString(kv))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "GetMetricHistoryBulk request must specify a metric_key.");
	key = kv->valuestring;
	int64_t max_results = MLF_BULK_HISTORY_MAX_RESULTS;
	if ((s = mlf_get_int64(req, "max_results", 0, &max_results, NULL)) != MLF_OK)
		return s;
	if (max_results > MLF_BULK_HISTORY_MAX_RESULTS)
		max_results = MLF_BULK_HISTORY_MAX_RESULTS;
	qsort(run_ids, (size_t)nruns, sizeof *run_ids, cmp_str);
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "metrics");
	mlf_json_arr_begin(&req->out);
	int64_t total = 0;
	for (int r = 0; r < nruns && total < max_results; r++) {
		struct mlf_metric *ms;
		int n;
		int64_t next;
		if ((s = mlf_metric_history(c, &req->arena, run_ids[r], key, max_results, 0, 0, &ms, &n, &next,
		                            &req->err)) != MLF_OK)
			return s;
		for (int i = 0; i < n && total < max_results; i++, total++) {
			ms[i].run_id = run_ids[r];
			mlf_write_metric(&req->out, &ms[i], 1);
		}
	}
	mlf_json_arr_end(&req->out);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* get-history-bulk-interval, and with minmax its mlflowd-only twin
 * mlflowd/metrics/get-history-bulk-minmax (same parameters and limits,
 * min/max-keeping samples: mlf_metric_history_bulk_minmax; with
 * sample=first, the cheap preview of the same buckets:
 * mlf_metric_history_bulk_firsts). */
static enum mlf_status bulk_interval(struct mlf_req *req, int minmax)
{
	const char **run_ids, *key;
	int nruns;
	enum mlf_status s;
	cJSON *rv = mlf_get_item(req, "run_ids");
	if (!rv)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'run_ids'. See the API docs for more information "
		                "about request parameters.");
	if ((s = mlf_get_str_array(req, "run_ids", &run_ids, &nruns)) != MLF_OK)
		return s;
	if (nruns > MLF_BULK_MAX_RUN_IDS)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %d "
		                "run_ids.",
		                MLF_BULK_MAX_RUN_IDS, nruns);
	if ((s = mlf_get_str(req, "metric_key", 1, &key)) != MLF_OK)
		return s;
	int64_t max_results = MLF_BULK_INTERVAL_MAX_RESULTS, start = 0, end = 0;
	int has_max, has_start, has_end;
	if ((s = mlf_get_int64(req, "max_results", 0, &max_results, &has_max)) != MLF_OK ||
	    (s = mlf_get_int64(req, "start_step", 0, &start, &has_start)) != MLF_OK ||
	    (s = mlf_get_int64(req, "end_step", 0, &end, &has_end)) != MLF_OK)
		return s;
	if (has_max && (max_results < 1 || max_results > MLF_BULK_INTERVAL_MAX_RESULTS))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "max_results must be between 1 and %d. See the API docs for more information about "
		                "request parameters.",
		                MLF_BULK_INTERVAL_MAX_RESULTS);
	if (has_start != has_end)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "If either start step or end step are specified, both must be specified.");
	if (has_start && start > end)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "end_step must be greater than start_step. Found start_step=%lld and end_step=%lld.",
		                (long long)start, (long long)end);
	const char *sample = NULL;
	if (minmax && (s = mlf_get_str(req, "sample", 0, &sample)) != MLF_OK)
		return s;
	if (sample && strcmp(sample, "minmax") && strcmp(sample, "first"))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "sample must be 'minmax' or 'first'. Found sample='%.100s'.", sample);
	int firsts = sample && !strcmp(sample, "first");
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_metric *ms;
	int n;
	if ((s = (firsts   ? mlf_metric_history_bulk_firsts
	          : minmax ? mlf_metric_history_bulk_minmax
	                   : mlf_metric_history_bulk_interval)(c, &req->arena, run_ids, nruns, key, has_start, start,
	                                                       end, max_results, &ms, &n, &req->err)) != MLF_OK)
		return s;
	write_metrics(req, ms, n, 1, NULL);
	return MLF_OK;
}

enum mlf_status mlf_api_metrics_get_history_bulk_interval(struct mlf_req *req)
{
	return bulk_interval(req, 0);
}

enum mlf_status mlf_api_mlflowd_metrics_bulk_minmax(struct mlf_req *req)
{
	return bulk_interval(req, 1);
}
