/*
 * civetweb_ceiling.c: civetweb's request rate for a trivial handler on this
 * machine, the HTTP ceiling that mlflowd's small-request figures are
 * compared against (docs/benchmarks.md, "Ceilings").
 *
 * It serves
 *   GET  /health            -> "OK"
 *   POST anything else      -> body read to the end and discarded, reply "{}"
 * with the settings mlflowd uses (keep-alive on, tcp_nodelay=1) and every
 * response written with one mg_write of headers plus body with
 * Content-Length. No JSON parsing, no database: what is left is civetweb's
 * own cost per request.
 *
 * Usage: civetweb_ceiling PORT [THREADS]
 * Runs until SIGTERM or SIGINT. Prints "ready" once listening.
 * This is a benchmark helper, not part of the server.
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int reply(struct mg_connection *conn, const char *type, const char *body)
{
	char buf[256];
	size_t blen = strlen(body);
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", type,
	                 blen, body);
	mg_write(conn, buf, (size_t)n);
	return 200;
}

static int handle(struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	if (strcmp(ri->request_method, "GET") == 0 && strcmp(ri->local_uri, "/health") == 0)
		return reply(conn, "text/plain", "OK");
	char buf[16384];
	while (mg_read(conn, buf, sizeof buf) > 0)
		;
	return reply(conn, "application/json", "{}");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
		return 2;
	}
	char port[64];
	snprintf(port, sizeof port, "127.0.0.1:%s", argv[1]);
	const char *threads = argc > 2 ? argv[2] : "128";
	const char *opts[] = {"listening_ports",
	                      port,
	                      "num_threads",
	                      threads,
	                      "enable_keep_alive",
	                      "yes",
	                      "keep_alive_timeout_ms",
	                      "5000",
	                      "tcp_nodelay",
	                      "1",
	                      "request_timeout_ms",
	                      "30000",
	                      NULL};
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	mg_init_library(0);
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	struct mg_context *ctx = mg_start(&cb, NULL, opts);
	if (!ctx) {
		fprintf(stderr, "civetweb_ceiling: cannot listen on %s\n", port);
		return 1;
	}
	mg_set_request_handler(ctx, "/", handle, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
