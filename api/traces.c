/*
 * traces.c: the MLflow 3 trace endpoints (StartTraceV3, get, batch get,
 * search, tags, deletion, links to runs and prompts, assessments, the UI's
 * get-trace-artifact) and the OTLP span export route /v1/traces.
 *
 * TraceInfoV3 travels as protobuf JSON: timestamps as RFC 3339 text,
 * durations as "<seconds>s", maps as JSON objects. Spans that stock MLflow
 * keeps in the tracking store (spans.content) are answered in the OTLP
 * JSON form its server gives them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../server/http.h"
#include "../storage/search.h"
#include "../storage/traces.h"
#include "api.h"
#include "limits.h"
#include "otlp.h"

/* ================================================================
 * protobuf JSON time forms
 * ================================================================ */

/* RFC 3339 text ("2026-12-06T05:29:22.227Z", any offset) into ms. */
static int parse_timestamp(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	           &tm.tm_sec, &n) != 6 ||
	    n == 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t frac_ms = 0;
	const char *p = s + n;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
		while (digits > 0 && digits < 3)
			frac_ms *= 10, digits++;
	}
	int64_t offset_s = 0;
	if (*p == '+' || *p == '-') {
		int oh, om;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		offset_s = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != 'z') {
		return -1;
	}
	*ms = ((int64_t)timegm(&tm) - offset_s) * 1000 + frac_ms;
	return 0;
}

static void put_timestamp(struct mlf_json *j, const char *key, int64_t ms)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char out[64];
	size_t n = strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(out + n, sizeof out - n, ".%03dZ", frac);
	else
		snprintf(out + n, sizeof out - n, "Z");
	mlf_json_kv_str(j, key, out);
}

/* "0.544s" (protobuf Duration JSON) into ms, truncating like
 * Duration.ToMilliseconds. */
static int parse_duration(const char *s, int64_t *ms)
{
	char *end;
	errno = 0;
	long long secs = strtoll(s, &end, 10);
	if (end == s || errno)
		return -1;
	int64_t frac = 0;
	int digits = 0;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*end - '0');
	while (digits > 0 && digits < 3)
		frac *= 10, digits++;
	if (*end != 's' || end[1])
		return -1;
	*ms = (int64_t)secs * 1000 + (s[0] == '-' ? -frac : frac);
	return 0;
}

static void put_duration(struct mlf_json *j, const char *key, int64_t ms)
{
	char out[48];
	if (ms % 1000)
		snprintf(out, sizeof out, "%s%lld.%03llds", ms < 0 ? "-" : "", llabs((long long)ms) / 1000,
		         llabs((long long)ms) % 1000);
	else
		snprintf(out, sizeof out, "%llds", (long long)ms / 1000);
	mlf_json_kv_str(j, key, out);
}

/* ================================================================
 * request decoding
 * ================================================================ */

/* A JSON object of strings (protobuf map<string, string>) into kvs. */
static enum mlf_status get_map(struct mlf_req *req, cJSON *obj, const char *name, struct mlf_kv **out, int *n)
{
	*out = NULL;
	*n = 0;
	cJSON *m = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	if (!m || cJSON_IsNull(m))
		return MLF_OK;
	if (!cJSON_IsObject(m))
		return mlf_bad_type(req, name, m);
	int cnt = cJSON_GetArraySize(m), k = 0;
	struct mlf_kv *v = mlf_arena_alloc(&req->arena, sizeof *v * (size_t)(cnt + 1));
	cJSON *e;
	cJSON_ArrayForEach(e, m)
	{
		if (!cJSON_IsString(e))
			return mlf_bad_type(req, name, m);
		v[k].key = e->string;
		v[k].value = e->valuestring;
		k++;
	}
	*out = v;
	*n = k;
	return MLF_OK;
}

static const char *map_get(const struct mlf_kv *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].value;
	return NULL;
}

/* MLflow's token_count_or_none / finite_float_or_none over the
 * mlflow.trace.tokenUsage and mlflow.trace.cost maps. */
static void analytics_from_metadata(struct mlf_trace_info *t)
{
	t->session_id = map_get(t->metadata, t->nmetadata, MLF_TRACE_META_SESSION);
	const char *usage = map_get(t->metadata, t->nmetadata, MLF_TRACE_META_TOKEN_USAGE);
	cJSON *u = usage ? cJSON_Parse(usage) : NULL;
	for (int i = 0; u && cJSON_IsObject(u) && i < MLF_TRACE_NTOKENS; i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(u, mlf_trace_token_keys[i]);
		if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
		    fabs(v->valuedouble) < 9.2e18) {
			t->tokens[i] = (int64_t)v->valuedouble;
			t->has_token[i] = 1;
		}
	}
	cJSON_Delete(u);
	const char *cost = map_get(t->metadata, t->nmetadata, MLF_TRACE_META_COST);
	cJSON *c = cost ? cJSON_Parse(cost) : NULL;
	for (int i = 0; c && cJSON_IsObject(c) && i < MLF_TRACE_NCOSTS; i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(c, mlf_trace_cost_keys[i]);
		if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
			t->costs[i] = v->valuedouble;
			t->has_cost[i] = 1;
		}
	}
	cJSON_Delete(c);
}

static char *print_json(struct mlf_arena *a, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	char *copy = mlf_arena_strdup(a, text ? text : "null");
	cJSON_free(text);
	return copy;
}

