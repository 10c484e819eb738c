#!/usr/bin/env bash
# Large objects uploaded the way real clients upload them: @aws-sdk/lib-storage's Upload, parts
# in parallel (multipart_upload.mjs), and by a lean client that hashes nothing (curl PUTs of
# presigned UNSIGNED-PAYLOAD part URLs in parallel, multipart_presigned.py; stratus only), side by side in one run against stratus (fsync on: every
# part durable before its 200) and s3rver (npm; never fsyncs), with the disk's own ceiling:
# `cp` of the same bytes followed by `sync` of the copy. Reports MB/s, the ratio to the disk,
# and the CPU per uploaded MiB of the server (utime+stime of its process over the warm-up and
# timed uploads) and of the client (the node process, which shares the machine's cores; timed
# uploads only). Sizes in MiB; each size is uploaded COUNT times after a warm-up upload.
# usage: bench/s3/large_multipart.sh [BUILD_DIR] [SIZES_MIB="100 1024"] [COUNT=3] [PART_MIB=8] [QUEUE=4]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
sizes="${2:-100 1024}"
count="${3:-3}"
part_mib="${4:-8}"
queue="${5:-4}"
[ -x "$build/stratus" ] || { echo "build stratus first: cmake --build $build --target stratus" >&2; exit 1; }
[ -d "$here/node_modules/@aws-sdk/lib-storage" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
tmp="$(mktemp -d "${STRATUS_BENCH_DIR:-/tmp}/s3mp-XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

"$build/stratus" serve --port 4622 --data-dir "$tmp/stratus" --log-level warn 2>"$tmp/stratus.log" &
pids+=($!)
node "$here/node_modules/s3rver/bin/s3rver.js" --directory "$tmp/s3rver" --port 4623 --silent >/dev/null 2>&1 &
pids+=($!)
for port in 4622 4623; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "$(date -u '+%F %H:%M') lib-storage Upload, ${part_mib} MiB parts, queueSize $queue, $count uploads per size; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for mib in $sizes; do
  head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/object"
  # The disk's ceiling first (and the file is then in the page cache for every client alike).
  s=$(date +%s.%N)
  for i in $(seq "$count"); do cp "$tmp/object" "$tmp/copy" && sync "$tmp/copy" && rm "$tmp/copy"; done
  e=$(date +%s.%N)
  disk=$(echo "$count * $mib * 1048576 / ($e - $s) / 1000000" | bc -l)
  printf '%5d MiB  %-8s %-11s %8.1f MB/s\n' "$mib" "cp+sync" "" "$disk"
  runs="stratus:4622:${pids[0]}:lib-storage s3rver:4623:${pids[1]}:lib-storage stratus:4622:${pids[0]}:curl"
  for run in $runs; do
    IFS=: read -r name port pid client <<<"$run"
    t0=$(cpu_ticks "$pid")
    key=test
    [ "$name" = s3rver ] && key=S3RVER  # s3rver's only credentials
    if [ "$client" = curl ]; then
      out=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$key /usr/bin/python3 "$here/multipart_presigned.py" "http://127.0.0.1:$port" "$tmp/object" \
            --part-mib "$part_mib" --parallel "$queue" --count "$count" --bucket "c$mib")
    else
      out=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$key NODE_NO_WARNINGS=1 node "$here/multipart_upload.mjs" "http://127.0.0.1:$port" "$tmp/object" \
            --part-mib "$part_mib" --queue "$queue" --count "$count" --bucket "b$mib")
    fi
    t1=$(cpu_ticks "$pid")
    python3 - "$name" "$mib" "$out" "$disk" "$((t1 - t0))" "$hz" "$count" "$client" <<'PY'
import json, sys
name, mib, out, disk, ticks, hz, count, client = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
mbs = out["bytes"] / out["seconds"] / 1e6
# CPU includes the warm-up upload (count + 1 uploads while measured).
cpu_ms_per_mib = ticks / hz * 1000 / ((count + 1) * mib)
client_ms = out["client_cpu_seconds"] * 1000 / (count * mib)
print(f"{mib:5d} MiB  {name:<8} {client:<11} {mbs:8.1f} MB/s  {mbs / disk:5.2f}x disk   server CPU {cpu_ms_per_mib:5.2f} ms/MiB   client CPU {client_ms:5.2f} ms/MiB")
PY
  done
  rm -f "$tmp/object"
done
