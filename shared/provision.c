/* provision.c - apply a workspace plan to the cluster and Flyte Admin with
 * rollback, allocate ids, read records back, diff, delete (see provision.h). */
#include "provision.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "naming.h"
#include "yamlconv.h"

#define EDIT_RETRIES 8
#define UPDATE_ROUNDS 3
#define NS_GONE_WAIT_S 60

static const char *const outcome_names[] = {
	"creating", "created", "configured", "unchanged", "deleted", "archived", "failed", "undone",
};

const char *ws_outcome_name(enum ws_outcome o)
{
	return o <= WS_OUT_UNDONE ? outcome_names[o] : "unknown";
}

static const char *const drift_names[] = {"ok", "missing", "differs", "extra", "unknown"};

const char *ws_drift_name(enum ws_drift_state s)
{
	return s <= WS_DRIFT_UNKNOWN ? drift_names[s] : "unknown";
}

static void warn(ws_prov *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(ws_prov *p, const char *fmt, ...)
{
	char msg[WS_ERR_MSG_MAX + 256];
	va_list ap;

	if (!p->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->warn(p->progress_ctx, msg);
}

static void report(ws_prov *p, enum ws_step step, const char *subject, enum ws_outcome o,
		   const char *detail)
{
	if (p->progress)
		p->progress(p->progress_ctx, step, subject, o,
			    detail || !p->dry_run || o == WS_OUT_START ? detail : "server dry run");
}

/* "rolebinding/ws-x-bob-binding" */
static void subject_of(const ws_kind *k, const char *name, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; k->kind[i] && n + 1 < size; i++)
		out[n++] = (char)(k->kind[i] >= 'A' && k->kind[i] <= 'Z' ? k->kind[i] + 32 : k->kind[i]);
	snprintf(out + n, size - n, "/%s", name ? name : "");
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- records ---------------------------------------------------------------- */

static int record_from_configmap(const cJSON *cm, ws_record *r, ws_err *err)
{
	const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);
	const char *name = ws_json_str(cm, "metadata", "name", NULL);

	if (!text)
		return ws_fail(err, WS_E_INVALID, "record '%s' has no %s", name ? name : "?",
			       WS_RECORD_KEY);
	if (ws_record_parse(r, text, strlen(text), err))
		return ws_err_prefix(err, "record '%s'", name ? name : "?");
	return 0;
}

int ws_record_load(ws_prov *p, const char *id, ws_record *r, char *rv, ws_err *err)
{
	cJSON *cm = NULL;
	const char *v;
	int rc;

	memset(r, 0, sizeof(*r));
	if (ws_k8s_get(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id, &cm, err)) {
		if (ws_err_is_http(err, 404))
			return ws_fail_http(err, 404, "NotFound",
					    "workspace '%s' not found (no record in namespace '%s')", id,
					    p->platform->system_namespace);
		return ws_err_prefix(err, "cannot read workspace '%s'", id);
	}
	if (!ws_json_str(cm, "metadata", "labels", WS_LABEL_RECORD_APP, NULL) ||
	    strcmp(ws_json_str(cm, "metadata", "labels", WS_LABEL_RECORD_APP, NULL), WS_RECORD_APP)) {
		cJSON_Delete(cm);
		return ws_fail_http(err, 404, "NotFound", "workspace '%s' not found", id);
	}
	rc = record_from_configmap(cm, r, err);
	v = ws_json_str(cm, "metadata", "resourceVersion", NULL);
	if (rv)
		snprintf(rv, 32, "%s", v ? v : "");
	cJSON_Delete(cm);
	return rc;
}

/* Sort by id, keeping each status beside its record (insertion sort: lists are short). */
static void sort_records(ws_record *recs, cJSON **status, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && strcmp(recs[j - 1].workspace_id, recs[j].workspace_id) > 0; j--) {
			ws_record t = recs[j];

			recs[j] = recs[j - 1];
			recs[j - 1] = t;
			if (status) {
				cJSON *st = status[j];

				status[j] = status[j - 1];
				status[j - 1] = st;
			}
		}
	}
}

int ws_record_list(ws_prov *p, ws_record **records, cJSON ***status, size_t *n, ws_err *err)
{
	ws_k8s_list_opts opts = {WS_LABEL_RECORD_APP "=" WS_RECORD_APP, NULL, 0};
	cJSON *items = NULL, *cm;
	size_t i = 0, count;

	*records = NULL;
	*n = 0;
	if (status)
		*status = NULL;
	if (ws_k8s_list(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, &opts, &items, NULL,
			err))
		return ws_err_prefix(err, "cannot list workspaces");
	count = (size_t)cJSON_GetArraySize(items);
	*records = calloc(count + 1, sizeof(**records));
	if (status)
		*status = calloc(count + 1, sizeof(**status));
	cJSON_ArrayForEach(cm, items) {
		const char *st = ws_json_str(cm, "data", WS_STATUS_KEY, NULL);

		if (record_from_configmap(cm, &(*records)[i], NULL))
			continue; /* not a record this tool can read: skipped */
		if (status && st)
			(*status)[i] = cJSON_Parse(st);
		i++;
	}
	cJSON_Delete(items);
	*n = i;
	sort_records(*records, status ? *status : NULL, i);
	return 0;
}

void ws_records_release(ws_record *records, cJSON **status, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ws_record_release(&records[i]);
		if (status)
			cJSON_Delete(status[i]);
	}
	free(records);
	free(status);
}

/* The record ConfigMap as the plan has it, with a status.json. */
static cJSON *record_object(ws_prov *p, const ws_record *r, const char *phase, const char *msg)
{
	cJSON *labels = cJSON_CreateObject(), *o = cJSON_CreateObject(), *meta, *data, *st;
	char *text = ws_record_print(r), *stext, now[32];

	now_rfc3339(now);
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "ConfigMap");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", r->workspace_id);
	cJSON_AddStringToObject(meta, "namespace", p->platform->system_namespace);
	cJSON_AddStringToObject(labels, WS_LABEL_WORKSPACE, r->workspace_id);
	cJSON_AddStringToObject(labels, WS_LABEL_MANAGED_BY, WS_MANAGED_BY);
	cJSON_AddStringToObject(labels, WS_LABEL_RECORD_APP, WS_RECORD_APP);
	cJSON_AddItemToObject(meta, "labels", labels);
	data = cJSON_AddObjectToObject(o, "data");
	cJSON_AddStringToObject(data, WS_RECORD_KEY, text ? text : "{}");
	st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "phase", phase);
	cJSON_AddStringToObject(st, "message", msg ? msg : "");
	cJSON_AddStringToObject(st, "updatedAt", now);
	stext = cJSON_PrintUnformatted(st);
	cJSON_AddStringToObject(data, WS_STATUS_KEY, stext ? stext : "{}");
	free(stext);
	cJSON_Delete(st);
	free(text);
	return o;
}

/* 1 when the record's status already says this (no write needed, so an
 * idempotent run changes nothing). */
static int status_is(ws_prov *p, const char *id, const char *phase, const char *msg)
{
	cJSON *cm = NULL, *old;
	const char *cur, *op, *om;
	int same;

	if (ws_k8s_get(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id, &cm, NULL))
		return 0;
	cur = ws_json_str(cm, "data", WS_STATUS_KEY, NULL);
	old = cur ? cJSON_Parse(cur) : NULL;
	op = ws_json_str(old, "phase", NULL);
	om = ws_json_str(old, "message", NULL);
	same = op && strcmp(op, phase) == 0 && strcmp(om ? om : "", msg ? msg : "") == 0;
	cJSON_Delete(old);
	cJSON_Delete(cm);
	return same;
}

/* Write status.json of a record (merge patch); failures are reported, not fatal. */
static int set_status(ws_prov *p, const char *id, const char *phase, const char *msg, ws_err *err)
{
	cJSON *patch, *st;
	char *text, now[32];
	int rc;

	if (p->dry_run || status_is(p, id, phase, msg))
		return 0;
	patch = cJSON_CreateObject();
	st = cJSON_CreateObject();
	now_rfc3339(now);
	cJSON_AddStringToObject(st, "phase", phase);
	cJSON_AddStringToObject(st, "message", msg ? msg : "");
	cJSON_AddStringToObject(st, "updatedAt", now);
	text = cJSON_PrintUnformatted(st);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "data"), WS_STATUS_KEY, text ? text : "{}");
	rc = ws_k8s_patch(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id,
			  "application/merge-patch+json", patch, 0, NULL, err);
	free(text);
	cJSON_Delete(st);
	cJSON_Delete(patch);
	return rc;
}

