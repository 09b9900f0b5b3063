/* prov_create.c - creating a workspace: the system namespace made when
 * missing, the lowest free id allocated by creating the record (a 409 means
 * taken), then the plan applied with rollback; a re-run of the same create
 * takes the existing record instead (idempotent). */
#include "prov_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Create the namespace that holds the records if it is missing; *created
 * says whether this run did. */
static int ensure_system_namespace(ws_prov *p, int *created, ws_err *err)
{
	cJSON *ns = cJSON_CreateObject();
	int rc;

	*created = 0;
	cJSON_AddStringToObject(ns, "apiVersion", "v1");
	cJSON_AddStringToObject(ns, "kind", "Namespace");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(ns, "metadata"), "name",
				p->platform->system_namespace);
	if (ws_k8s_get(p->k8s, &WS_KIND_NAMESPACE, NULL, p->platform->system_namespace, NULL, err) == 0) {
		cJSON_Delete(ns);
		return 0;
	}
	rc = ws_k8s_create(p->k8s, &WS_KIND_NAMESPACE, ns, p->dry_run, NULL, err);
	cJSON_Delete(ns);
	if (rc && !ws_err_is_http(err, 409))
		return ws_err_prefix(err, "cannot create the system namespace '%s'",
				     p->platform->system_namespace);
	*created = rc == 0 && !p->dry_run;
	return 0;
}

/* After a failed first create: remove the system namespace this run made,
 * unless a record has appeared in it meanwhile (another create's). What
 * could not be removed is added to err's message. */
static void drop_system_namespace(ws_prov *p, ws_err *err)
{
	ws_record *recs = NULL;
	size_t nrecs = 0, n = strlen(err->msg);
	int removed = 0;
	ws_err e;

	ws_http_interrupt_hold(1);
	if (ws_record_list(p, &recs, NULL, &nrecs, &e) == 0) {
		ws_records_release(recs, NULL, nrecs);
		if (nrecs == 0 && (ws_k8s_delete(p->k8s, &WS_KIND_NAMESPACE, NULL,
						  p->platform->system_namespace, 0, &e) == 0 ||
				   ws_err_is_http(&e, 404))) {
			ws_prov_wait_namespace_gone(p, p->platform->system_namespace);
			removed = 1;
		}
	}
	ws_http_interrupt_hold(0);
	if (!removed)
		snprintf(err->msg + n, sizeof(err->msg) - n,
			 "; the system namespace '%s' created by this run was kept",
			 p->platform->system_namespace);
}

/* Make existing take this run's inputs (members, tier, services), keeping
 * its id, creation time, bucket and unknown fields. Members are added and
 * updated first, then those not in the input removed: the input's owner is
 * in place by then, and a removal that would leave no owner fails. */
static int adopt_inputs(ws_record *existing, const ws_record *in, ws_err *err)
{
	size_t i;

	for (i = 0; i < in->nusers; i++) {
		const ws_user *u = &in->users[i];
		int at = ws_record_find_user(existing, u->user_id);

		if (at < 0) {
			if (ws_record_add_user(existing, u->user_id, u->email, u->role, err))
				return -1;
			continue;
		}
		existing->users[at].role = u->role;
		if (ws_record_set(&existing->users[at].email, u->email))
			return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	for (i = existing->nusers; i-- > 0;)
		if (ws_record_find_user(in, existing->users[i].user_id) < 0 &&
		    ws_record_remove_user(existing, existing->users[i].user_id, err))
			return -1;
	for (i = 0; i < in->nservices; i++)
		if (ws_record_add_service(existing, in->services[i].service_type, err))
			return -1;
	if (ws_record_set(&existing->tier, in->tier))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return 0;
}

struct adopt_ctx {
	const ws_record *in;
};

static int adopt_edit(void *ctx, ws_record *r, ws_err *err)
{
	return adopt_inputs(r, ((struct adopt_ctx *)ctx)->in, err);
}

/* A record of this name and owner, if one exists: its index or -1. */
static int same_workspace(const ws_record *recs, size_t n, const ws_record *in, const char *slug)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char s[WS_NAME_BUF];
		unsigned seq;

		if (ws_id_parse(recs[i].workspace_id, s, &seq, NULL) || strcmp(s, slug) != 0)
			continue;
		if (strcmp(recs[i].workspace_name, in->workspace_name) == 0 &&
		    strcmp(recs[i].owner_email, in->owner_email) == 0)
			return (int)i;
	}
	return -1;
}

