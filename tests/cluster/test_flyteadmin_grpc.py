"""Tests of the emulated Flyte Admin's gRPC side (flyte_grpc.py, flyte_entities.py):
one port for REST and gRPC over TLS, the plain h2c mode, and flyteadmin's rules for
tasks, workflows and launch plans. Executions are covered with a cluster by
tests/e2e/test_datascientist.py.

Run: cd tests && /usr/bin/python3 -m pytest -q cluster/test_flyteadmin_grpc.py
"""
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import flyteidl_build  # noqa: E402
import kube_certs  # noqa: E402

flyteidl_build.import_path()  # missing gRPC code fails these tests, never skips them
import grpc  # noqa: E402
from flyteidl.admin import (common_pb2, launch_plan_pb2, project_pb2, task_pb2,  # noqa: E402
                            workflow_pb2)
from flyteidl.core import identifier_pb2, tasks_pb2, workflow_pb2 as core_wf_pb2  # noqa: E402
from flyteidl.service import admin_pb2_grpc  # noqa: E402

SERVER = os.path.join(HERE, "flyteadmin.py")
P, D = "ml", "development"


class Admin:
    def __init__(self, d, tls):
        self.port_file = d / "port"
        args = ["/usr/bin/python3", SERVER, "--listen", "127.0.0.1:0",
                "--port-file", str(self.port_file)]
        self.ca = None
        if tls:
            ca_key, ca_cert = kube_certs.make_ca()
            key, cert = kube_certs.serving(ca_key, ca_cert, "flyteadmin")
            for name, text in (("ca.crt", ca_cert), ("tls.key", key), ("tls.crt", cert)):
                (d / name).write_text(text)
            self.ca = d / "ca.crt"
            args += ["--cert", str(d / "tls.crt"), "--key", str(d / "tls.key")]
        self.log = open(d / "log", "w")
        self.proc = subprocess.Popen(args, stderr=self.log)
        end = time.monotonic() + 20
        while not (self.port_file.exists() and self.port_file.read_text().strip()):
            assert self.proc.poll() is None, (d / "log").read_text()
            assert time.monotonic() < end
            time.sleep(0.05)
        self.host = "127.0.0.1:%s" % self.port_file.read_text().strip()
        if tls:
            creds = grpc.ssl_channel_credentials(self.ca.read_bytes())
            self.channel = grpc.secure_channel(self.host, creds)
        else:
            self.channel = grpc.insecure_channel(self.host)
        self.stub = admin_pb2_grpc.AdminServiceStub(self.channel)

    def rest(self, method, path, body=None):
        scheme = "https" if self.ca else "http"
        ctx = ssl.create_default_context(cafile=str(self.ca)) if self.ca else None
        req = urllib.request.Request("%s://%s%s" % (scheme, self.host, path), method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        self.channel.close()
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture(params=["tls", "h2c"])
def admin(request, tmp_path):
    a = Admin(tmp_path, request.param == "tls")
    yield a
    a.stop()


def ident(kind, name, version="v1", project=P, domain=D):
    return identifier_pb2.Identifier(resource_type=kind, project=project, domain=domain,
                                     name=name, version=version)


def task_req(name="t", version="v1", image="img:1", project=P, domain=D):
    i = ident(identifier_pb2.TASK, name, version, project, domain)
    return task_pb2.TaskCreateRequest(id=i, spec=task_pb2.TaskSpec(template=tasks_pb2.TaskTemplate(
        id=i, type="python-task", container=tasks_pb2.Container(image=image, args=["x"]))))


def wf_req(task_id, name="wf", version="v1"):
    i = ident(identifier_pb2.WORKFLOW, name, version)
    node = core_wf_pb2.Node(id="n0", task_node=core_wf_pb2.TaskNode(reference_id=task_id))
    return workflow_pb2.WorkflowCreateRequest(id=i, spec=workflow_pb2.WorkflowSpec(
        template=core_wf_pb2.WorkflowTemplate(id=i, nodes=[node])))


def error(call, req):
    with pytest.raises(grpc.RpcError) as e:
        call(req)
    return e.value.code(), e.value.details()


def test_rest_and_grpc_share_one_port_and_store(admin):
    # REST registers, gRPC sees it (and the other way round)
    admin.rest("POST", "/api/v1/projects", {"project": {"id": P, "name": "ML"}})
    assert admin.stub.GetProject(project_pb2.ProjectGetRequest(id=P)).name == "ML"
    admin.stub.RegisterProject(project_pb2.ProjectRegisterRequest(
        project=project_pb2.Project(id="other", name="Other")))
    assert admin.rest("GET", "/api/v1/projects/other")["name"] == "Other"
    code, msg = error(admin.stub.RegisterProject, project_pb2.ProjectRegisterRequest(
        project=project_pb2.Project(id=P, name="ML")))
    assert code == grpc.StatusCode.ALREADY_EXISTS


def test_registration_rules(admin):
    admin.rest("POST", "/api/v1/projects", {"project": {"id": P, "name": "ML"}})
    s = admin.stub
    code, msg = error(s.CreateTask, task_req(project="nope"))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT,
                           "failed to validate that project [nope] and domain [development] "
                           "are registered, err: [project [nope] not found]")
    code, msg = error(s.CreateTask, task_req(domain="qa"))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "domain [qa] is unrecognized by system")

    s.CreateTask(task_req())
    assert error(s.CreateTask, task_req()) == (grpc.StatusCode.ALREADY_EXISTS,
                                               "task with identical structure already exists")
    code, msg = error(s.CreateTask, task_req(image="img:2"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert msg.startswith("t task with different structure already exists.")

    missing_task = ident(identifier_pb2.TASK, "gone")
    code, msg = error(s.CreateWorkflow, wf_req(missing_task))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "missing entity of type task" in msg and 'name: "gone"' in msg

    t = ident(identifier_pb2.TASK, "t")
    s.CreateWorkflow(wf_req(t))
    wf = s.GetWorkflow(common_pb2.ObjectGetRequest(
        id=ident(identifier_pb2.WORKFLOW, "wf")))
    assert [x.template.id.name for x in wf.closure.compiled_workflow.tasks] == ["t"]
    assert wf.closure.compiled_workflow.tasks[0].template.container.image == "img:1"

    lp_id = ident(identifier_pb2.LAUNCH_PLAN, "wf")
    code, msg = error(s.CreateLaunchPlan, launch_plan_pb2.LaunchPlanCreateRequest(
        id=lp_id, spec=launch_plan_pb2.LaunchPlanSpec(
            workflow_id=ident(identifier_pb2.WORKFLOW, "wf", "v9"))))
    assert code == grpc.StatusCode.NOT_FOUND and "missing entity of type workflow" in msg
    lp = launch_plan_pb2.LaunchPlanCreateRequest(id=lp_id, spec=launch_plan_pb2.LaunchPlanSpec(
        workflow_id=ident(identifier_pb2.WORKFLOW, "wf")))
    s.CreateLaunchPlan(lp)
    assert error(s.CreateLaunchPlan, lp)[0] == grpc.StatusCode.ALREADY_EXISTS
    s.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=lp_id,
                                                               state=launch_plan_pb2.ACTIVE))
    got = s.GetLaunchPlan(common_pb2.ObjectGetRequest(id=lp_id))
    assert got.closure.state == launch_plan_pb2.ACTIVE

    listed = s.ListTasks(common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=P, domain=D), limit=10))
    assert [x.id.name for x in listed.tasks] == ["t"]

    # an archived project takes nothing more
    admin.rest("PUT", "/api/v1/projects/" + P, {"id": P, "name": "ML", "state": "ARCHIVED"})
    code, msg = error(s.CreateTask, task_req(version="v2"))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "project [ml] is not active")


