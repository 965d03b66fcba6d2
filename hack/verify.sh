#!/usr/bin/env bash
# Regenerates every generated file (deepcopy, CRDs, RBAC, the chart's CRDs and RBAC) in a
# copy of the tree and fails when any differs from what is checked in, as cert-manager's
# `make verify` does; then runs golangci-lint (`make lint`, .golangci.yml). It changes nothing
# in the tree itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
make -s "$root/bin/controller-gen" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The files git knows of, as they are in the working tree (so uncommitted work is checked too).
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$tmp/" 2>/dev/null || true
ln -s "$root/bin" "$tmp/bin"
targets=(generate manifests)
for t in chart-crds chart-sync; do
  if make -s -n "$t" >/dev/null 2>&1; then targets+=("$t"); fi
done
echo "verify: regenerating (${targets[*]}) in a copy of the tree" >&2
make -s -C "$tmp" "${targets[@]}" >/dev/null
status=0
for dir in api config charts; do
  [ -d "$dir" ] || continue
  if ! diff -ruN --exclude='*.tar' "$dir" "$tmp/$dir" >"$tmp/diff.txt"; then
    echo "verify: $dir/ is out of date with its generators; run 'make ${targets[*]}' and commit:" >&2
    cat "$tmp/diff.txt" >&2
    status=1
  fi
done
if ! go mod tidy -diff >"$tmp/tidy.txt" 2>&1; then
  echo "verify: go.mod/go.sum are not tidy; run 'go mod tidy' and commit:" >&2
  cat "$tmp/tidy.txt" >&2
  status=1
fi
[ "$status" = 0 ] && echo "verify: generated files are up to date" >&2
echo "verify: golangci-lint" >&2
if ! make -s lint; then
  echo "verify: golangci-lint found problems (make lint)" >&2
  status=1
fi
[ "$status" = 0 ] && echo "verify: lint clean" >&2
exit "$status"
