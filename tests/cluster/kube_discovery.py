"""Discovery documents (legacy /api, /apis, /apis/<g>/<v> and the aggregated
apidiscovery.k8s.io/v2 form kubectl 1.32 asks for first), /version, and the
OpenAPI v3 root and per group-version documents. The v3 documents carry, for
each kind, a PATCH operation with x-kubernetes-action, the group-version-kind
and a fieldValidation parameter, so kubectl's default --validate=strict leaves
validation to the server (and sends fieldValidation=Strict).
"""
import hashlib
import json

import kube_resources as kr
import kube_schema

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4",
           "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
           "gitTreeState": "clean", "buildDate": "2025-04-22T15:56:42Z",
           "goVersion": "go1.23.6", "compiler": "gc", "platform": "linux/amd64"}

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = ("application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                      "as=APIGroupDiscoveryList")


def _hash(text):
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _resource_entries(group, version):
    out = []
    for r in kr.resources_in(group, version):
        e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
             "kind": r.kind, "verbs": sorted(r.verbs)}
        if r.short_names:
            e["shortNames"] = r.short_names
        if r.categories:
            e["categories"] = r.categories
        e["storageVersionHash"] = _hash(r.group_resource)
        out.append(e)
        for sub, (kind, verbs) in r.subresources.items():
            e = {"name": "%s/%s" % (r.plural, sub), "singularName": r.singular,
                 "namespaced": r.namespaced, "kind": kind, "verbs": sorted(verbs)}
            if sub == "token":
                e["group"], e["version"] = "authentication.k8s.io", "v1"
            out.append(e)
    return out


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _group_entry(group):
    versions = [{"groupVersion": "%s/%s" % (g, v), "version": v}
                for g, v in kr.GROUP_VERSIONS if g == group]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_groups():
    groups = []
    for g, _ in kr.GROUP_VERSIONS:
        if g and all(x["name"] != g for x in groups):
            groups.append(_group_entry(g))
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group):
    if not any(g == group for g, _ in kr.GROUP_VERSIONS) or not group:
        return None
    d = _group_entry(group)
    d.update({"kind": "APIGroup", "apiVersion": "v1"})
    return d


