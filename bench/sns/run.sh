#!/usr/bin/env bash
# SNS -> SQS fan-out with durability on: PublishBatch load (wrk) to a topic with 1 and with 10
# SQS subscribers (raw delivery), deliveries/s end to end, and the publish->receive p99 of a
# probe under load; side by side with nats-server (bench/sqs/nats_ceiling.py).
# Usage: bench/sns/run.sh [path/to/stratus] [seconds] [connections]
# LATENCY_ONLY=1 (with LOAD_BATCHES_PER_S set) skips the fan-out and nats parts: the latency
# probes only, at a fixed background load, to compare two binaries under the same load.
# LATENCY_SECS (default: seconds) sets how long each latency part runs: the probe publishes every
# 10 ms, so 10 s give ~700-800 probes (p99 = the 8th slowest or so); longer runs steady the p99.
set -euo pipefail
BIN=${1:-build/stratus}
SECS=${2:-10}
CONNS=${3:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=45691
NATS_PORT=45692
work=$(mktemp -d)
trap 'kill $spid $npid 2>/dev/null || true; wait 2>/dev/null; rm -rf $work' EXIT
npid=
"$BIN" serve --port $PORT --data-dir "$work/data" --log-level warn &
spid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.05; done
PY=/usr/bin/python3
TICK=$(getconf CLK_TCK)
cpu() { awk -v t="$TICK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$spid/stat"; }  # server user+sys s
setup() {  # name subscribers -> prints "topic_arn queue_url..." (the last queue is the probe's)
  $PY - "$PORT" "$1" "$2" <<'PYEOF'
import sys, boto3
port, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
t = sns.create_topic(Name=name)["TopicArn"]
urls = []
for i in range(n):
    u = sqs.create_queue(QueueName=f"{name}-{i}")["QueueUrl"]
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
    urls.append(u)
print(t, " ".join(urls))
PYEOF
}
total() {  # queue urls... -> messages in them
  $PY - "$PORT" "$@" <<'PYEOF'
import sys, boto3
kw = dict(endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sqs = boto3.client("sqs", **kw)
n = 0
for u in sys.argv[2:]:
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"]
    n += int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])
print(n)
PYEOF
}
echo "stratus SNS -> SQS, durable (fsync on), wrk -t1 -c$CONNS -d${SECS}s PublishBatch(10), $(nproc) cores" >&2
for subs in $([ -n "${LATENCY_ONLY:-}" ] || echo 1 10); do
  read -r topic queues <<<"$(setup "fan$subs" "$subs")"
  start=$(date +%s.%N)
  c0=$(cpu)
  out=$(TOPIC_ARN=$topic wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$HERE/publish_batch.lua" "http://127.0.0.1:$PORT/")
  published=$(echo "$(echo "$out" | awk '/requests in/ {print $1}') * 10" | bc -l)
  want=$(echo "$published * $subs" | bc -l | cut -d. -f1)
  n=0
  last=-1
  while [ "$n" != "$last" ]; do  # until deliveries stop growing
    last=$n
    sleep 1
    n=$(total $queues)
  done
  end=$(date +%s.%N)
  c1=$(cpu)
  last_rate=$(echo "$n / ($end - $start - 1)" | bc -l)
  printf '%-34s %8.0f published/s  %8.0f deliveries/s  (%s of %s delivered)  cpu %.1f µs/delivery\n' "SNS -> $subs SQS subscriber(s)" \
    "$(echo "$published / $SECS" | bc -l)" "$(echo "$n / ($end - $start - 1)" | bc -l)" "$n" "$want" \
    "$(echo "($c1 - $c0) * 1000000 / $n" | bc -l)" >&2
done
# Latency at about half the fan-out capacity measured above: a paced PublishBatch load (wrk,
# LOAD_BATCHES_PER_S x 10 messages x 10 subscribers; default: half the 10-subscriber deliveries/s
# just measured) to a topic with 10 subscribers, beside a timestamped probe on its own topic
# and queue; then the probe alone.
export BENCH_DIR=$HERE
latency() {  # label name
  read -r load_topic queues <<<"$(setup "load$2" 10)"
  read -r topic probe_queue <<<"$(setup "probe$2" 1)"
  TOPIC_ARN=$load_topic BATCHES_PER_S=$LOAD_BATCHES_PER_S PACED_CONNS=$PACED_CONNS wrk -t1 -c"$PACED_CONNS" -d"$((LSECS + 2))s" \
    -s "$HERE/publish_batch_paced.lua" "http://127.0.0.1:$PORT/" > "$work/paced.out" &
  local wpid=$!
  local c0 c1
  c0=$(cpu)
  sleep 1
  $PY "$HERE/latency_probe.py" "http://127.0.0.1:$PORT" "$topic" "$probe_queue" "$LSECS" | sed "s/^/  $1 loaded: /" >&2
  wait $wpid
  c1=$(cpu)
  # Server CPU over the paced run (its deliveries, the probe's few besides) per delivery: at a
  # fixed rate, unlike the fan-out figure, whose group commits grow with the throughput reached.
  printf '  %s background load: %.0f PublishBatch/s = %.0f deliveries/s, cpu %.1f µs/delivery\n' "$1" \
    "$(rate < "$work/paced.out")" "$(echo "$(rate < "$work/paced.out") * 100" | bc -l)" \
    "$(echo "($c1 - $c0) * 1000000 / ($(rate < "$work/paced.out") * 100 * ($LSECS + 2))" | bc -l)" >&2
  $PY "$HERE/latency_probe.py" "http://127.0.0.1:$PORT" "$topic" "$probe_queue" 5 | sed "s/^/  $1 idle: /" >&2
}
rate() { awk '/Requests\/sec/ {print $2}'; }
# Connections of the paced load: enough that each one's share of the rate fits its latency
# (4 could not carry half of a 130 000 deliveries/s peak: each would need a batch every 6 ms).
PACED_CONNS=${PACED_CONNS:-16}
LSECS=${LATENCY_SECS:-$SECS}
LOAD_BATCHES_PER_S=${LOAD_BATCHES_PER_S:-$(echo "$last_rate / 200" | bc)}
latency "fsync on" sync
# The same with --fsync false (commits survive kill -9, not power loss): the software's share of
# the latency, and the disk's: every delivery waits for two commits in a row (the SQS send, which
# the publish's answer waits for too, and the receive's state), each an fdatasync.
kill $spid; wait $spid 2>/dev/null || true
"$BIN" serve --port $PORT --data-dir "$work/data2" --log-level warn --fsync false &
spid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.05; done
latency "fsync off" nosync
$PY - "$work" >&2 <<'PYEOF'
import os, sys, time
f = os.open(os.path.join(sys.argv[1], "fsync_probe"), os.O_WRONLY | os.O_CREAT)
ts = []
for _ in range(100):
    os.write(f, b"x" * 4096); t = time.time(); os.fdatasync(f); ts.append(time.time() - t)
ts.sort()
print("  this disk's fdatasync of 4 KiB: p50 %.2f ms, p99 %.2f ms" % (ts[50] * 1000, ts[98] * 1000))
PYEOF
NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
if [ -x "$NATS" ] && [ -z "${LATENCY_ONLY:-}" ]; then
  "$NATS" -a 127.0.0.1 -p $NATS_PORT > "$work/nats.log" 2>&1 &
  npid=$!
  sleep 0.5
  $PY "$HERE/../sqs/nats_ceiling.py" $NATS_PORT "$SECS" 100 >&2
fi
