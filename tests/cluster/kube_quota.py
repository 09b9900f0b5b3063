"""ResourceQuota and LimitRange, as the built-in admission plugins and the
quota controller apply them: usage of a namespace, the usage one new object
adds, the "exceeded quota" / "must specify" rejections, and LimitRange
defaults for pod containers.
"""
import kube_quantity
import kube_resources as kr

PODS = kr.lookup("", "v1", "pods")
QUOTAS = kr.lookup("", "v1", "resourcequotas")
LIMITRANGES = kr.lookup("", "v1", "limitranges")

_COUNTED = {"configmaps": "configmaps", "secrets": "secrets",
            "services": "services", "persistentvolumeclaims": "persistentvolumeclaims",
            "resourcequotas": "resourcequotas"}
_COMPUTE = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu",
            "memory", "requests.ephemeral-storage", "limits.ephemeral-storage",
            "ephemeral-storage")


def _compute_key(key):
    """("requests", "cpu") for requests.cpu and for the bare cpu."""
    if key in ("cpu", "memory", "ephemeral-storage"):
        return "requests", key
    kind, _, res = key.partition(".")
    return kind, res


def _pod_active(p):
    return (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _is_best_effort(pod):
    for c in (pod.get("spec") or {}).get("containers") or []:
        r = c.get("resources") or {}
        if r.get("requests") or r.get("limits"):
            return False
    return True


def quota_matches(quota, pod):
    for scope in (quota.get("spec") or {}).get("scopes") or []:
        if scope == "BestEffort" and not _is_best_effort(pod):
            return False
        if scope == "NotBestEffort" and _is_best_effort(pod):
            return False
    return True


def object_usage(res, obj, keys):
    """{quota key: Decimal} that creating obj adds, for the keys a quota tracks."""
    out = {}
    plural = res.plural + ("." + res.group if res.group else "")
    for key in keys:
        if key == "count/" + plural or (not res.group and _COUNTED.get(key) == res.plural):
            out[key] = 1
        elif res is PODS and key == "pods":
            out[key] = 1
        elif res is PODS and key in _COMPUTE:
            kind, name = _compute_key(key)
            total = 0
            for c in (obj.get("spec") or {}).get("containers") or []:
                v = ((c.get("resources") or {}).get(kind) or {}).get(name)
                if v is not None:
                    total += kube_quantity.value_of(v)
            out[key] = total
    return out


def _format(key, value, like):
    if key.startswith("count/") or key in ("pods",) or key in _COUNTED:
        return str(int(value))
    fmt = kube_quantity.parse(like)[1] if like else "decimal"
    return kube_quantity.format_value(value, fmt) if value else "0"


def quota_usage(store, ns, hard):
    """status.used of a quota with these hard keys in namespace ns."""
    pods = [p for p in store.list(PODS, ns)[0] if _pod_active(p)]
    used = {}
    for key in hard:
        if key in ("pods", "count/pods"):
            used[key] = str(len(pods))
        elif key.startswith("count/") or key in _COUNTED:
            name = key.split("/", 1)[1] if key.startswith("count/") else key
            plural, _, group = name.partition(".")
            res = next((r for r in kr.RESOURCES if r.plural == plural and
                        r.group == group), None)
            used[key] = str(store.count(res, ns)) if res else "0"
        elif key in _COMPUTE:
            total = 0
            for p in pods:
                total += object_usage(PODS, p, [key])[key]
            used[key] = _format(key, total, hard[key])
        else:
            used[key] = "0"
    return used


def check(store, res, obj):
    """Error message if creating obj breaks a quota of its namespace, else None."""
    ns = obj["metadata"].get("namespace")
    if not ns:
        return None
    for q in store.list(QUOTAS, ns)[0]:
        hard = (q.get("spec") or {}).get("hard") or {}
        if not hard or (res is PODS and not quota_matches(q, obj)):
            continue
        qname = q["metadata"]["name"]
        if res is PODS:
            missing = []
            for key in sorted(hard):
                if key not in _COMPUTE:
                    continue
                kind, name = _compute_key(key)
                lacking = [c.get("name", "") for c in
                           (obj.get("spec") or {}).get("containers") or []
                           if name not in ((c.get("resources") or {}).get(kind) or {})]
                if lacking:
                    missing.append("%s for: %s" % (key, ",".join(lacking)))
            if missing:
                return "failed quota: %s: must specify %s" % (qname, "; ".join(missing))
        delta = object_usage(res, obj, hard)
        if not delta:
            continue
        used = quota_usage(store, ns, hard)
        over = []
        for key in sorted(delta):
            limit = kube_quantity.value_of(hard[key])
            now = kube_quantity.value_of(used.get(key, "0"))
            if now + delta[key] > limit:
                over.append(key)
        if over:
            return ("exceeded quota: %s, requested: %s, used: %s, limited: %s"
                    % (qname, ",".join("%s=%s" % (k, _format(k, delta[k], hard[k]))
                                       for k in over),
                       ",".join("%s=%s" % (k, used[k]) for k in over),
                       ",".join("%s=%s" % (k, hard[k]) for k in over)))
    return None


def apply_limit_ranges(store, pod):
    """LimitRanger: default requests/limits of containers from LimitRanges."""
    ns = pod["metadata"].get("namespace")
    for lr in store.list(LIMITRANGES, ns)[0]:
        for item in (lr.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            for fld in ("initContainers", "containers"):
                for c in (pod.get("spec") or {}).get(fld) or []:
                    r = c.setdefault("resources", {})
                    for src, dst in (("default", "limits"), ("defaultRequest", "requests")):
                        for k, v in (item.get(src) or {}).items():
                            if k not in (r.get(dst) or {}):
                                r.setdefault(dst, {})[k] = v
