"""The admission rules, through the running server (POST /mutate and /validate):
namespaces, pods, FlyteWorkflows, ResourceQuotas; idempotence of every
mutation; /validate agreeing with /mutate; dryRun getting the same answer."""
import copy

import pytest

from whlib import (FLYTE_URL, apply_patch, decode_patch, namespace_obj, namespace_review,
                   pod_obj, review)

NS = "flyte-ws-demo-001"
ID = "ws-demo-001"
QUOTA = ("requests.cpu=20,requests.memory=40Gi,limits.cpu=40,limits.memory=80Gi,"
         "pods=100,persistentvolumeclaims=20")
TENANT = {"workspace-id": ID, "flyte.org/tenant": ID, "managed-by": "kubectl-workspace",
          "service": "flyte"}


def mutate_twice(webhook, rev):
    """Mutate, apply the patch, mutate the result again: the second patch is empty."""
    resp = webhook.review("/mutate", rev)
    assert resp["allowed"], resp
    obj = apply_patch(rev["request"]["object"], resp)
    again = copy.deepcopy(rev)
    again["request"]["object"] = obj
    second = webhook.review("/mutate", again)
    assert second["allowed"] and "patch" not in second, decode_patch(second)
    # /validate accepts what /mutate produced, and refuses what it had not yet
    assert webhook.review("/validate", again)["allowed"]
    if decode_patch(resp):
        refused = webhook.review("/validate", rev)
        assert not refused["allowed"]
        assert "workspace mutating webhook" in refused["status"]["message"]
    return resp, obj


# ---- Namespace ---------------------------------------------------------------

def test_namespace_create_gets_tenant_labels_and_annotations(webhook):
    resp, obj = mutate_twice(webhook, namespace_review(NS))
    labels = obj["metadata"]["labels"]
    for k, v in TENANT.items():
        assert labels[k] == v
    assert labels["kubernetes.io/metadata.name"] == NS
    assert obj["metadata"]["annotations"] == {"workspace.flyte.org/tier": "standard",
                                              "workspace.flyte.org/quota": QUOTA}
    # "/" in a label key is escaped in the pointer
    assert {"op": "add", "path": "/metadata/labels/flyte.org~1tenant", "value": ID} \
        in decode_patch(resp)


def test_namespace_tier_annotation_is_kept(webhook):
    rev = namespace_review(NS, annotations={"workspace.flyte.org/tier": "large",
                                            "team": "ml"})
    _, obj = mutate_twice(webhook, rev)
    ann = obj["metadata"]["annotations"]
    assert ann["workspace.flyte.org/tier"] == "large"
    assert ann["team"] == "ml"
    assert "pods=500" in ann["workspace.flyte.org/quota"]


def test_namespace_unknown_tier_denied(webhook):
    resp = webhook.review("/mutate", namespace_review(
        NS, annotations={"workspace.flyte.org/tier": "gigantic"}))
    assert not resp["allowed"]
    assert resp["status"]["code"] == 422
    assert "unknown tier 'gigantic'" in resp["status"]["message"]


def test_namespace_plugin_labels_unchanged(webhook):
    """A namespace as the plugin creates it (the plan's metadata) needs no patch."""
    ann = {"workspace.flyte.org/tier": "standard", "workspace.flyte.org/quota": QUOTA,
           "workspace.flyte.org/name": "Demo", "workspace.flyte.org/created-by": "a@b.c"}
    resp = webhook.review("/mutate", namespace_review(NS, labels=TENANT, annotations=ann))
    assert resp["allowed"] and "patch" not in resp


def test_namespace_corrects_other_labels_with_warning(webhook):
    labels = dict(TENANT, **{"managed-by": "helm"})
    resp, obj = mutate_twice(webhook, namespace_review(NS, labels=labels))
    assert obj["metadata"]["labels"]["managed-by"] == "kubectl-workspace"
    assert any("managed-by" in w and "helm" in w for w in resp.get("warnings", []))


@pytest.mark.parametrize("name", [
    "flyte-ws-demo", "flyte-ws-demo-1", "flyte-ws-Demo-001", "flyte-ws--demo-001",
    "flyte-ws-demo-000", "flyte-ws-demo-1000",
])
def test_malformed_workspace_namespace_denied(webhook, name):
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, namespace_review(name))
        assert not resp["allowed"], name
        assert resp["status"]["code"] == 422
        msg = resp["status"]["message"]
        assert name in msg and "ws-<slug>-<NNN>" in msg and "flyte-{{ project }}" in msg


def test_other_namespaces_untouched(webhook):
    for name in ("default", "team-a", "flyte", "flytesnacks-development"):
        for path in ("/mutate", "/validate"):
            resp = webhook.review(path, namespace_review(name))
            assert resp["allowed"] and "patch" not in resp, (name, resp)


def test_other_namespace_cannot_claim_a_workspace(webhook):
    resp = webhook.review("/validate", namespace_review("team-a", labels={"workspace-id": ID}))
    assert not resp["allowed"]
    assert "not a workspace namespace" in resp["status"]["message"]


