/*
 * test_ui.c: unit tests of the web UI's static file answers (server/ui.c):
 * Accept-Encoding and If-None-Match parsing, and the status, headers and
 * body chosen for the embedded files.
 */
#include <stdlib.h>

#include "ui.h"
#include "unit.h"

TEST(accept_encoding)
{
	CHECK(!mlf_ui_accepts_gzip(NULL));
	CHECK(!mlf_ui_accepts_gzip(""));
	CHECK(!mlf_ui_accepts_gzip("identity"));
	CHECK(!mlf_ui_accepts_gzip("br, deflate"));
	CHECK(mlf_ui_accepts_gzip("gzip"));
	CHECK(mlf_ui_accepts_gzip("GZip"));
	CHECK(mlf_ui_accepts_gzip("x-gzip"));
	CHECK(mlf_ui_accepts_gzip("gzip, deflate, br, zstd"));
	CHECK(mlf_ui_accepts_gzip("  deflate ,  gzip  "));
	CHECK(mlf_ui_accepts_gzip("gzip;q=0.5"));
	CHECK(mlf_ui_accepts_gzip("gzip; q=1.0"));
	CHECK(!mlf_ui_accepts_gzip("gzip;q=0"));
	CHECK(!mlf_ui_accepts_gzip("gzip;q=0.000"));
	CHECK(!mlf_ui_accepts_gzip("gzip;level=1;q=0"));
	CHECK(mlf_ui_accepts_gzip("gzip;qx=0"));     /* not a q parameter */
	CHECK(!mlf_ui_accepts_gzip("gzip;q=abc"));   /* unreadable weight: refused */
	CHECK(!mlf_ui_accepts_gzip("gzipx, xgzip")); /* whole names only */
	CHECK(mlf_ui_accepts_gzip("*"));
	CHECK(mlf_ui_accepts_gzip("br, *;q=0.1"));
	CHECK(!mlf_ui_accepts_gzip("*;q=0"));
	CHECK(!mlf_ui_accepts_gzip("gzip;q=0, *")); /* the named coding wins over * */
	CHECK(!mlf_ui_accepts_gzip(",,, ;"));
	/* a long header is read to its end */
	size_t n = 100000;
	char *big = malloc(n + 8);
	memset(big, ' ', n);
	memcpy(big + n - 10, ",gzip", 6);
	CHECK(mlf_ui_accepts_gzip(big));
	free(big);
}

TEST(if_none_match)
{
	CHECK(!mlf_ui_etag_matches(NULL, "\"abc\""));
	CHECK(!mlf_ui_etag_matches("", "\"abc\""));
	CHECK(mlf_ui_etag_matches("\"abc\"", "\"abc\""));
	CHECK(mlf_ui_etag_matches("W/\"abc\"", "\"abc\""));
	CHECK(mlf_ui_etag_matches("\"x\", \"abc\"", "\"abc\""));
	CHECK(mlf_ui_etag_matches("\"x\",W/\"abc\" ", "\"abc\""));
	CHECK(mlf_ui_etag_matches("*", "\"abc\""));
	CHECK(!mlf_ui_etag_matches("\"abcd\"", "\"abc\""));
	CHECK(!mlf_ui_etag_matches("abc", "\"abc\""));
	CHECK(!mlf_ui_etag_matches("\"ab\"c\"", "\"abc\""));
	CHECK(!mlf_ui_etag_matches("W/", "\"abc\""));
	CHECK(!mlf_ui_etag_matches(",,,", "\"abc\""));
}

TEST(answers)
{
	struct mlf_ui_answer a;
	mlf_ui_answer("/", NULL, NULL, "SAMEORIGIN", &a);
	CHECK(a.status == 200);
	CHECK_STR(a.content_type, "text/html; charset=utf-8");
	const struct mlf_ui_file *index = mlf_ui_find("/index.html");
	CHECK(index && a.body == index->data && a.len == index->size);
	CHECK(strstr(a.headers, "Content-Security-Policy: default-src 'self'; script-src 'self';") != NULL);
	CHECK(strstr(a.headers, "frame-ancestors 'self'\r\n") != NULL);
	CHECK(strstr(a.headers, "Cache-Control: no-cache\r\n") != NULL);
	CHECK(strstr(a.headers, "Content-Encoding") == NULL);
	CHECK(strlen(a.headers) < MLF_UI_HEADERS_MAX - 1);

	mlf_ui_answer("/index.html", "gzip", NULL, "DENY", &a);
	CHECK(a.status == 200 && index->gz && a.body == index->gz && a.len == index->gz_size);
	CHECK(strstr(a.headers, "Content-Encoding: gzip\r\n") != NULL);
	CHECK(strstr(a.headers, "frame-ancestors 'none'") != NULL);
	const char *etag = strstr(a.headers, "ETag: ");
	CHECK(etag && !strncmp(etag + 6, index->etag, strlen(index->etag) - 1) &&
	      !strncmp(etag + 6 + strlen(index->etag) - 1, "-gz\"\r\n", 6));

	mlf_ui_answer("/index.html", NULL, NULL, NULL, &a);
	CHECK(strstr(a.headers, "frame-ancestors") == NULL);

	mlf_ui_answer("/index.html", "identity", index->etag, "SAMEORIGIN", &a);
	CHECK(a.status == 304 && a.body == NULL && a.content_type == NULL);
	CHECK(strstr(a.headers, "ETag: ") != NULL);
	mlf_ui_answer("/index.html", "gzip", index->etag, "SAMEORIGIN", &a);
	CHECK(a.status == 200); /* the identity tag does not name the gzip copy */

	mlf_ui_answer("/nope.js", "gzip", "*", "SAMEORIGIN", &a);
	CHECK(a.status == 404);
	mlf_ui_answer("", NULL, NULL, NULL, &a);
	CHECK(a.status == 404);

	/* every embedded file has a quoted tag, a type, and a gzip copy only when smaller */
	for (size_t i = 0; i < mlf_ui_nfiles; i++) {
		const struct mlf_ui_file *f = &mlf_ui_files[i];
		CHECK(f->path[0] == '/' && f->content_type && f->etag[0] == '"' && strlen(f->etag) == 22);
		CHECK(!f->gz || f->gz_size < f->size);
	}
	CHECK(mlf_ui_find("/static-files/vendor/uPlot.iife.min.js") != NULL);
}

int main(void)
{
	RUN(accept_encoding);
	RUN(if_none_match);
	RUN(answers);
	DONE();
}
