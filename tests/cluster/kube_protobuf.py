"""Decoding of Kubernetes protobuf request bodies (what kubectl's typed
generator commands such as `kubectl create namespace|configmap|secret|
serviceaccount|quota|role|rolebinding|token` send) into the JSON form.

Body = magic b"k8s\\0" + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2},
raw=2, contentEncoding=3, contentType=4}; raw is the object's message. Field
numbers are those of k8s.io/api's generated.proto files.
"""
import base64
import datetime

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(buf, i):
    shift = 0
    value = 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def fields(buf):
    """Yield (field number, wire type, value) of one message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtobufError("truncated field %d" % num)
            v = buf[i:i + n]
            i += n
        elif wt == 1:
            v = buf[i:i + 8]
            i += 8
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ProtobufError("unsupported wire type %d" % wt)
        yield num, wt, v


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


# Schema: message -> {field number: (json name, type, repeated)}; type is one of
# str, bytes, int, bool, Time, Quantity, IntOrString, map:<value type>, or a
# message name.
S, B, I, BO = "str", "bytes", "int", "bool"
SCHEMAS = {
    "TypeMeta": {1: ("apiVersion", S, 0), 2: ("kind", S, 0)},
    "Unknown": {1: ("typeMeta", "TypeMeta", 0), 2: ("raw", "rawbytes", 0),
                3: ("contentEncoding", S, 0), 4: ("contentType", S, 0)},
    "ObjectMeta": {1: ("name", S, 0), 2: ("generateName", S, 0),
                   3: ("namespace", S, 0), 4: ("selfLink", S, 0), 5: ("uid", S, 0),
                   6: ("resourceVersion", S, 0), 7: ("generation", I, 0),
                   8: ("creationTimestamp", "Time", 0),
                   9: ("deletionTimestamp", "Time", 0),
                   10: ("deletionGracePeriodSeconds", I, 0),
                   11: ("labels", "map:str", 0), 12: ("annotations", "map:str", 0),
                   13: ("ownerReferences", "OwnerReference", 1),
                   14: ("finalizers", S, 1)},
    "OwnerReference": {1: ("kind", S, 0), 3: ("name", S, 0), 4: ("uid", S, 0),
                       5: ("apiVersion", S, 0), 6: ("controller", BO, 0),
                       7: ("blockOwnerDeletion", BO, 0)},
    "LabelSelector": {1: ("matchLabels", "map:str", 0),
                      2: ("matchExpressions", "LabelSelectorRequirement", 1)},
    "LabelSelectorRequirement": {1: ("key", S, 0), 2: ("operator", S, 0),
                                 3: ("values", S, 1)},
    "ObjectReference": {1: ("kind", S, 0), 2: ("namespace", S, 0), 3: ("name", S, 0),
                        4: ("uid", S, 0), 5: ("apiVersion", S, 0),
                        6: ("resourceVersion", S, 0), 7: ("fieldPath", S, 0)},
    "LocalObjectReference": {1: ("name", S, 0)},
    "Namespace": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "NamespaceSpec", 0),
                  3: ("status", "NamespaceStatus", 0)},
    "NamespaceSpec": {1: ("finalizers", S, 1)},
    "NamespaceStatus": {1: ("phase", S, 0)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", 0), 2: ("data", "map:str", 0),
                  3: ("binaryData", "map:bytes", 0), 4: ("immutable", BO, 0)},
    "Secret": {1: ("metadata", "ObjectMeta", 0), 2: ("data", "map:bytes", 0),
               3: ("type", S, 0), 4: ("stringData", "map:str", 0),
               5: ("immutable", BO, 0)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", 0),
                       2: ("secrets", "ObjectReference", 1),
                       3: ("imagePullSecrets", "LocalObjectReference", 1),
                       4: ("automountServiceAccountToken", BO, 0)},
    "ResourceQuota": {1: ("metadata", "ObjectMeta", 0),
                      2: ("spec", "ResourceQuotaSpec", 0),
                      3: ("status", "ResourceQuotaStatus", 0)},
    "ResourceQuotaSpec": {1: ("hard", "map:Quantity", 0), 2: ("scopes", S, 1),
                          3: ("scopeSelector", "ScopeSelector", 0)},
    "ResourceQuotaStatus": {1: ("hard", "map:Quantity", 0),
                            2: ("used", "map:Quantity", 0)},
    "ScopeSelector": {1: ("matchExpressions", "ScopedResourceSelectorRequirement", 1)},
    "ScopedResourceSelectorRequirement": {1: ("scopeName", S, 0),
                                          2: ("operator", S, 0), 3: ("values", S, 1)},
    "PolicyRule": {1: ("verbs", S, 1), 2: ("apiGroups", S, 1), 3: ("resources", S, 1),
                   4: ("resourceNames", S, 1), 5: ("nonResourceURLs", S, 1)},
    "Role": {1: ("metadata", "ObjectMeta", 0), 2: ("rules", "PolicyRule", 1)},
    "ClusterRole": {1: ("metadata", "ObjectMeta", 0), 2: ("rules", "PolicyRule", 1),
                    3: ("aggregationRule", "AggregationRule", 0)},
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", 1)},
    "Subject": {1: ("kind", S, 0), 2: ("apiGroup", S, 0), 3: ("name", S, 0),
                4: ("namespace", S, 0)},
    "RoleRef": {1: ("apiGroup", S, 0), 2: ("kind", S, 0), 3: ("name", S, 0)},
    "RoleBinding": {1: ("metadata", "ObjectMeta", 0), 2: ("subjects", "Subject", 1),
                    3: ("roleRef", "RoleRef", 0)},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta", 0),
                           2: ("subjects", "Subject", 1), 3: ("roleRef", "RoleRef", 0)},
    "TokenRequest": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenRequestSpec", 0)},
    "TokenRequestSpec": {1: ("audiences", S, 1), 4: ("expirationSeconds", I, 0),
                         3: ("boundObjectRef", "BoundObjectReference", 0)},
    "BoundObjectReference": {1: ("kind", S, 0), 2: ("apiVersion", S, 0),
                             3: ("name", S, 0), 4: ("uid", S, 0)},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", 0),
                                2: ("spec", "SelfSubjectAccessReviewSpec", 0)},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", 0),
                                    2: ("nonResourceAttributes",
                                        "NonResourceAttributes", 0)},
    "ResourceAttributes": {1: ("namespace", S, 0), 2: ("verb", S, 0), 3: ("group", S, 0),
                           4: ("version", S, 0), 5: ("resource", S, 0),
                           6: ("subresource", S, 0), 7: ("name", S, 0)},
    "NonResourceAttributes": {1: ("path", S, 0), 2: ("verb", S, 0)},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta", 0),
                            2: ("spec", "SubjectAccessReviewSpec", 0)},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", 0),
                                2: ("nonResourceAttributes", "NonResourceAttributes", 0),
                                3: ("user", S, 0), 4: ("groups", S, 1),
                                6: ("uid", S, 0)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", 0)},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", 0),
                               2: ("spec", "SelfSubjectRulesReviewSpec", 0)},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", S, 0)},
}

# kind -> message name of the top-level object
KINDS = {k: k for k in ("Namespace", "ConfigMap", "Secret", "ServiceAccount",
                        "ResourceQuota", "Role", "ClusterRole", "RoleBinding",
                        "ClusterRoleBinding", "TokenRequest", "SelfSubjectAccessReview",
                        "SubjectAccessReview", "SelfSubjectReview",
                        "SelfSubjectRulesReview")}


def _time(buf):
    seconds = nanos = 0
    for num, _, v in fields(buf):
        if num == 1:
            seconds = _signed(v)
        elif num == 2:
            nanos = v
    if seconds == 0 and nanos == 0:
        return None
    t = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _quantity(buf):
    for num, _, v in fields(buf):
        if num == 1:
            return v.decode()
    return "0"


def _scalar(typ, wt, v):
    if typ == S:
        return v.decode("utf-8")
    if typ == B:
        return base64.b64encode(v).decode()
    if typ == "rawbytes":
        return bytes(v)
    if typ == I:
        return _signed(v)
    if typ == BO:
        return bool(v)
    if typ == "Time":
        return _time(v)
    if typ == "Quantity":
        return _quantity(v)
    return decode_message(typ, v)


def _map_entry(buf, vtype):
    key, value = "", None
    for num, wt, v in fields(buf):
        if num == 1:
            key = v.decode("utf-8")
        elif num == 2:
            value = _scalar(vtype, wt, v)
    if value is None:
        value = "" if vtype in (S, B, "Quantity") else value
    return key, value


# Optional pointer fields, where false/0 is a value that must be kept.
_POINTER_FIELDS = {"immutable", "automountServiceAccountToken", "controller",
                   "blockOwnerDeletion", "deletionGracePeriodSeconds",
                   "expirationSeconds"}


def decode_message(name, buf):
    schema = SCHEMAS[name]
    out = {}
    for num, wt, v in fields(buf):
        if num not in schema:
            continue  # fields the emulator does not need
        jname, typ, repeated = schema[num]
        if typ.startswith("map:"):
            k, val = _map_entry(v, typ[4:])
            out.setdefault(jname, {})[k] = val
            continue
        if repeated and wt == 2 and typ in (I, BO):
            i = 0
            while i < len(v):  # packed
                x, i = _varint(v, i)
                out.setdefault(jname, []).append(_scalar(typ, 0, x))
            continue
        val = _scalar(typ, wt, v)
        if not repeated and isinstance(val, (str, int)) and not val and \
                jname not in _POINTER_FIELDS:
            continue  # Go omits zero values (omitempty) of non-pointer fields
        if repeated:
            out.setdefault(jname, []).append(val)
        elif val is not None:
            out[jname] = val
    return out


def decode_body(body):
    """Return (apiVersion, kind, object dict) from a protobuf request body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("provided data does not appear to be a protobuf message, "
                            "expected prefix [107 56 115 0]")
    unknown = decode_message("Unknown", body[len(MAGIC):])
    tm = unknown.get("typeMeta") or {}
    kind = tm.get("kind", "")
    api_version = tm.get("apiVersion", "")
    if kind not in KINDS:
        raise ProtobufError("no kind %r is registered for protobuf decoding" % kind)
    obj = decode_message(KINDS[kind], unknown.get("raw") or b"")
    out = {"kind": kind, "apiVersion": api_version}
    out.update(obj)
    return api_version, kind, out
