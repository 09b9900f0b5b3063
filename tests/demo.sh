#!/bin/sh
# make demo: the seed example end to end on the built-in local cluster (an
# emulated kube-apiserver and Flyte Admin, see tests/cluster/README.md):
# plan, create, look at the result with kubectl, describe, env, then the data
# scientist's journey: register and run over gRPC, printing the execution's console URL.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/kubectl-workspace-demo.XXXXXX)
trap 'tests/cluster/down "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT INT TERM
tests/cluster/up "$dir" >/dev/null
set -a
. "$dir/env"
set +a
export PATH="${KW_BIN_DIR:-$PWD/bin}:$PATH" HOME="$dir/home"
mkdir -p "$HOME"
id=ws-customer-segmentation-analysis-001
ns=flyte-$id

run() {
	printf '\n$'
	for a in "$@"; do
		case "$a" in
		*" "*) printf " '%s'" "$a" ;;
		*) printf ' %s' "$a" ;;
		esac
	done
	printf '\n'
	"$@"
}

echo "Local cluster: API server $KUBE_APISERVER_URL, Flyte Admin $FLYTE_PLATFORM_URL"
run kubectl workspace create "Customer Segmentation Analysis" --owner alice@company.com \
	--member bob=contributor --service flyte --dry-run=client
run kubectl workspace create "Customer Segmentation Analysis" --owner alice@company.com \
	--member bob=contributor --service flyte --yes
run kubectl get namespace "$ns" --show-labels
run kubectl get resourcequota,serviceaccount,networkpolicy,role,rolebinding -n "$ns"
run kubectl get resourcequota "$id-quota" -n "$ns" -o jsonpath='{.spec.hard}'
echo
run kubectl get configmap -n workspace-system -l app=workspace-config
run kubectl workspace list
run kubectl workspace describe "$id"
run kubectl workspace env "$id"
# The data scientist's side: only what `env` printed, then a pyflyte-like client
# (gRPC, tests/cluster/flyte_client.py) registers a task, a workflow and a launch
# plan and runs it in the workspace's project, with no project flag.
printf '\n$ eval "$(kubectl workspace env %s)"\n' "$id"
envout=$(kubectl workspace env "$id")
printf '$ tests/cluster/flyte_client.py register-and-run   # plays pyflyte register + run --remote\n'
env -i PATH=/usr/bin:/bin HOME="$HOME" sh -c "$envout
exec /usr/bin/python3 tests/cluster/flyte_client.py register-and-run"
run kubectl get flyteworkflows,pods -n "$ns"
printf '\n$ curl %s/api/v1/projects/%s\n' "$FLYTE_PLATFORM_URL" "$id"
curl -sS --cacert "$FLYTE_PLATFORM_CA_CERT_FILE_PATH" -H 'Accept: application/json' \
	"$FLYTE_PLATFORM_URL/api/v1/projects/$id"
echo
run kubectl workspace create "Customer Segmentation Analysis" --owner alice@company.com \
	--member bob=contributor --service flyte --yes
