#!/usr/bin/env bash
# Builds the MinIO server from the wrapper module hack/minio/ (MinIO is AGPL:
# it is a separate test tool, never a dependency of the districtlake module),
# caches it by version outside the clone and links bin/minio to it.
#
#   hack/minio.sh
#
# Output: ${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}/minio/<version>/minio
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}
# The pinned pseudo-version, e.g. v0.0.0-20260212201848-7aac2a2c5b7c.
VERSION=$(awk '$1 == "require" && $2 == "github.com/minio/minio" { print $3 }' "$ROOT/hack/minio/go.mod")
OUT=$CACHE/minio/$VERSION

log() { echo "minio: $*" >&2; }

link() {
	mkdir -p "$ROOT/bin"
	ln -sfn "$OUT/minio" "$ROOT/bin/minio"
}

[[ $VERSION =~ ^v0\.0\.0-([0-9]{14})-([0-9a-f]{12})$ ]] || { log "cannot parse version '$VERSION' in hack/minio/go.mod"; exit 1; }
stamp=${BASH_REMATCH[1]} commit=${BASH_REMATCH[2]}

if [[ -x $OUT/minio ]]; then
	link
	exit 0
fi

mkdir -p "$OUT"
exec 9>"$CACHE/minio/.lock"
flock 9

if [[ ! -x $OUT/minio ]]; then
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/districtlake-minio.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	cp -R "$ROOT/hack/minio" "$TMP/"

	# Stamp the version as MinIO's own build does (buildscripts/gen-ldflags.go),
	# from the commit time and hash in the pseudo-version.
	v="${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:8:2}:${stamp:10:2}:${stamp:12:2}Z"
	pkg=github.com/minio/minio/cmd
	ldflags="-s -w -X $pkg.Version=$v -X $pkg.ReleaseTag=DEVELOPMENT.${v//:/-} -X $pkg.CopyrightYear=${stamp:0:4}"
	ldflags+=" -X $pkg.CommitID=$commit -X $pkg.ShortCommitID=$commit"
	# The server checks for updates at start unless MINIO_UPDATE=off or --quiet.
	# Tests must never send traffic off the machine: point the check at a
	# closed loopback port so it fails at once, whatever the caller sets.
	ldflags+=" -X $pkg.MinioReleaseBaseURL=http://127.0.0.1:9/ -X $pkg.MinioReleaseURL=http://127.0.0.1:9/"

	log "building minio $VERSION"
	start=$SECONDS
	(cd "$TMP/minio" && CGO_ENABLED=0 go build -mod=mod -ldflags "$ldflags" -o "$TMP/minio.bin" github.com/minio/minio)
	mv -f "$TMP/minio.bin" "$OUT/minio.tmp.$$"
	mv -f "$OUT/minio.tmp.$$" "$OUT/minio"
	log "built minio in $((SECONDS - start))s"
fi

link
log "bin/minio -> $OUT/minio"
