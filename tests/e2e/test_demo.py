"""End-to-end: `make demo` (tests/demo.sh) runs the seed example on a local
cluster of its own and shows what issue 2 and 4 promise: the plan, every
object created, the quota's six limits, the Flyte project and its name, and
a second run that changes nothing. Also the helper scripts CI relies on.
"""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ID = "ws-customer-segmentation-analysis-001"
NS = "flyte-" + ID
OBJECTS = [
    "namespace/" + NS,
    "resourcequota/%s-quota" % ID,
    "serviceaccount/%s-runner" % NS,
    "networkpolicy/%s-isolation" % ID,
    "role/%s-alice-role" % ID,
    "rolebinding/%s-alice-binding" % ID,
    "role/%s-bob-role" % ID,
    "rolebinding/%s-bob-binding" % ID,
    "flyte project/" + ID,
]


def test_make_demo_runs_the_seed_example(bin_dir):
    r = subprocess.run([str(ROOT / "tests" / "demo.sh")], capture_output=True, text=True,
                       timeout=180, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    runs = out.split("\n$ kubectl workspace create ")
    assert len(runs) == 4, out  # preamble, dry run, create, second create
    plan, first, second = runs[1], runs[2], runs[3]

    assert "(dry run: nothing was created)" in plan
    for kind, name in (("Namespace", NS), ("ResourceQuota", ID + "-quota"),
                       ("ServiceAccount", NS + "-runner"), ("NetworkPolicy", ID + "-isolation")):
        assert re.search(r"^%s\s.*\b%s$" % (kind, re.escape(name)), plan, re.M), plan
    assert 'Flyte project %s "Flyte - Customer Segmentation Analysis"' % ID in plan

    for obj in ["configmap/" + ID] + OBJECTS:
        assert re.search(r"^%s created\b" % re.escape(obj), first, re.M), (obj, first)
    assert "Workspace created." in first
    assert '{"limits.cpu":"40","limits.memory":"80Gi","persistentvolumeclaims":"20",' \
           '"pods":"100","requests.cpu":"20","requests.memory":"40Gi"}' in first
    assert "flyte.org/tenant=%s" % ID in first
    assert '"name":"Flyte - Customer Segmentation Analysis"' in first
    assert "export FLYTE_DEFAULT_PROJECT=%s" % ID in first
    assert re.search(r"^Drift:\s+none$", first, re.M), first

    for obj in OBJECTS:
        assert re.search(r"^%s unchanged$" % re.escape(obj), second, re.M), (obj, second)
    assert " created" not in second and " configured" not in second, second
    assert "Workspace already existed; it now matches this request." in second
    # the data scientist's journey: registered and run over gRPC in the workspace's project
    assert "registered launch plan demo.hello.wf" in first
    m = re.search(r"^Go to (https://\S+)/console/projects/%s/domains/development/executions/"
                  r"(a[a-z0-9]{19}) to see execution in the console\.$" % ID, first, re.M)
    assert m, first
    assert re.search(r"^pod/%s-n0-0\s" % m.group(2), first, re.M), first


def test_deps_script_installs_nothing_when_all_is_there():
    # Everything is installed on a machine that runs these tests: it must say
    # nothing and succeed (it checks kubectl too).
    r = subprocess.run([str(ROOT / "tests" / "deps.sh")], capture_output=True, text=True,
                       timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_deps_script_without_kubectl_fails_with_a_reason(tmp_path):
    # A PATH with dpkg-query and id but no kubectl.
    for tool in ("dpkg-query", "id", "sh"):
        os.symlink(subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True,
                                  text=True).stdout.strip(), tmp_path / tool)
    r = subprocess.run(["/bin/sh", str(ROOT / "tests" / "deps.sh")], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, PATH=str(tmp_path)))
    assert r.returncode == 1
    assert "kubectl is not on PATH" in r.stderr


def test_ci_script_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make deps" in ci and "make test" in ci
    assert "make test" in (ROOT / "README.md").read_text()
