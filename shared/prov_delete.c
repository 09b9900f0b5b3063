/* prov_delete.c - deleting a workspace: its namespaces (and with them every
 * object in them), then its Flyte project archived (Flyte cannot delete
 * projects), then its record; what could not be deleted keeps the record. */
#include "prov_internal.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

/* A deep copy through JSON (records are small). */
static int record_copy(const ws_record *in, ws_record *out, ws_err *err)
{
	cJSON *j = ws_record_to_json(in);
	int rc;

	if (!j) {
		memset(out, 0, sizeof(*out));
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	rc = ws_record_from_json(out, j, err);
	cJSON_Delete(j);
	return rc;
}

/* Delete the plan's namespaces and wait for each to be gone; -1 when one
 * could not be deleted (listed in left). */
static int delete_namespaces(ws_prov *p, const ws_plan *plan, char *left, size_t size)
{
	char subject[WS_LONG_NAME_BUF + 32];
	size_t i;
	int rc = 0;

	for (i = 0; i < plan->namespaces.n; i++) {
		const char *ns = plan->namespaces.items[i];
		ws_err e;

		ws_prov_subject(&WS_KIND_NAMESPACE, ns, subject, sizeof(subject));
		ws_prov_report(p, WS_STEP_NAMESPACE, subject, WS_OUT_START, NULL);
		if (ws_k8s_delete(p->k8s, &WS_KIND_NAMESPACE, NULL, ns, p->dry_run, &e) &&
		    !ws_err_is_http(&e, 404)) {
			ws_prov_report(p, WS_STEP_NAMESPACE, subject, WS_OUT_FAILED, e.msg);
			ws_prov_left_behind(left, size, subject, e.msg);
			rc = -1;
			continue;
		}
		if (!p->dry_run)
			ws_prov_wait_namespace_gone(p, ns);
		ws_prov_report(p, WS_STEP_NAMESPACE, subject, WS_OUT_DELETED, NULL);
	}
	return rc;
}

/* Archive the Flyte project of id (missing is fine); -1 listed in left. */
static int archive_project(ws_prov *p, const char *id, char *left, size_t size)
{
	cJSON *project = NULL;
	const char *state;
	char subject[WS_LONG_NAME_BUF + 32];
	ws_err e;
	int rc = 0;

	snprintf(subject, sizeof(subject), "flyte project/%s", id);
	if (ws_flyte_get_project(p->flyte, id, &project, &e)) {
		if (ws_err_is_http(&e, 404))
			return 0;
		ws_prov_left_behind(left, size, subject, e.msg);
		return -1;
	}
	state = ws_json_str(project, "state", NULL);
	if (p->dry_run || (state && strcmp(state, "ARCHIVED") == 0)) {
		ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_ARCHIVED, NULL);
	} else if (ws_flyte_set_project_state(p->flyte, project, "ARCHIVED", &e)) {
		ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, e.msg);
		ws_prov_left_behind(left, size, subject, e.msg);
		rc = -1;
	} else {
		ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_ARCHIVED,
			       "Flyte cannot delete projects");
	}
	cJSON_Delete(project);
	return rc;
}

/* Delete the record ConfigMap of id (already gone is fine). */
static int delete_record(ws_prov *p, const char *id, ws_err *err)
{
	char subject[WS_LONG_NAME_BUF + 32];

	ws_prov_subject(&WS_KIND_CONFIGMAP, id, subject, sizeof(subject));
	if (ws_k8s_delete(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id, p->dry_run,
			  err) && !ws_err_is_http(err, 404)) {
		ws_prov_report(p, WS_STEP_RECORD, subject, WS_OUT_FAILED, err->msg);
		return ws_err_prefix(err, "cannot delete the record of '%s'", id);
	}
	ws_err_clear(err);
	ws_prov_report(p, WS_STEP_RECORD, subject, WS_OUT_DELETED, NULL);
	return 0;
}

int ws_destroy_record(ws_prov *p, const ws_record *rec, int record_exists, ws_err *err)
{
	const char *id = rec->workspace_id;
	ws_record r;
	ws_plan plan;
	char left[768] = "";
	int rc = 0;

	/* Plan from a copy whose tier is one the platform knows: deleting must
	 * work even after an operator removed the workspace's tier. */
	if (record_copy(rec, &r, err))
		return -1;
	if (r.tier && !ws_tiers_find(&p->platform->tiers, r.tier, NULL))
		ws_record_set(&r.tier, NULL); /* setting NULL cannot fail */
	if (ws_plan_build(&r, p->platform, &plan, err)) {
		ws_record_release(&r);
		return ws_err_prefix(err, "cannot plan the deletion of '%s'", id);
	}
	if (plan.nflyte && ws_prov_need_flyte(p, err)) {
		rc = -1;
		goto out;
	}
	if (record_exists)
		ws_prov_set_status(p, id, "Deleting", "", NULL);
	if (delete_namespaces(p, &plan, left, sizeof(left)))
		rc = -1;
	if (plan.nflyte && archive_project(p, id, left, sizeof(left)))
		rc = -1;
	if (rc) {
		ws_fail(err, WS_E_INVALID, "workspace '%s' was not fully deleted; left: %s%s", id, left,
			record_exists ? "; its record is kept, run delete again" : "");
		if (record_exists)
			ws_prov_final_status(p, id, "Failed", err->msg);
	} else if (record_exists) {
		rc = delete_record(p, id, err);
	}
out:
	ws_plan_release(&plan);
	ws_record_release(&r);
	return rc;
}

int ws_destroy(ws_prov *p, const char *id, ws_err *err)
{
	ws_record r;
	int rc;

	if (ws_record_load(p, id, &r, NULL, err))
		return -1;
	rc = ws_destroy_record(p, &r, 1, err);
	ws_record_release(&r);
	return rc;
}
