"""Flyte Admin's registry and executions for the emulator: tasks, workflows, launch
plans and executions as flyteadmin keeps them (flyteidl messages, one store with the
projects of flyteadmin.Admin), and what flytepropeller then does with an execution:
a FlyteWorkflow object and the task's Pod created through the API server.

Rules and messages from flyteorg/flyte flyteadmin/pkg/manager/impl/{task,workflow,
launch_plan,execution}_manager.go, validation/, errors/errors.go and
repositories/errors/ (missing entity of type ...).
"""
import hashlib
import http.client
import json
import random
import re
import ssl
import string
import threading
import urllib.parse

from google.protobuf import json_format, text_format
from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.admin import matchable_resource_pb2
from flyteidl.core import compiler_pb2, execution_pb2 as core_exec_pb2, identifier_pb2, tasks_pb2
from flyteidl.service import dataproxy_pb2

import flyte_validation as fv
from flyte_validation import AdminError, invalid

TASK, WORKFLOW, LAUNCH_PLAN = (identifier_pb2.TASK, identifier_pb2.WORKFLOW,
                               identifier_pb2.LAUNCH_PLAN)
WORKFLOW_EXECUTION_CONFIG = 6
INTERNAL = 13
Phase = core_exec_pb2.WorkflowExecution


def id_text(ident):
    """An identifier as Go's %v prints a proto message (text format, one line)."""
    return text_format.MessageToString(ident, as_one_line=True)


def missing(kind, ident):
    return AdminError(fv.NOT_FOUND, "missing entity of type %s with identifier %s"
                      % (kind, id_text(ident)))


def validate_identifier(ident, kind):
    """validation.ValidateIdentifier (+ the resource type check of the create calls)."""
    if ident is None or not ident.ByteSize():
        raise invalid("missing id")
    if ident.resource_type != kind:
        raise invalid("unexpected resource type %s for identifier [%s], expected %s instead"
                      % (identifier_pb2.ResourceType.Name(ident.resource_type).lower(),
                         id_text(ident), identifier_pb2.ResourceType.Name(kind).lower()))
    for field in ("project", "domain", "name", "version"):
        if not getattr(ident, field):
            raise invalid("missing %s" % field)


def digest(msg):
    return hashlib.sha256(msg.SerializeToString(deterministic=True)).hexdigest()


def key(ident):
    return (ident.project, ident.domain, ident.name, ident.version)


def exec_key(ident):
    return (ident.project, ident.domain, ident.name)


def label_value(text):
    """A Kubernetes label value from a Flyte name (as propeller's utils.SanitizeLabelValue)."""
    v = re.sub(r"[^a-zA-Z0-9._-]", "-", text.lower())[:63]
    return v.strip("-_.") or "x"


def execution_name():
    # common.GetExecutionName: a letter then 19 lower-case letters and digits.
    alphabet = string.ascii_lowercase + string.digits
    return "a" + "".join(random.choice(alphabet) for _ in range(19))


