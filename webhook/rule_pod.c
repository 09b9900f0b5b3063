/* rule_pod.c - Pod CREATE in a workspace namespace: the pod gets the tenant
 * labels and every container and init container (and, through
 * pods/ephemeralcontainers, every new ephemeral container) the Flyte project context
 * (FLYTE_DEFAULT_PROJECT, FLYTE_DEFAULT_DOMAIN, FLYTE_PLATFORM_URL when
 * configured) without touching the env it already has. A pod that points
 * at another workspace (its `project` label, its tenant labels, or its
 * FLYTE_* variables) is refused, not corrected: silently moving a pod to
 * another project would hide a mistake or an attempt to cross tenants. An
 * UPDATE, also through pods/status, cannot move it either. */
#include "rule.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plan.h"

#define ENV_PROJECT "FLYTE_DEFAULT_PROJECT"
#define ENV_DOMAIN "FLYTE_DEFAULT_DOMAIN"
#define ENV_URL "FLYTE_PLATFORM_URL"

typedef struct pod_ctx {
	const char *ns;
	const char *pod;       /* name, or generateName, for messages */
	const char *id;
	const char *domain;
	const char *url;       /* NULL when not configured */
} pod_ctx;

/* The Flyte domain of the pod: its `domain` label (as flytepropeller sets
 * it), the namespace's domain for per-domain templates, else the default. */
static const char *pod_domain(const wh_ctx *c, const cJSON *labels, const char *ns_domain,
			      const pod_ctx *pc, wh_decision *d)
{
	const char *dl = wh_map_str(labels, "domain");

	if (c->p->ns_template.has_domain) {
		if (dl && strcmp(dl, ns_domain) != 0)
			wh_deny(d, 403, "Forbidden",
				"pod '%s' has label domain='%.63s' but namespace '%s' is for domain '%s'",
				pc->pod, dl, pc->ns, ns_domain);
		return ns_domain;
	}
	if (!dl)
		return c->p->default_domain;
	if (!ws_strlist_has(&c->p->domains, dl)) {
		char known[256] = "";
		size_t i;

		for (i = 0; i < c->p->domains.n; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 i ? ", " : "", c->p->domains.items[i]);
		wh_deny(d, 422, "Invalid",
			"pod '%s' has label domain='%.63s', which is not a Flyte domain of this "
			"platform (%s)",
			pc->pod, dl, known);
	}
	return dl;
}

static void check_labels(const cJSON *labels, const pod_ctx *pc, wh_decision *d)
{
	static const char *const tenant[] = {WS_LABEL_WORKSPACE, WS_LABEL_TENANT};
	const char *project = wh_map_str(labels, "project");
	size_t i;

	if (project && strcmp(project, pc->id) != 0)
		wh_deny(d, 403, "Forbidden",
			"pod '%s' has label project='%.63s', another workspace: pods in namespace '%s' "
			"belong to project '%s'",
			pc->pod, project, pc->ns, pc->id);
	for (i = 0; i < 2; i++) {
		const char *v = wh_map_str(labels, tenant[i]);

		if (v && strcmp(v, pc->id) != 0)
			wh_deny(d, 403, "Forbidden",
				"pod '%s' has label %s='%.63s', another workspace: pods in namespace "
				"'%s' belong to workspace '%s'",
				pc->pod, tenant[i], v, pc->ns, pc->id);
	}
}

static cJSON *env_var(const char *name, const char *value)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "value", value);
	return e;
}

/* The value a container may give an injected variable, NULL when any
 * literal will do. The project and, when configured, the platform URL are
 * the webhook's own; the domain is the pod's (its label, or the namespace's
 * for per-domain templates), else any domain of the platform. */
static int env_allowed(const wh_ctx *c, const pod_ctx *pc, const cJSON *labels, size_t i,
		       const char *v)
{
	if (i == 0)
		return strcmp(v, pc->id) == 0;
	if (i == 2)
		return !pc->url || strcmp(v, pc->url) == 0;
	if (c->p->ns_template.has_domain || wh_map_str(labels, "domain"))
		return strcmp(v, pc->domain) == 0;
	return ws_strlist_has(&c->p->domains, v);
}