/* MLflow's assessment_aggregate of a value. */
static void aggregate_of(const cJSON *v, struct mlf_assessment *x)
{
	x->has_aggregate = 0;
	x->is_numeric = 0;
	if (cJSON_IsBool(v)) {
		x->aggregate = cJSON_IsTrue(v) ? 1.0 : 0.0;
		x->has_aggregate = 1;
	} else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		x->aggregate = v->valuedouble;
		x->has_aggregate = x->is_numeric = 1;
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!strncasecmp(s, "yes", 3) || !strncasecmp(s, "no", 2)) {
			size_t l = strlen(s);
			while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\n'))
				l--;
			if ((l == 3 && !strncasecmp(s, "yes", 3)) || (l == 2 && !strncasecmp(s, "no", 2))) {
				x->aggregate = l == 3 ? 1.0 : 0.0;
				x->has_aggregate = 1;
			}
		}
	}
}

/* The value of a feedback or expectation object: "value", or an
 * expectation's "serialized_value" in JSON_FORMAT. Returns the parsed
 * value (caller deletes) or NULL with req->err set. */
static cJSON *assessment_value(struct mlf_req *req, cJSON *obj, const char *what)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "value");
	if (v)
		return cJSON_Duplicate(v, 1);
	cJSON *sv = cJSON_GetObjectItemCaseSensitive(obj, "serialized_value");
	if (sv && cJSON_IsObject(sv)) {
		cJSON *text = cJSON_GetObjectItemCaseSensitive(sv, "value");
		cJSON *parsed = cJSON_IsString(text) ? cJSON_Parse(text->valuestring) : NULL;
		if (parsed)
			return parsed;
	}
	mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "The %s of an assessment needs a value.", what);
	return NULL;
}

/* Fill x from a protobuf Assessment JSON object (create). */
static enum mlf_status decode_assessment(struct mlf_req *req, cJSON *o, struct mlf_assessment *x)
{
	memset(x, 0, sizeof *x);
	enum mlf_status s;
	if ((s = mlf_obj_str(req, o, "assessment_name", 1, &x->name)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "assessment_id", 0, &x->assessment_id)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "span_id", 0, &x->span_id)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "run_id", 0, &x->run_id)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "rationale", 0, &x->rationale)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "overrides", 0, &x->overrides)) != MLF_OK)
		return s;
	if (x->overrides && !*x->overrides)
		x->overrides = NULL;
	cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
	if (!cJSON_IsObject(src))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Assessment source must be specified.");
	if ((s = mlf_obj_str(req, src, "source_type", 0, &x->source_type)) != MLF_OK ||
	    (s = mlf_obj_str(req, src, "source_id", 0, &x->source_id)) != MLF_OK)
		return s;
	if (!x->source_type)
		x->source_type = "SOURCE_TYPE_UNSPECIFIED";
	cJSON *fb = cJSON_GetObjectItemCaseSensitive(o, "feedback");
	cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "expectation");
	if (!!cJSON_IsObject(fb) == !!cJSON_IsObject(ex))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Exactly one of `expectation` or `feedback` should be specified.");
	x->type = fb ? "feedback" : "expectation";
	cJSON *v = assessment_value(req, fb ? fb : ex, x->type);
	if (!v) {
		if (!fb)
			return req->err.status;
		v = cJSON_CreateNull(); /* a feedback may carry only an error */
	}
	x->value = print_json(&req->arena, v);
	aggregate_of(v, x);
	cJSON_Delete(v);
	cJSON *e = fb ? cJSON_GetObjectItemCaseSensitive(fb, "error") : NULL;
	if (cJSON_IsObject(e))
		x->error = print_json(&req->arena, e);
	cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
	if (cJSON_IsObject(md) && md->child)
		x->metadata = print_json(&req->arena, md);
	cJSON *valid = cJSON_GetObjectItemCaseSensitive(o, "valid");
	x->valid = !cJSON_IsFalse(valid);
	int64_t ts;
	cJSON *ct = cJSON_GetObjectItemCaseSensitive(o, "create_time");
	if (cJSON_IsString(ct) && parse_timestamp(ct->valuestring, &ts) == 0)
		x->created_ms = ts;
	cJSON *ut = cJSON_GetObjectItemCaseSensitive(o, "last_update_time");
	if (cJSON_IsString(ut) && parse_timestamp(ut->valuestring, &ts) == 0)
		x->updated_ms = ts;
	return MLF_OK;
}

