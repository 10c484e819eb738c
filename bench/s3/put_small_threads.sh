#!/usr/bin/env bash
# Server CPU per durable small PUT split by thread name (io threads carry the binary's name, the
# store's writer is stratus-store-w, its checkpointer stratus-store-c), plus PUT/s and disk bytes
# per PUT: wrk PUTs fresh 4 KiB keys for SECONDS with 16 connections, /proc/<pid>/task/*/stat
# before and after. Extra arguments go to `stratus serve`.
# usage: bench/s3/put_small_threads.sh BINARY [SECONDS=5] [serve args...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BIN=$1; SECS=${2:-5}; shift $(( $# < 2 ? $# : 2 ))
PORT_BASE=5400 . "$here/put_server.sh"
snap() {
  for f in /proc/$p/task/*; do echo "$(tr ' ' '_' < $f/comm) $(awk '{print $14 + $15}' $f/stat)"; done |
    awk '{c[$1] += $2} END {for (k in c) print k, c[k]}' | sort
}
wb() { awk '/^write_bytes/ {print $2}' /proc/$p/io; }
s0=$(snap); w0=$(wb)
out=$(SIZE=4096 BUCKET=bench wrk -t2 -c16 -d"${SECS}s" -s "$here/put.lua" "http://127.0.0.1:$port" 2>&1)
s1=$(snap); w1=$(wb)
n=$(echo "$out" | awk '/requests in/ {print $1}'); rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
join <(echo "$s0") <(echo "$s1") | awk -v n="$n" -v hz="$(getconf CLK_TCK)" -v rps="$rps" \
  -v wb=$(( w1 - w0 )) -v ld="$(cut -d' ' -f1 /proc/loadavg)" '
  {d = ($3 - $2) / hz * 1e6 / n; tot += d; printf "%s %.0f  ", $1, d}
  END {printf "| total %.0f us/PUT, %.0f PUT/s, %.1f KiB written/PUT, load %s\n", tot, rps, wb / n / 1024, ld}'
