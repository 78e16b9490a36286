/*
 * decode.c: typed access to request fields with MLflow's validation
 * messages. See the "request decoding helpers" in api.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/search.h"
#include "api.h"
#include "limits.h"

#define MAX_SHOWN_VALUE 200 /* characters of a bad value echoed in an error */

cJSON *mlf_get_item(struct mlf_req *req, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(req->in, name);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

/* ---- request text ---- */

/* The text checks of a JSON request body or of the strings of a query.
 * Every string a request carries ends up in SQLite as C text and is read
 * back by Python: invalid UTF-8 would be stored as given and make stock
 * MLflow's reader (and any JSON answer holding it) fail, and a NUL would
 * silently cut a key, value or location short. Both are refused before
 * any handler runs. */

static enum mlf_status bad_utf8(struct mlf_error *err, const char *where, size_t at)
{
	return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
	                "Invalid request: %s is not valid UTF-8 (byte %zu). Every string must be UTF-8 text.", where,
	                at);
}

static enum mlf_status nul_char(struct mlf_error *err, const char *where)
{
	return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
	                "Invalid request: %s holds the character U+0000 (NUL), which no MLflow field may contain.",
	                where);
}

enum mlf_status mlf_text_check(const char *s, size_t n, const char *where, struct mlf_error *err)
{
	size_t ok = mlf_utf8_valid_prefix(s, n);
	if (ok < n)
		return bad_utf8(err, where, ok);
	if (memchr(s, '\0', n))
		return nul_char(err, where);
	return MLF_OK;
}

static int number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Bytes that end a run of plain string text: the quote, a backslash, NUL
 * and every non-ASCII byte (whose sequence is checked). */
static inline int string_stop(unsigned char c)
{
	return c == '"' || c == '\\' || c == 0 || c >= 0x80;
}

/* One pass over the raw JSON text s[0..n): refuses bytes that are not
 * UTF-8 and NUL (raw, or as a \u0000 escape in a string); notes, for each
 * number token in order, whether it was written with a fraction or an
 * exponent (1 byte per number onto floats); *deep_ok is 0 when the text
 * nests deeper than MLF_MAX_JSON_DEPTH (before cJSON recurses into it). */
static enum mlf_status scan_json_text(const char *s, size_t n, struct mlf_buf *floats, int *deep_ok,
                                      struct mlf_error *err)
{
	const unsigned char *u = (const unsigned char *)s;
	int depth = 0;
	*deep_ok = 1;
	size_t i = 0;
	while (i < n) {
		unsigned char c = u[i];
		if (c == '"') {
			for (i++; i < n;) {
				while (i < n && !string_stop(u[i]))
					i++;
				if (i == n)
					break;
				c = u[i];
				if (c == '"') {
					i++;
					break;
				}
				if (c == '\\') {
					if (n - i >= 6 && !memcmp(s + i + 1, "u0000", 5))
						return nul_char(err, "the request body");
					i++;
					if (i < n && u[i] != 0 && u[i] < 0x80)
						i++; /* the escaped character; others are checked as text */
					continue;
				}
				if (c == 0)
					return nul_char(err, "the request body");
				int l = mlf_utf8_seq_len(u + i, n - i);
				if (!l)
					return bad_utf8(err, "the request body", i);
				i += (size_t)l;
			}
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			char is_float = 0;
			for (; i < n && number_char(s[i]); i++)
				is_float |= s[i] == '.' || s[i] == 'e' || s[i] == 'E';
			mlf_buf_putc(floats, is_float);
		} else if (c == '{' || c == '[') {
			if (++depth > MLF_MAX_JSON_DEPTH)
				*deep_ok = 0;
			i++;
		} else if (c == '}' || c == ']') {
			depth--;
			i++;
		} else if (c == 0) {
			return nul_char(err, "the request body");
		} else if (c >= 0x80) {
			int l = mlf_utf8_seq_len(u + i, n - i);
			if (!l)
				return bad_utf8(err, "the request body", i);
			i += (size_t)l;
		} else {
			i++;
		}
	}
	return MLF_OK;
}

/* Flag the number items of v and its siblings, in document order (the
 * order of the tokens scan_json_text saw), that were written as floats. */
static void mark_floats(cJSON *v, const struct mlf_buf *floats, size_t *k)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v)) {
			if (*k < floats->len && floats->data[*k])
				v->type |= MLF_JSON_FLOAT_TEXT;
			(*k)++;
		} else if (v->child) {
			mark_floats(v->child, floats, k);
		}
	}
}

/* Parse one JSON text (checked) into v; NULL when malformed or too deep. */
static enum mlf_status parse_checked(const char *text, size_t n, cJSON **v, struct mlf_error *err)
{
	struct mlf_buf floats = {0};
	*v = NULL;
	int deep_ok;
	enum mlf_status st = scan_json_text(text, n, &floats, &deep_ok, err);
	if (st == MLF_OK && deep_ok) {
		const char *end = NULL;
		*v = cJSON_ParseWithLengthOpts(text, n, &end, 0);
		size_t k = 0;
		mark_floats(*v, &floats, &k);
	}
	mlf_buf_release(&floats);
	return st;
}

cJSON *mlf_decode_body(const char *body, size_t n, struct mlf_error *err)
{
	cJSON *v = NULL;
	if (n > 0 && parse_checked(body, n, &v, err) != MLF_OK)
		return NULL;
	if (v && cJSON_IsString(v)) { /* double-encoded by an old client */
		cJSON *w = NULL;
		enum mlf_status st = parse_checked(v->valuestring, strlen(v->valuestring), &w, err);
		cJSON_Delete(v);
		if (st != MLF_OK)
			return NULL;
		v = w;
	}
	if (!v || !cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return cJSON_CreateObject();
	}
	return v;
}

/* ---- typed access ---- */

static const char *py_type(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "str";
	if (cJSON_IsBool(v))
		return "bool";
	if (cJSON_IsNumber(v))
		return v->type & MLF_JSON_FLOAT_TEXT ? "float" : "int";
	if (cJSON_IsArray(v))
		return "list";
	if (cJSON_IsObject(v))
		return "dict";
	return "NoneType";
}

int mlf_json_to_int64(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v))
		return 0;
	double d = v->valuedouble;
	if (!(d > -9223372036854775808.0 - 1 && d < 9223372036854775808.0)) /* NaN too */
		return 0;
	*out = (int64_t)d;
	return 1;
}

enum mlf_status mlf_bad_type(struct mlf_req *req, const char *name, cJSON *v)
{
	char *text = NULL;
	if (v && cJSON_IsNumber(v) && (v->type & MLF_JSON_FLOAT_TEXT)) { /* as Python's repr of a float */
		text = cJSON_malloc(32);
		if (text && isinf(v->valuedouble))
			snprintf(text, 32, "%s", v->valuedouble > 0 ? "inf" : "-inf");
		else if (text)
			mlf_format_double(text, v->valuedouble);
	} else if (v) {
		text = cJSON_PrintUnformatted(v);
	}
	if (text && strlen(text) > MAX_SHOWN_VALUE) { /* cut at a character boundary */
		size_t cut = MAX_SHOWN_VALUE - 3;
		while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
			cut--;
		strcpy(text + cut, "...");
	}
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
