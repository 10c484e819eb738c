#!/usr/bin/env python3
"""Publishes a timestamped message every INTERVAL seconds (default 0.01) to a topic and long-polls
the probe queue subscribed to it; prints the p50/p99 publish->receive delivery latency: from just
before the Publish call to the ReceiveMessage call that returned the message having returned.
The receiving thread only long-polls; another thread deletes what it received (DeleteMessageBatch),
so a message that arrives while a delete is in flight is not held back by the delete's round trip
(the consumer's work, not delivery). With LOAD_TOPIC and LOAD_BATCHES_PER_S set, a paced
background load of PublishBatch(10) runs meanwhile.
Usage: latency_probe.py ENDPOINT TOPIC_ARN QUEUE_URL SECONDS [INTERVAL]"""
import os
import queue as queue_mod
import sys, threading, time
import boto3
from botocore.config import Config

endpoint, topic, queue, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.01
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
          aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
lat, stop = [], False
to_delete = queue_mod.Queue()
def receiver():
    while not stop:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        now = time.time()
        for m in messages:
            lat.append(now - float(m["Body"]))
        if messages:
            to_delete.put([m["ReceiptHandle"] for m in messages])
def deleter():
    client = boto3.client("sqs", **kw)
    while (handles := to_delete.get()) is not None:
        client.delete_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)])
t = threading.Thread(target=receiver)
t.start()
d = threading.Thread(target=deleter)
d.start()
load_topic = os.environ.get("LOAD_TOPIC")
load_rate = float(os.environ.get("LOAD_BATCHES_PER_S", "0"))
loaded = [0]
def load():
    c = boto3.client("sns", **kw)
    entries = [{"Id": str(i), "Message": "x" * 100} for i in range(10)]
    start = time.time()
    while not stop and time.time() < end:
        c.publish_batch(TopicArn=load_topic, PublishBatchRequestEntries=entries)
        loaded[0] += 10
        delay = start + loaded[0] / 10 / load_rate - time.time()
        if delay > 0:
            time.sleep(delay)
loaders = []
end = time.time() + secs
if load_topic and load_rate > 0:
    for _ in range(4):
        loaders.append(threading.Thread(target=load))
        loaders[-1].start()
    load_rate /= 4
while time.time() < end:
    sns.publish(TopicArn=topic, Message="%.6f" % time.time())
    time.sleep(interval)
for l in loaders:
    l.join()
time.sleep(2)
stop = True
t.join()
to_delete.put(None)
d.join()
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] * 1000
load = f", background load {loaded[0] / secs:.0f} published/s" if loaders else ""
print(f"delivery latency over {len(lat)} probes: p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms{load}")
