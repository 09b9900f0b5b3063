"""Authentication (static bearer tokens, client certificates signed by the
cluster CA, tokens issued through serviceaccounts/<name>/token), impersonation,
and RBAC authorization over the Roles/Bindings stored in the emulator, with the
real server's bootstrap cluster roles.
"""
import json
import secrets
import threading
import time

import kube_resources as kr


class User:
    def __init__(self, username, groups=(), uid="", extra=None):
        self.username = username
        self.groups = list(groups)
        self.uid = uid
        self.extra = extra or {}

    def info(self):
        d = {"username": self.username}
        if self.uid:
            d["uid"] = self.uid
        d["groups"] = list(self.groups)
        if self.extra:
            d["extra"] = self.extra
        return d

    @property
    def is_master(self):
        return "system:masters" in self.groups


ANONYMOUS = User("system:anonymous", ["system:unauthenticated"])


class Authenticator:
    def __init__(self, users_file=None):
        self._tokens = {}
        self._issued = {}   # token -> (User, expiry epoch, sa key)
        self._lock = threading.Lock()
        if users_file:
            with open(users_file) as f:
                data = json.load(f)
            for token, u in data.get("tokens", {}).items():
                groups = list(u.get("groups") or [])
                if "system:authenticated" not in groups:
                    groups.append("system:authenticated")
                self._tokens[token] = User(u["username"], groups, u.get("uid", ""))

    def from_token(self, token):
        u = self._tokens.get(token)
        if u:
            return u
        with self._lock:
            issued = self._issued.get(token)
        if issued and issued[1] > time.time():
            return issued[0]
        return None

    @staticmethod
    def from_cert(cert):
        """User from a verified peer certificate (ssl getpeercert() dict)."""
        if not cert:
            return None
        cn, orgs = None, []
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
                elif k == "organizationName":
                    orgs.append(v)
        if not cn:
            return None
        return User(cn, orgs + ["system:authenticated"])

    def issue_sa_token(self, namespace, name, sa_uid, seconds):
        token = "emu-sa." + secrets.token_urlsafe(32)
        user = service_account_user(namespace, name, sa_uid)
        with self._lock:
            self._issued[token] = (user, time.time() + seconds, (namespace, name))
        return token

    def revoke_sa(self, namespace, name):
        with self._lock:
            for t in [t for t, v in self._issued.items() if v[2] == (namespace, name)]:
                del self._issued[t]


def service_account_user(namespace, name, uid=""):
    return User("system:serviceaccount:%s:%s" % (namespace, name),
                ["system:serviceaccounts", "system:serviceaccounts:%s" % namespace,
                 "system:authenticated"], uid)


def impersonated(headers):
    """User described by Impersonate-* headers, or None without them."""
    name = headers.get("Impersonate-User")
    groups = headers.get_all("Impersonate-Group") or []
    uid = headers.get("Impersonate-Uid") or ""
    if not name:
        return None
    extra = {}
    for k, v in headers.items():
        if k.lower().startswith("impersonate-extra-"):
            extra.setdefault(k[len("impersonate-extra-"):].lower(), []).append(v)
    if name.startswith("system:serviceaccount:") and not groups:
        parts = name.split(":")
        if len(parts) == 4:
            u = service_account_user(parts[2], parts[3], uid)
            return u
    groups = list(groups)
    if name != "system:anonymous" and "system:authenticated" not in groups:
        groups.append("system:authenticated")
    return User(name, groups, uid, extra)


# ---- RBAC --------------------------------------------------------------------

class Attributes:
    def __init__(self, user, verb, resource_request, group="", resource="",
                 subresource="", namespace="", name="", path=""):
        self.user = user
        self.verb = verb
        self.resource_request = resource_request
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = path

    def forbidden_reason(self):
        u = self.user.username
        if not self.resource_request:
            return 'User "%s" cannot %s path "%s"' % (u, self.verb, self.path)
        res = self.resource + ("/" + self.subresource if self.subresource else "")
        if self.namespace:
            return ('User "%s" cannot %s resource "%s" in API group "%s" in the '
                    'namespace "%s"' % (u, self.verb, res, self.group, self.namespace))
        return ('User "%s" cannot %s resource "%s" in API group "%s" at the cluster '
                'scope' % (u, self.verb, res, self.group))


def _rule_allows(rule, a):
    verbs = rule.get("verbs") or []
    if "*" not in verbs and a.verb not in verbs:
        return False
    if not a.resource_request:
        for u in rule.get("nonResourceURLs") or []:
            if u == "*" or u == a.path or (u.endswith("*") and a.path.startswith(u[:-1])):
                return True
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and a.group not in groups:
        return False
    combined = a.resource + ("/" + a.subresource if a.subresource else "")
    ok = False
    for r in rule.get("resources") or []:
        if r == "*" or r == combined:
            ok = True
        elif a.subresource and r == "*/" + a.subresource:
            ok = True
        if ok:
            break
    if not ok:
        return False
    names = rule.get("resourceNames") or []
    return not names or a.name in names


def _subject_matches(subj, user, binding_ns):
    kind = subj.get("kind")
    if kind == "User":
        return subj.get("name") == user.username
    if kind == "Group":
        return subj.get("name") in user.groups
    if kind == "ServiceAccount":
        ns = subj.get("namespace") or binding_ns
        return user.username == "system:serviceaccount:%s:%s" % (ns, subj.get("name"))
    return False


