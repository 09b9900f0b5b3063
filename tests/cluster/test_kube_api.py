"""REST-level behaviour of the emulated kube-apiserver that clients other than
kubectl (the project's C code) depend on: Status bodies, optimistic
concurrency, paging, selectors, patches, watches, finalizers, protobuf, and
fault injection.

Run: cd tests && /usr/bin/python3 -m pytest -q cluster/test_kube_api.py
"""
import json
import threading
import time
import uuid
from pathlib import Path

import pytest

FAULT = Path(__file__).resolve().parent / "fault"
CM = "/api/v1/namespaces/%s/configmaps"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


@pytest.fixture
def ns(cluster):
    name = unique("api")
    status, _ = cluster.api("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert status == 201
    yield name
    cluster.api("DELETE", "/api/v1/namespaces/" + name)


def cm(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels or {}}, "data": data or {}}


def test_status_bodies(cluster, ns):
    status, body = cluster.api("GET", CM % ns + "/missing")
    assert status == 404 and body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'configmaps "missing" not found', "reason": "NotFound",
        "details": {"name": "missing", "kind": "configmaps"}, "code": 404}
    assert cluster.api("POST", CM % ns, cm("a"))[0] == 201
    status, body = cluster.api("POST", CM % ns, cm("a"))
    assert status == 409 and body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'configmaps "a" already exists', "reason": "AlreadyExists",
        "details": {"name": "a", "kind": "configmaps"}, "code": 409}
    status, body = cluster.api("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"
                               "%s/roles" % ns, {"metadata": {"name": "r"}, "rules": []})
    assert status == 201
    status, body = cluster.api("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"
                               "%s/roles" % ns, {"metadata": {"name": "r"}})
    assert body["details"] == {"name": "r", "group": "rbac.authorization.k8s.io",
                               "kind": "roles"}
    status, body = cluster.api("POST", CM % "no-such-ns", cm("a"))
    assert status == 404 and body["message"] == 'namespaces "no-such-ns" not found'
    assert body["details"] == {"name": "no-such-ns", "kind": "namespaces"}
    status, body = cluster.api("POST", "/api/v1/namespaces",
                               {"metadata": {"name": "Bad_Name"}})
    assert status == 422 and body["reason"] == "Invalid"
    assert body["details"]["name"] == "Bad_Name" and body["details"]["kind"] == "Namespace"
    assert body["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "metadata.name",
        "message": "Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist "
                   "of lower case alphanumeric characters or '-', and must start and end "
                   "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
                   "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}]
    status, body = cluster.api("GET", "/api/v1/nothing-here")
    assert status == 404 and body["message"] == \
        "the server could not find the requested resource"


def test_put_with_stale_resource_version_conflicts(cluster, ns):
    status, obj = cluster.api("POST", CM % ns, cm("c", data={"v": "1"}))
    stale = dict(obj, data={"v": "2"})
    status, newer = cluster.api("PUT", CM % ns + "/c", stale)
    assert status == 200 and newer["data"] == {"v": "2"}
    assert int(newer["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
    status, body = cluster.api("PUT", CM % ns + "/c", dict(obj, data={"v": "3"}))
    assert status == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "c": the '
                               'object has been modified; please apply your changes to '
                               'the latest version and try again')
    status, nsobj = cluster.api("GET", "/api/v1/namespaces/" + ns)
    nsobj["metadata"]["resourceVersion"] = "1"
    status, body = cluster.api("PUT", "/api/v1/namespaces/" + ns, nsobj)
    assert status == 409 and body["message"] == (
        'Operation cannot be fulfilled on namespaces "%s": the object has been modified;'
        ' please apply your changes to the latest version and try again' % ns)
    # an update that changes nothing keeps the resourceVersion
    status, same = cluster.api("PUT", CM % ns + "/c", newer)
    assert same["metadata"]["resourceVersion"] == newer["metadata"]["resourceVersion"]
    # PUT of a missing object is NotFound for config maps, creates a lease
    assert cluster.api("PUT", CM % ns + "/nope", cm("nope"))[0] == 404
    lease = {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a",
                                                      "leaseDurationSeconds": 15}}
    status, _ = cluster.api("PUT", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/"
                            "leader" % ns, lease)
    assert status == 201



def test_update_helper_retries_a_conflict(cluster, ns):
    """Cluster.update, which tests use to edit live objects, reads again and
    retries when the object changed between its GET and its PUT."""
    cluster.api("POST", CM % ns, cm("u", data={"v": "1"}))
    calls = []

    def change(obj):
        calls.append(obj["metadata"]["resourceVersion"])
        if len(calls) == 1:  # someone else writes in between
            assert cluster.api("PUT", CM % ns + "/u", dict(obj, data={"v": "2"}))[0] == 200
        obj["data"]["mine"] = "yes"
    out = cluster.update(CM % ns + "/u", change)
    assert len(calls) == 2 and calls[0] != calls[1]
    assert out["data"] == {"v": "2", "mine": "yes"}
    assert cluster.api("GET", CM % ns + "/u")[1]["data"] == {"v": "2", "mine": "yes"}

def test_list_paging_with_limit_and_continue(cluster, ns):
    for i in range(7):
        assert cluster.api("POST", CM % ns, cm("page-%d" % i, {"paged": "yes"}))[0] == 201
    names, token, pages = [], None, 0
    while True:
        q = "?limit=3&labelSelector=paged%3Dyes" + ("&continue=" + token if token else "")
        status, body = cluster.api("GET", CM % ns + q)
        assert status == 200 and body["kind"] == "ConfigMapList"
        assert len(body["items"]) <= 3
        assert all("kind" not in i for i in body["items"])
        names += [i["metadata"]["name"] for i in body["items"]]
        pages += 1
        token = body["metadata"].get("continue")
        if not token:
            break
    assert pages == 3 and names == ["page-%d" % i for i in range(7)]
    status, body = cluster.api("GET", CM % ns + "?limit=2")
    assert body["metadata"]["remainingItemCount"] == 6  # 7 + kube-root-ca.crt - 2


def test_label_and_field_selectors(cluster, ns):
    cluster.api("POST", CM % ns, cm("s1", {"env": "prod", "tier": "web"}))
    cluster.api("POST", CM % ns, cm("s2", {"env": "dev"}))
    cluster.api("POST", CM % ns, cm("s3", {"tier": "db"}))

    def names(query):
        status, body = cluster.api("GET", CM % ns + "?" + query)
        assert status == 200, body
        return [i["metadata"]["name"] for i in body["items"]]
    assert names("labelSelector=env%3Dprod") == ["s1"]
    assert names("labelSelector=env%3D%3Dprod") == ["s1"]
    assert names("labelSelector=env%21%3Dprod") == ["kube-root-ca.crt", "s2", "s3"]
    assert names("labelSelector=env+in+(prod,dev)") == ["s1", "s2"]
    assert names("labelSelector=env+notin+(prod)") == ["kube-root-ca.crt", "s2", "s3"]
    assert names("labelSelector=tier") == ["s1", "s3"]
    assert names("labelSelector=%21tier") == ["kube-root-ca.crt", "s2"]
    assert names("labelSelector=tier,env%3Dprod") == ["s1"]
    assert names("fieldSelector=metadata.name%3Ds2") == ["s2"]
    assert names("fieldSelector=metadata.name%21%3Ds2,metadata.namespace%3D" + ns) == \
        ["kube-root-ca.crt", "s1", "s3"]
    status, body = cluster.api("GET", CM % ns + "?fieldSelector=spec.foo%3Dx")
    assert status == 400 and body["message"] == "field label not supported: spec.foo"
    status, body = cluster.api("GET", CM % ns + "?labelSelector=a+in+b")
    assert status == 400


def test_patch_types(cluster, ns):
    base = CM % ns + "/p"
    cluster.api("POST", CM % ns, cm("p", {"a": "1"}, {"x": "1", "y": "2"}))
    status, obj = cluster.api("PATCH", base, {"data": {"y": None, "z": "3"}},
                              content_type="application/merge-patch+json")
    assert status == 200 and obj["data"] == {"x": "1", "z": "3"}
    status, obj = cluster.api("PATCH", base, [
        {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
        {"op": "replace", "path": "/data/x", "value": "9"}],
        content_type="application/json-patch+json")
    assert status == 200 and obj["metadata"]["labels"] == {"a": "1", "b/c": "2"}
    status, body = cluster.api("PATCH", base, [{"op": "test", "path": "/data/x",
                                                "value": "0"}],
                               content_type="application/json-patch+json")
    assert status == 422
    status, obj = cluster.api("PATCH", base, {"metadata": {"labels": {"a": None}}},
                              content_type="application/strategic-merge-patch+json")
    assert status == 200 and obj["metadata"]["labels"] == {"b/c": "2"}
    status, body = cluster.api("PATCH", base, {"metadata": {"resourceVersion": "1"},
                                               "data": {"q": "1"}},
                               content_type="application/merge-patch+json")
    assert status == 409
    status, body = cluster.api("PATCH", base, {"data": {"q": 1}},
                               content_type="application/merge-patch+json")
    assert status == 400 and "cannot unmarshal number" in body["message"]
    status, body = cluster.api("PATCH", CM % ns + "/missing", {"data": {}},
                               content_type="application/merge-patch+json")
    assert status == 404
    # strategic merge of containers by name (a pod's image is all that may change)
    pod = {"metadata": {"name": "pp"}, "spec": {"containers": [
        {"name": "a", "image": "img:1", "env": [{"name": "E1", "value": "1"}]},
        {"name": "b", "image": "img:1"}]}}
    assert cluster.api("POST", "/api/v1/namespaces/%s/pods" % ns, pod)[0] == 201
    status, obj = cluster.api("PATCH", "/api/v1/namespaces/%s/pods/pp" % ns, {
        "spec": {"containers": [{"name": "b", "image": "img:2"}]}},
        content_type="application/strategic-merge-patch+json")
    assert status == 200, obj
    cs = obj["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in cs] == [("a", "img:1"), ("b", "img:2")]
    assert cs[0]["env"] == [{"name": "E1", "value": "1"}]
    status, body = cluster.api("PATCH", "/api/v1/namespaces/%s/pods/pp" % ns, {
        "spec": {"containers": [{"name": "a", "env": [{"name": "E2", "value": "2"}]}]}},
        content_type="application/strategic-merge-patch+json")
    assert status == 422 and "pod updates may not change fields" in body["message"]
    # a custom resource takes merge and JSON patches, not strategic ones
    fw = "/apis/flyte.lyft.com/v1alpha1/namespaces/%s/flyteworkflows" % ns
    assert cluster.api("POST", fw, {"apiVersion": "flyte.lyft.com/v1alpha1",
                                    "kind": "FlyteWorkflow", "metadata": {"name": "w"},
                                    "spec": {}})[0] == 201
    assert cluster.api("PATCH", fw + "/w", {"spec": {"a": 1}},
                       content_type="application/strategic-merge-patch+json")[0] == 415


def test_field_manager_is_validated(cluster, ns):
    status, body = cluster.api("POST", CM % ns + "?fieldManager=" + "m" * 129, cm("fm1"))
    assert status == 422, body
    assert body["message"] == ('CreateOptions.meta.k8s.io "" is invalid: fieldManager: '
                               'Too long: may not be more than 128 bytes')
    assert body["details"]["causes"][0]["reason"] == "FieldValueTooLong"
    status, _ = cluster.api("POST", CM % ns + "?fieldManager=" + "m" * 128, cm("fm1"))
    assert status == 201
    status, body = cluster.api("PUT", CM % ns + "/fm1?fieldManager=a%09b", cm("fm1"))
    assert status == 422 and body["message"].startswith(
        'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\tb": '
        "invalid character U+0009"), body
    status, body = cluster.api("PATCH", CM % ns + "/fm1", cm("fm1"),
                               content_type="application/apply-patch+yaml")
    assert status == 422
    assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                               "Required value: is required for apply patch")


def test_generate_name_dry_run_and_defaults(cluster, ns):
    status, obj = cluster.api("POST", CM % ns, {"metadata": {"generateName": "gen-"}})
    assert status == 201
    name = obj["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == 9
    status, obj = cluster.api("POST", CM % ns + "?dryRun=All", cm("dry"))
    assert status == 201 and obj["metadata"]["uid"]
    assert cluster.api("GET", CM % ns + "/dry")[0] == 404
    status, obj = cluster.api("POST", "/api/v1/namespaces/%s/secrets" % ns, {
        "metadata": {"name": "s"}, "stringData": {"k": "v"}})
    assert obj["type"] == "Opaque" and obj["data"] == {"k": "dg=="}
    assert "stringData" not in obj
    status, obj = cluster.api("POST", "/api/v1/namespaces/%s/resourcequotas" % ns, {
        "metadata": {"name": "q"}, "spec": {"hard": {"cpu": "0.5", "memory": "1.5Gi",
                                                     "pods": 10, "limits.cpu": "2000m"}}})
    assert status == 201
    assert obj["spec"]["hard"] == {"cpu": "500m", "memory": "1536Mi", "pods": "10",
                                   "limits.cpu": "2"}
    status, obj = cluster.api("POST", "/api/v1/namespaces/%s/resourcequotas" % ns, {
        "metadata": {"name": "q2"}, "spec": {"hard": {"cpu": "lots"}}})
    assert status == 400 and "quantities must match the regular expression" in \
        obj["message"]


def test_watch_events_in_order_and_resume(cluster, ns):
    status, lst = cluster.api("GET", CM % ns)
    rv = lst["metadata"]["resourceVersion"]
    events = []

    def reader():
        for ev in cluster.stream(CM % ns + "?watch=1&resourceVersion=%s"
                                 "&timeoutSeconds=5" % rv):
            events.append(ev)
            if ev["type"] == "DELETED":
                return
    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)
    status, obj = cluster.api("POST", CM % ns, cm("w", data={"a": "1"}))
    cluster.api("PATCH", CM % ns + "/w", {"data": {"a": "2"}},
                content_type="application/merge-patch+json")
    status, deleted = cluster.api("DELETE", CM % ns + "/w")
    assert deleted["status"] == "Success" and deleted["details"]["kind"] == "configmaps"
    t.join(10)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]
    assert events[1]["object"]["data"] == {"a": "2"}
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3
    # resuming from the ADDED event replays the rest
    resumed = [e["type"] for e in cluster.stream(
        CM % ns + "?watch=true&resourceVersion=%d&timeoutSeconds=1" % rvs[0])]
    assert resumed == ["MODIFIED", "DELETED"]
    # without a resourceVersion the current state comes first as ADDED
    stream = cluster.stream(CM % ns + "?watch=1&timeoutSeconds=5")
    first = next(stream)
    stream.close()
    assert (first["type"], first["object"]["metadata"]["name"]) == \
        ("ADDED", "kube-root-ca.crt")


def test_watch_bookmarks_and_selectors(cluster, ns):
    status, lst = cluster.api("GET", CM % ns)
    rv = lst["metadata"]["resourceVersion"]
    events = []

    def reader():
        for ev in cluster.stream(CM % ns + "?watch=1&allowWatchBookmarks=true&"
                                 "labelSelector=pick%%3Dme&resourceVersion=%s&"
                                 "timeoutSeconds=5" % rv):
            events.append(ev)
            if ev["type"] == "BOOKMARK" and len(events) > 3:
                return
    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    cluster.api("POST", CM % ns, cm("skip"))
    cluster.api("POST", CM % ns, cm("chosen", {"pick": "me"}))
    cluster.api("PATCH", CM % ns + "/chosen", {"metadata": {"labels": {"pick": "no"}}},
                content_type="application/merge-patch+json")
    cluster.api("PATCH", CM % ns + "/skip", {"metadata": {"labels": {"pick": "me"}}},
                content_type="application/merge-patch+json")
    t.join(10)
    typed = [(e["type"], e["object"]["metadata"].get("name")) for e in events
             if e["type"] != "BOOKMARK"]
    # leaving the selector is a DELETED, entering it an ADDED, like the real server
    assert typed == [("ADDED", "chosen"), ("DELETED", "chosen"), ("ADDED", "skip")]
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks and bookmarks[-1]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


@pytest.mark.emulator_only
def test_watch_from_compacted_resource_version_is_expired(cluster, ns):
    status, lst = cluster.api("GET", CM % ns)
    old_rv = lst["metadata"]["resourceVersion"]
    cluster.api("POST", CM % ns, cm("before"))
    cluster.compact()
    events = list(cluster.stream(CM % ns + "?watch=1&resourceVersion=%s" % old_rv))
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    st = events[0]["object"]
    assert st["code"] == 410 and st["reason"] == "Expired"
    assert st["message"].startswith("too old resource version: %s (" % old_rv)
    # a list continue token from before the compaction is expired as well
    status, body = cluster.api("GET", "/api/v1/namespaces?limit=1")
    token = body["metadata"]["continue"]
    cluster.api("POST", CM % ns, cm("after"))
    cluster.compact()
    status, body = cluster.api("GET", "/api/v1/namespaces?limit=1&continue=" + token)
    assert status == 410 and body["reason"] == "Expired"


def test_finalizers_delay_deletion(cluster, ns):
    obj = cm("fin")
    obj["metadata"]["finalizers"] = ["example.com/keep"]
    cluster.api("POST", CM % ns, obj)
    status, body = cluster.api("DELETE", CM % ns + "/fin")
    assert status == 200 and body["metadata"]["deletionTimestamp"]
    status, body = cluster.api("GET", CM % ns + "/fin")
    assert status == 200 and body["metadata"]["deletionTimestamp"]
    cluster.api("PATCH", CM % ns + "/fin", {"metadata": {"finalizers": None}},
                content_type="application/merge-patch+json")
    assert cluster.api("GET", CM % ns + "/fin")[0] == 404


def test_terminating_namespace_refuses_new_content(cluster):
    name = unique("term")
    cluster.api("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    obj = cm("held")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.api("POST", CM % name, obj)
    status, body = cluster.api("DELETE", "/api/v1/namespaces/" + name)
    assert status == 200 and body["status"]["phase"] == "Terminating"
    time.sleep(0.3)
    status, body = cluster.api("POST", CM % name, cm("late"))
    assert status == 403 and body["message"] == (
        "unable to create new content in namespace %s because it is being terminated"
        % name)
    assert cluster.api("GET", "/api/v1/namespaces/" + name)[0] == 200
    cluster.api("PATCH", CM % name + "/held", {"metadata": {"finalizers": None}},
                content_type="application/merge-patch+json")
    deadline = time.time() + 5
    while cluster.api("GET", "/api/v1/namespaces/" + name)[0] != 404:
        assert time.time() < deadline, "namespace was not finalized"
        time.sleep(0.05)


def test_owner_references_are_garbage_collected(cluster, ns):
    status, owner = cluster.api("POST", CM % ns, cm("owner"))
    child = cm("child")
    child["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap",
                                             "name": "owner",
                                             "uid": owner["metadata"]["uid"]}]
    assert cluster.api("POST", CM % ns, child)[0] == 201
    cluster.api("DELETE", CM % ns + "/owner")
    deadline = time.time() + 5
    while cluster.api("GET", CM % ns + "/child")[0] != 404:
        assert time.time() < deadline, "owned object was not collected"
        time.sleep(0.05)


def test_protobuf_body_is_decoded(cluster, ns):
    # what `kubectl create configmap pb --from-literal=k=v` sends
    def field(num, payload):
        out, n = bytes([num << 3 | 2]), len(payload)
        while n >= 0x80:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n]) + payload
    meta = field(1, b"pb") + field(11, field(1, b"app") + field(2, b"x"))
    raw = field(1, meta) + field(2, field(1, b"k") + field(2, b"v"))
    unknown = field(1, field(1, b"v1") + field(2, b"ConfigMap")) + field(2, raw)
    status, _, body = cluster.request("POST", CM % ns + "?fieldManager=kubectl-create",
                                      b"k8s\x00" + unknown,
                                      content_type="application/vnd.kubernetes.protobuf")
    obj = json.loads(body)
    assert status == 201, obj
    assert obj["data"] == {"k": "v"} and obj["metadata"]["labels"] == {"app": "x"}


