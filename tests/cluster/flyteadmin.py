#!/usr/bin/python3
"""Emulated Flyte Admin for the local cluster: flyteadmin's REST API (grpc-gateway v2
over the gRPC AdminService) for the routes kubectl-workspace uses, and on the same port
its gRPC API (flyte_grpc.py, flyte_entities.py; how the port is shared: README.md), with
the rules and messages of the real flyteadmin (DESIGN.md section 7).

    /usr/bin/python3 tests/cluster/flyteadmin.py --listen 127.0.0.1:0 \
        [--cert FILE --key FILE] --port-file FILE [--token-file FILE] \
        [--domains development,staging,production] [--state-file FILE]
        [--kube-port-file FILE --kube-ca FILE --kube-token-file FILE]

Routes (as in flyteidl/protos/flyteidl/service/admin.proto):
    POST   /api/v1/projects                          RegisterProject
    GET    /api/v1/projects                          ListProjects (limit, token, filters, sort_by.*)
    GET    /api/v1/projects/{id}                     GetProject
    PUT    /api/v1/projects/{id}                     UpdateProject (body: a bare Project)
    GET    /api/v1/domains                           GetDomains
    GET    /api/v1/version                           GetVersion
    PUT    /api/v1/project_attributes/{project}      UpdateProjectAttributes
    GET    /api/v1/project_attributes/{project}      GetProjectAttributes (?resource_type=)
    DELETE /api/v1/project_attributes/{project}      DeleteProjectAttributes (body resource_type)
    PUT|GET|DELETE /api/v1/project_domain_attributes/{project}/{domain}
    GET    /healthcheck                              200, empty body (plain net/http handler)
    PUT|GET /_upload/...                             the signed URLs of CreateUploadLocation
    *      /_emulator/...                            fault injection control (faults.py)

Behaviour worth knowing, all taken from the real server (flyteorg/flyte:
flyteadmin/pkg/manager/impl/{project_manager.go,resources/resource_manager.go,validation/},
flyteadmin/pkg/repositories/gormimpl/{project,resource}_repo.go, flyteadmin/pkg/server/
service.go, flyteidl/protos/flyteidl/service/admin.proto; grpc-gateway v2.19 runtime/):
  * JSON field names are proto names only when the request says Accept:
    application/json or Content-Type: application/json; otherwise grpc-gateway's
    default marshaler answers in lowerCamelCase. Unknown request fields are rejected
    (400) only with Content-Type: application/json.
  * Errors are {"code": <gRPC code>, "message": ..., "details": [...]} with the HTTP
    status grpc-gateway maps from the code; an unknown route is 404 code 5, a known
    route with another method is 501 code 12 ("Method Not Allowed").
  * Authentication (--token-file) is checked where flyteadmin checks it, in the gRPC
    interceptor: after routing and body decoding, so a bad route or body wins over a
    missing token.
"""
import argparse
import datetime
import hmac
import json
import os
import re
import select
import shutil
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flyteidl_build  # noqa: E402

try:
    flyteidl_build.import_path()
except flyteidl_build.BuildError as e:
    sys.stderr.write("flyteadmin: cannot serve gRPC: %s\n" % e)
    sys.exit(1)
from faults import FaultInjector  # noqa: E402
import flyte_entities  # noqa: E402
import flyte_grpc  # noqa: E402
import flyte_protojson as pj  # noqa: E402
import flyte_validation as fv  # noqa: E402
from flyte_validation import AdminError, invalid  # noqa: E402

# runtime.HTTPStatusFromCode of grpc-gateway v2
GRPC_TO_HTTP = {0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
                9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}
# For injected faults: the gRPC code a client would see with that HTTP status.
HTTP_TO_GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 499: 1, 500: 13,
                501: 12, 503: 14, 504: 4}
UNAUTHENTICATED = 16

# gRPC's default max receive size; flyteadmin does not raise it by default.
MAX_BODY = 4 * 1024 * 1024
DISCARD_LIMIT = 64 * 1024 * 1024  # bigger bodies are not read: the connection is closed
ARCHIVED = 1
WORKFLOW_EXECUTION_CONFIG = 6
PLUGIN_OVERRIDE = 5


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------
# The AdminService logic (flyteadmin/pkg/manager/impl/*), over an in-memory "database".

