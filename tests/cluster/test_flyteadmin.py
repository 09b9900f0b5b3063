"""Tests of the emulated Flyte Admin (tests/cluster/flyteadmin.py).

The emulator is started through its CLI, over TLS with a throwaway self-signed
certificate, and driven with the real `curl` CLI (`--cacert`) the way DESIGN.md
section 7 describes flyteadmin's REST API; urllib and raw sockets are used where the
connection itself matters (keep-alive, dropped connections, garbage input).

Run: cd tests && /usr/bin/python3 -m pytest -q cluster/test_flyteadmin.py
"""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "flyteadmin.py")
PYTHON = "/usr/bin/python3"
TOKEN = "emulator-test-token"


class Emulator:
    """A running flyteadmin.py and the ways of talking to it."""

    def __init__(self, workdir, tls=True, token=True, domains=None):
        self.workdir = workdir
        self.cacert = None
        self.token = TOKEN if token else None
        args = [PYTHON, SERVER, "--listen", "127.0.0.1:0",
                "--port-file", str(workdir / "port"), "--state-file", str(workdir / "state.json")]
        if tls:
            self.cacert = str(workdir / "cert.pem")
            key = str(workdir / "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                            "-out", self.cacert, "-days", "1", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           check=True, capture_output=True)
            args += ["--cert", self.cacert, "--key", key]
        if token:
            (workdir / "token").write_text(TOKEN + "\n")
            args += ["--token-file", str(workdir / "token")]
        if domains:
            args += ["--domains", domains]
        self.log = open(workdir / "server.log", "w")
        self.proc = subprocess.Popen(args, stderr=self.log)
        deadline = time.time() + 10
        while not (workdir / "port").exists():
            assert self.proc.poll() is None, "emulator exited early"
            assert time.time() < deadline, "emulator did not publish its port"
            time.sleep(0.02)
        self.port = int((workdir / "port").read_text())
        self.base = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        self.log.close()
        return rc

    def curl(self, method, path, body=None, token=True, content_type="application/json",
             accept="application/json", headers=(), timeout=10):
        """Run curl; returns (http status, parsed JSON or raw text, response headers, curl rc)."""
        cmd = ["curl", "-sS", "-X", method, "-D", "-", "-w", "\n%{http_code}",
               "--max-time", str(timeout)]
        if self.cacert:
            cmd += ["--cacert", self.cacert]
        if token and self.token:
            cmd += ["-H", "Authorization: Bearer " + (token if isinstance(token, str) else self.token)]
        if content_type:
            cmd += ["-H", "Content-Type: " + content_type]
        if accept:
            cmd += ["-H", "Accept: " + accept]
        for h in headers:
            cmd += ["-H", h]
        data = None
        if body is not None:
            cmd += ["--data-binary", "@-"]  # from stdin: no argv size limit, no quoting
            data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8", "surrogatepass")
        res = subprocess.run(cmd + [self.base + path], input=data, capture_output=True,
                             timeout=timeout + 5)
        out, _, code = res.stdout.decode("utf-8", "replace").rpartition("\n")
        head, _, text = out.partition("\r\n\r\n")
        while head.startswith("HTTP/1.1 100"):  # interim "100 Continue" before the reply
            head, _, text = text.partition("\r\n\r\n")
        hdrs = {}
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return int(code or 0), parsed, hdrs, res.returncode

    def call(self, method, path, body=None, **kw):
        status, parsed, _, rc = self.curl(method, path, body, **kw)
        assert rc == 0, "curl failed"
        return status, parsed

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.cacert)

    def fast(self, method, path, body=None, token=True, accept="application/json"):
        """The same request through one kept-alive http.client connection: for the
        bulk of checks, where a curl process per request would be the slow part."""
        if getattr(self, "_conn", None) is None:
            if self.cacert:
                self._conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                                         context=self.ssl_context())
            else:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json", "Accept": accept}
        if token and self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        try:
            self._conn.request(method, path, body=data, headers=headers)
            resp = self._conn.getresponse()
        except (http.client.HTTPException, OSError):
            self._conn = None
            raise
        text = resp.read().decode()
        return resp.status, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("flyteadmin-tls"))
    yield emu
    assert emu.stop() == 0, "SIGTERM must exit cleanly"
    log = (emu.workdir / "server.log").read_text()
    assert "GET /api/v1/domains 200" in log  # one line per request ...
    assert TOKEN not in log and "Authorization" not in log  # ... and no secrets


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Plain HTTP, no token, custom domains."""
    emu = Emulator(tmp_path_factory.mktemp("flyteadmin-plain"), tls=False, token=False,
                   domains="dev,prod")
    yield emu
    assert emu.stop() == 0


def register(admin, pid, name=None, **extra):
    project = {"id": pid, "name": name or pid.upper()}
    project.update(extra)
    status, body = admin.fast("POST", "/api/v1/projects", {"project": project})
    assert (status, body) == (200, {}), body
    return project


def assert_error(result, status, code, text=None):
    got_status, body = result[0], result[1]
    assert got_status == status, body
    assert body["code"] == code and body["details"] == [], body
    if text:
        assert text in body["message"], body["message"]


DOMAINS = [{"id": "development", "name": "development"}, {"id": "staging", "name": "staging"},
           {"id": "production", "name": "production"}]


# ---------------------------------------------------------------------------
# projects

def test_register_then_get(admin):
    register(admin, "ws-customer-segmentation-001", "Customer Segmentation",
             description="workspace", labels={"values": {"workspace-id": "ws-customer-segmentation-001",
                                                         "flyte.org/tenant": "ws-x"}},
             state="ACTIVE")
    status, body = admin.call("GET", "/api/v1/projects/ws-customer-segmentation-001")
    assert status == 200
    assert body == {"id": "ws-customer-segmentation-001", "name": "Customer Segmentation",
                    "domains": DOMAINS, "description": "workspace",
                    "labels": {"values": {"workspace-id": "ws-customer-segmentation-001",
                                          "flyte.org/tenant": "ws-x"}},
                    "state": "ACTIVE", "org": ""}
    assert_error(admin.call("GET", "/api/v1/projects/absent-project"), 404, 5,
                 "project [absent-project] not found")


def test_register_with_domains_is_rejected(admin):
    result = admin.call("POST", "/api/v1/projects", {"project": {
        "id": "with-domains", "name": "D", "domains": [{"id": "development", "name": "development"}]}})
    assert_error(result, 400, 3)
    assert result[1]["message"] == ("Domains are currently only set system wide. "
                                    "Please retry without domains included in your request.")
    # an empty list decodes to no domains at all, which flyteadmin accepts
    assert admin.call("POST", "/api/v1/projects", {"project": {
        "id": "empty-domains", "name": "E", "domains": []}}) == (200, {})


def test_duplicate_is_409_with_code_6(admin):
    register(admin, "dup-project")
    status, body, hdrs, _ = admin.curl("POST", "/api/v1/projects",
                                       {"project": {"id": "dup-project", "name": "Again"}})
    assert status == 409 and hdrs["content-type"] == "application/json"
    assert body["code"] == 6 and body["details"] == []
    assert "already exists" in body["message"]


@pytest.mark.parametrize("project,text", [
    ({"id": "Bad_ID", "name": "x"}, "invalid project id [Bad_ID]: [a lowercase RFC 1123 label"),
    ({"id": "a" * 64, "name": "x"}, "must be no more than 63 characters"),
    ({"id": "-lead", "name": "x"}, "invalid project id [-lead]"),
    ({"name": "x"}, "missing project_id"),
    ({"id": "no-name"}, "missing project_name"),
    ({"id": "long-name", "name": "n" * 65}, "project_name cannot exceed 64 characters"),
    ({"id": "long-utf8", "name": "\u00e9" * 33}, "project_name cannot exceed 64 characters"),
    ({"id": "long-desc", "name": "x", "description": "d" * 301},
     "project_description cannot exceed 300 characters"),
    ({"id": "many-labels", "name": "x", "labels": {"values": {"k%d" % i: "v" for i in range(17)}}},
     "labels map cannot exceed 16 entries"),
    ({"id": "bad-key", "name": "x", "labels": {"values": {"bad key": "v"}}},
     "invalid label key [bad key]"),
    ({"id": "bad-value", "name": "x", "labels": {"values": {"k": "-v-"}}},
     "invalid label value [-v-]"),
    ({"id": "long-value", "name": "x", "labels": {"values": {"k": "v" * 64}}},
     "must be no more than 63 characters"),
    ({"id": "typo", "name": "x", "bogus": 1}, 'unknown field "bogus"'),
    ({"id": 5, "name": "x"}, "invalid value for string field id: 5"),
    ({"id": "bad-state", "name": "x", "state": "GONE"}, 'invalid value for enum field state: "GONE"'),
])
def test_register_validation(admin, project, text):
    assert_error(admin.call("POST", "/api/v1/projects", {"project": project}), 400, 3, text)


@pytest.mark.parametrize("body,text", [
    ("{}", "missing project"),
    ('{"project": {"id": "x",', "unexpected EOF"),
    ("{'project': 1}", "invalid character"),
    ("[1, 2]", "unexpected token ["),
    ('{"project": {"id": "a", "id": "b", "name": "n"}}', 'duplicate field "id"'),
])
def test_malformed_bodies_are_400_code_3(admin, body, text):
    assert_error(admin.call("POST", "/api/v1/projects", body), 400, 3, text)


def test_archive_and_reactivate_with_put(admin):
    register(admin, "arch-1", "Archive Me", description="keep")
    assert admin.call("PUT", "/api/v1/projects/arch-1", {"state": "ARCHIVED"}) == (200, {})
    _, body = admin.call("GET", "/api/v1/projects/arch-1")
    # empty name/description in the update leave the stored ones alone
    assert (body["state"], body["name"], body["description"]) == ("ARCHIVED", "Archive Me", "keep")
    # numbers are accepted for enums; the path id wins over the body id
    assert admin.call("PUT", "/api/v1/projects/arch-1",
                      {"id": "other", "state": 0, "description": "back"}) == (200, {})
    _, body = admin.call("GET", "/api/v1/projects/arch-1")
    assert (body["state"], body["description"]) == ("ACTIVE", "back")
    assert admin.call("GET", "/api/v1/projects/other")[0] == 404
    # flyteadmin always writes state: a PUT without it re-activates the project
    admin.call("PUT", "/api/v1/projects/arch-1", {"state": "ARCHIVED"})
    admin.call("PUT", "/api/v1/projects/arch-1", {"name": "Renamed"})
    _, body = admin.call("GET", "/api/v1/projects/arch-1")
    assert (body["state"], body["name"]) == ("ACTIVE", "Renamed")
    assert_error(admin.call("PUT", "/api/v1/projects/nope", {"state": "ARCHIVED"}), 404, 5,
                 "project [nope] not found")
    assert_error(admin.call("PUT", "/api/v1/projects/arch-1", {"domains": [{"id": "x"}]}),
                 400, 3, "Domains are currently only set system wide")
    # projects cannot be deleted: the route exists for other methods only
    assert_error(admin.call("DELETE", "/api/v1/projects/arch-1"), 501, 12, "Method Not Allowed")
    assert admin.call("GET", "/api/v1/projects/arch-1")[0] == 200
    # an archived project still holds its id
    admin.call("PUT", "/api/v1/projects/arch-1", {"state": "ARCHIVED"})
    assert_error(admin.call("POST", "/api/v1/projects", {"project": {"id": "arch-1", "name": "x"}}),
                 409, 6)


def ids(body, prefix):
    return [p["id"] for p in body["projects"] if p["id"].startswith(prefix)]


def test_list_filters(admin):
    for pid, name in [("lf-a", "Lf A"), ("lf-b", "Lf B"), ("lf-c", "Lf C")]:
        register(admin, pid, name)
    admin.call("PUT", "/api/v1/projects/lf-c", {"state": "ARCHIVED"})
    status, body = admin.call("GET", "/api/v1/projects")
    assert status == 200 and ids(body, "lf-") == ["lf-a", "lf-b"]  # archived hidden by default
    assert body["token"] == "" and body["projects"][0]["domains"] == DOMAINS
    q = "/api/v1/projects?filters="
    assert ids(admin.call("GET", q + "eq(state,1)")[1], "lf-") == ["lf-c"]
    assert ids(admin.call("GET", q + "ne(state,1)")[1], "lf-") == ["lf-a", "lf-b"]
    assert ids(admin.call("GET", q + "eq(state,0)")[1], "lf-") == ["lf-a", "lf-b"]
    assert ids(admin.call("GET", q + "eq(name,Lf%20B)")[1], "") == ["lf-b"]
    # ';' and '+' must be percent-encoded: the gateway form-decodes the query first
    assert ids(admin.call("GET", q + "value_in(identifier,lf-a%3Blf-c)")[1], "") == ["lf-a", "lf-c"]
    assert ids(admin.call("GET", q + "contains(identifier,lf-)%2Bne(name,Lf%20A)")[1], "") \
        == ["lf-b", "lf-c"]
    assert_error(admin.call("GET", q + "value_in(identifier,lf-a;lf-c)"), 400, 3,
                 "invalid semicolon separator in query")
    assert_error(admin.call("GET", q + "near(name,x)"), 400, 3, "unrecognized filter function: near")
    assert_error(admin.call("GET", q + "eq(colour,x)"), 400, 3, "'project.colour' is invalid filter")
    assert_error(admin.call("GET", q + "eq(task.name,x)"), 400, 3, "'task' entity is not allowed")
    assert_error(admin.call("GET", q + "whatever"), 400, 3, "invalid value for filters")
    assert_error(admin.call("GET", q + "eq(state,abc)"), 500, 2, "invalid input syntax for type integer")


def test_list_paging_and_sort(admin):
    for i in range(1, 6):
        register(admin, "pg-%d" % i)
    q = "/api/v1/projects?filters=contains(identifier,pg-)&limit=2"
    _, page = admin.fast("GET", q)
    assert ids(page, "") == ["pg-1", "pg-2"] and page["token"] == "2"
    _, page = admin.fast("GET", q + "&token=" + page["token"])
    assert ids(page, "") == ["pg-3", "pg-4"] and page["token"] == "4"
    _, page = admin.fast("GET", q + "&token=" + page["token"])
    assert ids(page, "") == ["pg-5"] and page["token"] == ""
    # sort_by.direction defaults to DESCENDING (enum value 0)
    _, page = admin.fast("GET", q + "&sort_by.key=identifier")
    assert ids(page, "") == ["pg-5", "pg-4"]
    _, page = admin.fast("GET", q + "&sort_by.key=identifier&sort_by.direction=ASCENDING")
    assert ids(page, "") == ["pg-1", "pg-2"]
    assert_error(admin.fast("GET", q + "&sort_by.key=colour"), 400, 3, "invalid sort key 'colour'")
    assert_error(admin.fast("GET", q + "&token=abc"), 400, 3,
                 "invalid pagination token abc for ListProjects")
    assert_error(admin.fast("GET", "/api/v1/projects?limit=many"), 400, 3, "strconv.ParseUint")


# ---------------------------------------------------------------------------
# matchable attributes

def test_project_attributes_per_type(admin):
    register(admin, "pa-1")
    url = "/api/v1/project_attributes/pa-1"
    assert_error(admin.call("GET", url + "?resource_type=TASK_RESOURCE"), 404, 5, "not found")
    task = {"defaults": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}
    assert admin.call("PUT", url, {"attributes": {"project": "pa-1", "matching_attributes":
                                                  {"task_resource_attributes": task}}}) == (200, {})
    for rtype in ("TASK_RESOURCE", "0"):
        status, body = admin.call("GET", url + "?resource_type=" + rtype)
        assert status == 200
        got = body["attributes"]["matching_attributes"]["task_resource_attributes"]
        assert got["defaults"]["cpu"] == "500m" and got["limits"]["memory"] == "4Gi"
        assert got["defaults"]["gpu"] == ""  # every field is printed
    # one resource type per PUT, and a PUT replaces that type entirely
    quota = {"cluster_resource_attributes": {"attributes": {"projectQuotaCpu": "4",
                                                            "projectQuotaMemory": "8Gi"}}}
    assert admin.call("PUT", url, {"attributes": {"matching_attributes": quota}}) == (200, {})
    smaller = {"cluster_resource_attributes": {"attributes": {"projectQuotaCpu": "8"}}}
    assert admin.call("PUT", url, {"attributes": {"matching_attributes": smaller}}) == (200, {})
    _, body = admin.call("GET", url + "?resource_type=CLUSTER_RESOURCE")
    assert body["attributes"] == {"project": "pa-1", "org": "", "matching_attributes":
                                  {"cluster_resource_attributes": {"attributes": {"projectQuotaCpu": "8"}}}}
    assert admin.call("GET", url + "?resource_type=1")[1] == body
    # task resources are untouched by the cluster-resource PUT
    assert admin.call("GET", url + "?resource_type=TASK_RESOURCE")[0] == 200
    two = {"task_resource_attributes": task, "cluster_resource_attributes": {"attributes": {}}}
    assert_error(admin.call("PUT", url, {"attributes": {"matching_attributes": two}}), 400, 3,
                 "oneof flyteidl.admin.MatchingAttributes.target is already set")
    assert_error(admin.call("PUT", url, {"attributes": {"matching_attributes": {}}}), 400, 3,
                 "Unrecognized matching attributes type for request pa-1")
    assert_error(admin.call("PUT", url, {"attributes": {}}), 400, 3, "missing matching_attributes")
    qos = {"quality_of_service": {"tier": "HIGH"}}
    assert_error(admin.call("PUT", url, {"attributes": {"matching_attributes": qos}}), 400, 3,
                 "Unrecognized matching attributes type")
    assert_error(admin.call("PUT", url, {"attributes": {"matching_attributes": {
        "cluster_resource_attributes": {"attrs": {}}}}}), 400, 3, 'unknown field "attrs"')
    # delete takes the type from the body; deleting what is not there is fine
    assert admin.call("DELETE", url, {"resource_type": "CLUSTER_RESOURCE"}) == (200, {})
    assert admin.call("GET", url + "?resource_type=CLUSTER_RESOURCE")[0] == 404
    assert admin.call("DELETE", url, {"resource_type": 1}) == (200, {})
    assert admin.call("GET", url + "?resource_type=TASK_RESOURCE")[0] == 200
    assert_error(admin.call("GET", url + "?resource_type=NOPE"), 400, 3, "not a valid value")


def test_workflow_execution_config(admin):
    register(admin, "wec-1")
    url = "/api/v1/project_attributes/wec-1"
    # flyteadmin answers WORKFLOW_EXECUTION_CONFIG with its configured defaults, never 404
    _, body = admin.fast("GET", url + "?resource_type=WORKFLOW_EXECUTION_CONFIG")
    wec = body["attributes"]["matching_attributes"]["workflow_execution_config"]
    assert wec["max_parallelism"] == 25 and wec["security_context"] is None
    config = {"security_context": {"run_as": {"k8s_service_account": "flyte-wec-1-runner"}},
              "raw_output_data_config": {"output_location_prefix": "s3://wec-1-data/raw"},
              "labels": {"values": {"workspace-id": "wec-1"}},
              "annotations": {"values": {"owner": "alice@company.com"}}}
    assert admin.fast("PUT", url, {"attributes": {"project": "wec-1", "matching_attributes":
                                                  {"workflow_execution_config": config}}}) == (200, {})
    _, body = admin.fast("GET", url + "?resource_type=6")
    wec = body["attributes"]["matching_attributes"]["workflow_execution_config"]
    assert wec["security_context"]["run_as"]["k8s_service_account"] == "flyte-wec-1-runner"
    assert wec["raw_output_data_config"] == {"output_location_prefix": "s3://wec-1-data/raw"}
    assert wec["labels"] == {"values": {"workspace-id": "wec-1"}}
    assert wec["annotations"] == {"values": {"owner": "alice@company.com"}}
    assert wec["max_parallelism"] == 25  # merged from the server defaults


def test_attributes_need_a_registered_active_project(admin):
    body = {"attributes": {"matching_attributes": {"cluster_assignment": {"cluster_pool_name": "p"}}}}
    # flyteadmin answers InvalidArgument (400), not NotFound, for an unknown project
    assert_error(admin.fast("PUT", "/api/v1/project_attributes/ghost", body), 400, 3,
                 "failed to validate that project [ghost] is registered")
    assert_error(admin.fast("GET", "/api/v1/project_attributes/ghost?resource_type=7"), 400, 3,
                 "failed to validate that project [ghost] exists")
    register(admin, "pa-archived")
    admin.fast("PUT", "/api/v1/project_attributes/pa-archived", body)
    admin.fast("PUT", "/api/v1/projects/pa-archived", {"state": "ARCHIVED"})
    assert_error(admin.fast("PUT", "/api/v1/project_attributes/pa-archived", body), 400, 3,
                 "project [pa-archived] is not active")
    # reading the settings of an archived project is allowed
    assert admin.fast("GET", "/api/v1/project_attributes/pa-archived?resource_type=CLUSTER_ASSIGNMENT")[0] == 200


def test_project_domain_attributes(admin):
    register(admin, "pd-1")
    url = "/api/v1/project_domain_attributes/pd-1/"
    label = {"attributes": {"matching_attributes": {"execution_cluster_label": {"value": "gpu"}}}}
    assert admin.fast("PUT", url + "development", label) == (200, {})
    _, body = admin.fast("GET", url + "development?resource_type=EXECUTION_CLUSTER_LABEL")
    assert body["attributes"] == {"project": "pd-1", "domain": "development", "org": "",
                                  "matching_attributes": {"execution_cluster_label": {"value": "gpu"}}}
    assert admin.fast("GET", url + "staging?resource_type=EXECUTION_CLUSTER_LABEL")[0] == 404
    # the most specific setting wins; a project-level one answers for other domains
    admin.fast("PUT", "/api/v1/project_attributes/pd-1", {"attributes": {"matching_attributes": {
        "execution_cluster_label": {"value": "cpu"}}}})
    _, body = admin.fast("GET", url + "staging?resource_type=EXECUTION_CLUSTER_LABEL")
    assert (body["attributes"]["domain"], body["attributes"]["matching_attributes"]) == \
        ("", {"execution_cluster_label": {"value": "cpu"}})
    assert_error(admin.fast("PUT", url + "qa", label), 400, 3, "domain [qa] is unrecognized by system")
    assert_error(admin.fast("PUT", "/api/v1/project_domain_attributes/ghost/development", label),
                 400, 3, "failed to validate that project [ghost] and domain [development] are registered")
    assert admin.fast("DELETE", url + "development", {"resource_type": "EXECUTION_CLUSTER_LABEL"}) == (200, {})
    _, body = admin.fast("GET", url + "development?resource_type=3")
    assert body["attributes"]["domain"] == ""
    admin.fast("PUT", "/api/v1/projects/pd-1", {"state": "ARCHIVED"})
    status, body = admin.fast("GET", url + "development?resource_type=3")
    assert status == 400 and body["code"] == 3 and body["message"] == "project [pd-1] is not active"
    assert body["details"] == [{"@type": "type.googleapis.com/flyteidl.admin.InactiveProject",
                                "id": "pd-1"}]


# ---------------------------------------------------------------------------
# gateway behaviour

def test_content_type_decides_strictness_and_field_names(admin):
    # without application/json, grpc-gateway's default marshaler discards unknown
    # fields and prints lowerCamelCase names
    status, body = admin.call("POST", "/api/v1/projects",
                              {"project": {"id": "lenient", "name": "L", "bogus": 1}},
                              content_type="application/x-www-form-urlencoded", accept=None)
    assert (status, body) == (200, {})
    _, body = admin.call("GET", "/api/v1/version", content_type=None, accept=None)
    assert set(body) == {"controlPlaneVersion"}
    _, body = admin.call("GET", "/api/v1/version")
    assert set(body["control_plane_version"]) == {"Build", "Version", "BuildTime"}
    # both spellings are accepted on input
    status, _ = admin.call("PUT", "/api/v1/project_attributes/lenient", {"attributes": {
        "matchingAttributes": {"executionQueueAttributes": {"tags": ["a"]}}}})
    assert status == 200


def test_domains_version_healthcheck(admin, plain):
    assert admin.call("GET", "/api/v1/domains") == (200, {"domains": DOMAINS})
    assert plain.call("GET", "/api/v1/domains") == (
        200, {"domains": [{"id": "dev", "name": "dev"}, {"id": "prod", "name": "prod"}]})
    register(plain, "plain-1")
    assert plain.call("GET", "/api/v1/projects/plain-1")[1]["domains"][1]["id"] == "prod"
    status, body, _, rc = admin.curl("GET", "/healthcheck", token=False)
    assert (status, rc) == (200, 0) and not body
    assert admin.call("GET", "/api/v1/version")[0] == 200


def test_unknown_routes(admin):
    assert_error(admin.call("GET", "/api/v1/nothing-here"), 404, 5, "Not Found")
    assert_error(admin.call("PATCH", "/api/v1/projects"), 501, 12, "Method Not Allowed")
    assert_error(admin.call("GET", "/api/v1/projects/"), 400, 3, "missing project_id")


def test_bearer_token(admin, plain):
    status, body, hdrs, _ = admin.curl("GET", "/api/v1/domains", token=False)
    assert status == 401 and body["code"] == 16 and "www-authenticate" in hdrs
    assert_error(admin.call("GET", "/api/v1/domains", token="wrong-token"), 401, 16)
    assert admin.call("GET", "/api/v1/domains")[0] == 200
    assert_error(admin.call("POST", "/api/v1/projects", {"project": {"id": "no-auth", "name": "x"}},
                            token=False), 401, 16)
    assert admin.call("GET", "/api/v1/projects/no-auth")[0] == 404
    # routing and decoding come before the auth interceptor, as in flyteadmin
    assert admin.call("GET", "/api/v1/nothing-here", token=False)[0] == 404
    assert plain.call("GET", "/api/v1/domains", token=False)[0] == 200


def test_urllib_and_keep_alive(admin):
    ctx = admin.ssl_context()
    req = urllib.request.Request(admin.base + "/api/v1/projects", method="POST",
                                 data=json.dumps({"project": {"id": "via-urllib", "name": "U"}}).encode(),
                                 headers={"Authorization": "Bearer " + TOKEN,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
        assert resp.status == 200 and json.load(resp) == {}
    conn = http.client.HTTPSConnection("127.0.0.1", admin.port, context=ctx, timeout=5)
    headers = {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
    conn.request("GET", "/api/v1/projects/via-urllib", headers=headers)
    first = conn.getresponse()
    assert first.status == 200 and json.loads(first.read())["name"] == "U"
    sock = conn.sock
    for _ in range(3):
        conn.request("GET", "/api/v1/domains", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["domains"]
    assert conn.sock is sock  # the same connection served every request
    conn.close()


# ---------------------------------------------------------------------------
# fault injection (faults.py through /_emulator/)

def control(admin, method, sub, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(admin.base + "/_emulator/" + sub, method=method, data=data)
    with urllib.request.urlopen(req, context=admin.ssl_context(), timeout=5) as resp:
        return resp.status, json.load(resp)


def test_fault_status_once_then_normal(admin):
    status, reply = control(admin, "POST", "faults", {"method": "GET", "path": "^/api/v1/domains$",
                                                      "status": 500, "count": 1})
    assert status == 201 and reply["id"]
    assert_error(admin.call("GET", "/api/v1/domains"), 500, 13)
    assert admin.call("GET", "/api/v1/domains")[0] == 200
    control(admin, "POST", "faults", {"method": "POST", "path": "^/api/v1/projects$", "status": 409,
                                      "message": "injected duplicate"})
    status, body = admin.call("POST", "/api/v1/projects", {"project": {"id": "fault-409", "name": "x"}})
    assert (status, body) == (409, {"code": 6, "message": "injected duplicate", "details": []})
    assert admin.call("GET", "/api/v1/projects/fault-409")[0] == 404  # nothing was created
    assert control(admin, "GET", "faults")[1]["log"]


def test_fault_drop_connection(admin):
    control(admin, "POST", "faults", {"path": "^/api/v1/version$", "drop": True})
    status, _, _, rc = admin.curl("GET", "/api/v1/version")
    assert rc != 0 and status == 0  # no HTTP reply at all
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        control(admin, "POST", "faults", {"path": "^/api/v1/version$", "drop": True})
        urllib.request.urlopen(admin.base + "/api/v1/version", context=admin.ssl_context(), timeout=5)
    assert admin.call("GET", "/api/v1/version")[0] == 200


def test_fault_delay_and_latency(admin):
    control(admin, "POST", "faults", {"path": "^/api/v1/domains$", "delay_ms": 400, "status": None})
    start = time.monotonic()
    assert admin.call("GET", "/api/v1/domains")[0] == 200  # delayed, then served
    assert time.monotonic() - start >= 0.4
    control(admin, "POST", "latency", {"delay_ms": 200})
    start = time.monotonic()
    assert admin.call("GET", "/api/v1/domains")[0] == 200
    assert time.monotonic() - start >= 0.2
    assert control(admin, "DELETE", "faults") == (200, {"cleared": True})
    start = time.monotonic()
    admin.call("GET", "/api/v1/domains")
    assert time.monotonic() - start < 0.2


# ---------------------------------------------------------------------------
# robustness

def test_garbage_input_keeps_the_server_alive(admin):
    ctx = admin.ssl_context()
    # garbage inside a TLS session: net/http-style plain-text 400
    with socket.create_connection(("127.0.0.1", admin.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"\x00\xff\xfe garbage \x01\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 400")
    # not TLS at all, and a client that connects but never handshakes
    with socket.create_connection(("127.0.0.1", admin.port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.0 400 Bad Request")
    with socket.create_connection(("127.0.0.1", admin.port), timeout=5) as raw:
        raw.sendall(os.urandom(512))
        try:
            raw.recv(4096)
        except ConnectionResetError:
            pass
    idle = socket.create_connection(("127.0.0.1", admin.port), timeout=5)
    try:
        assert admin.call("GET", "/api/v1/domains")[0] == 200
        # oversized and binary bodies
        status, body, _, _ = admin.curl("POST", "/api/v1/projects", "x" * (4 * 1024 * 1024 + 1))
        assert status == 429 and body["code"] == 8
        assert_error(admin.call("POST", "/api/v1/projects", "\x08\x01",
                                content_type="application/octet-stream"), 400, 3)
        for junk in ["{", "}", "null", '"s"', "{\"project\": []}", "\ud800", "{\"project\": {\"labels\": 5}}"]:
            assert admin.call("POST", "/api/v1/projects", junk)[0] == 400, junk
        assert admin.call("GET", "/api/v1/domains")[0] == 200
    finally:
        idle.close()
