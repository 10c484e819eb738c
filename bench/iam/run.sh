#!/usr/bin/env bash
# What enforcement costs a request: GetCallerIdentity rps (a SigV4-signed query POST as botocore
# sends it) with enforcement off, then on (signature verified against the IAM user's secret, the
# user resolved), same binary, same wrk settings. Then policy evaluations/s (bench_iam).
# Usage: bench/iam/run.sh [path/to/stratus] [seconds] [connections] [path/to/bench_iam]
set -euo pipefail
BIN=${1:-build/stratus}
SECS=${2:-10}
CONNS=${3:-32}
BENCH=${4:-$(dirname "$BIN")/bench/iam/bench_iam}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=45691
command -v wrk >/dev/null || { echo "needs wrk (scripts/install-deps.sh --bench)"; exit 1; }
work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf $work' EXIT

run() {  # label, extra serve args...
  local label=$1; shift
  rm -rf "$work/data"
  "$BIN" serve --port $PORT --data-dir "$work/data" --log-level warn "$@" &
  spid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.05; done
  # A user with a key; the request is signed with it (root key "test" creates it).
  /usr/bin/python3 - "$PORT" "$work/req.lua" <<'PY'
import sys, boto3, botocore.auth, botocore.awsrequest, botocore.credentials
port, out = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}/"
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
iam.create_user(UserName="bench")
k = iam.create_access_key(UserName="bench")["AccessKey"]
body = "Action=GetCallerIdentity&Version=2011-06-15"
req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body,
      headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
botocore.auth.SigV4Auth(botocore.credentials.Credentials(k["AccessKeyId"], k["SecretAccessKey"]),
                        "sts", "us-east-1").add_auth(req)
lines = ['wrk.method = "POST"', f'wrk.body = "{body}"', "wrk.headers = {}"]
for name, value in req.headers.items():
    v = value.decode() if isinstance(value, bytes) else value
    lines.append(f'wrk.headers["{name}"] = "{v}"')
lines.append('function response(status, headers, body) if status ~= 200 then error("status " .. status .. ": " .. body) end end')
open(out, "w").write("\n".join(lines) + "\n")
PY
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$work/req.lua" "http://127.0.0.1:$PORT/" 2>&1)
  printf '%-44s %10s rps   p99 %s\n' "$label" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="99%" {print $2}')" >&2
  if echo "$out" | grep -q "Non-2xx\|error"; then echo "$out" >&2; fi
  kill $spid; wait $spid 2>/dev/null || true; spid=
}
echo "GetCallerIdentity, wrk -t2 -c$CONNS -d${SECS}s, $(nproc) cores, $(date -u +%F)" >&2
run "enforcement off"
run "enforcement on (--enforce-iam true)" --enforce-iam true
if [ -x "$BENCH" ]; then
  "$BENCH" --benchmark_min_time=0.5 2>&1 | grep -E "^BM_|^-|Benchmark" >&2
fi