class Registry:
    """The AdminService calls beyond projects; `admin` is flyteadmin.Admin (its lock
    is held by the caller), `kube` the API server client used as propeller."""

    def __init__(self, admin, kube, public_url):
        self.admin = admin
        self.kube = kube
        self.public_url = public_url  # base of the signed upload URLs
        self.tasks, self.workflows, self.launch_plans, self.executions = {}, {}, {}, {}
        self.uploads = {}  # object path -> bytes (the HTTP PUT of CreateUploadLocation)

    # -- tasks -------------------------------------------------------------------
    def create_task(self, req):
        validate_identifier(req.id, TASK)
        self.admin._project_and_domain(req.id.project, req.id.domain)
        if not req.spec.template.ByteSize():
            raise invalid("missing task template")
        if not req.spec.template.type:
            raise invalid("missing task type")
        template = tasks_pb2.TaskTemplate()
        template.CopyFrom(req.spec.template)
        template.id.CopyFrom(req.id)  # flyteadmin stores the template under the request id
        old = self.tasks.get(key(req.id))
        if old is not None:
            if digest(old.closure.compiled_task.template) == digest(template):
                raise AdminError(fv.ALREADY_EXISTS, "task with identical structure already exists")
            raise invalid("%s task with different structure already exists. (Please register "
                          "a new version of the task):\n" % req.id.name)
        task = task_pb2.Task(id=req.id)
        task.closure.compiled_task.template.CopyFrom(template)
        task.closure.created_at.GetCurrentTime()
        self.tasks[key(req.id)] = task
        return task_pb2.TaskCreateResponse()

    # -- workflows ---------------------------------------------------------------
    def _compile(self, req):
        """getCompiledWorkflow: every task node's task must be registered."""
        closure = compiler_pb2.CompiledWorkflowClosure()
        closure.primary.template.CopyFrom(req.spec.template)
        closure.primary.template.id.CopyFrom(req.id)
        seen = set()
        for node in req.spec.template.nodes:
            if node.HasField("task_node"):
                ref = node.task_node.reference_id
                task = self.tasks.get(key(ref))
                if task is None:
                    raise invalid("failed to compile workflow for [%s] with err: %s"
                                  % (id_text(req.id), missing("task", ref).message))
                if key(ref) not in seen:
                    seen.add(key(ref))
                    closure.tasks.add().CopyFrom(task.closure.compiled_task)
            for up in node.upstream_node_ids:
                closure.primary.connections.upstream[node.id].ids.append(up)
                closure.primary.connections.downstream[up].ids.append(node.id)
        return closure

    def create_workflow(self, req):
        validate_identifier(req.id, WORKFLOW)
        self.admin._project_and_domain(req.id.project, req.id.domain)
        if not req.spec.template.ByteSize():
            raise invalid("missing workflow template")
        closure = self._compile(req)
        old = self.workflows.get(key(req.id))
        if old is not None:
            if digest(old.closure.compiled_workflow.primary) == digest(closure.primary):
                raise AdminError(fv.ALREADY_EXISTS, "workflow with identical structure "
                                 "already exists")
            raise invalid("%s workflow with different structure already exists. (Please "
                          "register a new version of the workflow):\n" % req.id.name)
        wf = workflow_pb2.Workflow(id=req.id)
        wf.closure.compiled_workflow.CopyFrom(closure)
        wf.closure.created_at.GetCurrentTime()
        self.workflows[key(req.id)] = wf
        return workflow_pb2.WorkflowCreateResponse()

    # -- launch plans ------------------------------------------------------------
    def create_launch_plan(self, req):
        validate_identifier(req.id, LAUNCH_PLAN)
        self.admin._project_and_domain(req.id.project, req.id.domain)
        if not req.spec.workflow_id.ByteSize():
            raise invalid("missing workflow_id")
        wf = self.workflows.get(key(req.spec.workflow_id))
        if wf is None:
            raise missing("workflow", req.spec.workflow_id)
        old = self.launch_plans.get(key(req.id))
        if old is not None:
            if digest(old.spec) == digest(req.spec):
                raise AdminError(fv.ALREADY_EXISTS, "launch plan with identical structure "
                                 "already exists")
            raise invalid("%s launch plan with different structure already exists. (Please "
                          "register a new version of the launch plan):\n" % req.id.name)
        lp = launch_plan_pb2.LaunchPlan(id=req.id, spec=req.spec)
        lp.closure.state = launch_plan_pb2.INACTIVE
        lp.closure.expected_outputs.CopyFrom(wf.closure.compiled_workflow.primary.template
                                             .interface.outputs)
        lp.closure.created_at.GetCurrentTime()
        lp.closure.updated_at.CopyFrom(lp.closure.created_at)
        self.launch_plans[key(req.id)] = lp
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def update_launch_plan(self, req):
        validate_identifier(req.id, LAUNCH_PLAN)
        lp = self.launch_plans.get(key(req.id))
        if lp is None:
            raise missing("launch_plan", req.id)
        if req.state == launch_plan_pb2.ACTIVE:
            # only one active version per launch plan name
            for other in self.launch_plans.values():
                if key(other.id)[:3] == key(req.id)[:3]:
                    other.closure.state = launch_plan_pb2.INACTIVE
        lp.closure.state = req.state
        lp.closure.updated_at.GetCurrentTime()
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    # -- gets and lists ----------------------------------------------------------
    def _get(self, table, kind, ident):
        found = table.get(key(ident))
        if found is None:
            raise missing(kind, ident)
        return found

    def get_task(self, req):
        return self._get(self.tasks, "task", req.id)

    def get_workflow(self, req):
        return self._get(self.workflows, "workflow", req.id)

    def get_launch_plan(self, req):
        return self._get(self.launch_plans, "launch_plan", req.id)

    def _list(self, table, req):
        """ListTasks/ListWorkflows/ListLaunchPlans for one named entity, newest first."""
        if not req.id.project or not req.id.domain:
            raise invalid("missing project" if not req.id.project else "missing domain")
        rows = [v for k, v in table.items() if k[:2] == (req.id.project, req.id.domain)
                and (not req.id.name or k[2] == req.id.name)]
        rows.sort(key=lambda v: v.closure.created_at.ToNanoseconds(), reverse=True)
        offset = int(req.token) if req.token.isdigit() else 0
        page = rows[offset:offset + req.limit] if req.limit else rows[offset:]
        token = str(offset + len(page)) if req.limit and len(page) == req.limit else ""
        return page, token

    def list_tasks(self, req):
        page, token = self._list(self.tasks, req)
        return task_pb2.TaskList(tasks=page, token=token)

    def list_workflows(self, req):
        page, token = self._list(self.workflows, req)
        return workflow_pb2.WorkflowList(workflows=page, token=token)

    def list_launch_plans(self, req):
        page, token = self._list(self.launch_plans, req)
        return launch_plan_pb2.LaunchPlanList(launch_plans=page, token=token)

    def list_ids(self, table, req):
        if not req.project or not req.domain:
            raise invalid("missing project" if not req.project else "missing domain")
        names = sorted({k[2] for k in table if k[:2] == (req.project, req.domain)})
        return common_pb2.NamedEntityIdentifierList(entities=[
            common_pb2.NamedEntityIdentifier(project=req.project, domain=req.domain, name=n)
            for n in names])

    # -- executions --------------------------------------------------------------
    def _exec_config(self, project, domain):
        """The project's WORKFLOW_EXECUTION_CONFIG (project-domain, else project level)."""
        for d in (domain, ""):
            matching = self.admin.resources.get((project, d, WORKFLOW_EXECUTION_CONFIG))
            if matching is not None:
                return json_format.ParseDict(matching.get("workflow_execution_config", {}),
                                             matchable_resource_pb2.WorkflowExecutionConfig(),
                                             ignore_unknown_fields=True)
        return matchable_resource_pb2.WorkflowExecutionConfig()

    def create_execution(self, req):
        if not req.project:
            raise invalid("missing project")
        if not req.domain:
            raise invalid("missing domain")
        self.admin._project_and_domain(req.project, req.domain)
        if not req.spec.launch_plan.ByteSize():
            raise invalid("missing launch_plan")
        lp = self._get(self.launch_plans, "launch_plan", req.spec.launch_plan)
        wf = self._get(self.workflows, "workflow", lp.spec.workflow_id)
        name = req.name or execution_name()
        ident = identifier_pb2.WorkflowExecutionIdentifier(project=req.project,
                                                           domain=req.domain, name=name)
        if exec_key(ident) in self.executions:
            raise AdminError(fv.ALREADY_EXISTS, 'value with matching already exists (duplicate '
                             'key value violates unique constraint "executions_pkey")')
        # Settings: the request, else the launch plan, else the matchable attributes.
        spec = execution_pb2.ExecutionSpec()
        spec.CopyFrom(req.spec)
        wec = self._exec_config(req.project, req.domain)
        for field in ("security_context", "raw_output_data_config"):
            if not getattr(spec, field).ByteSize():
                src = lp.spec if getattr(lp.spec, field).ByteSize() else wec
                getattr(spec, field).CopyFrom(getattr(src, field))
        if not spec.max_parallelism:
            spec.max_parallelism = lp.spec.max_parallelism or wec.max_parallelism or \
                self.admin.max_parallelism
        execution = execution_pb2.Execution(id=ident, spec=spec)
        c = execution.closure
        c.phase = Phase.QUEUED
        c.workflow_id.CopyFrom(wf.id)
        c.created_at.GetCurrentTime()
        c.updated_at.CopyFrom(c.created_at)
        # flyteadmin hands the FlyteWorkflow to propeller's queue (the API server)
        # before it answers: a refusal fails the call and stores nothing.
        namespace = self.kube.namespace_for(req.project, req.domain)
        flyte_wf = flyteworkflow(execution, wf, req.inputs, namespace)
        status, reply = self.kube.create(
            "/apis/flyte.lyft.com/v1alpha1/namespaces/%s/flyteworkflows" % namespace, flyte_wf)
        if status != 201:
            raise AdminError(INTERNAL, "failed to create workflow in propeller: %s"
                             % reply.get("message", status))
        self.executions[exec_key(ident)] = execution
        threading.Thread(target=self._propel, args=(execution, wf, reply, namespace),
                         daemon=True).start()
        return execution_pb2.ExecutionCreateResponse(id=ident)

    def _propel(self, execution, wf, flyte_wf, namespace):
        """flytepropeller: a Pod per task node that waits on nothing but the start."""
        error = None
        for node in wf.closure.compiled_workflow.primary.template.nodes:
            if not node.HasField("task_node") or any(
                    u != "start-node" for u in node.upstream_node_ids):
                continue
            task = self.tasks[key(node.task_node.reference_id)]
            pod = task_pod(execution, wf, task, node.id, flyte_wf, namespace)
            status, reply = self.kube.create("/api/v1/namespaces/%s/pods" % namespace, pod)
            if status != 201:
                error = reply.get("message", str(status))
                break
        with self.admin.lock:
            c = execution.closure
            c.updated_at.GetCurrentTime()
            if error:
                c.phase = Phase.FAILED
                c.error.code = "PodCreationFailed"
                c.error.message = error
                c.error.kind = core_exec_pb2.ExecutionError.SYSTEM
            else:
                c.phase = Phase.RUNNING
                c.started_at.GetCurrentTime()

    def get_execution(self, req):
        found = self.executions.get(exec_key(req.id))
        if found is None:
            raise missing("execution", req.id)
        return found

    def list_executions(self, req):
        page, token = self._list_executions(req)
        return execution_pb2.ExecutionList(executions=page, token=token)

    def _list_executions(self, req):
        if not req.id.project or not req.id.domain:
            raise invalid("missing project" if not req.id.project else "missing domain")
        rows = [v for k, v in self.executions.items() if k[:2] == (req.id.project, req.id.domain)]
        rows.sort(key=lambda v: v.closure.created_at.ToNanoseconds(), reverse=True)
        offset = int(req.token) if req.token.isdigit() else 0
        page = rows[offset:offset + req.limit] if req.limit else rows[offset:]
        return page, (str(offset + len(page)) if req.limit and len(page) == req.limit else "")

    # -- data proxy --------------------------------------------------------------
    def create_upload_location(self, req):
        """DataProxyService.CreateUploadLocation: a URL to PUT the file to, and where
        it then is (the project's raw output prefix, else the default bucket)."""
        if not req.project or not req.domain:
            raise invalid("project and domain are required parameters")
        if not req.content_md5:
            raise invalid("content_md5 is a required parameter")
        root = req.filename_root or hashlib.md5(req.content_md5).hexdigest()
        name = req.filename or "upload"
        path = "/".join([req.project, req.domain, root, name])
        prefix = (self._exec_config(req.project, req.domain).raw_output_data_config
                  .output_location_prefix or "s3://my-s3-bucket")
        resp = dataproxy_pb2.CreateUploadLocationResponse(
            signed_url="%s/_upload/%s" % (self.public_url, urllib.parse.quote(path)),
            native_url="%s/%s" % (prefix.rstrip("/"), path))
        resp.expires_at.GetCurrentTime()
        resp.expires_at.seconds += req.expires_in.seconds or 3600
        return resp


