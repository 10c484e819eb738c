"""Map runs through boto3: a distributed Map's map run (DescribeMapRun, ListMapRuns,
UpdateMapRun) and its iterations as child executions (ListExecutions with mapRunArn,
DescribeExecution of the ExecutionArns the ResultWriter reports)."""
import json
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from test_stepfunctions import create, sfn_client, wait_done

FAIL_ON_3 = {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericEquals": 3, "Next": "Bad"}], "Default": "Good"},
    "Bad": {"Type": "Fail", "Error": "Three", "Cause": "no threes"},
    "Good": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.v, $.v)"}, "End": True}}


def distributed(states, start, **fields):
    m = {"Type": "Map", "End": True, "ItemsPath": "$.items",
         "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                           "StartAt": start, "States": states}}
    m.update(fields)
    return {"StartAt": "Fan", "States": {"Fan": m}}


def test_map_run_and_child_executions(shared_stratus):
    sfn = sfn_client(shared_stratus)
    s3 = make_client(shared_stratus, "s3")
    bucket = f"mr-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    arn = create(sfn, distributed(FAIL_ON_3, "Check", MaxConcurrency=2, ToleratedFailureCount=1,
                                  ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                                "Parameters": {"Bucket": bucket, "Prefix": "out"}}))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [{"v": i} for i in range(1, 6)]}))["executionArn"]
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    runs = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    assert len(runs) == 1
    run = runs[0]
    sm_name = arn.split(":")[-1]
    assert re.fullmatch(rf"arn:aws:states:us-east-1:000000000000:mapRun:{sm_name}/Fan:[0-9a-f-]{{36}}", run["mapRunArn"])
    assert run["executionArn"] == ex and run["stateMachineArn"] == arn + "/Fan"
    assert json.loads(d["output"])["MapRunArn"] == run["mapRunArn"]
    desc = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert desc["status"] == "SUCCEEDED" and desc["executionArn"] == ex
    assert desc["maxConcurrency"] == 2 and desc["toleratedFailureCount"] == 1
    assert desc["toleratedFailurePercentage"] == 0
    assert desc["startDate"] <= desc["stopDate"]
    for counts in (desc["itemCounts"], desc["executionCounts"]):
        assert counts["total"] == 5 and counts["succeeded"] == 4 and counts["failed"] == 1
        assert counts["pending"] == 0 and counts["running"] == 0 and counts["aborted"] == 0
        assert counts["resultsWritten"] == 5
    # The iterations are child executions of the map run.
    children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert len(children) == 5
    assert sorted(c["status"] for c in children) == ["FAILED"] + ["SUCCEEDED"] * 4
    assert all(c["mapRunArn"] == run["mapRunArn"] and c["stateMachineArn"] == arn + "/Fan" for c in children)
    [failed] = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED")["executions"]
    fd = sfn.describe_execution(executionArn=failed["executionArn"])
    assert fd["status"] == "FAILED" and fd["error"] == "Three" and fd["cause"] == "no threes"
    assert json.loads(fd["input"]) == {"v": 3} and fd["mapRunArn"] == run["mapRunArn"]
    # The ResultWriter's ExecutionArns are those child executions.
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=json.loads(d["output"])["ResultWriterDetails"]["Key"])["Body"].read())
    entries = []
    for f in manifest["ResultFiles"]["SUCCEEDED"] + manifest["ResultFiles"]["FAILED"]:
        entries += json.loads(s3.get_object(Bucket=bucket, Key=f["Key"])["Body"].read())
    assert len(entries) == 5
    for e in entries:
        cd = sfn.describe_execution(executionArn=e["ExecutionArn"])
        assert cd["status"] == e["Status"] and cd["input"] == e["Input"]
        if e["Status"] == "SUCCEEDED":
            assert json.loads(cd["output"]) == json.loads(e["Output"])
    # The machine's own listing holds the parent only.
    assert [x["executionArn"] for x in sfn.list_executions(stateMachineArn=arn)["executions"]] == [ex]


