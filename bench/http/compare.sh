#!/usr/bin/env bash
# Requests/s and p99 for stratus's /_stratus/health and STS GetCallerIdentity, side by side in one
# run with nginx answering `return 200` on the same machine (the loopback ceiling).
# Usage: bench/http/compare.sh [path/to/stratus] [seconds] [connections]
set -euo pipefail
BIN=${1:-build/stratus}
SECS=${2:-10}
CONNS=${3:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
NGINX_PORT=45671
STRATUS_PORT=45672
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
. "$HERE/../lib/nginx.sh"

work=$(mktemp -d)
spid=""
trap 'stop_nginx_ceiling $work; [ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf $work' EXIT
start_nginx_ceiling "$work" "$NGINX_PORT"
"$BIN" serve --port $STRATUS_PORT --data-dir "$work/data" --log-level warn &
spid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$STRATUS_PORT/_stratus/health"; do sleep 0.01; done

run() {  # name url [script]
  local name=$1 url=$2 script=${3:-}
  local args=(-t1 -c"$CONNS" -d"${SECS}s" --latency)
  [ -n "$script" ] && args+=(-s "$script")
  local out
  out=$(wrk "${args[@]}" "$url")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf '%-34s %12s req/s   p99 %s\n' "$name" "$rps" "$p99" >&2
  echo "$rps"
}
echo "wrk -t1 -c$CONNS -d${SECS}s on $(nproc) cores ($(uname -r))" >&2
nginx_rps=$(run "nginx return 200" "http://127.0.0.1:$NGINX_PORT/")
health_rps=$(run "stratus /_stratus/health" "http://127.0.0.1:$STRATUS_PORT/_stratus/health")
sts_rps=$(run "stratus sts GetCallerIdentity" "http://127.0.0.1:$STRATUS_PORT/" "$HERE/get_caller_identity.lua")
printf 'health / nginx = %.2f   GetCallerIdentity / nginx = %.2f\n' \
  "$(echo "$health_rps/$nginx_rps" | bc -l)" "$(echo "$sts_rps/$nginx_rps" | bc -l)" >&2
