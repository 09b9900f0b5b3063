/* plan.c - record + platform -> desired state (see plan.h). */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "naming.h"

static const char *const step_names[WS_STEP_COUNT] = {
	"record", "namespace", "resource quota", "service account", "network policy",
	"role", "role binding", "flyte project", "flyte project settings",
};

const char *ws_step_name(enum ws_step step)
{
	return step < WS_STEP_COUNT ? step_names[step] : "unknown";
}

/* ---- RBAC rules per role ------------------------------------------------- */

struct rule {
	const char *groups[3];
	const char *resources[12];
	const char *verbs[9];
};

#define ALL_VERBS {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
#define WRITE_VERBS {"get", "list", "watch", "create", "update", "patch", "delete"}
#define READ_VERBS {"get", "list", "watch"}

static const struct rule owner_rules[] = {
	{{""}, {"pods", "pods/log", "pods/exec", "pods/portforward", "services", "endpoints",
		"configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"}, ALL_VERBS},
	{{"apps"}, {"deployments", "statefulsets", "replicasets"}, ALL_VERBS},
	{{"batch"}, {"jobs", "cronjobs"}, ALL_VERBS},
	{{"flyte.lyft.com"}, {"flyteworkflows"}, ALL_VERBS},
	{{""}, {"events", "resourcequotas", "limitranges"}, READ_VERBS},
	{{"rbac.authorization.k8s.io"}, {"roles", "rolebindings"}, READ_VERBS},
	{{"networking.k8s.io"}, {"networkpolicies"}, READ_VERBS},
	{{NULL}, {NULL}, {NULL}},
};

static const struct rule contributor_rules[] = {
	{{""}, {"pods", "pods/log", "pods/exec", "services", "configmaps",
		"persistentvolumeclaims"}, WRITE_VERBS},
	{{"apps"}, {"deployments", "statefulsets", "replicasets"}, WRITE_VERBS},
	{{"batch"}, {"jobs", "cronjobs"}, WRITE_VERBS},
	{{"flyte.lyft.com"}, {"flyteworkflows"}, WRITE_VERBS},
	{{""}, {"events", "resourcequotas", "serviceaccounts"}, READ_VERBS},
	{{NULL}, {NULL}, {NULL}},
};

static const struct rule viewer_rules[] = {
	{{""}, {"pods", "pods/log", "services", "configmaps", "persistentvolumeclaims", "events",
		"resourcequotas", "serviceaccounts"}, READ_VERBS},
	{{"apps"}, {"deployments", "statefulsets", "replicasets"}, READ_VERBS},
	{{"batch"}, {"jobs", "cronjobs"}, READ_VERBS},
	{{"flyte.lyft.com"}, {"flyteworkflows"}, READ_VERBS},
	{{NULL}, {NULL}, {NULL}},
};

static const struct rule *const role_rules[WS_ROLE_COUNT] = {
	owner_rules, contributor_rules, viewer_rules,
};

static cJSON *string_array(const char *const *items, size_t max)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < max && items[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(items[i]));
	return a;
}

static cJSON *rules_json(enum ws_role role)
{
	cJSON *rules = cJSON_CreateArray();
	const struct rule *r;

	for (r = role_rules[role]; r->resources[0]; r++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "apiGroups", string_array(r->groups, 3));
		cJSON_AddItemToObject(o, "resources", string_array(r->resources, 12));
		cJSON_AddItemToObject(o, "verbs", string_array(r->verbs, 9));
		cJSON_AddItemToArray(rules, o);
	}
	return rules;
}

/* ---- building blocks ------------------------------------------------------- */

const char *ws_user_subject(const ws_user *u)
{
	return u->email && *u->email ? u->email : u->user_id;
}

/* A new object {apiVersion, kind, metadata{name, namespace, labels}}. */
static cJSON *new_object(const ws_kind *k, const char *ns, const char *name, const cJSON *labels)
{
	cJSON *o = cJSON_CreateObject(), *meta;

	cJSON_AddStringToObject(o, "apiVersion", k->api_version);
	cJSON_AddStringToObject(o, "kind", k->kind);
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	if (k->namespaced)
		cJSON_AddStringToObject(meta, "namespace", ns);
	if (labels)
		cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(labels, 1));
	return o;
}