static enum mlf_status decode_trace_info(struct mlf_req *req, cJSON *o, struct mlf_trace_info *t)
{
	memset(t, 0, sizeof *t);
	enum mlf_status s;
	const char *exp = NULL, *rt = NULL, *dur = NULL;
	if ((s = mlf_obj_str(req, o, "trace_id", 1, &t->trace_id)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "client_request_id", 0, &t->client_request_id)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "request_time", 0, &rt)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "execution_duration", 0, &dur)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "state", 0, &t->state)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "request_preview", 0, &t->request_preview)) != MLF_OK ||
	    (s = mlf_obj_str(req, o, "response_preview", 0, &t->response_preview)) != MLF_OK)
		return s;
	if (strlen(t->trace_id) > MLF_TRACE_ID_MAX)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid trace ID '%.100s...'", t->trace_id);
	cJSON *loc = cJSON_GetObjectItemCaseSensitive(o, "trace_location");
	cJSON *me = loc ? cJSON_GetObjectItemCaseSensitive(loc, "mlflow_experiment") : NULL;
	if ((s = mlf_obj_str(req, me, "experiment_id", 1, &exp)) != MLF_OK)
		return s;
	if ((s = mlf_experiment_id_parse(exp, &t->experiment_id, &req->err)) != MLF_OK)
		return s;
	if (rt && parse_timestamp(rt, &t->request_time_ms))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid request_time '%.100s'", rt);
	if (dur) {
		if (parse_duration(dur, &t->execution_ms))
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid execution_duration '%.100s'",
			                dur);
		t->has_execution = 1;
	}
	if (!t->state)
		t->state = "STATE_UNSPECIFIED";
	static const char *const states[] = {"STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS", NULL};
	int ok = 0;
	for (int i = 0; states[i]; i++)
		ok |= !strcmp(states[i], t->state);
	if (!ok)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid trace state '%.100s'", t->state);
	if ((s = get_map(req, o, "trace_metadata", &t->metadata, &t->nmetadata)) != MLF_OK ||
	    (s = get_map(req, o, "tags", &t->tags, &t->ntags)) != MLF_OK)
		return s;
	for (int i = 0; i < t->ntags; i++) {
		if ((s = mlf_validate_length(req, "key", t->tags[i].key, MLF_TRACE_TAG_KEY_MAX)) != MLF_OK)
			return s;
		t->tags[i].value = mlf_utf8_truncate(&req->arena, t->tags[i].value, MLF_TRACE_TAG_VALUE_MAX);
	}
	for (int i = 0; i < t->nmetadata; i++)
		t->metadata[i].value = mlf_utf8_truncate(&req->arena, t->metadata[i].value, MLF_TRACE_TAG_VALUE_MAX);
	t->trace_name = map_get(t->tags, t->ntags, MLF_TRACE_TAG_NAME);
	if (t->request_preview)
		t->request_preview = mlf_utf8_truncate(&req->arena, t->request_preview, MLF_TRACE_PREVIEW_MAX);
	if (t->response_preview)
		t->response_preview = mlf_utf8_truncate(&req->arena, t->response_preview, MLF_TRACE_PREVIEW_MAX);
	analytics_from_metadata(t);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "assessments");
	if (cJSON_IsArray(arr)) {
		int cnt = cJSON_GetArraySize(arr);
		t->assessments = mlf_arena_alloc(&req->arena, sizeof *t->assessments * (size_t)(cnt + 1));
		cJSON *e;
		cJSON_ArrayForEach(e, arr)
		{
			struct mlf_assessment *x = &t->assessments[t->nassessments];
			if ((s = decode_assessment(req, e, x)) != MLF_OK)
				return s;
			x->trace_id = t->trace_id;
			if (!x->assessment_id) {
				char hex[33];
				mlf_uuid_hex(hex);
				x->assessment_id = mlf_arena_printf(&req->arena, "a-%s", hex);
			}
			if (!x->created_ms)
				x->created_ms = mlf_now_ms();
			if (!x->updated_ms)
				x->updated_ms = x->created_ms;
			t->nassessments++;
		}
	}
	return MLF_OK;
}

/* ================================================================
 * encoding
 * ================================================================ */

static void put_map(struct mlf_json *j, const char *name, const struct mlf_kv *kv, int n)
{
	mlf_json_key(j, name);
	mlf_json_obj_begin(j);
	for (int i = 0; i < n; i++)
		mlf_json_kv_str(j, kv[i].key, kv[i].value);
}

static void put_assessment(struct mlf_json *j, const struct mlf_assessment *x)
{
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "assessment_id", x->assessment_id);
	mlf_json_kv_str(j, "assessment_name", x->name);
	mlf_json_kv_str(j, "trace_id", x->trace_id);
	mlf_json_kv_str(j, "span_id", x->span_id);
	mlf_json_key(j, "source");
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "source_type", x->source_type);
	mlf_json_kv_str(j, "source_id", x->source_id);
	mlf_json_obj_end(j);
	put_timestamp(j, "create_time", x->created_ms);
	put_timestamp(j, "last_update_time", x->updated_ms);
	const char *value = x->value ? x->value : "null";
	int is_feedback = x->type && !strcmp(x->type, "feedback");
	mlf_json_key(j, is_feedback ? "feedback" : "expectation");
	mlf_json_obj_begin(j);
	if (!is_feedback && (value[0] == '{' || value[0] == '[')) {
		mlf_json_key(j, "serialized_value");
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "serialization_format", "JSON_FORMAT");
		mlf_json_kv_str(j, "value", value);
		mlf_json_obj_end(j);
	} else if (strcmp(value, "null")) {
		mlf_json_key(j, "value");
		mlf_json_raw(j, value);
	}
	if (is_feedback && x->error) {
		mlf_json_key(j, "error");
		mlf_json_raw(j, x->error);
	}
	mlf_json_obj_end(j);
	mlf_json_kv_str(j, "rationale", x->rationale);
	if (x->metadata) {
		mlf_json_key(j, "metadata");
		cJSON *md = cJSON_Parse(x->metadata);
		mlf_json_obj_begin(j);
		cJSON *e;
		cJSON_ArrayForEach(e, md)
		{
			if (cJSON_IsString(e)) {
				mlf_json_kv_str(j, e->string, e->valuestring);
			} else {
				char *t = cJSON_PrintUnformatted(e);
				mlf_json_kv_str(j, e->string, t ? t : "");
				cJSON_free(t);
			}
		}
		mlf_json_obj_end(j);
		cJSON_Delete(md);
	}
	mlf_json_kv_str(j, "run_id", x->run_id);
	mlf_json_kv_str(j, "overrides", x->overrides);
	mlf_json_kv_bool(j, "valid", x->valid);
	mlf_json_obj_end(j);
}

/* MLflow's compatibility_metadata_from_columns: the promoted metadata
 * rebuilt from the analytics columns, as Python's json.dumps writes it. */
