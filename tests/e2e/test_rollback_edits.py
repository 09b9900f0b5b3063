"""End-to-end: all or nothing for changes of an existing workspace (member,
tier, a create re-run), the record's status after a failed create, and
Ctrl-C/SIGTERM during provisioning. The real kubectl runs the real plugin
against a local cluster of this module's own; faults come from the emulator.

A failed change must leave the record (the source of truth, which a
controller carries out later) exactly as before, not only the objects.
"""
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cluster"))
from kube_cluster import KUBECTL, private_cluster  # noqa: E402
from test_controller import eventually  # noqa: E402
from test_plugin import (NAMESPACED, RBAC, SYS, absent, drop_server_fields, flyte_get,  # noqa: E402
                         get, one_line_error, snapshot, ws)


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    yield from private_cluster(tmp_path_factory, bin_dir, "rollback-cluster")


@pytest.fixture
def clean_faults(c):
    yield
    c.clear_faults()


def record(c, wid):
    """The record's data (workspace.json and status.json), parsed."""
    data = get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))["data"]
    return {k: json.loads(v) for k, v in data.items()}


def contents(c, wid):
    """What a workspace is made of, without server fields (an object put back
    has its old content under a new resourceVersion): its namespace, every
    object in it, its Flyte project and settings."""
    ns = "flyte-" + wid
    out = {"namespace": drop_server_fields(get(c, "/api/v1/namespaces/" + ns))}

    def spec_of(o):  # a quota's status (usage) is the server's, filled in later
        o = drop_server_fields(o)
        o.pop("status", None)
        return o
    for res in NAMESPACED:
        group, _, plural = res.rpartition("/")
        out[plural] = sorted((spec_of(o) for o in get(
            c, "/%s/namespaces/%s/%s" % (group, ns, plural))["items"]),
            key=lambda o: o["metadata"]["name"])
    out["project"] = flyte_get(c, "/api/v1/projects/" + wid)
    for rt in ("WORKFLOW_EXECUTION_CONFIG", "CLUSTER_RESOURCE"):
        out[rt] = flyte_get(c, "/api/v1/project_attributes/%s?resource_type=%s" % (wid, rt))
    return out


def users(rec):
    return [(u["user_id"], u["role"]) for u in rec["workspace.json"]["users"]]


# ---- a failed change leaves the record as it was -------------------------------------

@pytest.mark.emulator_only
def test_failed_member_remove_keeps_the_record(c, clean_faults):
    ws(c, "create", "Edit Undo", "--owner", "alice@company.com", "--member", "bob=contributor",
       "--service", "flyte", "--yes")
    wid = "ws-edit-undo-001"
    rec, before = record(c, wid), contents(c, wid)
    assert ("bob", "contributor") in users(rec) and rec["status.json"]["phase"] == "Ready"
    c.fault("flyte", method="GET", path=r"^/api/v1/projects/%s$" % wid, status=403, count=1,
            message="injected fault at flyte project")
    line = one_line_error(ws(c, "member", "remove", wid, "bob", check=False))
    assert "step 'flyte project'" in line and "injected fault at flyte project" in line, line
    assert "everything this run did was undone" in line, line
    assert record(c, wid) == rec  # still lists bob, and its status is as it was
    assert contents(c, wid) == before
    assert "bob" in ws(c, "describe", wid).stdout
    # the same change goes through once nothing is in the way
    ws(c, "member", "remove", wid, "bob")
    assert ("bob", "contributor") not in users(record(c, wid))
    ws(c, "delete", wid, "--yes")


@pytest.mark.emulator_only
def test_failed_create_rerun_keeps_the_record(c, clean_faults):
    args = ["create", "Rerun Undo", "--owner", "alice@company.com", "--member", "bob=contributor",
            "--service", "flyte", "--yes"]
    ws(c, *args)
    wid = "ws-rerun-undo-001"
    ns = "flyte-" + wid
    rec, before = record(c, wid), contents(c, wid)
    c.fault("apiserver", method="POST", path=r"/rolebindings$", status=403, count=1,
            message="injected fault at binding")
    line = one_line_error(ws(c, *args, "--member", "carol=viewer", "--tier", "large", check=False))
    assert "step 'role binding'" in line and "injected fault at binding" in line, line
    assert "everything this run did was undone" in line, line
    assert record(c, wid) == rec
    assert rec["workspace.json"]["tier"] == "standard"
    assert contents(c, wid) == before
    assert absent(c, "%s%s/roles/%s-carol-role" % (RBAC, ns, wid))
    ws(c, "delete", wid, "--yes")


