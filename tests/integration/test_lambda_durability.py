"""Lambda state and queued async events across restarts and kill -9; idle instances reaped."""
import json
import os
import time

import pytest

from conftest import Stratus, create_function, make_client, make_zip

# Each run records its event id durably (a CloudWatch Logs write through the SDK inside the
# function, which returns only once stored), so a kill -9 of the server cannot lose a record
# of a completed run.
RECORDER = {"app.py": (
    "import boto3, os, time\n"
    "logs = boto3.client('logs', endpoint_url=os.environ['AWS_ENDPOINT_URL'])\n"
    "def handler(e, c):\n"
    "    logs.put_log_events(logGroupName='runs', logStreamName='runs',\n"
    "                        logEvents=[{'timestamp': int(time.time() * 1000), 'message': e['id']}])\n"
    "    return e['id']\n")}


def recorded_runs(logs):
    events = logs.filter_log_events(logGroupName="runs")["events"]
    return [e["message"] for e in events]


def wait_for(predicate, timeout, step=0.3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_functions_survive_restart(stratus):
    lam = make_client(stratus, "lambda")
    create_function(lam, "keeper", {"app.py": "def handler(e, c):\n    return 'still here'\n"})
    lam.publish_version(FunctionName="keeper")
    lam.create_alias(FunctionName="keeper", Name="live", FunctionVersion="1")
    stratus.restart()
    lam = make_client(stratus, "lambda")
    assert lam.get_function(FunctionName="keeper")["Configuration"]["State"] == "Active"
    r = lam.invoke(FunctionName="keeper:live")
    assert json.loads(r["Payload"].read()) == "still here" and r["ExecutedVersion"] == "1"


def test_queued_async_events_survive_kill_9_exactly_once(stratus):
    lam = make_client(stratus, "lambda")
    logs = make_client(stratus, "logs")
    logs.create_log_group(logGroupName="runs")
    logs.create_log_stream(logGroupName="runs", logStreamName="runs")
    create_function(lam, "recorder", RECORDER, Timeout=30)
    # No concurrency: accepted events stay queued (throttled, retried without counting).
    lam.put_function_concurrency(FunctionName="recorder", ReservedConcurrentExecutions=0)
    ids = [f"event-{i}" for i in range(8)]
    for i in ids:
        assert lam.invoke(FunctionName="recorder", InvocationType="Event",
                          Payload=json.dumps({"id": i}).encode())["StatusCode"] == 202
    time.sleep(0.5)
    assert recorded_runs(logs) == []
    stratus.kill()
    stratus.start()
    lam = make_client(stratus, "lambda")
    logs = make_client(stratus, "logs")
    lam.delete_function_concurrency(FunctionName="recorder")
    runs = wait_for(lambda: len(recorded_runs(logs)) >= len(ids) and recorded_runs(logs), 60)
    time.sleep(2)  # anything run twice would show up by now
    runs = recorded_runs(logs)
    assert sorted(runs) == sorted(ids), runs


def test_events_in_flight_at_kill_9_are_not_lost(stratus):
    lam = make_client(stratus, "lambda")
    logs = make_client(stratus, "logs")
    logs.create_log_group(logGroupName="runs")
    logs.create_log_stream(logGroupName="runs", logStreamName="runs")
    slow = dict(RECORDER)
    slow["app.py"] = slow["app.py"].replace("def handler(e, c):\n", "def handler(e, c):\n    time.sleep(1)\n")
    create_function(lam, "slow-recorder", slow, Timeout=3)
    lam.put_function_concurrency(FunctionName="slow-recorder", ReservedConcurrentExecutions=1)
    ids = [f"flight-{i}" for i in range(4)]
    for i in ids:
        lam.invoke(FunctionName="slow-recorder", InvocationType="Event", Payload=json.dumps({"id": i}).encode())
    time.sleep(1.5)  # one done or running, the rest queued
    stratus.kill()
    stratus.start()
    logs = make_client(stratus, "logs")
    # The one in flight is retried when its lease (timeout + margin) expires.
    runs = wait_for(lambda: set(recorded_runs(logs)) >= set(ids) and recorded_runs(logs), 60)
    assert set(runs) == set(ids), runs


def test_idle_instances_are_reaped(tmp_path):
    os.environ["STRATUS_LAMBDA_IDLE_SECONDS"] = "1"
    try:
        s = Stratus(str(tmp_path)).start()
    finally:
        del os.environ["STRATUS_LAMBDA_IDLE_SECONDS"]
    try:
        lam = make_client(s, "lambda")
        create_function(lam, "idle", {"app.py": "import os\ndef handler(e, c):\n    return os.getpid()\n"})
        first = json.loads(lam.invoke(FunctionName="idle")["Payload"].read())
        assert json.loads(lam.invoke(FunctionName="idle")["Payload"].read()) == first  # warm
        time.sleep(3)
        assert not os.path.exists(f"/proc/{first}") or open(f"/proc/{first}/stat").read().split()[2] == "Z"
        assert json.loads(lam.invoke(FunctionName="idle")["Payload"].read()) != first
    finally:
        assert s.stop() == 0
