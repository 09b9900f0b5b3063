"""End-to-end: the real kubectl runs the real kubectl-workspace plugin (bin/
on PATH) against the local cluster (emulated kube-apiserver + Flyte Admin).

Each scenario checks what the cluster and Flyte hold afterwards, over their
REST APIs, not what the plugin printed. This module runs on a cluster of its
own so other suites' webhooks cannot interfere.
"""
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cluster"))
from kube_cluster import ROOT, private_cluster  # noqa: E402

SEED = "Customer Segmentation Analysis"
ID = "ws-customer-segmentation-analysis-001"
NS = "flyte-" + ID
SYS = "workspace-system"
OWNER_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
READ_VERBS = ["get", "list", "watch"]
STANDARD = {"requests.cpu": "20", "requests.memory": "40Gi", "limits.cpu": "40",
            "limits.memory": "80Gi", "pods": "100", "persistentvolumeclaims": "20"}
LARGE = {"requests.cpu": "64", "requests.memory": "128Gi", "limits.cpu": "128",
         "limits.memory": "256Gi", "pods": "500", "persistentvolumeclaims": "50"}


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    yield from private_cluster(tmp_path_factory, bin_dir, "plugin-cluster")


@pytest.fixture
def clean_faults(c):
    """Clear the faults of this module's cluster (conftest's fixture clears
    those of the session cluster, another one)."""
    yield
    c.clear_faults()


def ws(c, *args, check=True, **kw):
    return c.kubectl("workspace", *args, check=check, **kw)


def get(c, path):
    status, body = c.api("GET", path)
    assert status == 200, (path, status, body)
    return body


def absent(c, path):
    status, body = c.api("GET", path)
    return status == 404


def flyte_get(c, path):
    status, body = c.flyte("GET", path)
    assert status == 200, (path, status, body)
    return body


def one_line_error(r):
    """A failure: non-zero exit and a single 'error: ...' line on stderr."""
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines and lines[-1].startswith("error: "), r.stderr
    assert len([l for l in lines if l.startswith("error: ")]) == 1, r.stderr
    return lines[-1]


def create_seed(c, *extra):
    return ws(c, "create", SEED, "--owner", "alice@company.com", "--member", "bob=contributor",
              "--service", "flyte", "--yes", *extra)


# ---- state snapshots ----------------------------------------------------------

NAMESPACED = ["api/v1/configmaps", "api/v1/resourcequotas", "api/v1/serviceaccounts",
              "apis/networking.k8s.io/v1/networkpolicies", "apis/rbac.authorization.k8s.io/v1/roles",
              "apis/rbac.authorization.k8s.io/v1/rolebindings", "api/v1/secrets"]


def snapshot(c):
    """Every namespace, every object of ours in them, the records and every
    Flyte project with its state: (name, resourceVersion) pairs."""
    snap = {"namespaces": sorted((n["metadata"]["name"], n["metadata"]["resourceVersion"])
                                 for n in get(c, "/api/v1/namespaces")["items"])}
    for ns, _ in snap["namespaces"]:
        if not (ns.startswith("flyte-ws-") or ns == SYS):
            continue
        for res in NAMESPACED:
            group, _, plural = res.rpartition("/")
            items = get(c, "/%s/namespaces/%s/%s" % (group, ns, plural))["items"]
            snap["%s/%s" % (ns, plural)] = sorted(
                (o["metadata"]["name"], o["metadata"]["resourceVersion"]) for o in items)
    projects = flyte_get(c, "/api/v1/projects?filters=ne(state,2)&limit=1000")["projects"]
    snap["flyte"] = sorted((p["id"], p["state"], p["name"]) for p in projects)
    return snap


def workspace_state(c, wid):
    """resourceVersions of a workspace's objects plus its Flyte project and settings."""
    ns = "flyte-" + wid
    out = {"record": get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))
           ["metadata"]["resourceVersion"],
           "namespace": get(c, "/api/v1/namespaces/" + ns)["metadata"]["resourceVersion"]}
    for res in NAMESPACED:
        group, _, plural = res.rpartition("/")
        out[plural] = sorted((o["metadata"]["name"], o["metadata"]["resourceVersion"])
                             for o in get(c, "/%s/namespaces/%s/%s" % (group, ns, plural))["items"])
    out["project"] = flyte_get(c, "/api/v1/projects/" + wid)
    for rt in ("WORKFLOW_EXECUTION_CONFIG", "CLUSTER_RESOURCE"):
        out[rt] = flyte_get(c, "/api/v1/project_attributes/%s?resource_type=%s" % (wid, rt))
    return out


# ---- the seed example ------------------------------------------------------------

