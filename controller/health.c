/* health.c - the /healthz server and the heartbeat it reads (see health.h). */
#include "health.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "election.h"

static _Atomic long long beat_ms;
static long long max_age;
static struct MHD_Daemon *daemon_;

/* CLOCK_MONOTONIC in milliseconds. */
static long long mono_ms(void)
{
	return ws_clock_system.now_ms(NULL);
}

void ctl_heartbeat(void)
{
	atomic_store(&beat_ms, mono_ms());
}

static enum MHD_Result health(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static const char ok[] = "ok\n", stuck[] = "the controller loop is stuck\n",
			  other[] = "not found\n";
	unsigned int code = MHD_HTTP_OK;
	const char *body = ok;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)upload, (void)upload_size, (void)state;
	if (strcmp(method, "GET") != 0) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		body = other;
	} else if (strcmp(url, "/healthz") != 0) {
		code = MHD_HTTP_NOT_FOUND;
		body = other;
	} else if (mono_ms() - atomic_load(&beat_ms) > max_age) {
		code = MHD_HTTP_SERVICE_UNAVAILABLE;
		body = stuck;
	}
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

int ctl_health_start(const char *listen_on, long long max_age_ms, ws_err *err)
{
	const char *colon = strrchr(listen_on, ':');
	struct sockaddr_in addr;
	long port;
	char *end;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || end == colon + 1 || *end || port < 1 || port > 65535)
		return ws_fail(err, WS_E_INVALID, "--health-listen '%s': expected HOST:PORT", listen_on);
	addr.sin_port = htons((uint16_t)port);
	if (colon == listen_on) {
		addr.sin_addr.s_addr = htonl(INADDR_ANY);
	} else {
		char host[64];

		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_on), listen_on);
		if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
			return ws_fail(err, WS_E_INVALID,
				       "--health-listen '%s': host must be an IPv4 address", listen_on);
	}
	max_age = max_age_ms;
	ctl_heartbeat();
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
				   NULL, NULL, health, NULL, MHD_OPTION_SOCK_ADDR,
				   (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
				   (unsigned int)10, MHD_OPTION_END);
	if (!daemon_)
		return ws_fail(err, WS_E_IO, "--health-listen '%s': cannot listen", listen_on);
	return 0;
}

void ctl_health_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
