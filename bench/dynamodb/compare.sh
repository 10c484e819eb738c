#!/usr/bin/env bash
# DynamoDB throughput and p99 through the API, stratus (durable: every acknowledged write is
# fsync'd, group commit) side by side in one run with dynalite (npm, LevelDB, no fsync) serving
# the same workloads: single-item PutItem, GetItem, Query (10 items of a 100-item partition) and
# BatchWriteItem (25 items per request). Last, nginx `return 200` takes the PutItem and GetItem
# requests from the same generator: the loopback ceiling, against which a 10x-dynalite goal is
# checked (a rate above it is out of reach for any server on this machine).
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
NGINX_PORT=${NGINX_PORT:-45703}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
[ -d "$HERE/node_modules/dynalite" ] || (cd "$HERE" && npm ci --no-audit --no-fund >/dev/null)
. "$HERE/../lib/nginx.sh"

work=$(mktemp -d)
spid=""; dpid=""
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "$dpid" ] && kill "$dpid" 2>/dev/null
  stop_nginx_ceiling "$work"; wait 2>/dev/null; rm -rf "$work"
}
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

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of a process
TICK=$(getconf CLK_TCK)

run() {  # port pid script -> "requests rps p99 cpu_us_per_request"
  local out before after
  before=$(cpu_ticks "$2")
  out=$(cd "$HERE" && wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$3" "http://127.0.0.1:$1" 2>/dev/null)
  after=$(cpu_ticks "$2")
  if echo "$out" | grep -q "Non-2xx"; then echo "errors in $3 against port $1:" >&2; echo "$out" >&2; exit 1; fi
  local n rps p99
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "$n $rps $p99 $(awk -v t=$((after - before)) -v n="$n" -v hz="$TICK" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')"
}

# cpu/req: the server process's CPU time (user + system) per request: what a request costs
# whatever else the machine is doing (2 cores / cpu-per-request bounds throughput).
printf "%-22s %11s %9s %9s %12s %9s %9s %7s\n" workload "stratus/s" "p99" "cpu/req" "dynalite/s" "p99" "cpu/req" ratio
declare -A DYN_RPS=()  # dynalite's requests/s per workload, for the ceiling check below
for w in put_item get_item query batch_write; do
  declare -A res=()
  for side in stratus dynalite; do
    port=$STRATUS_PORT; pid=$spid
    [ $side = dynalite ] && port=$DYNALITE_PORT && pid=$dpid
    if [ $w = get_item ]; then export KEYS=${PUTS[$side]:-1000}; fi
    read -r n rps p99 cpu <<<"$(run "$port" "$pid" "$w.lua")"
    [ $w = put_item ] && declare -gA PUTS && PUTS[$side]=$n
    res[$side]="$rps $p99 $cpu"
  done
  read -r srps sp99 scpu <<<"${res[stratus]}"
  read -r drps dp99 dcpu <<<"${res[dynalite]}"
  DYN_RPS[$w]=$drps
  label=$w; unit=1
  [ $w = batch_write ] && label="batch_write (items)" && unit=25
  ratio=$(awk -v a="$srps" -v b="$drps" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
  printf "%-22s %11s %9s %8sus %12s %9s %8sus %7s\n" "$label" $((srps * unit)) "$sp99" "$scpu" $((drps * unit)) "$dp99" "$dcpu" "$ratio"
done

# The ceiling: nginx answers the same PutItem / GetItem requests with `return 200`, no work at
# all. 10x dynalite above this rate cannot be reached by any server under this generator.
start_nginx_ceiling "$work" "$NGINX_PORT"
npid=$(cat "$work/nginx.pid")
for w in put_item get_item; do
  read -r n rps p99 cpu <<<"$(run "$NGINX_PORT" "$npid" "$w.lua")"
  drps=${DYN_RPS[$w]}
  printf "%-22s %11s %9s  (10x dynalite = %d/s: %s)\n" "nginx ceiling, $w" "$rps" "$p99" $((drps * 10)) \
    "$([ $((drps * 10)) -gt "$rps" ] && echo "above the ceiling" || echo "below the ceiling")"
done
