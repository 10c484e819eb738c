#!/usr/bin/env bash
# S3 PUT/GET throughput and latency for 4 KiB, 1 MiB, 8 MiB and 100 MiB objects, and the time to
# list N keys, side by side in one run: stratus (data on disk, fsync on: every PUT is durable
# before its 200), stratus --fsync false ("nofsync"), and s3rver (npm, the S3 emulator on node;
# it never fsyncs). The disk's own ceiling is `cp` of the same bytes plus a sync. PUTs of 8 MiB
# and more overwrite one key per wrk thread (put.lua: a prebuilt request, so the generator does
# not copy the body per request); single-stream large PUTs are timed by large_put.sh. The last
# PUT row, "floor", is put_floor.c: a durable 4 KiB PUT with nothing but MD5, a log append and a
# group fdatasync: the least work a durable PUT needs, on this machine with this client.
# usage: bench/s3/compare.sh [BUILD_DIR] [SECONDS_PER_RUN] [LIST_KEYS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
secs="${2:-8}"
list_keys="${3:-100000}"
[ -x "$build/stratus" ] || { echo "build stratus first: cmake --build $build --target stratus" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -d "$here/node_modules/s3rver" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
tmp="$(mktemp -d "${STRATUS_BENCH_DIR:-/tmp}/s3bench-XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# Three free ports picked by the kernel (fixed ones collided with concurrent runs).
read -r p_sync p_s3rver p_nofsync < <(/usr/bin/python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
"$build/stratus" serve --port "$p_sync" --data-dir "$tmp/stratus" --log-level warn 2>"$tmp/stratus.log" &
pids+=($!)
# The same without fsync (acknowledged writes survive kill -9, not power loss): s3rver's terms.
"$build/stratus" serve --port "$p_nofsync" --data-dir "$tmp/nofsync" --fsync false --log-level warn 2>"$tmp/nofsync.log" &
pids+=($!)
node "$here/node_modules/s3rver/bin/s3rver.js" --directory "$tmp/s3rver" --port "$p_s3rver" --silent >/dev/null 2>&1 &
pids+=($!)
for port in "$p_sync" "$p_s3rver" "$p_nofsync"; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

declare -A conns=([4096]=16 [1048576]=8 [8388608]=4 [104857600]=2)
printf '%-8s %-10s %-4s %12s %10s %10s %10s %12s\n' server size op "req/s" "avg" "p50" "p99" "MB/s"
run() {  # server url size op
  local name=$1 url=$2 size=$3 op=$4 out
  out=$(SIZE=$size KEYS=16 BUCKET=bench wrk -t2 -c"${conns[$size]}" -d"${secs}s" --timeout 60s --latency \
        -s "$here/$op.lua" "$url" 2>&1)
  python3 - "$name" "$size" "$op" <<PY
import re, sys
out = """$out"""
def val(pattern):
    m = re.search(pattern, out)
    return m.group(1) if m else "?"
rps = float(val(r"Requests/sec:\s+([\d.]+)"))
size = int(sys.argv[2])
label = {4096: "4KiB", 1048576: "1MiB", 8388608: "8MiB", 104857600: "100MiB"}[size]
errors = val(r"Non-2xx or 3xx responses:\s+(\d+)")
avg, p50, p99 = val(r"Latency\s+([\d.]+\w+)"), val(r"50%\s+([\d.]+\w+)"), val(r"99%\s+([\d.]+\w+)")
print(f"{sys.argv[1]:<8} {label:<10} {sys.argv[3]:<4} {rps:12.1f} {avg:>10} {p50:>10} {p99:>10} {rps * size / 1e6:12.1f}"
      + ("" if errors == "?" else f"  ({errors} errors)"))
PY
}
for server in "stratus:$p_sync" "nofsync:$p_nofsync" "s3rver:$p_s3rver"; do
  name=${server%%:*}; url="http://127.0.0.1:${server##*:}"
  "$here/s3tool.py" "$url" mb bench
  for size in 4096 1048576 8388608 104857600; do
    run "$name" "$url" "$size" put
    "$here/s3tool.py" "$url" fill bench get- 16 "$size" 4
    run "$name" "$url" "$size" get
  done
  "$here/s3tool.py" "$url" mb listing
  start=$(date +%s.%N)
  "$here/s3tool.py" "$url" fill listing "k/" "$list_keys" 0 8
  fill=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
  read -r keys secs_list < <("$here/s3tool.py" "$url" list listing)
  echo "$name  list $keys keys (1000 per page): ${secs_list}s   (writing them took ${fill}s)"
done
# The durable small PUT's floor (put_floor.c): MD5, one log append and one fdatasync per batch,
# nothing else; the 4 KiB PUT row's counterpart of `cp + sync` for large objects.
cc -O2 -o "$tmp/put_floor" "$here/put_floor.c" -lcrypto
read -r p_floor < <(/usr/bin/python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/floor"
"$tmp/put_floor" "$p_floor" "$tmp/floor" &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p_floor/" && break; sleep 0.1; done
run floor "http://127.0.0.1:$p_floor" 4096 put
# The disk's ceiling: copying the same bytes with cp, then sync.
head -c 104857600 /dev/urandom > "$tmp/src.bin"
sync
start=$(date +%s.%N)
cp "$tmp/src.bin" "$tmp/dst.bin" && sync
python3 -c "import sys; t=$(date +%s.%N)-$start; print(f'disk    cp+sync of 100 MiB: {t:.2f}s = {104.8576/t:.0f} MB/s')"