class Admin:
    def __init__(self, domains, max_parallelism=25, state_file=None, version="v1.15.0-emulated"):
        self.lock = threading.RLock()
        self.domains = [{"id": d, "name": d} for d in domains]
        self.max_parallelism = max_parallelism
        self.state_file = state_file
        self.version = version
        self.started = now_rfc3339()
        self.projects = {}    # identifier -> row (the projects table)
        self.resources = {}   # (project, domain, resource_type) -> MatchingAttributes dict
        self.seq = 0

    # -- persistence (debugging aid only) --------------------------------------
    def _changed(self):
        if not self.state_file:
            return
        dump = {"projects": self.projects,
                "resources": [{"project": p, "domain": d, "resource_type":
                               pj.enum_name("MatchableResource", t), "attributes": a}
                              for (p, d, t), a in sorted(self.resources.items())]}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dump, f, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    # -- projects ----------------------------------------------------------------
    def _project_message(self, row):
        # transformers.FromProjectModel: domains come from configuration, never the row.
        out = {"id": row["identifier"], "name": row["name"], "description": row["description"],
               "state": row["state"], "domains": self.domains}
        if row["labels"] is not None:
            out["labels"] = row["labels"]
        return out

    def _get_row(self, pid):
        row = self.projects.get(pid)
        if row is None:
            raise AdminError(fv.NOT_FOUND, "project [%s] not found" % pid)
        return row

    def register_project(self, req):
        project = req.get("project")
        fv.validate_register(project)
        fv.check_storable(project.get("id"), project.get("name"), project.get("description"))
        pid = project["id"]
        if pid in self.projects:
            raise AdminError(fv.ALREADY_EXISTS,
                             'value with matching already exists (duplicate key value '
                             'violates unique constraint "projects_pkey")')
        self.seq += 1
        ts = now_rfc3339()
        self.projects[pid] = {
            "id": self.seq, "identifier": pid, "name": project.get("name", ""),
            "description": project.get("description", ""), "labels": project.get("labels"),
            # CreateProjectModel stores whatever state the request carries.
            "state": project.get("state", 0), "created_at": ts, "updated_at": ts,
            "deleted_at": None}
        self._changed()
        return "Empty", {}

    def get_project(self, req):
        pid = req.get("id", "")
        if not pid:
            raise invalid("missing project_id")
        return "Project", self._project_message(self._get_row(pid))

    def update_project(self, project):
        row = self._get_row(project.get("id", ""))
        fv.validate_project(project)
        fv.check_storable(project.get("name"), project.get("description"))
        # gorm's Updates(struct) skips zero values: an empty name or description and
        # absent labels leave the stored ones alone, but state is a pointer and is
        # always written, so a PUT without "state" makes the project ACTIVE again.
        if project.get("name"):
            row["name"] = project["name"]
        if project.get("description"):
            row["description"] = project["description"]
        if project.get("labels") is not None:
            row["labels"] = project["labels"]
        row["state"] = project.get("state", 0)
        row["updated_at"] = now_rfc3339()
        self._changed()
        return "Empty", {}

    def list_projects(self, req):
        filters = fv.parse_filters(req["filters"]) if req.get("filters") else []
        if "sort_by" in req:
            sort = req["sort_by"]
            key, descending = fv.parse_sort(sort.get("key", ""), sort.get("direction", 0))
        else:
            key, descending = "identifier", False
        token = req.get("token", "")
        if token and not re.fullmatch(r"[+-]?[0-9]+", token) or token and int(token) < 0:
            raise invalid("invalid pagination token %s for ListProjects" % token)
        offset = int(token) if token else 0
        limit = req.get("limit", 0)
        rows = list(self.projects.values())
        if filters:
            rows = [r for r in rows if fv.row_matches(r, filters)]
        else:
            # ProjectRepo.List: without any filter, archived projects are hidden.
            rows = [r for r in rows if r["state"] != ARCHIVED]
        rows.sort(key=lambda r: r["id"])
        rows.sort(key=lambda r: "" if key in ("labels", "deleted_at") else r[key],
                  reverse=descending)
        rows = rows[offset:]
        if limit:
            rows = rows[:limit]
        projects = [self._project_message(r) for r in rows]
        # ListProjects hands out a next token whenever the page is exactly full.
        next_token = str(offset + len(projects)) if len(projects) == limit else ""
        return "Projects", {"projects": projects, "token": next_token}

    def get_domains(self, _req):
        return "GetDomainsResponse", {"domains": self.domains}

    def get_version(self, _req):
        return "GetVersionResponse", {"control_plane_version": {
            "Build": "emulated", "Version": self.version, "BuildTime": self.started}}

    # -- matchable attributes ----------------------------------------------------
    def _project_for_update(self, pid):
        # validation.ValidateProjectForUpdate: unknown and archived projects are
        # InvalidArgument (400), not NotFound.
        row = self.projects.get(pid)
        if row is None:
            raise invalid("failed to validate that project [%s] is registered, err: "
                          "[project [%s] not found]" % (pid, pid))
        if row["state"] != 0:
            raise invalid("project [%s] is not active" % pid)

    def _project_and_domain(self, pid, domain):
        # validation.ValidateProjectAndDomain
        row = self.projects.get(pid)
        if row is None:
            raise invalid("failed to validate that project [%s] and domain [%s] are "
                          "registered, err: [project [%s] not found]" % (pid, domain, pid))
        if row["state"] != 0:
            raise AdminError(fv.INVALID_ARGUMENT, "project [%s] is not active" % pid, [
                {"@type": "type.googleapis.com/flyteidl.admin.InactiveProject", "id": pid}])
        if domain not in [d["id"] for d in self.domains]:
            raise invalid("domain [%s] is unrecognized by system" % domain)

    def _store(self, pid, domain, matching, identifier):
        field, rtype = fv.matching_resource_type(matching, identifier)
        key = (pid, domain, rtype)
        if rtype == PLUGIN_OVERRIDE and key in self.resources:
            # createOrMerge...: plugin overrides merge by task_type instead of replacing.
            merged = {o.get("task_type", ""): o for o in
                      self.resources[key]["plugin_overrides"].get("overrides", [])}
            for o in matching["plugin_overrides"].get("overrides", []):
                merged[o.get("task_type", "")] = o
            matching = {"plugin_overrides": {"overrides": [merged[k] for k in sorted(merged)]}}
        else:
            matching = {field: matching[field]}
        self.resources[key] = matching
        self._changed()

    def _not_found(self, pid, domain, rtype):
        return AdminError(fv.NOT_FOUND, "Resource [{Project:%s Domain:%s Workflow: LaunchPlan: "
                          "ResourceType:%s}] not found"
                          % (pid, domain, pj.enum_name("MatchableResource", rtype)))

    def _with_exec_defaults(self, matching):
        # GetProjectAttributes merges WORKFLOW_EXECUTION_CONFIG with the server's
        # configured defaults (only max_parallelism is set in a default install).
        wec = dict((matching or {}).get("workflow_execution_config", {}))
        if not wec.get("max_parallelism") and self.max_parallelism > 0:
            wec["max_parallelism"] = self.max_parallelism
        return {"workflow_execution_config": wec}

    def update_project_attributes(self, req):
        attrs = req["attributes"]
        pid = attrs.get("project", "")
        self._project_for_update(pid)
        self._store(pid, "", attrs.get("matching_attributes"), pid)
        return "Empty", {}

    def get_project_attributes(self, req):
        pid, rtype = req.get("project", ""), req.get("resource_type", 0)
        if pid not in self.projects:  # ValidateProjectExists: archived is fine here
            raise invalid("failed to validate that project [%s] exists, err: "
                          "[project [%s] not found]" % (pid, pid))
        matching = self.resources.get((pid, "", rtype))
        if rtype == WORKFLOW_EXECUTION_CONFIG:
            matching = self._with_exec_defaults(matching)
        elif matching is None:
            raise self._not_found(pid, "", rtype)
        return "ProjectAttributesGetResponse", {
            "attributes": {"project": pid, "matching_attributes": matching}}

    def delete_project_attributes(self, req):
        pid, rtype = req.get("project", ""), req.get("resource_type", 0)
        self._project_for_update(pid)
        # ResourceRepo.Delete filters with a gorm struct, which drops the empty
        # domain: every domain-level entry of this type goes too. Deleting nothing is OK.
        for key in [k for k in self.resources if k[0] == pid and k[2] == rtype]:
            del self.resources[key]
        self._changed()
        return "Empty", {}

    def update_project_domain_attributes(self, req):
        attrs = req["attributes"]
        pid, domain = attrs.get("project", ""), attrs.get("domain", "")
        self._project_and_domain(pid, domain)
        self._store(pid, domain, attrs.get("matching_attributes"), "%s-%s" % (pid, domain))
        return "Empty", {}

    def get_project_domain_attributes(self, req):
        pid, domain, rtype = req.get("project", ""), req.get("domain", ""), req.get("resource_type", 0)
        self._project_and_domain(pid, domain)
        # ResourceRepo.Get returns the most specific match: project-domain, else the
        # project-level entry (then with an empty domain in the reply).
        for d in (domain, ""):
            matching = self.resources.get((pid, d, rtype))
            if matching is not None:
                return "ProjectDomainAttributesGetResponse", {"attributes": {
                    "project": pid, "domain": d, "matching_attributes": matching}}
        raise self._not_found(pid, domain, rtype)

    def delete_project_domain_attributes(self, req):
        pid, domain, rtype = req.get("project", ""), req.get("domain", ""), req.get("resource_type", 0)
        self._project_and_domain(pid, domain)
        self.resources.pop((pid, domain, rtype), None)
        self._changed()
        return "Empty", {}


