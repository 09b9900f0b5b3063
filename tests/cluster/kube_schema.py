"""Field schemas of the built-in kinds, taken from Debian's python3-kubernetes
models (openapi_types / attribute_map) plus the fields added to Kubernetes
since that client was generated.

Used for: strict decoding (unknown fields -> 400 under fieldValidation=Strict,
dropped with a warning otherwise, like the real server), JSON type checks,
quantity canonicalisation, and the OpenAPI v3 component schemas.
"""
import base64
import binascii
import re

import kubernetes.client.models as _models

import kube_quantity

# Fields newer than the python client (type strings in the models' notation;
# "object" accepts any JSON value).
_EXTRA = {
    "V1PodSpec": {"os": "object", "hostUsers": "bool", "schedulingGates": "object",
                  "resourceClaims": "object", "resources": "V1ResourceRequirements"},
    "V1Container": {"resizePolicy": "object", "restartPolicy": "str"},
    "V1EphemeralContainer": {"resizePolicy": "object", "restartPolicy": "str"},
    "V1ResourceRequirements": {"claims": "object"},
    "V1Probe": {"grpc": "object"},
    "V1Handler": {"sleep": "object"},
    "V1PodSecurityContext": {"appArmorProfile": "object",
                             "supplementalGroupsPolicy": "str",
                             "seLinuxChangePolicy": "str"},
    "V1SecurityContext": {"appArmorProfile": "object"},
    "V1PodStatus": {"hostIPs": "object", "resize": "str",
                    "resourceClaimStatuses": "object", "observedGeneration": "int"},
    "V1ContainerStatus": {"allocatedResources": "object", "resources": "object",
                          "user": "object", "volumeMounts": "object",
                          "allocatedResourcesStatus": "object", "stopSignal": "str"},
    "V1MutatingWebhook": {"matchConditions": "object"},
    "V1ValidatingWebhook": {"matchConditions": "object"},
    "V1LeaseSpec": {"strategy": "str", "preferredHolder": "str"},
    "V1TopologySpreadConstraint": {"minDomains": "int", "nodeAffinityPolicy": "str",
                                   "nodeTaintsPolicy": "str",
                                   "matchLabelKeys": "list[str]"},
    "V1VolumeMount": {"recursiveReadOnly": "str"},
    "V1VolumeProjection": {"clusterTrustBundle": "object"},
    "V1Volume": {"image": "object"},
    "V1ResourceAttributes": {"fieldSelector": "object", "labelSelector": "object"},
    "V1NamespaceCondition": {"observedGeneration": "int"},
}
_REMOVED = {"V1ObjectMeta": {"clusterName"}}

# Quantity-valued fields (python models call them plain strings).
_QUANTITY_MAPS = {
    ("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests"),
    ("V1ResourceQuotaSpec", "hard"), ("V1ResourceQuotaStatus", "hard"),
    ("V1ResourceQuotaStatus", "used"), ("V1PodSpec", "overhead"),
    ("V1LimitRangeItem", "max"), ("V1LimitRangeItem", "min"),
    ("V1LimitRangeItem", "default"), ("V1LimitRangeItem", "defaultRequest"),
    ("V1LimitRangeItem", "maxLimitRequestRatio"),
}
_QUANTITY_SCALARS = {("V1EmptyDirVolumeSource", "sizeLimit")}
# []byte fields (base64 in JSON)
_BYTES_MAPS = {("V1Secret", "data"), ("V1ConfigMap", "binaryData")}
_BYTES_SCALARS = {("AdmissionregistrationV1WebhookClientConfig", "caBundle")}

_cache = {}


