"""HeartbeatSeconds through boto3: an activity or .waitForTaskToken task that stops sending
heartbeats fails with States.HeartbeatTimeout (caught like any error), SendTaskHeartbeat keeps
it alive, a heartbeat for a task that is over answers TaskTimedOut, and the deadline survives
kill -9."""
import json
import tempfile
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import Stratus, make_client
from test_stepfunctions import create, sfn_client, wait_done


def take_task(sfn, activity_arn):
    deadline = time.time() + 30
    while time.time() < deadline:
        t = sfn.get_activity_task(activityArn=activity_arn, workerName="w")
        if t.get("taskToken"):
            return t
    raise AssertionError("no activity task")


def test_activity_heartbeats(shared_stratus):
    sfn = sfn_client(shared_stratus)
    act = sfn.create_activity(name=f"hb-{uuid.uuid4().hex[:8]}")["activityArn"]
    arn = create(sfn, {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": act, "HeartbeatSeconds": 4,
                                                         "TimeoutSeconds": 60, "End": True}}})
    # Kept alive by heartbeats past several heartbeat periods, then succeeds. A heartbeat every
    # second against a 4 s period: a loaded machine may stall the client for a while.
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    task = take_task(sfn, act)
    for _ in range(10):
        time.sleep(1)
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
    assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert wait_done(sfn, ex)["status"] == "SUCCEEDED"
    # Silent after one heartbeat: times out with States.HeartbeatTimeout.
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    task = take_task(sfn, act)
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    d = wait_done(sfn, ex, timeout=20)
    assert d["status"] == "FAILED" and d["error"] == "States.HeartbeatTimeout", d
    events = sfn.get_execution_history(executionArn=ex)["events"]
    timed_out = [e for e in events if e["type"] == "ActivityTimedOut"]
    assert timed_out and timed_out[0]["activityTimedOutEventDetails"]["error"] == "States.HeartbeatTimeout"
    scheduled = [e for e in events if e["type"] == "ActivityScheduled"][0]
    assert scheduled["activityScheduledEventDetails"]["heartbeatInSeconds"] == 4
    with pytest.raises(ClientError) as e:
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
    assert e.value.response["Error"]["Code"] == "TaskTimedOut"


def test_wait_for_task_token_heartbeat_is_caught(shared_stratus):
    sfn = sfn_client(shared_stratus)
    sqs = make_client(shared_stratus, "sqs")
    url = sqs.create_queue(QueueName=f"hb-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = create(sfn, {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
              "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token"}},
              "HeartbeatSeconds": 1,
              "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.err", "Next": "Caught"}],
              "End": True},
        "Caught": {"Type": "Pass", "End": True}}})
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, ex, timeout=20)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["err"]["Error"] == "States.HeartbeatTimeout"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=ex)["events"]]
    assert "TaskTimedOut" in types


def test_heartbeat_deadline_survives_sigkill():
    with tempfile.TemporaryDirectory(prefix="stratus-sfn-hb-") as data_dir:
        server = Stratus(data_dir).start()
        sfn = sfn_client(server)
        act = sfn.create_activity(name="hb-durable")["activityArn"]
        arn = create(sfn, {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": act,
                                                             "HeartbeatSeconds": 3, "End": True}}})
        ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        take_task(sfn, act)
        server.kill()
        server.start()
        sfn = sfn_client(server)
        d = wait_done(sfn, ex, timeout=30)
        assert d["status"] == "FAILED" and d["error"] == "States.HeartbeatTimeout", d
        assert server.stop() == 0
