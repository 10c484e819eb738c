#!/usr/bin/env bash
# Where the CPU of one HTTP API -> Lambda hop request goes, for stratus or for the hop's floor
# (hop_ceiling.c, 2 threads), measured the same way for both: the server's user and system time,
# the function processes' (the same native proxy_echo.c bootstrap, one per connection) and wrk's,
# per request, from /proc/<pid>/stat around a wrk -t1 run (2 s warm-up first), with the share of
# the machine left idle meanwhile. When the machine is saturated (idle ~0 %) req/s is ~2 cores
# divided by the total: the columns say which part of the stack a change must shrink, and an
# A/B run alternated with the floor shows the gap part by part. Setup of stratus as lambda_cpu.sh.
# Usage: bench/apigateway/hop_split.sh path/to/stratus|floor [seconds] [connections]
set -euo pipefail
BIN=$1; SECS=${2:-5}; CONNS=${3:-64}
PORT=${PORT:-38716}
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
source "$HERE/lib.sh"
# CPU ticks of the descendants of $1 (the function processes), without $1 itself.
children_ticks() {
  local t=0 p
  for p in $(pgrep -P "$1" 2>/dev/null); do t=$((t + $(tree_ticks "$p"))); done
  echo "$t"
}
# Busy and idle ticks of the whole machine (/proc/stat's first line).
machine() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
if [ "$BIN" = floor ]; then
  cc -O2 -pthread -o "$work/hop_ceiling" "$HERE/hop_ceiling.c"
  cc -O2 -o "$work/bootstrap" "$HERE/proxy_echo.c"
  "$work/hop_ceiling" "$PORT" $((PORT + 1)) 2 "$CONNS" "$work/bootstrap" &
  spid=$!
  url="http://127.0.0.1:$PORT/echo"
  until curl -sf -m 5 -o /dev/null "$url"; do sleep 0.05; done
  wrk -t1 -c"$CONNS" -d2s "$url" >/dev/null 2>&1 || true
  name=floor
else
  start_stratus_with_apis "$BIN" "$PORT" provided "$CONNS"
  name=$(basename "$BIN")
fi
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$spid/stat")
f0=$(children_ticks "$spid")
read -r b0 i0 < <(machine)
/usr/bin/time -f "%U %S" -o "$work/wrk_time" wrk -t1 -c"$CONNS" -d"${SECS}s" "$url" >"$work/out"
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$spid/stat")
f1=$(children_ticks "$spid")
read -r b1 i1 < <(machine)
read -r wu ws <"$work/wrk_time"
n=$(awk '/requests in/ {print $1}' "$work/out")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/out")
awk -v name="$name" -v c="$CONNS" -v n="$n" -v rps="$rps" -v tck="$(getconf CLK_TCK)" \
    -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v f=$((f1 - f0)) -v wu="$wu" -v ws="$ws" \
    -v busy=$((b1 - b0)) -v idle=$((i1 - i0)) 'BEGIN {
  t = 1e6 / tck / n; w = (wu + ws) * 1e6 / n
  printf "%s c=%s: %7.0f req/s  server user %5.1f sys %5.1f  functions %5.1f  wrk %5.1f  total %5.1f us/req  machine idle %4.1f%%\n",
    name, c, rps, u * t, s * t, f * t, w, (u + s + f) * t + w, 100 * idle / (busy + idle) }'
