/*
 * registry.c: the model registry endpoints under /mlflow/registered-models
 * and /mlflow/model-versions (MLflow's ModelRegistryService): request
 * fields, MLflow's validation of names, aliases, stages, versions, tags and
 * model version sources (the 3.x source checks of server/handlers.py),
 * storage calls (storage/registry.c) and the JSON answers. Prompts are
 * registered models and versions tagged mlflow.prompt.*, served by the
 * same endpoints.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../storage/logged_models.h"
#include "../storage/registry.h"
#include "../storage/search.h"
#include "api.h"
#include "limits.h"

#define PROMPT_TEXT_TAG "mlflow.prompt.text"
#define VERSION_DIGITS_MAX 32 /* digits of a version number kept; more is no version that exists */
#define CWD_MAX 4096          /* the server's working directory, for relative local sources */
#define MODEL_VERSIONS_TAG "mlflow.modelVersions"

/* ================================================================
 * validation (mlflow/utils/validation.py)
 * ================================================================ */

/* _validate_model_name */
static enum mlf_status check_name(struct mlf_req *req, const char *name, const char *field)
{
	const char *p = name;
	while (p && isspace((unsigned char)*p))
		p++;
	if (!p || !*p)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Missing value for required parameter '%s'.",
		                field);
	if (strchr(name, '/') || strchr(name, ':'))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid model name '%.500s'. Names cannot contain '/' or ':'.", name);
	return mlf_validate_path_unique(req, name, "name");
}

/* _validate_model_version: Python's int() of the text. */
static enum mlf_status parse_version(struct mlf_req *req, const char *text, int64_t *out)
{
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	char digits[VERSION_DIGITS_MAX];
	size_t n = 0;
	int neg = 0, ok = 1, last_us = 1, huge = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	const char *start = p;
	for (; *p && !isspace((unsigned char)*p); p++) {
		if (*p == '_' && !last_us) {
			last_us = 1;
			continue;
		}
		if (!isdigit((unsigned char)*p)) {
			ok = 0;
			break;
		}
		if (n + 1 < sizeof digits)
			digits[n++] = *p;
		else
			huge = 1;
		last_us = 0;
	}
	while (ok && isspace((unsigned char)*p))
		p++;
	if (!ok || *p || p == start || n == 0 || last_us)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Parameter 'version' must be an integer, got '%.200s'.", text);
	digits[n] = '\0';
	errno = 0;
	long long v = strtoll(digits, NULL, 10);
	if (errno || huge)
		v = INT64_MAX; /* beyond any stored version: not found */
	*out = neg ? -v : v;
	return MLF_OK;
}

/* _validate_model_alias_name (+ _reserved when reserved). */
static enum mlf_status check_alias(struct mlf_req *req, const char *alias, int reserved)
{
	if (!alias || !*alias)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Registered model alias name cannot be empty.");
	for (const unsigned char *p = (const unsigned char *)alias; *p; p++)
		if (!(isalnum(*p) || *p == '_' || *p == '-' || *p >= 0x80))
			return mlf_fail(
			    &req->err, MLF_INVALID_PARAMETER_VALUE,
			    "Invalid alias name: '%.300s'. Names may only contain alphanumerics, underscores "
			    "(_), and dashes (-).",
			    alias);
	if (mlf_utf8_len(alias) > MLF_MAX_REGISTERED_MODEL_ALIAS_LENGTH)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "'Registered model alias name' exceeds the maximum length of %d characters",
		                MLF_MAX_REGISTERED_MODEL_ALIAS_LENGTH);
	if (!reserved)
		return MLF_OK;
	if (!strcasecmp(alias, "latest"))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "'latest' alias name (case insensitive) is reserved.");
	if ((alias[0] == 'v' || alias[0] == 'V') && alias[1]) {
		const char *p = alias + 1;
		while (isdigit((unsigned char)*p))
			p++;
		if (!*p)
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			                "Version alias name '%.300s' is reserved.", alias);
	}
	return MLF_OK;
}

/* get_canonical_stage */
static enum mlf_status canonical_stage(struct mlf_req *req, const char *stage, const char **out)
{
	static const char *const stages[] = {MLF_STAGE_NONE, MLF_STAGE_STAGING, MLF_STAGE_PRODUCTION,
	                                     MLF_STAGE_ARCHIVED};
	for (size_t i = 0; i < sizeof stages / sizeof *stages; i++)
		if (!strcasecmp(stage, stages[i])) {
			*out = stages[i];
			return MLF_OK;
		}
	return mlf_fail(
	    &req->err, MLF_INVALID_PARAMETER_VALUE,
	    "Invalid Model Version stage: %.200s. Value must be one of None, Staging, Production, Archived.", stage);
}

/* _validate_tag_name, lengths; model versions also refuse long prompt text
 * with their own message. */
static enum mlf_status check_tag(struct mlf_req *req, const char *key, const char *value, int version_tag)
{
	enum mlf_status s = mlf_validate_key(req, key, "key");
	if (s != MLF_OK)
		return s;
	if (version_tag && !strcmp(key, PROMPT_TEXT_TAG) && value &&
	    mlf_utf8_len(value) > MLF_MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Prompt text exceeds max length of %d characters.",
		                MLF_MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH);
	if ((s = mlf_validate_length(req, "key", key, MLF_MAX_MODEL_REGISTRY_TAG_KEY_LENGTH)) != MLF_OK)
		return s;
	return mlf_validate_length(req, "value", value, MLF_MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH);
}

/* tags: [{key, value}] into kvs (arena), a repeated key keeping its last
 * value; each checked. */
static enum mlf_status get_tags(struct mlf_req *req, int version_tags, struct mlf_kv **out, int *n)
{
	*out = NULL;
	*n = 0;
	cJSON *arr = mlf_get_item(req, "tags");
	if (!arr)
		return MLF_OK;
	if (!cJSON_IsArray(arr))
		return mlf_bad_type(req, "tags", arr);
	int cnt = cJSON_GetArraySize(arr), k = 0;
	struct mlf_kv *v = mlf_arena_alloc(&req->arena, (size_t)(cnt + 1) * sizeof *v);
	cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsObject(e))
			return mlf_bad_type(req, "tags", arr);
		const char *key, *val;
		enum mlf_status s = mlf_obj_str(req, e, "key", 0, &key);
		if (s == MLF_OK)
			s = mlf_obj_str(req, e, "value", 0, &val);
		if (s != MLF_OK)
			return s;
		if (!key)
			key = "";
		if (!val)
			val = "";
		if ((s = check_tag(req, key, val, version_tags)) != MLF_OK)
			return s;
		int j;
		for (j = 0; j < k; j++)
			if (!strcmp(v[j].key, key))
				break;
		v[j].key = key;
		v[j].value = val;
		if (j == k)
			k++;
	}
	*out = v;
	*n = k;
	return MLF_OK;
}

