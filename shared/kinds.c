/* kinds.c - REST coordinates of the kinds we touch (see kinds.h). */
#include "kinds.h"

#include <stdio.h>
#include <string.h>

const ws_kind WS_KIND_NAMESPACE = {"Namespace", "v1", "namespaces", 0};
const ws_kind WS_KIND_CONFIGMAP = {"ConfigMap", "v1", "configmaps", 1};
const ws_kind WS_KIND_SECRET = {"Secret", "v1", "secrets", 1};
const ws_kind WS_KIND_RESOURCEQUOTA = {"ResourceQuota", "v1", "resourcequotas", 1};
const ws_kind WS_KIND_SERVICEACCOUNT = {"ServiceAccount", "v1", "serviceaccounts", 1};
const ws_kind WS_KIND_POD = {"Pod", "v1", "pods", 1};
const ws_kind WS_KIND_ROLE = {"Role", "rbac.authorization.k8s.io/v1", "roles", 1};
const ws_kind WS_KIND_ROLEBINDING = {"RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", 1};
const ws_kind WS_KIND_NETWORKPOLICY = {"NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", 1};
const ws_kind WS_KIND_LEASE = {"Lease", "coordination.k8s.io/v1", "leases", 1};
const ws_kind WS_KIND_FLYTEWORKFLOW = {"FlyteWorkflow", "flyte.lyft.com/v1alpha1", "flyteworkflows", 1};

/* Append s percent-encoding anything outside the unreserved set. */
static size_t put_segment(char *out, size_t size, size_t off, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.' || c == '_' || c == '~' || c == '@' || c == ':';

		if (plain) {
			if (off + 1 < size)
				out[off] = (char)c;
			off++;
		} else {
			if (off + 3 < size) {
				out[off] = '%';
				out[off + 1] = hex[c >> 4];
				out[off + 2] = hex[c & 15];
			}
			off += 3;
		}
	}
	return off;
}

int ws_kind_path(const ws_kind *k, const char *ns, const char *name, char *out, size_t size,
		 ws_err *err)
{
	size_t off;
	int n;

	n = snprintf(out, size, "%s%s", strchr(k->api_version, '/') ? "/apis/" : "/api/",
		     k->api_version);
	if (n < 0 || (size_t)n >= size)
		return ws_fail(err, WS_E_INTERNAL, "path too long");
	off = (size_t)n;
	if (k->namespaced && ns) {
		if (off + 12 >= size)
			return ws_fail(err, WS_E_INTERNAL, "path too long");
		memcpy(out + off, "/namespaces/", 12);
		off = put_segment(out, size, off + 12, ns);
	}
	if (off + 1 < size)
		out[off] = '/';
	off = put_segment(out, size, off + 1, k->plural);
	if (name) {
		if (off + 1 < size)
			out[off] = '/';
		off = put_segment(out, size, off + 1, name);
	}
	if (off >= size)
		return ws_fail(err, WS_E_INTERNAL, "path too long");
	out[off] = '\0';
	return 0;
}
