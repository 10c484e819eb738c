#!/usr/bin/env bash
# Instructions per GetUser: runs stratus under callgrind with instrumentation off, sets up a pool,
# user and token (setup.mjs), warms up, then instruments exactly N GetUsers sent one after another
# on one keep-alive connection and dumps the profile. Divide the dump's PROGRAM TOTALS by N; read
# it with `callgrind_annotate --inclusive=yes <out>.1`.
# Usage: bench/cognito/getuser_callgrind.sh <stratus binary> <out file> [N]  (needs valgrind, node, wrk)
set -euo pipefail
BIN=$1; OUT=$2; N=${3:-2000}
PORT=${STRATUS_PORT:-4730}
cd "$(dirname "$0")"
tmp=$(mktemp -d)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" "$BIN" serve --port "$PORT" \
  --data-dir "$tmp/data" --log-level warn >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/_stratus/health" && break; sleep 0.2; done
url="http://127.0.0.1:$PORT/"
token=$(node setup.mjs "$url" stratus | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).accessToken)')
export BODY="{\"AccessToken\":\"$token\"}" TARGET=AWSCognitoIdentityProviderService.GetUser
wrk -t1 -c1 -d2s -s post.lua "$url" >/dev/null  # warm-up: the token is remembered, records cached
callgrind_control -i on "$pid" >/dev/null
/usr/bin/python3 - "$PORT" "$N" <<'PY'
import http.client, os, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": os.environ["TARGET"]}
for _ in range(n):
    c.request("POST", "/", os.environ["BODY"], h)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200, body
PY
callgrind_control -i off "$pid" >/dev/null
callgrind_control -d "$pid" >/dev/null
echo "GetUser x $N: profile in $OUT.1"