/* Takes body; -1 when out of memory (body NULL: it could not be made). */
static int add_object(ws_plan *plan, enum ws_step step, const ws_kind *k, cJSON *body)
{
	ws_plan_object *objs = body ? realloc(plan->objects, (plan->nobjects + 1) * sizeof(*objs)) : NULL;

	if (!objs) {
		cJSON_Delete(body);
		return -1;
	}
	plan->objects = objs;
	objs[plan->nobjects].step = step;
	objs[plan->nobjects].kind = k;
	objs[plan->nobjects].body = body;
	objs[plan->nobjects].name = ws_json_str(body, "metadata", "name", NULL);
	objs[plan->nobjects].namespace = ws_json_str(body, "metadata", "namespace", NULL);
	plan->nobjects++;
	return 0;
}

static int add_flyte(ws_plan *plan, enum ws_step step, const char *method, const char *path,
		     const char *what, cJSON *body)
{
	ws_plan_call *calls = realloc(plan->flyte, (plan->nflyte + 1) * sizeof(*calls));

	if (!calls) {
		cJSON_Delete(body);
		return -1;
	}
	plan->flyte = calls;
	calls[plan->nflyte].step = step;
	calls[plan->nflyte].method = method;
	snprintf(calls[plan->nflyte].path, sizeof(calls[0].path), "%s", path);
	calls[plan->nflyte].what = what;
	calls[plan->nflyte].body = body;
	plan->nflyte++;
	return 0;
}

/* Labels every object of a workspace carries. */
static cJSON *common_labels(const char *id)
{
	cJSON *l = cJSON_CreateObject();

	cJSON_AddStringToObject(l, WS_LABEL_WORKSPACE, id);
	cJSON_AddStringToObject(l, WS_LABEL_MANAGED_BY, WS_MANAGED_BY);
	return l;
}

/* "requests.cpu=20,requests.memory=40Gi,..." */
static char *quota_summary(const ws_tier *tier)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < tier->nitems; i++)
		len += strlen(tier->items[i].resource) + strlen(tier->items[i].quantity) + 2;
	s = calloc(1, len);
	for (i = 0; s && i < tier->nitems; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, tier->items[i].resource);
		strcat(s, "=");
		strcat(s, tier->items[i].quantity);
	}
	return s;
}

int ws_namespace_meta(const ws_platform *p, const char *id, const char *domain,
		      const char *tier, const char *name, const char *created_by,
		      cJSON **labels, cJSON **annotations, ws_err *err)
{
	const ws_tier *t = ws_tiers_find(&p->tiers, tier ? tier : p->default_tier, err);
	char *summary;

	*labels = *annotations = NULL;
	if (!t)
		return -1;
	*labels = common_labels(id);
	cJSON_AddStringToObject(*labels, WS_LABEL_TENANT, id);
	cJSON_AddStringToObject(*labels, WS_LABEL_SERVICE, "flyte");
	if (p->ns_template.has_domain && domain)
		cJSON_AddStringToObject(*labels, WS_LABEL_DOMAIN, domain);
	*annotations = cJSON_CreateObject();
	if (name)
		cJSON_AddStringToObject(*annotations, WS_ANNOT_NAME, name);
	if (created_by)
		cJSON_AddStringToObject(*annotations, WS_ANNOT_CREATED_BY, created_by);
	cJSON_AddStringToObject(*annotations, WS_ANNOT_TIER, t->name);
	summary = quota_summary(t);
	cJSON_AddStringToObject(*annotations, WS_ANNOT_QUOTA, summary ? summary : "");
	free(summary);
	return 0;
}

/* ---- the objects ------------------------------------------------------------ */

/* NULL when out of memory: never a record ConfigMap without the record. */
static cJSON *record_configmap(const ws_record *r, const ws_platform *p)
{
	cJSON *labels = common_labels(r->workspace_id), *o, *data;
	char *text = ws_record_print(r);

	cJSON_AddStringToObject(labels, WS_LABEL_RECORD_APP, WS_RECORD_APP);
	o = new_object(&WS_KIND_CONFIGMAP, p->system_namespace, r->workspace_id, labels);
	cJSON_Delete(labels);
	data = cJSON_AddObjectToObject(o, "data");
	if (!text || !cJSON_AddStringToObject(data, WS_RECORD_KEY, text)) {
		cJSON_Delete(o);
		o = NULL;
	}
	free(text);
	return o;
}

