"""The real kubectl against the local cluster: what a user does by hand must
work and print what it prints against a real kube-apiserver.

Run: cd tests && /usr/bin/python3 -m pytest -q cluster/test_kubectl.py
"""
import json
import queue
import subprocess
import threading
import time
import uuid

import pytest

MULTI_DOC = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: demo, tier: backend}
data:
  mode: fast
---
apiVersion: v1
kind: Secret
metadata: {name: creds, labels: {app: demo}}
type: Opaque
data: {password: aHVudGVyMg==}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: runner, labels: {app: demo}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec:
  hard: {requests.cpu: "20", requests.memory: 40Gi, limits.cpu: "40",
         limits.memory: 80Gi, pods: "100", persistentvolumeclaims: "20"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: contributor, labels: {app: demo}}
rules:
- apiGroups: [""]
  resources: [pods, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: contributor-binding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: contributor}
subjects:
- {kind: User, name: bob@company.com, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {}
---
apiVersion: v1
kind: Pod
metadata: {name: task, labels: {app: demo}}
spec:
  serviceAccountName: runner
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "3600"]
    resources:
      requests: {cpu: 500m, memory: 128Mi}
      limits: {cpu: "1", memory: 256Mi}
"""


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


@pytest.fixture
def ns(cluster):
    name = unique("kt")
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_create_namespace_protobuf_and_get(cluster):
    name = unique("proto")
    r = cluster.kubectl("create", "namespace", name)
    assert r.stdout.strip() == "namespace/%s created" % name
    obj = json.loads(cluster.kubectl("get", "ns", name, "-o", "json").stdout)
    assert obj["kind"] == "Namespace" and obj["apiVersion"] == "v1"
    md = obj["metadata"]
    assert md["labels"] == {"kubernetes.io/metadata.name": name}
    assert md["uid"] and int(md["resourceVersion"]) > 0
    assert md["creationTimestamp"].endswith("Z")
    assert obj["status"] == {"phase": "Active"}
    assert obj["spec"] == {"finalizers": ["kubernetes"]}
    table = cluster.kubectl("get", "ns", name).stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "AGE"]
    assert table[1].split()[:2] == [name, "Active"]
    # what the controllers add to every new namespace
    cms = cluster.kubectl("get", "cm", "-n", name, "-o", "name").stdout.split()
    assert cms == ["configmap/kube-root-ca.crt"]
    assert cluster.kubectl("get", "sa", "default", "-n", name, "-o",
                           "name").stdout.strip() == "serviceaccount/default"


def test_typed_create_commands_use_protobuf(cluster, ns):
    cluster.kubectl("create", "configmap", "cm1", "-n", ns, "--from-literal=a=1",
                    "--from-literal=b=two")
    cluster.kubectl("create", "secret", "generic", "s1", "-n", ns,
                    "--from-literal=token=abc", "--type=example.com/token")
    cluster.kubectl("create", "serviceaccount", "sa1", "-n", ns)
    cluster.kubectl("create", "quota", "q1", "-n", ns, "--hard=cpu=2,memory=1Gi,pods=5")
    cluster.kubectl("create", "role", "r1", "-n", ns, "--verb=get,list",
                    "--resource=pods,configmaps")
    cluster.kubectl("create", "rolebinding", "rb1", "-n", ns, "--role=r1",
                    "--user=alice@company.com", "--serviceaccount=%s:sa1" % ns)
    cm = json.loads(cluster.kubectl("get", "cm", "cm1", "-n", ns, "-o", "json").stdout)
    assert cm["data"] == {"a": "1", "b": "two"}
    assert set(cm["metadata"]) == {"name", "namespace", "uid", "resourceVersion",
                                   "creationTimestamp"}
    s = json.loads(cluster.kubectl("get", "secret", "s1", "-n", ns, "-o", "json").stdout)
    assert s["type"] == "example.com/token" and s["data"] == {"token": "YWJj"}
    q = json.loads(cluster.kubectl("get", "quota", "q1", "-n", ns, "-o", "json").stdout)
    assert q["spec"]["hard"] == {"cpu": "2", "memory": "1Gi", "pods": "5"}
    role = json.loads(cluster.kubectl("get", "role", "r1", "-n", ns, "-o",
                                      "json").stdout)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "configmaps"],
                              "verbs": ["get", "list"]}]
    rb = json.loads(cluster.kubectl("get", "rolebinding", "rb1", "-n", ns, "-o",
                                    "json").stdout)
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                             "name": "r1"}
    assert {"kind": "User", "name": "alice@company.com",
            "apiGroup": "rbac.authorization.k8s.io"} in rb["subjects"]
    assert {"kind": "ServiceAccount", "name": "sa1", "namespace": ns} in rb["subjects"]


def test_create_from_json_file(cluster, tmp_path):
    name = unique("json")
    f = tmp_path / "ns.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": name, "labels": {"team": "ml"}}}))
    r = cluster.kubectl("create", "-f", f)
    assert r.stdout.strip() == "namespace/%s created" % name
    out = cluster.kubectl("get", "ns", "-l", "team=ml", "-o", "name").stdout.split()
    assert "namespace/" + name in out
    cluster.kubectl("delete", "ns", name)


def test_apply_multi_document_then_unchanged(cluster, ns, tmp_path):
    f = tmp_path / "all.yaml"
    f.write_text(MULTI_DOC)
    first = cluster.kubectl("apply", "-n", ns, "-f", f).stdout.splitlines()
    assert first == [
        "configmap/settings created", "secret/creds created",
        "serviceaccount/runner created", "resourcequota/quota created",
        "role.rbac.authorization.k8s.io/contributor created",
        "rolebinding.rbac.authorization.k8s.io/contributor-binding created",
        "networkpolicy.networking.k8s.io/isolate created", "pod/task created"]
    second = cluster.kubectl("apply", "-n", ns, "-f", f).stdout.splitlines()
    assert second == [line.replace("created", "unchanged") for line in first]

    items = json.loads(cluster.kubectl("get", "cm,secret,sa,pod,role", "-n", ns,
                                       "-l", "app=demo", "-o", "json").stdout)["items"]
    assert sorted((i["kind"], i["metadata"]["name"]) for i in items) == [
        ("ConfigMap", "settings"), ("Pod", "task"), ("Role", "contributor"),
        ("Secret", "creds"), ("ServiceAccount", "runner")]
    pod = next(i for i in items if i["kind"] == "Pod")
    assert pod["spec"]["serviceAccountName"] == "runner"
    assert pod["status"]["phase"] == "Pending"
    assert "kubectl.kubernetes.io/last-applied-configuration" in \
        pod["metadata"]["annotations"]
    names = cluster.kubectl("get", "cm", "-n", ns, "-l", "tier in (backend,x),app",
                            "-o", "name").stdout.split()
    assert names == ["configmap/settings"]
    assert cluster.kubectl("get", "cm", "-n", ns, "-l", "!tier", "-o",
                           "name").stdout.split() == ["configmap/kube-root-ca.crt"]
    quota = cluster.kubectl("get", "quota", "quota", "-n", ns).stdout
    assert "pods: 1/100" in quota and "requests.cpu: 500m/20" in quota

    # change one document: only that object is configured
    f.write_text(MULTI_DOC.replace("mode: fast", "mode: slow"))
    third = cluster.kubectl("apply", "-n", ns, "-f", f).stdout.splitlines()
    assert third[0] == "configmap/settings configured"
    assert all(line.endswith("unchanged") for line in third[1:])
    cm = json.loads(cluster.kubectl("get", "cm", "settings", "-n", ns, "-o",
                                    "json").stdout)
    assert cm["data"] == {"mode": "slow"}


def test_apply_merges_containers_by_name(cluster, ns, tmp_path):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": "busybox:1"},
                                   {"name": "b", "image": "busybox:1"}]}}
    f = tmp_path / "p.json"
    f.write_text(json.dumps(pod))
    cluster.kubectl("apply", "-n", ns, "-f", f)
    pod["spec"]["containers"][1]["image"] = "busybox:2"
    f.write_text(json.dumps(pod))
    assert cluster.kubectl("apply", "-n", ns, "-f", f).stdout.strip() == \
        "pod/p configured"
    got = json.loads(cluster.kubectl("get", "pod", "p", "-n", ns, "-o", "json").stdout)
    assert [(c["name"], c["image"]) for c in got["spec"]["containers"]] == \
        [("a", "busybox:1"), ("b", "busybox:2")]
    # the server-side defaults survive the merge
    assert all(c["terminationMessagePath"] == "/dev/termination-log"
               for c in got["spec"]["containers"])


def test_label_and_annotate(cluster, ns):
    assert cluster.kubectl("label", "ns", ns, "team=ml").stdout.strip() == \
        "namespace/%s labeled" % ns
    cluster.kubectl("annotate", "ns", ns, "owner=alice@company.com")
    cluster.kubectl("create", "cm", "c", "-n", ns)
    cluster.kubectl("label", "cm", "c", "-n", ns, "x=1")
    r = cluster.kubectl("label", "cm", "c", "-n", ns, "x=2", check=False)
    assert r.returncode != 0 and "already has a value (1)" in r.stderr
    cluster.kubectl("label", "cm", "c", "-n", ns, "x=2", "--overwrite")
    obj = json.loads(cluster.kubectl("get", "ns", ns, "-o", "json").stdout)
    assert obj["metadata"]["labels"]["team"] == "ml"
    assert obj["metadata"]["annotations"] == {"owner": "alice@company.com"}
    cluster.kubectl("label", "ns", ns, "team-")
    obj = json.loads(cluster.kubectl("get", "ns", ns, "-o", "json").stdout)
    assert "team" not in obj["metadata"]["labels"]
    assert json.loads(cluster.kubectl("get", "cm", "c", "-n", ns, "-o", "json")
                      .stdout)["metadata"]["labels"] == {"x": "2"}
    r = cluster.kubectl("label", "ns", ns, "bad key=1", check=False)
    assert r.returncode != 0


def test_already_exists(cluster, ns):
    r = cluster.kubectl("create", "namespace", ns, check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == \
        'Error from server (AlreadyExists): namespaces "%s" already exists' % ns
    cluster.kubectl("create", "cm", "dup", "-n", ns)
    r = cluster.kubectl("create", "cm", "dup", "-n", ns, check=False)
    # kubectl wraps the Status of this generator's error in its own words
    assert r.stderr.strip() == \
        'error: failed to create configmap: configmaps "dup" already exists'
    cluster.kubectl("create", "role", "r", "-n", ns, "--verb=get", "--resource=pods")
    r = cluster.kubectl("create", "role", "r", "-n", ns, "--verb=get",
                        "--resource=pods", check=False)
    assert r.stderr.strip() == ('Error from server (AlreadyExists): '
                                'roles.rbac.authorization.k8s.io "r" already exists')


def test_invalid_names(cluster, tmp_path):
    r = cluster.kubectl("create", "namespace", "Bad_Name", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
        "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',"
        "  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    r = cluster.kubectl("create", "namespace", "x" * 64, check=False)
    assert "must be no more than 63 characters" in r.stderr
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok-name\n"
                 "  namespace: default\n  labels:\n    'bad key': 'bad value!'\n")
    r = cluster.kubectl("create", "-f", f, check=False)
    assert r.returncode == 1
    assert 'The ConfigMap "ok-name" is invalid: ' in r.stderr
    assert 'metadata.labels: Invalid value: "bad key": name part must consist of ' \
        "alphanumeric characters" in r.stderr
    assert 'metadata.labels: Invalid value: "bad value!": a valid label must be an ' \
        "empty string or consist of alphanumeric characters" in r.stderr
    f.write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n"
                 "  name: a/b\n  namespace: default\n")
    r = cluster.kubectl("create", "-f", f, check=False)
    assert "metadata.name: Invalid value: \"a/b\": may not contain '/'" in r.stderr


def test_unknown_field_rejected_under_strict_validation(cluster, ns, tmp_path):
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\n"
                 "data: {a: b}\nspec:\n  foo: 1\n")
    for verb in ("create", "apply"):
        r = cluster.kubectl(verb, "-n", ns, "-f", f, check=False)
        assert r.returncode == 1
        assert ('Error from server (BadRequest): error when creating "%s": ConfigMap in '
                'version "v1" cannot be handled as a ConfigMap: strict decoding error: '
                'unknown field "spec"' % f) in r.stderr
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
                 "  containers:\n  - name: c\n    image: busybox\n    imagePullPolcy: x\n")
    r = cluster.kubectl("apply", "-n", ns, "-f", f, check=False)
    assert 'unknown field "spec.containers[0].imagePullPolcy"' in r.stderr
    # --validate=false sends fieldValidation=Ignore: dropped silently
    r = cluster.kubectl("apply", "-n", ns, "-f", f, "--validate=false")
    assert r.stdout.strip() == "pod/p created"
    # the default of other clients is Warn: dropped with a warning
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: warned\n"
                 "bogus: 1\n")
    r = cluster.kubectl("create", "-n", ns, "-f", f, "--validate=warn")
    assert 'Warning: unknown field "bogus"' in r.stderr


def test_delete_namespace_removes_its_objects(cluster, tmp_path):
    name = unique("gone")
    cluster.kubectl("create", "ns", name)
    f = tmp_path / "all.yaml"
    f.write_text(MULTI_DOC)
    cluster.kubectl("apply", "-n", name, "-f", f)
    r = cluster.kubectl("delete", "ns", name)
    assert r.stdout.strip() == 'namespace "%s" deleted' % name
    r = cluster.kubectl("get", "ns", name, check=False)
    assert r.stderr.strip() == \
        'Error from server (NotFound): namespaces "%s" not found' % name
    r = cluster.kubectl("get", "all,cm,secret,sa,quota,role,rolebinding,netpol", "-n",
                        name, "-o", "name")
    assert r.stdout.strip() == ""
    status, body = cluster.api("GET", "/api/v1/namespaces/%s/configmaps" % name)
    assert status == 200 and body["items"] == []
    # creating in a namespace that does not exist
    r = cluster.kubectl("create", "cm", "x", "-n", name, check=False)
    assert r.stderr.strip() == \
        'error: failed to create configmap: namespaces "%s" not found' % name


def test_get_output_formats(cluster, ns):
    cluster.kubectl("create", "cm", "one", "-n", ns, "--from-literal=k=v")
    lines = cluster.kubectl("get", "cm", "-n", ns).stdout.splitlines()
    assert lines[0].split() == ["NAME", "DATA", "AGE"]
    assert [line.split()[:2] for line in lines[1:]] == [["kube-root-ca.crt", "1"],
                                                       ["one", "1"]]
    wide = cluster.kubectl("get", "ns", ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "STATUS", "AGE"]
    all_ns = cluster.kubectl("get", "cm", "-A").stdout.splitlines()
    assert all_ns[0].split() == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert any(line.split()[:2] == [ns, "one"] for line in all_ns)
    y = cluster.kubectl("get", "cm", "one", "-n", ns, "-o", "yaml").stdout
    assert "kind: ConfigMap" in y and "k: v" in y
    assert cluster.kubectl("get", "cm", "one", "-n", ns, "-o",
                           "jsonpath={.data.k}").stdout == "v"
    lst = json.loads(cluster.kubectl("get", "cm", "-n", ns, "-o", "json").stdout)
    assert lst["kind"] == "List" and len(lst["items"]) == 2
    pods = cluster.kubectl("get", "pods", "-n", ns, check=False)
    assert pods.stderr.strip() == "No resources found in %s namespace." % ns
    r = cluster.kubectl("get", "cm", "nope", "-n", ns, check=False)
    assert r.stderr.strip() == 'Error from server (NotFound): configmaps "nope" not found'


def test_dry_run_server_changes_nothing(cluster):
    name = unique("dry")
    r = cluster.kubectl("create", "ns", name, "--dry-run=server", "-o", "json")
    assert json.loads(r.stdout)["metadata"]["name"] == name
    assert cluster.kubectl("get", "ns", name, check=False).returncode == 1


def test_credential_contexts(cluster):
    expected = {"admin": "admin", "cert": "cert-user", "tokenfile": "tokenfile-user",
                "exec": "exec-user", "alice": "alice@company.com",
                "bob": "bob@company.com"}
    for context, user in expected.items():
        r = cluster.kubectl("auth", "whoami", "-o", "json", context=context)
        info = json.loads(r.stdout)["status"]["userInfo"]
        assert info["username"] == user
        assert "system:authenticated" in info["groups"]
    cert = json.loads(cluster.kubectl("auth", "whoami", "-o", "json",
                                      context="cert").stdout)
    assert cert["status"]["userInfo"]["groups"] == ["dev-group", "system:authenticated"]
    for context in ("admin", "cert", "tokenfile", "exec"):
        r = cluster.kubectl("get", "ns", "default", "-o", "name", context=context)
        assert r.stdout.strip() == "namespace/default"


def test_bad_token_is_unauthorized(cluster):
    r = cluster.kubectl("get", "ns", "--token", "not-a-token", check=False)
    assert r.returncode == 1
    assert r.stderr.strip().endswith("error: You must be logged in to the server "
                                     "(Unauthorized)")
    status, body = cluster.api("GET", "/api/v1/namespaces", user=None)
    assert status == 401
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure", "message": "Unauthorized",
                    "reason": "Unauthorized", "code": 401}


def test_rbac_for_non_admins_and_impersonation(cluster, ns):
    r = cluster.kubectl("get", "cm", "-n", ns, context="alice", check=False)
    assert r.stderr.strip() == (
        'Error from server (Forbidden): configmaps is forbidden: User '
        '"alice@company.com" cannot list resource "configmaps" in API group "" in the '
        'namespace "%s"' % ns)
    assert cluster.kubectl("auth", "can-i", "list", "configmaps", "-n", ns,
                           context="alice", check=False).stdout.strip() == "no"
    cluster.kubectl("create", "rolebinding", "alice-edit", "-n", ns, "--clusterrole=edit",
                    "--user=alice@company.com")
    r = cluster.kubectl("get", "cm", "-n", ns, "-o", "name", context="alice")
    assert "configmap/kube-root-ca.crt" in r.stdout
    assert cluster.kubectl("auth", "can-i", "create", "configmaps", "-n", ns,
                           "--as", "alice@company.com").stdout.strip() == "yes"
    assert cluster.kubectl("auth", "can-i", "create", "roles", "-n", ns,
                           "--as", "alice@company.com", check=False).stdout.strip() == "no"
    r = cluster.kubectl("get", "cm", "-n", ns, "--as", "bob@company.com", check=False)
    assert 'User "bob@company.com" cannot list resource "configmaps"' in r.stderr
    r = cluster.kubectl("get", "ns", "--as", "admin", context="bob", check=False)
    assert 'users "admin" is forbidden: User "bob@company.com" cannot impersonate ' \
        'resource "users" in API group "" at the cluster scope' in r.stderr


def test_get_watch_prints_changes(cluster, ns):
    proc = subprocess.Popen(
        ["/usr/bin/kubectl", "--cache-dir", str(cluster.cache_dir), "get", "cm", "-n",
         ns, "-w", "--output-watch-events", "--request-timeout=10s"],
        env=cluster.environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True
                     ).start()
    rows = []

    def until(name, typ):
        while True:
            row = lines.get(timeout=10).split()[:2]
            if row[0] != "EVENT":
                rows.append(row)
            if row == [typ, name]:
                return
    try:
        until("kube-root-ca.crt", "ADDED")
        time.sleep(0.2)  # the watch follows the initial list
        cluster.kubectl("create", "cm", "watched", "-n", ns)
        cluster.kubectl("label", "cm", "watched", "-n", ns, "a=b")
        cluster.kubectl("delete", "cm", "watched", "-n", ns)
        until("watched", "DELETED")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert rows == [["ADDED", "kube-root-ca.crt"], ["ADDED", "watched"],
                    ["MODIFIED", "watched"], ["DELETED", "watched"]]


def test_describe_and_api_resources(cluster, ns):
    r = cluster.kubectl("describe", "ns", ns)
    assert "Status:       Active" in r.stdout
    r = cluster.kubectl("api-resources", "--namespaced=true", "-o", "name")
    for res in ("configmaps", "pods", "roles.rbac.authorization.k8s.io",
                "leases.coordination.k8s.io", "flyteworkflows.flyte.lyft.com",
                "networkpolicies.networking.k8s.io"):
        assert res in r.stdout.split()
    assert "rbac.authorization.k8s.io/v1" in cluster.kubectl("api-versions").stdout


def test_flyteworkflow_custom_resource(cluster, ns, tmp_path):
    f = tmp_path / "fw.yaml"
    f.write_text("apiVersion: flyte.lyft.com/v1alpha1\nkind: FlyteWorkflow\n"
                 "metadata:\n  name: wf1\n  labels: {project: p, domain: development}\n"
                 "spec: {anything: [1, 2]}\nexecutionId: {project: p}\n")
    assert cluster.kubectl("apply", "-n", ns, "-f", f).stdout.strip() == \
        "flyteworkflow.flyte.lyft.com/wf1 created"
    assert cluster.kubectl("apply", "-n", ns, "-f", f).stdout.strip() == \
        "flyteworkflow.flyte.lyft.com/wf1 unchanged"
    obj = json.loads(cluster.kubectl("get", "fly", "wf1", "-n", ns, "-o", "json").stdout)
    assert obj["spec"] == {"anything": [1, 2]} and obj["metadata"]["generation"] == 1
    cluster.kubectl("label", "flyteworkflow", "wf1", "-n", ns, "x=y")
    assert cluster.kubectl("get", "flyteworkflows", "-n", ns, "-l", "x=y", "-o",
                           "name").stdout.strip() == "flyteworkflow.flyte.lyft.com/wf1"


def test_quota_is_enforced_and_limit_ranges_default(cluster, ns, tmp_path):
    cluster.kubectl("create", "quota", "small", "-n", ns,
                    "--hard=pods=2,requests.cpu=1,limits.memory=1Gi")

    def run(name, resources=None):
        spec = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
        if resources:
            spec["containers"][0]["resources"] = resources
        return cluster.kubectl("run", name, "-n", ns, "--image=busybox:1.36",
                               "--overrides", json.dumps({"spec": spec}), check=False)
    r = run("bare")
    assert r.stderr.strip() == (
        'Error from server (Forbidden): pods "bare" is forbidden: failed quota: small: '
        'must specify limits.memory for: main; requests.cpu for: main')
    big = {"limits": {"cpu": "600m", "memory": "512Mi"}}
    assert run("one", big).returncode == 0
    r = run("two", big)
    assert r.stderr.strip() == (
        'Error from server (Forbidden): pods "two" is forbidden: exceeded quota: small, '
        'requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1')
    f = tmp_path / "lr.yaml"
    f.write_text("apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\nspec:\n"
                 "  limits:\n  - type: Container\n    default: {cpu: 100m, memory: 64Mi}\n")
    cluster.kubectl("apply", "-n", ns, "-f", f)
    assert run("three").returncode == 0
    pod = json.loads(cluster.kubectl("get", "pod", "three", "-n", ns, "-o",
                                     "json").stdout)
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "100m", "memory": "64Mi"},
        "requests": {"cpu": "100m", "memory": "64Mi"}}
    quota = json.loads(cluster.kubectl("get", "quota", "small", "-n", ns, "-o",
                                       "json").stdout)
    assert quota["status"]["used"] == {"pods": "2", "requests.cpu": "700m",
                                       "limits.memory": "576Mi"}
    assert run("four", big).returncode == 1  # pods: 2/2


def test_server_side_apply(cluster, ns, tmp_path):
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\n"
                 "data: {a: '1'}\n")
    r = cluster.kubectl("apply", "--server-side", "-n", ns, "-f", f)
    assert r.stdout.strip() == "configmap/ssa serverside-applied"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\n"
                 "data: {a: '2', b: '3'}\n")
    cluster.kubectl("apply", "--server-side", "-n", ns, "-f", f)
    cm = json.loads(cluster.kubectl("get", "cm", "ssa", "-n", ns, "-o", "json").stdout)
    assert cm["data"] == {"a": "2", "b": "3"}
