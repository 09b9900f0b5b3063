"""The admission chain of the emulated kube-apiserver against a small TLS
webhook server run inside the test: webhook configurations applied with the
real kubectl, AdmissionReview contents, JSON Patch mutation, denials as kubectl
prints them, failurePolicy, timeoutSeconds, reinvocation and warnings.

Run: cd tests && /usr/bin/python3 -m pytest -q cluster/test_kube_admission.py
"""
import base64
import json
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import kube_certs

pytestmark = pytest.mark.emulator_only

SVC_NS, SVC_NAME = "webhooks", "hook"


class Webhook:
    """A TLS admission webhook whose answers the test decides per path."""

    def __init__(self, cert, key):
        self.calls = []          # (path, query, review)
        self.behaviour = {}      # path -> function(review) -> response dict
        hook = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                url = urllib.parse.urlsplit(self.path)
                review = json.loads(body)
                hook.calls.append((url.path, url.query, review))
                fn = hook.behaviour.get(url.path, lambda r: {})
                extra = fn(review)
                if extra == "sleep":
                    time.sleep(2.5)
                    extra = {}
                resp = {"uid": review["request"]["uid"], "allowed": True}
                resp.update(extra)
                data = json.dumps({"apiVersion": "admission.k8s.io/v1",
                                   "kind": "AdmissionReview", "response": resp}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reviews(self, path, name=None):
        return [r for p, _, r in self.calls if p == path and
                (name is None or r["request"].get("name") == name)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook(cluster):
    cert, key = cluster.issue_cert("hook", dns=["%s.%s.svc" % (SVC_NAME, SVC_NS)],
                                   ips=["127.0.0.1"])
    hook = Webhook(cert, key)
    cluster.map_service(SVC_NS, SVC_NAME, hook.port)
    yield hook
    hook.close()


@pytest.fixture
def configs(cluster, webhook):
    """Apply webhook configurations with kubectl; all are removed afterwards."""
    made = []
    ca = base64.b64encode(cluster.ca_pem.encode()).decode()

    def apply(kind, name, webhooks, tmp_path=None):
        for w in webhooks:
            cc = w.setdefault("clientConfig", {})
            cc.setdefault("caBundle", ca)
            if "url" not in cc:
                cc.setdefault("service", {"namespace": SVC_NS, "name": SVC_NAME,
                                          "path": w.pop("path", "/mutate")})
            w.setdefault("sideEffects", "None")
            w.setdefault("admissionReviewVersions", ["v1"])
        obj = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
               "metadata": {"name": name}, "webhooks": webhooks}
        r = cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))
        made.append((kind, name))
        return r
    yield apply
    for kind, name in made:
        cluster.kubectl("delete", kind.lower(), name, "--ignore-not-found")
    webhook.behaviour.clear()


def only(*names):
    """namespaceSelector matching just these namespaces (tests stay isolated)."""
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                  "values": list(names)}]}


def ns_rule(ops=("CREATE",)):
    return [{"operations": list(ops), "apiGroups": [""], "apiVersions": ["v1"],
             "resources": ["namespaces"]}]


def patch(ops):
    return {"patchType": "JSONPatch",
            "patch": base64.b64encode(json.dumps(ops).encode()).decode()}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


