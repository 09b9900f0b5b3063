"""Defaulting and the built-in admission steps that run before webhooks
(SetDefaults_* at decode time, the ServiceAccount and DefaultTolerationSeconds
plugins for pods), and the strategy steps of PrepareForCreate/Update.
"""
import copy
import secrets

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(n=5):
    return "".join(secrets.choice(_NAME_CHARS) for _ in range(n))


def decode_defaults(res, obj):
    """Defaults applied when a body is decoded (before admission)."""
    kind = res.kind
    md = obj.setdefault("metadata", {})
    if "creationTimestamp" not in md:
        md["creationTimestamp"] = None
    if kind == "Namespace":
        obj.setdefault("spec", {})
        obj.setdefault("status", {})
        if md.get("name"):
            labels = dict(md.get("labels") or {})
            labels["kubernetes.io/metadata.name"] = md["name"]
            md["labels"] = labels
    elif kind == "Secret":
        if not obj.get("type"):
            obj["type"] = "Opaque"
    elif kind in ("ResourceQuota",):
        obj.setdefault("spec", {})
        obj.setdefault("status", {})
    elif kind in ("Lease", "NetworkPolicy", "LimitRange"):
        obj.setdefault("spec", {})
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        for s in obj.get("subjects") or []:
            if s.get("kind") in ("User", "Group") and not s.get("apiGroup"):
                s["apiGroup"] = "rbac.authorization.k8s.io"
    elif kind in ("Role", "ClusterRole"):
        if "rules" not in obj:
            obj["rules"] = None
    elif kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for w in obj.get("webhooks") or []:
            w.setdefault("failurePolicy", "Fail")
            w.setdefault("matchPolicy", "Equivalent")
            w.setdefault("namespaceSelector", {})
            w.setdefault("objectSelector", {})
            w.setdefault("timeoutSeconds", 10)
            if kind == "MutatingWebhookConfiguration":
                w.setdefault("reinvocationPolicy", "Never")
            for r in w.get("rules") or []:
                r.setdefault("scope", "*")
            svc = (w.get("clientConfig") or {}).get("service")
            if isinstance(svc, dict):
                svc.setdefault("port", 443)
    if kind == "NetworkPolicy":
        spec = obj["spec"]
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        for fld in ("ingress", "egress"):
            for rule in spec.get(fld) or []:
                for p in rule.get("ports") or []:
                    p.setdefault("protocol", "TCP")
    if kind == "Pod":
        _pod_defaults(obj)
    return obj


