/* events.h - Kubernetes Events (events.k8s.io/v1) on a workspace record:
 * the workspace's audit trail, one for every action the controller takes,
 * shown by `kubectl describe cm` and `kubectl workspace describe`. */
#ifndef CTL_EVENTS_H
#define CTL_EVENTS_H

#include "error.h"
#include "k8s.h"

/* The record an event is about. */
typedef struct ctl_regarding {
	const char *ns;
	const char *name;
	const char *uid; /* may be NULL */
} ctl_regarding;

/* Post one event: type "Normal" or "Warning", reason a CamelCase word
 * ("Provisioned", "MemberAdded", ...), action what was done ("Provision",
 * "Cleanup", ...), note the human text (cut at 1 KiB). instance names the
 * controller replica. 0 or -1 with err. */
int ctl_event(ws_k8s *k, const ctl_regarding *about, const char *instance, const char *type,
	      const char *reason, const char *action, const char *note, ws_err *err);

#endif