def test_seed_example_end_to_end(c):
    r = create_seed(c)
    assert "Workspace created." in r.stdout
    assert "Console:        %s/console/projects/%s/domains/development/executions" % (
        c.env["FLYTE_PLATFORM_URL"], ID) in r.stdout

    ns = get(c, "/api/v1/namespaces/" + NS)
    assert ns["metadata"]["labels"] == {
        "kubernetes.io/metadata.name": NS, "workspace-id": ID, "flyte.org/tenant": ID,
        "managed-by": "kubectl-workspace", "service": "flyte"}
    assert ns["metadata"]["annotations"] == {
        "workspace.flyte.org/name": SEED,
        "workspace.flyte.org/created-by": "alice@company.com",
        "workspace.flyte.org/tier": "standard",
        "workspace.flyte.org/quota": "requests.cpu=20,requests.memory=40Gi,limits.cpu=40,"
                                     "limits.memory=80Gi,pods=100,persistentvolumeclaims=20"}

    quota = get(c, "/api/v1/namespaces/%s/resourcequotas/%s-quota" % (NS, ID))
    assert quota["spec"]["hard"] == STANDARD
    assert quota["metadata"]["labels"] == {"workspace-id": ID, "managed-by": "kubectl-workspace"}

    sa = get(c, "/api/v1/namespaces/%s/serviceaccounts/flyte-%s-runner" % (NS, ID))
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == \
        "arn:aws:iam::123456789012:role/%s-runner" % ID

    np = get(c, "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s-isolation" % (NS, ID))
    assert np["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}, {"namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "flyte"}}}]}]}

    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/" + NS
    alice = get(c, "%s/roles/%s-alice-role" % (rbac, ID))
    assert alice["rules"][0]["verbs"] == OWNER_VERBS
    assert "secrets" in alice["rules"][0]["resources"]
    assert {"apiGroups": ["flyte.lyft.com"], "resources": ["flyteworkflows"],
            "verbs": OWNER_VERBS} in alice["rules"]
    bob = get(c, "%s/roles/%s-bob-role" % (rbac, ID))
    assert not any("secrets" in rule["resources"] for rule in bob["rules"])
    assert all("deletecollection" not in rule["verbs"] for rule in bob["rules"])
    ab = get(c, "%s/rolebindings/%s-alice-binding" % (rbac, ID))
    assert ab["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                             "name": ID + "-alice-role"}
    assert ab["subjects"] == [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                               "name": "alice@company.com"}]
    bb = get(c, "%s/rolebindings/%s-bob-binding" % (rbac, ID))
    assert bb["subjects"][0]["name"] == "bob"
    assert sorted(o["metadata"]["name"] for o in get(c, rbac + "/roles")["items"]) == \
        [ID + "-alice-role", ID + "-bob-role"]

    cm = get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, ID))
    assert cm["metadata"]["labels"]["app"] == "workspace-config"
    rec = json.loads(cm["data"]["workspace.json"])
    assert rec["workspace_id"] == ID and rec["workspace_name"] == SEED
    assert rec["users"] == [{"user_id": "alice", "email": "alice@company.com", "role": "owner"},
                            {"user_id": "bob", "role": "contributor"}]
    assert rec["services"] == [{"service_type": "flyte", "config": {}}]
    assert rec["tier"] == "standard" and rec["data_bucket"] == ID + "-data"
    assert json.loads(cm["data"]["status.json"])["phase"] == "Ready"

    project = flyte_get(c, "/api/v1/projects/" + ID)
    assert project["name"] == "Flyte - Customer Segmentation Analysis"
    assert project["state"] == "ACTIVE"
    assert project["labels"]["values"]["workspace-id"] == ID
    wec = flyte_get(c, "/api/v1/project_attributes/%s?resource_type=WORKFLOW_EXECUTION_CONFIG" % ID)
    m = wec["attributes"]["matching_attributes"]["workflow_execution_config"]
    assert m["security_context"]["run_as"]["k8s_service_account"] == "flyte-%s-runner" % ID
    assert m["raw_output_data_config"]["output_location_prefix"] == "s3://%s-data" % ID
    cra = flyte_get(c, "/api/v1/project_attributes/%s?resource_type=CLUSTER_RESOURCE" % ID)
    assert cra["attributes"]["matching_attributes"]["cluster_resource_attributes"]["attributes"] \
        == {"projectQuotaCpu": "40", "projectQuotaMemory": "80Gi"}

    d = ws(c, "describe", ID)
    assert "Drift:          none" in d.stdout and "Status:         Ready" in d.stdout
    assert d.stdout.count(" ok ") >= 12
    doc = ws(c, "doctor", ID)
    assert doc.returncode == 0 and "ok (13 objects match the plan)" in doc.stdout
    lst = ws(c, "list", "-o", "json")
    assert [i["workspace_id"] for i in json.loads(lst.stdout)["items"]] == [ID]


def test_second_run_changes_nothing(c):
    before = workspace_state(c, ID)
    r = create_seed(c)
    assert "Workspace already existed" in r.stdout
    assert " created" not in r.stdout and " configured" not in r.stdout
    assert workspace_state(c, ID) == before


def test_kubectl_get_shows_the_workspace(c):
    r = c.kubectl("get", "ns", "-l", "flyte.org/tenant=" + ID, "-o", "name")
    assert r.stdout.strip() == "namespace/" + NS
    r = c.kubectl("get", "rolebindings", "-n", NS, "-o", "name")
    assert sorted(r.stdout.split()) == ["rolebinding.rbac.authorization.k8s.io/%s-%s-binding"
                                        % (ID, u) for u in ("alice", "bob")]


# ---- interactive ------------------------------------------------------------------

