#!/usr/bin/env bash
# User-space instructions per BatchWriteItem (25 new items, bench/dynamodb/batch_write.lua) for
# one stratus binary, under callgrind, broken down by stage: wrk sends batches for SECONDS while
# callgrind counts; totals are divided by the BatchWriteItemAsync calls counted in the same window.
# Deterministic where server CPU time is not (a shared machine), but it leaves out the kernel
# (sockets, WAL writes, fsync, checkpoint copies): compare with the CPU time of cpu_per_request.sh.
# usage: bench/dynamodb/batch_instructions.sh BINARY [SECONDS=10]   (needs valgrind)
#   KEY_ORDER=random as batch_write.lua; KEEP=FILE copies the callgrind output to FILE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BIN=$1; SECS=${2:-10}
t=$(mktemp -d /tmp/ddbinstr-XXXX)
port=$(( 45800 + RANDOM % 100 ))
out="$t/callgrind.out"
valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no --instr-atstart=no \
  "$BIN" serve --port $port --data-dir "$t/d" --log-level warn 2>"$t/log" & p=$!
trap 'kill $p 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
AUTH="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
call() {
  curl -sf -X POST -H "X-Amz-Target: DynamoDB_20120810.$1" -H "Content-Type: application/x-amz-json-1.0" \
       -H "Authorization: $AUTH" -H "X-Amz-Date: 20240101T000000Z" -d "$2" "http://127.0.0.1:$port/"
}
for _ in $(seq 300); do call ListTables '{}' >/dev/null 2>&1 && break; sleep 0.2; done
call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
  "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
  "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}' >/dev/null
(cd "$here" && wrk -t1 -c16 -d3s -s batch_write.lua "http://127.0.0.1:$port" >/dev/null)
callgrind_control -i on $p >/dev/null 2>&1
(cd "$here" && wrk -t1 -c64 -d"${SECS}s" -s batch_write.lua "http://127.0.0.1:$port" >/dev/null)
callgrind_control -d $p >/dev/null 2>&1
sleep 2
[ -n "${KEEP:-}" ] && cp "$out.1" "$KEEP"
python3 - "$out.1" "$here/../lib" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from callgrind_stages import requests, stages, summary
f = sys.argv[1]
total, txt = summary(f)
reqs = requests(txt, 'stratus::services::dynamodb::Engine::BatchWriteItemAsync(')
print(f'{reqs} BatchWriteItem requests: {total / reqs / 1000:.1f} k instructions per request, '
      f'{total / reqs / 25 / 1000:.2f} k per item (user space)')
wanted = [('store writer thread', r'SqliteStore::WriterLoop\(\)'),
          ('  apply (engine ApplyInTxn)', r'dynamodb::Engine::ApplyInTxn\('),
          ('    table record check (GetInTxn)', r'TableCatalog::GetInTxn\('),
          ('    SQLite INSERT (kv Put)', r'SqliteWriteTxn::Put\('),
          ('  COMMIT (WAL frames)', r'sqlite3WalFrames'),
          ('checkpointer thread', r'Checkpointer::Loop\(\)'),
          ('io threads', r'asio::detail::scheduler::run\('),
          ('  request handling (FrontDoor)', r'aws::FrontDoor::Handle\(stratus::HttpRequest, stratus::Responder\) \['),
          ('    JSON decode into the DOM', r'aws::internal::ParseJsonAs'),
          ('    model validation', r'aws::ValidateInput\('),
          ('    BatchWriteItemAsync', r'dynamodb::Engine::BatchWriteItemAsync\('),
          ('      per-item prepare (PrepareBatchPut)', r'dynamodb::Engine::PrepareBatchPut\('),
          ('        NormalizeItemInput', r'dynamodb::NormalizeItemInput\('),
          ('        store key (ItemKey)', r'dynamodb::Table::ItemKey\('),
          ('        item text (ItemText)', r'dynamodb::ItemText\('),
          ('      checks, key, text (FinishPut)', r'dynamodb::\(anonymous namespace\)::FinishPut\('),
          ('answers (RunAnswers, worker)', r'dynamodb::Engine::RunAnswers\('),
          ('malloc+free (all threads)', r'^ *(je_)?(malloc|free|_?_?libc_malloc|operator new)'),
          ]
stages(f, wanted, reqs, unit='k per request')
PY