/* ws_record_edit; also gives the ConfigMap as it was before the write
 * (*before) and the record text written (*written): both NULL when nothing
 * needed writing. before and written may be NULL. */
static int record_edit(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
		       void *ctx, ws_record *out, cJSON **before, char **written, ws_err *err)
{
	int attempt;

	for (attempt = 0; attempt < EDIT_RETRIES; attempt++) {
		cJSON *cm = NULL, *old = NULL;
		ws_record r;
		ws_plan plan;
		char *text;
		int rc;

		if (ws_k8s_get(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id, &cm, err)) {
			if (ws_err_is_http(err, 404))
				return ws_fail_http(err, 404, "NotFound", "workspace '%s' not found", id);
			return ws_err_prefix(err, "cannot read workspace '%s'", id);
		}
		if (record_from_configmap(cm, &r, err) || edit(ctx, &r, err)) {
			cJSON_Delete(cm);
			ws_record_release(&r);
			return -1;
		}
		/* Refuse an edit whose plan is invalid before writing it: a record
		 * without a valid plan cannot be described, converged or changed. */
		if (ws_plan_build(&r, p->platform, &plan, err)) {
			cJSON_Delete(cm);
			ws_record_release(&r);
			return -1;
		}
		ws_plan_release(&plan);
		text = ws_record_print(&r);
		if (text && ws_json_str(cm, "data", WS_RECORD_KEY, NULL) &&
		    strcmp(text, ws_json_str(cm, "data", WS_RECORD_KEY, NULL)) == 0) {
			rc = 0; /* nothing to write */
			free(text);
			text = NULL;
		} else {
			old = cJSON_Duplicate(cm, 1);
			ws_json_set_str(ws_json_obj(cm, "data"), WS_RECORD_KEY, text ? text : "{}");
			rc = ws_k8s_update(p->k8s, &WS_KIND_CONFIGMAP, cm, p->dry_run, NULL, err);
		}
		cJSON_Delete(cm);
		if (rc == 0) {
			if (out)
				*out = r;
			else
				ws_record_release(&r);
			if (before)
				*before = old;
			else
				cJSON_Delete(old);
			if (written)
				*written = text;
			else
				free(text);
			return 0;
		}
		cJSON_Delete(old);
		free(text);
		ws_record_release(&r);
		if (!ws_err_is_http(err, 409))
			return ws_err_prefix(err, "cannot update workspace '%s'", id);
	}
	return ws_err_prefix(err, "cannot update workspace '%s' (it kept changing)", id);
}

int ws_record_edit(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
		   void *ctx, ws_record *out, ws_err *err)
{
	return record_edit(p, id, edit, ctx, out, NULL, NULL, err);
}

int ws_platform_from_cluster(ws_k8s *k, const char *system_namespace, ws_platform *out, ws_err *err)
{
	cJSON *cm = NULL;
	const char *text;
	char origin[160];

	if (ws_platform_defaults(out, err))
		return -1;
	if (ws_k8s_get(k, &WS_KIND_CONFIGMAP, system_namespace, WS_PLATFORM_CONFIGMAP, &cm, err)) {
		if (ws_err_is_http(err, 404) || ws_err_is_http(err, 403)) {
			ws_err_clear(err);
			return 0; /* no operator settings: defaults */
		}
		ws_platform_release(out);
		/* The first request of every command: when nothing answered, say
		 * that the cluster is out of reach rather than what was asked. */
		if (err->kind == WS_E_TRANSPORT)
			return ws_err_prefix(err, "cannot reach the Kubernetes API server (%s%s%s)",
					     k->conn.context && *k->conn.context ? "context '" : "",
					     k->conn.context && *k->conn.context ? k->conn.context
										 : k->conn.source,
					     k->conn.context && *k->conn.context ? "'" : "");
		return ws_err_prefix(err, "cannot read platform settings");
	}
	text = ws_json_str(cm, "data", WS_PLATFORM_KEY, NULL);
	snprintf(origin, sizeof(origin), "configmap %s/%s key %s", system_namespace,
		 WS_PLATFORM_CONFIGMAP, WS_PLATFORM_KEY);
	if (text && ws_platform_apply_text(out, text, strlen(text), origin, err)) {
		cJSON_Delete(cm);
		ws_platform_release(out);
		return -1;
	}
	cJSON_Delete(cm);
	return 0;
}

/* The Flyte resource type of a project settings call. */
static const char *resource_type_of(const char *what)
{
	if (strcmp(what, "workflow_execution_config") == 0)
		return "WORKFLOW_EXECUTION_CONFIG";
	if (strcmp(what, "cluster_resource_attributes") == 0)
		return "CLUSTER_RESOURCE";
	if (strcmp(what, "task_resource_attributes") == 0)
		return "TASK_RESOURCE";
	return "WORKFLOW_EXECUTION_CONFIG";
}

/* ---- undo log ----------------------------------------------------------------- */

struct undo {
	enum ws_step step;
	const ws_kind *kind;
	char ns[WS_NAME_BUF];
	char name[WS_LONG_NAME_BUF];
	cJSON *before; /* NULL: created by this run (undo = delete); else restore it */
};

struct run {
	ws_prov *p;
	struct undo *undo;
	size_t nundo;
	/* Flyte */
	int project_registered;  /* this run registered the project */
	cJSON *project_before;   /* the project before this run changed it */
	cJSON *attrs_before[8];  /* per attribute call: previous attributes, or NULL */
	int attrs_changed[8];
	char *record_written;    /* the record text this run wrote (ws_change) */
};

static void push_undo(struct run *run, enum ws_step step, const ws_kind *k, const char *ns,
		      const char *name, const cJSON *before)
{
	struct undo *u = realloc(run->undo, (run->nundo + 1) * sizeof(*u));

	if (!u)
		return;
	run->undo = u;
	u = &run->undo[run->nundo++];
	u->step = step;
	u->kind = k;
	snprintf(u->ns, sizeof(u->ns), "%s", ns ? ns : "");
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->before = before ? cJSON_Duplicate(before, 1) : NULL;
}

static void run_release(struct run *run)
{
	size_t i;

	for (i = 0; i < run->nundo; i++)
		cJSON_Delete(run->undo[i].before);
	free(run->undo);
	cJSON_Delete(run->project_before);
	for (i = 0; i < 8; i++)
		cJSON_Delete(run->attrs_before[i]);
	free(run->record_written);
	memset(run, 0, sizeof(*run));
}

