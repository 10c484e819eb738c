"""RedriveExecution of Map and Parallel states through boto3 (AWS's current model, see
test_stepfunctions_versions): only the failed iterations or branches run again and the others
keep their results; a distributed Map's map run is redriven (same ARN, redriveCount,
redriveDate, MapRunRedriven) and its failed child execution continues its history; an
execution stopped more than 14 days ago is refused with ExecutionNotRedrivable."""
import json
import sqlite3
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import Stratus
from test_stepfunctions import ROLE
from test_stepfunctions_versions import data_path, sfn_client, wait_done  # noqa: F401 - fixture


def take_tasks(sfn, activity_arn, n):
    tasks = []
    deadline = time.time() + 30
    while len(tasks) < n and time.time() < deadline:
        t = sfn.get_activity_task(activityArn=activity_arn, workerName="w")
        if t.get("taskToken"):
            tasks.append(t)
    assert len(tasks) == n, f"{len(tasks)} of {n} activity tasks"
    return tasks


def make_machine(sfn, definition_for):
    activity = sfn.create_activity(name=f"rp-{uuid.uuid4().hex[:8]}")["activityArn"]
    arn = sfn.create_state_machine(name=f"rp-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition_for(activity)),
                                   roleArn=ROLE)["stateMachineArn"]
    return activity, arn


def types(sfn, ex):
    return [e["type"] for e in sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]]


def test_parallel_redrives_only_the_failed_branch(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    activity, arn = make_machine(sfn, lambda act: {"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "quick", "End": True}}},
            {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": act, "End": True}}}]}}})
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    [task] = take_tasks(sfn, activity, 1)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Flaky", cause="first try")
    assert wait_done(sfn, ex)["status"] == "FAILED"

    sfn.redrive_execution(executionArn=ex)
    [task] = take_tasks(sfn, activity, 1)
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps("worked"))
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == ["quick", "worked"]
    t = types(sfn, ex)
    assert t.count("PassStateEntered") == 1  # the branch that succeeded did not run again
    assert t.count("TaskStateEntered") == 2 and t.count("ExecutionRedriven") == 1


def test_inline_map_redrives_only_failed_iterations(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    activity, arn = make_machine(sfn, lambda act: {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": act, "End": True}}}}}})
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps([0, 1, 2]))["executionArn"]
    tasks = {json.loads(t["input"]): t for t in take_tasks(sfn, activity, 3)}
    sfn.send_task_success(taskToken=tasks[0]["taskToken"], output=json.dumps("r0"))
    sfn.send_task_success(taskToken=tasks[2]["taskToken"], output=json.dumps("r2"))
    time.sleep(0.3)
    sfn.send_task_failure(taskToken=tasks[1]["taskToken"], error="Flaky", cause="item 1")
    assert wait_done(sfn, ex)["status"] == "FAILED"

    sfn.redrive_execution(executionArn=ex)
    [task] = take_tasks(sfn, activity, 1)
    assert json.loads(task["input"]) == 1  # only the failed iteration
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps("r1"))
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == ["r0", "r1", "r2"]
    assert types(sfn, ex).count("MapIterationStarted") == 4


def test_distributed_map_run_is_redriven(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    activity, arn = make_machine(sfn, lambda act: {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": act, "End": True}}}}}})
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps([0, 1]))["executionArn"]
    tasks = {json.loads(t["input"]): t for t in take_tasks(sfn, activity, 2)}
    sfn.send_task_success(taskToken=tasks[0]["taskToken"], output=json.dumps("r0"))
    time.sleep(0.3)
    sfn.send_task_failure(taskToken=tasks[1]["taskToken"], error="Flaky", cause="item 1")
    assert wait_done(sfn, ex)["status"] == "FAILED"
    [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    before = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert before["status"] == "FAILED" and before["redriveCount"] == 0 and "redriveDate" not in before
    failed_child = [c for c in sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
                    if c["status"] == "FAILED"][0]["executionArn"]

    sfn.redrive_execution(executionArn=ex)
    [task] = take_tasks(sfn, activity, 1)
    assert json.loads(task["input"]) == 1
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps("r1"))
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == ["r0", "r1"]
    [again] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    assert again["mapRunArn"] == run["mapRunArn"]  # the same map run, redriven
    after = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert after["status"] == "SUCCEEDED" and after["redriveCount"] == 1 and "redriveDate" in after
    assert after["itemCounts"]["succeeded"] == 2 and after["itemCounts"]["failed"] == 0
    t = types(sfn, ex)
    assert t.count("MapRunRedriven") == 1 and t.count("MapStateEntered") == 1
    # The redriven child execution's history continues: its failure, then its redrive.
    child = [e["type"] for e in sfn.get_execution_history(executionArn=failed_child, maxResults=1000)["events"]]
    assert child[0] == "ExecutionStarted" and child[-1] == "ExecutionSucceeded"
    assert child.index("ExecutionFailed") < child.index("ExecutionRedriven")
    desc = sfn.describe_execution(executionArn=failed_child)
    assert desc["status"] == "SUCCEEDED" and desc["redriveCount"] == 1 and "redriveDate" in desc, desc


def test_redrive_refused_after_14_days(data_path, tmp_path):  # noqa: F811
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        arn = sfn.create_state_machine(name="old", roleArn=ROLE, definition=json.dumps(
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}))["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        assert wait_done(sfn, ex)["status"] == "FAILED"
        assert sfn.describe_execution(executionArn=ex)["redriveStatus"] == "REDRIVABLE"
    finally:
        assert server.stop() == 0
    # The execution stopped 15 days ago (its record's stop time moved back).
    db = sqlite3.connect(str(tmp_path / "stratus.db"))
    rows = db.execute("SELECT key, value FROM kv WHERE CAST(key AS TEXT) LIKE 'stepfunctions/%/xs/old/%'").fetchall()
    assert len(rows) == 1, rows
    rec = json.loads(rows[0][1])
    rec["stop_ms"] -= 15 * 24 * 3600 * 1000
    db.execute("UPDATE kv SET value = ? WHERE key = ?", (json.dumps(rec).encode(), rows[0][0]))
    db.commit()
    db.close()
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        d = sfn.describe_execution(executionArn=ex)
        assert d["redriveStatus"] == "NOT_REDRIVABLE"
        assert d["redriveStatusReason"] == "Execution redrivable period exceeded."
        with pytest.raises(ClientError) as e:
            sfn.redrive_execution(executionArn=ex)
        assert e.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
        assert e.value.response["Error"]["Message"] == "Execution redrivable period exceeded."
    finally:
        server.stop()