class Term:
    """A pseudo-terminal session: expect a prompt, answer it."""

    def __init__(self, c, args):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                                     env=c.environ(), close_fds=True)
        os.close(slave)
        self.buf = ""

    def expect(self, text, timeout=20):
        end = time.time() + timeout
        while text not in self.buf:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("did not see %r; screen so far:\n%s" % (text, self.buf))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError("exited before %r:\n%s" % (text, self.buf))
                self.buf += data.decode("utf-8", "replace")
        at = self.buf.index(text) + len(text)
        seen, self.buf = self.buf[:at], self.buf[at:]
        return seen

    def send(self, line):
        os.write(self.master, (line + "\n").encode())

    def wait(self, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # EIO: the terminal's other side is closed
                    data = b""
                if not data:
                    break
                self.buf += data.decode("utf-8", "replace")
            elif self.proc.poll() is not None:
                break
        rc = self.proc.wait(timeout=5)
        os.close(self.master)
        return rc


def test_interactive_create_matches_scripted(c):
    t = Term(c, ["kubectl", "workspace", "create"])
    t.expect("Workspace name: ")
    t.send("!!!")
    t.expect("no letters or digits")
    t.expect("Workspace name: ")
    t.send("Interactive Seed")
    t.expect("ws-interactive-seed-<NNN>")
    t.expect("Owner e-mail: ")
    t.send("carol")
    t.expect("not a valid e-mail address")
    t.expect("Owner e-mail: ")
    t.send("carol@company.com")
    t.expect("Add a member")
    t.send("dave")
    t.expect("Role (owner, contributor, viewer) [contributor]: ")
    t.send("admin")
    t.expect("unknown role 'admin'")
    t.expect("[contributor]: ")
    t.send("")
    t.expect("E-mail (optional): ")
    t.send("dave@company.com")
    t.expect("Add a member")
    t.send("erin@company.com")
    t.expect("[contributor]: ")
    t.send("viewer")
    t.expect("Add a member")
    t.send("")
    t.expect("Services (comma separated) [flyte]: ")
    t.send("")
    t.expect("[standard]: ")
    t.send("gold")
    t.expect("unknown tier 'gold'")
    t.expect("[standard]: ")
    t.send("small")
    screen = t.expect("Create this workspace? [y/N]: ")
    assert "ws-interactive-seed-001-dave-binding" in screen  # the plan is shown
    t.send("y")
    assert t.wait() == 0, t.buf
    assert "Workspace created." in t.buf

    wid = "ws-interactive-seed-001"
    before = workspace_state(c, wid)
    assert dict(get(c, "/api/v1/namespaces/flyte-%s/resourcequotas/%s-quota" % (wid, wid))
                ["spec"]["hard"])["pods"] == "20"
    # the same answers as flags: an idempotent re-run, nothing changes
    r = ws(c, "create", "Interactive Seed", "--owner", "carol@company.com",
           "--member", "dave=contributor:dave@company.com", "--member", "erin@company.com=viewer",
           "--tier", "small", "--yes")
    assert "Workspace already existed" in r.stdout
    assert " created" not in r.stdout and " configured" not in r.stdout, r.stdout
    assert workspace_state(c, wid) == before


def test_interactive_cancel_creates_nothing(c):
    before = snapshot(c)
    t = Term(c, ["kubectl", "workspace", "create", "Cancelled",
                 "--owner", "alice@company.com", "--member", "bob=viewer", "--service", "flyte",
                 "--tier", "small"])
    t.expect("Create this workspace? [y/N]: ")
    t.send("y" * 40)  # one over-long answer is dropped whole, not read as several
    t.expect("that answer is too long")
    t.expect("Create this workspace? [y/N]: ")
    t.send("n")
    assert t.wait() == 1
    assert "please answer" not in t.buf
    assert "cancelled: nothing was created" in t.buf
    assert snapshot(c) == before


# ---- members, tier, delete --------------------------------------------------------

def role_verbs(c, ns, name):
    role = get(c, "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/roles/%s" % (ns, name))
    return sorted({v for rule in role["rules"] for v in rule["verbs"]})


def test_members_and_tier(c):
    ws(c, "create", "Team Alpha", "--owner", "alice@company.com", "--yes")
    wid, ns = "ws-team-alpha-001", "flyte-ws-team-alpha-001"
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns

    r = ws(c, "member", "add", wid, "carol", "viewer", "--email", "carol@company.com")
    assert "role/%s-carol-role created" % wid in r.stdout
    assert role_verbs(c, ns, wid + "-carol-role") == sorted(READ_VERBS)
    b = get(c, "%s/rolebindings/%s-carol-binding" % (rbac, wid))
    assert b["subjects"][0]["name"] == "carol@company.com"

    ws(c, "member", "add", wid, "bob@company.com")  # role defaults to contributor
    assert "create" in role_verbs(c, ns, wid + "-bob-company-com-role")
    ws(c, "member", "set-role", wid, "bob@company.com", "viewer")
    assert role_verbs(c, ns, wid + "-bob-company-com-role") == sorted(READ_VERBS)
    ws(c, "member", "set-role", wid, "carol", "owner")
    assert "deletecollection" in role_verbs(c, ns, wid + "-carol-role")

    r = ws(c, "member", "remove", wid, "carol")
    assert "rolebinding/%s-carol-binding deleted" % wid in r.stdout
    assert absent(c, "%s/roles/%s-carol-role" % (rbac, wid))
    assert absent(c, "%s/rolebindings/%s-carol-binding" % (rbac, wid))
    rec = json.loads(get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))["data"]
                     ["workspace.json"])
    assert [(u["user_id"], u["role"]) for u in rec["users"]] == \
        [("alice", "owner"), ("bob@company.com", "viewer")]

    ws(c, "tier", wid, "large")
    assert get(c, "/api/v1/namespaces/%s/resourcequotas/%s-quota" % (ns, wid))["spec"]["hard"] \
        == LARGE
    assert get(c, "/api/v1/namespaces/" + ns)["metadata"]["annotations"][
        "workspace.flyte.org/tier"] == "large"
    cra = flyte_get(c, "/api/v1/project_attributes/%s?resource_type=CLUSTER_RESOURCE" % wid)
    assert cra["attributes"]["matching_attributes"]["cluster_resource_attributes"]["attributes"] \
        == {"projectQuotaCpu": "128", "projectQuotaMemory": "256Gi"}
    assert ws(c, "doctor", wid).returncode == 0

    # refusals leave the record alone
    before = workspace_state(c, wid)
    assert "last owner" in one_line_error(ws(c, "member", "remove", wid, "alice", check=False))
    assert "not a member" in one_line_error(ws(c, "member", "set-role", wid, "zed", "viewer",
                                               check=False))
    assert "unknown tier 'gold'" in one_line_error(ws(c, "tier", wid, "gold", check=False))
    assert "unknown role" in one_line_error(ws(c, "member", "add", wid, "x", "boss", check=False))
    assert "not found" in one_line_error(ws(c, "tier", "ws-nope-001", "small", check=False))
    assert workspace_state(c, wid) == before