/* Sequence numbers already used by records of this slug. */
static void used_sequences(const ws_record *recs, size_t n, const char *slug, char used[WS_SEQ_MAX + 1])
{
	size_t i;

	memset(used, 0, WS_SEQ_MAX + 1);
	for (i = 0; i < n; i++) {
		char s[WS_NAME_BUF];
		unsigned seq;

		if (!ws_id_parse(recs[i].workspace_id, s, &seq, NULL) && strcmp(s, slug) == 0)
			used[seq] = 1;
	}
}

/* Whether a namespace of workspace id exists that is not that workspace's
 * (no workspace-id label naming it: someone's own namespace of that name)
 * or is being deleted: its number is then skipped rather than the namespace
 * taken over. One labelled with this id (left by a failed delete) is free:
 * it is this workspace's and is brought to the plan. 1 taken, 0 free, -1 on
 * an error other than 404. */
static int namespace_taken(ws_prov *p, const char *id, ws_err *err)
{
	const ws_platform *pl = p->platform;
	size_t i;

	for (i = 0; i < (pl->ns_template.has_domain ? pl->domains.n : 1); i++) {
		char ns[WS_NAME_BUF];
		cJSON *o = NULL;
		const char *owner;
		int taken;

		if (ws_ns_render(&pl->ns_template, id, pl->domains.n ? pl->domains.items[i] : NULL, ns,
				 err))
			return -1;
		if (ws_k8s_get(p->k8s, &WS_KIND_NAMESPACE, NULL, ns, &o, err)) {
			if (ws_err_is_http(err, 404))
				continue;
			return ws_err_prefix(err, "cannot check namespace '%s'", ns);
		}
		owner = ws_json_str(o, "metadata", "labels", WS_LABEL_WORKSPACE, NULL);
		taken = !owner || strcmp(owner, id) != 0 ||
			ws_json_str(o, "metadata", "deletionTimestamp", NULL) != NULL;
		cJSON_Delete(o);
		if (taken)
			return 1;
	}
	return 0;
}

/* Create the record under the lowest free id: a 409 means someone else
 * holds that number; a Flyte project with that id (an archived one of a
 * deleted workspace) or a namespace that is not its own (namespace_taken)
 * makes the number unusable too. */
static int allocate(ws_prov *p, ws_record *r, const char *slug, char used[WS_SEQ_MAX + 1],
		    ws_err *err)
{
	unsigned seq;

	for (seq = 1; seq <= WS_SEQ_MAX; seq++) {
		char id[WS_NAME_BUF], bucket[WS_LONG_NAME_BUF];
		cJSON *cm, *project = NULL;
		int rc;

		if (used[seq])
			continue;
		if (ws_id_format(slug, seq, id, err) || ws_name(WS_NAME_BUCKET, id, NULL, bucket, err))
			return -1;
		if (ws_record_set(&r->workspace_id, id) || ws_record_set(&r->data_bucket, bucket))
			return ws_fail(err, WS_E_INTERNAL, "out of memory");
		if (p->flyte && ws_record_has_service(r, "flyte")) {
			rc = ws_flyte_get_project(p->flyte, id, &project, err);
			cJSON_Delete(project);
			if (rc == 0) {
				used[seq] = 1; /* a Flyte project of that id exists already */
				continue;
			}
			if (!ws_err_is_http(err, 404))
				return ws_err_prefix(err, "cannot check Flyte project '%s'", id);
		}
		rc = namespace_taken(p, id, err);
		if (rc < 0)
			return -1;
		if (rc) {
			used[seq] = 1; /* its namespace is someone else's */
			continue;
		}
		cm = ws_prov_record_object(p, r, "Provisioning", "allocated");
		if (!cm)
			return ws_fail(err, WS_E_INTERNAL, "out of memory");
		rc = ws_k8s_create(p->k8s, &WS_KIND_CONFIGMAP, cm, p->dry_run, NULL, err);
		cJSON_Delete(cm);
		if (rc == 0 || (p->dry_run && ws_err_is_http(err, 404)))
			return 0; /* (a dry run may have no system namespace yet) */
		if (!ws_err_is_http(err, 409))
			return ws_err_prefix(err, "step 'record': cannot create configmap/%s in namespace %s",
					     id, p->platform->system_namespace);
		used[seq] = 1;
	}
	return ws_fail(err, WS_E_CONFLICT, "no free workspace number for '%s' (001 to 999 are taken)",
		       slug);
}

