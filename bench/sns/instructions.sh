#!/usr/bin/env bash
# Server instructions per SNS -> SQS delivery, independent of the machine's load: the server runs
# under callgrind (instrumentation off until the load starts, counters zeroed before each part); a fixed number of PublishBatch(10) calls
# go to a topic with SUBS raw SQS subscribers, then every delivered message is received
# (ReceiveMessage of 10) and deleted (DeleteMessageBatch). Prints instructions (Ir) per delivery
# for the publish -> enqueue part and per message for the receive + delete part.
# Usage: bench/sns/instructions.sh [path/to/stratus] [batches] [subscribers]
# KEEP_PROFILES=dir keeps the two parts' callgrind dumps there (callgrind_annotate them).
set -euo pipefail
BIN=${1:-build/stratus}
BATCHES=${2:-100}
SUBS=${3:-10}
PORT=${PORT:-45693}
work=$(mktemp -d)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" \
  "$BIN" serve --port "$PORT" --data-dir "$work/data" --log-level warn > "$work/server.log" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || true; wait 2>/dev/null; rm -rf $work' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_stratus/health"; do sleep 0.2; done
/usr/bin/python3 - "$PORT" "$BATCHES" "$SUBS" "$spid" "$work" <<'PYEOF'
import glob, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
import boto3
port, batches, subs, spid, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
t = sns.create_topic(Name="ir")["TopicArn"]
urls = []
for i in range(subs):
    u = sqs.create_queue(QueueName=f"ir-{i}")["QueueUrl"]
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
    urls.append(u)
def ctl(*args):
    subprocess.run(["callgrind_control", *args, spid], check=True, capture_output=True)
def phase_ir():  # dumps the counters since the last zeroing; the newest dump's total
    ctl("-d")
    time.sleep(1)
    newest = max(glob.glob(work + "/cg.out*"), key=os.path.getmtime)
    if os.environ.get("KEEP_PROFILES"):
        os.makedirs(os.environ["KEEP_PROFILES"], exist_ok=True)
        subprocess.run(["cp", newest, os.environ["KEEP_PROFILES"]], check=True)
    return sum(int(l.split()[1]) for l in open(newest) if l.startswith("summary:"))
entries = [{"Id": str(i), "Message": "x" * 100} for i in range(10)]
clients = [boto3.client("sns", **kw) for _ in range(4)]
ctl("-i", "on")
ctl("-z")
with ThreadPoolExecutor(4) as pool:
    list(pool.map(lambda k: clients[k % 4].publish_batch(TopicArn=t, PublishBatchRequestEntries=entries),
                  range(batches)))
deliveries = batches * 10 * subs
published = phase_ir()
ctl("-z")
received = 0
for u in urls:
    while True:
        ms = sqs.receive_message(QueueUrl=u, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not ms:
            break
        sqs.delete_message_batch(QueueUrl=u, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ms)])
        received += len(ms)
consumed = phase_ir()
print(f"SNS -> {subs} SQS subscribers, {batches} PublishBatch(10): {published / deliveries:,.0f} instructions per delivery (publish -> enqueue, {deliveries} deliveries)")
print(f"ReceiveMessage(10) + DeleteMessageBatch: {consumed / max(received, 1):,.0f} instructions per message ({received} received)")
PYEOF