def test_delete_leaves_only_the_archived_project(c):
    ws(c, "create", "Short Lived", "--owner", "alice@company.com", "--member", "bob=viewer",
       "--yes")
    wid = "ws-short-lived-001"
    # no terminal and no --yes: refused, nothing touched
    assert "without --yes" in one_line_error(ws(c, "delete", wid, check=False))
    assert not absent(c, "/api/v1/namespaces/flyte-" + wid)
    r = ws(c, "delete", wid, "--yes")
    assert "workspace/%s deleted" % wid in r.stdout
    assert absent(c, "/api/v1/namespaces/flyte-" + wid)
    assert absent(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))
    assert flyte_get(c, "/api/v1/projects/" + wid)["state"] == "ARCHIVED"
    assert wid not in ws(c, "list").stdout
    assert "not found" in one_line_error(ws(c, "delete", wid, "--yes", check=False))
    # the name can be used again: the archived project's number is skipped
    ws(c, "create", "Short Lived", "--owner", "alice@company.com", "--yes")
    assert flyte_get(c, "/api/v1/projects/ws-short-lived-002")["state"] == "ACTIVE"
    ws(c, "delete", "ws-short-lived-002", "--yes")


# ---- all or nothing -----------------------------------------------------------------

FAULT_STEPS = [
    ("record", "apiserver", "POST", r"^/api/v1/namespaces/workspace-system/configmaps$"),
    ("namespace", "apiserver", "POST", r"^/api/v1/namespaces$"),
    ("resource quota", "apiserver", "POST", r"/resourcequotas$"),
    ("service account", "apiserver", "POST", r"/serviceaccounts$"),
    ("network policy", "apiserver", "POST", r"/networkpolicies$"),
    ("role", "apiserver", "POST", r"/roles$"),
    ("role binding", "apiserver", "POST", r"/rolebindings$"),
    ("flyte project", "flyte", "POST", r"^/api/v1/projects$"),
]


@pytest.mark.emulator_only
@pytest.mark.parametrize("step,server,method,path", FAULT_STEPS, ids=[s[0] for s in FAULT_STEPS])
def test_failure_at_each_step_leaves_nothing(c, clean_faults, step, server, method, path):
    c.kubectl("create", "namespace", SYS, check=False)  # as on an installed cluster
    before = snapshot(c)
    c.fault(server, method=method, path=path, status=403, count=1,
            message="injected fault at %s" % step)
    r = ws(c, "create", "Fault Test", "--owner", "alice@company.com", "--member", "bob=viewer",
           "--yes", check=False)
    line = one_line_error(r)
    assert "step '%s'" % step in line, line
    assert "injected fault at %s" % step in line, line
    assert "everything this run did was undone" in line or step == "record", line
    assert snapshot(c) == before


@pytest.mark.emulator_only
def test_failed_first_create_removes_the_system_namespace_it_made(c, clean_faults):
    sys_ns = "fresh-records"  # -n: where the records live; missing on a new cluster
    before = snapshot(c)
    assert sys_ns not in [n for n, _ in before["namespaces"]]
    c.fault("apiserver", method="POST", path=r"^/api/v1/namespaces/%s/configmaps$" % sys_ns,
            status=403, count=1, message="injected fault at record")
    line = one_line_error(ws(c, "create", "First Ever", "--owner", "alice@company.com", "--yes",
                             "-n", sys_ns, check=False))
    assert "step 'record'" in line and "injected fault at record" in line, line
    assert "kept" not in line, line
    assert snapshot(c) == before


