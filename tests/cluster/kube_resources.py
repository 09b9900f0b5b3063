"""The kinds the emulated kube-apiserver serves: group, version, plural, scope,
short names, verbs, subresources and per-kind rules (name validation, whether
PUT may create, which top-level fields belong to the status subresource).

Everything else (discovery, OpenAPI, routing, RBAC, tables) reads this table.
"""

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
             "update", "watch"]


class Resource:
    def __init__(self, group, version, kind, plural, namespaced, short_names=(),
                 model=None, name_rule="subdomain", subresources=None,
                 verbs=None, categories=(), create_on_update=False,
                 status_fields=(), virtual=False, has_generation=False):
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = kind.lower()
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.model = model              # python3-kubernetes model class name
        self.name_rule = name_rule      # label | subdomain | path
        self.subresources = subresources or {}   # name -> (kind, verbs)
        self.verbs = verbs or list(ALL_VERBS)
        self.categories = list(categories)
        self.create_on_update = create_on_update
        self.status_fields = tuple(status_fields)  # owned by the status subresource
        self.virtual = virtual          # create-only review kinds, nothing stored
        self.has_generation = has_generation

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def group_resource(self):
        """`plural` or `plural.group`, as used in Status messages."""
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    @property
    def base_path(self):
        if self.group:
            return "/apis/%s/%s" % (self.group, self.version)
        return "/api/%s" % self.version

    def __repr__(self):
        return "Resource(%s)" % self.group_resource


STATUS_SUB = ("get", "patch", "update")

RESOURCES = [
    Resource("", "v1", "Namespace", "namespaces", False, ["ns"], "V1Namespace",
             name_rule="label", status_fields=("status",),
             subresources={"status": ("Namespace", STATUS_SUB),
                           "finalize": ("Namespace", ("update",))},
             verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
    Resource("", "v1", "ConfigMap", "configmaps", True, ["cm"], "V1ConfigMap"),
    Resource("", "v1", "Secret", "secrets", True, [], "V1Secret"),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"],
             "V1ServiceAccount",
             subresources={"token": ("TokenRequest", ("create",))}),
    Resource("", "v1", "ResourceQuota", "resourcequotas", True, ["quota"],
             "V1ResourceQuota", status_fields=("status",),
             subresources={"status": ("ResourceQuota", STATUS_SUB)}),
    Resource("", "v1", "LimitRange", "limitranges", True, ["limits"],
             "V1LimitRange", create_on_update=True),
    Resource("", "v1", "Pod", "pods", True, ["po"], "V1Pod",
             categories=["all"], status_fields=("status",),
             subresources={"status": ("Pod", STATUS_SUB)}),
    Resource("", "v1", "Event", "events", True, ["ev"], "CoreV1Event",
             create_on_update=True),
    # One store behind two APIs, as in kube-apiserver: core v1 lists show the
    # events.k8s.io ones too (kube_api.event_to_core), which is what
    # `kubectl describe` reads.
    Resource("events.k8s.io", "v1", "Event", "events", True, [], "EventsV1Event",
             create_on_update=True),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True, [],
             "V1Role", name_rule="path", create_on_update=True),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings",
             True, [], "V1RoleBinding", name_rule="path", create_on_update=True),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles",
             False, [], "V1ClusterRole", name_rule="path", create_on_update=True),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
             "clusterrolebindings", False, [], "V1ClusterRoleBinding",
             name_rule="path", create_on_update=True),
    Resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True,
             ["netpol"], "V1NetworkPolicy", has_generation=True),
    Resource("coordination.k8s.io", "v1", "Lease", "leases", True, [],
             "V1Lease", create_on_update=True),
    Resource("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
             "mutatingwebhookconfigurations", False, [],
             "V1MutatingWebhookConfiguration", has_generation=True),
    Resource("admissionregistration.k8s.io", "v1",
             "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
             False, [], "V1ValidatingWebhookConfiguration", has_generation=True),
    Resource("flyte.lyft.com", "v1alpha1", "FlyteWorkflow", "flyteworkflows", True,
             ["fly"], None, has_generation=True),
    Resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview",
             "selfsubjectaccessreviews", False, [], "V1SelfSubjectAccessReview",
             verbs=["create"], virtual=True),
    Resource("authorization.k8s.io", "v1", "SelfSubjectRulesReview",
             "selfsubjectrulesreviews", False, [], "V1SelfSubjectRulesReview",
             verbs=["create"], virtual=True),
    Resource("authorization.k8s.io", "v1", "SubjectAccessReview",
             "subjectaccessreviews", False, [], "V1SubjectAccessReview",
             verbs=["create"], virtual=True),
    Resource("authentication.k8s.io", "v1", "SelfSubjectReview",
             "selfsubjectreviews", False, [], None, verbs=["create"], virtual=True),
]

# (group, version) in the order discovery lists them; core first.
GROUP_VERSIONS = []
for _r in RESOURCES:
    if (_r.group, _r.version) not in GROUP_VERSIONS:
        GROUP_VERSIONS.append((_r.group, _r.version))

_BY_GVR = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_GK = {(r.group, r.kind): r for r in RESOURCES}


def lookup(group, version, plural):
    return _BY_GVR.get((group, version, plural))


def by_kind(group, kind):
    return _BY_GK.get((group, kind))


def by_api_version_kind(api_version, kind):
    group = api_version.split("/")[0] if "/" in api_version else ""
    return by_kind(group, kind)


def resources_in(group, version):
    return [r for r in RESOURCES if r.group == group and r.version == version]
