/*
 * decode.c: typed access to request fields with MLflow's validation
 * messages. See the "request decoding helpers" in api.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/search.h"
#include "api.h"

#define MAX_SHOWN_VALUE 200 /* characters of a bad value echoed in an error */

cJSON *mlf_get_item(struct mlf_req *req, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(req->in, name);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

static const char *py_type(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "str";
	if (cJSON_IsBool(v))
		return "bool";
	if (cJSON_IsNumber(v))
		return v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e18 ? "int" : "float";
	if (cJSON_IsArray(v))
		return "list";
	if (cJSON_IsObject(v))
		return "dict";
	return "NoneType";
}

enum mlf_status mlf_bad_type(struct mlf_req *req, const char *name, cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	if (text && strlen(text) > MAX_SHOWN_VALUE)
		strcpy(text + MAX_SHOWN_VALUE - 3, "...");
	mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
	         "Invalid value %s for parameter '%s' supplied:  Hint: Value was of type '%s'. See the API docs for "
	         "more information about request parameters.",
	         text ? text : "null", name, v ? py_type(v) : "NoneType");
	cJSON_free(text);
	return MLF_INVALID_PARAMETER_VALUE;
}

static enum mlf_status missing(struct mlf_req *req, const char *name)
{
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
	                "Missing value for required parameter '%s'. See the API docs for more information about "
	                "request parameters.",
	                name);
}

enum mlf_status mlf_obj_str(struct mlf_req *req, cJSON *obj, const char *name, int required, const char **out)
{
	cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return required ? missing(req, name) : MLF_OK;
	if (!cJSON_IsString(v)) {
		/* Numbers and bools given for string fields are accepted as their text by
		 * protobuf's parser only for strings; MLflow rejects them. */
		return mlf_bad_type(req, name, v);
	}
	if (required && v->valuestring[0] == '\0')
		return missing(req, name);
	*out = v->valuestring;
	return MLF_OK;
}

enum mlf_status mlf_get_str(struct mlf_req *req, const char *name, int required, const char **out)
{
	return mlf_obj_str(req, req->in, name, required, out);
}

enum mlf_status mlf_get_run_id(struct mlf_req *req, const char **out)
{
	enum mlf_status s = mlf_get_str(req, "run_id", 0, out);
	if (s != MLF_OK)
		return s;
	if (*out && **out)
		return MLF_OK;
	s = mlf_get_str(req, "run_uuid", 0, out);
	if (s != MLF_OK)
		return s;
	if (!*out || !**out)
		return missing(req, "run_id");
	return MLF_OK;
}

static int parse_int64_text(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

enum mlf_status mlf_obj_int64(struct mlf_req *req, cJSON *obj, const char *name, int required, int64_t *out,
                              int *present)
{
	cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	if (present)
		*present = 0;
	if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]))
		return required ? missing(req, name) : MLF_OK;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d != floor(d) || fabs(d) > 9.2e18)
			return mlf_bad_type(req, name, v);
		*out = (int64_t)d;
	} else if (cJSON_IsString(v)) {
		if (parse_int64_text(v->valuestring, out) < 0)
			return mlf_bad_type(req, name, v);
	} else {
		return mlf_bad_type(req, name, v);
	}
	if (present)
		*present = 1;
	return MLF_OK;
}

enum mlf_status mlf_get_int64(struct mlf_req *req, const char *name, int required, int64_t *out, int *present)
{
	return mlf_obj_int64(req, req->in, name, required, out, present);
}

enum mlf_status mlf_obj_double(struct mlf_req *req, cJSON *obj, const char *name, int required, double *out,
                               int *present)
{
	cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	if (present)
		*present = 0;
	if (!v || cJSON_IsNull(v))
		return required ? missing(req, name) : MLF_OK;
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		char *end;
		if (!strcmp(s, "NaN") || !strcmp(s, "nan"))
			*out = NAN;
		else if (!strcmp(s, "Infinity") || !strcmp(s, "inf"))
			*out = INFINITY;
		else if (!strcmp(s, "-Infinity") || !strcmp(s, "-inf"))
			*out = -INFINITY;
		else {
			errno = 0;
			*out = strtod(s, &end);
			if (end == s || *end || !*s)
				return mlf_bad_type(req, name, v);
		}
	} else {
		return mlf_bad_type(req, name, v);
	}
	if (present)
		*present = 1;
	return MLF_OK;
}

enum mlf_status mlf_get_double(struct mlf_req *req, const char *name, int required, double *out, int *present)
{
	return mlf_obj_double(req, req->in, name, required, out, present);
}

enum mlf_status mlf_get_str_array(struct mlf_req *req, const char *name, const char ***out, int *n)
{
	cJSON *v = mlf_get_item(req, name);
	*out = NULL;
	*n = 0;
	if (!v)
		return MLF_OK;
	/* A lone string is a repeated field only in a query string. */
	if (cJSON_IsString(v) && req->method && strcmp(req->method, "GET") != 0)
		return mlf_bad_type(req, name, v);
	if (cJSON_IsString(v)) {
		*out = mlf_arena_alloc(&req->arena, sizeof **out);
		(*out)[0] = v->valuestring;
		*n = 1;
		return MLF_OK;
	}
	if (!cJSON_IsArray(v))
		return mlf_bad_type(req, name, v);
	int count = cJSON_GetArraySize(v), i = 0;
	*out = mlf_arena_alloc(&req->arena, sizeof **out * (size_t)(count ? count : 1));
	cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e))
			return mlf_bad_type(req, name, v);
		(*out)[i++] = e->valuestring;
	}
	*n = i;
	return MLF_OK;
}

enum mlf_status mlf_page_read_begin(struct mlf_req *req, const char *token, int64_t *offset, struct mlf_conn **c)
{
	*offset = 0;
	enum mlf_status s = mlf_page_token_decode(&req->arena, token, offset, &req->err);
	if (s != MLF_OK)
		return s;
	*c = mlf_db_read(req->db, &req->err);
	if (!*c)
		return req->err.status;
	return MLF_OK;
}
