"""Issue 4's "done when" with the clients it names: a SAM-style API (OpenAPI with
x-amazon-apigateway-* extensions, imported through boto3) and a CDK-style API (built resource by
resource through boto3) serve curl and Python `requests` with AWS's payloads and errors, API keys
and throttling included."""
import json
import subprocess

import pytest
import requests

from conftest import make_client
from test_apigateway_support import create_python_function, lambda_available, lambda_uri

ECHO = """import json
def handler(event, context):
    return {"statusCode": 201, "headers": {"X-Fn": "sam"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps(event)}
"""


@pytest.fixture(scope="module")
def ag(shared_stratus):
    return make_client(shared_stratus, "apigateway")


def url(server, api_id, stage, path):
    # The LocalStack-style path form, as `requests` and curl users type it.
    return f"http://127.0.0.1:{server.port}/restapis/{api_id}/{stage}/_user_request_{path}"


def curl(*args):
    """curl -s -i; returns (status, {lower-name: value}, body)."""
    out = subprocess.run(["curl", "-s", "-i", *args], capture_output=True, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def test_sam_style_openapi_api(shared_stratus, ag):
    lam = make_client(shared_stratus, "lambda")
    if not lambda_available(lam):
        pytest.skip("the Lambda service is not available in this build")
    fn = create_python_function(lam, "sam-clients-echo", ECHO)
    doc = {
        "openapi": "3.0.1", "info": {"title": "sam-app", "version": "1.0"},
        "paths": {
            "/hello/{name}": {"get": {
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy", "httpMethod": "POST", "uri": lambda_uri(fn)}}},
            "/secret": {"get": {
                "security": [{"api_key": []}],
                "x-amazon-apigateway-integration": {
                    "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {"default": {"statusCode": "200",
                                              "responseTemplates": {"application/json": '{"ok": true}'}}}}}}},
        "components": {"securitySchemes": {
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}},
    }
    rid = ag.import_rest_api(body=json.dumps(doc).encode())["id"]
    ag.create_deployment(restApiId=rid, stageName="Prod")

    # Lambda proxy through requests: AWS's v1 event, the function's status/headers/cookies.
    r = requests.get(url(shared_stratus, rid, "Prod", "/hello/world?x=1&x=2"), timeout=60)
    assert r.status_code == 201 and r.headers["X-Fn"] == "sam"
    assert r.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    ev = r.json()
    assert ev["resource"] == "/hello/{name}" and ev["pathParameters"] == {"name": "world"}
    assert ev["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert ev["requestContext"]["stage"] == "Prod" and ev["requestContext"]["apiId"] == rid

    # The same through curl, with the execute-api host form.
    status, headers, body = curl("-H", f"Host: {rid}.execute-api.localhost:{shared_stratus.port}",
                                 f"http://127.0.0.1:{shared_stratus.port}/Prod/hello/curl")
    assert status == 201 and json.loads(body)["pathParameters"] == {"name": "curl"}

    # AWS's errors: an unknown route, a missing API key.
    status, headers, body = curl(url(shared_stratus, rid, "Prod", "/nope"))
    assert status == 403 and json.loads(body) == {"message": "Missing Authentication Token"}
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    r = requests.get(url(shared_stratus, rid, "Prod", "/secret"), timeout=30)
    assert r.status_code == 403 and r.json() == {"message": "Forbidden"}
    key = ag.create_api_key(name="sam-key", enabled=True)
    plan = ag.create_usage_plan(name="sam-plan", apiStages=[{"apiId": rid, "stage": "Prod"}])
    ag.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    r = requests.get(url(shared_stratus, rid, "Prod", "/secret"),
                     headers={"x-api-key": key["value"]}, timeout=30)
    assert r.status_code == 200 and r.json() == {"ok": True}


def test_cdk_style_api_with_throttling(shared_stratus, ag):
    rid = ag.create_rest_api(name="cdk-app")["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    books = ag.create_resource(restApiId=rid, parentId=root, pathPart="books")
    book = ag.create_resource(restApiId=rid, parentId=books["id"], pathPart="{id}")
    for res, template in ((books["id"], '[{"id": "1"}]'),
                          (book["id"], '{"id": "$input.params(\'id\')"}')):
        ag.put_method(restApiId=rid, resourceId=res, httpMethod="GET", authorizationType="NONE")
        ag.put_integration(restApiId=rid, resourceId=res, httpMethod="GET", type="MOCK",
                           requestTemplates={"application/json": '{"statusCode": 200}'})
        ag.put_method_response(restApiId=rid, resourceId=res, httpMethod="GET", statusCode="200")
        ag.put_integration_response(restApiId=rid, resourceId=res, httpMethod="GET",
                                    statusCode="200",
                                    responseTemplates={"application/json": template})
    ag.create_deployment(restApiId=rid, stageName="prod")

    status, _, body = curl(url(shared_stratus, rid, "prod", "/books"))
    assert status == 200 and json.loads(body) == [{"id": "1"}]
    r = requests.post(url(shared_stratus, rid, "prod", "/books"), json={}, timeout=30)
    assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}

    # Stage throttling (CDK's deployOptions.throttlingRateLimit/BurstLimit): AWS's 429.
    ag.update_stage(restApiId=rid, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"}])
    answers = []
    with requests.Session() as s:
        for _ in range(6):
            r = s.get(url(shared_stratus, rid, "prod", "/books"), timeout=30)
            answers.append(r.status_code)
            if r.status_code == 429:
                assert r.json() == {"message": "Too Many Requests"}
    assert answers[0] == 200 and 429 in answers, answers
