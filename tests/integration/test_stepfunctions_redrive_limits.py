"""RedriveExecution's limits through boto3: a clientToken that redrove an execution answers the
same redriveDate again without a second redrive (also after a restart), and a map run whose
ResultWriter fails ends FAILED."""
import json
import sqlite3
import time
import uuid

from conftest import Stratus
from test_stepfunctions import ROLE, create
from test_stepfunctions import sfn_client as plain_sfn_client
from test_stepfunctions_redrive import take_task
from test_stepfunctions_versions import data_path, sfn_client, wait_done  # noqa: F401 - fixture


def redrives(sfn, ex):
    events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
    return [e["type"] for e in events].count("ExecutionRedriven")


def test_redrive_client_token_is_idempotent_across_restart(data_path, tmp_path):  # noqa: F811
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        activity = sfn.create_activity(name=f"tok-{uuid.uuid4().hex[:8]}")["activityArn"]
        definition = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}}
        arn = sfn.create_state_machine(name="tok", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        sfn.send_task_failure(taskToken=take_task(sfn, activity)["taskToken"], error="Flaky", cause="1")
        assert wait_done(sfn, ex)["status"] == "FAILED"

        first = sfn.redrive_execution(executionArn=ex, clientToken="token-one")["redriveDate"]
        time.sleep(1.1)
        # The repeat while the redrive runs answers the same date and redrives nothing.
        again = sfn.redrive_execution(executionArn=ex, clientToken="token-one")["redriveDate"]
        assert again == first
        d = sfn.describe_execution(executionArn=ex)
        assert d["status"] == "RUNNING" and d["redriveCount"] == 1
        sfn.send_task_failure(taskToken=take_task(sfn, activity)["taskToken"], error="Flaky", cause="2")
        assert wait_done(sfn, ex)["status"] == "FAILED"
    finally:
        assert server.stop() == 0

    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        # The token is kept with the execution: after the restart it still answers, and the
        # FAILED execution is not redriven by it.
        assert sfn.redrive_execution(executionArn=ex, clientToken="token-one")["redriveDate"] == first
        d = sfn.describe_execution(executionArn=ex)
        assert d["status"] == "FAILED" and d["redriveCount"] == 1
        assert redrives(sfn, ex) == 1
        # A new token redrives.
        second = sfn.redrive_execution(executionArn=ex, clientToken="token-two")["redriveDate"]
        assert second > first
        d = sfn.describe_execution(executionArn=ex)
        assert d["status"] == "RUNNING" and d["redriveCount"] == 2
        assert redrives(sfn, ex) == 2
    finally:
        server.stop()


def test_map_run_fails_when_its_result_writer_fails(shared_stratus):
    sfn = plain_sfn_client(shared_stratus)
    definition = {"StartAt": "Map", "States": {"Map": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "E", "States": {"E": {"Type": "Pass", "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": f"missing-{uuid.uuid4().hex[:8]}", "Prefix": "out"}}}}}
    arn = create(sfn, definition)
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps([1, 2, 3]))["executionArn"]
    d = wait_done(sfn, ex)
    assert d["status"] == "FAILED" and d["error"] == "States.ResultWriterFailed", d
    [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
    desc = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert desc["status"] == "FAILED", desc
    assert "stopDate" in desc
    assert desc["itemCounts"]["succeeded"] == 3 and desc["itemCounts"]["resultsWritten"] == 0
    types = [e["type"] for e in sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]]
    assert "MapRunFailed" in types and "MapRunSucceeded" not in types


def test_map_run_redrives_stop_at_aws_limit(data_path, tmp_path):  # noqa: F811
    definition = {"StartAt": "Map", "States": {"Map": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "item"}}}}}}
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        arn = sfn.create_state_machine(name="limit", roleArn=ROLE, definition=json.dumps(definition))["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn, input="[1]")["executionArn"]
        assert wait_done(sfn, ex)["status"] == "FAILED"
        sfn.redrive_execution(executionArn=ex)
        d = wait_done(sfn, ex)
        assert d["status"] == "FAILED" and d["error"] == "Boom", d
        [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
        assert sfn.describe_map_run(mapRunArn=run["mapRunArn"])["redriveCount"] == 1
    finally:
        assert server.stop() == 0
    # The map run as if redriven 1000 times (its count in the execution's redrive point).
    db = sqlite3.connect(str(tmp_path / "stratus.db"))
    rows = db.execute("SELECT key, value FROM kv WHERE CAST(key AS TEXT) LIKE 'stepfunctions/%'").fetchall()
    points = [(k, json.loads(v)) for k, v in rows if b'"map_run_redrives"' in bytes(v)]
    points = [(k, rec) for k, rec in points if isinstance(rec.get("redrive"), dict)]
    assert len(points) == 1, points
    key, rec = points[0]
    assert rec["redrive"]["map_run_redrives"] == 1
    rec["redrive"]["map_run_redrives"] = 1000
    db.execute("UPDATE kv SET value = ? WHERE key = ?", (json.dumps(rec).encode(), key))
    db.commit()
    db.close()
    server = Stratus(str(tmp_path)).start()
    try:
        sfn = sfn_client(server, data_path)
        sfn.redrive_execution(executionArn=ex)
        d = wait_done(sfn, ex)
        assert d["status"] == "FAILED" and d["error"] == "States.Runtime", d
        assert d["cause"].endswith("The Map Run has exceeded the limit of 1000 redrives."), d
        types = [e["type"] for e in sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]]
        assert types.count("MapRunRedriven") == 1 and types.count("ExecutionRedriven") == 2
        # The next redrive meets the limit again.
        sfn.redrive_execution(executionArn=ex)
        d = wait_done(sfn, ex)
        assert d["status"] == "FAILED" and d["error"] == "States.Runtime", d
    finally:
        server.stop()
