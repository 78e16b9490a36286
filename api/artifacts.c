/*
 * artifacts.c: the artifact endpoints. All are raw (streaming) routes:
 *
 *   GET|PUT|DELETE /mlflow-artifacts/artifacts/<path>   proxied artifact service
 *   GET  /mlflow-artifacts/artifacts?path=               listing (basenames)
 *   POST /mlflow-artifacts/mpu/{create,complete,abort}/<path>   501 (client falls back to PUT)
 *   GET  /mlflow-artifacts/presigned/<path>              501 (client falls back to GET)
 *   GET  /mlflow/artifacts/list?run_id=&path=            run listing (run-relative paths)
 *   GET  /get-artifact?run_id=&path=                     run file download (UI)
 *   GET  /mlflow/logged-models/{id}/artifacts/directories, .../files
 *   GET  /ajax-api/{2,3}.0/mlflow/get-trace-artifact?request_id=[&path=]  trace data (UI)
 *
 * Paths from clients are taken from the raw request (the dispatcher decodes
 * the URL path once and refuses %00; query values are read here from the
 * raw query string so an encoded NUL cannot cut them short), then decoded
 * until stable as MLflow's validate_path_is_safe does, then checked by
 * mlf_artifact_path_check. Only the checked form ever reaches the
 * filesystem layer, which walks it beneath the root without following
 * links. Uploads and downloads stream through one MLF_ARTIFACT_IO_BUFFER.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../server/http.h"
#include "../storage/artifacts.h"
#include "../storage/logged_models.h"
#include "../storage/traces.h"
#include "../storage/tracking.h"
#include "api.h"
#include "limits.h"

/* ================================================================
 * request parsing
 * ================================================================ */

static enum mlf_status invalid_path(struct mlf_req *req)
{
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "Invalid path");
}

/* A client path: decoded until stable, then checked
 * (mlf_artifact_client_path). */
static enum mlf_status client_path(struct mlf_req *req, const char *in, int allow_empty, const char **out)
{
	return mlf_artifact_client_path(&req->arena, in, allow_empty, out, &req->err);
}

/* First value of a query parameter, decoded once as a form value ('+' is a
 * space). *present is 0 when absent. An encoded NUL or a malformed escape
 * makes it invalid. */
static enum mlf_status query_param(struct mlf_req *req, const char *name, const char **out, int *present)
{
	*out = NULL;
	*present = 0;
	const char *qs = mlf_http_query_string(req);
	if (!qs)
		return MLF_OK;
	size_t nl = strlen(name);
	const char *p = qs;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len >= nl && !strncmp(p, name, nl) && (len == nl || p[nl] == '=')) {
			const char *v = len == nl ? "" : p + nl + 1;
			size_t vl = len == nl ? 0 : len - nl - 1;
			char *o = mlf_arena_alloc(&req->arena, vl + 1);
			size_t j = 0;
			for (size_t i = 0; i < vl; i++) {
				if (v[i] == '+') {
					o[j++] = ' ';
				} else if (v[i] == '%') {
					if (i + 2 >= vl)
						return invalid_path(req);
					int h = mlf_hex_digit((unsigned char)v[i + 1]),
					    l = mlf_hex_digit((unsigned char)v[i + 2]);
					if (h < 0 || l < 0 || h * 16 + l == 0)
						return invalid_path(req);
					o[j++] = (char)(h * 16 + l);
					i += 2;
				} else {
					o[j++] = v[i];
				}
			}
			o[j] = '\0';
			*out = o;
			*present = 1;
			return MLF_OK;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return MLF_OK;
}

/* An optional client path in query parameter `name`: "" when absent,
 * else decoded and checked (the empty path allowed). */
static enum mlf_status optional_query_path(struct mlf_req *req, const char *name, const char **rel)
{
	const char *raw;
	int present;
	*rel = "";
	enum mlf_status s = query_param(req, name, &raw, &present);
	if (s == MLF_OK && present)
		s = client_path(req, raw, 1, rel);
	return s;
}

