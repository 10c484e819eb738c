#!/usr/bin/env bash
# User-space instructions per durable small PUT for one stratus binary, under callgrind: wrk PUTs
# fresh keys of SIZE bytes for SECONDS (16 connections) while callgrind counts; the total is
# divided by the PutObjectAsync calls counted in the same window, and the inclusive cost per PUT of
# the store's writer thread, the io path and a few functions is printed. Deterministic where
# server CPU time is not (a shared machine), but it leaves out the kernel (sockets, page cache,
# fsync), which is ~40 % of a PUT's CPU.
# usage: bench/s3/put_instructions.sh BINARY [SECONDS=10] [SIZE=4096]   (needs valgrind)
#   KEEP=FILE copies the callgrind output to FILE (for callgrind_annotate --tree=calling).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BIN=$1; SECS=${2:-10}; SIZE=${3:-4096}
t=$(mktemp -d /tmp/putinstr-XXXX)
port=$(( 4860 + RANDOM % 100 ))
out="$t/callgrind.out"
valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no --instr-atstart=no \
  "$BIN" serve --port $port --data-dir "$t/d" --log-level warn 2>"$t/log" & p=$!
trap 'kill $p 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
curl -s -o /dev/null -X PUT "http://127.0.0.1:$port/bench"
SIZE=$SIZE BUCKET=bench wrk -t1 -c4 -d3s -s "$here/put.lua" "http://127.0.0.1:$port" >/dev/null
callgrind_control -i on $p >/dev/null 2>&1
SIZE=$SIZE BUCKET=bench wrk -t2 -c16 -d"${SECS}s" -s "$here/put.lua" "http://127.0.0.1:$port" >/dev/null
callgrind_control -d $p >/dev/null 2>&1
sleep 2
[ -n "${KEEP:-}" ] && cp "$out.1" "$KEEP"
python3 - "$out.1" "$here/../lib" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from callgrind_stages import requests, stages, summary
f = sys.argv[1]
total, txt = summary(f)
puts = requests(txt, 'stratus::services::s3::S3Store::PutObjectAsync(')
print(f'{puts} PUTs, {total / puts / 1000:.1f} k instructions per PUT (user space)')
wanted = [('store writer thread', r'SqliteStore::WriterLoop\(\)'),
          ('  object commit (ApplyCommit)', r'S3Store::ApplyCommit\('),
          ('    record encoding', r'ObjectRecord::Encode\[abi:cxx11\]\(\) const \['),
          ('    bucket read', r'S3Store::LoadBucket(Cached)?\('),
          ('    segment reference', r'SegmentStore::Reference\('),
          ('io threads', r'asio::detail::scheduler::run\('),
          ('  request handling (FrontDoor)', r'aws::FrontDoor::Handle\(stratus::HttpRequest, stratus::Responder\) \['),
          ('    MD5 (ETag)', r's3::SimpleEtag')]  # answers run on the writer thread (42631ca)
stages(f, wanted, puts, unit='k')
PY
