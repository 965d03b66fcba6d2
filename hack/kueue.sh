#!/usr/bin/env bash
# Builds Kueue (sigs.k8s.io/kueue, the Kubernetes-native job queueing system) for the
# end-to-end suite, from the Go module proxy only, and caches it by version outside the clone:
#
#   hack/kueue.sh VERSION        # VERSION pinned in the Makefile (KUEUE_VERSION)
#
# Output in ${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}/kueue/<VERSION>/, linked as bin/kueue:
#   manager          the manager binary (cmd/kueue, CGO_ENABLED=0, version stamped as Kueue's
#                    own Makefile does), built with `go install sigs.k8s.io/kueue/cmd/kueue@VERSION`
#                    so that Kueue's own go.mod and go.sum pick every dependency;
#   kueue-image.tar  an OCI image tarball localhost/kueue:<VERSION> (hack/image: the binary at
#                    /manager, user 65532, as Kueue's Dockerfile), for `ctr images import`;
#   manifests.yaml   `kubectl kustomize config/default` of the module's own source (CRDs, RBAC,
#                    the manager Deployment and its ConfigMap, the webhooks and their Service,
#                    the visibility APIService), unchanged: the e2e test adapts it to the
#                    local cluster (test/e2e/kueue_test.go);
#   version          VERSION, so that the test knows the image's tag.
# A second run only relinks (about 0.01 s).
set -euo pipefail

VERSION=${1:?usage: hack/kueue.sh VERSION (the Makefile passes KUEUE_VERSION)}
HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HACK")
CACHE=${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}
OUT=$CACHE/kueue/$VERSION
FILES=(manager kueue-image.tar manifests.yaml version)

log() { echo "kueue: $*" >&2; }

link() {
	mkdir -p "$ROOT/bin"
	ln -sfn "$OUT" "$ROOT/bin/kueue"
}

complete() {
	local f
	for f in "${FILES[@]}"; do [[ -s $OUT/$f ]] || return 1; done
}

if complete; then
	link
	exit 0
fi

mkdir -p "$OUT"
exec 9>"$CACHE/kueue/.lock"
flock 9
if complete; then
	link
	exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/districtlake-kueue.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

if [[ ! -s $OUT/manager ]]; then
	log "building the Kueue manager $VERSION from the Go module proxy (minutes when cold)"
	start=$SECONDS
	build_date=$(date -u ${SOURCE_DATE_EPOCH:+--date=@$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
	pkg=sigs.k8s.io/kueue/pkg/version
	(cd "$TMP" && CGO_ENABLED=0 GOOS=linux GOBIN="$TMP/bin" go install \
		-ldflags "-s -w -X $pkg.GitVersion=$VERSION -X $pkg.BuildDate=$build_date" \
		"sigs.k8s.io/kueue/cmd/kueue@$VERSION")
	mv -f "$TMP/bin/kueue" "$OUT/manager.tmp.$$"
	mv -f "$OUT/manager.tmp.$$" "$OUT/manager"
	log "built the manager in $((SECONDS - start))s"
fi

if [[ ! -s $OUT/kueue-image.tar ]]; then
	(cd "$ROOT" && SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} go run ./hack/image -binary "$OUT/manager" -name manager \
		-tag "localhost/kueue:$VERSION" -ca-bundle "" -title kueue -version "$VERSION" \
		-source https://github.com/kubernetes-sigs/kueue -revision "$VERSION" -o "$TMP/kueue-image.tar")
	mv -f "$TMP/kueue-image.tar" "$OUT/kueue-image.tar"
fi

if [[ ! -s $OUT/manifests.yaml ]]; then
	# The module's source, as the build above downloaded it (read-only in the module cache).
	src=$(cd "$TMP" && go mod download -json "sigs.k8s.io/kueue@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[[ -d $src/config/default ]] || { log "no config/default in the module source ($src)"; exit 1; }
	# kubectl kustomize is kustomize built into kubectl: the envtest kubectl does it offline.
	"$HACK/k8s-binaries.sh" >/dev/null
	"$ROOT/bin/k8s/kubectl" kustomize "$src/config/default" >"$TMP/manifests.yaml"
	mv -f "$TMP/manifests.yaml" "$OUT/manifests.yaml"
	log "rendered config/default: $(grep -c '^kind:' "$OUT/manifests.yaml") objects"
fi

echo "$VERSION" >"$OUT/version"
link
log "bin/kueue -> $OUT"
