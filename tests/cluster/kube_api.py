"""Resource verbs of the emulated kube-apiserver: create, get, list, update,
patch, delete, deletecollection, with the real server's order of steps
(decode + defaults, built-in admission, mutating webhooks, strategy and
validation, validating webhooks, storage) and its Status errors.

Also the background "controllers": namespace termination, garbage collection
of owned objects, the default ServiceAccount and kube-root-ca.crt ConfigMap of
new namespaces, and ResourceQuota status.
"""
import base64
import copy
import datetime
import json
import logging
import threading
import uuid

import kube_defaults
import kube_errors as errs
import kube_patch
import kube_quota
import kube_resources as kr
import kube_schema
import kube_selectors as sel
import kube_validation
from kube_admission import Request as AdmissionRequest
from kube_errors import ApiError

log = logging.getLogger("api")

NAMESPACES = kr.lookup("", "v1", "namespaces")
CONFIGMAPS = kr.lookup("", "v1", "configmaps")
SERVICEACCOUNTS = kr.lookup("", "v1", "serviceaccounts")
PODS = kr.lookup("", "v1", "pods")
QUOTAS = kr.lookup("", "v1", "resourcequotas")
SECRETS = kr.lookup("", "v1", "secrets")
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")



# Metadata the server owns: an update keeps the stored values.
SERVER_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "generation", "namespace")


def _keep_server_metadata(md, old_md):
    for k in SERVER_METADATA:
        if k in old_md:
            md[k] = old_md[k]
        else:
            md.pop(k, None)

class Ctx:
    """Per-request settings: who, dry run, field validation, warnings out."""

    def __init__(self, user, dry_run=False, field_validation="Warn", field_manager=""):
        self.user = user
        self.dry_run = dry_run
        self.field_validation = field_validation
        self.field_manager = field_manager
        self.warnings = []


def _options(kind, ctx, extra=None):
    o = {"kind": kind, "apiVersion": "meta.k8s.io/v1"}
    if ctx.dry_run:
        o["dryRun"] = ["All"]
    if ctx.field_manager:
        o["fieldManager"] = ctx.field_manager
    if extra:
        o.update(extra)
    return o


def typed(res, obj):
    """obj with kind, apiVersion and metadata first, as the real server writes."""
    out = {"kind": res.kind, "apiVersion": res.api_version,
           "metadata": obj.get("metadata") if isinstance(obj.get("metadata"), dict)
           else {}}
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    return out