static cJSON *quota_object(const char *ns, const char *name, const cJSON *labels,
			   const ws_tier *tier)
{
	cJSON *o = new_object(&WS_KIND_RESOURCEQUOTA, ns, name, labels);
	cJSON *hard = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "spec"), "hard");
	size_t i;

	cJSON_AddStringToObject(cJSON_AddObjectToObject(ws_json_get(o, "metadata", NULL), "annotations"),
				WS_ANNOT_TIER, tier->name);
	for (i = 0; i < tier->nitems; i++)
		cJSON_AddStringToObject(hard, tier->items[i].resource, tier->items[i].quantity);
	return o;
}

/* The runner's cloud identity from the role template. On GCP the part before
 * '@' must be a valid service account id: the default template uses
 * {{ gsa }} (ws_gcp_sa_id), and an operator's template that gives anything
 * else, e.g. {{ id }} for a long id, is refused here, before anything exists. */
static cJSON *runner_sa(const ws_record *r, const ws_platform *p, const char *ns,
			const char *name, const cJSON *labels, ws_err *err)
{
	char gsa[WS_NAME_BUF], account[WS_LONG_NAME_BUF];
	const char *keys[] = {"id", "account", "namespace", "gsa"};
	const char *vals[] = {r->workspace_id, p->cloud_account, ns, gsa};
	char *role;
	cJSON *o;
	ws_err why;

	if (ws_gcp_sa_id(r->workspace_id, gsa, err))
		return NULL;
	role = ws_template_render(p->role_template, keys, vals, 4, err);
	if (!role)
		return NULL;
	if (strcmp(p->cloud_provider, "gcp") == 0) {
		snprintf(account, sizeof(account), "%.*s", (int)strcspn(role, "@"), role);
		if (ws_check_gcp_sa_id(account, &why)) {
			ws_fail(err, WS_E_INVALID, "cloud.roleTemplate '%s': %s (use {{ gsa }}, the "
				"workspace id shortened to fit)", p->role_template, why.msg);
			free(role);
			return NULL;
		}
	}
	o = new_object(&WS_KIND_SERVICEACCOUNT, ns, name, labels);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(ws_json_get(o, "metadata", NULL),
							"annotations"),
				p->role_annotation, role);
	free(role);
	return o;
}

static cJSON *network_policy(const ws_platform *p, const char *ns, const char *name,
			     const cJSON *labels)
{
	cJSON *o = new_object(&WS_KIND_NETWORKPOLICY, ns, name, labels);
	cJSON *spec = cJSON_AddObjectToObject(o, "spec"), *rule, *from, *peer;
	size_t i;

	cJSON_AddObjectToObject(spec, "podSelector");
	cJSON_AddItemToObject(spec, "policyTypes", cJSON_CreateStringArray((const char *[]){"Ingress"}, 1));
	rule = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "ingress"), rule);
	from = cJSON_AddArrayToObject(rule, "from");
	/* Pods of the workspace namespace talk to each other... */
	peer = cJSON_CreateObject();
	cJSON_AddObjectToObject(peer, "podSelector");
	cJSON_AddItemToArray(from, peer);
	/* ...and the Flyte system namespace (propeller, admin) may reach them. */
	for (i = 0; i < p->allow_namespaces.n; i++) {
		peer = cJSON_CreateObject();
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(cJSON_AddObjectToObject(peer, "namespaceSelector"),
						"matchLabels"),
			"kubernetes.io/metadata.name", p->allow_namespaces.items[i]);
		cJSON_AddItemToArray(from, peer);
	}
	return o;
}

static cJSON *role_object(const char *ns, const char *name, const cJSON *labels, enum ws_role role)
{
	cJSON *o = new_object(&WS_KIND_ROLE, ns, name, labels);

	cJSON_AddStringToObject(cJSON_AddObjectToObject(ws_json_get(o, "metadata", NULL),
							"annotations"),
				"workspace.flyte.org/role", ws_role_name(role));
	cJSON_AddItemToObject(o, "rules", rules_json(role));
	return o;
}

