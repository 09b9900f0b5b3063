/* http.h - the HTTP engine under the Kubernetes and Flyte clients (libcurl):
 * TLS from memory, bearer tokens, timeouts, retries with backoff, and
 * parallel requests (libcurl multi).
 *
 * A target describes where and how to connect; requests point at a target
 * and carry their own results, so a batch may mix Kubernetes and Flyte
 * requests. Secrets (token, key) stay in memory: libcurl gets them through
 * CURLOPT_*_BLOB and an Authorization header; they are never logged.
 *
 * Retries: on a connection error, 429 (honouring Retry-After, capped) and
 * 5xx, with exponential backoff and jitter; never on other 4xx. A request
 * that may already have reached the server (the connection broke after it
 * was sent) is repeated only for idempotent methods (GET, HEAD, PUT,
 * DELETE); POST and PATCH are repeated only when they were never sent.
 *
 * Threads: targets may be shared between threads; the refresh hook runs
 * under a process-wide lock, and each attempt takes its own copy of the
 * credentials, so a hook may replace them at any time.
 */
#ifndef WS_HTTP_H
#define WS_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

#define WS_HTTP_MAX_BODY (64u << 20)

struct ws_http_target;

/* Called before each attempt, e.g. to refresh an expiring exec-plugin
 * token; may update target->bearer / client certificate. 0 or -1. */
typedef int (*ws_http_refresh_fn)(void *ctx, struct ws_http_target *t, ws_err *err);

typedef struct ws_http_target {
	char *base_url;          /* "https://host:port[/prefix]" without trailing '/' */
	char *tls_server_name;   /* verify/SNI (and Host) as this name, connecting to the
				    URL's address (NULL: the URL host) */
	char *proxy_url;         /* NULL: none (environment proxies are ignored) */
	unsigned char *ca_pem;   /* PEM bundle; NULL: system trust store */
	size_t ca_len;
	unsigned char *cert_pem; /* client certificate and key, PEM; NULL: none */
	size_t cert_len;
	unsigned char *key_pem;
	size_t key_len;
	int skip_tls_verify;     /* skip certificate verification */
	char *bearer;            /* token for "Authorization: Bearer"; NULL: none */
	long timeout_ms;         /* each attempt, connect to last byte; 0: 30000 */
	long connect_timeout_ms; /* 0: 10000 */
	int max_retries;         /* 0: 4 (so 5 attempts); -1: none */
	long backoff_ms;         /* first retry delay, doubled each time (cap 8 s); 0: 250 */
	ws_http_refresh_fn refresh;
	void *refresh_ctx;
	/* Called before each attempt of a request that may write (any method
	 * but GET and HEAD); -1 (err set) refuses it, and the request fails
	 * with that error without being sent. The controller's leadership
	 * check. NULL: every request goes. */
	int (*write_guard)(void *ctx, ws_err *err);
	void *write_guard_ctx;
	const char *user_agent;  /* borrowed; NULL: "kubectl-workspace" */
} ws_http_target;

/* Free every member (secrets are wiped first) and zero the target. */
void ws_http_target_release(ws_http_target *t);

typedef struct ws_http_req {
	ws_http_target *target;
	const char *method;       /* "GET", "POST", ... */
	char *path;               /* path and query, owned, e.g. "/api/v1/namespaces?limit=500" */
	const char *content_type; /* of body; NULL when there is none */
	const char *accept;       /* NULL: application/json */
	char *body;               /* owned; may be NULL */
	size_t body_len;
	int no_retry;             /* set for requests that must not be repeated */
	/* results */
	long status;              /* HTTP status, 0 when nothing was answered */
	ws_buf response;          /* the body, capped at WS_HTTP_MAX_BODY */
	long retry_after_s;       /* from the last answer, -1 if none */
	int attempts;
	ws_err err;               /* set when status == 0 (transport) */
} ws_http_req;

/* Prepare a request; path is copied. body (may be NULL) is copied too. */
int ws_http_req_init(ws_http_req *r, ws_http_target *t, const char *method, const char *path,
		     const char *content_type, const char *body, size_t body_len, ws_err *err);
void ws_http_req_release(ws_http_req *r);

/* Run n requests in parallel (each with its own retries) and return when
 * all are done. Returns the number of requests that got no answer at all;
 * HTTP error statuses are results, not failures, here. */
size_t ws_http_perform(ws_http_req **reqs, size_t n);

/* Run one request and stream the body: on_line is called for every
 * complete line (without the '\n') as it arrives; returning non-zero
 * stops the stream. Used for watches. Returns 0 when the stream ended
 * (server closed it, timeout_s passed, or on_line stopped it), -1 on a
 * transport error or a non-2xx status (err filled; r->response holds the
 * error body). No retries. */
int ws_http_stream(ws_http_req *r, long timeout_s,
		   int (*on_line)(void *ctx, const char *line, size_t len), void *ctx, ws_err *err);

/* Process-wide init/cleanup (curl_global_*). Safe to call more than once. */
int ws_http_global_init(ws_err *err);

/* Interruption (Ctrl-C), process-wide. ws_http_interrupt(sig) only stores
 * sig in a volatile sig_atomic_t, so a signal handler may call it. From then
 * on a request not yet started fails at once with "interrupted" (WS_E_TRANSPORT,
 * no answer), nothing is retried, and a read (GET, HEAD) in flight is
 * aborted the same way; a write in flight is let finish, so that its caller
 * knows whether it happened (its rollback depends on that).
 * While held (ws_http_interrupt_hold(1), released by ws_http_interrupt_hold(0);
 * holds nest), requests run as usual: the rollback after an interruption
 * must reach the servers.
 * ws_http_interrupted() is the signal received, or 0; ws_http_stopped() is
 * 1 when requests are being refused (interrupted and not held). */
void ws_http_interrupt(int sig);
void ws_http_interrupt_hold(int hold);
int ws_http_interrupted(void);
int ws_http_stopped(void);

#endif
