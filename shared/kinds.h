/* kinds.h - the Kubernetes kinds the product reads or writes, with their
 * REST coordinates (group, version, plural, scope). */
#ifndef WS_KINDS_H
#define WS_KINDS_H

#include <stddef.h>

#include "error.h"

typedef struct ws_kind {
	const char *kind;        /* "RoleBinding" */
	const char *api_version; /* "rbac.authorization.k8s.io/v1" */
	const char *plural;      /* "rolebindings" */
	int namespaced;
} ws_kind;

extern const ws_kind WS_KIND_NAMESPACE, WS_KIND_CONFIGMAP, WS_KIND_RESOURCEQUOTA,
	WS_KIND_SERVICEACCOUNT, WS_KIND_ROLE, WS_KIND_ROLEBINDING, WS_KIND_NETWORKPOLICY,
	WS_KIND_POD, WS_KIND_LEASE, WS_KIND_FLYTEWORKFLOW, WS_KIND_SECRET;

/* The REST path of a collection (name NULL) or an object:
 * "/api/v1/namespaces/ns/configmaps/name", "/apis/rbac.authorization.k8s.io/v1/...".
 * ns is ignored for cluster-scoped kinds; NULL ns for a namespaced kind means
 * all namespaces. Name and namespace are percent-encoded where needed. */
int ws_kind_path(const ws_kind *k, const char *ns, const char *name, char *out, size_t size,
		 ws_err *err);

#endif