def test_tenant_label_disagreeing_with_name_denied(webhook):
    resp = webhook.review("/mutate", namespace_review(
        NS, labels={"flyte.org/tenant": "ws-other-001"}))
    assert not resp["allowed"]
    assert resp["status"]["code"] == 403
    assert "'ws-other-001'" in resp["status"]["message"]
    assert "belongs to workspace 'ws-demo-001'" in resp["status"]["message"]


def test_tenant_label_change_and_removal_denied_on_update(webhook):
    old = namespace_obj(NS, TENANT)
    changed = namespace_obj(NS, dict(TENANT, **{"workspace-id": "ws-other-001"}))
    removed = namespace_obj(NS, {k: v for k, v in TENANT.items() if k != "flyte.org/tenant"})
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, review("Namespace", changed, "UPDATE", NS, old=old))
        assert not resp["allowed"]
        assert "cannot be changed from 'ws-demo-001' to 'ws-other-001'" \
            in resp["status"]["message"]
        resp = webhook.review(path, review("Namespace", removed, "UPDATE", NS, old=old))
        assert not resp["allowed"]
        assert "tenant label 'flyte.org/tenant'" in resp["status"]["message"]
        assert "cannot be removed" in resp["status"]["message"]


def test_update_without_tenant_change_allowed(webhook):
    old = namespace_obj(NS, TENANT, {"workspace.flyte.org/tier": "standard",
                                     "workspace.flyte.org/quota": QUOTA})
    new = copy.deepcopy(old)
    new["metadata"]["labels"]["team"] = "ml"
    resp = webhook.review("/mutate", review("Namespace", new, "UPDATE", NS, old=old))
    assert resp["allowed"] and "patch" not in resp
    # an old namespace without labels gets them on its next update
    bare = namespace_obj(NS)
    resp, obj = mutate_twice(webhook, review("Namespace", bare, "UPDATE", NS, old=bare))
    assert obj["metadata"]["labels"]["workspace-id"] == ID


@pytest.mark.parametrize("sub", ["status", "finalize"])
def test_namespace_subresources_protect_tenant_labels(webhook, sub):
    """namespaces/status and namespaces/finalize keep metadata changes: a tenant
    label cannot be changed or removed through them either."""
    old = namespace_obj(NS, TENANT)
    changed = namespace_obj(NS, dict(TENANT, **{"workspace-id": "ws-other-001"}))
    removed = namespace_obj(NS, {k: v for k, v in TENANT.items() if k != "flyte.org/tenant"})
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, review("Namespace", changed, "UPDATE", NS, old=old, sub=sub))
        assert not resp["allowed"], resp
        assert resp["status"]["code"] == 403
        assert "tenant label 'workspace-id' of namespace 'flyte-ws-demo-001' cannot be " \
               "changed from 'ws-demo-001' to 'ws-other-001'" in resp["status"]["message"]
        assert "namespaces/" + sub in resp["status"]["message"]
        resp = webhook.review(path, review("Namespace", removed, "UPDATE", NS, old=old, sub=sub))
        assert not resp["allowed"]
        assert "tenant label 'flyte.org/tenant'" in resp["status"]["message"]
        assert "cannot be removed" in resp["status"]["message"]
        # a tenant label of another workspace cannot be added either
        bare = namespace_obj(NS)
        wrong = namespace_obj(NS, {"flyte.org/tenant": "ws-other-001"})
        resp = webhook.review(path, review("Namespace", wrong, "UPDATE", NS, old=bare, sub=sub))
        assert not resp["allowed"]
        assert "belongs to workspace 'ws-demo-001'" in resp["status"]["message"]
        # nothing is required or added there: the controllers writing status and
        # finalizers are never blocked by what a namespace lacks
        for o in (old, bare):
            new = copy.deepcopy(o)
            new["status"] = {"phase": "Terminating"}
            new["spec"] = {"finalizers": []}
            resp = webhook.review(path, review("Namespace", new, "UPDATE", NS, old=o, sub=sub))
            assert resp["allowed"] and "patch" not in resp, resp
        # the right tenant label may be added, other labels change freely
        right = namespace_obj(NS, {"workspace-id": ID, "team": "ml"})
        resp = webhook.review(path, review("Namespace", right, "UPDATE", NS, old=bare, sub=sub))
        assert resp["allowed"] and "patch" not in resp
        # no other namespace can claim a workspace through them
        resp = webhook.review(path, review("Namespace", namespace_obj("team-a", {"workspace-id": ID}),
                                           "UPDATE", "team-a", old=namespace_obj("team-a"),
                                           sub=sub))
        assert not resp["allowed"] and "not a workspace namespace" in resp["status"]["message"]
        # a malformed pre-existing namespace is left alone
        resp = webhook.review(path, review("Namespace", namespace_obj("flyte-ws-x"), "UPDATE",
                                           "flyte-ws-x", old=namespace_obj("flyte-ws-x"), sub=sub))
        assert resp["allowed"] and "patch" not in resp and not resp.get("warnings")


def test_namespace_other_subresources_and_operations_ignored(webhook):
    old = namespace_obj(NS, TENANT)
    for sub, op in (("status", "CREATE"), ("other", "UPDATE")):
        resp = webhook.review("/validate", review("Namespace", namespace_obj(NS), op, NS,
                                                  old=old, sub=sub))
        assert resp["allowed"]


