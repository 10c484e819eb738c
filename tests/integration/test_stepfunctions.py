"""Step Functions through boto3 and the aws CLI: state machines, executions, history, task
tokens, activities, express executions, bad input, and durability across SIGKILL."""
import json
import tempfile
import threading
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Stratus, aws_cli, make_client

ROLE = "arn:aws:iam::000000000000:role/sfn"


def sfn_client(server):
    return boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, read_timeout=120,
                                      inject_host_prefix=False))


def create(sfn, definition, type_="STANDARD", name=None):
    return sfn.create_state_machine(name=name or f"sm-{uuid.uuid4().hex[:10]}",
                                    definition=json.dumps(definition), roleArn=ROLE,
                                    type=type_)["stateMachineArn"]


def wait_done(sfn, arn, timeout=30):
    deadline = time.time() + timeout
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING" or time.time() > deadline:
            return d
        time.sleep(0.02)


PASS_CHAIN = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
    "B": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a.x, 41)"}, "End": True}}}


def test_state_machine_lifecycle(shared_stratus):
    sfn = sfn_client(shared_stratus)
    name = f"life-{uuid.uuid4().hex[:8]}"
    arn = create(sfn, PASS_CHAIN, name=name)
    assert arn == f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
    # Creating the same machine again is idempotent; a different definition is refused.
    assert create(sfn, PASS_CHAIN, name=name) == arn
    with pytest.raises(ClientError) as e:
        create(sfn, {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}, name=name)
    assert e.value.response["Error"]["Code"] == "StateMachineAlreadyExists"
    d = sfn.describe_state_machine(stateMachineArn=arn)
    assert d["name"] == name and d["type"] == "STANDARD" and json.loads(d["definition"]) == PASS_CHAIN
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert name in names
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}))
    assert "Succeed" in sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "core"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "core"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as e:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert e.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


def test_invalid_definitions(shared_stratus):
    sfn = sfn_client(shared_stratus)
    with pytest.raises(ClientError) as e:
        create(sfn, {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidDefinition"
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next" in err["Message"]
    with pytest.raises(ClientError) as e:
        sfn.create_state_machine(name="bad-json", definition="{not json", roleArn=ROLE)
    assert e.value.response["Error"]["Code"] == "InvalidDefinition"
    if hasattr(sfn, "validate_state_machine_definition"):  # Debian's botocore predates it
        v = sfn.validate_state_machine_definition(definition=json.dumps({"StartAt": "A", "States": {}}))
        assert v["result"] == "FAIL" and v["diagnostics"][0]["severity"] == "ERROR"
        assert sfn.validate_state_machine_definition(definition=json.dumps(PASS_CHAIN))["result"] == "OK"
    # A definition nested far too deeply is refused, not crashed on.
    deep = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    for _ in range(60):
        deep = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [deep], "End": True}}}
    with pytest.raises(ClientError) as e:
        create(sfn, deep)
    assert "TOO_DEEPLY_NESTED" in e.value.response["Error"]["Message"]


def test_execution_history_and_listing(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create(sfn, PASS_CHAIN)
    ex = sfn.start_execution(stateMachineArn=arn, name="first", input=json.dumps({"in": 1}))
    d = wait_done(sfn, ex["executionArn"])
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"sum": 42}
    h = sfn.get_execution_history(executionArn=ex["executionArn"])["events"]
    assert [e["type"] for e in h] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                       "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in h] == [1, 2, 3, 4, 5, 6]
    assert [e["previousEventId"] for e in h] == [0, 1, 2, 3, 4, 5]
    assert h[1]["stateEnteredEventDetails"]["name"] == "A"
    rev = sfn.get_execution_history(executionArn=ex["executionArn"], reverseOrder=True, maxResults=2)
    assert [e["id"] for e in rev["events"]] == [6, 5] and "nextToken" in rev
    # Idempotent by name with the same input; a different input conflicts.
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=arn, name="first", input=json.dumps({"in": 2}))
    assert e.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    listed = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    assert [x["name"] for x in listed] == ["first"]
    desc = sfn.describe_state_machine_for_execution(executionArn=ex["executionArn"])
    assert json.loads(desc["definition"]) == PASS_CHAIN
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=arn, input="{oops")
    assert e.value.response["Error"]["Code"] == "InvalidExecutionInput"
    with pytest.raises(ClientError) as e:
        sfn.describe_execution(executionArn=arn.replace("stateMachine", "execution") + ":nope")
    assert e.value.response["Error"]["Code"] == "ExecutionDoesNotExist"


def test_wait_and_stop(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    ex = sfn.start_execution(stateMachineArn=arn)
    time.sleep(0.2)
    assert sfn.describe_execution(executionArn=ex["executionArn"])["status"] == "RUNNING"
    sfn.stop_execution(executionArn=ex["executionArn"], error="Stopped", cause="by test")
    d = wait_done(sfn, ex["executionArn"])
    assert d["status"] == "ABORTED"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=ex["executionArn"])["events"]]
    assert types[-1] == "ExecutionAborted"


