#!/usr/bin/env bash
# Large-object PUT throughput, one request at a time, side by side in one run: stratus (fsync on:
# each PUT is durable before its 200), s3rver (npm; never fsyncs) and the disk's own ceiling,
# `cp` of the same bytes followed by `sync` of the copy. Also the server CPU each PUT costs
# (utime+stime of the server process over the run / PUTs), and the aws CLI's `s3 cp` of the same
# file to stratus (multipart, parts in parallel).
# usage: bench/s3/large_put.sh [BUILD_DIR] [SIZE_MIB=100] [PUTS=5]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
mib="${2:-100}"
puts="${3:-5}"
[ -x "$build/stratus" ] || { echo "build stratus first: cmake --build $build --target stratus" >&2; exit 1; }
[ -d "$here/node_modules/s3rver" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
tmp="$(mktemp -d "${STRATUS_BENCH_DIR:-/tmp}/s3large-XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

"$build/stratus" serve --port 4620 --data-dir "$tmp/stratus" --log-level warn 2>"$tmp/stratus.log" &
pids+=($!)
node "$here/node_modules/s3rver/bin/s3rver.js" --directory "$tmp/s3rver" --port 4621 --silent >/dev/null 2>&1 &
pids+=($!)
for port in 4620 4621; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/object"
bytes=$((mib * 1024 * 1024))

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
report() {  # name seconds [cpu_ticks]
  python3 - "$1" "$2" "${3:-}" "$bytes" "$puts" "$hz" <<'PY'
import sys
name, secs, ticks, size, n, hz = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
line = f"{name:<22} {n * size / secs / 1e6:8.1f} MB/s   {secs / n * 1000:7.0f} ms per {size >> 20} MiB"
if ticks:
    line += f"   server CPU {int(ticks) / hz / n * 1000:6.0f} ms per PUT"
print(line)
PY
}

echo "$(date -u +%F) $puts x $mib MiB, sequential; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for server in stratus:4620:${pids[0]} s3rver:4621:${pids[1]}; do
  IFS=: read -r name port pid <<<"$server"
  curl -s -o /dev/null -X PUT "http://127.0.0.1:$port/bench"
  curl -s -o /dev/null -T "$tmp/object" "http://127.0.0.1:$port/bench/warm"
  t0=$(cpu_ticks "$pid"); s=$(date +%s.%N)
  for i in $(seq "$puts"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$tmp/object" "http://127.0.0.1:$port/bench/obj$i")
    [ "$code" = 200 ] || echo "$name PUT $i answered $code" >&2
  done
  e=$(date +%s.%N); t1=$(cpu_ticks "$pid")
  report "$name" "$(echo "$e - $s" | bc -l)" $((t1 - t0))
done
# How a real client uploads the same file: `aws s3 cp` switches to multipart past 8 MiB (8 MiB
# parts, up to 10 in flight), so its parts are received and hashed on every core. Wall time per
# command, CLI start-up included.
if command -v aws >/dev/null 2>&1; then
  pid=${pids[0]}
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url http://127.0.0.1:4620 s3 cp --quiet "$tmp/object" s3://bench/cli-warm
  t0=$(cpu_ticks "$pid"); s=$(date +%s.%N)
  for i in $(seq "$puts"); do
    aws --endpoint-url http://127.0.0.1:4620 s3 cp --quiet "$tmp/object" "s3://bench/cli$i"
  done
  e=$(date +%s.%N); t1=$(cpu_ticks "$pid")
  report "stratus: aws s3 cp" "$(echo "$e - $s" | bc -l)" $((t1 - t0))
fi
s=$(date +%s.%N)
for i in $(seq "$puts"); do cp "$tmp/object" "$tmp/copy$i" && sync "$tmp/copy$i"; done
e=$(date +%s.%N)
report "disk: cp + sync" "$(echo "$e - $s" | bc -l)"