/* name, required and checked. */
static enum mlf_status get_name(struct mlf_req *req, const char **name)
{
	enum mlf_status s = mlf_get_str(req, "name", 1, name);
	return s != MLF_OK ? s : check_name(req, *name, "name");
}

/* name and version, required and checked. */
static enum mlf_status get_name_version(struct mlf_req *req, const char **name, int64_t *version)
{
	const char *vtext;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, name)) != MLF_OK || (s = mlf_get_str(req, "version", 1, &vtext)) != MLF_OK)
		return s;
	if ((s = check_name(req, *name, "name")) != MLF_OK)
		return s;
	return parse_version(req, vtext, version);
}

static struct mlf_conn *reader(struct mlf_req *req)
{
	return mlf_db_read(req->db, &req->err);
}

/* ================================================================
 * encoding (the entities' to_proto)
 * ================================================================ */

static void put_tags(struct mlf_json *j, const struct mlf_kv *kv, int n)
{
	if (n == 0)
		return;
	mlf_json_key(j, "tags");
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++) {
		mlf_json_obj_begin(j);
		mlf_json_kv_str(j, "key", kv[i].key);
		mlf_json_kv_str(j, "value", kv[i].value);
		mlf_json_obj_end(j);
	}
	mlf_json_arr_end(j);
}

static void put_mv(struct mlf_json *j, const struct mlf_model_version *v)
{
	char ver[24];
	snprintf(ver, sizeof ver, "%lld", (long long)v->version);
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "name", v->name);
	mlf_json_kv_str(j, "version", ver);
	mlf_json_kv_int(j, "creation_timestamp", v->creation_time);
	mlf_json_kv_int(j, "last_updated_timestamp", v->last_updated_time);
	mlf_json_kv_str(j, "user_id", v->user_id);
	mlf_json_kv_str(j, "current_stage", v->current_stage);
	mlf_json_kv_str(j, "description", v->description);
	mlf_json_kv_str(j, "source", v->source);
	mlf_json_kv_str(j, "run_id", v->run_id);
	if (v->status && (!strcmp(v->status, "PENDING_REGISTRATION") || !strcmp(v->status, "FAILED_REGISTRATION") ||
	                  !strcmp(v->status, "READY")))
		mlf_json_kv_str(j, "status", v->status);
	if (v->status_message && *v->status_message)
		mlf_json_kv_str(j, "status_message", v->status_message);
	put_tags(j, v->tags, v->ntags);
	mlf_json_kv_str(j, "run_link", v->run_link);
	if (v->naliases > 0) {
		mlf_json_key(j, "aliases");
		mlf_json_arr_begin(j);
		for (int i = 0; i < v->naliases; i++)
			mlf_json_str(j, v->aliases[i]);
		mlf_json_arr_end(j);
	}
	mlf_json_obj_end(j);
}

static void put_rm(struct mlf_json *j, const struct mlf_registered_model *m)
{
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "name", m->name);
	mlf_json_kv_int(j, "creation_timestamp", m->creation_time);
	if (m->last_updated_time)
		mlf_json_kv_int(j, "last_updated_timestamp", m->last_updated_time);
	if (m->description && *m->description)
		mlf_json_kv_str(j, "description", m->description);
	if (m->nlatest > 0) {
		mlf_json_key(j, "latest_versions");
		mlf_json_arr_begin(j);
		for (int i = 0; i < m->nlatest; i++)
			put_mv(j, &m->latest[i]);
		mlf_json_arr_end(j);
	}
	put_tags(j, m->tags, m->ntags);
	if (m->naliases > 0) {
		mlf_json_key(j, "aliases");
		mlf_json_arr_begin(j);
		for (int i = 0; i < m->naliases; i++) {
			mlf_json_obj_begin(j);
			mlf_json_kv_str(j, "alias", m->aliases[i].key);
			mlf_json_kv_str(j, "version", m->aliases[i].value);
			mlf_json_obj_end(j);
		}
		mlf_json_arr_end(j);
	}
	mlf_json_obj_end(j);
}

/* {"registered_model": <the stored model>} */
static enum mlf_status answer_rm(struct mlf_req *req, const char *name)
{
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_registered_model m;
	enum mlf_status s = mlf_rm_get(c, &req->arena, name, &m, &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "registered_model");
	put_rm(&req->out, &m);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* {"model_version": <the stored version, with aliases>} */
static enum mlf_status answer_mv(struct mlf_req *req, const char *name, int64_t version)
{
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_model_version v;
	enum mlf_status s = mlf_mv_get(c, &req->arena, name, version, 1, &v, &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "model_version");
	put_mv(&req->out, &v);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

static void put_mv_list(struct mlf_json *j, const struct mlf_model_version *v, int n)
{
	if (n == 0)
		return;
	mlf_json_key(j, "model_versions");
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++)
		put_mv(j, &v[i]);
	mlf_json_arr_end(j);
}

/* ================================================================
 * registered models
 * ================================================================ */

enum mlf_status mlf_api_registered_models_create(struct mlf_req *req)
{
	const char *name, *description;
	struct mlf_kv *tags;
	int ntags;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "description", 0, &description)) != MLF_OK)
		return s;
	cJSON *t = mlf_get_item(req, "tags");
	if (t && !cJSON_IsArray(t))
		return mlf_bad_type(req, "tags", t);
	if ((s = check_name(req, name, "name")) != MLF_OK || (s = get_tags(req, 0, &tags, &ntags)) != MLF_OK)
		return s;
	s = mlf_rm_create(req->db, name, description ? description : "", tags, ntags, &req->err);
	return s != MLF_OK ? s : answer_rm(req, name);
}