/* Discard a request body we do not use (bounded). */
static void drain_body(struct mlf_req *req)
{
	char buf[4096];
	long long total = 0;
	long long r;
	while ((r = mlf_http_read(req, buf, sizeof buf)) > 0 && total < MLF_MAX_JSON_BODY)
		total += r;
}

/* ================================================================
 * responses
 * ================================================================ */

static enum mlf_status send_json(struct mlf_req *req)
{
	if (req->out.buf.len == 0)
		mlf_buf_puts(&req->out.buf, "{}");
	mlf_http_begin(req, 200, "application/json", (long long)req->out.buf.len, NULL);
	mlf_http_write(req, req->out.buf.data, req->out.buf.len);
	return MLF_OK;
}

/* MLflow's answer on the artifact service when it is disabled. */
static enum mlf_status serve_disabled(struct mlf_req *req, const char *rule)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg,
	                 "Endpoint: %s%s disabled due to the mlflow server running with `--no-serve-artifacts`. To "
	                 "enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`",
	                 req->prefix, rule);
	mlf_http_begin(req, 503, "text/html; charset=utf-8", n, NULL);
	mlf_http_write(req, msg, (size_t)n);
	return MLF_TEMPORARILY_UNAVAILABLE;
}

static int token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7F && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* Content-Disposition as MLflow's _content_disposition_attachment writes it. */
static char *content_disposition(struct mlf_arena *a, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int ascii = 1, token = 1;
	for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
		if (*p >= 0x80)
			ascii = 0;
		if (!token_char(*p))
			token = 0;
	}
	struct mlf_buf b = {0};
	if (ascii) {
		if (token) {
			mlf_buf_printf(&b, "attachment; filename=%s", base);
		} else {
			mlf_buf_puts(&b, "attachment; filename=\"");
			for (const char *p = base; *p; p++) {
				if (*p == '"' || *p == '\\')
					mlf_buf_putc(&b, '\\');
				mlf_buf_putc(&b, *p);
			}
			mlf_buf_putc(&b, '"');
		}
	} else {
		/* ASCII fallback as NFKD + encode("ascii", "ignore") gives it (Latin-1
		 * letters lose their accents; other non-ASCII is dropped), then RFC 5987. */
		static const char *const latin1[64] = {"A", "A", "A", "A", "A", "A", "",  "C", "E", "E", "E", "E", "I",
		                                       "I", "I", "I", "",  "N", "O", "O", "O", "O", "O", "",  "",  "U",
		                                       "U", "U", "U", "Y", "",  "",  "a", "a", "a", "a", "a", "a", "",
		                                       "c", "e", "e", "e", "e", "i", "i", "i", "i", "",  "n", "o", "o",
		                                       "o", "o", "o", "",  "",  "u", "u", "u", "u", "y", "",  "y"};
		struct mlf_buf fb = {0};
		int ftoken = 1;
		for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
			if (*p < 0x80) {
				mlf_buf_putc(&fb, (char)*p);
				if (!token_char(*p))
					ftoken = 0;
			} else if ((*p == 0xC3 || *p == 0xC2) && (p[1] & 0xC0) == 0x80) {
				unsigned cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
				if (cp >= 0xC0)
					mlf_buf_puts(&fb, latin1[cp - 0xC0]);
			}
		}
		if (fb.len == 0)
			mlf_buf_puts(&fb, "download");
		if (ftoken) {
			mlf_buf_printf(&b, "attachment; filename=%s", fb.data);
		} else {
			mlf_buf_puts(&b, "attachment; filename=\"");
			for (const char *p = fb.data; *p; p++) {
				if (*p == '"' || *p == '\\')
					mlf_buf_putc(&b, '\\');
				mlf_buf_putc(&b, *p);
			}
			mlf_buf_putc(&b, '"');
		}
		mlf_buf_release(&fb);
		mlf_buf_puts(&b, "; filename*=UTF-8''");
		for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr("!#$&+-.^_`|~", *p))
				mlf_buf_putc(&b, (char)*p);
			else
				mlf_buf_printf(&b, "%%%02X", *p);
		}
	}
	char *s = mlf_arena_strdup(a, b.data);
	mlf_buf_release(&b);
	return s;
}

