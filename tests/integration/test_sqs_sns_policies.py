"""Queue and topic policies under --enforce-iam: a queue Policy / topic Policy grants a
same-account user without an identity policy, and its explicit Deny overrides the user's identity
policy Allow (test_iam_enforcement.py covers the grant alongside the other services)."""
import json
import tempfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Stratus

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="stratus-sqs-sns-policy-") as d:
        s = Stratus(d, ["--enforce-iam", "true"]).start()
        yield s
        s.stop()


def client(server, service, key="test", secret="test"):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def user(server, name, statements):
    iam = client(server, "iam")
    iam.create_user(UserName=name)
    if statements:
        arn = iam.create_policy(PolicyName=name + "-p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"], f"arn:aws:iam::{ACCOUNT}:user/{name}"


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def test_queue_policy_grants_and_denies(server):
    root = client(server, "sqs")
    q = root.create_queue(QueueName="policed")["QueueUrl"]
    qarn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:policed"
    gk, gs, guest = user(server, "q-guest", [])
    ak, as_, allowed = user(server, "q-allowed", [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}])
    guest_sqs, allowed_sqs = client(server, "sqs", gk, gs), client(server, "sqs", ak, as_)
    assert code_of(lambda: guest_sqs.send_message(QueueUrl=q, MessageBody="x")) == "AccessDenied"
    allowed_sqs.send_message(QueueUrl=q, MessageBody="x")
    root.set_queue_attributes(QueueUrl=q, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": guest}, "Action": "sqs:SendMessage", "Resource": qarn},
        {"Effect": "Deny", "Principal": {"AWS": allowed}, "Action": "sqs:SendMessage", "Resource": qarn}]})})
    guest_sqs.send_message(QueueUrl=q, MessageBody="granted by the queue policy")
    assert code_of(lambda: guest_sqs.receive_message(QueueUrl=q)) == "AccessDenied"  # not granted
    assert code_of(lambda: allowed_sqs.send_message(QueueUrl=q, MessageBody="x")) == "AccessDenied"
    allowed_sqs.receive_message(QueueUrl=q)  # the deny names SendMessage only


def test_topic_policy_grants_and_denies(server):
    root = client(server, "sns")
    topic = root.create_topic(Name="policed")["TopicArn"]
    gk, gs, guest = user(server, "t-guest", [])
    ak, as_, allowed = user(server, "t-allowed", [{"Effect": "Allow", "Action": "sns:*", "Resource": "*"}])
    guest_sns, allowed_sns = client(server, "sns", gk, gs), client(server, "sns", ak, as_)
    assert code_of(lambda: guest_sns.publish(TopicArn=topic, Message="m")) == "AuthorizationError"
    allowed_sns.publish(TopicArn=topic, Message="m")
    root.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": guest}, "Action": "sns:Publish", "Resource": topic},
            {"Effect": "Deny", "Principal": {"AWS": allowed}, "Action": "sns:Publish", "Resource": topic}]}))
    guest_sns.publish(TopicArn=topic, Message="granted by the topic policy")
    assert code_of(lambda: allowed_sns.publish(TopicArn=topic, Message="m")) == "AuthorizationError"
    allowed_sns.get_topic_attributes(TopicArn=topic)
