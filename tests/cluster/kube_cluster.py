"""Test-side client of the local cluster, shared by tests/conftest.py and any
test module that needs a cluster of its own: `Cluster` (kubectl, REST, Flyte,
fault injection, service mapping, certificates) and `read_env_file`.

Import it as `from kube_cluster import Cluster, read_env_file, CLUSTER_DIR`
(with tests/cluster on sys.path), which avoids importing a `conftest` module
by name.
"""
import base64
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import pytest

CLUSTER_DIR = Path(__file__).resolve().parent
ROOT = CLUSTER_DIR.parent.parent
# The programs under test: the default build's bin/, or another build's
# (make sets KW_BIN_DIR to the programs of the build it was asked for).
BIN_DIR = Path(os.environ.get("KW_BIN_DIR") or ROOT / "bin")
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"

# kubectl's own commands; anything else is a plugin (kubectl-<name> on PATH),
# which gets no --cache-dir (kubectl refuses flags before a plugin name).
KUBECTL_BUILTINS = {
    "alpha", "annotate", "api-resources", "api-versions", "apply", "attach", "auth",
    "autoscale", "certificate", "cluster-info", "completion", "config", "cordon", "cp",
    "create", "debug", "delete", "describe", "diff", "drain", "edit", "events", "exec",
    "explain", "expose", "get", "help", "kustomize", "label", "logs", "options",
    "patch", "plugin", "port-forward", "proxy", "replace", "rollout", "run", "scale",
    "set", "taint", "top", "uncordon", "version", "wait",
}

# short user names accepted by .api(user=...) -> (token file, full user name)
USERS = {
    "admin": ("admin.token", "admin"),
    "alice": ("alice.token", "alice@company.com"),
    "alice@company.com": ("alice.token", "alice@company.com"),
    "bob": ("bob.token", "bob@company.com"),
    "bob@company.com": ("bob.token", "bob@company.com"),
    "tokenfile-user": ("tokenfile-user.token", "tokenfile-user"),
    "exec-user": ("exec-user.token", "exec-user"),
}


def e2e_mode():
    """True when KW_E2E_* point the tests at a real cluster and flyteadmin."""
    return bool(os.environ.get("KW_E2E_KUBECONFIG") and os.environ.get("KW_E2E_FLYTE_URL"))


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                env[k] = v
    return env