static void put_promoted_metadata(struct mlf_json *j, const struct mlf_trace_info *t)
{
	mlf_json_kv_str(j, MLF_TRACE_META_SESSION, t->session_id);
	struct mlf_buf b = {0};
	for (int i = 0; i < MLF_TRACE_NTOKENS; i++)
		if (t->has_token[i])
			mlf_buf_printf(&b, "%s\"%s\": %lld", b.len ? ", " : "{", mlf_trace_token_keys[i],
			               (long long)t->tokens[i]);
	if (b.len) {
		mlf_buf_putc(&b, '}');
		mlf_json_kv_str(j, MLF_TRACE_META_TOKEN_USAGE, b.data);
	}
	mlf_buf_reset(&b);
	for (int i = 0; i < MLF_TRACE_NCOSTS; i++)
		if (t->has_cost[i]) {
			char num[32];
			mlf_format_double(num, t->costs[i]);
			mlf_buf_printf(&b, "%s\"%s\": %s", b.len ? ", " : "{", mlf_trace_cost_keys[i], num);
		}
	if (b.len) {
		mlf_buf_putc(&b, '}');
		mlf_json_kv_str(j, MLF_TRACE_META_COST, b.data);
	}
	mlf_buf_release(&b);
}

static void put_trace_info(struct mlf_json *j, const struct mlf_trace_info *t)
{
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "trace_id", t->trace_id);
	mlf_json_kv_str(j, "client_request_id", t->client_request_id);
	mlf_json_key(j, "trace_location");
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "type", "MLFLOW_EXPERIMENT");
	mlf_json_key(j, "mlflow_experiment");
	mlf_json_obj_begin(j);
	char exp[32];
	snprintf(exp, sizeof exp, "%lld", (long long)t->experiment_id);
	mlf_json_kv_str(j, "experiment_id", exp);
	mlf_json_obj_end(j);
	mlf_json_obj_end(j);
	put_timestamp(j, "request_time", t->request_time_ms);
	if (t->has_execution)
		put_duration(j, "execution_duration", t->execution_ms);
	mlf_json_kv_str(j, "state", t->state);
	put_map(j, "trace_metadata", t->metadata, t->nmetadata);
	put_promoted_metadata(j, t);
	mlf_json_obj_end(j);
	put_map(j, "tags", t->tags, t->ntags);
	mlf_json_kv_str(j, MLF_TRACE_TAG_NAME, t->trace_name);
	mlf_json_obj_end(j);
	mlf_json_kv_str(j, "request_preview", t->request_preview);
	mlf_json_kv_str(j, "response_preview", t->response_preview);
	if (t->nassessments) {
		mlf_json_key(j, "assessments");
		mlf_json_arr_begin(j);
		for (int i = 0; i < t->nassessments; i++)
			put_assessment(j, &t->assessments[i]);
		mlf_json_arr_end(j);
	}
	mlf_json_obj_end(j);
}

/* ---- spans: MLflow's span JSON (spans.content) as OTLP JSON ---- */

/* The number tokens of a JSON text in document order, each marked when
 * written with a fraction or an exponent: Python reads those as floats and
 * MLflow answers them as double_value even when integral (4.0). cJSON keeps
 * no such mark; its trees are walked in the same document order. */
struct num_forms {
	unsigned char *is_float;
	int n, next;
};

static void scan_number_forms(const char *s, struct num_forms *f)
{
	int cap = 0;
	memset(f, 0, sizeof *f);
	for (const char *p = s; *p;) {
		if (*p == '"') { /* a string: no numbers inside */
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			p += *p != 0;
			continue;
		}
		if (*p != '-' && (*p < '0' || *p > '9')) {
			p++;
			continue;
		}
		int fl = 0;
		for (; *p && strchr("0123456789+-.eE", *p); p++)
			fl |= *p == '.' || *p == 'e' || *p == 'E';
		if (f->n == cap) {
			unsigned char *grown = realloc(f->is_float, (size_t)(cap = cap ? 2 * cap : 16));
			if (!grown)
				break; /* the rest read as before: ints when integral */
			f->is_float = grown;
		}
		f->is_float[f->n++] = (unsigned char)fl;
	}
}

static void put_any_value(struct mlf_json *j, const cJSON *v, struct num_forms *f);

static void put_kvlist(struct mlf_json *j, const cJSON *obj, struct num_forms *f)
{
	mlf_json_key(j, "values");
	mlf_json_arr_begin(j);
	const cJSON *e;
	cJSON_ArrayForEach(e, obj)
	{
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "key", e->string);
		mlf_json_key(j, "value");
		put_any_value(j, e, f);
		mlf_json_obj_end(j);
	}
	mlf_json_arr_end(j);
}

/* A decoded attribute value as an OTLP AnyValue; f (may be NULL) marks
 * which of its numbers were written as floats. */
static void put_any_value(struct mlf_json *j, const cJSON *v, struct num_forms *f)
{
	mlf_json_obj_begin(j);
	if (cJSON_IsString(v)) {
		mlf_json_kv_str(j, "string_value", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		mlf_json_kv_bool(j, "bool_value", cJSON_IsTrue(v));
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		int written_float = f && f->next < f->n && f->is_float[f->next++];
		if (!written_float && d == floor(d) && fabs(d) < 9.2e18)
			mlf_json_kv_int(j, "int_value", (int64_t)d);
		else
			mlf_json_kv_double(j, "double_value", d);
	} else if (cJSON_IsArray(v)) {
		mlf_json_key(j, "array_value");
		mlf_json_obj_begin(j);
		mlf_json_key(j, "values");
		mlf_json_arr_begin(j);
		const cJSON *e;
		cJSON_ArrayForEach(e, v) put_any_value(j, e, f);
		mlf_json_arr_end(j);
		mlf_json_obj_end(j);
	} else if (cJSON_IsObject(v)) {
		mlf_json_key(j, "kvlist_value");
		mlf_json_obj_begin(j);
		put_kvlist(j, v, f);
		mlf_json_obj_end(j);
	}
	mlf_json_obj_end(j);
}

static void put_attributes(struct mlf_json *j, const cJSON *attrs)
{
	if (!cJSON_IsObject(attrs) || !attrs->child)
		return;
	mlf_json_key(j, "attributes");
	mlf_json_arr_begin(j);
	const cJSON *e;
	cJSON_ArrayForEach(e, attrs)
	{
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "key", e->string);
		mlf_json_key(j, "value");
		cJSON *decoded = cJSON_IsString(e) ? cJSON_Parse(e->valuestring) : NULL;
		struct num_forms f = {0};
		if (decoded)
			scan_number_forms(e->valuestring, &f);
		put_any_value(j, decoded ? decoded : e, decoded ? &f : NULL);
		free(f.is_float);
		cJSON_Delete(decoded);
		mlf_json_obj_end(j);
	}
	mlf_json_arr_end(j);
}