enum mlf_status mlf_api_registered_models_get(struct mlf_req *req)
{
	const char *name;
	enum mlf_status s = get_name(req, &name);
	return s != MLF_OK ? s : answer_rm(req, name);
}

enum mlf_status mlf_api_registered_models_update(struct mlf_req *req)
{
	const char *name, *description;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "description", 0, &description)) != MLF_OK ||
	    (s = check_name(req, name, "name")) != MLF_OK)
		return s;
	s = mlf_rm_update(req->db, name, description ? description : "", &req->err);
	return s != MLF_OK ? s : answer_rm(req, name);
}

enum mlf_status mlf_api_registered_models_rename(struct mlf_req *req)
{
	const char *name, *new_name;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "new_name", 1, &new_name)) != MLF_OK ||
	    (s = check_name(req, new_name, "new_name")) != MLF_OK || (s = check_name(req, name, "name")) != MLF_OK)
		return s;
	s = mlf_rm_rename(req->db, name, new_name, &req->err);
	return s != MLF_OK ? s : answer_rm(req, new_name);
}

enum mlf_status mlf_api_registered_models_delete(struct mlf_req *req)
{
	const char *name;
	enum mlf_status s = get_name(req, &name);
	return s != MLF_OK ? s : mlf_rm_delete(req->db, name, &req->err);
}

/* order_by: a list of strings (a single string counts as one). */
static enum mlf_status get_order_by(struct mlf_req *req, const char ***ob, int *n)
{
	cJSON *v = mlf_get_item(req, "order_by");
	if (v && !cJSON_IsArray(v) && !cJSON_IsString(v))
		return mlf_bad_type(req, "order_by", v);
	return mlf_get_str_array(req, "order_by", ob, n);
}

/* max_results: an int-like value, at most `limit`, else MLflow's message. */
static enum mlf_status get_max_results(struct mlf_req *req, int64_t dflt, int64_t limit, int64_t *out)
{
	int present;
	enum mlf_status s = mlf_get_int64(req, "max_results", 0, out, &present);
	if (s != MLF_OK)
		return s;
	if (!present)
		*out = dflt;
	if (*out > limit) {
		cJSON *v = mlf_get_item(req, "max_results");
		return mlf_bad_type(req, "max_results", v);
	}
	return MLF_OK;
}

/* The parameters both registry searches take; the page token decoded into
 * pos after the caller has checked max_results (MLflow's order of errors). */
struct search_args {
	const char *filter, *token;
	const char **ob;
	int nob;
	int64_t max_results;
};

static enum mlf_status get_search_args(struct mlf_req *req, int64_t dflt, int64_t limit, struct search_args *a)
{
	enum mlf_status s;
	if ((s = mlf_get_str(req, "filter", 0, &a->filter)) != MLF_OK ||
	    (s = get_max_results(req, dflt, limit, &a->max_results)) != MLF_OK ||
	    (s = get_order_by(req, &a->ob, &a->nob)) != MLF_OK ||
	    (s = mlf_get_str(req, "page_token", 0, &a->token)) != MLF_OK)
		return s;
	return MLF_OK;
}

enum mlf_status mlf_api_registered_models_search(struct mlf_req *req)
{
	struct search_args q;
	enum mlf_status s =
	    get_search_args(req, MLF_SEARCH_REGISTERED_MODELS_DEFAULT, MLF_SEARCH_REGISTERED_MODELS_MAX, &q);
	if (s != MLF_OK)
		return s;
	int64_t max_results = q.max_results;
	/* 0 gives MLflow's empty page (with a token when something matches);
	 * stock's answers to negative values follow no rule and are refused */
	if (max_results < 0)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value for request parameter max_results. It must be a positive integer, but got "
		    "value %lld",
		    (long long)max_results);
	struct mlf_page_pos pos, next;
	if ((s = mlf_page_token_decode_pos(&req->arena, q.token, &pos, &req->err)) != MLF_OK)
		return s;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_registered_model *models;
	int n;
	s = mlf_rm_search(c, &req->arena, q.filter, q.ob, q.nob, max_results, &pos, &models, &n, &next, &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	if (n > 0) {
		mlf_json_key(&req->out, "registered_models");
		mlf_json_arr_begin(&req->out);
		for (int i = 0; i < n; i++)
			put_rm(&req->out, &models[i]);
		mlf_json_arr_end(&req->out);
	}
	if (next.offset >= 0)
		mlf_json_kv_str(&req->out, "next_page_token", mlf_page_token_encode_pos(&req->arena, &next));
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_registered_models_get_latest_versions(struct mlf_req *req)
{
	const char *name;
	const char **stages;
	int nstages;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK)
		return s;
	cJSON *sv = mlf_get_item(req, "stages");
	if (sv && !cJSON_IsArray(sv) && !cJSON_IsString(sv))
		return mlf_bad_type(req, "stages", sv);
	if ((s = mlf_get_str_array(req, "stages", &stages, &nstages)) != MLF_OK)
		return s;
	for (int i = 0; i < nstages; i++)
		if ((s = canonical_stage(req, stages[i], &stages[i])) != MLF_OK)
			return s;
	if ((s = check_name(req, name, "name")) != MLF_OK)
		return s;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_model_version *v;
	int n;
	if ((s = mlf_rm_latest_versions(c, &req->arena, name, stages, nstages, &v, &n, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	put_mv_list(&req->out, v, n);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_registered_models_set_tag(struct mlf_req *req)
{
	const char *name, *key, *value;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK || (s = mlf_get_str(req, "key", 1, &key)) != MLF_OK ||
	    (s = mlf_get_str(req, "value", 0, &value)) != MLF_OK || (s = check_name(req, name, "name")) != MLF_OK ||
	    (s = check_tag(req, key, value ? value : "", 0)) != MLF_OK)
		return s;
	return mlf_rm_set_tag(req->db, name, key, value ? value : "", &req->err);
}

enum mlf_status mlf_api_registered_models_delete_tag(struct mlf_req *req)
{
	const char *name, *key;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK || (s = mlf_get_str(req, "key", 1, &key)) != MLF_OK ||
	    (s = check_name(req, name, "name")) != MLF_OK || (s = mlf_validate_key(req, key, "key")) != MLF_OK)
		return s;
	return mlf_rm_delete_tag(req->db, name, key, &req->err);
}

/* ---- aliases ---- */

enum mlf_status mlf_api_registered_models_set_alias(struct mlf_req *req)
{
	const char *name, *alias, *vtext;
	int64_t version;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "alias", 1, &alias)) != MLF_OK ||
	    (s = mlf_get_str(req, "version", 1, &vtext)) != MLF_OK || (s = check_name(req, name, "name")) != MLF_OK ||
	    (s = check_alias(req, alias, 1)) != MLF_OK || (s = parse_version(req, vtext, &version)) != MLF_OK)
		return s;
	return mlf_alias_set(req->db, name, alias, version, &req->err);
}