def flyteworkflow(execution, wf, inputs, namespace):
    """The FlyteWorkflow object flyteadmin's executor hands to propeller (the fields
    the platform looks at: labels, executionId, securityContext, rawOutputDataConfig)."""
    ident = execution.id
    spec = execution.spec
    labels = {"project": label_value(ident.project), "domain": label_value(ident.domain),
              "execution-id": label_value(ident.name),
              "workflow-name": label_value(wf.id.name)}
    template = wf.closure.compiled_workflow.primary.template
    return {
        "apiVersion": "flyte.lyft.com/v1alpha1", "kind": "FlyteWorkflow",
        "metadata": {"name": ident.name, "namespace": namespace, "labels": labels,
                     "annotations": {"flyte.lyft.com/launch-plan": id_text(spec.launch_plan)}},
        "spec": {"id": "%s:%s:%s" % (wf.id.project, wf.id.domain, wf.id.name),
                 "nodes": {n.id: {"id": n.id, "kind": "task" if n.HasField("task_node") else "other",
                                  "task": n.task_node.reference_id.name}
                           for n in template.nodes},
                 "connections": json_format.MessageToDict(
                     wf.closure.compiled_workflow.primary.connections)},
        "inputs": json_format.MessageToDict(inputs),
        "executionId": {"project": ident.project, "domain": ident.domain, "name": ident.name},
        "executionConfig": {"MaxParallelism": spec.max_parallelism},
        "securityContext": json_format.MessageToDict(spec.security_context,
                                                     preserving_proto_field_name=True),
        "rawOutputDataConfig": {"OutputLocationPrefix":
                                spec.raw_output_data_config.output_location_prefix},
        "serviceAccountName": spec.security_context.run_as.k8s_service_account,
        "acceptedAt": execution.closure.created_at.ToJsonString(),
    }


