"""The data scientist's path end to end: `kubectl workspace create` -> `env` -> a
pyflyte-like client (tests/cluster/flyte_client.py: gRPC stubs from flyteidl, given
only what `env` printed) registers a task, a workflow and a launch plan and runs it
with no project flag. The execution must land in the workspace's project, and its
FlyteWorkflow and Pod in flyte-<id> must run as the runner service account, with the
FLYTE_* variables injected by the real webhook (registered as tests/webhook/test_e2e.py
does). Failures answer with flyteadmin's messages.

Runs on a cluster of its own: its webhooks must not reach other suites.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cluster"))
sys.path.insert(0, str(HERE.parent / "webhook"))
from kube_cluster import CLUSTER_DIR, private_cluster  # noqa: E402
from whlib import install  # noqa: E402

import flyteidl_build  # noqa: E402

flyteidl_build.import_path()  # no gRPC code is a failure here, not a skip
import grpc  # noqa: E402
from flyteidl.admin import execution_pb2  # noqa: E402
from flyteidl.core import execution_pb2 as core_exec_pb2, identifier_pb2  # noqa: E402
from flyteidl.service import admin_pb2_grpc  # noqa: E402

pytestmark = pytest.mark.emulator_only

CLIENT = CLUSTER_DIR / "flyte_client.py"
ID = "ws-churn-model-001"
NS = "flyte-" + ID
RUNNER = "flyte-%s-runner" % ID


@pytest.fixture(scope="module")
def c(tmp_path_factory, bin_dir):
    yield from private_cluster(tmp_path_factory, bin_dir, "datascientist-cluster")


@pytest.fixture(scope="module")
def webhook(c, tmp_path_factory):
    """The real webhook, registered from the deploy manifests (as tests/webhook/test_e2e.py)."""
    w, _, _ = install(c, tmp_path_factory.mktemp("ds-webhook"), c.env["FLYTE_PLATFORM_URL"], {
        ("", "Namespace"), ("", "ServiceAccount"), ("", "ConfigMap"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")})
    yield w
    w.stop()


@pytest.fixture(scope="module")
def platform_file(c, tmp_path_factory):
    """The operator names the CA of Flyte Admin's certificate in the platform config;
    the plugin's own environment does not carry it."""
    f = tmp_path_factory.mktemp("ds-platform") / "platform.yaml"
    f.write_text(yaml.safe_dump({"flyte": {"caCertFile": c.env["KUBE_CA_FILE"]}}))
    return f


def ws(c, platform_file, *args, check=True):
    env = {"WORKSPACE_PLATFORM_CONFIG": str(platform_file), "FLYTE_PLATFORM_CA_CERT_FILE_PATH": ""}
    return c.kubectl("workspace", *args, check=check, env=env)


@pytest.fixture(scope="module")
def workspace(c, webhook, platform_file):
    r = ws(c, platform_file, "create", "Churn Model", "--owner", "alice@company.com",
           "--service", "flyte", "--yes")
    assert 'eval "$(kubectl workspace env %s)"' % ID in r.stdout
    assert "pyflyte run --remote" in r.stdout
    return ID


