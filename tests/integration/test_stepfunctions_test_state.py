"""TestState through boto3 (with AWS's current model, see test_stepfunctions_versions): one
state run on its own — output and nextState, Choice, Fail, RETRIABLE and CAUGHT_ERROR outcomes,
inspection data, and refused states. (The model puts TestState on the "sync-" host prefix, which
the aws CLI cannot be told to drop for an IP endpoint; boto3 runs with inject_host_prefix off.)"""
import json

import pytest
from botocore.exceptions import ClientError

from test_stepfunctions import ROLE
from test_stepfunctions_versions import data_path, sfn_client  # noqa: F401 - fixture


def run(sfn, state, payload, level="INFO"):
    return sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input=json.dumps(payload),
                          inspectionLevel=level)


def test_pass_choice_and_fail(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    out = run(sfn, {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, 1)"}, "ResultPath": "$.r",
                    "Next": "After"}, {"a": 41})
    assert out["status"] == "SUCCEEDED" and out["nextState"] == "After"
    assert json.loads(out["output"]) == {"a": 41, "r": {"sum": 42}}
    out = run(sfn, {"Type": "Pass", "End": True}, {"x": 1}, level="DEBUG")
    assert out["status"] == "SUCCEEDED" and "nextState" not in out and json.loads(out["output"]) == {"x": 1}
    assert json.loads(out["inspectionData"]["input"]) == {"x": 1}
    choice = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
              "Default": "Small"}
    assert run(sfn, choice, {"n": 9})["nextState"] == "Big"
    assert run(sfn, choice, {"n": 1})["nextState"] == "Small"
    out = run(sfn, {"Type": "Fail", "Error": "Boom", "Cause": "because"}, {})
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "Boom", "because")
    out = run(sfn, {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $states.input.a * 2 %}", "End": True},
              {"a": 21})
    assert json.loads(out["output"]) == 42


def test_retriable_and_caught(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    failing = {"Type": "Pass", "InputPath": "$.missing", "End": True}
    out = run(sfn, dict(failing, Retry=[{"ErrorEquals": ["States.Runtime"], "IntervalSeconds": 7}]), {})
    assert out["status"] == "RETRIABLE" and out["error"] == "States.Runtime"
    assert out["inspectionData"]["errorDetails"] == {"retryBackoffIntervalSeconds": 7, "retryIndex": 0}
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:does-not-exist"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handler"}], "End": True}
    out = run(sfn, task, {"keep": 1})
    assert out["status"] == "CAUGHT_ERROR" and out["nextState"] == "Handler", out
    caught = json.loads(out["output"])
    assert caught["keep"] == 1 and caught["err"]["Error"] == out["error"]
    out = run(sfn, dict(failing, Catch=[{"ErrorEquals": ["Other"], "Next": "X"}]), {})
    assert out["status"] == "FAILED" and out["error"] == "States.Runtime"


def test_refusals(shared_stratus, data_path):  # noqa: F811
    sfn = sfn_client(shared_stratus, data_path)
    for state in ({"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                   "End": True},
                  {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True}):
        with pytest.raises(ClientError) as e:
            run(sfn, state, {})
        assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        run(sfn, {"Type": "Pass", "Next": 3}, {})
    assert e.value.response["Error"]["Code"] == "InvalidDefinition"
