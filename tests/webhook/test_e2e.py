"""End-to-end through the local cluster: the deploy manifests rendered by the
real `kubectl kustomize webhook/deploy`, caBundle filled by the real
`workspace-certs inject-ca`, registered with the real `kubectl apply`; the
emulated kube-apiserver then calls the real workspace-webhook over TLS
(verifying the caBundle for workspace-webhook.workspace-system.svc) for what
the real kubectl does.

The Deployment cannot run in the emulator (no kubelet): the test runs
bin/workspace-webhook itself, with the platform.yaml of the rendered
ConfigMap, and maps the Service to it. Documents of kinds the server does not
serve (Deployment, Service, PodDisruptionBudget here) are not applied. This
module runs on a cluster of its own: its webhooks must not reach other suites.
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cluster"))
from kube_cluster import CLUSTER_DIR, Cluster, read_env_file  # noqa: E402

from whlib import install  # noqa: E402

pytestmark = pytest.mark.emulator_only

NS = "flyte-ws-demo-001"
ID = "ws-demo-001"
SYS = "workspace-system"


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    if os.environ.get("KW_E2E_KUBECONFIG"):
        pytest.skip("needs the emulated cluster (the Service is mapped to a local process)")
    d = tmp_path_factory.mktemp("webhook-cluster")
    r = subprocess.run([str(CLUSTER_DIR / "up"), str(d)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        yield Cluster(d, read_env_file(d / "env"), bin_dir)
    finally:
        subprocess.run([str(CLUSTER_DIR / "down"), str(d)], capture_output=True, timeout=60)


def served_kinds(c):
    """(group, kind) of every resource the API server serves."""
    out = c.kubectl("api-resources", "--no-headers", "-o", "wide").stdout
    kinds = set()
    for line in out.splitlines():
        f = line.split()
        # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS...
        i = next(i for i, x in enumerate(f) if x in ("true", "false"))
        api_version, kind = f[i - 1], f[i + 1]
        kinds.add((api_version.split("/")[0] if "/" in api_version else "", kind))
    return kinds


@pytest.fixture(scope="module")
def installed(c, tmp_path_factory):
    """Render, inject, apply; run the server; return (webhook, rendered docs)."""
    d = tmp_path_factory.mktemp("webhook-install")
    w, docs, applied = install(c, d, "https://flyte.example.com", served_kinds(c))
    assert {x["kind"] for x in applied} >= {"Namespace", "ServiceAccount", "ConfigMap",
                                            "MutatingWebhookConfiguration",
                                            "ValidatingWebhookConfiguration"}
    yield w, docs
    w.stop()


def ns_json(c, name):
    return json.loads(c.kubectl("get", "namespace", name, "-o", "json").stdout)


def test_manifests_render_and_register(c, installed):
    _, docs = installed
    kinds = [x["kind"] for x in docs]
    for k in ("Namespace", "ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget",
              "Service", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        assert k in kinds
    dep = next(x for x in docs if x["kind"] == "Deployment")
    spec = dep["spec"]["template"]["spec"]
    ctr = spec["containers"][0]
    assert dep["spec"]["replicas"] == 2
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert ctr["securityContext"]["readOnlyRootFilesystem"] is True
    assert ctr["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert ctr["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"readinessProbe", "livenessProbe", "resources"} <= set(ctr)
    assert spec["topologySpreadConstraints"]
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        cfg = json.loads(c.kubectl("get", kind.lower(), "workspace-webhook", "-o",
                                   "json").stdout)
        for hook in cfg["webhooks"]:
            assert hook["admissionReviewVersions"] == ["v1"]
            assert hook["sideEffects"] == "None"
            assert hook["timeoutSeconds"] <= 10
            assert hook["clientConfig"]["caBundle"]
            assert hook["clientConfig"]["service"]["name"] == "workspace-webhook"
            excluded = [e for e in hook["namespaceSelector"]["matchExpressions"]
                        if e["operator"] == "NotIn"]
            assert {"kube-system", SYS} <= set(excluded[0]["values"])
        assert cfg["webhooks"][0]["matchConditions"][0]["name"] == "workspace-namespaces"


def test_create_namespace_gets_tenant_labels(c, installed):
    c.kubectl("create", "namespace", NS)
    ns = ns_json(c, NS)
    labels = ns["metadata"]["labels"]
    assert labels["workspace-id"] == ID
    assert labels["flyte.org/tenant"] == ID
    assert labels["managed-by"] == "kubectl-workspace"
    assert labels["service"] == "flyte"
    ann = ns["metadata"]["annotations"]
    assert ann["workspace.flyte.org/tier"] == "standard"
    assert ann["workspace.flyte.org/quota"].startswith("requests.cpu=20,")
    # a server dry run gets the same answer
    r = c.kubectl("create", "namespace", "flyte-ws-demo-002", "--dry-run=server", "-o", "json")
    assert json.loads(r.stdout)["metadata"]["labels"]["workspace-id"] == "ws-demo-002"


def test_bad_workspace_namespace_refused(c, installed):
    r = c.kubectl("create", "namespace", "flyte-ws-Demo", check=False)
    assert r.returncode != 0
    r = c.kubectl("create", "namespace", "flyte-ws-demo-7", check=False)
    assert r.returncode != 0
    assert 'admission webhook "namespaces.workspace.flyte.org" denied the request' in r.stderr
    assert "namespace 'flyte-ws-demo-7' is in the workspace pattern but is not a valid " \
           "workspace namespace" in r.stderr
    assert "ws-<slug>-<NNN>" in r.stderr
    assert c.kubectl("get", "namespace", "flyte-ws-demo-7", check=False).returncode != 0
    # other namespaces are not the webhook's business
    c.kubectl("create", "namespace", "team-a")
    assert "workspace-id" not in ns_json(c, "team-a")["metadata"]["labels"]


def test_tenant_label_change_refused(c, installed):
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    r = c.kubectl("label", "namespace", NS, "workspace-id=ws-other-001", "--overwrite",
                  check=False)
    assert r.returncode != 0
    assert "tenant label 'workspace-id' of namespace 'flyte-ws-demo-001' cannot be changed " \
           "from 'ws-demo-001' to 'ws-other-001'" in r.stderr
    r = c.kubectl("label", "namespace", NS, "flyte.org/tenant-", check=False)
    assert r.returncode != 0
    assert "cannot be removed" in r.stderr
    assert ns_json(c, NS)["metadata"]["labels"]["flyte.org/tenant"] == ID
    # other labels can change
    c.kubectl("label", "namespace", NS, "team=ml")
    assert ns_json(c, NS)["metadata"]["labels"]["team"] == "ml"


def test_tenant_label_change_through_namespace_status_refused(c, installed):
    """namespaces/status keeps metadata changes: the same refusal applies."""
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    patch = json.dumps({"metadata": {"labels": {"workspace-id": "ws-other-001"}}})
    r = c.kubectl("patch", "namespace", NS, "--subresource=status", "--type=merge", "-p", patch,
                  check=False)
    assert r.returncode != 0
    assert 'admission webhook "namespaces.workspace.flyte.org" denied the request' in r.stderr
    assert "tenant label 'workspace-id' of namespace 'flyte-ws-demo-001' cannot be changed " \
           "from 'ws-demo-001' to 'ws-other-001', also not through namespaces/status" in r.stderr
    assert ns_json(c, NS)["metadata"]["labels"]["workspace-id"] == ID
    # other labels may still change there
    c.kubectl("patch", "namespace", NS, "--subresource=status", "--type=merge", "-p",
              json.dumps({"metadata": {"labels": {"via-status": "yes"}}}))
    assert ns_json(c, NS)["metadata"]["labels"]["via-status"] == "yes"


def test_webhook_outage_blocks_only_workspace_namespaces(c, installed):
    """matchConditions: with the webhook down, any other namespace is created as
    usual, while a workspace namespace is refused (failurePolicy Fail)."""
    w, _ = installed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    c.map_service(SYS, "workspace-webhook", dead)
    try:
        c.kubectl("create", "namespace", "some-other-ns")
        c.kubectl("label", "namespace", "some-other-ns", "team=ml")
        r = c.kubectl("create", "namespace", "flyte-ws-x-001", check=False)
        assert r.returncode != 0
        assert 'failed calling webhook "namespaces.workspace.flyte.org"' in r.stderr
        assert "connection refused" in r.stderr
        # nor can a namespace claim a workspace while the webhook is away
        r = c.kubectl("label", "namespace", "some-other-ns", "workspace-id=ws-x-001",
                      check=False)
        assert r.returncode != 0 and "failed calling webhook" in r.stderr
    finally:
        c.map_service(SYS, "workspace-webhook", w.port)
    assert c.kubectl("get", "namespace", "flyte-ws-x-001", check=False).returncode != 0
    assert "workspace-id" not in ns_json(c, "some-other-ns")["metadata"]["labels"]
    c.kubectl("create", "namespace", "flyte-ws-x-001")
    assert ns_json(c, "flyte-ws-x-001")["metadata"]["labels"]["workspace-id"] == "ws-x-001"


def pod(name, labels=None, env=None):
    ctr = {"name": "main", "image": "python:3.11", "command": ["pyflyte", "run"]}
    if env is not None:
        ctr["env"] = env
    meta = {"name": name, "namespace": NS}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"initContainers": [{"name": "init", "image": "busybox"}],
                     "containers": [ctr]}}


def test_pod_gets_flyte_env(c, installed):
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    c.kubectl("apply", "-f", "-", input=json.dumps(pod("task-1", env=[{"name": "A",
                                                                        "value": "1"}])))
    got = json.loads(c.kubectl("get", "pod", "task-1", "-n", NS, "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"workspace-id": ID, "flyte.org/tenant": ID}
    for ctr in got["spec"]["initContainers"] + got["spec"]["containers"]:
        env = {e["name"]: e.get("value") for e in ctr["env"]}
        assert env["FLYTE_DEFAULT_PROJECT"] == ID
        assert env["FLYTE_DEFAULT_DOMAIN"] == "development"
        assert env["FLYTE_PLATFORM_URL"] == "https://flyte.example.com"
    assert got["spec"]["containers"][0]["env"][0] == {"name": "A", "value": "1"}


def test_pod_of_another_project_refused(c, installed):
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    r = c.kubectl("apply", "-f", "-", check=False,
                  input=json.dumps(pod("task-2", labels={"project": "ws-other-001"})))
    assert r.returncode != 0
    assert "project='ws-other-001', another workspace" in r.stderr
    r = c.kubectl("apply", "-f", "-", check=False, input=json.dumps(pod(
        "task-3", env=[{"name": "FLYTE_DEFAULT_PROJECT", "value": "flytesnacks"}])))
    assert r.returncode != 0
    assert "FLYTE_DEFAULT_PROJECT='flytesnacks', another project" in r.stderr


def test_pod_label_change_refused(c, installed):
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    c.kubectl("apply", "-f", "-", input=json.dumps(pod("task-4")))
    r = c.kubectl("label", "pod", "task-4", "-n", NS, "project=ws-other-001", "--overwrite",
                  check=False)
    assert r.returncode != 0
    assert 'admission webhook "workloads.workspace.flyte.org" denied the request' in r.stderr
    assert "pod 'task-4' cannot get label project='ws-other-001', another workspace" in r.stderr
    r = c.kubectl("label", "pod", "task-4", "-n", NS, "workspace-id-", "flyte.org/tenant-",
                  check=False)
    assert r.returncode != 0 and "cannot be removed" in r.stderr
    r = c.kubectl("label", "pod", "task-4", "-n", NS, "workspace-id=ws-other-001",
                  "--overwrite", check=False)
    assert r.returncode != 0 and "cannot be changed from 'ws-demo-001' to 'ws-other-001'" \
        in r.stderr
    c.kubectl("label", "pod", "task-4", "-n", NS, "team=ml", "project=" + ID)
    got = json.loads(c.kubectl("get", "pod", "task-4", "-n", NS, "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"workspace-id": ID, "flyte.org/tenant": ID,
                                         "team": "ml", "project": ID}


def test_pod_label_change_through_status_refused(c, installed):
    """pods/status keeps metadata changes (as the real API server does): the
    labels are guarded there too, the kubelet's status writes still pass."""
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    c.kubectl("apply", "-f", "-", input=json.dumps(pod("task-5", labels={"project": ID})))
    for labels, msg in (
            ({"workspace-id": "ws-other-001"},
             "tenant label 'workspace-id' of pod 'task-5' cannot be changed from 'ws-demo-001' "
             "to 'ws-other-001', also not through pods/status"),
            ({"flyte.org/tenant": None},
             "tenant label 'flyte.org/tenant' of pod 'task-5' cannot be removed (it is "
             "'ws-demo-001'), also not through pods/status"),
            ({"project": "ws-other-001"},
             "pod 'task-5' cannot get label project='ws-other-001', another workspace")):
        r = c.kubectl("patch", "pod", "task-5", "-n", NS, "--subresource=status",
                      "--type=merge", "-p", json.dumps({"metadata": {"labels": labels}}),
                      check=False)
        assert r.returncode != 0, labels
        assert 'admission webhook "workloads.workspace.flyte.org" denied the request' \
            in r.stderr
        assert msg in r.stderr
    c.kubectl("patch", "pod", "task-5", "-n", NS, "--subresource=status", "--type=merge",
              "-p", json.dumps({"status": {"message": "running"},
                                "metadata": {"labels": {"team": "ml"}}}))
    got = json.loads(c.kubectl("get", "pod", "task-5", "-n", NS, "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"workspace-id": ID, "flyte.org/tenant": ID,
                                         "project": ID, "team": "ml"}
    assert got["status"]["message"] == "running"


def grant(c, user, role, resources, verbs):
    """A Role in NS with these verbs on these core resources, bound to user
    (binding "<user>-<role>"): RBAC allows it, so a refusal is the webhook's."""
    rbac = "rbac.authorization.k8s.io"
    items = [{"apiVersion": rbac + "/v1", "kind": "Role",
              "metadata": {"name": role, "namespace": NS},
              "rules": [{"apiGroups": [""], "resources": resources, "verbs": verbs}]},
             {"apiVersion": rbac + "/v1", "kind": "RoleBinding",
              "metadata": {"name": "%s-%s" % (user, role), "namespace": NS},
              "roleRef": {"apiGroup": rbac, "kind": "Role", "name": role},
              "subjects": [{"apiGroup": rbac, "kind": "User", "name": user}]}]
    c.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                    "items": items}))


