/* server.c - libmicrohttpd server: routing, bodies, admission round trip,
 * draining (see server.h). */
#include "server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admission.h"
#include "budget.h"
#include "log.h"
#include "metrics.h"
#include "rules.h"
#include "tls.h"
#include "tlsio.h"

/* A body over the cap is read and dropped up to this size so the client
 * gets its 413 on a healthy connection; beyond it the connection is cut. */
#define DRAIN_MAX (4 * WS_ADMISSION_BODY_MAX)
/* the largest patch, base64-encoded, and the rest of the review */
#define REPLY_MAX (WS_PATCH_MAX / 3 * 4 + ((size_t)64 << 10))
#define LOG_LINE_MAX ((size_t)16 << 10)
/* libmicrohttpd's per-connection pool (request headers, the body's chunks,
 * reply headers), zeroed whole for every request: kube-apiserver's headers
 * are well under 1 KiB, so a small pool keeps that clearing cheap. Request
 * headers larger than about 7 KiB are refused (431). */
#define CONN_MEMORY ((size_t)8 << 10)
/* A reply is handed to libmicrohttpd in pieces of at most this size (one
 * TLS record each). */
#define REPLY_BLOCK ((size_t)16 << 10)

struct wh_server {
	const wh_config *cfg;
	struct MHD_Daemon *daemon;
	atomic_int draining; /* unready: /readyz 503, Connection: close */
	atomic_int closing;  /* draining: new connections closed at accept */
	unsigned short port;
};

enum route { R_MUTATE, R_VALIDATE, R_HEALTHZ, R_READYZ, R_METRICS, R_NONE };

static const struct {
	const char *path;
	const char *method; /* the one accepted (plus HEAD for GET) */
} routes[] = {
	[R_MUTATE] = {"/mutate", "POST"},
	[R_VALIDATE] = {"/validate", "POST"},
	[R_HEALTHZ] = {"/healthz", "GET"},
	[R_READYZ] = {"/readyz", "GET"},
	[R_METRICS] = {"/metrics", "GET"},
};

/* One request, from its headers to its completion. */
struct req {
	enum route route;
	const char *method; /* libmicrohttpd's, valid until the request completes */
	const char *url;
	struct timespec start;
	size_t dropped;     /* bytes read and dropped after a refusal */
	int status;         /* non-zero: answer this error once the body is in */
	const char *reason;
	const char *allow;
	char message[200];
	int counted;        /* in the in-flight gauge */
	int head;           /* a HEAD request: the reply has no body on the wire */
	int keep_alive;     /* HTTP/1.1 without a Connection header: the connection stays open */
	int complete;       /* the whole request is in: the reply is not an early one */
	size_t held;        /* bytes held in the review budget (budget.h) */
};

/* One connection. Its buffers are reused by its requests (HTTP/1.1 answers
 * them one at a time), so a request allocates nothing large; a reply is
 * sent from `reply`, which stays untouched until the request completes.
 * Buffers that grew past KEEP_MAX are freed after the request. `io` is the
 * transport under the connection's TLS session. */
struct conn {
	struct req req;
	ws_buf body;
	ws_buf reply;
	ws_buf log;
	wh_tlsio io;
};

/* A typical review (1-4 KiB), its reply and its log line fit: an idle
 * connection keeps at most 3 * KEEP_MAX (body, reply, log; 1,024
 * connections: 24 MiB). */
#define KEEP_MAX ((size_t)8 << 10)

static long elapsed_us(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000;
}

/* The reply body, copied into libmicrohttpd's block. */
static ssize_t read_reply(void *cls, uint64_t pos, char *buf, size_t max)
{
	const struct conn *c = cls;
	size_t n = c->reply.len - (size_t)pos;

	if (n > max)
		n = max;
	memcpy(buf, c->reply.data + pos, n);
	return (ssize_t)n;
}

/* Queue the reply built in c->reply; the connection closes after it while
 * draining. The body is given through a reader rather than as a buffer:
 * libmicrohttpd then sends the header without corking the socket (for a
 * small buffer it sets TCP_CORK and pushes with a TCP_NODELAY setsockopt
 * after every reply), and the transport sends header and body together. */