def test_a_namespace_of_someone_else_is_never_taken_over(c):
    c.kubectl("create", "namespace", "flyte-ws-taken-001")
    before = get(c, "/api/v1/namespaces/flyte-ws-taken-001")
    r = ws(c, "create", "Taken", "--owner", "alice@company.com", "--yes")
    assert "namespace/flyte-ws-taken-002 created" in r.stdout, r.stdout
    assert get(c, "/api/v1/namespaces/flyte-ws-taken-001") == before
    ws(c, "delete", "ws-taken-002", "--yes")
    c.kubectl("delete", "namespace", "flyte-ws-taken-001")


@pytest.mark.emulator_only
def test_independent_requests_go_in_parallel(c, clean_faults):
    def most_at_once(pattern, *args):
        c._control("apiserver", "POST", "concurrency", {"pattern": pattern})
        ws(c, *args)
        return c._control("apiserver", "GET", "concurrency")["max"]

    c.latency("apiserver", 150)
    # after the namespace: quota, service account, network policy, 2 roles, 2 bindings
    assert most_at_once(r"^POST /api", "create", "Parallel", "--owner", "alice@company.com",
                        "--member", "bob=viewer", "--yes") >= 7
    # a re-run looks for objects no longer planned: every kind listed at once
    assert most_at_once(r"^GET \S*labelSelector=", "create", "Parallel", "--owner",
                        "alice@company.com", "--yes") >= 5


@pytest.mark.emulator_only
def test_failure_in_flyte_settings_archives_the_new_project(c, clean_faults):
    before = snapshot(c)
    c.fault("flyte", method="PUT", path=r"^/api/v1/project_attributes/", status=400, count=1,
            message="injected fault at settings")
    r = ws(c, "create", "Settings Fault", "--owner", "alice@company.com", "--yes", check=False)
    line = one_line_error(r)
    assert "step 'flyte project settings'" in line and "injected fault at settings" in line
    assert "flyte project/ws-settings-fault-001 (archived: Flyte cannot delete projects)" in line
    after = snapshot(c)
    flyte_after = after.pop("flyte")
    flyte_before = before.pop("flyte")
    assert after == before
    assert set(flyte_after) - set(flyte_before) == {
        ("ws-settings-fault-001", "ARCHIVED", "Flyte - Settings Fault")}


RBAC = "/apis/rbac.authorization.k8s.io/v1/namespaces/"


def drop_server_fields(o):
    for k in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
        o["metadata"].pop(k, None)
    return o


@pytest.mark.emulator_only
def test_failed_fix_undoes_every_update_of_the_batch(c, clean_faults):
    """Updates go out together; one failing must not keep the others."""
    ws(c, "create", "Undo Updates", "--owner", "alice@company.com", "--member", "bob=viewer",
       "--yes")
    wid = "ws-undo-updates-001"
    ns = "flyte-" + wid
    quota = "/api/v1/namespaces/%s/resourcequotas/%s-quota" % (ns, wid)
    role = "%s%s/roles/%s-bob-role" % (RBAC, ns, wid)
    c.update(quota, lambda q: q["spec"]["hard"].update(pods="7"))
    c.update(role, lambda r: r["rules"][0].update(verbs=["get"]))
    before = (get(c, quota)["spec"], get(c, role)["rules"])
    # the quota comes before the role in the batch: its update fails, the role's succeeds
    c.fault("apiserver", method="PUT", path=r"/resourcequotas/", status=403, count=1,
            message="injected fault at quota update")
    line = one_line_error(ws(c, "doctor", wid, "--fix", check=False))
    assert "step 'resource quota': cannot update resourcequota/%s-quota" % wid in line, line
    assert "everything this run did was undone" in line, line
    assert (get(c, quota)["spec"], get(c, role)["rules"]) == before
    ws(c, "doctor", wid, "--fix")
    ws(c, "delete", wid, "--yes")


@pytest.mark.emulator_only
def test_replaced_rolebinding_is_restored_on_failure(c, clean_faults):
    """A binding whose roleRef differs is deleted and created again; a failure
    at or after that brings the old binding back."""
    ws(c, "create", "Undo Binding", "--owner", "alice@company.com", "--member", "bob=viewer",
       "--yes")
    wid = "ws-undo-binding-001"
    base = "%sflyte-%s/rolebindings" % (RBAC, wid)
    b = drop_server_fields(get(c, "%s/%s-bob-binding" % (base, wid)))
    assert c.api("DELETE", "%s/%s-bob-binding" % (base, wid))[0] == 200
    b["roleRef"]["name"] = wid + "-alice-role"
    assert c.api("POST", base, b)[0] == 201

    def binding():
        got = get(c, "%s/%s-bob-binding" % (base, wid))
        return got["roleRef"], got["subjects"]
    tampered = binding()

    # a server dry run shows the replacement and persists nothing
    r = ws(c, "create", "Undo Binding", "--owner", "alice@company.com", "--member",
           "bob=viewer", "--yes", "--dry-run=server")
    assert "rolebinding/%s-bob-binding configured (roleRef replaced)" % wid in r.stdout
    assert binding() == tampered
    # the creation of the new binding fails (the first two POSTs are the batch's)
    c.fault("apiserver", method="POST", path=r"/rolebindings$", count=2)
    c.fault("apiserver", method="POST", path=r"/rolebindings$", status=403, count=1,
            message="injected fault at binding replacement")
    line = one_line_error(ws(c, "doctor", wid, "--fix", check=False))
    assert "step 'role binding': cannot replace rolebinding/%s-bob-binding" % wid in line, line
    assert "everything this run did was undone" in line, line
    assert binding() == tampered
    # a later step fails: the replacement is undone too
    c.fault("flyte", method="GET", path=r"^/api/v1/projects/%s$" % wid, status=403, count=1,
            message="injected fault at flyte project")
    line = one_line_error(ws(c, "member", "add", wid, "carol", "viewer", check=False))
    assert "step 'flyte project': cannot read flyte project '%s'" % wid in line, line
    assert binding() == tampered
    assert absent(c, "%s/%s-carol-binding" % (base, wid))
    ws(c, "doctor", wid, "--fix")
    assert binding()[0]["name"] == wid + "-bob-role"
    ws(c, "delete", wid, "--yes")