def test_quota_status_hard_and_labels_guarded(c, installed):
    """resourcequotas/status: quota admission enforces status.hard; a user
    whom RBAC lets write it may update status.used, not raise status.hard or
    move a tenant label."""
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    grant(c, "carol", "quota-status-writer", ["resourcequotas", "resourcequotas/status"],
          ["get", "list", "patch", "update"])
    c.kubectl("create", "quota", "tier", "--hard=pods=10", "-n", NS)
    c.kubectl("label", "quota", "tier", "-n", NS, "workspace-id=" + ID)

    def quota():
        return json.loads(c.kubectl("get", "quota", "tier", "-n", NS, "-o", "json").stdout)
    from whlib import wait_for
    assert wait_for(lambda: (quota().get("status") or {}).get("hard") == {"pods": "10"})

    def patch(body):
        return c.kubectl("--as", "carol", "patch", "quota", "tier", "-n", NS,
                         "--subresource=status", "--type=merge", "-p", json.dumps(body),
                         check=False)
    r = patch({"status": {"hard": {"pods": "1k"}}})
    assert r.returncode != 0
    assert 'admission webhook "resourcequotas.workspace.flyte.org" denied the request' \
        in r.stderr
    assert "user 'carol' may not set status.hard of ResourceQuota 'tier' in workspace " \
           "namespace 'flyte-ws-demo-001' to anything but its spec.hard" in r.stderr
    r = patch({"metadata": {"labels": {"workspace-id": "ws-other-001"}}})
    assert r.returncode != 0
    assert "tenant label 'workspace-id' of ResourceQuota 'tier' cannot be changed from " \
           "'ws-demo-001' to 'ws-other-001', also not through resourcequotas/status" \
        in r.stderr
    got = quota()
    assert got["status"]["hard"] == {"pods": "10"}
    assert got["metadata"]["labels"]["workspace-id"] == ID
    # what quota admission writes passes
    r = patch({"status": {"used": {"pods": "1"}}})
    assert r.returncode == 0, r.stderr
    c.kubectl("delete", "quota", "tier", "-n", NS)


