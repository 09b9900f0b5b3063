#!/usr/bin/python3
"""Emulated kube-apiserver for the local test cluster (DESIGN.md section 8).

HTTPS (HTTP/1.1, keep-alive) server that the real kubectl and the project's
C clients talk to as if it were a real cluster: authentication, impersonation,
RBAC, discovery, OpenAPI v3, CRUD with the real semantics and Status errors,
protobuf request bodies, Table output, watches, the admission webhook chain,
and fault injection (faults.py) on every request except /_emulator/.

Usage:
  apiserver.py --listen 127.0.0.1:0 --cert FILE --key FILE --client-ca FILE
               --users FILE [--services FILE] [--port-file FILE]
"""
import argparse
import json
import logging
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

import kube_api  # noqa: E402
import kube_auth  # noqa: E402
import kube_discovery as disco  # noqa: E402
import kube_errors as errs  # noqa: E402
import kube_patch  # noqa: E402
import kube_protobuf  # noqa: E402
import kube_resources as kr  # noqa: E402
import kube_selectors as sel  # noqa: E402
import kube_table  # noqa: E402
from faults import FaultInjector  # noqa: E402
from kube_admission import Admission  # noqa: E402
from kube_errors import ApiError  # noqa: E402
from kube_store import Store  # noqa: E402

log = logging.getLogger("apiserver")

MAX_BODY = 3 * 1024 * 1024
PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")
NAMESPACES = kr.lookup("", "v1", "namespaces")



class _OptionsKind:
    """The group and kind errs.invalid names for a request's options."""
    group = "meta.k8s.io"

    def __init__(self, kind):
        self.kind = kind

class Concurrency:
    """The most requests matching a pattern (method and path?query) that were
    being served at once: how a test sees that a client sends in parallel."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pattern = None
        self.now = self.max = 0

    def reset(self, pattern):
        with self.lock:
            self.pattern = re.compile(pattern) if pattern else None
            self.now = self.max = 0

    def enter(self, line):
        with self.lock:
            if not self.pattern or not self.pattern.search(line):
                return False
            self.now += 1
            self.max = max(self.max, self.now)
            return True

    def leave(self):
        with self.lock:
            self.now -= 1


class RequestLog:
    """Every request answered (not the control API): method, path?query,
    user, User-Agent and status, oldest first, capped. How a test counts
    who wrote what (kube-apiserver's audit log carries the same fields)."""

    CAP = 200000

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []

    def add(self, entry):
        with self.lock:
            self.entries.append(entry)
            if len(self.entries) > self.CAP:
                del self.entries[:len(self.entries) - self.CAP]

    def snapshot(self):
        with self.lock:
            return list(self.entries)

    def clear(self):
        with self.lock:
            self.entries.clear()


class Cluster:
    """Everything the handlers share."""

    def __init__(self, args):
        self.store = Store(window=args.watch_window)
        self.authn = kube_auth.Authenticator(args.users)
        self.authz = kube_auth.Authorizer(self.store)
        self.admission = Admission(self.store, args.services)
        ca_pem = ""
        if args.client_ca:
            with open(args.client_ca) as f:
                ca_pem = f.read()
        self.api = kube_api.Api(self.store, self.admission, self.authn, ca_pem)
        self.openapi = disco.OpenAPI()
        self.faults = FaultInjector()
        self.concurrency = Concurrency()
        self.requests = RequestLog()
        self.bookmark_interval = args.bookmark_interval
        self.address = ""
        self.shutting_down = threading.Event()
        self._bootstrap()
        self.api.start_controllers()

    def _bootstrap(self):
        api, ctx = self.api, kube_api.Ctx(kube_auth.User("system:apiserver",
                                                         ["system:masters"]))
        roles, bindings = kube_auth.bootstrap_policy()
        crs = kr.lookup("rbac.authorization.k8s.io", "v1", "clusterroles")
        crbs = kr.lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
        for r in roles:
            api.create(ctx, crs, "", r)
        for b in bindings:
            api.create(ctx, crbs, "", b)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "flyte"):
            api.create(ctx, NAMESPACES, "", {"metadata": {"name": ns}})
        api.create(ctx, kr.lookup("", "v1", "configmaps"), "flyte", {
            "metadata": {"name": "flyte-admin-base-config", "namespace": "flyte",
                         "labels": {"app.kubernetes.io/name": "flyteadmin"}},
            "data": {"namespace_config.yaml":
                     'namespace_mapping:\n  template: "flyte-{{ project }}"\n'}})


