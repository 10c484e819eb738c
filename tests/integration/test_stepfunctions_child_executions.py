"""Distributed Map iterations as child executions through boto3: GetExecutionHistory of a child
returns that child's own events (numbered from 1, ExecutionStarted to ExecutionSucceeded) while
the parent's history holds the map run, and StopExecution of a running child aborts it
(ExecutionAborted in its history, ABORTED in DescribeExecution, counted by the map run)."""
import json
import time
import uuid

from test_stepfunctions import ROLE, sfn_client, wait_done


def test_child_history_and_stop(shared_stratus):
    sfn = sfn_client(shared_stratus)
    activity = sfn.create_activity(name=f"ce-{uuid.uuid4().hex[:8]}")["activityArn"]
    definition = {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "End": True, "ToleratedFailureCount": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Work", "States": {
                              "Work": {"Type": "Task", "Resource": activity, "Next": "Done"},
                              "Done": {"Type": "Pass", "End": True}}}}}}
    arn = sfn.create_state_machine(name=f"ce-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(["a", "b"]))["executionArn"]
    tasks = {}
    deadline = time.time() + 30
    while len(tasks) < 2 and time.time() < deadline:
        t = sfn.get_activity_task(activityArn=activity, workerName="w")
        if t.get("taskToken"):
            tasks[json.loads(t["input"])] = t
    assert len(tasks) == 2
    [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    children = {c["executionArn"][-1]: c["executionArn"]
                for c in sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]}
    assert sorted(children) == ["0", "1"]

    # A running child: its history so far, and StopExecution aborts it.
    running = sfn.get_execution_history(executionArn=children["1"])["events"]
    assert [e["type"] for e in running[:2]] == ["ExecutionStarted", "TaskStateEntered"]
    assert json.loads(running[0]["executionStartedEventDetails"]["input"]) == "b"
    stopped = sfn.stop_execution(executionArn=children["1"], error="Halt", cause="by test")
    assert "stopDate" in stopped
    d = sfn.describe_execution(executionArn=children["1"])
    assert d["status"] == "ABORTED" and "stopDate" in d, d
    last = sfn.get_execution_history(executionArn=children["1"], reverseOrder=True, maxResults=1)["events"][0]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {"error": "Halt", "cause": "by test"}

    # The other child completes; the stopped one is a tolerated failure.
    sfn.send_task_success(taskToken=tasks["a"]["taskToken"], output=json.dumps("A"))
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == ["A", {"Error": "Halt", "Cause": "by test"}]
    events = sfn.get_execution_history(executionArn=children["0"], maxResults=1000)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled",
                                           "ActivityStarted", "ActivitySucceeded", "TaskStateExited",
                                           "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == "A"
    # The parent's history holds the map run, not the iterations' states.
    parent = [e["type"] for e in sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]]
    assert "MapRunStarted" in parent and "TaskStateEntered" not in parent
    counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])["executionCounts"]
    assert counts["succeeded"] == 1 and counts["failed"] + counts["aborted"] == 1
    # A child that no longer runs: StopExecution has nothing to do.
    assert "stopDate" in sfn.stop_execution(executionArn=children["0"])
    assert sfn.describe_execution(executionArn=children["0"])["status"] == "SUCCEEDED"