/* Stream root/rel to the client. */
static enum mlf_status send_artifact(struct mlf_req *req, const char *root, const char *rel)
{
	struct mlf_artifact_file f;
	enum mlf_status s = mlf_artifact_open(root, rel, &f, &req->err);
	if (s != MLF_OK)
		return s;
	if (f.is_dir)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Artifact path refers to a directory, not a file: '%.900s'", rel);
	/* A single byte range is honoured (resumed downloads), as stock does. */
	long long start = 0, len = (long long)f.size;
	int ranged = mlf_http_range(req, (long long)f.size, &start, &len);
	if (ranged < 0 || (ranged > 0 && lseek(f.fd, (off_t)start, SEEK_SET) != (off_t)start)) {
		char *h = mlf_arena_printf(&req->arena, "Content-Range: bytes */%lld\r\n", (long long)f.size);
		mlf_http_begin(req, 416, "text/plain; charset=utf-8", 0, h);
		close(f.fd);
		return MLF_OK;
	}
	char *extra = mlf_arena_printf(&req->arena,
	                               "Content-Disposition: %s\r\nCache-Control: no-cache\r\n"
	                               "Accept-Ranges: bytes\r\n",
	                               content_disposition(&req->arena, rel));
	if (ranged)
		extra = mlf_arena_printf(&req->arena, "%sContent-Range: bytes %lld-%lld/%lld\r\n", extra, start,
		                         start + len - 1, (long long)f.size);
	char *buf = malloc(MLF_ARTIFACT_IO_BUFFER);
	if (mlf_http_begin(req, ranged ? 206 : 200, mlf_artifact_mime_type(rel), len, extra) > 0 &&
	    strcmp(req->method, "HEAD")) {
		int64_t left = len;
		while (left > 0) {
			size_t want = left < MLF_ARTIFACT_IO_BUFFER ? (size_t)left : MLF_ARTIFACT_IO_BUFFER;
			ssize_t r = read(f.fd, buf, want);
			if (r <= 0)
				break; /* file shrank under us: the client sees a short body */
			if (mlf_http_write(req, buf, (size_t)r) <= 0)
				break; /* client went away */
			left -= r;
		}
	}
	free(buf);
	close(f.fd);
	return MLF_OK;
}

static void put_file_info(struct mlf_json *j, const char *path, const struct mlf_artifact_entry *e)
{
	mlf_json_obj_begin(j);
	mlf_json_kv_str(j, "path", path);
	mlf_json_kv_bool(j, "is_dir", e->is_dir);
	if (!e->is_dir && e->size != 0) /* MLflow's FileInfo.to_proto omits a zero size */
		mlf_json_kv_int(j, "file_size", e->size);
	mlf_json_obj_end(j);
}

/* List root/rel and answer {[root_uri,] files[{path, is_dir, file_size}]}:
 * with_root adds root_uri, and each path is the entry's name joined to
 * prefix ("" gives basenames). */
static enum mlf_status send_listing(struct mlf_req *req, const char *root, const char *rel, int with_root,
                                    const char *root_uri, const char *prefix)
{
	struct mlf_artifact_entry *e;
	int n;
	enum mlf_status s = mlf_artifact_list(&req->arena, root, rel, &e, &n, &req->err);
	if (s != MLF_OK)
		return s;
	mlf_json_obj_begin(&req->out);
	if (with_root)
		mlf_json_kv_str(&req->out, "root_uri", root_uri);
	if (n > 0) {
		mlf_json_key(&req->out, "files");
		mlf_json_arr_begin(&req->out);
		for (int i = 0; i < n; i++)
			put_file_info(&req->out, mlf_artifact_path_join(&req->arena, prefix, e[i].name), &e[i]);
		mlf_json_arr_end(&req->out);
	}
	mlf_json_obj_end(&req->out);
	return send_json(req);
}