def test_flyteworkflow_of_another_project_refused(c, installed):
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    wf = {"apiVersion": "flyte.lyft.com/v1alpha1", "kind": "FlyteWorkflow",
          "metadata": {"name": "wf1", "namespace": NS,
                       "labels": {"project": "flytesnacks", "domain": "development"}},
          "spec": {"nodes": {}}}
    r = c.kubectl("create", "-f", "-", check=False, input=json.dumps(wf))
    assert r.returncode != 0
    assert "FlyteWorkflow 'wf1' has label project='flytesnacks'" in r.stderr
    wf["metadata"]["labels"]["project"] = ID
    c.kubectl("create", "-f", "-", input=json.dumps(wf))


def test_quota_change_by_non_manager_refused(c, installed):
    if c.kubectl("get", "namespace", NS, check=False).returncode != 0:
        c.kubectl("create", "namespace", NS)
    # RBAC lets bob manage quotas here: the refusal must come from the webhook
    grant(c, "bob", "quota-editor", ["resourcequotas"],
          ["get", "list", "create", "update", "patch", "delete"])
    r = c.kubectl("--as", "bob", "create", "quota", "extra", "--hard=pods=1000", "-n", NS,
                  check=False)
    assert r.returncode != 0
    assert 'admission webhook "resourcequotas.workspace.flyte.org" denied the request' \
        in r.stderr
    assert "user 'bob' may not create ResourceQuota 'extra' in workspace namespace " \
           "'flyte-ws-demo-001'" in r.stderr
    # a platform admin (system:masters, a quota manager) may
    c.kubectl("create", "quota", "extra", "--hard=pods=10", "-n", NS)
    r = c.kubectl("--as", "bob", "label", "quota", "extra", "-n", NS, "x=y", check=False)
    assert r.returncode != 0 and "may not change ResourceQuota 'extra'" in r.stderr
    r = c.kubectl("--as", "bob", "delete", "quota", "extra", "-n", NS, check=False)
    assert r.returncode != 0 and "may not delete ResourceQuota 'extra'" in r.stderr
    c.kubectl("delete", "quota", "extra", "-n", NS)


