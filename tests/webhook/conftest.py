"""Fixtures of the webhook tests (helpers in whlib.py):

  certs                     (session) dir with ca.crt, ca.key, tls.crt, tls.key,
                            made by the real workspace-certs
  webhook                   (module)  the real bin/workspace-webhook on a free
                            loopback port, default platform + a Flyte endpoint
  start_webhook(*args, ...) (function) start another one; stopped at test end
"""
import pytest

from whlib import FLYTE_URL, Webhook, base_args, run_certs


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("webhook-certs") / "pki"
    run_certs("generate", "--service", "workspace-webhook", "--namespace", "workspace-system",
              "--out", d, "--ip", "127.0.0.1", "--days", "30")
    return d


@pytest.fixture(scope="module")
def webhook(certs, tmp_path_factory):
    w = Webhook(base_args(certs, "--flyte-endpoint", FLYTE_URL),
                tmp_path_factory.mktemp("webhook"), certs / "ca.crt")
    yield w
    w.stop()


@pytest.fixture
def start_webhook(certs, tmp_path):
    started = []

    def start(*args, cert_dir=None, default_args=True, env=None):
        d = cert_dir or certs
        argv = base_args(d, *args) if default_args else list(args)
        w = Webhook(argv, tmp_path, d / "ca.crt", env=env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