/* ================================================================
 * locations
 * ================================================================ */

/* Where the artifacts of a stored URI (run artifact_uri, model
 * artifact_location) live, plus a checked client path below it. */
static enum mlf_status resolve(struct mlf_req *req, const char *uri, const char *rel_in, const char **root,
                               const char **rel)
{
	enum mlf_artifact_loc_kind kind;
	const char *lroot, *lrel;
	enum mlf_status s = mlf_artifact_locate(&req->arena, uri ? uri : "", &kind, &lroot, &lrel, &req->err);
	if (s != MLF_OK)
		return s;
	if (kind == MLF_LOC_PROXIED) {
		if (!req->cfg->serve_artifacts)
			return mlf_fail(
			    &req->err, MLF_INVALID_PARAMETER_VALUE,
			    "The artifact location '%.500s' is served by the artifact service, which this server "
			    "runs without (--no-serve-artifacts).",
			    uri);
		*root = req->cfg->artifacts_destination;
		*rel = mlf_artifact_path_join(&req->arena, lrel, rel_in);
		return MLF_OK;
	}
	if (kind == MLF_LOC_LOCAL) {
		*root = lroot;
		*rel = rel_in;
		return MLF_OK;
	}
	return mlf_fail(&req->err, MLF_NOT_IMPLEMENTED, "mlflowd cannot access artifacts at '%.500s'", uri);
}

/* ================================================================
 * the proxied artifact service
 * ================================================================ */

#define RULE_ARTIFACT "/mlflow-artifacts/artifacts/<path:artifact_path>"

/* The checked <path> of a proxied-artifact route, or MLflow's 503 answer
 * (rule names the route) when the artifact service is off. */
static enum mlf_status proxied_path(struct mlf_req *req, const char *rule, const char **rel)
{
	if (!req->cfg->serve_artifacts)
		return serve_disabled(req, rule);
	return client_path(req, req->nparams > 0 ? req->params[0] : "", 0, rel);
}

enum mlf_status mlf_api_mlflow_artifacts_get(struct mlf_req *req)
{
	const char *rel;
	enum mlf_status s = proxied_path(req, RULE_ARTIFACT, &rel);
	if (s != MLF_OK)
		return s;
	return send_artifact(req, req->cfg->artifacts_destination, rel);
}

enum mlf_status mlf_api_mlflow_artifacts_put(struct mlf_req *req)
{
	const char *rel;
	enum mlf_status s = proxied_path(req, RULE_ARTIFACT, &rel);
	if (s != MLF_OK)
		return s;
	struct mlf_artifact_upload u;
	s = mlf_artifact_upload_begin(req->cfg->artifacts_destination, rel, &u, &req->err);
	if (s != MLF_OK)
		return s;
	long long expect = mlf_http_content_length(req);
	long long total = 0;
	char *buf = malloc(MLF_ARTIFACT_IO_BUFFER);
	for (;;) {
		long long r = mlf_http_read(req, buf, MLF_ARTIFACT_IO_BUFFER);
		if (r < 0) {
			s = mlf_fail(&req->err, MLF_BAD_REQUEST, "Could not read the request body.");
			break;
		}
		if (r == 0)
			break;
		total += r;
		s = mlf_artifact_upload_write(&u, buf, (size_t)r, &req->err);
		if (s != MLF_OK)
			break;
	}
	free(buf);
	if (mlf_http_body_timed_out(req)) {
		mlf_artifact_upload_abort(&u);
		mlf_http_timeout(req);
		return MLF_BAD_REQUEST;
	}
	if (s == MLF_OK && expect >= 0 && total != expect)
		s = mlf_fail(&req->err, MLF_BAD_REQUEST, "The request body ended after %lld of %lld bytes.", total,
		             expect);
	if (s != MLF_OK) {
		mlf_artifact_upload_abort(&u); /* nothing lands under the final name */
		return s;
	}
	return mlf_artifact_upload_commit(&u, &req->err);
}

