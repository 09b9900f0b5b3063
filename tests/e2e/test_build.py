"""The build: each program records (readelf -d NEEDED) only the libraries it
uses, so the krew archive's plugin needs no server libraries and the admission
server never carries libcurl."""
import subprocess

import pytest

from kube_cluster import ROOT

# program -> the libraries it may need (sonames without the version suffix)
ALLOWED = {
    "kubectl-workspace": {"libcurl", "libcjson", "libyaml-0", "libc", "libm", "libssl", "libcrypto"},
    "workspace-webhook": {"libcjson", "libmicrohttpd", "libgnutls", "libyaml-0", "libc", "libm",
                          "libssl", "libcrypto"},
    "workspace-controller": {"libcurl", "libcjson", "libmicrohttpd", "libyaml-0", "libc", "libm"},
    "workspace-certs": {"libcjson", "libcrypto", "libyaml-0", "libc", "libm"},
}
# what must never appear, whatever the table above allows
FORBIDDEN = {
    "kubectl-workspace": {"libmicrohttpd", "libgnutls"},
    "workspace-webhook": {"libcurl"},
    "workspace-certs": {"libcurl", "libmicrohttpd", "libgnutls"},
}


def needed(program):
    out = subprocess.run(["readelf", "-d", str(ROOT / "bin" / program)], capture_output=True,
                         text=True, check=True).stdout
    libs = set()
    for line in out.splitlines():
        if "(NEEDED)" in line:
            soname = line.split("[", 1)[1].rstrip("]")
            libs.add(soname.split(".so", 1)[0])
    return libs


@pytest.mark.parametrize("program", sorted(ALLOWED))
def test_program_links_only_what_it_uses(program):
    libs = needed(program)
    assert "libc" in libs
    assert libs <= ALLOWED[program], "%s needs %s" % (program, sorted(libs - ALLOWED[program]))
    assert not libs & FORBIDDEN.get(program, set())