/* An object as it was, ready to be written back: server fields dropped. */
static cJSON *restorable(const cJSON *before, const char *current_rv)
{
	static const char *const drop[] = {"uid", "creationTimestamp", "managedFields", "generation",
					   "selfLink", "deletionTimestamp", NULL};
	cJSON *o = cJSON_Duplicate(before, 1), *meta = ws_json_get(o, "metadata", NULL);
	size_t i;

	cJSON_DeleteItemFromObjectCaseSensitive(o, "status");
	for (i = 0; drop[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(meta, drop[i]);
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
	if (current_rv)
		cJSON_AddStringToObject(meta, "resourceVersion", current_rv);
	return o;
}

static int namespace_created_here(const struct run *run, const char *ns)
{
	size_t i;

	for (i = 0; i < run->nundo; i++)
		if (run->undo[i].kind == &WS_KIND_NAMESPACE && !run->undo[i].before &&
		    strcmp(run->undo[i].name, ns) == 0)
			return 1;
	return 0;
}

static void wait_namespace_gone(ws_prov *p, const char *ns)
{
	int i;

	for (i = 0; i < NS_GONE_WAIT_S * 10 && !ws_http_stopped(); i++) {
		ws_err e;

		if (ws_k8s_get(p->k8s, &WS_KIND_NAMESPACE, NULL, ns, NULL, &e) && ws_err_is_http(&e, 404))
			return;
		usleep(100 * 1000);
	}
}

static void append(char *buf, size_t size, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, fmt, a, b);
}

/* Put a record back as it was before this run's edit (content and status),
 * unless someone else changed it since: their change must not be lost.
 * Retried on a conflict (the controller may write the status meanwhile). */
static int restore_record(struct run *run, const struct undo *u, ws_err *err)
{
	ws_prov *p = run->p;
	int attempt;

	for (attempt = 0; attempt < EDIT_RETRIES; attempt++) {
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
		obj = restorable(u->before, ws_json_str(cur, "metadata", "resourceVersion", NULL));
		rc = ws_k8s_update(p->k8s, u->kind, obj, 0, NULL, err);
		cJSON_Delete(obj);
		cJSON_Delete(cur);
		if (rc == 0 || !ws_err_is_http(err, 409))
			return rc;
	}
	return -1;
}

/* Undo everything in reverse order; returns 0 when all of it was undone,
 * else -1 with `left` listing what remains. */
static int undo_all(struct run *run, const ws_plan *plan, char *left, size_t left_size)
{
	ws_prov *p = run->p;
	size_t i;
	int rc = 0;

	left[0] = '\0';
	/* Flyte first: it was the last thing done. */
	if (plan && plan->nflyte && p->flyte) {
		for (i = 1; i < plan->nflyte && i < 8; i++) {
			ws_err e;
			int r;

			if (!run->attrs_changed[i] || run->project_registered)
				continue;
			if (run->attrs_before[i]) {
				cJSON *body = cJSON_CreateObject();

				cJSON_AddItemToObject(body, "attributes", cJSON_Duplicate(run->attrs_before[i], 1));
				r = ws_flyte_call(p->flyte, "PUT", plan->flyte[i].path, body, NULL, &e);
				cJSON_Delete(body);
			} else {
				cJSON *body = cJSON_CreateObject();

				cJSON_AddStringToObject(body, "project", plan->workspace_id);
				cJSON_AddStringToObject(body, "resource_type", resource_type_of(plan->flyte[i].what));
				r = ws_flyte_call(p->flyte, "DELETE", plan->flyte[i].path, body, NULL, &e);
				cJSON_Delete(body);
			}
			if (r) {
				rc = -1;
				append(left, left_size, "%sflyte project settings %s", left[0] ? ", " : "",
				       plan->flyte[i].what);
			}
		}
		if (run->project_registered || run->project_before) {
			cJSON *project = NULL;
			ws_err e;
			char subject[128];
			int r;

			snprintf(subject, sizeof(subject), "flyte project/%s", plan->workspace_id);
			if (run->project_before) {
				r = ws_flyte_set_project_state(
					p->flyte, run->project_before,
					ws_json_str(run->project_before, "state", NULL)
						? ws_json_str(run->project_before, "state", NULL) : "ACTIVE",
					&e);
			} else {
				r = ws_flyte_get_project(p->flyte, plan->workspace_id, &project, &e);
				if (!r)
					r = ws_flyte_set_project_state(p->flyte, project, "ARCHIVED", &e);
				cJSON_Delete(project);
			}
			if (r) {
				rc = -1;
				append(left, left_size, "%s%s", left[0] ? ", " : "", subject);
				append(left, left_size, " (%s)%s", run->project_registered
					? "registered, not archived" : "changed, not restored", "");
			} else {
				report(p, WS_STEP_FLYTE_PROJECT, subject,
				       run->project_registered ? WS_OUT_ARCHIVED : WS_OUT_UNDONE,
				       run->project_registered ? "Flyte cannot delete projects" : NULL);
				if (run->project_registered)
					append(left, left_size,
					       "%s%s (archived: Flyte cannot delete projects)",
					       left[0] ? ", " : "", subject);
			}
		}
	}
	for (i = run->nundo; i-- > 0;) {
		struct undo *u = &run->undo[i];
		char subject[320];
		ws_err e;
		int r;

		subject_of(u->kind, u->name, subject, sizeof(subject));
		/* When something could not be undone, the record stays (status
		 * Failed), so that `delete ID` or a re-run can still find the rest. */
		if (u->step == WS_STEP_RECORD && !u->before && rc) {
			append(left, left_size, "%s%s (kept: run 'kubectl workspace delete' to remove the rest)",
			       left[0] ? ", " : "", subject);
			continue;
		}
		/* Objects inside a namespace this run created go with the namespace. */
		if (u->kind->namespaced && u->kind != &WS_KIND_CONFIGMAP && !u->before &&
		    namespace_created_here(run, u->ns))
			continue;
		if (u->step == WS_STEP_RECORD && u->before) {
			if (restore_record(run, u, &e)) {
				rc = -1;
				append(left, left_size, "%s%s", left[0] ? ", " : "", subject);
				append(left, left_size, " (record still lists the change: %s)%s", e.msg, "");
			} else {
				report(p, u->step, subject, WS_OUT_UNDONE, NULL);
			}
			continue;
		}
		if (!u->before) {
			r = ws_k8s_delete(p->k8s, u->kind, u->ns, u->name, 0, &e);
			if (r && ws_err_is_http(&e, 404))
				r = 0;
			if (!r && u->kind == &WS_KIND_NAMESPACE)
				wait_namespace_gone(p, u->name);
		} else {
			cJSON *cur = NULL, *obj;

			r = ws_k8s_get(p->k8s, u->kind, u->ns, u->name, &cur, &e);
			if (r && ws_err_is_http(&e, 404)) {
				obj = restorable(u->before, NULL);
				r = ws_k8s_create(p->k8s, u->kind, obj, 0, NULL, &e);
				cJSON_Delete(obj);
			} else if (!r) {
				obj = restorable(u->before, ws_json_str(cur, "metadata", "resourceVersion", NULL));
				r = ws_k8s_update(p->k8s, u->kind, obj, 0, NULL, &e);
				cJSON_Delete(obj);
			}
			cJSON_Delete(cur);
		}
		if (r) {
			rc = -1;
			append(left, left_size, "%s%s", left[0] ? ", " : "", subject);
			append(left, left_size, " (%s)%s", e.msg, "");
		} else {
			report(p, u->step, subject, WS_OUT_UNDONE, NULL);
		}
	}
	return rc;
}

/* ---- applying objects ---------------------------------------------------------- */

/* desired merged into existing: labels and annotations entries set, every
 * other top-level field of desired replaced. */
static cJSON *merge_into(const cJSON *desired, const cJSON *existing)
{
	cJSON *m = cJSON_Duplicate(existing, 1), *meta = ws_json_obj(m, "metadata");
	const cJSON *f, *e;
	const char *maps[] = {"labels", "annotations"};
	size_t i;

	for (i = 0; i < 2; i++) {
		const cJSON *want = ws_json_get(desired, "metadata", maps[i], NULL);
		cJSON *have;

		if (!want)
			continue;
		have = ws_json_obj(meta, maps[i]);
		cJSON_ArrayForEach(e, want)
			ws_json_set(have, e->string, cJSON_Duplicate(e, 1));
	}
	cJSON_ArrayForEach(f, desired) {
		if (strcmp(f->string, "metadata") == 0 || strcmp(f->string, "apiVersion") == 0 ||
		    strcmp(f->string, "kind") == 0)
			continue;
		ws_json_set(m, f->string, cJSON_Duplicate(f, 1));
	}
	return m;
}

static int roleref_differs(const cJSON *desired, const cJSON *existing)
{
	const cJSON *w = ws_json_get(desired, "roleRef", NULL);

	return w && !cJSON_Compare(w, ws_json_get(existing, "roleRef", NULL), 1);
}

static void fail_object(ws_err *err, const ws_plan_object *o, const char *verb, const ws_err *cause)
{
	char subject[320];

	subject_of(o->kind, o->name, subject, sizeof(subject));
	*err = *cause;
	ws_err_prefix(err, "step '%s': cannot %s %s%s%s", ws_step_name(o->step), verb, subject,
		      o->namespace ? " in namespace " : "", o->namespace ? o->namespace : "");
}

/* Apply a set of plan objects in parallel: create; for those that exist,
 * read, compare, update (re-reading on a conflict). */
static int apply_objects(struct run *run, const ws_plan_object *const *objs, size_t n, ws_err *err)
{
	ws_prov *p = run->p;
	ws_k8s_op *ops = calloc(n + 1, sizeof(*ops));
	int *pending = calloc(n + 1, sizeof(*pending)), failed = 0, round;
	size_t i;

	if (!ops || !pending) {
		free(ops);
		free(pending);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	for (i = 0; i < n; i++) {
		char subject[320];

		subject_of(objs[i]->kind, objs[i]->name, subject, sizeof(subject));
		report(p, objs[i]->step, subject, WS_OUT_START, NULL);
		ops[i].verb = WS_K8S_CREATE;
		ops[i].kind = objs[i]->kind;
		ops[i].ns = objs[i]->namespace;
		ops[i].body = objs[i]->body;
		ops[i].dry_run = p->dry_run;
	}
	ws_k8s_run(p->k8s, ops, n);
	for (i = 0; i < n; i++) {
		char subject[320];

		subject_of(objs[i]->kind, objs[i]->name, subject, sizeof(subject));
		if (ops[i].rc == 0) {
			if (!p->dry_run)
				push_undo(run, objs[i]->step, objs[i]->kind, objs[i]->namespace, objs[i]->name, NULL);
			report(p, objs[i]->step, subject, WS_OUT_CREATED, NULL);
		} else if (p->dry_run && objs[i]->kind->namespaced && ws_err_is_http(&ops[i].err, 404)) {
			/* A server dry run creates no namespace, so the server cannot check
			 * what goes into a new one. */
			report(p, objs[i]->step, subject, WS_OUT_CREATED,
			       "not checked by the server: its namespace does not exist yet");
		} else if (ws_err_is_http(&ops[i].err, 409)) {
			pending[i] = 1;
		} else if (!failed) {
			failed = 1;
			report(p, objs[i]->step, subject, WS_OUT_FAILED, ops[i].err.msg);
			fail_object(err, objs[i], "create", &ops[i].err);
		}
	}
	for (round = 0; round < UPDATE_ROUNDS && !failed; round++) {
		size_t npending = 0;

		/* read what exists */
		ws_k8s_ops_release(ops, n);
		for (i = 0; i < n; i++) {
			memset(&ops[i], 0, sizeof(ops[i]));
			if (!pending[i])
				continue;
			npending++;
			ops[i].verb = WS_K8S_GET;
			ops[i].kind = objs[i]->kind;
			ops[i].ns = objs[i]->namespace;
			ops[i].name = objs[i]->name;
		}
		if (!npending)
			break;
		/* GETs of entries not pending are skipped by giving them no kind */
		{
			ws_k8s_op *batch = calloc(npending, sizeof(*batch));
			size_t *idx = calloc(npending, sizeof(*idx)), j = 0;

			for (i = 0; i < n; i++)
				if (pending[i]) {
					batch[j] = ops[i];
					idx[j++] = i;
				}
			ws_k8s_run(p->k8s, batch, npending);
			for (j = 0; j < npending; j++)
				ops[idx[j]] = batch[j];
			free(batch);
			free(idx);
		}
		/* decide and update */
		{
			ws_k8s_op *upd = calloc(npending, sizeof(*upd));
			cJSON **bodies = calloc(npending, sizeof(*bodies));
			size_t *idx = calloc(npending, sizeof(*idx)), nu = 0, j;
			int ran;

			for (i = 0; i < n && !failed; i++) {
				char subject[320];

				if (!pending[i])
					continue;
				subject_of(objs[i]->kind, objs[i]->name, subject, sizeof(subject));
				if (ops[i].rc) {
					failed = 1;
					report(p, objs[i]->step, subject, WS_OUT_FAILED, ops[i].err.msg);
					fail_object(err, objs[i], "read", &ops[i].err);
					break;
				}
				if (ws_json_subset(objs[i]->body, ops[i].result)) {
					pending[i] = 0;
					report(p, objs[i]->step, subject, WS_OUT_UNCHANGED, NULL);
					continue;
				}
				if (objs[i]->kind == &WS_KIND_ROLEBINDING &&
				    roleref_differs(objs[i]->body, ops[i].result)) {
					ws_err e;
					int gone;

					/* roleRef is immutable: replace the binding. Its undo
					 * is two entries, run in reverse: delete the new
					 * binding, then create the old one again. A server dry
					 * run cannot create what it only pretended to delete. */
					gone = ws_k8s_delete(p->k8s, objs[i]->kind, objs[i]->namespace,
							     objs[i]->name, p->dry_run, &e) == 0;
					if (gone && !p->dry_run)
						push_undo(run, objs[i]->step, objs[i]->kind, objs[i]->namespace,
							  objs[i]->name, ops[i].result);
					if (!gone || (!p->dry_run && ws_k8s_create(p->k8s, objs[i]->kind,
										   objs[i]->body, 0, NULL, &e))) {
						failed = 1;
						report(p, objs[i]->step, subject, WS_OUT_FAILED, e.msg);
						fail_object(err, objs[i], "replace", &e);
						break;
					}
					if (!p->dry_run)
						push_undo(run, objs[i]->step, objs[i]->kind, objs[i]->namespace,
							  objs[i]->name, NULL);
					pending[i] = 0;
					report(p, objs[i]->step, subject, WS_OUT_CONFIGURED, "roleRef replaced");
					continue;
				}
				bodies[nu] = merge_into(objs[i]->body, ops[i].result);
				upd[nu].verb = WS_K8S_UPDATE;
				upd[nu].kind = objs[i]->kind;
				upd[nu].ns = objs[i]->namespace;
				upd[nu].name = objs[i]->name;
				upd[nu].body = bodies[nu];
				upd[nu].dry_run = p->dry_run;
				idx[nu++] = i;
			}
			ran = !failed && nu;
			if (ran)
				ws_k8s_run(p->k8s, upd, nu);
			/* The updates ran together: every one that succeeded must be
			 * logged for undo, also those after a failure. */
			for (j = 0; ran && j < nu; j++) {
				char subject[320];

				i = idx[j];
				subject_of(objs[i]->kind, objs[i]->name, subject, sizeof(subject));
				if (upd[j].rc == 0) {
					if (!p->dry_run)
						push_undo(run, objs[i]->step, objs[i]->kind, objs[i]->namespace,
							  objs[i]->name, ops[i].result);
					pending[i] = 0;
					report(p, objs[i]->step, subject, WS_OUT_CONFIGURED, NULL);
				} else if (!ws_err_is_http(&upd[j].err, 409)) {
					report(p, objs[i]->step, subject, WS_OUT_FAILED, upd[j].err.msg);
					if (!failed)
						fail_object(err, objs[i], "update", &upd[j].err);
					failed = 1;
				}
				/* a 409 Conflict stays pending: re-read next round */
			}
			ws_k8s_ops_release(upd, nu);
			for (j = 0; j < nu; j++)
				cJSON_Delete(bodies[j]);
			free(upd);
			free(bodies);
			free(idx);
		}
	}
	if (!failed) {
		for (i = 0; i < n; i++) {
			if (pending[i]) {
				ws_err e;

				ws_fail(&e, WS_E_CONFLICT, "it kept changing while being updated");
				fail_object(err, objs[i], "update", &e);
				failed = 1;
				break;
			}
		}
	}
	ws_k8s_ops_release(ops, n);
	free(ops);
	free(pending);
	return failed ? -1 : 0;
}

/* Plan objects of the given steps (the record is handled apart). */
static size_t select_objects(const ws_plan *plan, unsigned steps, const ws_plan_object **out)
{
	size_t i, n = 0;

	for (i = 0; i < plan->nobjects; i++)
		if (steps & (1u << plan->objects[i].step))
			out[n++] = &plan->objects[i];
	return n;
}

static const ws_kind *const pruned_kinds[] = {
	&WS_KIND_ROLEBINDING, &WS_KIND_ROLE, &WS_KIND_NETWORKPOLICY, &WS_KIND_SERVICEACCOUNT,
	&WS_KIND_RESOURCEQUOTA,
};

static int planned(const ws_plan *plan, const ws_kind *k, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < plan->nobjects; i++)
		if (plan->objects[i].kind == k && strcmp(plan->objects[i].name, name) == 0 &&
		    (!k->namespaced || strcmp(plan->objects[i].namespace, ns) == 0))
			return 1;
	return 0;
}

/* Managed objects of this workspace that the plan no longer has. Calls
 * found(ctx, kind, ns, object) for each; returns -1 on a listing error.
 * Every kind in every namespace is listed at once (one round trip); a list
 * the server pages anyway is read again in full. */
static int each_stale(ws_prov *p, const ws_plan *plan,
		      int (*found)(void *ctx, const ws_kind *k, const char *ns, const cJSON *obj),
		      void *ctx, ws_err *err)
{
	enum { NKINDS = sizeof(pruned_kinds) / sizeof(pruned_kinds[0]) };
	size_t n = plan->namespaces.n * NKINDS, i;
	ws_k8s_op *ops = calloc(n ? n : 1, sizeof(*ops));
	char selector[160];
	int rc = 0;

	if (!ops)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	snprintf(selector, sizeof(selector), "%s=%s,%s=%s", WS_LABEL_WORKSPACE, plan->workspace_id,
		 WS_LABEL_MANAGED_BY, WS_MANAGED_BY);
	for (i = 0; i < n; i++) {
		ops[i].verb = WS_K8S_GET;
		ops[i].list = 1;
		ops[i].kind = pruned_kinds[i % NKINDS];
		ops[i].ns = plan->namespaces.items[i / NKINDS];
		ops[i].label_selector = selector;
	}
	ws_k8s_run(p->k8s, ops, n);
	for (i = 0; i < n && rc == 0; i++) {
		const ws_kind *kind = ops[i].kind;
		const char *ns = ops[i].ns, *more;
		cJSON *items = NULL, *o;

		if (ops[i].rc) {
			if (ws_err_is_http(&ops[i].err, 404))
				continue; /* namespace not there (yet) */
			*err = ops[i].err;
			rc = ws_err_prefix(err, "cannot list %s in '%s'", kind->plural, ns);
			break;
		}
		more = ws_json_str(ops[i].result, "metadata", "continue", NULL);
		if (more && *more) {
			ws_k8s_list_opts opts = {selector, NULL, 0};

			if (ws_k8s_list(p->k8s, kind, ns, &opts, &items, NULL, err)) {
				rc = ws_err_prefix(err, "cannot list %s in '%s'", kind->plural, ns);
				break;
			}
		} else {
			items = cJSON_DetachItemFromObjectCaseSensitive(ops[i].result, "items");
		}
		cJSON_ArrayForEach(o, items) {
			const char *name = ws_json_str(o, "metadata", "name", NULL);

			if (name && !planned(plan, kind, ns, name) && found(ctx, kind, ns, o)) {
				rc = -1;
				break;
			}
		}
		cJSON_Delete(items);
	}
	ws_k8s_ops_release(ops, n);
	free(ops);
	return rc;
}

struct prune_ctx {
	struct run *run;
	ws_err *err;
};

static int prune_one(void *ctx, const ws_kind *k, const char *ns, const cJSON *obj)
{
	struct prune_ctx *pc = ctx;
	ws_prov *p = pc->run->p;
	const char *name = ws_json_str(obj, "metadata", "name", NULL);
	char subject[320];
	enum ws_step step = k == &WS_KIND_ROLE ? WS_STEP_ROLE
			    : k == &WS_KIND_ROLEBINDING ? WS_STEP_ROLEBINDING
			    : k == &WS_KIND_RESOURCEQUOTA ? WS_STEP_QUOTA
			    : k == &WS_KIND_SERVICEACCOUNT ? WS_STEP_SERVICEACCOUNT : WS_STEP_NETWORKPOLICY;

	subject_of(k, name, subject, sizeof(subject));
	if (ws_k8s_delete(p->k8s, k, ns, name, p->dry_run, pc->err) && !ws_err_is_http(pc->err, 404)) {
		report(p, step, subject, WS_OUT_FAILED, pc->err->msg);
		return ws_err_prefix(pc->err, "step '%s': cannot delete %s in namespace %s",
				     ws_step_name(step), subject, ns);
	}
	if (!p->dry_run)
		push_undo(pc->run, step, k, ns, name, obj);
	report(p, step, subject, WS_OUT_DELETED,
	       p->dry_run ? "no longer in the plan; server dry run" : "no longer in the plan");
	return 0;
}

/* ---- Flyte ------------------------------------------------------------------------ */

static int need_flyte(ws_prov *p, ws_err *err)
{
	if (p->flyte)
		return 0;
	return ws_fail(err, WS_E_INVALID,
		       "the Flyte Admin endpoint is not known: pass --flyte-endpoint, set "
		       "FLYTE_PLATFORM_URL, or set flyte.endpoint in the %s ConfigMap",
		       WS_PLATFORM_CONFIGMAP);
}

/* Every domain the platform needs must exist in Flyte Admin (they are global). */
static int check_domains(ws_prov *p, ws_err *err)
{
	ws_strlist have = {0};
	size_t i;
	char list[256] = "";

	if (ws_flyte_domains(p->flyte, &have, err))
		return ws_err_prefix(err, "cannot read Flyte domains");
	for (i = 0; i < have.n; i++)
		append(list, sizeof(list), "%s%s", i ? ", " : "", have.items[i]);
	for (i = 0; i < p->platform->domains.n; i++) {
		if (!ws_strlist_has(&have, p->platform->domains.items[i])) {
			ws_fail(err, WS_E_INVALID,
				"Flyte Admin has no domain '%s' (it has: %s); domains are set system wide "
				"in flyteadmin's configuration, not per project",
				p->platform->domains.items[i], list);
			ws_strlist_release(&have);
			return -1;
		}
	}
	ws_strlist_release(&have);
	return 0;
}

/* The fields of a project we own, compared against what Flyte has. */
static int project_matches(const cJSON *want, const cJSON *have)
{
	static const char *const fields[] = {"id", "name", "description", "labels", NULL};
	size_t i;

	for (i = 0; fields[i]; i++)
		if (!ws_json_subset(ws_json_get(want, fields[i], NULL), ws_json_get(have, fields[i], NULL)))
			return 0;
	return ws_json_str(have, "state", NULL) && strcmp(ws_json_str(have, "state", NULL), "ACTIVE") == 0;
}

/* "step 'flyte project': cannot register flyte project 'ws-x': <server message>" */
static int flyte_fail(ws_err *err, const ws_plan *plan, const ws_plan_call *c, const char *verb)
{
	return ws_err_prefix(err, "step '%s': cannot %s flyte %s %s'%s'", ws_step_name(c->step), verb,
			     c->what, c->step == WS_STEP_FLYTE_PROJECT ? "" : "of ", plan->workspace_id);
}

static int apply_flyte(struct run *run, const ws_plan *plan, ws_err *err)
{
	ws_prov *p = run->p;
	const cJSON *want = ws_json_get(plan->flyte[0].body, "project", NULL);
	cJSON *have = NULL;
	char subject[128];

	snprintf(subject, sizeof(subject), "flyte project/%s", plan->workspace_id);
	report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_START, NULL);
	if (ws_flyte_get_project(p->flyte, plan->workspace_id, &have, err)) {
		if (!ws_err_is_http(err, 404)) {
			report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, err->msg);
			return flyte_fail(err, plan, &plan->flyte[0], "read");
		}
		if (!p->dry_run &&
		    ws_flyte_call(p->flyte, plan->flyte[0].method, plan->flyte[0].path, plan->flyte[0].body,
				  NULL, err)) {
			report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, err->msg);
			return flyte_fail(err, plan, &plan->flyte[0], "register");
		}
		run->project_registered = !p->dry_run;
		report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_CREATED,
		       p->dry_run ? "not checked: Flyte Admin has no dry run" : NULL);
		if (p->dry_run) {
			size_t j;

			/* Flyte Admin has no dry run: its settings would be put as planned. */
			for (j = 1; j < plan->nflyte; j++) {
				snprintf(subject, sizeof(subject), "flyte settings/%s", plan->flyte[j].what);
				report(p, plan->flyte[j].step, subject, WS_OUT_CREATED,
				       "not checked: Flyte Admin has no dry run");
			}
			return 0;
		}
	} else if (project_matches(want, have)) {
		report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_UNCHANGED, NULL);
	} else {
		cJSON *update = cJSON_Duplicate(want, 1);
		char path[200];

		snprintf(path, sizeof(path), "/api/v1/projects/%s", plan->workspace_id);
		ws_json_set_str(update, "state", "ACTIVE");
		if (!p->dry_run && ws_flyte_call(p->flyte, "PUT", path, update, NULL, err)) {
			cJSON_Delete(update);
			cJSON_Delete(have);
			report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, err->msg);
			return flyte_fail(err, plan, &plan->flyte[0], "update");
		}
		cJSON_Delete(update);
		run->project_before = p->dry_run ? NULL : cJSON_Duplicate(have, 1);
		report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_CONFIGURED, NULL);
	}
	cJSON_Delete(have);

	/* Settings: read them all at once, then put those that differ at once. */
	{
		size_t n = plan->nflyte - 1, j;
		ws_http_req *reqs = calloc(n, sizeof(*reqs)), **rp = calloc(n, sizeof(*rp));
		int *put = calloc(n, sizeof(*put)), failed = 0, ran;

		for (j = 0; j < n; j++) {
			char path[300];

			snprintf(path, sizeof(path), "%s?resource_type=%s", plan->flyte[j + 1].path,
				 resource_type_of(plan->flyte[j + 1].what));
			rp[j] = &reqs[j];
			if (ws_flyte_req(p->flyte, &reqs[j], "GET", path, NULL, err))
				failed = 1;
		}
		if (!failed)
			ws_http_perform(rp, n);
		for (j = 0; j < n && !failed; j++) {
			const ws_plan_call *c = &plan->flyte[j + 1];
			cJSON *got = NULL;
			const cJSON *want_m = ws_json_get(c->body, "attributes", "matching_attributes", NULL);

			snprintf(subject, sizeof(subject), "flyte settings/%s", c->what);
			if (ws_flyte_result(&reqs[j], &got, err)) {
				if (!ws_err_is_http(err, 404)) {
					report(p, c->step, subject, WS_OUT_FAILED, err->msg);
					flyte_fail(err, plan, c, "read");
					failed = 1;
					break;
				}
				put[j] = 1;
			} else if (ws_json_subset(want_m, ws_json_get(got, "attributes", "matching_attributes",
									NULL))) {
				report(p, c->step, subject, WS_OUT_UNCHANGED, NULL);
			} else {
				put[j] = 2;
				if (j + 1 < 8)
					run->attrs_before[j + 1] =
						cJSON_Duplicate(ws_json_get(got, "attributes", NULL), 1);
			}
			cJSON_Delete(got);
		}
		for (j = 0; j < n; j++) {
			ws_http_req_release(&reqs[j]);
			memset(&reqs[j], 0, sizeof(reqs[j]));
		}
		for (j = 0; j < n && !failed; j++) {
			if (!put[j])
				continue;
			if (p->dry_run) {
				snprintf(subject, sizeof(subject), "flyte settings/%s", plan->flyte[j + 1].what);
				report(p, plan->flyte[j + 1].step, subject,
				       put[j] == 1 ? WS_OUT_CREATED : WS_OUT_CONFIGURED, NULL);
				put[j] = 0;
				continue;
			}
			if (ws_flyte_req(p->flyte, &reqs[j], plan->flyte[j + 1].method, plan->flyte[j + 1].path,
					 plan->flyte[j + 1].body, err))
				failed = 1;
		}
		ran = !failed;
		if (ran) {
			size_t m = 0;

			for (j = 0; j < n; j++)
				if (put[j])
					rp[m++] = &reqs[j];
			ws_http_perform(rp, m);
		}
		/* The puts ran together: every one that succeeded must be logged
		 * for undo, also those after a failure. */
		for (j = 0; ran && j < n; j++) {
			const ws_plan_call *c = &plan->flyte[j + 1];
			ws_err e;

			if (!put[j])
				continue;
			snprintf(subject, sizeof(subject), "flyte settings/%s", c->what);
			if (ws_flyte_result(&reqs[j], NULL, &e)) {
				report(p, c->step, subject, WS_OUT_FAILED, e.msg);
				if (!failed) {
					*err = e;
					flyte_fail(err, plan, c, "put");
				}
				failed = 1;
				continue;
			}
			if (j + 1 < 8)
				run->attrs_changed[j + 1] = 1;
			report(p, c->step, subject, put[j] == 1 ? WS_OUT_CREATED : WS_OUT_CONFIGURED, NULL);
		}
		for (j = 0; j < n; j++)
			ws_http_req_release(&reqs[j]);
		free(reqs);
		free(rp);
		free(put);
		if (failed)
			return -1;
	}
	return 0;
}