def test_plain_http1_still_gets_rest_on_the_grpc_port(admin):
    # curl offers h2 and http/1.1 over TLS: REST is served (the server prefers http/1.1)
    scheme = "https" if admin.ca else "http"
    argv = ["curl", "-sS", "--http2", "%s://%s/api/v1/domains" % (scheme, admin.host)]
    if admin.ca:
        argv[1:1] = ["--cacert", str(admin.ca)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["domains"][0]["id"] == "development"


def test_client_honours_insecure_like_flytekit(tmp_path):
    """flyte_client.py against the plain (h2c) server, configured by the environment
    alone as pyflyte would be: FLYTE_PLATFORM_INSECURE=True selects cleartext."""
    a = Admin(tmp_path, tls=False)
    try:
        a.rest("POST", "/api/v1/projects", {"project": {"id": P, "name": "ML"}})
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FLYTE_PLATFORM_URL": a.host,
               "FLYTE_PLATFORM_INSECURE": "True", "FLYTE_DEFAULT_PROJECT": P}
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "flyte_client.py"),
                            "register-and-run"], env=env, capture_output=True, text=True,
                           timeout=60)
        # registration and the upload go through; this server has no cluster to run on
        assert "registered launch plan demo.hello.wf" in r.stdout, r.stdout + r.stderr
        assert r.returncode == 1
        assert r.stderr.strip() == "INTERNAL: no Kubernetes cluster is configured for executions"
        # "false" is false for flytekit: TLS, which this plain server does not speak
        env["FLYTE_PLATFORM_INSECURE"] = "false"
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "flyte_client.py"),
                            "register-and-run"], env=env, capture_output=True, text=True,
                           timeout=60)
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode == 1 and last.startswith("UNAVAILABLE: "), r.stderr
        assert "handshake failed" in last.lower(), last
    finally:
        a.stop()