def test_map_run_errors(shared_stratus):
    sfn = sfn_client(shared_stratus)
    unknown = "arn:aws:states:us-east-1:000000000000:mapRun:nope/Fan:00000000-0000-0000-0000-000000000000"
    for call in (lambda: sfn.describe_map_run(mapRunArn=unknown),
                 lambda: sfn.update_map_run(mapRunArn=unknown, maxConcurrency=1)):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError) as e:
        sfn.describe_map_run(mapRunArn="arn:aws:states:us-east-1:000000000000:execution:nope:x")
    assert e.value.response["Error"]["Code"] == "InvalidArn"
    with pytest.raises(ClientError) as e:
        sfn.list_map_runs(executionArn="arn:aws:states:us-east-1:000000000000:execution:nope:x")
    assert e.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
    with pytest.raises(ClientError) as e:
        sfn.update_map_run(mapRunArn=unknown)
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_update_map_run_changes_a_running_map(shared_stratus):
    sfn = sfn_client(shared_stratus)
    act = sfn.create_activity(name=f"mr-{uuid.uuid4().hex[:8]}")["activityArn"]
    arn = create(sfn, distributed({"Work": {"Type": "Task", "Resource": act, "End": True}}, "Work", MaxConcurrency=1))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1, 2, 3, 4]}))["executionArn"]
    tokens = [sfn.get_activity_task(activityArn=act, workerName="w")["taskToken"]]
    deadline = time.time() + 10
    while not sfn.list_map_runs(executionArn=ex)["mapRuns"] and time.time() < deadline:
        time.sleep(0.05)
    map_run = sfn.list_map_runs(executionArn=ex)["mapRuns"][0]["mapRunArn"]
    desc = sfn.describe_map_run(mapRunArn=map_run)
    assert desc["status"] == "RUNNING" and desc["maxConcurrency"] == 1
    assert desc["itemCounts"]["running"] == 1 and desc["itemCounts"]["pending"] == 3
    sfn.update_map_run(mapRunArn=map_run, maxConcurrency=3, toleratedFailurePercentage=50, toleratedFailureCount=2)
    desc = sfn.describe_map_run(mapRunArn=map_run)
    assert desc["maxConcurrency"] == 3 and desc["toleratedFailurePercentage"] == 50
    assert desc["toleratedFailureCount"] == 2
    assert desc["itemCounts"]["running"] == 3 and desc["itemCounts"]["pending"] == 1
    # Running iterations are child executions too.
    running = sfn.list_executions(mapRunArn=map_run, statusFilter="RUNNING")["executions"]
    assert len(running) == 3 and all("stopDate" not in x for x in running)
    rd = sfn.describe_execution(executionArn=running[0]["executionArn"])
    assert rd["status"] == "RUNNING" and rd["mapRunArn"] == map_run
    # Three workers hold tasks at once now.
    tokens += [sfn.get_activity_task(activityArn=act, workerName="w")["taskToken"] for _ in range(2)]
    assert all(tokens)
    for t in tokens:
        sfn.send_task_success(taskToken=t, output="{}")
    sfn.send_task_success(taskToken=sfn.get_activity_task(activityArn=act, workerName="w")["taskToken"], output="{}")
    assert wait_done(sfn, ex)["status"] == "SUCCEEDED"
    desc = sfn.describe_map_run(mapRunArn=map_run)
    assert desc["status"] == "SUCCEEDED" and desc["itemCounts"]["succeeded"] == 4
    assert [x["status"] for x in sfn.list_executions(mapRunArn=map_run)["executions"]] == ["SUCCEEDED"] * 4


def test_stopping_the_parent_aborts_the_map_run(shared_stratus):
    sfn = sfn_client(shared_stratus)
    act = sfn.create_activity(name=f"mr-{uuid.uuid4().hex[:8]}")["activityArn"]
    arn = create(sfn, distributed({"Work": {"Type": "Task", "Resource": act, "End": True}}, "Work", MaxConcurrency=2))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
    assert sfn.get_activity_task(activityArn=act, workerName="w")["taskToken"]
    sfn.stop_execution(executionArn=ex, error="Halt")
    assert wait_done(sfn, ex)["status"] == "ABORTED"
    [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    desc = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert desc["status"] == "ABORTED" and "stopDate" in desc
    assert desc["itemCounts"]["aborted"] == 3 and desc["itemCounts"]["running"] == 0
    children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert sorted(c["status"] for c in children) == ["ABORTED", "ABORTED"]


def test_update_of_an_ended_map_run_leaves_the_next_one_alone(shared_stratus):
    # UpdateMapRun found its Map by the frame it ran in and changed whatever distributed Map ran
    # there now: after a first map run had ended (DescribeMapRun SUCCEEDED), an update of it
    # changed the limits of the next Map of the same state list while its record stayed as it was.
    sfn = sfn_client(shared_stratus)
    act = sfn.create_activity(name=f"mr-{uuid.uuid4().hex[:8]}")["activityArn"]
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}
    arn = create(sfn, {"StartAt": "First", "States": {
        "First": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": None, "Next": "Second",
                  "ItemProcessor": dict(processor, StartAt="Quick", States={"Quick": {"Type": "Pass", "End": True}})},
        "Second": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
                   "ItemProcessor": dict(processor, StartAt="Work",
                                         States={"Work": {"Type": "Task", "Resource": act, "End": True}})}}})
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
    tokens = [sfn.get_activity_task(activityArn=act, workerName="w")["taskToken"]]
    runs = {}
    deadline = time.time() + 10
    while len(runs) < 2 and time.time() < deadline:
        runs = {r["stateMachineArn"].rsplit("/", 1)[1]: r["mapRunArn"] for r in sfn.list_map_runs(executionArn=ex)["mapRuns"]}
    first, second = runs["First"], runs["Second"]
    assert sfn.describe_map_run(mapRunArn=first)["status"] == "SUCCEEDED"
    assert sfn.describe_map_run(mapRunArn=second)["itemCounts"]["running"] == 1
    sfn.update_map_run(mapRunArn=first, maxConcurrency=3, toleratedFailureCount=5)
    f = sfn.describe_map_run(mapRunArn=first)
    assert f["status"] == "SUCCEEDED" and f["maxConcurrency"] == 2 and f["toleratedFailureCount"] == 0
    s = sfn.describe_map_run(mapRunArn=second)
    assert s["status"] == "RUNNING" and s["maxConcurrency"] == 1 and s["toleratedFailureCount"] == 0
    assert s["itemCounts"]["running"] == 1 and s["itemCounts"]["pending"] == 2
    for _ in range(2):  # one at a time, as MaxConcurrency 1 says
        sfn.send_task_success(taskToken=tokens.pop(), output="{}")
        tokens.append(sfn.get_activity_task(activityArn=act, workerName="w")["taskToken"])
    sfn.send_task_success(taskToken=tokens.pop(), output="{}")
    assert wait_done(sfn, ex)["status"] == "SUCCEEDED"
    assert sfn.describe_map_run(mapRunArn=second)["maxConcurrency"] == 1
