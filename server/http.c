/*
 * http.c: the civetweb front end. Every request goes through dispatch():
 * security checks (Host allowlist, Origin check on state-changing API
 * calls, JSON Content-Type on POST/PUT), a route-table lookup, a bounded
 * body read and JSON decode, the handler, and one buffered response write
 * with MLflow's headers. Handlers never see civetweb except through the
 * mlf_http_* helpers declared in http.h.
 */
#include "http.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <ctype.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../api/limits.h"
#include "gate.h"
#include "reqstack.h"
#include "static_dir.h"
#include "ui.h"

struct mlf_server {
	struct mg_context *ctx;
	const struct mlf_config *cfg;
	struct mlf_db *db;
	struct mlf_gate *gate;   /* NULL when civetweb accepts on its own */
	char extra_headers[256]; /* security headers of every response */
};

/* Set when this thread's answer said "Connection: close" (other
 * connections wait for a worker, or the request was refused so that the
 * connection cannot be trusted); begin_request then ends the connection. */
static _Thread_local int close_after_answer;
/* Set once this request was told "100 Continue". */
static _Thread_local int continue_sent;
/* A raw handler's streamed body (an upload): when its reading began (ms,
 * monotonic; 0 before) and the bytes read since. */
static _Thread_local long long stream_start_ms, stream_bytes;

/* ---- response writing ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

static struct mlf_server *server_of(struct mg_connection *conn)
{
	return mg_get_user_data(mg_get_context(conn));
}

/* Status line plus headers into b. */
static void put_head(struct mlf_buf *b, struct mlf_server *s, int status, const char *ctype, long long len,
                     const char *extra)
{
	mlf_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (ctype)
		mlf_buf_printf(b, "Content-Type: %s\r\n", ctype);
	if (len >= 0)
		mlf_buf_printf(b, "Content-Length: %lld\r\n", len);
	mlf_buf_puts(b, s->extra_headers);
	if (extra)
		mlf_buf_puts(b, extra);
	if (extra && strstr(extra, "Connection: close")) {
		close_after_answer = 1;
	} else if (s->gate && mlf_gate_waiting(s->gate) > 0) {
		/* others wait for a worker: this client reconnects and queues behind them */
		mlf_buf_puts(b, "Connection: close\r\n");
		close_after_answer = 1;
	}
	mlf_buf_puts(b, "\r\n");
}

static int is_head(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	return ri && ri->request_method && !strcmp(ri->request_method, "HEAD");
}

/* Make civetweb close the connection after this answer even when the
 * request's bytes say keep-alive (and even with more requests already in
 * its buffer): civetweb decides from the request's Connection header, so
 * that header now says close. The request info is civetweb's own (not
 * const) object; only the pointers of header entries change. */
static void force_close(struct mg_connection *conn)
{
	struct mg_request_info *ri = (struct mg_request_info *)mg_get_request_info(conn);
	if (!ri)
		return;
	int found = 0;
	for (int i = 0; i < ri->num_headers; i++) {
		if (ri->http_headers[i].name && !strcasecmp(ri->http_headers[i].name, "Connection")) {
			ri->http_headers[i].value = "close";
			found = 1;
		}
	}
	if (!found && ri->num_headers > 0) {
		/* replace the last entry; it has been read by now */
		ri->http_headers[ri->num_headers - 1].name = "Connection";
		ri->http_headers[ri->num_headers - 1].value = "close";
	}
}

/* Write headers and body as one buffer (one send, no Nagle stall). An
 * answer to HEAD carries the headers, with the length the body would have,
 * and no body. */
static void respond(struct mg_connection *conn, int status, const char *ctype, const char *body, size_t n,
                    const char *extra)
{
	struct mlf_server *s = server_of(conn);
	struct mlf_buf b = {0};
	put_head(&b, s, status, ctype, (long long)n, extra);
	if (!is_head(conn))
		mlf_buf_append(&b, body, n);
	mg_write(conn, b.data, b.len);
	mlf_buf_release(&b);
}

static void respond_error(struct mg_connection *conn, const struct mlf_error *err, const char *extra)
{
	struct mlf_buf b = {0};
	mlf_json_error_body(&b, err->status, err->msg);
	respond(conn, mlf_status_http(err->status), "application/json", b.data, b.len, extra);
	mlf_buf_release(&b);
}

static void respond_error_status(struct mg_connection *conn, int http, enum mlf_status st, const char *msg,
                                 const char *extra)
{
	struct mlf_buf b = {0};
	mlf_json_error_body(&b, st, msg);
	respond(conn, http, "application/json", b.data, b.len, extra);
	mlf_buf_release(&b);
}

/* ---- helpers for raw handlers ---- */

static int conn_fd(const struct mg_connection *conn)
{
	return (int)(intptr_t)mg_get_user_connection_data(conn) - 1;
}

/* A client that sent "Expect: 100-continue" waits for this before its body
 * (civetweb 1.15 sends it only for its own file handlers). Sent once, when
 * the body is about to be read, so a request refused before that is not
 * asked for its body. */
