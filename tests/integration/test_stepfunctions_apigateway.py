"""The apigateway:invoke integration through boto3: a Task state calls a REST API deployed on
stratus's own API Gateway (MOCK integration) and gets AWS's result shape; an error status fails
the task with ApiGateway.<status>."""
import json
import uuid

from conftest import make_client
from test_stepfunctions import create, sfn_client, wait_done


def mock_api(ag, response):
    rid = ag.create_rest_api(name=f"sfn-{uuid.uuid4().hex[:6]}")["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="items")
    ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    ag.put_method_response(restApiId=rid, resourceId=res["id"], httpMethod="GET", statusCode="200")
    ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="GET", statusCode="200",
                                responseTemplates={"application/json": response})
    ag.create_deployment(restApiId=rid, stageName="dev")
    return rid


def test_apigateway_invoke(shared_stratus):
    sfn = sfn_client(shared_stratus)
    ag = make_client(shared_stratus, "apigateway")
    rid = mock_api(ag, '{"hello": "world"}')
    endpoint = f"{rid}.execute-api.us-east-1.amazonaws.com"
    arn = create(sfn, {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke",
        "Parameters": {"ApiEndpoint": endpoint, "Method": "GET", "Stage": "dev", "Path": "items",
                       "QueryParameters": {"who.$": "States.Array($.who)"},
                       "Headers": {"X-Test": ["1"]}},
        "ResultSelector": {"status.$": "$.StatusCode", "text.$": "$.StatusText", "body.$": "$.ResponseBody",
                           "hasHeaders.$": "States.ArrayLength($.Headers.Content-Type)"},
        "End": True}}})
    d = wait_done(sfn, sfn.start_execution(stateMachineArn=arn, input=json.dumps({"who": "world"}))["executionArn"])
    assert d["status"] == "SUCCEEDED", (d.get("error"), d.get("cause"))
    assert json.loads(d["output"]) == {"status": 200, "text": "OK", "body": {"hello": "world"}, "hasHeaders": 1}

    missing = create(sfn, {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke",
        "Parameters": {"ApiEndpoint": endpoint, "Method": "GET", "Stage": "dev", "Path": "nothing-here"},
        "End": True}}})
    d = wait_done(sfn, sfn.start_execution(stateMachineArn=missing)["executionArn"])
    assert d["status"] == "FAILED" and d["error"] in ("ApiGateway.403", "ApiGateway.404"), d