@pytest.mark.emulator_only
def test_failed_fix_undoes_every_flyte_setting(c, clean_faults):
    """Both settings are put together; when one fails the other is restored.
    Which one the fault hits is up to the race, so try twice."""
    ws(c, "create", "Undo Settings", "--owner", "alice@company.com", "--yes")
    wid = "ws-undo-settings-001"
    kinds = ("WORKFLOW_EXECUTION_CONFIG", "CLUSTER_RESOURCE")

    def settings():
        return [flyte_get(c, "/api/v1/project_attributes/%s?resource_type=%s" % (wid, rt))
                for rt in kinds]
    wec, cra = (s["attributes"] for s in settings())
    wec["matching_attributes"]["workflow_execution_config"]["security_context"]["run_as"][
        "k8s_service_account"] = "someone-else"
    cra["matching_attributes"]["cluster_resource_attributes"]["attributes"][
        "projectQuotaCpu"] = "1"
    for a in (wec, cra):
        assert c.flyte("PUT", "/api/v1/project_attributes/" + wid, {"attributes": a})[0] == 200
    before = settings()
    for _ in range(2):
        c.fault("flyte", method="PUT", path=r"^/api/v1/project_attributes/", status=400,
                count=1, message="injected fault at settings")
        line = one_line_error(ws(c, "doctor", wid, "--fix", check=False))
        assert "step 'flyte project settings': cannot put flyte" in line, line
        assert "of '%s'" % wid in line and "injected fault at settings" in line, line
        assert settings() == before
    ws(c, "doctor", wid, "--fix")
    ws(c, "delete", wid, "--yes")


@pytest.mark.emulator_only
def test_transient_errors_are_retried(c, clean_faults):
    c.fault("apiserver", method="POST", path=r"^/api/v1/namespaces$", status=503, count=2)
    c.fault("flyte", method="GET", path=r"^/api/v1/projects/ws-flaky-net-001$", drop=True, count=1)
    c.fault("flyte", method="PUT", path=r"^/api/v1/project_attributes/", status=429, count=1)
    r = ws(c, "create", "Flaky Net", "--owner", "alice@company.com", "--yes")
    assert "Workspace created." in r.stdout
    assert get(c, "/api/v1/namespaces/flyte-ws-flaky-net-001")["metadata"]["name"]
    assert flyte_get(c, "/api/v1/projects/ws-flaky-net-001")["state"] == "ACTIVE"
    ws(c, "delete", "ws-flaky-net-001", "--yes")


def test_concurrent_creates_get_distinct_ids(c):
    procs = [subprocess.Popen(["kubectl", "workspace", "create",
                               "Race", "--owner", owner, "--yes", "-o", "name"],
                              env=c.environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for owner in ("alice@company.com", "bob@company.com")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    ids = sorted(o[0].strip() for o in outs)
    assert ids == ["workspace/ws-race-001", "workspace/ws-race-002"]
    owners = {json.loads(get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, i.split("/")[1]))
                         ["data"]["workspace.json"])["owner_email"] for i in ids}
    assert owners == {"alice@company.com", "bob@company.com"}


# ---- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("args,reason", [
    (["X", "--owner", "alice@company.com", "--tier", "gold"], "unknown tier 'gold'"),
    (["X", "--owner", "alice@company.com", "--member", "bob=admin"], "unknown role 'admin'"),
    (["X", "--owner", "alice@company.com", "--member", "bob"], "expected USER=ROLE[:EMAIL]"),
    (["X", "--owner", "alice"], "'alice' is not a valid e-mail address"),
    (["", "--owner", "alice@company.com"], "empty"),
    (["!!!", "--owner", "alice@company.com"], "no letters or digits"),
    (["X"], "missing --owner"),
    ([], "missing NAME and --owner"),
    (["X", "--owner", "alice@company.com", "--dry-run=maybe"], "invalid --dry-run 'maybe'"),
    (["X", "--owner", "alice@company.com", "--frobnicate"], "unknown flag: --frobnicate"),
])
def test_bad_input_is_refused_with_one_line(c, args, reason):
    before = snapshot(c)
    line = one_line_error(ws(c, "create", *args, "--yes", check=False))
    assert reason in line, line
    assert snapshot(c) == before


