/* prov_undo.c - carrying out a run's undo log after a failure: objects
 * deleted or written back, the record put back, Flyte settings restored and
 * a registered project archived (Flyte cannot delete projects). */
#include "prov_internal.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

/* An object as it was, ready to be written back: server fields dropped,
 * resourceVersion set to current_rv (may be NULL). NULL when out of memory. */
static cJSON *ws_prov_restorable(const cJSON *before, const char *current_rv)
{
	static const char *const drop[] = {"uid", "creationTimestamp", "managedFields", "generation",
					   "selfLink", "deletionTimestamp", NULL};
	cJSON *o = cJSON_Duplicate(before, 1), *meta = ws_json_get(o, "metadata", NULL);
	size_t i;

	if (!o)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(o, "status");
	for (i = 0; drop[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(meta, drop[i]);
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
	if (current_rv && !cJSON_AddStringToObject(meta, "resourceVersion", current_rv)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int out_of_memory(ws_err *err)
{
	return ws_fail(err, WS_E_INTERNAL, "out of memory");
}

/* Put a record back as it was before this run's edit (content and status),
 * unless someone else changed it since: their change must not be lost.
 * Retried on a conflict (the controller may write the status meanwhile). */
static int restore_record(ws_run *run, const ws_undo_entry *u, ws_err *err)
{
	ws_prov *p = run->p;
	int attempt;

	for (attempt = 0; attempt < WS_EDIT_RETRIES; attempt++) {
		cJSON *cur = NULL, *obj;
		const char *text;
		int rc;

		if (ws_k8s_get(p->k8s, u->kind, u->ns, u->name, &cur, err))
			return -1;
		text = ws_json_str(cur, "data", WS_RECORD_KEY, NULL);
		if (!text || !run->record_written || strcmp(text, run->record_written) != 0) {
			cJSON_Delete(cur);
			return ws_fail(err, WS_E_CONFLICT, "someone else changed it meanwhile");
		}
		obj = ws_prov_restorable(u->before, ws_json_str(cur, "metadata", "resourceVersion", NULL));
		rc = obj ? ws_k8s_update(p->k8s, u->kind, obj, 0, NULL, err) : out_of_memory(err);
		cJSON_Delete(obj);
		cJSON_Delete(cur);
		if (rc == 0 || !ws_err_is_http(err, 409))
			return rc;
	}
	return -1;
}

/* Delete what the run created, or write back what it changed. */
static int undo_object(ws_prov *p, const ws_undo_entry *u, ws_err *e)
{
	cJSON *cur = NULL, *obj;
	int r;

	if (!u->before) {
		r = ws_k8s_delete(p->k8s, u->kind, u->ns, u->name, 0, e);
		if (r && ws_err_is_http(e, 404))
			r = 0;
		if (!r && u->kind == &WS_KIND_NAMESPACE)
			ws_prov_wait_namespace_gone(p, u->name);
		return r;
	}
	r = ws_k8s_get(p->k8s, u->kind, u->ns, u->name, &cur, e);
	if (r && ws_err_is_http(e, 404)) {
		obj = ws_prov_restorable(u->before, NULL);
		r = obj ? ws_k8s_create(p->k8s, u->kind, obj, 0, NULL, e) : out_of_memory(e);
		cJSON_Delete(obj);
	} else if (!r) {
		obj = ws_prov_restorable(u->before, ws_json_str(cur, "metadata", "resourceVersion", NULL));
		r = obj ? ws_k8s_update(p->k8s, u->kind, obj, 0, NULL, e) : out_of_memory(e);
		cJSON_Delete(obj);
	}
	cJSON_Delete(cur);
	return r;
}

/* Put project settings back (PUT the previous ones) or delete those the run made. */
static int undo_attrs(ws_prov *p, const ws_undo_entry *u, ws_err *e)
{
	cJSON *body = cJSON_CreateObject();
	int ok, r;

	if (u->before) {
		ok = cJSON_AddItemReferenceToObject(body, "attributes", u->before);
		r = ok ? ws_flyte_call(p->flyte, "PUT", u->path, body, NULL, e) : out_of_memory(e);
	} else {
		ok = cJSON_AddStringToObject(body, "project", u->name) &&
		     cJSON_AddStringToObject(body, "resource_type", ws_prov_resource_type(u->attrs));
		r = ok ? ws_flyte_call(p->flyte, "DELETE", u->path, body, NULL, e) : out_of_memory(e);
	}
	cJSON_Delete(body);
	return r;
}

/* Archive the project the run registered, or give it back its previous state. */
static int undo_project(ws_prov *p, const ws_undo_entry *u, char *left, size_t left_size)
{
	cJSON *project = NULL;
	const char *state = ws_json_str(u->before, "state", NULL);
	char subject[128];
	ws_err e;
	int r;

	snprintf(subject, sizeof(subject), "flyte project/%s", u->name);
	if (u->before) {
		r = ws_flyte_set_project_state(p->flyte, u->before, state ? state : "ACTIVE", &e);
	} else {
		r = ws_flyte_get_project(p->flyte, u->name, &project, &e);
		if (!r)
			r = ws_flyte_set_project_state(p->flyte, project, "ARCHIVED", &e);
		cJSON_Delete(project);
	}
	if (r) {
		ws_prov_left_behind(left, left_size, subject,
				    u->before ? "changed, not restored" : "registered, not archived");
		return -1;
	}
	ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, u->before ? WS_OUT_UNDONE : WS_OUT_ARCHIVED,
		       u->before ? NULL : "Flyte cannot delete projects");
	if (!u->before)
		ws_prov_left_behind(left, left_size, subject, "archived: Flyte cannot delete projects");
	return 0;
}

/* Undo one entry; 0 done or nothing to do, -1 with `left` saying what remains.
 * rc is the result so far: a created record is kept when something is left. */
static int undo_one(ws_run *run, const ws_undo_entry *u, int rc, char *left, size_t left_size)
{
	ws_prov *p = run->p;
	char subject[320];
	ws_err e;

	if (u->what == WS_UNDO_FLYTE_PROJECT)
		return undo_project(p, u, left, left_size);
	if (u->what == WS_UNDO_FLYTE_ATTRS) {
		/* an archived project takes its settings with it */
		if (ws_undo_registered_project(&run->undo) || undo_attrs(p, u, &e) == 0)
			return 0;
		ws_prov_append(left, left_size, "%sflyte project settings %s", left[0] ? ", " : "",
			       u->attrs);
		return -1;
	}
	ws_prov_subject(u->kind, u->name, subject, sizeof(subject));
	/* When something could not be undone, the record stays (status Failed),
	 * so that `delete ID` or a re-run can still find the rest. */
	if (u->what == WS_UNDO_RECORD && !u->before && rc) {
		ws_prov_left_behind(left, left_size, subject,
				    "kept: run 'kubectl workspace delete' to remove the rest");
		return 0;
	}
	/* Objects inside a namespace this run created go with the namespace. */
	if (u->what == WS_UNDO_OBJECT && u->kind->namespaced && !u->before &&
	    ws_undo_created_namespace(&run->undo, u->ns))
		return 0;
	if (u->what == WS_UNDO_RECORD && u->before) {
		static const char prefix[] = "record still lists the change: ";
		char why[sizeof(prefix) + WS_ERR_MSG_MAX];

		if (restore_record(run, u, &e) == 0) {
			ws_prov_report(p, u->step, subject, WS_OUT_UNDONE, NULL);
			return 0;
		}
		snprintf(why, sizeof(why), "%s%s", prefix, e.msg);
		ws_prov_left_behind(left, left_size, subject, why);
		return -1;
	}
	if (undo_object(p, u, &e) == 0) {
		ws_prov_report(p, u->step, subject, WS_OUT_UNDONE, NULL);
		return 0;
	}
	ws_prov_left_behind(left, left_size, subject, e.msg);
	return -1;
}

/* Undo the run's log in reverse; 0 when all of it was undone, else -1 with
 * `left` listing what remains (left may list archived projects even on 0). */
static int ws_prov_undo_all(ws_run *run, char *left, size_t left_size)
{
	size_t i;
	int rc = 0;

	left[0] = '\0';
	for (i = run->undo.n; i-- > 0;)
		if (undo_one(run, &run->undo.items[i], rc, left, left_size))
			rc = -1;
	return rc;
}

int ws_prov_rollback(ws_run *run, ws_err *err)
{
	char left[768];
	size_t n = strlen(err->msg);
	int rc;

	if (run->p->dry_run)
		return 0;
	ws_http_interrupt_hold(1);
	rc = ws_prov_undo_all(run, left, sizeof(left));
	ws_http_interrupt_hold(0);
	if (rc || left[0])
		snprintf(err->msg + n, sizeof(err->msg) - n, "; left after rollback: %s", left);
	else
		snprintf(err->msg + n, sizeof(err->msg) - n, "; everything this run did was undone");
	return rc;
}
