"""Object validation with the real API server's rules and messages: names
(DNS-1123 label / subdomain / path segment), labels, annotations, and the
per-kind rules this project meets (RBAC, webhooks, pods, config maps, leases).

validate(res, obj, old) returns a list of kube_errors.FieldError.
"""
import re

from kube_errors import FieldError, not_supported

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"

_LABEL_RE = re.compile("^" + DNS1123_LABEL_FMT + "$")
_SUBDOMAIN_RE = re.compile("^" + DNS1123_SUBDOMAIN_FMT + "$")
_QNAME_RE = re.compile("^" + QUALIFIED_NAME_FMT + "$")
_LVALUE_RE = re.compile("^" + LABEL_VALUE_FMT + "$")
_CONFIG_KEY_RE = re.compile("^" + CONFIG_KEY_FMT + "$")

TOTAL_ANNOTATION_SIZE = 256 * 1024


def regex_error(msg, fmt, *examples):
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    msg += " (e.g. "
    for i, ex in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += "'" + ex + "', "
    return msg + "regex used for validation is '" + fmt + "')"


def max_len_error(n):
    return "must be no more than %d characters" % n


def is_dns1123_label(value):
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_RE.match(value):
        errs.append(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric "
            "characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value):
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _SUBDOMAIN_RE.match(value):
        errs.append(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric "
            "character", DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_path_segment(value, prefix=False):
    if not prefix:
        for bad in (".", ".."):
            if value == bad:
                return ["may not be '%s'" % bad]
    return ["may not contain '%s'" % c for c in ("/", "%") if c in value]


_QNAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must "
              "start and end with an alphanumeric character")


def is_qualified_name(value):
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name " + regex_error(_QNAME_MSG, QUALIFIED_NAME_FMT, "MyName",
                                                  "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. "
                  "'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QNAME_RE.match(name):
        errs.append("name part " + regex_error(_QNAME_MSG, QUALIFIED_NAME_FMT, "MyName",
                                               "my.name", "123-abc"))
    return errs


def is_label_value(value):
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _LVALUE_RE.match(value):
        errs.append(regex_error(
            "a valid label must be an empty string or consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character", LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_config_key(value):
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_KEY_RE.match(value):
        errs.append(regex_error("a valid config key must consist of alphanumeric "
                                "characters, '-', '_' or '.'", CONFIG_KEY_FMT,
                                "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def name_checker(rule):
    def check(value, prefix=False):
        if rule == "path":
            return is_path_segment(value, prefix)
        if prefix:
            value = value[:-1] if value.endswith("-") else value
        if rule == "label":
            return is_dns1123_label(value)
        return is_dns1123_subdomain(value)
    return check


def validate_labels(labels, field):
    errs = []
    for k in sorted(labels or {}):
        v = labels[k]
        errs += [FieldError("Invalid", field, k, m) for m in is_qualified_name(k)]
        if isinstance(v, str):
            errs += [FieldError("Invalid", field, v, m) for m in is_label_value(v)]
    return errs


def validate_annotations(annotations, field):
    errs = []
    size = 0
    for k in sorted(annotations or {}):
        errs += [FieldError("Invalid", field, k, m) for m in is_qualified_name(k.lower())]
        size += len(k.encode()) + len((annotations[k] or "").encode())
    if size > TOTAL_ANNOTATION_SIZE:
        errs.append(FieldError("TooLong", field, "",
                               "may not be more than %d bytes" % TOTAL_ANNOTATION_SIZE))
    return errs


def validate_metadata(res, meta):
    errs = []
    check = name_checker(res.name_rule)
    name = meta.get("name") or ""
    if meta.get("generateName"):
        errs += [FieldError("Invalid", "metadata.generateName", meta["generateName"], m)
                 for m in check(meta["generateName"], True)]
    if not name:
        errs.append(FieldError("Required", "metadata.name", None,
                               "name or generateName is required"))
    else:
        errs += [FieldError("Invalid", "metadata.name", name, m) for m in check(name)]
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    for i, f in enumerate(meta.get("finalizers") or []):
        errs += [FieldError("Invalid", "metadata.finalizers", f, m)
                 for m in is_qualified_name(f)]
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        p = "metadata.ownerReferences[%d]" % i
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                what = {"apiVersion": "version", "kind": "kind", "name": "name",
                        "uid": "uid"}[key]
                errs.append(FieldError("Invalid", p + "." + key, ref.get(key) or "",
                                       "%s must not be empty" % what))
    return errs


# ---- per kind ----------------------------------------------------------------

def _validate_data_keys(obj, errs):
    seen = set()
    for fld in ("data", "binaryData", "stringData"):
        for k in sorted(obj.get(fld) or {}):
            errs += [FieldError("Invalid", "%s[%s]" % (fld, k), k, m)
                     for m in is_config_key(k)]
            if fld != "stringData":
                if k in seen:
                    errs.append(FieldError("Invalid", "data[%s]" % k, k,
                                           "duplicate of key present in binaryData"))
                seen.add(k)


def _configmap(obj, old, errs):
    _validate_data_keys(obj, errs)
    if old is not None and old.get("immutable"):
        if obj.get("data") != old.get("data") or \
                obj.get("binaryData") != old.get("binaryData"):
            errs.append(FieldError("Forbidden", "data", None,
                                   "field is immutable when `immutable` is set"))
        if not obj.get("immutable"):
            errs.append(FieldError("Forbidden", "immutable", None,
                                   "field is immutable when `immutable` is set"))


def _secret(obj, old, errs):
    _validate_data_keys(obj, errs)
    typ = obj.get("type") or "Opaque"
    if typ == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in (obj.get("data") or {}):
                errs.append(FieldError("Required", "data[%s]" % key))
    if old is not None:
        if (old.get("type") or "Opaque") != typ:
            errs.append(FieldError("Invalid", "type", typ, "field is immutable"))
        if old.get("immutable") and obj.get("data") != old.get("data"):
            errs.append(FieldError("Forbidden", "data", None,
                                   "field is immutable when `immutable` is set"))


def _pod(obj, old, errs):
    spec = obj.get("spec") or {}
    containers = spec.get("containers") or []
    if not containers:
        errs.append(FieldError("Required", "spec.containers"))
    names = set()
    for fld in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(fld) or []):
            p = "spec.%s[%d]" % (fld, i)
            name = c.get("name") or ""
            if not name:
                errs.append(FieldError("Required", p + ".name"))
            else:
                errs += [FieldError("Invalid", p + ".name", name, m)
                         for m in is_dns1123_label(name)]
                if name in names:
                    errs.append(FieldError("Duplicate", p + ".name", name))
                names.add(name)
            if not c.get("image"):
                errs.append(FieldError("Required", p + ".image"))
    policy = spec.get("restartPolicy")
    if policy not in ("Always", "OnFailure", "Never"):
        errs.append(not_supported("spec.restartPolicy", policy,
                                  ["Always", "OnFailure", "Never"]))
    if old is not None:
        a, b = dict(old.get("spec") or {}), dict(spec)
        for s in (a, b):
            for fld in ("containers", "initContainers"):
                s[fld] = [dict(c, image=None) for c in s.get(fld) or []]
            s.pop("activeDeadlineSeconds", None)
            s.pop("tolerations", None)
            s.pop("terminationGracePeriodSeconds", None)
        if a != b:
            errs.append(FieldError(
                "Forbidden", "spec", None,
                "pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                "`spec.tolerations` (only additions to existing tolerations),"
                "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                "was previously negative)"))


def _policy_rules(rules, namespaced, errs):
    for i, r in enumerate(rules or []):
        p = "rules[%d]" % i
        if not r.get("verbs"):
            errs.append(FieldError("Required", p + ".verbs", None,
                                   "verbs must contain at least one value"))
        if r.get("nonResourceURLs"):
            if namespaced:
                errs.append(FieldError("Invalid", p + ".nonResourceURLs",
                                       r["nonResourceURLs"],
                                       "namespaced rules cannot apply to non-resource URLs"))
            if r.get("apiGroups") or r.get("resources") or r.get("resourceNames"):
                errs.append(FieldError("Invalid", p + ".nonResourceURLs",
                                       r["nonResourceURLs"],
                                       "rules cannot apply to both regular resources "
                                       "and non-resource URLs"))
            continue
        if not r.get("apiGroups"):
            errs.append(FieldError("Required", p + ".apiGroups", None,
                                   "resource rules must supply at least one api group"))
        if not r.get("resources"):
            errs.append(FieldError("Required", p + ".resources", None,
                                   "resource rules must supply at least one resource"))


def _role(obj, old, errs):
    _policy_rules(obj.get("rules"), True, errs)


def _cluster_role(obj, old, errs):
    _policy_rules(obj.get("rules"), False, errs)


def _binding(obj, old, errs, namespaced):
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        errs.append(not_supported("roleRef.apiGroup", ref.get("apiGroup") or "",
                                  ["rbac.authorization.k8s.io"]))
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.append(not_supported("roleRef.kind", ref.get("kind") or "", kinds))
    if not ref.get("name"):
        errs.append(FieldError("Required", "roleRef.name"))
    else:
        errs += [FieldError("Invalid", "roleRef.name", ref["name"], m)
                 for m in is_path_segment(ref["name"])]
    for i, s in enumerate(obj.get("subjects") or []):
        p = "subjects[%d]" % i
        if not s.get("name"):
            errs.append(FieldError("Required", p + ".name"))
        kind = s.get("kind")
        if kind == "ServiceAccount":
            if s.get("apiGroup"):
                errs.append(not_supported(p + ".apiGroup", s["apiGroup"], [""]))
            if not s.get("namespace") and not namespaced:
                errs.append(FieldError("Required", p + ".namespace"))
        elif kind in ("User", "Group"):
            if s.get("apiGroup") != "rbac.authorization.k8s.io":
                errs.append(not_supported(p + ".apiGroup", s.get("apiGroup") or "",
                                          ["rbac.authorization.k8s.io"]))
        else:
            errs.append(not_supported(p + ".kind", kind or "",
                                      ["ServiceAccount", "User", "Group"]))
    if old is not None and (old.get("roleRef") or {}) != ref:
        errs.append(FieldError("Invalid", "roleRef", ref, "cannot change roleRef"))


def _match_conditions(conds, p, errs):
    """As the real server: at most 64, unique qualified names, a compiling
    boolean CEL expression (the emulator's subset, kube_cel)."""
    import kube_cel
    if len(conds) > 64:
        errs.append(FieldError("TooMany", p + ".matchConditions", len(conds),
                               "must have at most 64 items"))
    seen = set()
    for k, mc in enumerate(conds):
        q = "%s.matchConditions[%d]" % (p, k)
        name = mc.get("name") or ""
        if not name:
            errs.append(FieldError("Required", q + ".name"))
        elif name in seen:
            errs.append(FieldError("Duplicate", q + ".name", name))
        seen.add(name)
        expr = mc.get("expression") or ""
        if not expr:
            errs.append(FieldError("Required", q + ".expression"))
            continue
        try:
            kube_cel.compile_expr(expr)
        except kube_cel.CelError as e:
            errs.append(FieldError("Invalid", q + ".expression", expr,
                                   "compilation failed: ERROR: <input>: %s" % e))


def _webhooks(obj, old, errs, mutating):
    names = set()
    for i, w in enumerate(obj.get("webhooks") or []):
        p = "webhooks[%d]" % i
        name = w.get("name") or ""
        if not name:
            errs.append(FieldError("Required", p + ".name"))
        elif is_dns1123_subdomain(name):
            errs.append(FieldError("Invalid", p + ".name", name,
                                   ",".join(is_dns1123_subdomain(name))))
        elif len(name.split(".")) < 3:
            errs.append(FieldError("Invalid", p + ".name", name,
                                   "should be a domain with at least three segments "
                                   "separated by dots"))
        if name and name in names:
            errs.append(FieldError("Duplicate", p + ".name", name))
        names.add(name)
        se = w.get("sideEffects")
        if se is None:
            errs.append(FieldError("Required", p + ".sideEffects", None,
                                   "must specify one of None, NoneOnDryRun"))
        elif se not in ("None", "NoneOnDryRun"):
            errs.append(not_supported(p + ".sideEffects", se, ["None", "NoneOnDryRun"]))
        arv = w.get("admissionReviewVersions")
        if not arv:
            errs.append(FieldError("Required", p + ".admissionReviewVersions", None,
                                   "must specify one of v1, v1beta1"))
        elif not any(v in ("v1", "v1beta1") for v in arv):
            errs.append(FieldError("Invalid", p + ".admissionReviewVersions", arv,
                                   "must include at least one of v1, v1beta1"))
        fp = w.get("failurePolicy")
        if fp not in ("Fail", "Ignore"):
            errs.append(not_supported(p + ".failurePolicy", fp, ["Fail", "Ignore"]))
        mp = w.get("matchPolicy")
        if mp not in ("Exact", "Equivalent"):
            errs.append(not_supported(p + ".matchPolicy", mp, ["Equivalent", "Exact"]))
        if mutating:
            rp = w.get("reinvocationPolicy")
            if rp not in ("Never", "IfNeeded"):
                errs.append(not_supported(p + ".reinvocationPolicy", rp,
                                          ["IfNeeded", "Never"]))
        ts = w.get("timeoutSeconds")
        if ts is not None and not (1 <= ts <= 30):
            errs.append(FieldError("Invalid", p + ".timeoutSeconds", ts,
                                   "the timeout value must be between 1 and 30 seconds"))
        cc = w.get("clientConfig") or {}
        has_url, has_svc = bool(cc.get("url")), cc.get("service") is not None
        if has_url == has_svc:
            errs.append(FieldError("Required", p + ".clientConfig", None,
                                   "exactly one of url or service is required"))
        elif has_url:
            url = cc["url"]
            if not url.startswith("https://"):
                errs.append(FieldError("Invalid", p + ".clientConfig.url", url,
                                       "'https' is the only allowed URL scheme"))
        else:
            svc = cc["service"]
            if not svc.get("name"):
                errs.append(FieldError("Required", p + ".clientConfig.service.name",
                                       None, "service name is required"))
            if not svc.get("namespace"):
                errs.append(FieldError("Required", p + ".clientConfig.service.namespace",
                                       None, "service namespace is required"))
            port = svc.get("port", 443)
            if not (1 <= port <= 65535):
                errs.append(FieldError("Invalid", p + ".clientConfig.service.port", port,
                                       "port is not valid: must be between 1 and "
                                       "65535, inclusive"))
            path = svc.get("path")
            if path is not None and not path.startswith("/"):
                errs.append(FieldError("Invalid", p + ".clientConfig.service.path", path,
                                       "must start with a '/'"))
        _match_conditions(w.get("matchConditions") or [], p, errs)
        for j, rule in enumerate(w.get("rules") or []):
            rp_ = "%s.rules[%d]" % (p, j)
            for op in rule.get("operations") or []:
                if op not in ("*", "CREATE", "UPDATE", "DELETE", "CONNECT"):
                    errs.append(not_supported(rp_ + ".operations", op,
                                              ["*", "CONNECT", "CREATE", "DELETE",
                                               "UPDATE"]))
            if not rule.get("resources"):
                errs.append(FieldError("Required", rp_ + ".resources"))
            if not rule.get("apiGroups"):
                errs.append(FieldError("Required", rp_ + ".apiGroups"))
            if not rule.get("apiVersions"):
                errs.append(FieldError("Required", rp_ + ".apiVersions"))
            scope = rule.get("scope", "*")
            if scope not in ("*", "Cluster", "Namespaced"):
                errs.append(not_supported(rp_ + ".scope", scope,
                                          ["*", "Cluster", "Namespaced"]))


def _lease(obj, old, errs):
    spec = obj.get("spec") or {}
    d = spec.get("leaseDurationSeconds")
    if d is not None and d <= 0:
        errs.append(FieldError("Invalid", "spec.leaseDurationSeconds", d,
                               "must be greater than 0"))
    t = spec.get("leaseTransitions")
    if t is not None and t < 0:
        errs.append(FieldError("Invalid", "spec.leaseTransitions", t,
                               "must be greater than or equal to 0"))


def _quota(obj, old, errs):
    for k, v in sorted(((obj.get("spec") or {}).get("hard") or {}).items()):
        if isinstance(v, str) and v.startswith("-"):
            errs.append(FieldError("Invalid", "spec.hard[%s]" % k, v,
                                   "must be greater than or equal to 0"))


def _namespace(obj, old, errs):
    for f in ((obj.get("spec") or {}).get("finalizers") or []):
        if "/" not in f and f != "kubernetes":
            errs.append(FieldError("Invalid", "spec.finalizers", f,
                                   "name is neither a standard finalizer name nor is it "
                                   "fully qualified"))


_KIND_RULES = {
    "ConfigMap": _configmap,
    "Secret": _secret,
    "Pod": _pod,
    "Role": _role,
    "ClusterRole": _cluster_role,
    "RoleBinding": lambda o, old, e: _binding(o, old, e, True),
    "ClusterRoleBinding": lambda o, old, e: _binding(o, old, e, False),
    "MutatingWebhookConfiguration": lambda o, old, e: _webhooks(o, old, e, True),
    "ValidatingWebhookConfiguration": lambda o, old, e: _webhooks(o, old, e, False),
    "Lease": _lease,
    "ResourceQuota": _quota,
    "Namespace": _namespace,
}


def validate(res, obj, old=None):
    errs = validate_metadata(res, obj.get("metadata") or {})
    rule = _KIND_RULES.get(res.kind)
    if rule:
        rule(obj, old, errs)
    return errs