@pytest.mark.emulator_only
def test_record_that_cannot_be_put_back_is_named(c, clean_faults):
    ws(c, "create", "Restore Fails", "--owner", "alice@company.com", "--service", "flyte", "--yes")
    wid = "ws-restore-fails-001"
    # the first PUT of the record (the edit) passes, the second (putting it back) fails
    c.fault("apiserver", method="PUT", path=r"/configmaps/%s$" % wid, count=1)
    c.fault("apiserver", method="PUT", path=r"/configmaps/%s$" % wid, status=403, count=1,
            message="injected fault at record restore")
    c.fault("flyte", method="GET", path=r"^/api/v1/projects/%s$" % wid, status=403, count=1,
            message="injected fault at flyte project")
    line = one_line_error(ws(c, "member", "add", wid, "carol", "viewer", check=False))
    assert "injected fault at flyte project" in line, line
    assert line.endswith("; left after rollback: configmap/%s (record still lists the change: "
                         "injected fault at record restore)" % wid), line
    rec = record(c, wid)
    assert ("carol", "viewer") in users(rec)
    assert rec["status.json"]["phase"] == "Failed"
    assert rec["status.json"]["message"] == line[len("error: "):]
    c.clear_faults()
    ws(c, "delete", wid, "--yes")


# ---- an edit is checked before it is written ------------------------------------------

def test_edit_with_an_invalid_plan_writes_nothing(c):
    ws(c, "create", "Plan Check", "--owner", "alice@company.com", "--yes")
    wid = "ws-plan-check-001"
    ws(c, "member", "add", wid, "zed", "viewer")
    rv = get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))["metadata"]["resourceVersion"]
    line = one_line_error(ws(c, "member", "add", wid, "Zed", "viewer", check=False))
    assert "members 'zed' and 'Zed' would share the object names" in line, line
    assert get(c, "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid))["metadata"][
        "resourceVersion"] == rv
    # the workspace is still usable
    assert "Drift:          none" in ws(c, "describe", wid).stdout
    ws(c, "doctor", wid)
    ws(c, "tier", wid, "small")
    ws(c, "delete", wid, "--yes")


# ---- the record's status after a create ------------------------------------------------

@pytest.mark.emulator_only
def test_create_whose_undo_fails_records_failed(c, clean_faults):
    wid = "ws-undo-stuck-001"
    c.fault("apiserver", method="POST", path=r"/rolebindings$", status=403, count=1,
            message="injected fault at binding")
    c.fault("apiserver", method="DELETE", path=r"^/api/v1/namespaces/flyte-%s$" % wid,
            status=403, count=1, message="injected fault at undo")
    line = one_line_error(ws(c, "create", "Undo Stuck", "--owner", "alice@company.com", "--yes",
                             check=False))
    assert "left after rollback: namespace/flyte-%s (injected fault at undo)" % wid in line, line
    status = record(c, wid)["status.json"]
    assert status["phase"] == "Failed", status
    assert status["message"] == line[len("error: "):]
    c.clear_faults()
    ws(c, "delete", wid, "--yes")
    assert absent(c, "/api/v1/namespaces/flyte-" + wid)


@pytest.mark.emulator_only
def test_ready_status_that_cannot_be_written_is_a_warning(c, clean_faults):
    wid = "ws-status-lost-001"
    c.fault("apiserver", method="PATCH", path=r"/configmaps/%s$" % wid, status=403, count=1,
            message="injected fault at status")
    r = ws(c, "create", "Status Lost", "--owner", "alice@company.com", "--yes")
    assert "Workspace created." in r.stdout
    warnings = [l for l in r.stderr.splitlines() if l.startswith("warning: ")]
    assert warnings == ["warning: the status of workspace '%s' could not be set to Ready: "
                        "injected fault at status" % wid], r.stderr
    ws(c, "delete", wid, "--yes")


# ---- Ctrl-C and SIGTERM ---------------------------------------------------------------

def read_until(p, seen, prefix):
    """Read p's progress lines into seen up to the first starting with prefix."""
    while True:
        line = p.stdout.readline()
        assert line, "exited early: %s\n%s" % ("".join(seen), p.stderr.read())
        seen.append(line)
        if line.startswith(prefix):
            return


