#!/usr/bin/python3
"""The gRPC code of flyteidl for the emulated Flyte Admin and the test client:
fetches the npm package @flyteorg/flyteidl (pinned), strips the
protoc-gen-openapiv2 options (documentation only), and compiles its protos
with Debian's protoc + grpc_python_plugin into build/flyteidl-VERSION/py.

    tests/cluster/flyteidl_build.py        # fetch if needed, compile if needed; prints the dir

Compiled once and cached (a lock keeps parallel cluster starts from racing);
nothing generated is committed. Python users call python_dir().
"""
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

VERSION = "1.16.5"
PACKAGE = "@flyteorg/flyteidl"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(os.environ.get("WS_BUILD_DIR", os.path.join(ROOT, "build")),
                   "flyteidl-" + VERSION)
# google/api/{annotations,http}.proto as Debian ships them (grpc-gateway's copy).
GOOGLEAPIS = "/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis"
PROTOC = "/usr/bin/protoc"
GRPC_PLUGIN = "/usr/bin/grpc_python_plugin"
# What `make deps` installs for this; named in the error when something is missing.
NEEDS = ("protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio "
         "golang-github-grpc-ecosystem-grpc-gateway-dev npm")


class BuildError(Exception):
    pass


def _run(argv, cwd=None):
    try:
        r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise BuildError("%s is not installed (make deps installs: %s)" % (argv[0], NEEDS))
    if r.returncode != 0:
        raise BuildError("%s failed (exit %d): %s" % (" ".join(argv[:3]), r.returncode,
                                                      (r.stderr or r.stdout).strip()[-2000:]))
    return r.stdout


def fetch():
    """The npm package unpacked in OUT/package (npm pack: no install scripts run)."""
    dest = os.path.join(OUT, "package")
    if os.path.isdir(os.path.join(dest, "protos", "flyteidl")):
        return dest
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        _run(["npm", "pack", "--silent", "--pack-destination", tmp,
              "%s@%s" % (PACKAGE, VERSION)], cwd=tmp)
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if len(tgz) != 1:
            raise BuildError("npm pack %s@%s left no tarball" % (PACKAGE, VERSION))
        with tarfile.open(os.path.join(tmp, tgz[0])) as t:
            t.extractall(tmp, members=[m for m in t.getmembers()
                                       if m.name.startswith("package/protos/")
                                       and ".." not in m.name])
        os.replace(os.path.join(tmp, "package"), dest)
    return dest


_OPTION = re.compile(r"option\s*\(\s*grpc\.gateway\.protoc_gen_openapiv2\.[^)]*\)\s*=\s*")


def strip_openapiv2(text):
    """Remove the openapiv2 import and every `option (grpc.gateway.protoc_gen_openapiv2...)
    = {...};` (nested braces, strings) -- documentation only, not needed to serve."""
    text = re.sub(r'^import\s+"protoc-gen-openapiv2/[^"]*";\s*$', "", text, flags=re.M)
    out, pos = [], 0
    for m in _OPTION.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos:m.start()])
        i, depth, quote = m.end(), 0, None
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == ";" and depth == 0:
                break
            i += 1
        pos = i + 1
    out.append(text[pos:])
    text = "".join(out)
    if "openapiv2" in text:
        raise BuildError("an openapiv2 option was left after stripping")
    return text


def compile_protos(package):
    py = os.path.join(OUT, "py")
    if os.path.exists(os.path.join(py, ".complete")):
        return py
    for tool in (PROTOC, GRPC_PLUGIN):
        if not os.access(tool, os.X_OK):
            raise BuildError("%s is missing (make deps installs: %s)" % (tool, NEEDS))
    if not os.path.exists(os.path.join(GOOGLEAPIS, "google", "api", "annotations.proto")):
        raise BuildError("google/api protos are missing under %s (make deps installs: %s)"
                         % (GOOGLEAPIS, NEEDS))
    if not os.path.exists("/usr/include/google/protobuf/timestamp.proto"):
        raise BuildError("protobuf well-known types are missing (make deps installs: %s)" % NEEDS)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        src, gen = os.path.join(tmp, "src"), os.path.join(tmp, "py")
        files = []
        protos = os.path.join(package, "protos")
        for d, _, names in os.walk(os.path.join(protos, "flyteidl")):
            for n in names:
                if n.endswith(".proto"):
                    rel = os.path.relpath(os.path.join(d, n), protos)
                    os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
                    with open(os.path.join(protos, rel)) as f:
                        text = strip_openapiv2(f.read())
                    with open(os.path.join(src, rel), "w") as f:
                        f.write(text)
                    files.append(rel)
        os.makedirs(gen)
        api = ["google/api/annotations.proto", "google/api/http.proto"]
        _run([PROTOC, "-I", src, "-I", GOOGLEAPIS, "-I", "/usr/include",
              "--python_out", gen, "--grpc_python_out", gen,
              "--plugin=protoc-gen-grpc_python=" + GRPC_PLUGIN] + sorted(files) + api)
        open(os.path.join(gen, ".complete"), "w").close()
        shutil.rmtree(py, ignore_errors=True)
        os.replace(gen, py)
    return py


def python_dir():
    """Fetch and compile when needed (once, under a lock); the dir to put on sys.path."""
    py = os.path.join(OUT, "py")
    if os.path.exists(os.path.join(py, ".complete")):
        return py
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return compile_protos(fetch())


def import_path():
    """python_dir() put first on sys.path; raises BuildError with the reason."""
    py = python_dir()
    if py not in sys.path:
        sys.path.insert(0, py)
    try:
        import grpc  # noqa: F401
    except ImportError:
        raise BuildError("python3-grpcio is not installed (make deps installs: %s)" % NEEDS)
    return py


if __name__ == "__main__":
    try:
        print(python_dir())
    except BuildError as e:
        sys.stderr.write("flyteidl_build: %s\n" % e)
        sys.exit(1)
