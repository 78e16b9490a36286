/*
 * gate.c: the front stage that holds connections off civetweb's workers
 * until their request has arrived (see gate.h for what and why).
 *
 * One thread (mlflowd-gate) owns an epoll set with the listening socket and
 * every held connection (edge-triggered; each new arrival is looked at with
 * MSG_PEEK, so the bytes stay in the socket for civetweb to read). A
 * connection is ready when its header is complete and, for a body of at
 * most MLF_GATE_PEEK_BYTES without "Expect:" or chunked coding, the body
 * too. Ready connections go into a FIFO; each one makes the eventfd that
 * civetweb polls in place of its listening socket readable once, and
 * civetweb's accept() takes them in order.
 *
 * Slots are indexed by descriptor. A slot is FREE, HELD (in the epoll set),
 * READY (in the FIFO) or HANDED (civetweb serves it). For HANDED slots the
 * worker callbacks record whether a request runs and since when the
 * connection is idle; the gate thread shuts down the read side of idle
 * keep-alive connections when ready connections wait for a worker, which
 * makes civetweb close them and take the next connection.
 */
#include "gate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../api/limits.h"

enum slot_state { S_FREE, S_HELD, S_READY, S_HANDED };

struct slot {
	unsigned char state;
	unsigned char busy;     /* HANDED: a request is being served (or not yet begun) */
	unsigned char reaped;   /* HANDED: read side shut down by the gate */
	unsigned char cut;      /* HANDED: body deadline passed, read side shut down */
	int64_t since_ms;       /* HELD: accepted at; READY: ready at; HANDED: idle since */
	int64_t body_deadline;  /* HANDED: monotonic ms by which the body must be in; 0: none */
	struct sockaddr_in6 sa; /* peer (sockaddr_in or sockaddr_in6) */
	socklen_t salen;
	uint16_t port; /* peer port, host order */
	int next_port; /* next READY/HANDED slot with the same peer port, -1 at the end */
};

struct mlf_gate {
	pthread_mutex_t mu;
	pthread_t thread;
	int thread_started;
	atomic_int stop;
	int listen_fd; /* the real listening socket (a dup of civetweb's) */
	int cw_fd;     /* civetweb's listening descriptor, now an eventfd */
	int ready_efd; /* our own descriptor of that eventfd, for writing */
	int ep;
	int request_timeout_ms;
	int workers; /* civetweb worker threads */
	int handed;  /* HANDED slots: on a worker or in civetweb's queue */
	int nslots;
	struct slot *slots;
	int *port_head; /* 65536 chains of slots by peer port */
	int *fifo;      /* ready descriptors, ring of nslots */
	int fifo_head, fifo_len;
	int max_fd; /* highest descriptor ever held */
	int64_t accept_paused_until;
	int64_t last_sweep;
};

/* The gate whose eventfd sits in civetweb's listening descriptor. */
static struct mlf_gate *_Atomic active_gate;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- civetweb's accept ---- */

static int gate_pop(struct mlf_gate *g, struct sockaddr *sa, socklen_t *len)
{
	uint64_t one;
	if (read(g->ready_efd, &one, sizeof one) != (ssize_t)sizeof one) {
		errno = EAGAIN;
		return -1;
	}
	pthread_mutex_lock(&g->mu);
	if (g->fifo_len == 0) {
		pthread_mutex_unlock(&g->mu);
		errno = EAGAIN;
		return -1;
	}
	int fd = g->fifo[g->fifo_head];
	g->fifo_head = (g->fifo_head + 1) % g->nslots;
	g->fifo_len--;
	struct slot *s = &g->slots[fd];
	s->state = S_HANDED;
	g->handed++;
	s->busy = 1; /* its request is pending: never reaped before it ran */
	s->reaped = 0;
	if (sa && len) {
		socklen_t n = *len < s->salen ? *len : s->salen;
		memcpy(sa, &s->sa, n);
		*len = s->salen;
	}
	pthread_mutex_unlock(&g->mu);
	return fd;
}