enum mlf_status mlf_api_mlflow_artifacts_delete(struct mlf_req *req)
{
	const char *rel;
	enum mlf_status s = proxied_path(req, RULE_ARTIFACT, &rel);
	if (s != MLF_OK)
		return s;
	drain_body(req);
	s = mlf_artifact_delete(req->cfg->artifacts_destination, rel, &req->err);
	if (s != MLF_OK)
		return s;
	return send_json(req);
}

enum mlf_status mlf_api_mlflow_artifacts_list(struct mlf_req *req)
{
	if (!req->cfg->serve_artifacts)
		return serve_disabled(req, "/mlflow-artifacts/artifacts");
	const char *rel;
	enum mlf_status s = optional_query_path(req, "path", &rel);
	if (s != MLF_OK)
		return s;
	return send_listing(req, req->cfg->artifacts_destination, rel, 0, NULL, "");
}

/* POST /mlflow-artifacts/mpu/{create,complete,abort}/<path>: the local
 * store has no multipart upload; the client falls back to a plain PUT when
 * the message starts with exactly this text. */
enum mlf_status mlf_api_mlflow_artifacts_mpu(struct mlf_req *req)
{
	const char *op = req->nparams > 0 ? req->params[0] : "";
	char rule[128];
	snprintf(rule, sizeof rule, "/mlflow-artifacts/mpu/%.20s/<path:artifact_path>", op);
	if (!req->cfg->serve_artifacts)
		return serve_disabled(req, rule);
	const char *rel;
	enum mlf_status s = client_path(req, req->nparams > 1 ? req->params[1] : "", 0, &rel);
	drain_body(req);
	if (s != MLF_OK)
		return s;
	return mlf_fail(&req->err, MLF_NOT_IMPLEMENTED,
	                "Multipart upload is not supported for the current artifact repository");
}

enum mlf_status mlf_api_mlflow_artifacts_presigned(struct mlf_req *req)
{
	const char *rel;
	enum mlf_status s = proxied_path(req, "/mlflow-artifacts/presigned/<path:artifact_path>", &rel);
	if (s != MLF_OK)
		return s;
	return mlf_fail(&req->err, MLF_NOT_IMPLEMENTED,
	                "Multipart download is not supported for the current artifact repository");
}

/* ================================================================
 * run and logged-model artifacts
 * ================================================================ */

/* The run's info (run_id, else run_uuid). */
static enum mlf_status load_run(struct mlf_req *req, struct mlf_run_info *info)
{
	const char *run_id;
	enum mlf_status s = mlf_get_run_id(req, &run_id);
	if (s != MLF_OK)
		return s;
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	return mlf_run_get_info(c, &req->arena, run_id, info, &req->err);
}

/* {root_uri, files[{path (relative to the root), is_dir, file_size}]} */
static enum mlf_status list_under(struct mlf_req *req, const char *root_uri, const char *rel_in)
{
	const char *root = NULL, *rel = NULL;
	enum mlf_status s = resolve(req, root_uri, rel_in, &root, &rel);
	if (s != MLF_OK)
		return s;
	return send_listing(req, root, rel, 1, root_uri, rel_in);
}

/* Stream the file at the checked path rel below a stored URI. */
static enum mlf_status send_under(struct mlf_req *req, const char *root_uri, const char *rel_in)
{
	const char *root = NULL, *rel = NULL;
	enum mlf_status s = resolve(req, root_uri, rel_in, &root, &rel);
	if (s != MLF_OK)
		return s;
	return send_artifact(req, root, rel);
}

enum mlf_status mlf_api_artifacts_list(struct mlf_req *req)
{
	const char *rel;
	enum mlf_status s = optional_query_path(req, "path", &rel);
	if (s != MLF_OK)
		return s;
	struct mlf_run_info info;
	s = load_run(req, &info);
	if (s != MLF_OK)
		return s;
	return list_under(req, info.artifact_uri, rel);
}

