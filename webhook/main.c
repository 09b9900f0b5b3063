/* main.c - workspace-webhook: parse the flags, load the certificate, serve;
 * reload the certificate when its files change; on SIGTERM/SIGINT serve on,
 * unready, for --shutdown-delay, then drain.
 * Exit status: 0 after a clean shutdown, 1 when it cannot start, 2 on bad
 * usage. */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "tls.h"

/* Idle connections get this long after the last in-flight request before
 * the server stops: a request already on its way is still answered. */
#define LINGER_MS 1000
/* Allocations from this size on get their own mapping, returned to the
 * system when freed. glibc's default raises this threshold after the first
 * such buffer is freed, after which a burst (a large review, a backed-up
 * log queue) leaves the heap grown for good. */
#define MMAP_THRESHOLD (128 << 10)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void refresh_cert(void)
{
	ws_err err;
	int rc = wh_tls_refresh(&err);

	if (rc == 0)
		return;
	wh_metrics_cert_reload(rc > 0);
	if (rc < 0) {
		wh_log("error", "keeping the current certificate: %s", err.msg);
		return;
	}
	wh_metrics_cert_expiry(wh_tls_not_after());
	wh_log("info", "certificate reloaded (expires at %lld)", (long long)wh_tls_not_after());
}

/* The --shutdown-delay: kube-apiserver keeps sending new connections here
 * until it sees the endpoint go (after the pod is marked terminating, the
 * endpoint controller and every apiserver's watch take a few seconds), so
 * keep serving them, unready and closing each connection after its reply
 * so that clients move on, then drain. A second signal ends the delay. */
static void unready(wh_server *srv, const sigset_t *sigs, unsigned int delay)
{
	double start = now_s(), left;
	struct timespec wait;

	wh_server_unready(srv);
	wh_log("info", "unready: serving new connections for %u s (--shutdown-delay) before draining",
	       delay);
	while ((left = delay - (now_s() - start)) > 0) {
		int sig;

		wait.tv_sec = (time_t)left;
		wait.tv_nsec = (long)((left - (double)wait.tv_sec) * 1e9);
		sig = sigtimedwait(sigs, NULL, &wait);
		if (sig == SIGHUP) {
			refresh_cert();
		} else if (sig > 0) {
			wh_log("info", "second signal: draining now");
			return;
		}
	}
}

/* Wait for in-flight requests, then a short linger for idle connections.
 * A second signal stops at once. */
static void drain(wh_server *srv, const sigset_t *sigs, unsigned int timeout)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	double start = now_s(), idle_since = 0;

	wh_server_drain(srv);
	wh_log("info", "draining: %ld requests in flight, %u connections",
	       wh_metrics_in_flight_now(), wh_server_connections(srv));
	while (now_s() - start < timeout) {
		int sig = sigtimedwait(sigs, NULL, &tick);

		if (sig == SIGHUP) {
			refresh_cert();
		} else if (sig > 0) {
			wh_log("warn", "second signal: stopping now");
			return;
		}
		if (wh_server_connections(srv) == 0)
			return;
		if (wh_metrics_in_flight_now() > 0) {
			idle_since = 0;
			continue;
		}
		if (idle_since == 0)
			idle_since = now_s();
		else if ((now_s() - idle_since) * 1000 >= LINGER_MS)
			return;
	}
	wh_log("warn", "shutdown timeout: %ld requests still in flight", wh_metrics_in_flight_now());
}

int main(int argc, char **argv)
{
	const struct timespec second = {1, 0};
	char note[400];
	wh_server *srv;
	wh_config cfg;
	sigset_t sigs;
	ws_err err;
	int sig, rc;

	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	wh_alloc_install();
	rc = wh_config_parse(&cfg, argc, argv, stdout, &err);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "workspace-webhook: error: %s\n", err.msg);
		return rc < 0 ? 2 : 0;
	}
	/* Signals go to the main thread only: block them before threads start. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	wh_log_start();

	if (wh_server_check_libraries(note, sizeof(note), &err))
		goto cannot_start;
	if (note[0])
		wh_log("warn", "%s", note);
	if (wh_tls_init(cfg.cert_file, cfg.key_file, cfg.priorities, &err))
		goto cannot_start;
	wh_metrics_cert_expiry(wh_tls_not_after());
	srv = wh_server_start(&cfg, &err);
	if (!srv)
		goto cannot_start;
	wh_log("info",
	       "listening on port %u (%u threads, namespace template '%s', flyte endpoint '%s', "
	       "certificate expires at %lld)",
	       wh_server_port(srv), cfg.threads, cfg.platform.ns_template.text,
	       cfg.platform.flyte_endpoint ? cfg.platform.flyte_endpoint : "",
	       (long long)wh_tls_not_after());
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &second);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		refresh_cert(); /* once a second, and at once on SIGHUP */
	}
	wh_log("info", "received %s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (cfg.shutdown_delay)
		unready(srv, &sigs, cfg.shutdown_delay);
	drain(srv, &sigs, cfg.shutdown_timeout);
	wh_server_stop(srv);
	wh_tls_shutdown();
	wh_config_release(&cfg);
	wh_log("info", "stopped");
	wh_log_stop();
	return 0;

cannot_start:
	wh_log("error", "cannot start: %s", err.msg);
	wh_log_stop();
	wh_tls_shutdown(); /* safe before wh_tls_init */
	wh_config_release(&cfg);
	return 1;
}