static void send_continue(struct mg_connection *conn)
{
	if (continue_sent)
		return;
	continue_sent = 1;
	const char *e = mg_get_header(conn, "Expect");
	const struct mg_request_info *ri = mg_get_request_info(conn);
	if (e && !strcasecmp(e, "100-continue") && ri->http_version && !strcmp(ri->http_version, "1.1"))
		mg_write(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

static long long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A streamed body may take the request deadline plus one second per
 * MLF_MIN_UPLOAD_BYTES_PER_S bytes read: a large upload over a slow link
 * goes through, a trickle is cut (the gate shuts the read side). */
long long mlf_http_read(struct mlf_req *req, void *buf, size_t n)
{
	struct mlf_server *s = server_of(req->conn);
	int fd = conn_fd(req->conn);
	send_continue(req->conn);
	if (!stream_start_ms) {
		stream_start_ms = mono_ms();
		stream_bytes = 0;
		mlf_gate_body_begin(s->gate, fd, s->cfg->request_timeout_ms);
	}
	long long r = mg_read(req->conn, buf, n);
	if (r > 0) {
		stream_bytes += r;
		long long allowed = s->cfg->request_timeout_ms + stream_bytes * 1000 / MLF_MIN_UPLOAD_BYTES_PER_S;
		mlf_gate_body_begin(s->gate, fd, (int)(stream_start_ms + allowed - mono_ms()));
	}
	return r;
}

int mlf_http_body_timed_out(struct mlf_req *req)
{
	struct mlf_server *s = server_of(req->conn);
	return mlf_gate_body_end(s->gate, conn_fd(req->conn));
}

void mlf_http_timeout(struct mlf_req *req)
{
	char msg[200];
	snprintf(msg, sizeof msg, "The request body did not arrive in time (%d ms, then %d bytes/s).",
	         server_of(req->conn)->cfg->request_timeout_ms, MLF_MIN_UPLOAD_BYTES_PER_S);
	respond_error_status(req->conn, 408, MLF_BAD_REQUEST, msg, "Connection: close\r\n");
	req->raw_done = 1;
}

int mlf_http_range(struct mlf_req *req, long long size, long long *start, long long *len)
{
	const char *h = mg_get_header(req->conn, "Range");
	if (!h || mg_get_header(req->conn, "If-Range"))
		return 0; /* no validators here: an If-Range can never match, so the whole body */
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "bytes=", 6))
		return 0;
	h += 6;
	if (strchr(h, ','))
		return 0; /* several ranges: the whole body (allowed by RFC 9110) */
	char *end;
	long long a = -1, b = -1;
	while (*h == ' ')
		h++;
	if (*h == '-') {
		if (!isdigit((unsigned char)h[1]))
			return 0;
		long long n = strtoll(h + 1, &end, 10);
		while (*end == ' ')
			end++;
		if (*end)
			return 0;
		if (n <= 0 || size == 0)
			return -1;
		a = n >= size ? 0 : size - n;
		b = size - 1;
	} else {
		if (!isdigit((unsigned char)*h))
			return 0;
		a = strtoll(h, &end, 10);
		if (*end != '-')
			return 0;
		h = end + 1;
		if (isdigit((unsigned char)*h)) {
			b = strtoll(h, &end, 10);
			h = end;
		}
		while (*h == ' ')
			h++;
		if (*h || (b >= 0 && b < a))
			return 0;
		if (a >= size)
			return -1;
		if (b < 0 || b >= size)
			b = size - 1;
	}
	*start = a;
	*len = b - a + 1;
	return 1;
}

long long mlf_http_content_length(struct mlf_req *req)
{
	return mg_get_request_info(req->conn)->content_length;
}

const char *mlf_http_header(struct mlf_req *req, const char *name)
{
	return mg_get_header(req->conn, name);
}

const char *mlf_http_raw_uri(struct mlf_req *req)
{
	/* decode_url is off: local_uri_raw is the path exactly as sent. */
	const struct mg_request_info *ri = mg_get_request_info(req->conn);
	return ri->local_uri_raw ? ri->local_uri_raw : ri->request_uri;
}

const char *mlf_http_query_string(struct mlf_req *req)
{
	return mg_get_request_info(req->conn)->query_string;
}

int mlf_http_begin(struct mlf_req *req, int status, const char *ctype, long long len, const char *extra)
{
	struct mlf_buf b = {0};
	put_head(&b, server_of(req->conn), status, ctype, len, extra);
	int r = mg_write(req->conn, b.data, b.len);
	mlf_buf_release(&b);
	req->raw_done = 1;
	return r;
}

int mlf_http_write(struct mlf_req *req, const void *buf, size_t n)
{
	if (is_head(req->conn))
		return (int)n; /* the body of a HEAD answer is left out */
	return mg_write(req->conn, buf, n);
}

void mlf_http_error(struct mlf_req *req, const struct mlf_error *err)
{
	respond_error(req->conn, err, NULL);
	req->raw_done = 1;
}

/* ---- security checks ---- */

