#!/usr/bin/python3
"""A client that plays pyflyte against Flyte Admin's gRPC API: it finds the endpoint,
project and domain the way flytekit does and registers a task, a workflow and a launch
plan (uploading the code bundle through DataProxyService, as `pyflyte register` does),
then starts an execution and prints its console URL.

    flyte_client.py register-and-run [--version V] [--name demo.hello]

Configuration, as flytekit reads it (flytekit/configuration/internal.py Platform,
file.py; clis/sdk_in_container/utils.py):
  endpoint  FLYTE_PLATFORM_URL, else admin.endpoint of the YAML config file
            (FLYTECTL_CONFIG, else ~/.flyte/config.yaml; "dns:///" is dropped)
  insecure  FLYTE_PLATFORM_INSECURE, else admin.insecure ("false", "0", "off", "no" are false)
  CA file   FLYTE_PLATFORM_CA_CERT_FILE_PATH, else admin.caCertFilePath
  project   FLYTE_DEFAULT_PROJECT, else "flytesnacks" (pyflyte's --project default;
            the config file's task.project is flytectl's, pyflyte ignores it)
  domain    FLYTE_DEFAULT_DOMAIN, else "development"
  console   FLYTE_PLATFORM_CONSOLE_ENDPOINT, else console.endpoint, else the endpoint
Errors: the gRPC status as `CODE: message` on stderr, exit 1.
"""
import argparse
import hashlib
import os
import ssl
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flyteidl_build  # noqa: E402

flyteidl_build.import_path()
import grpc  # noqa: E402
import yaml  # noqa: E402
from flyteidl.admin import (execution_pb2, launch_plan_pb2, task_pb2,  # noqa: E402
                            workflow_pb2)
from flyteidl.core import (identifier_pb2, interface_pb2, literals_pb2,  # noqa: E402
                           tasks_pb2, types_pb2, workflow_pb2 as core_wf_pb2)
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2, dataproxy_pb2_grpc  # noqa: E402


def as_bool(value):
    """flytekit's bool_transformer for env values; YAML booleans as they are."""
    if isinstance(value, str):
        return bool(value) and value.lower() not in ("false", "0", "off", "no")
    return bool(value)


def load_config():
    path = os.environ.get("FLYTECTL_CONFIG")
    if not path or not os.path.exists(path):
        path = os.path.join(os.path.expanduser("~"), ".flyte", "config.yaml")
    if not os.path.exists(path) or not path.endswith(("yaml", "yml")):
        return {}
    with open(path) as f:
        return yaml.safe_load(f) or {}


def settings():
    cfg = load_config()
    admin, console = cfg.get("admin") or {}, cfg.get("console") or {}
    env = os.environ.get
    endpoint = env("FLYTE_PLATFORM_URL") or str(admin.get("endpoint") or "").replace("dns:///", "")
    if not endpoint:
        sys.exit("no Flyte endpoint: set FLYTE_PLATFORM_URL or admin.endpoint in the config file")
    insecure = env("FLYTE_PLATFORM_INSECURE")
    insecure = as_bool(insecure) if insecure is not None else as_bool(admin.get("insecure", False))
    return {"endpoint": endpoint, "insecure": insecure,
            "ca": env("FLYTE_PLATFORM_CA_CERT_FILE_PATH") or admin.get("caCertFilePath"),
            "project": env("FLYTE_DEFAULT_PROJECT", "flytesnacks"),
            "domain": env("FLYTE_DEFAULT_DOMAIN", "development"),
            "console": env("FLYTE_PLATFORM_CONSOLE_ENDPOINT") or console.get("endpoint")}


def channel(s):
    """flytekit's auth_helper.get_channel: plain h2c when insecure, else TLS trusting
    the CA file when one is given, else the system roots."""
    if s["insecure"]:
        return grpc.insecure_channel(s["endpoint"])
    roots = open(s["ca"], "rb").read() if s["ca"] else None
    return grpc.secure_channel(s["endpoint"], grpc.ssl_channel_credentials(roots))


def ident(kind, project, domain, name, version):
    return identifier_pb2.Identifier(resource_type=kind, project=project, domain=domain,
                                     name=name, version=version)


def create(call, request, what):
    """Create, treating ALREADY_EXISTS as done (pyflyte's registration is idempotent)."""
    try:
        call(request)
        print("registered %s" % what)
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
        print("%s already registered" % what)


