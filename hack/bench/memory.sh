#!/usr/bin/env bash
# Memory benchmark of the readers on the hostile inputs of issue 12 (made by hack/memgen,
# at the issue's sizes): 400 MiB of short contract rows (valid: kept), one 300 MiB JSON
# object (refused by the object cap), 200 MB of nested arrays (refused by the depth cap),
# CSV lines of 16.7M fields (refused by the fields cap), and a small Parquet file whose
# dictionary values decode to 3.4 GB (valid: kept). Each runs once as `districtlake ingest
# --plan` into a file:// lake under /usr/bin/time -v; the peak RSS, the wall time, the load
# average at the end and the outcome (the rows, or the cap's error) are printed per case,
# and appended to RESULTS when set. A valid input must succeed and a refused one must fail
# with its cap's error. Target: peak RSS <= 256 MiB for each.
#
# Env: SCALE (1: the issue's sizes; a fraction makes smaller inputs), BENCH_DIR (a
# temporary folder), CHECK (1: exit non-zero when a target is missed), MEMORY_LIMIT (the
# ingest's --memory-limit: auto by default, which is none outside a container with a
# memory limit; 200Mi is what auto gives a Job limited to 250Mi), RESULTS (a file the
# table is appended to).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SCALE=${SCALE:-1}
CHECK=${CHECK:-1}
TIME=/usr/bin/time
LEAID=5508520
[ -x "$TIME" ] || { echo "memory.sh: $TIME not found: apt-get install -y time" >&2; exit 1; }

WORK=${BENCH_DIR:-$(mktemp -d)}
cleanup() { [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

echo "memory.sh: building districtlake and memgen" >&2
CGO_ENABLED=0 go build -o "$WORK/districtlake" ./cmd/districtlake
go build -o "$WORK/memgen" ./hack/memgen

# plan NAME DATASET FORMAT FILE: an ingest plan of one source read from FILE.
plan() {
  local year=""
  [ "$2" = contracts ] || year=', "schoolYear": "2020-21"'
  cat <<PLAN
{"version": 1, "kind": "ingest", "name": "bench-memory",
 "district": {"ncesId": "$LEAID", "name": "Madison Metropolitan School District", "state": "WI"},
 "lake": {"type": "file", "path": "$WORK/lake-$1"},
 "sources": [{"name": "$1", "dataset": "$2", "format": "$3"$year, "file": {"path": "$4"}}]}
PLAN
}

MEMORY_LIMIT=${MEMORY_LIMIT:-auto}
RESULTS=${RESULTS:-/dev/null}
FAILED=0
{
  echo "# $(date -u +%FT%TZ) memory.sh SCALE=$SCALE MEMORY_LIMIT=$MEMORY_LIMIT $(git rev-parse --short HEAD 2>/dev/null || true)"
  printf '%-11s %-8s %10s %8s %9s %-15s %s\n' case format "input MB" "wall s" "peak MiB" "load avg" outcome
} | tee -a "$RESULTS"
# run_case CASE DATASET FORMAT EXT EXPECT (ok, or a piece of the expected error)
run_case() {
  local c=$1 ds=$2 format=$3 ext=$4 expect=$5
  local in=$WORK/$c.$ext
  "$WORK/memgen" -case "$c" -scale "$SCALE" -o "$in"
  # The plan's name must not be the input's (a json input is $c.json).
  plan "$c" "$ds" "$format" "$in" > "$WORK/$c.plan"
  local log=$WORK/$c.time rc=0
  "$TIME" -v "$WORK/districtlake" ingest --plan "$WORK/$c.plan" --termination-log "$WORK/$c.summary" \
    --memory-limit "$MEMORY_LIMIT" >"$WORK/$c.out" 2>"$log" || rc=$?
  local rss wall outcome load
  load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)
  rss=$(awk -F': ' '/Maximum resident set size/ {print int($2 / 1024)}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$log")
  if [ "$rc" = 0 ]; then
    outcome="ok: $(grep -o '"rows":[0-9]*' "$WORK/$c.summary" | head -1)"
  else
    outcome="refused: $(sed -n 's/.*"message":"\(\([^"\\]\|\\.\)*\)".*/\1/p' "$WORK/$c.summary" | sed 's/\\"/"/g' | head -1 | cut -c1-200)"
  fi
  printf '%-11s %-8s %10d %8.1f %9d %-15s %s\n' "$c" "$format" "$(( $(stat -c %s "$in") / 1000000 ))" "$wall" "$rss" "$load" "$outcome" | tee -a "$RESULTS"
  if [ "$rss" -gt 256 ]; then echo "  MISSED: peak RSS > 256 MiB" >&2; FAILED=1; fi
  if [ "$expect" = ok ] && [ "$rc" != 0 ]; then echo "  MISSED: the run failed" >&2; FAILED=1; fi
  if [ "$expect" != ok ] && { [ "$rc" = 0 ] || ! grep -qF "$expect" "$WORK/$c.summary"; }; then echo "  MISSED: want an error with \"$expect\"" >&2; FAILED=1; fi
  rm -rf "$in" "$WORK/lake-$c"
}

run_case contracts contracts csv csv ok
run_case object staffing json json "the object is larger than 16777216 bytes (the limit of one row)"
run_case nested staffing json json "more than 64 levels deep (the limit of one row)"
run_case fields contracts csv csv "fields (the limit of one record)"
run_case dictionary contracts parquet parquet ok

if [ "$FAILED" = 1 ] && [ "$CHECK" = 1 ]; then
  echo "memory.sh: a target was missed" >&2
  exit 1
fi
