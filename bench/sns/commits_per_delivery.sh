#!/usr/bin/env bash
# Trips through the store's writer per SNS -> SQS delivery to a waiting long poll, which the
# machine's load does not change: the latency probe (bench/sns/latency_probe.py: Publish every
# 10 ms, a long-polling receiver, DeleteMessageBatch on another thread) runs alone for SECONDS
# against a fresh server; the server's store then logs its physical commits at shutdown, and
# commits / probes gives the writer trips per delivery (publish + receive + delete: 3 before the
# hand-off of 4e03622, 2 after; fewer when deletes or publishes share a group commit).
# Also prints the probe's p50/p99. Usage: bench/sns/commits_per_delivery.sh [stratus] [seconds]
set -euo pipefail
BIN=${1:-build/stratus}
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=45693
work=$(mktemp -d)
trap 'kill $spid 2>/dev/null || true; wait 2>/dev/null; rm -rf $work' EXIT
"$BIN" serve --port $PORT --data-dir "$work/data" --log-level info >"$work/log" 2>&1 &
spid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.05; done
read -r topic queue <<<"$(/usr/bin/python3 - "$PORT" <<'PYEOF'
import sys, boto3
kw = dict(endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
t = sns.create_topic(Name="probe")["TopicArn"]
u = sqs.create_queue(QueueName="probe")["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
print(t, u)
PYEOF
)"
before=$(grep -c . "$work/log" || true)
out=$(/usr/bin/python3 "$HERE/latency_probe.py" "http://127.0.0.1:$PORT" "$topic" "$queue" "$SECS")
kill -TERM $spid
wait $spid 2>/dev/null || true
probes=$(echo "$out" | sed -n 's/.*over \([0-9]*\) probes.*/\1/p')
commits=$(sed -n 's/.*store: closing after \([0-9]*\) commits.*/\1/p' "$work/log")
echo "$out"
echo "store commits $commits for $probes probes (set-up included): $(echo "scale=2; $commits / $probes" | bc) per delivery"