def interrupted(c, args, steps, timeout=60):
    """Run `kubectl workspace ARGS`; each step is a prefix to read the
    progress up to (read_until), a callable to wait on, or a signal to send.
    Returns the CompletedProcess, its stdout holding every line read."""
    p = subprocess.Popen([KUBECTL, "workspace"] + list(args), env=c.environ(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for step in steps:
            if isinstance(step, str):
                read_until(p, seen, step)
            elif isinstance(step, signal.Signals):
                p.send_signal(step)
            else:
                assert step(), "not reached: %s" % step
        out, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return subprocess.CompletedProcess(p.args, p.returncode, "".join(seen) + out, err)


@pytest.mark.emulator_only
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_signal_during_create_undoes_everything(c, clean_faults, sig, code):
    wid = "ws-interrupted-%s-001" % sig.name.lower()
    name = "Interrupted %s" % sig.name
    # the system namespace is created once and kept: have it before the snapshot
    c.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": SYS}})
    before = snapshot(c)
    c.latency("apiserver", 300)
    try:
        # once the namespace exists, the objects in it go out together: the
        # signal comes with requests in flight
        r = interrupted(c, ["create", name, "--owner", "alice@company.com", "--member",
                            "bob=viewer", "--service", "flyte", "--yes"],
                        ["namespace/flyte-%s created" % wid, sig], timeout=120)
    finally:
        c.latency("apiserver", 0)
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    line = one_line_error(r)
    assert "interrupted" in line and "everything this run did was undone" in line, line
    assert "configmap/%s undone" % wid in r.stdout, r.stdout
    assert snapshot(c) == before


@pytest.mark.emulator_only
def test_more_signals_do_not_stop_the_rollback(c, clean_faults):
    """The first Ctrl-C says "rolling back..."; those that come during the
    rollback are answered once and do not stop it: nothing is left behind."""
    wid = "ws-impatient-001"
    c.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": SYS}})
    before = snapshot(c)
    c.latency("apiserver", 200)
    # the rollback's last step (the record's removal) is slow: the later
    # signals surely arrive while it runs
    c.fault("apiserver", method="DELETE", path=r"/configmaps/%s$" % wid, delay_ms=2000)
    try:
        # the rollback runs when the later signals come
        r = interrupted(c, ["create", "Impatient", "--owner", "alice@company.com", "--member",
                            "bob=viewer", "--yes"],
                        ["namespace/flyte-%s created" % wid, signal.SIGINT,
                         "namespace/flyte-%s undone" % wid, signal.SIGINT, signal.SIGINT])
    finally:
        c.latency("apiserver", 0)
    assert r.returncode == 130, (r.returncode, r.stdout, r.stderr)
    line = one_line_error(r)
    assert "interrupted" in line and "everything this run did was undone" in line, line
    assert "configmap/%s undone" % wid in r.stdout, r.stdout
    lines = r.stderr.splitlines()
    assert lines[0] == "rolling back...", r.stderr
    assert len([l for l in lines if l.startswith("still rolling back; ")]) == 1, r.stderr
    assert snapshot(c) == before


def held(c):
    """A step for interrupted(): wait until a request matching the pattern
    given to the emulator's concurrency probe is being held."""
    return lambda: eventually(lambda: c._control("apiserver", "GET", "concurrency")["max"],
                              what="a request held")


@pytest.mark.emulator_only
def test_signal_in_a_read_only_command_just_stops(c, clean_faults):
    """list changes nothing: Ctrl-C stops it without claiming a rollback (it
    said "rolling back..." before), and a second Ctrl-C is not held off."""
    c.latency("apiserver", 5000)
    try:
        # one signal; then two at once: stopped, SIGINT and SIGTERM are both
        # pending (two SIGINTs would merge into one) and come in that order
        # on SIGCONT, the second while the first is being handled
        for signals, code in (([signal.SIGINT], 130),
                              ([signal.SIGSTOP, signal.SIGINT, signal.SIGTERM, signal.SIGCONT],
                               -signal.SIGTERM)):
            c._control("apiserver", "POST", "concurrency", {"pattern": "^GET .*/configmaps"})
            # its read of the records is held by the latency; done sooner than it
            r = interrupted(c, ["list"], [held(c)] + signals, timeout=4)
            assert r.returncode == code, (signals, r.returncode, r.stderr)
            assert "rolling back" not in r.stderr and "still" not in r.stderr, r.stderr
    finally:
        c.latency("apiserver", 0)


@pytest.mark.emulator_only
def test_signal_during_delete_says_it_stops(c, clean_faults):
    """delete goes forward, it does not roll back: Ctrl-C says it stops, and
    the one line names what is left; delete again finishes."""
    wid = "ws-stopped-delete-001"
    ws(c, "create", "Stopped Delete", "--owner", "alice@company.com", "--yes")
    # the namespace's deletion is slow: the signal comes while it is in flight
    c.fault("apiserver", method="DELETE", path=r"^/api/v1/namespaces/flyte-%s$" % wid,
            delay_ms=3000)
    c._control("apiserver", "POST", "concurrency",
               {"pattern": "^DELETE /api/v1/namespaces/flyte-%s" % wid})
    r = interrupted(c, ["delete", wid, "--yes"], [held(c), signal.SIGINT])
    err = r.stderr
    assert r.returncode == 130, (r.returncode, r.stdout, err)
    lines = err.splitlines()
    assert lines[0] == "stopping: what is not deleted yet will be listed...", err
    assert "rolling back" not in err
    assert "was not fully deleted; left: " in one_line_error(r), err
    ws(c, "delete", wid, "--yes")
    assert absent(c, "/api/v1/namespaces/flyte-" + wid)