enum mlf_status mlf_api_registered_models_delete_alias(struct mlf_req *req)
{
	const char *name, *alias;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "alias", 1, &alias)) != MLF_OK || (s = check_name(req, name, "name")) != MLF_OK ||
	    (s = check_alias(req, alias, 0)) != MLF_OK)
		return s;
	return mlf_alias_delete(req->db, name, alias, &req->err);
}

enum mlf_status mlf_api_registered_models_get_alias(struct mlf_req *req)
{
	const char *name, *alias;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "alias", 1, &alias)) != MLF_OK || (s = check_name(req, name, "name")) != MLF_OK ||
	    (s = check_alias(req, alias, 0)) != MLF_OK)
		return s;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_model_version v;
	if ((s = mlf_alias_get(c, &req->arena, name, alias, &v, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "model_version");
	put_mv(&req->out, &v);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* ================================================================
 * model version sources (server/handlers.py, MLflow 3.x)
 * ================================================================ */

/* urllib.parse.urlparse, reduced to scheme (lowercased), netloc, path. */
struct uri {
	const char *scheme, *netloc, *path;
};

static void parse_uri(struct mlf_arena *a, const char *u, struct uri *o)
{
	size_t sl = mlf_uri_scheme_len(u);
	char *scheme = mlf_arena_strndup(a, u, sl);
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	o->scheme = scheme;
	const char *r = u + (sl ? sl + 1 : 0);
	o->netloc = "";
	if (r[0] == '/' && r[1] == '/') {
		size_t n = strcspn(r + 2, "/?#");
		o->netloc = mlf_arena_strndup(a, r + 2, n);
		r += 2 + n;
	}
	o->path = mlf_arena_strndup(a, r, strcspn(r, "?#"));
}

static enum mlf_status bad_source(struct mlf_req *req, const char *source, const char *id_name)
{
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
	                "Invalid model version source: '%.800s'. The %s request parameter must identify the resource "
	                "that contains the source.",
	                source, id_name);
}

/* Python's unquote_plus, once. NULL when a NUL byte appears. */
static char *unquote_plus(struct mlf_arena *a, const char *s)
{
	char *t = mlf_arena_strdup(a, s);
	for (char *p = t; *p; p++)
		if (*p == '+')
			*p = ' ';
	return mlf_unquote(a, t);
}

/* _validate_non_local_source_contains_relative_paths. The path is not
 * resolved against the server's file system (MLflow's Path.resolve() would
 * follow symlinks there): a source whose path is not absolute or holds "."
 * or ".." segments is refused. */
static enum mlf_status check_relative_paths(struct mlf_req *req, const char *source)
{
	const char *orig = source;
	int bad = 0;
	for (int i = 0; i < MLF_ARTIFACT_DECODE_ROUNDS + 1; i++) {
		char *u = unquote_plus(&req->arena, source);
		if (!u) {
			bad = 1;
			break;
		}
		if (!strcmp(u, source))
			break;
		source = u;
		if (i == MLF_ARTIFACT_DECODE_ROUNDS)
			bad = 1;
	}
	if (!bad) {
		struct uri u;
		parse_uri(&req->arena, source, &u);
		/* re.sub("/+", "/", path.rstrip("/")) */
		char *path = mlf_arena_strdup(&req->arena, u.path);
		size_t n = strlen(path);
		while (n && path[n - 1] == '/')
			path[--n] = '\0';
		char *w = path;
		for (char *r = path; *r; r++)
			if (!(*r == '/' && w > path && w[-1] == '/'))
				*w++ = *r;
		*w = '\0';
		bad = path[0] != '/';
		for (const char *p = source; !bad && *p;) {
			size_t l = strcspn(p, "/");
			bad = l == 2 && p[0] == '.' && p[1] == '.';
			p += l + (p[l] ? 1 : 0);
		}
		for (const char *p = path; !bad && *p;) {
			size_t l = strcspn(p, "/");
			bad = (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.');
			p += l + (p[l] ? 1 : 0);
		}
	}
	if (bad)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid model version source: '%.800s'. If supplying a source as an http, https, local "
		    "file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided "
		    "without relative path references present. Please provide an absolute path.",
		    orig);
	return MLF_OK;
}

/* is_local_uri */
static int is_local(struct mlf_arena *a, const char *uri)
{
	struct uri u;
	parse_uri(a, uri, &u);
	return !*u.scheme || !strcmp(u.scheme, "file");
}

/* local_file_uri_to_path + Path.resolve(): an absolute, normalised path. */
static char *local_path(struct mlf_arena *a, const char *uri)
{
	struct uri u;
	parse_uri(a, uri, &u);
	const char *p = !strcmp(u.scheme, "file") ? mlf_unquote(a, u.path) : uri;
	if (!p)
		return NULL;
	char *real = realpath(p, NULL);
	if (real) {
		char *r = mlf_arena_strdup(a, real);
		free(real);
		return r;
	}
	struct mlf_buf b = {0};
	if (p[0] != '/') {
		char cwd[CWD_MAX];
		if (getcwd(cwd, sizeof cwd))
			mlf_buf_puts(&b, cwd);
	}
	mlf_buf_putc(&b, '/');
	mlf_buf_puts(&b, p);
	/* normalise: drop "." and empty segments, resolve ".." lexically */
	char *segs = mlf_arena_strdup(a, b.data);
	mlf_buf_release(&b);
	const char **stack = mlf_arena_alloc(a, sizeof *stack * (strlen(segs) + 1));
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(segs, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (n)
				n--;
			continue;
		}
		stack[n++] = t;
	}
	mlf_buf_putc(&b, '/');
	for (int i = 0; i < n; i++)
		mlf_buf_printf(&b, "%s%s", i ? "/" : "", stack[i]);
	char *r = mlf_arena_strdup(a, b.data);
	mlf_buf_release(&b);
	return r;
}