/* mlflowd's accept(): libcivetweb's calls resolve here before libc. */
int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct mlf_gate *g = atomic_load(&active_gate);
	if (g && fd == g->cw_fd)
		return gate_pop(g, sa, len);
	return accept4(fd, sa, len, 0);
}

/* ---- slot bookkeeping (g->mu held) ---- */

/* Connections waiting for a worker: ready ones not yet accepted by
 * civetweb, and accepted ones beyond its worker count (in its queue). */
static int waiting_locked(struct mlf_gate *g)
{
	int over = g->handed - g->workers;
	return g->fifo_len + (over > 0 ? over : 0);
}

static void port_link(struct mlf_gate *g, int fd)
{
	struct slot *s = &g->slots[fd];
	s->next_port = g->port_head[s->port];
	g->port_head[s->port] = fd;
}

static void port_unlink(struct mlf_gate *g, int fd)
{
	struct slot *s = &g->slots[fd];
	int *p = &g->port_head[s->port];
	while (*p >= 0 && *p != fd)
		p = &g->slots[*p].next_port;
	if (*p == fd)
		*p = s->next_port;
	s->next_port = -1;
}

/* ---- the gate thread ---- */

/* Length of the header in buf (through the empty line), 0 if incomplete. */
static size_t header_len(const char *buf, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			return i + 2;
		if (buf[i] == '\n' && i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Value of header name in the header block [buf, buf+n), or NULL. */
static const char *find_header(const char *buf, size_t n, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = memchr(buf, '\n', n), *end = buf + n;
	while (p && p + 1 < end) {
		p++;
		if ((size_t)(end - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			const char *e = v;
			while (e < end && *e != '\r' && *e != '\n')
				e++;
			*vlen = (size_t)(e - v);
			return v;
		}
		p = memchr(p, '\n', (size_t)(end - p));
	}
	return NULL;
}

/* 1: the request in buf can go to a worker; 0: keep holding. */
static int request_ready(const char *buf, size_t n, size_t cap)
{
	size_t h = header_len(buf, n);
	if (!h)
		return n >= MLF_GATE_HEADER_BYTES; /* a long header: the worker reads the rest */
	size_t vl;
	if (find_header(buf, h, "Expect", &vl) || find_header(buf, h, "Transfer-Encoding", &vl))
		return 1; /* the client waits for 100 Continue, or the length is unknown */
	const char *cl = find_header(buf, h, "Content-Length", &vl);
	if (!cl)
		return 1;
	char num[24];
	if (vl == 0 || vl >= sizeof num)
		return 1; /* civetweb refuses it */
	memcpy(num, cl, vl);
	num[vl] = '\0';
	char *endp;
	unsigned long long len = strtoull(num, &endp, 10);
	if (*endp || len > MLF_GATE_PEEK_BYTES || h + len > cap)
		return 1; /* a large body (an upload): the worker reads it */
	return n >= h + len;
}

static void close_held(struct mlf_gate *g, int fd)
{
	epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
	pthread_mutex_lock(&g->mu);
	g->slots[fd].state = S_FREE;
	pthread_mutex_unlock(&g->mu);
	close(fd);
}

static void push_ready(struct mlf_gate *g, int fd)
{
	epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
	pthread_mutex_lock(&g->mu);
	struct slot *s = &g->slots[fd];
	s->state = S_READY;
	s->since_ms = now_ms();
	port_link(g, fd);
	g->fifo[(g->fifo_head + g->fifo_len) % g->nslots] = fd;
	g->fifo_len++;
	pthread_mutex_unlock(&g->mu);
	uint64_t one = 1;
	if (write(g->ready_efd, &one, sizeof one) < 0) {
		/* cannot fail: the counter is far from its maximum */
	}
}

static char peek_buf[MLF_GATE_HEADER_BYTES + MLF_GATE_PEEK_BYTES]; /* gate thread only */

static void look_at(struct mlf_gate *g, int fd)
{
	ssize_t n = recv(fd, peek_buf, sizeof peek_buf, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		close_held(g, fd);
		return;
	}
	if (n > 0 && request_ready(peek_buf, (size_t)n, sizeof peek_buf))
		push_ready(g, fd);
}

static void accept_all(struct mlf_gate *g)
{
	for (;;) {
		struct sockaddr_in6 sa;
		socklen_t len = sizeof sa;
		int fd = accept4(g->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: stop watching the listener for a moment
				 * (the kernel keeps the backlog) */
				struct epoll_event ev = {.events = 0, .data.fd = g->listen_fd};
				epoll_ctl(g->ep, EPOLL_CTL_MOD, g->listen_fd, &ev);
				g->accept_paused_until = now_ms() + MLF_GATE_TICK_MS;
			}
			return;
		}
		if (fd >= g->nslots) { /* cannot happen: the slots cover RLIMIT_NOFILE */
			close(fd);
			continue;
		}
		pthread_mutex_lock(&g->mu);
		struct slot *s = &g->slots[fd];
		if (s->state == S_HANDED) { /* closed by civetweb without telling us */
			port_unlink(g, fd);
			g->handed--;
		}
		memset(s, 0, sizeof *s);
		s->state = S_HELD;
		s->since_ms = now_ms();
		memcpy(&s->sa, &sa, len < sizeof s->sa ? len : sizeof s->sa);
		s->salen = len;
		s->port = ntohs(sa.sin6_port); /* same offset in sockaddr_in */
		s->next_port = -1;
		if (fd > g->max_fd)
			g->max_fd = fd;
		pthread_mutex_unlock(&g->mu);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = fd};
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close_held(g, fd);
			continue;
		}
		look_at(g, fd); /* data may have come with the connection */
	}
}