# ---------------------------------------------------------------------------
# grpc-gateway: routes, query parameters, marshalers.

class Route:
    def __init__(self, method, pattern, handler, body_msg=None, path_target=None, query=None):
        self.method = method
        self.segments = pattern.strip("/").split("/")
        self.handler = handler            # Admin method name
        self.body_msg = body_msg          # request message decoded from a body:"*" body
        self.path_target = path_target    # where path params land: None (top) or "attributes"
        self.query = query or {}          # query parameter -> (field path, type)

    def match(self, segs):
        if len(segs) != len(self.segments):
            return None
        params = {}
        for pat, seg in zip(self.segments, segs):
            if pat.startswith("{"):
                params[pat[1:-1].split(".")[-1]] = seg
            elif pat != seg:
                return None
        return params


_RT = ("enum", "MatchableResource")
ROUTES = [
    Route("POST", "/api/v1/projects", "register_project", body_msg="ProjectRegisterRequest"),
    Route("GET", "/api/v1/projects", "list_projects", query={
        "limit": ("limit", "uint32"), "token": ("token", "string"),
        "filters": ("filters", "string"), "sort_by.key": ("sort_by.key", "string"),
        "sortBy.key": ("sort_by.key", "string"),
        "sort_by.direction": ("sort_by.direction", ("enum", "SortDirection")),
        "sortBy.direction": ("sort_by.direction", ("enum", "SortDirection")),
        "org": ("org", "string")}),
    Route("GET", "/api/v1/projects/{id}", "get_project", query={"org": ("org", "string")}),
    Route("PUT", "/api/v1/projects/{id}", "update_project", body_msg="Project"),
    Route("GET", "/api/v1/domains", "get_domains"),
    Route("GET", "/api/v1/version", "get_version"),
    Route("PUT", "/api/v1/project_attributes/{attributes.project}", "update_project_attributes",
          body_msg="ProjectAttributesUpdateRequest", path_target="attributes"),
    Route("GET", "/api/v1/project_attributes/{project}", "get_project_attributes", query={
        "resource_type": ("resource_type", _RT), "resourceType": ("resource_type", _RT),
        "org": ("org", "string")}),
    Route("DELETE", "/api/v1/project_attributes/{project}", "delete_project_attributes",
          body_msg="ProjectAttributesDeleteRequest"),
    Route("PUT", "/api/v1/project_domain_attributes/{attributes.project}/{attributes.domain}",
          "update_project_domain_attributes", body_msg="ProjectDomainAttributesUpdateRequest",
          path_target="attributes"),
    Route("GET", "/api/v1/project_domain_attributes/{project}/{domain}",
          "get_project_domain_attributes", query={
              "resource_type": ("resource_type", _RT), "resourceType": ("resource_type", _RT),
              "org": ("org", "string")}),
    Route("DELETE", "/api/v1/project_domain_attributes/{project}/{domain}",
          "delete_project_domain_attributes", body_msg="ProjectDomainAttributesDeleteRequest"),
]


