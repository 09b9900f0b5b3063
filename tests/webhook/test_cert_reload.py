"""The serving certificate is checked before it serves, at start and on
reload: within its validity window, not a CA, key usage allowing the
handshake, extended key usage including serverAuth. A refused reload keeps
the old certificate serving and logs one line (never the key); a refused
start exits 1 with one line. Certificates made here with python3-cryptography,
signed by a CA from the real workspace-certs."""
import datetime
import ipaddress
import json
import os
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from whlib import WEBHOOK, base_args, run_certs, serial_of, tls_context, wait_for

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
ANY_EKU = x509.ObjectIdentifier("2.5.29.37.0")
RSA_KX = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA:+ECDHE-RSA"


def usage(*names):
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment",
                           "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                           "encipher_only", "decipher_only"), False)
    flags.update(dict.fromkeys(names, True))
    return x509.KeyUsage(**flags)


def write(path, data):
    """Replace a file at once, as a Secret volume or cert-manager does."""
    tmp = path.with_suffix(".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def leaf(pki, key, not_before=None, not_after=None, ca=None, key_usage=None, eku=None):
    """A certificate for 127.0.0.1 signed by pki's CA (PEM); extensions only as given."""
    issuer = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")]))
         .issuer_name(issuer.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before or NOW - DAY).not_valid_after(not_after or NOW + DAY)
         .add_extension(x509.SubjectAlternativeName(
             [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False))
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    if key_usage is not None:
        b = b.add_extension(key_usage, True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), False)
    return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    run_certs("generate", "--service", "workspace-webhook", "--namespace", "workspace-system",
              "--out", d, "--ip", "127.0.0.1")
    return d


def own_key(pki):
    return serialization.load_pem_private_key((pki / "tls.key").read_bytes(), None)


def reloads(w, result):
    return w.metrics()['workspace_webhook_certificate_reloads_total{result="%s"}' % result]


def refused_line(w):
    lines = [l for l in w.logs() if l.get("level") == "error"
             and l.get("msg", "").startswith("keeping the current certificate: ")]
    return lines[0]["msg"] if len(lines) == 1 else None


UNUSABLE = {
    "expired": (dict(not_before=NOW - 3 * DAY, not_after=NOW - DAY),
                "certificate '{crt}' expired at %s" % (NOW - DAY).strftime("%Y-%m-%dT%H:%M:%SZ")),
    "ca": (dict(ca=True, key_usage=usage("key_cert_sign", "crl_sign")),
           "certificate '{crt}' is a CA certificate (basicConstraints CA:TRUE), not a "
           "serving certificate"),
    "cert-sign-only": (dict(ca=False, key_usage=usage("key_cert_sign")),
                       "certificate '{crt}' has key usage without digitalSignature: it "
                       "cannot serve TLS"),
    "client-auth-only": (dict(eku=[ExtendedKeyUsageOID.CLIENT_AUTH]),
                         "certificate '{crt}' has extended key usage without serverAuth: it "
                         "cannot serve TLS"),
    # Go's clients take it, OpenSSL's refuse it for a server
    "any-eku-only": (dict(eku=[ANY_EKU]), "certificate '{crt}' has extended key usage "
                                          "without serverAuth: it cannot serve TLS"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_unusable_certificate_reload_keeps_the_old(start_webhook, pki, case):
    opts, msg = UNUSABLE[case]
    w = start_webhook(cert_dir=pki)
    before = serial_of(w.port, pki / "ca.crt")
    write(pki / "tls.crt", leaf(pki, own_key(pki), **opts))
    assert wait_for(lambda: reloads(w, "failure") == 1, timeout=5)
    assert serial_of(w.port, pki / "ca.crt") == before
    line = wait_for(lambda: refused_line(w))
    assert line == "keeping the current certificate: " + msg.format(crt=pki / "tls.crt"), line
    assert "PRIVATE KEY" not in (w.log_path.read_text())
    assert reloads(w, "success") == 0
    # the next good certificate is taken
    write(pki / "tls.crt", leaf(pki, own_key(pki), ca=False, key_usage=usage("digital_signature"),
                                eku=[ExtendedKeyUsageOID.SERVER_AUTH]))
    assert wait_for(lambda: reloads(w, "success") == 1, timeout=5)
    assert serial_of(w.port, pki / "ca.crt") != before


def test_certificate_not_valid_yet_serves_from_its_not_before(start_webhook, pki):
    w = start_webhook(cert_dir=pki)
    before = serial_of(w.port, pki / "ca.crt")
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
        datetime.timedelta(seconds=3)
    write(pki / "tls.crt", leaf(pki, own_key(pki), not_before=start))
    assert wait_for(lambda: reloads(w, "failure") == 1, timeout=5)
    assert serial_of(w.port, pki / "ca.crt") == before
    line = wait_for(lambda: refused_line(w))
    assert line.endswith("certificate '%s' is not valid before %s"
                         % (pki / "tls.crt", start.strftime("%Y-%m-%dT%H:%M:%SZ"))), line
    # the same files are tried again once valid, without another change
    assert wait_for(lambda: reloads(w, "success") == 1, timeout=10)
    assert serial_of(w.port, pki / "ca.crt") != before
    assert reloads(w, "failure") == 1


def test_certificates_that_can_serve_are_taken(start_webhook, pki):
    """No extensions at all; serverAuth among others; RSA with digitalSignature."""
    w = start_webhook(cert_dir=pki)
    serials = {serial_of(w.port, pki / "ca.crt")}
    both = [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
    for n, opts in enumerate(({}, {"eku": both, "key_usage": usage("digital_signature",
                                                                   "key_agreement")}), 1):
        write(pki / "tls.crt", leaf(pki, own_key(pki), **opts))
        assert wait_for(lambda: reloads(w, "success") == n, timeout=5), opts
        serials.add(serial_of(w.port, pki / "ca.crt"))
    assert len(serials) == 3 and reloads(w, "failure") == 0
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # the key first, then its certificate (a refresh in between refuses the mismatch)
    write(pki / "tls.key", pem_key(key))
    write(pki / "tls.crt", leaf(pki, key, key_usage=usage("digital_signature",
                                                          "key_encipherment")))
    assert wait_for(lambda: reloads(w, "success") == 3, timeout=5)
    assert serial_of(w.port, pki / "ca.crt") not in serials


def test_rsa_key_encipherment_only_with_rsa_key_exchange(start_webhook, pki):
    """keyEncipherment serves RSA key exchange only: refused with the default
    priorities (ECDHE: every handshake would fail), taken where RSA key
    exchange is offered."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = leaf(pki, key, key_usage=usage("key_encipherment"))
    (pki / "rsa.key").write_bytes(pem_key(key))
    (pki / "rsa.crt").write_bytes(cert)
    args = ["--listen", "127.0.0.1:0", "--tls-cert-file", pki / "rsa.crt",
            "--tls-private-key-file", pki / "rsa.key"]
    r = subprocess.run([str(WEBHOOK)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1
    assert "cannot start: certificate '%s' has key usage without digitalSignature: it cannot " \
           "serve TLS" % (pki / "rsa.crt") in r.stderr
    w = start_webhook(*args, "--tls-priorities", RSA_KX, default_args=False)
    ctx = tls_context(pki / "ca.crt", maximum=ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers("AES128-GCM-SHA256:AES256-GCM-SHA384")
    assert serial_of(w.port, None, ctx) == x509.load_pem_x509_certificate(cert).serial_number


@pytest.mark.parametrize("case", ["expired", "ca", "client-auth-only"])
def test_unusable_certificate_refused_at_start(pki, case):
    opts, msg = UNUSABLE[case]
    write(pki / "tls.crt", leaf(pki, own_key(pki), **opts))
    r = subprocess.run([str(WEBHOOK)] + [str(a) for a in base_args(pki)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    lines = [json.loads(l) for l in r.stderr.splitlines()]
    (err,) = [l for l in lines if l["level"] == "error"]
    assert err["msg"] == "cannot start: " + msg.format(crt=pki / "tls.crt"), err
    assert "PRIVATE KEY" not in r.stderr
