/*
 * experiments.c (api): the REST handlers of the experiments resource.
 * Each handler reads its fields from req->in with MLflow's schema checks,
 * applies the validation MLflow does before touching the store (names,
 * experiment tags, artifact locations), calls storage/experiments.c and
 * writes the answer with the JSON writer.
 *
 * Validation mirrors mlflow/server/handlers.py and mlflow/utils/
 * validation.py of MLflow 3.17: same checks, same order where it is
 * observable, same messages. Lengths are counted in characters (Unicode
 * code points), as Python's len() does.
 *
 * This file knows nothing of SQL.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../server/config.h"
#include "../storage/search.h"
#include "../storage/tracking.h"
#include "api.h"
#include "limits.h"

#define CUSTOM_VIEW_PREFIX "mlflow.customView.view"
#define TRACE_ARCHIVAL_RETENTION_TAG "mlflow.trace.archivalRetention"
#define TRACE_ARCHIVE_NOW_TAG "mlflow.trace.archiveNow"
#define MAX_TRACE_ARCHIVAL_RETENTION_LENGTH 32

/* ======================================================================
 * Text helpers (Python semantics)
 * ====================================================================== */

/* Number of Unicode code points in UTF-8 text (Python's len()). */
static size_t py_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Decode one UTF-8 sequence at *p (advancing it); invalid bytes decode as
 * themselves. */
static unsigned utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned c = s[0];
	int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
	for (int i = 1; i <= extra; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			extra = 0;
			break;
		}
	}
	if (extra) {
		c &= 0x3Fu >> extra;
		for (int i = 1; i <= extra; i++)
			c = (c << 6) | (s[i] & 0x3F);
	}
	*p = s + 1 + extra;
	return c;
}

/* json.dumps(s) with Python's defaults (ensure_ascii): into the arena. */
static const char *py_json_dumps(struct mlf_arena *a, const char *s)
{
	struct mlf_buf b = {0};
	mlf_buf_putc(&b, '"');
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = utf8_next(&p);
		switch (c) {
		case '"': mlf_buf_puts(&b, "\\\""); break;
		case '\\': mlf_buf_puts(&b, "\\\\"); break;
		case '\n': mlf_buf_puts(&b, "\\n"); break;
		case '\r': mlf_buf_puts(&b, "\\r"); break;
		case '\t': mlf_buf_puts(&b, "\\t"); break;
		case '\b': mlf_buf_puts(&b, "\\b"); break;
		case '\f': mlf_buf_puts(&b, "\\f"); break;
		default:
			if (c < 0x20 || (c > 0x7E && c < 0x10000 && c != 0x7F))
				mlf_buf_printf(&b, "\\u%04x", c);
			else if (c >= 0x10000)
				mlf_buf_printf(&b, "\\u%04x\\u%04x", 0xD800 + ((c - 0x10000) >> 10),
				               0xDC00 + ((c - 0x10000) & 0x3FF));
			else
				mlf_buf_putc(&b, (char)c);
		}
	}
	mlf_buf_putc(&b, '"');
	const char *r = mlf_arena_strdup(a, b.data);
	mlf_buf_release(&b);
	return r;
}

/* repr(s) of a Python str (quote choice as Python makes it). */
static const char *py_repr(struct mlf_arena *a, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	struct mlf_buf b = {0};
	mlf_buf_putc(&b, q);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\' || c == (unsigned char)q) {
			mlf_buf_putc(&b, '\\');
			mlf_buf_putc(&b, (char)c);
		} else if (c == '\n') {
			mlf_buf_puts(&b, "\\n");
		} else if (c == '\t') {
			mlf_buf_puts(&b, "\\t");
		} else if (c == '\r') {
			mlf_buf_puts(&b, "\\r");
		} else if (c < 0x20 || c == 0x7F) {
			mlf_buf_printf(&b, "\\x%02x", c);
		} else {
			mlf_buf_putc(&b, (char)c);
		}
	}
	mlf_buf_putc(&b, q);
	const char *r = mlf_arena_strdup(a, b.data);
	mlf_buf_release(&b);
	return r;
}

