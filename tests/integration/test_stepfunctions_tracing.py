"""Per-state trace segments: an execution traced (the machine's tracingConfiguration enabled, or a
trace header passed in) is recorded as a segment of its trace with one subsegment per state it
entered, and its task calls are children of their state's subsegment. Read back through
/_stratus/traces/<trace id> (the segments the server holds, as BatchGetTraces shapes a trace)."""
import json
import time
import urllib.error
import urllib.request
import uuid

from conftest import make_client
from test_stepfunctions import ROLE, sfn_client, wait_done


def trace_documents(server, trace_id):
    try:
        with urllib.request.urlopen(f"{server.url}/_stratus/traces/{trace_id}") as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError as e:
        assert e.code == 404
        return []
    assert body["Id"] == trace_id
    return [json.loads(s["Document"]) for s in body["Segments"]]


def settled_trace(server, trace_id, timeout=15):
    """The trace once the execution's segment is complete. The runner records that segment just
    after the final status becomes visible to DescribeExecution (X-Ray, too, shows segments after
    the fact), so a test reading the trace right after wait_done could see it still in progress."""
    deadline = time.time() + timeout
    while True:
        docs = trace_documents(server, trace_id)
        if [s for s in docs if s.get("origin") == "AWS::StepFunctions::StateMachine" and "in_progress" not in s]:
            return docs
        if time.time() > deadline:
            return docs
        time.sleep(0.02)


def root_of(header):
    parts = dict(p.split("=", 1) for p in header.split(";"))
    return parts["Root"], parts.get("Parent")


def create_machine(sfn, definition, type_="STANDARD", tracing=True):
    return sfn.create_state_machine(name=f"tr-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                    roleArn=ROLE, type=type_,
                                    tracingConfiguration={"enabled": tracing})["stateMachineArn"]


def with_trace_header(client, header):
    client.meta.events.register("before-sign.*.*",
                                lambda request, **kw: request.headers.__setitem__("X-Amzn-Trace-Id", header))


def test_standard_execution_states_are_subsegments_of_its_segment(shared_stratus):
    sfn = sfn_client(shared_stratus)
    sqs = make_client(shared_stratus, "sqs")
    url = sqs.create_queue(QueueName=f"tr-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = create_machine(sfn, {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Decide"},
        "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Send"}],
                   "Default": "Send"},
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": url, "MessageBody": "hi"}, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED", d
    root, exec_segment_id = root_of(d["traceHeader"])
    docs = settled_trace(shared_stratus, root)
    execs = [s for s in docs if s.get("origin") == "AWS::StepFunctions::StateMachine"]
    assert len(execs) == 1, docs
    seg = execs[0]
    assert seg["id"] == exec_segment_id and seg["trace_id"] == root
    assert seg["aws"]["execution_arn"] == ex and "in_progress" not in seg and seg["end_time"] >= seg["start_time"]
    assert not seg.get("error")
    states = {s["name"]: s for s in docs if s.get("type") == "subsegment" and s.get("parent_id") == seg["id"]}
    assert set(states) == {"Prepare", "Decide", "Send", "Done"}, docs
    for s in states.values():
        assert s["trace_id"] == root and not s.get("error")
        assert seg["start_time"] <= s["start_time"] <= s["end_time"] <= seg["end_time"] + 0.001
    assert states["Send"]["metadata"]["stepfunctions"]["state_type"] == "Task"
    # The SQS call the Task made is a child of the Task state's subsegment.
    calls = [s for s in docs if s.get("name") == "sqs" and s.get("aws", {}).get("operation") == "SendMessage"]
    assert calls and calls[0]["parent_id"] == states["Send"]["id"], docs
    # The execution's segment is a child of the StartExecution request's.
    api = [s for s in docs if s.get("aws", {}).get("operation") == "StartExecution"]
    assert api and seg["parent_id"] == api[0]["id"]


def test_express_execution_continues_the_callers_trace(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create_machine(sfn, {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}, type_="EXPRESS", tracing=False)
    root = "1-5759e988-" + uuid.uuid4().hex[:24]
    with_trace_header(sfn, f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
    out = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert out["status"] == "FAILED" and out["error"] == "Boom"
    docs = settled_trace(shared_stratus, root)
    execs = [s for s in docs if s.get("origin") == "AWS::StepFunctions::StateMachine"]
    assert len(execs) == 1, docs
    seg = execs[0]
    assert seg["aws"]["execution_arn"] == out["executionArn"] and seg["error"] is True
    assert seg["cause"]["exceptions"][0]["type"] == "Boom"
    states = {s["name"]: s for s in docs if s.get("parent_id") == seg["id"]}
    assert set(states) == {"A", "B"}
    assert not states["A"].get("error")
    assert states["B"]["error"] is True and states["B"]["cause"]["exceptions"][0]["type"] == "Boom"


def test_body_trace_header_is_continued(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create_machine(sfn, {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}, tracing=False)
    root = "1-5759e988-" + uuid.uuid4().hex[:24]
    ex = sfn.start_execution(stateMachineArn=arn, input="{}",
                             traceHeader=f"Root={root};Parent=1234567890abcdef;Sampled=1")["executionArn"]
    assert wait_done(sfn, ex)["status"] == "SUCCEEDED"
    docs = settled_trace(shared_stratus, root)
    seg = [s for s in docs if s.get("origin") == "AWS::StepFunctions::StateMachine"][0]
    assert seg["parent_id"] == "1234567890abcdef"
    assert [s["name"] for s in docs if s.get("parent_id") == seg["id"]] == ["Only"]


def test_untraced_machine_records_no_state_segments(shared_stratus):
    sfn = sfn_client(shared_stratus)
    arn = create_machine(sfn, {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}, tracing=False)
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED"
    root, _ = root_of(d["traceHeader"])
    docs = trace_documents(shared_stratus, root)
    assert docs, "the StartExecution request's own segment is held"
    assert not [s for s in docs if s.get("origin") == "AWS::StepFunctions::StateMachine" or s.get("name") == "Only"]
