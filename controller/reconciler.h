/* reconciler.h - the control loop of workspace-controller: the record is
 * the source of truth, and this carries out what it says.
 *
 * - a record added or changed: the finalizer is put on it, and the
 *   workspace is converged to it (ws_converge);
 * - a record being deleted (deletionTimestamp, finalizer on): its
 *   namespaces are deleted and waited for, its Flyte project archived, and
 *   only then the finalizer taken off; a record deleted while no controller
 *   ran is cleaned up when one starts. A record deleted without the
 *   finalizer is cleaned up from its last state, carried by the event;
 * - at the start of a term as leader and every resync period: every
 *   workspace is checked with one list per kind (resync.h), and those
 *   that drifted are converged again.
 * Every action leaves an Event on the record (events.h).
 *
 * Only the lease holder acts (leader.h): it watches (with bookmarks; a 410
 * lists again; other errors reconnect with backoff) and feeds a work queue
 * keyed by workspace (shared/workqueue.h) that --workers threads drain; a
 * failed reconcile is tried again after a backoff. Every write
 * of the provisioner passes the leadership check first (write guard on
 * the connections), so a replica that lost the lease sends nothing more.
 */
#ifndef CTL_RECONCILER_H
#define CTL_RECONCILER_H

#include <signal.h>

#include "error.h"
#include "provision.h"

typedef struct ctl_options {
	const char *identity;        /* lease holder, e.g. the pod name */
	long lease_seconds;
	long resync_seconds;
	int workers;
	volatile sig_atomic_t *stop; /* set non-zero to stop */
} ctl_options;

#define CTL_LEASE_NAME "workspace-controller"

/* Run until *o->stop. p->k8s and p->flyte get the leadership write guard;
 * lease_k8s, a connection of its own, carries the Lease. 0 on a clean
 * stop, -1 when it cannot run (err). */
int ctl_run(ws_prov *p, ws_k8s *lease_k8s, const ctl_options *o, ws_err *err);

#endif