enum mlf_status mlf_api_get_artifact(struct mlf_req *req)
{
	const char *raw, *rel;
	int present;
	enum mlf_status s = query_param(req, "path", &raw, &present);
	if (s != MLF_OK)
		return s;
	if (!present)
		return mlf_fail(
		    &req->err, MLF_INVALID_PARAMETER_VALUE,
		    "Missing value for required parameter 'path'. See the API docs for more information about "
		    "request parameters.");
	s = client_path(req, raw, 0, &rel);
	if (s != MLF_OK)
		return s;
	struct mlf_run_info info;
	s = load_run(req, &info);
	if (s != MLF_OK)
		return s;
	return send_under(req, info.artifact_uri, rel);
}

static enum mlf_status load_model(struct mlf_req *req, struct mlf_logged_model *m)
{
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	return mlf_logged_model_get(c, &req->arena, req->nparams > 0 ? req->params[0] : "", 0, m, &req->err);
}

enum mlf_status mlf_api_logged_models_list_artifacts(struct mlf_req *req)
{
	const char *rel;
	enum mlf_status s = optional_query_path(req, "artifact_directory_path", &rel);
	if (s != MLF_OK)
		return s;
	struct mlf_logged_model m;
	s = load_model(req, &m);
	if (s != MLF_OK)
		return s;
	return list_under(req, m.artifact_location, rel);
}

enum mlf_status mlf_api_logged_models_get_artifact(struct mlf_req *req)
{
	const char *raw, *rel;
	int present;
	enum mlf_status s = query_param(req, "artifact_file_path", &raw, &present);
	if (s != MLF_OK)
		return s;
	if (!present || !*raw)
		return mlf_fail(&req->err, MLF_BAD_REQUEST,
		                "Request must include the \"artifact_file_path\" query parameter.");
	s = client_path(req, raw, 0, &rel);
	if (s != MLF_OK)
		return s;
	struct mlf_logged_model m;
	s = load_model(req, &m);
	if (s != MLF_OK)
		return s;
	return send_under(req, m.artifact_location, rel);
}

/* The UI's /model-versions/get-artifact: a file below a model version's
 * download location (its storage location, else its source). A runs:/
 * source is read below that run's artifact root. */
enum mlf_status mlf_api_model_versions_get_artifact(struct mlf_req *req)
{
	const char *raw, *rel, *name, *version, *uri;
	int present, has_name, has_version;
	enum mlf_status s = query_param(req, "path", &raw, &present);
	if (s != MLF_OK)
		return s;
	if (!present)
		return mlf_fail(&req->err, MLF_BAD_REQUEST, "Missing value for required parameter 'path'.");
	if ((s = client_path(req, raw, 0, &rel)) != MLF_OK ||
	    (s = query_param(req, "name", &name, &has_name)) != MLF_OK ||
	    (s = query_param(req, "version", &version, &has_version)) != MLF_OK)
		return s;
	if ((s = mlf_api_model_version_download_uri(req, has_name ? name : NULL, has_version ? version : NULL, &uri)) !=
	    MLF_OK)
		return s;
	if (!strncmp(uri, "runs:/", 6)) {
		const char *p = uri + 6;
		size_t n = strcspn(p, "/");
		struct mlf_run_info info;
		struct mlf_conn *c = mlf_db_read(req->db, &req->err);
		if (!c)
			return req->err.status;
		if ((s = mlf_run_get_info(c, &req->arena, mlf_arena_strndup(&req->arena, p, n), &info, &req->err)) !=
		    MLF_OK)
			return s;
		const char *sub = p + n;
		while (*sub == '/')
			sub++;
		uri = *sub ? mlf_arena_printf(&req->arena, "%s/%s", info.artifact_uri, sub) : info.artifact_uri;
	}
	return send_under(req, uri, rel);
}

/* ================================================================
 * trace data for the UI (get-trace-artifact)
 * ================================================================ */

/* MLflow's file name of a trace's span data, and the folder of its
 * attachments, below the trace's artifact location. */
#define TRACE_DATA_FILE "traces.json"
#define TRACE_ATTACHMENTS_DIR "attachments"

/* A canonical UUID text (lower-case 8-4-4-4-12 hex), the only form MLflow
 * takes as an attachment path. */