def test_quota_annotation_messages_cut_at_a_token(webhook):
    """The old quota summary in a warning is cut between two resources with
    '...', never mid-token; a /validate message carries it whole."""
    old_quota = ("requests.cpu=999,requests.memory=999Gi,limits.cpu=999,limits.memory=999Gi,"
                 "pods=9999,persistentvolumeclaims=999")
    ann = {"workspace.flyte.org/tier": "standard", "workspace.flyte.org/quota": old_quota}
    rev = namespace_review(NS, labels=TENANT, annotations=ann)
    resp = webhook.review("/mutate", rev)
    (warn,) = [w for w in resp["warnings"] if "workspace.flyte.org/quota" in w]
    assert len(warn) <= 255
    assert ("set to '%s'" % QUOTA) in warn
    was = warn.split("(was '", 1)[1]
    assert was.endswith("...')"), warn
    shown = was[:-len("...')")]
    assert old_quota.startswith(shown) and old_quota[len(shown)] == ",", warn
    assert len(shown) > 40
    resp = webhook.review("/validate", rev)
    assert not resp["allowed"]
    assert "is '%s' instead of '%s'" % (old_quota, QUOTA) in resp["status"]["message"]


def test_dry_run_same_answer(webhook):
    a = webhook.review("/mutate", namespace_review(NS))
    b = webhook.review("/mutate", namespace_review(NS, dry_run=True))
    assert a["patch"] == b["patch"]
    a = webhook.review("/mutate", namespace_review("flyte-ws-x"))
    b = webhook.review("/mutate", namespace_review("flyte-ws-x", dry_run=True))
    assert a["status"] == b["status"]


# ---- Pod ---------------------------------------------------------------------

def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_pod_gets_flyte_env_and_tenant_labels(webhook):
    containers = [
        {"name": "main", "image": "python:3.11"},                        # no env at all
        {"name": "sidecar", "image": "envoy", "env": [{"name": "A", "value": "1"}]},
        {"name": "pinned", "image": "x", "env": [
            {"name": "FLYTE_DEFAULT_DOMAIN", "value": "staging"},
            {"name": "FLYTE_PLATFORM_URL", "value": FLYTE_URL}]},
    ]
    init = [{"name": "setup", "image": "busybox"}]
    rev = review("Pod", pod_obj(NS, containers=containers, init=init), namespace=NS)
    resp, obj = mutate_twice(webhook, rev)
    labels = obj["metadata"]["labels"]
    assert labels == {"workspace-id": ID, "flyte.org/tenant": ID}
    want = {"FLYTE_DEFAULT_PROJECT": ID, "FLYTE_DEFAULT_DOMAIN": "development",
            "FLYTE_PLATFORM_URL": FLYTE_URL}
    c = obj["spec"]["containers"]
    assert env_of(c[0]) == want
    assert env_of(c[1]) == dict(want, A="1")
    assert c[1]["env"][0] == {"name": "A", "value": "1"}          # existing env untouched
    assert env_of(c[2]) == {"FLYTE_DEFAULT_PROJECT": ID, "FLYTE_DEFAULT_DOMAIN": "staging",
                            "FLYTE_PLATFORM_URL": FLYTE_URL}
    assert env_of(obj["spec"]["initContainers"][0]) == want


def test_pod_may_not_point_injected_variables_elsewhere(webhook):
    """Every variable the webhook injects is guarded, not only the project: the
    domain must be the pod's (its label) or a platform domain, the platform URL
    the configured one, and none may come from valueFrom."""
    ref = {"configMapKeyRef": {"name": "c", "key": "k"}}
    for labels, env, needle in [
        ({}, [{"name": "FLYTE_PLATFORM_URL", "value": "https://evil.example.com"}],
         "FLYTE_PLATFORM_URL='https://evil.example.com', another Flyte Admin"),
        ({}, [{"name": "FLYTE_PLATFORM_URL", "valueFrom": ref}],
         "takes FLYTE_PLATFORM_URL from valueFrom"),
        ({}, [{"name": "FLYTE_DEFAULT_DOMAIN", "valueFrom": ref}],
         "takes FLYTE_DEFAULT_DOMAIN from valueFrom"),
        ({}, [{"name": "FLYTE_DEFAULT_DOMAIN", "value": "qa"}],
         "FLYTE_DEFAULT_DOMAIN='qa', another domain"),
        ({"domain": "production"}, [{"name": "FLYTE_DEFAULT_DOMAIN", "value": "staging"}],
         "FLYTE_DEFAULT_DOMAIN='staging', another domain"),
    ]:
        containers = [{"name": "main", "image": "x", "env": env}]
        pod = pod_obj(NS, labels=labels or None, containers=containers)
        for path in ("/mutate", "/validate"):
            resp = webhook.review(path, review("Pod", pod, namespace=NS))
            assert not resp["allowed"], (env, path)
            assert needle in resp["status"]["message"], resp["status"]["message"]
    # the pod's own domain, spelt out, is fine
    containers = [{"name": "main", "image": "x",
                   "env": [{"name": "FLYTE_DEFAULT_DOMAIN", "value": "production"}]}]
    pod = pod_obj(NS, labels={"domain": "production"}, containers=containers)
    assert webhook.review("/mutate", review("Pod", pod, namespace=NS))["allowed"]


