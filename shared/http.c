/* http.c - the libcurl engine under the Kubernetes and Flyte clients (see
 * http.h): batches on one multi handle with per-request retries and backoff,
 * and line streaming for watches. Credentials are copied per attempt and
 * handed to libcurl from memory; every copy is wiped when the attempt ends.
 */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define HTTP_PARALLEL 16          /* transfers running at once in a batch */
#define RETRY_AFTER_CAP_S 30
#define BACKOFF_DEFAULT_MS 250
#define BACKOFF_CAP_MS 8000
#define USER_AGENT "kubectl-workspace"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
/* Held while a refresh hook runs and while an attempt copies credentials. */
static pthread_mutex_t cred_lock = PTHREAD_MUTEX_INITIALIZER;

/* Set from a signal handler: only stored and read, never anything else. */
static volatile sig_atomic_t interrupt_sig;
static volatile sig_atomic_t interrupt_held;

void ws_http_interrupt(int sig)
{
	interrupt_sig = sig;
}

void ws_http_interrupt_hold(int hold)
{
	interrupt_held += hold ? 1 : -1; /* nests; only the main thread holds */
}

int ws_http_interrupted(void)
{
	return interrupt_sig;
}

int ws_http_stopped(void)
{
	return interrupt_sig && !interrupt_held;
}

static int is_read(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ws_http_global_init(ws_err *err)
{
	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK)
		return ws_fail(err, WS_E_INTERNAL, "cannot initialise libcurl: %s",
			       curl_easy_strerror(global_rc));
	return 0;
}


/* Free a header list whose entries may hold a token. */
static void slist_free_wipe(struct curl_slist *l)
{
	struct curl_slist *it;

	for (it = l; it; it = it->next)
		explicit_bzero(it->data, strlen(it->data));
	curl_slist_free_all(l);
}

void ws_http_target_release(ws_http_target *t)
{
	if (!t)
		return;
	free(t->base_url);
	free(t->tls_server_name);
	free(t->proxy_url);
	free(t->ca_pem);
	ws_wipe_free(t->cert_pem, t->cert_len);
	ws_wipe_free(t->key_pem, t->key_len);
	ws_wipe_str(t->bearer);
	memset(t, 0, sizeof(*t));
}

int ws_http_req_init(ws_http_req *r, ws_http_target *t, const char *method, const char *path,
		     const char *content_type, const char *body, size_t body_len, ws_err *err)
{
	memset(r, 0, sizeof(*r));
	r->target = t;
	r->method = method;
	r->content_type = content_type;
	r->retry_after_s = -1;
	ws_buf_init(&r->response, WS_HTTP_MAX_BODY);
	r->path = strdup(path);
	if (!r->path)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	if (body) {
		r->body = malloc(body_len + 1);
		if (!r->body) {
			free(r->path);
			r->path = NULL;
			return ws_fail(err, WS_E_INTERNAL, "out of memory");
		}
		memcpy(r->body, body, body_len);
		r->body[body_len] = '\0';
		r->body_len = body_len;
	}
	return 0;
}

void ws_http_req_release(ws_http_req *r)
{
	if (!r)
		return;
	free(r->path);
	/* A body may carry a Secret's data. */
	ws_wipe_free(r->body, r->body_len);
	ws_buf_release(&r->response);
	r->path = NULL;
	r->body = NULL;
	r->body_len = 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t random_u32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)now_ms() * 2654435761u;
	return v;
}

/* The credentials of one attempt: copies, wiped when the attempt ends. */
struct creds {
	char *auth;  /* "Authorization: Bearer ..." or NULL */
	unsigned char *cert, *key;
	size_t cert_len, key_len;
};

static void creds_release(struct creds *c)
{
	ws_wipe_str(c->auth);
	ws_wipe_free(c->cert, c->cert_len);
	ws_wipe_free(c->key, c->key_len);
	memset(c, 0, sizeof(*c));
}

