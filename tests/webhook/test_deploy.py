"""webhook/deploy as the real `kubectl kustomize` renders it, alone and with its
components (match-conditions, cert-manager); no cluster needed."""
import os
import subprocess

import yaml

from whlib import ROOT

DEPLOY = ROOT / "webhook" / "deploy"


def render(path, *extra):
    r = subprocess.run(["kubectl", "kustomize", *extra, str(path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return list(yaml.safe_load_all(r.stdout))


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def named(docs, kind, name):
    (d,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return d


def test_base():
    docs = render(DEPLOY)
    dep = named(docs, "Deployment", "workspace-webhook")
    pod = dep["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "workspace-webhook"
    named(docs, "ServiceAccount", "workspace-webhook")
    assert by_kind(docs, "PodDisruptionBudget")[0]["spec"]["minAvailable"] == 1
    assert by_kind(docs, "Namespace")[0]["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"
    args = pod["containers"][0]["args"]
    assert "--tls-cert-file=/etc/workspace-webhook/tls/tls.crt" in args
    assert "--config=/etc/workspace-webhook/platform/platform.yaml" in args
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["tls"]["secret"]["secretName"] == "workspace-webhook-tls"
    assert vols["platform"]["configMap"]["name"] == "workspace-platform"
    svc = by_kind(docs, "Service")[0]
    assert svc["spec"]["ports"][0]["port"] == 443
    for d in docs:
        if d["kind"] not in ("Namespace", "MutatingWebhookConfiguration",
                             "ValidatingWebhookConfiguration", "ClusterRole",
                             "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == "workspace-system", d["kind"]
    m = by_kind(docs, "MutatingWebhookConfiguration")[0]
    v = by_kind(docs, "ValidatingWebhookConfiguration")[0]
    assert [w["clientConfig"]["service"]["path"] for w in m["webhooks"]] == ["/mutate"] * 2
    assert {w["clientConfig"]["service"]["path"] for w in v["webhooks"]} == {"/validate"}
    for w in m["webhooks"] + v["webhooks"]:
        assert w["failurePolicy"] == "Fail" and w["sideEffects"] == "None"
        assert w["timeoutSeconds"] == 5
        exprs = w["namespaceSelector"]["matchExpressions"]
        notin = next(e for e in exprs if e["operator"] == "NotIn")
        assert set(notin["values"]) >= {"kube-system", "kube-public", "kube-node-lease",
                                        "workspace-system"}
        if not w["name"].startswith("namespaces."):
            assert {"key": "workspace-id", "operator": "Exists"} in exprs
    assert all(w["reinvocationPolicy"] == "IfNeeded" for w in m["webhooks"])
    resources = {r for w in v["webhooks"] for rule in w["rules"] for r in rule["resources"]}
    assert resources == {"namespaces", "pods", "flyteworkflows", "resourcequotas"}


def test_controller():
    docs = render(DEPLOY)
    dep = named(docs, "Deployment", "workspace-controller")
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "workspace-controller"
    (c,) = pod["containers"]
    assert "--controller" in c["args"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} \
        in c["env"]
    # the controller's identity is a quota manager, so the webhook lets it write quotas
    platform = yaml.safe_load(named(docs, "ConfigMap", "workspace-platform")["data"]["platform.yaml"])
    assert "system:serviceaccount:workspace-system:workspace-controller" in platform["quotaManagers"]
    crb = named(docs, "ClusterRoleBinding", "workspace-controller")
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "workspace-controller",
                                "namespace": "workspace-system"}]
    rules = named(docs, "ClusterRole", "workspace-controller")["rules"]
    rbac = next(r for r in rules if "roles" in r["resources"])
    assert {"escalate", "bind"} <= set(rbac["verbs"])
    assert not any("*" in r["verbs"] or "*" in r["resources"] for r in rules)
    lease = named(docs, "Role", "workspace-controller")["rules"]
    assert any(r["resources"] == ["leases"] for r in lease)


def test_components(tmp_path):
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [%s]\ncomponents: [%s, %s]\n"
        % tuple(os.path.relpath(p, overlay) for p in (
            DEPLOY, DEPLOY / "components" / "match-conditions",
            DEPLOY / "components" / "cert-manager")))
    docs = render(overlay, "--load-restrictor=LoadRestrictionsNone")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        cfg = by_kind(docs, kind)[0]
        assert cfg["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == \
            "workspace-system/workspace-webhook"
        hooks = cfg["webhooks"]
        assert hooks[0]["name"] == "namespaces.workspace.flyte.org"
        assert 'startsWith("flyte-ws-")' in hooks[0]["matchConditions"][0]["expression"]
        assert all("matchConditions" not in h for h in hooks[1:])
    certs = {c["metadata"]["name"]: c for c in by_kind(docs, "Certificate")}
    serving = certs["workspace-webhook"]["spec"]
    assert serving["secretName"] == "workspace-webhook-tls"
    assert "workspace-webhook.workspace-system.svc" in serving["dnsNames"]
    assert certs["workspace-webhook-ca"]["spec"]["isCA"] is True
