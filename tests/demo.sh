#!/bin/sh
# make demo: the seed example end to end on the built-in local cluster (an
# emulated kube-apiserver and Flyte Admin, see tests/cluster/README.md):
# plan, create, look at the result with kubectl, describe, env.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/kubectl-workspace-demo.XXXXXX)
trap 'tests/cluster/down "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT INT TERM
tests/cluster/up "$dir" >/dev/null
set -a
. "$dir/env"
set +a
export PATH="$PWD/bin:$PATH" HOME="$dir/home"
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
printf '\n$ curl %s/api/v1/projects/%s\n' "$FLYTE_PLATFORM_URL" "$id"
curl -sS --cacert "$FLYTE_PLATFORM_CA_CERT_FILE_PATH" -H 'Accept: application/json' \
	"$FLYTE_PLATFORM_URL/api/v1/projects/$id"
echo
run kubectl workspace create "Customer Segmentation Analysis" --owner alice@company.com \
	--member bob=contributor --service flyte --yes
