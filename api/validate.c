/*
 * validate.c: MLflow's checks on entity keys and value lengths, shared by
 * every resource that logs keys (runs, experiments, models).
 */
#include <string.h>

#include "api.h"
#include "limits.h"

size_t mlf_utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

const char *mlf_utf8_truncate(struct mlf_arena *a, const char *s, size_t limit)
{
	if (!s)
		return NULL;
	size_t n = 0;
	const char *p = s;
	for (; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80) {
			if (n == limit)
				return mlf_arena_strndup(a, s, (size_t)(p - s));
			n++;
		}
	}
	return s;
}

/* MLflow's regex ^[/\w.\- :]*$ with Python's Unicode \w: any non-ASCII
 * byte is taken as part of a word character. */
static int key_chars_ok(const char *k)
{
	for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
		unsigned char c = *p;
		if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (c == '_' || c == '/' || c == '.' || c == '-' || c == ' ' || c == ':')
			continue;
		return 0;
	}
	return 1;
}

/* posixpath.normpath(k) != k, or "." or starting with ".." or "/". */
static int path_not_unique(const char *k, char *norm, size_t n)
{
	/* normpath: collapse //, drop "." segments, resolve "..", strip trailing / */
	char segs[64][256];
	int ns = 0, abs = k[0] == '/';
	const char *p = k;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
		} else if (len == 2 && p[0] == '.' && p[1] == '.' && ns > 0 && strcmp(segs[ns - 1], "..")) {
			ns--;
		} else if (len == 2 && p[0] == '.' && p[1] == '.' && abs) {
		} else if (ns < 64 && len < 256) {
			memcpy(segs[ns], p, len);
			segs[ns][len] = '\0';
			ns++;
		} else {
			return 1;
		}
		p += len;
	}
	size_t o = 0;
	norm[0] = '\0';
	if (abs && o + 1 < n)
		norm[o++] = '/';
	for (int i = 0; i < ns; i++) {
		size_t l = strlen(segs[i]);
		if (o + l + 2 >= n)
			return 1;
		if (i)
			norm[o++] = '/';
		memcpy(norm + o, segs[i], l);
		o += l;
	}
	if (o == 0)
		norm[o++] = '.';
	norm[o] = '\0';
	return strcmp(norm, k) != 0 || !strcmp(norm, ".") || !strncmp(norm, "..", 2) || norm[0] == '/';
}

enum mlf_status mlf_validate_key(struct mlf_req *req, const char *key, const char *path)
{
	char *shown = NULL;
	if (!key)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Missing value for required parameter '%s'.",
		                path);
	if (!key_chars_ok(key)) {
		struct mlf_buf b = {0};
		mlf_json_escape(&b, key, strlen(key));
		shown = mlf_arena_strdup(&req->arena, b.data);
		mlf_buf_release(&b);
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value %s for parameter '%s' supplied: Names may only contain alphanumerics, "
		                "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).",
		                shown, path);
	}
	return mlf_validate_path_unique(req, key, path);
}

enum mlf_status mlf_validate_path_unique(struct mlf_req *req, const char *key, const char *path)
{
	char norm[1024];
	if (strlen(key) < 900 && path_not_unique(key, norm, sizeof norm)) {
		struct mlf_buf b = {0};
		mlf_json_escape(&b, key, strlen(key));
		const char *shown = mlf_arena_strdup(&req->arena, b.data);
		mlf_buf_release(&b);
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value %s for parameter '%s' supplied: Names may be treated as files in certain "
		    "cases, and must not resolve to other names when treated as such. This name would "
		    "resolve to '%s'",
		    shown, path, norm);
	}
	return MLF_OK;
}

enum mlf_status mlf_validate_length(struct mlf_req *req, const char *what, const char *value, size_t limit)
{
	if (value && mlf_utf8_len(value) > limit)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "'%s' exceeds the maximum length of %zu characters", what, limit);
	return MLF_OK;
}

enum mlf_status mlf_validate_run_id(struct mlf_req *req, const char *run_id)
{
	/* ^[a-zA-Z0-9][\w\-]{0,255}$ */
	size_t n = strlen(run_id);
	int ok = n >= 1 && n <= MLF_MAX_RUN_ID_LENGTH;
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)run_id[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		ok = alnum || (i > 0 && (c == '_' || c == '-' || c >= 0x80));
	}
	if (ok)
		return MLF_OK;
	struct mlf_buf b = {0};
	mlf_json_escape(&b, run_id, n);
	mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid value %s for parameter 'run_id' supplied.", b.data);
	mlf_buf_release(&b);
	return MLF_INVALID_PARAMETER_VALUE;
}