static enum MHD_Result reply(wh_server *s, struct MHD_Connection *con, struct conn *c,
			     unsigned int code, const char *type, const char *allow)
{
	size_t block = c->reply.len < REPLY_BLOCK ? c->reply.len : REPLY_BLOCK;
	int draining = atomic_load_explicit(&s->draining, memory_order_relaxed);
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_callback(c->reply.len, block ? block : 1, read_reply, c, NULL);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (code == 429) /* the review budget frees within a second */
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (draining)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(con, code, r);
	MHD_destroy_response(r);
	wh_tlsio_request_done(&c->io);
	if (ret == MHD_YES && c->reply.len && !c->req.head)
		wh_tlsio_reply(&c->io, c->reply.len,
			       draining || !c->req.complete || !c->req.keep_alive);
	return ret;
}

static enum MHD_Result reply_text(wh_server *s, struct MHD_Connection *con, struct conn *c,
				  unsigned int code, const char *text)
{
	ws_buf_reset(&c->reply);
	if (ws_buf_adds(&c->reply, text, NULL))
		return MHD_NO;
	return reply(s, con, c, code, "text/plain; charset=utf-8", NULL);
}

/* The client's address, numeric, without the port. */
static void peer(struct MHD_Connection *con, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;
	socklen_t len = sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							 : sizeof(struct sockaddr_in);

	if (!sa || getnameinfo(sa, len, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, cap, "unknown");
}

/* An HTTP error answered with a v1 Status body, and logged. */
static enum MHD_Result reply_status(wh_server *s, struct MHD_Connection *con, struct conn *c,
				    int code, const char *reason, const char *message,
				    const char *allow)
{
	char remote[NI_MAXHOST];

	peer(con, remote, sizeof(remote));
	wh_log_refused(&c->log, c->req.method, c->req.url, code, reason, message, remote);
	wh_metrics_http_error(code);
	ws_buf_reset(&c->reply);
	if (ws_admission_encode_status(code, reason, message, code == 429 ? 1 : 0, &c->reply, NULL))
		return MHD_NO;
	return reply(s, con, c, (unsigned int)code, "application/json", allow);
}

static void refuse(struct req *r, int code, const char *reason, const char *allow,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void refuse(struct req *r, int code, const char *reason, const char *allow,
		   const char *fmt, ...)
{
	va_list ap;

	r->status = code;
	r->reason = reason;
	r->allow = allow;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* Hold n more bytes of the review budget for this request; when they do not
 * fit, the request is refused with 429 (-1; r->message says why). */
static int hold(struct req *r, size_t n, const char *what)
{
	if (wh_budget_take(n) == 0) {
		r->held += n;
		return 0;
	}
	refuse(r, 429, "TooManyRequests", NULL,
	       "the webhook is holding its %zu MiB for reviews in flight (--max-review-memory); "
	       "%s does not fit now: retry",
	       wh_budget_cap() >> 20, what);
	return -1;
}

static int is_json(const char *type)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	return strncasecmp(type, want, n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

struct framing {
	unsigned lengths, encodings; /* Content-Length and Transfer-Encoding headers */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->encodings++;
	return MHD_YES;
}

/* A body whose length two readers could read differently (RFC 9112 6.3):
 * more than one Content-Length, or one with Transfer-Encoding. Refused
 * before the body is read; the connection is closed after the reply. */
static const char *ambiguous_framing(struct MHD_Connection *con)
{
	struct framing f = {0, 0};

	MHD_get_connection_values(con, MHD_HEADER_KIND, count_framing, &f);
	if (f.lengths > 1)
		return "the request has more than one Content-Length header";
	if (f.lengths && f.encodings)
		return "the request has both Content-Length and Transfer-Encoding headers";
	return NULL;
}

/* 1 when the client waits for "100 Continue" before sending its body. */
static int expects_continue(struct MHD_Connection *con)
{
	const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

	return v && strcasecmp(v, "100-continue") == 0;
}

static enum MHD_Result begin(wh_server *s, struct MHD_Connection *con, struct conn *c,
			     const char *url, const char *method, const char *version,
			     void **req_cls)
{
	const char *clen = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *type = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	unsigned long long len = clen ? strtoull(clen, NULL, 10) : 0;
	struct req *r = &c->req;
	const char *framing;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->method = method;
	r->url = url;
	r->head = strcmp(method, "HEAD") == 0;
	r->keep_alive = strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
			!MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION);
	if (len > DRAIN_MAX || (len > WS_ADMISSION_BODY_MAX && expects_continue(con))) {
		char msg[96];

		/* Not worth reading (or the client waits to be invited to send it):
		 * answer now, MHD closes the connection after it. */
		snprintf(msg, sizeof(msg), "request body is larger than %zu bytes",
			 WS_ADMISSION_BODY_MAX);
		return reply_status(s, con, c, 413, "RequestEntityTooLarge", msg, NULL);
	}
	if ((framing = ambiguous_framing(con)) != NULL)
		return reply_status(s, con, c, 400, "BadRequest", framing, NULL);
	*req_cls = r;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	ws_buf_reset(&c->body);
	for (i = 0; i < R_NONE; i++)
		if (strcmp(url, routes[i].path) == 0)
			break;
	r->route = (enum route)i;
	if (r->route == R_NONE) {
		refuse(r, 404, "NotFound", NULL,
		       "no such path '%.100s': the webhook serves POST /mutate, POST /validate, "
		       "GET /healthz, /readyz, /metrics",
		       url);
		return MHD_YES;
	}
	if (strcmp(method, routes[i].method) != 0 &&
	    !(strcmp(routes[i].method, "GET") == 0 && strcmp(method, "HEAD") == 0)) {
		refuse(r, 405, "MethodNotAllowed", i <= R_VALIDATE ? "POST" : "GET, HEAD",
		       "method %.20s is not allowed here", method);
		return MHD_YES;
	}
	if (r->route > R_VALIDATE)
		return MHD_YES;
	r->counted = 1;
	wh_metrics_in_flight(1);
	if (type && !is_json(type))
		refuse(r, 415, "UnsupportedMediaType", NULL,
		       "Content-Type '%.60s' is not supported: send application/json", type);
	else if (len > WS_ADMISSION_BODY_MAX)
		refuse(r, 413, "RequestEntityTooLarge", NULL, "request body is larger than %zu bytes",
		       WS_ADMISSION_BODY_MAX);
	else if (len && hold(r, (size_t)len, "its body"))
		/* not read: answered at once, and MHD closes the connection */
		return reply_status(s, con, c, 429, "TooManyRequests", r->message, NULL);
	return MHD_YES;
}

static enum MHD_Result absorb(struct conn *c, const char *data, size_t *size)
{
	struct req *r = &c->req;
	size_t n = *size;

	*size = 0;
	/* a chunked body (no Content-Length) is held as it grows */
	if (!r->status && c->body.len + n > r->held)
		hold(r, c->body.len + n - r->held, "its body"); /* 429 when it does not fit */
	if (!r->status && ws_buf_add(&c->body, data, n, NULL) == 0)
		return MHD_YES;
	if (!r->status) {
		refuse(r, 413, "RequestEntityTooLarge", NULL, "request body is larger than %zu bytes",
		       WS_ADMISSION_BODY_MAX);
		ws_buf_release(&c->body);
	}
	r->dropped += n;
	return r->dropped > DRAIN_MAX ? MHD_NO : MHD_YES;
}

static enum MHD_Result admit(wh_server *s, struct MHD_Connection *con, struct conn *c)
{
	enum wh_mode mode = c->req.route == R_MUTATE ? WH_MUTATE : WH_VALIDATE;
	size_t tree = ws_admission_tree_bytes(c->body.data, c->body.len);
	ws_admission_request req;
	enum MHD_Result ret;
	wh_decision d;
	ws_err err;
	long us;

	if (tree <= WS_ADMISSION_TREE_MAX && hold(&c->req, tree, "its parsed tree"))
		return reply_status(s, con, c, 429, "TooManyRequests", c->req.message, NULL);
	if (ws_admission_parse(c->body.data, c->body.len, tree, &req, &err))
		return reply_status(s, con, c, err.code, err.reason, err.msg, NULL);
	wh_decide(&s->cfg->platform, mode, &req, &d);
	ws_buf_reset(&c->reply);
	if (wh_reply_encode(&req, &d, &c->reply, &err)) {
		ret = reply_status(s, con, c, 500, "InternalError", err.msg, NULL);
		goto out;
	}
	us = elapsed_us(&c->req.start);
	wh_metrics_decision(mode, d.kind, req.op, d.outcome, (uint64_t)us);
	wh_log_decision(&c->log, mode == WH_MUTATE ? "mutate" : "validate", &req, &d, us);
	ret = reply(s, con, c, 200, "application/json", NULL);
out:
	wh_decision_release(&d);
	ws_admission_release(&req);
	/* the tree is gone; the reply stays until it is sent */
	wh_budget_give(tree);
	c->req.held -= tree;
	wh_budget_force(c->reply.len);
	c->req.held += c->reply.len;
	return ret;
}

static enum MHD_Result finish(wh_server *s, struct MHD_Connection *con, struct conn *c)
{
	struct req *r = &c->req;

	r->complete = 1;
	if (r->status)
		return reply_status(s, con, c, r->status, r->reason, r->message, r->allow);
	switch (r->route) {
	case R_MUTATE:
	case R_VALIDATE:
		return admit(s, con, c);
	case R_HEALTHZ:
		return reply_text(s, con, c, 200, "ok\n");
	case R_READYZ:
		if (atomic_load_explicit(&s->draining, memory_order_relaxed))
			return reply_text(s, con, c, 503, "shutting down\n");
		return reply_text(s, con, c, 200, "ok\n");
	case R_METRICS:
		ws_buf_reset(&c->reply);
		if (wh_metrics_render(&c->reply, NULL) ||
		    ws_buf_printf(&c->reply, NULL,
				  "# HELP workspace_webhook_connections Open connections.\n"
				  "# TYPE workspace_webhook_connections gauge\n"
				  "workspace_webhook_connections %u\n",
				  wh_server_connections(s)))
			return MHD_NO;
		return reply(s, con, c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
	case R_NONE:
		break;
	}
	return MHD_NO;
}

static struct conn *conn_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	wh_server *s = cls;
	struct conn *c = conn_of(con);

	if (!c)
		return MHD_NO;
	if (!*req_cls)
		return begin(s, con, c, url, method, version, req_cls);
	if (*upload_data_size)
		return absorb(c, upload_data, upload_data_size);
	return finish(s, con, c);
}

static void release_held(struct req *r)
{
	wh_budget_give(r->held);
	r->held = 0;
}

static void trim(ws_buf *b)
{
	if (b->cap > KEEP_MAX)
		ws_buf_release(b);
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn *c = conn_of(con);
	ws_err err;

	(void)cls;
	/* A request that ended in error (client gone, timeout, shutdown) has its
	 * connection closed: its corked reply, if any, is dropped unsent. */
	if (c && wh_tlsio_reply_sent(&c->io, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, &err))
		wh_log("warn", "%s", err.msg);
	if (!*req_cls || !c)
		return;
	if (c->req.counted)
		wh_metrics_in_flight(-1);
	c->req.counted = 0;
	release_held(&c->req);
	trim(&c->body);
	trim(&c->reply);
	trim(&c->log);
	*req_cls = NULL;
}

/* Closes worth a log line: a request that did not arrive within
 * --read-timeout, and a request libmicrohttpd refused. */
static void closed(struct MHD_Connection *con, struct conn *c, const wh_config *cfg)
{
	char remote[NI_MAXHOST];

	if (wh_tlsio_timed_out(&c->io)) {
		wh_tlsio_take_timeout_note();
		wh_metrics_connection_timed_out();
		peer(con, remote, sizeof(remote));
		wh_log("warn",
		       "closed the connection from %s: its request did not arrive within %u s "
		       "(--read-timeout)",
		       remote, cfg->read_timeout);
	} else if (c->io.refused) {
		peer(con, remote, sizeof(remote));
		wh_log_refused(&c->log, NULL, NULL, (int)c->io.refused,
			       MHD_get_reason_phrase_for(c->io.refused),
			       "refused by libmicrohttpd before the request reached the webhook (a "
			       "malformed request, or headers larger than the connection's memory)",
			       remote);
		wh_metrics_http_error((int)c->io.refused);
	}
	wh_tlsio_detach(&c->io);
}

static void connection(void *cls, struct MHD_Connection *con, void **socket_context,
		       enum MHD_ConnectionNotificationCode what)
{
	wh_server *s = cls;
	struct conn *c = *socket_context;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *tls =
			MHD_get_connection_info(con, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = calloc(1, sizeof(*c));
		if (c) {
			ws_buf_init(&c->body, WS_ADMISSION_BODY_MAX);
			ws_buf_init(&c->reply, REPLY_MAX);
			ws_buf_init(&c->log, LOG_LINE_MAX);
			if (tls && fd)
				wh_tlsio_attach(&c->io, tls->tls_session, fd->connect_fd, con,
						s->cfg->read_timeout, s->cfg->idle_timeout);
		}
		*socket_context = c;
		return;
	}
	if (c) {
		closed(con, c, s->cfg);
		release_held(&c->req);
		ws_buf_release(&c->body);
		ws_buf_release(&c->reply);
		ws_buf_release(&c->log);
		free(c);
	}
	*socket_context = NULL;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A connection closed at accept by a limit: counted, and logged at most
 * every 10 s (a flood would otherwise write a line per connection).
 * libmicrohttpd says the same for both limits; over --max-connections most
 * wait in the backlog instead (a worker at its share stops accepting). */
static void connection_refused(void)
{
	static atomic_long last_log = -10;
	static atomic_ulong logged;
	unsigned long total = wh_metrics_connection_refused();
	struct timespec now;
	long then;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	then = atomic_load_explicit(&last_log, memory_order_relaxed);
	if (now.tv_sec - then < 10 ||
	    !atomic_compare_exchange_strong(&last_log, &then, (long)now.tv_sec))
		return;
	wh_log("warn",
	       "refused %lu connections at accept since the last such line: --max-connections or "
	       "--max-connections-per-client reached",
	       total - atomic_exchange(&logged, total));
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	/* Logged, with the client's address, when the connection closes
	 * (closed()): libmicrohttpd's refusals, and its note on a read
	 * failed by the read deadline. A request libmicrohttpd refuses itself
	 * (headers over the connection's memory: 431, a malformed request
	 * line: 400, ...) is refused right after a read of that connection,
	 * the thread's current one (wh_tlsio_current). */
	if (starts(fmt, "Error processing request (HTTP response code is")) {
		unsigned code;

		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (sscanf(msg, "Error processing request (HTTP response code is %u", &code) == 1 &&
		    code >= 400 && code < 600 && wh_tlsio_current()) {
			wh_tlsio_current()->refused = code;
			return;
		}
		goto out;
	}
	if (starts(fmt, "Server reached connection limit")) {
		connection_refused();
		return;
	}
	if ((starts(fmt, "Connection socket is closed when reading request") ||
	     starts(fmt, "Error: received handshake message out of context")) &&
	    wh_tlsio_take_timeout_note())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
out:
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	wh_log("warn", "libmicrohttpd: %s", msg);
}

/* libmicrohttpd's panic (a broken invariant; it must not return): said in
 * the JSON log, with what was queued before it, rather than as a bare
 * line on stderr after the queued lines are lost. */
static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
	size_t n = strlen(reason ? reason : "");

	(void)cls;
	while (n > 0 && reason[n - 1] == '\n')
		n--;
	wh_log_fatal("libmicrohttpd: fatal error at %s:%u: %.*s", file ? file : "?", line, (int)n,
		     reason ? reason : "");
	abort();
}

/* While draining, a new connection is closed as soon as it is accepted.
 * (Not MHD_quiesce_daemon, which would let the kernel refuse it: in
 * libmicrohttpd 0.9.75 it races its busy workers in epoll mode with a
 * thread pool, both taking the listening socket out of a worker's epoll
 * set, and the loser panics (daemon.c:5531), aborting the process
 * mid-drain. Handing the library connections accepted here instead costs
 * two setsockopt(2) per reply, as it then does not know their TCP_CORK
 * state.) */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	const wh_server *s = cls;

	(void)addr;
	(void)len;
	return atomic_load_explicit(&s->closing, memory_order_relaxed) ? MHD_NO : MHD_YES;
}

/* epoll with a thread pool, without MHD_USE_TURBO: in libmicrohttpd 0.9.75
 * turbo mode never times out a connection that has not finished its TLS
 * handshake (a client that connects and stays silent holds a slot for
 * good) and skips TLS close_notify, and it saves nothing per request (it
 * only changes how a connection is accepted and closed): the per-request
 * socket calls are the transport's business (tlsio.h). */
static struct MHD_Daemon *start(wh_server *s, unsigned int flags, const struct sockaddr *addr)
{
	const wh_config *c = s->cfg;

	flags |= MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	/* addr NULL: every address, on c->port */
	return MHD_start_daemon(
		flags, c->port, accept_policy, s, handle, s, MHD_OPTION_EXTERNAL_LOGGER,
		(MHD_LogCallback)mhd_log, (void *)NULL, MHD_OPTION_HTTPS_CERT_CALLBACK,
		(gnutls_certificate_retrieve_function2 *)wh_tls_retrieve, MHD_OPTION_HTTPS_PRIORITIES,
		(const char *)c->priorities, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)c->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)c->max_per_client,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->idle_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, (MHD_RequestCompletedCallback)completed, (void *)s,
		MHD_OPTION_NOTIFY_CONNECTION, (MHD_NotifyConnectionCallback)connection, (void *)s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)addr, MHD_OPTION_END);
}