static void put_copy(struct mlf_json *j, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v) && !*v->valuestring)
		return;
	mlf_json_key(j, name);
	char *t = cJSON_PrintUnformatted(v);
	mlf_json_raw(j, t ? t : "null");
	cJSON_free(t);
}

static void put_span(struct mlf_json *j, const char *content)
{
	cJSON *s = cJSON_Parse(content);
	if (!s)
		return;
	mlf_json_obj_begin(j);
	put_copy(j, s, "trace_id");
	put_copy(j, s, "span_id");
	put_copy(j, s, "trace_state");
	put_copy(j, s, "parent_span_id");
	put_copy(j, s, "name");
	put_copy(j, s, "kind");
	put_copy(j, s, "start_time_unix_nano");
	put_copy(j, s, "end_time_unix_nano");
	put_attributes(j, cJSON_GetObjectItemCaseSensitive(s, "attributes"));
	cJSON *events = cJSON_GetObjectItemCaseSensitive(s, "events");
	if (cJSON_IsArray(events) && events->child) {
		mlf_json_key(j, "events");
		mlf_json_arr_begin(j);
		cJSON *e;
		cJSON_ArrayForEach(e, events)
		{
			mlf_json_obj_begin(j);
			put_copy(j, e, "time_unix_nano");
			put_copy(j, e, "name");
			put_attributes(j, cJSON_GetObjectItemCaseSensitive(e, "attributes"));
			mlf_json_obj_end(j);
		}
		mlf_json_arr_end(j);
	}
	cJSON *status = cJSON_GetObjectItemCaseSensitive(s, "status");
	if (cJSON_IsObject(status)) {
		mlf_json_key(j, "status");
		mlf_json_obj_begin(j);
		put_copy(j, status, "message");
		cJSON *code = cJSON_GetObjectItemCaseSensitive(status, "code");
		if (cJSON_IsString(code) && strcmp(code->valuestring, "STATUS_CODE_UNSET"))
			mlf_json_kv_str(j, "code", code->valuestring);
		mlf_json_obj_end(j);
	}
	mlf_json_obj_end(j);
	cJSON_Delete(s);
}

/* {"trace_info": ..., "spans": [...]} of one trace. */
static enum mlf_status put_trace(struct mlf_req *req, struct mlf_conn *c, const struct mlf_trace_info *t)
{
	const char **spans = NULL;
	int n = 0;
	enum mlf_status s = mlf_trace_spans(c, &req->arena, t->trace_id, &spans, &n, &req->err);
	if (s != MLF_OK)
		return s;
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	mlf_json_key(j, "trace_info");
	put_trace_info(j, t);
	if (n) {
		mlf_json_key(j, "spans");
		mlf_json_arr_begin(j);
		for (int i = 0; i < n; i++)
			put_span(j, spans[i]);
		mlf_json_arr_end(j);
	}
	mlf_json_obj_end(j);
	return MLF_OK;
}

/* ================================================================
 * handlers
 * ================================================================ */

static const char *trace_id_param(struct mlf_req *req)
{
	return req->nparams > 0 ? req->params[0] : "";
}

/* {"trace": {"trace_info": ...}}: the answer of StartTraceV3 and get-trace-info. */
static void answer_trace_info(struct mlf_req *req, const struct mlf_trace_info *t)
{
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	mlf_json_key(j, "trace");
	mlf_json_obj_begin(j);
	mlf_json_key(j, "trace_info");
	put_trace_info(j, t);
	mlf_json_obj_end(j);
	mlf_json_obj_end(j);
}

enum mlf_status mlf_api_traces_start(struct mlf_req *req)
{
	cJSON *trace = mlf_get_item(req, "trace");
	cJSON *info = trace ? cJSON_GetObjectItemCaseSensitive(trace, "trace_info") : NULL;
	if (!cJSON_IsObject(info))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'trace'. See the API docs for more information "
		                "about request parameters.");
	struct mlf_trace_info in, out;
	enum mlf_status s = decode_trace_info(req, info, &in);
	if (s == MLF_OK)
		s = mlf_trace_start(req->db, &req->arena, &in, &out, &req->err);
	if (s != MLF_OK)
		return s;
	answer_trace_info(req, &out);
	return MLF_OK;
}

enum mlf_status mlf_api_traces_get_info(struct mlf_req *req)
{
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_trace_info t;
	enum mlf_status s = mlf_trace_get(c, &req->arena, trace_id_param(req), &t, &req->err);
	if (s != MLF_OK)
		return s;
	answer_trace_info(req, &t);
	return MLF_OK;
}

