"""webhook/deploy as the real `kubectl kustomize` renders it, alone and with its
components (cert-manager, without-match-conditions, without-controller);
no cluster needed."""
import os
import re
import subprocess
import sys

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
    # a rollout: serve unready while endpoints update, then drain, all within the grace
    flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
    assert int(flags["shutdown-delay"]) >= 3
    assert pod["terminationGracePeriodSeconds"] > \
        int(flags["shutdown-delay"]) + int(flags["shutdown-timeout"])
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
    assert resources == {"namespaces", "namespaces/status", "namespaces/finalize", "pods",
                         "pods/status", "pods/ephemeralcontainers", "flyteworkflows",
                         "resourcequotas", "resourcequotas/status"}

    def ops(hooks, resource):
        return {op for w in hooks for rule in w["rules"] if resource in rule["resources"]
                for op in rule["operations"]}
    # labels can change through the status subresources (and namespaces/finalize),
    # quota admission enforces resourcequotas/status; pods are checked on UPDATE
    for sub in ("namespaces/status", "namespaces/finalize", "pods/status",
                "resourcequotas/status"):
        assert ops(v["webhooks"], sub) == {"UPDATE"}, sub
    assert ops(v["webhooks"], "pods") == {"CREATE", "UPDATE"}
    assert ops(v["webhooks"], "pods/ephemeralcontainers") == {"UPDATE"}
    assert ops(m["webhooks"], "pods/ephemeralcontainers") == {"UPDATE"}
    # the namespace webhooks only see the workspace pattern (CEL, Kubernetes >= 1.30);
    # no other webhook needs it (they select namespaces labelled workspace-id)
    for cfg in (m, v):
        hooks = cfg["webhooks"]
        assert hooks[0]["name"] == "namespaces.workspace.flyte.org"
        (mc,) = hooks[0]["matchConditions"]
        assert 'object.metadata.name.startsWith("flyte-ws-")' in mc["expression"]
        assert all("matchConditions" not in h for h in hooks[1:])


def workspace_prefix(template):
    """The text before {{ project }} and "ws-": the prefix of every name in the
    workspace pattern of a project-first template (shared/naming.c)."""
    head = re.split(r"\{\{ *(project|domain) *\}\}", template)[0]
    assert re.search(r"\{\{ *project *\}\}", template[len(head):len(head) + 16]), template
    return head + "ws-"


def test_base_holds_out_against_a_flood():
    """Connection limits per client and in all, a read deadline, reviews in
    flight held well under the memory limit, and only the API server (and the
    kubelet) let through to the webhook port (issue 11)."""
    docs = render(DEPLOY)
    pod = named(docs, "Deployment", "workspace-webhook")["spec"]["template"]["spec"]
    c = pod["containers"][0]
    flags = dict(a[2:].split("=", 1) for a in c["args"] if a.startswith("--") and "=" in a)
    assert int(flags["max-connections-per-client"]) < int(flags["max-connections"])
    assert 0 < int(flags["read-timeout"]) <= 10  # kube-apiserver gives up after 10 s at most
    limit = c["resources"]["limits"]["memory"]
    assert limit.endswith("Mi")
    # the budget, plus the process (7 MiB) and idle connections' buffers, with margin
    assert int(flags["max-review-memory"]) + 24 <= int(limit[:-2])
    pol = named(docs, "NetworkPolicy", "workspace-webhook")["spec"]
    assert pol["podSelector"]["matchLabels"] == \
        pod_labels(named(docs, "Deployment", "workspace-webhook"))
    assert pol["policyTypes"] == ["Ingress"]
    (rule,) = pol["ingress"]
    assert rule["ports"] == [{"port": 8443, "protocol": "TCP"}]
    blocks = [f["ipBlock"] for f in rule["from"] if "ipBlock" in f]
    # from anywhere but the pod network, over IPv4 and IPv6
    assert blocks == [{"cidr": "0.0.0.0/0", "except": ["10.244.0.0/16"]},
                      {"cidr": "::/0", "except": ["fd00::/8"]}]
    ns = [f["namespaceSelector"]["matchLabels"] for f in rule["from"] if "namespaceSelector" in f]
    assert ns == [{"kubernetes.io/metadata.name": "kube-system"}]
    assert all("podSelector" not in f for f in rule["from"])


def pod_labels(dep):
    return dep["spec"]["template"]["metadata"]["labels"]