/* dir == path or dir is one of path's parents. */
static int path_within(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(dir, path, n) && (path[n] == '\0' || path[n] == '/');
}

/* _normalized_uri_parts: scheme, netloc lowercased, path parts unquoted. */
struct uri_parts {
	struct uri u;
	char **parts;
	int n;
};

static void uri_parts(struct mlf_arena *a, const char *uri, struct uri_parts *o)
{
	parse_uri(a, uri, &o->u);
	char *nl = mlf_arena_strdup(a, o->u.netloc);
	for (char *p = nl; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	o->u.netloc = nl;
	char *path = mlf_arena_strdup(a, o->u.path);
	o->parts = mlf_arena_alloc(a, sizeof *o->parts * (strlen(path) + 1));
	o->n = 0;
	char *save = NULL;
	for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		char *v = t;
		for (int i = 0; i < MLF_ARTIFACT_DECODE_ROUNDS; i++) {
			char *x = mlf_unquote(a, v);
			if (!x || !strcmp(x, v))
				break;
			v = x;
		}
		o->parts[o->n++] = v;
	}
}

static int is_mlflow_artifact_source(struct mlf_arena *a, const char *source)
{
	struct uri_parts p;
	uri_parts(a, source, &p);
	if (!strcmp(p.u.scheme, "mlflow-artifacts"))
		return 1;
	if (strcmp(p.u.scheme, "http") && strcmp(p.u.scheme, "https"))
		return 0;
	static const char *const route[] = {"api", "2.0", "mlflow-artifacts", "artifacts"};
	for (int i = 0; i + 4 <= p.n; i++) {
		int m = 1;
		for (int k = 0; k < 4 && m; k++)
			m = !strcmp(p.parts[i + k], route[k]);
		if (m)
			return 1;
	}
	return 0;
}

static int uri_within_root(struct mlf_arena *a, const char *source, const char *root)
{
	struct uri_parts s, r;
	uri_parts(a, source, &s);
	uri_parts(a, root, &r);
	if (strcmp(s.u.scheme, r.u.scheme) || strcmp(s.u.netloc, r.u.netloc) || r.n == 0 || s.n < r.n)
		return 0;
	for (int i = 0; i < r.n; i++)
		if (strcmp(s.parts[i], r.parts[i]))
			return 0;
	return 1;
}

/* _parse_model_uri for models:/ sources. */
struct model_uri {
	const char *model_id, *name, *version, *stage, *alias;
};

static int parse_model_uri(struct mlf_arena *a, const char *uri, struct model_uri *o)
{
	memset(o, 0, sizeof *o);
	struct uri u;
	parse_uri(a, uri, &u);
	/* urlparse(allow_fragments=False): '#' stays in the path */
	const char *r = uri + mlf_uri_scheme_len(uri) + 1;
	if (r[0] == '/' && r[1] == '/')
		r += 2 + strcspn(r + 2, "/?");
	const char *path = mlf_arena_strndup(a, r, strcspn(r, "?"));
	if (strcmp(u.scheme, "models") || path[0] != '/' || strlen(path) <= 1)
		return 0;
	while (*path == '/')
		path++;
	const char *slash = strchr(path, '/');
	if (slash && strchr(slash + 1, '/'))
		return 0;
	char *first = mlf_arena_strndup(a, path, slash ? (size_t)(slash - path) : strlen(path));
	const char *t = first;
	while (isspace((unsigned char)*t))
		t++;
	if (!*t)
		return 0;
	if (slash) {
		const char *suffix = slash + 1, *q = suffix;
		while (isspace((unsigned char)*q))
			q++;
		if (!*q)
			return 0;
		o->name = first;
		int digits = *suffix != '\0';
		for (q = suffix; *q && digits; q++)
			digits = isdigit((unsigned char)*q);
		if (digits)
			o->version = suffix;
		else if (strcasecmp(suffix, "latest"))
			o->stage = suffix;
		return 1;
	}
	char *at = strrchr(first, '@');
	if (strchr(path, '@')) {
		if (!at)
			return 0;
		*at = '\0';
		const char *al = at + 1;
		while (isspace((unsigned char)*al))
			al++;
		if (!*al)
			return 0;
		o->name = first;
		o->alias = at + 1;
		return 1;
	}
	o->model_id = first;
	return 1;
}

static enum mlf_status get_run_info(struct mlf_req *req, const char *run_id, const char *source,
                                    struct mlf_run_info *info)
{
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	enum mlf_status s = mlf_run_get_info(c, &req->arena, run_id, info, &req->err);
	return s == MLF_RESOURCE_DOES_NOT_EXIST ? bad_source(req, source, "run_id") : s;
}

static enum mlf_status get_logged_model(struct mlf_req *req, const char *model_id, const char *source,
                                        struct mlf_logged_model *m)
{
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	enum mlf_status s = mlf_logged_model_get(c, &req->arena, model_id, 0, m, &req->err);
	return s == MLF_RESOURCE_DOES_NOT_EXIST ? bad_source(req, source, "model_id") : s;
}