static int match_pattern(const char *pat, const char *value)
{
	if (strchr(pat, '*'))
		return fnmatch(pat, value, FNM_CASEFOLD) == 0;
	return strcasecmp(pat, value) == 0;
}

static int host_allowed(const struct mlf_config *cfg, const char *host)
{
	if (!host || !*host)
		return 0;
	for (int i = 0; i < cfg->n_allowed_hosts; i++) {
		if (!strcmp(cfg->allowed_hosts[i], "*") || match_pattern(cfg->allowed_hosts[i], host))
			return 1;
	}
	return 0;
}

/* Hostname part of an origin "scheme://host[:port]" into out. */
static void origin_hostname(const char *origin, char *out, size_t n)
{
	const char *p = strstr(origin, "://");
	p = p ? p + 3 : origin;
	size_t i = 0;
	if (*p == '[') {
		while (*p && *p != ']' && i + 1 < n)
			out[i++] = *p++;
		if (*p == ']' && i + 1 < n)
			out[i++] = *p++;
	} else {
		while (*p && *p != ':' && *p != '/' && i + 1 < n)
			out[i++] = *p++;
	}
	out[i] = '\0';
}

static int origin_allowed(const struct mlf_config *cfg, const char *origin)
{
	char host[256];
	origin_hostname(origin, host, sizeof host);
	if (!strcasecmp(host, "localhost") || !strcmp(host, "127.0.0.1") || !strcmp(host, "[::1]"))
		return 1;
	for (int i = 0; i < cfg->n_cors_origins; i++) {
		if (!strcmp(cfg->cors_origins[i], "*") || match_pattern(cfg->cors_origins[i], origin))
			return 1;
	}
	return 0;
}

static int is_state_changing(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") || !strcmp(m, "PATCH");
}

/* ---- routing ---- */

enum prefix_kind { PFX_NONE, PFX_API2, PFX_AJAX2, PFX_API3, PFX_AJAX3 };

static const struct {
	const char *text;
	enum prefix_kind kind;
} prefixes[] = {
    {"/api/2.0", PFX_API2},
    {"/ajax-api/2.0", PFX_AJAX2},
    {"/api/3.0", PFX_API3},
    {"/ajax-api/3.0", PFX_AJAX3},
};

static int route_in_prefix(const struct mlf_route *r, enum prefix_kind k)
{
	if (r->flags & MLF_ROUTE_ROOT)
		return k == PFX_NONE;
	if (k == PFX_NONE)
		return 0;
	if ((r->flags & MLF_ROUTE_AJAX_ONLY) && k != PFX_AJAX2 && k != PFX_AJAX3)
		return 0;
	int v3 = k == PFX_API3 || k == PFX_AJAX3;
	if (r->flags & MLF_ROUTE_BOTH)
		return 1;
	return (r->flags & MLF_ROUTE_V3) ? v3 : !v3;
}

/* Match path against pattern; fills params (arena copies). */
static int match_route(const char *pat, const char *path, struct mlf_req *req)
{
	int np = 0;
	while (*pat) {
		if (*pat == '{') {
			const char *close = strchr(pat, '}');
			if (!close)
				return 0;
			int rest = close - pat >= 4 && !strncmp(close - 3, "...", 3);
			const char *end = rest ? path + strlen(path) : strchr(path, '/');
			if (!end)
				end = path + strlen(path);
			if (end == path && !rest)
				return 0;
			if (np < MLF_MAX_PATH_PARAMS && req)
				req->params[np] = mlf_arena_strndup(&req->arena, path, (size_t)(end - path));
			np++;
			path = end;
			pat = close + 1;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	if (*path)
		return 0;
	if (req)
		req->nparams = np;
	return 1;
}

/* ---- request decoding ---- */

static void add_query_value(cJSON *obj, const char *key, const char *val)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!old) {
		cJSON_AddItemToObject(obj, key, cJSON_CreateString(val));
	} else if (cJSON_IsArray(old)) {
		cJSON_AddItemToArray(old, cJSON_CreateString(val));
	} else {
		cJSON *arr = cJSON_CreateArray();
		cJSON_AddItemToArray(arr, cJSON_Duplicate(old, 1));
		cJSON_AddItemToArray(arr, cJSON_CreateString(val));
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, arr);
	}
}

/* Parse a query string into an object; repeated keys become arrays.
 * NULL with err filled when a decoded key or value is not UTF-8 text or
 * holds a NUL (mlf_text_check). */