def test_match_conditions_follow_the_platform_template():
    """The CEL prefix is the one the configured namespaceTemplate gives, and the
    emulator's CEL evaluator selects exactly the names the webhook classifies
    as workspace namespaces (or malformed ones)."""
    sys.path.insert(0, str(ROOT / "tests" / "cluster"))
    import kube_cel
    docs = render(DEPLOY)
    platform = yaml.safe_load(named(docs, "ConfigMap", "workspace-platform")["data"]["platform.yaml"])
    prefix = workspace_prefix(platform["namespaceTemplate"])
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        (mc,) = by_kind(docs, kind)[0]["webhooks"][0]["matchConditions"]
        assert re.findall(r'startsWith\("([^"]*)"\)', mc["expression"]) == [prefix, prefix]
        expr = kube_cel.compile_expr(mc["expression"])

        def sent(name, labels=None, old_labels=None, generate=False):
            meta = {"generateName" if generate else "name": name,
                    "labels": dict(labels or {})}
            old = None if old_labels is None else {"metadata": {"name": name,
                                                                "labels": old_labels}}
            return kube_cel.evaluate(expr, {"object": {"metadata": meta}, "oldObject": old})
        for name in ("flyte-ws-demo-001", "flyte-ws-demo", "flyte-ws-Bad"):
            assert sent(name), name
        assert sent("flyte-ws-", generate=True)
        for name in ("default", "team-a", "flyte", "flyte-system", "flytesnacks-development"):
            assert not sent(name), name
        assert not sent("team-a", {"team": "ml"}, {"team": "ml"})
        # a namespace that claims (or claimed) a workspace is still checked
        assert sent("team-a", {"workspace-id": "ws-demo-001"})
        assert sent("team-a", {"flyte.org/tenant": "ws-demo-001"})
        assert sent("team-a", {}, {"workspace-id": "ws-demo-001"})


def test_controller():
    docs = render(DEPLOY)
    dep = named(docs, "Deployment", "workspace-controller")
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "workspace-controller"
    (c,) = pod["containers"]
    assert c["image"].endswith("/workspace-controller:0.1.0")
    assert "--health-listen=:8081" in c["args"]
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
    assert {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]} in lease


def overlay(tmp_path, *components):
    d = tmp_path / "overlay"
    d.mkdir(exist_ok=True)
    (d / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [%s]\ncomponents: [%s]\n"
        % (os.path.relpath(DEPLOY, d),
           ", ".join(os.path.relpath(DEPLOY / "components" / c, d) for c in components)))
    return render(d, "--load-restrictor=LoadRestrictionsNone")


def test_components(tmp_path):
    docs = overlay(tmp_path, "cert-manager")
    # match-conditions is gone: its condition is in the base now
    assert not (DEPLOY / "components" / "match-conditions").exists()
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


def test_without_match_conditions(tmp_path):
    """Kubernetes < 1.30: the opt-out removes the CEL conditions, nothing else."""
    base = render(DEPLOY)
    docs = overlay(tmp_path, "without-match-conditions")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        got, want = by_kind(docs, kind)[0], by_kind(base, kind)[0]
        assert all("matchConditions" not in h for h in got["webhooks"])
        del want["webhooks"][0]["matchConditions"]
        assert got == want
    assert [d for d in docs if "WebhookConfiguration" not in d["kind"]] == \
        [d for d in base if "WebhookConfiguration" not in d["kind"]]


def test_without_controller(tmp_path):
    """The controller and its rights (escalate/bind, namespaces delete) can be left
    out; the admission webhook stays whole."""
    base = render(DEPLOY)
    docs = overlay(tmp_path, "without-controller")
    gone = {(d["kind"], d["metadata"]["name"]) for d in base} - \
        {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert gone == {(k, "workspace-controller") for k in (
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
        "Deployment")}
    assert not any("controller" in d["metadata"]["name"] for d in docs)
    assert not any(d["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
                   for d in docs)
    named(docs, "Deployment", "workspace-webhook")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        assert by_kind(docs, kind) == by_kind(base, kind)


def test_default_quota_managers():
    platform = yaml.safe_load(named(render(DEPLOY), "ConfigMap", "workspace-platform")[
        "data"]["platform.yaml"])
    # kubeadm >= 1.29 gives admin.conf the group kubeadm:cluster-admins, not system:masters
    assert platform["quotaManagers"] == [
        "group:system:masters", "group:kubeadm:cluster-admins",
        "system:serviceaccount:workspace-system:workspace-controller"]