class Authorizer:
    def __init__(self, store):
        self.store = store
        self.roles = kr.lookup("rbac.authorization.k8s.io", "v1", "roles")
        self.rolebindings = kr.lookup("rbac.authorization.k8s.io", "v1", "rolebindings")
        self.clusterroles = kr.lookup("rbac.authorization.k8s.io", "v1", "clusterroles")
        self.crbs = kr.lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")

    def _rules(self, ref, ns):
        if ref.get("kind") == "ClusterRole":
            role = self.store.get(self.clusterroles, "", ref.get("name"))
        else:
            role = self.store.get(self.roles, ns, ref.get("name"))
        return (role or {}).get("rules") or []

    def authorize(self, a):
        """(allowed, reason) for the request attributes."""
        if a.user.is_master:
            return True, ""
        crbs, _ = self.store.list(self.crbs)
        for b in crbs:
            if any(_subject_matches(s, a.user, "") for s in b.get("subjects") or []):
                for rule in self._rules(b.get("roleRef") or {}, ""):
                    if _rule_allows(rule, a):
                        return True, ('RBAC: allowed by ClusterRoleBinding "%s" of '
                                      'ClusterRole "%s" to %s'
                                      % (b["metadata"]["name"], b["roleRef"]["name"],
                                         _who(a.user)))
        if a.namespace and a.resource_request:
            rbs, _ = self.store.list(self.rolebindings, a.namespace)
            for b in rbs:
                if any(_subject_matches(s, a.user, a.namespace)
                       for s in b.get("subjects") or []):
                    for rule in self._rules(b.get("roleRef") or {}, a.namespace):
                        if _rule_allows(rule, a):
                            return True, ('RBAC: allowed by RoleBinding "%s/%s" of %s '
                                          '"%s" to %s'
                                          % (b["metadata"]["name"], a.namespace,
                                             b["roleRef"].get("kind"),
                                             b["roleRef"]["name"], _who(a.user)))
        return False, ""


    def rules_for(self, user, namespace):
        """(resource rules, non-resource rules) that apply to user in namespace."""
        found = []
        for b in self.store.list(self.crbs)[0]:
            if any(_subject_matches(s, user, "") for s in b.get("subjects") or []):
                found += self._rules(b.get("roleRef") or {}, "")
        if namespace:
            for b in self.store.list(self.rolebindings, namespace)[0]:
                if any(_subject_matches(s, user, namespace)
                       for s in b.get("subjects") or []):
                    found += self._rules(b.get("roleRef") or {}, namespace)
        resource, non_resource = [], []
        for r in found:
            if r.get("nonResourceURLs"):
                non_resource.append({"verbs": r.get("verbs") or [],
                                     "nonResourceURLs": r["nonResourceURLs"]})
            if r.get("resources"):
                entry = {k: r[k] for k in ("verbs", "apiGroups", "resources",
                                           "resourceNames") if r.get(k)}
                resource.append(entry)
        return resource, non_resource


def _who(user):
    if user.username.startswith("system:serviceaccount:"):
        return 'ServiceAccount "%s"' % user.username.split(":", 2)[2].replace(":", "/")
    return 'User "%s"' % user.username


# ---- bootstrap policy ---------------------------------------------------------

_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _cr(name, rules, extra_labels=None):
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    labels.update(extra_labels or {})
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels,
                         "annotations": {"rbac.authorization.kubernetes.io/autoupdate":
                                         "true"}},
            "rules": rules}


def _crb(name, role, groups):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name,
                         "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                         "annotations": {"rbac.authorization.kubernetes.io/autoupdate":
                                         "true"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": g} for g in groups]}


def bootstrap_policy():
    """(cluster roles, cluster role bindings) of a fresh cluster."""
    view_core = ["configmaps", "endpoints", "persistentvolumeclaims",
                 "persistentvolumeclaims/status", "pods", "pods/log", "pods/status",
                 "replicationcontrollers", "resourcequotas", "resourcequotas/status",
                 "serviceaccounts", "services", "services/status", "events",
                 "limitranges", "namespaces/status", "bindings"]
    view = [
        {"apiGroups": [""], "resources": view_core, "verbs": _READ},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": _READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
         "verbs": _READ},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": _READ},
    ]
    edit = view + [
        {"apiGroups": [""], "resources": ["configmaps", "pods", "secrets",
                                          "serviceaccounts", "services", "events",
                                          "persistentvolumeclaims"],
         "verbs": _WRITE},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": _READ},
        {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["pods/exec", "pods/attach", "pods/portforward"],
         "verbs": ["create", "get"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
         "verbs": _WRITE},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": _WRITE},
    ]
    admin = edit + [
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles",
                                                                   "rolebindings"],
         "verbs": _READ + _WRITE},
        {"apiGroups": ["authorization.k8s.io"],
         "resources": ["localsubjectaccessreviews"], "verbs": ["create"]},
    ]
    roles = [
        _cr("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                              {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        _cr("system:discovery", [{"nonResourceURLs": [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
            "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        _cr("system:public-info-viewer", [{"nonResourceURLs": [
            "/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        _cr("system:basic-user", [
            {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"],
             "verbs": ["create"]},
            {"apiGroups": ["authorization.k8s.io"],
             "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
             "verbs": ["create"]}]),
        _cr("admin", admin, {"kubernetes.io/bootstrapping": "rbac-defaults"}),
        _cr("edit", edit, {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}),
        _cr("view", view, {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}),
    ]
    bindings = [
        _crb("cluster-admin", "cluster-admin", ["system:masters"]),
        _crb("system:discovery", "system:discovery", ["system:authenticated"]),
        _crb("system:basic-user", "system:basic-user", ["system:authenticated"]),
        _crb("system:public-info-viewer", "system:public-info-viewer",
             ["system:authenticated", "system:unauthenticated"]),
    ]
    return roles, bindings
