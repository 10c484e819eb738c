#!/usr/bin/env bash
# GetUser alone against a fresh stratus: requests/s and the server's CPU time per GetUser (user +
# system time of the server process over the load / requests answered), the figure that a busy
# machine disturbs least. With PERF=<file>, the server is sampled with `perf record -g` during the
# load (read it with `perf report --no-children -i <file>`).
# Usage: bench/cognito/getuser_cpu.sh <stratus binary> [seconds] [connections]  (needs wrk, node)
set -euo pipefail
cd "$(dirname "$0")"
BIN=$1
SECS=${2:-10}
CONNS=${3:-16}
PORT=${STRATUS_PORT:-4720}
tmp=$(mktemp -d)
"$BIN" serve --port "$PORT" --data-dir "$tmp/data" --log-level warn >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/_stratus/health" && break; sleep 0.1; done
url="http://127.0.0.1:$PORT/"
token=$(node setup.mjs "$url" stratus | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).accessToken)')
body="{\"AccessToken\":\"$token\"}"
export BODY=$body TARGET=AWSCognitoIdentityProviderService.GetUser
wrk -t1 -c4 -d1s -s post.lua "$url" >/dev/null  # warm-up
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$pid/stat"; }
if [ -n "${PERF:-}" ]; then perf record -g -o "$PERF" -p "$pid" -- sleep "$SECS" >/dev/null 2>&1 & perf_pid=$!; fi
c0=$(cpu)
out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" -s post.lua "$url")
c1=$(cpu)
[ -n "${PERF:-}" ] && wait "$perf_pid"
n=$(grep -oP '\d+(?= requests in)' <<<"$out")
bad=$(grep -oP '(?<=non-2xx answers: )\d+' <<<"$out" || echo 0)
rate=$(grep -oP '(?<=Requests/sec:)\s*[\d.]+' <<<"$out" | tr -d ' ')
awk -v n="$n" -v bad="$bad" -v c0="$c0" -v c1="$c1" -v rate="$rate" 'BEGIN {
  printf "GetUser: %d requests (%d non-2xx), %s/s, %.1f us server CPU per request\n", n, bad, rate, (c1 - c0) * 1e6 / n }'
