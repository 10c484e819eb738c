#!/usr/bin/env bash
# Startup to ready (first 200 from /_stratus/health) and idle RSS of stratus.
# Usage: bench/http/startup.sh [path/to/stratus] [runs]
set -euo pipefail
BIN=${1:-build/stratus}
RUNS=${2:-20}
PORT=${PORT:-45660}
command -v curl >/dev/null || { echo "needs curl"; exit 1; }

times=()
for i in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  "$BIN" serve --port "$PORT" --data-dir "$dir" --log-level warn &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do :; done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
  if [ "$i" = "$RUNS" ]; then
    sleep 1
    rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  fi
  kill -TERM $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
min=$(echo "$sorted" | head -1)
max=$(echo "$sorted" | tail -1)
printf 'startup to first 200 over %d runs: median %.1f ms, min %.1f ms, max %.1f ms\n' \
  "$RUNS" "$(echo "$median/1000" | bc -l)" "$(echo "$min/1000" | bc -l)" "$(echo "$max/1000" | bc -l)"
printf 'idle RSS after 1 s: %.1f MB (peak %.1f MB)\n' "$(echo "$rss_kb/1024" | bc -l)" "$(echo "$hwm_kb/1024" | bc -l)"
