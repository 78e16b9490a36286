/*
 * http.h: the civetweb front end: starting and stopping the listener,
 * dispatching requests through the route table, the security checks, and
 * the helpers raw (streaming) handlers use to read bodies and write
 * responses.
 */
#ifndef MLF_HTTP_H
#define MLF_HTTP_H

#include <stddef.h>

#include "../api/api.h"
#include "config.h"

/* Route flags. */
#define MLF_ROUTE_RAW 1       /* handler reads the body and writes the answer itself */
#define MLF_ROUTE_AJAX_ONLY 2 /* only under /ajax-api */
#define MLF_ROUTE_V3 4        /* under the 3.0 prefixes instead of 2.0 */
#define MLF_ROUTE_ROOT 8      /* a path outside the API prefixes (e.g. /get-artifact) */
#define MLF_ROUTE_BOTH 16     /* under both 2.0 and 3.0 prefixes */

struct mlf_route {
	const char *method;
	const char *pattern; /* "/mlflow/runs/get"; "{x}" matches one segment, "{x...}" the rest */
	mlf_handler_fn handler;
	unsigned flags;
};

extern const struct mlf_route mlf_routes[];
extern const size_t mlf_nroutes;

struct mlf_server;

/* Start listening; NULL with a one-line reason in err on failure. cfg and
 * db are borrowed and must outlive the server. */
struct mlf_server *mlf_server_start(const struct mlf_config *cfg, struct mlf_db *db, struct mlf_error *err);
/* Stop accepting, finish in-flight requests, free the server. */
void mlf_server_stop(struct mlf_server *s);

/* ---- helpers for raw handlers (req->conn is the connection) ---- */

/* Read up to n body bytes; returns bytes read, 0 at end, <0 on error. The
 * body must come within the request deadline plus one second per
 * MLF_MIN_UPLOAD_BYTES_PER_S bytes; past that the read ends early and
 * mlf_http_body_timed_out returns 1 (answer with mlf_http_timeout). */
long long mlf_http_read(struct mlf_req *req, void *buf, size_t n);
int mlf_http_body_timed_out(struct mlf_req *req);
/* Answer 408 with MLflow's error body and close the connection. */
void mlf_http_timeout(struct mlf_req *req);
/* Declared body length or -1 when chunked/unknown. */
long long mlf_http_content_length(struct mlf_req *req);
/* The single byte range a download's Range header asks of a body of size
 * bytes: 1 with *start and *len set, 0 to send the whole body (no range,
 * several ranges, a syntax error, an If-Range), -1 when unsatisfiable (416). */
int mlf_http_range(struct mlf_req *req, long long size, long long *start, long long *len);
/* Value of a request header or NULL. */
const char *mlf_http_header(struct mlf_req *req, const char *name);
/* Raw (undecoded) request path of the request, without the query. */
const char *mlf_http_raw_uri(struct mlf_req *req);
/* Raw (undecoded) query string, or NULL. */
const char *mlf_http_query_string(struct mlf_req *req);
/* Write the status line and headers (security headers added), with
 * Content-Length when len >= 0. extra_headers is "" or CRLF-terminated
 * lines. Then the caller writes the body with mlf_http_write. */
int mlf_http_begin(struct mlf_req *req, int status, const char *content_type, long long len, const char *extra_headers);
int mlf_http_write(struct mlf_req *req, const void *buf, size_t n);
/* Write an MLflow JSON error answer. */
void mlf_http_error(struct mlf_req *req, const struct mlf_error *err);

#endif
