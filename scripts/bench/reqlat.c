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
 * Usage:
 *   reqlat -p PORT -m GET|POST -u PATH [-b BODYFILE] [-g] [-n MAXITERS]
 *          [-d MAXSECONDS] [-w WARMUP] [-x MAXPAGES]
 *   -g  follow next_page_token: GET appends &page_token=..., POST adds a
 *       "page_token" member to the JSON body. One iteration = all pages.
 * Stops after MAXITERS iterations or MAXSECONDS, whichever comes first
 * (at least one iteration). Prints one JSON object on stdout.
 * Exit status 1 if any response was not 200.
 * This is a benchmark helper, not part of the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
static int fd = -1;
/* Bytes received but not yet consumed (start of the next response). */
static struct buf in;
static size_t in_off;

static int connect_server(void)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("connect");
		exit(2);
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	in.len = 0;
	in_off = 0;
	return fd;
}

static void send_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
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
static int fill(size_t need)
{
	while (in.len - in_off < need) {
		buf_reserve(&in, 65536);
		ssize_t r = recv(fd, in.p + in.len, in.cap - in.len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		in.len += (size_t)r;
		in.p[in.len] = 0;
	}
	return 1;
}

/* Index of "\r\n" at or after `from` in the unconsumed input, or -1 after
 * reading more fails. */
static long find_crlf(size_t from)
{
	for (;;) {
		char *s = in.p ? memmem(in.p + in_off + from, in.len - in_off - from, "\r\n", 2) : NULL;
		if (s)
			return (long)(s - (in.p + in_off));
		size_t have = in.len - in_off;
		if (!fill(have + 1))
			return -1;
	}
}

/* Read one response; body goes to `body` (replaced). Returns the status,
 * -1 on a broken connection. Sets *close_after if the server closes. */
static int read_response(struct buf *body, int *close_after)
{
	body->len = 0;
	buf_reserve(body, 0);
	body->p[0] = 0;
	/* headers */
	size_t hend;
	for (;;) {
		char *s = in.p ? memmem(in.p + in_off, in.len - in_off, "\r\n\r\n", 4) : NULL;
		if (s) {
			hend = (size_t)(s - (in.p + in_off)) + 4;
			break;
		}
		if (!fill(in.len - in_off + 1))
			return -1;
	}
	char *h = in.p + in_off;
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
	in_off += hend;
	if (chunked) {
		for (;;) {
			long e = find_crlf(0);
			if (e < 0)
				return -1;
			long long n = strtoll(in.p + in_off, NULL, 16);
			in_off += (size_t)e + 2;
			if (n == 0) {
				/* trailers until an empty line */
				for (;;) {
					long t = find_crlf(0);
					if (t < 0)
						return -1;
					in_off += (size_t)t + 2;
					if (t == 0)
						break;
				}
				break;
			}
			if (!fill((size_t)n + 2))
				return -1;
			buf_add(body, in.p + in_off, (size_t)n);
			in_off += (size_t)n + 2;
		}
	} else if (clen >= 0) {
		if (!fill((size_t)clen))
			return -1;
		buf_add(body, in.p + in_off, (size_t)clen);
		in_off += (size_t)clen;
	} else {
		/* body until EOF */
		while (fill(in.len - in_off + 1))
			;
		buf_add(body, in.p + in_off, in.len - in_off);
		in_off = in.len;
		*close_after = 1;
	}
	/* compact */
	if (in_off == in.len) {
		in.len = 0;
		in_off = 0;
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

int main(int argc, char **argv)
{
	const char *method = "GET", *path = NULL, *bodyfile = NULL;
	long maxiters = 1000000, warmup = 1, maxpages = 100000;
	double maxsecs = 10;
	int follow = 0, opt;
	while ((opt = getopt(argc, argv, "p:m:u:b:gn:d:w:x:")) != -1) {
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
	int is_post = strcmp(method, "GET") != 0;

	connect_server();
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
			req.len = 0;
			char head[1024];
			int hn = snprintf(head, sizeof head,
			                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: reqlat\r\n"
			                  "Accept: application/json\r\n",
			                  method, target.p, port);
			buf_add(&req, head, (size_t)hn);
			if (is_post) {
				hn = snprintf(head, sizeof head,
				              "Content-Type: application/json\r\nContent-Length: %zu\r\n", reqbody.len);
				buf_add(&req, head, (size_t)hn);
			}
			buf_add(&req, "\r\n", 2);
			if (is_post)
				buf_add(&req, reqbody.p, reqbody.len);
			send_all(req.p, req.len);
			int close_after = 0;
			int st = read_response(&resp, &close_after);
			if (st < 0) {
				/* the server dropped the connection: reconnect and count an error */
				close(fd);
				connect_server();
				errors++;
				break;
			}
			if (close_after) {
				close(fd);
				connect_server();
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
	double elapsed = now_ms() - start;
	qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
	double sum = 0;
	for (long i = 0; i < nlat; i++)
		sum += lat[i];
	printf("{\"iters\": %ld, \"seconds\": %.3f, \"pages\": %ld, \"bytes\": %zu, \"errors\": %ld, "
	       "\"bad_status\": %d, \"min_ms\": %.4f, \"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, "
	       "\"max_ms\": %.4f, \"mean_ms\": %.4f}\n",
	       nlat, elapsed / 1e3, pages_last, bytes_last, errors, bad_status, nlat ? lat[0] : 0,
	       pct(lat, (size_t)nlat, 50), pct(lat, (size_t)nlat, 90), pct(lat, (size_t)nlat, 99),
	       nlat ? lat[nlat - 1] : 0, nlat ? sum / (double)nlat : 0);
	close(fd);
	return errors ? 1 : 0;
}
