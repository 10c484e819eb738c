#!/usr/bin/env bash
# Server CPU per BatchWriteItem item for one stratus binary: a fresh server (durable, temp data
# dir), the bench table, then SECONDS of bench/dynamodb/batch_write.lua (wrk -t1, CONNS
# connections); prints the items/s and the server process's user+system CPU (/proc/<pid>/stat)
# per request and per item. Alternate binaries run after run on a shared machine.
# usage: bench/dynamodb/batch_cpu.sh BINARY [SECONDS=10] [CONNS=64] [PERF_OUTPUT]
#   PERF_OUTPUT: also `perf record -g` the server into that file. KEY_ORDER=random as batch_write.lua.
set -euo pipefail
BIN=$1; SECS=${2:-10}; CONNS=${3:-64}; PERF=${4:-}
PORT=${STRATUS_PORT:-45799}
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
"$BIN" serve --port $PORT --data-dir "$work/data" --log-level warn --workers 1024 &
spid=$!
trap 'kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf $work' EXIT
AUTH="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
call() { curl -sf -X POST -H "X-Amz-Target: DynamoDB_20120810.$1" -H "Content-Type: application/x-amz-json-1.0" -H "Authorization: $AUTH" -H "X-Amz-Date: 20240101T000000Z" -d "$2" "http://127.0.0.1:$PORT/"; }
until call ListTables '{}' >/dev/null 2>&1; do sleep 0.1; done
call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}' >/dev/null
until call DescribeTable '{"TableName":"bench"}' | grep -q '"TableStatus":"ACTIVE"'; do sleep 0.1; done
pp=""
if [ -n "$PERF" ]; then perf record -g -o "$PERF" -p $spid >/dev/null 2>&1 & pp=$!; sleep 0.2; fi
b=$(awk '{print $14+$15}' /proc/$spid/stat)
out=$(cd $HERE && wrk -t1 -c$CONNS -d${SECS}s -s batch_write.lua http://127.0.0.1:$PORT 2>/dev/null)
a=$(awk '{print $14+$15}' /proc/$spid/stat)
[ -n "$pp" ] && { kill -INT $pp; wait $pp 2>/dev/null || true; }
n=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
echo "$BIN reqs=$n items/s=$((rps*25)) cpu_us/req=$(awk -v t=$((a-b)) -v n=$n -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.0f", t/hz*1e6/n}') cpu_us/item=$(awk -v t=$((a-b)) -v n=$n -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.1f", t/hz*1e6/n/25}')"
