/* resync.h - the periodic full check of every workspace, with one list per
 * managed kind (label-selected across namespaces) and one list of Flyte
 * projects, instead of a read per object: only the workspaces that differ
 * from their plan (an object missing, changed or left over, the project
 * missing or archived) are queued to be converged. A converged cluster
 * costs these lists and no write. Flyte project settings cannot be listed:
 * they are checked when a record changes, not here. */
#ifndef CTL_RESYNC_H
#define CTL_RESYNC_H

#include <cjson/cJSON.h>

#include "error.h"
#include "provision.h"
#include "workqueue.h"

/* Check the records (ConfigMaps, as listed) and offer each to q: forced
 * when its workspace differs, as converged when it matches. 0, or -1 with
 * err when a list failed (then every record is offered forced). */
int ctl_resync(ws_prov *p, ws_workqueue *q, const cJSON *records, ws_err *err);

#endif