static cJSON *parse_query(struct mlf_arena *a, const char *qs, struct mlf_error *err)
{
	cJSON *obj = cJSON_CreateObject();
	if (!qs)
		return obj;
	size_t n = strlen(qs);
	char *key = mlf_arena_alloc(a, n + 1), *val = mlf_arena_alloc(a, n + 1);
	const char *p = qs;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		if (klen > 0) {
			char *kraw = mlf_arena_strndup(a, p, klen);
			char *vraw = eq ? mlf_arena_strndup(a, eq + 1, len - klen - 1) : mlf_arena_strdup(a, "");
			int kl = mg_url_decode(kraw, (int)klen, key, (int)n + 1, 1);
			int vl = kl >= 0 ? mg_url_decode(vraw, (int)strlen(vraw), val, (int)n + 1, 1) : -1;
			if (vl >= 0 && (mlf_text_check(key, (size_t)kl, "the query string", err) != MLF_OK ||
			                mlf_text_check(val, (size_t)vl, "the query string", err) != MLF_OK)) {
				cJSON_Delete(obj);
				return NULL;
			}
			if (vl >= 0)
				add_query_value(obj, key, val);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return obj;
}

enum body_result { BODY_OK, BODY_TOO_LARGE, BODY_ERROR, BODY_TIMEOUT };

static long long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The whole body within timeout_ms of the header. civetweb's own read
 * waits for as many bytes as asked, however slowly they come; the gate
 * ends the read at the deadline by shutting the socket's read side. */
static enum body_result read_body(struct mg_connection *conn, struct mlf_buf *b, int timeout_ms)
{
	long long cl = mg_get_request_info(conn)->content_length;
	if (cl > MLF_MAX_JSON_BODY)
		return BODY_TOO_LARGE;
	struct mlf_server *s = server_of(conn);
	int fd = conn_fd(conn);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mlf_gate_body_begin(s->gate, fd, timeout_ms);
	send_continue(conn);
	enum body_result res = BODY_OK;
	char chunk[16384];
	for (;;) {
		int r = mg_read(conn, chunk, sizeof chunk);
		if (r < 0) {
			res = BODY_ERROR;
			break;
		}
		if (r == 0)
			break;
		if (b->len + (size_t)r > MLF_MAX_JSON_BODY) {
			res = BODY_TOO_LARGE;
			break;
		}
		mlf_buf_append(b, chunk, (size_t)r);
	}
	int cut = mlf_gate_body_end(s->gate, fd);
	if (res != BODY_TOO_LARGE && cut)
		res = BODY_TIMEOUT;
	else if (res != BODY_TOO_LARGE && cl >= 0 && (long long)b->len < cl)
		res = elapsed_ms(&t0) >= timeout_ms ? BODY_TIMEOUT : BODY_ERROR;
	return res;
}

static int content_type_json(const char *ct)
{
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; ");
	return n == 16 && !strncasecmp(ct, "application/json", 16);
}

/* ---- the dispatcher ---- */

/* Chunk of a --static-dir file sent per write. */
#define STATIC_CHUNK (64 * 1024)

/* A file of the --static-dir UI, streamed. */
static int serve_static_dir(struct mg_connection *conn, const char *dir, const char *path, int head)
{
	struct mlf_arena a = {0};
	struct mlf_artifact_file f;
	const char *ctype, *cache;
	if (mlf_static_open(&a, dir, path, &f, &ctype, &cache) != MLF_OK) {
		mlf_arena_release(&a);
		respond_error_status(conn, 404, MLF_ENDPOINT_NOT_FOUND, "Not found", NULL);
		return 404;
	}
	mlf_arena_release(&a);
	char extra[128];
	snprintf(extra, sizeof extra, "Cache-Control: %s\r\n", cache);
	struct mlf_buf b = {0};
	put_head(&b, server_of(conn), 200, ctype, (long long)f.size, extra);
	int ok = mg_write(conn, b.data, b.len) > 0;
	mlf_buf_release(&b);
	char *chunk = head ? NULL : malloc(STATIC_CHUNK);
	for (int64_t left = f.size; ok && chunk && left > 0;) {
		ssize_t r = read(f.fd, chunk, left < STATIC_CHUNK ? (size_t)left : STATIC_CHUNK);
		if (r <= 0)
			break; /* the file shrank: the client sees a short body */
		ok = mg_write(conn, chunk, (size_t)r) > 0;
		left -= r;
	}
	free(chunk);
	close(f.fd);
	return 200;
}

/* A web UI file (server/ui.c decides the answer); returns the status. */
static int serve_ui(struct mg_connection *conn, const char *path, const char *method)
{
	const struct mlf_config *cfg = server_of(conn)->cfg;
	if (cfg->static_dir)
		return serve_static_dir(conn, cfg->static_dir, path, !strcmp(method, "HEAD"));
	struct mlf_ui_answer a;
	mlf_ui_answer(path, mg_get_header(conn, "Accept-Encoding"), mg_get_header(conn, "If-None-Match"),
	              server_of(conn)->cfg->x_frame_options, &a);
	if (a.status == 404) {
		respond_error_status(conn, 404, MLF_ENDPOINT_NOT_FOUND, "Not found", NULL);
	} else if (a.status == 304 || !strcmp(method, "HEAD")) {
		struct mlf_buf b = {0};
		put_head(&b, server_of(conn), a.status, a.content_type, a.status == 304 ? -1 : (long long)a.len,
		         a.headers);
		mg_write(conn, b.data, b.len);
		mlf_buf_release(&b);
	} else {
		respond(conn, 200, a.content_type, (const char *)a.body, a.len, a.headers);
	}
	return a.status;
}

/* Percent-decode a request path once into out (same size as in). Refuses
 * (returns 0) a malformed escape and an encoded NUL, which would cut the
 * path short in C. Dot segments are left alone: routes see the path as
 * sent, so a ".." reaches the artifact handlers, which refuse it. */
static int decode_path(const char *in, char *out)
{
	size_t j = 0;
	for (size_t i = 0; in[i]; i++) {
		if (in[i] == '%') {
			if (!isxdigit((unsigned char)in[i + 1]) || !isxdigit((unsigned char)in[i + 2]))
				return 0;
			char hex[3] = {in[i + 1], in[i + 2], 0};
			int v = (int)strtol(hex, NULL, 16);
			if (v == 0)
				return 0;
			out[j++] = (char)v;
			i += 2;
		} else {
			out[j++] = in[i];
		}
	}
	out[j] = '\0';
	return 1;
}

static int dispatch_path(struct mg_connection *conn, const char *path);

/* The request log line: bytes outside printable ASCII, and the backslash,
 * as \xHH (a %0a in a path cannot start a line of its own), cut at
 * MLF_LOG_PATH_MAX bytes. */
static void log_request(const char *method, const char *path)
{
	struct mlf_buf b = {0};
	const char *parts[2] = {method, path};
	for (int k = 0; k < 2; k++) {
		size_t n = 0;
		for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++, n++) {
			if (n == MLF_LOG_PATH_MAX) {
				mlf_buf_puts(&b, "...");
				break;
			}
			if (*p < 0x20 || *p >= 0x7f || *p == '\\')
				mlf_buf_printf(&b, "\\x%02x", *p);
			else
				mlf_buf_putc(&b, (char)*p);
		}
		mlf_buf_putc(&b, k ? '\n' : ' ');
	}
	fwrite(b.data, 1, b.len, stderr);
	mlf_buf_release(&b);
}