def test_plugin_namespaces_carry_exactly_the_plan_labels(c, installed):
    name = "Webhook Check"
    plan = json.loads(c.kubectl("workspace", "create", name, "--owner", "alice@company.com",
                                "--dry-run=client", "-o", "json").stdout)
    want = next(x for x in plan["items"] if x["kind"] == "Namespace")
    c.kubectl("workspace", "create", name, "--owner", "alice@company.com", "--yes")
    ns = ns_json(c, want["metadata"]["name"])
    labels = dict(ns["metadata"]["labels"])
    labels.pop("kubernetes.io/metadata.name")
    assert labels == want["metadata"]["labels"]
    for k, v in want["metadata"]["annotations"].items():
        assert ns["metadata"]["annotations"][k] == v
    c.kubectl("workspace", "delete", want["metadata"]["labels"]["workspace-id"], "--yes")


def test_every_call_was_logged_and_counted(c, installed):
    w, _ = installed
    from whlib import wait_for
    assert wait_for(lambda: any(l.get("msg") == "admission" and l.get("decision") == "denied"
                                and l.get("user") == "bob" for l in w.logs()))
    m = w.metrics()
    key = 'workspace_webhook_admission_requests_total{webhook="mutate",kind="Namespace",' \
          'operation="CREATE",decision="patched"}'
    assert m[key] >= 1
