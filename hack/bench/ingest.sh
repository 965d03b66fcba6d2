#!/usr/bin/env bash
# Benchmark of the ingest against DuckDB on the same CRDC School Support files (made by
# hack/crdcgen):
#   (a) whole file: every school under one LEAID, every row kept, against
#       COPY (FROM read_csv('f')) TO 'o' (FORMAT parquet, COMPRESSION zstd);
#   (b) one district: schools across many districts, one district's rows kept, against
#       the same COPY with WHERE LEAID = '…'.
# Sizes: (b) at 100,000 schools (13,000 districts) and 4x; (a) at 100,000 schools and a
# quarter of that (an LEAID has at most 100,000 schools: SCHID has five digits, so 4x
# would not be a valid file).
# Ours runs as one process (`districtlake ingest --plan`: fetch, parse, check, write,
# publish) into a file:// lake and into a MinIO lake started here; each command runs RUNS
# times, alternating; the median wall time and the largest peak RSS (/usr/bin/time -v)
# are printed with rows/s, MB/s and the ratio to DuckDB.
# Targets: ours <= 1.25x DuckDB's wall time; peak RSS <= 256 MiB and flat as input grows.
#
# Env: RUNS (5), SCHOOLS (100000), DISTRICTS (13000), DISTRICTLAKE_DUCKDB (bin/duckdb),
# DISTRICTLAKE_MINIO (bin/minio), BENCH_DIR (a temporary folder), CHECK (1: exit non-zero
# when a target is missed).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

RUNS=${RUNS:-5}
SCHOOLS=${SCHOOLS:-100000}
DISTRICTS=${DISTRICTS:-13000}
LEAID=5508520
DUCKDB=${DISTRICTLAKE_DUCKDB:-$ROOT/bin/duckdb}
MINIO=${DISTRICTLAKE_MINIO:-$ROOT/bin/minio}
CHECK=${CHECK:-1}
TIME=/usr/bin/time

[ -x "$DUCKDB" ] || { echo "ingest.sh: DuckDB not found at $DUCKDB: run hack/test-binaries.sh" >&2; exit 1; }
[ -x "$MINIO" ] || { echo "ingest.sh: MinIO not found at $MINIO: run hack/test-binaries.sh" >&2; exit 1; }
[ -x "$TIME" ] || { echo "ingest.sh: $TIME not found: apt-get install -y time" >&2; exit 1; }

