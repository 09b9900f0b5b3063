"""End-to-end: the controller (`workspace-controller`) carries out
what workspace records say, on a local cluster of its own: a record edited
with plain kubectl is converged, a deleted record takes its namespace with it
and archives its Flyte project, and of two replicas only the lease holder acts.
"""
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


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    yield from private_cluster(tmp_path_factory, bin_dir, "controller-cluster")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_controller(c, identity, log, health_port):
    return subprocess.Popen(
        [str(c.bin_dir / "workspace-controller"), "--identity", identity,
         "--lease-seconds", "6", "--resync-seconds", "3600",
         "--health-listen", "127.0.0.1:%d" % health_port],
        env=c.environ(), stdout=log, stderr=subprocess.STDOUT)


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
        return p.wait(timeout=20)
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
    status, lease = c.api("GET", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/"
                                 "workspace-controller" % SYS)
    return lease["spec"]["holderIdentity"] if status == 200 else None


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

        # add a member by editing the record with plain kubectl: the controller converges
        cm = c.api("GET", "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))[1]
        rec = json.loads(cm["data"]["workspace.json"])
        rec["users"].append({"user_id": "zoe", "email": "zoe@company.com", "role": "viewer"})
        rec["tier"] = "small"
        patch = {"data": {"workspace.json": json.dumps(rec)}}
        c.kubectl("patch", "configmap", wid, "-n", SYS, "--type", "merge", "-p", json.dumps(patch))
        binding = eventually(lambda: c.api("GET", "%s%s/rolebindings/%s-zoe-binding"
                                           % (RBAC, ns, wid))[1].get("subjects"),
                             what="zoe's binding")
        assert binding[0]["name"] == "zoe@company.com"
        eventually(lambda: c.api("GET", "/api/v1/namespaces/%s/resourcequotas/%s-quota"
                                 % (ns, wid))[1]["spec"]["hard"]["pods"] == "20",
                   what="the small tier's quota")

        # deleting the record takes the workspace away
        c.kubectl("delete", "configmap", wid, "-n", SYS)
        eventually(lambda: status_of(c, "/api/v1/namespaces/" + ns) == 404,
                   what="the namespace deleted")
        eventually(lambda: c.flyte("GET", "/api/v1/projects/" + wid)[1]["state"] == "ARCHIVED",
                   what="the project archived")

        # only the leader acted
        time.sleep(0.5)
        texts = []
        for log in logs:
            log.flush()
            log.seek(0)
            texts.append(log.read())
        assert wid in texts[leader]
        assert "converge" not in texts[1 - leader], texts[1 - leader]

        # the leader goes away: the other replica takes over
        assert stop(ctls[leader]) == 0
        eventually(lambda: lease_holder(c) == "replica-%d" % (1 - leader), timeout=40,
                   what="the other replica leading")
        c.kubectl("workspace", "create", "After Failover", "--owner", "alice@company.com",
                  "--yes")
        wid2 = "ws-after-failover-001"
        cm = c.api("GET", "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid2))[1]
        rec = json.loads(cm["data"]["workspace.json"])
        rec["users"].append({"user_id": "yan", "role": "contributor"})
        c.kubectl("patch", "configmap", wid2, "-n", SYS, "--type", "merge", "-p",
                  json.dumps({"data": {"workspace.json": json.dumps(rec)}}))
        eventually(lambda: status_of(c, "%sflyte-%s/roles/%s-yan-role" % (RBAC, wid2, wid2)) == 200,
                   what="yan's role from the new leader")
    finally:
        for p in ctls:
            if p.poll() is None:
                assert stop(p) == 0
        for log in logs:
            log.close()
