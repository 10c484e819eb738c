#!/usr/bin/env bash
# Server CPU per request (utime + stime of the stratus process over a wrk run, divided by the
# requests answered) for the four request kinds that go through the shared request path:
#   health  GET /_stratus/health
#   sts     STS GetCallerIdentity (query protocol, SigV4 header, XML answer)
#   mock    a REST API GET with a MOCK integration through the execute-api data plane
#   put/get DynamoDB PutItem (durable, fsync on) and GetItem (json 1.0)
# CPU per request depends far less on other load on the machine than requests/s does, so this
# is the figure to compare before/after a change on a shared machine.
# Usage: bench/http/cpu_per_request.sh [path/to/stratus] [seconds] [connections] [kinds...]
set -euo pipefail
BIN=$(realpath "${1:-build/stratus}")
SECS=${2:-5}
CONNS=${3:-16}
shift 3 2>/dev/null || shift $#
KINDS=${*:-health sts mock put get}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${STRATUS_PORT:-45681}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }

work=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf $work' EXIT
"$BIN" serve --port "$PORT" --data-dir "$work/data" --log-level warn &
spid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.01; done

AUTH="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
ddb() {
  curl -sf -X POST -H "X-Amz-Target: DynamoDB_20120810.$1" -H "Content-Type: application/x-amz-json-1.0" \
       -H "Authorization: $AUTH" -H "X-Amz-Date: 20240101T000000Z" -d "$2" "http://127.0.0.1:$PORT/"
}
mock_url=""
case " $KINDS " in *" mock "*)
  mock_url=$(/usr/bin/python3 - "http://127.0.0.1:$PORT" <<'PY'
import sys, boto3
from botocore.config import Config
ag = boto3.client("apigateway", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="bench", aws_secret_access_key="bench",
                  config=Config(retries={"max_attempts": 1}))
rid = ag.create_rest_api(name="bench-mock")["id"]
root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
res = ag.create_resource(restApiId=rid, parentId=root, pathPart="hello")
ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="GET", authorizationType="NONE")
ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="GET", type="MOCK",
                   requestTemplates={"application/json": '{"statusCode": 200}'})
ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="GET",
                            statusCode="200", responseTemplates={"application/json": '{"ok": true}'})
ag.create_deployment(restApiId=rid, stageName="prod")
print(f"{sys.argv[1]}/restapis/{rid}/prod/_user_request_/hello")
PY
);;
esac
case " $KINDS " in *" put "*|*" get "*)
  ddb CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
    "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
    "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}' >/dev/null
  until ddb DescribeTable '{"TableName":"bench"}' | grep -q '"TableStatus":"ACTIVE"'; do sleep 0.1; done
;;
esac

TICK=$(getconf CLK_TCK)
run() {  # kind url [script]
  local out before after n rps
  local args=(-t1 -c"$CONNS" -d"${SECS}s")
  [ -n "${3:-}" ] && args+=(-s "$3")
  wrk -t1 -c"$CONNS" -d1s ${3:+-s "$3"} "$2" >/dev/null 2>&1 || true  # warm-up
  before=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  out=$(cd "$HERE/../dynamodb" && wrk "${args[@]}" "$2")
  after=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  if echo "$out" | grep -q "Non-2xx"; then echo "errors in $1:" >&2; echo "$out" >&2; exit 1; fi
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  printf '%-8s %9s req/s  server CPU %6.1f us/request\n' "$1" "$rps" \
    "$(echo "($after - $before) * 1000000 / $TICK / $n" | bc -l)"
}
echo "wrk -t1 -c$CONNS -d${SECS}s, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for k in $KINDS; do
  case $k in
    health) run health "http://127.0.0.1:$PORT/_stratus/health" ;;
    sts) run sts "http://127.0.0.1:$PORT/" "$HERE/get_caller_identity.lua" ;;
    mock) run mock "$mock_url" ;;
    put) KEYS=10000 run put "http://127.0.0.1:$PORT" "$HERE/../dynamodb/put_item.lua" ;;
    get) KEYS=1000 run get "http://127.0.0.1:$PORT" "$HERE/../dynamodb/get_item.lua" ;;
  esac
done