enum mlf_status mlf_api_traces_get(struct mlf_req *req)
{
	const char *id;
	enum mlf_status s = mlf_get_str(req, "trace_id", 1, &id);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_trace_info t;
	if ((s = mlf_trace_get(c, &req->arena, id, &t, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "trace");
	s = put_trace(req, c, &t);
	mlf_json_obj_end(&req->out);
	return s;
}

/* batchGet (with spans) and batchGetInfos: traces that are missing are
 * left out, as MLflow does. */
static enum mlf_status batch(struct mlf_req *req, int with_spans)
{
	const char **ids;
	int n;
	enum mlf_status s = mlf_get_str_array(req, "trace_ids", &ids, &n);
	if (s != MLF_OK)
		return s;
	if (n > MLF_TRACE_BATCH_MAX)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "At most %d trace IDs can be requested at once.", MLF_TRACE_BATCH_MAX);
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	mlf_json_key(j, with_spans ? "traces" : "trace_infos");
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++) {
		struct mlf_trace_info t;
		struct mlf_error e;
		if (mlf_trace_get(c, &req->arena, ids[i], &t, &e) != MLF_OK) {
			if (e.status == MLF_RESOURCE_DOES_NOT_EXIST)
				continue;
			req->err = e;
			return e.status;
		}
		if (with_spans) {
			if ((s = put_trace(req, c, &t)) != MLF_OK)
				return s;
		} else {
			put_trace_info(j, &t);
		}
	}
	mlf_json_arr_end(j);
	mlf_json_obj_end(j);
	return MLF_OK;
}

enum mlf_status mlf_api_traces_batch_get(struct mlf_req *req)
{
	return batch(req, 1);
}

enum mlf_status mlf_api_traces_batch_get_infos(struct mlf_req *req)
{
	return batch(req, 0);
}

enum mlf_status mlf_api_traces_search(struct mlf_req *req)
{
	/* locations [{type: MLFLOW_EXPERIMENT, mlflow_experiment: {experiment_id}}]: required;
	 * as in MLflow, locations of other kinds are left out */
	cJSON *locs = mlf_get_item(req, "locations");
	if (!locs)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'locations'. See the API docs for more "
		                "information about request parameters.");
	if (!cJSON_IsArray(locs))
		return mlf_bad_type(req, "locations", locs);
	int cnt = cJSON_GetArraySize(locs);
	int64_t *exps = mlf_arena_alloc(&req->arena, sizeof *exps * (size_t)(cnt + 1));
	int nexp = 0;
	enum mlf_status s;
	cJSON *l;
	cJSON_ArrayForEach(l, locs)
	{
		cJSON *me = cJSON_GetObjectItemCaseSensitive(l, "mlflow_experiment");
		if (!cJSON_IsObject(me))
			continue;
		const char *id;
		if ((s = mlf_obj_str(req, me, "experiment_id", 1, &id)) != MLF_OK ||
		    (s = mlf_experiment_id_parse(id, &exps[nexp], &req->err)) != MLF_OK)
			return s;
		nexp++;
	}
	if (nexp == 0) { /* nothing to search in */
		mlf_json_raw(&req->out, "{}");
		return MLF_OK;
	}
	struct mlf_trace_search q = {.experiment_ids = exps, .nexp = nexp};
	const char *token;
	int present;
	if ((s = mlf_get_str(req, "filter", 0, &q.filter)) != MLF_OK ||
	    (s = mlf_get_str(req, "page_token", 0, &token)) != MLF_OK ||
	    (s = mlf_get_int64(req, "max_results", 0, &q.max_results, &present)) != MLF_OK ||
	    (s = mlf_get_str_array(req, "order_by", (const char ***)&q.order_by, &q.norder)) != MLF_OK)
		return s;
	if (!present)
		q.max_results = MLF_SEARCH_TRACES_DEFAULT;
	if (q.max_results <= 0 || q.max_results > MLF_SEARCH_TRACES_MAX)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value %lld for parameter 'max_results' supplied. It must be at most %d",
		                (long long)q.max_results, MLF_SEARCH_TRACES_MAX);
	struct mlf_conn *c;
	if ((s = mlf_page_read_begin(req, token, &q.offset, &c)) != MLF_OK)
		return s;
	struct mlf_trace_info *v;
	int n;
	int64_t next;
	if ((s = mlf_trace_search(c, &req->arena, &q, &v, &n, &next, &req->err)) != MLF_OK)
		return s;
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	if (n) {
		mlf_json_key(j, "traces");
		mlf_json_arr_begin(j);
		for (int i = 0; i < n; i++)
			put_trace_info(j, &v[i]);
		mlf_json_arr_end(j);
	}
	if (next >= 0)
		mlf_json_kv_str(j, "next_page_token", mlf_page_token_encode(&req->arena, next));
	mlf_json_obj_end(j);
	return MLF_OK;
}

enum mlf_status mlf_api_traces_set_tag(struct mlf_req *req)
{
	const char *key, *value;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "key", 1, &key)) != MLF_OK || (s = mlf_get_str(req, "value", 0, &value)) != MLF_OK ||
	    (s = mlf_validate_length(req, "key", key, MLF_TRACE_TAG_KEY_MAX)) != MLF_OK)
		return s;
	value = mlf_utf8_truncate(&req->arena, value ? value : "", MLF_TRACE_TAG_VALUE_MAX);
	if ((s = mlf_trace_set_tag(req->db, trace_id_param(req), key, value, &req->err)) != MLF_OK)
		return s;
	mlf_json_raw(&req->out, "{}");
	return MLF_OK;
}

