"""Shared pytest fixtures of the whole project: the local cluster.

`cluster` (session) starts tests/cluster/up into a temporary directory (the
emulated kube-apiserver and Flyte Admin) and stops it at the end; or, when
KW_E2E_KUBECONFIG and KW_E2E_FLYTE_URL are set, points at that real cluster
and flyteadmin instead (tests marked `emulator_only`, and fault injection,
are skipped there).

Cluster API:
  .dir, .env, .emulated
  .kubectl(*args, input=None, check=True, context=None, env=None)
  .run(args, env=None, input=None, check=True)
  .api(method, path, body=None, user="admin", content_type="application/json")
  .update(path, change, user="admin")          # GET, change(obj), PUT; retried on 409
  .request(method, path, body=None, user="admin", content_type=..., headers=None)
  .stream(path, user="admin", timeout=10)      # watch events, one dict each
  .flyte(method, path, body=None)
  .fault(server, **rule), .latency(server, ms), .clear_faults()
  .map_service(namespace, name, port), .issue_cert(cn, dns=(), ips=())
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "cluster"))

from kube_cluster import (BIN_DIR, CLUSTER_DIR, KUBECTL, ROOT, USERS, Cluster,  # noqa: E402,F401
                          e2e_mode, read_env_file)


def pytest_collection_modifyitems(config, items):
    if not e2e_mode():
        return
    skip = pytest.mark.skip(reason="needs the emulated cluster (KW_E2E_* points at a "
                                   "real one)")
    for item in items:
        if "emulator_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def bin_dir():
    # KW_BIN_DIR: run the suites with other builds of the programs (clang, sanitizers).
    return BIN_DIR


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, bin_dir):
    if e2e_mode():
        d = tmp_path_factory.mktemp("e2e")
        env = {"KUBECONFIG": os.environ["KW_E2E_KUBECONFIG"],
               "FLYTE_PLATFORM_URL": os.environ["KW_E2E_FLYTE_URL"],
               "CLUSTER_DIR": str(d)}
        if os.environ.get("KW_E2E_FLYTE_CA"):
            env["FLYTE_PLATFORM_CA_CERT_FILE_PATH"] = os.environ["KW_E2E_FLYTE_CA"]
        yield Cluster(d, env, bin_dir, emulated=False)
        return
    d = tmp_path_factory.mktemp("cluster")
    r = subprocess.run([str(CLUSTER_DIR / "up"), str(d)], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        subprocess.run([str(CLUSTER_DIR / "down"), str(d)], capture_output=True)
        raise RuntimeError("tests/cluster/up failed:\n%s%s" % (r.stdout, r.stderr))
    try:
        yield Cluster(d, read_env_file(d / "env"), bin_dir)
    finally:
        subprocess.run([str(CLUSTER_DIR / "down"), str(d)], capture_output=True,
                       timeout=60)


@pytest.fixture
def clean_faults(cluster):
    yield
    cluster.clear_faults()