/* Held past the deadline: 408 with MLflow's error body, then close. */
static void time_out(struct mlf_gate *g, int fd)
{
	char body[200], msg[400];
	int bn = snprintf(body, sizeof body,
	                  "{\"error_code\": \"BAD_REQUEST\", \"message\": \"The request did not arrive within %d "
	                  "ms.\"}",
	                  g->request_timeout_ms);
	int n = snprintf(msg, sizeof msg,
	                 "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: "
	                 "%d\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s",
	                 bn, body);
	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the client is gone: nothing to tell it */
	}
	/* Closing with unread bytes would send a reset that can overtake the
	 * answer: end our side, then read what the client sent. */
	shutdown(fd, SHUT_WR);
	char sink[4096];
	for (int i = 0; i < MLF_GATE_DRAIN_READS && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++) {
	}
	close_held(g, fd);
}

/* Every tick: time out held connections; when ready connections wait
 * for a worker, shut down idle keep-alive connections on workers. */
static void sweep(struct mlf_gate *g)
{
	int64_t now = now_ms();
	if (g->accept_paused_until && now >= g->accept_paused_until) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = g->listen_fd};
		epoll_ctl(g->ep, EPOLL_CTL_MOD, g->listen_fd, &ev);
		g->accept_paused_until = 0;
	}
	if (now - g->last_sweep < MLF_GATE_TICK_MS)
		return;
	g->last_sweep = now;
	int reap = mlf_gate_waiting(g);
	for (int fd = 0; fd <= g->max_fd; fd++) {
		struct slot *s = &g->slots[fd];
		/* Only this thread moves a slot out of HELD, so the read is safe. */
		if (s->state == S_HELD && now - s->since_ms > g->request_timeout_ms) {
			time_out(g, fd);
			continue;
		}
		if (s->state == S_HANDED && s->body_deadline && now > s->body_deadline) {
			pthread_mutex_lock(&g->mu);
			if (s->state == S_HANDED && s->body_deadline && now > s->body_deadline) {
				/* the worker's read ends at once; it answers 408 */
				shutdown(fd, SHUT_RD);
				s->cut = 1;
				s->body_deadline = 0;
			}
			pthread_mutex_unlock(&g->mu);
		}
		if (reap <= 0 || s->state != S_HANDED)
			continue;
		pthread_mutex_lock(&g->mu);
		int idle =
		    s->state == S_HANDED && !s->busy && !s->reaped && now - s->since_ms >= MLF_GATE_REAP_MIN_IDLE_MS;
		int pending = 0;
		if (idle && ioctl(fd, FIONREAD, &pending) == 0 && pending == 0) {
			/* civetweb's read returns end of file; it closes the connection */
			shutdown(fd, SHUT_RD);
			s->reaped = 1;
			reap--;
		}
		pthread_mutex_unlock(&g->mu);
	}
}

