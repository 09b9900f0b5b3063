/* controller.h - the reconcile loop behind "the record is the source of
 * truth": it watches the workspace records and carries out what they say.
 *
 * - a record added or changed (workspace.json differs from the last one
 *   seen): converge the workspace to it (ws_converge);
 * - a record deleted: delete the workspace's namespaces and archive its
 *   Flyte project (from the record's last state, carried by the event);
 * - every resync period: converge every workspace (repairs drift).
 *
 * Only one replica acts: leadership is a coordination.k8s.io/v1 Lease in
 * the system namespace, taken when free or expired and renewed at a third
 * of its duration; a replica that cannot renew stops acting at once.
 * A 410 Expired watch re-lists and watches again. The stop flag is checked
 * between events and at least every lease_seconds / 3.
 */
#ifndef WS_CONTROLLER_H
#define WS_CONTROLLER_H

#include <signal.h>
#include <time.h>

#include "error.h"
#include "provision.h"

typedef struct ws_controller_options {
	const char *identity;        /* lease holder, e.g. the pod name */
	const char *lease_name;      /* default "workspace-controller" */
	long lease_seconds;          /* default 15 */
	long resync_seconds;         /* default 300 */
	volatile sig_atomic_t *stop; /* set non-zero to stop */
	volatile time_t *heartbeat;  /* set to now on every turn of the loop (liveness), or NULL */
	/* Called after each reconcile (id, 0 or -1, message); may be NULL. */
	void (*on_reconcile)(void *ctx, const char *id, const char *action, int rc, const char *msg);
	void *ctx;
} ws_controller_options;

/* Run until *stop is set. Returns 0 on a clean stop, -1 when it cannot go
 * on (err says why); transient API errors are retried with backoff. */
int ws_controller_run(ws_prov *p, const ws_controller_options *o, ws_err *err);

#endif