/* ---- converge ------------------------------------------------------------------------ */

#define STEP(s) (1u << (s))

/* Apply every object after the record, prune, then Flyte. */
static int apply_plan(struct run *run, const ws_plan *plan, ws_err *err)
{
	const ws_plan_object **objs = calloc(plan->nobjects + 1, sizeof(*objs));
	struct prune_ctx pc = {run, err};
	size_t n;
	int rc = -1;

	if (!objs)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	/* 1. the namespaces; 2. everything in them at once; 3. stale objects; 4. Flyte */
	n = select_objects(plan, STEP(WS_STEP_NAMESPACE), objs);
	if (apply_objects(run, objs, n, err))
		goto out;
	n = select_objects(plan, STEP(WS_STEP_QUOTA) | STEP(WS_STEP_SERVICEACCOUNT) |
				 STEP(WS_STEP_NETWORKPOLICY) | STEP(WS_STEP_ROLE) | STEP(WS_STEP_ROLEBINDING),
			   objs);
	if (apply_objects(run, objs, n, err))
		goto out;
	if (each_stale(run->p, plan, prune_one, &pc, err))
		goto out;
	if (plan->nflyte && (need_flyte(run->p, err) || apply_flyte(run, plan, err)))
		goto out;
	rc = 0;
out:
	free(objs);
	return rc;
}