def test_mutating_webhook_on_kubectl_create_namespace(cluster, webhook, configs):
    name = unique("mut")
    webhook.behaviour["/mutate"] = lambda r: patch([
        {"op": "add", "path": "/metadata/labels/flyte.org~1tenant", "value": "t1"},
        {"op": "add", "path": "/metadata/annotations",
         "value": {"workspace/owner": r["request"]["userInfo"]["username"]}}])
    configs("MutatingWebhookConfiguration", "mut-test", [{
        "name": "ns.mutate.example.com", "rules": ns_rule(),
        "namespaceSelector": only(name), "timeoutSeconds": 5}])
    cluster.kubectl("create", "namespace", name)
    obj = json.loads(cluster.kubectl("get", "ns", name, "-o", "json").stdout)
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": name,
                                         "flyte.org/tenant": "t1"}
    assert obj["metadata"]["annotations"] == {"workspace/owner": "admin"}
    (path, query, review), = [c for c in webhook.calls
                              if c[2]["request"].get("name") == name]
    assert query == "timeout=5s"
    assert review["apiVersion"] == "admission.k8s.io/v1"
    assert review["kind"] == "AdmissionReview"
    req = review["request"]
    assert uuid.UUID(req["uid"])
    assert req["kind"] == {"group": "", "version": "v1", "kind": "Namespace"}
    assert req["resource"] == {"group": "", "version": "v1", "resource": "namespaces"}
    assert req["requestKind"] == req["kind"]
    assert req["requestResource"] == req["resource"]
    assert req["name"] == name and req["namespace"] == name
    assert req["operation"] == "CREATE"
    assert req["userInfo"]["username"] == "admin"
    assert req["userInfo"]["groups"] == ["system:masters", "system:authenticated"]
    assert req["object"]["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}
    assert req["oldObject"] is None and req["dryRun"] is False
    assert req["options"]["kind"] == "CreateOptions"
    assert req["options"]["fieldManager"] == "kubectl-create"


def test_validating_webhook_denial_reaches_kubectl(cluster, webhook, configs):
    bad, good = unique("deny"), unique("ok")
    webhook.behaviour["/validate"] = lambda r: {} if not \
        r["request"]["name"].startswith("deny-") else {
            "allowed": False, "status": {"code": 403, "reason": "Forbidden",
                                         "message": "names starting with deny- are "
                                                    "reserved"}}
    configs("ValidatingWebhookConfiguration", "val-test", [{
        "name": "ns.validate.example.com", "rules": ns_rule(),
        "namespaceSelector": only(bad, good), "path": "/validate"}])
    r = cluster.kubectl("create", "namespace", bad, check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == ('Error from server (Forbidden): admission webhook '
                                '"ns.validate.example.com" denied the request: names '
                                'starting with deny- are reserved')
    assert cluster.kubectl("get", "ns", bad, check=False).returncode == 1
    cluster.kubectl("create", "namespace", good)
    # without status.code the real server answers 400, without a reason none
    webhook.behaviour["/validate"] = lambda r: {"allowed": False,
                                                "status": {"message": "nope"}}
    status, body = cluster.api("POST", "/api/v1/namespaces", {"metadata": {"name": bad}})
    assert status == 400 and "reason" not in body
    assert body["message"] == \
        'admission webhook "ns.validate.example.com" denied the request: nope'


def test_failure_policy_with_webhook_down(cluster, configs):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    cluster.map_service("webhooks", "down", port)
    a, b = unique("ign"), unique("fail")
    svc = {"namespace": "webhooks", "name": "down", "path": "/validate"}
    configs("ValidatingWebhookConfiguration", "down-test", [
        {"name": "ignore.down.example.com", "rules": ns_rule(),
         "namespaceSelector": only(a), "failurePolicy": "Ignore",
         "clientConfig": {"service": dict(svc)}},
        {"name": "fail.down.example.com", "rules": ns_rule(),
         "namespaceSelector": only(b), "failurePolicy": "Fail",
         "clientConfig": {"service": dict(svc)}}])
    cluster.kubectl("create", "namespace", a)
    r = cluster.kubectl("create", "namespace", b, check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'Error from server (InternalError): Internal error occurred: failed calling '
        'webhook "fail.down.example.com": failed to call webhook: Post '
        '"https://down.webhooks.svc:443/validate?timeout=10s": dial tcp 127.0.0.1:%d: '
        'connect: connection refused' % port)


def test_timeout_seconds(cluster, webhook, configs):
    name = unique("slow")
    webhook.behaviour["/slow"] = lambda r: "sleep"
    configs("ValidatingWebhookConfiguration", "slow-test", [{
        "name": "slow.example.com", "rules": ns_rule(), "namespaceSelector": only(name),
        "timeoutSeconds": 1, "path": "/slow"}])
    t0 = time.monotonic()
    status, body = cluster.api("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert 1.0 <= time.monotonic() - t0 < 2.4
    assert status == 500 and body["message"].endswith(
        'failed calling webhook "slow.example.com": failed to call webhook: Post '
        '"https://hook.webhooks.svc:443/slow?timeout=1s": context deadline exceeded')


def test_url_client_config_ca_bundle_and_warnings(cluster, webhook, configs):
    name, other = unique("url"), unique("ca")
    webhook.behaviour["/url"] = lambda r: {"warnings": ["workspace label missing"]}
    _, wrong_ca = kube_certs.make_ca("someone-else")
    configs("ValidatingWebhookConfiguration", "url-test", [
        {"name": "url.example.com", "rules": ns_rule(), "namespaceSelector": only(name),
         "clientConfig": {"url": "https://127.0.0.1:%d/url" % webhook.port}},
        {"name": "badca.example.com", "rules": ns_rule(),
         "namespaceSelector": only(other),
         "clientConfig": {"url": "https://127.0.0.1:%d/url" % webhook.port,
                          "caBundle": base64.b64encode(wrong_ca.encode()).decode()}}])
    r = cluster.kubectl("create", "namespace", name)
    assert "Warning: workspace label missing" in r.stderr
    r = cluster.kubectl("create", "namespace", other, check=False)
    assert "x509: certificate signed by unknown authority" in r.stderr


def test_reinvocation_if_needed(cluster, webhook, configs):
    name = unique("reinv")
    webhook.behaviour["/first"] = lambda r: {}
    webhook.behaviour["/second"] = lambda r: patch([
        {"op": "add", "path": "/metadata/labels/second", "value": "yes"}]) \
        if "second" not in r["request"]["object"]["metadata"]["labels"] else {}
    configs("MutatingWebhookConfiguration", "reinv-a", [{
        "name": "first.example.com", "rules": ns_rule(), "namespaceSelector": only(name),
        "reinvocationPolicy": "IfNeeded", "path": "/first"}])
    configs("MutatingWebhookConfiguration", "reinv-b", [{
        "name": "second.example.com", "rules": ns_rule(),
        "namespaceSelector": only(name), "path": "/second"}])
    cluster.kubectl("create", "namespace", name)
    firsts = webhook.reviews("/first", name)
    assert len(firsts) == 2 and len(webhook.reviews("/second", name)) == 1
    assert "second" not in firsts[0]["request"]["object"]["metadata"]["labels"]
    assert firsts[1]["request"]["object"]["metadata"]["labels"]["second"] == "yes"


def test_update_delete_dry_run_and_object_selector(cluster, webhook, configs):
    name = unique("ops")
    cluster.kubectl("create", "namespace", name)
    webhook.behaviour["/pods"] = lambda r: patch([
        {"op": "add", "path": "/spec/containers/0/env",
         "value": [{"name": "FLYTE_PROJECT", "value": "p1"}]}]) \
        if r["request"]["operation"] == "CREATE" else {}
    configs("MutatingWebhookConfiguration", "ops-test", [{
        "name": "pods.example.com", "path": "/pods",
        "rules": [{"operations": ["CREATE", "UPDATE", "DELETE"], "apiGroups": [""],
                   "apiVersions": ["v1"], "resources": ["pods", "configmaps"],
                   "scope": "Namespaced"}],
        "namespaceSelector": only(name),
        "objectSelector": {"matchLabels": {"hooked": "yes"}}}])
    pod = {"metadata": {"name": "p", "labels": {"hooked": "yes"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    status, obj = cluster.api("POST", "/api/v1/namespaces/%s/pods" % name, pod)
    assert status == 201
    assert obj["spec"]["containers"][0]["env"] == [{"name": "FLYTE_PROJECT",
                                                     "value": "p1"}]
    status, _ = cluster.api("POST", "/api/v1/namespaces/%s/pods?dryRun=All" % name,
                            dict(pod, metadata={"name": "q", "labels": {"hooked": "yes"}}))
    assert status == 201
    cluster.api("POST", "/api/v1/namespaces/%s/configmaps" % name,
                {"metadata": {"name": "unhooked"}})
    cluster.kubectl("label", "pod", "p", "-n", name, "extra=1")
    cluster.kubectl("delete", "pod", "p", "-n", name)
    seen = [(r["request"]["operation"], r["request"]["name"], r["request"]["dryRun"])
            for r in webhook.reviews("/pods")
            if r["request"]["namespace"] == name]
    assert seen == [("CREATE", "p", False), ("CREATE", "q", True),
                    ("UPDATE", "p", False), ("DELETE", "p", False)]
    upd, dele = [r["request"] for r in webhook.reviews("/pods", "p")][1:]
    assert upd["oldObject"]["metadata"]["labels"] == {"hooked": "yes"}
    assert upd["object"]["metadata"]["labels"] == {"hooked": "yes", "extra": "1"}
    assert upd["options"]["kind"] == "UpdateOptions"
    assert dele["object"] is None and dele["oldObject"]["metadata"]["name"] == "p"
    assert dele["options"]["kind"] == "DeleteOptions"


def test_match_conditions(cluster, webhook, configs):
    """CEL matchConditions (GA in 1.30): any false skips the webhook; an error
    fails the request under failurePolicy Fail and skips it under Ignore; an
    expression that does not compile is refused when the configuration is
    written."""
    yes, no, err_fail, err_ignore = (unique("mc-yes"), unique("mc-no"), unique("mc-fail"),
                                     unique("mc-ignore"))
    webhook.behaviour["/validate"] = lambda r: {
        "allowed": False, "status": {"code": 403, "message": "called"}}
    configs("ValidatingWebhookConfiguration", "mc-test", [{
        "name": "ns.mc.example.com", "rules": ns_rule(), "path": "/validate",
        "namespaceSelector": only(yes, no), "failurePolicy": "Fail",
        "matchConditions": [
            {"name": "yes", "expression": 'object.metadata.name.startsWith("mc-yes-")'},
            {"name": "no-oldobject", "expression": "oldObject == null && "
                                                   "request.operation == 'CREATE'"}]}, {
        "name": "err-fail.mc.example.com", "rules": ns_rule(), "path": "/validate",
        "namespaceSelector": only(err_fail), "failurePolicy": "Fail",
        "matchConditions": [{"name": "missing-key",
                             "expression": 'object.metadata.labels["team"] == "ml"'}]}, {
        "name": "err-ignore.mc.example.com", "rules": ns_rule(), "path": "/validate",
        "namespaceSelector": only(err_ignore), "failurePolicy": "Ignore",
        "matchConditions": [{"name": "missing-key",
                             "expression": 'object.metadata.labels["team"] == "ml"'}]}])
    r = cluster.kubectl("create", "namespace", yes, check=False)
    assert r.returncode == 1 and "denied the request: called" in r.stderr
    cluster.kubectl("create", "namespace", no)
    assert not [c for c in webhook.calls if c[2]["request"].get("name") == no]
    r = cluster.kubectl("create", "namespace", err_fail, check=False)
    assert r.returncode == 1
    assert 'failed calling webhook "err-fail.mc.example.com": failed evaluating match ' \
           "conditions: expression 'missing-key' resulted in error: no such key: team" \
        in r.stderr
    cluster.kubectl("create", "namespace", err_ignore)
    assert not [c for c in webhook.calls if c[2]["request"].get("name") == err_ignore]
    bad = {"apiVersion": "admissionregistration.k8s.io/v1",
           "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "mc-bad"},
           "webhooks": [{"name": "bad.mc.example.com", "rules": ns_rule(),
                         "sideEffects": "None", "admissionReviewVersions": ["v1"],
                         "clientConfig": {"url": "https://127.0.0.1:1/"},
                         "matchConditions": [{"name": "x", "expression": "object.("}]}]}
    r = cluster.kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
    assert r.returncode == 1
    assert "webhooks[0].matchConditions[0].expression" in r.stderr
    assert "compilation failed" in r.stderr


def test_status_subresources_keep_metadata_changes(cluster, webhook, configs):
    """pods/status and resourcequotas/status as kube-apiserver serves them
    (podStatusStrategy, resourcequotaStatusStrategy): the request's status
    and metadata (labels, annotations) are kept, its spec is not, a pod's
    ownerReferences neither; webhooks get subResource "status", the
    mutating ones the object as sent, the validating ones what is stored."""
    name = unique("status")
    cluster.kubectl("create", "namespace", name)
    configs("MutatingWebhookConfiguration", "status-m", [{
        "name": "status-m.example.com", "path": "/m", "namespaceSelector": only(name),
        "rules": [{"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                   "resources": ["pods/status", "resourcequotas/status"]}]}])
    configs("ValidatingWebhookConfiguration", "status-v", [{
        "name": "status-v.example.com", "path": "/v", "namespaceSelector": only(name),
        "rules": [{"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                   "resources": ["pods/status", "resourcequotas/status"]}]}])
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "namespace": name, "labels": {"team": "ml"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
    cluster.kubectl("patch", "pod", "p", "-n", name, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"metadata": {"labels": {"team": None, "moved": "yes"},
                                                   "annotations": {"a": "1"},
                                                   "ownerReferences": [{
                                                       "apiVersion": "v1", "kind": "Pod",
                                                       "name": "x", "uid": "u-1"}]},
                                      "spec": {"activeDeadlineSeconds": 5},
                                      "status": {"message": "hello"}}))
    got = json.loads(cluster.kubectl("get", "pod", "p", "-n", name, "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"moved": "yes"}
    assert got["metadata"]["annotations"] == {"a": "1"}
    assert "ownerReferences" not in got["metadata"]
    assert "activeDeadlineSeconds" not in got["spec"]
    assert got["status"]["message"] == "hello"
    assert got["status"]["qosClass"] == "BestEffort"
    (m,) = [r["request"] for r in webhook.reviews("/m", "p")]
    (v,) = [r["request"] for r in webhook.reviews("/v", "p")]
    for req in (m, v):
        assert req["operation"] == "UPDATE" and req["subResource"] == "status"
        assert req["resource"] == {"group": "", "version": "v1", "resource": "pods"}
        assert req["object"]["metadata"]["labels"] == {"moved": "yes"}
        assert req["oldObject"]["metadata"]["labels"] == {"team": "ml"}
    assert m["object"]["spec"]["activeDeadlineSeconds"] == 5
    assert "activeDeadlineSeconds" not in v["object"]["spec"]

    cluster.kubectl("create", "quota", "q", "--hard=pods=2", "-n", name)
    cluster.kubectl("patch", "quota", "q", "-n", name, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"metadata": {"labels": {"workspace-id": "other"}},
                                      "spec": {"hard": {"pods": "1"}},
                                      "status": {"hard": {"pods": "50"}}}))
    got = json.loads(cluster.kubectl("get", "quota", "q", "-n", name, "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"workspace-id": "other"}
    assert got["spec"]["hard"] == {"pods": "2"}
    assert got["status"]["hard"] == {"pods": "50"}
    (v,) = [r["request"] for r in webhook.reviews("/v", "q")]
    assert v["subResource"] == "status" and v["object"]["spec"]["hard"] == {"pods": "2"}
