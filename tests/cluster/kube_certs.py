"""Throwaway PKI of the local cluster (python3-cryptography): a CA, serving
certificates for 127.0.0.1 / ::1 / localhost (or any names, e.g. a webhook's
<svc>.<ns>.svc), and client certificates (CN = user, O = groups).
"""
import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _validity(builder, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)) \
        .not_valid_after(now + datetime.timedelta(days=days))


def make_ca(cn="local-cluster-ca", days=30):
    """Return (key PEM, cert PEM)."""
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = x509.CertificateBuilder().subject_name(name).issuer_name(name) \
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
    b = _validity(b, days)
    b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                      crl_sign=True, content_commitment=False,
                                      key_encipherment=True, data_encipherment=False,
                                      key_agreement=False, encipher_only=False,
                                      decipher_only=False), critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
    cert = b.sign(key, hashes.SHA256())
    return _pem_key(key), _pem_cert(cert)


def issue(ca_key_pem, ca_cert_pem, cn, orgs=(), dns=(), ips=(), server=True,
          client=False, days=30):
    """Return (key PEM, cert PEM) signed by the CA."""
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    key = _key()
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    b = x509.CertificateBuilder().subject_name(x509.Name(attrs)) \
        .issuer_name(ca_cert.subject).public_key(key.public_key()) \
        .serial_number(x509.random_serial_number())
    b = _validity(b, days)
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    b = b.add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                      content_commitment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=False,
                                      crl_sign=False, encipher_only=False,
                                      decipher_only=False), critical=True)
    sans = [x509.DNSName(d) for d in dns] + \
        [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        ca_key.public_key()), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    return _pem_key(key), _pem_cert(cert)


LOCAL_DNS = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             "kubernetes.default.svc.cluster.local")
LOCAL_IPS = ("127.0.0.1", "::1")


def serving(ca_key_pem, ca_cert_pem, cn, dns=LOCAL_DNS, ips=LOCAL_IPS):
    return issue(ca_key_pem, ca_cert_pem, cn, dns=dns, ips=ips, server=True)


def client(ca_key_pem, ca_cert_pem, user, groups=()):
    return issue(ca_key_pem, ca_cert_pem, user, orgs=groups, server=False, client=True)
