/*
 * gate.h: the front stage between the listening socket and civetweb's
 * workers. civetweb gives each connection a worker thread for as long as it
 * is open, so idle or slow clients could take every worker. The gate accepts
 * connections itself and holds each one, on one epoll thread, until a whole
 * request header (and a small body) has arrived; only then does civetweb's
 * accept() receive it. Connections held past the request deadline get 408.
 * When connections wait for a worker, the gate closes keep-alive
 * connections that sit idle on workers, and answers end with
 * "Connection: close" so that waiting clients get their turn.
 *
 * How it sits under civetweb without changing it: after mg_start, the gate
 * takes over civetweb's listening socket (a dup) and puts an eventfd in its
 * place, readable once per connection ready; mlflowd's own accept() (this
 * file, which the dynamic linker prefers to libc's for libcivetweb) hands
 * civetweb the ready connections when it accepts on that descriptor and
 * passes every other call to the kernel.
 */
#ifndef MLF_GATE_H
#define MLF_GATE_H

struct mlf_gate;

/* Take over the listening socket bound to port (an already started civetweb
 * context with workers worker threads listens on it). request_timeout_ms bounds how long a connection
 * may take to send its request header and a small body. NULL on failure
 * (civetweb then keeps accepting on its own). */
struct mlf_gate *mlf_gate_start(int port, int workers, int request_timeout_ms);
/* Make civetweb's listener return from poll (for mg_stop). */
void mlf_gate_wake(struct mlf_gate *g);
/* Stop the gate thread and close the connections it still holds. Call after
 * mg_stop returned. */
void mlf_gate_stop(struct mlf_gate *g);

/* ---- called by the civetweb callbacks (server/http.c) ---- */

/* The connection civetweb starts serving, by peer address and port: its
 * descriptor, or -1 when it did not come through the gate. */
int mlf_gate_lookup(struct mlf_gate *g, const char *remote_addr, int remote_port);
/* A request begins / ends on connection fd. end returns 1 when the answer
 * should close the connection because other connections wait. */
void mlf_gate_request_begin(struct mlf_gate *g, int fd);
int mlf_gate_request_end(struct mlf_gate *g, int fd);
/* A worker reads a request body on fd, which must be complete within
 * timeout_ms from now (called again, it moves the deadline); past it the
 * gate shuts the connection's read side, so the read ends. body_end clears
 * the deadline and returns 1 when that happened. */
void mlf_gate_body_begin(struct mlf_gate *g, int fd, int timeout_ms);
int mlf_gate_body_end(struct mlf_gate *g, int fd);
/* civetweb is about to close fd. */
void mlf_gate_closing(struct mlf_gate *g, int fd);
/* Connections that wait for a worker. */
int mlf_gate_waiting(struct mlf_gate *g);

#endif