#define MHD_TESTED "0.9.75"

/* "a.b.c" as a number a*1000000 + b*1000 + c; 0 when unreadable. */
static long version_number(const char *v)
{
	unsigned a = 0, b = 0, c = 0;

	if (!v || sscanf(v, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return (long)a * 1000000 + (long)b * 1000 + c;
}

int wh_server_check_libraries(char *note, size_t size, ws_err *err)
{
	const char *mhd = MHD_get_version();
	const char *tls = gnutls_check_version(NULL);

	note[0] = '\0';
	if (version_number(mhd) < version_number("0.9.71"))
		return ws_fail(err, WS_E_INVALID,
			       "libmicrohttpd %s is too old: 0.9.71 or later is needed (tested: %s)",
			       mhd ? mhd : "(unknown)", MHD_TESTED);
	if (!gnutls_check_version("3.6.0"))
		return ws_fail(err, WS_E_INVALID, "GnuTLS %s is too old: 3.6.0 or later is needed",
			       tls ? tls : "(unknown)");
	if (strcmp(mhd, MHD_TESTED) != 0)
		snprintf(note, size,
			 "libmicrohttpd %s is not the tested %s: the refusal log lines, the "
			 "connection-limit count and the read deadline during the TLS handshake "
			 "rely on its internals; check them (tests/webhook/test_server.py, "
			 "test_hardening.py)",
			 mhd, MHD_TESTED);
	return 0;
}

wh_server *wh_server_start(const wh_config *cfg, ws_err *err)
{
	wh_server *s = calloc(1, sizeof(*s));
	struct addrinfo hints = {0}, *ai = NULL;
	const union MHD_DaemonInfo *info;
	char port[8];
	int rc;

	if (!s) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	MHD_set_panic_func(mhd_panic, NULL);
	wh_budget_init((size_t)cfg->review_memory_mib << 20);
	if (!cfg->host[0]) {
		/* every address: IPv6 and IPv4 where the host has IPv6, else IPv4 */
		s->daemon = start(s, MHD_USE_DUAL_STACK, NULL);
		if (!s->daemon)
			s->daemon = start(s, 0, NULL);
	} else {
		snprintf(port, sizeof(port), "%u", cfg->port);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(cfg->host, port, &hints, &ai);
		if (rc != 0) {
			ws_fail(err, WS_E_INVALID, "cannot listen on '%s': %s", cfg->host,
				gai_strerror(rc));
			free(s);
			return NULL;
		}
		s->daemon = start(s, ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0, ai->ai_addr);
		freeaddrinfo(ai);
	}
	if (!s->daemon) {
		ws_fail(err, WS_E_IO, "cannot start the HTTPS server on %s:%u (address in use, or "
				      "a bad --tls-priorities string?)",
			cfg->host[0] ? cfg->host : "*", cfg->port);
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : cfg->port;
	return s;
}

unsigned short wh_server_port(const wh_server *s)
{
	return s->port;
}

void wh_server_unready(wh_server *s)
{
	atomic_store(&s->draining, 1);
}

void wh_server_drain(wh_server *s)
{
	atomic_store(&s->draining, 1);
	atomic_store(&s->closing, 1);
}

unsigned int wh_server_connections(const wh_server *s)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

void wh_server_stop(wh_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->daemon);
	free(s);
}