def test_pod_domain_label_used(webhook):
    pod = pod_obj(NS, labels={"project": ID, "domain": "production", "execution-id": "abc"})
    _, obj = mutate_twice(webhook, review("Pod", pod, namespace=NS))
    assert env_of(obj["spec"]["containers"][0])["FLYTE_DEFAULT_DOMAIN"] == "production"
    assert obj["metadata"]["labels"]["project"] == ID
    assert obj["metadata"]["labels"]["execution-id"] == "abc"


def test_pod_unknown_domain_denied(webhook):
    pod = pod_obj(NS, labels={"domain": "qa"})
    resp = webhook.review("/mutate", review("Pod", pod, namespace=NS))
    assert not resp["allowed"]
    assert "'qa', which is not a Flyte domain" in resp["status"]["message"]


def test_pod_of_another_project_denied(webhook):
    pod = pod_obj(NS, labels={"project": "ws-other-001"})
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, review("Pod", pod, namespace=NS))
        assert not resp["allowed"]
        assert resp["status"]["code"] == 403
        assert "project='ws-other-001', another workspace" in resp["status"]["message"]


def test_pod_tenant_label_of_another_workspace_denied(webhook):
    pod = pod_obj(NS, labels={"workspace-id": "ws-other-001"})
    resp = webhook.review("/mutate", review("Pod", pod, namespace=NS))
    assert not resp["allowed"]
    assert "workspace-id='ws-other-001'" in resp["status"]["message"]


