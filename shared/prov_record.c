/* prov_record.c - the record store: workspace records and their status as
 * ConfigMaps of the system namespace, safe edits of them (resourceVersion,
 * retried on a conflict), and the platform settings ConfigMap. */
#include "prov_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

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
	if (!*records || (status && !*status)) {
		cJSON_Delete(items);
		ws_records_release(*records, status ? *status : NULL, 0);
		*records = NULL;
		if (status)
			*status = NULL;
		return ws_fail(err, WS_E_INTERNAL, "cannot list workspaces: out of memory");
	}
	cJSON_ArrayForEach(cm, items) {
		const char *st = ws_json_str(cm, "data", WS_STATUS_KEY, NULL);
		ws_err e;

		if (record_from_configmap(cm, &(*records)[i], &e)) {
			if (e.kind != WS_E_INTERNAL)
				continue; /* not a record this tool can read: skipped */
			/* out of memory: a record left out could be created twice */
			cJSON_Delete(items);
			ws_records_release(*records, status ? *status : NULL, i);
			*records = NULL;
			if (status)
				*status = NULL;
			return ws_fail(err, WS_E_INTERNAL, "cannot list workspaces: %s", e.msg);
		}
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

/* {"phase":..., "message":..., "updatedAt": now} as text (caller frees), or NULL. */
static char *status_text(const char *phase, const char *msg)
{
	cJSON *st = cJSON_CreateObject();
	char now[32], *text = NULL;

	now_rfc3339(now);
	if (cJSON_AddStringToObject(st, "phase", phase) &&
	    cJSON_AddStringToObject(st, "message", msg ? msg : "") &&
	    cJSON_AddStringToObject(st, "updatedAt", now))
		text = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);
	return text;
}

cJSON *ws_prov_record_object(ws_prov *p, const ws_record *r, const char *phase, const char *msg)
{
	char *text = ws_record_print(r), *stext = status_text(phase, msg);
	cJSON *labels = cJSON_CreateObject(), *o = cJSON_CreateObject(), *meta, *data;
	int ok;

	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "ConfigMap");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", r->workspace_id);
	cJSON_AddStringToObject(meta, "namespace", p->platform->system_namespace);
	ok = cJSON_AddStringToObject(labels, WS_LABEL_WORKSPACE, r->workspace_id) &&
	     cJSON_AddStringToObject(labels, WS_LABEL_MANAGED_BY, WS_MANAGED_BY) &&
	     cJSON_AddStringToObject(labels, WS_LABEL_RECORD_APP, WS_RECORD_APP) &&
	     cJSON_AddItemToObject(meta, "labels", labels);
	if (!ok)
		cJSON_Delete(labels);
	data = cJSON_AddObjectToObject(o, "data");
	/* Never a record without its text: out of memory is no record at all. */
	ok = ok && text && stext && cJSON_AddStringToObject(data, WS_RECORD_KEY, text) &&
	     cJSON_AddStringToObject(data, WS_STATUS_KEY, stext);
	free(stext);
	free(text);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
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

int ws_prov_set_status(ws_prov *p, const char *id, const char *phase, const char *msg, ws_err *err)
{
	cJSON *patch;
	char *text;
	int rc;

	if (p->dry_run || status_is(p, id, phase, msg))
		return 0;
	patch = cJSON_CreateObject();
	text = status_text(phase, msg);
	if (!text || !cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "data"), WS_STATUS_KEY, text))
		rc = ws_fail(err, WS_E_INTERNAL, "out of memory");
	else
		rc = ws_k8s_patch(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id,
				  "application/merge-patch+json", patch, 0, NULL, err);
	free(text);
	cJSON_Delete(patch);
	return rc;
}

/* Write the edited record r into its ConfigMap cm (resourceVersion kept),
 * unless the text is the same. *old gets a copy of cm before the write and
 * *text the text written; both NULL when nothing was written. */
static int write_record(ws_prov *p, cJSON *cm, const ws_record *r, cJSON **old, char **text,
			ws_err *err)
{
	const char *cur = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);

	*old = NULL;
	*text = ws_record_print(r);
	if (!*text)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	if (cur && strcmp(*text, cur) == 0) {
		free(*text);
		*text = NULL;
		return 0; /* nothing to write */
	}
	/* the text is replaced in place: cm keeps it or the new one, never neither */
	*old = cJSON_Duplicate(cm, 1);
	if (!*old || !cJSON_SetValuestring(ws_json_get(cm, "data", WS_RECORD_KEY, NULL), *text))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return ws_k8s_update(p->k8s, &WS_KIND_CONFIGMAP, cm, p->dry_run, NULL, err);
}

/* Read record id and apply edit to it; refuse an edit whose plan is invalid. */
static int read_and_edit(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
			 void *ctx, cJSON **cm, ws_record *r, ws_err *err)
{
	ws_plan plan;

	memset(r, 0, sizeof(*r));
	if (ws_k8s_get(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace, id, cm, err)) {
		if (ws_err_is_http(err, 404))
			return ws_fail_http(err, 404, "NotFound", "workspace '%s' not found", id);
		return ws_err_prefix(err, "cannot read workspace '%s'", id);
	}
	/* A record without a valid plan cannot be described, converged or changed. */
	if (record_from_configmap(*cm, r, err) || edit(ctx, r, err) ||
	    ws_plan_build(r, p->platform, &plan, err)) {
		cJSON_Delete(*cm);
		*cm = NULL;
		ws_record_release(r);
		return -1;
	}
	ws_plan_release(&plan);
	return 0;
}

int ws_prov_record_edit(ws_prov *p, const char *id,
			int (*edit)(void *ctx, ws_record *r, ws_err *err), void *ctx,
			ws_record *out, cJSON **before, char **written, ws_err *err)
{
	int attempt;

	for (attempt = 0; attempt < WS_EDIT_RETRIES; attempt++) {
		cJSON *cm = NULL, *old = NULL;
		char *text = NULL;
		ws_record r;
		int rc;

		if (read_and_edit(p, id, edit, ctx, &cm, &r, err))
			return -1;
		rc = write_record(p, cm, &r, &old, &text, err);
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
	return ws_prov_record_edit(p, id, edit, ctx, out, NULL, NULL, err);
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
