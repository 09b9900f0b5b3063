#!/bin/sh
# make dist: the plugin archive for krew and its manifest with the real sha256.
# Usage: plugin/dist.sh VERSION OUTDIR [BASE_URI]
# The plugin is taken from KW_BIN_DIR (default bin/: the default build's).
set -eu
version=$1
out=$2
base=${3:-https://github.com/example/kubectl-workspace/releases/download/v$version}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "${KW_BIN_DIR:-bin}/kubectl-workspace" "$stage/"
ln -s kubectl-workspace "$stage/kubectl_complete-workspace"
cp LICENSE "$stage/"
mkdir -p "$out"
archive=kubectl-workspace-linux-amd64.tar.gz
tar -C "$stage" --owner=0 --group=0 --sort=name --mtime=@0 -czf "$out/$archive" .
sha=$(sha256sum "$out/$archive" | cut -d' ' -f1)
sed -e "s|@VERSION@|$version|" -e "s|@URI@|$base/$archive|" -e "s|@SHA256@|$sha|" \
	plugin/krew.yaml > "$out/workspace.yaml"
echo "$out/$archive"
echo "$out/workspace.yaml"