/* One container: refuse an injected variable (FLYTE_DEFAULT_PROJECT,
 * FLYTE_DEFAULT_DOMAIN, FLYTE_PLATFORM_URL) that points elsewhere or comes
 * from valueFrom, add the ones it lacks. */
static void container_env(const wh_ctx *c, const cJSON *labels, const cJSON *ctr,
			  const char *list, int index, const pod_ctx *pc, wh_decision *d)
{
	const char *names[3] = {ENV_PROJECT, ENV_DOMAIN, ENV_URL};
	const char *values[3] = {pc->id, pc->domain, pc->url};
	const char *owner[3] = {"project", "domain", "Flyte Admin"};
	const cJSON *env = ws_json_member(ctr, "env"), *e;
	const char *cname = wh_map_str(ctr, "name");
	int have[3] = {0, 0, pc->url == NULL};
	char idx[16];
	size_t i;

	if (!cname)
		cname = "";
	cJSON_ArrayForEach(e, (cJSON_IsArray(env) ? env : NULL)) {
		const char *n = wh_map_str(e, "name"), *v = wh_map_str(e, "value");

		for (i = 0; n && i < 3; i++) {
			if (strcmp(n, names[i]) != 0)
				continue;
			have[i] = 1;
			if (ws_json_member(e, "valueFrom"))
				wh_deny(d, 403, "Forbidden",
					"container '%s' of pod '%s' takes %s from valueFrom: in namespace "
					"'%s' it must be a literal value",
					cname, pc->pod, names[i], pc->ns);
			else if (!v || !env_allowed(c, pc, labels, i, v))
				wh_deny(d, 403, "Forbidden",
					"container '%s' of pod '%s' sets %s='%.63s', another %s: pods in "
					"namespace '%s' use '%s'",
					cname, pc->pod, names[i], v ? v : "", owner[i], pc->ns,
					values[i] ? values[i] : "");
		}
	}
	snprintf(idx, sizeof(idx), "%d", index);
	if (!cJSON_IsArray(env)) {
		const char *path[] = {"spec", list, idx, "env"};
		cJSON *arr = cJSON_CreateArray();

		for (i = 0; i < 3; i++)
			if (!have[i])
				cJSON_AddItemToArray(arr, env_var(names[i], values[i]));
		wh_patch_add(d, path, 4, arr, "container '%s' of pod '%s' has no %s", cname, pc->pod,
			     names[0]);
		return;
	}
	for (i = 0; i < 3; i++) {
		const char *path[] = {"spec", list, idx, "env", "-"};

		if (!have[i])
			wh_patch_add(d, path, 5, env_var(names[i], values[i]),
				     "container '%s' of pod '%s' has no %s", cname, pc->pod, names[i]);
	}
}

/* Pod UPDATE, also through pods/status (its strategy keeps metadata
 * changes): labels are the only thing that can move a running pod to
 * another workspace. A tenant label cannot be changed or removed, and a
 * `project` label cannot be set to another project; what the update does
 * not touch is left alone (a pod admitted before the webhook keeps working:
 * its finalizers can still be removed, the kubelet's status writes pass).
 * Nothing is added on UPDATE. `sub` is the subresource or "". */
