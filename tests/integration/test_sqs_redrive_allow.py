"""SQS through boto3: RedriveAllowPolicy is validated and enforced on the source queue's
CreateQueue/SetQueueAttributes, and ChangeMessageVisibility cannot extend a message's visibility
past 12 hours from its receive — with AWS's InvalidParameterValue messages."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import make_client


@pytest.fixture(scope="module")
def sqs(shared_stratus):
    return make_client(shared_stratus, "sqs")


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_redrive_allow_policy_validation(sqs):
    reason = "Reason: Amazon SQS can't create the redrive allow policy. "
    policy = json.dumps({"redrivePermission": "byQueue"})
    assert error_of(sqs.create_queue, QueueName="rap-v1", Attributes={"RedriveAllowPolicy": policy}) == (
        "InvalidParameterValue", f"Value {policy} for parameter RedriveAllowPolicy is invalid. {reason}"
        "When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.")
    policy = json.dumps({"redrivePermission": "byQueue",
                         "sourceQueueArns": [f"arn:aws:sqs:us-east-1:000000000000:s{i}" for i in range(11)]})
    assert error_of(sqs.create_queue, QueueName="rap-v2", Attributes={"RedriveAllowPolicy": policy}) == (
        "InvalidParameterValue", f"Value {policy} for parameter RedriveAllowPolicy is invalid. {reason}"
        "The maximum number of source queue ARNs you can specify is 10.")
    policy = json.dumps({"redrivePermission": "denyAll", "sourceQueueArns": ["arn:aws:sqs:us-east-1:000000000000:s"]})
    assert error_of(sqs.create_queue, QueueName="rap-v3", Attributes={"RedriveAllowPolicy": policy}) == (
        "InvalidParameterValue", f"Value {policy} for parameter RedriveAllowPolicy is invalid. {reason}"
        "To specify one or more source queue ARNs, you must set redrivePermission to byQueue.")
    url = sqs.create_queue(QueueName="rap-v4")["QueueUrl"]
    assert error_of(sqs.set_queue_attributes, QueueUrl=url,
                    Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "nobody"})}) == (
        "InvalidParameterValue", "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS "
        "can't create the redrive allow policy, as it\u2019s in an unsupported format.")
    # Ten source queues are allowed.
    ten = json.dumps({"redrivePermission": "byQueue",
                      "sourceQueueArns": [f"arn:aws:sqs:us-east-1:000000000000:s{i}" for i in range(10)]})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": ten})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
    assert json.loads(got["RedriveAllowPolicy"]) == json.loads(ten)


def test_redrive_allow_policy_is_enforced(sqs):
    deny = sqs.create_queue(QueueName="rap-deny-dlq", Attributes={
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})["QueueUrl"]
    deny_arn = arn_of(sqs, deny)
    by = sqs.create_queue(QueueName="rap-by-dlq")["QueueUrl"]
    by_arn = arn_of(sqs, by)
    allowed_arn = deny_arn.rsplit(":", 1)[0] + ":rap-allowed-src"
    sqs.set_queue_attributes(QueueUrl=by, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [allowed_arn]})})

    to_deny = json.dumps({"deadLetterTargetArn": deny_arn, "maxReceiveCount": 3})
    assert error_of(sqs.create_queue, QueueName="rap-src", Attributes={"RedrivePolicy": to_deny}) == (
        "InvalidParameterValue", f"Value {to_deny} for parameter RedrivePolicy is invalid. Reason: Queue "
        f"{deny_arn} does not allow this queue to use it as a dead letter queue.")
    to_by = json.dumps({"deadLetterTargetArn": by_arn, "maxReceiveCount": 3})
    code, _ = error_of(sqs.create_queue, QueueName="rap-src", Attributes={"RedrivePolicy": to_by})
    assert code == "InvalidParameterValue"
    src = sqs.create_queue(QueueName="rap-src")["QueueUrl"]
    code, _ = error_of(sqs.set_queue_attributes, QueueUrl=src, Attributes={"RedrivePolicy": to_deny})
    assert code == "InvalidParameterValue"
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["All"])["Attributes"]
    # The queue named in sourceQueueArns may use it, and messages do get redriven there.
    ok = sqs.create_queue(QueueName="rap-allowed-src", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": by_arn, "maxReceiveCount": 1}),
        "VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=ok, MessageBody="poison")
    assert len(sqs.receive_message(QueueUrl=ok, WaitTimeSeconds=2).get("Messages", [])) == 1
    time.sleep(1.2)
    assert sqs.receive_message(QueueUrl=ok, WaitTimeSeconds=1).get("Messages", []) == []
    moved = sqs.receive_message(QueueUrl=by, WaitTimeSeconds=2).get("Messages", [])
    assert [m["Body"] for m in moved] == ["poison"]


def test_visibility_cannot_pass_twelve_hours_from_the_receive(sqs):
    url = sqs.create_queue(QueueName="vis-cap")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    time.sleep(1.1)  # a second has passed since the receive: 43200 s from now is past the cap
    assert error_of(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43200) == (
        "InvalidParameterValue", "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total "
        "VisibilityTimeout for the message is beyond the limit [43200 seconds]")
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43000)
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "over", "ReceiptHandle": handle, "VisibilityTimeout": 43200}])
    assert r["Failed"][0]["Code"] == "InvalidParameterValue"
    assert "beyond the limit [43200 seconds]" in r["Failed"][0]["Message"]
