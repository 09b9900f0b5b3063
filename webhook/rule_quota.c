/* rule_quota.c - ResourceQuota CREATE/UPDATE/DELETE in a workspace namespace:
 * only the platform's quota managers (platform quotaManagers: user names,
 * or "group:<name>" matched against the requester's groups) may touch it;
 * the quota is the workspace's tier, not something its members negotiate.
 * The namespace controller may always delete, or a workspace namespace
 * could never be deleted. Through resourcequotas/status, which the quota
 * controller and quota admission write, anyone may update status.used, but
 * not a tenant label nor the status.hard that quota admission enforces. */
#include "rule.h"

#include <string.h>

#include "json.h"
#include "plan.h"

#define NAMESPACE_CONTROLLER "system:serviceaccount:kube-system:namespace-controller"

static int is_manager(const ws_platform *p, const ws_admission_request *req)
{
	size_t i;

	for (i = 0; i < p->quota_managers.n; i++) {
		const char *m = p->quota_managers.items[i];

		if (strncmp(m, "group:", 6) == 0 ? ws_admission_in_group(req, m + 6)
						 : strcmp(m, req->username) == 0)
			return 1;
	}
	return 0;
}

static int same_json(const cJSON *a, const cJSON *b)
{
	return a && b ? cJSON_Compare(a, b, 1) : a == b;
}

/* resourcequotas/status UPDATE by a non-manager. Its strategy keeps
 * metadata changes, so tenant labels are guarded as on a pod. Quota
 * admission enforces status.hard, which the quota controller sets to
 * spec.hard: it may only move to spec.hard. An unchanged status.hard passes
 * even when a manager just changed spec.hard: quota admission rewrites
 * status.used with the status.hard it read until the controller catches up,
 * and refusing that would refuse pods. */
static void quota_status(const ws_admission_request *req, const char *ns, const char *name,
			 const char *id, wh_decision *d)
{
	static const char *const keys[] = {WS_LABEL_WORKSPACE, WS_LABEL_TENANT};
	const cJSON *labels = ws_json_get(req->object, "metadata", "labels", NULL);
	const cJSON *old_labels = ws_json_get(req->old_object, "metadata", "labels", NULL);
	const cJSON *hard = ws_json_get(req->object, "status", "hard", NULL);
	size_t i;

	for (i = 0; i < 2; i++) {
		const char *v = wh_keep_label(d, labels, old_labels, keys[i], "ResourceQuota", name,
					      ", also not through resourcequotas/status");

		if (v && strcmp(v, id) != 0)
			wh_deny(d, 403, "Forbidden",
				"ResourceQuota '%s' cannot get label %s='%.63s', another workspace: "
				"namespace '%s' belongs to workspace '%s'",
				name, keys[i], v, ns, id);
	}
	if (!same_json(hard, ws_json_get(req->old_object, "status", "hard", NULL)) &&
	    !same_json(hard, ws_json_get(req->object, "spec", "hard", NULL)))
		wh_deny(d, 403, "Forbidden",
			"user '%.100s' may not set status.hard of ResourceQuota '%s' in workspace "
			"namespace '%s' to anything but its spec.hard: quota admission enforces "
			"status.hard, and workspace quotas are managed by the platform",
			req->username, name, ns);
}

void wh_rule_quota(const wh_ctx *c, wh_decision *d)
{
	static const char *const verbs[] = {"create", "change", "delete", "connect to"};
	const ws_admission_request *req = c->req;
	const cJSON *obj = req->object ? req->object : req->old_object;
	const char *ns = *req->namespace ? req->namespace : ws_json_str(obj, "metadata", "namespace", NULL);
	const char *name = *req->name ? req->name : ws_json_str(obj, "metadata", "name", NULL);
	char id[WS_NAME_BUF];

	if (wh_classify(c->p, ns, id, NULL, NULL) != WS_NS_WORKSPACE)
		return;
	if (is_manager(c->p, req))
		return;
	if (*req->sub_resource) {
		quota_status(req, ns, name ? name : "", id, d);
		return;
	}
	if (req->op == WS_ADM_DELETE && strcmp(req->username, NAMESPACE_CONTROLLER) == 0)
		return;
	wh_deny(d, 403, "Forbidden",
		"user '%.100s' may not %s ResourceQuota '%s' in workspace namespace '%s': workspace "
		"quotas follow the workspace tier and are managed by the platform; ask a platform "
		"administrator to change the tier",
		req->username, verbs[req->op], name ? name : "", ns);
}