def test_pod_env_pointing_elsewhere_denied(webhook):
    bad = [{"name": "main", "image": "x",
            "env": [{"name": "FLYTE_DEFAULT_PROJECT", "value": "ws-other-001"}]}]
    resp = webhook.review("/mutate", review("Pod", pod_obj(NS, containers=bad), namespace=NS))
    assert not resp["allowed"]
    assert "FLYTE_DEFAULT_PROJECT='ws-other-001'" in resp["status"]["message"]
    assert "container 'main'" in resp["status"]["message"]
    from_ref = [{"name": "main", "image": "x", "env": [
        {"name": "FLYTE_DEFAULT_PROJECT",
         "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]}]
    resp = webhook.review("/mutate", review("Pod", pod_obj(NS, containers=from_ref),
                                            namespace=NS))
    assert not resp["allowed"]
    assert "valueFrom" in resp["status"]["message"]
    good = [{"name": "main", "image": "x",
             "env": [{"name": "FLYTE_DEFAULT_PROJECT", "value": ID}]}]
    mutate_twice(webhook, review("Pod", pod_obj(NS, containers=good), namespace=NS))


def test_pod_generate_name(webhook):
    pod = pod_obj(NS, name="")
    pod["metadata"]["generateName"] = "task-"
    del pod["metadata"]["name"]
    _, obj = mutate_twice(webhook, review("Pod", pod, namespace=NS, name=""))
    assert obj["metadata"]["labels"]["workspace-id"] == ID


def test_pod_outside_workspace_untouched(webhook):
    for ns in ("default", "flyte"):
        resp = webhook.review("/mutate", review("Pod", pod_obj(ns), namespace=ns))
        assert resp["allowed"] and "patch" not in resp


def test_pod_update_and_subresources_not_mutated(webhook):
    pod = pod_obj(NS)
    resp = webhook.review("/mutate", review("Pod", pod, "UPDATE", NS, old=pod))
    assert resp["allowed"] and "patch" not in resp
    resp = webhook.review("/mutate", review("Pod", pod, "CREATE", NS, sub="binding"))
    assert resp["allowed"] and "patch" not in resp


def test_pod_update_cannot_change_tenant_or_project_labels(webhook):
    labels = {"workspace-id": ID, "flyte.org/tenant": ID, "project": ID, "team": "ml"}
    old = pod_obj(NS, labels=labels)
    cases = [
        ({"workspace-id": "ws-other-001"},
         "tenant label 'workspace-id' of pod 'task' cannot be changed from 'ws-demo-001' to "
         "'ws-other-001'"),
        ({"flyte.org/tenant": None}, "tenant label 'flyte.org/tenant' of pod 'task' cannot be "
                                     "removed"),
        ({"workspace-id": None}, "tenant label 'workspace-id' of pod 'task' cannot be removed"),
        ({"project": "ws-other-001"}, "pod 'task' cannot get label project='ws-other-001', "
                                      "another workspace"),
    ]
    for change, msg in cases:
        new_labels = dict(labels)
        for k, v in change.items():
            if v is None:
                del new_labels[k]
            else:
                new_labels[k] = v
        new = pod_obj(NS, labels=new_labels)
        for path in ("/mutate", "/validate"):
            resp = webhook.review(path, review("Pod", new, "UPDATE", NS, old=old))
            assert not resp["allowed"], (change, resp)
            assert resp["status"]["code"] == 403
            assert msg in resp["status"]["message"], resp["status"]["message"]
    # a foreign project label on a pod that had none
    bare = pod_obj(NS)
    resp = webhook.review("/validate", review("Pod", pod_obj(NS, labels={"project": "flytesnacks"}),
                                              "UPDATE", NS, old=bare))
    assert not resp["allowed"] and "project='flytesnacks'" in resp["status"]["message"]
    # other labels change freely; nothing is added on UPDATE, also to a pod
    # admitted before the webhook (its finalizers can still be removed)
    for o, n in ((old, pod_obj(NS, labels=dict(labels, team="data"))), (bare, bare),
                 (bare, pod_obj(NS, labels={"workspace-id": ID, "project": ID}))):
        for path in ("/mutate", "/validate"):
            resp = webhook.review(path, review("Pod", n, "UPDATE", NS, old=o))
            assert resp["allowed"] and "patch" not in resp, resp
    # outside workspace namespaces pods are not the webhook's business
    resp = webhook.review("/validate", review(
        "Pod", pod_obj("team-a", labels={"project": "x"}), "UPDATE", "team-a",
        old=pod_obj("team-a", labels={"project": "y", "workspace-id": "z"})))
    assert resp["allowed"]


def test_pod_status_cannot_change_tenant_or_project_labels(webhook):
    """pods/status keeps metadata changes (podStatusStrategy): the labels of a
    plain UPDATE are guarded there too; the kubelet's status writes pass."""
    labels = {"workspace-id": ID, "flyte.org/tenant": ID, "project": ID, "team": "ml"}
    old = pod_obj(NS, labels=labels)
    old["status"] = {"phase": "Pending"}
    cases = [
        ({"workspace-id": "ws-other-001"},
         "tenant label 'workspace-id' of pod 'task' cannot be changed from 'ws-demo-001' to "
         "'ws-other-001', also not through pods/status"),
        ({"flyte.org/tenant": None}, "tenant label 'flyte.org/tenant' of pod 'task' cannot be "
                                     "removed (it is 'ws-demo-001'), also not through "
                                     "pods/status"),
        ({"project": "ws-other-001"}, "pod 'task' cannot get label project='ws-other-001', "
                                      "another workspace: pods in namespace "
                                      "'flyte-ws-demo-001' belong to project 'ws-demo-001', "
                                      "also not through pods/status"),
    ]
    for change, msg in cases:
        new = copy.deepcopy(old)
        for k, v in change.items():
            if v is None:
                del new["metadata"]["labels"][k]
            else:
                new["metadata"]["labels"][k] = v
        for path in ("/mutate", "/validate"):
            resp = webhook.review(path, review("Pod", new, "UPDATE", NS, old=old, sub="status",
                                               user="system:node:n1"))
            assert not resp["allowed"], (change, resp)
            assert resp["status"]["code"] == 403 and resp["status"]["reason"] == "Forbidden"
            assert resp["status"]["message"] == msg
    # a foreign project label on a pod that had none
    bare = pod_obj(NS)
    resp = webhook.review("/validate", review("Pod", pod_obj(NS, labels={"project": "x"}),
                                              "UPDATE", NS, old=bare, sub="status"))
    assert not resp["allowed"] and "project='x'" in resp["status"]["message"]
    # the kubelet's status writes, other labels, and pods without labels pass unchanged
    running = copy.deepcopy(old)
    running["status"] = {"phase": "Running", "podIP": "10.0.0.7"}
    relabeled = copy.deepcopy(old)
    relabeled["metadata"]["labels"]["team"] = "data"
    for o, n in ((old, running), (old, relabeled), (bare, bare)):
        for path in ("/mutate", "/validate"):
            resp = webhook.review(path, review("Pod", n, "UPDATE", NS, old=o, sub="status"))
            assert resp["allowed"] and "patch" not in resp, resp


def test_pod_ephemeral_containers(webhook):
    """pods/ephemeralcontainers (`kubectl debug`): a new ephemeral container gets
    the Flyte env and may not point FLYTE_DEFAULT_PROJECT elsewhere; the ones
    already there are left alone."""
    labels = {"workspace-id": ID, "flyte.org/tenant": ID}
    old = pod_obj(NS, labels=labels)
    old["spec"]["ephemeralContainers"] = [{"name": "debugger-old", "image": "busybox"}]
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"].append({"name": "debugger-1", "image": "busybox",
                                               "env": [{"name": "A", "value": "1"}]})
    rev = review("Pod", new, "UPDATE", NS, old=old, sub="ephemeralcontainers")
    resp, obj = mutate_twice(webhook, rev)
    eph = obj["spec"]["ephemeralContainers"]
    assert eph[0] == old["spec"]["ephemeralContainers"][0]
    assert env_of(eph[1]) == {"A": "1", "FLYTE_DEFAULT_PROJECT": ID,
                              "FLYTE_DEFAULT_DOMAIN": "development",
                              "FLYTE_PLATFORM_URL": FLYTE_URL}
    assert obj["spec"]["containers"] == new["spec"]["containers"]
    bad = copy.deepcopy(old)
    bad["spec"]["ephemeralContainers"].append({
        "name": "debugger-2", "image": "busybox",
        "env": [{"name": "FLYTE_DEFAULT_PROJECT", "value": "flytesnacks"}]})
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, review("Pod", bad, "UPDATE", NS, old=old,
                                           sub="ephemeralcontainers"))
        assert not resp["allowed"]
        assert "container 'debugger-2' of pod 'task' sets FLYTE_DEFAULT_PROJECT='flytesnacks'" \
            in resp["status"]["message"]


def test_pod_ephemeral_containers_many_names(webhook):
    """Tens of thousands of ephemeral containers on both sides cost one sort,
    not a comparison of every new name with every old one (quadratic: about
    5 s of a worker for these 18k x 36k, which the short client timeout below
    would not wait for). The review stays under the webhook's tree cap."""
    n = 18000
    labels = {"workspace-id": ID, "flyte.org/tenant": ID}
    old = pod_obj(NS, labels=labels)
    old["spec"]["ephemeralContainers"] = [{"name": "e%d" % i, "image": "b"} for i in range(n)]
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"] += [{"name": "n%d" % i, "image": "b"} for i in range(n)]
    new["spec"]["ephemeralContainers"][n]["env"] = [
        {"name": "FLYTE_DEFAULT_PROJECT", "value": "flytesnacks"}]
    conn = webhook.connection(timeout=4)
    resp = webhook.review("/validate", review("Pod", new, "UPDATE", NS, old=old,
                                              sub="ephemeralcontainers"), conn=conn)
    assert not resp["allowed"]
    assert "container 'n0' of pod 'task' sets FLYTE_DEFAULT_PROJECT='flytesnacks'" \
        in resp["status"]["message"]


def test_pod_without_platform_url(start_webhook):
    w = start_webhook()  # no --flyte-endpoint
    resp = w.review("/mutate", review("Pod", pod_obj(NS), namespace=NS))
    obj = apply_patch(pod_obj(NS), resp)
    assert env_of(obj["spec"]["containers"][0]) == {"FLYTE_DEFAULT_PROJECT": ID,
                                                    "FLYTE_DEFAULT_DOMAIN": "development"}


# ---- FlyteWorkflow -----------------------------------------------------------

def workflow(labels, execution_project=None):
    o = {"apiVersion": "flyte.lyft.com/v1alpha1", "kind": "FlyteWorkflow",
         "metadata": {"name": "abc123", "namespace": NS, "labels": labels},
         "spec": {"nodes": {}}}
    if execution_project:
        o["executionId"] = {"project": execution_project, "domain": "development",
                            "name": "abc123"}
    return o


def test_flyteworkflow_project_label(webhook):
    ok = review("FlyteWorkflow", workflow({"project": ID, "domain": "development"},
                                          execution_project=ID), namespace=NS)
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, ok)
        assert resp["allowed"] and "patch" not in resp
    for wf, needle in [
        (workflow({"domain": "development"}), "has no 'project' label: it must be 'ws-demo-001'"),
        (workflow({"project": "ws-other-001"}), "project='ws-other-001'"),
        (workflow({"project": ID}, execution_project="flytesnacks"),
         "executionId.project='flytesnacks'"),
    ]:
        resp = webhook.review("/validate", review("FlyteWorkflow", wf, namespace=NS))
        assert not resp["allowed"]
        assert needle in resp["status"]["message"]
    # outside workspace namespaces Flyte works as usual
    other = workflow({"project": "flytesnacks"})
    other["metadata"]["namespace"] = "flytesnacks-development"
    resp = webhook.review("/validate", review("FlyteWorkflow", other,
                                              namespace="flytesnacks-development"))
    assert resp["allowed"]


