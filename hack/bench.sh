#!/usr/bin/env bash
# Runs every benchmark script in hack/bench/ in turn, then the Go benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in hack/bench/*.sh; do
  echo "== $b" >&2
  bash "$b"
done
echo "== go test -bench" >&2
go test -run '^$' -bench . -benchmem ./internal/...
