#!/usr/bin/env bash
# Builds the duckdb command-line stand-in in hack/duckdb/ (DuckDB linked in
# statically through github.com/duckdb/duckdb-go; needs gcc), caches it
# outside the clone and links bin/duckdb to it.
#
#   hack/duckdb.sh
#
# Output: ${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}/duckdb/<version>-<src>/duckdb,
# where <version> is the duckdb-go version and <src> a hash of hack/duckdb/,
# so that a change to the tool's source builds it anew.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}
SRC=$ROOT/hack/duckdb
VERSION=$(awk '$1 == "github.com/duckdb/duckdb-go/v2" { print $2 }' "$SRC/go.mod")
HASH=$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -c1-12)
OUT=$CACHE/duckdb/$VERSION-$HASH

log() { echo "duckdb: $*" >&2; }

link() {
	mkdir -p "$ROOT/bin"
	ln -sfn "$OUT/duckdb" "$ROOT/bin/duckdb"
}

if [[ -x $OUT/duckdb ]]; then
	link
	exit 0
fi

command -v gcc >/dev/null || { log "gcc is needed (apt-get install gcc g++)"; exit 1; }
mkdir -p "$OUT"
exec 9>"$CACHE/duckdb/.lock"
flock 9

if [[ ! -x $OUT/duckdb ]]; then
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/districtlake-duckdb.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	cp -R "$SRC" "$TMP/"
	log "building duckdb (duckdb-go $VERSION)"
	start=$SECONDS
	(cd "$TMP/duckdb" && CGO_ENABLED=1 go build -mod=mod -ldflags "-s -w" -o "$TMP/duckdb.bin" .)
	mv -f "$TMP/duckdb.bin" "$OUT/duckdb.tmp.$$"
	mv -f "$OUT/duckdb.tmp.$$" "$OUT/duckdb"
	log "built duckdb in $((SECONDS - start))s"
fi

link
log "bin/duckdb -> $OUT/duckdb"
