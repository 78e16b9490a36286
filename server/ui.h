/*
 * ui.h: the web UI's static files, embedded into the binary at build time
 * (the generated ui_files.c holds their bytes, precompressed copies and
 * ETags; see scripts/embed.cmake), and the HTTP answer for a request of one.
 */
#ifndef MLF_UI_H
#define MLF_UI_H

#include <stddef.h>

struct mlf_ui_file {
	const char *path; /* "/index.html", "/static-files/vendor/uPlot.esm.js" */
	const char *content_type;
	const char *etag;          /* "\"<20 hex digits of the content's SHA-256>\"" */
	const unsigned char *data; /* static */
	size_t size;
	const unsigned char *gz; /* static gzip -9n copy, or NULL when it is not smaller */
	size_t gz_size;
};

extern const struct mlf_ui_file mlf_ui_files[];
extern const size_t mlf_ui_nfiles;

/* Longest header block mlf_ui_answer writes (CSP, ETag, caching, encoding). */
#define MLF_UI_HEADERS_MAX 1024

/* The file served at a URL path ("/" is "/index.html"), or NULL. */
const struct mlf_ui_file *mlf_ui_find(const char *path);

/* What to send for a GET or HEAD of a UI path. */
struct mlf_ui_answer {
	int status;                       /* 200, 304 or 404 */
	const char *content_type;         /* static; NULL on 304 */
	const unsigned char *body;        /* static; the bytes to send with a 200 */
	size_t len;                       /* Content-Length of the 200 (also for HEAD) */
	char headers[MLF_UI_HEADERS_MAX]; /* CRLF-terminated lines */
};

/*
 * Decide the answer for path given the request's Accept-Encoding and
 * If-None-Match headers (either may be NULL) and the server's
 * X-Frame-Options setting ("SAMEORIGIN", "DENY" or NULL for none), which
 * the Content-Security-Policy's frame-ancestors follows. A 404 (no such
 * file) leaves the body to the caller.
 */
void mlf_ui_answer(const char *path, const char *accept_encoding, const char *if_none_match,
                   const char *x_frame_options, struct mlf_ui_answer *out);

/* Whether an Accept-Encoding header accepts gzip (a q=0 refuses it). */
int mlf_ui_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match header names etag (or is "*"); weak tags match. */
int mlf_ui_etag_matches(const char *if_none_match, const char *etag);

#endif
