/* health.h - GET /healthz of workspace-controller over plain HTTP: 200
 * while the control loop turns, 503 once its heartbeat is older than the
 * allowed age (a liveness probe then restarts the pod). The heartbeat is
 * a monotonic time in an atomic, beaten by the loop, read by the server's
 * thread. */
#ifndef CTL_HEALTH_H
#define CTL_HEALTH_H

#include "error.h"

/* Note that the loop turned (any thread). */
void ctl_heartbeat(void);

/* Serve on HOST:PORT (":PORT" for every address); max_age_ms is how old
 * the heartbeat may be. One server per process; 0 or -1 with err. */
int ctl_health_start(const char *listen_on, long long max_age_ms, ws_err *err);
void ctl_health_stop(void);

#endif
