/*
 * ui.c: lookup of the embedded web UI files and the HTTP answer for them
 * (Content-Security-Policy, ETag revalidation, caching, gzip). See ui.h.
 */
#include "ui.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The UI's policy: its own scripts only (no inline script, no eval), no
 * plugins, requests to this server only. Styles may be inline because HTML
 * artifacts (reports, plots) carry their own, and the sandboxed frames that
 * preview them (srcdoc) inherit this policy. */
#define MLF_UI_CSP                                                                                              \
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " \
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "         \
	"frame-src 'self'"

/* Every file's URL carries no version, so browsers revalidate each use
 * (a 304 from the ETag when unchanged). */
#define MLF_UI_CACHE_CONTROL "no-cache"

const struct mlf_ui_file *mlf_ui_find(const char *path)
{
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (size_t i = 0; i < mlf_ui_nfiles; i++)
		if (!strcmp(mlf_ui_files[i].path, path))
			return &mlf_ui_files[i];
	return NULL;
}

/* Next comma-separated element of a header list: [*start, *end) trimmed. */
static const char *next_element(const char *p, const char **start, const char **end)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (!*p)
		return NULL;
	const char *e = p;
	while (*e && *e != ',')
		e++;
	const char *t = e;
	while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
		t--;
	*start = p;
	*end = t;
	return e;
}

/* The q value of an Accept-Encoding element (1 when absent). */
static double q_of(const char *s, const char *e)
{
	for (const char *p = s; p < e; p++) {
		if (*p != ';')
			continue;
		p++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p + 2 <= e && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char num[16];
			size_t n = (size_t)(e - (p + 2));
			if (n >= sizeof num)
				n = sizeof num - 1;
			memcpy(num, p + 2, n);
			num[n] = '\0';
			return strtod(num, NULL);
		}
	}
	return 1.0;
}

int mlf_ui_accepts_gzip(const char *ae)
{
	if (!ae)
		return 0;
	int gzip = -1, star = -1;
	const char *s, *e, *p = ae;
	while ((p = next_element(p, &s, &e))) {
		const char *name_end = s;
		while (name_end < e && *name_end != ';' && *name_end != ' ' && *name_end != '\t')
			name_end++;
		size_t n = (size_t)(name_end - s);
		int ok = q_of(s, e) > 0;
		if ((n == 4 && !strncasecmp(s, "gzip", 4)) || (n == 6 && !strncasecmp(s, "x-gzip", 6)))
			gzip = ok;
		else if (n == 1 && *s == '*')
			star = ok;
	}
	return gzip >= 0 ? gzip : star > 0;
}

int mlf_ui_etag_matches(const char *inm, const char *etag)
{
	if (!inm)
		return 0;
	size_t elen = strlen(etag);
	const char *s, *e, *p = inm;
	while ((p = next_element(p, &s, &e))) {
		if (e - s == 1 && *s == '*')
			return 1;
		if (e - s > 2 && s[0] == 'W' && s[1] == '/')
			s += 2;
		if ((size_t)(e - s) == elen && !memcmp(s, etag, elen))
			return 1;
	}
	return 0;
}

void mlf_ui_answer(const char *path, const char *accept_encoding, const char *if_none_match,
                   const char *x_frame_options, struct mlf_ui_answer *out)
{
	memset(out, 0, sizeof *out);
	const struct mlf_ui_file *f = mlf_ui_find(path);
	if (!f) {
		out->status = 404;
		return;
	}
	const char *ancestors = !x_frame_options                       ? ""
	                        : !strcasecmp(x_frame_options, "DENY") ? "; frame-ancestors 'none'"
	                                                               : "; frame-ancestors 'self'";
	int gz = f->gz && mlf_ui_accepts_gzip(accept_encoding);
	/* A compressed answer is another representation: it gets its own tag. */
	char etag[64];
	if (gz)
		snprintf(etag, sizeof etag, "%.*s-gz\"", (int)strlen(f->etag) - 1, f->etag);
	else
		snprintf(etag, sizeof etag, "%s", f->etag);
	snprintf(out->headers, sizeof out->headers,
	         "Content-Security-Policy: %s%s\r\nETag: %s\r\nCache-Control: %s\r\n%s%s", MLF_UI_CSP, ancestors, etag,
	         MLF_UI_CACHE_CONTROL, f->gz ? "Vary: Accept-Encoding\r\n" : "",
	         gz ? "Content-Encoding: gzip\r\n" : "");
	if (mlf_ui_etag_matches(if_none_match, etag)) {
		out->status = 304;
		return;
	}
	out->status = 200;
	out->content_type = f->content_type;
	out->body = gz ? f->gz : f->data;
	out->len = gz ? f->gz_size : f->size;
}
