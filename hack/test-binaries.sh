#!/usr/bin/env bash
# Builds (or links from the cache) every server the tests run: the envtest
# binaries (kube-apiserver, etcd, kubectl), MinIO and the duckdb tool. Prints
# the environment to use on stdout, one KEY=value a line, for example:
#
#   export $(hack/test-binaries.sh)
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HACK")

"$HACK/k8s-binaries.sh"
"$HACK/minio.sh"
"$HACK/duckdb.sh"

echo "KUBEBUILDER_ASSETS=$ROOT/bin/k8s"
echo "DISTRICTLAKE_MINIO=$ROOT/bin/minio"
echo "DISTRICTLAKE_DUCKDB=$ROOT/bin/duckdb"
