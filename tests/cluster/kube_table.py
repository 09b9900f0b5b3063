"""Server-side printing: meta.k8s.io Table responses (what `kubectl get` asks
for with Accept: application/json;as=Table;v=v1;g=meta.k8s.io), with the
columns of the real server's printers for the kinds served here.
"""
import datetime


def parse_time(ts):
    if not ts:
        return None
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def human_duration(seconds):
    """duration.HumanDuration of apimachinery."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return "%dm" % minutes if sec == 0 else "%dm%ds" % (minutes, sec)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        y = hours // 24 // 365
        return "%dy" % y if dy == 0 else "%dy%dd" % (y, dy)
    return "%dy" % (hours // 24 // 365)


def age(obj):
    t = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    if t is None:
        return "<unknown>"
    now = datetime.datetime.now(datetime.timezone.utc)
    return human_duration((now - t).total_seconds())


def _col(name, typ="string", fmt="", desc="", priority=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc,
            "priority": priority}


NAME = _col("Name", fmt="name", desc="Name must be unique within a namespace. Is "
            "required when creating resources, although some resources may allow a "
            "client to request the generation of an appropriate name automatically. "
            "Name is primarily intended for creation idempotence and configuration "
            "definition. Cannot be updated. More info: https://kubernetes.io/docs/"
            "concepts/overview/working-with-objects/names#names")
AGE = _col("Age", desc="CreationTimestamp is a timestamp representing the server time "
           "when this object was created. It is not guaranteed to be set in "
           "happens-before order across separate operations. Clients may not set this "
           "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
           "system. Read-only. Null for lists. More info: https://git.k8s.io/community/"
           "contributors/devel/sig-architecture/api-conventions.md#metadata")


def _name(o):
    return o["metadata"]["name"]


def _none(v):
    return v if v else "<none>"


def _pod_cells(o):
    spec, status = o.get("spec") or {}, o.get("status") or {}
    total = len(spec.get("containers") or [])
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in statuses)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    if o["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    return [_name(o), "%d/%d" % (ready, total), reason, restarts, age(o),
            _none(status.get("podIP")), _none(spec.get("nodeName")),
            _none(status.get("nominatedNodeName")),
            "<none>" if not gates else "0/%d" % len(gates)]


def _quota_cells(o):
    hard = (o.get("status") or {}).get("hard") or (o.get("spec") or {}).get("hard") or {}
    used = (o.get("status") or {}).get("used") or {}
    req, lim = [], []
    for k in sorted(hard):
        entry = "%s: %s/%s" % (k, used.get(k, "0"), hard[k])
        (lim if k.startswith("limits.") else req).append(entry)
    return [_name(o), age(o), ", ".join(req), ", ".join(lim)]


def _subjects(o, kind):
    out = []
    for s in o.get("subjects") or []:
        if s.get("kind") == kind:
            if kind == "ServiceAccount":
                out.append("%s/%s" % (s.get("namespace") or "", s.get("name")))
            else:
                out.append(s.get("name"))
    return ", ".join(out)


def _binding_cells(o):
    ref = o.get("roleRef") or {}
    return [_name(o), "%s/%s" % (ref.get("kind"), ref.get("name")), age(o),
            _subjects(o, "User"), _subjects(o, "Group"), _subjects(o, "ServiceAccount")]


def _selector_string(sel):
    if not sel:
        return "<none>"
    parts = ["%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        if op == "In":
            parts.append("%s in (%s)" % (e["key"], ",".join(e.get("values") or [])))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (e["key"], ",".join(e.get("values") or [])))
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts) or "<none>"


def _created_at(o):
    return o["metadata"].get("creationTimestamp") or ""


def _event_cells(o):
    ref = o.get("involvedObject") or {}
    last = o.get("lastTimestamp") or o.get("eventTime") or \
        o["metadata"].get("creationTimestamp")
    t = parse_time(last[:19] + "Z" if last and len(last) > 20 else last)
    seen = human_duration((datetime.datetime.now(datetime.timezone.utc) - t)
                          .total_seconds()) if t else "<unknown>"
    return [seen, o.get("type") or "", o.get("reason") or "",
            "%s/%s" % ((ref.get("kind") or "").lower(), ref.get("name") or ""),
            o.get("message") or "", (o.get("source") or {}).get("component") or "",
            "", "", 1, _name(o)]


TABLES = {
    "Namespace": ([NAME, _col("Status", desc="The status of the namespace"), AGE],
                  lambda o: [_name(o), (o.get("status") or {}).get("phase", ""), age(o)]),
    "ConfigMap": ([NAME, _col("Data", "integer"), AGE],
                  lambda o: [_name(o), len(o.get("data") or {}) +
                             len(o.get("binaryData") or {}), age(o)]),
    "Secret": ([NAME, _col("Type"), _col("Data", "integer"), AGE],
               lambda o: [_name(o), o.get("type") or "Opaque",
                          len(o.get("data") or {}), age(o)]),
    "ServiceAccount": ([NAME, _col("Secrets", "integer"), AGE],
                       lambda o: [_name(o), len(o.get("secrets") or []), age(o)]),
    "ResourceQuota": ([NAME, AGE, _col("Request"), _col("Limit")], _quota_cells),
    "LimitRange": ([NAME, _col("Created At", "date")],
                   lambda o: [_name(o), _created_at(o)]),
    "Pod": ([NAME, _col("Ready"), _col("Status"), _col("Restarts", "string"), AGE,
             _col("IP", priority=1), _col("Node", priority=1),
             _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
            _pod_cells),
    "Event": ([_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"),
               _col("Message"), _col("Source", priority=1),
               _col("Subobject", priority=1), _col("First Seen", priority=1),
               _col("Count", "integer", priority=1), _col("Name", priority=1)],
              _event_cells),
    "Role": ([NAME, _col("Created At", "date")], lambda o: [_name(o), _created_at(o)]),
    "ClusterRole": ([NAME, _col("Created At", "date")],
                    lambda o: [_name(o), _created_at(o)]),
    "RoleBinding": ([NAME, _col("Role"), AGE, _col("Users", priority=1),
                     _col("Groups", priority=1), _col("ServiceAccounts", priority=1)],
                    _binding_cells),
    "ClusterRoleBinding": ([NAME, _col("Role"), AGE, _col("Users", priority=1),
                            _col("Groups", priority=1),
                            _col("ServiceAccounts", priority=1)], _binding_cells),
    "NetworkPolicy": ([NAME, _col("Pod-Selector"), AGE],
                      lambda o: [_name(o), _selector_string(
                          (o.get("spec") or {}).get("podSelector")), age(o)]),
    "Lease": ([NAME, _col("Holder"), AGE],
              lambda o: [_name(o), (o.get("spec") or {}).get("holderIdentity") or "",
                         age(o)]),
    "MutatingWebhookConfiguration": ([NAME, _col("Webhooks", "integer"), AGE],
                                     lambda o: [_name(o), len(o.get("webhooks") or []),
                                                age(o)]),
    "ValidatingWebhookConfiguration": ([NAME, _col("Webhooks", "integer"), AGE],
                                       lambda o: [_name(o),
                                                  len(o.get("webhooks") or []), age(o)]),
}
DEFAULT = ([NAME, AGE], lambda o: [_name(o), age(o)])


def partial_metadata(obj, api_version="meta.k8s.io/v1"):
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version,
            "metadata": obj.get("metadata") or {}}


def table(res, objs, list_meta, include_object="Metadata", api_version="meta.k8s.io/v1"):
    cols, cells = TABLES.get(res.kind, DEFAULT)
    rows = []
    for o in objs:
        if include_object == "Object":
            ro = o
        elif include_object == "None":
            ro = None
        else:
            ro = partial_metadata(o, api_version)
        row = {"cells": cells(o), "object": ro}
        rows.append(row)
    return {"kind": "Table", "apiVersion": api_version, "metadata": list_meta,
            "columnDefinitions": cols, "rows": rows}
