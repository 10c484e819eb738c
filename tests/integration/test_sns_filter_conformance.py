"""The SNS filter-policy conformance suite (tests/conformance/sns-filter/, recorded from real AWS):
every case runs against a real stratus through boto3, and no case may fail.

validate cases: Subscribe or SetSubscriptionAttributes must accept the policy, or reject it with
AWS's code and message (up to its first newline). match cases: a message published to a topic
whose SQS subscription has the case's policy must arrive, or not, as it did on AWS.
Counts per test group are printed (and written to $SNS_FILTER_REPORT when set).
"""
import collections
import glob
import json
import os
import time

import pytest
from botocore.exceptions import ClientError

from conftest import make_client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = sorted(glob.glob(os.path.join(ROOT, "conformance", "sns-filter", "cases", "*.json")))


def group_of(case):
    return case["test"].split("::", 1)[1]


class Env:
    def __init__(self, server):
        self.sns = make_client(server, "sns")
        self.sqs = make_client(server, "sqs")
        self.n = 0

    def queue(self):
        self.n += 1
        url = self.sqs.create_queue(QueueName=f"conf-{self.n}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def topic(self):
        self.n += 1
        return self.sns.create_topic(Name=f"conf-topic-{self.n}")["TopicArn"]


def run_validate(env, case):
    topic = env.topic()
    try:
        if case["api"] == "subscribe":
            ep = case.get("endpoint") or {"sqs_queue": True}
            endpoint = env.queue()[1] if ep.get("sqs_queue") else ep["value"]
            env.sns.subscribe(TopicArn=topic, Protocol=case.get("protocol", "sqs"), Endpoint=endpoint,
                              Attributes=case.get("attributes") or {})
        else:
            _, arn = env.queue()
            sub = env.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                    ReturnSubscriptionArn=True)["SubscriptionArn"]
            before = case.get("subscription_before") or {}
            for name in ("RawMessageDelivery", "FilterPolicyScope", "FilterPolicy"):
                if before.get(name) is not None:
                    env.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=name,
                                                        AttributeValue=before[name])
            env.sns.set_subscription_attributes(SubscriptionArn=sub,
                                                AttributeName=case["attribute_name"],
                                                AttributeValue=case["attribute_value"])
        outcome = {"accepted": True}
    except ClientError as e:
        outcome = {"accepted": False, "code": e.response["Error"]["Code"],
                   "message": e.response["Error"]["Message"].split("\n")[0],
                   "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    exp = case["expected"]
    if exp["accepted"]:
        return outcome["accepted"], outcome
    err = exp["error"]
    ok = (not outcome["accepted"] and outcome["code"] == err["code"]
          and outcome["message"] == err["message"] and outcome["status"] == err["http_status"])
    return ok, outcome


def setup_match(env, case):
    topic = env.topic()
    url, arn = env.queue()
    sub = env.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
    if case["filter_policy_scope"] != "MessageAttributes":
        env.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                            AttributeValue=case["filter_policy_scope"])
    env.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                        AttributeValue=case["filter_policy_string"])
    if case.get("raw_message_delivery"):
        env.sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                            AttributeValue="true")
    p = case["publish"]
    attrs = p.get("message_attributes") or {}
    if p["api"] == "publish_batch":
        entry = {"Id": "1", "Message": p["message"]}
        if attrs:
            entry["MessageAttributes"] = attrs
        env.sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[entry])
    else:
        kw = {"MessageAttributes": attrs} if attrs else {}
        env.sns.publish(TopicArn=topic, Message=p["message"], **kw)
    return url


def test_sns_filter_conformance(shared_stratus):
    env = Env(shared_stratus)
    cases = [json.load(open(f)) for f in CASES]
    assert cases, "no conformance cases found"
    counts = collections.defaultdict(lambda: {"passed": 0, "failed": 0})
    failures = []
    pending = []
    for case in cases:
        if case["kind"] == "validate":
            ok, outcome = run_validate(env, case)
            counts[group_of(case)]["passed" if ok else "failed"] += 1
            if not ok:
                failures.append((case["id"], case["expected"], outcome))
        else:
            pending.append((case, setup_match(env, case)))
    time.sleep(1.0)  # deliveries are asynchronous; they land within milliseconds
    for case, url in pending:
        msgs = env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1 if case["expected"]["delivered"] else 0).get("Messages", [])
        delivered = bool(msgs)
        ok = delivered == case["expected"]["delivered"]
        counts[group_of(case)]["passed" if ok else "failed"] += 1
        if not ok:
            failures.append((case["id"], case["expected"], {"delivered": delivered}))
    report = {"groups": dict(counts),
              "passed": sum(c["passed"] for c in counts.values()),
              "failed": sum(c["failed"] for c in counts.values())}
    for g, c in sorted(counts.items()):
        print(f"{g}: {c['passed']} passed, {c['failed']} failed")
    print(f"total: {report['passed']} passed, {report['failed']} failed")
    if os.environ.get("SNS_FILTER_REPORT"):
        with open(os.environ["SNS_FILTER_REPORT"], "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
    assert not failures, json.dumps(failures, indent=1)[:6000]