/* _validate_source_run (by_model 0) and _validate_source_model (1). */
static enum mlf_status validate_source(struct mlf_req *req, const char *source, const char *id, int by_model)
{
	const char *id_name = by_model ? "model_id" : "run_id";
	enum mlf_status s;
	if (is_local(&req->arena, source)) {
		const char *shown = source;
		if (id && *id) {
			const char *root;
			if (by_model) {
				struct mlf_logged_model m;
				if ((s = get_logged_model(req, id, source, &m)) != MLF_OK)
					return s;
				root = m.artifact_location;
			} else {
				struct mlf_run_info info;
				if ((s = get_run_info(req, id, source, &info)) != MLF_OK)
					return s;
				root = info.artifact_uri;
			}
			char *src = local_path(&req->arena, source);
			shown = src ? src : source;
			if (src && root && is_local(&req->arena, root)) {
				char *dir = local_path(&req->arena, root);
				if (dir && path_within(dir, src))
					return MLF_OK;
			}
		}
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid model version source: '%.800s'. To use a local path as a model version source, "
		    "the %s request parameter has to be specified and the local path has to be contained "
		    "within the artifact directory of the run specified by the %s.",
		    shown, id_name, id_name);
	}
	if ((s = check_relative_paths(req, source)) != MLF_OK)
		return s;
	struct uri u;
	parse_uri(&req->arena, source, &u);
	if (!strcmp(u.scheme, "runs")) {
		if (by_model || *u.netloc)
			return bad_source(req, source, id_name);
		const char *p = u.path;
		if (p[0] != '/' || !p[1])
			return bad_source(req, source, id_name);
		char *rid = mlf_arena_strndup(&req->arena, p + 1, strcspn(p + 1, "/"));
		if (*rid && id && *id && !strcmp(rid, id))
			return MLF_OK;
		return bad_source(req, source, id_name);
	}
	if (!strcmp(u.scheme, "models")) {
		struct model_uri mu;
		if (*u.netloc || !parse_model_uri(&req->arena, source, &mu))
			return bad_source(req, source, "model_id");
		if (mu.model_id) {
			if (by_model && id && *id && !strcmp(mu.model_id, id))
				return MLF_OK;
			return bad_source(req, source, "model_id");
		}
	}
	if (is_mlflow_artifact_source(&req->arena, source)) {
		if (id && *id) {
			const char *root;
			if (by_model) {
				struct mlf_logged_model m;
				if ((s = get_logged_model(req, id, source, &m)) != MLF_OK)
					return s;
				root = m.artifact_location;
			} else {
				struct mlf_run_info info;
				if ((s = get_run_info(req, id, source, &info)) != MLF_OK)
					return s;
				root = info.artifact_uri;
			}
			if (root && uri_within_root(&req->arena, source, root))
				return MLF_OK;
		}
		return bad_source(req, source, id_name);
	}
	return MLF_OK;
}

/* The version a models:/name/<version|stage|latest> or models:/name@alias
 * source points at (get_model_name_and_version). */
static enum mlf_status resolve_model_uri(struct mlf_req *req, const struct model_uri *mu, int64_t *version)
{
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	enum mlf_status s;
	if (mu->version)
		return parse_version(req, mu->version, version);
	if (mu->alias) {
		struct mlf_model_version v;
		if ((s = mlf_alias_get(c, &req->arena, mu->name, mu->alias, &v, &req->err)) != MLF_OK)
			return s;
		*version = v.version;
		return MLF_OK;
	}
	const char *stage = NULL;
	if (mu->stage && (s = canonical_stage(req, mu->stage, &stage)) != MLF_OK)
		return s;
	struct mlf_model_version *v;
	int n;
	if ((s = mlf_rm_latest_versions(c, &req->arena, mu->name, stage ? &stage : NULL, stage ? 1 : 0, &v, &n,
	                                &req->err)) != MLF_OK)
		return s;
	if (n == 0)
		return mlf_fail(&req->err, MLF_RESOURCE_DOES_NOT_EXIST,
		                "No versions of model with name '%.300s'%s%.100s%s found", mu->name,
		                stage ? " and stage '" : "", stage ? mu->stage : "", stage ? "'" : "");
	*version = v[0].version;
	for (int i = 1; i < n; i++)
		if (v[i].version > *version)
			*version = v[i].version;
	return MLF_OK;
}

/* _resolve_registered_model_source_lineage: a models:/name/... source is
 * pinned to models:/name/<version>, run_id taken from that version. */
static enum mlf_status resolve_lineage(struct mlf_req *req, const char **source, const char **run_id,
                                       const char **model_id, int has_run_id, int has_model_id)
{
	struct uri u;
	parse_uri(&req->arena, *source, &u);
	if (strcmp(u.scheme, "models"))
		return MLF_OK;
	if (*u.netloc)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid model version source: '%.800s'. Registered model sources must use the active "
		                "model registry.",
		                *source);
	struct model_uri mu;
	if (!parse_model_uri(&req->arena, *source, &mu))
		return bad_source(req, *source, "model_id");
	if (mu.model_id)
		return MLF_OK;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_registered_model rm;
	enum mlf_status s = mlf_rm_get(c, &req->arena, mu.name, &rm, &req->err);
	if (s != MLF_OK)
		return s;
	if (mlf_rm_is_prompt(c, mu.name))
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid model version source: '%.800s'. Prompt versions cannot be used as model version "
		    "sources.",
		    *source);
	int64_t version;
	if ((s = resolve_model_uri(req, &mu, &version)) != MLF_OK)
		return s;
	struct mlf_model_version v;
	if ((s = mlf_mv_get(c, &req->arena, mu.name, version, 0, &v, &req->err)) != MLF_OK)
		return s;
	const char *rid = *run_id ? *run_id : "", *vrid = v.run_id ? v.run_id : "";
	if ((has_run_id && strcmp(rid, vrid)) || (has_model_id && *model_id && **model_id))
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid model version source: '%.800s'. The run_id and model_id request parameters must "
		    "match the referenced model version.",
		    *source);
	*source = mlf_arena_printf(&req->arena, "models:/%s/%lld", mu.name, (long long)version);
	if (!has_run_id)
		*run_id = v.run_id;
	return MLF_OK;
}

/* The logged model's mlflow.modelVersions tag gets {"name", "version"}
 * appended (set_model_versions_tags), JSON as Python's json.dumps writes
 * it. */