def test_server_dry_run_persists_nothing(c):
    before = snapshot(c)
    r = ws(c, "create", "Dry Server", "--owner", "alice@company.com", "--dry-run=server", "--yes")
    assert "namespace/flyte-ws-dry-server-001 created" in r.stdout
    assert "resourcequota/ws-dry-server-001-quota created (not checked by the server" in r.stdout
    assert "nothing was persisted" in r.stdout
    assert "The workspace would be created (server dry run" in r.stdout
    assert "configmap/ws-dry-server-001 created (server dry run: the id is not reserved)" \
        in r.stdout
    assert "flyte project/ws-dry-server-001 created (not checked: Flyte Admin has no dry run)" \
        in r.stdout
    assert "Workspace created." not in r.stdout and "Next:" not in r.stdout
    assert snapshot(c) == before


def test_server_dry_run_of_a_rerun_shows_what_it_would_prune(c):
    ws(c, "create", "Dry Prune", "--owner", "alice@company.com", "--member", "bob=viewer",
       "--yes")
    wid = "ws-dry-prune-001"
    before = snapshot(c)
    r = ws(c, "create", "Dry Prune", "--owner", "alice@company.com", "--dry-run=server", "--yes")
    assert "rolebinding/%s-bob-binding deleted (no longer in the plan; server dry run)" % wid \
        in r.stdout
    assert "role/%s-bob-role deleted (no longer in the plan; server dry run)" % wid in r.stdout
    assert snapshot(c) == before
    ws(c, "delete", wid, "--yes")


