/* prov_internal.h - what the files of the provisioner share (provision.c,
 * prov_record.c, prov_undo.c, apply.c, prune.c, prov_flyte.c, prov_create.c,
 * prov_delete.c, drift.c). Not for callers outside shared/: see provision.h.
 */
#ifndef WS_PROV_INTERNAL_H
#define WS_PROV_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "provision.h"
#include "undo.h"

#define WS_EDIT_RETRIES 8

/* One run that changes things: its undo log and, for ws_change, the record
 * text it wrote (the record is put back only while it still says that). */
typedef struct ws_run {
	ws_prov *p;
	ws_undo undo;
	char *record_written; /* owned, or NULL */
} ws_run;

void ws_run_release(ws_run *run);

/* ---- helpers (provision.c) ---- */

/* p->progress, when set; a dry run's outcomes say "server dry run". */
void ws_prov_report(ws_prov *p, enum ws_step step, const char *subject, enum ws_outcome o,
		    const char *detail);
/* "rolebinding/ws-x-bob-binding" into out. */
void ws_prov_subject(const ws_kind *k, const char *name, char *out, size_t size);
/* Append fmt (two %s: a and b) to the NUL-terminated text in buf. */
void ws_prov_append(char *buf, size_t size, const char *fmt, const char *a, const char *b);
/* Add "subject (why)" to the NUL-terminated list in left, after ", " unless
 * it is the first. */
void ws_prov_left_behind(char *left, size_t size, const char *subject, const char *why);
/* Poll (up to a minute, not past an interruption) until namespace ns is gone. */
void ws_prov_wait_namespace_gone(ws_prov *p, const char *ns);
/* Write the record's status at the end of a run; a failure is only warned about. */
void ws_prov_final_status(ws_prov *p, const char *id, const char *phase, const char *msg);
/* Apply every object after the record, prune, then Flyte; changes go to run's log. */
int ws_prov_apply_plan(ws_run *run, const ws_plan *plan, ws_err *err);

/* ---- record store (prov_record.c) ---- */

/* The record ConfigMap of r with a status.json (phase, msg); NULL when out of memory. */
cJSON *ws_prov_record_object(ws_prov *p, const ws_record *r, const char *phase, const char *msg);
/* Write status.json of record id (merge patch), unless it says this already or
 * the run is a dry run. */
int ws_prov_set_status(ws_prov *p, const char *id, const char *phase, const char *msg, ws_err *err);
/* ws_record_edit that also gives the ConfigMap before the write (*before) and
 * the record text written (*written), both NULL when nothing needed writing;
 * before and written may be NULL. */
int ws_prov_record_edit(ws_prov *p, const char *id,
			int (*edit)(void *ctx, ws_record *r, ws_err *err), void *ctx,
			ws_record *out, cJSON **before, char **written, ws_err *err);

/* ---- undo (prov_undo.c) ---- */

/* After a failure: undo, then add to err's message what was left or that
 * everything was undone. Not interruptible. 0 all undone, -1 something left. */
int ws_prov_rollback(ws_run *run, ws_err *err);

/* ---- applying (apply.c) and pruning (prune.c) ---- */

/* Create the objects in parallel; bring those that exist to the plan. */
int ws_prov_apply_objects(ws_run *run, const ws_plan_object *const *objs, size_t n, ws_err *err);
/* Managed objects of the workspace that the plan no longer has: found(ctx,
 * kind, ns, object) for each (non-zero stops: -1). -1 on a listing error. */
int ws_prov_each_stale(ws_prov *p, const ws_plan *plan,
		       int (*found)(void *ctx, const ws_kind *k, const char *ns, const cJSON *obj),
		       void *ctx, ws_err *err);
/* Delete the stale objects of the plan's workspace, logging each for undo. */
int ws_prov_prune(ws_run *run, const ws_plan *plan, ws_err *err);

/* ---- Flyte (prov_flyte.c) ---- */

/* -1 with a message saying how to configure it when p has no Flyte endpoint. */
int ws_prov_need_flyte(ws_prov *p, ws_err *err);
/* Every domain of the platform must exist in Flyte Admin. */
int ws_prov_check_domains(ws_prov *p, ws_err *err);
/* The Flyte resource type of a project settings call ("CLUSTER_RESOURCE", ...). */
const char *ws_prov_resource_type(const char *what);
/* 1 when the project fields we own match and it is ACTIVE. */
int ws_prov_project_matches(const cJSON *want, const cJSON *have);
/* Register or update the project, then put the settings that differ. */
int ws_prov_apply_flyte(ws_run *run, const ws_plan *plan, ws_err *err);

#endif
