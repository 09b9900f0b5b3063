"""The dynamic admission chain: reads the Mutating/ValidatingWebhookConfigurations
stored in the emulator, matches rules / namespaceSelector / objectSelector /
matchConditions (CEL, the subset in kube_cel),
sends an admission.k8s.io/v1 AdmissionReview over HTTPS (HTTP/1.1, TLS 1.2+,
caBundle verified for <svc>.<ns>.svc or the URL host, `?timeout=Ns`), applies
the returned JSON Patch with python3-jsonpatch, and honours failurePolicy,
timeoutSeconds and reinvocationPolicy, with the real server's error messages.

Webhooks given as a Service are reached at the loopback address mapped for
"<namespace>/<name>" in the services file (re-read on every call).
"""
import base64
import http.client
import json
import logging
import socket
import ssl
import time
import urllib.parse
import uuid

import jsonpatch

import kube_cel
import kube_resources as kr
from kube_errors import ApiError, internal
from kube_selectors import matches_label_selector_object

log = logging.getLogger("admission")

MUTATING = kr.lookup("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations")
VALIDATING = kr.lookup("admissionregistration.k8s.io", "v1",
                       "validatingwebhookconfigurations")
NAMESPACES = kr.lookup("", "v1", "namespaces")


class Request:
    """What is being admitted."""

    def __init__(self, res, operation, user, name="", namespace="", subresource="",
                 obj=None, old=None, dry_run=False, options=None):
        self.res = res
        self.operation = operation
        self.user = user
        self.name = name
        self.namespace = namespace
        self.subresource = subresource
        self.obj = obj
        self.old = old
        self.dry_run = dry_run
        self.options = options


def _split(resource):
    if "/" in resource:
        return resource.split("/", 1)
    return resource, ""


def rule_matches(rule, req):
    ops = rule.get("operations") or []
    if "*" not in ops and req.operation not in ops:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and req.res.group not in groups:
        return False
    versions = rule.get("apiVersions") or []
    if "*" not in versions and req.res.version not in versions:
        return False
    ok = False
    for r in rule.get("resources") or []:
        rr, rs = _split(r)
        if (rr == "*" or rr == req.res.plural) and (rs == "*" or rs == req.subresource):
            ok = True
            break
    if not ok:
        return False
    scope = rule.get("scope") or "*"
    if scope == "Cluster" and req.res.namespaced:
        return False
    if scope == "Namespaced" and not req.res.namespaced:
        return False
    return True


class TransportError(Exception):
    """The webhook could not be called, or answered something unusable."""

    def __init__(self, message, invalid_response=False):
        super().__init__(message)
        self.invalid_response = invalid_response