/* Roll back after a failure; err gets what was left, if anything. Returns
 * 0 when everything was undone, -1 when something is left. Requests are
 * held from interruption meanwhile: a Ctrl-C must not stop the rollback. */
static int rollback(struct run *run, const ws_plan *plan, ws_err *err)
{
	char left[768];
	size_t n = strlen(err->msg);
	int rc;

	if (run->p->dry_run)
		return 0;
	ws_http_interrupt_hold(1);
	rc = undo_all(run, plan, left, sizeof(left));
	ws_http_interrupt_hold(0);
	if (rc || left[0])
		snprintf(err->msg + n, sizeof(err->msg) - n, "; left after rollback: %s", left);
	else
		snprintf(err->msg + n, sizeof(err->msg) - n, "; everything this run did was undone");
	return rc;
}

/* The last write of a run: the record's status. Not fatal, but said. */
static void final_status(ws_prov *p, const char *id, const char *phase, const char *msg)
{
	ws_err e;

	ws_http_interrupt_hold(1); /* the work is done or undone: record it */
	if (set_status(p, id, phase, msg, &e))
		warn(p, "the status of workspace '%s' could not be set to %s: %s", id, phase, e.msg);
	ws_http_interrupt_hold(0);
}

/* Converge with an undo log that may hold this run's record edit already
 * (ws_change): on failure everything in it is rolled back. */