static unsigned char *memdup(const unsigned char *p, size_t n)
{
	unsigned char *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* Run the refresh hook and copy the target's credentials. */
static int creds_take(struct creds *c, ws_http_target *t, ws_err *err)
{
	int rc = -1;

	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&cred_lock);
	if (t->refresh && t->refresh(t->refresh_ctx, t, err))
		goto out;
	if (t->bearer && *t->bearer) {
		size_t n = strlen(t->bearer) + sizeof("Authorization: Bearer ");

		c->auth = malloc(n);
		if (!c->auth)
			goto oom;
		snprintf(c->auth, n, "Authorization: Bearer %s", t->bearer);
	}
	if (t->cert_pem && t->key_pem) {
		c->cert = memdup(t->cert_pem, t->cert_len);
		c->key = memdup(t->key_pem, t->key_len);
		c->cert_len = t->cert_len;
		c->key_len = t->key_len;
		if (!c->cert || !c->key)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	ws_fail(err, WS_E_INTERNAL, "out of memory");
	creds_release(c);
out:
	pthread_mutex_unlock(&cred_lock);
	return rc;
}

/* What one transfer needs besides the request: its handle and the memory
 * libcurl points into while it runs. */
struct xfer {
	ws_http_req *r;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *url;
	struct creds creds;
	char errbuf[CURL_ERROR_SIZE];
	int too_large;
	/* batch state */
	enum { X_WAIT, X_RUN, X_DONE } state;
	long long due_ms;
};

static void xfer_clear_attempt(struct xfer *x)
{
	slist_free_wipe(x->headers);
	curl_slist_free_all(x->connect_to);
	free(x->url);
	creds_release(&x->creds);
	x->headers = x->connect_to = NULL;
	x->url = NULL;
	x->errbuf[0] = '\0';
	x->too_large = 0;
}

/* The URL of a request; with tls_server_name, the URL names that host (so
 * that SNI and verification use it) and connect_to sends the connection
 * to the real one. */
static int build_url(struct xfer *x, ws_err *err)
{
	const ws_http_target *t = x->r->target;
	CURLU *u = NULL;
	char *full = NULL, *host = NULL, *port = NULL, *url = NULL, *line = NULL;
	size_t n;
	int rc = -1;

	if (!t->base_url || !*t->base_url)
		return ws_fail(err, WS_E_INVALID, "no server address");
	n = strlen(t->base_url) + strlen(x->r->path) + 1;
	full = malloc(n);
	if (!full)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	snprintf(full, n, "%s%s", t->base_url, x->r->path);
	if (!t->tls_server_name || !*t->tls_server_name) {
		x->url = full;
		return 0;
	}
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, full, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		ws_fail(err, WS_E_INVALID, "invalid server address '%s'", t->base_url);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_HOST, t->tls_server_name, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		ws_fail(err, WS_E_INVALID, "invalid tls-server-name '%s'", t->tls_server_name);
		goto out;
	}
	n = strlen(t->tls_server_name) + 2 * strlen(port) + strlen(host) + 4;
	line = malloc(n);
	x->url = strdup(url);
	if (!line || !x->url) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(line, n, "%s:%s:%s:%s", t->tls_server_name, port, host, port);
	x->connect_to = curl_slist_append(NULL, line);
	if (!x->connect_to) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(full);
	free(line);
	curl_free(host);
	curl_free(port);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb;

	if (ws_buf_add(&x->r->response, p, len, NULL)) {
		x->too_large = 1;
		return 0;
	}
	return len;
}

/* libcurl calls this often while a transfer runs (at least once a second):
 * a read in flight is aborted once interrupted (see ws_http_interrupt). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return ws_http_stopped() && is_read(x->r->method);
}

static int add_header(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (!n)
		return -1;
	*l = n;
	return 0;
}

/* The request's headers, with the credentials' Authorization. */
static int set_headers(struct xfer *x)
{
	const ws_http_req *r = x->r;
	char line[256];
	int fail = 0;

	snprintf(line, sizeof(line), "Accept: %s", r->accept ? r->accept : "application/json");
	fail |= add_header(&x->headers, line);
	if (r->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		fail |= add_header(&x->headers, line);
	}
	fail |= add_header(&x->headers, "Expect:");
	if (x->creds.auth)
		fail |= add_header(&x->headers, x->creds.auth);
	return fail ? -1 : 0;
}