static enum mlf_status tag_logged_model(struct mlf_req *req, const char *model_id, const char *name, int64_t version)
{
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_logged_model m;
	enum mlf_status s = mlf_logged_model_get(c, &req->arena, model_id, 0, &m, &req->err);
	if (s != MLF_OK)
		return s;
	const char *old = NULL;
	for (int i = 0; i < m.ntags; i++)
		if (!strcmp(m.tags[i].key, MODEL_VERSIONS_TAG))
			old = m.tags[i].value;
	struct mlf_buf b = {0};
	mlf_buf_puts(&b, "[");
	int n = 0, present = 0;
	cJSON *arr = old && *old ? cJSON_Parse(old) : NULL;
	cJSON *e;
	if (cJSON_IsArray(arr)) {
		cJSON_ArrayForEach(e, arr)
		{
			cJSON *en = cJSON_GetObjectItemCaseSensitive(e, "name");
			cJSON *ev = cJSON_GetObjectItemCaseSensitive(e, "version");
			if (!cJSON_IsString(en) || !cJSON_IsNumber(ev))
				continue;
			if (!strcmp(en->valuestring, name) && (int64_t)ev->valuedouble == version)
				present = 1;
			mlf_buf_puts(&b, n++ ? ", {\"name\": " : "{\"name\": ");
			mlf_json_escape(&b, en->valuestring, strlen(en->valuestring));
			mlf_buf_printf(&b, ", \"version\": %lld}", (long long)ev->valuedouble);
		}
	}
	cJSON_Delete(arr);
	if (!present) {
		mlf_buf_puts(&b, n++ ? ", {\"name\": " : "{\"name\": ");
		mlf_json_escape(&b, name, strlen(name));
		mlf_buf_printf(&b, ", \"version\": %lld}", (long long)version);
	}
	mlf_buf_puts(&b, "]");
	struct mlf_kv tag = {MODEL_VERSIONS_TAG, mlf_arena_strdup(&req->arena, b.data)};
	mlf_buf_release(&b);
	return mlf_logged_model_set_tags(req->db, model_id, &tag, 1, &req->err);
}

/* ================================================================
 * model versions
 * ================================================================ */

enum mlf_status mlf_api_model_versions_create(struct mlf_req *req)
{
	struct mlf_mv_create in = {0};
	const char *model_id;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &in.name)) != MLF_OK ||
	    (s = mlf_get_str(req, "source", 1, &in.source)) != MLF_OK ||
	    (s = mlf_get_str(req, "run_id", 0, &in.run_id)) != MLF_OK ||
	    (s = mlf_get_str(req, "run_link", 0, &in.run_link)) != MLF_OK ||
	    (s = mlf_get_str(req, "description", 0, &in.description)) != MLF_OK ||
	    (s = mlf_get_str(req, "model_id", 0, &model_id)) != MLF_OK)
		return s;
	cJSON *t = mlf_get_item(req, "tags");
	if (t && !cJSON_IsArray(t))
		return mlf_bad_type(req, "tags", t);
	int has_run_id = in.run_id != NULL, has_model_id = model_id != NULL;
	if (!in.run_id)
		in.run_id = "";
	if (!model_id)
		model_id = "";
	if (!in.run_link)
		in.run_link = "";
	if (!in.description)
		in.description = "";

	/* MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: the source must
	 * match it (re.search; POSIX extended syntax here) */
	const char *rx = getenv("MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX");
	if (rx && *rx && *in.source) {
		regex_t re;
		int bad = regcomp(&re, rx, REG_EXTENDED | REG_NOSUB) != 0;
		if (!bad) {
			bad = regexec(&re, in.source, 0, NULL, 0) != 0;
			regfree(&re);
		}
		if (bad)
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			                "Invalid model version source: '%.800s'.", in.source);
	}

	/* a prompt: its versions carry mlflow.prompt.is_prompt = true */
	int is_prompt = 0;
	cJSON *e;
	if (t)
		cJSON_ArrayForEach(e, t)
		{
			cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key"),
			      *v = cJSON_GetObjectItemCaseSensitive(e, "value");
			if (cJSON_IsString(k) && !strcmp(k->valuestring, MLF_PROMPT_TAG))
				is_prompt = cJSON_IsString(v) && !strcasecmp(v->valuestring, "true");
		}
	if (is_prompt && strcmp(in.source, "dummy-source") && strcmp(in.source, "prompt-template"))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid prompt source: '%.800s'. Prompt sources must use an MLflow placeholder.",
		                in.source);
	if ((s = mlf_validate_host_policy(req, in.source, "source")) != MLF_OK)
		return s;
	if (!is_prompt) {
		if ((s = resolve_lineage(req, &in.source, &in.run_id, &model_id, has_run_id, has_model_id)) != MLF_OK)
			return s;
		if ((s = validate_source(req, in.source, *model_id ? model_id : in.run_id, *model_id != '\0')) !=
		    MLF_OK)
			return s;
	}

	/* the store's part */
	struct mlf_kv *tags;
	if ((s = check_name(req, in.name, "name")) != MLF_OK || (s = get_tags(req, 1, &tags, &in.ntags)) != MLF_OK)
		return s;
	in.tags = tags;
	in.storage_location = in.source;
	struct uri u;
	parse_uri(&req->arena, in.source, &u);
	if (!strcmp(u.scheme, "models")) {
		struct model_uri mu;
		enum mlf_status fs = MLF_OK;
		if (!parse_model_uri(&req->arena, in.source, &mu)) {
			fs = mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Not a proper models:/ URI: %.800s.",
			              in.source);
		} else if (mu.model_id) {
			struct mlf_logged_model m;
			struct mlf_conn *c = reader(req);
			fs = c ? mlf_logged_model_get(c, &req->arena, mu.model_id, 0, &m, &req->err) : req->err.status;
			if (fs == MLF_OK) {
				in.storage_location = m.artifact_location;
				if (!*in.run_id && m.source_run_id)
					in.run_id = m.source_run_id;
			}
		} else {
			int64_t version;
			struct mlf_model_version v;
			struct mlf_conn *c = reader(req);
			fs = resolve_model_uri(req, &mu, &version);
			if (fs == MLF_OK)
				fs = c ? mlf_mv_get(c, &req->arena, mu.name, version, 0, &v, &req->err)
				       : req->err.status;
			if (fs == MLF_OK)
				in.storage_location = v.storage_location ? v.storage_location : v.source;
		}
		if (fs != MLF_OK) {
			char msg[MLF_ERROR_MSG_MAX];
			snprintf(msg, sizeof msg, "%s", req->err.msg);
			return mlf_fail(
			    &req->err, MLF_INVALID_PARAMETER_VALUE,
			    "Unable to fetch model from model URI source artifact location '%.500s'.Error: %.500s",
			    in.source, msg);
		}
	}
	if (!*in.run_id && *model_id) {
		struct mlf_logged_model m;
		struct mlf_conn *c = reader(req);
		if (!c)
			return req->err.status;
		if ((s = mlf_logged_model_get(c, &req->arena, model_id, 0, &m, &req->err)) != MLF_OK)
			return s;
		if (m.source_run_id)
			in.run_id = m.source_run_id;
	}
	int64_t version;
	if ((s = mlf_mv_create(req->db, &in, &version, &req->err)) != MLF_OK)
		return s;
	if (!is_prompt && *model_id && (s = tag_logged_model(req, model_id, in.name, version)) != MLF_OK)
		return s;
	return answer_mv(req, in.name, version);
}