def upload_bundle(proxy, s, version, ca_ctx):
    """pyflyte register's fast-registration upload: CreateUploadLocation, then PUT."""
    bundle = ("# the workflow's code, version %s\n" % version).encode()
    md5 = hashlib.md5(bundle).digest()
    loc = proxy.CreateUploadLocation(dataproxy_pb2.CreateUploadLocationRequest(
        project=s["project"], domain=s["domain"], filename="fast%s.tar.gz" % version,
        content_md5=md5))
    req = urllib.request.Request(loc.signed_url, data=bundle, method="PUT",
                                 headers=dict(loc.headers))
    urllib.request.urlopen(req, context=ca_ctx, timeout=30).read()
    return loc.native_url


def register_and_run(s, version, name):
    ch = channel(s)
    admin = admin_pb2_grpc.AdminServiceStub(ch)
    proxy = dataproxy_pb2_grpc.DataProxyServiceStub(ch)
    p, d = s["project"], s["domain"]
    ca_ctx = None
    if not s["insecure"]:
        ca_ctx = ssl.create_default_context(cafile=s["ca"]) if s["ca"] else \
            ssl.create_default_context()
    code = upload_bundle(proxy, s, version, ca_ctx)
    print("uploaded the code to %s" % code)

    task_id = ident(identifier_pb2.TASK, p, d, name + ".say_hello", version)
    out = interface_pb2.VariableMap(variables={"o0": interface_pb2.Variable(
        type=types_pb2.LiteralType(simple=types_pb2.STRING))})
    template = tasks_pb2.TaskTemplate(
        id=task_id, type="python-task", interface=interface_pb2.TypedInterface(outputs=out),
        metadata=tasks_pb2.TaskMetadata(runtime=tasks_pb2.RuntimeMetadata(
            type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version="1.15.4", flavor="python")),
        container=tasks_pb2.Container(
            image="cr.flyte.org/flyteorg/flytekit:py3.11-1.15.4",
            args=["pyflyte-fast-execute", "--additional-distribution", code,
                  "--dest-dir", ".", "--", "pyflyte-execute", "--inputs", "{{.input}}",
                  "--output-prefix", "{{.outputPrefix}}", "--raw-output-data-prefix",
                  "{{.rawOutputDataPrefix}}", "--resolver",
                  "flytekit.core.python_auto_container.default_task_resolver", "--",
                  "task-module", name, "task-name", "say_hello"]))
    create(admin.CreateTask, task_pb2.TaskCreateRequest(
        id=task_id, spec=task_pb2.TaskSpec(template=template)), "task %s" % task_id.name)

    wf_id = ident(identifier_pb2.WORKFLOW, p, d, name + ".wf", version)
    node = core_wf_pb2.Node(id="n0", upstream_node_ids=["start-node"],
                            task_node=core_wf_pb2.TaskNode(reference_id=task_id))
    wf = core_wf_pb2.WorkflowTemplate(
        id=wf_id, interface=interface_pb2.TypedInterface(outputs=out), nodes=[node],
        outputs=[literals_pb2.Binding(var="o0", binding=literals_pb2.BindingData(
            promise=types_pb2.OutputReference(node_id="n0", var="o0")))])
    create(admin.CreateWorkflow, workflow_pb2.WorkflowCreateRequest(
        id=wf_id, spec=workflow_pb2.WorkflowSpec(template=wf)), "workflow %s" % wf_id.name)

    lp_id = ident(identifier_pb2.LAUNCH_PLAN, p, d, name + ".wf", version)
    create(admin.CreateLaunchPlan, launch_plan_pb2.LaunchPlanCreateRequest(
        id=lp_id, spec=launch_plan_pb2.LaunchPlanSpec(workflow_id=wf_id)),
        "launch plan %s" % lp_id.name)

    created = admin.CreateExecution(execution_pb2.ExecutionCreateRequest(
        project=p, domain=d, spec=execution_pb2.ExecutionSpec(
            launch_plan=lp_id, metadata=execution_pb2.ExecutionMetadata(
                mode=execution_pb2.ExecutionMetadata.MANUAL, principal="pyflyte")),
        inputs=literals_pb2.LiteralMap()))
    e = created.id
    console = s["console"] or ("%s://%s" % ("http" if s["insecure"] else "https", s["endpoint"]))
    print("execution %s in project %s domain %s" % (e.name, e.project, e.domain))
    # flytekit's FlyteRemote.generate_console_url
    print("Go to %s/console/projects/%s/domains/%s/executions/%s to see execution in the console."
          % (console.rstrip("/"), e.project, e.domain, e.name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("register-and-run")
    run.add_argument("--version", default="v1")
    run.add_argument("--name", default="demo.hello")
    args = ap.parse_args()
    try:
        register_and_run(settings(), args.version, args.name)
    except grpc.RpcError as e:
        sys.stderr.write("%s: %s\n" % (e.code().name, e.details()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
