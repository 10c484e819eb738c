#!/usr/bin/env bash
# Cognito benchmarks, stratus side by side with cognito-local (npm), in one run:
#   password sign-ins/s (InitiateAuth USER_PASSWORD_AUTH), SRP sign-ins/s (USER_SRP_AUTH +
#   PASSWORD_VERIFIER), client_credentials tokens/s (/oauth2/token), and access-token
#   verifications/s (GetUser: JWT signature, expiry, revocation check, user read).
# Usage: bench/cognito/run.sh [build dir] [seconds per run]   (needs wrk, node; npm ci here)
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${1:-../../build}
SECS=${2:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
STRATUS_PORT=${STRATUS_PORT:-4710}
LOCAL_PORT=${LOCAL_PORT:-4711}
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

"$BUILD/stratus" serve --port "$STRATUS_PORT" --data-dir "$tmp/stratus" --log-level warn >"$tmp/stratus.log" 2>&1 &
pids+=($!)
(cd "$tmp" && PORT=$LOCAL_PORT HOST=127.0.0.1 exec node "$OLDPWD/node_modules/cognito-local/lib/bin/start.js") >"$tmp/local.log" 2>&1 &
pids+=($!)
for url in "http://127.0.0.1:$STRATUS_PORT/_stratus/health" "http://127.0.0.1:$LOCAL_PORT/health"; do
  for _ in $(seq 100); do curl -s -o /dev/null "$url" 2>/dev/null && break; sleep 0.1; done
done
sleep 1

rate() { awk '/Requests\/sec/ {print $2}'; }
wrk_post() {  # url body [target] [content-type] [authorization]
  BODY="$2" TARGET="${3:-}" CT="${4:-application/x-amz-json-1.1}" AUTH="${5:-}" \
    wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" -s post.lua "$1" 2>&1 | tee -a "$tmp/wrk.log" | rate
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
  R[$who,password]=$(TARGET="" wrk_post "$url" "$auth_body" "$T.InitiateAuth")
  R[$who,getuser]=$(wrk_post "$url" "{\"AccessToken\":\"$token\"}" "$T.GetUser")
  R[$who,srp]=$(node srp_load.mjs "$url" "$pool" "$client" bench@example.com 'Bench-passw0rd!' "$SECS" "$CONNS" 2>>"$tmp/srp.err" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{const j=JSON.parse(s);console.log(j.failed>0&&j.signins===0?'unsupported':j.per_second)}catch{console.log('unsupported')}})")
  if [ $who = stratus ]; then
    R[$who,cc]=$(wrk_post "http://127.0.0.1:$port/_cognito/bench/oauth2/token" "grant_type=client_credentials&scope=api%2Fread" "" \
                  application/x-www-form-urlencoded "Basic $(get machineBasic)")
  else
    R[$who,cc]="unsupported"
  fi
done

printf '\n%-46s %12s %14s\n' "operation (${SECS}s, ${CONNS} connections)" stratus cognito-local
printf '%-46s %12s %14s\n' "USER_PASSWORD_AUTH sign-ins/s (argon2id)" "${R[stratus,password]}" "${R[local,password]}"
printf '%-46s %12s %14s\n' "USER_SRP_AUTH sign-ins/s (2 requests each)" "${R[stratus,srp]}" "${R[local,srp]}"
printf '%-46s %12s %14s\n' "client_credentials tokens/s" "${R[stratus,cc]}" "${R[local,cc]}"
printf '%-46s %12s %14s\n' "GetUser (access-token verifications)/s" "${R[stratus,getuser]}" "${R[local,getuser]}"
grep -h "non-2xx\|first failure" "$tmp/wrk.log" | sort | uniq -c | head -10 || true