def _quote_warning(text):
    return '299 - "%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


class ResourcePath:
    def __init__(self, res, namespace, name, subresource, watch_prefix):
        self.res = res
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
        self.watch_prefix = watch_prefix


def parse_resource_path(parts):
    """parts after /api or /apis -> ResourcePath, or None if not a resource URL."""
    if parts[0] == "api":
        group, rest = "", parts[1:]
    else:
        if len(parts) < 3:
            return None
        group, rest = parts[1], parts[2:]
    if not rest:
        return None
    version, rest = rest[0], rest[1:]
    watch = False
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
    if not rest:
        return None
    ns = ""
    if rest[0] == "namespaces" and len(rest) >= 3 and \
            not (group == "" and rest[2] in ("status", "finalize")):
        ns, rest = rest[1], rest[2:]
    res = kr.lookup(group, version, rest[0])
    if res is None:
        return None
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        return None
    if ns and not res.namespaced:
        return None
    return ResourcePath(res, ns, name, sub, watch)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulated-kube-apiserver"
    cluster = None  # set by main

    # -- connection --------------------------------------------------------
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            log.debug("TLS handshake failed: %s", e)
            self._handshake_failed = True
        else:
            self._handshake_failed = False
        self.request.settimeout(300)
        super().setup()

    def handle(self):
        if self._handshake_failed:
            return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            pass

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- responses ---------------------------------------------------------
    def send_body(self, code, body, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            if self._wants_yaml() and content_type == "application/json":
                data = yaml.safe_dump(body, sort_keys=False).encode()
                content_type = "application/yaml"
            else:
                data = json.dumps(body, separators=(",", ":")).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        for w in self.warnings:
            self.send_header("Warning", _quote_warning(w))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.status_code = code

    def send_error_status(self, err):
        warnings = getattr(err, "warnings", None)
        if warnings:
            self.warnings += warnings
        self.send_body(err.code, err.status(), headers=err.headers)

    def _wants_yaml(self):
        accept = self.headers.get("Accept", "")
        return accept.startswith("application/yaml")

    # -- request body ------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "RequestEntityTooLarge",
                                   "Request entity too large: limit is 3145728")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge",
                           "Request entity too large: limit is 3145728")
        return self.rfile.read(n) if n else b""

    def decode_body(self, raw, allow_patch=None):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0]
        ctype = ctype.strip().lower()
        if allow_patch:
            ptype = kube_patch.PATCH_TYPES.get(ctype)
            if ptype is None or ptype == "apply-cbor":
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json,"
                               " application/merge-patch+json, application/apply-patch+yaml"
                               ", application/strategic-merge-patch+json", {})
            try:
                if ptype == "apply":
                    return ptype, yaml.safe_load(raw.decode() or "{}")
                return ptype, json.loads(raw.decode() or "null")
            except (ValueError, yaml.YAMLError) as e:
                raise errs.bad_request("error decoding patch: %s" % e)
        if ctype == "application/vnd.kubernetes.protobuf":
            try:
                return kube_protobuf.decode_body(raw)[2]
            except (kube_protobuf.ProtobufError, UnicodeDecodeError, KeyError) as e:
                raise errs.bad_request("the object provided is unrecognized: %s" % e)
        try:
            if ctype in ("application/yaml", "application/x-yaml"):
                return yaml.safe_load(raw.decode())
            if ctype in ("application/json", "*/*", ""):
                return json.loads(raw.decode(), object_pairs_hook=_dup_check)
        except (ValueError, yaml.YAMLError) as e:
            raise errs.bad_request("the object provided is unrecognized: couldn't get "
                                   "version/kind; json parse error: %s" % e)
        raise errs.unsupported_media_type(ctype)

    # -- dispatch ----------------------------------------------------------
    def dispatch(self):
        c = self.cluster
        self.warnings = []
        self.status_code = 0
        self.audit_id = str(uuid.uuid4())
        t0 = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        self.params = {k: v[-1] for k, v in
                       urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        self.user = None
        try:
            if path.startswith("/_emulator/"):
                raw = self.read_body()
                self.authenticate()
                if not self.user.is_master:
                    raise errs.forbidden("", "", 'User "%s" cannot use the emulator '
                                         'control API' % self.user.username)
                self.control(path[len("/_emulator/"):], raw)
                return
            counted = c.concurrency.enter("%s %s" % (self.command, self.path))
            try:
                action = c.faults.decide(self.command, path)
                c.faults.apply_delay(action)
            finally:
                if counted:
                    c.concurrency.leave()
            if action.drop:
                self.drop()
                return
            raw = self.read_body()
            if action.status is not None:
                raise errs.from_code(action.status, action.message)
            self.authenticate()
            if self.user is kube_auth.ANONYMOUS and \
                    not any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS):
                raise errs.unauthorized()
            self.impersonate()
            self.route(path, raw)
        except ApiError as e:
            self.send_error_status(e)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - report server bugs as 500
            log.exception("internal error on %s %s", self.command, self.path)
            self.send_error_status(errs.internal(str(e)))
        finally:
            if not path.startswith("/_emulator/"):
                c.requests.add({"method": self.command, "path": self.path,
                                "user": self.user.username if self.user else "",
                                "userAgent": self.headers.get("User-Agent", ""),
                                "status": self.status_code})
            log.info("%s %s %s %d %.1fms", self.user.username if self.user else "-",
                     self.command, self.path, self.status_code,
                     (time.monotonic() - t0) * 1000)

    def drop(self):
        self.close_connection = True
        self.status_code = -1
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def control(self, sub, raw):
        c = self.cluster
        body = json.loads(raw.decode()) if raw.strip() else None
        if sub == "compact" and self.command == "POST":
            c.store.compact()
            self.send_body(200, {"compactedResourceVersion": str(c.store.rv)})
            return
        if sub == "concurrency" and self.command == "POST":
            c.concurrency.reset((body or {}).get("pattern"))
            self.send_body(200, {"max": 0})
            return
        if sub == "concurrency" and self.command == "GET":
            self.send_body(200, {"max": c.concurrency.max})
            return
        if sub == "requests" and self.command == "GET":
            self.send_body(200, {"requests": c.requests.snapshot()})
            return
        if sub == "requests" and self.command == "DELETE":
            c.requests.clear()
            self.send_body(200, {})
            return
        if sub == "state" and self.command == "GET":
            self.send_body(200, {"resourceVersion": str(c.store.rv),
                                 "oldestWatchResourceVersion": str(c.store.oldest_rv())})
            return
        code, out = c.faults.control(self.command, sub, body)
        self.send_body(code, out)

    # -- authentication ----------------------------------------------------
    def authenticate(self):
        c = self.cluster
        auth = self.headers.get("Authorization")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise errs.unauthorized()
            user = c.authn.from_token(token.strip())
            if user is None:
                raise errs.unauthorized()
            self.user = user
            return
        try:
            cert = self.connection.getpeercert()
        except (ValueError, ssl.SSLError):
            cert = None
        self.user = c.authn.from_cert(cert) or kube_auth.ANONYMOUS

    def impersonate(self):
        target = kube_auth.impersonated(self.headers)
        if target is None:
            if self.headers.get("Impersonate-Group"):
                raise errs.internal("requested [{%s}] without impersonating a user"
                                    % self.headers.get("Impersonate-Group"))
            return
        checks = [("users", target.username)] + [("groups", g) for g in
                                                 self.headers.get_all("Impersonate-Group")
                                                 or []]
        for resource, name in checks:
            a = kube_auth.Attributes(self.user, "impersonate", True, "", resource, "", "",
                                     name)
            ok, _ = self.cluster.authz.authorize(a)
            if not ok:
                raise errs.forbidden(resource, name, a.forbidden_reason(), kind=resource)
        self.user = target

    def authorize(self, attrs):
        ok, _ = self.cluster.authz.authorize(attrs)
        if not ok:
            if attrs.resource_request:
                gr = attrs.resource + ("." + attrs.group if attrs.group else "")
                raise errs.forbidden(gr, attrs.name, attrs.forbidden_reason(),
                                     group=attrs.group, kind=attrs.resource)
            raise errs.forbidden("", "", attrs.forbidden_reason())

    # -- routing -----------------------------------------------------------
    def route(self, path, raw):
        method = "GET" if self.command == "HEAD" else self.command
        clean = path.rstrip("/") or "/"
        parts = [p for p in clean.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            self.authorize(kube_auth.Attributes(self.user, method.lower(), False,
                                                path=clean))
            self.non_resource(method, clean, parts)
            return
        accept = self.headers.get("Accept", "")
        if len(parts) <= 2 or (parts[0] == "apis" and len(parts) == 3):
            self.authorize(kube_auth.Attributes(self.user, method.lower(), False,
                                                path=clean))
            if method != "GET":
                raise errs.method_not_allowed()
            self.discovery(parts, accept)
            return
        rp = parse_resource_path(parts)
        if rp is None:
            raise errs.path_not_found()
        self.resource(method, rp, raw, accept)

    def non_resource(self, method, path, parts):
        c = self.cluster
        if method != "GET":
            raise errs.method_not_allowed()
        if path == "/version":
            self.send_body(200, disco.VERSION)
        elif parts and parts[0] in ("healthz", "livez", "readyz"):
            self.send_body(200, "ok", "text/plain; charset=utf-8")
        elif path == "/openapi/v2":
            if "protobuf" in self.headers.get("Accept", ""):
                self.send_body(200, disco.openapi_v2(True), disco.OPENAPI_V2_PROTOBUF)
            else:
                self.send_body(200, disco.openapi_v2(False))
        elif path == "/openapi/v3":
            self.send_body(200, c.openapi.root())
        elif path.startswith("/openapi/v3/"):
            doc = c.openapi.document(path[len("/openapi/v3/"):])
            if doc is None:
                raise errs.path_not_found()
            self.send_body(200, doc, headers={"Cache-Control": "public, immutable",
                                              "Etag": '"%s"' % self.params.get("hash",
                                                                               "")})
        else:
            raise errs.path_not_found()

    def discovery(self, parts, accept):
        aggregated = None
        for part in accept.split(","):
            p = part.replace(" ", "")
            if p.startswith(disco.AGGREGATED_V2):
                aggregated = disco.AGGREGATED_V2
                break
            if p.startswith(disco.AGGREGATED_V2BETA1):
                aggregated = disco.AGGREGATED_V2BETA1
                break
        if parts == ["api"] or parts == ["apis"]:
            legacy = parts == ["api"]
            if aggregated:
                version = aggregated.split("v=")[1].split(";")[0]
                self.send_body(200, disco.aggregated(legacy, "apidiscovery.k8s.io/"
                                                     + version),
                               content_type=aggregated)
            elif legacy:
                self.send_body(200, disco.api_versions(self.cluster.address))
            else:
                self.send_body(200, disco.api_groups())
            return
        if parts[0] == "api":
            doc = disco.resource_list("", parts[1])
        elif len(parts) == 2:
            doc = disco.api_group(parts[1])
        else:
            doc = disco.resource_list(parts[1], parts[2])
        if doc is None:
            raise errs.path_not_found()
        self.send_body(200, doc)

    # -- resources ---------------------------------------------------------
    def _ctx(self):
        p = self.params
        dry = p.get("dryRun")
        if dry not in (None, "", "All"):
            raise errs.bad_request('dryRun: Unsupported value: "%s": supported values: '
                                   '"All"' % dry)
        fv = p.get("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise errs.bad_request("fieldValidation: Unsupported value: \"%s\": supported "
                                   "values: \"Ignore\", \"Strict\", \"Warn\"" % fv)
        manager = p.get("fieldManager") or ""
        options = {"POST": "CreateOptions", "PUT": "UpdateOptions",
                   "PATCH": "PatchOptions"}.get(self.command)
        if options:
            self._check_field_manager(options, manager)
        ctx = kube_api.Ctx(self.user, dry == "All", fv, manager)
        ctx.warnings = self.warnings
        return ctx

    @staticmethod
    def _check_field_manager(options, manager):
        """apimachinery's ValidateFieldManager: at most 128 bytes, printable."""
        problems = []
        if len(manager.encode()) > 128:
            problems.append(errs.FieldError("TooLong", "fieldManager", manager,
                                            "may not be more than 128 bytes"))
        for i, ch in enumerate(manager):
            if not ch.isprintable():
                problems.append(errs.FieldError("Invalid", "fieldManager", manager,
                                                "invalid character U+%04X (at position %d)"
                                                % (ord(ch), i)))
        if problems:
            raise errs.invalid(_OptionsKind(options), "", problems)

    def resource(self, method, rp, raw, accept):
        c = self.cluster
        res = rp.res
        watch = rp.watch_prefix or self.params.get("watch") in ("1", "true", "True")
        if method == "GET":
            verb = "watch" if watch else ("get" if rp.name else "list")
        elif method == "POST":
            verb = "create"
        elif method == "PUT":
            verb = "update"
        elif method == "PATCH":
            verb = "patch"
        elif method == "DELETE":
            verb = "delete" if rp.name else "deletecollection"
        else:
            raise errs.method_not_allowed()
        if rp.subresource:
            allowed = res.subresources.get(rp.subresource)
            if allowed is None:
                raise errs.path_not_found()
            if verb not in allowed[1]:
                raise errs.method_not_allowed()
        elif verb not in res.verbs or (verb == "create" and rp.name):
            raise errs.method_not_allowed()
        ns = rp.namespace
        if res.namespaced and not ns and verb not in ("list", "watch"):
            if rp.name:
                raise errs.path_not_found()
            raise errs.method_not_allowed()
        # like the real RequestInfo, a namespace is its own namespace for RBAC
        authz_ns = rp.name if res is NAMESPACES else ns
        attrs = kube_auth.Attributes(self.user, verb, True, res.group, res.plural,
                                     rp.subresource, authz_ns, rp.name)
        self.authorize(attrs)
        api = c.api
        if res.virtual:
            body = self.decode_body(raw)
            self.send_body(201, self.review(res, body))
            return
        if verb == "watch":
            self.watch(res, ns, accept)
            return
        if verb == "list":
            items, meta = api.list(res, ns, self.params)
            self.send_list(res, items, meta, accept)
            return
        if verb == "get":
            obj = api.get(res, ns, rp.name)
            self.send_object(200, res, obj, accept)
            return
        ctx = self._ctx()
        if verb == "create":
            if rp.subresource == "token":
                self.token_request(rp, raw)
                return
            body = self.decode_body(raw)
            obj = api.create(ctx, res, ns, body)
            self.send_object(201, res, obj, accept)
        elif verb == "update":
            body = self.decode_body(raw)
            obj, created = api.update(ctx, res, ns, rp.name, body, rp.subresource)
            self.send_object(201 if created else 200, res, obj, accept)
        elif verb == "patch":
            ptype, patch = self.decode_body(raw, allow_patch=True)
            if ptype == "apply" and not ctx.field_manager:
                raise errs.invalid(_OptionsKind("PatchOptions"), "", [errs.FieldError(
                    "Required", "fieldManager", detail="is required for apply patch")])
            obj, created = api.patch(ctx, res, ns, rp.name, ptype, patch, rp.subresource)
            self.send_object(201 if created else 200, res, obj, accept)
        elif verb == "delete":
            options = self._delete_options(raw)
            ctx.dry_run = ctx.dry_run or "All" in (options.get("dryRun") or [])
            obj = api.delete(ctx, res, ns, rp.name, options)
            self.send_object(200, res, obj, accept)
        elif verb == "deletecollection":
            options = self._delete_options(raw)
            ctx.dry_run = ctx.dry_run or "All" in (options.get("dryRun") or [])
            out = api.delete_collection(ctx, res, ns, self.params, options)
            self.send_body(200, out)

    def _delete_options(self, raw):
        options = {}
        if raw.strip():
            body = self.decode_body(raw)
            if isinstance(body, dict):
                options = body
        if self.params.get("dryRun") == "All":
            options.setdefault("dryRun", ["All"])
        for k in ("propagationPolicy", "gracePeriodSeconds"):
            if k in self.params:
                options[k] = self.params[k]
        return options

    # -- output ------------------------------------------------------------
    def _output_as(self, accept):
        """'table', 'partial', or 'object' from the Accept header."""
        for part in accept.split(","):
            p = part.replace(" ", "").lower()
            if "as=table" in p and "g=meta.k8s.io" in p:
                return "table", "meta.k8s.io/" + ("v1beta1" if "v=v1beta1" in p else "v1")
            if "as=partialobjectmetadata" in p and "g=meta.k8s.io" in p:
                return "partial", "meta.k8s.io/" + ("v1beta1" if "v=v1beta1" in p
                                                    else "v1")
            if p.startswith("application/json") or p.startswith("*/*") or \
                    p.startswith("application/vnd.kubernetes.protobuf") or \
                    p.startswith("application/yaml") or p == "":
                return "object", ""
        if accept.strip():
            raise ApiError(406, "NotAcceptable",
                           "only the following media types are accepted: "
                           "application/json, application/yaml, "
                           "application/vnd.kubernetes.protobuf", {})
        return "object", ""

    def send_object(self, code, res, obj, accept):
        mode, av = self._output_as(accept) if obj.get("kind") != "Status" else \
            ("object", "")
        if mode == "table":
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            self.send_body(code, kube_table.table(res, [obj], meta,
                                                  self.params.get("includeObject",
                                                                  "Metadata"), av))
        elif mode == "partial":
            self.send_body(code, kube_table.partial_metadata(obj, av))
        else:
            self.send_body(code, obj)

    def send_list(self, res, items, meta, accept):
        mode, av = self._output_as(accept)
        if mode == "table":
            self.send_body(200, kube_table.table(res, items, meta,
                                                 self.params.get("includeObject",
                                                                 "Metadata"), av))
        elif mode == "partial":
            self.send_body(200, {"kind": "PartialObjectMetadataList", "apiVersion": av,
                                 "metadata": meta,
                                 "items": [kube_table.partial_metadata(o, av)
                                           for o in items]})
        else:
            strip = res.model is not None
            self.send_body(200, {"kind": res.kind + "List", "apiVersion": res.api_version,
                                 "metadata": meta,
                                 "items": [kube_api.strip_type(o) if strip else o
                                           for o in items]})

    # -- reviews and tokens -------------------------------------------------
    def review(self, res, body):
        if not isinstance(body, dict):
            raise errs.bad_request("the object provided is unrecognized")
        out = dict(body)
        out["apiVersion"], out["kind"] = res.api_version, res.kind
        out.setdefault("metadata", {})
        out["metadata"].setdefault("creationTimestamp", None)
        if res.kind == "SelfSubjectReview":
            out["status"] = {"userInfo": self.user.info()}
            return out
        spec = dict(out.get("spec") or {})
        if res.kind == "SelfSubjectRulesReview":
            rules, non_resource = self.cluster.authz.rules_for(self.user,
                                                               spec.get("namespace", ""))
            out["status"] = {"resourceRules": rules, "nonResourceRules": non_resource,
                             "incomplete": False}
            return out
        if res.kind == "SelfSubjectAccessReview":
            who = self.user
        else:
            if not spec.get("user") and not spec.get("groups"):
                raise errs.invalid(res, "", [errs.FieldError(
                    "Invalid", "spec.user", "",
                    "at least one of user or group must be specified")])
            who = kube_auth.User(spec.get("user", ""), spec.get("groups") or [],
                                 spec.get("uid", ""))
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if ra:
            a = kube_auth.Attributes(who, ra.get("verb", ""), True, ra.get("group", ""),
                                     ra.get("resource", ""), ra.get("subresource", ""),
                                     ra.get("namespace", ""), ra.get("name", ""))
        elif nra:
            a = kube_auth.Attributes(who, nra.get("verb", ""), False,
                                     path=nra.get("path", ""))
        else:
            raise errs.invalid(res, "", [errs.FieldError(
                "Invalid", "spec.resourceAttributes", None,
                "exactly one of nonResourceAttributes or resourceAttributes must be "
                "specified")])
        ok, reason = self.cluster.authz.authorize(a)
        out["spec"] = spec
        out["status"] = {"allowed": ok}
        if reason:
            out["status"]["reason"] = reason
        return out

    def token_request(self, rp, raw):
        c = self.cluster
        body = self.decode_body(raw) or {}
        sa = c.api.get(rp.res, rp.namespace, rp.name)
        spec = dict(body.get("spec") or {})
        seconds = int(spec.get("expirationSeconds") or 3600)
        if seconds < 600:
            raise errs.invalid(kr.lookup("", "v1", "serviceaccounts"), rp.name, [
                errs.FieldError("Invalid", "spec.expirationSeconds", seconds,
                                "may not specify a duration less than 10 minutes")])
        spec["expirationSeconds"] = seconds
        spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
        token = c.authn.issue_sa_token(rp.namespace, rp.name, sa["metadata"].get("uid"),
                                       seconds)
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
        self.send_body(201, {"kind": "TokenRequest",
                             "apiVersion": "authentication.k8s.io/v1",
                             "metadata": {"name": rp.name, "namespace": rp.namespace,
                                          "creationTimestamp": kube_api.now()},
                             "spec": spec,
                             "status": {"token": token, "expirationTimestamp": exp}})

    # -- watch -------------------------------------------------------------
    def watch(self, res, ns, accept):
        c = self.cluster
        store = c.store
        p = self.params
        label_reqs = sel.label_selector(p.get("labelSelector", ""))
        field_reqs = sel.parse_field_selector(p.get("fieldSelector", ""), res.kind)
        mode, av = self._output_as(accept)
        bookmarks = p.get("allowWatchBookmarks") in ("1", "true", "True")
        send_initial = p.get("sendInitialEvents") in ("1", "true", "True")
        try:
            timeout = float(p.get("timeoutSeconds") or 1800)
        except ValueError:
            raise errs.bad_request("timeoutSeconds: invalid value")
        rv_param = p.get("resourceVersion", "")
        initial = []
        expired = False
        with store.lock:
            if rv_param in ("", "0") or send_initial:
                initial, last_rv = store.list(res, (ns or None) if res.namespaced else None)
            else:
                try:
                    last_rv = int(rv_param)
                except ValueError:
                    raise errs.bad_request("resourceVersion: Invalid value: %r: must be "
                                           "a valid resource version" % rv_param)
                if store.events_after(last_rv) is None:
                    expired = True

        def matches(o):
            md = o.get("metadata") or {}
            if res.namespaced and ns and md.get("namespace") != ns:
                return False
            if label_reqs and not sel.matches_requirements(label_reqs, md.get("labels")):
                return False
            if field_reqs and not sel.matches_fields(field_reqs, o):
                return False
            return True

        def encode(obj):
            if mode == "table":
                return kube_table.table(res, [obj], {"resourceVersion": obj["metadata"].get(
                    "resourceVersion", "")}, p.get("includeObject", "Metadata"), av)
            if mode == "partial":
                return kube_table.partial_metadata(obj, av)
            return obj

        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        for w in self.warnings:
            self.send_header("Warning", _quote_warning(w))
        self.end_headers()
        self.status_code = 200
        self.close_connection = False

        def write(typ, obj):
            data = json.dumps({"type": typ, "object": obj},
                              separators=(",", ":")).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def bookmark(rv, initial_end=False):
            md = {"resourceVersion": str(rv), "creationTimestamp": None}
            if initial_end:
                md["annotations"] = {"k8s.io/initial-events-end": "true"}
            write("BOOKMARK", {"kind": res.kind, "apiVersion": res.api_version,
                               "metadata": md})

        def expired_event(rv):
            err = errs.gone("too old resource version: %s (%d)" % (rv, store.oldest_rv()))
            write("ERROR", err.status())

        try:
            if expired:
                expired_event(rv_param)
            else:
                for o in initial:
                    if matches(o):
                        write("ADDED", encode(o))
                if send_initial and bookmarks:
                    bookmark(last_rv, True)
                deadline = time.monotonic() + timeout
                last_bookmark = time.monotonic()
                while not c.shutting_down.is_set():
                    evs = store.events_after(last_rv)
                    if evs is None:
                        expired_event(last_rv)
                        break
                    for ev in evs:
                        last_rv = ev.rv
                        if ev.res is not res:
                            continue
                        now_match = matches(ev.obj)
                        was_match = ev.old is not None and matches(ev.old)
                        if ev.type == "MODIFIED":
                            if now_match and not was_match:
                                write("ADDED", encode(ev.obj))
                            elif now_match:
                                write("MODIFIED", encode(ev.obj))
                            elif was_match:
                                write("DELETED", encode(ev.obj))
                        elif now_match:
                            write(ev.type, encode(ev.obj))
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    if bookmarks and time.monotonic() - last_bookmark >= \
                            c.bookmark_interval:
                        bookmark(store.rv if not evs else last_rv)
                        last_bookmark = time.monotonic()
                    with store.lock:
                        if store.rv == last_rv:
                            store.cond.wait(min(remaining, 0.5, c.bookmark_interval))
                    if self._client_gone():
                        return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (ConnectionError, ssl.SSLError, OSError):
            self.close_connection = True

    def _client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            self.connection.settimeout(0.01)
            try:
                data = self.connection.recv(1)
            except (ssl.SSLWantReadError, socket.timeout, BlockingIOError):
                return False
            finally:
                self.connection.settimeout(300)
            return data == b""
        except (OSError, ValueError):
            return True


def _dup_check(pairs):
    d = {}
    for k, v in pairs:
        d[k] = v
    return d


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not delay exit
    allow_reuse_address = True
    request_queue_size = 256


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca")
    ap.add_argument("--users", help="JSON {tokens: {token: {username, uid, groups}}}")
    ap.add_argument("--services", help="JSON {\"ns/name\": \"127.0.0.1:PORT\"}")
    ap.add_argument("--port-file")
    ap.add_argument("--watch-window", type=int, default=1000,
                    help="watch events retained for resuming (older RVs get 410)")
    ap.add_argument("--bookmark-interval", type=float, default=1.0)
    ap.add_argument("--log-level", default=os.environ.get("APISERVER_LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, _, port = args.listen.rpartition(":")
    cluster = Cluster(args)
    Handler.cluster = cluster
    server = Server((host or "127.0.0.1", int(port)), Handler)
    server.socket = make_context(args).wrap_socket(server.socket, server_side=True,
                                                   do_handshake_on_connect=False)
    bound = server.server_address[1]
    cluster.address = "%s:%d" % (host or "127.0.0.1", bound)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % bound)
        os.replace(tmp, args.port_file)
    log.info("serving on https://%s", cluster.address)

    def stop(*_):
        cluster.shutting_down.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    import signal
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        cluster.api.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
