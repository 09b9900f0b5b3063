"""The build: each program records (readelf -d NEEDED) only the libraries it
uses, so the krew archive's plugin needs no server libraries and the admission
server never carries libcurl."""
import os
import re
import subprocess

import pytest

from kube_cluster import BIN_DIR, ROOT

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
    out = subprocess.run(["readelf", "-d", str(BIN_DIR / program)], capture_output=True,
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


def make_dry_run(*args):
    """The commands make would run (make -n), as one string."""
    # not the variables of the make that runs these tests (make CC=clang BUILD=... test)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BUILD", "CC", "SAN", "OPT",
                        "WERROR", "CFLAGS", "LDFLAGS", "LDLIBS", "KW_BIN_DIR")}
    r = subprocess.run(["make", "-n", "--no-print-directory"] + list(args), cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_other_builds_keep_their_programs_apart(tmp_path):
    """bin/ is the default build's; any other build (another BUILD, clang,
    sanitizers) links into $(BUILD)/bin, and make test runs those programs."""
    build = tmp_path / "variant"
    out = make_dry_run("BUILD=%s" % build, "CC=clang", "all")
    written = re.findall(r" -o (\S+) ", out)
    programs = [w for w in written if not w.endswith(".o")]
    assert sorted(programs) == sorted(str(build / "bin" / p) for p in ALLOWED), written
    assert "ln -sf kubectl-workspace %s/bin/kubectl_complete-workspace" % build in out
    assert " bin/" not in out, out
    out = make_dry_run("BUILD=%s" % build, "test")
    assert "KW_BIN_DIR=%s/bin tests/run-all" % build in out, out
    # the default build's programs stay in bin/
    out = make_dry_run("-B", "all")
    assert sorted(w for w in re.findall(r" -o (\S+) ", out) if not w.endswith(".o")) == \
        sorted("bin/" + p for p in ALLOWED), out