static void set_method(CURL *e, const ws_http_req *r)
{
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		if (r->body || strcmp(r->method, "DELETE") != 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		}
	}
}

/* Trust (the target's CA bundle, or skip verification) and the client
 * certificate of this attempt's credentials. */
static void set_tls(struct xfer *x)
{
	const ws_http_target *t = x->r->target;
	CURL *e = x->easy;
	struct curl_blob blob;

	if (t->ca_pem) {
		blob.data = t->ca_pem;
		blob.len = t->ca_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		/* Trust that bundle alone, as kubectl does. */
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (t->skip_tls_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (x->creds.cert) {
		/* NOCOPY: libcurl reads our copy, which is wiped afterwards. */
		blob.data = x->creds.cert;
		blob.len = x->creds.cert_len;
		blob.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		blob.data = x->creds.key;
		blob.len = x->creds.key_len;
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

/* Set every option of one attempt on x->easy (fresh or reset). */
static int setup_easy(struct xfer *x, long timeout_ms, curl_write_callback write_fn, void *write_data,
		      ws_err *err)
{
	ws_http_target *t = x->r->target;
	CURL *e = x->easy;

	if (creds_take(&x->creds, t, err) || build_url(x, err))
		return -1;
	if (set_headers(x))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, t->user_agent ? t->user_agent : USER_AGENT);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_fn);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, write_data);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 t->connect_timeout_ms > 0 ? t->connect_timeout_ms : 10000L);
	/* "" turns off the proxies of the environment: kubeconfig decides. */
	curl_easy_setopt(e, CURLOPT_PROXY, t->proxy_url ? t->proxy_url : "");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (x->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	set_method(e, x->r);
	set_tls(x);
	return 0;
}

static int transport_retryable(CURLcode rc, int sent, const char *method)
{
	int idempotent = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
			 strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
		/* A slow answer is not repeated; a slow connect is. */
		return !sent;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return !sent || idempotent;
	default:
		return 0;
	}
}