static int converge_run(struct run *run, const ws_record *r, ws_err *err)
{
	ws_prov *p = run->p;
	ws_plan plan;
	int rc;

	rc = ws_plan_build(r, p->platform, &plan, err);
	if (!rc && plan.nflyte && (need_flyte(p, err) || check_domains(p, err)))
		rc = -1;
	if (rc) {
		/* nothing applied; only a record edit to put back */
		if (run->nundo && rollback(run, NULL, err))
			final_status(p, r->workspace_id, "Failed", err->msg);
		ws_plan_release(&plan);
		return -1;
	}
	rc = apply_plan(run, &plan, err);
	if (rc) {
		/* When all was undone, a record edit was put back with its status. */
		if (rollback(run, &plan, err) || !run->record_written)
			final_status(p, r->workspace_id, "Failed", err->msg);
	} else {
		final_status(p, r->workspace_id, "Ready", "");
	}
	ws_plan_release(&plan);
	return rc;
}

int ws_converge(ws_prov *p, const ws_record *r, ws_err *err)
{
	struct run run = {p};
	int rc = converge_run(&run, r, err);

	run_release(&run);
	return rc;
}

int ws_change(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
	      void *ctx, ws_record *out, ws_err *err)
{
	struct run run = {p};
	cJSON *before = NULL;
	ws_record r;
	int rc;

	if (record_edit(p, id, edit, ctx, &r, &before, &run.record_written, err))
		return -1;
	/* The edit is the first entry of the undo log, so it is undone last. */
	if (before && !p->dry_run)
		push_undo(&run, WS_STEP_RECORD, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id,
			  before);
	cJSON_Delete(before);
	rc = converge_run(&run, &r, err);
	run_release(&run);
	if (rc == 0 && out)
		*out = r;
	else
		ws_record_release(&r);
	return rc;
}

