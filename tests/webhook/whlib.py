"""Helpers of the webhook tests: the server under test as a process, an HTTPS
client for it, and AdmissionReview builders.

A Webhook has .port, .post(path, body, ...) -> (status, headers, json or text),
.review(path, review) -> the AdmissionReview response, .logs() (parsed JSON
lines of its stderr), .metrics() ({"name{labels}": value}), .signal(sig) and
.wait() (exit code).
"""
import base64
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
BIN_DIR = Path(os.environ.get("KW_BIN_DIR") or ROOT / "bin")  # as kube_cluster.BIN_DIR
WEBHOOK = BIN_DIR / "workspace-webhook"
CERTS = BIN_DIR / "workspace-certs"

FLYTE_URL = "https://flyte.example.com"


def run_certs(*args, check=True):
    r = subprocess.run([str(CERTS)] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("workspace-certs %s: exit %d\n%s%s"
                             % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
    return r


def base_args(certs, *extra):
    """The flags every test server gets: loopback, a free port, the certificate."""
    return ["--listen", "127.0.0.1:0", "--tls-cert-file", certs / "tls.crt",
            "--tls-private-key-file", certs / "tls.key"] + list(extra)


def tls_context(ca_file, minimum=ssl.TLSVersion.TLSv1_2, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca_file)
    ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class Webhook:
    def __init__(self, args, tmp, ca_file, env=None, program=None, start_timeout=10):
        self.tmp = Path(tmp)
        self.ca_file = str(ca_file)
        self.log_path = self.tmp / ("webhook-%s.log" % uuid.uuid4().hex[:8])
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(program or WEBHOOK)] + [str(a) for a in args],
                                     stdout=subprocess.DEVNULL, stderr=self._log,
                                     env=env)
        self.port = None
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            for line in self.logs():
                msg = line.get("msg", "")
                if msg.startswith("listening on port "):
                    self.port = int(msg.split()[3])
            if self.port or self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not self.port:
            self.stop()
            raise AssertionError("workspace-webhook did not start:\n"
                                 + self.log_path.read_text())
        self.ctx = tls_context(self.ca_file)

    def logs(self):
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"raw": raw})
        return out

    def connection(self, timeout=10, ctx=None):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=ctx or self.ctx)

    def post(self, path, body, headers=None, conn=None, method="POST"):
        own = conn is None
        conn = conn or self.connection()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            if own:
                conn.close()
        data = raw.decode("utf-8", "replace")
        if "json" in hdrs.get("content-type", ""):
            data = json.loads(raw)
        return resp.status, hdrs, data

    def get(self, path, conn=None):
        return self.post(path, None, conn=conn, method="GET", headers={})

    def review(self, path, review, conn=None):
        status, hdrs, data = self.post(path, review, conn=conn)
        assert status == 200, (status, data)
        assert hdrs["content-type"] == "application/json"
        assert data["apiVersion"] == "admission.k8s.io/v1"
        assert data["kind"] == "AdmissionReview"
        resp = data["response"]
        assert resp["uid"] == review["request"]["uid"]
        return resp

    def metrics(self):
        status, _, text = self.get("/metrics")
        assert status == 200
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self._log.close()
        if code < 0:
            # Killed by a signal: show what it said last (pytest prints
            # captured output with the failure).
            print("workspace-webhook died of signal %d; its log ends:\n%s"
                  % (-code, "\n".join(self.log_path.read_text().splitlines()[-30:])))
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ---- AdmissionReview builders ------------------------------------------------

GVR = {
    "Namespace": ("", "v1", "namespaces"),
    "Pod": ("", "v1", "pods"),
    "ResourceQuota": ("", "v1", "resourcequotas"),
    "ConfigMap": ("", "v1", "configmaps"),
    "FlyteWorkflow": ("flyte.lyft.com", "v1alpha1", "flyteworkflows"),
}


