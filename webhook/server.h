/* server.h - the HTTPS server of workspace-webhook on libmicrohttpd: routes
 * (POST /mutate, POST /validate, GET /healthz, /readyz, /metrics), request
 * bodies (capped at WS_ADMISSION_BODY_MAX), the admission round trip
 * (decode, decide, log, count, encode) and graceful draining.
 *
 * Threads: MHD's epoll mode with a pool of cfg->threads workers; handlers
 * share only the read-only config, the atomic metrics and the TLS store.
 * Each connection's TLS session runs over the transport of tlsio.h.
 */
#ifndef WH_SERVER_H
#define WH_SERVER_H

#include "config.h"
#include "error.h"

typedef struct wh_server wh_server;

/* Bind and start serving. cfg must outlive the server. */
wh_server *wh_server_start(const wh_config *cfg, ws_err *err);

/* The server leans on libmicrohttpd's internals as 0.9.75 has them (the
 * text of its log messages tells refusals, connection-limit closes and
 * read-deadline failures apart; it notes no activity during the TLS
 * handshake; its GnuTLS session's transport can be replaced, which needs
 * GnuTLS's vectored push, 3.3 on). Fails below the versions known to work
 * (libmicrohttpd 0.9.71, GnuTLS 3.6); *note says, for a log line, when the
 * running libmicrohttpd is not the one tested (0.9.75), else is "". */
int wh_server_check_libraries(char *note, size_t size, ws_err *err);

/* The bound port (useful with --listen HOST:0). */
unsigned short wh_server_port(const wh_server *s);

/* Unready (the --shutdown-delay): answer /readyz with 503 and close each
 * connection after its next response, but keep accepting connections. */
void wh_server_unready(wh_server *s);

/* Start draining: close each new connection at once, answer /readyz with
 * 503 and close each connection after its next response. In-flight
 * requests finish. */
void wh_server_drain(wh_server *s);

/* Open connections. */
unsigned int wh_server_connections(const wh_server *s);

/* Stop (closing what is still open) and free. */
void wh_server_stop(wh_server *s);

#endif