def test_discovery_and_openapi(cluster):
    status, body = cluster.api("GET", "/version")
    assert status == 200 and body["major"] == "1" and body["minor"] == "32"
    status, body = cluster.api("GET", "/apis")
    groups = {g["name"] for g in body["groups"]}
    assert {"rbac.authorization.k8s.io", "networking.k8s.io", "coordination.k8s.io",
            "admissionregistration.k8s.io", "flyte.lyft.com"} <= groups
    status, body = cluster.api("GET", "/api/v1")
    ns = next(r for r in body["resources"] if r["name"] == "namespaces")
    assert ns["namespaced"] is False and ns["shortNames"] == ["ns"]
    status, root = cluster.api("GET", "/openapi/v3")
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    status, doc = cluster.api("GET", url)
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1",
                                                        "kind": "ConfigMap"}
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    for path in ("/healthz", "/readyz", "/livez"):
        status, text = cluster.api("GET", path, user=None)
        assert (status, text) == (200, "ok")


def test_table_output(cluster):
    status, _, raw = cluster.request(
        "GET", "/api/v1/namespaces", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    table = json.loads(raw)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    row = next(r for r in table["rows"] if r["cells"][0] == "default")
    assert row["cells"][1] == "Active"
    assert row["object"]["kind"] == "PartialObjectMetadata"


@pytest.mark.emulator_only
def test_fault_injection(cluster, ns, clean_faults):
    cluster.fault("apiserver", method="GET", path="/configmaps/f1$", status=503,
                  count=2, message="etcd is sad")
    cluster.api("POST", CM % ns, cm("f1"))
    for _ in range(2):
        status, headers, raw = cluster.request("GET", CM % ns + "/f1")
        body = json.loads(raw)
        assert status == 503 and body["message"] == "etcd is sad"
        assert body["reason"] == "ServiceUnavailable"
        assert dict(headers).get("Retry-After") == "1"
    assert cluster.api("GET", CM % ns + "/f1")[0] == 200
    cluster.fault("apiserver", method="POST", path="/configmaps$", status=500)
    status, body = cluster.api("POST", CM % ns, cm("f2"))
    assert status == 500 and body["reason"] == "InternalError"
    assert cluster.api("GET", CM % ns + "/f2")[0] == 404
    assert cluster.api("POST", CM % ns, cm("f2"))[0] == 201
    cluster.fault("apiserver", method="GET", path="/configmaps/f2$", drop=True)
    with pytest.raises(Exception):
        cluster.api("GET", CM % ns + "/f2")
    cluster.fault("apiserver", method="GET", path="/configmaps/f2$", delay_ms=300)
    t0 = time.monotonic()
    assert cluster.api("GET", CM % ns + "/f2")[0] == 200
    assert time.monotonic() - t0 >= 0.3
    assert cluster.faults("apiserver")["rules"] == []
    # and through the CLI of tests/cluster/fault
    r = cluster.run([FAULT, cluster.dir, "apiserver", "add", "--method", "GET",
                     "--path", "/configmaps/f2$", "--status", "429"])
    assert json.loads(r.stdout)["id"] > 0
    t0 = time.monotonic()
    r = cluster.kubectl("get", "cm", "f2", "-n", ns, "-o", "name")
    assert r.stdout.strip() == "configmap/f2"  # kubectl retries a 429 (Retry-After)
    assert time.monotonic() - t0 >= 1.0
    r = cluster.run([FAULT, cluster.dir, "apiserver", "list"])
    assert json.loads(r.stdout)["log"][-1][1].endswith("/configmaps/f2")


@pytest.mark.emulator_only
def test_cluster_scripts(cluster, tmp_path):
    here = Path(__file__).resolve().parent
    r = cluster.run([here / "up", cluster.dir], check=False)
    assert r.returncode == 1 and "apiserver is already running in" in r.stderr
    assert cluster.run([here / "down", tmp_path]).returncode == 0
    env = (cluster.dir / "env").read_text()
    for token_file in cluster.dir.glob("*.token"):
        assert token_file.read_text().strip() not in env
    assert set(cluster.env) >= {
        "KUBECONFIG", "KUBE_APISERVER_URL", "KUBE_CA_FILE", "KUBE_ADMIN_TOKEN_FILE",
        "FLYTE_PLATFORM_URL", "FLYTE_PLATFORM_CA_CERT_FILE_PATH", "CLUSTER_DIR",
        "APISERVER_PID_FILE", "FLYTEADMIN_PID_FILE"}
    status, body = cluster.flyte("GET", "/api/v1/domains")
    assert status == 200
