"""The emulated Flyte Admin's gRPC side: flyteidl.service.AdminService and
DataProxyService.CreateUploadLocation on a grpcio server (Debian's python3-grpcio),
over the same store as the REST gateway (flyteadmin.Admin + flyte_entities.Registry).

flyteadmin.py starts it on a unix socket; its front routes the HTTP/2 connections
of the public port there (see tests/cluster/README.md). Calls not listed answer
UNIMPLEMENTED, as grpcio does for a method the servicer does not define.
"""
from concurrent import futures
import hmac
import sys
import traceback

import grpc
from google.protobuf import json_format, symbol_database
from flyteidl.service import admin_pb2, admin_pb2_grpc, dataproxy_pb2_grpc

from flyte_validation import AdminError

UNAUTHENTICATED = 16

# AdminService calls answered by flyteadmin.Admin (dict in, (name, dict) out, as REST).
DICT_CALLS = {
    "RegisterProject": "register_project", "GetProject": "get_project",
    "UpdateProject": "update_project", "ListProjects": "list_projects",
    "GetDomains": "get_domains", "GetVersion": "get_version",
    "UpdateProjectAttributes": "update_project_attributes",
    "GetProjectAttributes": "get_project_attributes",
    "DeleteProjectAttributes": "delete_project_attributes",
    "UpdateProjectDomainAttributes": "update_project_domain_attributes",
    "GetProjectDomainAttributes": "get_project_domain_attributes",
    "DeleteProjectDomainAttributes": "delete_project_domain_attributes",
}
# AdminService calls answered by flyte_entities.Registry (messages in and out).
MESSAGE_CALLS = {
    "CreateTask": "create_task", "GetTask": "get_task", "ListTasks": "list_tasks",
    "CreateWorkflow": "create_workflow", "GetWorkflow": "get_workflow",
    "ListWorkflows": "list_workflows", "CreateLaunchPlan": "create_launch_plan",
    "GetLaunchPlan": "get_launch_plan", "UpdateLaunchPlan": "update_launch_plan",
    "ListLaunchPlans": "list_launch_plans", "CreateExecution": "create_execution",
    "GetExecution": "get_execution", "ListExecutions": "list_executions",
}
ID_LISTS = {"ListTaskIds": "tasks", "ListWorkflowIds": "workflows",
            "ListLaunchPlanIds": "launch_plans"}
SERVICE = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]


class Calls:
    """Wraps every call: the token check (as flyteadmin's auth interceptor), the
    store's lock, and AdminError -> a gRPC status with flyteadmin's code and message."""

    def __init__(self, admin, registry, token_reader):
        self.admin, self.registry, self.token_reader = admin, registry, token_reader

    def run(self, context, name, fn):
        try:
            reply = self._run(context, fn)
        except Exception:
            log(name, context.code() or grpc.StatusCode.UNKNOWN)
            if context.code() is None:  # an emulator bug: said in the log, UNKNOWN to the client
                sys.stderr.write("flyteadmin: grpc %s: %s\n" % (name, traceback.format_exc()))
            raise
        log(name, grpc.StatusCode.OK)
        return reply

    def _run(self, context, fn):
        expected = self.token_reader()
        if expected is not None:
            meta = dict(context.invocation_metadata())
            scheme, _, token = (meta.get("authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                    token.strip().encode(), expected.encode()):
                context.abort(_code(UNAUTHENTICATED),
                              "token parse error [JWT_VERIFICATION_FAILED] Could not retrieve "
                              "id token from metadata")
        try:
            with self.admin.lock:
                return fn()
        except AdminError as e:
            context.abort(_code(e.code), e.message)


def log(name, code):
    sys.stderr.write("flyteadmin: grpc %s %s\n" % (name, code.name))
    sys.stderr.flush()


def _code(number):
    return next(c for c in grpc.StatusCode if c.value[0] == number)


def _dict_call(calls, name, handler):
    out_cls = _message_class(SERVICE.methods_by_name[name].output_type)

    def call(self, request, context):
        req = json_format.MessageToDict(request, preserving_proto_field_name=True,
                                        use_integers_for_enums=True)
        _, reply = calls.run(context, name, lambda: getattr(calls.admin, handler)(req))
        return json_format.ParseDict(reply, out_cls(), ignore_unknown_fields=True)
    return call


def _message_call(calls, name, handler):
    def call(self, request, context):
        return calls.run(context, name, lambda: getattr(calls.registry, handler)(request))
    return call


def _ids_call(calls, name, table):
    def call(self, request, context):
        return calls.run(context, name, lambda: calls.registry.list_ids(
            getattr(calls.registry, table), request))
    return call


def _message_class(descriptor):
    return symbol_database.Default().GetSymbol(descriptor.full_name)


def make_server(admin, registry, token_reader, address):
    """A started grpc.Server bound (insecure: h2c) to address, e.g. unix:/path."""
    calls = Calls(admin, registry, token_reader)
    methods = {}
    for name, handler in DICT_CALLS.items():
        methods[name] = _dict_call(calls, name, handler)
    for name, handler in MESSAGE_CALLS.items():
        methods[name] = _message_call(calls, name, handler)
    for name, table in ID_LISTS.items():
        methods[name] = _ids_call(calls, name, table)
    admin_servicer = type("AdminServicer", (admin_pb2_grpc.AdminServiceServicer,), methods)()

    def create_upload_location(self, request, context):
        return calls.run(context, "CreateUploadLocation",
                         lambda: registry.create_upload_location(request))
    proxy = type("DataProxyServicer", (dataproxy_pb2_grpc.DataProxyServiceServicer,),
                 {"CreateUploadLocation": create_upload_location})()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(admin_servicer, server)
    dataproxy_pb2_grpc.add_DataProxyServiceServicer_to_server(proxy, server)
    if not server.add_insecure_port(address):
        raise OSError("gRPC server cannot bind %s" % address)
    server.start()
    return server