/* Fill r->err for a transfer that got no answer. */
static void transport_error(struct xfer *x, CURLcode rc)
{
	ws_http_req *r = x->r;
	char detail[CURL_ERROR_SIZE];

	if (rc == CURLE_ABORTED_BY_CALLBACK && ws_http_interrupted()) {
		ws_fail(&r->err, WS_E_TRANSPORT, "interrupted");
		return;
	}
	if (x->too_large)
		snprintf(detail, sizeof(detail), "response larger than %zu bytes", r->response.max);
	else
		snprintf(detail, sizeof(detail), "%s",
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
	if (detail[0] >= 'A' && detail[0] <= 'Z' && !(detail[1] >= 'A' && detail[1] <= 'Z'))
		detail[0] = (char)(detail[0] - 'A' + 'a');
	ws_fail(&r->err, WS_E_TRANSPORT, "%s %s%s: %s", r->method,
		r->target->base_url ? r->target->base_url : "", r->path, detail);
	if (r->attempts > 1)
		ws_err_append(&r->err, " (after %d attempts)", r->attempts);
}

static int max_retries(const ws_http_target *t)
{
	return t->max_retries == 0 ? 4 : t->max_retries < 0 ? 0 : t->max_retries;
}

/* How long to wait before the next attempt of r. */
static long long retry_delay_ms(const ws_http_req *r)
{
	long long base = r->target->backoff_ms > 0 ? r->target->backoff_ms : BACKOFF_DEFAULT_MS;
	long long d = base;
	int i;

	if (r->retry_after_s > 0) {
		long s = r->retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : r->retry_after_s;

		return (long long)s * 1000 + random_u32() % (unsigned)(base + 1);
	}
	for (i = 1; i < r->attempts && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	/* Half fixed, half random: spread out clients that failed together. */
	return d / 2 + random_u32() % (unsigned)(d / 2 + 1);
}

/* Record the outcome of an attempt; 1 when it should be repeated. */
static int attempt_done(struct xfer *x, CURLcode rc)
{
	ws_http_req *r = x->r;
	int retry;

	r->status = 0;
	r->retry_after_s = -1;
	if (rc == CURLE_OK) {
		curl_off_t ra = 0;

		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			r->retry_after_s = (long)ra;
		ws_err_clear(&r->err);
		retry = r->status == 429 || (r->status >= 500 && r->status != 501);
	} else {
		long sent = 0;

		curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent);
		transport_error(x, rc);
		ws_buf_reset(&r->response);
		retry = !x->too_large && transport_retryable(rc, sent > 0, r->method);
	}
	xfer_clear_attempt(x);
	return retry && !r->no_retry && r->attempts <= max_retries(r->target) && !ws_http_stopped();
}

/* Begin an attempt of x on m; -1 (r->err set) when it cannot start. */
static int attempt_start(struct xfer *x, CURLM *m)
{
	ws_http_req *r = x->r;
	long timeout = r->target->timeout_ms > 0 ? r->target->timeout_ms : 30000L;

	if (ws_http_stopped())
		return ws_fail(&r->err, WS_E_TRANSPORT, "interrupted");
	if (!is_read(r->method) && r->target->write_guard &&
	    r->target->write_guard(r->target->write_guard_ctx, &r->err))
		return -1;
	r->attempts++;
	ws_buf_reset(&r->response);
	if (!x->easy)
		x->easy = curl_easy_init();
	else
		curl_easy_reset(x->easy);
	if (!x->easy)
		return ws_fail(&r->err, WS_E_INTERNAL, "out of memory");
	if (setup_easy(x, timeout, on_body, x, &r->err) ||
	    curl_multi_add_handle(m, x->easy) != CURLM_OK) {
		if (r->err.kind == WS_E_NONE)
			ws_fail(&r->err, WS_E_INTERNAL, "cannot start request");
		xfer_clear_attempt(x);
		return -1;
	}
	return 0;
}

/* The requests of one ws_http_perform and where each stands. */
struct batch {
	struct xfer *xs;
	size_t n;
	size_t left;    /* not X_DONE */
	size_t running; /* X_RUN */
	CURLM *m;
};

/* Start every waiting request that is due, up to HTTP_PARALLEL at once. */
static void start_due(struct batch *b)
{
	long long now = now_ms();
	size_t i;

	for (i = 0; i < b->n && b->running < HTTP_PARALLEL; i++) {
		struct xfer *x = &b->xs[i];

		if (x->state != X_WAIT || x->due_ms > now)
			continue;
		if (attempt_start(x, b->m)) {
			x->state = X_DONE;
			b->left--;
		} else {
			x->state = X_RUN;
			b->running++;
		}
	}
}

/* Take the finished attempts: done, or waiting for their retry. */
static void collect_finished(struct batch *b)
{
	CURLMsg *msg;
	int q;

	while ((msg = curl_multi_info_read(b->m, &q)) != NULL) {
		char *priv = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct xfer *x;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)priv;
		curl_multi_remove_handle(b->m, easy);
		b->running--;
		if (attempt_done(x, rc)) {
			x->state = X_WAIT;
			x->due_ms = now_ms() + retry_delay_ms(x->r);
		} else {
			x->state = X_DONE;
			b->left--;
		}
	}
}

/* How long to poll: until the next retry is due, at most a second. */
static long long poll_wait_ms(const struct batch *b)
{
	long long now = now_ms(), wait = 1000;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->xs[i].state == X_WAIT && b->running < HTTP_PARALLEL &&
		    b->xs[i].due_ms - now < wait)
			wait = b->xs[i].due_ms > now ? b->xs[i].due_ms - now : 0;
	return wait;
}

static void batch_run(struct batch *b)
{
	int still;

	while (b->left > 0) {
		start_due(b);
		curl_multi_perform(b->m, &still);
		collect_finished(b);
		if (b->left == 0)
			break;
		curl_multi_poll(b->m, NULL, 0, (int)poll_wait_ms(b), NULL);
	}
}

