/* server.c - libmicrohttpd server: routing, bodies, admission round trip,
 * draining (see server.h). */
#include "server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "log.h"
#include "metrics.h"
#include "rules.h"
#include "tls.h"

/* A body over the cap is read and dropped up to this size so the client
 * gets its 413 on a healthy connection; beyond it the connection is cut. */
#define DRAIN_MAX (4 * WS_ADMISSION_BODY_MAX)
#define REPLY_MAX ((size_t)16 << 20)
#define METRICS_MAX ((size_t)1 << 20)

struct wh_server {
	const wh_config *cfg;
	struct MHD_Daemon *daemon;
	MHD_socket quiesced;
	atomic_int draining;
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
	struct timespec start;
	ws_buf body;
	size_t dropped;     /* bytes read and dropped after a refusal */
	int status;         /* non-zero: answer this error once the body is in */
	const char *reason;
	const char *allow;
	char message[200];
	int counted;        /* in the in-flight gauge */
};

static long elapsed_us(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000;
}

/* Queue body (taken) with a status; the connection closes after it while draining. */
static enum MHD_Result reply(wh_server *s, struct MHD_Connection *con, unsigned int code,
			     ws_buf *body, const char *type, const char *allow)
{
	size_t len;
	char *data = ws_buf_detach(body, &len);
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE)
		 : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (atomic_load_explicit(&s->draining, memory_order_relaxed))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(con, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(wh_server *s, struct MHD_Connection *con, unsigned int code,
				  const char *text)
{
	ws_buf b = WS_BUF_INIT(4096);

	if (ws_buf_adds(&b, text, NULL))
		return MHD_NO;
	return reply(s, con, code, &b, "text/plain; charset=utf-8", NULL);
}

/* An HTTP error answered with a v1 Status body. */
static enum MHD_Result reply_status(wh_server *s, struct MHD_Connection *con, int code,
				    const char *reason, const char *message, const char *allow)
{
	ws_buf b = WS_BUF_INIT(8192);

	wh_metrics_http_error(code);
	if (ws_admission_encode_status(code, reason, message, &b, NULL)) {
		ws_buf_release(&b);
		return MHD_NO;
	}
	return reply(s, con, (unsigned int)code, &b, "application/json", allow);
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

static int is_json(const char *type)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	return strncasecmp(type, want, n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static enum MHD_Result begin(wh_server *s, struct MHD_Connection *con, const char *url,
			     const char *method, void **req_cls)
{
	const char *clen = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *type = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	unsigned long long len = clen ? strtoull(clen, NULL, 10) : 0;
	struct req *r;
	size_t i;

	if (len > DRAIN_MAX) {
		char msg[96];

		/* Not worth reading: answer now, MHD closes the connection after it. */
		snprintf(msg, sizeof(msg), "request body is larger than %zu bytes",
			 WS_ADMISSION_BODY_MAX);
		return reply_status(s, con, 413, "RequestEntityTooLarge", msg, NULL);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return MHD_NO;
	*req_cls = r;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	ws_buf_init(&r->body, WS_ADMISSION_BODY_MAX);
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
	if (type && !is_json(type)) {
		refuse(r, 415, "UnsupportedMediaType", NULL,
		       "Content-Type '%.60s' is not supported: send application/json", type);
	} else if (len > WS_ADMISSION_BODY_MAX) {
		refuse(r, 413, "RequestEntityTooLarge", NULL, "request body is larger than %zu bytes",
		       WS_ADMISSION_BODY_MAX);
	} else if (len > 0) {
		/* sized once: the body arrives in chunks */
		r->body.data = malloc((size_t)len + 1);
		if (!r->body.data)
			return MHD_NO;
		r->body.cap = (size_t)len + 1;
		r->body.data[0] = '\0';
	}
	return MHD_YES;
}

static enum MHD_Result absorb(struct req *r, const char *data, size_t *size)
{
	size_t n = *size;

	*size = 0;
	if (!r->status && ws_buf_add(&r->body, data, n, NULL) == 0)
		return MHD_YES;
	if (!r->status) {
		refuse(r, 413, "RequestEntityTooLarge", NULL, "request body is larger than %zu bytes",
		       WS_ADMISSION_BODY_MAX);
		ws_buf_release(&r->body);
	}
	r->dropped += n;
	return r->dropped > DRAIN_MAX ? MHD_NO : MHD_YES;
}

static enum MHD_Result admit(wh_server *s, struct MHD_Connection *con, struct req *r)
{
	enum wh_mode mode = r->route == R_MUTATE ? WH_MUTATE : WH_VALIDATE;
	ws_buf out = WS_BUF_INIT(REPLY_MAX);
	const char *warnings[WH_WARN_MAX];
	ws_admission_request req;
	ws_admission_reply rep = {0};
	enum MHD_Result ret;
	char *patch = NULL;
	wh_decision d;
	ws_err err;
	size_t i;
	long us;

	if (ws_admission_parse(r->body.data, r->body.len, &req, &err)) {
		wh_log("warn", "refused a %s request: %s", routes[r->route].path, err.msg);
		return reply_status(s, con, err.code, err.reason, err.msg, NULL);
	}
	wh_decide(&s->cfg->platform, mode, &req, &d);
	if (d.outcome == WH_PATCHED && !(patch = ws_patch_base64(&d.patch))) {
		wh_decision_release(&d);
		ws_admission_release(&req);
		return reply_status(s, con, 500, "InternalError", "out of memory", NULL);
	}
	for (i = 0; i < d.nwarnings; i++)
		warnings[i] = d.warnings[i];
	rep.uid = req.uid;
	rep.allowed = d.outcome != WH_DENIED;
	rep.code = d.code;
	rep.reason = d.reason;
	rep.message = d.message;
	rep.patch = patch;
	rep.warnings = warnings;
	rep.nwarnings = d.nwarnings;
	if (ws_admission_encode(&rep, &out, &err)) {
		ret = reply_status(s, con, 500, "InternalError", err.msg, NULL);
		goto out;
	}
	us = elapsed_us(&r->start);
	wh_metrics_decision(mode, d.kind, req.op, d.outcome, (uint64_t)us);
	wh_log_decision(mode == WH_MUTATE ? "mutate" : "validate", &req, &d, us);
	ret = reply(s, con, 200, &out, "application/json", NULL);
out:
	ws_buf_release(&out);
	free(patch);
	wh_decision_release(&d);
	ws_admission_release(&req);
	return ret;
}

static enum MHD_Result finish(wh_server *s, struct MHD_Connection *con, struct req *r)
{
	ws_buf b = WS_BUF_INIT(METRICS_MAX);

	if (r->status)
		return reply_status(s, con, r->status, r->reason, r->message, r->allow);
	switch (r->route) {
	case R_MUTATE:
	case R_VALIDATE:
		return admit(s, con, r);
	case R_HEALTHZ:
		return reply_text(s, con, 200, "ok\n");
	case R_READYZ:
		if (atomic_load_explicit(&s->draining, memory_order_relaxed))
			return reply_text(s, con, 503, "shutting down\n");
		return reply_text(s, con, 200, "ok\n");
	case R_METRICS:
		if (wh_metrics_render(&b, NULL)) {
			ws_buf_release(&b);
			return MHD_NO;
		}
		return reply(s, con, 200, &b, "text/plain; version=0.0.4; charset=utf-8", NULL);
	case R_NONE:
		break;
	}
	return MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	wh_server *s = cls;
	struct req *r = *req_cls;

	(void)version;
	if (!r)
		return begin(s, con, url, method, req_cls);
	if (*upload_data_size)
		return absorb(r, upload_data, upload_data_size);
	return finish(s, con, r);
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (!r)
		return;
	if (r->counted)
		wh_metrics_in_flight(-1);
	ws_buf_release(&r->body);
	free(r);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	wh_log("warn", "libmicrohttpd: %s", msg);
}

static struct MHD_Daemon *start(wh_server *s, unsigned int flags, const struct sockaddr *addr)
{
	const wh_config *c = s->cfg;

	flags |= MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_TLS | MHD_USE_ITC |
		 MHD_USE_ERROR_LOG;
	if (addr)
		return MHD_start_daemon(
			flags, c->port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER,
			(MHD_LogCallback)mhd_log, (void *)NULL, MHD_OPTION_HTTPS_CERT_CALLBACK,
			(gnutls_certificate_retrieve_function2 *)wh_tls_retrieve,
			MHD_OPTION_HTTPS_PRIORITIES, (const char *)c->priorities,
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned int)c->max_connections,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->idle_timeout,
			MHD_OPTION_NOTIFY_COMPLETED, (MHD_RequestCompletedCallback)completed, (void *)s,
			MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_END);
	return MHD_start_daemon(
		flags, c->port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER,
		(MHD_LogCallback)mhd_log, (void *)NULL, MHD_OPTION_HTTPS_CERT_CALLBACK,
		(gnutls_certificate_retrieve_function2 *)wh_tls_retrieve, MHD_OPTION_HTTPS_PRIORITIES,
		(const char *)c->priorities, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)c->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->idle_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, (MHD_RequestCompletedCallback)completed, (void *)s,
		MHD_OPTION_END);
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
	s->quiesced = MHD_INVALID_SOCKET;
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

void wh_server_drain(wh_server *s)
{
	atomic_store(&s->draining, 1);
	s->quiesced = MHD_quiesce_daemon(s->daemon);
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
	if (s->quiesced != MHD_INVALID_SOCKET)
		close(s->quiesced);
	free(s);
}