def strip_type(obj):
    """List items of built-in kinds carry no kind/apiVersion on the wire."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def event_to_core(ev):
    """An events.k8s.io/v1 Event as core v1 shows it (kube-apiserver's
    conversion: regarding -> involvedObject, note -> message, ...)."""
    out = {"apiVersion": "v1", "kind": "Event", "metadata": copy.deepcopy(ev["metadata"]),
           "involvedObject": copy.deepcopy(ev.get("regarding") or {}),
           "reason": ev.get("reason", ""), "message": ev.get("note", ""),
           "type": ev.get("type", ""), "eventTime": ev.get("eventTime"),
           "action": ev.get("action", ""),
           "reportingComponent": ev.get("reportingController", ""),
           "reportingInstance": ev.get("reportingInstance", ""),
           "source": copy.deepcopy(ev.get("deprecatedSource") or {}),
           "firstTimestamp": ev.get("deprecatedFirstTimestamp"),
           "lastTimestamp": ev.get("deprecatedLastTimestamp"),
           "count": ev.get("deprecatedCount")}
    if ev.get("related"):
        out["related"] = copy.deepcopy(ev["related"])
    return {k: v for k, v in out.items() if v is not None}


class Api:
    def __init__(self, store, admission, authenticator, ca_pem=""):
        self.store = store
        self.admission = admission
        self.authn = authenticator
        self.ca_pem = ca_pem
        self._gc_queue = []
        self._gc_lock = threading.Lock()
        self._stop = threading.Event()
        self._quota_rv = store.rv

    # ---- decoding -------------------------------------------------------
    def decode(self, ctx, res, body, expect_name=None):
        """Check GVK, unknown fields (per fieldValidation) and types; default."""
        if not isinstance(body, dict):
            raise errs.bad_request("the object provided is unrecognized (must be of type "
                                   "%s): couldn't get version/kind; json parse error: "
                                   "cannot unmarshal into Go value of type struct"
                                   % res.kind)
        api_version = body.get("apiVersion") or res.api_version
        kind = body.get("kind") or res.kind
        if kind != res.kind or api_version != res.api_version:
            if kind != res.kind:
                raise errs.bad_request(
                    "the object provided is unrecognized (must be of type %s): "
                    "no kind \"%s\" is registered for version \"%s\""
                    % (res.kind, kind, api_version) if kr.by_api_version_kind(
                        api_version, kind) is None else
                    "the object provided is unrecognized (must be of type %s)" % res.kind)
            raise errs.bad_request("the API version in the data (%s) does not match the "
                                   "expected API version (%s)"
                                   % (api_version, res.api_version))
        try:
            obj, unknown = kube_schema.check(body, res.model)
        except kube_schema.DecodeError as e:
            raise errs.bad_request('%s in version "%s" cannot be handled as a %s: %s'
                                   % (res.kind, res.version, res.kind, e))
        if unknown:
            if ctx.field_validation == "Strict":
                raise errs.bad_request(
                    '%s in version "%s" cannot be handled as a %s: strict decoding '
                    'error: %s' % (res.kind, res.version, res.kind,
                                   ", ".join('unknown field "%s"' % u for u in unknown)))
            if ctx.field_validation == "Warn":
                ctx.warnings += ['unknown field "%s"' % u for u in unknown]
        obj = typed(res, copy.deepcopy(obj))
        if res.kind == "Secret" and obj.get("stringData"):
            data = dict(obj.get("data") or {})
            for k, v in obj["stringData"].items():
                data[k] = base64.b64encode((v or "").encode()).decode()
            obj["data"] = data
        if res.kind == "Secret":
            obj.pop("stringData", None)
        kube_defaults.decode_defaults(res, obj)
        return obj

    # ---- helpers --------------------------------------------------------
    def require_namespace(self, res, ns, for_create=True):
        if not res.namespaced:
            return
        nsobj = self.store.get(NAMESPACES, "", ns)
        if nsobj is None:
            raise errs.namespace_not_found(ns)
        if for_create and nsobj["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden", "unable to create new content in namespace "
                           "%s because it is being terminated" % ns,
                           {"name": ns, "kind": "namespaces", "causes": [
                               {"reason": "NamespaceTerminating",
                                "message": "namespace %s is being terminated" % ns,
                                "field": "metadata.namespace"}]})

    def get(self, res, ns, name):
        obj = self.store.get(res, ns if res.namespaced else "", name)
        if obj is None:
            raise errs.not_found(res, name)
        return obj

    def _check_meta_namespace(self, res, obj, ns):
        md = obj["metadata"]
        if res.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise errs.bad_request("the namespace of the provided object does not "
                                       "match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)

    # ---- create ---------------------------------------------------------
    def create(self, ctx, res, ns, body):
        obj = self.decode(ctx, res, body)
        self._check_meta_namespace(res, obj, ns)
        md = obj["metadata"]
        if md.get("resourceVersion"):
            raise errs.bad_request("resourceVersion should not be set on objects to be "
                                   "created")
        self.require_namespace(res, ns)
        if res is PODS:
            kube_quota.apply_limit_ranges(self.store, obj)
            msg = kube_defaults.builtin_pod_admission(
                obj, lambda sa: self.store.get(SERVICEACCOUNTS, ns, sa) is not None)
            if msg:
                raise errs.forbidden("pods", md.get("name", ""), msg, kind="pods")
        areq = AdmissionRequest(res, "CREATE", ctx.user, md.get("name", ""), ns, "",
                                obj, None, ctx.dry_run,
                                _options("CreateOptions", ctx))
        obj, warn = self.admission.mutate(areq, obj)
        ctx.warnings += warn
        obj = self._after_mutation(res, obj, ns)
        md = obj["metadata"]
        if md.get("generateName") and not md.get("name"):
            md["name"] = kube_defaults.generate_name(md["generateName"])
        md.pop("deletionTimestamp", None)
        md.pop("deletionGracePeriodSeconds", None)
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now()
        kube_defaults.prepare_for_create(res, obj)
        problems = kube_validation.validate(res, obj)
        if problems:
            raise errs.invalid(res, md.get("name", ""), problems)
        areq.obj = obj
        areq.name = md["name"]
        ctx.warnings += self.admission.validate(areq, obj)
        with self.store.lock:
            if self.store.get(res, ns if res.namespaced else "", md["name"]) is not None:
                raise errs.already_exists(res, md["name"])
            if res.namespaced:
                self.require_namespace(res, ns)
                msg = kube_quota.check(self.store, res, obj)
                if msg:
                    raise errs.forbidden(res.group_resource, md["name"], msg,
                                         group=res.group, kind=res.plural)
            if ctx.dry_run:
                return obj
            stored = self.store.put(res, obj)
        self._after_create(res, stored)
        return stored

    def _after_mutation(self, res, obj, ns):
        """Decode the webhook-mutated object again (types, defaults)."""
        try:
            obj, _ = kube_schema.check(obj, res.model)
        except kube_schema.DecodeError as e:
            raise errs.internal("admission webhook mutation produced an invalid %s: %s"
                                % (res.kind, e))
        obj = typed(res, copy.deepcopy(obj))
        kube_defaults.decode_defaults(res, obj)
        self._check_meta_namespace(res, obj, ns)
        return obj

    def _after_create(self, res, obj):
        if res is NAMESPACES:
            self._populate_namespace(obj["metadata"]["name"])

    def _populate_namespace(self, ns):
        """What kube-controller-manager adds to every new namespace."""
        ts = now()
        if self.store.get(SERVICEACCOUNTS, ns, "default") is None:
            self.store.put(SERVICEACCOUNTS, {
                "kind": "ServiceAccount", "apiVersion": "v1",
                "metadata": {"name": "default", "namespace": ns,
                             "uid": str(uuid.uuid4()), "creationTimestamp": ts}})
        if self.ca_pem and self.store.get(CONFIGMAPS, ns, "kube-root-ca.crt") is None:
            self.store.put(CONFIGMAPS, {
                "kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "kube-root-ca.crt", "namespace": ns,
                             "uid": str(uuid.uuid4()), "creationTimestamp": ts,
                             "annotations": {"kubernetes.io/description":
                                             "Contains a CA bundle that can be used to "
                                             "verify the kube-apiserver when using "
                                             "internal endpoints such as the internal "
                                             "service IP or kubernetes.default.svc. No "
                                             "other usage is guaranteed across "
                                             "distributions of Kubernetes clusters."}},
                "data": {"ca.crt": self.ca_pem}})

    # ---- list -----------------------------------------------------------
    def _with_new_events(self, res, ns, objs):
        """Core v1 events and events.k8s.io/v1 events are one resource in
        kube-apiserver: a core list shows both, the newer ones converted."""
        if res.group or res.kind != "Event":
            return objs
        newer, _ = self.store.list(kr.lookup("events.k8s.io", "v1", "events"), ns)
        both = list(objs) + [event_to_core(o) for o in newer]
        both.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return both

    def list(self, res, ns, params):
        label_reqs = sel.label_selector(params.get("labelSelector", ""))
        field_reqs = sel.parse_field_selector(params.get("fieldSelector", ""), res.kind)
        limit = params.get("limit")
        try:
            limit = int(limit) if limit not in (None, "") else 0
        except ValueError:
            raise errs.bad_request("limit: Invalid value: %r" % limit)
        start = ""
        list_rv = None
        token = params.get("continue")
        if token:
            try:
                data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                start, list_rv = data["start"], int(data["rv"])
            except (ValueError, KeyError, TypeError):
                raise errs.bad_request("continue key is not valid: %s" % token)
            if list_rv < self.store.list_compacted_rv:
                raise errs.gone(
                    "The provided continue parameter is too old to display a consistent "
                    "list result. You can start a new list without the continue "
                    "parameter, or use the continue token in this response to retrieve "
                    "the remainder of the results. Continuing with the provided token "
                    "results in an inconsistent list - objects that were created, "
                    "modified, or deleted between the time the first chunk was returned "
                    "and now may show up in the list.")
        if params.get("resourceVersionMatch") == "Exact" and not token:
            try:
                exact = int(params.get("resourceVersion") or "0")
            except ValueError:
                raise errs.bad_request("resourceVersion: Invalid value: %r"
                                       % params.get("resourceVersion"))
            if exact < self.store.list_compacted_rv:
                raise errs.gone("The resourceVersion for the provided list is too old.")
        objs, rv = self.store.list(res, (ns or None) if res.namespaced else None)
        objs = self._with_new_events(res, (ns or None) if res.namespaced else None, objs)
        if list_rv is None:
            list_rv = rv
        out = []
        more = False
        remaining = 0
        for o in objs:
            md = o["metadata"]
            key = "%s/%s" % (md.get("namespace", ""), md["name"])
            if start and key < start:
                continue
            if label_reqs and not sel.matches_requirements(label_reqs, md.get("labels")):
                continue
            if field_reqs and not sel.matches_fields(field_reqs, o):
                continue
            if limit and len(out) >= limit:
                more = True
                remaining += 1
                continue
            out.append(o)
        meta = {"resourceVersion": str(list_rv)}
        if more:
            last = out[-1]["metadata"]
            nxt = "%s/%s\x00" % (last.get("namespace", ""), last["name"])
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": list_rv, "start": nxt}).encode()
            ).decode().rstrip("=")
            if not label_reqs and not field_reqs:
                meta["remainingItemCount"] = remaining
        return out, meta

    # ---- update / patch -------------------------------------------------
    def update(self, ctx, res, ns, name, body, subresource=""):
        obj = self.decode(ctx, res, body)
        md = obj["metadata"]
        if md.get("name") and md["name"] != name:
            raise errs.bad_request("the name of the object (%s) does not match the name "
                                   "on the URL (%s)" % (md["name"], name))
        md["name"] = name
        self._check_meta_namespace(res, obj, ns)
        old = self.store.get(res, ns if res.namespaced else "", name)
        if old is None:
            if res.create_on_update and not subresource:
                md.pop("resourceVersion", None)
                return self.create(ctx, res, ns, obj), True
            raise errs.not_found(res, name)
        return self._update(ctx, res, ns, obj, old, subresource,
                            _options("UpdateOptions", ctx)), False

    def _update(self, ctx, res, ns, obj, old, subresource, options):
        md, omd = obj["metadata"], old["metadata"]
        name = omd["name"]
        if md.get("resourceVersion") and md["resourceVersion"] != omd["resourceVersion"]:
            raise errs.conflict(res, name)
        if md.get("uid") and md["uid"] != omd.get("uid"):
            raise errs.conflict(res, name, "Precondition failed: UID in precondition: %s, "
                                "UID in object meta: %s" % (md["uid"], omd.get("uid")))
        conditional_rv = md.get("resourceVersion") or None
        _keep_server_metadata(md, omd)
        obj["metadata"]["resourceVersion"] = omd["resourceVersion"]
        areq = AdmissionRequest(res, "UPDATE", ctx.user, name, ns, subresource, obj, old,
                                ctx.dry_run, options)
        obj, warn = self.admission.mutate(areq, obj)
        ctx.warnings += warn
        obj = self._after_mutation(res, obj, ns)
        for k in ("uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation"):
            if k in omd:
                obj["metadata"][k] = omd[k]
            else:
                obj["metadata"].pop(k, None)
        # strategy PrepareForUpdate runs after the mutating webhooks: they see
        # the object as sent, the validating ones what will be stored
        if subresource:
            kube_defaults.prepare_for_subresource_update(res, subresource, obj, old)
        else:
            kube_defaults.prepare_for_update(res, obj, old)
        problems = kube_validation.validate(res, obj, old)
        if problems:
            raise errs.invalid(res, name, problems)
        areq.obj = obj
        ctx.warnings += self.admission.validate(areq, obj)
        with self.store.lock:
            cur = self.store.get(res, ns if res.namespaced else "", name)
            if cur is None:
                raise errs.not_found(res, name)
            if cur["metadata"]["resourceVersion"] != omd["resourceVersion"] and \
                    conditional_rv:
                raise errs.conflict(res, name)
            obj["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
            if _same(obj, cur):
                return cur
            if ctx.dry_run:
                return obj
            if obj["metadata"].get("deletionTimestamp") and \
                    not obj["metadata"].get("finalizers") and res is not NAMESPACES:
                self.store.remove(res, cur)
                self._queue_gc(cur)
                return obj
            return self.store.put(res, obj, cur)

    def patch(self, ctx, res, ns, name, patch_type, patch, subresource=""):
        for _ in range(5):
            old = self.store.get(res, ns if res.namespaced else "", name)
            if old is None:
                if patch_type == "apply":
                    body = dict(patch)
                    body.setdefault("metadata", {})["name"] = name
                    return self.create(ctx, res, ns, body), True
                raise errs.not_found(res, name)
            if patch_type == "apply":
                target = kube_patch.strategic_merge(old, patch) if res.model \
                    else kube_patch.merge_patch(old, patch)
            else:
                target = kube_patch.apply(res.model is not None, patch_type,
                                          copy.deepcopy(old), patch)
            if not isinstance(target, dict):
                raise errs.bad_request("the patch produced a non-object")
            tmd = target.get("metadata") or {}
            if tmd.get("resourceVersion") not in (None, old["metadata"]["resourceVersion"]):
                raise errs.conflict(res, name)
            if tmd.get("name") not in (None, name):
                raise errs.bad_request("the name of the object (%s) does not match the "
                                       "name on the URL (%s)" % (tmd.get("name"), name))
            obj = self.decode(ctx, res, target)
            obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            self._check_meta_namespace(res, obj, ns)
            try:
                return self._update(ctx, res, ns, obj, old, subresource,
                                    _options("UpdateOptions", ctx)), False
            except ApiError as e:
                # someone else wrote in between: re-apply the patch to the new state
                if e.reason == "Conflict" and tmd.get("resourceVersion") is None:
                    continue
                raise
        raise errs.conflict(res, name)

    # ---- delete ---------------------------------------------------------
    def delete(self, ctx, res, ns, name, options):
        options = options or {}
        key_ns = ns if res.namespaced else ""
        old = self.store.get(res, key_ns, name)
        if old is None:
            raise errs.not_found(res, name)
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
            raise errs.conflict(res, name, "Precondition failed: UID in precondition: %s, "
                                "UID in object meta: %s"
                                % (pre["uid"], old["metadata"].get("uid")))
        if pre.get("resourceVersion") and \
                pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise errs.conflict(res, name, "Precondition failed: ResourceVersion in "
                                "precondition: %s, ResourceVersion in object meta: %s"
                                % (pre["resourceVersion"],
                                   old["metadata"]["resourceVersion"]))
        if res is NAMESPACES and name in IMMORTAL_NAMESPACES:
            raise errs.forbidden("namespaces", name, "this namespace may not be deleted",
                                 kind="namespaces")
        dopts = {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"}
        for k in ("gracePeriodSeconds", "propagationPolicy", "preconditions"):
            if k in options:
                dopts[k] = options[k]
        if ctx.dry_run:
            dopts["dryRun"] = ["All"]
        areq = AdmissionRequest(res, "DELETE", ctx.user, name, ns, "", None, old,
                                ctx.dry_run, dopts)
        _, warn = self.admission.mutate(areq, None)
        ctx.warnings += warn
        ctx.warnings += self.admission.validate(areq, None)
        if ctx.dry_run:
            return old if res in (PODS, NAMESPACES) else self._deleted_status(res, old)
        with self.store.lock:
            cur = self.store.get(res, key_ns, name)
            if cur is None:
                raise errs.not_found(res, name)
            if res is NAMESPACES:
                if cur["metadata"].get("deletionTimestamp"):
                    return cur
                new = copy.deepcopy(cur)
                new["metadata"]["deletionTimestamp"] = now()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                new["status"] = {"phase": "Terminating"}
                return self.store.put(res, new, cur)
            if cur["metadata"].get("finalizers"):
                if cur["metadata"].get("deletionTimestamp"):
                    return cur
                new = copy.deepcopy(cur)
                new["metadata"]["deletionTimestamp"] = now()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                return self.store.put(res, new, cur)
            final = self.store.remove(res, cur)
        policy = options.get("propagationPolicy") or \
            ("Orphan" if options.get("orphanDependents") else "Background")
        self._queue_gc(final, orphan=(policy == "Orphan"))
        if res is SERVICEACCOUNTS:
            self.authn.revoke_sa(ns, name)
        if res is PODS:
            return final
        return self._deleted_status(res, final)

    @staticmethod
    def _deleted_status(res, obj):
        details = {"name": obj["metadata"]["name"]}
        if res.group:
            details["group"] = res.group
        details["kind"] = res.plural
        details["uid"] = obj["metadata"].get("uid", "")
        return {"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Success", "details": details}

    def delete_collection(self, ctx, res, ns, params, options):
        items, _ = self.list(res, ns, params)
        for o in items:
            try:
                self.delete(ctx, res, o["metadata"].get("namespace", ""),
                            o["metadata"]["name"], options)
            except ApiError as e:
                if e.code != 404:
                    raise
        return {"kind": res.kind + "List", "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)},
                "items": [strip_type(o) for o in items]}

    # ---- controllers ----------------------------------------------------
    def _queue_gc(self, obj, orphan=False):
        if obj is None:
            return
        with self._gc_lock:
            self._gc_queue.append((obj["metadata"].get("uid"),
                                   obj["metadata"].get("namespace", ""), orphan))

    def start_controllers(self):
        t = threading.Thread(target=self._controller_loop, name="controllers",
                             daemon=True)
        t.start()

    def stop(self):
        self._stop.set()

    def _controller_loop(self):
        while not self._stop.wait(0.05):
            try:
                self._finalize_namespaces()
                self._collect_garbage()
                self._update_quotas()
            except Exception:  # noqa: BLE001 - keep the loop alive, log the bug
                log.exception("controller loop failed")

    def _finalize_namespaces(self):
        terminating = [n for n in self.store.list(NAMESPACES)[0]
                       if n["metadata"].get("deletionTimestamp")]
        for nsobj in terminating:
            ns = nsobj["metadata"]["name"]
            left = 0
            for res in kr.RESOURCES:
                if not res.namespaced or res.virtual:
                    continue
                for o in self.store.list(res, ns)[0]:
                    left += 1
                    if o["metadata"].get("finalizers"):
                        if not o["metadata"].get("deletionTimestamp"):
                            new = copy.deepcopy(o)
                            new["metadata"]["deletionTimestamp"] = now()
                            new["metadata"]["deletionGracePeriodSeconds"] = 0
                            with self.store.lock:
                                if self.store.get(res, ns, o["metadata"]["name"]) is o:
                                    self.store.put(res, new, o)
                        continue
                    with self.store.lock:
                        if self.store.get(res, ns, o["metadata"]["name"]) is o:
                            self.store.remove(res, o)
                            if res is SERVICEACCOUNTS:
                                self.authn.revoke_sa(ns, o["metadata"]["name"])
            if left == 0:
                with self.store.lock:
                    cur = self.store.get(NAMESPACES, "", ns)
                    if cur is not None and cur["metadata"].get("deletionTimestamp"):
                        if cur["spec"].get("finalizers") not in (None, [], ["kubernetes"]):
                            continue
                        self.store.remove(NAMESPACES, cur)

    def _collect_garbage(self):
        with self._gc_lock:
            queue, self._gc_queue = self._gc_queue, []
        for uid, _, orphan in queue:
            if not uid:
                continue
            for res, ns, name in self.store.owned_by(uid):
                with self.store.lock:
                    o = self.store.get(res, ns, name)
                    if o is None:
                        continue
                    refs = o["metadata"].get("ownerReferences") or []
                    rest = [r for r in refs if r.get("uid") != uid]
                    if orphan or any(self.store.locate_uid(r.get("uid")) for r in rest):
                        new = copy.deepcopy(o)
                        if rest:
                            new["metadata"]["ownerReferences"] = rest
                        else:
                            new["metadata"].pop("ownerReferences", None)
                        self.store.put(res, new, o)
                    elif o["metadata"].get("finalizers"):
                        if not o["metadata"].get("deletionTimestamp"):
                            new = copy.deepcopy(o)
                            new["metadata"]["deletionTimestamp"] = now()
                            new["metadata"]["deletionGracePeriodSeconds"] = 0
                            self.store.put(res, new, o)
                    else:
                        final = self.store.remove(res, o)
                        self._queue_gc(final)

    def _update_quotas(self):
        """Recompute status of the quotas in namespaces written since last time."""
        evs = self.store.events_after(self._quota_rv)
        if evs is None:
            namespaces = set(self.store.namespaces_of(QUOTAS))
            self._quota_rv = self.store.rv
        else:
            namespaces = set()
            for ev in evs:
                if ev.res is not QUOTAS or ev.type != "MODIFIED" or \
                        ev.obj.get("spec") != (ev.old or {}).get("spec"):
                    namespaces.add(ev.obj["metadata"].get("namespace") or "")
                self._quota_rv = ev.rv
        for ns in namespaces:
            if not ns:
                continue
            for q in self.store.list(QUOTAS, ns)[0]:
                hard = (q.get("spec") or {}).get("hard") or {}
                status = {"hard": dict(hard), "used": kube_quota.quota_usage(self.store, ns, hard)}
                if q.get("status") == status:
                    continue
                with self.store.lock:
                    cur = self.store.get(QUOTAS, ns, q["metadata"]["name"])
                    if cur is q:
                        new = dict(q)
                        new["metadata"] = dict(q["metadata"])
                        new["status"] = status
                        self.store.put(QUOTAS, new, q)


def _same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)

