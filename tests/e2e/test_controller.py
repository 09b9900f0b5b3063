"""End-to-end: the controller (`workspace-controller`) carries out what
workspace records say, on a local cluster of its own: a record edited with
plain kubectl is converged, a deleted record takes its namespace with it and
archives its Flyte project (a finalizer holds it until then, even while no
controller runs), every action leaves an Event on the record, and of two
replicas only the lease holder writes, even while a slow provisioning
outlasts the lease (counted in the API server's request log).
"""
import contextlib
import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cluster"))
from kube_cluster import private_cluster  # noqa: E402

SYS = "workspace-system"
RBAC = "/apis/rbac.authorization.k8s.io/v1/namespaces/"
CM = "/api/v1/namespaces/%s/configmaps/" % SYS
LEASE = "/apis/coordination.k8s.io/v1/namespaces/%s/leases/workspace-controller" % SYS
FINALIZER = "workspace.flyte.org/cleanup"


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    yield from private_cluster(tmp_path_factory, bin_dir, "controller-cluster")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_controller(c, identity, log, health_port=None, lease=6, resync=3600):
    args = [str(c.bin_dir / "workspace-controller"), "--identity", identity,
            "--lease-seconds", str(lease), "--resync-seconds", str(resync), "--workers", "2"]
    if health_port:
        args += ["--health-listen", "127.0.0.1:%d" % health_port]
    return subprocess.Popen(args, env=c.environ(), stdout=log, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def controller(c, identity, tmp_path, **kw):
    """One controller for the block (log in tmp_path/IDENTITY.log); it must stop cleanly."""
    log = open(tmp_path / ("%s.log" % identity), "a+")
    p = start_controller(c, identity, log, **kw)
    try:
        yield p
    finally:
        c.clear_faults()
        if p.poll() is None:
            assert stop(p) == 0
        log.close()


def wait_finalizer(c, wid):
    eventually(lambda: FINALIZER in (c.api("GET", CM + wid)[1]["metadata"]
                                     .get("finalizers") or []), timeout=40, what="the finalizer")


def healthz(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def stop(p):
    p.terminate()
    try:
        return p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def eventually(check, timeout=30, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = check()
            if last:
                return last
        except AssertionError as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("%s not reached in %ss (last: %r)" % (what, timeout, last))


def status_of(c, path):
    return c.api("GET", path)[0]


def lease_holder(c):
    status, lease = c.api("GET", LEASE)
    return lease["spec"].get("holderIdentity") if status == 200 else None


def edit_record(c, wid, change):
    """Edit workspace.json with plain kubectl, retrying on a 409 conflict."""
    for _ in range(20):
        cm = c.api("GET", CM + wid)[1]
        rec = json.loads(cm["data"]["workspace.json"])
        change(rec)
        cm["data"]["workspace.json"] = json.dumps(rec)
        r = c.kubectl("replace", "-f", "-", input=json.dumps(cm), check=False)
        if r.returncode == 0:
            return
        assert "modified" in r.stderr or "Conflict" in r.stderr, r.stderr
    raise AssertionError("record %s kept conflicting" % wid)


def reasons(c, wid):
    """The reasons of the events about record wid, oldest first, read the way
    `kubectl describe` reads them (core v1 list with an involvedObject selector)."""
    status, body = c.api("GET", "/api/v1/namespaces/%s/events?fieldSelector="
                         "involvedObject.name%%3D%s,involvedObject.kind%%3DConfigMap" % (SYS, wid))
    assert status == 200, body
    items = sorted(body["items"], key=lambda e: e.get("eventTime") or "")
    return [e["reason"] for e in items]


def writes_by(c, identity, since=0, lease=False):
    """Non-GET requests the controller `identity` sent (its User-Agent names
    it): its work, or (lease=True) its lease attempts."""
    return [r for r in c.requests()[since:]
            if r["method"] not in ("GET", "HEAD") and "(%s)" % identity in r["userAgent"]
            and ("/leases" in r["path"]) == lease]


def test_usage_errors(bin_dir):
    exe = str(bin_dir / "workspace-controller")
    for args, needle in [
        (["--workers", "0"], "--workers '0': expected a number from 1 to 64"),
        (["--lease-seconds", "x"], "--lease-seconds 'x'"),
        (["--resync-seconds"], "flag needs an argument: --resync-seconds"),
        (["--bogus"], "unknown flag: --bogus"),
        (["extra"], "unexpected argument 'extra'"),
        (["--health-listen", "8081"], "--health-listen '8081': expected HOST:PORT"),
    ]:
        r = subprocess.run([exe] + args, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and needle in r.stderr, (args, r.stderr)
        assert r.stderr.startswith("workspace-controller: error: "), r.stderr
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--workers N" in r.stdout
    # the admission server no longer carries the controller, nor libcurl
    r = subprocess.run(["readelf", "-d", str(bin_dir / "workspace-webhook")],
                       capture_output=True, text=True, check=True)
    assert "libmicrohttpd" in r.stdout and "libcurl" not in r.stdout
    r = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True, check=True)
    assert "libcurl" in r.stdout


def test_controller_carries_out_record_changes(c, tmp_path):
    c.kubectl("workspace", "create", "Watched Team", "--owner", "alice@company.com", "--yes")
    wid, ns = "ws-watched-team-001", "flyte-ws-watched-team-001"
    logs = [open(tmp_path / ("ctl-%d.log" % i), "w+") for i in range(2)]
    ports = [free_port() for _ in range(2)]
    ctls = [start_controller(c, "replica-%d" % i, logs[i], ports[i]) for i in range(2)]
    try:
        holder = eventually(lambda: lease_holder(c), what="a lease holder")
        # both replicas are alive, the follower too
        for port in ports:
            assert eventually(lambda: healthz(port)[0] == 200, what="healthz") is True
        assert holder in ("replica-0", "replica-1")
        leader = int(holder[-1])
        # the leader puts its finalizer on the record
        wait_finalizer(c, wid)

        # add a member and change the tier with plain kubectl: the controller converges
        def change(rec):
            rec["users"].append({"user_id": "zoe", "email": "zoe@company.com", "role": "viewer"})
            rec["tier"] = "small"
        edit_record(c, wid, change)
        binding = eventually(lambda: c.api("GET", "%s%s/rolebindings/%s-zoe-binding"
                                           % (RBAC, ns, wid))[1].get("subjects"),
                             what="zoe's binding")
        assert binding[0]["name"] == "zoe@company.com"
        eventually(lambda: c.api("GET", "/api/v1/namespaces/%s/resourcequotas/%s-quota"
                                 % (ns, wid))[1]["spec"]["hard"]["pods"] == "20",
                   what="the small tier's quota")
        eventually(lambda: {"MemberAdded", "TierChanged"} <= set(reasons(c, wid)),
                   what="the edit's events")

        # re-role and remove: one event each
        def rerole(rec):
            for u in rec["users"]:
                if u["user_id"] == "zoe":
                    u["role"] = "contributor"
        edit_record(c, wid, rerole)
        eventually(lambda: "MemberRoleChanged" in reasons(c, wid), what="the re-role event")
        edit_record(c, wid, lambda rec: rec.update(
            users=[u for u in rec["users"] if u["user_id"] != "zoe"]))
        eventually(lambda: status_of(c, "%s%s/rolebindings/%s-zoe-binding"
                                     % (RBAC, ns, wid)) == 404, what="zoe's binding removed")
        eventually(lambda: "MemberRemoved" in reasons(c, wid), what="the removal event")

        # the events read by kubectl describe, as a person sees them
        out = c.kubectl("describe", "configmap", wid, "-n", SYS).stdout
        assert "Events:" in out and "MemberAdded" in out and "member 'zoe' added as viewer" in out
        assert "workspace.flyte.org/workspace-controller" in out
        out = c.kubectl("workspace", "describe", wid).stdout
        assert "MemberRoleChanged" in out and "member 'zoe' changed from viewer to contributor" in out

        # deleting the record takes the workspace away; the finalizer goes last
        c.kubectl("delete", "configmap", wid, "-n", SYS, "--wait=false")
        eventually(lambda: status_of(c, "/api/v1/namespaces/" + ns) == 404,
                   what="the namespace deleted")
        eventually(lambda: c.flyte("GET", "/api/v1/projects/" + wid)[1]["state"] == "ARCHIVED",
                   what="the project archived")
        eventually(lambda: status_of(c, CM + wid) == 404, what="the record gone")
        eventually(lambda: "CleanedUp" in reasons(c, wid), what="the cleanup event")

        # only the leader acted
        assert writes_by(c, "replica-%d" % (1 - leader)) == []
        assert writes_by(c, "replica-%d" % leader)

        # the leader goes away (it gives the lease up): the other replica takes over
        assert stop(ctls[leader]) == 0
        eventually(lambda: lease_holder(c) == "replica-%d" % (1 - leader), timeout=40,
                   what="the other replica leading")
        c.kubectl("workspace", "create", "After Failover", "--owner", "alice@company.com",
                  "--yes")
        wid2 = "ws-after-failover-001"
        edit_record(c, wid2, lambda rec: rec["users"].append(
            {"user_id": "yan", "role": "contributor"}))
        eventually(lambda: status_of(c, "%sflyte-%s/roles/%s-yan-role" % (RBAC, wid2, wid2)) == 200,
                   what="yan's role from the new leader")
    finally:
        for p in ctls:
            if p.poll() is None:
                assert stop(p) == 0
        for log in logs:
            log.close()


def test_follower_never_writes_during_slow_provisioning(c, tmp_path):
    """A provisioning slower than the lease: the leader keeps renewing on its
    own timer, so the follower never takes over and never writes."""
    c.kubectl("workspace", "create", "Slow Team", "--owner", "alice@company.com", "--yes")
    wid = "ws-slow-team-001"
    logs = [open(tmp_path / ("slow-%d.log" % i), "w+") for i in range(2)]
    ctls = [start_controller(c, "slow-%d" % i, logs[i], lease=4) for i in range(2)]
    try:
        eventually(lambda: lease_holder(c) in ("slow-0", "slow-1"), timeout=40,
                   what="a lease holder")
        leader = lease_holder(c)
        follower = "slow-1" if leader == "slow-0" else "slow-0"
        status, lease = c.api("GET", LEASE)
        transitions = lease["spec"]["leaseTransitions"]
        since = len(c.requests())
        # every role and binding write takes 5 s: the converge of
        # a new member outlasts the 4 s lease several times over
        c.fault("apiserver", method="PUT", path=r"/roles/|/rolebindings/", delay_ms=5000,
                count=50)
        c.fault("apiserver", method="POST", path=r"/roles$|/rolebindings$", delay_ms=5000,
                count=50)
        t0 = time.monotonic()
        edit_record(c, wid, lambda rec: rec["users"].extend(
            [{"user_id": "u%d" % i, "role": "viewer"} for i in range(3)]))
        eventually(lambda: all(status_of(c, "%sflyte-%s/rolebindings/%s-u%d-binding"
                                         % (RBAC, wid, wid, i)) == 200 for i in range(3)),
                   timeout=90, what="the slow converge done")
        assert time.monotonic() - t0 > 4  # it outlasted the lease
        status, lease = c.api("GET", LEASE)
        assert lease["spec"]["holderIdentity"] == leader
        assert lease["spec"]["leaseTransitions"] == transitions
        assert writes_by(c, follower, since) == [], writes_by(c, follower, since)
        mine = writes_by(c, leader, since)
        assert writes_by(c, leader, since, lease=True)     # it renewed meanwhile
        assert any("/rolebindings" in r["path"] for r in mine)
    finally:
        c.clear_faults()
        for p in ctls:
            if p.poll() is None:
                assert stop(p) == 0
        for log in logs:
            log.close()


def test_record_deleted_while_stopped_is_cleaned_up_at_start(c, tmp_path):
    c.kubectl("workspace", "create", "Left Behind", "--owner", "alice@company.com", "--yes")
    wid, ns = "ws-left-behind-001", "flyte-ws-left-behind-001"
    with controller(c, "solo", tmp_path):
        wait_finalizer(c, wid)
    # no controller runs: the delete only marks the record
    c.kubectl("delete", "configmap", wid, "-n", SYS, "--wait=false")
    status, cm = c.api("GET", CM + wid)
    assert status == 200 and cm["metadata"].get("deletionTimestamp")
    assert status_of(c, "/api/v1/namespaces/" + ns) == 200
    with controller(c, "solo", tmp_path):
        eventually(lambda: status_of(c, "/api/v1/namespaces/" + ns) == 404, timeout=60,
                   what="the namespace deleted")
        eventually(lambda: c.flyte("GET", "/api/v1/projects/" + wid)[1]["state"] == "ARCHIVED",
                   what="the project archived")
        eventually(lambda: status_of(c, CM + wid) == 404, what="the record gone")
        assert "CleanedUp" in reasons(c, wid)


def test_direct_delete_takes_the_finalizer_off(c):
    """Without a controller, `kubectl workspace delete` does the cleanup
    itself, so it takes the finalizer off too: the record does not hang."""
    c.kubectl("workspace", "create", "Direct Delete", "--owner", "alice@company.com", "--yes")
    wid = "ws-direct-delete-001"
    c.update(CM + wid, lambda cm: cm["metadata"].update(finalizers=[FINALIZER]))
    c.kubectl("workspace", "delete", wid, "--yes")
    eventually(lambda: status_of(c, CM + wid) == 404, what="the record gone")


def plugin_writes(c, since):
    """Non-GET requests the plugin sent (its User-Agent is kubectl-workspace)."""
    return [(r["method"], r["path"].split("?")[0]) for r in c.requests()[since:]
            if r["method"] not in ("GET", "HEAD") and r["userAgent"].startswith("kubectl-workspace")]


def test_plugin_follows_the_controller(c, tmp_path):
    if status_of(c, "/api/v1/namespaces/" + SYS) == 404:  # run alone: nothing made it yet
        c.api("POST", "/api/v1/namespaces", {"metadata": {"name": SYS}})
    with controller(c, "follow-me", tmp_path):
        eventually(lambda: lease_holder(c) == "follow-me", timeout=40, what="the lease")
        assert c.kubectl("workspace", "create", "X", "--owner", "a@b.c", "--mode", "sideways",
                         check=False).returncode == 2
        # a slow step on the controller's side: the plugin shows progress before it ends
        c.fault("apiserver", method="POST", path=r"/networkpolicies$", delay_ms=2000, count=1)
        since = len(c.requests())
        proc = subprocess.Popen(
            ["kubectl", "workspace", "create", "Via Controller", "--owner", "alice@company.com",
             "--yes"], env=c.environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = [proc.stdout.readline(), proc.stdout.readline()]
        assert first[0] == "configmap/ws-via-controller-001 created (workspace id allocated)\n"
        assert first[1] == \
            "workspace/ws-via-controller-001 record written; follow-me carries it out:\n"
        assert proc.poll() is None  # still following: the lines come live
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "controller: Provisioned: workspace provisioned" in out
        assert "  namespace/flyte-ws-via-controller-001 created" in out
        assert "  networkpolicy/" in out
        assert "Workspace created." in out and "Next:" in out  # the summary of direct mode
        # the plugin wrote the record only; the controller did the rest
        assert plugin_writes(c, since) == [
            ("POST", "/api/v1/namespaces/%s/configmaps" % SYS)], plugin_writes(c, since)
        wid = "ws-via-controller-001"
        assert status_of(c, "/api/v1/namespaces/flyte-" + wid) == 200

        since = len(c.requests())
        out = c.kubectl("workspace", "member", "add", wid, "bob", "viewer").stdout
        assert "controller: MemberAdded: member 'bob' added as viewer" in out
        assert status_of(c, "%sflyte-%s/rolebindings/%s-bob-binding" % (RBAC, wid, wid)) == 200
        assert [w for w in plugin_writes(c, since) if "/configmaps" not in w[1]] == []
        out = c.kubectl("workspace", "tier", wid, "large").stdout
        assert "controller: TierChanged: tier changed from standard to large" in out

        # -o json keeps stdout for the data: the progress goes to stderr
        r = c.kubectl("workspace", "create", "Json Via Controller", "--owner",
                      "alice@company.com", "--yes", "-o", "json")
        assert json.loads(r.stdout)["workspace_id"] == "ws-json-via-controller-001"
        assert "controller: Provisioned" in r.stderr

        # --mode direct overrides: the plugin does the work itself
        since = len(c.requests())
        c.kubectl("workspace", "create", "Direct Anyway", "--owner", "alice@company.com", "--yes",
                  "--mode", "direct")
        assert ("POST", "/api/v1/namespaces") in plugin_writes(c, since)

        out = c.kubectl("workspace", "delete", wid, "--yes").stdout
        assert "controller: CleanedUp" in out and "workspace/%s deleted" % wid in out
        assert status_of(c, CM + wid) == 404
        assert status_of(c, "/api/v1/namespaces/flyte-" + wid) == 404


def test_resync_reads_one_list_per_kind_and_repairs_drift(c, tmp_path):
    c.kubectl("workspace", "create", "Resync Team", "--owner", "alice@company.com", "--yes")
    wid, ns = "ws-resync-team-001", "flyte-ws-resync-team-001"
    with controller(c, "resyncer", tmp_path, resync=2):
        wait_finalizer(c, wid)
        eventually(lambda: c.api("GET", CM + wid)[1]["data"].get("status.json", "")
                   .find('"Ready"') > 0, what="Ready")
        time.sleep(0.5)  # let the first term's work end before counting
        since = len(c.requests())

        def mine():
            return [r for r in c.requests()[since:] if "(resyncer)" in r["userAgent"]
                    and "/leases/" not in r["path"] and "watch=" not in r["path"]]
        # two resyncs of the converged cluster
        eventually(lambda: sum(1 for r in mine() if r["path"].startswith("/api/v1/namespaces?"))
                   >= 2, timeout=30, what="two resyncs")
        reqs = mine()
        assert [r for r in reqs if r["method"] != "GET"] == []      # no write
        per_object = [r["path"] for r in reqs if "?" not in r["path"]]
        assert per_object == []                                      # no GET per object
        lists = {r["path"].split("?")[0] for r in reqs}
        assert lists <= {"/api/v1/namespaces", "/api/v1/resourcequotas", "/api/v1/serviceaccounts",
                         "/apis/networking.k8s.io/v1/networkpolicies",
                         "/apis/rbac.authorization.k8s.io/v1/roles",
                         "/apis/rbac.authorization.k8s.io/v1/rolebindings",
                         "/api/v1/namespaces/%s/configmaps" % SYS}, lists
        # drift: a binding deleted behind its back comes back at the next resync
        c.api("DELETE", "%s%s/rolebindings/%s-alice-binding" % (RBAC, ns, wid))
        eventually(lambda: status_of(c, "%s%s/rolebindings/%s-alice-binding"
                                     % (RBAC, ns, wid)) == 200, what="the binding repaired")
        eventually(lambda: "DriftRepaired" in reasons(c, wid), what="the drift event")


def test_watch_relists_after_410(c, tmp_path):
    c.kubectl("workspace", "create", "Expired Watch", "--owner", "alice@company.com", "--yes")
    wid = "ws-expired-watch-001"
    log_path = tmp_path / "rewatch.log"
    with controller(c, "rewatch", tmp_path):
        wait_finalizer(c, wid)
        # its next watch is answered 410 Expired (as after an etcd compaction)
        c.fault("apiserver", method="GET", path=r"/namespaces/%s/configmaps$" % SYS, status=410,
                count=1)
        eventually(lambda: "watch position expired: listing again" in log_path.read_text(),
                   timeout=30, what="the re-list")
        edit_record(c, wid, lambda rec: rec["users"].append({"user_id": "kim", "role": "viewer"}))
        eventually(lambda: status_of(c, "%sflyte-%s/rolebindings/%s-kim-binding"
                                     % (RBAC, wid, wid)) == 200, what="kim's binding")


def test_failure_is_an_event_and_is_retried(c, tmp_path):
    c.kubectl("workspace", "create", "Flaky Team", "--owner", "alice@company.com", "--yes")
    wid = "ws-flaky-team-001"
    with controller(c, "retrier", tmp_path):
        wait_finalizer(c, wid)
        c.fault("apiserver", method="POST", path=r"/flyte-%s/rolebindings$" % wid, status=403,
                count=1, message="injected refusal")
        edit_record(c, wid, lambda rec: rec["users"].append({"user_id": "lee", "role": "viewer"}))
        eventually(lambda: status_of(c, "%sflyte-%s/rolebindings/%s-lee-binding"
                                     % (RBAC, wid, wid)) == 200, what="lee's binding, retried")
        eventually(lambda: "MemberAdded" in reasons(c, wid), what="the MemberAdded event")
        status, body = c.api("GET", "/api/v1/namespaces/%s/events?fieldSelector="
                             "involvedObject.name%%3D%s" % (SYS, wid))
        failed = [e for e in body["items"] if e["reason"] == "Failed"]
        assert failed and failed[0]["type"] == "Warning"
        assert "injected refusal" in failed[0]["message"], failed[0]["message"]
