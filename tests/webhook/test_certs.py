"""workspace-certs: generate, rotate, check, inject-ca, checked with
python3-cryptography and YAML/JSON parsers rather than with the tool itself."""
import base64
import json
import os
import stat
import time

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from whlib import run_certs


def load(path):
    return x509.load_pem_x509_certificate(open(path, "rb").read())


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (ext.get_values_for_type(x509.DNSName),
            [str(a) for a in ext.get_values_for_type(x509.IPAddress)])


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    r = run_certs("generate", "--service", "workspace-webhook", "--namespace",
                  "workspace-system", "--out", d, "--ip", "10.0.0.7", "--ip", "::1",
                  "--dns", "webhook.example.com", "--days", "90")
    assert "wrote CA certificate" in r.stdout
    return d


def test_generate(pki):
    assert sorted(os.listdir(pki)) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]
    for key in ("ca.key", "tls.key"):
        assert stat.S_IMODE(os.stat(pki / key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(pki).st_mode) == 0o700
    ca, crt = load(pki / "ca.crt"), load(pki / "tls.crt")
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert not crt.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert crt.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    assert crt.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        "workspace-webhook.workspace-system.svc"
    dns, ips = sans(crt)
    assert dns == ["workspace-webhook", "workspace-webhook.workspace-system",
                   "workspace-webhook.workspace-system.svc",
                   "workspace-webhook.workspace-system.svc.cluster.local",
                   "webhook.example.com"]
    assert ips == ["10.0.0.7", "::1"]
    assert crt.issuer == ca.subject
    ca.public_key().verify(crt.signature, crt.tbs_certificate_bytes,
                           ec.ECDSA(crt.signature_hash_algorithm))
    days = (crt.not_valid_after - crt.not_valid_before).days
    assert 89 <= days <= 90
    assert isinstance(crt.public_key(), ec.EllipticCurvePublicKey)
    assert crt.serial_number != ca.serial_number


def test_generate_refuses_to_replace_the_ca(pki):
    before = (pki / "ca.crt").read_bytes()
    r = run_certs("generate", "--service", "x", "--namespace", "y", "--out", pki, check=False)
    assert r.returncode == 1
    assert "use 'workspace-certs rotate'" in r.stderr
    assert (pki / "ca.crt").read_bytes() == before
    run_certs("generate", "--service", "x", "--namespace", "y", "--out", pki, "--force")
    assert (pki / "ca.crt").read_bytes() != before


def test_generate_rsa_and_bad_input(tmp_path):
    run_certs("generate", "--service", "s", "--namespace", "n", "--out", tmp_path / "r",
              "--key-type", "rsa")
    assert isinstance(load(tmp_path / "r" / "tls.crt").public_key(), rsa.RSAPublicKey)
    for args, needle in [
        (["--service", "S_bad", "--namespace", "n"], "--service"),
        (["--service", "s", "--namespace", "n", "--ip", "300.1.1.1"], "not an IPv4 or IPv6"),
        (["--service", "s", "--namespace", "n", "--days", "0"], "--days '0'"),
        (["--service", "s", "--namespace", "n", "--key-type", "dsa"], "expected ecdsa or rsa"),
        (["--service", "s"], "--service and --namespace go together"),
        (["--service", "s", "--namespace", "n", "--bogus"], "unknown option"),
    ]:
        r = run_certs("generate", "--out", tmp_path / "bad", *args, check=False)
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr, (args, r.stderr)
        assert not (tmp_path / "bad").exists()


def test_rotate_keeps_ca_and_names(pki):
    ca_before = (pki / "ca.crt").read_bytes()
    old = load(pki / "tls.crt")
    old_key = (pki / "tls.key").read_bytes()
    time.sleep(1.1)
    r = run_certs("rotate", "--out", pki, "--days", "30")
    assert "wrote serving certificate" in r.stdout
    new = load(pki / "tls.crt")
    assert (pki / "ca.crt").read_bytes() == ca_before
    assert (pki / "tls.key").read_bytes() != old_key
    assert new.serial_number != old.serial_number
    assert sans(new) == sans(old)
    assert new.subject == old.subject
    assert new.not_valid_before > old.not_valid_before
    assert stat.S_IMODE(os.stat(pki / "tls.key").st_mode) == 0o600
    assert not [f for f in os.listdir(pki) if ".tmp-" in f]
    r = run_certs("check", "--cert", pki / "tls.crt", "--ca", pki / "ca.crt", "--key",
                  pki / "tls.key", "--host", "workspace-webhook.workspace-system.svc")
    assert "signed by the CA" in r.stdout


def test_rotate_with_new_names_and_without_ca(pki, tmp_path):
    run_certs("rotate", "--out", pki, "--service", "other", "--namespace", "ns")
    assert sans(load(pki / "tls.crt"))[0][0] == "other"
    r = run_certs("rotate", "--out", tmp_path / "nothing", check=False)
    assert r.returncode == 1 and "cannot read" in r.stderr


def test_check(pki, tmp_path):
    r = run_certs("check", "--cert", pki / "tls.crt", "--warn-days", "30")
    assert r.returncode == 0
    assert "DNS name workspace-webhook.workspace-system.svc" in r.stdout
    assert "IP address 10.0.0.7" in r.stdout
    assert "certificate expires " in r.stdout
    r = run_certs("check", "--cert", pki / "tls.crt", "--warn-days", "100", check=False)
    assert r.returncode == 1 and "within --warn-days 100" in r.stderr
    other = tmp_path / "other"
    run_certs("generate", "--service", "a", "--namespace", "b", "--out", other)
    r = run_certs("check", "--cert", pki / "tls.crt", "--ca", other / "ca.crt", check=False)
    assert r.returncode == 1 and "not signed by the CA" in r.stderr
    r = run_certs("check", "--cert", pki / "tls.crt", "--key", other / "tls.key", check=False)
    assert r.returncode == 1 and "is not the certificate's key" in r.stderr
    r = run_certs("check", "--cert", pki / "tls.crt", "--host", "evil.example.com",
                  check=False)
    assert r.returncode == 1 and "not valid for 'evil.example.com'" in r.stderr
    r = run_certs("check", "--cert", tmp_path / "missing.crt", check=False)
    assert r.returncode == 2
    (tmp_path / "junk.crt").write_text("junk")
    r = run_certs("check", "--cert", tmp_path / "junk.crt", check=False)
    assert r.returncode == 2 and "is not a PEM certificate" in r.stderr
    for args in ([pki / "tls.key"], ["--cert"]):
        assert run_certs("check", *args, check=False).returncode == 2
    assert "BEGIN" not in r.stdout + r.stderr


MANIFEST = """\
# webhook configurations, as kubectl kustomize writes them
apiVersion: v1
kind: Namespace
metadata:
  name: workspace-system
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: m
webhooks:
- admissionReviewVersions:
  - v1
  clientConfig:
    service:
      name: workspace-webhook
      namespace: workspace-system
      path: /mutate
  name: a.example.com
  sideEffects: None
- clientConfig:   # first key of the item
    caBundle: b2xk
    url: https://hooks.example.com/mutate
  name: b.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        caBundle: dW50b3VjaGVk
        service: {name: conv, namespace: conv}
---
kind: "ValidatingWebhookConfiguration"
apiVersion: admissionregistration.k8s.io/v1
metadata:
  name: v
webhooks:
  - name: c.example.com
    clientConfig:
      caBundle: |
        b2xkIG11bHRp
        bGluZQ==
      service:
        name: workspace-webhook
        namespace: workspace-system
    admissionReviewVersions: ["v1"]
    sideEffects: None
"""


def test_inject_ca_yaml(pki, tmp_path):
    src = tmp_path / "in.yaml"
    src.write_text(MANIFEST)
    r = run_certs("inject-ca", "--ca", pki / "ca.crt", "--in", src)
    assert "caBundle set in 3 webhooks" in r.stderr
    want = base64.b64encode((pki / "ca.crt").read_bytes()).decode()
    docs = list(yaml.safe_load_all(r.stdout))
    m, crd, v = docs[1], docs[2], docs[3]
    assert [w["clientConfig"]["caBundle"] for w in m["webhooks"]] == [want, want]
    assert v["webhooks"][0]["clientConfig"]["caBundle"] == want
    assert v["webhooks"][0]["clientConfig"]["service"]["name"] == "workspace-webhook"
    assert crd["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"] == "dW50b3VjaGVk"
    assert m["webhooks"][1]["clientConfig"]["url"] == "https://hooks.example.com/mutate"
    # everything else is byte for byte the same, comments included
    assert "# webhook configurations, as kubectl kustomize writes them" in r.stdout
    assert "- clientConfig:   # first key of the item" in r.stdout
    strip = [l for l in r.stdout.splitlines() if "caBundle" not in l]
    orig = [l for l in MANIFEST.splitlines() if "caBundle" not in l
            and l.strip() not in ("b2xkIG11bHRp", "bGluZQ==")]
    assert strip == orig
    # in place, twice: idempotent
    run_certs("inject-ca", "--ca", pki / "ca.crt", "--in", src, "--out", src)
    once = src.read_text()
    run_certs("inject-ca", "--ca", pki / "ca.crt", "--in", src, "--out", src)
    assert src.read_text() == once == r.stdout


def test_inject_ca_json_and_stdin(pki, tmp_path):
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "admissionregistration.k8s.io/v1",
         "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "v"},
         "webhooks": [{"name": "x", "clientConfig": {"service": {"name": "s",
                                                                  "namespace": "n"}}}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]}
    import subprocess
    from whlib import CERTS
    r = subprocess.run([str(CERTS), "inject-ca", "--ca", str(pki / "ca.crt")],
                       input=json.dumps(doc), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    want = base64.b64encode((pki / "ca.crt").read_bytes()).decode()
    assert out["items"][0]["webhooks"][0]["clientConfig"]["caBundle"] == want
    assert out["items"][1] == doc["items"][1]


def test_inject_ca_refusals(pki, tmp_path):
    cases = [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no MutatingWebhook"),
        ("kind: MutatingWebhookConfiguration\nwebhooks:\n- name: a\n  clientConfig: "
         "{url: 'https://x'}\n", "flow style is not supported"),
        ('{"kind": "ValidatingWebhookConfiguration", "webhooks": [{"name": "a"}]}',
         "has no clientConfig"),
        ("{not json", "invalid JSON"),
    ]
    for text, needle in cases:
        p = tmp_path / "m.yaml"
        p.write_text(text)
        r = run_certs("inject-ca", "--ca", pki / "ca.crt", "--in", p, check=False)
        assert r.returncode == 1, text
        assert needle in r.stderr, (text, r.stderr)
    r = run_certs("inject-ca", "--in", tmp_path / "m.yaml", check=False)
    assert r.returncode == 2 and "--ca FILE is required" in r.stderr
    r = run_certs("inject-ca", "--ca", pki / "tls.key", "--in", tmp_path / "m.yaml",
                  check=False)
    assert r.returncode == 1 and "is not a PEM certificate" in r.stderr


def test_inject_ca_crlf(pki, tmp_path):
    p = tmp_path / "crlf.yaml"
    p.write_bytes(b"kind: MutatingWebhookConfiguration\r\nwebhooks:\r\n- name: a\r\n"
                  b"  clientConfig:\r\n    url: https://x\r\n")
    run_certs("inject-ca", "--ca", pki / "ca.crt", "--in", p, "--out", p)
    out = p.read_bytes()
    assert b"  clientConfig:\r\n    caBundle: LS0t" in out and b"=\r\n    url:" in out
    assert yaml.safe_load(out)["webhooks"][0]["clientConfig"]["url"] == "https://x"


def test_usage(pki):
    from whlib import CERTS
    import subprocess
    r = subprocess.run([str(CERTS)], capture_output=True, text=True)
    assert r.returncode == 2 and "generate" in r.stderr
    r = subprocess.run([str(CERTS), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for cmd in ("generate", "rotate", "inject-ca", "check"):
        assert cmd in r.stdout
        r2 = subprocess.run([str(CERTS), cmd, "--help"], capture_output=True, text=True)
        assert r2.returncode == 0 and "usage: workspace-certs " + cmd in r2.stdout
    r = subprocess.run([str(CERTS), "frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["check"], "workspace-certs: error: --cert FILE is required (see --help)"),
    (["check", "--cert", "x", "extra"], "workspace-certs: error: unexpected argument (see --help)"),
    (["check", "--bogus"], "workspace-certs: error: --bogus: unknown option (see --help)"),
    (["check", "--cert"], "workspace-certs: error: --cert: needs a value (see --help)"),
    (["inject-ca"], "workspace-certs: error: --ca FILE is required (see --help)"),
    (["inject-ca", "--ca", "x", "extra"], "workspace-certs: error: unexpected argument (see --help)"),
    (["inject-ca", "--bogus"], "workspace-certs: error: --bogus: unknown option (see --help)"),
    (["inject-ca", "--ca"], "workspace-certs: error: --ca: needs a value (see --help)"),
])
def test_check_and_inject_usage_errors(args, message):
    r = run_certs(*args, check=False)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [message]
