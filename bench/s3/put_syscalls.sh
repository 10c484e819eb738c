#!/usr/bin/env bash
# Syscalls, block requests and context switches per durable small PUT of one stratus binary
# (`perf stat` of tracepoints on the server during wrk PUTs of fresh 4 KiB keys, 16 connections).
# sync_file_range per PUT is two per commit batch (segment, then WAL): its inverse/2 is the batch.
# usage: bench/s3/put_syscalls.sh BINARY [SECONDS=5] [serve args...]   (needs perf)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BIN=$1; SECS=${2:-5}; shift $(( $# < 2 ? $# : 2 ))
PORT_BASE=5100 . "$here/put_server.sh"
events=syscalls:sys_enter_fdatasync,syscalls:sys_enter_sync_file_range,syscalls:sys_enter_pwrite64
events=$events,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_fcntl,syscalls:sys_enter_futex
events=$events,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom
events=$events,block:block_rq_issue,sched:sched_switch
perf stat -x, -e "$events" -p $p -o "$t/stat" -- sleep "$SECS" & sp=$!
out=$(SIZE=4096 BUCKET=bench wrk -t2 -c16 -d"${SECS}s" -s "$here/put.lua" "http://127.0.0.1:$port" 2>&1)
wait $sp
n=$(echo "$out" | awk '/requests in/ {print $1}')
echo "$n PUTs, $(echo "$out" | awk '/Requests\/sec/ {print $2}') PUT/s, load $(cut -d' ' -f1 /proc/loadavg)"
awk -F, -v n="$n" '/^[0-9]/ {printf "  %-40s %6.2f per PUT\n", $3, $1 / n}' "$t/stat"
