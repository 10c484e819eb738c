#!/usr/bin/env bash
# DynamoDB throughput and p99 through the API, stratus (durable: every acknowledged write is
# fsync'd, group commit) side by side in one run with dynalite (npm, LevelDB, no fsync) serving
# the same workloads: single-item PutItem, GetItem, Query (10 items of a 100-item partition) and
# BatchWriteItem (25 items per request).
# Usage: bench/dynamodb/compare.sh [path/to/stratus] [seconds] [connections] [extra stratus args]
# Needs wrk (apt-get install wrk), node, and `npm ci` in bench/dynamodb (dynalite).
set -euo pipefail
BIN=$(realpath "${1:-build/stratus}")
SECS=${2:-10}
CONNS=${3:-256}
EXTRA=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
STRATUS_PORT=${STRATUS_PORT:-45701}
DYNALITE_PORT=${DYNALITE_PORT:-45702}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
[ -d "$HERE/node_modules/dynalite" ] || (cd "$HERE" && npm ci --no-audit --no-fund >/dev/null)

work=$(mktemp -d)
spid=""; dpid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "$dpid" ] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" serve --port "$STRATUS_PORT" --data-dir "$work/stratus" --log-level warn --workers 1024 $EXTRA &
spid=$!
node "$HERE/node_modules/dynalite/cli.js" --port "$DYNALITE_PORT" --path "$work/dynalite" >/dev/null 2>&1 &
dpid=$!

AUTH="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
call() {  # port target json
  curl -sf -X POST -H "X-Amz-Target: DynamoDB_20120810.$2" -H "Content-Type: application/x-amz-json-1.0" \
       -H "Authorization: $AUTH" -H "X-Amz-Date: 20240101T000000Z" -d "$3" "http://127.0.0.1:$1/"
}
for port in $STRATUS_PORT $DYNALITE_PORT; do
  until call "$port" ListTables '{}' >/dev/null 2>&1; do sleep 0.1; done
  call "$port" CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
    "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
    "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}' >/dev/null
  until call "$port" DescribeTable '{"TableName":"bench"}' | grep -q '"TableStatus":"ACTIVE"'; do sleep 0.1; done
  for b in 0 1 2 3; do
    items=""
    for i in $(seq $((b * 25)) $((b * 25 + 24))); do
      items="$items{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"q\"},\"sk\":{\"N\":\"$i\"},\"v\":{\"S\":\"value $i\"}}}},"
    done
    call "$port" BatchWriteItem "{\"RequestItems\":{\"bench\":[${items%,}]}}" >/dev/null
  done
done

run() {  # port script -> "requests rps p99"
  local out
  out=$(cd "$HERE" && wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$2" "http://127.0.0.1:$1" 2>/dev/null)
  local n rps p99
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "$n $rps $p99"
}

printf "%-26s %14s %10s %14s %10s %8s\n" workload "stratus/s" "p99" "dynalite/s" "p99" ratio
for w in put_item get_item query batch_write; do
  declare -A res=()
  for side in stratus dynalite; do
    port=$STRATUS_PORT; [ $side = dynalite ] && port=$DYNALITE_PORT
    if [ $w = get_item ]; then export KEYS=${PUTS[$side]:-1000}; fi
    read -r n rps p99 <<<"$(run "$port" "$w.lua")"
    [ $w = put_item ] && declare -gA PUTS && PUTS[$side]=$n
    res[$side]="$rps $p99"
  done
  read -r srps sp99 <<<"${res[stratus]}"
  read -r drps dp99 <<<"${res[dynalite]}"
  label=$w; unit=1
  [ $w = batch_write ] && label="batch_write (items)" && unit=25
  ratio=$(awk -v a="$srps" -v b="$drps" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
  printf "%-26s %14s %10s %14s %10s %8s\n" "$label" $((srps * unit)) "$sp99" $((drps * unit)) "$dp99" "$ratio"
done