WORK=${BENCH_DIR:-$(mktemp -d)}
MINIO_PID=
cleanup() {
  [ -z "$MINIO_PID" ] || kill "$MINIO_PID" 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "ingest.sh: building bin/districtlake and crdcgen" >&2
CGO_ENABLED=0 go build -o "$ROOT/bin/districtlake" ./cmd/districtlake
go build -o "$WORK/crdcgen" ./hack/crdcgen

# MinIO on a free loopback port, with a bucket for the lake.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export AWS_ACCESS_KEY_ID=bench-access-key AWS_SECRET_ACCESS_KEY=bench-secret-key-4d1e
export DISTRICTLAKE_S3_ENDPOINT=http://127.0.0.1:$PORT AWS_REGION=us-east-1
MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY \
  "$MINIO" server --quiet --address "127.0.0.1:$PORT" "$WORK/minio" >"$WORK/minio.log" 2>&1 &
MINIO_PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/minio/health/live" >/dev/null && break
  sleep 0.2
done
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  -X PUT "http://127.0.0.1:$PORT/bench" >/dev/null || { echo "ingest.sh: cannot create the MinIO bucket" >&2; cat "$WORK/minio.log" >&2; exit 1; }

# plan FILE LAKEJSON: an ingest plan of one crdc source read from FILE.
plan() {
  cat <<EOF
{"version": 1, "kind": "ingest", "name": "bench",
 "district": {"ncesId": "$LEAID", "name": "Madison Metropolitan School District", "state": "WI"},
 "lake": $2,
 "sources": [{"name": "crdc-support", "dataset": "staffing", "format": "crdc", "schoolYear": "2020-21",
              "file": {"path": "$1"}}]}
EOF
}

# measure NAME CMD...: runs CMD under /usr/bin/time -v and appends "wall_seconds rss_kib".
measure() {
  local name=$1; shift
  local log=$WORK/$name.time
  "$TIME" -v "$@" >"$WORK/$name.out" 2>"$log" || { tail -20 "$log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$wall $rss" >> "$WORK/$name.results"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

FAILED=0
report() { # CASE LABEL SCHOOLS BYTES KEPT
  local c=$1 label=$2 schools=$3 bytes=$4 kept=$5
  local dw dr
  dw=$(cut -d' ' -f1 "$WORK/$c-duckdb.results" | median)
  dr=$(cut -d' ' -f2 "$WORK/$c-duckdb.results" | sort -n | tail -1)
  echo
  echo "$label: $schools schools, $((bytes / 1000000)) MB, $kept rows kept (median of $RUNS runs)"
  printf '  %-28s wall %6.3fs  %9.0f rows/s  %7.1f MB/s  peak RSS %4d MiB\n' "DuckDB COPY" "$dw" \
    "$(awk -v n="$schools" -v w="$dw" 'BEGIN {print n / w}')" "$(awk -v b="$bytes" -v w="$dw" 'BEGIN {print b / 1e6 / w}')" "$((dr / 1024))"
  for lake in file minio; do
    local ow or ratio
    ow=$(cut -d' ' -f1 "$WORK/$c-$lake.results" | median)
    or=$(cut -d' ' -f2 "$WORK/$c-$lake.results" | sort -n | tail -1)
    ratio=$(awk -v a="$ow" -v b="$dw" 'BEGIN {printf "%.2f", a / b}')
    printf '  %-28s wall %6.3fs  %9.0f rows/s  %7.1f MB/s  peak RSS %4d MiB  ratio %sx\n' "districtlake ingest ($lake)" "$ow" \
      "$(awk -v n="$schools" -v w="$ow" 'BEGIN {print n / w}')" "$(awk -v b="$bytes" -v w="$ow" 'BEGIN {print b / 1e6 / w}')" "$((or / 1024))" "$ratio"
    echo "$c $lake $ow $((or / 1024)) $ratio" >> "$WORK/summary"
    if ! awk -v r="$ratio" 'BEGIN {exit !(r <= 1.25)}'; then echo "  MISSED: $lake wall > 1.25x DuckDB" >&2; FAILED=1; fi
    if [ $((or / 1024)) -gt 256 ]; then echo "  MISSED: $lake peak RSS > 256 MiB" >&2; FAILED=1; fi
  done
}

# run_case CASE LABEL SCHOOLS DISTRICTS WHERE
run_case() {
  local c=$1 label=$2 schools=$3 districts=$4 where=$5
  local csv=$WORK/$c.csv
  "$WORK/crdcgen" -kind support -schools "$schools" -districts "$districts" -leaid "$LEAID" -seed 1 -o "$csv" 2>"$WORK/$c.gen"
  local kept bytes
  kept=$(sed -E 's/.*\(([0-9]+) of district.*/\1/' "$WORK/$c.gen")
  bytes=$(stat -c %s "$csv")
  plan "$csv" "{\"type\": \"file\", \"path\": \"$WORK/lake-$c\"}" > "$WORK/$c-file.json"
  plan "$csv" "{\"type\": \"s3\", \"endpoint\": \"127.0.0.1:$PORT\", \"bucket\": \"bench\", \"prefix\": \"$c\", \"region\": \"us-east-1\", \"pathStyle\": true, \"accessKeyIDEnv\": \"AWS_ACCESS_KEY_ID\", \"secretAccessKeyEnv\": \"AWS_SECRET_ACCESS_KEY\"}" > "$WORK/$c-minio.json"
  local sql="COPY (FROM read_csv('$csv')$where) TO '$WORK/$c-duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)"
  cat "$csv" > /dev/null # both read it from the page cache
  for _ in $(seq "$RUNS"); do
    measure "$c-duckdb" "$DUCKDB" -c "$sql"
    measure "$c-file" "$ROOT/bin/districtlake" ingest --plan "$WORK/$c-file.json" --termination-log "$WORK/$c-summary.json"
    measure "$c-duckdb" "$DUCKDB" -c "$sql"
    measure "$c-minio" "$ROOT/bin/districtlake" ingest --plan "$WORK/$c-minio.json" --termination-log "$WORK/$c-summary.json"
  done
  grep -q "\"rows\":$kept[,}]" "$WORK/$c-summary.json" || { echo "ingest.sh: $c: the summary does not show $kept rows" >&2; cat "$WORK/$c-summary.json" >&2; exit 1; }
  report "$c" "$label" "$schools" "$bytes" "$kept"
  rm -f "$csv"
}

run_case a-quarter "(a) whole file, 0.25x" $((SCHOOLS / 4)) 1 ""
run_case a-1x "(a) whole file, 1x" "$SCHOOLS" 1 ""
run_case b-1x "(b) one district of a national file, 1x" "$SCHOOLS" "$DISTRICTS" " WHERE LEAID = '$LEAID'"
run_case b-4x "(b) one district of a national file, 4x" $((SCHOOLS * 4)) $((DISTRICTS * 4)) " WHERE LEAID = '$LEAID'"

echo
echo "Peak RSS as the input grows (MiB):"
for lake in file minio; do
  a1=$(awk -v l=$lake '$1 == "a-quarter" && $2 == l {print $4}' "$WORK/summary"); a4=$(awk -v l=$lake '$1 == "a-1x" && $2 == l {print $4}' "$WORK/summary")
  b1=$(awk -v l=$lake '$1 == "b-1x" && $2 == l {print $4}' "$WORK/summary"); b4=$(awk -v l=$lake '$1 == "b-4x" && $2 == l {print $4}' "$WORK/summary")
  echo "  $lake lake: (a) ${a1} -> ${a4} (0.25x -> 1x), (b) ${b1} -> ${b4} (1x -> 4x)"
done
if [ "$FAILED" = 1 ] && [ "$CHECK" = 1 ]; then
  echo "ingest.sh: a target was missed" >&2
  exit 1
fi