def test_client_dry_run_is_a_list_kubectl_accepts(c):
    r = ws(c, "create", "Piped", "--owner", "alice@company.com", "--dry-run=client", "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["kind"] == "List" and len(doc["items"]) == 7
    assert "# POST /api/v1/projects" in r.stderr
    # kubectl itself accepts the List and the server checks every object (a
    # server dry run: nothing is created). A real API server refuses even a
    # dry run into a namespace that does not exist, so the namespaces come first.
    for ns in (SYS, "flyte-ws-piped-001"):
        c.kubectl("create", "namespace", ns, check=False)
    try:
        k = c.kubectl("apply", "--dry-run=server", "-f", "-", input=r.stdout)
    finally:
        c.kubectl("delete", "namespace", "flyte-ws-piped-001")
    assert "namespace/flyte-ws-piped-001 configured (server dry run)" in k.stdout
    assert "rolebinding.rbac.authorization.k8s.io/ws-piped-001-alice-binding created " \
        "(server dry run)" in k.stdout


# ---- credentials ----------------------------------------------------------------------

@pytest.mark.emulator_only
@pytest.mark.parametrize("context", ["admin", "cert", "tokenfile", "exec"])
def test_each_credential_kind(c, context):
    r = ws(c, "list", "-o", "name", "--context", context)
    assert "workspace/" + ID in r.stdout


@pytest.mark.emulator_only
def test_merged_kubeconfig_files(c, tmp_path):
    cfg = yaml.safe_load(Path(c.env["KUBECONFIG"]).read_text())
    users = {"apiVersion": "v1", "kind": "Config", "users": cfg.pop("users")}
    a, b = tmp_path / "clusters.yaml", tmp_path / "users.yaml"
    a.write_text(yaml.safe_dump(cfg))
    b.write_text(yaml.safe_dump(users))
    r = ws(c, "list", "-o", "name", env={"KUBECONFIG": "%s:%s" % (a, b)})
    assert "workspace/" + ID in r.stdout
    # --kubeconfig means that file alone: it has no users
    line = one_line_error(ws(c, "list", "--kubeconfig", str(a), check=False))
    assert "user" in line


@pytest.mark.emulator_only
def test_unreachable_server_is_a_clear_error(c):
    line = one_line_error(ws(c, "list", "--server", "https://127.0.0.1:1", check=False))
    assert line.startswith("error: cannot reach the Kubernetes API server (context "), line
    assert "127.0.0.1:1" in line, line
    assert ws(c, "-s", c.env["KUBE_APISERVER_URL"], "list").returncode == 0


def test_wrong_credential_is_a_clear_error(c, tmp_path):
    cfg = yaml.safe_load(Path(c.env["KUBECONFIG"]).read_text())
    for u in cfg["users"]:
        if u["name"] == "admin" or u["name"].startswith("admin"):
            u["user"] = {"token": "not-the-token"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    r = ws(c, "list", "--kubeconfig", str(bad), check=False)
    line = one_line_error(r)
    assert "Unauthorized" in line or "401" in line, line
    assert "not-the-token" not in r.stderr + r.stdout
    line = one_line_error(ws(c, "list", "--context", "nope", check=False))
    assert "nope" in line


def test_flyte_token_not_sent_over_plain_http(c, tmp_path):
    """FLYTE_PLATFORM_INSECURE means plain HTTP: the token then goes to a
    loopback host only, and any other host is refused before a byte is sent."""
    tok = tmp_path / "flyte-token"
    tok.write_text("sekrit-flyte-token\n")
    env = {"FLYTE_PLATFORM_INSECURE": "true", "FLYTE_TOKEN_FILE": str(tok)}
    r = ws(c, "list", "--flyte-endpoint", "flyte.example.invalid:80", env=env, check=False)
    line = one_line_error(r)
    assert "refusing to send the flyte token over plain HTTP to 'flyte.example.invalid'" in line
    assert "sekrit" not in r.stderr + r.stdout
    ws(c, "list", "--flyte-endpoint", "127.0.0.1:9", env=env)


# ---- env, completion, krew -----------------------------------------------------------

def test_env_and_config_file(c, tmp_path):
    r = ws(c, "env", ID)
    host = c.env["FLYTE_PLATFORM_URL"].split("://", 1)[1]
    assert r.stdout.splitlines()[:4] == [
        "export FLYTE_DEFAULT_PROJECT=" + ID, "export FLYTE_DEFAULT_DOMAIN=development",
        "export FLYTE_PLATFORM_URL='%s'" % host, "export FLYTE_PLATFORM_INSECURE=false"]
    out = subprocess.run(["sh", "-c", 'eval "$(cat)"; echo "$FLYTE_DEFAULT_PROJECT/'
                          '$FLYTE_DEFAULT_DOMAIN"'], input=r.stdout, capture_output=True,
                         text=True)
    assert out.stdout.strip() == ID + "/development"
    cfg_path = tmp_path / "config.yaml"
    ws(c, "env", ID, "--domain", "staging", "--write-config", str(cfg_path))
    cfg = yaml.safe_load(cfg_path.read_text())
    assert cfg["admin"]["endpoint"] == "dns:///" + host
    assert cfg["admin"]["insecure"] is False
    assert cfg["task"] == {"project": ID, "domain": "staging"}
    assert "unknown domain 'qa'" in one_line_error(ws(c, "env", ID, "--domain", "qa", check=False))
    assert "not found" in one_line_error(ws(c, "env", "ws-nope-001", check=False))


def complete(c, *words):
    r = c.run([str(c.bin_dir / "kubectl_complete-workspace")] + list(words))
    lines = r.stdout.splitlines()
    assert lines[-1] == ":4"
    return lines[:-1]


def test_completion(c):
    assert complete(c, "des") == ["describe"]
    assert complete(c, "") == ["create", "list", "describe", "member", "tier", "delete", "env",
                               "doctor", "version"]
    assert ID in complete(c, "describe", "")
    assert complete(c, "describe", "ws-customer") == [ID]
    assert complete(c, "member", "") == ["add", "remove", "set-role"]
    assert complete(c, "member", "remove", ID, "") == ["alice", "bob"]
    assert complete(c, "member", "set-role", ID, "bob", "") == ["owner", "contributor", "viewer"]
    assert complete(c, "tier", ID, "") == ["small", "standard", "large"]
    assert complete(c, "create", "X", "--tier", "l") == ["large"]
    assert "--owner" in complete(c, "create", "--o")
    assert complete(c, "list", "-o", "y") == ["yaml"]


def test_krew_manifest_describes_the_archive(tmp_path):
    import hashlib
    import tarfile
    r = subprocess.run(["plugin/dist.sh", "9.9.9", str(tmp_path)], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    m = yaml.safe_load((tmp_path / "workspace.yaml").read_text())
    assert m["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert m["kind"] == "Plugin" and m["metadata"]["name"] == "workspace"
    assert m["spec"]["version"] == "v9.9.9" and m["spec"]["shortDescription"]
    (p,) = m["spec"]["platforms"]
    archive = tmp_path / "kubectl-workspace-linux-amd64.tar.gz"
    assert p["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert p["uri"].endswith("/" + archive.name)
    assert p["bin"] == "kubectl-workspace"
    with tarfile.open(archive) as t:
        names = set(t.getnames())
    for f in p["files"]:
        assert "./" + f["from"] in names


def test_help_reads_like_kubectl(c):
    r = ws(c, "--help")
    assert "Available Commands:" in r.stdout and "Usage:" in r.stdout
    r = ws(c, "create", "--help")
    assert "Examples:" in r.stdout and "--dry-run" in r.stdout and "Usage:" in r.stdout
    assert "unknown command" in ws(c, "frob", check=False).stderr


def test_doctor_reports_flyteadmin_namespace_template(c):
    path = "/api/v1/namespaces/flyte/configmaps/flyte-admin-base-config"
    cm = get(c, path)
    good = cm["data"]["namespace_config.yaml"]
    bad = 'namespace_mapping:\n  template: "{{ project }}-{{ domain }}"\n'
    status, _ = c.api("PATCH", path, {"data": {"namespace_config.yaml": bad}},
                      content_type="application/merge-patch+json")
    assert status == 200
    try:
        r = ws(c, "doctor", ID, check=False)
        assert r.returncode == 1
        assert "flyteadmin namespace_mapping.template" in r.stdout
        assert "set namespace_mapping.template to \"flyte-{{ project }}\"" in r.stdout
        # nothing the plugin can fix: --fix still exits 1
        assert ws(c, "doctor", ID, "--fix", check=False).returncode == 1
    finally:
        status, _ = c.api("PATCH", path, {"data": {"namespace_config.yaml": good}},
                          content_type="application/merge-patch+json")
        assert status == 200
    assert ws(c, "doctor", ID).returncode == 0