def fields(model):
    """json name -> type string for a model class name, or None if unknown."""
    if model in _cache:
        return _cache[model]
    cls = getattr(_models, model, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        _cache[model] = None
        return None
    out = {}
    for attr, typ in cls.openapi_types.items():
        name = cls.attribute_map[attr]
        if (model, name) in _QUANTITY_MAPS:
            typ = "dict(str, quantity)"
        elif (model, name) in _QUANTITY_SCALARS:
            typ = "quantity"
        elif (model, name) in _BYTES_MAPS:
            typ = "dict(str, bytes)"
        elif (model, name) in _BYTES_SCALARS:
            typ = "bytes"
        out[name] = typ
    for name in _REMOVED.get(model, ()):
        out.pop(name, None)
    out.update(_EXTRA.get(model, {}))
    _cache[model] = out
    return out


_LIST_RE = re.compile(r"^list\[(.*)\]$")
_DICT_RE = re.compile(r"^dict\(str, (.*)\)$")


def go_type(typ):
    m = _LIST_RE.match(typ)
    if m:
        return "[]" + go_type(m.group(1))
    m = _DICT_RE.match(typ)
    if m:
        return "map[string]" + go_type(m.group(1))
    return {"str": "string", "int": "int32", "bool": "bool", "datetime": "v1.Time",
            "object": "interface {}", "quantity": "resource.Quantity",
            "bytes": "[]uint8"}.get(typ, "v1." + re.sub(r"^(V1|V1alpha1|V1beta1|CoreV1|"
                                                     r"AdmissionregistrationV1|"
                                                     r"AuthenticationV1|RbacV1)", "", typ))


def struct_name(model):
    return re.sub(r"^(V1|CoreV1|AdmissionregistrationV1|AuthenticationV1|RbacV1)",
                  "", model)


def _json_kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class DecodeError(Exception):
    """A body that the real server could not decode (type mismatch, bad base64)."""


class Checker:
    """Walks an object against a model; collects unknown field paths and
    returns the pruned, normalised copy (quantities canonical)."""

    def __init__(self):
        self.unknown = []

    def walk(self, value, typ, path, parent_model, go_path):
        if value is None:
            return None
        m = _LIST_RE.match(typ)
        if m:
            if not isinstance(value, list):
                self._type_error(value, typ, parent_model, go_path)
            return [self.walk(v, m.group(1), "%s[%d]" % (path, i), parent_model,
                              go_path) for i, v in enumerate(value)]
        m = _DICT_RE.match(typ)
        if m:
            if not isinstance(value, dict):
                self._type_error(value, typ, parent_model, go_path)
            return {k: self.walk(v, m.group(1), "%s[%s]" % (path, k), parent_model,
                                 go_path) for k, v in value.items()}
        if typ == "object":
            return value
        if typ == "str":
            if not isinstance(value, str):
                self._type_error(value, typ, parent_model, go_path)
            return value
        if typ == "datetime":
            if not isinstance(value, str):
                self._type_error(value, typ, parent_model, go_path)
            return value
        if typ == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._type_error(value, typ, parent_model, go_path)
            if isinstance(value, float):
                if value != int(value):
                    raise DecodeError("json: cannot unmarshal number %s into Go struct "
                                      "field %s.%s of type int32"
                                      % (value, struct_name(parent_model), go_path))
                value = int(value)
            return value
        if typ == "bool":
            if not isinstance(value, bool):
                self._type_error(value, typ, parent_model, go_path)
            return value
        if typ == "quantity":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self._type_error(value, "str", parent_model, go_path)
            try:
                return kube_quantity.canonical(value)
            except kube_quantity.QuantityError as e:
                raise DecodeError(str(e))
        if typ == "bytes":
            if not isinstance(value, str):
                self._type_error(value, "str", parent_model, go_path)
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise DecodeError("illegal base64 data at input byte %d"
                                  % _bad_b64_offset(value))
            return value
        spec = fields(typ)
        if spec is None:
            return value
        if not isinstance(value, dict):
            self._type_error(value, typ, parent_model, go_path)
        out = {}
        for k, v in value.items():
            sub = "%s.%s" % (path, k) if path else k
            gsub = "%s.%s" % (go_path, k) if go_path else k
            if k not in spec:
                self.unknown.append(sub)
                continue
            out[k] = self.walk(v, spec[k], sub, typ, gsub)
        return out

    def _type_error(self, value, typ, parent_model, go_path):
        raise DecodeError("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                          % (_json_kind(value), struct_name(parent_model or "Object"),
                             go_path, go_type(typ)))


def _bad_b64_offset(text):
    for i, ch in enumerate(text):
        if not (ch.isalnum() or ch in "+/="):
            return i
    return len(text)


def check(obj, model):
    """Return (pruned object, [unknown field paths]); raises DecodeError.

    model None (custom resources without schema) checks only metadata."""
    c = Checker()
    if model is None:
        out = dict(obj)
        if isinstance(obj.get("metadata"), dict):
            md = c.walk(obj["metadata"], "V1ObjectMeta", "metadata", "ObjectMeta",
                        "metadata")
            out["metadata"] = md
        elif obj.get("metadata") is not None:
            c._type_error(obj["metadata"], "V1ObjectMeta", "Object", "metadata")
        return out, c.unknown
    out = c.walk(obj, model, "", model, "")
    return out, c.unknown


# ---- OpenAPI v3 component schemas ------------------------------------------

def schema_name(model):
    """Component name for a model, in the style of the real documents."""
    base = struct_name(model)
    if model in ("V1ObjectMeta", "V1ManagedFieldsEntry", "V1OwnerReference",
                 "V1LabelSelector", "V1LabelSelectorRequirement", "V1ListMeta",
                 "V1Status", "V1StatusDetails", "V1StatusCause",
                 "V1DeleteOptions", "V1Preconditions"):
        return "io.k8s.apimachinery.pkg.apis.meta.v1." + base
    return "io.k8s.api.emulated.v1." + base


def openapi_schema(typ, components, patch_meta=None):
    """OpenAPI v3 schema for a type string; fills `components` with models."""
    m = _LIST_RE.match(typ)
    if m:
        return {"type": "array", "items": openapi_schema(m.group(1), components)}
    m = _DICT_RE.match(typ)
    if m:
        return {"type": "object",
                "additionalProperties": openapi_schema(m.group(1), components)}
    simple = {"str": {"type": "string"}, "int": {"type": "integer", "format": "int32"},
              "bool": {"type": "boolean"},
              "datetime": {"type": "string", "format": "date-time"},
              "quantity": {"type": "string"},
              "bytes": {"type": "string", "format": "byte"},
              "object": {"type": "object"}}
    if typ in simple:
        return dict(simple[typ])
    spec = fields(typ)
    if spec is None:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    name = schema_name(typ)
    if name not in components:
        components[name] = {}  # placeholder against recursion
        props = {k: openapi_schema(t, components) for k, t in sorted(spec.items())}
        components[name] = {"type": "object", "properties": props}
    return {"$ref": "#/components/schemas/" + name}
