/*
 * reqlat.c: latency of one request (or one paged sequence of requests) on a
 * single keep-alive connection, repeated; the closed-loop c=1 client of the
 * benchmark (docs/benchmarks.md).
 *
 * wrk measures single requests. Reading a whole metric history the way the
 * MLflow client does it takes several requests that follow next_page_token,
 * and the figure that matters is the time for the whole sequence; this
 * program measures that. It speaks just enough HTTP/1.1: Content-Length and
 * chunked bodies, keep-alive, reconnect after "Connection: close".
 *
 * With -R it is instead an open-loop client: CONNS keep-alive connections
 * send requests at a fixed total RATE, whatever the server's answers do,
 * and each latency counts from the time its request was due, so a stall
 * of the server counts against every request it held back (wrk, a closed
 * loop, measures only from when it could send). This is how the benchmark
 * measures latency at a given load.
 *
 * Usage:
 *   reqlat -p PORT -m GET|POST -u PATH [-b BODYFILE] [-g] [-n MAXITERS]
 *          [-d MAXSECONDS] [-w WARMUP] [-x MAXPAGES]
 *   -g  follow next_page_token: GET appends &page_token=..., POST adds a
 *       "page_token" member to the JSON body. One iteration = all pages.
 * Stops after MAXITERS iterations or MAXSECONDS, whichever comes first
 * (at least one iteration).
 *   reqlat -p PORT -m POST -u PATH -b TEMPLATE -R RATE -c CONNS -r RUNFILE
 *          [-s STEP0] [-W WARMUP_SECONDS] [-d SECONDS]
 *   open loop; the body template's %RUN% becomes the next run id of
 *   RUNFILE (one per line; they rotate), %STEP% STEP0 plus the request's
 *   number, %TS% a timestamp growing with it, %V% a value. Latencies of
 *   requests due in the first WARMUP_SECONDS are not counted.
 * Prints one JSON object on stdout. Exit status 1 if any response was not
 * 200.
 * This is a benchmark helper, not part of the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p) {
		perror("realloc");
		exit(2);
	}
	b->cap = cap;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int port;

/* One keep-alive connection and the bytes received on it but not yet
 * consumed (the start of the next response). */
struct conn {
	int fd;
	struct buf in;
	size_t in_off;
};

static void connect_server(struct conn *cn)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cn->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (cn->fd < 0 || connect(cn->fd, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("connect");
		exit(2);
	}
	int one = 1;
	setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	cn->in.len = 0;
	cn->in_off = 0;
}

static void reconnect(struct conn *cn)
{
	close(cn->fd);
	connect_server(cn);
}

