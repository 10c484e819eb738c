"""Activity tasks through boto3: once GetActivityTask handed a task to a worker it is that
worker's until it reports (or times out) — a restart, even kill -9, does not hand it out again —
and a task whose execution stopped before any worker took it is never handed out."""
import json
import tempfile
import uuid

from conftest import Stratus
from test_stepfunctions import create, sfn_client, wait_done


def activity_machine(sfn, act):
    return create(sfn, {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": act, "TimeoutSeconds": 120, "End": True}}})


def take(sfn, act, worker):
    t = sfn.get_activity_task(activityArn=act, workerName=worker)
    assert t.get("taskToken"), "no task within the long poll"
    return t


def test_handed_out_task_is_not_handed_out_again_after_sigkill():
    with tempfile.TemporaryDirectory(prefix="stratus-sfn-act-") as data_dir:
        server = Stratus(data_dir).start()
        sfn = sfn_client(server)
        act = sfn.create_activity(name="durable-handout")["activityArn"]
        arn = activity_machine(sfn, act)
        first = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": 1}))["executionArn"]
        task_a = take(sfn, act, "worker-a")
        assert json.loads(task_a["input"]) == {"n": 1}
        server.kill()
        server.start()
        sfn = sfn_client(server)
        # The next worker gets the next execution's task, not the one worker-a holds.
        second = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": 2}))["executionArn"]
        task_b = take(sfn, act, "worker-b")
        assert json.loads(task_b["input"]) == {"n": 2}
        assert task_b["taskToken"] != task_a["taskToken"]
        # worker-a's token still completes the first execution.
        sfn.send_task_success(taskToken=task_a["taskToken"], output=json.dumps({"by": "a"}))
        sfn.send_task_success(taskToken=task_b["taskToken"], output=json.dumps({"by": "b"}))
        d1, d2 = wait_done(sfn, first), wait_done(sfn, second)
        assert d1["status"] == "SUCCEEDED" and json.loads(d1["output"]) == {"by": "a"}, d1
        assert d2["status"] == "SUCCEEDED" and json.loads(d2["output"]) == {"by": "b"}, d2
        events = sfn.get_execution_history(executionArn=first)["events"]
        started = [e for e in events if e["type"] == "ActivityStarted"]
        assert len(started) == 1 and started[0]["activityStartedEventDetails"]["workerName"] == "worker-a"
        assert [e["type"] for e in events].count("ActivityScheduled") == 1
        assert server.stop() == 0


def test_task_of_a_stopped_execution_is_not_handed_out(shared_stratus):
    sfn = sfn_client(shared_stratus)
    act = sfn.create_activity(name=f"stale-{uuid.uuid4().hex[:8]}")["activityArn"]
    arn = activity_machine(sfn, act)
    stopped = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": "stopped"}))["executionArn"]
    sfn.stop_execution(executionArn=stopped, error="Stop")
    assert wait_done(sfn, stopped)["status"] == "ABORTED"
    live = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": "live"}))["executionArn"]
    task = take(sfn, act, "w")
    assert json.loads(task["input"]) == {"n": "live"}
    sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert wait_done(sfn, live)["status"] == "SUCCEEDED"
