"""DynamoDB Streams driving a Lambda function through an event source mapping (boto3)."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, make_client

# Logs one line per invocation: the batch's records in order. Fails (raises) when a record's
# "fail" attribute asks for it: "always", or "twice" for the first two attempts of that item.
RECORDER = {"app.py": (
    "import json, os\n"
    "def handler(event, context):\n"
    "    recs = event['Records']\n"
    "    print('GOT ' + json.dumps(recs))\n"
    "    for r in recs:\n"
    "        img = r['dynamodb'].get('NewImage', {})\n"
    "        mode = img.get('fail', {}).get('S')\n"
    "        if mode == 'always':\n"
    "            raise Exception('poison ' + img['pk']['S'])\n"
    "        if mode == 'twice':\n"
    "            marker = '/tmp/tries-' + r['eventID']\n"
    "            n = int(open(marker).read()) if os.path.exists(marker) else 0\n"
    "            open(marker, 'w').write(str(n + 1))\n"
    "            if n < 2:\n"
    "                raise Exception('not yet')\n"
    "    return {}\n")}


def batches(logs, name):
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except ClientError:
        return []
    return [json.loads(e["message"][4:]) for e in events if e["message"].startswith("GOT ")]


def seen(logs, name):
    """(eventName, pk) of every record delivered, in delivery order."""
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for b in batches(logs, name) for r in b]


def wait_for(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return predicate()


def stream_table(ddb, name):
    t = ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return t["TableDescription"]["LatestStreamArn"]


def test_stream_records_reach_the_function_in_order(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    logs = make_client(lambda_server, "logs")
    arn = stream_table(ddb, "ddb-esm-orders")
    create_function(lam, "ddb-esm-fn", RECORDER)
    ddb.put_item(TableName="ddb-esm-orders", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ddb-esm-fn",
                                        StartingPosition="TRIM_HORIZON", BatchSize=2)
    uuid = m["UUID"]
    assert m["StartingPosition"] == "TRIM_HORIZON" and m["BatchSize"] == 2
    assert m["MaximumRetryAttempts"] == -1 and m["BisectBatchOnFunctionError"] is False
    ddb.update_item(TableName="ddb-esm-orders", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.put_item(TableName="ddb-esm-orders", Item={"pk": {"S": "b"}, "v": {"N": "3"}})
    ddb.delete_item(TableName="ddb-esm-orders", Key={"pk": {"S": "a"}})
    want = [("INSERT", "a"), ("MODIFY", "a"), ("INSERT", "b"), ("REMOVE", "a")]
    assert wait_for(lambda: seen(logs, "ddb-esm-fn") == want, 30), seen(logs, "ddb-esm-fn")
    got = batches(logs, "ddb-esm-fn")
    assert all(len(b) <= 2 for b in got)
    records = [r for b in got for r in b]
    for r in records:
        assert r["eventSource"] == "aws:dynamodb" and r["eventVersion"] == "1.1"
        assert r["eventSourceARN"] == arn and r["awsRegion"] == "us-east-1" and r["eventID"]
        assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    insert, modify, _, remove = records
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}} and "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"} and modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert remove["dynamodb"]["OldImage"]["v"] == {"N": "2"} and "NewImage" not in remove["dynamodb"]

    assert lam.get_event_source_mapping(UUID=uuid)["EventSourceArn"] == arn
    assert [x["UUID"] for x in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [uuid]
    u = lam.update_event_source_mapping(UUID=uuid, BatchSize=10, MaximumRetryAttempts=3)
    assert u["BatchSize"] == 10 and u["MaximumRetryAttempts"] == 3
    # After an update the mapping resumes from its checkpoint: nothing is delivered twice.
    ddb.put_item(TableName="ddb-esm-orders", Item={"pk": {"S": "c"}})
    assert wait_for(lambda: seen(logs, "ddb-esm-fn") == want + [("INSERT", "c")], 30), seen(logs, "ddb-esm-fn")
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    time.sleep(1.5)
    ddb.put_item(TableName="ddb-esm-orders", Item={"pk": {"S": "while-disabled"}})
    time.sleep(2)
    assert ("INSERT", "while-disabled") not in seen(logs, "ddb-esm-fn")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert wait_for(lambda: ("INSERT", "while-disabled") in seen(logs, "ddb-esm-fn"), 30)
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=uuid)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_latest_starts_after_existing_records(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    logs = make_client(lambda_server, "logs")
    arn = stream_table(ddb, "ddb-esm-latest")
    create_function(lam, "ddb-esm-latest-fn", RECORDER)
    ddb.put_item(TableName="ddb-esm-latest", Item={"pk": {"S": "before"}})
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ddb-esm-latest-fn",
                                        StartingPosition="LATEST")
    ddb.put_item(TableName="ddb-esm-latest", Item={"pk": {"S": "after"}})
    assert wait_for(lambda: seen(logs, "ddb-esm-latest-fn") == [("INSERT", "after")], 30), seen(logs, "ddb-esm-latest-fn")
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_failing_batch_is_retried_in_place(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    logs = make_client(lambda_server, "logs")
    arn = stream_table(ddb, "ddb-esm-retry")
    create_function(lam, "ddb-esm-retry-fn", RECORDER)
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ddb-esm-retry-fn",
                                        StartingPosition="LATEST", BatchSize=1)
    ddb.put_item(TableName="ddb-esm-retry", Item={"pk": {"S": "flaky"}, "fail": {"S": "twice"}})
    ddb.put_item(TableName="ddb-esm-retry", Item={"pk": {"S": "next"}})
    want = [("INSERT", "flaky")] * 3 + [("INSERT", "next")]
    # The failing record blocks the shard until it succeeds on its third attempt.
    assert wait_for(lambda: seen(logs, "ddb-esm-retry-fn") == want, 30), seen(logs, "ddb-esm-retry-fn")
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_bisect_retries_exhausted_go_to_on_failure_queue(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    sqs = make_client(lambda_server, "sqs")
    logs = make_client(lambda_server, "logs")
    arn = stream_table(ddb, "ddb-esm-poison")
    url = sqs.create_queue(QueueName="ddb-esm-failures")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "ddb-esm-poison-fn", RECORDER)
    for pk in ["ok1", "ok2", "poison", "ok3"]:
        item = {"pk": {"S": pk}}
        if pk == "poison":
            item["fail"] = {"S": "always"}
        ddb.put_item(TableName="ddb-esm-poison", Item=item)
    m = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="ddb-esm-poison-fn", StartingPosition="TRIM_HORIZON", BatchSize=4,
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": qarn}})
    assert m["DestinationConfig"]["OnFailure"]["Destination"] == qarn
    # The whole batch fails, halves: [ok1 ok2] succeeds, [poison ok3] fails, [poison] fails
    # twice (one retry) and is given up on, then [ok3].
    # (ok3 is in the first batch already: wait for the batch that has it alone.)
    assert wait_for(lambda: [r["dynamodb"]["Keys"]["pk"]["S"] for r in batches(logs, "ddb-esm-poison-fn")[-1]] == ["ok3"]
                    if len(batches(logs, "ddb-esm-poison-fn")) > 1 else False, 30), batches(logs, "ddb-esm-poison-fn")
    got = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in batches(logs, "ddb-esm-poison-fn")]
    assert got == [["ok1", "ok2", "poison", "ok3"], ["ok1", "ok2"], ["poison", "ok3"], ["poison"], ["poison"], ["ok3"]], got
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
    assert len(msgs) == 1
    failure = json.loads(msgs[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = failure["DDBStreamBatchInfo"]
    poison_seq = [r for b in batches(logs, "ddb-esm-poison-fn") for r in b
                  if r["dynamodb"]["Keys"]["pk"]["S"] == "poison"][0]["dynamodb"]["SequenceNumber"]
    assert info["batchSize"] == 1 and info["streamArn"] == arn
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_seq
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_report_batch_item_failures_resumes_from_the_failed_record(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    logs = make_client(lambda_server, "logs")
    arn = stream_table(ddb, "ddb-esm-partial")
    fn = {"app.py": (
        "import json, os\n"
        "def handler(event, context):\n"
        "    print('GOT ' + json.dumps(event['Records']))\n"
        "    for r in event['Records']:\n"
        "        marker = '/tmp/partial-' + r['eventID']\n"
        "        if r['dynamodb']['Keys']['pk']['S'] == 'b' and not os.path.exists(marker):\n"
        "            open(marker, 'w').write('1')\n"
        "            return {'batchItemFailures': [{'itemIdentifier': r['dynamodb']['SequenceNumber']}]}\n"
        "    return {'batchItemFailures': []}\n")}
    create_function(lam, "ddb-esm-partial-fn", fn)
    for pk in "abc":
        ddb.put_item(TableName="ddb-esm-partial", Item={"pk": {"S": pk}})
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ddb-esm-partial-fn",
                                        StartingPosition="TRIM_HORIZON", BatchSize=3,
                                        FunctionResponseTypes=["ReportBatchItemFailures"])
    assert wait_for(lambda: len(batches(logs, "ddb-esm-partial-fn")) >= 2, 30)
    got = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in batches(logs, "ddb-esm-partial-fn")]
    assert got == [["a", "b", "c"], ["b", "c"]], got
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_stream_mapping_validation(lambda_server):
    lam = make_client(lambda_server, "lambda")
    ddb = make_client(lambda_server, "dynamodb")
    arn = stream_table(ddb, "ddb-esm-val")
    create_function(lam, "ddb-esm-val-fn", RECORDER)
    for kwargs in [dict(),  # StartingPosition is required
                   dict(StartingPosition="AT_TIMESTAMP"),
                   dict(StartingPosition="LATEST", BatchSize=10001),
                   dict(StartingPosition="LATEST", MaximumRecordAgeInSeconds=10),
                   dict(StartingPosition="LATEST", ParallelizationFactor=2),  # not supported, loudly
                   dict(StartingPosition="LATEST", EventSourceArn=arn.replace("ddb-esm-val", "no-such-table"))]:
        args = {"EventSourceArn": arn, "FunctionName": "ddb-esm-val-fn", **kwargs}
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(**args)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException", kwargs


def test_checkpoint_survives_restart(stratus):
    lam = make_client(stratus, "lambda")
    ddb = make_client(stratus, "dynamodb")
    logs = make_client(stratus, "logs")
    arn = stream_table(ddb, "ddb-esm-durable")
    create_function(lam, "ddb-esm-durable-fn", RECORDER)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ddb-esm-durable-fn",
                                    StartingPosition="TRIM_HORIZON", BatchSize=1)
    for pk in ["one", "two"]:
        ddb.put_item(TableName="ddb-esm-durable", Item={"pk": {"S": pk}})
    first = [("INSERT", "one"), ("INSERT", "two")]
    assert wait_for(lambda: seen(logs, "ddb-esm-durable-fn") == first, 30), seen(logs, "ddb-esm-durable-fn")
    time.sleep(0.5)  # the checkpoint is written after the invocation returns
    stratus.restart()
    lam, ddb, logs = (make_client(stratus, s) for s in ("lambda", "dynamodb", "logs"))
    ddb.put_item(TableName="ddb-esm-durable", Item={"pk": {"S": "three"}})
    assert wait_for(lambda: seen(logs, "ddb-esm-durable-fn") == first + [("INSERT", "three")], 30), \
        seen(logs, "ddb-esm-durable-fn")
    time.sleep(2)
    assert seen(logs, "ddb-esm-durable-fn") == first + [("INSERT", "three")]
