#!/usr/bin/env bash
# Server CPU per durable small PUT (and PUT/s) for one stratus binary: wrk PUTs fresh keys of
# SIZE bytes for SECONDS with CONNS connections; the server's user+system CPU comes from
# /proc/<pid>/stat before and after, divided by the PUTs wrk completed. On a shared machine the
# CPU per PUT is the steadier figure; PUT/s depends on what else runs. Also reports context
# switches and bytes the server sent to the disk (/proc/<pid>/io write_bytes) per PUT.
# usage: bench/s3/put_cpu.sh BINARY [SECONDS=10] [SIZE=4096] [CONNS=16] [--fsync false]
#   BINARY `s3rver` measures s3rver (bench/s3/node_modules, as compare.sh runs it) with the same
#   client, so the two servers' CPU per PUT can be compared on a shared machine.
#   PERF=1 also records `perf record -g` of the server during the run (perf.data in $PWD).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BIN=$1; SECS=${2:-10}; SIZE=${3:-4096}; CONNS=${4:-16}; shift $(( $# < 4 ? $# : 4 ))
t=$(mktemp -d /tmp/putcpu-XXXX)
port=$(( 4660 + RANDOM % 200 ))
if [ "$BIN" = s3rver ]; then
  [ -d "$here/node_modules/s3rver" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
  node "$here/node_modules/s3rver/bin/s3rver.js" --directory "$t/d" --port $port --silent >/dev/null 2>"$t/log" & p=$!
else
  "$BIN" serve --port $port --data-dir "$t/d" --log-level warn "$@" 2>"$t/log" & p=$!
fi
trap 'kill $p 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
curl -s -o /dev/null -X PUT "http://127.0.0.1:$port/bench"
# Warm up (first requests load the model, open files).
SIZE=$SIZE BUCKET=bench wrk -t1 -c2 -d1s -s "$here/put.lua" "http://127.0.0.1:$port" >/dev/null
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
ctx() { awk '/ctxt_switches/ {s += $2} END {print s}' /proc/$1/task/*/status 2>/dev/null; }
wbytes() { awk '/^write_bytes/ {print $2}' /proc/$1/io; }
c0=$(ticks $p); x0=$(ctx $p); w0=$(wbytes $p)
if [ "${PERF:-0}" = 1 ]; then perf record -g -p $p -o "$PWD/perf.data" -- sleep "$SECS" >/dev/null 2>&1 & pp=$!; fi
out=$(SIZE=$SIZE BUCKET=bench wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$here/put.lua" "http://127.0.0.1:$port" 2>&1)
c1=$(ticks $p); x1=$(ctx $p); w1=$(wbytes $p)
[ "${PERF:-0}" = 1 ] && wait $pp
n=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
errs=$(echo "$out" | awk '/Non-2xx/ {print $5}')
hz=$(getconf CLK_TCK)
python3 -c "
n=$n; cpu=($c1-$c0)/$hz
print(f'{n} PUTs of $SIZE B: {float(\"$rps\"):.0f} PUT/s, p50 $p50, p99 $p99, server CPU {cpu*1e6/n:.0f} us/PUT, {($x1-$x0)/n:.1f} context switches/PUT, {($w1-$w0)/n/1024:.1f} KiB written to disk/PUT, errors ${errs:-0}, load $(cut -d' ' -f1 /proc/loadavg)')"