/* posixpath.normpath(s), into the arena. */
static const char *py_normpath(struct mlf_arena *a, const char *s)
{
	if (!*s)
		return ".";
	size_t n = strlen(s);
	int slashes = s[0] == '/' ? (s[1] == '/' && s[2] != '/' ? 2 : 1) : 0;
	/* Components kept so far, as (start, length) pairs into s. */
	const char **start = mlf_arena_alloc(a, sizeof *start * (n + 1));
	size_t *len = mlf_arena_alloc(a, sizeof *len * (n + 1));
	size_t nc = 0;
	for (const char *p = s; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 1 && p[0] == '.') {
			/* skip */
		} else if (l == 2 && p[0] == '.' && p[1] == '.' &&
		           (slashes || (nc && !(len[nc - 1] == 2 && !strncmp(start[nc - 1], "..", 2))))) {
			if (nc)
				nc--;
		} else {
			start[nc] = p;
			len[nc++] = l;
		}
		p += l;
	}
	struct mlf_buf b = {0};
	for (int i = 0; i < slashes; i++)
		mlf_buf_putc(&b, '/');
	for (size_t i = 0; i < nc; i++) {
		if (i)
			mlf_buf_putc(&b, '/');
		mlf_buf_append(&b, start[i], len[i]);
	}
	const char *r = b.len ? mlf_arena_strdup(a, b.data) : ".";
	mlf_buf_release(&b);
	return r;
}

/* ======================================================================
 * Validation (mlflow/utils/validation.py)
 * ====================================================================== */

static enum mlf_status too_long(struct mlf_req *req, const char *what, int limit)
{
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "'%s' exceeds the maximum length of %d characters",
	                what, limit);
}

/* _validate_experiment_name (the empty case is caught as a missing
 * required parameter before). */
static enum mlf_status validate_name(struct mlf_req *req, const char *name)
{
	if (!name || !*name)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid experiment name: '%s'",
		                name ? name : "None");
	if (py_len(name) > MLF_MAX_EXPERIMENT_NAME_LENGTH)
		return too_long(req, "name", MLF_MAX_EXPERIMENT_NAME_LENGTH);
	return MLF_OK;
}

/* _validate_tag_name: key charset ^[/\w.\- :]*$ (non-ASCII letters count
 * as \w) and no key that a file system would resolve to another name. */
static enum mlf_status validate_tag_name(struct mlf_req *req, const char *key)
{
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		if (isalnum(*p) || *p >= 0x80 || strchr("_/.- :", *p))
			continue;
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value %s for parameter 'key' supplied: Names may only contain alphanumerics, "
		                "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).",
		                py_json_dumps(&req->arena, key));
	}
	const char *norm = py_normpath(&req->arena, key);
	if (strcmp(norm, key) != 0 || !strcmp(norm, ".") || !strncmp(norm, "..", 2) || norm[0] == '/')
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value %s for parameter 'key' supplied: Names may be treated as files in certain "
		    "cases, and must not resolve to other names when treated as such. This name would "
		    "resolve to %s",
		    py_json_dumps(&req->arena, key), py_repr(&req->arena, norm));
	return MLF_OK;
}

/* _validate_trace_archival_retention_string (without parameter name). */
static enum mlf_status validate_retention(struct mlf_req *req, const cJSON *v)
{
	static const char bad[] =
	    "Trace archival retention must be in the form `<int><unit>`, where unit is one of 'm', 'h', or 'd'.";
	if (!cJSON_IsString(v))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "%s", bad);
	const char *s = v->valuestring;
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n > MAX_TRACE_ARCHIVAL_RETENTION_LENGTH)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Trace archival duration must be at most %d characters.",
		                MAX_TRACE_ARCHIVAL_RETENTION_LENGTH);
	int ok = n >= 2 && s[0] >= '1' && s[0] <= '9' && strchr("mhd", s[n - 1]) && s[n - 1];
	for (size_t i = 1; ok && i + 1 < n; i++)
		ok = isdigit((unsigned char)s[i]);
	return ok ? MLF_OK : mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "%s", bad);
}

/* _validate_trace_experiment_tag: the two trace-archival tags carry JSON
 * configs that MLflow checks on write. */
static enum mlf_status validate_trace_tag(struct mlf_req *req, const char *key, const char *value)
{
	int retention = !strcmp(key, TRACE_ARCHIVAL_RETENTION_TAG);
	if (!retention && strcmp(key, TRACE_ARCHIVE_NOW_TAG))
		return MLF_OK;
	cJSON *j = cJSON_Parse(value ? value : "");
	enum mlf_status s = MLF_OK;
	if (!cJSON_IsObject(j)) {
		s = mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		             "Trace archival config must be encoded as a JSON object.");
	} else if (retention) {
		cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
		if (!cJSON_IsString(type) || strcmp(type->valuestring, "duration"))
			s = mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			             "Trace archival config must use type 'duration'.");
		else
			s = validate_retention(req, cJSON_GetObjectItemCaseSensitive(j, "value"));
	} else {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "older_than");
		if (d && !cJSON_IsNull(d))
			s = validate_retention(req, d);
	}
	cJSON_Delete(j);
	return s;
}

