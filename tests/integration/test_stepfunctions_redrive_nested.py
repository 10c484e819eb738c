"""RedriveExecution of nested Map and Parallel states through boto3 (AWS's current model, see
test_stepfunctions_versions): at every nesting depth only the iterations and branches that did
not succeed run again, each from the state where it stopped — counted by DynamoDB counters that
each inner Task adds to — across a SIGKILL between the failure and the redrive and another in
the middle of the redrive; a distributed Map inside a Parallel branch redrives its map run."""
import json
import time
import uuid

from conftest import Stratus, make_client
from test_stepfunctions import ROLE
from test_stepfunctions_redrive_partial import take_tasks, types
from test_stepfunctions_versions import data_path, sfn_client, wait_done  # noqa: F401 - fixture


def counter(table, key):
    """A Task that adds 1 to the DynamoDB counter `key` + the Map item (ResultPath null: the
    state's output is its input)."""
    return {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem", "ResultPath": None,
            "Parameters": {"TableName": table,
                           "Key": {"k": {"S.$": f"States.Format('{key}{{}}', $)"}},
                           "UpdateExpression": "ADD n :one",
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}}


def counts(ddb, table):
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["k"]["S"]: int(i["n"]["N"]) for i in items}


def wait_count(ddb, table, key, n, timeout=60):
    deadline = time.time() + timeout
    while counts(ddb, table).get(key) != n:
        assert time.time() < deadline, counts(ddb, table)
        time.sleep(0.02)


def take_one(sfn, activity, ex, scheduled):
    """The next activity task, polled once the execution's history holds `scheduled`
    ActivityScheduled events; on a timeout the assertion shows where the execution stands (the
    deadline is generous: a loaded machine has taken seconds per step)."""
    deadline = time.time() + 60
    while types(sfn, ex).count("ActivityScheduled") < scheduled:
        assert time.time() < deadline, types(sfn, ex)
        time.sleep(0.02)
    while time.time() < deadline:
        t = sfn.get_activity_task(activityArn=activity, workerName="w")
        if t.get("taskToken"):
            return t
    raise AssertionError(f"no activity task: {types(sfn, ex)}")


def nested_definition(table, activity):
    # Parallel → Map (one iteration at a time) → Parallel; the Gate activity of item 1 fails.
    outer = dict(counter(table, "outer-"), End=True)
    count_a = dict(counter(table, "a-"), End=True)
    count_b = dict(counter(table, "b-"), Next="Gate")
    return {"StartAt": "Outer", "States": {"Outer": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "CountOuter", "States": {"CountOuter": dict(outer, Parameters=dict(
            outer["Parameters"], Key={"k": {"S": "outer"}}))}},
        {"StartAt": "Items", "States": {"Items": {
            "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
            "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {
                "Type": "Parallel", "End": True, "Branches": [
                    {"StartAt": "CountA", "States": {"CountA": count_a}},
                    {"StartAt": "CountB", "States": {"CountB": count_b,
                                                     "Gate": {"Type": "Task", "Resource": activity, "End": True}}},
                ]}}}}}},
    ]}}}