size_t ws_http_perform(ws_http_req **reqs, size_t n)
{
	struct batch b = {NULL, n, n, 0, NULL};
	size_t i, failed = 0;
	ws_err err;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		reqs[i]->status = 0;
		reqs[i]->attempts = 0;
		reqs[i]->retry_after_s = -1;
		ws_err_clear(&reqs[i]->err);
	}
	if (ws_http_global_init(&err))
		goto fail_all;
	b.xs = calloc(n, sizeof(*b.xs));
	b.m = curl_multi_init();
	if (!b.xs || !b.m) {
		ws_fail(&err, WS_E_INTERNAL, "out of memory");
		goto fail_all;
	}
	for (i = 0; i < n; i++) {
		b.xs[i].r = reqs[i];
		b.xs[i].state = X_WAIT;
	}
	batch_run(&b);
	goto out;
fail_all:
	for (i = 0; i < n; i++)
		reqs[i]->err = err;
out:
	for (i = 0; b.xs && i < n; i++) {
		xfer_clear_attempt(&b.xs[i]);
		if (b.xs[i].easy)
			curl_easy_cleanup(b.xs[i].easy);
	}
	free(b.xs);
	if (b.m)
		curl_multi_cleanup(b.m);
	for (i = 0; i < n; i++)
		if (reqs[i]->status == 0)
			failed++;
	return failed;
}

struct stream {
	struct xfer x;
	ws_buf line;
	int (*on_line)(void *ctx, const char *line, size_t len);
	void *ctx;
	int stopped;
	int line_too_large;
};

static size_t on_stream(char *p, size_t size, size_t nmemb, void *ud)
{
	struct stream *s = ud;
	size_t len = size * nmemb, i, start = 0;
	long code = 0;

	curl_easy_getinfo(s->x.easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300)
		return on_body(p, size, nmemb, &s->x);
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (ws_buf_add(&s->line, p + start, i - start, NULL)) {
			s->line_too_large = 1;
			return 0;
		}
		start = i + 1;
		if (s->line.len && s->line.data[s->line.len - 1] == '\r')
			s->line.data[--s->line.len] = '\0';
		if (s->line.len && s->on_line(s->ctx, s->line.data, s->line.len)) {
			s->stopped = 1;
			return 0;
		}
		ws_buf_reset(&s->line);
	}
	if (ws_buf_add(&s->line, p + start, len - start, NULL)) {
		s->line_too_large = 1;
		return 0;
	}
	return len;
}

int ws_http_stream(ws_http_req *r, long timeout_s,
		   int (*on_line)(void *ctx, const char *line, size_t len), void *ctx, ws_err *err)
{
	struct stream s;
	CURLcode rc;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	s.x.r = r;
	s.on_line = on_line;
	s.ctx = ctx;
	ws_buf_init(&s.line, WS_HTTP_MAX_BODY);
	r->status = 0;
	r->attempts = 1;
	r->retry_after_s = -1;
	ws_err_clear(&r->err);
	ws_buf_reset(&r->response);
	if (ws_http_global_init(err))
		goto out;
	s.x.easy = curl_easy_init();
	if (!s.x.easy) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto out;
	}
	if (setup_easy(&s.x, timeout_s > 0 ? timeout_s * 1000 : 0, on_stream, &s, err))
		goto out;
	rc = curl_easy_perform(s.x.easy);
	curl_easy_getinfo(s.x.easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (s.line_too_large) {
		ws_fail(err, WS_E_INVALID, "%s %s: a line of the stream exceeds %zu bytes", r->method,
			r->path, s.line.max);
		goto out;
	}
	if (rc != CURLE_OK && !s.stopped && !(rc == CURLE_OPERATION_TIMEDOUT && r->status)) {
		transport_error(&s.x, rc);
		*err = r->err;
		goto out;
	}
	if (r->status < 200 || r->status >= 300) {
		ws_fail_http(err, (int)r->status, "", "%s %s: HTTP %ld", r->method, r->path, r->status);
		goto out;
	}
	/* The last line of a stream that ended without a newline. */
	if (!s.stopped && s.line.len)
		on_line(ctx, s.line.data, s.line.len);
	ret = 0;
out:
	xfer_clear_attempt(&s.x);
	if (s.x.easy)
		curl_easy_cleanup(s.x.easy);
	ws_buf_release(&s.line);
	return ret;
}