def test_flyteworkflow_update_keeps_the_project_label(webhook):
    """An UPDATE (flytepropeller rewrites the whole object) may not move the
    workflow to another project or drop its label; a workflow that never had
    the label (made before the webhook) is not blocked by its own updates."""
    old = workflow({"project": ID, "domain": "development"})
    same = copy.deepcopy(old)
    same["spec"]["nodes"] = {"n0": {}}
    resp = webhook.review("/validate", review("FlyteWorkflow", same, "UPDATE", NS, old=old))
    assert resp["allowed"]
    for labels, needle in [({"project": "ws-other-001", "domain": "development"},
                            "project='ws-other-001'"),
                           ({"domain": "development"}, "removes its 'project' label")]:
        new = copy.deepcopy(old)
        new["metadata"]["labels"] = labels
        resp = webhook.review("/validate", review("FlyteWorkflow", new, "UPDATE", NS, old=old))
        assert not resp["allowed"], labels
        assert needle in resp["status"]["message"]
    legacy = workflow({"domain": "development"})
    resp = webhook.review("/validate", review("FlyteWorkflow", copy.deepcopy(legacy), "UPDATE",
                                              NS, old=legacy))
    assert resp["allowed"]


# ---- ResourceQuota -----------------------------------------------------------

def quota(name="ws-demo-001-quota"):
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"hard": {"pods": "100"}}}


