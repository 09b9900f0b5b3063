"""PATCH bodies: JSON Patch (python3-jsonpatch), JSON merge patch (RFC 7386),
and the strategic merge patch subset kubectl needs (label, annotate, client-side
apply): merge keys for the built-in lists, $patch replace/delete,
$setElementOrder, $deleteFromPrimitiveList, $retainKeys.
"""
import copy

import jsonpatch

from kube_errors import ApiError, bad_request

# patchMergeKey of the built-in lists this project meets (by field name).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "ports": "containerPort",
    "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "secrets": "name", "ownerReferences": "uid",
    "conditions": "type", "hostAliases": "ip", "topologySpreadConstraints":
    "topologyKey", "resourceClaims": "name", "webhooks": "name",
    "schedulingGates": "name", "resizePolicy": "resourceName", "podIPs": "ip",
}
# primitive lists with patchStrategy merge
MERGE_PRIMITIVES = {"finalizers"}

_DIRECTIVE = "$patch"
_ORDER = "$setElementOrder/"
_DELETE_PRIM = "$deleteFromPrimitiveList/"
_RETAIN = "$retainKeys"


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(target, patch):
    if not isinstance(patch, list):
        raise bad_request("json: cannot unmarshal object into Go value of type "
                          "jsonpatch.Patch")
    try:
        return jsonpatch.apply_patch(target, patch)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException,
            KeyError, IndexError, TypeError, ValueError) as e:
        raise ApiError(422, "Invalid",
                       "the server rejected our request due to an error in our request",
                       {"causes": [{"reason": "UnexpectedServerResponse",
                                    "message": str(e)}]})


def _strip(value):
    """A patch value with its directives removed (for newly added content)."""
    if isinstance(value, dict):
        if value.get(_DIRECTIVE) == "delete":
            return None
        return {k: _strip(v) for k, v in value.items()
                if k != _DIRECTIVE and k != _RETAIN and not k.startswith(_ORDER)
                and not k.startswith(_DELETE_PRIM)}
    if isinstance(value, list):
        return [_strip(v) for v in value
                if not (isinstance(v, dict) and _DIRECTIVE in v)]
    return value


def _merge_list(field, orig, patch):
    key = MERGE_KEYS.get(field)
    if any(isinstance(p, dict) and p.get(_DIRECTIVE) == "replace" for p in patch):
        return [_strip(p) for p in patch
                if not (isinstance(p, dict) and p.get(_DIRECTIVE) == "replace")]
    if key is None:
        if field in MERGE_PRIMITIVES:
            out = list(orig)
            for v in patch:
                if v not in out:
                    out.append(v)
            return out
        return _strip(patch)
    out = [copy.deepcopy(o) for o in orig]
    for item in patch:
        if not isinstance(item, dict):
            continue
        kv = item.get(key)
        idx = next((i for i, o in enumerate(out)
                    if isinstance(o, dict) and o.get(key) == kv), None)
        if item.get(_DIRECTIVE) == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_strip(item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


def _apply_order(lst, order, key):
    def ident(v):
        return v.get(key) if key and isinstance(v, dict) else v
    pos = {}
    for i, o in enumerate(order):
        ident_o = o.get(key) if key and isinstance(o, dict) else o
        pos[repr(ident_o)] = i
    ordered = sorted((v for v in lst if repr(ident(v)) in pos),
                     key=lambda v: pos[repr(ident(v))])
    rest = [v for v in lst if repr(ident(v)) not in pos]
    return ordered + rest


def strategic_merge(orig, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(orig, dict):
        orig = {}
    directive = patch.get(_DIRECTIVE)
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise bad_request("Unknown patch type: %s" % directive)
    out = dict(orig)
    if _RETAIN in patch:
        keep = set(patch[_RETAIN] or [])
        out = {k: v for k, v in out.items() if k in keep}
    orders = {}
    for k, v in patch.items():
        if k in (_DIRECTIVE, _RETAIN):
            continue
        if k.startswith(_ORDER):
            orders[k[len(_ORDER):]] = v or []
            continue
        if k.startswith(_DELETE_PRIM):
            fld = k[len(_DELETE_PRIM):]
            if isinstance(out.get(fld), list):
                out[fld] = [x for x in out[fld] if x not in (v or [])]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            merged = strategic_merge(out[k], v)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = _merge_list(k, out[k], v)
        else:
            stripped = _strip(v)
            if stripped is None:
                out.pop(k, None)
            else:
                out[k] = stripped
    for fld, order in orders.items():
        if isinstance(out.get(fld), list):
            out[fld] = _apply_order(out[fld], order, MERGE_KEYS.get(fld))
    return out


PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply-cbor",
}


def apply(kind_registered, patch_type, target, patch):
    """Apply a decoded patch body to a JSON object, by patch type."""
    if patch_type == "json":
        return json_patch(target, patch)
    if not isinstance(patch, dict):
        raise bad_request("json: cannot unmarshal %s into Go value of type "
                          "map[string]interface {}" % type(patch).__name__)
    if patch_type == "merge":
        return merge_patch(target, patch)
    if patch_type == "strategic":
        if not kind_registered:
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted "
                           "media types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml",
                           {})
        return strategic_merge(target, patch)
    raise bad_request("unsupported patch type")