/* ---- create -------------------------------------------------------------------------- */

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
			wait_namespace_gone(p, p->platform->system_namespace);
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
 * its id, creation time, bucket and unknown fields. */
static void adopt_inputs(ws_record *existing, const ws_record *in)
{
	size_t i;

	for (i = existing->nusers; i-- > 0;)
		if (ws_record_find_user(in, existing->users[i].user_id) < 0) {
			/* bypass the last-owner guard: the input has its own owner */
			existing->users[i].role = WS_ROLE_VIEWER;
			ws_record_remove_user(existing, existing->users[i].user_id, NULL);
		}
	for (i = 0; i < in->nusers; i++) {
		int at = ws_record_find_user(existing, in->users[i].user_id);

		if (at < 0) {
			ws_record_add_user(existing, in->users[i].user_id, in->users[i].email,
					   in->users[i].role, NULL);
		} else {
			existing->users[at].role = in->users[i].role;
			ws_record_set(&existing->users[at].email, in->users[i].email);
		}
	}
	for (i = 0; i < in->nservices; i++)
		ws_record_add_service(existing, in->services[i].service_type, NULL);
	ws_record_set(&existing->tier, in->tier);
}

struct adopt_ctx {
	const ws_record *in;
};

static int adopt_edit(void *ctx, ws_record *r, ws_err *err)
{
	(void)err;
	adopt_inputs(r, ((struct adopt_ctx *)ctx)->in);
	return 0;
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
		ws_record_set(&r->workspace_id, id);
		ws_record_set(&r->data_bucket, bucket);
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
		cm = record_object(p, r, "Provisioning", "allocated");
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

int ws_create(ws_prov *p, ws_record *r, int *existed, ws_err *err)
{
	ws_record *recs = NULL;
	size_t nrecs = 0;
	char slug[WS_NAME_BUF], used[WS_SEQ_MAX + 1];
	unsigned seq;
	int at, rc, made_system_ns;

	*existed = 0;
	if (ws_id_parse(r->workspace_id, slug, &seq, err))
		return -1;
	if (!p->record_only && ws_record_has_service(r, "flyte") &&
	    (need_flyte(p, err) || check_domains(p, err)))
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
	{
		struct run run = {p};
		ws_plan plan;
		char subject[WS_LONG_NAME_BUF + 16];

		/* validate everything before anything is written */
		rc = ws_plan_build(r, p->platform, &plan, err);
		if (rc == 0) {
			ws_plan_release(&plan);
			rc = allocate(p, r, slug, used, err);
		}
		if (rc) {
			if (made_system_ns)
				drop_system_namespace(p, err);
			return -1;
		}
		snprintf(subject, sizeof(subject), "configmap/%s", r->workspace_id);
		report(p, WS_STEP_RECORD, subject, WS_OUT_CREATED,
		       p->dry_run ? "server dry run: the id is not reserved" : "workspace id allocated");
		if (p->record_only && !p->dry_run)
			return 0; /* a controller carries it out */
		if (!p->dry_run)
			push_undo(&run, WS_STEP_RECORD, &WS_KIND_CONFIGMAP, p->platform->system_namespace,
				  r->workspace_id, NULL);
		if (ws_plan_build(r, p->platform, &plan, err)) {
			if (rollback(&run, NULL, err))
				final_status(p, r->workspace_id, "Failed", err->msg);
			else if (made_system_ns)
				drop_system_namespace(p, err);
			run_release(&run);
			return -1;
		}
		rc = apply_plan(&run, &plan, err);
		/* When something could not be undone, the record is kept: it must
		 * say Failed and why, not "allocated". */
		if (rc && rollback(&run, &plan, err))
			final_status(p, r->workspace_id, "Failed", err->msg);
		else if (rc && made_system_ns)
			drop_system_namespace(p, err);
		else if (!rc)
			final_status(p, r->workspace_id, "Ready", "");
		run_release(&run);
		ws_plan_release(&plan);
		return rc;
	}
}

/* A deep copy through JSON (records are small). */
static int record_copy(const ws_record *in, ws_record *out, ws_err *err)
{
	cJSON *j = ws_record_to_json(in);
	int rc = ws_record_from_json(out, j, err);

	cJSON_Delete(j);
	return rc;
}

/* ---- delete ---------------------------------------------------------------------------- */

int ws_destroy_record(ws_prov *p, const ws_record *rec, int record_exists, ws_err *err)
{
	const char *id = rec->workspace_id;
	ws_record r;
	ws_plan plan;
	char left[768] = "", subject[WS_LONG_NAME_BUF + 32];
	size_t i;
	int rc = 0;

	/* Plan from a copy whose tier is one the platform knows: deleting must
	 * work even after an operator removed the workspace's tier. */
	if (record_copy(rec, &r, err))
		return -1;
	if (r.tier && !ws_tiers_find(&p->platform->tiers, r.tier, NULL))
		ws_record_set(&r.tier, NULL);
	if (ws_plan_build(&r, p->platform, &plan, err)) {
		ws_record_release(&r);
		return ws_err_prefix(err, "cannot plan the deletion of '%s'", id);
	}
	if (plan.nflyte && need_flyte(p, err))
		goto fail;
	if (record_exists)
		set_status(p, id, "Deleting", "", NULL);
	for (i = 0; i < plan.namespaces.n; i++) {
		const char *ns = plan.namespaces.items[i];
		ws_err e;

		snprintf(subject, sizeof(subject), "namespace/%s", ns);
		report(p, WS_STEP_NAMESPACE, subject, WS_OUT_START, NULL);
		if (ws_k8s_delete(p->k8s, &WS_KIND_NAMESPACE, NULL, ns, p->dry_run, &e) &&
		    !ws_err_is_http(&e, 404)) {
			report(p, WS_STEP_NAMESPACE, subject, WS_OUT_FAILED, e.msg);
			append(left, sizeof(left), "%s%s", left[0] ? ", " : "", subject);
			append(left, sizeof(left), " (%s)%s", e.msg, "");
			rc = -1;
			continue;
		}
		if (!p->dry_run)
			wait_namespace_gone(p, ns);
		report(p, WS_STEP_NAMESPACE, subject, WS_OUT_DELETED, NULL);
	}
	if (plan.nflyte) {
		cJSON *project = NULL;
		ws_err e;

		snprintf(subject, sizeof(subject), "flyte project/%s", id);
		if (ws_flyte_get_project(p->flyte, id, &project, &e)) {
			if (!ws_err_is_http(&e, 404)) {
				append(left, sizeof(left), "%s%s", left[0] ? ", " : "", subject);
				append(left, sizeof(left), " (%s)%s", e.msg, "");
				rc = -1;
			}
		} else if (p->dry_run ||
			   (ws_json_str(project, "state", NULL) &&
			    strcmp(ws_json_str(project, "state", NULL), "ARCHIVED") == 0)) {
			report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_ARCHIVED, NULL);
		} else if (ws_flyte_set_project_state(p->flyte, project, "ARCHIVED", &e)) {
			report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, e.msg);
			append(left, sizeof(left), "%s%s", left[0] ? ", " : "", subject);
			append(left, sizeof(left), " (%s)%s", e.msg, "");
			rc = -1;
		} else {
			report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_ARCHIVED,
			       "Flyte cannot delete projects");
		}
		cJSON_Delete(project);
	}
	if (rc) {
		ws_fail(err, WS_E_INVALID,
			"workspace '%s' was not fully deleted; left: %s%s", id, left,
			record_exists ? "; its record is kept, run delete again" : "");
		if (record_exists)
			final_status(p, id, "Failed", err->msg);
		goto out;
	}
	if (!record_exists)
		goto out;
	snprintf(subject, sizeof(subject), "configmap/%s", id);
	if (ws_k8s_delete(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id, p->dry_run,
			  err) && !ws_err_is_http(err, 404)) {
		report(p, WS_STEP_RECORD, subject, WS_OUT_FAILED, err->msg);
		rc = ws_err_prefix(err, "cannot delete the record of '%s'", id);
		goto out;
	}
	ws_err_clear(err);
	report(p, WS_STEP_RECORD, subject, WS_OUT_DELETED, NULL);
	goto out;