@pytest.mark.parametrize("op", ["CREATE", "UPDATE", "DELETE"])
def test_quota_non_manager_denied(webhook, op):
    q = quota()
    kw = {"old": q} if op != "CREATE" else {}
    obj = None if op == "DELETE" else q
    resp = webhook.review("/validate", review("ResourceQuota", obj, op, NS,
                                              name="ws-demo-001-quota",
                                              user="bob@company.com", **kw))
    assert not resp["allowed"]
    assert resp["status"]["code"] == 403
    verb = {"CREATE": "create", "UPDATE": "change", "DELETE": "delete"}[op]
    assert "user 'bob@company.com' may not %s ResourceQuota 'ws-demo-001-quota'" % verb \
        in resp["status"]["message"]


def test_quota_managers_allowed(webhook):
    q = quota()
    by_group = review("ResourceQuota", q, "UPDATE", NS, old=q, user="admin",
                      groups=["system:masters", "system:authenticated"])
    assert webhook.review("/validate", by_group)["allowed"]
    by_sa = review("ResourceQuota", q, "CREATE", NS,
                   user="system:serviceaccount:workspace-system:workspace-controller",
                   groups=["system:serviceaccounts"])
    assert webhook.review("/validate", by_sa)["allowed"]
    # kubeadm >= 1.29: admin.conf's group, not system:masters
    by_kubeadm = review("ResourceQuota", q, "UPDATE", NS, old=q, user="kubernetes-admin",
                        groups=["kubeadm:cluster-admins", "system:authenticated"])
    assert webhook.review("/validate", by_kubeadm)["allowed"]
    # namespace deletion removes the quota
    by_nsc = review("ResourceQuota", None, "DELETE", NS, name="ws-demo-001-quota", old=q,
                    user="system:serviceaccount:kube-system:namespace-controller")
    assert webhook.review("/validate", by_nsc)["allowed"]


def test_quota_outside_workspace_and_status_allowed(webhook):
    q = quota()
    q["metadata"]["namespace"] = "team-a"
    assert webhook.review("/validate", review("ResourceQuota", q, namespace="team-a",
                                              user="bob@company.com"))["allowed"]
    q = quota()
    assert webhook.review("/validate", review("ResourceQuota", q, "UPDATE", NS, old=q,
                                              sub="status", user="bob"))["allowed"]


def synced(q, hard=None, used=None):
    """q with the status the quota controller writes."""
    q = copy.deepcopy(q)
    q["status"] = {"hard": dict(hard or q["spec"]["hard"]), "used": dict(used or {"pods": "0"})}
    return q


def test_quota_status_guards_hard_and_tenant_labels(webhook):
    """resourcequotas/status: quota admission enforces status.hard, and the
    strategy keeps metadata changes. The quota controller (status.hard =
    spec.hard, status.used) and quota admission (status.used) keep working."""
    q = quota()
    q["metadata"]["labels"] = {"workspace-id": ID, "managed-by": "kubectl-workspace"}
    controller = "system:serviceaccount:kube-system:resourcequota-controller"

    def ask(new, old, user=controller, groups=("system:serviceaccounts",)):
        return webhook.review("/validate", review("ResourceQuota", new, "UPDATE", NS, old=old,
                                                  sub="status", user=user, groups=groups))

    # the controller's first sync, a usage update, quota admission on a quota
    # whose spec a manager just changed (status.hard stale until the next sync)
    moved = copy.deepcopy(q)
    moved["spec"]["hard"] = {"pods": "50"}
    for new, old in ((synced(q), q), (synced(q, used={"pods": "3"}), synced(q)),
                     (synced(moved, hard={"pods": "100"}, used={"pods": "4"}),
                      synced(moved, hard={"pods": "100"})),
                     (synced(moved), synced(moved, hard={"pods": "100"}))):
        resp = ask(new, old)
        assert resp["allowed"], resp
    # status.hard other than spec.hard, or gone
    for hard in ({"pods": "1k"}, {"pods": "100", "requests.cpu": "1"}, None):
        new = synced(q, hard=hard or {"pods": "1"})
        if hard is None:
            del new["status"]["hard"]
        resp = ask(new, synced(q), user="bob@company.com", groups=("system:authenticated",))
        assert not resp["allowed"], hard
        assert resp["status"]["code"] == 403
        assert resp["status"]["message"] == (
            "user 'bob@company.com' may not set status.hard of ResourceQuota "
            "'ws-demo-001-quota' in workspace namespace 'flyte-ws-demo-001' to anything but "
            "its spec.hard: quota admission enforces status.hard, and workspace quotas are "
            "managed by the platform")
    # tenant labels
    changed = synced(q)
    changed["metadata"]["labels"]["workspace-id"] = "ws-other-001"
    resp = ask(changed, synced(q))
    assert not resp["allowed"]
    assert resp["status"]["message"] == (
        "tenant label 'workspace-id' of ResourceQuota 'ws-demo-001-quota' cannot be changed "
        "from 'ws-demo-001' to 'ws-other-001', also not through resourcequotas/status")
    removed = synced(q)
    del removed["metadata"]["labels"]["workspace-id"]
    resp = ask(removed, synced(q))
    assert not resp["allowed"] and "cannot be removed (it is 'ws-demo-001')" \
        in resp["status"]["message"]
    claimed = synced(q)
    claimed["metadata"]["labels"]["flyte.org/tenant"] = "ws-other-001"
    resp = ask(claimed, synced(q))
    assert not resp["allowed"] and "cannot get label flyte.org/tenant='ws-other-001'" \
        in resp["status"]["message"]
    # quota managers may, as on the quota itself; other namespaces are not ours
    assert ask(synced(q, hard={"pods": "1k"}), synced(q), user="admin",
               groups=("system:masters",))["allowed"]
    other = copy.deepcopy(q)
    other["metadata"]["namespace"] = "team-a"
    assert webhook.review("/validate", review(
        "ResourceQuota", synced(other, hard={"pods": "1k"}), "UPDATE", "team-a",
        old=synced(other), sub="status", user="bob"))["allowed"]