enum mlf_status mlf_api_model_versions_get(struct mlf_req *req)
{
	const char *name;
	int64_t version;
	enum mlf_status s = get_name_version(req, &name, &version);
	return s != MLF_OK ? s : answer_mv(req, name, version);
}

enum mlf_status mlf_api_model_versions_update(struct mlf_req *req)
{
	const char *name, *description;
	int64_t version;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "description", 0, &description)) != MLF_OK ||
	    (s = get_name_version(req, &name, &version)) != MLF_OK)
		return s;
	if ((s = mlf_mv_update(req->db, name, version, description, &req->err)) != MLF_OK)
		return s;
	return answer_mv(req, name, version);
}

static int truthy(cJSON *v)
{
	return cJSON_IsTrue(v) || (cJSON_IsString(v) && !strcasecmp(v->valuestring, "true"));
}

enum mlf_status mlf_api_model_versions_transition_stage(struct mlf_req *req)
{
	const char *name, *stage_in, *stage = NULL, *vtext;
	int64_t version;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "name", 1, &name)) != MLF_OK ||
	    (s = mlf_get_str(req, "version", 1, &vtext)) != MLF_OK ||
	    (s = mlf_get_str(req, "stage", 1, &stage_in)) != MLF_OK)
		return s;
	cJSON *av = mlf_get_item(req, "archive_existing_versions");
	if (av && !cJSON_IsBool(av))
		return mlf_bad_type(req, "archive_existing_versions", av);
	int archive = truthy(av);
	if ((s = canonical_stage(req, stage_in, &stage)) != MLF_OK)
		return s;
	if (archive && strcmp(stage, MLF_STAGE_STAGING) && strcmp(stage, MLF_STAGE_PRODUCTION))
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Model version transition cannot archive existing model versions because '%.200s' is not "
		    "an Active stage. Valid stages are ['Staging', 'Production']",
		    stage_in);
	if ((s = check_name(req, name, "name")) != MLF_OK || (s = parse_version(req, vtext, &version)) != MLF_OK)
		return s;
	if ((s = mlf_mv_transition(req->db, name, version, stage, archive, &req->err)) != MLF_OK)
		return s;
	return answer_mv(req, name, version);
}

enum mlf_status mlf_api_model_versions_delete(struct mlf_req *req)
{
	const char *name;
	int64_t version;
	enum mlf_status s = get_name_version(req, &name, &version);
	return s != MLF_OK ? s : mlf_mv_delete(req->db, name, version, &req->err);
}

enum mlf_status mlf_api_model_versions_get_download_uri(struct mlf_req *req)
{
	const char *name;
	int64_t version;
	enum mlf_status s = get_name_version(req, &name, &version);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_model_version v;
	if ((s = mlf_mv_get(c, &req->arena, name, version, 0, &v, &req->err)) != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_str(&req->out, "artifact_uri", v.storage_location ? v.storage_location : v.source);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_model_versions_search(struct mlf_req *req)
{
	struct search_args q;
	enum mlf_status s = get_search_args(req, MLF_SEARCH_MODEL_VERSIONS_DEFAULT, MLF_SEARCH_MODEL_VERSIONS_MAX, &q);
	if (s != MLF_OK)
		return s;
	int64_t max_results = q.max_results;
	if (max_results < 1)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value for max_results. It must be a positive integer, but got %lld",
		                (long long)max_results);
	struct mlf_page_pos pos, next;
	if ((s = mlf_page_token_decode_pos(&req->arena, q.token, &pos, &req->err)) != MLF_OK)
		return s;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_model_version *v;
	int n;
	if ((s = mlf_mv_search(c, &req->arena, q.filter, q.ob, q.nob, max_results, &pos, &v, &n, &next, &req->err)) !=
	    MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	put_mv_list(&req->out, v, n);
	if (next.offset >= 0)
		mlf_json_kv_str(&req->out, "next_page_token", mlf_page_token_encode_pos(&req->arena, &next));
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

enum mlf_status mlf_api_model_versions_set_tag(struct mlf_req *req)
{
	const char *name, *key, *value;
	int64_t version;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "key", 1, &key)) != MLF_OK || (s = mlf_get_str(req, "value", 0, &value)) != MLF_OK ||
	    (s = get_name_version(req, &name, &version)) != MLF_OK ||
	    (s = check_tag(req, key, value ? value : "", 1)) != MLF_OK)
		return s;
	return mlf_mv_set_tag(req->db, name, version, key, value ? value : "", &req->err);
}

enum mlf_status mlf_api_model_versions_delete_tag(struct mlf_req *req)
{
	const char *name, *key;
	int64_t version;
	enum mlf_status s;
	if ((s = mlf_get_str(req, "key", 1, &key)) != MLF_OK ||
	    (s = get_name_version(req, &name, &version)) != MLF_OK || (s = mlf_validate_key(req, key, "key")) != MLF_OK)
		return s;
	return mlf_mv_delete_tag(req->db, name, version, key, &req->err);
}

/* The download location of a live version (for the artifact route). */
enum mlf_status mlf_api_model_version_download_uri(struct mlf_req *req, const char *name, const char *version_text,
                                                   const char **uri)
{
	int64_t version;
	enum mlf_status s;
	if (!name || !version_text)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Missing value for required parameter '%s'. See the API docs for more information about "
		    "request parameters.",
		    !name ? "name" : "version");
	if ((s = check_name(req, name, "name")) != MLF_OK || (s = parse_version(req, version_text, &version)) != MLF_OK)
		return s;
	struct mlf_conn *c = reader(req);
	if (!c)
		return req->err.status;
	struct mlf_model_version v;
	if ((s = mlf_mv_get(c, &req->arena, name, version, 0, &v, &req->err)) != MLF_OK)
		return s;
	*uri = v.storage_location ? v.storage_location : v.source;
	return MLF_OK;
}