/* A new workspace: validate, allocate its id by creating the record, then
 * apply the plan with rollback (unless a controller carries it out). */
static int create_new(ws_prov *p, ws_record *r, const char *slug, char used[WS_SEQ_MAX + 1],
		      int made_system_ns, ws_err *err)
{
	ws_run run = {p};
	ws_plan plan;
	ws_undo_entry e;
	char subject[WS_LONG_NAME_BUF + 16];
	int rc;

	/* validate everything before anything is written */
	rc = ws_plan_build(r, p->platform, &plan, err);
	if (rc == 0) {
		ws_plan_release(&plan);
		rc = ws_undo_reserve(&run.undo, 1, err) || allocate(p, r, slug, used, err) ? -1 : 0;
	}
	if (rc) {
		if (made_system_ns)
			drop_system_namespace(p, err);
		ws_run_release(&run);
		return -1;
	}
	ws_prov_subject(&WS_KIND_CONFIGMAP, r->workspace_id, subject, sizeof(subject));
	ws_prov_report(p, WS_STEP_RECORD, subject, WS_OUT_CREATED,
		       p->dry_run ? "server dry run: the id is not reserved" : "workspace id allocated");
	if (p->record_only && !p->dry_run) {
		ws_run_release(&run);
		return 0; /* a controller carries it out */
	}
	if (!p->dry_run) {
		ws_undo_object(&e, WS_UNDO_RECORD, WS_STEP_RECORD, &WS_KIND_CONFIGMAP,
			       p->platform->system_namespace, r->workspace_id, NULL);
		if (ws_undo_push(&run.undo, &e, NULL))
			abort(); /* cannot happen: room was reserved */
	}
	rc = ws_plan_build(r, p->platform, &plan, err);
	if (rc == 0) {
		rc = ws_prov_apply_plan(&run, &plan, err);
		ws_plan_release(&plan);
	}
	/* When something could not be undone, the record is kept: it must say
	 * Failed and why, not "allocated". */
	if (rc && ws_prov_rollback(&run, err))
		ws_prov_final_status(p, r->workspace_id, "Failed", err->msg);
	else if (rc && made_system_ns)
		drop_system_namespace(p, err);
	else if (!rc)
		ws_prov_final_status(p, r->workspace_id, "Ready", "");
	ws_run_release(&run);
	return rc;
}

int ws_create(ws_prov *p, ws_record *r, int *existed, ws_err *err)
{
	ws_record *recs = NULL;
	size_t nrecs = 0;
	char slug[WS_NAME_BUF], used[WS_SEQ_MAX + 1];
	unsigned seq;
	int at, made_system_ns;

	*existed = 0;
	if (ws_id_parse(r->workspace_id, slug, &seq, err))
		return -1;
	if (!p->record_only && ws_record_has_service(r, "flyte") &&
	    (ws_prov_need_flyte(p, err) || ws_prov_check_domains(p, err)))
		return -1;
	if (ensure_system_namespace(p, &made_system_ns, err))
		return -1;
	if (ws_record_list(p, &recs, NULL, &nrecs, err)) {
		if (made_system_ns)
			drop_system_namespace(p, err);
		return -1;
	}
	at = same_workspace(recs, nrecs, r, slug);
	if (at >= 0) {
		struct adopt_ctx ctx = {r};
		char id[WS_NAME_BUF];
		ws_record updated;

		*existed = 1;
		snprintf(id, sizeof(id), "%s", recs[at].workspace_id);
		ws_records_release(recs, NULL, nrecs);
		if (p->record_only ? ws_record_edit(p, id, adopt_edit, &ctx, &updated, err)
				   : ws_change(p, id, adopt_edit, &ctx, &updated, err))
			return -1;
		ws_record_release(r);
		*r = updated;
		return 0;
	}
	used_sequences(recs, nrecs, slug, used);
	ws_records_release(recs, NULL, nrecs);
	return create_new(p, r, slug, used, made_system_ns, err);
}
