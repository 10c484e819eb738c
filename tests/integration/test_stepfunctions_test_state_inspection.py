"""TestState's inspection data through boto3 (AWS's current model, see
test_stepfunctions_versions): DEBUG and TRACE show each data-flow step (afterInputPath,
afterParameters, result, afterResultSelector, afterResultPath; afterArguments for JSONata) and
the variables after Assign; the `variables` input is visible to the state; INFO shows none of
it; revealSecrets is accepted."""
import hashlib
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from test_stepfunctions import ROLE
from test_stepfunctions_versions import data_path, sfn_client  # noqa: F401 - fixture


def run(sfn, state, payload, level="DEBUG", **kw):
    return sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input=json.dumps(payload),
                          inspectionLevel=level, **kw)


def steps(out):
    return {k: json.loads(v) for k, v in out["inspectionData"].items() if isinstance(v, str)}


def test_jsonpath_data_flow_step_by_step(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    state = {"Type": "Pass", "InputPath": "$.in", "Parameters": {"v.$": "$.v", "sum.$": "States.MathAdd($.v, $base)"},
             "ResultPath": "$.out", "Assign": {"last.$": "$.sum"}, "OutputPath": "$.out", "Next": "After"}
    for level in ("DEBUG", "TRACE"):
        out = run(sfn, state, {"in": {"v": 2}, "other": 0}, level=level,
                  variables=json.dumps({"base": 40}), revealSecrets=True)
        assert out["status"] == "SUCCEEDED" and out["nextState"] == "After"
        assert json.loads(out["output"]) == {"v": 2, "sum": 42}
        assert steps(out) == {
            "input": {"in": {"v": 2}, "other": 0},
            "afterInputPath": {"v": 2},
            "afterParameters": {"v": 2, "sum": 42},
            "result": {"v": 2, "sum": 42},
            "afterResultSelector": {"v": 2, "sum": 42},
            "afterResultPath": {"in": {"v": 2}, "other": 0, "out": {"v": 2, "sum": 42}},
            "variables": {"base": 40, "last": 42},
        }
    # INFO: the outcome only.
    out = run(sfn, state, {"in": {"v": 2}}, level="INFO", variables=json.dumps({"base": 1}))
    assert json.loads(out["output"]) == {"v": 2, "sum": 3} and "inspectionData" not in out


def test_task_result_selector(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    sqs = make_client(shared_stratus, "sqs")
    url = sqs.create_queue(QueueName=f"ts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
             "Parameters": {"QueueUrl": url, "MessageBody.$": "$.body"},
             "ResultSelector": {"md5.$": "$.MD5OfMessageBody"}, "ResultPath": "$.sent", "End": True}
    out = run(sfn, state, {"body": "hello"})
    assert out["status"] == "SUCCEEDED", out
    md5 = hashlib.md5(b"hello").hexdigest()
    data = steps(out)
    assert data["afterParameters"] == {"QueueUrl": url, "MessageBody": "hello"}
    assert data["result"]["MD5OfMessageBody"] == md5 and "MessageId" in data["result"]
    assert data["afterResultSelector"] == {"md5": md5}
    assert data["afterResultPath"] == {"body": "hello", "sent": {"md5": md5}}
    assert json.loads(out["output"]) == data["afterResultPath"]
    # The task really ran.
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "hello"


def test_jsonata_arguments_and_variables(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "Assign": {"doubled": "{% $states.input.n * $factor %}"},
             "Output": "{% {'n': $states.input.n, 'f': $factor} %}", "End": True}
    out = run(sfn, state, {"n": 21}, variables=json.dumps({"factor": 2}))
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"n": 21, "f": 2}
    data = steps(out)
    assert data["result"] == {"n": 21}
    assert data["variables"] == {"factor": 2, "doubled": 42}
    assert "afterInputPath" not in data and "afterResultPath" not in data
    # A Task with Arguments shows afterArguments (here the call fails and is caught).
    task = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "{% $fn %}", "Payload": "{% $states.input %}"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"failed": True}, "Next": "Handler"}], "End": True}
    out = run(sfn, task, {"x": 1},
              variables=json.dumps({"fn": "arn:aws:lambda:us-east-1:000000000000:function:missing"}))
    assert out["status"] == "CAUGHT_ERROR" and out["nextState"] == "Handler", out
    assert out["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    data = steps(out)
    assert data["afterArguments"] == {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:missing",
                                      "Payload": {"x": 1}}
    assert data["variables"]["failed"] is True


def test_bad_variables_refused(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    for bad in ("[1]", "not json"):
        with pytest.raises(ClientError) as e:
            run(sfn, {"Type": "Pass", "End": True}, {}, variables=bad)
        assert e.value.response["Error"]["Code"] == "ValidationException"
    # Inputs stratus does not implement fail loudly instead of being ignored.
    with pytest.raises(ClientError) as e:
        run(sfn, {"Type": "Pass", "End": True}, {}, stateName="X")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "stateName" in e.value.response["Error"]["Message"]
