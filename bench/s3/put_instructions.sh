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
python3 - "$out.1" <<'PY'
import re, subprocess, sys
f = sys.argv[1]
txt = open(f).read()
total = int(re.search(r'summary: (\d+)', txt).group(1))
names = dict(re.findall(r'\((\d+)\) (.*)', txt))
ids = {k for k, v in names.items() if v.startswith('stratus::services::s3::S3Store::PutObjectAsync(')}
lines = txt.split('\n')
puts = sum(int(lines[i + 1].split('=')[1].split()[0]) for i, l in enumerate(lines)
           if re.match(r'cfn=\((\d+)\)', l) and re.match(r'cfn=\((\d+)\)', l).group(1) in ids
           and lines[i + 1].startswith('calls='))
print(f'{puts} PUTs, {total / puts / 1000:.1f} k instructions per PUT (user space)')
annotate = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', f],
                          capture_output=True, text=True).stdout
wanted = [('store writer thread', r'SqliteStore::WriterLoop\(\)'),
          ('  object commit (ApplyCommit)', r'S3Store::ApplyCommit\('),
          ('    record encoding', r'ObjectRecord::Encode\[abi:cxx11\]\(\) const \['),
          ('    bucket read', r'S3Store::LoadBucket(Cached)?\('),
          ('    segment reference', r'SegmentStore::Reference\('),
          ('io threads', r'asio::detail::scheduler::run\('),
          ('  request handling (FrontDoor)', r'aws::FrontDoor::Handle\(stratus::HttpRequest, stratus::Responder\) \['),
          ('    MD5 (ETag)', r's3::SimpleEtag'),
          ('answers (worker)', r'AnswerQueue::Post.*_M_invoke')]
for label, pattern in wanted:
    for line in annotate.split('\n'):
        m = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(.*)', line)
        if m and re.search(pattern, m.group(2)):
            print(f'  {label:<34} {int(m.group(1).replace(",", "")) / puts / 1000:7.1f} k')
            break
PY
