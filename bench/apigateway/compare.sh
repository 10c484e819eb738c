#!/usr/bin/env bash
# Execute-api data-plane requests/s and p99, side by side in one run with wrk:
#   (a) stratus REST API, MOCK integration
#   (b) stratus HTTP API -> Lambda `provided.al2023` echo bootstrap (proxy_echo.c, native), and
#       the same HTTP API on a nodejs echo function (offline/handler.js)
#   (c) serverless-offline serving the same Node handler (if bench/apigateway/node_modules has it:
#       `cd bench/apigateway && npm ci`)
#   (d) nginx `return 200` (the loopback ceiling)
#   (e) hop_ceiling.c: the gateway -> Lambda hop's floor, a server that does only the three
#       loopback HTTP exchanges every Lambda emulator needs per proxied request (client, the
#       runtime's GET .../next answer, its POST .../response and 202) with the same native
#       bootstrap as (b) and one runtime process per connection, and none of the other work
#       (the Lambda counterpart of (d))
# Each target runs twice: at full load (-c CONNS) for peak req/s, and at a light load (-c 4,
# well under half of peak for every target here) for the p99 a lightly loaded gateway adds.
# Then each target is held at half of its own peak rate by bench/apigateway/fixed_rate.cc (an
# open-loop generator like wrk2, latency from each request's scheduled send time, so stalls are
# not hidden by coordinated omission) for the issue's "p99 at half of peak load"; the hop floor
# (e) is also held at (b)'s half-peak rate, the p99 this machine gives the bare hop at that load
# (64 runtime processes and the generator on the same two cores). Each such line ends
# with the generator's own CPU share of one core: near 100% the generator is the bottleneck
# (this is a 2-core machine shared with the server) and the line does not measure the server.
# Usage: bench/apigateway/compare.sh [path/to/stratus] [seconds] [connections]
set -euo pipefail
BIN=${1:-build/stratus}
SECS=${2:-10}
CONNS=${3:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
NGINX_PORT=38611
STRATUS_PORT=38612
OFFLINE_PORT=38613
FLOOR_PORT=38615      # and FLOOR_PORT+1, +2 for its two Runtime API listeners
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
# The fixed-rate generator, built once (header-only Boost.Asio/Beast) into a cache directory.
FIXED_RATE=${XDG_CACHE_HOME:-$HOME/.cache}/stratus-bench/fixed_rate
if [ ! -x "$FIXED_RATE" ] || [ "$HERE/fixed_rate.cc" -nt "$FIXED_RATE" ]; then
  mkdir -p "$(dirname "$FIXED_RATE")"
  echo "building $FIXED_RATE ..." >&2
  g++ -O2 -std=c++20 -o "$FIXED_RATE" "$HERE/fixed_rate.cc" -lpthread
fi
. "$HERE/../lib/nginx.sh"
[ -x "$NGINX_BIN" ] || { echo "needs nginx (apt-get install nginx-light)"; exit 1; }

work=$(mktemp -d)
spid=""
opid=""
cleanup() {
  stop_nginx_ceiling "$work"
  [ -n "$spid" ] && kill "$spid" 2>/dev/null || true
  # serverless-offline runs under setsid: its node processes are a process group of their own
  # (found by the port it listens on, below); the subshell that started it is not their leader.
  [ -n "${osid:-}" ] && kill -- "-$osid" 2>/dev/null || true
  [ -n "$opid" ] && kill "$opid" 2>/dev/null || true
  [ -n "${fpid:-}" ] && kill "$fpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_nginx_ceiling "$work" "$NGINX_PORT"
"$BIN" serve --port $STRATUS_PORT --data-dir "$work/data" --log-level warn --fsync false &
spid=$!
until curl -sf -m 5 -o /dev/null "http://127.0.0.1:$STRATUS_PORT/_stratus/health"; do sleep 0.05; done
cc -O2 -o "$work/bootstrap" "$HERE/proxy_echo.c"  # (b)'s native `provided` bootstrap
cc -O2 -pthread -o "$work/hop_ceiling" "$HERE/hop_ceiling.c"
# (e): two loops (one per core), one runtime process per benchmark connection like (b)'s
# instances at full load. Its runtimes exit with it (PR_SET_PDEATHSIG).
"$work/hop_ceiling" $FLOOR_PORT $((FLOOR_PORT + 1)) 2 "$CONNS" "$work/bootstrap" &
fpid=$!
until curl -sf -m 5 -o /dev/null "http://127.0.0.1:$FLOOR_PORT/echo"; do sleep 0.05; done
urls=$(/usr/bin/python3 "$HERE/setup.py" "http://127.0.0.1:$STRATUS_PORT" "$work/bootstrap")
url_of() { echo "$urls" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

have_offline=0
if [ -x "$HERE/node_modules/.bin/serverless" ]; then
  (cd "$HERE/offline" && setsid "$HERE/node_modules/.bin/serverless" offline start \
      --host 127.0.0.1 --httpPort $OFFLINE_PORT --lambdaPort $((OFFLINE_PORT + 1)) --noTimeout \
      > "$work/offline.log" 2>&1) &
  opid=$!
  for _ in $(seq 1 300); do
    curl -sf -m 5 -o /dev/null "http://127.0.0.1:$OFFLINE_PORT/echo" && { have_offline=1; break; }
    sleep 0.1
  done
fi

source "$HERE/lib.sh"  # tree_ticks
# serverless-offline's node processes: the session of the process listening on its port (it
# runs under setsid).
osid=""
if [ $have_offline = 1 ]; then
  opid_listen=$(ss -ltnpH "sport = :$OFFLINE_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$opid_listen" ] && osid=$(awk '{print $6}' "/proc/$opid_listen/stat")
fi
stack_ticks() {  # stratus | offline
  if [ "$1" = stratus ]; then
    tree_ticks "$spid"
  elif [ "$1" = floor ]; then
    tree_ticks "$fpid"
  else
    local total=0 p
    for p in $(ps -o pid= --sid "$osid"); do
      total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
  fi
}
run() {  # name url conns
  local name=$1 url=$2 conns=$3
  wrk -t1 -c"$conns" -d2s "$url" >/dev/null 2>&1 || true  # warm-up (instances, caches)
  local out rps p99 errors t0 t1 n cpu="" which="" s0=0 s1=0 stack=""
  case "$name" in
    *stratus*) which=stratus;; *offline*) [ -n "$osid" ] && which=offline;; *floor*) which=floor;;
  esac
  t0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  [ -n "$which" ] && s0=$(stack_ticks "$which")
  out=$(wrk -t1 -c"$conns" -d"${SECS}s" --latency "$url")
  t1=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  [ -n "$which" ] && s1=$(stack_ticks "$which")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  # The stratus process's CPU per request (gateway + Lambda service), and the whole stack's
  # (stratus with its function processes; serverless-offline's node processes): CPU per
  # request is what a loaded machine does not distort, and the stack figure compares the peers.
  case "$name" in *stratus*) cpu=$(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $n" | bc);; esac
  [ -n "$which" ] && stack=$(echo "($s1 - $s0) * 1000000 / $(getconf CLK_TCK) / $n" | bc)
  printf '%-44s c=%-3s %12s req/s   p99 %-9s %s%s%s\n' "$name" "$conns" "$rps" "$p99" \
    "${cpu:+server CPU ${cpu} us/req  }" "${stack:+stack CPU ${stack} us/req  }" \
    "${errors:+non-2xx: $errors}" >&2
  echo "$rps"
}
echo "wrk -t1 -d${SECS}s on $(nproc) cores ($(uname -r)), stratus $("$BIN" --version 2>/dev/null | head -1)" >&2
nginx=$(run "(d) nginx return 200" "http://127.0.0.1:$NGINX_PORT/" "$CONNS")
mock=$(run "(a) stratus REST API, MOCK" "$(url_of mock)" "$CONNS")
provided=$(run "(b) stratus HTTP API -> Lambda provided echo" "$(url_of provided)" "$CONNS")
floor=$(run "(e) hop floor (hop_ceiling.c), same bootstrap" "http://127.0.0.1:$FLOOR_PORT/echo" "$CONNS")
node=$(run "(b') stratus HTTP API -> Lambda nodejs echo" "$(url_of node)" "$CONNS")
offline=""
if [ $have_offline = 1 ]; then
  offline=$(run "(c) serverless-offline, same Node handler" "http://127.0.0.1:$OFFLINE_PORT/echo" "$CONNS")
