# Sourced by put_syscalls.sh and put_small_threads.sh: starts the stratus binary $BIN on a random
# port from PORT_BASE (a data dir in a fresh $t, stopped and removed on exit; extra arguments in
# "$@" go to `stratus serve`), waits for it, creates bucket `bench` and warms up with one second of
# 4 KiB PUTs. Sets t, port and p (the server's pid).
t=$(mktemp -d /tmp/putsrv-XXXX); port=$(( PORT_BASE + RANDOM % 100 ))
"$BIN" serve --port $port --data-dir "$t/d" --log-level warn "$@" 2>"$t/log" & p=$!
trap 'kill $p 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
curl -s -o /dev/null -X PUT "http://127.0.0.1:$port/bench"
SIZE=4096 BUCKET=bench wrk -t1 -c2 -d1s -s "$here/put.lua" "http://127.0.0.1:$port" >/dev/null