/* _validate_experiment_tag. */
static enum mlf_status validate_tag(struct mlf_req *req, const char *key, const char *value)
{
	enum mlf_status s = validate_tag_name(req, key);
	if (s != MLF_OK)
		return s;
	if (py_len(key) > MLF_MAX_EXPERIMENT_TAG_KEY_LENGTH)
		return too_long(req, "key", MLF_MAX_EXPERIMENT_TAG_KEY_LENGTH);
	if (value && py_len(value) > MLF_MAX_EXPERIMENT_TAG_VAL_LENGTH)
		return too_long(req, "value", MLF_MAX_EXPERIMENT_TAG_VAL_LENGTH);
	return validate_trace_tag(req, key, value);
}

/* ---- artifact locations ---- */

/* The parts of a URI as Python's urlparse splits them (all arena copies;
 * scheme lowercased). */
struct uri_parts {
	const char *scheme, *netloc, *path, *params, *query, *fragment;
	int has_netloc;
};

static int uses_params(const char *scheme)
{
	static const char *const names[] = {"",     "ftp",   "hdl", "prospero", "http", "imap", "https", "shttp",
	                                    "rtsp", "rtspu", "sip", "sips",     "mms",  "sftp", "tel"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(names[i], scheme))
			return 1;
	return 0;
}

static void uri_split(struct mlf_arena *a, const char *u, struct uri_parts *o)
{
	size_t sl = mlf_uri_scheme_len(u);
	char *scheme = mlf_arena_strndup(a, u, sl);
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	o->scheme = scheme;
	const char *p = sl ? u + sl + 1 : u;
	o->has_netloc = p[0] == '/' && p[1] == '/';
	if (o->has_netloc) {
		size_t nl = strcspn(p + 2, "/?#");
		o->netloc = mlf_arena_strndup(a, p + 2, nl);
		p += 2 + nl;
	} else {
		o->netloc = "";
	}
	const char *hash = strchr(p, '#');
	o->fragment = hash ? mlf_arena_strdup(a, hash + 1) : "";
	size_t rest = hash ? (size_t)(hash - p) : strlen(p);
	const char *q = memchr(p, '?', rest);
	o->query = q ? mlf_arena_strndup(a, q + 1, rest - (size_t)(q + 1 - p)) : "";
	size_t path_len = q ? (size_t)(q - p) : rest;
	char *path = mlf_arena_strndup(a, p, path_len);
	o->params = "";
	if (uses_params(o->scheme)) {
		char *last = strrchr(path, '/');
		char *semi = strchr(last ? last : path, ';');
		if (semi) {
			*semi = '\0';
			o->params = semi + 1;
		}
	}
	o->path = path;
}