def test_task_token_round_trip(shared_stratus):
    sfn = sfn_client(shared_stratus)
    act = sfn.create_activity(name=f"act-{uuid.uuid4().hex[:8]}")["activityArn"]
    arn = create(sfn, {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": act, "End": True}}})
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"job": 7}))
    task = sfn.get_activity_task(activityArn=act, workerName="w1")
    assert json.loads(task["input"]) == {"job": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"done": True}))
    d = wait_done(sfn, ex["executionArn"])
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"done": True}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=ex["executionArn"])["events"]]
    assert types == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
                     "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken="garbage", output="{}")
    assert e.value.response["Error"]["Code"] == "InvalidToken"
    # An empty poll answers after its long-poll window without a token... keep it short here by
    # racing a task in from another thread.
    ex2 = {}
    t = threading.Thread(target=lambda: ex2.update(sfn.start_execution(stateMachineArn=arn, input="{}")))
    threading.Timer(0.3, t.start).start()
    task = sfn.get_activity_task(activityArn=act)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Nope", cause="worker said no")
    t.join()
    d = wait_done(sfn, ex2["executionArn"])
    assert d["status"] == "FAILED" and d["error"] == "Nope" and d["cause"] == "worker said no"


def test_express_sync_execution(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create(sfn, PASS_CHAIN, type_="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps({"z": 0}))
    assert r["status"] == "SUCCEEDED" and json.loads(r["output"]) == {"sum": 42}
    assert ":express:" in r["executionArn"]
    failing = create(sfn, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}, type_="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=failing)
    assert r["status"] == "FAILED" and r["error"] == "E" and r["cause"] == "C"
    std = create(sfn, PASS_CHAIN)
    with pytest.raises(ClientError) as e:
        sfn.start_sync_execution(stateMachineArn=std)
    assert e.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_large_input_refused(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create(sfn, PASS_CHAIN)
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"x": "a" * 300_000}))
    assert e.value.response["Error"]["Code"] in ("InvalidExecutionInput", "ValidationException")


def test_aws_cli(shared_stratus):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    _, out, _ = aws_cli(shared_stratus, "stepfunctions", "create-state-machine", "--name", name,
                        "--definition", json.dumps(PASS_CHAIN), "--role-arn", ROLE)
    arn = json.loads(out)["stateMachineArn"]
    _, out, _ = aws_cli(shared_stratus, "stepfunctions", "start-execution", "--state-machine-arn", arn,
                        "--input", "{}")
    ex = json.loads(out)["executionArn"]
    for _ in range(200):
        _, out, _ = aws_cli(shared_stratus, "stepfunctions", "describe-execution", "--execution-arn", ex)
        if json.loads(out)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert json.loads(json.loads(out)["output"]) == {"sum": 42}
    _, out, _ = aws_cli(shared_stratus, "stepfunctions", "get-execution-history", "--execution-arn", ex)
    assert json.loads(out)["events"][-1]["type"] == "ExecutionSucceeded"


def test_running_executions_survive_sigkill():
    """Executions waiting on timers and task tokens resume after kill -9, with no step repeated."""
    with tempfile.TemporaryDirectory(prefix="stratus-sfn-") as data_dir:
        server = Stratus(data_dir).start()
        sfn = sfn_client(server)
        waiting = create(sfn, {"StartAt": "Count", "States": {
            "Count": {"Type": "Pass", "Result": 1, "ResultPath": "$.before", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 2, "Next": "After"},
            "After": {"Type": "Pass", "Result": 2, "ResultPath": "$.after", "End": True}}})
        act = sfn.create_activity(name="durable")["activityArn"]
        tokened = create(sfn, {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": act, "End": True}}})
        chain = {"StartAt": "S0", "States": {}}
        for i in range(300):
            chain["States"][f"S{i}"] = {"Type": "Pass", "Next": f"S{i + 1}"} if i < 299 else {"Type": "Pass", "End": True}
        long_chain = create(sfn, chain)
        w = [sfn.start_execution(stateMachineArn=waiting, input="{}")["executionArn"] for _ in range(5)]
        t = sfn.start_execution(stateMachineArn=tokened, input=json.dumps({"n": 1}))["executionArn"]
        c = [sfn.start_execution(stateMachineArn=long_chain, input="{}")["executionArn"] for _ in range(3)]
        time.sleep(0.3)
        server.kill()
        server.start()
        sfn = sfn_client(server)
        for arn in w:
            d = wait_done(sfn, arn)
            assert d["status"] == "SUCCEEDED", d
            assert json.loads(d["output"]) == {"before": 1, "after": 2}
            types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
            assert types.count("WaitStateEntered") == 1 and types.count("WaitStateExited") == 1
            ids = [e["id"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
            assert ids == list(range(1, len(ids) + 1))
        for arn in c:
            d = wait_done(sfn, arn)
            assert d["status"] == "SUCCEEDED"
            events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            assert len(events) == 2 + 300 * 2
        task = sfn.get_activity_task(activityArn=act, workerName="after-crash")
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"ok": 1}))
        d = wait_done(sfn, t)
        assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"ok": 1}
        assert server.stop() == 0