/* Copy of s with every run of slashes made one (malloc'd; NULL if none). */
static char *merge_slashes(const char *s)
{
	if (!strstr(s, "//"))
		return NULL;
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++)
		if (*s != '/' || o == out || o[-1] != '/')
			*o++ = *s;
	*o = '\0';
	return out;
}

static int token_char(int c)
{
	return c > 32 && c < 127 && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Ambiguous framing: what a proxy in front and civetweb could read as
 * different requests (request smuggling). NULL when the framing is sound. */
static const char *framing_error(const struct mg_request_info *ri)
{
	const char *cl = NULL, *te = NULL;
	for (int i = 0; i < ri->num_headers; i++) {
		const char *n = ri->http_headers[i].name, *v = ri->http_headers[i].value;
		if (!n || !*n)
			return "Bad Request: empty header name";
		for (const char *p = n; *p; p++)
			if (!token_char((unsigned char)*p))
				return "Bad Request: invalid header name";
		/* civetweb accepts "Name : value", zeroing the spaces before the
		 * colon in its buffer (a zero right after the name's end, before
		 * the value); other parsers drop such a header (RFC 9112 5.1). */
		const char *after = n + strlen(n) + 1;
		if (v && after < v && *after == '\0')
			return "Bad Request: whitespace between a header name and its colon";
		if (!strcasecmp(n, "Content-Length")) {
			size_t k = strlen(v);
			if (k == 0 || k > 18 || strspn(v, "0123456789") != k)
				return "Bad Request: invalid Content-Length";
			if (cl && strcmp(cl, v))
				return "Bad Request: conflicting Content-Length headers";
			cl = v;
		} else if (!strcasecmp(n, "Transfer-Encoding")) {
			if (te)
				return "Bad Request: more than one Transfer-Encoding header";
			te = v;
		}
	}
	if (te && cl)
		return "Bad Request: both Transfer-Encoding and Content-Length";
	return NULL;
}

static int dispatch(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *bad = framing_error(ri);
	if (bad) {
		respond_error_status(conn, 400, MLF_BAD_REQUEST, bad, "Connection: close\r\n");
		return 400;
	}
	const char *raw = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	if (!raw)
		raw = "/";
	/* Leading slashes count as one: stock serves //api/2.0/... as /api/2.0/... */
	while (raw[0] == '/' && raw[1] == '/')
		raw++;
	char *path = malloc(strlen(raw) + 1);
	if (!path)
		return 500;
	int status;
	if (!decode_path(raw, path)) {
		respond_error_status(conn, 400, MLF_INVALID_PARAMETER_VALUE, "Invalid path", NULL);
		status = 400;
	} else {
		status = dispatch_path(conn, path);
	}
	free(path);
	return status;
}

static enum prefix_kind prefix_of(const char *path, const char **sub)
{
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t n = strlen(prefixes[i].text);
		if (!strncmp(path, prefixes[i].text, n) && (path[n] == '/' || path[n] == '\0')) {
			*sub = path + n;
			return prefixes[i].kind;
		}
	}
	*sub = path;
	return PFX_NONE;
}

static int route_known(const char *path)
{
	const char *sub;
	enum prefix_kind kind = prefix_of(path, &sub);
	for (size_t i = 0; i < mlf_nroutes; i++)
		if (route_in_prefix(&mlf_routes[i], kind) && match_route(mlf_routes[i].pattern, sub, NULL))
			return 1;
	return 0;
}

