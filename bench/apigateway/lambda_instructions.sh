#!/usr/bin/env bash
# User-space instructions per HTTP API -> Lambda proxy request (the `provided` echo of
# lambda_cpu.sh) for one stratus binary, under callgrind, broken down by stage: after setup and a
# warm-up, wrk sends requests for SECONDS while callgrind counts; totals are divided by the
# requests wrk completed. Deterministic where CPU time is not (a shared machine), but it leaves out
# the kernel (loopback TCP, ~40% of the server's CPU) and the function process: compare with
# lambda_cpu.sh / lambda_perfstat.sh. Under valgrind the server runs one thread at a time, so the
# rates are far below a native run's.
# valgrind 3.19 (this machine's) lacks pidfd_open and refuses the sandbox's RLIMIT_NOFILE, so every
# cold start fails under it and the run measures the gateway's error path; the script stops when
# any answer is not 2xx. To measure there anyway, build both binaries of an A/B with the same two
# measurement-only edits to src/services/lambda/sandbox.cc (never committed): in Launch, return
# `proc` when pidfd_open fails with ENOSYS; in the child, ignore setrlimit's result.
# usage: bench/apigateway/lambda_instructions.sh BINARY [SECONDS=10] [CONNECTIONS=16]
#   KEEP=FILE copies the callgrind output to FILE.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$1; SECS=${2:-10}; CONNS=${3:-16}
PORT=${PORT:-$(( 45900 + RANDOM % 100 ))}
work=$(mktemp -d /tmp/apigwinstr-XXXX)
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
out="$work/callgrind.out"
cc -O2 -o "$work/bootstrap" "$HERE/proxy_echo.c"
chmod 755 "$work"  # a function's sandboxed child (valgrind until its exec) reaches its files
valgrind --tool=callgrind --child-silent-after-fork=yes --callgrind-out-file="$out" --dump-instr=no --instr-atstart=no \
  "$BIN" serve --port "$PORT" --data-dir "$work/data" --log-level warn --fsync false \
  2>"$work/log" &
spid=$!
for _ in $(seq 600); do curl -sf -m 5 -o /dev/null "http://127.0.0.1:$PORT/_stratus/health" && break; sleep 0.2; done
urls=$(/usr/bin/python3 "$HERE/setup.py" "http://127.0.0.1:$PORT" "$work/bootstrap")
url=$(echo "$urls" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['provided'])")
# Warm-up until every connection has its warm instance (cold starts under valgrind are slow).
for _ in 1 2 3; do wrk -t1 -c"$CONNS" -d5s "$url" >/dev/null 2>&1 || true; done
callgrind_control -i on "$spid" >/dev/null 2>&1
res=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 10s "$url")
callgrind_control -d "$spid" >/dev/null 2>&1
callgrind_control -i off "$spid" >/dev/null 2>&1
sleep 2
n=$(echo "$res" | awk '/requests in/ {print $1}')
if echo "$res" | grep -q "Non-2xx"; then
  echo "$(echo "$res" | grep Non-2xx) of $n: not the hop's path (see the note at the top); server log:" >&2
  grep -v '^==' "$work/log" | head -5 >&2
  exit 1
fi
dump=$(ls -t "$out".* | head -1)
[ -n "${KEEP:-}" ] && cp "$dump" "$KEEP"
python3 - "$dump" "$HERE/../lib" "$n" "$(basename "$BIN")" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from callgrind_stages import stages, summary
f, reqs, name = sys.argv[1], int(sys.argv[3]), sys.argv[4]
total, _ = summary(f)
print(f'{name}: {reqs} requests in the window, {total / reqs / 1000:.1f} k instructions per request (user space)')
wanted = [('io threads', r'asio::detail::scheduler::run\('),
          ('  gateway Start (request side)', r'apigateway::DataPlane::Impl::Start\('),
          ('    WriteV2Event', r'apigateway::WriteV2Event\('),
          ('    FrontDoor::Call (Invoke)', r'aws::FrontDoor::Call\('),
          ('      Executor::Invoke', r'lambda::Executor::Invoke\('),
          ('  Runtime API', r'lambda::Executor::HandleRuntimeApi\('),
          ('    Complete', r'lambda::Executor::Impl::Complete\('),
          ('    LogShipper::Ship', r'lambda::LogShipper::Ship\('),
          ('    ParseV2Response', r'apigateway::ParseV2Response\('),
          ('    gateway Finish', r'apigateway::DataPlane::Impl::Finish\('),
          ('  trace Record', r'trace::InMemoryRecorder::Record\('),
          ('log shipper thread', r'lambda::LogShipper::Loop\(\)'),
          ('store writer thread', r'SqliteStore::WriterLoop\(\)'),
          ('checkpointer thread', r'Checkpointer::Loop\(\)'),
          ('gateway timer thread', r'DataPlane::Impl::TimerLoop\(\)'),
          ('lambda supervisor', r'lambda::Executor::Impl::SupervisorLoop\(\)'),
          ('malloc+free (all threads)', r'^ *(je_)?(malloc|free|_?_?libc_malloc|operator new)'),
          ]
stages(f, wanted, reqs, unit='k per request')
PY