def test_quota_managers_from_flags(start_webhook):
    w = start_webhook("--quota-manager", "carol", "--quota-manager", "group:platform")
    q = quota()
    assert w.review("/validate", review("ResourceQuota", q, namespace=NS,
                                        user="carol"))["allowed"]
    assert w.review("/validate", review("ResourceQuota", q, namespace=NS, user="dave",
                                        groups=["platform"]))["allowed"]
    # the list replaces the defaults
    assert not w.review("/validate", review("ResourceQuota", q, namespace=NS, user="admin",
                                            groups=["system:masters"]))["allowed"]


# ---- other kinds and templates ----------------------------------------------

def test_other_kinds_allowed_unchanged(webhook):
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "x", "namespace": NS}, "data": {"k": "v"}}
    for path in ("/mutate", "/validate"):
        resp = webhook.review(path, review("ConfigMap", cm, namespace=NS))
        assert resp == {"uid": resp["uid"], "allowed": True}


def test_config_file_and_flag_override(start_webhook, tmp_path):
    cfg = tmp_path / "platform.yaml"
    cfg.write_text('namespaceTemplate: "{{ project }}-{{ domain }}"\n'
                   "domains: [development, production]\n"
                   "flyte: {endpoint: https://from-config.example.com}\n")
    w = start_webhook("--config", cfg, "--flyte-endpoint", "https://flag.example.com")
    resp = w.review("/mutate", review("Pod", pod_obj("ws-demo-001-production"),
                                      namespace="ws-demo-001-production"))
    obj = apply_patch(pod_obj("ws-demo-001-production"), resp)
    assert env_of(obj["spec"]["containers"][0]) == {
        "FLYTE_DEFAULT_PROJECT": ID, "FLYTE_DEFAULT_DOMAIN": "production",
        "FLYTE_PLATFORM_URL": "https://flag.example.com"}
    # per-domain namespaces carry the domain label
    resp = w.review("/mutate", namespace_review("ws-demo-001-production"))
    obj = apply_patch(namespace_obj("ws-demo-001-production"), resp)
    assert obj["metadata"]["labels"]["flyte.org/domain"] == "production"
    # a pod labelled for another domain than its namespace is refused
    pod = pod_obj("ws-demo-001-production", labels={"domain": "development"})
    resp = w.review("/mutate", review("Pod", pod, namespace="ws-demo-001-production"))
    assert not resp["allowed"]
    assert "is for domain 'production'" in resp["status"]["message"]
    # the default template's namespaces are no longer workspace namespaces
    assert "patch" not in w.review("/mutate", namespace_review(NS))


@pytest.mark.parametrize("template,good,bad", [
    ("flyte-{{ project }}-{{ domain }}", "flyte-ws-demo-001-staging",
     ["flyte-ws-demo-001-qa", "flyte-ws-demo-001", "flyte-ws-demo-staging"]),
    ("{{ domain }}-{{ project }}", "staging-ws-demo-001", ["qa-ws-demo-001", "x-ws-demo"]),
])
def test_per_domain_template_refuses_names_of_its_pattern(start_webhook, tmp_path, template,
                                                          good, bad):
    """As with the default template, a name in the workspace pattern that is not
    a workspace namespace (unknown domain, no domain) is refused with the
    expected form, never let through without labels."""
    cfg = tmp_path / "platform.yaml"
    cfg.write_text('namespaceTemplate: "%s"\n' % template)
    w = start_webhook("--config", cfg)
    resp = w.review("/mutate", namespace_review(good))
    assert resp["allowed"] and "patch" in resp
    for name in bad:
        for path in ("/mutate", "/validate"):
            resp = w.review(path, namespace_review(name))
            assert not resp["allowed"], (name, resp)
            assert resp["status"]["code"] == 422
            msg = resp["status"]["message"]
            assert name in msg and "expected %s with project ws-<slug>-<NNN>" % template in msg
            assert "domain one of development, staging, production" in msg
    for name in ("default", "flyte", "team-a", "flytesnacks-development"):
        assert "patch" not in w.review("/mutate", namespace_review(name))
        assert w.review("/validate", namespace_review(name))["allowed"]
