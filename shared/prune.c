/* prune.c - managed objects of a workspace that its plan no longer has:
 * found (for drift) and deleted (for apply), each deletion logged for undo. */
#include "prov_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

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

/* Every kind in every namespace is listed at once (one round trip); a list
 * the server pages anyway is read again in full. */
int ws_prov_each_stale(ws_prov *p, const ws_plan *plan,
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
	ws_run *run;
	ws_err *err;
};

static int prune_one(void *ctx, const ws_kind *k, const char *ns, const cJSON *obj)
{
	ws_run *run = ((struct prune_ctx *)ctx)->run;
	ws_err *err = ((struct prune_ctx *)ctx)->err;
	ws_prov *p = run->p;
	const char *name = ws_json_str(obj, "metadata", "name", NULL);
	char subject[320];
	enum ws_step step = k == &WS_KIND_ROLE ? WS_STEP_ROLE
			    : k == &WS_KIND_ROLEBINDING ? WS_STEP_ROLEBINDING
			    : k == &WS_KIND_RESOURCEQUOTA ? WS_STEP_QUOTA
			    : k == &WS_KIND_SERVICEACCOUNT ? WS_STEP_SERVICEACCOUNT : WS_STEP_NETWORKPOLICY;
	ws_undo_entry e;
	cJSON *before = NULL;

	/* what is needed to undo the deletion, before deleting */
	if (!p->dry_run && (ws_undo_reserve(&run->undo, 1, err) || !(before = cJSON_Duplicate(obj, 1))))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	ws_prov_subject(k, name, subject, sizeof(subject));
	if (ws_k8s_delete(p->k8s, k, ns, name, p->dry_run, err) && !ws_err_is_http(err, 404)) {
		cJSON_Delete(before);
		ws_prov_report(p, step, subject, WS_OUT_FAILED, err->msg);
		return ws_err_prefix(err, "step '%s': cannot delete %s in namespace %s",
				     ws_step_name(step), subject, ns);
	}
	if (!p->dry_run) {
		ws_undo_object(&e, WS_UNDO_OBJECT, step, k, ns, name, before);
		if (ws_undo_push(&run->undo, &e, NULL))
			abort(); /* cannot happen: room was reserved */
	}
	ws_prov_report(p, step, subject, WS_OUT_DELETED,
		       p->dry_run ? "no longer in the plan; server dry run" : "no longer in the plan");
	return 0;
}

int ws_prov_prune(ws_run *run, const ws_plan *plan, ws_err *err)
{
	struct prune_ctx pc = {run, err};

	return ws_prov_each_stale(run->p, plan, prune_one, &pc, err);
}