def task_pod(execution, wf, task, node_id, flyte_wf, namespace):
    """The Pod propeller's container plugin makes for a task node (attempt 0)."""
    ident = execution.id
    template = task.closure.compiled_task.template
    name = "%s-%s-0" % (ident.name, node_id)
    raw = execution.spec.raw_output_data_config.output_location_prefix
    raw_prefix = "%s/%s" % (raw.rstrip("/"), name) if raw else ""
    values = {"input": "%s/metadata/%s/inputs.pb" % (raw.rstrip("/"), name),
              "outputPrefix": "%s/metadata/%s/0" % (raw.rstrip("/"), name),
              "rawOutputDataPrefix": raw_prefix, "checkpointOutputPrefix": raw_prefix + "/_flytecheckpoints",
              "prevCheckpointPrefix": '""'}

    def render(arg):
        return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), arg)

    resources = {"requests": {"cpu": "500m", "memory": "512Mi"},
                 "limits": {"cpu": "500m", "memory": "512Mi"}}
    names = {1: "cpu", 3: "memory"}  # Resources.ResourceName CPU, MEMORY
    for part in ("requests", "limits"):
        for entry in getattr(template.container.resources, part):
            if entry.name in names:
                resources[part][names[entry.name]] = entry.value
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": {"project": label_value(ident.project), "domain": label_value(ident.domain),
                       "execution-id": label_value(ident.name), "node-id": label_value(node_id),
                       "task-name": label_value(template.id.name),
                       "workflow-name": label_value(wf.id.name), "interruptible": "false"},
            "ownerReferences": [{"apiVersion": "flyte.lyft.com/v1alpha1", "kind": "FlyteWorkflow",
                                 "name": flyte_wf["metadata"]["name"],
                                 "uid": flyte_wf["metadata"].get("uid", ""),
                                 "controller": True, "blockOwnerDeletion": True}]},
        "spec": {
            "serviceAccountName": execution.spec.security_context.run_as.k8s_service_account
            or "default",
            "restartPolicy": "Never",
            "containers": [{
                "name": name, "image": template.container.image,
                "command": [render(a) for a in template.container.command],
                "args": [render(a) for a in template.container.args],
                "env": [{"name": "FLYTE_INTERNAL_EXECUTION_WORKFLOW",
                         "value": "%s:%s:%s" % (wf.id.project, wf.id.domain, wf.id.name)},
                        {"name": "FLYTE_INTERNAL_EXECUTION_ID", "value": ident.name},
                        {"name": "FLYTE_INTERNAL_EXECUTION_PROJECT", "value": ident.project},
                        {"name": "FLYTE_INTERNAL_EXECUTION_DOMAIN", "value": ident.domain},
                        {"name": "FLYTE_ATTEMPT_NUMBER", "value": "0"}]
                + [{"name": e.key, "value": e.value} for e in template.container.env],
                "resources": resources}]},
    }


