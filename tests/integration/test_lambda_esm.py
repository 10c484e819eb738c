"""Event source mappings with SQS, and SQS/SNS as async destinations and DLQs."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, make_client

RECORDER = {"app.py": (
    "import json\n"
    "def handler(event, context):\n"
    "    failed = []\n"
    "    for r in event['Records']:\n"
    "        print('GOT ' + r['body'] + ' ' + r['eventSource'] + ' ' + r['attributes']['ApproximateReceiveCount'])\n"
    "        if r['body'].startswith('fail') and r['attributes']['ApproximateReceiveCount'] == '1':\n"
    "            failed.append({'itemIdentifier': r['messageId']})\n"
    "    return {'batchItemFailures': failed}\n")}


def messages(logs, name):
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except ClientError:
        return []
    return [e["message"] for e in events if e["message"].startswith("GOT ")]


def wait_for(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def queue_depth(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                               "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def test_sqs_event_source_mapping(lambda_server):
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    logs = make_client(lambda_server, "logs")
    url = sqs.create_queue(QueueName="esm-in", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "esm-fn", RECORDER)
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="esm-fn", BatchSize=5,
                                        FunctionResponseTypes=["ReportBatchItemFailures"])
    assert m["State"] in ("Creating", "Enabled") and m["BatchSize"] == 5
    uuid = m["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["EventSourceArn"] == arn
    assert [x["UUID"] for x in lam.list_event_source_mappings(FunctionName="esm-fn")["EventSourceMappings"]] == [uuid]
    bodies = [f"m{i}" for i in range(12)] + ["fail-1"]
    for b in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=b)
    assert wait_for(lambda: {m.split()[1] for m in messages(logs, "esm-fn")} >= set(bodies), 30), messages(logs, "esm-fn")
    # The failed item came back once (ApproximateReceiveCount 2) and then was deleted.
    assert wait_for(lambda: any(m.startswith("GOT fail-1 aws:sqs 2") for m in messages(logs, "esm-fn")), 20)
    assert wait_for(lambda: queue_depth(sqs, url) == 0, 20)
    # Disabled: messages stay in the queue.
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    time.sleep(1)
    sqs.send_message(QueueUrl=url, MessageBody="while-disabled")
    time.sleep(3)
    assert not any("while-disabled" in m for m in messages(logs, "esm-fn"))
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert wait_for(lambda: any("while-disabled" in m for m in messages(logs, "esm-fn")), 20)
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=uuid)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_event_source_mapping_validation(lambda_server):
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    create_function(lam, "esm-val", RECORDER)
    url = sqs.create_queue(QueueName="esm-val")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for kwargs in [dict(EventSourceArn=arn, FunctionName="esm-val", BatchSize=100),  # needs a window
                   dict(EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/s", FunctionName="esm-val",
                        StartingPosition="LATEST"),
                   dict(EventSourceArn=arn.replace("esm-val", "no-such-queue"), FunctionName="esm-val")]:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(**kwargs)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException", kwargs
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="no-such-function")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_async_failure_to_sqs_dead_letter_queue(lambda_server):
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    dlq_url = sqs.create_queue(QueueName="fn-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    dest_url = sqs.create_queue(QueueName="fn-dest")["QueueUrl"]
    dest_arn = sqs.get_queue_attributes(QueueUrl=dest_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "dlq-fn", {"app.py": "def handler(e, c):\n    raise Exception('always')\n"},
                    DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(FunctionName="dlq-fn", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": dest_arn}})
    lam.invoke(FunctionName="dlq-fn", InvocationType="Event", Payload=b'{"order": 7}')

    def receive(url):
        return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MessageAttributeNames=["All"]).get("Messages", [])

    dlq = receive(dlq_url)
    assert dlq and json.loads(dlq[0]["Body"]) == {"order": 7}
    assert "RequestID" in dlq[0]["MessageAttributes"]
    dest = receive(dest_url)
    assert dest
    record = json.loads(dest[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"order": 7}
    assert record["responsePayload"]["errorMessage"] == "always"


def test_async_event_older_than_maximum_age_goes_to_on_failure(lambda_server):
    """A throttled Event invoke is retried until MaximumEventAgeInSeconds (60, AWS's minimum),
    then dropped with an EventAgeExceeded record on the on-failure destination."""
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    dest_url = sqs.create_queue(QueueName="fn-too-old")["QueueUrl"]
    dest_arn = sqs.get_queue_attributes(QueueUrl=dest_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "throttled-fn", {"app.py": "def handler(e, c):\n    return 'ran'\n"})
    lam.put_function_concurrency(FunctionName="throttled-fn", ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(FunctionName="throttled-fn", MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": dest_arn}})
    started = time.time()
    assert lam.invoke(FunctionName="throttled-fn", InvocationType="Event", Payload=b'{"late": 1}')["StatusCode"] == 202
    messages = []
    while not messages and time.time() - started < 120:
        messages = sqs.receive_message(QueueUrl=dest_url, WaitTimeSeconds=5).get("Messages", [])
    assert messages, "no EventAgeExceeded record within 120 s"
    assert time.time() - started >= 60
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestPayload"] == {"late": 1}
    assert record["responsePayload"]["errorType"] == "TooManyRequestsException"