fail:
	rc = -1;
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

/* ---- diff -------------------------------------------------------------------------------- */

struct drift_list {
	ws_drift *items;
	size_t n;
	size_t ndrift;
};

static void add_drift(struct drift_list *l, enum ws_drift_state st, const char *subject,
		      const char *where, const char *detail)
{
	ws_drift *d = realloc(l->items, (l->n + 1) * sizeof(*d));

	if (!d)
		return;
	l->items = d;
	d = &l->items[l->n++];
	d->state = st;
	snprintf(d->subject, sizeof(d->subject), "%s", subject);
	snprintf(d->where, sizeof(d->where), "%s", where ? where : "");
	snprintf(d->detail, sizeof(d->detail), "%s", detail ? detail : "");
	if (st != WS_DRIFT_OK && st != WS_DRIFT_UNKNOWN)
		l->ndrift++;
}

static int stale_found(void *ctx, const ws_kind *k, const char *ns, const cJSON *obj)
{
	char subject[320];

	subject_of(k, ws_json_str(obj, "metadata", "name", NULL), subject, sizeof(subject));
	add_drift(ctx, WS_DRIFT_EXTRA, subject, ns, "managed by the workspace but not in its plan");
	return 0;
}

/* Compare a template text with flyteadmin's, ignoring spaces inside braces. */
static void squeeze(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++)
		if (*in != ' ')
			out[n++] = *in;
	out[n] = '\0';
}

static void check_flyteadmin_template(ws_prov *p, struct drift_list *l)
{
	const ws_platform *pf = p->platform;
	cJSON *cm = NULL, *cfg;
	const char *text, *tmpl;
	char subject[300], a[160], b[160], detail[400];
	ws_err e;

	snprintf(subject, sizeof(subject), "flyteadmin namespace_mapping.template");
	if (ws_k8s_get(p->k8s, &WS_KIND_CONFIGMAP, pf->flyte_namespace, pf->flyteadmin_configmap, &cm, &e)) {
		snprintf(detail, sizeof(detail), "not checked: configmap %s/%s: %s", pf->flyte_namespace,
			 pf->flyteadmin_configmap, e.msg);
		add_drift(l, WS_DRIFT_UNKNOWN, subject, pf->flyte_namespace, detail);
		return;
	}
	text = ws_json_str(cm, "data", pf->flyteadmin_config_key, NULL);
	cfg = text ? ws_yaml_parse(text, strlen(text), NULL) : NULL;
	tmpl = ws_json_str(cfg, "namespace_mapping", "template", NULL);
	if (!tmpl)
		tmpl = ws_json_str(cfg, "namespace_config", "namespace_mapping", "template", NULL);
	if (!tmpl) {
		/* flyteadmin's default when the key is absent */
		tmpl = "{{ project }}-{{ domain }}";
	}
	squeeze(tmpl, a, sizeof(a));
	squeeze(pf->ns_template.text, b, sizeof(b));
	if (strcmp(a, b) == 0) {
		add_drift(l, WS_DRIFT_OK, subject, pf->flyte_namespace, tmpl);
	} else {
		snprintf(detail, sizeof(detail),
			 "flyteadmin maps projects to '%s' but workspaces use '%s': executions would run "
			 "outside the workspace namespaces; set namespace_mapping.template to \"%s\"",
			 tmpl, pf->ns_template.text, pf->ns_template.text);
		add_drift(l, WS_DRIFT_DIFFERS, subject, pf->flyte_namespace, detail);
	}
	cJSON_Delete(cfg);
	cJSON_Delete(cm);
}

static void diff_flyte(ws_prov *p, const ws_plan *plan, struct drift_list *l)
{
	const cJSON *want = ws_json_get(plan->flyte[0].body, "project", NULL);
	cJSON *have = NULL;
	char subject[128], detail[512];
	size_t i;
	ws_err e;

	snprintf(subject, sizeof(subject), "flyte project/%s", plan->workspace_id);
	if (!p->flyte) {
		add_drift(l, WS_DRIFT_UNKNOWN, subject, "flyte", "not checked: Flyte Admin endpoint unknown");
		return;
	}
	if (ws_flyte_get_project(p->flyte, plan->workspace_id, &have, &e)) {
		add_drift(l, ws_err_is_http(&e, 404) ? WS_DRIFT_MISSING : WS_DRIFT_UNKNOWN, subject, "flyte",
			  e.msg);
		return;
	}
	if (project_matches(want, have)) {
		add_drift(l, WS_DRIFT_OK, subject, "flyte", NULL);
	} else {
		const char *state = ws_json_str(have, "state", NULL);

		if (state && strcmp(state, "ACTIVE") != 0)
			snprintf(detail, sizeof(detail), "state is %s", state);
		else
			ws_json_diff(want, have, detail, sizeof(detail));
		add_drift(l, WS_DRIFT_DIFFERS, subject, "flyte", detail);
	}
	cJSON_Delete(have);
	for (i = 1; i < plan->nflyte; i++) {
		cJSON *got = NULL;
		const cJSON *want_m = ws_json_get(plan->flyte[i].body, "attributes", "matching_attributes", NULL);

		snprintf(subject, sizeof(subject), "flyte settings/%s", plan->flyte[i].what);
		if (ws_flyte_get_attributes(p->flyte, plan->workspace_id,
					    resource_type_of(plan->flyte[i].what), &got, &e)) {
			add_drift(l, ws_err_is_http(&e, 404) ? WS_DRIFT_MISSING : WS_DRIFT_UNKNOWN, subject,
				  "flyte", e.msg);
			continue;
		}
		if (ws_json_diff(want_m, ws_json_get(got, "matching_attributes", NULL), detail, sizeof(detail)) &&
		    ws_json_diff(want_m, ws_json_get(got, "attributes", "matching_attributes", NULL), detail,
				 sizeof(detail)))
			add_drift(l, WS_DRIFT_DIFFERS, subject, "flyte", detail);
		else
			add_drift(l, WS_DRIFT_OK, subject, "flyte", NULL);
		cJSON_Delete(got);
	}
}

int ws_diff(ws_prov *p, const ws_record *r, ws_drift **items, size_t *n, size_t *ndrift, ws_err *err)
{
	struct drift_list l = {0};
	ws_plan plan;
	ws_k8s_op *ops;
	size_t i;

	*items = NULL;
	*n = *ndrift = 0;
	if (ws_plan_build(r, p->platform, &plan, err))
		return -1;
	ops = calloc(plan.nobjects + 1, sizeof(*ops));
	for (i = 0; i < plan.nobjects; i++) {
		ops[i].verb = WS_K8S_GET;
		ops[i].kind = plan.objects[i].kind;
		ops[i].ns = plan.objects[i].namespace;
		ops[i].name = plan.objects[i].name;
	}
	ws_k8s_run(p->k8s, ops, plan.nobjects);
	for (i = 0; i < plan.nobjects; i++) {
		const ws_plan_object *o = &plan.objects[i];
		char subject[320], detail[512];

		subject_of(o->kind, o->name, subject, sizeof(subject));
		if (ops[i].rc)
			add_drift(&l, ws_err_is_http(&ops[i].err, 404) ? WS_DRIFT_MISSING : WS_DRIFT_UNKNOWN,
				  subject, o->namespace, ws_err_is_http(&ops[i].err, 404) ? NULL : ops[i].err.msg);
		else if (o->step == WS_STEP_RECORD)
			add_drift(&l, WS_DRIFT_OK, subject, o->namespace, NULL); /* the record is the truth */
		else if (ws_json_diff(o->body, ops[i].result, detail, sizeof(detail)))
			add_drift(&l, WS_DRIFT_DIFFERS, subject, o->namespace, detail);
		else
			add_drift(&l, WS_DRIFT_OK, subject, o->namespace, NULL);
	}
	ws_k8s_ops_release(ops, plan.nobjects);
	free(ops);
	if (each_stale(p, &plan, stale_found, &l, err)) {
		ws_plan_release(&plan);
		free(l.items);
		return -1;
	}
	if (plan.nflyte)
		diff_flyte(p, &plan, &l);
	check_flyteadmin_template(p, &l);
	ws_plan_release(&plan);
	*items = l.items;
	*n = l.n;
	*ndrift = l.ndrift;
	return 0;
}