/* urllib.parse.unquote, in place. */
static void unquote(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
			char h[3] = {r[1], r[2], 0};
			*w++ = (char)strtol(h, NULL, 16);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* validate_query_string: no ".." once fully percent-decoded. */
static enum mlf_status validate_query(struct mlf_req *req, const char *query)
{
	char *q = mlf_arena_strdup(&req->arena, query);
	for (int i = 0; i < 10; i++)
		unquote(q);
	if (strstr(q, ".."))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid query string");
	return MLF_OK;
}

/* Hosts a URI makes MLflow connect to (mlflow/store/artifact/
 * host_policy.py), reduced to what the check below needs. */
struct host_target {
	const char *family; /* scheme family: https and mlflow-artifacts count as http */
	const char *host;   /* lowercased, without user info */
	int ports[2];
	int nports;
	int malformed;
};

static const char *const host_addressed[] = {"ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts",
                                             "r2",  "b2",   "abfss"};

/* 1 and fills t when uri selects a host, else 0. */
static int host_target_of(struct mlf_arena *a, const char *uri, struct host_target *t)
{
	struct uri_parts u;
	uri_split(a, uri, &u);
	int hosted = 0;
	for (size_t i = 0; i < sizeof host_addressed / sizeof *host_addressed; i++)
		hosted |= !strcmp(u.scheme, host_addressed[i]);
	if (!hosted || (!strcmp(u.scheme, "mlflow-artifacts") && !*u.netloc))
		return 0;
	memset(t, 0, sizeof *t);
	t->family = !strcmp(u.scheme, "viewfs")                                           ? "hdfs"
	            : !strcmp(u.scheme, "https") || !strcmp(u.scheme, "mlflow-artifacts") ? "http"
	                                                                                  : u.scheme;
	const char *hp = strrchr(u.netloc, '@');
	hp = hp ? hp + 1 : u.netloc;
	if (strpbrk(u.netloc, "\\ \t\r\n\f\v")) {
		t->malformed = 1;
		return 1;
	}
	char *host = mlf_arena_strdup(a, hp);
	char *colon = host[0] == '[' ? strchr(host, ']') : host;
	colon = colon ? strchr(colon, ':') : NULL;
	if (colon) {
		*colon = '\0';
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (colon[1] && (*end || port < 0 || port > 65535)) {
			t->malformed = 1;
			return 1;
		}
		if (colon[1]) {
			t->ports[0] = (int)port;
			t->nports = 1;
		}
	}
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (host[0] == '[') {
		size_t n = strlen(host);
		host[n - 1] = '\0';
		host++;
	}
	t->host = host;
	if (!t->nports) {
		static const struct {
			const char *scheme;
			int p0, p1;
		} defaults[] = {
		    {"ftp", 21, 0}, {"sftp", 22, 0}, {"http", 80, 0},  {"https", 443, 0}, {"mlflow-artifacts", 80, 443},
		    {"r2", 443, 0}, {"b2", 443, 0},  {"abfss", 443, 0}};
		t->ports[0] = -1; /* no port known */
		t->nports = 1;
		for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
			if (!strcmp(defaults[i].scheme, u.scheme)) {
				t->ports[0] = defaults[i].p0;
				t->ports[1] = defaults[i].p1;
				t->nports = defaults[i].p1 ? 2 : 1;
			}
	}
	return 1;
}

/* Whether a and b share a (family, host, port) target. */
static int targets_meet(const struct host_target *a, const struct host_target *b)
{
	if (a->malformed || b->malformed || strcmp(a->family, b->family) || strcmp(a->host, b->host))
		return 0;
	for (int i = 0; i < a->nports; i++)
		for (int j = 0; j < b->nports; j++)
			if (a->ports[i] == b->ports[j])
				return 1;
	return 0;
}

/* _validate_artifact_uri_scheme: a location whose scheme makes the server
 * connect to the host it names is refused, unless it is the host of the
 * server's default artifact root or the operator allows the scheme with
 * MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES. */
enum mlf_status mlf_validate_host_policy(struct mlf_req *req, const char *uri, const char *field)
{
	struct host_target t, root;
	if (!host_target_of(&req->arena, uri, &t))
		return MLF_OK;
	size_t sl = mlf_uri_scheme_len(uri);
	char *scheme = mlf_arena_strndup(&req->arena, uri, sl);
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	const char *allowed = getenv("MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES");
	if (allowed) {
		char *list = mlf_arena_strdup(&req->arena, allowed), *save = NULL;
		for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*tok))
				tok++;
			size_t n = strlen(tok);
			while (n && isspace((unsigned char)tok[n - 1]))
				tok[--n] = '\0';
			if (!strcasecmp(tok, scheme))
				return MLF_OK;
		}
	}
	const char *root_uri = req->cfg ? req->cfg->default_artifact_root : NULL;
	if (root_uri && host_target_of(&req->arena, root_uri, &root) && targets_meet(&t, &root))
		return MLF_OK;
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
	                "'%s' cannot use the '%s' scheme: the '%s' scheme addresses a host other than the tracking "
	                "server's configured artifact storage, so the server would connect to the host named in the "
	                "URI. Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the "
	                "server to allow it.",
	                field, scheme, scheme);
}

/* MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH, default 2048. */
static enum mlf_status validate_location_length(struct mlf_req *req, const char *loc)
{
	long max = MLF_MAX_ARTIFACT_LOCATION_LENGTH;
	const char *env = getenv("MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH");
	if (env && *env)
		max = strtol(env, NULL, 10);
	if ((long)py_len(loc) > max)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid artifact path length. The length of the artifact path cannot be greater than %ld "
		    "characters. To configure this limit, please set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH "
		    "environment variable.",
		    max);
	return MLF_OK;
}

