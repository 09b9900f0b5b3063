#!/bin/sh
# Install the Debian packages the build, the tests and the demo need.
# As root: apt-get installs what is missing. Otherwise: print the command and fail.
# Then fetches and compiles the flyteidl protos (tests/cluster/flyteidl_build.py).
set -eu
PKGS="gcc make pkg-config ca-certificates curl openssl
clang libclang-rt-dev libcurl4-openssl-dev libcjson-dev libssl-dev libmicrohttpd-dev libgnutls28-dev libyaml-dev libcmocka-dev valgrind
python3-pytest python3-jsonpatch python3-protobuf python3-kubernetes python3-yaml
python3-cryptography
protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio
golang-github-grpc-ecosystem-grpc-gateway-dev"
# npm fetches flyteidl; an npm installed another way (e.g. with its nodejs) will do.
{ command -v npm || [ -x /usr/bin/npm ]; } >/dev/null 2>&1 || PKGS="$PKGS npm"
[ -n "${WS_EXTRA_PKGS:-}" ] && PKGS="$PKGS $WS_EXTRA_PKGS"

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
check_kubectl() {
	if ! command -v kubectl >/dev/null 2>&1; then
		echo "make deps: kubectl is not on PATH; the e2e tests need the real kubectl" >&2
		exit 1
	fi
}
# flyteidl's protos (npm, pinned) compiled for the emulated Flyte Admin's gRPC API.
flyteidl() {
	tests/cluster/flyteidl_build.py >/dev/null
}
cd "$(dirname "$0")/.."
if [ -z "$missing" ]; then
	check_kubectl
	flyteidl
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "make deps: missing packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
check_kubectl
flyteidl