class Cluster:
    def __init__(self, directory, env, bin_dir, emulated=True):
        self.dir = Path(directory)
        self.env = dict(env)
        self.bin_dir = Path(bin_dir)
        self.emulated = emulated
        self.cache_dir = self.dir / "kubectl-cache"
        self._api_url = None
        self._ssl = None
        self._auth = None  # e2e: (headers, ssl context) from the kubeconfig
        if emulated:
            self._api_url = self.env["KUBE_APISERVER_URL"]
            self._ssl = ssl.create_default_context(cafile=self.env["KUBE_CA_FILE"])
        else:
            self._load_kubeconfig()

    # ---- processes ------------------------------------------------------
    def environ(self, env=None):
        e = dict(os.environ)
        e.update(self.env)
        e["PATH"] = str(self.bin_dir) + os.pathsep + e.get("PATH", "")
        if env:
            e.update(env)
        return e

    def run(self, args, env=None, input=None, check=True, timeout=120):
        """Run a command with the cluster env and bin/ first on PATH."""
        r = subprocess.run([str(a) for a in args], env=self.environ(env), input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("command failed (exit %d): %s\n--- stdout:\n%s\n--- "
                                 "stderr:\n%s" % (r.returncode, " ".join(map(str, args)),
                                                  r.stdout, r.stderr))
        return r

    def kubectl(self, *args, input=None, check=True, context=None, env=None, timeout=120):
        """Run the real kubectl with this cluster's KUBECONFIG and a cache dir of
        its own. For a plugin (`kubectl workspace ...`) kubectl takes no flags
        before the plugin's name, so no --cache-dir is added and `context` is
        passed as `--context NAME` after the plugin's arguments (before `--`)."""
        args = [str(a) for a in args]
        extra = ["--cache-dir", str(self.cache_dir)]
        if context:
            extra += ["--context", context]
        if not args or args[0].startswith("-"):
            argv = extra + args
        elif args[0] in KUBECTL_BUILTINS:
            argv = args[:1] + extra + args[1:]
        else:
            # a plugin: kubectl passes everything after its name through untouched
            ctx = ["--context", context] if context else []
            if "--" in args:
                i = args.index("--")
                argv = args[:i] + ctx + args[i:]
            else:
                argv = args + ctx
        return self.run([KUBECTL] + argv, env=env, input=input, check=check,
                        timeout=timeout)

    # ---- REST -----------------------------------------------------------
    def _load_kubeconfig(self):
        import yaml
        path = self.env["KUBECONFIG"].split(os.pathsep)[0]
        with open(path) as f:
            cfg = yaml.safe_load(f)
        cur = cfg.get("current-context")
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == cur)
        cl = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        us = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        self._api_url = cl["server"]
        sctx = ssl.create_default_context()
        if cl.get("certificate-authority-data"):
            sctx.load_verify_locations(cadata=base64.b64decode(
                cl["certificate-authority-data"]).decode())
        elif cl.get("certificate-authority"):
            sctx.load_verify_locations(cl["certificate-authority"])
        if cl.get("insecure-skip-tls-verify"):
            sctx.check_hostname = False
            sctx.verify_mode = ssl.CERT_NONE
        headers = {}
        if us.get("token"):
            headers["Authorization"] = "Bearer " + us["token"]
        elif us.get("tokenFile"):
            headers["Authorization"] = "Bearer " + open(us["tokenFile"]).read().strip()
        if us.get("client-certificate-data"):
            tmp = tempfile.mkdtemp(prefix="kw-e2e-")
            cp, kp = os.path.join(tmp, "c.crt"), os.path.join(tmp, "c.key")
            with open(cp, "wb") as f:
                f.write(base64.b64decode(us["client-certificate-data"]))
            with open(kp, "wb") as f:
                f.write(base64.b64decode(us["client-key-data"]))
            sctx.load_cert_chain(cp, kp)
            shutil.rmtree(tmp)
        self._ssl = sctx
        self._auth = headers

    def _auth_headers(self, user):
        if user is None:
            return {}
        if self.emulated:
            token_file, _ = USERS.get(user, (user + ".token", user))
            with open(self.dir / token_file) as f:
                return {"Authorization": "Bearer " + f.read().strip()}
        headers = dict(self._auth)
        if user != "admin":
            headers["Impersonate-User"] = USERS.get(user, (None, user))[1]
        return headers

    def _connect(self, url, context, timeout):
        u = urllib.parse.urlsplit(url)
        return http.client.HTTPSConnection(u.hostname, u.port or 443, context=context,
                                           timeout=timeout)

    def request(self, method, path, body=None, user="admin",
                content_type="application/json", headers=None, timeout=30):
        """(status, headers (list of pairs), raw body bytes)."""
        h = {"Accept": "application/json"}
        h.update(self._auth_headers(user))
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            h["Content-Type"] = content_type
        h.update(headers or {})
        conn = self._connect(self._api_url, self._ssl, timeout)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def api(self, method, path, body=None, user="admin", content_type="application/json"):
        status, headers, raw = self.request(method, path, body, user, content_type)
        return status, _decode(headers, raw)

    def update(self, path, change, user="admin", attempts=20):
        """Read the object at path, change(obj) it in place, PUT it back; on
        409 (it changed in between: a quota's status, a controller's edit)
        read it again and retry. Returns the stored object."""
        for _ in range(attempts):
            status, obj = self.api("GET", path, user=user)
            assert status == 200, (path, status, obj)
            change(obj)
            status, out = self.api("PUT", path, obj, user=user)
            if status != 409:
                assert status == 200, (path, status, out)
                return out
        raise AssertionError("%s kept conflicting (%d attempts)" % (path, attempts))

    def stream(self, path, user="admin", timeout=10):
        """Yield the events of a watch (path must ask for watch=1)."""
        h = {"Accept": "application/json"}
        h.update(self._auth_headers(user))
        conn = self._connect(self._api_url, self._ssl, timeout)
        try:
            conn.request("GET", path, headers=h)
            resp = conn.getresponse()
            if resp.status != 200:
                raise AssertionError("watch %s: HTTP %d %s" % (path, resp.status,
                                                               resp.read()))
            while True:
                try:
                    line = resp.readline()
                except (socket.timeout, TimeoutError):
                    return
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()

    def flyte(self, method, path, body=None):
        url = self.env["FLYTE_PLATFORM_URL"]
        ca = self.env.get("FLYTE_PLATFORM_CA_CERT_FILE_PATH")
        ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        if not ca and os.environ.get("KW_E2E_FLYTE_INSECURE"):
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        conn = self._connect(url, ctx, 30)
        try:
            h = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode() if not isinstance(body, (str, bytes)) \
                    else (body.encode() if isinstance(body, str) else body)
                h["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return resp.status, _decode(resp.getheaders(), resp.read())
        finally:
            conn.close()

    # ---- emulator control ----------------------------------------------
    def _control(self, server, method, sub, body=None):
        if not self.emulated:
            pytest.skip("fault injection needs the emulated cluster")
        if server in ("apiserver", "kube", "kubernetes"):
            status, _, raw = self.request(method, "/_emulator/" + sub, body)
            out = _decode([("Content-Type", "application/json")], raw)
        elif server in ("flyte", "flyteadmin"):
            url = self.env["FLYTE_PLATFORM_URL"]
            ctx = ssl.create_default_context(
                cafile=self.env["FLYTE_PLATFORM_CA_CERT_FILE_PATH"])
            conn = self._connect(url, ctx, 30)
            try:
                data = json.dumps(body).encode() if body is not None else None
                conn.request(method, "/_emulator/" + sub, body=data,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                status, out = resp.status, _decode([("Content-Type",
                                                     "application/json")], resp.read())
            finally:
                conn.close()
        else:
            raise ValueError("server must be 'apiserver' or 'flyte', not %r" % server)
        if not 200 <= status < 300:
            raise AssertionError("emulator control %s %s: HTTP %d %s"
                                 % (method, sub, status, out))
        return out

    def fault(self, server, **rule):
        """Add a fault rule (keys: method, path, count, status, delay_ms, drop,
        message); returns its id."""
        return self._control(server, "POST", "faults", rule)["id"]

    def latency(self, server, ms):
        return self._control(server, "POST", "latency", {"delay_ms": ms})

    def faults(self, server):
        return self._control(server, "GET", "faults")

    def requests(self):
        """The API server's request log: [{method, path, user, userAgent, status}]."""
        return self._control("apiserver", "GET", "requests")["requests"]

    def clear_requests(self):
        self._control("apiserver", "DELETE", "requests")

    def clear_faults(self):
        if not self.emulated:
            return
        self._control("apiserver", "DELETE", "faults")
        self._control("flyte", "DELETE", "faults")

    def compact(self):
        """Drop the apiserver's retained watch events (older RVs get 410)."""
        return self._control("apiserver", "POST", "compact")

    def map_service(self, namespace, name, port):
        """Route webhook calls for Service namespace/name to 127.0.0.1:port."""
        if not self.emulated:
            pytest.skip("service mapping needs the emulated cluster")
        path = self.dir / "services.json"
        try:
            data = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            data = {}
        data["%s/%s" % (namespace, name)] = "127.0.0.1:%d" % int(port)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)

    def issue_cert(self, cn, dns=(), ips=()):
        """A serving certificate signed by the cluster CA: (cert path, key path)."""
        if not self.emulated:
            pytest.skip("issuing certificates needs the emulated cluster's CA key")
        import kube_certs  # beside this module
        ca_key = (self.dir / "ca.key").read_text()
        ca_crt = (self.dir / "ca.crt").read_text()
        key, crt = kube_certs.issue(ca_key, ca_crt, cn, dns=dns, ips=ips)
        out = Path(tempfile.mkdtemp(prefix="cert-", dir=self.dir))
        (out / "tls.crt").write_text(crt)
        (out / "tls.key").write_text(key)
        return str(out / "tls.crt"), str(out / "tls.key")

    @property
    def ca_pem(self):
        return (self.dir / "ca.crt").read_text()


def _decode(headers, raw):
    ctype = dict((k.lower(), v) for k, v in headers).get("content-type", "")
    text = raw.decode("utf-8", "replace")
    if "json" in ctype:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def private_cluster(tmp_path_factory, bin_dir, name):
    """A generator for a module fixture: a local cluster of the module's own
    (for suites whose webhooks, faults or controllers must not meet others'),
    stopped at the end. Skips on a real cluster (KW_E2E_*)."""
    if e2e_mode():
        pytest.skip("this module needs a local cluster of its own")
    d = tmp_path_factory.mktemp(name)
    r = subprocess.run([str(CLUSTER_DIR / "up"), str(d)], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        subprocess.run([str(CLUSTER_DIR / "down"), str(d)], capture_output=True)
        raise RuntimeError("tests/cluster/up failed:\n%s%s" % (r.stdout, r.stderr))
    try:
        yield Cluster(d, read_env_file(d / "env"), bin_dir)
    finally:
        subprocess.run([str(CLUSTER_DIR / "down"), str(d)], capture_output=True, timeout=60)