def resource_list(group, version):
    if (group, version) not in kr.GROUP_VERSIONS:
        return None
    gv = "%s/%s" % (group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": _resource_entries(group, version)}


def aggregated(legacy, api_version="apidiscovery.k8s.io/v2"):
    """APIGroupDiscoveryList for /api (legacy=True) or /apis."""
    items = []
    groups = [g for g, _ in kr.GROUP_VERSIONS if (g == "") == legacy]
    seen = []
    for g in groups:
        if g in seen:
            continue
        seen.append(g)
        versions = []
        for gg, v in kr.GROUP_VERSIONS:
            if gg != g:
                continue
            resources = []
            for r in kr.resources_in(g, v):
                e = {"resource": r.plural,
                     "responseKind": {"group": g, "version": v, "kind": r.kind},
                     "scope": "Namespaced" if r.namespaced else "Cluster",
                     "singularResource": r.singular, "verbs": sorted(r.verbs)}
                if r.short_names:
                    e["shortNames"] = r.short_names
                if r.categories:
                    e["categories"] = r.categories
                subs = []
                for sub, (kind, verbs) in r.subresources.items():
                    rk = ({"group": "authentication.k8s.io", "version": "v1",
                           "kind": kind} if sub == "token"
                          else {"group": g, "version": v, "kind": kind})
                    subs.append({"subresource": sub, "responseKind": rk,
                                 "verbs": sorted(verbs)})
                if subs:
                    e["subresources"] = subs
                resources.append(e)
            versions.append({"version": v, "resources": resources,
                             "freshness": "Current"})
        items.append({"metadata": {"name": g, "creationTimestamp": None},
                      "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version,
            "metadata": {}, "items": items}


# ---- OpenAPI v3 ---------------------------------------------------------------

def _param(name, where, typ="string", required=False, desc=""):
    p = {"name": name, "in": where, "description": desc,
         "schema": {"type": typ, "uniqueItems": True}}
    if required:
        p["required"] = True
    return p


_FIELD_VALIDATION = _param(
    "fieldValidation", "query", desc="fieldValidation instructs the server on how to "
    "handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate "
    "fields. Valid values are: - Ignore - Warn - Strict")
_DRY_RUN = _param("dryRun", "query", desc="When present, indicates that modifications "
                  "should not be persisted.")
_FIELD_MANAGER = _param("fieldManager", "query", desc="fieldManager is a name "
                        "associated with the actor or entity that is making these "
                        "changes.")


def _op(action, res, op_id, schema_ref, params=(), body=None, extra_responses=None):
    gvk = {"group": res.group, "version": res.version, "kind": res.kind}
    resp = {"200": {"description": "OK", "content": {
        "application/json": {"schema": {"$ref": schema_ref}}}}}
    resp.update(extra_responses or {})
    op = {"tags": ["%s_%s" % (res.group or "core", res.version)],
          "description": "%s %s" % (action, res.kind), "operationId": op_id,
          "parameters": list(params), "responses": resp,
          "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk}
    if body is not None:
        op["requestBody"] = body
    return op


def _gv_document(group, version):
    components = {}
    patch_ref = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    components["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] = {
        "type": "object", "description": "Patch is provided to give a concrete name and "
        "type to the Kubernetes PATCH request body."}
    components["io.k8s.apimachinery.pkg.apis.meta.v1.Status"] = {
        "type": "object", "properties": {"kind": {"type": "string"},
                                         "apiVersion": {"type": "string"},
                                         "message": {"type": "string"},
                                         "reason": {"type": "string"},
                                         "code": {"type": "integer"}}}
    paths = {}
    for r in kr.resources_in(group, version):
        if r.model:
            ref = kube_schema.openapi_schema(r.model, components)["$ref"]
        else:
            ref = "#/components/schemas/%s.%s.%s" % (
                ".".join(reversed(r.group.split("."))), r.version, r.kind)
            meta = kube_schema.openapi_schema("V1ObjectMeta", components)
            components[ref.rsplit("/", 1)[1]] = {
                "type": "object", "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"apiVersion": {"type": "string"},
                               "kind": {"type": "string"}, "metadata": meta}}
        name = ref.rsplit("/", 1)[1]
        components[name]["x-kubernetes-group-version-kind"] = [
            {"group": r.group, "kind": r.kind, "version": r.version}]
        schema_ref = ref
        body = {"content": {"*/*": {"schema": {"$ref": schema_ref}}}, "required": True}
        kind_id = r.kind
        gv_id = ("Core" if not r.group else
                 "".join(p.capitalize() for p in r.group.split(".")[0:1])) + \
            r.version.capitalize()
        if r.virtual:
            coll = "%s/%s" % (r.base_path, r.plural)
            paths[coll] = {"post": _op("post", r, "create%s%s" % (gv_id, kind_id),
                                       schema_ref, [_DRY_RUN, _FIELD_MANAGER,
                                                    _FIELD_VALIDATION], body,
                                       {"201": {"description": "Created"}})}
            continue
        ns_seg = "/namespaces/{namespace}" if r.namespaced else ""
        ns_param = [_param("namespace", "path", required=True)] if r.namespaced else []
        prefix = "Namespaced" if r.namespaced else ""
        coll = "%s%s/%s" % (r.base_path, ns_seg, r.plural)
        item = coll + "/{name}"
        paths[coll] = {
            "get": _op("list", r, "list%s%s%s" % (gv_id, prefix, kind_id), schema_ref),
            "post": _op("post", r, "create%s%s%s" % (gv_id, prefix, kind_id), schema_ref,
                        [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION], body,
                        {"201": {"description": "Created"},
                         "202": {"description": "Accepted"}}),
            "delete": _op("deletecollection", r, "deleteCollection%s%s%s"
                          % (gv_id, prefix, kind_id), schema_ref),
            "parameters": ns_param,
        }
        patch_body = {"content": {ct: {"schema": {"$ref": patch_ref}} for ct in (
            "application/apply-patch+yaml", "application/json-patch+json",
            "application/merge-patch+json")}, "required": True}
        paths[item] = {
            "get": _op("get", r, "read%s%s%s" % (gv_id, prefix, kind_id), schema_ref),
            "put": _op("put", r, "replace%s%s%s" % (gv_id, prefix, kind_id), schema_ref,
                       [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION], body),
            "patch": _op("patch", r, "patch%s%s%s" % (gv_id, prefix, kind_id),
                         schema_ref, [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION,
                                      _param("force", "query", "boolean")], patch_body),
            "delete": _op("delete", r, "delete%s%s%s" % (gv_id, prefix, kind_id),
                          schema_ref, [_DRY_RUN]),
            "parameters": [_param("name", "path", required=True)] + ns_param,
        }
        if r.namespaced:
            paths["%s/%s" % (r.base_path, r.plural)] = {
                "get": _op("list", r, "list%s%sForAllNamespaces" % (gv_id, kind_id),
                           schema_ref)}
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": components}}


OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _pb_field(num, payload):
    """One length-delimited protobuf field."""
    n = len(payload)
    out = bytes([num << 3 | 2])
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n]) + payload


def openapi_v2(protobuf):
    """/openapi/v2: a valid Swagger 2.0 document without definitions.

    kubectl reads it (gnostic openapi_v2.Document in protobuf) only where the
    v3 documents do not answer, e.g. to validate the items of a `kind: List`
    client-side; with no definitions it leaves those checks to the server,
    which still validates every item strictly."""
    info = {"title": "Kubernetes", "version": VERSION["gitVersion"]}
    if not protobuf:
        return {"swagger": "2.0", "info": info, "paths": {}, "definitions": {}}
    return _pb_field(1, b"2.0") + _pb_field(2, _pb_field(1, info["title"].encode()) +
                                            _pb_field(2, info["version"].encode()))


class OpenAPI:
    """Pre-rendered OpenAPI v3 documents, keyed by 'api/v1', 'apis/g/v'."""

    def __init__(self):
        self.docs = {}
        for g, v in kr.GROUP_VERSIONS:
            key = "apis/%s/%s" % (g, v) if g else "api/%s" % v
            text = json.dumps(_gv_document(g, v), separators=(",", ":"))
            self.docs[key] = (text, hashlib.sha512(text.encode()).hexdigest().upper())

    def root(self):
        return {"paths": {k: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (k, h)}
                          for k, (_, h) in self.docs.items()}}

    def document(self, key):
        d = self.docs.get(key)
        return d[0] if d else None
