#!/usr/bin/env bash
# Listing N keys (issue #11 goal: 100 000 in under 1 s): a fresh durable stratus, N empty keys
# written with s3tool.py (8 connections), then ListObjects over all of them (1000 per page) three
# times; prints the keys listed and the seconds each listing took.
# usage: bench/s3/list_keys.sh [BUILD_DIR=build] [KEYS=100000] [PORT=4621]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"; keys="${2:-100000}"; port="${3:-4621}"
dir=$(mktemp -d)
"$build/stratus" serve --port "$port" --data-dir "$dir" > "$dir.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir" "$dir.log"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
url="http://127.0.0.1:$port"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$here/s3tool.py" "$url" mb listing
start=$(date +%s.%N)
/usr/bin/python3 "$here/s3tool.py" "$url" fill listing "k/" "$keys" 0 8
echo "writing $keys keys: $(/usr/bin/python3 -c "print(round($(date +%s.%N) - $start, 2))") s"
for _ in 1 2 3; do
  read -r listed secs < <(/usr/bin/python3 "$here/s3tool.py" "$url" list listing)
  echo "listed $listed keys in $secs s"
done