/* handlers._validate_storage_location_uri for a given artifact_location. */
static enum mlf_status validate_location(struct mlf_req *req, const char *loc)
{
	struct uri_parts u;
	uri_split(&req->arena, loc, &u);
	if (*u.fragment || *u.params)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "'artifact_location' URL can't include fragments or params.");
	enum mlf_status s = validate_query(req, u.query);
	if (s == MLF_OK)
		s = mlf_validate_host_policy(req, loc, "artifact_location");
	if (s != MLF_OK)
		return s;
	if (!strncmp(loc, "runs:", 5))
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Artifact location cannot be a runs:/ URI. Given: '%s'", loc);
	return validate_location_length(req, loc);
}

/* resolve_uri_if_local: a relative local path (no scheme, or file:) is made
 * absolute against the server's working directory, as pathlib joins it. */
static const char *resolve_if_local(struct mlf_req *req, const char *loc)
{
	struct uri_parts u;
	uri_split(&req->arena, loc, &u);
	int is_file = !strcmp(u.scheme, "file");
	if (*u.scheme && !is_file)
		return loc;
	const char *path = is_file ? u.path : loc;
	if (is_file) {
		char *p = mlf_arena_strdup(&req->arena, path);
		unquote(p);
		path = p;
	}
	if (path[0] == '/')
		return loc;
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return loc;
	struct mlf_buf b = {0};
	if (is_file)
		mlf_buf_puts(&b, "file://");
	mlf_buf_puts(&b, strcmp(cwd, "/") ? cwd : "");
	/* pathlib drops empty and "." components (".." stays). */
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, "/");
		if (l && !(l == 1 && p[0] == '.')) {
			mlf_buf_putc(&b, '/');
			mlf_buf_append(&b, p, l);
		}
		p += l;
		while (*p == '/')
			p++;
	}
	if (!b.len || (is_file && b.len == 7))
		mlf_buf_putc(&b, '/');
	if (is_file && *u.query) {
		mlf_buf_putc(&b, '?');
		mlf_buf_puts(&b, u.query);
	}
	const char *r = mlf_arena_strdup(&req->arena, b.data);
	mlf_buf_release(&b);
	return r;
}

/* ======================================================================
 * Request parsing
 * ====================================================================== */

/* experiment_id: required string, integer as MLflow's SQL store parses it. */
static enum mlf_status get_experiment_id(struct mlf_req *req, int64_t *id)
{
	const char *text;
	enum mlf_status s = mlf_get_str(req, "experiment_id", 1, &text);
	if (s != MLF_OK)
		return s;
	return mlf_experiment_id_parse(text, id, &req->err);
}

/* view_type: enum name or number, ACTIVE_ONLY when absent. Like
 * protobuf's JSON parser with ignore_unknown_fields (MLflow's), an unknown
 * name or number leaves the default. */
static enum mlf_status get_view_type(struct mlf_req *req, enum mlf_view_type *out)
{
	static const char *const names[] = {NULL, "ACTIVE_ONLY", "DELETED_ONLY", "ALL"};
	cJSON *v = mlf_get_item(req, "view_type");
	*out = MLF_VIEW_ACTIVE_ONLY;
	if (!v)
		return MLF_OK;
	int64_t n = 0;
	if (cJSON_IsString(v)) {
		for (int i = 1; i <= 3; i++)
			if (!strcmp(v->valuestring, names[i])) {
				*out = (enum mlf_view_type)i;
				return MLF_OK;
			}
		char *end;
		n = strtoll(v->valuestring, &end, 10);
		if (!*v->valuestring || *end)
			return MLF_OK;
	} else if (mlf_json_to_int64(v, &n) && v->valuedouble == (double)n) {
	} else {
		return mlf_bad_type(req, "view_type", v);
	}
	if (n >= 1 && n <= 3)
		*out = (enum mlf_view_type)n;
	return MLF_OK;
}

/* A repeated string field. A query string gives a lone value as a plain
 * string; in a JSON body the field must be an array, else protobuf's parser
 * fails and MLflow's handler reports the value's type. */
static enum mlf_status get_repeated_str(struct mlf_req *req, const char *name, const char ***out, int *n)
{
	cJSON *v = mlf_get_item(req, name);
	if (v && cJSON_IsString(v) && strcmp(req->method, "GET") != 0) {
		*out = NULL;
		*n = 0;
		return mlf_bad_type(req, name, v);
	}
	return mlf_get_str_array(req, name, out, n);
}

