/* rule_flyteworkflow.c - FlyteWorkflow (flyte.lyft.com) CREATE and UPDATE in a workspace
 * namespace: flyteadmin labels each workflow with its project, and that
 * project must be the namespace's workspace; so must spec executionId.project
 * when present. Refused, never corrected: a workflow of another project in
 * this namespace is a namespace_mapping misconfiguration to surface. An
 * UPDATE may not change or drop the label (flytepropeller rewrites the whole
 * object); one that never had it (made before the webhook) is left alone. */
#include "rule.h"

#include <string.h>

#include "json.h"

void wh_rule_flyteworkflow(const wh_ctx *c, wh_decision *d)
{
	const ws_admission_request *req = c->req;
	const cJSON *labels = ws_json_get(req->object, "metadata", "labels", NULL);
	const char *ns = *req->namespace ? req->namespace
					 : ws_json_str(req->object, "metadata", "namespace", NULL);
	const char *name = *req->name ? req->name : ws_json_str(req->object, "metadata", "name", NULL);
	const char *project = wh_map_str(labels, "project");
	const char *exec = ws_json_str(req->object, "executionId", "project", NULL);
	char id[WS_NAME_BUF];

	if (wh_classify(c->p, ns, id, NULL, NULL) != WS_NS_WORKSPACE)
		return;
	if (!name)
		name = "";
	if (req->op == WS_ADM_UPDATE) {
		const char *old = wh_map_str(ws_json_get(req->old_object, "metadata", "labels", NULL),
					     "project");

		if (!project && !old)
			return;
		if (!project) {
			wh_deny(d, 403, "Forbidden",
				"FlyteWorkflow '%s': this update removes its 'project' label '%.63s'",
				name, old);
			return;
		}
	}
	if (!project)
		wh_deny(d, 403, "Forbidden",
			"FlyteWorkflow '%s' in namespace '%s' has no 'project' label: it must be '%s'",
			name, ns, id);
	else if (strcmp(project, id) != 0)
		wh_deny(d, 403, "Forbidden",
			"FlyteWorkflow '%s' has label project='%.63s' but namespace '%s' belongs to "
			"project '%s' (check flyteadmin's namespace_mapping template)",
			name, project, ns, id);
	else if (exec && strcmp(exec, id) != 0)
		wh_deny(d, 403, "Forbidden",
			"FlyteWorkflow '%s' has executionId.project='%.63s' but namespace '%s' belongs "
			"to project '%s'",
			name, exec, ns, id);
}
