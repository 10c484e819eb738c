#!/usr/bin/env bash
# Per HTTP API -> Lambda proxy request, the stratus process's CPU (perf stat task-clock), context
# switches and syscalls, counted by `perf stat -p <server>` during a wrk run; setup as
# lambda_cpu.sh (one stratus, setup.py's APIs, the native proxy_echo.c bootstrap, 2 s warm-up).
# Syscalls and context switches per request move little with the machine's load, so they show a
# change in the Runtime API exchanges even when CPU per request is noisy. Needs perf (root or
# perf_event_paranoid <= 1). Run two binaries alternately for an A/B.
# SYSCALLS=1 also counts the syscalls that differ from the hop floor's (hop_ceiling.c) one by one
# (sys_enter_<name> tracepoints) and prints each per request. Among them `epoll_ctl`: Asio wakes an
# io thread that sleeps in epoll_wait with an EPOLL_CTL_MOD of its interrupter (not a write), so a
# hand-over to another io thread that has to wake it shows there.
# Usage: bench/apigateway/lambda_perfstat.sh path/to/stratus [seconds] [connections]
set -euo pipefail
BIN=$1; SECS=${2:-5}; CONNS=${3:-64}
PORT=${PORT:-38713}
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
source "$HERE/lib.sh"
start_stratus_with_apis "$BIN" "$PORT" provided "$CONNS"
events=instructions:u,instructions:k,task-clock,context-switches,raw_syscalls:sys_enter
if [ -n "${SYSCALLS:-}" ]; then
  for s in recvfrom sendmsg poll epoll_wait epoll_ctl pwrite64 pread64 futex read write; do
    events="$events,syscalls:sys_enter_$s"
  done
fi
perf stat -e "$events" -p "$spid" -o "$work/stat" -- sleep "$SECS" &
ppid=$!
out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" "$url")
wait $ppid
n=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
awk -v n="$n" -v rps="$rps" -v b="$(basename "$BIN")" -v c="$CONNS" '
  /instructions:u/ {gsub(",","",$1); iu=$1/n}
  /instructions:k/ {gsub(",","",$1); ik=$1/n}
  /task-clock/ {gsub(",","",$1); tc=$1*1000/n}
  /context-switches/ {gsub(",","",$1); cs=$1/n}
  /raw_syscalls/ {gsub(",","",$1); sc=$1/n}
  /syscalls:sys_enter_/ {gsub(",","",$1); split($2,a,"sys_enter_"); each=each sprintf(" %s %.2f", a[2], $1/n)}
  END {printf "%s c=%s: %8.0f req/s  CPU %5.1f us/req  cs %4.2f  syscalls %5.2f /req%s\n", b, c, rps, tc, cs, sc, each}' "$work/stat"
