/* resync.c - check every workspace against one list per kind (see resync.h). */
#include "resync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plan.h"

#define PAGE 5000
#define FLYTE_PAGE 500

static const ws_kind *const managed_kinds[] = {
	&WS_KIND_NAMESPACE, &WS_KIND_RESOURCEQUOTA, &WS_KIND_SERVICEACCOUNT,
	&WS_KIND_NETWORKPOLICY, &WS_KIND_ROLE, &WS_KIND_ROLEBINDING,
};
#define NKINDS (sizeof(managed_kinds) / sizeof(managed_kinds[0]))

/* A listed object by "namespace/name", and the workspace label it has. */
struct live {
	char key[320];
	const char *workspace;
	const cJSON *obj;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct live *)a)->key, ((const struct live *)b)->key);
}

static void key_of(const char *ns, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", ns ? ns : "", name ? name : "");
}

/* How many listed objects carry workspace label id. */
static size_t count_labelled(const struct live *l, size_t n, const char *id)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (l[i].workspace && strcmp(l[i].workspace, id) == 0)
			c++;
	return c;
}

struct rec {
	const cJSON *cm;
	ws_record r;
	int parsed;
	int drift;
};

/* Mark the records whose objects of this kind differ from their plan. */
static int check_kind(ws_prov *p, const ws_kind *kind, struct rec *recs, size_t n, ws_err *err)
{
	ws_k8s_list_opts opts = {WS_LABEL_MANAGED_BY "=" WS_MANAGED_BY, NULL, PAGE};
	struct live *live, probe;
	cJSON *items = NULL;
	const cJSON *o;
	size_t nlive = 0, i, j;

	if (ws_k8s_list(p->k8s, kind, NULL, &opts, &items, NULL, err))
		return ws_err_prefix(err, "cannot list %s", kind->plural);
	live = calloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*live));
	if (!live) {
		cJSON_Delete(items);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	cJSON_ArrayForEach(o, items) {
		key_of(ws_json_str(o, "metadata", "namespace", NULL),
		       ws_json_str(o, "metadata", "name", NULL), live[nlive].key, sizeof(live[nlive].key));
		live[nlive].workspace = ws_json_str(o, "metadata", "labels", WS_LABEL_WORKSPACE, NULL);
		live[nlive].obj = o;
		nlive++;
	}
	qsort(live, nlive, sizeof(*live), by_key);
	for (i = 0; i < n; i++) {
		size_t matched = 0;
		ws_plan plan;

		if (!recs[i].parsed || recs[i].drift)
			continue;
		if (ws_plan_build(&recs[i].r, p->platform, &plan, NULL)) {
			recs[i].drift = 1; /* the converge will say why */
			continue;
		}
		for (j = 0; j < plan.nobjects && !recs[i].drift; j++) {
			const ws_plan_object *want = &plan.objects[j];
			struct live *have;

			if (want->kind != kind)
				continue;
			key_of(kind->namespaced ? want->namespace : NULL, want->name, probe.key,
			       sizeof(probe.key));
			have = bsearch(&probe, live, nlive, sizeof(*live), by_key);
			if (!have || !ws_json_subset(want->body, have->obj))
				recs[i].drift = 1;
			matched++;
		}
		if (!recs[i].drift && count_labelled(live, nlive, recs[i].r.workspace_id) > matched)
			recs[i].drift = 1; /* something the plan no longer has */
		ws_plan_release(&plan);
	}
	free(live);
	cJSON_Delete(items);
	return 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mark the records whose Flyte project is missing or archived. */
static int check_projects(ws_prov *p, struct rec *recs, size_t n, ws_err *err)
{
	char **active = NULL, token[64] = "", path[128];
	size_t nactive = 0, i;
	int rc = -1;

	do {
		cJSON *page = NULL;
		const cJSON *proj;
		const char *next;
		char **grown;

		snprintf(path, sizeof(path), "/api/v1/projects?limit=%d%s%s", FLYTE_PAGE,
			 token[0] ? "&token=" : "", token);
		if (ws_flyte_call(p->flyte, "GET", path, NULL, &page, err)) {
			ws_err_prefix(err, "cannot list Flyte projects");
			goto out;
		}
		grown = realloc(active, (nactive + (size_t)cJSON_GetArraySize(
							    ws_json_get(page, "projects", NULL)) + 1) *
						sizeof(*active));
		if (!grown) {
			cJSON_Delete(page);
			ws_fail(err, WS_E_INTERNAL, "out of memory");
			goto out;
		}
		active = grown;
		cJSON_ArrayForEach(proj, ws_json_get(page, "projects", NULL)) {
			const char *id = ws_json_str(proj, "id", NULL);
			const char *state = ws_json_str(proj, "state", NULL);

			if (id && (!state || strcmp(state, "ACTIVE") == 0))
				active[nactive++] = strdup(id);
		}
		next = ws_json_str(page, "token", NULL);
		snprintf(token, sizeof(token), "%s", next ? next : "");
		cJSON_Delete(page);
	} while (token[0]);
	qsort(active, nactive, sizeof(*active), by_string);
	for (i = 0; i < n; i++) {
		char *id = recs[i].r.workspace_id;

		if (recs[i].parsed && !recs[i].drift && ws_record_has_service(&recs[i].r, "flyte") &&
		    !bsearch(&id, active, nactive, sizeof(*active), by_string))
			recs[i].drift = 1;
	}
	rc = 0;
out:
	for (i = 0; i < nactive; i++)
		free(active[i]);
	free(active);
	return rc;
}

int ctl_resync(ws_prov *p, ws_workqueue *q, const cJSON *records, ws_err *err)
{
	size_t n = (size_t)cJSON_GetArraySize(records), i = 0, k;
	struct rec *recs = calloc(n + 1, sizeof(*recs));
	const cJSON *cm;
	int rc = 0;

	if (!recs)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	cJSON_ArrayForEach(cm, records) {
		const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);

		recs[i].cm = cm;
		recs[i].parsed = text && ws_record_parse(&recs[i].r, text, strlen(text), NULL) == 0;
		recs[i].drift = !recs[i].parsed;
		i++;
	}
	for (k = 0; k < NKINDS && rc == 0; k++)
		rc = check_kind(p, managed_kinds[k], recs, n, err);
	if (rc == 0 && p->flyte)
		rc = check_projects(p, recs, n, err);
	for (i = 0; i < n; i++) {
		if (rc || recs[i].drift)
			ws_workqueue_offer(q, recs[i].cm, 0, 1);
		else
			ws_workqueue_offer_synced(q, recs[i].cm);
		if (recs[i].parsed)
			ws_record_release(&recs[i].r);
	}
	free(recs);
	return rc;
}