static cJSON *binding_object(const char *ns, const char *name, const char *role_name,
			     const cJSON *labels, const ws_user *u)
{
	cJSON *o = new_object(&WS_KIND_ROLEBINDING, ns, name, labels);
	cJSON *ref = cJSON_AddObjectToObject(o, "roleRef"), *subj = cJSON_CreateObject();

	cJSON_AddStringToObject(ref, "apiGroup", "rbac.authorization.k8s.io");
	cJSON_AddStringToObject(ref, "kind", "Role");
	cJSON_AddStringToObject(ref, "name", role_name);
	cJSON_AddStringToObject(subj, "kind", "User");
	cJSON_AddStringToObject(subj, "apiGroup", "rbac.authorization.k8s.io");
	cJSON_AddStringToObject(subj, "name", ws_user_subject(u));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "subjects"), subj);
	return o;
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

static int flyte_calls(const ws_record *r, const ws_platform *p, const ws_tier *tier,
		       const char *sa, const char *bucket, ws_plan *plan)
{
	cJSON *body = cJSON_CreateObject(), *proj, *labels, *attrs, *m, *wec, *cra;
	char name[160], desc[400], path[256];
	const char *cpu = ws_tier_get(tier, "limits.cpu"), *mem = ws_tier_get(tier, "limits.memory");
	char prefix[300];

	proj = cJSON_AddObjectToObject(body, "project");
	cJSON_AddStringToObject(proj, "id", r->workspace_id);
	snprintf(name, sizeof(name), "Flyte - %s", r->workspace_name);
	utf8_cut(name, 64);
	cJSON_AddStringToObject(proj, "name", name);
	snprintf(desc, sizeof(desc), "Workspace '%s' owned by %s", r->workspace_name, r->owner_email);
	utf8_cut(desc, 300);
	cJSON_AddStringToObject(proj, "description", desc);
	labels = cJSON_AddObjectToObject(cJSON_AddObjectToObject(proj, "labels"), "values");
	cJSON_AddStringToObject(labels, WS_LABEL_WORKSPACE, r->workspace_id);
	cJSON_AddStringToObject(labels, WS_LABEL_MANAGED_BY, WS_MANAGED_BY);
	cJSON_AddStringToObject(labels, "tier", tier->name);
	cJSON_AddStringToObject(proj, "state", "ACTIVE");
	if (add_flyte(plan, WS_STEP_FLYTE_PROJECT, "POST", "/api/v1/projects", "project", body))
		return -1;

	snprintf(path, sizeof(path), "/api/v1/project_attributes/%s", r->workspace_id);
	body = cJSON_CreateObject();
	attrs = cJSON_AddObjectToObject(body, "attributes");
	cJSON_AddStringToObject(attrs, "project", r->workspace_id);
	m = cJSON_AddObjectToObject(attrs, "matching_attributes");
	wec = cJSON_AddObjectToObject(m, "workflow_execution_config");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(wec, "security_context"),
							"run_as"),
				"k8s_service_account", sa);
	snprintf(prefix, sizeof(prefix), "%s://%s", p->storage_scheme, bucket);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(wec, "raw_output_data_config"),
				"output_location_prefix", prefix);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(wec, "labels"), "values"),
				WS_LABEL_WORKSPACE, r->workspace_id);
	if (add_flyte(plan, WS_STEP_FLYTE_ATTRIBUTES, "PUT", path, "workflow_execution_config", body))
		return -1;

	body = cJSON_CreateObject();
	attrs = cJSON_AddObjectToObject(body, "attributes");
	cJSON_AddStringToObject(attrs, "project", r->workspace_id);
	m = cJSON_AddObjectToObject(attrs, "matching_attributes");
	cra = cJSON_AddObjectToObject(cJSON_AddObjectToObject(m, "cluster_resource_attributes"),
				      "attributes");
	if (cpu)
		cJSON_AddStringToObject(cra, "projectQuotaCpu", cpu);
	if (mem)
		cJSON_AddStringToObject(cra, "projectQuotaMemory", mem);
	return add_flyte(plan, WS_STEP_FLYTE_ATTRIBUTES, "PUT", path, "cluster_resource_attributes", body);
}

/* ---- validation of the record against the rules ----------------------------- */

