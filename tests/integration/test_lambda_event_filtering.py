"""Lambda event filtering (FilterCriteria on event source mappings) through boto3: only records
matching a filter reach the function; SQS messages that match none are deleted, DynamoDB stream
records that match none are skipped."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, make_client

# Logs one line per record: "GOT <json of the record>".
RECORDER = {"app.py": (
    "import json\n"
    "def handler(event, context):\n"
    "    for r in event['Records']:\n"
    "        print('GOT ' + json.dumps(r))\n"
    "    return {}\n")}


def delivered(logs, name):
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except ClientError:
        return []
    return [json.loads(e["message"][4:]) for e in events if e["message"].startswith("GOT ")]


def wait_for(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return predicate()


def queue_depth(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                               "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def filters(*patterns):
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def make_queue(sqs, name):
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def test_filter_criteria_validation(lambda_server):
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    _, arn = make_queue(sqs, "filter-validation")
    create_function(lam, "filter-validation-fn", RECORDER)
    bad = ['{"a": "x"}', '{"a": []}', "not json", '{"a": [{"numeric": [">", "5"]}]}',
           '{"a": [{"prefix": 1}]}', '{"a": [{"wildcard": "x*"}]}', "{}"]
    for pattern in bad:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="filter-validation-fn",
                                            FilterCriteria={"Filters": [{"Pattern": pattern}]})
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException", pattern
        assert e.value.response["Error"]["Message"] == "Invalid filter pattern definition.", pattern
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="filter-validation-fn",
                                        FilterCriteria=filters(*[{"body": {"n": [i]}} for i in range(6)]))
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert lam.list_event_source_mappings(FunctionName="filter-validation-fn")["EventSourceMappings"] == []

    criteria = filters({"body": {"kind": ["a"]}})
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="filter-validation-fn",
                                        FilterCriteria=criteria, Enabled=False)
    assert m["FilterCriteria"] == criteria
    assert lam.get_event_source_mapping(UUID=m["UUID"])["FilterCriteria"] == criteria
    with pytest.raises(ClientError) as e:
        lam.update_event_source_mapping(UUID=m["UUID"], FilterCriteria={"Filters": [{"Pattern": '{"x": 1}'}]})
    assert e.value.response["Error"]["Message"] == "Invalid filter pattern definition."
    assert lam.get_event_source_mapping(UUID=m["UUID"])["FilterCriteria"] == criteria
    other = filters({"body": {"kind": ["b"]}}, {"body": ["plain"]})
    assert lam.update_event_source_mapping(UUID=m["UUID"], FilterCriteria=other)["FilterCriteria"] == other
    # An empty FilterCriteria removes the filters.
    lam.update_event_source_mapping(UUID=m["UUID"], FilterCriteria={})
    assert "FilterCriteria" not in lam.get_event_source_mapping(UUID=m["UUID"])
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_sqs_mapping_delivers_only_matching_messages(lambda_server):
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    logs = make_client(lambda_server, "logs")
    url, arn = make_queue(sqs, "filter-sqs")
    create_function(lam, "filter-sqs-fn", RECORDER)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="filter-sqs-fn", BatchSize=10,
        FilterCriteria=filters(
            {"body": {"RequestCode": ["BBBB"], "RecordNumber": [{"numeric": [">", 9999]}]}},
            {"body": {"region": [{"prefix": "eu-"}], "status": [{"anything-but": ["cancelled"]}]}},
            {"body": ["plain match"]},
            {"body": {"$or": [{"vip": [True]}, {"tier": [{"equals-ignore-case": "gold"}]}]}}))
    sent = {
        "keep-1": {"RequestCode": "BBBB", "RecordNumber": 10000},
        "drop-1": {"RequestCode": "BBBB", "RecordNumber": 9999},
        "drop-2": {"RequestCode": "AAAA", "RecordNumber": 20000},
        "keep-2": {"region": "eu-west-1", "status": "open"},
        "drop-3": {"region": "eu-west-1", "status": "cancelled"},
        "drop-4": {"region": "us-east-1", "status": "open"},
        "keep-3": {"vip": True},
        "keep-4": {"tier": "GOLD"},
        "drop-5": {"vip": False, "tier": "silver"},
    }
    for tag, body in sent.items():
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({**body, "tag": tag}))
    sqs.send_message(QueueUrl=url, MessageBody="plain match")
    sqs.send_message(QueueUrl=url, MessageBody="plain other")
    sqs.send_message(QueueUrl=url, MessageBody='{"body-is-json": "but no filter matches it"}')

    def tags():
        out = []
        for r in delivered(logs, "filter-sqs-fn"):
            try:
                out.append(json.loads(r["body"])["tag"])
            except ValueError:
                out.append(r["body"])
        return sorted(out)

    expected = sorted(["keep-1", "keep-2", "keep-3", "keep-4", "plain match"])
    assert wait_for(lambda: tags() == expected, 30), tags()
    # The messages no filter matched were deleted, not left to come back.
    assert wait_for(lambda: queue_depth(sqs, url) == 0, 20), queue_depth(sqs, url)
    time.sleep(3)  # past the visibility timeout: nothing reappears, nothing more is delivered
    assert queue_depth(sqs, url) == 0
    assert tags() == expected
    # The record the function gets is the message as sent (the body stays a string).
    rec = next(r for r in delivered(logs, "filter-sqs-fn") if r["body"] != "plain match")
    assert isinstance(rec["body"], str) and rec["eventSource"] == "aws:sqs"


def test_dynamodb_stream_mapping_delivers_only_matching_records(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    logs = make_client(lambda_server, "logs")
    arn = ddb.create_table(TableName="filter-orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST",
                           StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
                           )["TableDescription"]["LatestStreamArn"]
    create_function(lam, "filter-ddb-fn", RECORDER)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="filter-ddb-fn", StartingPosition="TRIM_HORIZON", BatchSize=3,
        FilterCriteria=filters(
            # New big orders.
            {"eventName": ["INSERT"],
             "dynamodb": {"NewImage": {"kind": {"S": ["order"]}, "amount": {"N": [{"numeric": [">=", 100]}]}}}},
            # Anything removed whose key starts with "vip-".
            {"eventName": ["REMOVE"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "vip-"}]}}}},
            # Updates that cleared the "note" attribute.
            {"eventName": ["MODIFY"], "dynamodb": {"OldImage": {"note": {"S": [{"exists": True}]}},
                                                   "NewImage": {"note": [{"exists": False}]}}},
            # The end marker.
            {"dynamodb": {"Keys": {"pk": {"S": ["end"]}}}}))

    def put(pk, **attrs):
        item = {"pk": {"S": pk}}
        for k, v in attrs.items():
            item[k] = {"N": str(v)} if isinstance(v, int) else {"S": v}
        ddb.put_item(TableName="filter-orders", Item=item)

    put("o1", kind="order", amount=250)          # INSERT, matches
    put("o2", kind="order", amount=99)           # INSERT, amount too small
    put("o3", kind="refund", amount=500)         # INSERT, wrong kind
    put("o1", kind="order", amount=300)          # MODIFY, no note: dropped
    put("n1", kind="memo", note="hello")         # INSERT, dropped
    put("n1", kind="memo")                       # MODIFY clearing note: matches
    put("vip-7", kind="order", amount=1)         # INSERT, too small
    ddb.delete_item(TableName="filter-orders", Key={"pk": {"S": "vip-7"}})   # REMOVE, matches
    ddb.delete_item(TableName="filter-orders", Key={"pk": {"S": "o3"}})      # REMOVE, dropped
    put("end")                                   # INSERT, matches

    def seen():
        return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in delivered(logs, "filter-ddb-fn")]

    expected = [("INSERT", "o1"), ("MODIFY", "n1"), ("REMOVE", "vip-7"), ("INSERT", "end")]
    assert wait_for(lambda: seen() == expected, 40), seen()
    time.sleep(2)
    assert seen() == expected  # nothing else, no repeats: the checkpoint moved past the dropped records
    first = delivered(logs, "filter-ddb-fn")[0]
    assert first["dynamodb"]["NewImage"]["amount"] == {"N": "250"} and first["eventSourceARN"] == arn


def test_sqs_filtered_messages_are_deleted_even_when_the_function_fails(lambda_server):
    lam = make_client(lambda_server, "lambda")
    sqs = make_client(lambda_server, "sqs")
    logs = make_client(lambda_server, "logs")
    url, arn = make_queue(sqs, "filter-sqs-failing")
    create_function(lam, "filter-sqs-failing-fn", {"app.py": (
        "import json\n"
        "def handler(event, context):\n"
        "    for r in event['Records']:\n"
        "        print('GOT ' + json.dumps(r))\n"
        "    raise Exception('always fails')\n")})
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="filter-sqs-failing-fn", BatchSize=10,
                                        FilterCriteria=filters({"body": {"k": ["yes"]}}))
    for body in ({"k": "no", "i": 1}, {"k": "yes", "i": 2}, {"k": "no", "i": 3}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    # The matching message keeps failing and coming back; the two others were deleted at once.
    assert wait_for(lambda: len(delivered(logs, "filter-sqs-failing-fn")) >= 2, 30)
    assert {json.loads(r["body"])["i"] for r in delivered(logs, "filter-sqs-failing-fn")} == {2}
    assert wait_for(lambda: queue_depth(sqs, url) == 1, 10), queue_depth(sqs, url)
    lam.delete_event_source_mapping(UUID=m["UUID"])
