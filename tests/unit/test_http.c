/* test_http.c - the HTTP engine (shared/http.c) against a scripted
 * libmicrohttpd server on a loopback port: retries and backoff, Retry-After,
 * no retry on 4xx, dropped connections (GET repeated, POST not), parallel
 * batches, the refresh hook, tls_server_name routing, environment proxies
 * ignored, and line streaming.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

static struct MHD_Daemon *daemon_;
static char base_url[64];
static atomic_int hits;

struct upload {
	char body[4096];
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     const char *retry_after)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Meeting points of the server and the client, each up to WAIT_S seconds
 * (a bug fails the test instead of hanging it). */
#define WAIT_S 5
#define SLOW_N 6 /* test_parallel's requests */
static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond = PTHREAD_COND_INITIALIZER;
static int lines_seen;     /* lines the client's stream callback received */
static int stream_stopped; /* ... and it asked to stop */
static int slow_arrived;   /* /slow requests being answered */

/* Wait until *counter >= want, or until *unless is set (may be NULL);
 * 0 when the count was reached. */
static int meet(const int *counter, int want, const int *unless)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_S;
	pthread_mutex_lock(&meet_lock);
	while (*counter < want && !(unless && *unless) && rc == 0)
		rc = pthread_cond_timedwait(&meet_cond, &meet_lock, &until);
	rc = *counter >= want ? 0 : -1;
	pthread_mutex_unlock(&meet_lock);
	return rc;
}

static void count(int *counter)
{
	pthread_mutex_lock(&meet_lock);
	(*counter)++;
	pthread_cond_broadcast(&meet_cond);
	pthread_mutex_unlock(&meet_lock);
}

/* A line split across two reads, then a line per read: each piece is sent
 * once the client has the lines before it (so each is a read of its own). */
struct stream_step {
	int piece;
	int lines_before; /* lines_seen when the stream began */
};

static ssize_t stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char *const pieces[] = {"{\"a\":1}\n{\"b\"", ":2}\r\n\n", "{\"c\":3}\n",
					     "tail-without-newline"};
	struct stream_step *step = cls;
	size_t n;

	(void)pos;
	if (step->piece >= 4)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (step->piece > 0 && meet(&lines_seen, step->lines_before + step->piece, &stream_stopped))
		return MHD_CONTENT_READER_END_WITH_ERROR; /* the client stopped or stalled */
	n = strlen(pieces[step->piece]);
	if (n > max)
		n = max;
	memcpy(buf, pieces[step->piece], n);
	step->piece++;
	return (ssize_t)n;
}

static enum MHD_Result stream_reply(struct MHD_Connection *c)
{
	struct stream_step *step = calloc(1, sizeof(*step));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!step)
		return MHD_NO;
	pthread_mutex_lock(&meet_lock);
	step->lines_before = lines_seen;
	pthread_mutex_unlock(&meet_lock);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_cb, step, free);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct upload *up = *con_cls;
	char out[8192];
	int n;

	(void)cls;
	(void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t take = *upload_data_size;

		if (take > sizeof(up->body) - 1 - up->len)
			take = sizeof(up->body) - 1 - up->len;
		memcpy(up->body + up->len, upload_data, take);
		up->len += take;
		*upload_data_size = 0;
		return MHD_YES;
	}
	n = atomic_fetch_add(&hits, 1) + 1;
	if (strcmp(url, "/flaky") == 0)
		return n <= 2 ? reply(c, 503, "{\"kind\":\"Status\"}", NULL) : reply(c, 200, "{\"ok\":true}", NULL);
	if (strcmp(url, "/always500") == 0)
		return reply(c, 500, "{}", NULL);
	if (strcmp(url, "/forbidden") == 0)
		return reply(c, 403, "{\"reason\":\"Forbidden\"}", NULL);
	if (strcmp(url, "/busy") == 0)
		return n == 1 ? reply(c, 429, "{}", "1") : reply(c, 200, "{}", NULL);
	if (strcmp(url, "/drop") == 0)
		return n == 1 ? MHD_NO : reply(c, 200, "{}", NULL);
	if (strcmp(url, "/slow") == 0) {
		/* answered only once all SLOW_N are here together: in parallel */
		count(&slow_arrived);
		return meet(&slow_arrived, SLOW_N, NULL) ? reply(c, 504, "{}", NULL)
						   : reply(c, 200, "{}", NULL);
	}
	if (strcmp(url, "/echo") == 0) {
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

		up->body[up->len] = '\0';
		snprintf(out, sizeof(out),
			 "{\"method\":\"%s\",\"auth\":\"%s\",\"host\":\"%s\",\"ct\":\"%s\",\"body\":%zu}",
			 method, auth ? auth : "", host ? host : "", ct ? ct : "", up->len);
		return reply(c, 200, out, NULL);
	}
	if (strcmp(url, "/stream") == 0)
		return stream_reply(c);
	return reply(c, 404, "{\"kind\":\"Status\",\"reason\":\"NotFound\"}", NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static int setup(void **state)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				   0, NULL, NULL, handler, NULL, MHD_OPTION_NOTIFY_COMPLETED,
				   completed, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				   MHD_OPTION_END);
	if (!daemon_)
		return -1;
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", (unsigned)info->port);
	return ws_http_global_init(NULL);
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(daemon_);
	return 0;
}