class Kube:
    """The API server as flyteadmin and propeller reach it (an admin's token)."""

    def __init__(self, port_file, ca_file, token_file, flyte_namespace="flyte",
                 configmap="flyte-admin-base-config", key="namespace_config.yaml"):
        self.port_file, self.ca_file, self.token_file = port_file, ca_file, token_file
        self.flyte_namespace, self.configmap, self.key = flyte_namespace, configmap, key

    def request(self, method, path, body=None):
        if not self.port_file:
            raise AdminError(INTERNAL, "no Kubernetes cluster is configured for executions")
        port = int(open(self.port_file).read().strip())
        token = open(self.token_file).read().strip()
        ctx = ssl.create_default_context(cafile=self.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": "application/json",
                                  "Accept": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            try:
                return resp.status, json.loads(data) if data else {}
            except ValueError:
                return resp.status, {"message": data.decode(errors="replace")}
        except OSError as e:
            return 503, {"message": "API server unreachable: %s" % e}
        finally:
            conn.close()

    def create(self, path, obj):
        return self.request("POST", path, obj)

    def namespace_for(self, project, domain):
        """flyteadmin's namespace_mapping.template (default {{ project }}-{{ domain }})."""
        import yaml
        status, cm = self.request("GET", "/api/v1/namespaces/%s/configmaps/%s"
                                  % (self.flyte_namespace, self.configmap))
        template = "{{ project }}-{{ domain }}"
        if status == 200:
            doc = yaml.safe_load(cm.get("data", {}).get(self.key, "") or "") or {}
            template = (doc.get("namespace_mapping") or {}).get("template") or template
        out = re.sub(r"\{\{\s*project\s*\}\}", project, template)
        return re.sub(r"\{\{\s*domain\s*\}\}", domain, out)
