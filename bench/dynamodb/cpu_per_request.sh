#!/usr/bin/env bash
# The server's CPU time per request of stratus binaries, alternated round by round so that the
# machine's drift (other work on it) falls on each binary alike: for each round and each binary,
# a fresh server runs PutItem, GetItem, Query and BatchWriteItem (the compare.sh workloads) and
# the server process's user+system CPU over each phase is divided by the requests it served.
# With PERF=1, each phase is also recorded with `perf record -g` into perf-<binary#>-<phase>.data.
# Usage: bench/dynamodb/cpu_per_request.sh "bin1 [bin2 ...]" [seconds] [connections] [rounds]
set -euo pipefail
BINS=${1:-build/stratus}
SECS=${2:-5}
CONNS=${3:-64}
ROUNDS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${STRATUS_PORT:-45704}
AUTH="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
TICK=$(getconf CLK_TCK)
work=""; spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null || true; [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT
call() {
  curl -sf -X POST -H "X-Amz-Target: DynamoDB_20120810.$1" -H "Content-Type: application/x-amz-json-1.0" \
       -H "Authorization: $AUTH" -H "X-Amz-Date: 20240101T000000Z" -d "$2" "http://127.0.0.1:$PORT/"
}
phase() {  # binary# script -> "requests cpu_us_per_request"
  local before after out n perf_pid=""
  if [ "${PERF:-0}" = 1 ]; then
    perf record -g -o "perf-$1-${2%.lua}.data" -p "$spid" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.2
  fi
  before=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  out=$(cd "$HERE" && wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$2" "http://127.0.0.1:$PORT" 2>/dev/null)
  after=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
  if echo "$out" | grep -q "Non-2xx"; then echo "errors in $2:" >&2; echo "$out" >&2; exit 1; fi
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$n $(awk -v t=$((after - before)) -v n="$n" -v hz="$TICK" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
}
printf "%-6s %-40s %10s %10s %10s %12s\n" round binary "put us" "get us" "query us" "batch25 us"
for round in $(seq 1 "$ROUNDS"); do
  b=0
  for bin in $BINS; do
    b=$((b + 1))
    work=$(mktemp -d)
    "$(realpath "$bin")" serve --port "$PORT" --data-dir "$work/data" --log-level warn --workers 1024 &
    spid=$!
    until call ListTables '{}' >/dev/null 2>&1; do sleep 0.1; done
    call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}' >/dev/null
    until call DescribeTable '{"TableName":"bench"}' | grep -q '"TableStatus":"ACTIVE"'; do sleep 0.1; done
    for k in 0 1 2 3; do
      items=""
      for i in $(seq $((k * 25)) $((k * 25 + 24))); do
        items="$items{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"q\"},\"sk\":{\"N\":\"$i\"},\"v\":{\"S\":\"value $i\"}}}},"
      done
      call BatchWriteItem "{\"RequestItems\":{\"bench\":[${items%,}]}}" >/dev/null
    done
    read -r puts put_us <<<"$(phase $b put_item.lua)"
    export KEYS=$puts
    read -r _ get_us <<<"$(phase $b get_item.lua)"
    read -r _ query_us <<<"$(phase $b query.lua)"
    read -r _ batch_us <<<"$(phase $b batch_write.lua)"
    printf "%-6s %-40s %10s %10s %10s %12s\n" "$round" "$bin" "$put_us" "$get_us" "$query_us" "$batch_us"
    kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""
    rm -rf "$work"; work=""
  done
done
