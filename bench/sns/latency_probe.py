#!/usr/bin/env python3
"""Publishes a timestamped message every INTERVAL seconds to a topic and long-polls the probe
queue subscribed to it; prints the p50/p99 publish->receive delivery latency.
Usage: latency_probe.py ENDPOINT TOPIC_ARN QUEUE_URL SECONDS [INTERVAL]"""
import sys, threading, time
import boto3
from botocore.config import Config

endpoint, topic, queue, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.02
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
          aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
lat, stop = [], False
def receiver():
    while not stop:
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            lat.append(time.time() - float(m["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
t = threading.Thread(target=receiver)
t.start()
end = time.time() + secs
while time.time() < end:
    sns.publish(TopicArn=topic, Message="%.6f" % time.time())
    time.sleep(interval)
time.sleep(2)
stop = True
t.join()
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] * 1000
print(f"delivery latency over {len(lat)} probes: p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms")
