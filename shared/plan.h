/* plan.h - the one pure function of the product: a workspace record and the
 * platform settings in, the desired state out (DESIGN §2): every Kubernetes
 * object with its exact names, labels and annotations, and every Flyte Admin
 * call. create applies it, --dry-run prints it, doctor diffs it, and the
 * webhook injects the plan's namespace metadata.
 *
 * A ws_plan owns its objects and bodies; ws_plan_release frees them.
 */
#ifndef WS_PLAN_H
#define WS_PLAN_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "kinds.h"
#include "platform.h"
#include "record.h"

/* Label and annotation keys the plan writes. */
#define WS_LABEL_WORKSPACE "workspace-id"
#define WS_LABEL_TENANT "flyte.org/tenant"
#define WS_LABEL_MANAGED_BY "managed-by"
#define WS_LABEL_SERVICE "service"
#define WS_LABEL_DOMAIN "flyte.org/domain"
#define WS_LABEL_RECORD_APP "app"
#define WS_RECORD_APP "workspace-config"
#define WS_RECORD_KEY "workspace.json"
#define WS_ANNOT_NAME "workspace.flyte.org/name"
#define WS_ANNOT_CREATED_BY "workspace.flyte.org/created-by"
#define WS_ANNOT_TIER "workspace.flyte.org/tier"
#define WS_ANNOT_QUOTA "workspace.flyte.org/quota"

/* Which part of provisioning an object belongs to (step names shown to users). */
enum ws_step {
	WS_STEP_RECORD,
	WS_STEP_NAMESPACE,
	WS_STEP_QUOTA,
	WS_STEP_SERVICEACCOUNT,
	WS_STEP_NETWORKPOLICY,
	WS_STEP_ROLE,
	WS_STEP_ROLEBINDING,
	WS_STEP_FLYTE_PROJECT,
	WS_STEP_FLYTE_ATTRIBUTES,
	WS_STEP_COUNT
};
const char *ws_step_name(enum ws_step step);

typedef struct ws_plan_object {
	enum ws_step step;
	const ws_kind *kind;
	const char *namespace; /* borrowed from body; NULL when cluster-scoped */
	const char *name;      /* borrowed from body */
	cJSON *body;           /* the full object, owned */
} ws_plan_object;

typedef struct ws_plan_call {
	enum ws_step step;
	const char *method;    /* "POST" or "PUT" */
	char path[256];        /* "/api/v1/projects", "/api/v1/project_attributes/<id>" */
	const char *what;      /* "project", "workflow_execution_config", ... */
	cJSON *body;           /* owned */
} ws_plan_call;

typedef struct ws_plan {
	char workspace_id[64];
	ws_strlist namespaces;      /* one, or one per domain */
	ws_plan_object *objects;    /* in dependency order */
	size_t nobjects;
	ws_plan_call *flyte;       /* [0] registers the project */
	size_t nflyte;
	char *console_url;          /* NULL when the platform does not know it */
} ws_plan;

/* Build the desired state. Fails (with the reason) on anything that cannot
 * be made valid: an id that is not a workspace id, an unknown tier, a bad
 * e-mail, two members whose names collide, no owner. */
int ws_plan_build(const ws_record *r, const ws_platform *p, ws_plan *plan, ws_err *err);
void ws_plan_release(ws_plan *plan);

/* The plan's Kubernetes objects as a v1 List (caller owns). */
cJSON *ws_plan_to_list(const ws_plan *plan);

/* The tenant labels and annotations of a workspace namespace: the same
 * metadata the plan writes, for the webhook. Labels: workspace-id,
 * flyte.org/tenant (both the id), managed-by, service=flyte (and
 * flyte.org/domain with a per-domain template). Annotations: tier and quota
 * summary, plus name and created-by when given (NULL leaves them out).
 * tier NULL means the platform's default tier. Caller owns both objects. */
int ws_namespace_meta(const ws_platform *p, const char *id, const char *domain,
		      const char *tier, const char *name, const char *created_by,
		      cJSON **labels, cJSON **annotations, ws_err *err);

/* The RBAC subject name for a member: e-mail when known, else the user id. */
const char *ws_user_subject(const ws_user *u);

/* Fill a new record from CLI input: slug and id from name and sequence,
 * bucket, tier default, created_at. Members are added by the caller. */
int ws_record_init(ws_record *r, const ws_platform *p, const char *name, unsigned seq,
		   const char *owner_email, const char *tier, const char *created_at, ws_err *err);

#endif
