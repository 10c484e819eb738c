#!/usr/bin/env bash
# CPU per HTTP API -> Lambda proxy request of each server thread, summed by thread name (the io
# threads share the binary's name; stratus-store-w is the store's writer, stratus-store-c its
# checkpointer), from /proc/<pid>/task/*/stat before and after a wrk run; setup as lambda_cpu.sh.
# Attributes a change to the thread that pays for it (e.g. the function log rows on the writer).
# Usage: bench/apigateway/lambda_threads.sh path/to/stratus [seconds] [connections]
set -euo pipefail
BIN=$1; SECS=${2:-5}; CONNS=${3:-64}
PORT=${PORT:-38795}
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
source "$HERE/lib.sh"
start_stratus_with_apis "$BIN" "$PORT" provided "$CONNS"
snap() { for t in /proc/$spid/task/*; do echo "$(basename $t) $(cat $t/comm | tr ' ' _) $(awk '{print $14+$15}' $t/stat)"; done; }
snap > "$work/a"
out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" "$url")
snap > "$work/b"
n=$(echo "$out" | awk '/requests in/ {print $1}')
tck=$(getconf CLK_TCK)
join <(sort "$work/a") <(sort "$work/b") | awk -v n="$n" -v t="$tck" '{d=$5-$3; c[$2]+=d} END {for (k in c) if (c[k]>0) printf "  %-18s %6.1f us/req\n", k, c[k]*1e6/t/n}' | sort
echo "  requests $n"