static void target(ws_http_target *t)
{
	memset(t, 0, sizeof(*t));
	t->base_url = strdup(base_url);
	t->backoff_ms = 10;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request through ws_http_perform. */
static void run(ws_http_target *t, ws_http_req *r, const char *method, const char *path,
		const char *body)
{
	ws_http_req *p = r;

	assert_int_equal(ws_http_req_init(r, t, method, path, body ? "application/json" : NULL,
					  body, body ? strlen(body) : 0, NULL),
			 0);
	atomic_store(&hits, 0);
	ws_http_perform(&p, 1);
}

static void test_retry_5xx_then_success(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	run(&t, &r, "GET", "/flaky", NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 3);
	assert_string_equal(r.response.data, "{\"ok\":true}");
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_retries_exhausted(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	t.max_retries = 2;
	run(&t, &r, "GET", "/always500", NULL);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(atomic_load(&hits), 3);
	ws_http_req_release(&r);
	t.max_retries = -1;
	run(&t, &r, "GET", "/always500", NULL);
	assert_int_equal(r.attempts, 1);
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_no_retry_on_4xx(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	run(&t, &r, "GET", "/forbidden", NULL);
	assert_int_equal(r.status, 403);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(atomic_load(&hits), 1);
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_retry_after(void **state)
{
	ws_http_target t;
	ws_http_req r;
	long long start;

	(void)state;
	target(&t);
	start = ms_now();
	run(&t, &r, "GET", "/busy", NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	assert_true(ms_now() - start >= 1000);
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_dropped_connection(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	/* GET is idempotent: repeated. */
	run(&t, &r, "GET", "/drop", NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	ws_http_req_release(&r);
	/* POST was sent and may have taken effect: not repeated. */
	run(&t, &r, "POST", "/drop", "{}");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.err.kind, WS_E_TRANSPORT);
	assert_non_null(strstr(r.err.msg, "POST http://127.0.0.1:"));
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_connection_refused(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.base_url = strdup("http://127.0.0.1:1");
	t.backoff_ms = 5;
	t.max_retries = 2;
	/* Never sent: even a POST is repeated. */
	run(&t, &r, "POST", "/x", "{}");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.err.kind, WS_E_TRANSPORT);
	assert_non_null(strstr(r.err.msg, "(after 3 attempts)"));
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_parallel(void **state)
{
	ws_http_target t;
	ws_http_req r[SLOW_N], *p[SLOW_N];
	size_t i;

	(void)state;
	target(&t);
	t.max_retries = -1; /* a 504 (not all there at once) is not hidden by a retry */
	for (i = 0; i < SLOW_N; i++) {
		assert_int_equal(ws_http_req_init(&r[i], &t, "GET", "/slow", NULL, NULL, 0, NULL), 0);
		p[i] = &r[i];
	}
	/* Each is answered only once all are at the server together. */
	assert_int_equal(ws_http_perform(p, SLOW_N), 0);
	for (i = 0; i < SLOW_N; i++) {
		assert_int_equal(r[i].status, 200);
		ws_http_req_release(&r[i]);
	}
	ws_http_target_release(&t);
}

static int refreshes;

static int refresh(void *ctx, ws_http_target *t, ws_err *err)
{
	char tok[32];

	(void)ctx;
	(void)err;
	snprintf(tok, sizeof(tok), "tok-%d", ++refreshes);
	free(t->bearer);
	t->bearer = strdup(tok);
	return 0;
}

static int refresh_fails(void *ctx, ws_http_target *t, ws_err *err)
{
	(void)ctx;
	(void)t;
	return ws_fail(err, WS_E_IO, "exec plugin 'x' failed");
}

static void test_bearer_and_refresh(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	t.refresh = refresh;
	refreshes = 0;
	run(&t, &r, "PUT", "/echo", "{\"x\":1}");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.response.data, "\"method\":\"PUT\""));
	assert_non_null(strstr(r.response.data, "\"auth\":\"Bearer tok-1\""));
	assert_non_null(strstr(r.response.data, "\"ct\":\"application/json\""));
	assert_non_null(strstr(r.response.data, "\"body\":7"));
	ws_http_req_release(&r);
	t.refresh = refresh_fails;
	run(&t, &r, "GET", "/echo", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err.msg, "exec plugin 'x' failed");
	assert_int_equal(atomic_load(&hits), 0);
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_delete_and_patch(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	run(&t, &r, "DELETE", "/echo", NULL);
	assert_non_null(strstr(r.response.data, "\"method\":\"DELETE\""));
	assert_non_null(strstr(r.response.data, "\"auth\":\"\""));
	ws_http_req_release(&r);
	assert_int_equal(ws_http_req_init(&r, &t, "PATCH", "/echo", "application/merge-patch+json",
					  "{}", 2, NULL),
			 0);
	{
		ws_http_req *p = &r;

		ws_http_perform(&p, 1);
	}
	assert_non_null(strstr(r.response.data, "\"ct\":\"application/merge-patch+json\""));
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_tls_server_name_routes(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	/* The URL names the host to verify; the connection still goes to the
	 * server's address. */
	t.tls_server_name = strdup("api.example.invalid");
	run(&t, &r, "GET", "/echo", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.response.data, "\"host\":\"api.example.invalid:"));
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

static void test_env_proxy_ignored(void **state)
{
	ws_http_target t;
	ws_http_req r;

	(void)state;
	target(&t);
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	run(&t, &r, "GET", "/echo", NULL);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	assert_int_equal(r.status, 200);
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

struct lines {
	char got[8][64];
	int n;
	int stop_after;
};

static int on_line(void *ctx, const char *line, size_t len)
{
	struct lines *l = ctx;

	int stop;

	assert_int_equal(strlen(line), len);
	if (l->n < 8)
		snprintf(l->got[l->n++], sizeof(l->got[0]), "%s", line);
	stop = l->stop_after && l->n >= l->stop_after;
	pthread_mutex_lock(&meet_lock);
	stream_stopped = stop;
	pthread_mutex_unlock(&meet_lock);
	count(&lines_seen);
	return stop;
}

static void test_stream_lines(void **state)
{
	ws_http_target t;
	ws_http_req r;
	struct lines l;
	ws_err err;

	(void)state;
	target(&t);
	memset(&l, 0, sizeof(l));
	assert_int_equal(ws_http_req_init(&r, &t, "GET", "/stream", NULL, NULL, 0, NULL), 0);
	assert_int_equal(ws_http_stream(&r, 10, on_line, &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.got[0], "{\"a\":1}");
	assert_string_equal(l.got[1], "{\"b\":2}");
	assert_string_equal(l.got[2], "{\"c\":3}");
	assert_string_equal(l.got[3], "tail-without-newline");
	/* Stopped by the callback. */
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(ws_http_stream(&r, 10, on_line, &l, &err), 0);
	assert_int_equal(l.n, 2);
	ws_http_req_release(&r);
	/* An error status: -1, the body kept. */
	assert_int_equal(ws_http_req_init(&r, &t, "GET", "/forbidden", NULL, NULL, 0, NULL), 0);
	assert_int_equal(ws_http_stream(&r, 10, on_line, &l, &err), -1);
	assert_int_equal(r.status, 403);
	assert_int_equal(err.code, 403);
	assert_string_equal(r.response.data, "{\"reason\":\"Forbidden\"}");
	ws_http_req_release(&r);
	ws_http_target_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_5xx_then_success),
		cmocka_unit_test(test_retries_exhausted),
		cmocka_unit_test(test_no_retry_on_4xx),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_dropped_connection),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_bearer_and_refresh),
		cmocka_unit_test(test_delete_and_patch),
		cmocka_unit_test(test_tls_server_name_routes),
		cmocka_unit_test(test_env_proxy_ignored),
		cmocka_unit_test(test_stream_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
