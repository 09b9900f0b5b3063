/* drift.c - what differs between a workspace's plan and what exists: its
 * objects, stale managed objects, the Flyte project and its settings, and
 * flyteadmin's namespace template (ws_diff, see provision.h). */
#include "prov_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "yamlconv.h"


static const char *const drift_names[] = {"ok", "missing", "differs", "extra", "unknown"};

const char *ws_drift_name(enum ws_drift_state s)
{
	return s <= WS_DRIFT_UNKNOWN ? drift_names[s] : "unknown";
}

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

	ws_prov_subject(k, ws_json_str(obj, "metadata", "name", NULL), subject, sizeof(subject));
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
	if (ws_prov_project_matches(want, have)) {
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
					    ws_prov_resource_type(plan->flyte[i].what), &got, &e)) {
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
	if (!ops) {
		ws_plan_release(&plan);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
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

		ws_prov_subject(o->kind, o->name, subject, sizeof(subject));
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
	if (ws_prov_each_stale(p, &plan, stale_found, &l, err)) {
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
