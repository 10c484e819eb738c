# Shared by the bench/apigateway scripts (sourced, not run).

# CPU ticks (user + system) of a process and every live descendant: the stratus server with its
# function instances, or serverless-offline's node processes.
tree_ticks() {
  local total=0 p t
  for p in $1 $(pgrep -P "$1" 2>/dev/null); do
    if [ "$p" = "$1" ]; then
      t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    else
      t=$(tree_ticks "$p")
    fi
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# Starts stratus ($1 the binary, $2 the port; data and logs under $work, which the caller
# removes) without fsync, creates the benchmark's APIs with setup.py (the `provided` function is
# the native proxy_echo.c) and warms the `$3` route (provided, node or mock) up for 2 s with $4
# connections. Sets `spid` (the server's pid) and `url` (the route's URL).
start_stratus_with_apis() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  cc -O2 -o "$work/bootstrap" "$here/proxy_echo.c"
  "$1" serve --port "$2" --data-dir "$work/data" --log-level warn --fsync false 2>"$work/log" &
  spid=$!
  until curl -sf -m 5 -o /dev/null "http://127.0.0.1:$2/_stratus/health"; do sleep 0.05; done
  local urls
  urls=$(/usr/bin/python3 "$here/setup.py" "http://127.0.0.1:$2" "$work/bootstrap")
  url=$(echo "$urls" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$3'])")
  wrk -t1 -c"$4" -d2s "$url" >/dev/null 2>&1 || true
}
