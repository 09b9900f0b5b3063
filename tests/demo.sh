#!/bin/sh
# make demo: the seed example. Prints the plan of "Customer Segmentation
# Analysis" (owner alice, member bob as contributor) without a cluster.
set -eu
cd "$(dirname "$0")/.."
PATH="$PWD/bin:$PATH"
echo '$ kubectl workspace create "Customer Segmentation Analysis" --owner alice@company.com \'
echo '      --member bob=contributor --service flyte --dry-run=client'
kubectl-workspace create "Customer Segmentation Analysis" --owner alice@company.com \
	--member bob=contributor --service flyte --dry-run=client
echo
echo '$ kubectl workspace create ... --dry-run=client -o yaml'
kubectl-workspace create "Customer Segmentation Analysis" --owner alice@company.com \
	--member bob=contributor --service flyte --dry-run=client -o yaml