/* A path that names an endpoint only once its doubled slashes are merged:
 * 308 to the merged path, as stock (werkzeug's merge_slashes) answers. */
static int redirect_merged(struct mg_connection *conn, const char *path)
{
	char *merged = merge_slashes(path);
	/* a path an endpoint takes as it is (a doubled slash inside an artifact
	 * path) goes to that endpoint, which judges it */
	int known = merged && route_known(merged) && !route_known(path);
	free(merged);
	if (!known)
		return 0;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *raw = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	char *mraw = merge_slashes(raw);
	const char *h = mg_get_header(conn, "Host"), *qs = ri->query_string;
	struct mlf_buf loc = {0};
	mlf_buf_printf(&loc, "Location: http://%s%s%s%s\r\n", h ? h : "localhost", mraw ? mraw : raw, qs ? "?" : "",
	               qs ? qs : "");
	free(mraw);
	respond(conn, 308, NULL, "", 0, loc.data);
	mlf_buf_release(&loc);
	return 1;
}

static int dispatch_path(struct mg_connection *conn, const char *path)
{
	struct mlf_server *s = server_of(conn);
	const struct mlf_config *cfg = s->cfg;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *method = ri->request_method;
	/* a HEAD answer has the headers of the GET's, Content-Length included */
	const char *msg_method = strcmp(method, "HEAD") ? method : "GET";

	if (!cfg->quiet)
		log_request(method, path);

	/* Liveness probes answer whatever the Host. */
	if (!strcmp(path, "/health")) {
		respond(conn, 200, "text/plain; charset=utf-8", "OK", 2, NULL);
		return 200;
	}
	if (!strcmp(path, "/version")) {
		respond(conn, 200, "text/plain; charset=utf-8", MLF_MLFLOW_VERSION, strlen(MLF_MLFLOW_VERSION), NULL);
		return 200;
	}
	if (!host_allowed(cfg, mg_get_header(conn, "Host"))) {
		respond_error_status(conn, 403, MLF_PERMISSION_DENIED,
		                     "Invalid Host header - possible DNS rebinding attack detected", NULL);
		return 403;
	}

	if (redirect_merged(conn, path))
		return 308;
	const char *sub;
	enum prefix_kind kind = prefix_of(path, &sub);
	int is_api = kind != PFX_NONE;

	/* CORS: answer allowed origins, refuse cross-origin writes to the API. */
	const char *origin = mg_get_header(conn, "Origin");
	char cors[512] = "";
	if (origin && origin_allowed(cfg, origin) && strlen(origin) < 300)
		snprintf(
		    cors, sizeof cors,
		    "Access-Control-Allow-Origin: %s\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n",
		    origin);
	if (is_api && origin && !origin_allowed(cfg, origin) && is_state_changing(method)) {
		respond_error_status(conn, 403, MLF_PERMISSION_DENIED, "Cross-origin request blocked", NULL);
		return 403;
	}
	if (!strcmp(method, "OPTIONS")) {
		char h[1024];
		snprintf(h, sizeof h,
		         "%sAccess-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS, PATCH\r\n"
		         "Access-Control-Allow-Headers: Content-Type, Authorization, X-MLflow-Client-Version\r\n",
		         cors);
		respond(conn, 204, NULL, "", 0, h);
		return 204;
	}

	/* Route lookup. */
	const struct mlf_route *route = NULL;
	int path_known = 0;
	for (size_t i = 0; i < mlf_nroutes; i++) {
		const struct mlf_route *r = &mlf_routes[i];
		if (!route_in_prefix(r, kind) || !match_route(r->pattern, sub, NULL))
			continue;
		path_known = 1;
		/* HEAD runs the GET handler (as Flask does); the body is left out */
		if (!strcmp(r->method, method) || (!strcmp(method, "HEAD") && !strcmp(r->method, "GET"))) {
			route = r;
			break;
		}
	}
	if (!route) {
		if (path_known) {
			char msg[300];
			snprintf(msg, sizeof msg, "The method %.20s is not allowed for the requested URL.", msg_method);
			respond_error_status(conn, 405, MLF_BAD_REQUEST, msg, cors);
			return 405;
		}
		if (!is_api && (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
			return serve_ui(conn, path, method);
		}
		char msg[300];
		snprintf(msg, sizeof msg, "No API endpoint for %.20s %.200s", msg_method, path);
		respond_error_status(conn, 404, MLF_ENDPOINT_NOT_FOUND, msg, cors);
		return 404;
	}

	struct mlf_req req = {.method = method, .path = sub, .db = s->db, .cfg = cfg, .conn = conn};
	req.prefix = kind == PFX_NONE ? "" : prefixes[kind - 1].text;
	match_route(route->pattern, sub, &req);

	int status = 200;
	if (route->flags & MLF_ROUTE_RAW) {
		req.in = parse_query(&req.arena, ri->query_string, &req.err);
		if (!req.in)
			goto refused;
		enum mlf_status st = route->handler(&req);
		if (!req.raw_done) {
			if (st != MLF_OK)
				respond_error(conn, &req.err, cors);
			else
				respond(conn, 200, "application/json", "{}", 2, cors);
		}
		status = st == MLF_OK ? 200 : mlf_status_http(st);
		goto out;
	}

	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		req.in = parse_query(&req.arena, ri->query_string, &req.err);
		if (!req.in)
			goto refused;
	} else {
		if ((!strcmp(method, "POST") || !strcmp(method, "PUT"))) {
			const char *ct = mg_get_header(conn, "Content-Type");
			if (!ct) {
				respond_error_status(conn, 400, MLF_INVALID_PARAMETER_VALUE,
				                     "Bad Request. Content-Type header is missing.", cors);
				status = 400;
				goto out;
			}
			if (!content_type_json(ct)) {
				respond_error_status(conn, 400, MLF_INVALID_PARAMETER_VALUE,
				                     "Bad Request. Content-Type must be one of ['application/json'].",
				                     cors);
				status = 400;
				goto out;
			}
		}
		struct mlf_buf body = {0};
		enum body_result br = read_body(conn, &body, cfg->request_timeout_ms);
		if (br != BODY_OK) {
			mlf_buf_release(&body);
			char msg[200];
			snprintf(msg, sizeof msg, "Request body exceeds the limit of %d bytes.", MLF_MAX_JSON_BODY);
			if (br == BODY_TIMEOUT) {
				char h[600];
				snprintf(h, sizeof h, "%sConnection: close\r\n", cors);
				snprintf(msg, sizeof msg, "The request body did not arrive within %d ms.",
				         cfg->request_timeout_ms);
				respond_error_status(conn, 408, MLF_BAD_REQUEST, msg, h);
				status = 408;
			} else if (br == BODY_TOO_LARGE) {
				char h[600];
				snprintf(h, sizeof h, "%sConnection: close\r\n", cors);
				respond_error_status(conn, 413, MLF_REQUEST_LIMIT_EXCEEDED, msg, h);
				status = 413;
			} else {
				respond_error_status(conn, 400, MLF_BAD_REQUEST, "Could not read the request body.",
				                     cors);
				status = 400;
			}
			goto out;
		}
		req.in = mlf_decode_body(body.data, body.len, &req.err);
		mlf_buf_release(&body);
		if (!req.in)
			goto refused;
	}

	enum mlf_status st = route->handler(&req);
	if (st != MLF_OK) {
		if (req.err.status != st)
			req.err.status = st;
		respond_error(conn, &req.err, cors);
		status = mlf_status_http(st);
	} else {
		if (req.out.buf.len == 0)
			mlf_buf_puts(&req.out.buf, "{}");
		respond(conn, 200, "application/json", req.out.buf.data, req.out.buf.len, cors);
	}
	goto out;
refused: /* request text that is not UTF-8 or holds a NUL */
	respond_error(conn, &req.err, cors);
	status = mlf_status_http(req.err.status);
out:
	cJSON_Delete(req.in);
	mlf_json_release(&req.out);
	mlf_arena_release(&req.arena);
	return status;
}

