/* rule_quota.c - ResourceQuota CREATE/UPDATE/DELETE in a workspace namespace:
 * only the platform's quota managers (platform quotaManagers: user names,
 * or "group:<name>" matched against the requester's groups) may touch it;
 * the quota is the workspace's tier, not something its members negotiate.
 * The namespace controller may always delete, or a workspace namespace
 * could never be deleted. */
#include "rule.h"

#include <string.h>

#include "json.h"

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

void wh_rule_quota(const wh_ctx *c, wh_decision *d)
{
	static const char *const verbs[] = {"create", "change", "delete", "connect to"};
	const ws_admission_request *req = c->req;
	const cJSON *obj = req->object ? req->object : req->old_object;
	const char *ns = *req->namespace ? req->namespace : ws_json_str(obj, "metadata", "namespace", NULL);
	const char *name = *req->name ? req->name : ws_json_str(obj, "metadata", "name", NULL);

	if (wh_classify(c->p, ns, NULL, NULL, NULL) != WS_NS_WORKSPACE)
		return;
	if (is_manager(c->p, req))
		return;
	if (req->op == WS_ADM_DELETE && strcmp(req->username, NAMESPACE_CONTROLLER) == 0)
		return;
	wh_deny(d, 403, "Forbidden",
		"user '%.100s' may not %s ResourceQuota '%s' in workspace namespace '%s': workspace "
		"quotas follow the workspace tier and are managed by the platform; ask a platform "
		"administrator to change the tier",
		req->username, verbs[req->op], name ? name : "", ns);
}