def client(home, shell_setup, *args, timeout=90):
    """The client in a shell that has only PATH, HOME and what shell_setup sets."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    script = '%s\nexec /usr/bin/python3 "%s" register-and-run "$@"' % (shell_setup, CLIENT)
    return subprocess.run(["sh", "-c", script, "sh"] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def env_of(c, platform_file, workspace_id):
    return ws(c, platform_file, "env", workspace_id).stdout


def execution_name(out):
    line = next(x for x in out.splitlines() if x.startswith("execution "))
    return line.split()[1]


def admin_stub(c):
    host = c.env["FLYTE_PLATFORM_URL"].split("://", 1)[1]
    creds = grpc.ssl_channel_credentials(open(c.env["KUBE_CA_FILE"], "rb").read())
    return admin_pb2_grpc.AdminServiceStub(grpc.secure_channel(host, creds))


def wait_phase(c, name, deadline=30):
    stub = admin_stub(c)
    ident = identifier_pb2.WorkflowExecutionIdentifier(project=ID, domain="development",
                                                       name=name)
    end = time.monotonic() + deadline
    while True:
        e = stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
        if e.closure.phase != core_exec_pb2.WorkflowExecution.QUEUED or time.monotonic() > end:
            return e
        time.sleep(0.1)


def test_env_names_what_pyflyte_needs(c, platform_file, workspace):
    out = env_of(c, platform_file, workspace)
    host = c.env["FLYTE_PLATFORM_URL"].split("://", 1)[1]
    assert "export FLYTE_DEFAULT_PROJECT=%s\n" % ID in out
    assert "export FLYTE_PLATFORM_URL='%s'\n" % host in out
    assert "export FLYTE_PLATFORM_INSECURE=false\n" in out
    assert "export FLYTE_PLATFORM_CA_CERT_FILE_PATH='%s'\n" % c.env["KUBE_CA_FILE"] in out


def test_journey_runs_in_the_workspace_project(c, platform_file, workspace, tmp_path):
    r = client(tmp_path, 'eval "$(cat <<\'EOF\'\n%s\nEOF\n)"' % env_of(c, platform_file, ID))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "registered task demo.hello.say_hello" in r.stdout
    assert "registered launch plan demo.hello.wf" in r.stdout
    name = execution_name(r.stdout)
    host = c.env["FLYTE_PLATFORM_URL"].split("://", 1)[1]
    assert "Go to https://%s/console/projects/%s/domains/development/executions/%s" % (
        host, ID, name) in r.stdout

    e = wait_phase(c, name)
    assert e.closure.phase == core_exec_pb2.WorkflowExecution.RUNNING, e.closure
    assert e.id.project == ID
    assert e.spec.security_context.run_as.k8s_service_account == RUNNER
    assert e.spec.raw_output_data_config.output_location_prefix == "s3://%s-data" % ID

    fw = json.loads(c.kubectl("get", "flyteworkflows", name, "-n", NS, "-o", "json").stdout)
    assert fw["metadata"]["labels"]["project"] == ID
    assert fw["executionId"] == {"project": ID, "domain": "development", "name": name}
    assert fw["securityContext"]["run_as"]["k8s_service_account"] == RUNNER
    assert fw["rawOutputDataConfig"]["OutputLocationPrefix"] == "s3://%s-data" % ID

    pod = json.loads(c.kubectl("get", "pod", name + "-n0-0", "-n", NS, "-o", "json").stdout)
    assert pod["spec"]["serviceAccountName"] == RUNNER
    env = {v["name"]: v.get("value") for v in pod["spec"]["containers"][0]["env"]}
    # injected by the webhook: the emulated propeller does not set these
    assert env["FLYTE_DEFAULT_PROJECT"] == ID
    assert env["FLYTE_DEFAULT_DOMAIN"] == "development"
    assert env["FLYTE_PLATFORM_URL"] == c.env["FLYTE_PLATFORM_URL"]
    assert env["FLYTE_INTERNAL_EXECUTION_PROJECT"] == ID
    assert pod["metadata"]["labels"]["workspace-id"] == ID  # tenant label, also the webhook's
    assert any(a.startswith("s3://%s-data/" % ID) for a in pod["spec"]["containers"][0]["args"])


def test_reregistering_the_same_version_is_harmless(c, platform_file, workspace, tmp_path):
    setup = 'eval "$(cat <<\'EOF\'\n%s\nEOF\n)"' % env_of(c, platform_file, ID)
    first = client(tmp_path, setup, "--version", "v2")
    assert first.returncode == 0, first.stderr
    again = client(tmp_path, setup, "--version", "v2")
    assert again.returncode == 0, again.stderr
    for what in ("task demo.hello.say_hello", "workflow demo.hello.wf",
                 "launch plan demo.hello.wf"):
        assert "%s already registered" % what in again.stdout
    assert execution_name(again.stdout) != execution_name(first.stdout)
    assert wait_phase(c, execution_name(again.stdout)).closure.phase == \
        core_exec_pb2.WorkflowExecution.RUNNING


def test_written_config_plus_project_variable(c, platform_file, workspace, tmp_path):
    cfg = tmp_path / "config.yaml"
    ws(c, platform_file, "env", ID, "--write-config", cfg)
    text = cfg.read_text()
    assert "FLYTE_DEFAULT_PROJECT" in text.split("admin:")[0]  # the comment says so
    assert yaml.safe_load(text)["admin"]["caCertFilePath"] == c.env["KUBE_CA_FILE"]
    setup = "export FLYTECTL_CONFIG='%s'" % cfg
    r = client(tmp_path, setup + "\nexport FLYTE_DEFAULT_PROJECT=%s" % ID, "--version", "v3")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in project %s domain development" % ID in r.stdout
    # the file alone: pyflyte's default project, which Flyte Admin does not know
    r = client(tmp_path, setup, "--version", "v3")
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "INVALID_ARGUMENT: failed to validate that project [flytesnacks] and domain "
        "[development] are registered, err: [project [flytesnacks] not found]")
    # pyflyte reads a file not named *.yaml / *.yml as INI: refused, nothing written
    r = ws(c, platform_file, "env", ID, "--write-config", tmp_path / "config", check=False)
    assert r.returncode != 0 and "must end in .yaml or .yml" in r.stderr
    assert not (tmp_path / "config").exists()


def test_misspelt_project_and_unknown_domain(c, platform_file, workspace, tmp_path):
    setup = 'eval "$(cat <<\'EOF\'\n%s\nEOF\n)"' % env_of(c, platform_file, ID)
    r = client(tmp_path, setup + "\nexport FLYTE_DEFAULT_PROJECT=ws-churn-modle-001")
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "INVALID_ARGUMENT: failed to validate that project [ws-churn-modle-001] and domain "
        "[development] are registered, err: [project [ws-churn-modle-001] not found]")
    r = client(tmp_path, setup + "\nexport FLYTE_DEFAULT_DOMAIN=qa")
    assert r.returncode == 1
    assert r.stderr.strip() == "INVALID_ARGUMENT: domain [qa] is unrecognized by system"


def test_deleted_workspace_refuses_registration(c, platform_file, webhook, tmp_path):
    gone = "ws-old-model-001"
    ws(c, platform_file, "create", "Old Model", "--owner", "alice@company.com",
       "--service", "flyte", "--yes")
    setup = 'eval "$(cat <<\'EOF\'\n%s\nEOF\n)"' % env_of(c, platform_file, gone)
    ws(c, platform_file, "delete", gone, "--yes")
    r = client(tmp_path, setup)
    assert r.returncode == 1
    assert r.stderr.strip() == "INVALID_ARGUMENT: project [%s] is not active" % gone
    assert "registered" not in r.stdout
