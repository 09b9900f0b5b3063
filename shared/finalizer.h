/* finalizer.h - the controller's finalizer on workspace records: a record
 * carrying it is not removed by a delete, only marked (deletionTimestamp),
 * until the controller has deleted the workspace's namespaces and archived
 * its Flyte project and takes the finalizer off. */
#ifndef WS_FINALIZER_H
#define WS_FINALIZER_H

#include "error.h"
#include "k8s.h"

#define WS_FINALIZER "workspace.flyte.org/cleanup"

/* Put the finalizer on record id in namespace ns (present 1) or take it
 * off (0); nothing is written when it already is so. Re-read and retried
 * on a 409 Conflict. Taking it off a record that is gone is not an error. */
int ws_finalizer_set(ws_k8s *k, const char *ns, const char *id, int present, ws_err *err);

#endif