def review(kind, obj=None, op="CREATE", namespace="", name=None, old=None,
           user="alice@company.com", groups=("system:authenticated",), sub=None,
           dry_run=False):
    group, version, resource = GVR[kind]
    if name is None:
        name = ((obj or old or {}).get("metadata") or {}).get("name", "")
    req = {
        "uid": str(uuid.uuid4()),
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource},
        "name": name,
        "operation": op,
        "userInfo": {"username": user, "uid": "u-1", "groups": list(groups)},
        "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
    if namespace:
        req["namespace"] = namespace
    if sub:
        req["subResource"] = sub
    if obj is not None:
        req["object"] = obj
    if old is not None:
        req["oldObject"] = old
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def namespace_obj(name, labels=None, annotations=None):
    meta = {"name": name, "labels": {"kubernetes.io/metadata.name": name}}
    meta["labels"].update(labels or {})
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def namespace_review(name, **kw):
    return review("Namespace", namespace_obj(name, kw.pop("labels", None),
                                             kw.pop("annotations", None)),
                  namespace=name, **kw)


def pod_obj(namespace, name="task", labels=None, containers=None, init=None):
    meta = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    spec = {"containers": containers or [{"name": "main", "image": "python:3.11"}]}
    if init is not None:
        spec["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def decode_patch(resp):
    if "patch" not in resp:
        return []
    assert resp["patchType"] == "JSONPatch"
    return json.loads(base64.b64decode(resp["patch"]))


def apply_patch(obj, resp):
    import jsonpatch
    return jsonpatch.apply_patch(obj, decode_patch(resp))


def raw_tls(port, ctx, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")


def read_http_response(sock):
    """Read one HTTP/1.1 response with a Content-Length body: (status, headers, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n]


def serial_of(port, ca_file, ctx=None):
    """The serial number of the certificate the server on port presents."""
    from cryptography import x509
    with raw_tls(port, ctx or tls_context(ca_file)) as s:
        der = s.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).serial_number


def preload_env(tmp, name, source, **variables):
    """Build C source as tmp/<name>.so and return an environment that
    LD_PRELOADs it, with the given variables set."""
    src, so = Path(tmp) / (name + ".c"), Path(tmp) / (name + ".so")
    src.write_text(source)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src), "-ldl"], check=True)
    return dict(os.environ, LD_PRELOAD=str(so), **variables)


def assert_not_taken(port, source=None):
    """A new connection is refused or closed at once, unread (a timeout
    reading it raises: the server took it)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=(source, 0) if source else None)
    except OSError:
        return
    with s:
        s.settimeout(3)
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass


def wait_for(pred, timeout=10, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def install(c, d, flyte_endpoint, kinds):
    """Register the real webhook with a local cluster `c` as an operator would: the
    manifests rendered by `kubectl kustomize webhook/deploy`, caBundle filled by
    `workspace-certs inject-ca`, the documents of served (group, kind)s applied, and
    bin/workspace-webhook run here with the rendered platform.yaml, its Service mapped
    to it. Returns (webhook, rendered docs, applied docs); the caller stops the webhook."""
    pki = d / "pki"
    run_certs("generate", "--service", "workspace-webhook", "--namespace", "workspace-system",
              "--out", pki, "--ip", "127.0.0.1")  # the IP lets a test read /metrics itself
    (d / "rendered.yaml").write_text(c.kubectl("kustomize", ROOT / "webhook" / "deploy").stdout)
    run_certs("inject-ca", "--ca", pki / "ca.crt", "--in", d / "rendered.yaml",
              "--out", d / "injected.yaml")
    docs = list(yaml.safe_load_all((d / "injected.yaml").read_text()))
    config = next(x for x in docs if x["kind"] == "ConfigMap"
                  and x["metadata"]["name"] == "workspace-platform")
    (d / "platform.yaml").write_text(config["data"]["platform.yaml"])
    w = Webhook(["--listen", "127.0.0.1:0", "--tls-cert-file", pki / "tls.crt",
                 "--tls-private-key-file", pki / "tls.key", "--config", d / "platform.yaml",
                 "--flyte-endpoint", flyte_endpoint], d, pki / "ca.crt")
    c.map_service("workspace-system", "workspace-webhook", w.port)
    keep = [x for x in docs if (x["apiVersion"].split("/")[0] if "/" in x["apiVersion"]
                                else "", x["kind"]) in kinds]
    (d / "apply.yaml").write_text(yaml.safe_dump_all(keep))
    c.kubectl("apply", "-f", d / "apply.yaml")
    return w, docs, keep