def parse_query(raw):
    """url.ParseQuery as net/http (Go >= 1.17) does it: '&' only, ';' is an error."""
    values = {}
    if not raw:
        return values
    for piece in raw.split("&"):
        if not piece:
            continue
        if ";" in piece:
            raise invalid("invalid semicolon separator in query")
        key, _, value = piece.partition("=")
        for part in (key, value):
            bad = re.search(r"%(?![0-9A-Fa-f]{2})", part)
            if bad:
                raise invalid('invalid URL escape "%s"' % part[bad.start():bad.start() + 3])
        key = urllib.parse.unquote_plus(key)
        values.setdefault(key, []).append(urllib.parse.unquote_plus(value))
    return values


def populate_query(route, values):
    """runtime.PopulateQueryParameters for the few scalar fields these routes take."""
    req = {}
    for key, vals in values.items():
        target = route.query.get(key)
        if target is None:
            continue  # unknown parameters are ignored by the gateway
        path, ftype = target
        if len(vals) > 1:
            raise invalid('too many values for field "%s": %s' % (path, ", ".join(vals)))
        value = vals[0]
        if ftype == "uint32":
            if not re.fullmatch(r"[0-9]+", value):
                raise invalid('strconv.ParseUint: parsing "%s": invalid syntax' % value)
            if int(value) >= 2 ** 32:
                raise invalid('strconv.ParseUint: parsing "%s": value out of range' % value)
            value = int(value)
        elif isinstance(ftype, tuple):
            number = pj.enum_number(ftype[1], value)
            if number is None and re.fullmatch(r"-?[0-9]+", value):
                number = int(value)
            if number is None or not 0 <= number < len(pj.ENUMS[ftype[1]]):
                raise invalid('"%s" is not a valid value' % value)
            value = number
        node = req
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return req