static int dispatch_on_stack(void *conn)
{
	return dispatch(conn);
}

/* Every request runs on the worker's mlflowd-owned stack (reqstack.h). */
static int begin_request(struct mg_connection *conn)
{
	struct mlf_server *s = server_of(conn);
	int fd = conn_fd(conn);
	if (fd < 0 && s->gate) {
		/* first request of a connection from the gate: find its descriptor
		 * (request info is valid from here on; kept as data + 1) */
		const struct mg_request_info *ri = mg_get_request_info(conn);
		fd = mlf_gate_lookup(s->gate, ri->remote_addr, ri->remote_port);
		mg_set_user_connection_data(conn, (void *)(intptr_t)(fd + 1));
	}
	mlf_gate_request_begin(s->gate, fd);
	close_after_answer = 0;
	continue_sent = 0;
	stream_start_ms = 0;
	int status = mlf_reqstack_run(dispatch_on_stack, conn);
	if (stream_start_ms)
		mlf_gate_body_end(s->gate, fd); /* a streamed body's deadline ends with its request */
	mlf_gate_request_end(s->gate, fd);
	if (close_after_answer) {
		force_close(conn);
		if (fd >= 0)
			shutdown(fd, SHUT_RD); /* and whatever civetweb still reads ends */
	}
	close_after_answer = 0;
	return status;
}

static void connection_close(const struct mg_connection *conn)
{
	struct mlf_server *s = mg_get_user_data(mg_get_context(conn));
	if (s)
		mlf_gate_closing(s->gate, conn_fd(conn));
}

