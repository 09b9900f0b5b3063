"""End-to-end: kubectl's command-line conventions in the plugin, through the
real kubectl and the real binaries against a local cluster of this module's
own: -o table|json|yaml|name, --dry-run, arguments and flags in any order,
completion (kubectl_complete-workspace run directly, as kubectl runs it),
members named by e-mail, and the krew manifest's caveats.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cluster"))
from kube_cluster import ROOT, private_cluster  # noqa: E402
from test_plugin import (ID, NS, SYS, absent, clean_faults, complete, create_seed,  # noqa: E402,F401
                         flyte_get, get, one_line_error, snapshot, ws)


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    yield from private_cluster(tmp_path_factory, bin_dir, "cli-conventions-cluster")


@pytest.fixture(scope="module")
def seed(c):
    create_seed(c)
    return ID


# ---- -o table|json|yaml|name ---------------------------------------------------------

def test_output_table_is_the_default_output(c, seed):
    assert ws(c, "list", "-o", "table").stdout == ws(c, "list").stdout
    assert ws(c, "list", "-otable").stdout == ws(c, "list").stdout
    assert ws(c, "describe", seed, "--output=table").stdout == ws(c, "describe", seed).stdout
    assert ws(c, "version", "-o", "table").stdout == ws(c, "version").stdout
    r = ws(c, "create", "Tabled", "--owner", "alice@company.com", "--dry-run=client", "-o", "table")
    assert "(dry run: nothing was created)" in r.stdout
    # commands without -o refuse table too, in one line
    for args in (["delete", seed, "--yes"], ["tier", seed, "large"],
                 ["member", "add", seed, "zoe", "viewer"]):
        line = one_line_error(ws(c, *args, "-o", "table", check=False))
        assert "invalid --output 'table': this command has no -o" in line, line
    line = one_line_error(ws(c, "version", "-o", "wide", check=False))
    assert "invalid --output 'wide': use one of json|yaml|table" in line, line


def test_describe_output_name(c, seed):
    r = ws(c, "describe", seed, "-o", "name")
    assert r.stdout == "workspace/%s\n" % seed
    assert "not found" in one_line_error(ws(c, "describe", "ws-nope-001", "-o", "name",
                                            check=False))


def test_describe_json_names_where(c, seed):
    doc = json.loads(ws(c, "describe", seed, "-o", "json").stdout)
    assert {"object", "where", "state"} <= set(doc["objects"][0])


def test_env_output_is_a_map(c, seed, tmp_path):
    host = c.env["FLYTE_PLATFORM_URL"].split("://", 1)[1]
    want = {"FLYTE_DEFAULT_PROJECT": seed, "FLYTE_DEFAULT_DOMAIN": "staging",
            "FLYTE_PLATFORM_URL": host, "FLYTE_PLATFORM_INSECURE": "false"}
    if c.env.get("FLYTE_PLATFORM_CA_CERT_FILE_PATH"):
        want["FLYTE_PLATFORM_CA_CERT_FILE_PATH"] = c.env["FLYTE_PLATFORM_CA_CERT_FILE_PATH"]
    assert json.loads(ws(c, "env", seed, "--domain", "staging", "-o", "json").stdout) == want
    cfg = tmp_path / "config.yaml"
    r = ws(c, "env", seed, "--domain", "staging", "-o", "yaml", "--write-config", str(cfg))
    assert yaml.safe_load(r.stdout) == want  # the "# wrote" note goes to stderr
    assert "# wrote" in r.stderr and cfg.exists()
    assert ws(c, "env", seed, "-o", "table").stdout == ws(c, "env", seed).stdout


def test_doctor_output_is_data_and_keeps_its_exit_code(c, seed):
    r = ws(c, "doctor", seed, "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["drift"] == 0
    assert [w["workspace"] for w in doc["workspaces"]] == [seed]
    assert doc["workspaces"][0]["drift"] == 0
    # drift: a member's binding goes missing
    binding = "%s-bob-binding" % seed
    status, _ = c.api("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings/%s"
                      % (NS, binding))
    assert status == 200
    r = ws(c, "doctor", seed, "-o", "yaml", check=False)
    assert r.returncode == 1
    doc = yaml.safe_load(r.stdout)
    assert doc["drift"] >= 1
    (w,) = doc["workspaces"]
    items = {i["object"]: i for i in w["items"]}
    item = items["rolebinding/" + binding]
    assert item["where"] == NS and item["state"] != "ok" and "fixed" not in w
    # --fix: progress on stderr, the state after the fix on stdout
    r = ws(c, "doctor", seed, "--fix", "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["drift"] == 0 and doc["workspaces"][0]["fixed"] is True
    assert "fixing " + seed in r.stderr
    get(c, "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings/%s" % (NS, binding))
    # the text output did not change
    assert ws(c, "doctor", seed, "-o", "table").stdout == ws(c, "doctor", seed).stdout


def test_doctor_fails_when_it_could_not_check(c, seed, clean_faults):
    # an object that cannot be read is not drift, but the workspace is not known clean
    c.fault("apiserver", method="GET", path=r"/namespaces/%s$" % NS, status=403, count=1,
            message="injected fault at read")
    r = ws(c, "doctor", seed, check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "%s: no drift found, but 1 could not be checked" % seed in r.stdout
    assert "injected fault at read" in r.stdout
    c.fault("apiserver", method="GET", path=r"/namespaces/%s$" % NS, status=403, count=1,
            message="injected fault at read")
    r = ws(c, "doctor", seed, "-o", "json", check=False)
    assert r.returncode == 1
    (w,) = json.loads(r.stdout)["workspaces"]
    assert w["drift"] == 0 and w["unchecked"] == 1
    assert ws(c, "doctor", seed).returncode == 0


# ---- --dry-run ---------------------------------------------------------------------------

def test_delete_client_dry_run_changes_nothing(c, seed):
    before = snapshot(c)
    # no --yes and no terminal: a dry run needs no confirmation
    r = ws(c, "delete", seed, "--dry-run=client")
    assert r.stdout.splitlines() == [
        "namespace/%s deleted (dry run)" % NS,
        "flyte project/%s archived (dry run; Flyte cannot delete projects)" % seed,
        "configmap/%s deleted (dry run; the record, in namespace %s)" % (seed, SYS),
        "workspace/%s deleted (dry run)" % seed]
    assert ws(c, "delete", seed, "--dry-run").stdout == r.stdout
    assert snapshot(c) == before
    assert flyte_get(c, "/api/v1/projects/" + seed)["state"] == "ACTIVE"
    assert "not found" in one_line_error(ws(c, "delete", "ws-nope-001", "--dry-run=client",
                                            check=False))


def test_dry_run_refusals_are_one_line(c, seed):
    line = one_line_error(ws(c, "delete", seed, "--dry-run=maybe", "--yes", check=False))
    assert "invalid --dry-run 'maybe': use none, client or server" in line
    for cmd in (["list"], ["describe", seed], ["env", seed], ["doctor"], ["tier", seed, "large"]):
        line = one_line_error(ws(c, *cmd, "--dry-run=client", check=False))
        assert "unknown flag: --dry-run ('%s' has no dry run)" % cmd[0] in line, line
    assert not absent(c, "/api/v1/namespaces/" + NS)


# ---- arguments --------------------------------------------------------------------------

def test_version_refuses_arguments(c):
    r = ws(c, "version", "extra", check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert "version takes no arguments" in one_line_error(r)


def test_global_flags_before_the_subcommand(c, seed):
    r = ws(c, "--context", "admin", "-o", "name", "list")
    assert "workspace/%s" % seed in r.stdout.splitlines()
    r = ws(c, "--context", "admin", "--help")
    assert "Available Commands:" in r.stdout
    r = ws(c, "--context", "admin", check=False)
    assert r.returncode != 0 and "Available Commands:" in r.stderr


# ---- completion ---------------------------------------------------------------------------

def test_completion_values(c, seed):
    roles = ["owner", "contributor", "viewer"]
    assert complete(c, "create", "X", "--member", "bob=") == ["bob=" + r for r in roles]
    assert complete(c, "create", "X", "--member", "bob=c") == ["bob=contributor"]
    assert complete(c, "create", "--member=bob=v") == ["--member=bob=viewer"]
    assert complete(c, "create", "X", "--member", "bo") == []
    assert complete(c, "create", "X", "--tier=") == ["--tier=small", "--tier=standard",
                                                     "--tier=large"]
    assert complete(c, "create", "X", "--tier", "s") == ["small", "standard"]
    assert complete(c, "tier", seed, "l") == ["large"]
    assert complete(c, "create", "X", "--dry-run=") == ["--dry-run=none", "--dry-run=client",
                                                        "--dry-run=server"]
    assert complete(c, "delete", seed, "--dry-run=c") == ["--dry-run=client"]
    assert complete(c, "env", seed, "--domain", "") == ["development", "staging", "production"]
    assert complete(c, "env", seed, "--domain=p") == ["--domain=production"]
    # a flag's value is not taken for an argument
    assert complete(c, "env", "--domain", "staging", "ws-customer") == [seed]


def test_completion_contexts(c, tmp_path):
    contexts = [x["name"] for x in yaml.safe_load(Path(c.env["KUBECONFIG"]).read_text())
                ["contexts"]]
    assert complete(c, "list", "--context", "") == contexts
    assert complete(c, "--context=") == ["--context=" + x for x in contexts]
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config",
                                     "contexts": [{"name": "elsewhere", "context": {}}]}))
    assert complete(c, "--kubeconfig", str(other), "list", "--context", "") == ["elsewhere"]


def test_completion_after_global_flags(c, seed):
    # global flags before the subcommand, as kubectl allows
    assert complete(c, "--context", "admin", "describe", "ws-customer") == [seed]
    assert complete(c, "-n", SYS, "des") == ["describe"]
    assert complete(c, "--context", "admin", "member", "remove", seed, "") == ["alice", "bob"]


def test_completion_offers_only_accepted_flags(c):
    for cmd in ("delete", "tier", "member"):
        assert "--output" not in complete(c, cmd, "--"), cmd
        assert complete(c, cmd, "x", "-o", "") == [], cmd
    for cmd in ("list", "describe", "create", "env", "doctor", "version"):
        assert "--output" in complete(c, cmd, "--"), cmd
    assert complete(c, "describe", "-o", "") == ["json", "yaml", "name", "table"]
    assert complete(c, "doctor", "-o", "") == ["json", "yaml", "table"]
    assert complete(c, "delete", "--d") == ["--dry-run"]
    assert "--dry-run" not in complete(c, "list", "--")
    # file flags leave completion to the shell (directive 0: files)
    r = c.run([str(c.bin_dir / "kubectl_complete-workspace"), "env", "--write-config", ""])
    assert r.stdout.splitlines() == [":0"]


# ---- members named by e-mail ----------------------------------------------------------------

def test_member_named_by_email(c):
    ws(c, "create", "Mail Names", "--owner", "alice@company.com", "--member",
       "bob=contributor:bob@company.com", "--yes")
    wid = "ws-mail-names-001"
    ns = "flyte-" + wid
    path = "/api/v1/namespaces/%s/configmaps/%s" % (SYS, wid)
    ws(c, "member", "set-role", wid, "bob@company.com", "viewer")
    users = json.loads(get(c, path)["data"]["workspace.json"])["users"]
    assert {u["user_id"]: u["role"] for u in users} == {"alice": "owner", "bob": "viewer"}
    # the owner was recorded as 'alice' from --owner alice@company.com
    line = one_line_error(ws(c, "member", "set-role", wid, "alice@company.com", "viewer",
                             check=False))
    assert "last owner" in line, line
    ws(c, "member", "remove", wid, "bob@company.com")
    users = json.loads(get(c, path)["data"]["workspace.json"])["users"]
    assert [u["user_id"] for u in users] == ["alice"]
    assert absent(c, "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings/%s-bob-binding"
                  % (ns, wid))
    line = one_line_error(ws(c, "member", "remove", wid, "carol@company.com", check=False))
    assert "not a member" in line, line
    ws(c, "delete", wid, "--yes")


# ---- krew -----------------------------------------------------------------------------------

def test_krew_caveats_name_runtime_packages_and_completion(tmp_path, bin_dir):
    r = subprocess.run(["plugin/dist.sh", "9.9.9", str(tmp_path)], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, KW_BIN_DIR=str(bin_dir)))
    assert r.returncode == 0, r.stderr
    caveats = yaml.safe_load((tmp_path / "workspace.yaml").read_text())["spec"]["caveats"]
    for pkg in ("libcurl4", "libcjson1", "libyaml-0-2"):
        assert pkg in caveats, pkg
    assert 'ln -sf "${KREW_ROOT:-$HOME/.krew}/bin/kubectl-workspace"' in caveats
    assert '"${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-workspace"' in caveats
    # every shared library the binary needs is one the caveats name, or libc6's
    # (libc, and libm: clang calls floor() there where gcc inlines it)
    needed = subprocess.run(["readelf", "-d", str(bin_dir / "kubectl-workspace")],
                            capture_output=True, text=True, check=True).stdout
    libs = {l.split("[", 1)[1].rstrip("]") for l in needed.splitlines() if "(NEEDED)" in l}
    named = {"libcurl.so.4", "libcjson.so.1", "libyaml-0.so.2", "libc.so.6", "libm.so.6"}
    assert libs <= named, libs - named