/* tags: [{key, value}] into an arena array. */
static enum mlf_status get_tags(struct mlf_req *req, struct mlf_kv **out, int *n)
{
	cJSON *arr = mlf_get_item(req, "tags");
	*out = NULL;
	*n = 0;
	if (!arr)
		return MLF_OK;
	if (!cJSON_IsArray(arr))
		return mlf_bad_type(req, "tags", arr);
	int count = cJSON_GetArraySize(arr), i = 0;
	struct mlf_kv *tags = mlf_arena_alloc(&req->arena, sizeof *tags * (size_t)(count ? count : 1));
	cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsObject(e))
			return mlf_bad_type(req, "tags", arr);
		enum mlf_status s = mlf_obj_str(req, e, "key", 0, &tags[i].key);
		if (s == MLF_OK)
			s = mlf_obj_str(req, e, "value", 0, &tags[i].value);
		if (s != MLF_OK)
			return s;
		/* Unset proto string fields read as "". */
		if (!tags[i].key)
			tags[i].key = "";
		if (!tags[i].value)
			tags[i].value = "";
		i++;
	}
	*out = tags;
	*n = i;
	return MLF_OK;
}

/* ======================================================================
 * Responses
 * ====================================================================== */

/* One Experiment message, fields in proto order; unset ones omitted. */
static void write_experiment(struct mlf_json *j, const struct mlf_experiment *e)
{
	mlf_json_obj_begin(j);
	mlf_json_key(j, "experiment_id");
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)e->id);
	mlf_json_str(j, id);
	mlf_json_kv_str(j, "name", e->name);
	mlf_json_kv_str(j, "artifact_location", e->artifact_location);
	mlf_json_kv_str(j, "lifecycle_stage", e->lifecycle_stage);
	if (e->last_update_time)
		mlf_json_kv_int(j, "last_update_time", e->last_update_time);
	if (e->creation_time)
		mlf_json_kv_int(j, "creation_time", e->creation_time);
	if (e->ntags) {
		mlf_json_key(j, "tags");
		mlf_json_arr_begin(j);
		for (int i = 0; i < e->ntags; i++) {
			mlf_json_obj_begin(j);
			mlf_json_kv_str(j, "key", e->tags[i].key);
			mlf_json_kv_str(j, "value", e->tags[i].value);
			mlf_json_obj_end(j);
		}
		mlf_json_arr_end(j);
	}
	mlf_json_kv_str(j, "workspace", e->workspace);
	mlf_json_obj_end(j);
}

static void answer_experiment(struct mlf_req *req, const struct mlf_experiment *e)
{
	mlf_json_obj_begin(&req->out);
	mlf_json_key(&req->out, "experiment");
	write_experiment(&req->out, e);
	mlf_json_obj_end(&req->out);
}

/* ======================================================================
 * Handlers
 * ====================================================================== */

enum mlf_status mlf_api_experiments_create(struct mlf_req *req)
{
	const char *name, *location;
	struct mlf_kv *tags;
	int ntags;
	enum mlf_status s = mlf_get_str(req, "name", 1, &name);
	if (s == MLF_OK)
		s = mlf_get_str(req, "artifact_location", 0, &location);
	if (s == MLF_OK)
		s = get_tags(req, &tags, &ntags);
	if (s != MLF_OK)
		return s;

	/* Handler checks: custom view count, then the location URI. */
	int views = 0;
	for (int i = 0; i < ntags; i++)
		views += !strncmp(tags[i].key, CUSTOM_VIEW_PREFIX, strlen(CUSTOM_VIEW_PREFIX));
	if (views > MLF_MAX_CUSTOM_VIEWS_PER_EXPERIMENT)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Unable to create another custom view; the maximum number of custom views per experiment "
		    "is %d. Delete an existing custom view before creating a new one.",
		    MLF_MAX_CUSTOM_VIEWS_PER_EXPERIMENT);
	if (location && *location && (s = validate_location(req, location)) != MLF_OK)
		return s;

	/* Store checks: name, resolved location, tags. */
	if ((s = validate_name(req, name)) != MLF_OK)
		return s;
	if (location && *location) {
		location = resolve_if_local(req, location);
		if ((s = validate_location_length(req, location)) != MLF_OK)
			return s;
	} else {
		location = NULL;
	}
	for (int i = 0; i < ntags; i++)
		if ((s = validate_tag(req, tags[i].key, tags[i].value)) != MLF_OK)
			return s;

	const char *root = req->cfg && req->cfg->default_artifact_root ? req->cfg->default_artifact_root : NULL;
	int64_t id = 0;
	if (root)
		s = mlf_experiment_create_with_root(req->db, root, name, location, tags, ntags, &id, &req->err);
	else
		s = mlf_experiment_create(req->db, name, location, tags, ntags, &id, &req->err);
	if (s != MLF_OK)
		return s;
	char text[24];
	snprintf(text, sizeof text, "%lld", (long long)id);
	mlf_json_obj_begin(&req->out);
	mlf_json_kv_str(&req->out, "experiment_id", text);
	mlf_json_obj_end(&req->out);
	return MLF_OK;
}

