#!/usr/bin/env bash
# Cognito benchmarks, stratus side by side with cognito-local (npm), in one run:
#   password sign-ins/s (InitiateAuth USER_PASSWORD_AUTH), SRP sign-ins/s (USER_SRP_AUTH +
#   PASSWORD_VERIFIER), client_credentials tokens/s (/oauth2/token), access-token
#   verifications/s (GetUser: JWT signature, expiry, revocation check, user read), and requests/s
#   through an HTTP API whose JWT authorizer trusts the pool (HTTP_PROXY to nginx `return 200`),
#   against the same route without the authorizer: the difference is the verification's cost.
# Besides requests/s, each row gives the server's CPU time per operation (user + system time of
# the server process over the run / operations), which a busy machine disturbs much less.
# Usage: bench/cognito/run.sh [build dir] [seconds per run]   (needs wrk, node, nginx; npm ci here)
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${1:-../../build}
SECS=${2:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
STRATUS_PORT=${STRATUS_PORT:-4710}
LOCAL_PORT=${LOCAL_PORT:-4711}
NGINX_PORT=${NGINX_PORT:-4712}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
tmp=$(mktemp -d)
pids=()
cleanup() {
  if [ -n "${pids[0]:-}" ] && ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "stratus exited during the run; the end of its log:" >&2
    tail -20 "$tmp/stratus.log" >&2
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$(cat "$tmp/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 "ok"; } } }
CONF
"$NGINX" -c "$tmp/nginx.conf" -p "$tmp"

"$BUILD/stratus" serve --port "$STRATUS_PORT" --data-dir "$tmp/stratus" --log-level warn >"$tmp/stratus.log" 2>&1 &
pids+=($!)
(cd "$tmp" && PORT=$LOCAL_PORT HOST=127.0.0.1 exec node "$OLDPWD/node_modules/cognito-local/lib/bin/start.js") >"$tmp/local.log" 2>&1 &
pids+=($!)
declare -A PID=([stratus]=${pids[0]} [local]=${pids[1]})
for url in "http://127.0.0.1:$STRATUS_PORT/_stratus/health" "http://127.0.0.1:$LOCAL_PORT/health"; do
  for _ in $(seq 100); do curl -s -o /dev/null "$url" 2>/dev/null && break; sleep 0.1; done
done
sleep 1

# CPU seconds (user + system) a process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# Runs a load command against `who`; prints "<ops/s> <ms of server CPU per op>". The command
# prints wrk's report or srp_load's JSON.
measure() {  # who command...
  local who=$1; shift
  local c0 c1 out
  c0=$(cpu_of "${PID[$who]}")
  out=$("$@" 2>&1 | tee -a "$tmp/wrk.log")
  c1=$(cpu_of "${PID[$who]}")
  C0=$c0 C1=$c1 node -e '
    const s = require("fs").readFileSync(0, "utf8");
    let n = 0, rate = 0;
    const j = s.match(/\{"signins".*\}/);
    if (j) { const r = JSON.parse(j[0]); n = r.signins; rate = r.per_second; }
    else { n = +(s.match(/(\d+) requests in/) || [0, 0])[1]; rate = +(s.match(/Requests\/sec:\s*([\d.]+)/) || [0, 0])[1];
           const bad = +(s.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1]; if (bad && n) { rate = +(rate * (n - bad) / n).toFixed(2); n -= bad; } }
    const ms = n > 0 ? ((process.env.C1 - process.env.C0) * 1000 / n).toFixed(3) : "-";
    console.log(n > 0 ? `${rate} ${ms}` : "unsupported -");' <<<"$out"
}
wrk_post() {  # url body [target] [content-type] [authorization]
  BODY="$2" TARGET="${3:-}" CT="${4:-application/x-amz-json-1.1}" AUTH="${5:-}" \
    wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" -s post.lua "$1"
}
wrk_get() {  # url authorization
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" -H "Authorization: $2" "$1"
}
T=AWSCognitoIdentityProviderService

declare -A R
for who in stratus local; do
  port=$([ $who = stratus ] && echo $STRATUS_PORT || echo $LOCAL_PORT)
  url="http://127.0.0.1:$port/"
  cfg=$(node setup.mjs "$url" "$([ $who = stratus ] && echo stratus || echo cognito-local)")
  get() { node -e "console.log(JSON.parse(process.argv[1])['$1'] ?? '')" "$cfg"; }
  pool=$(get poolId); client=$(get clientId); token=$(get accessToken)
  auth_body="{\"AuthFlow\":\"USER_PASSWORD_AUTH\",\"ClientId\":\"$client\",\"AuthParameters\":{\"USERNAME\":\"bench@example.com\",\"PASSWORD\":\"Bench-passw0rd!\"}}"
  R[$who,password]=$(measure $who wrk_post "$url" "$auth_body" "$T.InitiateAuth")
  R[$who,getuser]=$(measure $who wrk_post "$url" "{\"AccessToken\":\"$token\"}" "$T.GetUser")
  R[$who,srp]=$(measure $who node srp_load.mjs "$url" "$pool" "$client" bench@example.com 'Bench-passw0rd!' "$SECS" "$CONNS")
  if [ $who = stratus ]; then
    R[$who,cc]=$(measure $who wrk_post "http://127.0.0.1:$port/_cognito/bench/oauth2/token" \
                 "grant_type=client_credentials&scope=api%2Fread" "" application/x-www-form-urlencoded "Basic $(get machineBasic)")
    urls=$(/usr/bin/python3 authorizer_setup.py "http://127.0.0.1:$port" "$pool" "$client" "http://127.0.0.1:$NGINX_PORT/")
    url_of() { node -e "console.log(JSON.parse(process.argv[1])['$1'])" "$urls"; }
    R[$who,open]=$(measure $who wrk_get "$(url_of open)" "Bearer $token")
    R[$who,jwt]=$(measure $who wrk_get "$(url_of auth)" "Bearer $token")
  else
    R[$who,cc]="unsupported -"
  fi
done

row() {  # label key
  read -r sr sc <<<"${R[stratus,$2]}"
  read -r lr lc <<<"${R[local,$2]:-n/a -}"
  printf '%-52s %10s %9s %14s %9s\n' "$1" "$sr" "$sc" "$lr" "$lc"
}
printf '\n%-52s %10s %9s %14s %9s\n' "operation (${SECS}s, ${CONNS} connections)" "stratus/s" "ms CPU" "cognito-local" "ms CPU"
row "USER_PASSWORD_AUTH sign-ins (SRP verifier)" password
row "USER_SRP_AUTH sign-ins (2 requests each)" srp
row "client_credentials tokens" cc
row "GetUser (access-token verifications)" getuser
row "HTTP API route, no authorizer (-> nginx)" open
row "HTTP API route, JWT authorizer on the pool (-> nginx)" jwt
read -r _ open_ms <<<"${R[stratus,open]}"
read -r _ jwt_ms <<<"${R[stratus,jwt]}"
node -e 'const d = process.argv[2] - process.argv[1];
  console.log(`JWT authorizer: ${(d * 1000).toFixed(1)} us of server CPU per verification -> ${d > 0 ? Math.round(1000 / d) : "-"} verifications/s per core`)' "$open_ms" "$jwt_ms"
grep -h "first failure" "$tmp/wrk.log" | sort | uniq -c | head -10 || true
