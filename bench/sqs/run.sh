#!/usr/bin/env bash
# SQS throughput with durability on (fsync per commit batch), side by side with nats-server
# publish->subscribe (the in-memory ceiling) in one run.
# Usage: bench/sqs/run.sh [path/to/stratus] [seconds] [connections]
set -euo pipefail
BIN=${1:-build/stratus}
SECS=${2:-10}
CONNS=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=45681
NATS_PORT=45682
command -v wrk >/dev/null || { echo "needs wrk (scripts/install-deps.sh --bench)"; exit 1; }
work=$(mktemp -d)
npid=
trap 'kill $spid $npid 2>/dev/null || true; wait 2>/dev/null; rm -rf $work' EXIT
"$BIN" serve --port $PORT --data-dir "$work/data" --log-level warn &
spid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.05; done
sqs() {  # target json
  curl -sf "http://127.0.0.1:$PORT/" -H "Content-Type: application/x-amz-json-1.0" \
    -H "X-Amz-Target: AmazonSQS.$1" -H "X-Amz-Date: 20240101T000000Z" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0" \
    -d "$2"
}
count() {
  sqs GetQueueAttributes "{\"QueueUrl\":\"$1\",\"AttributeNames\":[\"All\"]}" |
    python3 -c 'import json,sys; a=json.load(sys.stdin)["Attributes"]; print(int(a["ApproximateNumberOfMessages"])+int(a["ApproximateNumberOfMessagesNotVisible"]))'
}
export BENCH_DIR=$HERE
rate() { awk '/Requests\/sec/ {print $2}'; }
TICK=$(getconf CLK_TCK)
cpu() { awk -v t="$TICK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$spid/stat"; }  # server user+sys s
per() { echo "($2 - $1) * 1000000 / $3" | bc -l; }  # cpu_before cpu_after messages -> µs/message
p99() { awk '$1=="99%" {print $2}'; }
echo "stratus SQS, durable (fsync on), wrk -t2 -c$CONNS -d${SECS}s, $(nproc) cores" >&2

# 1. SendMessage (one message per request).
export QUEUE_URL=$(sqs CreateQueue '{"QueueName":"single"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["QueueUrl"])')
c0=$(cpu)
out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$HERE/send_single.lua" "http://127.0.0.1:$PORT/")
n=$(echo "$out" | awk '/requests in/ {print $1}')
printf '%-46s %10.0f msgs/s   p99 %-9s cpu %5.1f µs/msg\n' "SendMessage (1 per request)" "$(echo "$out" | rate)" "$(echo "$out" | p99)" "$(per "$c0" "$(cpu)" "$n")" >&2
# 2. ReceiveMessage + DeleteMessage, one at a time, draining what step 1 sent.
c0=$(cpu)
out=$(BATCH=1 wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$HERE/receive_delete.lua" "http://127.0.0.1:$PORT/" 2>&1)
n=$(echo "$out" | awk '/DELETED/ {print $2}')
printf '%-46s %10.0f msgs/s   %-13s cpu %5.1f µs/msg\n' "ReceiveMessage + DeleteMessage (1 per request)" "$(echo "$n / $SECS" | bc -l)" "" "$(per "$c0" "$(cpu)" "$n")" >&2

# 3. SendMessageBatch (10 per request).
export QUEUE_URL=$(sqs CreateQueue '{"QueueName":"batch"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["QueueUrl"])')
c0=$(cpu)
out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$HERE/send_batch.lua" "http://127.0.0.1:$PORT/")
sent=$(echo "$(echo "$out" | rate) * 10" | bc -l)
n=$(echo "$(echo "$out" | awk '/requests in/ {print $1}') * 10" | bc)
printf '%-46s %10.0f msgs/s   p99 %-9s cpu %5.1f µs/msg\n' "SendMessageBatch (10 per request)" "$sent" "$(echo "$out" | p99)" "$(per "$c0" "$(cpu)" "$n")" >&2
# 4. ReceiveMessage (10) + DeleteMessageBatch, draining.
c0=$(cpu)
out=$(BATCH=10 wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$HERE/receive_delete.lua" "http://127.0.0.1:$PORT/" 2>&1)
n=$(echo "$out" | awk '/DELETED/ {print $2}')
printf '%-46s %10.0f msgs/s   %-13s cpu %5.1f µs/msg\n' "ReceiveMessage(10) + DeleteMessageBatch" "$(echo "$n / $SECS" | bc -l)" "" "$(per "$c0" "$(cpu)" "$n")" >&2

# 5. Both at once: senders and consumers on one queue (end-to-end send+receive+delete).
export QUEUE_URL=$(sqs CreateQueue '{"QueueName":"mixed"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["QueueUrl"])')
half=$((CONNS / 2))
wrk -t1 -c"$half" -d"${SECS}s" -s "$HERE/send_batch.lua" "http://127.0.0.1:$PORT/" > "$work/send.out" &
wpid=$!
c0=$(cpu)
BATCH=10 wrk -t1 -c"$half" -d"${SECS}s" -s "$HERE/receive_delete.lua" "http://127.0.0.1:$PORT/" > "$work/recv.out" 2>&1
wait $wpid
sent=$(echo "$(rate < "$work/send.out") * 10" | bc -l)
n=$(awk '/DELETED/ {print $2}' "$work/recv.out")
printf '%-46s %10.0f sent/s, %.0f received+deleted/s, cpu %.1f µs per message sent+received+deleted\n' "batch send + receive + delete, concurrently" "$sent" "$(echo "$n / $SECS" | bc -l)" "$(per "$c0" "$(cpu)" "$(echo "$sent * $SECS / 2 + $n / 2" | bc -l)")" >&2

# The in-memory ceiling on the same machine.
NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
if [ -x "$NATS" ]; then
  "$NATS" -a 127.0.0.1 -p $NATS_PORT > "$work/nats.log" 2>&1 &
  npid=$!
  sleep 0.5
  python3 "$HERE/nats_ceiling.py" $NATS_PORT "$SECS" 100 >&2
else
  echo "nats-server not installed (scripts/install-deps.sh --bench): no ceiling figure" >&2
fi
