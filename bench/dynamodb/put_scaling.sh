#!/usr/bin/env bash
# Durable single-item PutItem throughput of stratus as concurrency grows (group commit: concurrent
# writers share one fsync). Prints requests/s, p99 and the server's CPU time per request.
# Usage: bench/dynamodb/put_scaling.sh [path/to/stratus] [seconds] ["conns..."] [extra stratus args]
set -euo pipefail
BIN=$(realpath "${1:-build/stratus}")
SECS=${2:-10}
CONNS_LIST=${3:-"16 64 256 512"}
EXTRA=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${STRATUS_PORT:-45703}
work=$(mktemp -d)
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$BIN" serve --port "$PORT" --data-dir "$work/data" --log-level warn --workers 1024 $EXTRA &
spid=$!
AUTH="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
call() {
  curl -sf -X POST -H "X-Amz-Target: DynamoDB_20120810.$1" -H "Content-Type: application/x-amz-json-1.0" \
       -H "Authorization: $AUTH" -H "X-Amz-Date: 20240101T000000Z" -d "$2" "http://127.0.0.1:$PORT/"
}
until call ListTables '{}' >/dev/null 2>&1; do sleep 0.1; done
call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
  "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
  "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}' >/dev/null
TICK=$(getconf CLK_TCK)
printf "%-8s %10s %10s %9s\n" conns "puts/s" p99 cpu/req
for c in $CONNS_LIST; do
  before=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  out=$(cd "$HERE" && wrk -t1 -c"$c" -d"${SECS}s" --latency -s put_item.lua "http://127.0.0.1:$PORT" 2>/dev/null)
  after=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; exit 1; fi
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  printf "%-8s %10s %10s %7sus\n" "$c" "$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "$(awk -v t=$((after - before)) -v n="$n" -v hz="$TICK" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')"
done
