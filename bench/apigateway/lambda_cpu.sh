#!/usr/bin/env bash
# Server CPU per HTTP API -> Lambda proxy request: starts one stratus, creates the benchmark's
# APIs (setup.py; the `provided` function is the native proxy_echo.c), warms up for 2 s, then
# runs wrk for SECONDS at CONNECTIONS and prints wrk's rate and p99 with the stratus process's
# CPU time (user + system, /proc/<pid>/stat) divided by the requests served, and the stack's: the
# server with its live descendants (the function instances). CPU per request is what a machine
# loaded by others distorts least, so A/B comparisons of two binaries use this (run them
# alternately).
# Usage: bench/apigateway/lambda_cpu.sh path/to/stratus [seconds] [connections] [target]
#   target: provided (default), node or mock. PERF=1 also records `perf record -g` of the
#   server during the measured run into ./perf.data (PERFOPTS overrides -g).
set -euo pipefail
BIN=$1
SECS=${2:-8}
CONNS=${3:-4}
TARGET=${4:-provided}
PORT=${PORT:-38712}
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
spid=""
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$HERE/lib.sh"
start_stratus_with_apis "$BIN" "$PORT" "$TARGET" "$CONNS"
t0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
s0=$(tree_ticks "$spid")
ppid=""
if [ -n "${PERF:-}" ]; then
  # shellcheck disable=SC2086
  perf record ${PERFOPTS:--g} -p "$spid" -o perf.data -- sleep "$SECS" >/dev/null 2>&1 &
  ppid=$!
fi
out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$url")
[ -n "$ppid" ] && wait "$ppid"
t1=$(awk '{print $14 + $15}' "/proc/$spid/stat")
s1=$(tree_ticks "$spid")
n=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p99=$(echo "$out" | awk '$1=="99%" {print $2}')
errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
printf '%s %s c=%s: %s req/s  p99 %s  server CPU %s us/req  +functions %s us/req (%s requests)%s\n' \
  "$(basename "$BIN")" "$TARGET" "$CONNS" "$rps" "$p99" \
  "$(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $n" | bc)" \
  "$(echo "($s1 - $s0) * 1000000 / $(getconf CLK_TCK) / $n" | bc)" "$n" \
  "${errors:+  non-2xx: $errors}"