static void pod_update(const cJSON *labels, const cJSON *old_labels, const pod_ctx *pc,
		       const char *sub, wh_decision *d)
{
	static const char *const keys[] = {WS_LABEL_WORKSPACE, WS_LABEL_TENANT, "project"};
	char via[64] = "";
	size_t i;

	if (*sub)
		snprintf(via, sizeof(via), ", also not through pods/%.30s", sub);
	for (i = 0; i < 3; i++) {
		const char *v, *was;

		if (i < 2) {
			v = wh_keep_label(d, labels, old_labels, keys[i], "pod", pc->pod, via);
		} else { /* project: may be removed; left alone when unchanged */
			v = wh_map_str(labels, keys[i]);
			was = wh_map_str(old_labels, keys[i]);
			if (v && was && strcmp(v, was) == 0)
				continue;
		}
		if (v && strcmp(v, pc->id) != 0)
			wh_deny(d, 403, "Forbidden",
				"pod '%s' cannot get label %s='%.63s', another workspace: pods in "
				"namespace '%s' belong to %s '%s'%s",
				pc->pod, keys[i], v, pc->ns, i < 2 ? "workspace" : "project", pc->id,
				via);
	}
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The names of a container list, sorted for bsearch (*n of them); NULL when
 * the list is empty or out of memory (*n is then 0 or SIZE_MAX). The
 * strings belong to the list. Sorting once keeps a request with tens of
 * thousands of containers linear-logarithmic, not quadratic. */
static const char **sorted_names(const cJSON *list, size_t *n)
{
	const char **names;
	const cJSON *ctr;
	size_t cap = (size_t)cJSON_GetArraySize(cJSON_IsArray(list) ? list : NULL);

	*n = 0;
	if (!cap)
		return NULL;
	names = malloc(cap * sizeof(*names));
	if (!names) {
		*n = SIZE_MAX;
		return NULL;
	}
	cJSON_ArrayForEach(ctr, list) {
		const char *name = wh_map_str(ctr, "name");

		if (name && *n < cap)
			names[(*n)++] = name;
	}
	qsort(names, *n, sizeof(*names), cmp_name);
	return names;
}

void wh_rule_pod(const wh_ctx *c, wh_decision *d)
{
	static const char *const labels_path[] = {"metadata", "labels"};
	static const char *const lists[] = {"initContainers", "containers"};
	const ws_admission_request *req = c->req;
	const cJSON *labels = ws_json_get(req->object, "metadata", "labels", NULL), *ctr;
	char id[WS_NAME_BUF], domain[WS_NAME_BUF], what[160];
	pod_ctx pc = {0};
	cJSON *want;
	size_t l;
	int i;

	pc.ns = *req->namespace ? req->namespace : ws_json_str(req->object, "metadata", "namespace", NULL);
	if (wh_classify(c->p, pc.ns, id, domain, NULL) != WS_NS_WORKSPACE)
		return;
	pc.id = id;
	pc.pod = *req->name ? req->name : ws_json_str(req->object, "metadata", "generateName", NULL);
	if (!pc.pod)
		pc.pod = "";
	pc.url = c->p->flyte_endpoint;
	if (req->op == WS_ADM_UPDATE && strcmp(req->sub_resource, "ephemeralcontainers") != 0) {
		pod_update(labels, ws_json_get(req->old_object, "metadata", "labels", NULL), &pc,
			   req->sub_resource, d);
		return;
	}
	pc.domain = pod_domain(c, labels, domain, &pc, d);
	if (*req->sub_resource) {
		/* pods/ephemeralcontainers: the containers this update adds get the
		 * Flyte context (and may not point elsewhere), like any container;
		 * the ones already there cannot change any more. */
		const cJSON *list = ws_json_get(req->object, "spec", "ephemeralContainers", NULL);
		size_t nold;
		const char **old = sorted_names(ws_json_get(req->old_object, "spec",
							    "ephemeralContainers", NULL), &nold);

		if (nold == SIZE_MAX) {
			wh_deny(d, 500, "InternalError", "out of memory");
			return;
		}
		i = 0;
		cJSON_ArrayForEach(ctr, (cJSON_IsArray(list) ? list : NULL)) {
			const char *name = wh_map_str(ctr, "name");

			if (d->outcome == WH_DENIED)
				break; /* one reason is enough; the rest would only cost time */
			if (cJSON_IsObject(ctr) &&
			    !(name && old && bsearch(&name, old, nold, sizeof(*old), cmp_name)))
				container_env(c, labels, ctr, "ephemeralContainers", i, &pc, d);
			i++;
		}
		free(old);
		return;
	}
	check_labels(labels, &pc, d);

	want = cJSON_CreateObject();
	cJSON_AddStringToObject(want, WS_LABEL_WORKSPACE, id);
	cJSON_AddStringToObject(want, WS_LABEL_TENANT, id);
	snprintf(what, sizeof(what), "pod '%s' label", pc.pod);
	wh_put_map(d, labels, labels_path, 2, want, what);
	cJSON_Delete(want);

	for (l = 0; l < 2; l++) {
		const cJSON *list = ws_json_get(req->object, "spec", lists[l], NULL);

		i = 0;
		cJSON_ArrayForEach(ctr, (cJSON_IsArray(list) ? list : NULL)) {
			if (cJSON_IsObject(ctr))
				container_env(c, labels, ctr, lists[l], i, &pc, d);
			i++;
		}
	}
}