enum mlf_status mlf_api_traces_delete_tag(struct mlf_req *req)
{
	const char *key;
	enum mlf_status s = mlf_get_str(req, "key", 1, &key);
	if (s == MLF_OK)
		s = mlf_trace_delete_tag(req->db, trace_id_param(req), key, &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_raw(&req->out, "{}");
	return MLF_OK;
}

enum mlf_status mlf_api_traces_delete(struct mlf_req *req)
{
	const char *exp_text;
	int64_t exp, max_ts = 0, max_traces = 0;
	int has_ts = 0, has_max = 0, nids = 0;
	const char **ids = NULL;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "experiment_id", 1, &exp_text)) != MLF_OK ||
	    (s = mlf_experiment_id_parse(exp_text, &exp, &req->err)) != MLF_OK ||
	    (s = mlf_get_int64(req, "max_timestamp_millis", 0, &max_ts, &has_ts)) != MLF_OK ||
	    (s = mlf_get_int64(req, "max_traces", 0, &max_traces, &has_max)) != MLF_OK)
		return s;
	cJSON *ids_item = mlf_get_item(req, "request_ids");
	if (!ids_item)
		ids_item = mlf_get_item(req, "trace_ids");
	if (ids_item) {
		nids = cJSON_GetArraySize(ids_item);
		ids = mlf_arena_alloc(&req->arena, sizeof *ids * (size_t)(nids + 1));
		int k = 0;
		cJSON *e;
		cJSON_ArrayForEach(e, ids_item)
		{
			if (!cJSON_IsString(e))
				return mlf_bad_type(req, "request_ids", ids_item);
			ids[k++] = e->valuestring;
		}
		nids = k;
	}
	if (nids == 0 && !has_ts)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Either `max_timestamp_millis` or `trace_ids` must be specified.");
	if (nids > 0 && (has_ts || has_max))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Only one of `max_timestamp_millis` and `trace_ids` can be specified.");
	int64_t deleted = 0;
	if ((s = mlf_traces_delete(req->db, exp, ids, nids, max_ts, max_traces, &deleted, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_int(&req->out, "traces_deleted", deleted);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_traces_link_to_run(struct mlf_req *req)
{
	const char **ids, *run_id;
	int n;
	enum mlf_status s;
	if ((s = mlf_get_str_array(req, "trace_ids", &ids, &n)) != MLF_OK ||
	    (s = mlf_get_str(req, "run_id", 1, &run_id)) != MLF_OK)
		return s;
	if (n > MLF_TRACE_LINK_MAX)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Cannot link more than %d traces to a run in a single request. Provided %d traces.",
		                MLF_TRACE_LINK_MAX, n);
	if ((s = mlf_traces_link_to_run(req->db, ids, n, run_id, &req->err)) != MLF_OK)
		return s;
	mlf_json_raw(&req->out, "{}");
	return MLF_OK;
}

enum mlf_status mlf_api_traces_link_prompts(struct mlf_req *req)
{
	const char *trace_id;
	enum mlf_status s = mlf_get_str(req, "trace_id", 1, &trace_id);
	if (s != MLF_OK)
		return s;
	cJSON *arr = mlf_get_item(req, "prompt_versions");
	int cnt = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
	struct mlf_kv *pv = mlf_arena_alloc(&req->arena, sizeof *pv * (size_t)(cnt + 1));
	int n = 0;
	cJSON *e, *list = cJSON_IsArray(arr) ? arr : NULL;
	cJSON_ArrayForEach(e, list)
	{
		if ((s = mlf_obj_str(req, e, "name", 1, &pv[n].key)) != MLF_OK ||
		    (s = mlf_obj_str(req, e, "version", 1, &pv[n].value)) != MLF_OK)
			return s;
		n++;
	}
	if ((s = mlf_trace_link_prompts(req->db, trace_id, pv, n, &req->err)) != MLF_OK)
		return s;
	mlf_json_raw(&req->out, "{}");
	return MLF_OK;
}

static void answer_assessment(struct mlf_req *req, const struct mlf_assessment *x)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "assessment");
	put_assessment(&req->out, x);
	mlf_json_obj_end(&req->out);
}

enum mlf_status mlf_api_assessments_create(struct mlf_req *req)
{
	cJSON *o = mlf_get_item(req, "assessment");
	if (!cJSON_IsObject(o))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'assessment'. See the API docs for more "
		                "information about request parameters.");
	struct mlf_assessment x;
	enum mlf_status s = decode_assessment(req, o, &x);
	if (s != MLF_OK)
		return s;
	x.trace_id = trace_id_param(req);
	x.assessment_id = NULL; /* the store names it */
	if ((s = mlf_assessment_create(req->db, &req->arena, &x, &req->err)) != MLF_OK)
		return s;
	answer_assessment(req, &x);
	return MLF_OK;
}

enum mlf_status mlf_api_assessments_get(struct mlf_req *req)
{
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_assessment x;
	enum mlf_status s = mlf_assessment_get(c, &req->arena, trace_id_param(req),
	                                       req->nparams > 1 ? req->params[1] : "", &x, &req->err);
	if (s != MLF_OK)
		return s;
	answer_assessment(req, &x);
	return MLF_OK;
}

/* Does the comma-separated update mask name this field (snake_case or
 * protobuf's camelCase JSON form)? */
static int mask_has(const char *mask, const char *snake, const char *camel)
{
	for (const char *p = mask; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if ((strlen(snake) == n && !strncmp(p, snake, n)) || (strlen(camel) == n && !strncmp(p, camel, n)))
			return 1;
		p += n + (e ? 1 : 0);
	}
	return 0;
}

