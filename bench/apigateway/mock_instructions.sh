#!/usr/bin/env bash
# User-space instructions per REST API MOCK request for one stratus binary, under callgrind: the
# benchmark's APIs (setup.py), 2 s of warm-up, then wrk -t1 -c4 for SECONDS while callgrind counts;
# the program total (every thread) divided by the requests wrk counted. Deterministic where CPU
# time is not on a shared machine; covers core's server, the front door, the gateway's request and
# answer and its trace segment (not the Lambda hop: valgrind 3.19 lacks pidfd_open).
# Usage: bench/apigateway/mock_instructions.sh path/to/stratus [seconds]   (needs valgrind)
#   KEEP=FILE copies the callgrind output to FILE.
set -euo pipefail
BIN=$1; SECS=${2:-4}
here="$(cd "$(dirname "$0")" && pwd)"
t=$(mktemp -d /tmp/fdmock-XXXX)
port=$(( 4960 + RANDOM % 100 ))
out="$t/callgrind.out"
cc -O2 -o "$t/bootstrap" "$here/proxy_echo.c"
ulimit -Sn 1024
valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no --instr-atstart=no \
  "$BIN" serve --port $port --data-dir "$t/d" --log-level warn --fsync false 2>"$t/log" & p=$!
trap 'kill $p 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/_stratus/health" && break; sleep 0.2; done
urls=$(/usr/bin/python3 "$here/setup.py" "http://127.0.0.1:$port" "$t/bootstrap")
url=$(echo "$urls" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['mock'])")
wrk -t1 -c4 -d2s "$url" >/dev/null
callgrind_control -i on $p >/dev/null 2>&1
n=$(wrk -t1 -c4 -d"${SECS}s" "$url" | awk '/requests in/ {print $1}')
callgrind_control -i off $p >/dev/null 2>&1
callgrind_control -d $p >/dev/null 2>&1
sleep 2
tot=$(callgrind_annotate "$out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
echo "$(basename $BIN): $n requests, $((tot / n)) instructions per MOCK request"
[ -n "${KEEP:-}" ] && cp "$out.1" "$KEEP"
true