static void *gate_main(void *p)
{
	struct mlf_gate *g = p;
	pthread_setname_np(pthread_self(), "mlflowd-gate");
	struct epoll_event evs[MLF_GATE_EVENTS];
	while (!atomic_load(&g->stop)) {
		int n = epoll_wait(g->ep, evs, MLF_GATE_EVENTS, MLF_GATE_TICK_MS);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == g->listen_fd)
				accept_all(g);
			else if (g->slots[fd].state == S_HELD)
				look_at(g, fd);
		}
		sweep(g);
	}
	return NULL;
}

/* ---- start and stop ---- */

/* civetweb's listening socket: the descriptor listening on port. */
static int find_listener(int port)
{
	struct rlimit rl;
	int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (int fd = 0; fd < max; fd++) {
		int on = 0;
		socklen_t ol = sizeof on;
		struct sockaddr_in6 sa;
		socklen_t sl = sizeof sa;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && on &&
		    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 && ntohs(sa.sin6_port) == port)
			return fd;
	}
	return -1;
}

struct mlf_gate *mlf_gate_start(int port, int workers, int request_timeout_ms)
{
	int lfd = find_listener(port);
	if (lfd < 0)
		return NULL;
	struct rlimit rl;
	int nslots = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MLF_GATE_MAX_SLOTS ? (int)rl.rlim_cur
	                                                                                    : MLF_GATE_MAX_SLOTS;
	struct mlf_gate *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	g->ep = g->listen_fd = -1;
	g->workers = workers;
	g->request_timeout_ms = request_timeout_ms;
	g->nslots = nslots;
	g->slots = calloc((size_t)nslots, sizeof *g->slots);
	g->fifo = calloc((size_t)nslots, sizeof *g->fifo);
	g->port_head = malloc(65536 * sizeof *g->port_head);
	g->listen_fd = fcntl(lfd, F_DUPFD_CLOEXEC, 0);
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	int efd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	if (!g->slots || !g->fifo || !g->port_head || g->listen_fd < 0 || g->ep < 0 || efd < 0)
		goto fail;
	for (int i = 0; i < 65536; i++)
		g->port_head[i] = -1;
	int fl = fcntl(g->listen_fd, F_GETFL);
	if (fl < 0 || fcntl(g->listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail;
	g->ready_efd = efd;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = g->listen_fd};
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->listen_fd, &ev) != 0)
		goto fail;
	/* From here civetweb polls the eventfd: publish the gate first, so an
	 * accept() on the swapped descriptor finds it. */
	g->cw_fd = lfd;
	atomic_store(&active_gate, g);
	if (dup3(efd, lfd, O_CLOEXEC) < 0) {
		atomic_store(&active_gate, NULL);
		goto fail;
	}
	if (pthread_create(&g->thread, NULL, gate_main, g) != 0) {
		/* put the socket back: civetweb accepts on its own again */
		dup3(g->listen_fd, lfd, O_CLOEXEC);
		atomic_store(&active_gate, NULL);
		goto fail;
	}
	g->thread_started = 1;
	return g;
fail:
	if (efd >= 0)
		close(efd);
	if (g->ep >= 0)
		close(g->ep);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	free(g->slots);
	free(g->fifo);
	free(g->port_head);
	free(g);
	return NULL;
}

