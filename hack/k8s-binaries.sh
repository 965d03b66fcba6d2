#!/usr/bin/env bash
# Builds Kubernetes test binaries (and etcd) from source through the Go module
# proxy, caches them by version outside the clone and links bin/k8s to them.
#
#   hack/k8s-binaries.sh [component...|all]
#
# Components: kube-apiserver etcd kubectl (the default: what envtest needs)
# kubelet kube-proxy kube-controller-manager kube-scheduler.
# Output: ${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}/k8s/v1.37.2/, a
# complete KUBEBUILDER_ASSETS folder; bin/k8s links to it.
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
DEFAULT=(kube-apiserver etcd kubectl)
ALL=(kube-apiserver etcd kubectl kubelet kube-proxy kube-controller-manager kube-scheduler)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}
OUT=$CACHE/k8s/$K8S_VERSION

log() { echo "k8s-binaries: $*" >&2; }

link() {
	mkdir -p "$ROOT/bin"
	ln -sfn "$OUT" "$ROOT/bin/k8s"
}

missing() {
	local c
	for c in "${WANT[@]}"; do
		[[ -x $OUT/$c ]] || echo "$c"
	done
}

if [[ $# -eq 0 ]]; then
	WANT=("${DEFAULT[@]}")
elif [[ $* == all ]]; then
	WANT=("${ALL[@]}")
else
	WANT=("$@")
fi
for c in "${WANT[@]}"; do
	[[ " ${ALL[*]} " == *" $c "* ]] || { log "unknown component $c (known: ${ALL[*]} all)"; exit 2; }
done

if [[ -z $(missing) ]]; then
	link
	exit 0
fi

mkdir -p "$OUT"
# One build at a time per cache, even across clones.
exec 9>"$CACHE/k8s/.lock"
flock 9

# The wrapper modules are copied so that the build never writes into the repo.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/districtlake-k8s.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cp -R "$ROOT/hack/k8s" "$ROOT/hack/etcd" "$TMP/"

build_date=$(date -u ${SOURCE_DATE_EPOCH:+--date=@$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit= -X $pkg.buildDate=$build_date"
done

for c in $(missing); do
	start=$SECONDS
	if [[ $c == etcd ]]; then
		log "building etcd $ETCD_VERSION"
		(cd "$TMP/etcd" && CGO_ENABLED=0 go build -mod=mod -ldflags "-s -w" -o "$TMP/out/$c" .)
	else
		log "building $c $K8S_VERSION"
		(cd "$TMP/k8s" && CGO_ENABLED=0 go build -mod=mod -ldflags "$ldflags" -o "$TMP/out/$c" "k8s.io/kubernetes/cmd/$c")
	fi
	mv -f "$TMP/out/$c" "$OUT/$c.tmp.$$"
	mv -f "$OUT/$c.tmp.$$" "$OUT/$c"
	log "built $c in $((SECONDS - start))s"
done

link
log "bin/k8s -> $OUT"