static int is_canonical_uuid(const char *s)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	for (size_t i = 0; i < sizeof form - 1; i++) {
		if (form[i] == '-' ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[sizeof form - 1] == '\0';
}

/* Stream the file rel below the trace's mlflow.artifactLocation; a
 * missing file is named as MLflow names it (relative to that location). */
static enum mlf_status send_trace_file(struct mlf_req *req, const struct mlf_trace_info *t, const char *rel)
{
	const char *loc = NULL;
	for (int i = 0; i < t->ntags; i++)
		if (!strcmp(t->tags[i].key, MLF_TRACE_TAG_ARTIFACT_LOCATION))
			loc = t->tags[i].value;
	if (!loc)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
		                "Unable to determine trace artifact location for trace %.200s.", t->trace_id);
	enum mlf_status s = send_under(req, loc, rel);
	if (s == MLF_RESOURCE_DOES_NOT_EXIST)
		mlf_fail(&req->err, s, "No such artifact: '%.900s'", rel);
	return s;
}

/* GET get-trace-artifact?request_id=<trace id>[&path=<attachment uuid>]:
 * the trace's span data as the UI reads it ({"spans": [...]}, each span
 * the stored spans.content) when its spans are in the tracking store,
 * else its traces.json artifact; with path, one of its attachments. */
enum mlf_status mlf_api_get_trace_artifact(struct mlf_req *req)
{
	const char *id, *raw;
	int has_id, has_path;
	enum mlf_status s = query_param(req, "request_id", &id, &has_id);
	if (s == MLF_OK)
		s = query_param(req, "path", &raw, &has_path);
	if (s != MLF_OK)
		return s;
	if (!has_id || !*id)
		return mlf_fail(&req->err, MLF_BAD_REQUEST, "Request must include the \"request_id\" query parameter.");
	const char *rel = NULL;
	if (has_path && *raw) {
		if ((s = client_path(req, raw, 0, &rel)) != MLF_OK)
			return s;
		if (!is_canonical_uuid(rel))
			return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE,
			                "Invalid attachment path: '%.900s'. Attachment path must be a valid UUID.",
			                rel);
	}
	struct mlf_conn *c = mlf_db_read(req->db, &req->err);
	if (!c)
		return req->err.status;
	struct mlf_trace_info t;
	if ((s = mlf_trace_get(c, &req->arena, id, &t, &req->err)) != MLF_OK) {
		if (s == MLF_RESOURCE_DOES_NOT_EXIST && rel) /* MLflow reads the trace info here */
			mlf_fail(&req->err, s, "Trace with ID '%.200s' not found.", id);
		return s;
	}
	if (rel)
		return send_trace_file(req, &t, mlf_artifact_path_join(&req->arena, TRACE_ATTACHMENTS_DIR, rel));
	const char *where = NULL;
	for (int i = 0; i < t.ntags; i++)
		if (!strcmp(t.tags[i].key, MLF_TRACE_TAG_SPANS_LOCATION))
			where = t.tags[i].value;
	if (!where || strcmp(where, MLF_TRACE_SPANS_IN_STORE))
		return send_trace_file(req, &t, TRACE_DATA_FILE);
	const char **spans;
	int n;
	if ((s = mlf_trace_spans(c, &req->arena, id, &spans, &n, &req->err)) != MLF_OK)
		return s;
	struct mlf_buf b = {0};
	mlf_buf_puts(&b, "{\"spans\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			mlf_buf_putc(&b, ',');
		mlf_buf_puts(&b, spans[i]);
	}
	mlf_buf_puts(&b, "]}");
	char *extra = mlf_arena_printf(&req->arena, "Content-Disposition: %s\r\n",
	                               content_disposition(&req->arena, TRACE_DATA_FILE));
	mlf_http_begin(req, 200, mlf_artifact_mime_type(TRACE_DATA_FILE), (long long)b.len, extra);
	mlf_http_write(req, b.data, b.len);
	mlf_buf_release(&b);
	return MLF_OK;
}