else
  echo "(c) serverless-offline: not installed (cd bench/apigateway && npm ci)" >&2
fi
run "(d) nginx return 200" "http://127.0.0.1:$NGINX_PORT/" 4 >/dev/null
run "(a) stratus REST API, MOCK" "$(url_of mock)" 4 >/dev/null
run "(b) stratus HTTP API -> Lambda provided echo" "$(url_of provided)" 4 >/dev/null
run "(b') stratus HTTP API -> Lambda nodejs echo" "$(url_of node)" 4 >/dev/null
[ $have_offline = 1 ] && run "(c) serverless-offline, same Node handler" "http://127.0.0.1:$OFFLINE_PORT/echo" 4 >/dev/null
half() {  # name url peak_rps
  local rate
  rate=$(echo "$3 / 2" | bc)
  printf '%-44s at %6s req/s (half of peak): %s\n' "$1" "$rate" \
    "$("$FIXED_RATE" "$2" "$rate" "$SECS" 16)" >&2
}
half "(d) nginx return 200" "http://127.0.0.1:$NGINX_PORT/" "$nginx"
half "(a) stratus REST API, MOCK" "$(url_of mock)" "$mock"
half "(b) stratus HTTP API -> Lambda provided echo" "$(url_of provided)" "$provided"
# The floor at the provided echo's half-peak rate: what this machine's loopback and 64 runtime
# processes alone give the hop's p99 at that load (the p99 goal's reference line).
half "(e) hop floor at (b)'s rate" "http://127.0.0.1:$FLOOR_PORT/echo" "$provided"
half "(b') stratus HTTP API -> Lambda nodejs echo" "$(url_of node)" "$node"
[ -n "$offline" ] && half "(c) serverless-offline, same Node handler" "http://127.0.0.1:$OFFLINE_PORT/echo" "$offline"
printf 'MOCK / nginx = %.2f   Lambda provided / hop floor = %.2f\n' "$(echo "$mock/$nginx" | bc -l)" \
  "$(echo "$provided/$floor" | bc -l)" >&2
if [ -n "$offline" ]; then
  printf 'Lambda nodejs / serverless-offline = %.2f   Lambda provided / serverless-offline = %.2f\n' \
    "$(echo "$node/$offline" | bc -l)" "$(echo "$provided/$offline" | bc -l)" >&2
  printf 'hop floor / serverless-offline = %.2f (a server doing nothing but the hop: three exchanges)\n' \
    "$(echo "$floor/$offline" | bc -l)" >&2
fi
