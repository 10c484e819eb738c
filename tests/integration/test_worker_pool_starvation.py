"""Requests that wait for a long time must not hold the server's worker threads.

The server runs with `--workers 2`, so a handler that blocked a worker while it waits (a long
poll, a synchronous invoke waiting for its function, an in-process call waiting for its answer)
would, with a few such requests pending, starve every other blocking operation: CreateQueue,
PutItem, CreateActivity... would then hang until the waits end. Each test keeps several waits
pending and checks that other operations are answered while every wait is still pending (the
waits last 20-60 s, far longer than the operations need even on a loaded machine)."""
import json
import tempfile
import threading
import time
import uuid

import pytest
from botocore.config import Config

from conftest import Stratus, create_function

WAITERS = 6  # three times the server's worker threads


@pytest.fixture(scope="module")
def small_pool():
    with tempfile.TemporaryDirectory(prefix="stratus-pool-") as data_dir:
        s = Stratus(data_dir, extra_args=["--workers", "2"]).start()
        yield s
        s.stop()


def client(server, service):
    import boto3
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=10,
                                      read_timeout=120))


def start_waiters(fn, n):
    results, threads = [], []
    for i in range(n):
        t = threading.Thread(target=lambda i=i: results.append(fn(i)), daemon=True)
        t.start()
        threads.append(t)
    return threads, results


def other_operations(server):
    """Operations that run on a worker thread: each must be answered while the waits pend."""
    sqs, ddb, sfn = client(server, "sqs"), client(server, "dynamodb"), client(server, "stepfunctions")
    name = "t" + uuid.uuid4().hex[:8]
    sqs.create_queue(QueueName=name)
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": str(i)}})
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 5
    sfn.create_activity(name=name)


def test_long_polls_hold_no_worker_threads(small_pool):
    sqs, sfn = client(small_pool, "sqs"), client(small_pool, "stepfunctions")
    url = sqs.create_queue(QueueName="polled")["QueueUrl"]
    act = sfn.create_activity(name="polled")["activityArn"]
    sqs_polls, sqs_got = start_waiters(
        lambda i: client(small_pool, "sqs").receive_message(QueueUrl=url, WaitTimeSeconds=20)
        .get("Messages", []), WAITERS)
    act_polls, act_got = start_waiters(
        lambda i: client(small_pool, "stepfunctions").get_activity_task(activityArn=act,
                                                                         workerName=f"w{i}"),
        WAITERS)
    time.sleep(2)  # the polls reach the server and wait there

    other_operations(small_pool)
    pending = [t for t in sqs_polls + act_polls if t.is_alive()]
    assert len(pending) == 2 * WAITERS, "a long poll ended before the other operations were answered"

    # The polls are still live: each is answered by what arrives.
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)}
                                                  for i in range(WAITERS)])
    machine = sfn.create_state_machine(
        name="m" + uuid.uuid4().hex[:8], roleArn="arn:aws:iam::000000000000:role/sfn",
        definition=json.dumps({"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": act, "TimeoutSeconds": 120, "End": True}}}))
    for i in range(WAITERS):
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"n": i}))
    for t in sqs_polls + act_polls:
        t.join(timeout=90)
    assert sorted(m["Body"] for got in sqs_got for m in got) == [str(i) for i in range(WAITERS)]
    assert sorted(json.loads(t["input"])["n"] for t in act_got if t.get("taskToken")) == \
        list(range(WAITERS))


SLEEPER = """
import time
def handler(event, context):
    time.sleep(event["sleep"])
    return {"slept": event["sleep"]}
"""


def test_synchronous_invokes_and_task_states_hold_no_worker_threads(small_pool):
    lam, sfn = client(small_pool, "lambda"), client(small_pool, "stepfunctions")
    fn = create_function(lam, "sleeper", {"app.py": SLEEPER}, Timeout=120)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=2 * WAITERS + 2)
    invokes, invoked = start_waiters(
        lambda i: json.loads(client(small_pool, "lambda").invoke(
            FunctionName=fn, Payload=json.dumps({"sleep": 25}))["Payload"].read()), WAITERS)
    # Task states whose in-process Invoke waits on a worker for the function's answer.
    fn_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    machine = sfn.create_state_machine(
        name="m" + uuid.uuid4().hex[:8], roleArn="arn:aws:iam::000000000000:role/sfn",
        definition=json.dumps({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName": fn_arn, "Payload": {"sleep": 25}},
            "OutputPath": "$.Payload"}}}))["stateMachineArn"]
    executions = [sfn.start_execution(stateMachineArn=machine)["executionArn"]
                  for _ in range(WAITERS)]
    time.sleep(2)

    other_operations(small_pool)
    assert all(t.is_alive() for t in invokes), "an invoke ended before the other operations"
    assert all(sfn.describe_execution(executionArn=e)["status"] == "RUNNING" for e in executions)

    for t in invokes:
        t.join(timeout=120)
    assert invoked == [{"slept": 25}] * WAITERS
    deadline = time.time() + 120
    while time.time() < deadline:
        states = [sfn.describe_execution(executionArn=e) for e in executions]
        if all(s["status"] != "RUNNING" for s in states):
            break
        time.sleep(0.5)
    assert [json.loads(s.get("output", "null")) for s in states] == [{"slept": 25}] * WAITERS, states
