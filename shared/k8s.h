/* k8s.h - Kubernetes REST client over http.h + cJSON.
 *
 * Typed calls for one object at a time, and a batch form (ws_k8s_op) for
 * sending independent requests in parallel. Errors come back as ws_err with
 * kind WS_E_HTTP, code = HTTP status, reason = the Status reason
 * ("AlreadyExists", "NotFound", "Conflict", "Forbidden", "Invalid", ...)
 * and msg = the server's Status message (with the causes of a 422), or
 * WS_E_TRANSPORT when the server could not be reached.
 * Retries (429 with Retry-After, 5xx, connection errors) happen inside.
 *
 * Every cJSON tree returned belongs to the caller.
 */
#ifndef WS_K8S_H
#define WS_K8S_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "http.h"
#include "kinds.h"
#include "kubeconfig.h"

typedef struct ws_k8s {
	ws_kube_conn conn;
	char field_manager[64]; /* sent as ?fieldManager= on writes */
} ws_k8s;

/* Load the kubeconfig (see kubeconfig.h) and prepare the client. */
int ws_k8s_open(ws_k8s *k, const ws_kubeconfig_options *opt, ws_err *err);
void ws_k8s_close(ws_k8s *k);

enum ws_k8s_verb { WS_K8S_GET, WS_K8S_CREATE, WS_K8S_UPDATE, WS_K8S_PATCH, WS_K8S_DELETE };

/* One request of a batch. Fill the inputs, run ws_k8s_run, read the outputs. */
typedef struct ws_k8s_op {
	enum ws_k8s_verb verb;
	const ws_kind *kind;
	const char *ns;           /* ignored for cluster-scoped kinds */
	const char *name;         /* NULL for CREATE (taken from body) */
	const cJSON *body;        /* CREATE/UPDATE object, PATCH document */
	const char *patch_type;   /* PATCH: "application/merge-patch+json" (default),
				     "application/json-patch+json", "application/strategic-merge-patch+json" */
	int dry_run;              /* ?dryRun=All */
	int list;                 /* GET: the collection (name ignored), one unpaged List;
				     a server may still page it: see metadata.continue */
	const char *label_selector; /* list: ?labelSelector= */
	/* outputs */
	int rc;                   /* 0 ok, -1 failed (err) */
	cJSON *result;            /* the object the server returned (caller frees), or NULL */
	ws_err err;
} ws_k8s_op;

/* Run ops in parallel; returns the number that failed. */
size_t ws_k8s_run(ws_k8s *k, ws_k8s_op *ops, size_t n);
/* Free every op's result. */
void ws_k8s_ops_release(ws_k8s_op *ops, size_t n);

/* Single-object shortcuts over ws_k8s_run. out may be NULL. */
int ws_k8s_get(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, cJSON **out,
	       ws_err *err);
int ws_k8s_create(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
		  ws_err *err);
/* obj must carry metadata.resourceVersion (409 Conflict when stale). */
int ws_k8s_update(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
		  ws_err *err);
int ws_k8s_patch(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name,
		 const char *patch_type, const cJSON *patch, int dry_run, cJSON **out, ws_err *err);
int ws_k8s_delete(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, int dry_run,
		  ws_err *err);

typedef struct ws_k8s_list_opts {
	const char *label_selector; /* NULL: all */
	const char *field_selector;
	long page_size;             /* limit per page; 0: 500 */
} ws_k8s_list_opts;

/* List every page (following `continue`); *items is a cJSON array of the
 * objects (each with apiVersion/kind filled in). resource_version (may be
 * NULL, else 32 bytes) receives the list's resourceVersion for a watch. */
int ws_k8s_list(ws_k8s *k, const ws_kind *kind, const char *ns, const ws_k8s_list_opts *opts,
		cJSON **items, char *resource_version, ws_err *err);

/* Watch from resource_version; on_event gets "ADDED"/"MODIFIED"/"DELETED"/
 * "BOOKMARK" and the object (borrowed); returning non-zero stops. Returns 0
 * when the watch ended normally (timeout or stopped), -1 on error; a 410
 * Expired comes back as WS_E_HTTP code 410 (re-list, then watch again).
 * resource_version is updated to the last one seen. */
int ws_k8s_watch(ws_k8s *k, const ws_kind *kind, const char *ns, const char *label_selector,
		 char resource_version[32], long timeout_s,
		 int (*on_event)(void *ctx, const char *type, const cJSON *object), void *ctx,
		 ws_err *err);

/* Turn an error reply into err: the Status message and reason when the
 * body is a Status, else "<status> <text>". Used by the batch runner and
 * by anyone reading raw replies. Always returns -1. */
int ws_k8s_status_error(long status, const char *body, size_t len, ws_err *err);

#endif