def _image_pull_policy(image):
    ref = (image or "").split("@")[0]
    last = ref.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if "@" in (image or ""):
        return "IfNotPresent"
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _pod_defaults(obj):
    spec = obj.setdefault("spec", {})
    obj.setdefault("status", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for fld in ("initContainers", "containers"):
        for c in spec.get(fld) or []:
            r = c.setdefault("resources", {})
            # requests default to the limits
            for k, v in (r.get("limits") or {}).items():
                if k not in (r.get("requests") or {}):
                    r.setdefault("requests", {})[k] = v
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", _image_pull_policy(c.get("image")))
            for p in c.get("ports") or []:
                p.setdefault("protocol", "TCP")
            for e in c.get("env") or []:
                vf = e.get("valueFrom") or {}
                if "fieldRef" in vf:
                    vf["fieldRef"].setdefault("apiVersion", "v1")


def builtin_pod_admission(obj, sa_exists):
    """ServiceAccount and DefaultTolerationSeconds admission for a new pod.

    Returns an error message if the service account does not exist."""
    spec = obj["spec"]
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = sa
    spec["serviceAccount"] = sa
    if not sa_exists(sa):
        return 'error looking up service account %s/%s: serviceaccount "%s" not found' \
            % (obj["metadata"].get("namespace"), sa, sa)
    if spec.get("automountServiceAccountToken") is not False:
        vol = "kube-api-access-" + random_suffix()
        if not any((v.get("projected") or {}).get("sources") and
                   v.get("name", "").startswith("kube-api-access-")
                   for v in spec.get("volumes") or []):
            spec.setdefault("volumes", []).append({
                "name": vol,
                "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607,
                                             "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})
            for fld in ("initContainers", "containers"):
                for c in spec.get(fld) or []:
                    c.setdefault("volumeMounts", []).append({
                        "name": vol, "readOnly": True,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    tols = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tols):
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300})
    return None


def prepare_for_create(res, obj):
    """Strategy PrepareForCreate: status owned by the server, generation."""
    kind = res.kind
    if kind == "Namespace":
        obj["spec"] = dict(obj.get("spec") or {})
        if not obj["spec"].get("finalizers"):
            obj["spec"]["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}
        labels = dict(obj["metadata"].get("labels") or {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj["metadata"]["labels"] = labels
    elif kind == "Pod":
        qos = _qos_class(obj["spec"])
        obj["status"] = {"phase": "Pending", "qosClass": qos}
    elif kind == "ResourceQuota":
        obj["status"] = {}
    if res.has_generation:
        obj["metadata"]["generation"] = 1


def prepare_for_update(res, obj, old):
    """Strategy PrepareForUpdate: keep status (main resource) and bump
    generation when the spec changes."""
    if res.status_fields:
        for f in res.status_fields:
            if f in old:
                obj[f] = old[f]
            else:
                obj.pop(f, None)
    if res.kind == "Namespace":
        # spec.finalizers change only through the finalize subresource
        obj["spec"] = dict(obj.get("spec") or {})
        if (old.get("spec") or {}).get("finalizers") is not None:
            obj["spec"]["finalizers"] = old["spec"]["finalizers"]
        labels = dict(obj["metadata"].get("labels") or {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj["metadata"]["labels"] = labels
    if res.has_generation:
        gen = old["metadata"].get("generation", 1)
        a = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        b = {k: v for k, v in old.items() if k not in ("metadata", "status")}
        obj["metadata"]["generation"] = gen + 1 if a != b else gen


def prepare_for_subresource_update(res, sub, obj, old):
    """Strategy PrepareForUpdate of the status and finalize subresources: the
    request keeps its part (status; spec for namespaces/finalize) and its
    metadata, everything else is the stored object's. Metadata changes are
    kept as kube-apiserver keeps them (namespaceStatusStrategy,
    podStatusStrategy, resourcequotaStatusStrategy reset only the spec), so
    labels and annotations can change through these subresources; a pod's
    ownerReferences cannot (podStatusStrategy), and a pod status without a
    qosClass keeps the stored one."""
    own = ("spec",) if sub == "finalize" else res.status_fields
    for k in set(old) | set(obj):
        if k in ("kind", "apiVersion", "metadata") or k in own:
            continue
        if k in old:
            obj[k] = copy.deepcopy(old[k])
        else:
            obj.pop(k, None)
    if res.kind == "Pod" and sub == "status":
        if "ownerReferences" in old["metadata"]:
            obj["metadata"]["ownerReferences"] = copy.deepcopy(old["metadata"]["ownerReferences"])
        else:
            obj["metadata"].pop("ownerReferences", None)
        qos = (old.get("status") or {}).get("qosClass")
        if qos and not (obj.get("status") or {}).get("qosClass"):
            obj["status"] = dict(obj.get("status") or {}, qosClass=qos)


def _qos_class(spec):
    req_any = lim_all = False
    all_guaranteed = True
    for c in spec.get("containers") or []:
        r = c.get("resources") or {}
        req, lim = r.get("requests") or {}, r.get("limits") or {}
        if req or lim:
            req_any = True
        for k in ("cpu", "memory"):
            if k not in lim or (k in req and req[k] != lim[k]):
                all_guaranteed = False
        lim_all = True
    if not req_any:
        return "BestEffort"
    return "Guaranteed" if all_guaranteed and lim_all else "Burstable"


def generate_name(prefix):
    return prefix + random_suffix()

