#!/usr/bin/env bash
# Benchmark of the statewide comparison: a generated state of 1,000 districts and 10,000
# schools in a file lake, compared by `districtlake compare` and by DuckDB running
# hack/bench/compare.sql (the same figures, from the same Parquet, written as Parquet).
# Each runs RUNS times, alternating; the median wall time and the largest peak RSS are
# printed with their ratio. Target: ours <= 2x DuckDB's wall time.
#
# Env: DISTRICTS (1000), SCHOOLS (10000), RUNS (3), DISTRICTLAKE_DUCKDB (bin/duckdb),
# BENCH_DIR (a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

DISTRICTS=${DISTRICTS:-1000}
SCHOOLS=${SCHOOLS:-10000}
RUNS=${RUNS:-3}
STATE=ZZ
YEAR=2023-24
DUCKDB=${DISTRICTLAKE_DUCKDB:-$ROOT/bin/duckdb}
TIME=/usr/bin/time

[ -x "$DUCKDB" ] || { echo "compare.sh: DuckDB not found at $DUCKDB: run hack/test-binaries.sh" >&2; exit 1; }
[ -x "$TIME" ] || { echo "compare.sh: $TIME not found: apt-get install -y time" >&2; exit 1; }

WORK=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$WORK"' EXIT
LAKE=$WORK/lake
OUT=$WORK/duckdb-out
mkdir -p "$OUT"

echo "compare.sh: building bin/districtlake" >&2
CGO_ENABLED=0 go build -o "$ROOT/bin/districtlake" ./cmd/districtlake
go run ./hack/stategen -lake "$LAKE" -state "$STATE" -year "$YEAR" \
  -districts "$DISTRICTS" -schools "$SCHOOLS" -plan "$WORK/plan.json"

sed -e "s#__LAKE__#$LAKE#g; s#__STATE__#$STATE#g; s#__YEAR__#$YEAR#g; s#__OUT__#$OUT#g" \
  hack/bench/compare.sql > "$WORK/compare.sql"

# measure NAME STDIN CMD...: runs CMD (reading STDIN) under /usr/bin/time -v and appends
# "wall_seconds rss_kib" to NAME.results.
measure() {
  local name=$1 in=$2; shift 2
  local log=$WORK/$name.time
  "$TIME" -v "$@" <"$in" >"$WORK/$name.out" 2>"$log" || { cat "$log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$wall $rss" >> "$WORK/$name.results"
}

for _ in $(seq "$RUNS"); do
  measure ours /dev/null "$ROOT/bin/districtlake" compare --plan "$WORK/plan.json" --termination-log "$WORK/summary.json"
  measure duckdb "$WORK/compare.sql" "$DUCKDB"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ours_wall=$(cut -d' ' -f1 "$WORK/ours.results" | median)
duck_wall=$(cut -d' ' -f1 "$WORK/duckdb.results" | median)
ours_rss=$(cut -d' ' -f2 "$WORK/ours.results" | sort -n | tail -1)
duck_rss=$(cut -d' ' -f2 "$WORK/duckdb.results" | sort -n | tail -1)
rows=$(grep -o '"rows":[0-9]*' "$WORK/summary.json" | head -1 | cut -d: -f2)

echo
echo "Statewide comparison: $DISTRICTS districts, $SCHOOLS schools ($rows comparison rows), median of $RUNS runs"
printf '  %-22s wall %7.2fs  peak RSS %6d MiB\n' "districtlake compare" "$ours_wall" "$((ours_rss / 1024))"
printf '  %-22s wall %7.2fs  peak RSS %6d MiB\n' "DuckDB (compare.sql)" "$duck_wall" "$((duck_rss / 1024))"
ratio=$(awk -v a="$ours_wall" -v b="$duck_wall" 'BEGIN {printf "%.2f", a / b}')
echo "  ratio (ours / DuckDB): ${ratio}x  (target <= 2x)"
awk -v r="$ratio" 'BEGIN {exit !(r <= 2)}' || { echo "compare.sh: slower than 2x DuckDB" >&2; exit 1; }