static int check_record(const ws_record *r, const ws_platform *p, char parts[][WS_NAME_BUF],
			ws_err *err)
{
	char slug[WS_NAME_BUF], ns[WS_NAME_BUF];
	unsigned seq;
	size_t i, j, max, owners = 0;

	if (ws_id_parse(r->workspace_id, slug, &seq, err) ||
	    ws_slug_room(&p->ns_template, (const char *const *)p->domains.items, p->domains.n, &max,
			 err))
		return -1;
	if (strlen(slug) > max)
		return ws_fail(err, WS_E_INVALID,
			       "workspace id '%s' is too long for namespace template '%s'",
			       r->workspace_id, p->ns_template.text);
	for (i = 0; i < (p->ns_template.has_domain ? p->domains.n : 1); i++)
		if (ws_ns_render(&p->ns_template, r->workspace_id, p->domains.items[i], ns, err))
			return -1;
	if (!r->workspace_name || !*r->workspace_name)
		return ws_fail(err, WS_E_INVALID, "the workspace name is empty");
	if (ws_check_utf8(r->workspace_name, "the workspace name", err))
		return -1;
	if (ws_check_email(r->owner_email, err))
		return ws_err_prefix(err, "owner");
	for (i = 0; i < r->nusers; i++) {
		const ws_user *u = &r->users[i];

		/* the user id first: the messages below quote it */
		if (ws_user_part(u->user_id, parts[i], err))
			return -1;
		if (u->email && ws_check_email(u->email, err))
			return ws_err_prefix(err, "member '%s'", u->user_id);
		for (j = 0; j < i; j++)
			if (strcmp(parts[i], parts[j]) == 0)
				return ws_fail(err, WS_E_INVALID,
					       "members '%s' and '%s' would share the object names '%s': "
					       "use distinct user ids",
					       r->users[j].user_id, u->user_id, parts[i]);
		owners += u->role == WS_ROLE_OWNER;
	}
	if (!owners)
		return ws_fail(err, WS_E_INVALID, "workspace '%s' has no owner", r->workspace_id);
	return 0;
}

int ws_plan_build(const ws_record *r, const ws_platform *p, ws_plan *plan, ws_err *err)
{
	char (*parts)[WS_NAME_BUF] = calloc(r->nusers + 1, sizeof(*parts));
	char quota[WS_LONG_NAME_BUF], sa[WS_LONG_NAME_BUF], netpol[WS_LONG_NAME_BUF];
	char bucket[WS_LONG_NAME_BUF], role[WS_LONG_NAME_BUF], binding[WS_LONG_NAME_BUF];
	const ws_tier *tier;
	size_t d, i, ndom;
	cJSON *labels = NULL;

	memset(plan, 0, sizeof(*plan));
	if (!parts)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	if (check_record(r, p, parts, err))
		goto fail;
	tier = ws_tiers_find(&p->tiers, r->tier ? r->tier : p->default_tier, err);
	if (!tier)
		goto fail;
	snprintf(plan->workspace_id, sizeof(plan->workspace_id), "%s", r->workspace_id);
	if (ws_name(WS_NAME_QUOTA, r->workspace_id, NULL, quota, err) ||
	    ws_name(WS_NAME_RUNNER_SA, r->workspace_id, NULL, sa, err) ||
	    ws_name(WS_NAME_NETPOL, r->workspace_id, NULL, netpol, err) ||
	    ws_name(WS_NAME_BUCKET, r->workspace_id, NULL, bucket, err))
		goto fail;
	if (r->data_bucket && *r->data_bucket)
		snprintf(bucket, sizeof(bucket), "%s", r->data_bucket);

	if (add_object(plan, WS_STEP_RECORD, &WS_KIND_CONFIGMAP, record_configmap(r, p)))
		goto oom;
	ndom = p->ns_template.has_domain ? p->domains.n : 1;
	labels = common_labels(r->workspace_id);
	for (d = 0; d < ndom; d++) {
		const char *domain = p->ns_template.has_domain ? p->domains.items[d] : NULL;
		char ns[WS_NAME_BUF];
		cJSON *o, *nl, *na;

		ws_ns_render(&p->ns_template, r->workspace_id, domain, ns, NULL);
		if (ws_strlist_add(&plan->namespaces, ns, err) ||
		    ws_namespace_meta(p, r->workspace_id, domain, tier->name, r->workspace_name,
				      r->owner_email, &nl, &na, err))
			goto fail;
		o = new_object(&WS_KIND_NAMESPACE, NULL, ns, NULL);
		cJSON_AddItemToObject(ws_json_get(o, "metadata", NULL), "labels", nl);
		cJSON_AddItemToObject(ws_json_get(o, "metadata", NULL), "annotations", na);
		if (add_object(plan, WS_STEP_NAMESPACE, &WS_KIND_NAMESPACE, o) ||
		    add_object(plan, WS_STEP_QUOTA, &WS_KIND_RESOURCEQUOTA,
			       quota_object(ns, quota, labels, tier)))
			goto oom;
		o = runner_sa(r, p, ns, sa, labels, err);
		if (!o)
			goto fail;
		if (add_object(plan, WS_STEP_SERVICEACCOUNT, &WS_KIND_SERVICEACCOUNT, o) ||
		    add_object(plan, WS_STEP_NETWORKPOLICY, &WS_KIND_NETWORKPOLICY,
			       network_policy(p, ns, netpol, labels)))
			goto oom;
		for (i = 0; i < r->nusers; i++) {
			if (ws_name(WS_NAME_ROLE, r->workspace_id, parts[i], role, err) ||
			    ws_name(WS_NAME_BINDING, r->workspace_id, parts[i], binding, err))
				goto fail;
			if (add_object(plan, WS_STEP_ROLE, &WS_KIND_ROLE,
				       role_object(ns, role, labels, r->users[i].role)) ||
			    add_object(plan, WS_STEP_ROLEBINDING, &WS_KIND_ROLEBINDING,
				       binding_object(ns, binding, role, labels, &r->users[i])))
				goto oom;
		}
	}
	if (ws_record_has_service(r, "flyte") && flyte_calls(r, p, tier, sa, bucket, plan))
		goto oom;
	plan->console_url = ws_platform_console_url(p, r->workspace_id, p->default_domain);
	cJSON_Delete(labels);
	free(parts);
	return 0;
oom:
	ws_fail(err, WS_E_INTERNAL, "out of memory");
fail:
	cJSON_Delete(labels);
	free(parts);
	ws_plan_release(plan);
	return -1;
}