/* Answer the experiment named `name`, or with id `id` when name is NULL. */
static enum mlf_status answer_lookup(struct mlf_req *req, int64_t id, const char *name)
{
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_experiment e;
	enum mlf_status s = name ? mlf_experiment_get_by_name(c, &req->arena, name, &e, &req->err)
	                         : mlf_experiment_get(c, &req->arena, id, &e, &req->err);
	if (s != MLF_OK)
		return s;
	answer_experiment(req, &e);
	return MLF_OK;
}

enum mlf_status mlf_api_experiments_get(struct mlf_req *req)
{
	int64_t id;
	enum mlf_status s = get_experiment_id(req, &id);
	if (s != MLF_OK)
		return s;
	return answer_lookup(req, id, NULL);
}

enum mlf_status mlf_api_experiments_get_by_name(struct mlf_req *req)
{
	const char *name;
	enum mlf_status s = mlf_get_str(req, "experiment_name", 1, &name);
	if (s != MLF_OK)
		return s;
	return answer_lookup(req, 0, name);
}

enum mlf_status mlf_api_experiments_search(struct mlf_req *req)
{
	enum mlf_view_type view;
	int64_t max_results = 0;
	int present;
	const char *filter, *token;
	const char **order_by;
	int n_order_by;
	enum mlf_status s = get_view_type(req, &view);
	if (s == MLF_OK)
		s = mlf_get_int64(req, "max_results", 0, &max_results, &present);
	if (s == MLF_OK)
		s = get_repeated_str(req, "order_by", &order_by, &n_order_by);
	if (s == MLF_OK)
		s = mlf_get_str(req, "filter", 0, &filter);
	if (s == MLF_OK)
		s = mlf_get_str(req, "page_token", 0, &token);
	if (s != MLF_OK)
		return s;
	/* The store checks max_results before the filter and the token. */
	if (max_results < 1)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value %lld for parameter 'max_results' supplied. It must be a positive integer",
		    (long long)max_results);
	if (max_results > MLF_SEARCH_MAX_RESULTS_THRESHOLD)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value %lld for parameter 'max_results' supplied. It must be at most %d",
		                (long long)max_results, MLF_SEARCH_MAX_RESULTS_THRESHOLD);
	int64_t offset;
	struct mlf_conn *c;
	if ((s = mlf_page_read_begin(req, token, &offset, &c)) != MLF_OK)
		return s;
	struct mlf_experiment *exps;
	int n;
	int64_t next;
	s = mlf_experiment_search(c, &req->arena, view, filter, order_by, n_order_by, max_results, offset, &exps, &n,
	                          &next, &req->err);
	if (s != MLF_OK)
		return s;
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	if (n) {
		mlf_json_key(j, "experiments");
		mlf_json_arr_begin(j);
		for (int i = 0; i < n; i++)
			write_experiment(j, &exps[i]);
		mlf_json_arr_end(j);
	}
	if (next >= 0)
		mlf_json_kv_str(j, "next_page_token", mlf_page_token_encode(&req->arena, next));
	mlf_json_obj_end(j);
	return MLF_OK;
}

enum mlf_status mlf_api_experiments_update(struct mlf_req *req)
{
	const char *id_text, *new_name;
	enum mlf_status s = mlf_get_str(req, "experiment_id", 1, &id_text);
	if (s == MLF_OK)
		s = mlf_get_str(req, "new_name", 1, &new_name);
	if (s == MLF_OK)
		s = validate_name(req, new_name);
	int64_t id;
	if (s == MLF_OK)
		s = mlf_experiment_id_parse(id_text, &id, &req->err);
	if (s != MLF_OK)
		return s;
	return mlf_experiment_rename(req->db, id, new_name, &req->err);
}

/* delete (deleted = 1) and restore (deleted = 0). */
static enum mlf_status set_deleted(struct mlf_req *req, int deleted)
{
	int64_t id;
	enum mlf_status s = get_experiment_id(req, &id);
	if (s != MLF_OK)
		return s;
	return mlf_experiment_set_deleted(req->db, id, deleted, &req->err);
}