void mlf_gate_wake(struct mlf_gate *g)
{
	if (!g)
		return;
	uint64_t one = 1;
	if (write(g->ready_efd, &one, sizeof one) < 0) {
		/* cannot fail */
	}
}

void mlf_gate_stop(struct mlf_gate *g)
{
	if (!g)
		return;
	atomic_store(&active_gate, NULL);
	atomic_store(&g->stop, 1);
	if (g->thread_started)
		pthread_join(g->thread, NULL);
	for (int fd = 0; fd <= g->max_fd; fd++)
		if (g->slots[fd].state == S_HELD || g->slots[fd].state == S_READY)
			close(fd);
	close(g->ep);
	close(g->listen_fd);
	close(g->ready_efd);
	free(g->slots);
	free(g->fifo);
	free(g->port_head);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/* ---- worker callbacks ---- */

int mlf_gate_lookup(struct mlf_gate *g, const char *remote_addr, int remote_port)
{
	if (!g || remote_port < 0 || remote_port > 65535)
		return -1;
	int found = -1;
	pthread_mutex_lock(&g->mu);
	for (int fd = g->port_head[remote_port]; fd >= 0; fd = g->slots[fd].next_port) {
		struct slot *s = &g->slots[fd];
		if (s->state != S_HANDED)
			continue;
		char a[INET6_ADDRSTRLEN] = "";
		if (s->sa.sin6_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&s->sa)->sin_addr, a, sizeof a);
		else
			inet_ntop(AF_INET6, &s->sa.sin6_addr, a, sizeof a);
		found = fd; /* the last one with this port, unless one matches the address too */
		if (remote_addr && !strcmp(a, remote_addr))
			break;
	}
	pthread_mutex_unlock(&g->mu);
	return found;
}

void mlf_gate_request_begin(struct mlf_gate *g, int fd)
{
	if (!g || fd < 0 || fd >= g->nslots)
		return;
	pthread_mutex_lock(&g->mu);
	g->slots[fd].busy = 1;
	pthread_mutex_unlock(&g->mu);
}

int mlf_gate_request_end(struct mlf_gate *g, int fd)
{
	if (!g || fd < 0 || fd >= g->nslots)
		return 0;
	pthread_mutex_lock(&g->mu);
	struct slot *s = &g->slots[fd];
	s->busy = 0;
	s->since_ms = now_ms();
	int waiting = waiting_locked(g);
	pthread_mutex_unlock(&g->mu);
	return waiting > 0;
}

void mlf_gate_body_begin(struct mlf_gate *g, int fd, int timeout_ms)
{
	if (!g || fd < 0 || fd >= g->nslots)
		return;
	pthread_mutex_lock(&g->mu);
	if (!g->slots[fd].cut) /* once cut, the read stays ended for this request */
		g->slots[fd].body_deadline = now_ms() + timeout_ms;
	pthread_mutex_unlock(&g->mu);
}

int mlf_gate_body_end(struct mlf_gate *g, int fd)
{
	if (!g || fd < 0 || fd >= g->nslots)
		return 0;
	pthread_mutex_lock(&g->mu);
	int cut = g->slots[fd].cut;
	g->slots[fd].cut = 0;
	g->slots[fd].body_deadline = 0;
	pthread_mutex_unlock(&g->mu);
	return cut;
}

void mlf_gate_closing(struct mlf_gate *g, int fd)
{
	if (!g || fd < 0 || fd >= g->nslots)
		return;
	pthread_mutex_lock(&g->mu);
	struct slot *s = &g->slots[fd];
	if (s->state == S_HANDED) {
		port_unlink(g, fd);
		s->state = S_FREE;
		g->handed--;
	}
	pthread_mutex_unlock(&g->mu);
}

int mlf_gate_waiting(struct mlf_gate *g)
{
	if (!g)
		return 0;
	pthread_mutex_lock(&g->mu);
	int n = waiting_locked(g);
	pthread_mutex_unlock(&g->mu);
	return n;
}