enum mlf_status mlf_api_assessments_update(struct mlf_req *req)
{
	cJSON *o = mlf_get_item(req, "assessment");
	const char *mask;
	enum mlf_status s = mlf_get_str(req, "update_mask", 1, &mask);
	if (s != MLF_OK)
		return s;
	if (!cJSON_IsObject(o))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Missing value for required parameter 'assessment'. See the API docs for more "
		                "information about request parameters.");
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_assessment x;
	const char *id = req->nparams > 1 ? req->params[1] : "";
	if ((s = mlf_assessment_get(c, &req->arena, trace_id_param(req), id, &x, &req->err)) != MLF_OK)
		return s;
	int is_feedback = !strcmp(x.type, "feedback");
	if (mask_has(mask, "assessment_name", "assessmentName") &&
	    (s = mlf_obj_str(req, o, "assessment_name", 1, &x.name)) != MLF_OK)
		return s;
	if (mask_has(mask, "rationale", "rationale") &&
	    (s = mlf_obj_str(req, o, "rationale", 0, &x.rationale)) != MLF_OK)
		return s;
	int want_fb = mask_has(mask, "feedback", "feedback"), want_ex = mask_has(mask, "expectation", "expectation");
	if (want_fb && want_ex)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Cannot specify both `expectation` and `feedback` parameters.");
	if (want_ex && is_feedback)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Cannot update expectation value on a Feedback assessment.");
	if (want_fb && !is_feedback)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Cannot update feedback value on an Expectation assessment.");
	if (want_fb || want_ex) {
		cJSON *obj = cJSON_GetObjectItemCaseSensitive(o, want_fb ? "feedback" : "expectation");
		cJSON *v = cJSON_IsObject(obj) ? assessment_value(req, obj, x.type) : NULL;
		if (!v)
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			                "The %s of an assessment needs a value.", x.type);
		x.value = print_json(&req->arena, v);
		aggregate_of(v, &x);
		cJSON_Delete(v);
		cJSON *e = want_fb ? cJSON_GetObjectItemCaseSensitive(obj, "error") : NULL;
		x.error = cJSON_IsObject(e) ? print_json(&req->arena, e) : NULL;
	}
	if (mask_has(mask, "metadata", "metadata")) {
		cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
		cJSON *merged = x.metadata ? cJSON_Parse(x.metadata) : cJSON_CreateObject();
		cJSON *e, *given = cJSON_IsObject(md) ? md : NULL;
		cJSON_ArrayForEach(e, given)
		{
			cJSON_DeleteItemFromObjectCaseSensitive(merged, e->string);
			cJSON_AddItemToObject(merged, e->string, cJSON_Duplicate(e, 1));
		}
		x.metadata = merged && merged->child ? print_json(&req->arena, merged) : NULL;
		cJSON_Delete(merged);
	}
	x.updated_ms = mlf_now_ms();
	if ((s = mlf_assessment_update(req->db, &x, &req->err)) != MLF_OK)
		return s;
	answer_assessment(req, &x);
	return MLF_OK;
}

enum mlf_status mlf_api_assessments_delete(struct mlf_req *req)
{
	enum mlf_status s =
	    mlf_assessment_delete(req->db, trace_id_param(req), req->nparams > 1 ? req->params[1] : "", &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_raw(&req->out, "{}");
	return MLF_OK;
}

/* POST /v1/traces: OTLP span export (protobuf), as MLflow's server takes
 * it: spans of the experiment named by the x-mlflow-experiment-id header
 * are kept in the tracking store, their traces created when the spans come
 * before the trace info. */
enum mlf_status mlf_api_otlp_traces(struct mlf_req *req)
{
	long long len = mlf_http_content_length(req);
	if (len > MLF_MAX_JSON_BODY) {
		struct mlf_error e;
		mlf_fail(&e, MLF_REQUEST_LIMIT_EXCEEDED, "Request body exceeds the limit of %d bytes.",
		         MLF_MAX_JSON_BODY);
		struct mlf_json j = {0};
		mlf_json_obj_begin(&j);
		mlf_json_kv_str(&j, "error_code", mlf_status_name(e.status));
		mlf_json_kv_str(&j, "message", e.msg);
		mlf_json_obj_end(&j);
		mlf_http_begin(req, 413, "application/json", (long long)j.buf.len, "Connection: close\r\n");
		mlf_http_write(req, j.buf.data, j.buf.len);
		mlf_json_release(&j);
		req->raw_done = 1;
		return MLF_REQUEST_LIMIT_EXCEEDED;
	}
	struct mlf_buf body = {0};
	char chunk[MLF_OTLP_DRAIN_CHUNK];
	long long got;
	while ((got = mlf_http_read(req, chunk, sizeof chunk)) > 0 && body.len <= MLF_MAX_JSON_BODY)
		mlf_buf_append(&body, chunk, (size_t)got);
	enum mlf_status s = MLF_OK;
	const char *ct = mlf_http_header(req, "Content-Type");
	const char *exp_text = mlf_http_header(req, MLF_OTLP_EXPERIMENT_HEADER);
	int64_t exp = 0;
	struct mlf_otlp_batch batch;
	int is_json = ct && !strncasecmp(ct, "application/json", 16);
	if (got < 0 || body.len > MLF_MAX_JSON_BODY)
		s = mlf_fail(&req->err, MLF_BAD_REQUEST, "Could not read the request body.");
	else if (!is_json && (!ct || strncasecmp(ct, "application/x-protobuf", 22)))
		s = mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		             "Unsupported Content-Type %.100s: OTLP spans are taken as application/x-protobuf or "
		             "application/json",
		             ct ? ct : "(none)");
	else if (!exp_text || !*exp_text)
		s = mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Missing required header: %s",
		             MLF_OTLP_EXPERIMENT_HEADER);
	else if ((s = mlf_experiment_id_parse(exp_text, &exp, &req->err)) == MLF_OK &&
	         (s = is_json
	                  ? mlf_otlp_decode_json(&req->arena, body.data ? body.data : "", body.len, &batch, &req->err)
	                  : mlf_otlp_decode(&req->arena, (const unsigned char *)(body.data ? body.data : ""), body.len,
	                                    &batch, &req->err)) == MLF_OK)
		s = mlf_spans_log(req->db, exp, batch.spans, batch.nspans, batch.traces, batch.ntraces, &req->err);
	mlf_buf_release(&body);
	if (s != MLF_OK)
		return s;
	/* an empty ExportTraceServiceResponse (protobuf for both forms, as stock answers) */
	mlf_http_begin(req, 200, "application/x-protobuf", 0, "");
	req->raw_done = 1;
	return MLF_OK;
}