enum mlf_status mlf_api_experiments_delete(struct mlf_req *req)
{
	return set_deleted(req, 1);
}

enum mlf_status mlf_api_experiments_restore(struct mlf_req *req)
{
	return set_deleted(req, 0);
}

enum mlf_status mlf_api_experiments_set_tag(struct mlf_req *req)
{
	const char *id_text, *key, *value;
	enum mlf_status s = mlf_get_str(req, "experiment_id", 1, &id_text);
	if (s == MLF_OK)
		s = mlf_get_str(req, "key", 1, &key);
	if (s == MLF_OK)
		s = mlf_get_str(req, "value", 0, &value);
	if (s != MLF_OK)
		return s;
	if (!value)
		value = "";
	int64_t id;
	/* A custom-view tag looks the experiment up first (handler); other
	 * tags are validated before the id is parsed (store). */
	if (!strncmp(key, CUSTOM_VIEW_PREFIX, strlen(CUSTOM_VIEW_PREFIX))) {
		if ((s = mlf_experiment_id_parse(id_text, &id, &req->err)) != MLF_OK)
			return s;
		if ((s = validate_tag(req, key, value)) != MLF_OK)
			return s;
	} else {
		if ((s = validate_tag(req, key, value)) != MLF_OK)
			return s;
		if ((s = mlf_experiment_id_parse(id_text, &id, &req->err)) != MLF_OK)
			return s;
	}
	return mlf_experiment_set_tag(req->db, id, key, value, &req->err);
}

enum mlf_status mlf_api_experiments_delete_tag(struct mlf_req *req)
{
	const char *id_text, *key;
	enum mlf_status s = mlf_get_str(req, "experiment_id", 1, &id_text);
	if (s == MLF_OK)
		s = mlf_get_str(req, "key", 1, &key);
	int64_t id;
	if (s == MLF_OK)
		s = mlf_experiment_id_parse(id_text, &id, &req->err);
	if (s != MLF_OK)
		return s;
	return mlf_experiment_delete_tag(req->db, id, key, &req->err);
}

enum mlf_status mlf_api_experiments_search_datasets(struct mlf_req *req)
{
	const char **ids = NULL;
	int n = 0;
	/* MLflow declares no schema here: a value protobuf cannot parse leaves
	 * the list empty. */
	cJSON *v = mlf_get_item(req, "experiment_ids");
	if (v && !cJSON_IsString(v)) {
		enum mlf_status s = mlf_get_str_array(req, "experiment_ids", &ids, &n);
		if (s != MLF_OK) {
			ids = NULL;
			n = 0;
		}
	}
	enum mlf_status s = MLF_OK;
	if (n == 0)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "SearchDatasets request must specify at least one experiment_id.");
	if (n > MLF_SEARCH_DATASETS_MAX_EXPERIMENTS)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "SearchDatasets request cannot specify more than %d experiment_ids. Received %d "
		                "experiment_ids.",
		                MLF_SEARCH_DATASETS_MAX_EXPERIMENTS, n);
	int64_t *exp_ids = mlf_arena_alloc(&req->arena, sizeof *exp_ids * (size_t)n);
	for (int i = 0; i < n; i++)
		if ((s = mlf_experiment_id_parse(ids[i], &exp_ids[i], &req->err)) != MLF_OK)
			return s;
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_dataset_summary *sums;
	int ns;
	if ((s = mlf_experiment_search_datasets(c, &req->arena, exp_ids, n, &sums, &ns, &req->err)) != MLF_OK)
		return s;
	struct mlf_json *j = &req->out;
	mlf_json_obj_begin(j);
	if (ns) {
		mlf_json_key(j, "dataset_summaries");
		mlf_json_arr_begin(j);
		for (int i = 0; i < ns; i++) {
			char id[24];
			snprintf(id, sizeof id, "%lld", (long long)sums[i].experiment_id);
			mlf_json_obj_begin(j);
			mlf_json_kv_str(j, "experiment_id", id);
			mlf_json_kv_str(j, "name", sums[i].name);
			mlf_json_kv_str(j, "digest", sums[i].digest);
			mlf_json_kv_str(j, "context", sums[i].context);
			mlf_json_obj_end(j);
		}
		mlf_json_arr_end(j);
	}
	mlf_json_obj_end(j);
	return MLF_OK;
}
