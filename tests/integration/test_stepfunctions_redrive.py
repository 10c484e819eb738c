"""RedriveExecution through boto3 (with AWS's current model, see test_stepfunctions_versions):
a failed execution runs again from the state that failed, keeps its completed steps, counts
its redrives and records ExecutionRedriven; executions that did not fail are refused."""
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from test_stepfunctions import ROLE
from test_stepfunctions_versions import data_path, sfn_client, wait_done  # noqa: F401 - fixture


def take_task(sfn, activity_arn):
    deadline = time.time() + 30
    while time.time() < deadline:
        t = sfn.get_activity_task(activityArn=activity_arn, workerName="w")
        if t.get("taskToken"):
            return t
    raise AssertionError("no activity task")


def test_redrive_from_the_failed_state(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    activity = sfn.create_activity(name=f"redrive-{uuid.uuid4().hex[:8]}")["activityArn"]
    definition = {"StartAt": "Before", "States": {
        "Before": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.before", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": activity, "ResultPath": "$.work", "End": True}}}
    arn = sfn.create_state_machine(name=f"redrive-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"in": True}))["executionArn"]
    task = take_task(sfn, activity)
    assert json.loads(task["input"]) == {"in": True, "before": {"n": 1}}
    sfn.send_task_failure(taskToken=task["taskToken"], error="Flaky", cause="first try")
    d = wait_done(sfn, ex)
    assert d["status"] == "FAILED" and d["error"] == "Flaky"
    assert d["redriveStatus"] == "REDRIVABLE" and d["redriveCount"] == 0

    sfn.redrive_execution(executionArn=ex)
    d = sfn.describe_execution(executionArn=ex)
    assert d["status"] == "RUNNING" and d["redriveCount"] == 1 and "redriveDate" in d
    # Redriving a running execution is refused.
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=ex)
    assert e.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    task = take_task(sfn, activity)
    assert json.loads(task["input"]) == {"in": True, "before": {"n": 1}}
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"ok": 1}))
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"in": True, "before": {"n": 1}, "work": {"ok": 1}}
    assert d["redriveCount"] == 1 and d["redriveStatus"] == "NOT_REDRIVABLE"

    events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
    types = [e["type"] for e in events]
    assert types.count("PassStateEntered") == 1  # the completed step is not repeated
    assert types.count("ExecutionRedriven") == 1 and types.count("TaskStateEntered") == 2
    redriven = events[types.index("ExecutionRedriven")]
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert redriven["previousEventId"] == redriven["id"] - 1

    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=ex)
    assert e.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert listed[0]["redriveCount"] == 1


def test_redrive_refusals(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    arn = sfn.create_state_machine(name=f"noredrive-{uuid.uuid4().hex[:8]}", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}))["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_done(sfn, ex)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=ex)
    assert e.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=ex + "-missing")
    assert e.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