/* civetweb's own refusals (malformed request line or header, header over
 * MLF_MAX_HEADER_BYTES, bad HTTP version): MLflow's JSON error body, and
 * the connection closes. */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
	enum mlf_status st = status == 413 || status == 431 ? MLF_REQUEST_LIMIT_EXCEEDED : MLF_BAD_REQUEST;
	if (status >= 500 && status != 505)
		st = MLF_INTERNAL_ERROR;
	char m[200];
	snprintf(m, sizeof m, "%s: %s", reason(status), msg && *msg ? msg : "refused");
	respond_error_status(conn, status, st, m, "Connection: close\r\n");
	force_close(conn);
	close_after_answer = 0;
	return 0;
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
	(void)thread_type;
	(void)thread_pointer;
	mlf_reqstack_thread_exit();
	struct mlf_server *s = mg_get_user_data(ctx);
	if (s)
		mlf_db_thread_exit(s->db);
}

/* civetweb's own messages: silent during startup (mlf_server_start reports
 * a failure in one line of its own), logged afterwards. */
static volatile int civetweb_started;

static int log_message(const struct mg_connection *conn, const char *msg)
{
	(void)conn;
	if (civetweb_started)
		fprintf(stderr, "mlflowd: %s\n", msg);
	return 1;
}

struct mlf_server *mlf_server_start(const struct mlf_config *cfg, struct mlf_db *db, struct mlf_error *err)
{
	struct mlf_server *s = calloc(1, sizeof *s);
	s->cfg = cfg;
	s->db = db;
	snprintf(s->extra_headers, sizeof s->extra_headers, "X-Content-Type-Options: nosniff\r\n%s%s%s",
	         cfg->x_frame_options ? "X-Frame-Options: " : "", cfg->x_frame_options ? cfg->x_frame_options : "",
	         cfg->x_frame_options ? "\r\n" : "");

	char ports[300], threads[16], request_timeout[16], keep_alive_timeout[16];
	snprintf(ports, sizeof ports, "%s:%d", cfg->host, cfg->port);
	snprintf(threads, sizeof threads, "%d", cfg->workers);
	snprintf(request_timeout, sizeof request_timeout, "%d", cfg->request_timeout_ms);
	snprintf(keep_alive_timeout, sizeof keep_alive_timeout, "%d", cfg->keep_alive_timeout_ms);
	const char *options[] = {"listening_ports",
	                         ports,
	                         "num_threads",
	                         threads,
	                         "enable_keep_alive",
	                         "yes",
	                         "keep_alive_timeout_ms",
	                         keep_alive_timeout,
	                         "tcp_nodelay",
	                         "1",
	                         "request_timeout_ms",
	                         request_timeout,
	                         "listen_backlog",
	                         MLF_LISTEN_BACKLOG,
	                         "max_request_size",
	                         MLF_MAX_HEADER_BYTES,
	                         "enable_directory_listing",
	                         "no",
	                         "cgi_pattern",
	                         "**.mlflowd-no-cgi$",
	                         "decode_url",
	                         "no", /* dispatch() decodes the path itself, once */
	                         NULL};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.begin_request = begin_request;
	cb.exit_thread = exit_thread;
	cb.connection_close = connection_close;
	cb.http_error = http_error;
	cb.log_message = log_message;
	struct mg_init_data init = {.callbacks = &cb, .user_data = s, .configuration_options = options};
	char text[256] = "";
	unsigned code = 0;
	struct mg_error_data e = {.code = &code, .text = text, .text_buffer_size = sizeof text};
	mg_init_library(0);
	s->ctx = mg_start2(&init, &e);
	civetweb_started = s->ctx != NULL;
	if (!s->ctx) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot listen on %s: %s", ports, text[0] ? text : "unknown error");
		free(s);
		mg_exit_library();
		return NULL;
	}
	/* Without the gate civetweb still serves, one worker per connection. */
	struct mg_server_port sp;
	int port = mg_get_server_ports(s->ctx, 1, &sp) == 1 ? sp.port : cfg->port;
	s->gate = mlf_gate_start(port, cfg->workers, cfg->request_timeout_ms);
	if (!s->gate)
		fprintf(stderr, "mlflowd: connection gate unavailable; idle connections hold workers\n");
	return s;
}

/* civetweb's listener polls in 2-second slices and notices mg_stop only
 * at the end of one; the gate's eventfd, or else a connection to our own
 * port, ends the slice at once. */
static void *wake_listener(void *p)
{
	struct mlf_server *s = p;
	const struct mlf_config *cfg = s->cfg;
	struct timespec pause = {0, MLF_STOP_WAKE_DELAY_MS * 1000000L};
	nanosleep(&pause, NULL);
	if (s->gate) {
		mlf_gate_wake(s->gate);
		return NULL;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
	if (inet_pton(AF_INET, cfg->host, &a.sin_addr) != 1 || a.sin_addr.s_addr == htonl(INADDR_ANY))
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0) {
		connect(fd, (struct sockaddr *)&a, sizeof a);
		close(fd);
	}
	return NULL;
}

void mlf_server_stop(struct mlf_server *s)
{
	if (!s)
		return;
	pthread_t waker;
	int woke = pthread_create(&waker, NULL, wake_listener, s) == 0;
	mg_stop(s->ctx);
	if (woke)
		pthread_join(waker, NULL);
	mlf_gate_stop(s->gate);
	mg_exit_library();
	free(s);
}