def read_token(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


# ---------------------------------------------------------------------------
# HTTP

class BadRequest(Exception):
    """A request net/http itself would refuse (bad framing): 400 and close."""


class TooLarge(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # so even a garbled request gets a status line
    server_version = "flyteadmin-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this

    # -- connection setup: TLS is negotiated here, in the connection's own thread,
    # so a client that never finishes its handshake blocks nobody else.
    def setup(self):
        # Headers and body go out in separate writes; without NODELAY, Nagle and the
        # client's delayed ACK add ~40 ms to every response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ctx = self.server.ssl_context
        if ctx is not None:
            self.request.settimeout(10)
            tls = ctx.wrap_socket(self.request, server_side=True, do_handshake_on_connect=False)
            try:
                tls.do_handshake()
            except ssl.SSLError as e:
                if e.reason == "HTTP_REQUEST":  # plain HTTP: answer as Go's net/http does
                    try:
                        os.write(tls.fileno(), b"HTTP/1.0 400 Bad Request\r\n\r\n"
                                 b"Client sent an HTTP request to an HTTPS server.\n")
                    except OSError:
                        pass
                tls.close()
                raise
            self.request = tls
            self.h2 = tls.selected_alpn_protocol() == "h2"
        else:
            self.h2 = starts_with_h2_preface(self.request)
        super().setup()

    def handle(self):
        if self.h2:
            self.request.settimeout(None)
            relay_to_grpc(self.request, self.server.grpc_socket)
        else:
            super().handle()

    def send_response(self, code, message=None):
        # Like Go's net/http: a Date header, no Server header.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def log_message(self, fmt, *args):
        pass  # one line per request is written by log_request_line instead

    def log_request_line(self, status):
        path = urllib.parse.urlsplit(getattr(self, "path", "") or "").path
        sys.stderr.write("flyteadmin: %s %s %s\n" % (getattr(self, "command", "-"), path, status))
        sys.stderr.flush()

    def send_error(self, code, message=None, explain=None):
        # Malformed requests: answer like Go's net/http, in plain text, then close.
        self.close_connection = True
        body = ("%d %s" % (code, self.responses.get(code, ("",))[0])).encode()
        try:
            self.send_response_only(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass
        self.log_request_line(code)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # -- plumbing ----------------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest()
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    self.close_connection = True  # the rest of the stream is not read
                    raise TooLarge(total)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not re.fullmatch(r"[0-9]+", length.strip()):
            raise BadRequest()
        n = int(length)
        if n > MAX_BODY:
            if n <= DISCARD_LIMIT:  # swallow it so the connection stays usable
                while n > 0:
                    n -= len(self.rfile.read(min(n, 65536)) or b"x" * n)
            else:
                self.close_connection = True
            raise TooLarge(int(length))
        return self.rfile.read(n)

    def send_bytes(self, status, body, content_type="application/json", headers=()):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        if self.command != "HEAD":
            self._headers_buffer.append(b"\r\n" + body)  # one write: headers + body
            self.flush_headers()
        else:
            self.end_headers()
        self.log_request_line(status)

    def send_json(self, status, obj, headers=()):
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self.send_bytes(status, pj._SURROGATES.sub("\ufffd", text).encode("utf-8"),
                        headers=headers)

    def send_status(self, err, from_grpc=True):
        """grpc-gateway's DefaultHTTPErrorHandler: the google.rpc.Status as JSON."""
        headers = [("Grpc-Metadata-Content-Type", "application/grpc")] if from_grpc else []
        if err.code == UNAUTHENTICATED:
            headers.append(("WWW-Authenticate", err.message))
        self.send_json(GRPC_TO_HTTP.get(err.code, 500),
                       {"code": err.code, "message": err.message, "details": err.details},
                       headers)

    def drop(self):
        """Injected fault: close the connection without a reply."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.log_request_line("dropped")

    def marshalers(self):
        """runtime.MarshalerForRequest: (strict inbound?, proto names outbound?, binary?)."""
        inbound = None
        for value in self.headers.get_all("Content-Type") or []:
            media = value.split(";")[0].strip().lower()
            if media in ("application/json", "application/octet-stream"):
                inbound = media
                break
        outbound = None
        for value in self.headers.get_all("Accept") or []:
            if value in ("application/json", "application/octet-stream"):
                outbound = value
                break
        outbound = outbound or inbound
        return inbound == "application/json", outbound == "application/json", \
            inbound == "application/octet-stream"

    # -- the request -------------------------------------------------------------
    def dispatch(self):
        try:
            self._dispatch()
        except BadRequest:
            self.send_error(400)
        except TooLarge as e:
            self.send_status(AdminError(8, "grpc: received message larger than max "
                                           "(%d vs. %d)" % (e.args[0], MAX_BODY)))
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # an emulator bug must not take the connection down silently
            self.close_connection = True
            sys.stderr.write("flyteadmin: internal error: %s: %s\n" % (type(e).__name__, e))
            try:
                self.send_status(AdminError(13, "emulator internal error: %s" % type(e).__name__))
            except OSError:
                pass

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if path.startswith("/_emulator/"):
            body = self.read_body()
            try:
                spec = json.loads(body) if body.strip() else None
            except ValueError:
                return self.send_json(400, {"error": "body is not JSON"})
            status, reply = self.server.injector.control(self.command, path[len("/_emulator/"):], spec)
            return self.send_json(status, reply)

        action = self.server.injector.decide(self.command, path)
        self.server.injector.apply_delay(action)
        if action.drop:
            return self.drop()
        if action.status is not None:
            self.read_body()  # keep the connection usable for the next request
            status = int(action.status)
            code = HTTP_TO_GRPC.get(status, 2)
            message = action.message or self.responses.get(status, ("injected fault",))[0]
            return self.send_json(status, {"code": code, "message": message, "details": []})

        if path == "/healthcheck":
            self.read_body()
            return self.send_bytes(200, b"", content_type=None)
        if path.startswith(UPLOAD_PREFIX):
            return self.serve_upload(path[len(UPLOAD_PREFIX):])

        self.serve_gateway(url, path)

    def serve_gateway(self, url, path):
        body = self.read_body()
        segs = path[1:].split("/") if path.startswith("/") else [path]
        strict, proto_names, binary = self.marshalers()
        self.proto_names = proto_names
        route, params = None, None
        for r in ROUTES:
            if r.method == self.command:
                params = r.match(segs)
                if params is not None:
                    route = r
                    break
        if route is None:
            allowed = any(r.match(segs) is not None for r in ROUTES)
            if allowed:
                return self.send_status(AdminError(12, "Method Not Allowed"), from_grpc=False)
            return self.send_status(AdminError(5, "Not Found"), from_grpc=False)

        # Build the request message exactly as the generated gateway handler does:
        # body:"*" routes decode the body (an empty body is an empty message) and
        # ignore the query; the others read query parameters. Path parameters win.
        try:
            if route.body_msg:
                if binary and body:
                    raise invalid("proto: cannot parse invalid wire-format data")
                req = pj.decode_body(route.body_msg, body, strict)
            else:
                req = populate_query(route, parse_query(url.query)) if route.query else {}
        except pj.ProtoJSONError as e:
            return self.send_status(AdminError(3, str(e)), from_grpc=False)
        except AdminError as e:
            return self.send_status(e, from_grpc=False)
        target = req.setdefault(route.path_target, {}) if route.path_target else req
        target.update(params)

        denied = self.check_auth()
        if denied:
            return self.send_status(denied)
        admin = self.server.admin
        try:
            with admin.lock:
                msg, reply = getattr(admin, route.handler)(req)
        except AdminError as e:
            return self.send_status(e)
        self.send_json(200, pj.encode_message(msg, reply, proto_names),
                       [("Grpc-Metadata-Content-Type", "application/grpc")])

    def serve_upload(self, name):
        """The signed URL of CreateUploadLocation: PUT stores the bytes, GET reads them."""
        body = self.read_body()
        uploads = self.server.registry.uploads
        if self.command == "PUT":
            with self.server.admin.lock:
                uploads[name] = body
            return self.send_bytes(200, b"", content_type=None)
        if self.command == "GET" and name in uploads:
            return self.send_bytes(200, uploads[name], content_type="application/octet-stream")
        return self.send_bytes(404 if self.command == "GET" else 405, b"", content_type=None)

    def check_auth(self):
        if not self.server.token_file:
            return None
        expected = read_token(self.server.token_file)
        header = self.headers.get("Authorization")
        if not header:
            # Message shapes follow flyteadmin's auth interceptor; exact text may differ.
            return AdminError(UNAUTHENTICATED, "token parse error [JWT_VERIFICATION_FAILED] "
                              "Could not retrieve id token from metadata, caused by: rpc error: "
                              "code = Unauthenticated desc = Request unauthenticated with IDToken")
        scheme, _, token = header.strip().partition(" ")
        if (scheme.lower() != "bearer" or not expected
                or not hmac.compare_digest(token.strip().encode(), expected.encode())):
            return AdminError(UNAUTHENTICATED, "token parse error [JWT_VERIFICATION_FAILED] "
                              "Could not retrieve id token from metadata, caused by: "
                              "failed to validate the access token")
        return None


# ---------------------------------------------------------------------------
# The front: one port for REST (HTTP/1.1) and gRPC (HTTP/2), see the README.

UPLOAD_PREFIX = "/_upload/"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def starts_with_h2_preface(sock):
    """Plain (h2c) mode: an HTTP/2 client with prior knowledge opens with the preface;
    its first 3 bytes ("PRI") begin no HTTP/1.x request a REST client would send."""
    sock.settimeout(10)
    try:
        head = b""
        while len(head) < 3:
            head = sock.recv(3, socket.MSG_PEEK)
            if not head or not H2_PREFACE.startswith(head):
                return False
            if len(head) < 3:
                select.select([sock], [], [], 0.05)
        return True
    except OSError:
        return False


def relay_to_grpc(client, path):
    """Copy bytes both ways between an HTTP/2 client connection (TLS or plain) and
    the gRPC server's unix socket until either side closes. One thread, one select
    loop: an SSL object is never used by two threads at once."""
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
        while True:
            pending = isinstance(client, ssl.SSLSocket) and client.pending()
            ready = [client] if pending else select.select([client, upstream], [], [], 300)[0]
            if not ready:
                return  # idle for 5 minutes
            if client in ready:
                data = client.recv(65536)
                if not data:
                    return
                upstream.sendall(data)
            if upstream in ready:
                data = upstream.recv(65536)
                if not data:
                    return
                client.sendall(data)
    except (OSError, ssl.SSLError):
        return
    finally:
        upstream.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        # HTTPServer.server_bind would resolve the host name (slow without DNS).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        sys.stderr.write("flyteadmin: connection from %s failed: %s: %s\n"
                         % (client_address[0], type(exc).__name__, exc))


def parse_listen(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Emulated Flyte Admin (REST + gRPC) for the local cluster")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0 picks a free one)")
    ap.add_argument("--cert", help="TLS certificate (PEM); with --key enables HTTPS")
    ap.add_argument("--key", help="TLS private key (PEM)")
    ap.add_argument("--port-file", required=True, help="written with the bound port once serving")
    ap.add_argument("--token-file", help="require Authorization: Bearer <content of this file>")
    ap.add_argument("--domains", default="development,staging,production",
                    help="system-wide domains, comma-separated")
    ap.add_argument("--state-file", help="dump the state here (JSON) after every change")
    ap.add_argument("--max-parallelism", type=int, default=25,
                    help="flyteadmin's configured default max_parallelism")
    ap.add_argument("--kube-port-file", help="the API server's port file (executions create "
                    "FlyteWorkflows and Pods there, as flyteadmin and propeller do)")
    ap.add_argument("--kube-ca", help="CA of the API server")
    ap.add_argument("--kube-token-file", help="bearer token for the API server")
    args = ap.parse_args(argv)
    if bool(args.cert) != bool(args.key):
        ap.error("--cert and --key go together")

    host, port = parse_listen(args.listen)
    if ":" in host:
        Server.address_family = socket.AF_INET6
    server = Server((host, port), Handler)
    server.ssl_context = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.cert, args.key)
        # Server preference: a client that offers http/1.1 (curl, Go, kubectl-workspace)
        # gets REST; a gRPC client offers only h2 and gets the gRPC server.
        ctx.set_alpn_protocols(["http/1.1", "h2"])
        server.ssl_context = ctx
    domains = [d.strip() for d in args.domains.split(",") if d.strip()]
    server.admin = Admin(domains, args.max_parallelism, args.state_file)
    server.injector = FaultInjector()
    server.token_file = args.token_file
    kube = flyte_entities.Kube(args.kube_port_file, args.kube_ca, args.kube_token_file)
    server.registry = flyte_entities.Registry(server.admin, kube, "%s://%s:%d" % (
        "https" if server.ssl_context else "http", host if ":" not in host else "[%s]" % host,
        server.server_address[1]))
    grpc_dir = tempfile.mkdtemp(prefix="flyteadmin-grpc.")
    server.grpc_socket = os.path.join(grpc_dir, "admin.sock")
    grpc_server = flyte_grpc.make_server(
        server.admin, server.registry,
        lambda: read_token(args.token_file) or "" if args.token_file else None,
        "unix:" + server.grpc_socket)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    # The socket is listening since the constructor; publish the port only now.
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    sys.stderr.write("flyteadmin: serving %s on %s:%d\n" % (
        "https" if server.ssl_context else "http", host, server.server_address[1]))
    sys.stderr.flush()
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    grpc_server.stop(1).wait()
    shutil.rmtree(grpc_dir, ignore_errors=True)
    sys.stderr.write("flyteadmin: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