static void send_all(struct conn *cn, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(cn->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("send");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Ensure at least `need` unconsumed bytes are buffered; 0 on EOF. */
static int fill(struct conn *cn, size_t need)
{
	struct buf *in = &cn->in;
	while (in->len - cn->in_off < need) {
		buf_reserve(in, 65536);
		ssize_t r = recv(cn->fd, in->p + in->len, in->cap - in->len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		in->len += (size_t)r;
		in->p[in->len] = 0;
	}
	return 1;
}

/* Index of "\r\n" at or after `from` in the unconsumed input, or -1 after
 * reading more fails. */
static long find_crlf(struct conn *cn, size_t from)
{
	struct buf *in = &cn->in;
	for (;;) {
		char *s = in->p ? memmem(in->p + cn->in_off + from, in->len - cn->in_off - from, "\r\n", 2) : NULL;
		if (s)
			return (long)(s - (in->p + cn->in_off));
		size_t have = in->len - cn->in_off;
		if (!fill(cn, have + 1))
			return -1;
	}
}

/* Read one response; body goes to `body` (replaced). Returns the status,
 * -1 on a broken connection. Sets *close_after if the server closes. */
static int read_response(struct conn *cn, struct buf *body, int *close_after)
{
	struct buf *in = &cn->in;
	body->len = 0;
	buf_reserve(body, 0);
	body->p[0] = 0;
	/* headers */
	size_t hend;
	for (;;) {
		char *s = in->p ? memmem(in->p + cn->in_off, in->len - cn->in_off, "\r\n\r\n", 4) : NULL;
		if (s) {
			hend = (size_t)(s - (in->p + cn->in_off)) + 4;
			break;
		}
		if (!fill(cn, in->len - cn->in_off + 1))
			return -1;
	}
	char *h = in->p + cn->in_off;
	int status = 0;
	if (sscanf(h, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	long long clen = -1;
	int chunked = 0;
	*close_after = 0;
	for (char *line = strstr(h, "\r\n") + 2; line < h + hend - 2;) {
		char *eol = strstr(line, "\r\n");
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = atoll(line + 15);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strcasestr(line, "chunked") &&
		         strcasestr(line, "chunked") < eol)
			chunked = 1;
		else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close") &&
		         strcasestr(line, "close") < eol)
			*close_after = 1;
		line = eol + 2;
	}
	cn->in_off += hend;
	if (chunked) {
		for (;;) {
			long e = find_crlf(cn, 0);
			if (e < 0)
				return -1;
			long long n = strtoll(in->p + cn->in_off, NULL, 16);
			cn->in_off += (size_t)e + 2;
			if (n == 0) {
				/* trailers until an empty line */
				for (;;) {
					long t = find_crlf(cn, 0);
					if (t < 0)
						return -1;
					cn->in_off += (size_t)t + 2;
					if (t == 0)
						break;
				}
				break;
			}
			if (!fill(cn, (size_t)n + 2))
				return -1;
			buf_add(body, in->p + cn->in_off, (size_t)n);
			cn->in_off += (size_t)n + 2;
		}
	} else if (clen >= 0) {
		if (!fill(cn, (size_t)clen))
			return -1;
		buf_add(body, in->p + cn->in_off, (size_t)clen);
		cn->in_off += (size_t)clen;
	} else {
		/* body until EOF */
		while (fill(cn, in->len - cn->in_off + 1))
			;
		buf_add(body, in->p + cn->in_off, in->len - cn->in_off);
		cn->in_off = in->len;
		*close_after = 1;
	}
	/* compact */
	if (cn->in_off == in->len) {
		in->len = 0;
		cn->in_off = 0;
	}
	return status;
}

/* Extract next_page_token's string value into tok; 0 if absent or empty. */
static int page_token(const char *body, char *tok, size_t n)
{
	const char *s = strstr(body, "\"next_page_token\"");
	if (!s)
		return 0;
	s = strchr(s + 17, ':');
	if (!s)
		return 0;
	s++;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s != '"')
		return 0;
	s++;
	size_t i = 0;
	while (*s && *s != '"' && i + 1 < n) {
		if (*s == '\\' && s[1])
			s++;
		tok[i++] = *s++;
	}
	tok[i] = 0;
	return i > 0;
}

static void urlencode(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~') {
			buf_add(out, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(out, e, 3);
		}
	}
}

/* The request line, headers and body of one request, into req (replaced). */
static void build_request(struct buf *req, const char *method, const char *target, const struct buf *body)
{
	int is_post = strcmp(method, "GET") != 0;
	char head[1024];
	req->len = 0;
	int hn = snprintf(head, sizeof head,
	                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: reqlat\r\n"
	                  "Accept: application/json\r\n",
	                  method, target, port);
	buf_add(req, head, (size_t)hn);
	if (is_post) {
		hn =
		    snprintf(head, sizeof head, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body->len);
		buf_add(req, head, (size_t)hn);
	}
	buf_add(req, "\r\n", 2);
	if (is_post)
		buf_add(req, body->p, body->len);
}

/* Sends req and reads the answer into resp. Returns the status, or -1
 * when the connection broke (it is then reopened for the next request). */
static int exchange(struct conn *cn, const struct buf *req, struct buf *resp)
{
	send_all(cn, req->p, req->len);
	int close_after = 0;
	int st = read_response(cn, resp, &close_after);
	if (st < 0 || close_after)
		reconnect(cn);
	return st;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	/* nearest rank */
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* Sorts the latencies and prints the summary line; returns the exit status. */
static int report(double *lat, long nlat, double elapsed_ms, long pages, size_t bytes, long errors, int bad_status,
                  const char *extra)
{
	qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
	double sum = 0;
	for (long i = 0; i < nlat; i++)
		sum += lat[i];
	printf("{\"iters\": %ld, \"seconds\": %.3f, \"pages\": %ld, \"bytes\": %zu, \"errors\": %ld, "
	       "\"bad_status\": %d, \"min_ms\": %.4f, \"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, "
	       "\"max_ms\": %.4f, \"mean_ms\": %.4f%s}\n",
	       nlat, elapsed_ms / 1e3, pages, bytes, errors, bad_status, nlat ? lat[0] : 0, pct(lat, (size_t)nlat, 50),
	       pct(lat, (size_t)nlat, 90), pct(lat, (size_t)nlat, 99), nlat ? lat[nlat - 1] : 0,
	       nlat ? sum / (double)nlat : 0, extra);
	return errors ? 1 : 0;
}

/* ---- open loop (-R) ---- */

enum { MAX_RUNS = 1024, MAX_CONNS = 256 };

/* Shared by the connection threads of an open-loop run. */
static struct {
	const char *method, *path, *tmpl;
	char *runs[MAX_RUNS];
	int nruns, conns;
	long long step0;
	double rate, start_ms, warm_ms, end_ms;
	atomic_long counter; /* requests sent so far, over all connections */
} ol;

/* One connection's thread: its own requests and latencies. */
struct ol_thread {
	pthread_t thread;
	int index;
	double *lat;
	long nlat, cap, errors, ok_all;
	int bad_status;
};

/* Expands the body template: %RUN% the next run id (they rotate), %STEP%
 * a step unique to the request, %TS% a timestamp that grows with it, %V% a
 * value. */
static void expand(struct buf *out, long n)
{
	long long step = ol.step0 + n;
	char num[64];
	out->len = 0;
	buf_reserve(out, 0);
	for (const char *s = ol.tmpl; *s;) {
		const char *pc = strchr(s, '%');
		if (!pc) {
			buf_add(out, s, strlen(s));
			break;
		}
		buf_add(out, s, (size_t)(pc - s));
		if (strncmp(pc, "%RUN%", 5) == 0) {
			const char *r = ol.runs[n % ol.nruns];
			buf_add(out, r, strlen(r));
			s = pc + 5;
		} else if (strncmp(pc, "%STEP%", 6) == 0) {
			buf_add(out, num, (size_t)snprintf(num, sizeof num, "%lld", step));
			s = pc + 6;
		} else if (strncmp(pc, "%TS%", 4) == 0) {
			buf_add(out, num, (size_t)snprintf(num, sizeof num, "%lld", 1700000000000LL + step));
			s = pc + 4;
		} else if (strncmp(pc, "%V%", 3) == 0) {
			buf_add(out, num, (size_t)snprintf(num, sizeof num, "%ld.25", n % 1000));
			s = pc + 3;
		} else {
			buf_add(out, "%", 1);
			s = pc + 1;
		}
	}
}

static void sleep_until_ms(double t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1e3), .tv_nsec = (long)(fmod(t, 1e3) * 1e6)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Connection i sends its k-th request at start + (i + k * conns) / rate,
 * or as soon as its previous answer arrived when that is later. Latency
 * counts from the scheduled time, so a slow answer also counts against
 * the requests it held back (no coordinated omission). */
static void *ol_main(void *p)
{
	struct ol_thread *t = p;
	struct conn cn = {0};
	struct buf req = {0}, resp = {0}, body = {0};
	connect_server(&cn);
	for (long k = 0;; k++) {
		double due = ol.start_ms + (t->index + (double)k * ol.conns) * 1e3 / ol.rate;
		if (due >= ol.end_ms)
			break;
		sleep_until_ms(due);
		expand(&body, atomic_fetch_add(&ol.counter, 1));
		build_request(&req, ol.method, ol.path, &body);
		int st = exchange(&cn, &req, &resp);
		double lat = now_ms() - due;
		if (st == 200)
			t->ok_all++;
		if (due < ol.warm_ms)
			continue;
		if (st != 200) {
			t->errors++;
			t->bad_status = st;
			if (t->errors <= 3)
				fprintf(stderr, "reqlat: status %d: %.300s\n", st, resp.p ? resp.p : "");
			continue;
		}
		if (t->nlat == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 4096;
			t->lat = realloc(t->lat, sizeof *t->lat * (size_t)t->cap);
			if (!t->lat) {
				perror("realloc");
				exit(2);
			}
		}
		t->lat[t->nlat++] = lat;
	}
	close(cn.fd);
	free(cn.in.p);
	free(req.p);
	free(resp.p);
	free(body.p);
	return NULL;
}

static int open_loop(const char *runfile, double warm_s, double secs)
{
	FILE *f = fopen(runfile, "r");
	if (!f) {
		perror(runfile);
		return 2;
	}
	char line[512];
	while (ol.nruns < MAX_RUNS && fgets(line, sizeof line, f))
		if (line[strspn(line, " \t\r\n")]) {
			line[strcspn(line, " \t\r\n")] = 0;
			ol.runs[ol.nruns++] = strdup(line);
		}
	fclose(f);
	if (!ol.nruns && strstr(ol.tmpl, "%RUN%")) {
		fprintf(stderr, "reqlat: no run ids in %s\n", runfile);
		return 2;
	}
	struct ol_thread th[MAX_CONNS];
	memset(th, 0, sizeof th);
	ol.start_ms = now_ms() + 20; /* every thread connected before the first send */
	ol.warm_ms = ol.start_ms + warm_s * 1e3;
	ol.end_ms = ol.warm_ms + secs * 1e3;
	for (int i = 0; i < ol.conns; i++) {
		th[i].index = i;
		if (pthread_create(&th[i].thread, NULL, ol_main, &th[i]) != 0) {
			perror("pthread_create");
			exit(2);
		}
	}
	long nlat = 0, errors = 0, ok_all = 0;
	int bad_status = 0;
	for (int i = 0; i < ol.conns; i++) {
		pthread_join(th[i].thread, NULL);
		nlat += th[i].nlat;
		ok_all += th[i].ok_all;
		errors += th[i].errors;
		if (th[i].bad_status)
			bad_status = th[i].bad_status;
	}
	double elapsed = now_ms() - ol.warm_ms;
	double *lat = malloc(sizeof *lat * (size_t)(nlat ? nlat : 1));
	long n = 0;
	for (int i = 0; i < ol.conns; i++) {
		memcpy(lat + n, th[i].lat, sizeof *lat * (size_t)th[i].nlat);
		n += th[i].nlat;
		free(th[i].lat);
	}
	char extra[200];
	snprintf(extra, sizeof extra, ", \"offered_rps\": %.1f, \"conns\": %d, \"sent\": %ld, \"ok_all\": %ld", ol.rate,
	         ol.conns, (long)atomic_load(&ol.counter), ok_all);
	int rc = report(lat, nlat, elapsed, nlat, 0, errors, bad_status, extra);
	free(lat);
	return rc;
}

int main(int argc, char **argv)
{
	const char *method = "GET", *path = NULL, *bodyfile = NULL, *runfile = NULL;
	long maxiters = 1000000, warmup = 1, maxpages = 100000;
	double maxsecs = 10, rate = 0, warm_s = 1;
	int follow = 0, conns = 1, opt;
	long long step0 = 0;
	while ((opt = getopt(argc, argv, "p:m:u:b:gn:d:w:x:R:c:r:s:W:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'm': method = optarg; break;
		case 'u': path = optarg; break;
		case 'b': bodyfile = optarg; break;
		case 'g': follow = 1; break;
		case 'n': maxiters = atol(optarg); break;
		case 'd': maxsecs = atof(optarg); break;
		case 'w': warmup = atol(optarg); break;
		case 'x': maxpages = atol(optarg); break;
		case 'R': rate = atof(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'r': runfile = optarg; break;
		case 's': step0 = atoll(optarg); break;
		case 'W': warm_s = atof(optarg); break;
		default: fprintf(stderr, "usage: see the header of reqlat.c\n"); return 2;
		}
	}
	if (!port || !path) {
		fprintf(stderr, "reqlat: -p PORT and -u PATH are required\n");
		return 2;
	}
	struct buf body0 = {0};
	if (bodyfile) {
		FILE *f = fopen(bodyfile, "rb");
		if (!f) {
			perror(bodyfile);
			return 2;
		}
		char tmp[65536];
		size_t r;
		while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
			buf_add(&body0, tmp, r);
		fclose(f);
	}
	if (rate > 0) {
		if (conns < 1 || conns > MAX_CONNS || !runfile) {
			fprintf(stderr, "reqlat: -R needs -r RUNFILE and 1 <= -c <= %d\n", MAX_CONNS);
			return 2;
		}
		ol.method = method;
		ol.path = path;
		ol.tmpl = body0.p ? body0.p : "";
		ol.rate = rate;
		ol.conns = conns;
		ol.step0 = step0;
		return open_loop(runfile, warm_s, maxsecs);
	}
	int is_post = strcmp(method, "GET") != 0;

	struct conn cn = {0};
	connect_server(&cn);
	struct buf req = {0}, resp = {0}, target = {0}, reqbody = {0};
	char tok[8192];
	long total = warmup + maxiters;
	double *lat = malloc(sizeof(double) * (size_t)(maxiters > 0 ? maxiters : 1));
	long nlat = 0, errors = 0, pages_last = 0;
	int bad_status = 0;
	size_t bytes_last = 0;
	double start = 0;
	for (long it = 0; it < total; it++) {
		if (it == warmup)
			start = now_ms();
		if (it > warmup && now_ms() - start >= maxsecs * 1e3)
			break;
		double t0 = now_ms();
		long pages = 0;
		size_t bytes = 0;
		tok[0] = 0;
		for (;;) {
			target.len = 0;
			buf_add(&target, path, strlen(path));
			reqbody.len = 0;
			if (body0.len)
				buf_add(&reqbody, body0.p, body0.len);
			else
				buf_add(&reqbody, "", 0);
			if (tok[0]) {
				if (!is_post) {
					buf_add(&target, strchr(path, '?') ? "&page_token=" : "?page_token=", 12);
					urlencode(tok, &target);
				} else {
					/* insert "page_token": "..." right after the opening brace */
					char *brace = strchr(reqbody.p, '{');
					struct buf nb = {0};
					size_t pre = brace ? (size_t)(brace - reqbody.p) + 1 : 0;
					buf_add(&nb, reqbody.p, pre);
					buf_add(&nb, "\"page_token\": \"", 15);
					buf_add(&nb, tok, strlen(tok));
					const char *rest = reqbody.p + pre;
					const char *q = rest;
					while (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t')
						q++;
					buf_add(&nb, *q == '}' ? "\"" : "\", ", *q == '}' ? 1 : 3);
					buf_add(&nb, rest, strlen(rest));
					free(reqbody.p);
					reqbody = nb;
				}
			}
			build_request(&req, method, target.p, &reqbody);
			int st = exchange(&cn, &req, &resp);
			if (st < 0) {
				errors++; /* the server dropped the connection */
				break;
			}
			pages++;
			bytes += resp.len;
			if (st != 200) {
				errors++;
				bad_status = st;
				if (errors <= 3)
					fprintf(stderr, "reqlat: status %d: %.300s\n", st, resp.p);
				break;
			}
			if (!follow || !page_token(resp.p, tok, sizeof tok) || pages >= maxpages)
				break;
		}
		double dt = now_ms() - t0;
		if (it >= warmup)
			lat[nlat++] = dt;
		pages_last = pages;
		bytes_last = bytes;
	}
	int rc = report(lat, nlat, now_ms() - start, pages_last, bytes_last, errors, bad_status, "");
	close(cn.fd);
	return rc;
}