class _Conn(http.client.HTTPSConnection):
    """HTTPS to a loopback address while verifying another host name."""

    def __init__(self, verify_host, connect_host, port, context, timeout):
        super().__init__(verify_host, port, context=context, timeout=timeout)
        self._connect_host = connect_host

    def connect(self):
        sock = socket.create_connection((self._connect_host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _go_error(e, host, port):
    if isinstance(e, ssl.SSLCertVerificationError):
        msg = e.verify_message or str(e)
        if "Hostname mismatch" in msg or "IP address mismatch" in msg:
            return "tls: failed to verify certificate: x509: certificate is not valid " \
                   "for %s" % host
        return "tls: failed to verify certificate: x509: certificate signed by " \
               "unknown authority"
    if isinstance(e, ConnectionRefusedError):
        return "dial tcp %s:%s: connect: connection refused" % (host, port)
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "context deadline exceeded"
    if isinstance(e, (ConnectionResetError, http.client.RemoteDisconnected,
                      BrokenPipeError)):
        return "EOF"
    return str(e) or e.__class__.__name__


class Admission:
    def __init__(self, store, services_file=None):
        self.store = store
        self.services_file = services_file

    # -- endpoint resolution -----------------------------------------------
    def _services(self):
        if not self.services_file:
            return {}
        try:
            with open(self.services_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _endpoint(self, cc, timeout):
        """(display URL, connect host, port, verify host, path+query)."""
        suffix = "timeout=%ds" % timeout
        if cc.get("url"):
            u = urllib.parse.urlsplit(cc["url"])
            path = u.path or "/"
            query = (u.query + "&" if u.query else "") + suffix
            port = u.port or 443
            display = "%s://%s%s?%s" % (u.scheme, u.netloc, path, query)
            return display, u.hostname, port, u.hostname, path + "?" + query
        svc = cc.get("service") or {}
        name, ns = svc.get("name", ""), svc.get("namespace", "")
        port = svc.get("port", 443)
        path = svc.get("path") or "/"
        host = "%s.%s.svc" % (name, ns)
        display = "https://%s:%d%s?%s" % (host, port, path, suffix)
        mapped = self._services().get("%s/%s" % (ns, name))
        if not mapped:
            raise TransportError('Post "%s": service "%s" not found' % (display, name))
        chost, _, cport = mapped.rpartition(":")
        return display, chost or "127.0.0.1", int(cport), host, path + "?" + suffix

    def _post(self, webhook, review):
        timeout = webhook.get("timeoutSeconds") or 10
        cc = webhook.get("clientConfig") or {}
        display, chost, cport, vhost, target = self._endpoint(cc, timeout)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        bundle = cc.get("caBundle")
        try:
            if bundle:
                ctx.load_verify_locations(cadata=base64.b64decode(bundle).decode())
            else:
                ctx.load_default_certs()
        except (ssl.SSLError, ValueError) as e:
            raise TransportError('Post "%s": tls: failed to load caBundle: %s'
                                 % (display, e))
        body = json.dumps(review).encode()
        deadline = time.monotonic() + timeout
        conn = _Conn(vhost, chost, cport, ctx, timeout)
        try:
            conn.request("POST", target, body=body, headers={
                "Content-Type": "application/json", "Accept": "application/json, */*",
                "User-Agent": "kube-apiserver-admission"})
            conn.sock.settimeout(max(0.05, deadline - time.monotonic()))
            resp = conn.getresponse()
            data = resp.read()
        except Exception as e:  # noqa: BLE001 - every transport failure is reported
            raise TransportError('Post "%s": %s' % (display, _go_error(e, chost, cport)))
        finally:
            conn.close()
        if resp.status < 200 or resp.status >= 300:
            text = data.decode("utf-8", "replace").strip()
            if text:
                raise TransportError('an error on the server ("%s") has prevented the '
                                     'request from succeeding' % text[:200])
            raise TransportError("the server responded with the status code %d but did "
                                 "not return more information" % resp.status)
        try:
            out = json.loads(data)
        except ValueError as e:
            raise TransportError("received invalid webhook response: %s" % e, True)
        return out

    # -- matching ----------------------------------------------------------
    def _namespace_labels(self, req):
        if req.res is NAMESPACES:
            o = req.obj if req.obj is not None else req.old
            return ((o or {}).get("metadata") or {}).get("labels") or {}
        if not req.res.namespaced:
            return None
        ns = self.store.get(NAMESPACES, "", req.namespace)
        return ((ns or {}).get("metadata") or {}).get("labels") or {}

    def _matches(self, w, req):
        if not any(rule_matches(r, req) for r in w.get("rules") or []):
            return False
        ns_labels = self._namespace_labels(req)
        if ns_labels is not None and not matches_label_selector_object(
                w.get("namespaceSelector"), ns_labels):
            return False
        sel = w.get("objectSelector")
        if sel:
            labels_new = ((req.obj or {}).get("metadata") or {}).get("labels") or {}
            labels_old = ((req.old or {}).get("metadata") or {}).get("labels") or {}
            hit = (req.obj is not None and matches_label_selector_object(sel, labels_new)) \
                or (req.old is not None and matches_label_selector_object(sel, labels_old))
            if not hit:
                return False
        return self._match_conditions(w, req)

    def _match_conditions(self, w, req):
        """CEL matchConditions (GA in 1.30), after rules and selectors: any
        false skips the webhook; otherwise an error fails the request under
        failurePolicy Fail and skips the webhook under Ignore."""
        conds = w.get("matchConditions") or []
        if not conds:
            return True
        env = {"object": req.obj, "oldObject": req.old,
               "request": self._review(req, req.obj)["request"]}
        error = None
        for mc in conds:
            try:
                v = kube_cel.evaluate(kube_cel.compile_expr(mc.get("expression", "")), env)
                if not isinstance(v, bool):
                    raise kube_cel.CelError("expression must evaluate to bool")
            except kube_cel.CelError as e:
                error = error or "expression '%s' resulted in error: %s" % (
                    mc.get("name", ""), e)
                continue
            if not v:
                return False
        if error is None:
            return True
        if w.get("failurePolicy", "Fail") == "Ignore":
            log.warning("match conditions of webhook %r failed (ignored): %s",
                        w.get("name", ""), error)
            return False
        raise internal('failed calling webhook "%s": failed evaluating match conditions: %s'
                       % (w.get("name", ""), error))

    def _webhooks(self, res_cfg):
        out = []
        cfgs, _ = self.store.list(res_cfg)
        for cfg in sorted(cfgs, key=lambda c: c["metadata"]["name"]):
            for w in cfg.get("webhooks") or []:
                out.append(w)
        return out

    # -- review ------------------------------------------------------------
    def _review(self, req, obj):
        gvk = {"group": req.res.group, "version": req.res.version, "kind": req.res.kind}
        gvr = {"group": req.res.group, "version": req.res.version,
               "resource": req.res.plural}
        r = {"uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr}
        if req.subresource:
            r["subResource"] = req.subresource
        r["requestKind"] = dict(gvk)
        r["requestResource"] = dict(gvr)
        if req.subresource:
            r["requestSubResource"] = req.subresource
        if req.name:
            r["name"] = req.name
        # like RequestInfo, a Namespace is in its own namespace
        namespace = req.name if req.res is NAMESPACES else req.namespace
        if namespace:
            r["namespace"] = namespace
        r["operation"] = req.operation
        r["userInfo"] = req.user.info()
        # runtime.RawExtension fields: always present, null when there is none
        r["object"] = obj
        r["oldObject"] = req.old
        r["dryRun"] = bool(req.dry_run)
        if req.options is not None:
            r["options"] = req.options
        return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
                "request": r}

    def _call(self, w, req, obj, mutating):
        """Run one webhook; return (new object or None, warnings)."""
        name = w.get("name", "")
        review = self._review(req, obj)
        try:
            out = self._post(w, review)
            resp = (out or {}).get("response")
            if not isinstance(resp, dict):
                raise TransportError("received invalid webhook response: "
                                     "response was absent", True)
            if resp.get("uid") != review["request"]["uid"]:
                raise TransportError('expected response.uid="%s", got "%s"'
                                     % (review["request"]["uid"], resp.get("uid", "")),
                                     True)
        except TransportError as e:
            if w.get("failurePolicy", "Fail") == "Ignore":
                log.warning("failed calling webhook %r (ignored): %s", name, e)
                return None, []
            raise internal('failed calling webhook "%s": %s%s' % (
                name, "" if e.invalid_response else "failed to call webhook: ", e))
        warnings = [str(x) for x in resp.get("warnings") or []]
        if not resp.get("allowed"):
            st = dict(resp.get("status") or {})
            code = st.get("code") or 0
            if code < 400:
                code = 400
            denied = 'admission webhook "%s" denied the request' % name
            if st.get("message"):
                message = "%s: %s" % (denied, st["message"])
            elif st.get("reason"):
                message = "%s: %s" % (denied, st["reason"])
            else:
                message = denied + " without explanation"
            err = ApiError(code, st.get("reason", ""), message, st.get("details"))
            err.warnings = warnings
            raise err
        patch = resp.get("patch")
        if patch and mutating:
            if resp.get("patchType") != "JSONPatch":
                raise internal('failed calling webhook "%s": webhook returned '
                               'response.patch but not response.patchType' % name)
            try:
                ops = json.loads(base64.b64decode(patch))
                new = jsonpatch.apply_patch(obj, ops)
            except Exception as e:  # noqa: BLE001 - bad patch from the webhook
                raise internal('admission webhook "%s" attempted to modify the object, '
                               'which is not supported for this operation: %s'
                               % (name, e) if req.operation == "DELETE" else
                               'failed calling webhook "%s": failed to apply patch: %s'
                               % (name, e))
            return new, warnings
        return None, warnings

    def mutate(self, req, obj):
        """Run the mutating webhooks; return (object, warnings)."""
        if req.res in (MUTATING, VALIDATING) or req.res.virtual:
            return obj, []
        hooks = [w for w in self._webhooks(MUTATING) if self._matches(w, req)]
        warnings = []
        changed_at = -1
        for i, w in enumerate(hooks):
            cur = obj if req.operation != "DELETE" else None
            new, warn = self._call(w, req, cur, True)
            warnings += warn
            if new is not None and new != obj:
                obj = new
                changed_at = i
                req.obj = obj
        if changed_at >= 0:
            for i, w in enumerate(hooks):
                if i < changed_at and w.get("reinvocationPolicy") == "IfNeeded":
                    new, warn = self._call(w, req, obj, True)
                    warnings += warn
                    if new is not None:
                        obj = new
                        req.obj = obj
        return obj, warnings

    def validate(self, req, obj):
        if req.res in (MUTATING, VALIDATING) or req.res.virtual:
            return []
        warnings = []
        for w in self._webhooks(VALIDATING):
            if self._matches(w, req):
                _, warn = self._call(w, req, obj if req.operation != "DELETE" else None,
                                     False)
                warnings += warn
        return warnings
