#!/usr/bin/env bash
# Benchmark of a national file read by every district (issue 11): a national CRDC School
# Support file of SCHOOLS schools across DISTRICTS districts (hack/crdcgen), served by a
# local file server that counts what it sends (hack/bench/origin), and a folder of one
# SharedSource reading it and a DistrictSource per district (crdcgen -folder).
#   - origin traffic: a run on an empty lake fetches the file once; a second run of the
#     unchanged file costs one request and no body;
#   - `districtlake run -f FOLDER --lake DIR` on an empty lake (land the file once, then
#     ingest every district), whole process, against DuckDB writing the same rows
#     partitioned by district in one statement:
#       COPY (FROM read_csv('f')) TO 'dir' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (LEAID))
#     run alternately RUNS times each under /usr/bin/time -v; the median wall time, the
#     largest peak RSS and the ratio are printed, with the load average beside them (the
#     machine may be shared).
# Targets: ours <= 0.5x DuckDB's wall time; peak RSS <= 512 MiB.
# The read of one district's rows from the landed artifact in MinIO is a Go benchmark:
# go test ./internal/land -run '^$' -bench DistrictRead -benchmem (run by hack/bench.sh).
#
# Env: RUNS (3), SCHOOLS (100000), DISTRICTS (13000), CONCURRENCY (the run's default),
# DISTRICTLAKE_DUCKDB (bin/duckdb), BENCH_DIR (a folder kept between runs, so the inputs
# are generated once; a temporary folder otherwise), CHECK (1: exit non-zero when a target
# is missed).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

RUNS=${RUNS:-3}
SCHOOLS=${SCHOOLS:-100000}
DISTRICTS=${DISTRICTS:-13000}
DUCKDB=${DISTRICTLAKE_DUCKDB:-$ROOT/bin/duckdb}
CHECK=${CHECK:-1}
TIME=/usr/bin/time

[ -x "$DUCKDB" ] || { echo "national.sh: DuckDB not found at $DUCKDB: run hack/test-binaries.sh" >&2; exit 1; }
[ -x "$TIME" ] || { echo "national.sh: $TIME not found: apt-get install -y time" >&2; exit 1; }

WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
ORIGIN_PID=
cleanup() {
  [ -z "$ORIGIN_PID" ] || kill "$ORIGIN_PID" 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "national.sh: building districtlake, crdcgen and origin" >&2
CGO_ENABLED=0 go build -o "$WORK/districtlake" ./cmd/districtlake
go build -o "$WORK/crdcgen" ./hack/crdcgen
go build -o "$WORK/origin" ./hack/bench/origin

# The national file, generated once per size.
IN=$WORK/national-$SCHOOLS-$DISTRICTS
CSV=$IN/support.csv
if [ ! -s "$CSV" ]; then
  mkdir -p "$IN"
  "$WORK/crdcgen" -kind support -schools "$SCHOOLS" -districts "$DISTRICTS" -seed 1 -o "$CSV.tmp" 2>"$IN/gen.log"
  mv "$CSV.tmp" "$CSV"
fi
BYTES=$(stat -c %s "$CSV")

# The origin, on a free port; the folder names its URL, so it is written for this port.
rm -f "$WORK/origin.addr" "$WORK/origin.stats"
"$WORK/origin" -dir "$IN" -addr 127.0.0.1:0 -stats "$WORK/origin.stats" -ready "$WORK/origin.addr" 2>"$WORK/origin.log" &
ORIGIN_PID=$!
for _ in $(seq 100); do [ -s "$WORK/origin.addr" ] && break; sleep 0.1; done
[ -s "$WORK/origin.addr" ] || { echo "national.sh: the origin did not start" >&2; cat "$WORK/origin.log" >&2; exit 1; }
URL="http://$(cat "$WORK/origin.addr")/support.csv"
rm -rf "$WORK/folder"
"$WORK/crdcgen" -kind support -schools "$SCHOOLS" -districts "$DISTRICTS" -seed 1 -o /dev/null -folder "$WORK/folder" -url "$URL" 2>/dev/null

RUN_ARGS=(run -f "$WORK/folder" --lake "$WORK/lake")
[ -z "${CONCURRENCY:-}" ] || RUN_ARGS+=(--concurrency "$CONCURRENCY")
SQL="COPY (FROM read_csv('$CSV')) TO '$WORK/duckdb-out' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (LEAID))"

stat_of() { awk -v k="$1" '$1 == k {print $2}' "$WORK/origin.stats" 2>/dev/null || echo 0; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# measure NAME CMD...: runs CMD under /usr/bin/time -v and appends "wall_seconds rss_kib load1".
measure() {
  local name=$1; shift
  local log=$WORK/$name.time
  "$TIME" -v "$@" >"$WORK/$name.out" 2>"$log" || { tail -20 "$WORK/$name.out" "$log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$wall $rss $(cut -d' ' -f1 /proc/loadavg)" >> "$WORK/$name.results"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Origin traffic: a run on an empty lake, then a second run of the unchanged file.
rm -rf "$WORK/lake" "$WORK"/*.results
measure first "$WORK/districtlake" "${RUN_ARGS[@]}"
r1=$(stat_of requests); b1=$(stat_of bytes)
measure second "$WORK/districtlake" "${RUN_ARGS[@]}"
r2=$(stat_of requests); b2=$(stat_of bytes)
grep -q "Ingested $DISTRICTS of $DISTRICTS districts" "$WORK/first.out" || { echo "national.sh: the first run did not ingest every district" >&2; tail -20 "$WORK/first.out" >&2; exit 1; }
echo
echo "National file: $SCHOOLS schools, $DISTRICTS districts, $((BYTES / 1000000)) MB ($BYTES bytes)"
echo "  origin traffic, a run on an empty lake:        $r1 request(s), $b1 bytes"
echo "  origin traffic, a second run (file unchanged): $((r2 - r1)) request(s), $((b2 - b1)) bytes"
echo "  (wall $(cut -d' ' -f1 "$WORK/first.results")s and $(cut -d' ' -f1 "$WORK/second.results")s)"
if [ "$r1" != 1 ] || [ "$b1" != "$BYTES" ] || [ "$((b2 - b1))" != 0 ]; then echo "  MISSED: the origin did not send the file exactly once" >&2; ORIGIN_MISSED=1; fi

# Alternately: ours on an empty lake, DuckDB into an empty folder. Each run's output is
# moved aside and deleted after the last run: deleting 13,000 to 52,000 files just before
# a run leaves the file system's cleanup to that run (on ext4, allocating inodes next to
# ones deleted seconds before costs several seconds more, for either command).
cat "$CSV" > /dev/null # both read it from the page cache
rm -rf "$WORK/trash"
mkdir -p "$WORK/trash"
for i in $(seq "$RUNS"); do
  [ ! -e "$WORK/lake" ] || mv "$WORK/lake" "$WORK/trash/lake-$i"
  measure ours "$WORK/districtlake" "${RUN_ARGS[@]}"
  [ ! -e "$WORK/duckdb-out" ] || mv "$WORK/duckdb-out" "$WORK/trash/duckdb-out-$i"
  measure duckdb "$DUCKDB" -c "$SQL"
done
rm -rf "$WORK/trash"
grep -q "Ingested $DISTRICTS of $DISTRICTS districts" "$WORK/ours.out" || { echo "national.sh: a run did not ingest every district" >&2; tail -20 "$WORK/ours.out" >&2; exit 1; }

ow=$(cut -d' ' -f1 "$WORK/ours.results" | median)
orss=$(cut -d' ' -f2 "$WORK/ours.results" | sort -n | tail -1)
dw=$(cut -d' ' -f1 "$WORK/duckdb.results" | median)
drss=$(cut -d' ' -f2 "$WORK/duckdb.results" | sort -n | tail -1)
ratio=$(awk -v a="$ow" -v b="$dw" 'BEGIN {printf "%.2f", a / b}')
echo
echo "$DISTRICTS districts, median of $RUNS runs each, alternating (load average 1 min at each run's end: ours $(cut -d' ' -f3 "$WORK/ours.results" | tr '\n' ' '), DuckDB $(cut -d' ' -f3 "$WORK/duckdb.results" | tr '\n' ' '))"
printf '  %-44s wall %7.2fs  peak RSS %5d MiB\n' "DuckDB COPY ... PARTITION_BY (LEAID)" "$dw" "$((drss / 1024))"
printf '  %-44s wall %7.2fs  peak RSS %5d MiB  ratio %sx\n' "districtlake run (land once + every district)" "$ow" "$((orss / 1024))" "$ratio"

FAILED=${ORIGIN_MISSED:-0}
if ! awk -v r="$ratio" 'BEGIN {exit !(r <= 0.5)}'; then echo "  MISSED: wall > 0.5x DuckDB" >&2; FAILED=1; fi
if [ $((orss / 1024)) -gt 512 ]; then echo "  MISSED: peak RSS > 512 MiB" >&2; FAILED=1; fi
if [ "$FAILED" = 1 ] && [ "$CHECK" = 1 ]; then
  echo "national.sh: a target was missed" >&2
  exit 1
fi