void ws_plan_release(ws_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nobjects; i++)
		cJSON_Delete(plan->objects[i].body);
	for (i = 0; i < plan->nflyte; i++)
		cJSON_Delete(plan->flyte[i].body);
	free(plan->objects);
	free(plan->flyte);
	free(plan->console_url);
	ws_strlist_release(&plan->namespaces);
	memset(plan, 0, sizeof(*plan));
}

cJSON *ws_plan_to_list(const ws_plan *plan)
{
	cJSON *list = cJSON_CreateObject(), *items;
	size_t i;

	cJSON_AddStringToObject(list, "apiVersion", "v1");
	cJSON_AddStringToObject(list, "kind", "List");
	items = cJSON_AddArrayToObject(list, "items");
	for (i = 0; i < plan->nobjects; i++)
		cJSON_AddItemToArray(items, cJSON_Duplicate(plan->objects[i].body, 1));
	return list;
}

int ws_record_init(ws_record *r, const ws_platform *p, const char *name, unsigned seq,
		   const char *owner_email, const char *tier, const char *created_at, ws_err *err)
{
	char slug[WS_NAME_BUF], id[WS_NAME_BUF], bucket[WS_LONG_NAME_BUF], local[WS_NAME_BUF];
	size_t max;
	const char *at;

	memset(r, 0, sizeof(*r));
	if (!name || !*name)
		return ws_fail(err, WS_E_INVALID, "the workspace name is empty");
	if (ws_slug_room(&p->ns_template, (const char *const *)p->domains.items, p->domains.n, &max,
			 err) ||
	    ws_slugify(name, max, slug, sizeof(slug), err) || ws_id_format(slug, seq, id, err) ||
	    ws_name(WS_NAME_BUCKET, id, NULL, bucket, err))
		return -1;
	if (ws_check_email(owner_email, err))
		return ws_err_prefix(err, "--owner");
	if (!ws_tiers_find(&p->tiers, tier ? tier : p->default_tier, err))
		return -1;
	/* The owner's user id is the local part of the address, as in the seed record. */
	at = strchr(owner_email, '@');
	snprintf(local, sizeof(local), "%.*s", (int)(at - owner_email), owner_email);
	if (ws_record_set(&r->workspace_id, id) || ws_record_set(&r->workspace_name, name) ||
	    ws_record_set(&r->owner_email, owner_email) ||
	    ws_record_set(&r->tier, tier ? tier : p->default_tier) ||
	    ws_record_set(&r->data_bucket, bucket) || ws_record_set(&r->created_at, created_at)) {
		ws_record_release(r);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	if (ws_record_add_user(r, local, owner_email, WS_ROLE_OWNER, err)) {
		ws_record_release(r);
		return -1;
	}
	return 0;
}