def test_nested_redrive_reruns_only_the_failed_inner_branch_across_sigkill(data_path, tmp_path):  # noqa: F811
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        ddb = make_client(server, "dynamodb")
        table = f"runs-{uuid.uuid4().hex[:8]}"
        ddb.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
        activity = sfn.create_activity(name=f"gate-{uuid.uuid4().hex[:8]}")["activityArn"]
        arn = sfn.create_state_machine(name=f"nested-{uuid.uuid4().hex[:8]}", roleArn=ROLE,
                                       definition=json.dumps(nested_definition(table, activity)))["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [0, 1]}))["executionArn"]
        gate0 = take_one(sfn, activity, ex, 1)
        assert json.loads(gate0["input"]) == 0
        sfn.send_task_success(taskToken=gate0["taskToken"], output=json.dumps("g0"))
        gate1 = take_one(sfn, activity, ex, 2)
        assert json.loads(gate1["input"]) == 1
        wait_count(ddb, table, "a-1", 1)  # item 1's other inner branch has succeeded
        sfn.send_task_failure(taskToken=gate1["taskToken"], error="Flaky", cause="item 1")
        assert wait_done(sfn, ex)["status"] == "FAILED"
        first_attempt = counts(ddb, table)
        assert first_attempt == {"outer": 1, "a-0": 1, "b-0": 1, "a-1": 1, "b-1": 1}
        events_before = len(types(sfn, ex))
    finally:
        server.kill()

    # SIGKILL between the failure and the redrive.
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        d = sfn.describe_execution(executionArn=ex)
        assert d["status"] == "FAILED" and d["redriveStatus"] == "REDRIVABLE", d
        sfn.redrive_execution(executionArn=ex)
        # The redrive reached item 1's Gate again (its activity task is scheduled) ...
        deadline = time.time() + 60
        while "ActivityScheduled" not in types(sfn, ex)[events_before:]:
            assert time.time() < deadline
            time.sleep(0.02)
    finally:
        server.kill()  # ... and SIGKILL in the middle of the redrive.

    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        ddb = make_client(server, "dynamodb")
        gate1 = take_one(sfn, activity, ex, 3)
        assert json.loads(gate1["input"]) == 1
        sfn.send_task_success(taskToken=gate1["taskToken"], output=json.dumps("g1"))
        d = wait_done(sfn, ex)
        assert d["status"] == "SUCCEEDED", d
        assert json.loads(d["output"]) == [{"items": [0, 1]}, [[0, "g0"], [1, "g1"]]]
        assert d["redriveCount"] == 1
        # No inner Task that had succeeded ran again.
        assert counts(ddb, table) == first_attempt
        events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
        redriven = [e["type"] for e in events][events_before:]
        assert redriven[0] == "ExecutionRedriven", redriven
        assert redriven.count("TaskStateEntered") == 1  # the Gate only
        entered = [e["stateEnteredEventDetails"]["name"] for e in events[events_before:]
                   if e["type"] == "TaskStateEntered"]
        assert entered == ["Gate"]
        iterations = [e["mapIterationStartedEventDetails"]["index"] for e in events[events_before:]
                      if e["type"] == "MapIterationStarted"]
        assert iterations == [1]
        assert redriven[-1] == "ExecutionSucceeded"
        assert [e["type"] for e in events].count("ExecutionRedriven") == 1
    finally:
        assert server.stop() == 0


def test_distributed_map_in_a_branch_redrives_its_map_run(data_path, tmp_path):  # noqa: F811
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        activity = sfn.create_activity(name=f"dm-{uuid.uuid4().hex[:8]}")["activityArn"]
        definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "quick", "End": True}}},
            {"StartAt": "Fan", "States": {"Fan": {
                "Type": "Map", "End": True,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                  "StartAt": "Work",
                                  "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}}}}}]}}}
        arn = sfn.create_state_machine(name=f"dm-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps([0, 1]))["executionArn"]
        tasks = {json.loads(t["input"]): t for t in take_tasks(sfn, activity, 2)}
        sfn.send_task_success(taskToken=tasks[0]["taskToken"], output=json.dumps("r0"))
        time.sleep(0.3)
        sfn.send_task_failure(taskToken=tasks[1]["taskToken"], error="Flaky", cause="item 1")
        assert wait_done(sfn, ex)["status"] == "FAILED"
        [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
        assert sfn.describe_map_run(mapRunArn=run["mapRunArn"])["status"] == "FAILED"
    finally:
        server.kill()

    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        sfn.redrive_execution(executionArn=ex)
        [task] = take_tasks(sfn, activity, 1)
        assert json.loads(task["input"]) == 1  # only the failed child execution
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps("r1"))
        d = wait_done(sfn, ex)
        assert d["status"] == "SUCCEEDED", d
        assert json.loads(d["output"]) == ["quick", ["r0", "r1"]]
        [again] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
        assert again["mapRunArn"] == run["mapRunArn"]  # redriven, not a new map run
        after = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
        assert after["status"] == "SUCCEEDED" and after["redriveCount"] == 1, after
        assert after["itemCounts"]["succeeded"] == 2
        t = types(sfn, ex)
        assert t.count("MapStateEntered") == 1 and t.count("MapRunStarted") == 1
        assert t.count("MapRunRedriven") == 1 and t.count("PassStateEntered") == 1
        children = {c["executionArn"]: c for c in sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]}
        assert len(children) == 2 and all(c["status"] == "SUCCEEDED" for c in children.values())
        redriven = [sfn.describe_execution(executionArn=a)["redriveCount"] for a in sorted(children)]
        assert sorted(redriven) == [0, 1]
    finally:
        assert server.stop() == 0
