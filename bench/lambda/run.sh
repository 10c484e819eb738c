#!/usr/bin/env bash
# Lambda benchmarks (docs/lambda.md "Performance" has the figures and how they were taken):
#   1. warm Invoke throughput and latency (wrk through the Invoke API) for a provided echo (a
#      tiny compiled bootstrap), a python echo and a node echo;
#   2. cold start per runtime;
#   3. side by side: the same Node handler served over HTTP by serverless-offline (npm) and by a
#      stratus function URL.
# Usage: bench/lambda/run.sh [build-dir] [seconds] [connections]
set -euo pipefail
BUILD=${1:-build}
SECONDS_PER_RUN=${2:-10}
CONNECTIONS=${3:-32}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STRATUS="$ROOT/$BUILD/stratus"
PORT=${STRATUS_BENCH_PORT:-4590}
PEER_PORT=${PEER_PORT:-4591}
WORK=$(mktemp -d)
cleanup() {
  [ -n "${STRATUS_PID:-}" ] && kill "$STRATUS_PID" 2>/dev/null || true
  [ -n "${PEER_PID:-}" ] && kill -- -"$PEER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cc -O2 -o "$WORK/bootstrap" "$HERE/echo.c"
"$STRATUS" serve --port "$PORT" --in-memory true --log-level warn 2>"$WORK/stratus.log" &
STRATUS_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_stratus/health" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"

# CPU seconds (user + system) of a process, and of the server's children (the instances).
HZ=$(getconf CLK_TCK)
cpu_of() { awk -v hz="$HZ" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
instances_cpu() {
  local total=0
  for child in $(pgrep -P "$STRATUS_PID"); do total=$(echo "$total + $(cpu_of "$child")" | bc); done
  echo "$total"
}
# measure LABEL WRK-ARGS...: runs wrk, prints its figures and the CPU time per request spent in
# the server and in the function instances (less sensitive to a busy machine than requests/s).
measure() {
  local label=$1; shift
  local s0 i0 out n
  s0=$(cpu_of "$STRATUS_PID"); i0=$(instances_cpu)
  out=$(wrk "$@")
  echo "-- $label"
  echo "$out" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$s0 $(cpu_of "$STRATUS_PID") $i0 $(instances_cpu) $n" |
    awk '{printf "   CPU per request: server %.1f us, instances %.1f us\n", ($2-$1)/$5*1e6, ($4-$3)/$5*1e6}'
}

FN_URL=$(/usr/bin/python3 "$HERE/bench.py" "$URL" setup "$WORK/bootstrap" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
URL_HOST=$(echo "$FN_URL" | sed -E 's#https?://([^/]+)/.*#\1#')

echo "== warm invokes: wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s through the Invoke API"
for fn in provided-echo python-echo node-echo; do
  wrk -t2 -c"$CONNECTIONS" -d5s -s "$HERE/invoke.lua" "$URL/2015-03-31/functions/$fn/invocations" >/dev/null
  measure "$fn" -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$HERE/invoke.lua" \
    "$URL/2015-03-31/functions/$fn/invocations"
done

echo "== cold starts (median of 10)"
/usr/bin/python3 "$HERE/bench.py" "$URL" cold 10

echo "== side by side: the same Node handler over HTTP (wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s GET)"
if [ ! -d "$HERE/node_modules/serverless-offline" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
# exec: the background job's pid is the new session's, so `kill -- -$PEER_PID` ends the whole tree.
(cd "$HERE" && exec env SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off setsid npx serverless offline start \
   --httpPort "$PEER_PORT" --lambdaPort $((PEER_PORT + 1)) --host 127.0.0.1 >"$WORK/peer.log" 2>&1) &
PEER_PID=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PEER_PORT/hello" >/dev/null && break; sleep 0.2; done
wrk -t2 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$PEER_PORT/hello" >/dev/null
echo "-- serverless-offline"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$PEER_PORT/hello" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
kill -- -"$PEER_PID" 2>/dev/null || true
PEER_PID=
wrk -t2 -c"$CONNECTIONS" -d3s -H "Host: $URL_HOST" "$URL/hello" >/dev/null
measure "stratus function URL" -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H "Host: $URL_HOST" "$URL/hello"
