/* provision.h - carry a workspace plan out against the cluster and Flyte
 * Admin, and read it back.
 *
 * Apply semantics (create, converge, member and tier changes, doctor --fix):
 * every object of the plan is created, or, when it exists and differs, brought
 * to the plan (labels and annotations merged, spec/rules/subjects/data
 * replaced); managed objects the plan no longer has are deleted; the Flyte
 * project is registered or updated and its settings put when they differ.
 * Independent requests go out in parallel (libcurl multi).
 *
 * All or nothing: a failure undoes, in reverse order, what this run created
 * or changed, then reports the step, the object and the server's message;
 * if the undo fails too, the error lists exactly what was left. A Flyte
 * project cannot be deleted: one registered by a failed run is archived.
 * An edit (ws_change) puts the record back too. After an interruption
 * (ws_http_interrupt) the run fails at its next request and rolls back as
 * for any failure; the rollback itself is not interrupted.
 * The last write of a run is the record's status (Ready, or Failed with the
 * error when something was left); when it fails, p->warn says so.
 *
 * Ids are allocated atomically by creating the record: on 409 the next free
 * number is taken, so concurrent creates of one name get distinct ids.
 */
#ifndef WS_PROVISION_H
#define WS_PROVISION_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "flyte.h"
#include "k8s.h"
#include "plan.h"
#include "platform.h"
#include "record.h"

/* What happened to one object or call, for progress lines. */
enum ws_outcome {
	WS_OUT_START,     /* about to act (live line on a terminal) */
	WS_OUT_CREATED,
	WS_OUT_CONFIGURED, /* existed and was brought to the plan */
	WS_OUT_UNCHANGED,
	WS_OUT_DELETED,
	WS_OUT_ARCHIVED,
	WS_OUT_FAILED,
	WS_OUT_UNDONE     /* rolled back */
};
const char *ws_outcome_name(enum ws_outcome o);

/* Progress callback: subject is "namespace/flyte-ws-x" or "flyte project/ws-x". */
typedef void (*ws_progress_fn)(void *ctx, enum ws_step step, const char *subject,
			       enum ws_outcome outcome, const char *detail);

typedef struct ws_prov {
	ws_k8s *k8s;
	ws_flyte *flyte;              /* NULL: no Flyte endpoint known */
	const ws_platform *platform;
	int dry_run;                  /* server-side dry run: nothing is persisted */
	int record_only;              /* ws_create: allocate the id and write the record,
					 nothing more (a controller carries it out) */
	ws_progress_fn progress;      /* may be NULL */
	void *progress_ctx;
	/* Something went wrong that does not fail the operation (a status that
	 * could not be written): one line, no "warning: " prefix. May be NULL. */
	void (*warn)(void *progress_ctx, const char *msg);
} ws_prov;

/* Record status written beside workspace.json (key status.json). */
#define WS_STATUS_KEY "status.json"

/* ---- records ------------------------------------------------------------ */

/* Read one record; rv (32 bytes, may be NULL) receives its resourceVersion.
 * A missing record is WS_E_HTTP 404 with "workspace 'x' not found". */
int ws_record_load(ws_prov *p, const char *id, ws_record *r, char *rv, ws_err *err);
/* Every record, sorted by id; *status (may be NULL) gets each record's
 * status.json object or NULL (caller frees the array and each entry). */
int ws_record_list(ws_prov *p, ws_record **records, cJSON ***status, size_t *n, ws_err *err);
void ws_records_release(ws_record *records, cJSON **status, size_t n);

/* Change a record safely: load, edit(ctx), check that the edited record
 * has a valid plan (ws_plan_build with p->platform; if not, that is the
 * error and nothing is written), save with its resourceVersion, retrying
 * the whole edit on a 409 Conflict. edit returns 0 or -1. *out (may be
 * NULL) receives the edited record; the caller releases it. */
int ws_record_edit(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
		   void *ctx, ws_record *out, ws_err *err);

/* Change a workspace all or nothing: ws_record_edit, then ws_converge to
 * the edited record. When converging fails, its objects are rolled back and
 * the record gets its previous content and status back, so the record, the
 * cluster and Flyte are as before (the record is not put back if someone
 * else changed it meanwhile). If the record cannot be put back, err says so:
 * "...; left after rollback: configmap/ID (record still lists the change:
 * <server message>)". *out as for ws_record_edit, on success only. */
int ws_change(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
	      void *ctx, ws_record *out, ws_err *err);

/* ---- lifecycle ------------------------------------------------------------ */

/* Platform settings from the cluster: defaults + the workspace-platform
 * ConfigMap of the system namespace, when present (p->platform is not used). */
int ws_platform_from_cluster(ws_k8s *k, const char *system_namespace, ws_platform *out,
			     ws_err *err);

/* Create a workspace from a record whose id is not final: the slug comes
 * from r->workspace_name. If a workspace with the same name and owner exists
 * its record takes this run's inputs and it is converged instead (idempotent
 * re-run, all or nothing as ws_change); else the lowest free number
 * is allocated. On return r->workspace_id is the id used; *existed tells
 * which case it was. */
int ws_create(ws_prov *p, ws_record *r, int *existed, ws_err *err);

/* Bring the cluster and Flyte to the record's plan (see the top of this file). */
int ws_converge(ws_prov *p, const ws_record *r, ws_err *err);

/* Delete a workspace: its namespaces and every managed object, then archive
 * its Flyte project, then delete the record. */
int ws_destroy(ws_prov *p, const char *id, ws_err *err);
/* The same from a record in hand; record_exists 0 when the record is gone
 * already (the controller, after a record was deleted): then only the
 * namespaces and the Flyte project are dealt with. */
int ws_destroy_record(ws_prov *p, const ws_record *r, int record_exists, ws_err *err);

/* ---- diff ------------------------------------------------------------------- */

enum ws_drift_state {
	WS_DRIFT_OK,
	WS_DRIFT_MISSING,
	WS_DRIFT_DIFFERS,
	WS_DRIFT_EXTRA,    /* managed by the workspace but not in the plan */
	WS_DRIFT_UNKNOWN   /* could not be checked (not counted as drift) */
};
const char *ws_drift_name(enum ws_drift_state s);

typedef struct ws_drift {
	enum ws_drift_state state;
	char subject[320];   /* "rolebinding/ws-x-bob-binding" or "flyte project/ws-x" */
	char where[64];      /* namespace, "flyte", or "" */
	char detail[512];    /* what differs */
} ws_drift;

/* Compare the plan with what exists (objects, stale managed objects, the
 * Flyte project and its settings, flyteadmin's namespace template).
 * *items is malloc'd (caller frees); *ndrift counts entries not OK. */
int ws_diff(ws_prov *p, const ws_record *r, ws_drift **items, size_t *n, size_t *ndrift,
	    ws_err *err);

#endif
