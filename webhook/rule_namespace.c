/* rule_namespace.c - Namespace CREATE/UPDATE (and UPDATE through
 * namespaces/status and namespaces/finalize): a workspace namespace carries
 * the plan's tenant labels and annotations (ws_namespace_meta, so they are
 * exactly the plugin's); a name in the workspace pattern that is not a valid
 * workspace namespace is refused; tenant labels can neither disagree with
 * the name nor be changed or removed; no other namespace may claim them. */
#include "rule.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "plan.h"

/* The labels that tie a namespace to its workspace. */
static size_t tenant_keys(const ws_platform *p, const char *keys[3])
{
	keys[0] = WS_LABEL_WORKSPACE;
	keys[1] = WS_LABEL_TENANT;
	if (!p->ns_template.has_domain)
		return 2;
	keys[2] = WS_LABEL_DOMAIN;
	return 3;
}

/* A namespace outside the workspace pattern must not claim a workspace. */
static void other_namespace(const wh_ctx *c, const char *name, const cJSON *labels,
			    const cJSON *old_labels, wh_decision *d)
{
	const char *keys[3];
	size_t i, n = tenant_keys(c->p, keys);

	for (i = 0; i < n; i++) {
		const char *v = wh_map_str(labels, keys[i]), *was = wh_map_str(old_labels, keys[i]);

		if (v && !(was && strcmp(v, was) == 0))
			wh_deny(d, 403, "Forbidden",
				"namespace '%s' is not a workspace namespace (workspace namespaces are "
				"named %s): it cannot carry the tenant label '%s'",
				name, c->p->ns_template.text, keys[i]);
	}
}

static void check_tenant_labels(const wh_ctx *c, const char *name, const char *id,
				const cJSON *labels, const cJSON *old_labels, const cJSON *want,
				wh_decision *d)
{
	const char *keys[3];
	size_t i, n = tenant_keys(c->p, keys);

	for (i = 0; i < n; i++) {
		const char *v = wh_map_str(labels, keys[i]), *was = wh_map_str(old_labels, keys[i]);
		const char *expect = wh_map_str(want, keys[i]);

		if (!expect)
			continue;
		if (!v && was) {
			wh_deny(d, 403, "Forbidden",
				"tenant label '%s' of namespace '%s' cannot be removed (it is '%.63s')",
				keys[i], name, was);
		} else if (v && strcmp(v, expect) != 0) {
			if (was && strcmp(was, expect) == 0)
				wh_deny(d, 403, "Forbidden",
					"tenant label '%s' of namespace '%s' cannot be changed from "
					"'%s' to '%.63s'",
					keys[i], name, was, v);
			else
				wh_deny(d, 403, "Forbidden",
					"label '%s' is '%.63s' but namespace '%s' belongs to workspace "
					"'%s': tenant labels must name the namespace's own workspace",
					keys[i], v, name, id);
		}
	}
}

/* namespaces/status and namespaces/finalize UPDATE: their strategies keep
 * metadata changes, so they could change labels behind a plain UPDATE's
 * back. Nothing is added there (the controllers that write them must never
 * be blocked by what a namespace lacks); only a tenant label that this
 * update changes, removes or sets to another workspace is refused, with the
 * messages of a plain UPDATE. */
static void subresource_update(const wh_ctx *c, const char *name, const char *id,
			       const char *domain, const cJSON *labels, const cJSON *old_labels,
			       wh_decision *d)
{
	const char *keys[3];
	char via[64];
	size_t i, n = tenant_keys(c->p, keys);

	snprintf(via, sizeof(via), ", also not through namespaces/%.30s", c->req->sub_resource);
	for (i = 0; i < n; i++) {
		const char *v = wh_keep_label(d, labels, old_labels, keys[i], "namespace", name, via);
		const char *expect = strcmp(keys[i], WS_LABEL_DOMAIN) == 0 ? domain : id;

		if (v && strcmp(v, expect) != 0)
			wh_deny(d, 403, "Forbidden",
				"label '%s' is '%.63s' but namespace '%s' belongs to workspace '%s': "
				"tenant labels must name the namespace's own workspace",
				keys[i], v, name, id);
	}
}

void wh_rule_namespace(const wh_ctx *c, wh_decision *d)
{
	static const char *const labels_path[] = {"metadata", "labels"};
	static const char *const annots_path[] = {"metadata", "annotations"};
	const ws_admission_request *req = c->req;
	const char *name = ws_json_str(req->object, "metadata", "name", NULL);
	const cJSON *labels = ws_json_get(req->object, "metadata", "labels", NULL);
	const cJSON *annots = ws_json_get(req->object, "metadata", "annotations", NULL);
	const cJSON *old_labels = ws_json_get(req->old_object, "metadata", "labels", NULL);
	const char *tier = wh_map_str(annots, WS_ANNOT_TIER);
	char id[WS_NAME_BUF], domain[WS_NAME_BUF], what[160];
	cJSON *want_labels = NULL, *want_annots = NULL;
	ws_err why;

	if (!name || !*name)
		name = req->name;
	/* With generateName the name is not known yet; /validate sees it. */
	switch (wh_classify(c->p, name, id, domain, &why)) {
	case WS_NS_OTHER:
		other_namespace(c, name, labels, old_labels, d);
		return;
	case WS_NS_MALFORMED:
		if (*req->sub_resource)
			return;
		if (req->op == WS_ADM_CREATE)
			wh_deny(d, 422, "Invalid", "%s", why.msg);
		else
			wh_warn(d, "%.250s", why.msg);
		return;
	case WS_NS_WORKSPACE:
		break;
	}
	if (*req->sub_resource) {
		subresource_update(c, name, id, domain, labels, old_labels, d);
		return;
	}
	if (ws_namespace_meta(c->p, id, c->p->ns_template.has_domain ? domain : NULL, tier, NULL,
			      NULL, &want_labels, &want_annots, &why)) {
		wh_deny(d, 422, "Invalid", "annotation '%s' of namespace '%s': %s", WS_ANNOT_TIER,
			name, why.msg);
		return;
	}
	check_tenant_labels(c, name, id, labels, old_labels, want_labels, d);
	snprintf(what, sizeof(what), "namespace '%s' label", name);
	wh_put_map(d, labels, labels_path, 2, want_labels, what);
	snprintf(what, sizeof(what), "namespace '%s' annotation", name);
	wh_put_map(d, annots, annots_path, 2, want_annots, what);
	cJSON_Delete(want_labels);
	cJSON_Delete(want_annots);
}
