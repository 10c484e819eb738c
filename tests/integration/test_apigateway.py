"""API Gateway REST APIs (apigateway v1) with boto3 and the aws CLI: the control plane resource
by resource (CDK style) and from OpenAPI (SAM style), and the execute-api data plane with
http.client: MOCK, HTTP and HTTP_PROXY integrations, Lambda proxy, API keys, usage plans,
throttling, Lambda authorizers, gateway responses, access logs and bad input."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client
from test_apigateway_support import (Upstream, call, create_python_function, host_of,
                                     lambda_available, lambda_uri)


def root_of(ag, rid):
    # Debian's botocore predates rootResourceId in CreateRestApi's output.
    return [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def ag(shared_stratus):
    return make_client(shared_stratus, "apigateway")


def mock_api(ag, name="mock", path="items", response='{"hello": "world"}', stage="dev",
             **method_kw):
    api = ag.create_rest_api(name=name)
    rid = api["id"]; root = root_of(ag, rid)
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart=path)
    ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="GET",
                  authorizationType=method_kw.pop("authorizationType", "NONE"), **method_kw)
    ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    ag.put_method_response(restApiId=rid, resourceId=res["id"], httpMethod="GET", statusCode="200")
    ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="GET",
                                statusCode="200",
                                responseTemplates={"application/json": response})
    ag.create_deployment(restApiId=rid, stageName=stage)
    return rid, res["id"]


def test_control_plane_resource_by_resource(ag):
    api = ag.create_rest_api(name="crud", description="d", binaryMediaTypes=["image/png"],
                             tags={"team": "a"})
    rid = api["id"]; root = root_of(ag, rid)
    assert len(rid) == 10 and api["apiKeySource"] == "HEADER"
    assert api["endpointConfiguration"]["types"] == ["EDGE"]
    assert any(a["id"] == rid for a in ag.get_rest_apis()["items"])

    items = ag.create_resource(restApiId=rid, parentId=root, pathPart="items")
    assert items["path"] == "/items"
    item = ag.create_resource(restApiId=rid, parentId=items["id"], pathPart="{id}")
    assert item["path"] == "/items/{id}"
    with pytest.raises(ClientError) as e:
        ag.create_resource(restApiId=rid, parentId=root, pathPart="items")
    assert code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        ag.create_resource(restApiId=rid, parentId=items["id"], pathPart="{other}")
    assert code(e) == "BadRequestException"
    with pytest.raises(ClientError) as e:
        ag.create_resource(restApiId=rid, parentId=root, pathPart="bad/part")
    assert code(e) == "BadRequestException"
    with pytest.raises(ClientError) as e:
        ag.create_resource(restApiId=rid, parentId="nope", pathPart="x")
    assert code(e) == "NotFoundException"

    with pytest.raises(ClientError) as e:
        ag.create_deployment(restApiId=rid, stageName="dev")
    assert code(e) == "BadRequestException"  # no methods yet

    m = ag.put_method(restApiId=rid, resourceId=item["id"], httpMethod="GET",
                      authorizationType="NONE", apiKeyRequired=False,
                      requestParameters={"method.request.path.id": True})
    assert m["httpMethod"] == "GET" and m["authorizationType"] == "NONE"
    with pytest.raises(ClientError) as e:
        ag.put_method(restApiId=rid, resourceId=item["id"], httpMethod="GET",
                      authorizationType="CUSTOM", authorizerId="nope")
    assert code(e) in ("ConflictException", "BadRequestException")
    with pytest.raises(ClientError) as e:
        ag.put_integration(restApiId=rid, resourceId=item["id"], httpMethod="GET", type="HTTP",
                           integrationHttpMethod="GET", uri="not-a-url")
    assert code(e) == "BadRequestException"
    with pytest.raises(ClientError) as e:
        ag.create_deployment(restApiId=rid, stageName="dev")
    assert code(e) == "BadRequestException"  # method without integration

    i = ag.put_integration(restApiId=rid, resourceId=item["id"], httpMethod="GET",
                           type="HTTP_PROXY", integrationHttpMethod="GET",
                           uri="http://127.0.0.1:9/{id}",
                           requestParameters={"integration.request.path.id": "method.request.path.id"})
    assert i["timeoutInMillis"] == 29000 and i["passthroughBehavior"] == "WHEN_NO_MATCH"
    assert i["cacheNamespace"] == item["id"]
    got = ag.get_method(restApiId=rid, resourceId=item["id"], httpMethod="GET")
    assert got["methodIntegration"]["type"] == "HTTP_PROXY"
    u = ag.update_integration(restApiId=rid, resourceId=item["id"], httpMethod="GET",
                              patchOperations=[{"op": "replace", "path": "/timeoutInMillis",
                                                "value": "5000"}])
    assert u["timeoutInMillis"] == 5000

    embedded = ag.get_resources(restApiId=rid, embed=["methods"])["items"]
    by_path = {r["path"]: r for r in embedded}
    assert by_path["/items/{id}"]["resourceMethods"]["GET"]["methodIntegration"]["type"] == "HTTP_PROXY"
    plain = {r["path"]: r for r in ag.get_resources(restApiId=rid)["items"]}
    assert plain["/items/{id}"]["resourceMethods"]["GET"] == {}

    dep = ag.create_deployment(restApiId=rid, stageName="dev", variables={"v": "1"})
    stage = ag.get_stage(restApiId=rid, stageName="dev")
    assert stage["deploymentId"] == dep["id"] and stage["variables"] == {"v": "1"}
    stage = ag.update_stage(restApiId=rid, stageName="dev", patchOperations=[
        {"op": "replace", "path": "/variables/w", "value": "2"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"},
        {"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    assert stage["variables"] == {"v": "1", "w": "2"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 50
    assert stage["tracingEnabled"] is True
    with pytest.raises(ClientError) as e:
        ag.create_stage(restApiId=rid, stageName="dev", deploymentId=dep["id"])
    assert code(e) == "ConflictException"
    ag.create_stage(restApiId=rid, stageName="prod", deploymentId=dep["id"])
    assert {s["stageName"] for s in ag.get_stages(restApiId=rid)["item"]} == {"dev", "prod"}
    with pytest.raises(ClientError) as e:
        ag.delete_deployment(restApiId=rid, deploymentId=dep["id"])
    assert code(e) == "BadRequestException"
    assert ag.get_deployment(restApiId=rid, deploymentId=dep["id"], embed=["apisummary"])[
        "apiSummary"]["/items/{id}"]["GET"]["authorizationType"] == "NONE"

    api = ag.update_rest_api(restApiId=rid, patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/binaryMediaTypes/application~1octet-stream"}])
    assert api["name"] == "renamed"
    assert api["binaryMediaTypes"] == ["image/png", "application/octet-stream"]
    with pytest.raises(ClientError) as e:
        ag.update_rest_api(restApiId=rid, patchOperations=[
            {"op": "replace", "path": "/id", "value": "x"}])
    assert code(e) == "BadRequestException"

    arn = f"arn:aws:apigateway:us-east-1::/restapis/{rid}"
    ag.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert ag.get_tags(resourceArn=arn)["tags"] == {"team": "a", "env": "dev"}
    ag.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert ag.get_tags(resourceArn=arn)["tags"] == {"env": "dev"}

    responses = ag.get_gateway_responses(restApiId=rid, limit=500)["items"]
    assert len(responses) == 21
    mat = [r for r in responses if r["responseType"] == "MISSING_AUTHENTICATION_TOKEN"][0]
    assert mat["statusCode"] == "403" and mat["defaultResponse"] is True

    with pytest.raises(ClientError) as e:
        ag.create_model(restApiId=rid, name="Bad", schema="{not json", contentType="application/json")
    assert code(e) == "BadRequestException"
    model = ag.create_model(restApiId=rid, name="Item", contentType="application/json",
                            schema=json.dumps({"type": "object"}))
    assert ag.get_model(restApiId=rid, modelName="Item")["id"] == model["id"]
    v = ag.create_request_validator(restApiId=rid, name="all", validateRequestBody=True,
                                    validateRequestParameters=True)
    assert ag.get_request_validators(restApiId=rid)["items"][0]["id"] == v["id"]
    with pytest.raises(ClientError) as e:
        ag.create_authorizer(restApiId=rid, name="a", type="TOKEN",
                             authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/x",
                             identitySource="method.request.querystring.token")
    assert code(e) == "BadRequestException"

    ag.delete_resource(restApiId=rid, resourceId=items["id"])
    assert {r["path"] for r in ag.get_resources(restApiId=rid)["items"]} == {"/"}
    ag.delete_stage(restApiId=rid, stageName="prod")
    ag.delete_rest_api(restApiId=rid)
    with pytest.raises(ClientError) as e:
        ag.get_rest_api(restApiId=rid)
    assert code(e) == "NotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_mock_integration_every_address_form(shared_stratus, ag):
    rid, res_id = mock_api(ag, name="forms")
    port = shared_stratus.port
    for path, host in [(f"/restapis/{rid}/dev/_user_request_/items", None),
                       ("/dev/items", host_of(rid, port)),
                       ("/dev/items", f"{rid}.execute-api.localhost.localstack.cloud:{port}"),
                       (f"/_aws/execute-api/{rid}/dev/items", None)]:
        status, headers, _, body = call(shared_stratus, "GET", path, host=host)
        assert status == 200, (path, body)
        assert json.loads(body) == {"hello": "world"}
        assert headers["content-type"] == "application/json"
        assert "x-amzn-requestid" in headers and "x-amz-apigw-id" in headers

    # Unknown routes and methods: AWS's 403 Missing Authentication Token.
    for method, path in [("GET", "/dev/nothing"), ("POST", "/dev/items"), ("GET", "/dev")]:
        status, headers, _, body = call(shared_stratus, method, path, host=host_of(rid, port))
        assert status == 403
        assert json.loads(body) == {"message": "Missing Authentication Token"}
        assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    status, _, _, body = call(shared_stratus, "GET", "/nostage/items", host=host_of(rid, port))
    assert status == 403
    status, _, _, body = call(shared_stratus, "GET", "/dev/items", host=host_of("zzzzzzzzzz", port))
    assert status == 403

    # Customised gateway response.
    ag.put_gateway_response(restApiId=rid, responseType="MISSING_AUTHENTICATION_TOKEN",
                            statusCode="404",
                            responseParameters={"gatewayresponse.header.X-Why": "'not-here'"},
                            responseTemplates={"application/json":
                                               '{"error": $context.error.messageString, "id": "$context.requestId"}'})
    ag.create_deployment(restApiId=rid, stageName="dev")
    status, headers, _, body = call(shared_stratus, "GET", "/dev/nothing", host=host_of(rid, port))
    assert status == 404 and headers["x-why"] == "not-here"
    doc = json.loads(body)
    assert doc["error"] == "Missing Authentication Token" and len(doc["id"]) == 36

    # A template that needs Velocity fails loudly (500), it does not pretend.
    ag.put_integration_response(restApiId=rid, resourceId=res_id, httpMethod="GET",
                                statusCode="200",
                                responseTemplates={"application/json": "#set($x = 1)\n{\"x\": $x}"})
    ag.create_deployment(restApiId=rid, stageName="dev")
    status, _, _, body = call(shared_stratus, "GET", "/dev/items", host=host_of(rid, port))
    assert status == 500
    assert json.loads(body) == {"message": "Internal server error"}
    assert shared_stratus.wait_log("Velocity")


def test_http_and_http_proxy_integrations(shared_stratus, ag):
    port = shared_stratus.port
    with Upstream() as up:
        api = ag.create_rest_api(name="http")
        rid = api["id"]; root = root_of(ag, rid)
        proxy = ag.create_resource(restApiId=rid, parentId=root, pathPart="{proxy+}")
        ag.put_method(restApiId=rid, resourceId=proxy["id"], httpMethod="ANY",
                      authorizationType="NONE",
                      requestParameters={"method.request.path.proxy": True})
        ag.put_integration(restApiId=rid, resourceId=proxy["id"], httpMethod="ANY",
                           type="HTTP_PROXY", integrationHttpMethod="ANY",
                           uri=up.url + "/base/{proxy}",
                           requestParameters={"integration.request.path.proxy": "method.request.path.proxy",
                                              "integration.request.header.X-Stage": "'fixed'"})
        plain = ag.create_resource(restApiId=rid, parentId=root, pathPart="plain")
        ag.put_method(restApiId=rid, resourceId=plain["id"], httpMethod="POST",
                      authorizationType="NONE")
        ag.put_integration(restApiId=rid, resourceId=plain["id"], httpMethod="POST", type="HTTP",
                           integrationHttpMethod="POST", uri=up.url + "/teapot")
        ag.put_integration_response(restApiId=rid, resourceId=plain["id"], httpMethod="POST",
                                    statusCode="200")
        ag.put_integration_response(restApiId=rid, resourceId=plain["id"], httpMethod="POST",
                                    statusCode="400", selectionPattern="4\\d\\d",
                                    responseParameters={"method.response.header.X-Up": "integration.response.header.X-Upstream"})
        ag.create_deployment(restApiId=rid, stageName="v1")

        status, headers, _, body = call(shared_stratus, "POST", "/v1/a/b%20c?q=1&q=2",
                                        host=host_of(rid, port), headers={"X-Custom": "z"},
                                        body='{"k": 1}')
        assert status == 200, body
        seen = json.loads(body)
        assert seen["method"] == "POST"
        assert seen["path"].startswith("/base/a/b%20c?q=1&q=2")
        assert seen["headers"]["X-Custom"] == "z"
        assert seen["headers"]["X-Stage"] == "fixed"
        assert seen["body"] == '{"k": 1}'
        assert headers["x-upstream"] == "yes"

        status, headers, _, body = call(shared_stratus, "POST", "/v1/plain", host=host_of(rid, port),
                                        body='{"x": 1}', headers={"Content-Type": "application/json"})
        assert status == 400 and headers["x-up"] == "yes"
        assert json.loads(body)["body"] == '{"x": 1}'

    # The upstream is gone: AWS's 500 (connection refused), not a hang.
    status, _, _, body = call(shared_stratus, "GET", "/v1/gone", host=host_of(rid, port))
    assert status in (500, 502, 504)


def test_api_keys_usage_plans_quotas_and_throttling(shared_stratus, ag):
    port = shared_stratus.port
    rid, _ = mock_api(ag, name="keys", apiKeyRequired=True)
    host = host_of(rid, port)
    status, headers, _, body = call(shared_stratus, "GET", "/dev/items", host=host)
    assert status == 403 and json.loads(body) == {"message": "Forbidden"}
    key = ag.create_api_key(name="k1", enabled=True, value="abcdefghijklmnopqrstuvwxyz0123")
    assert "value" not in ag.get_api_key(apiKey=key["id"])
    assert ag.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]
    with pytest.raises(ClientError) as e:
        ag.create_api_key(name="dup", value="abcdefghijklmnopqrstuvwxyz0123")
    assert code(e) == "ConflictException"
    # A key in no usage plan for this stage is refused.
    status, _, _, _ = call(shared_stratus, "GET", "/dev/items", host=host,
                           headers={"x-api-key": key["value"]})
    assert status == 403
    with pytest.raises(ClientError) as e:
        ag.create_usage_plan(name="bad", apiStages=[{"apiId": rid, "stage": "nope"}])
    assert code(e) == "BadRequestException"
    plan = ag.create_usage_plan(name="p", apiStages=[{"apiId": rid, "stage": "dev"}],
                                quota={"limit": 3, "period": "DAY"},
                                throttle={"rateLimit": 1000, "burstLimit": 1000})
    pk = ag.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert pk["value"] == key["value"] and pk["name"] == "k1"
    assert [k["id"] for k in ag.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
    for _ in range(3):
        status, _, _, body = call(shared_stratus, "GET", "/dev/items", host=host,
                                  headers={"x-api-key": key["value"]})
        assert status == 200, body
    status, headers, _, body = call(shared_stratus, "GET", "/dev/items", host=host,
                                    headers={"x-api-key": key["value"]})
    assert status == 429 and json.loads(body) == {"message": "Limit Exceeded"}
    today = time.strftime("%Y-%m-%d", time.gmtime())
    usage = ag.get_usage(usagePlanId=plan["id"], startDate=today, endDate=today)
    assert usage["items"][key["id"]] == [[3, 0]]

    # A disabled key is refused.
    ag.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled",
                                                          "value": "false"}])
    status, _, _, _ = call(shared_stratus, "GET", "/dev/items", host=host,
                           headers={"x-api-key": key["value"]})
    assert status == 403

    # Throttling by the plan: burst 1, a tiny rate.
    ag.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled",
                                                          "value": "true"}])
    ag.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "remove", "path": "/quota"},
        {"op": "replace", "path": "/throttle/burstLimit", "value": "1"},
        {"op": "replace", "path": "/throttle/rateLimit", "value": "0.01"}])
    codes = [call(shared_stratus, "GET", "/dev/items", host=host,
                  headers={"x-api-key": key["value"]})[0] for _ in range(3)]
    assert codes[0] == 200 and 429 in codes[1:]
    ag.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    ag.delete_usage_plan(usagePlanId=plan["id"])
    ag.delete_api_key(apiKey=key["id"])


def test_stage_method_throttling(shared_stratus, ag):
    rid, _ = mock_api(ag, name="throttle")
    ag.update_stage(restApiId=rid, stageName="dev", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.01"}])
    host = host_of(rid, shared_stratus.port)
    results = [call(shared_stratus, "GET", "/dev/items", host=host) for _ in range(4)]
    assert [r[0] for r in results[:2]] == [200, 200]
    assert results[3][0] == 429
    assert json.loads(results[3][3]) == {"message": "Too Many Requests"}


def test_access_logs_metrics_and_traces(shared_stratus, ag):
    logs = make_client(shared_stratus, "logs")
    logs.create_log_group(logGroupName="/apigw/access")
    rid, _ = mock_api(ag, name="logged")
    ag.update_stage(restApiId=rid, stageName="dev", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": "arn:aws:logs:us-east-1:000000000000:log-group:/apigw/access"},
        {"op": "replace", "path": "/accessLogSettings/format",
         "value": '{"id":"$context.requestId","status":"$context.status","path":"$context.resourcePath"}'}])
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    status, headers, _, _ = call(shared_stratus, "GET", "/dev/items",
                                 host=host_of(rid, shared_stratus.port),
                                 headers={"X-Amzn-Trace-Id": trace})
    assert status == 200
    assert headers["x-amzn-trace-id"].startswith("Root=1-5759e988-bd862e3fe1be46a994272793")
    deadline = time.time() + 10
    events = []
    while time.time() < deadline and not events:
        events = logs.filter_log_events(logGroupName="/apigw/access")["events"]
        time.sleep(0.2)
    line = json.loads(events[0]["message"])
    assert line["status"] == "200" and line["path"] == "/items"
    assert line["id"] == headers["x-amzn-requestid"]
    status, _, _, metrics = call(shared_stratus, "GET", "/_stratus/metrics")
    assert f'service="execute-api",operation="{rid}"' in metrics.decode()


def test_openapi_import_put_and_export(shared_stratus, ag):
    swagger = {
        "swagger": "2.0", "info": {"title": "pets", "version": "1.0"},
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "paths": {
            "/pets": {"get": {"responses": {"200": {"description": "ok"}},
                              "x-amazon-apigateway-integration": {
                                  "type": "mock",
                                  "requestTemplates": {"application/json": '{"statusCode": 200}'},
                                  "responses": {"default": {"statusCode": "200",
                                                            "responseTemplates": {"application/json": '[{"id": 1}]'}}}}}},
            "/pets/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True}],
                                   "responses": {"200": {"description": "ok"}},
                                   "x-amazon-apigateway-integration": {
                                       "type": "mock",
                                       "requestTemplates": {"application/json": '{"statusCode": 200}'},
                                       "responses": {"default": {"statusCode": "200"}}}}}}}
    api = ag.import_rest_api(body=json.dumps(swagger).encode())
    rid = api["id"]
    assert api["name"] == "pets" and api["binaryMediaTypes"] == ["image/png"]
    paths = {r["path"] for r in ag.get_resources(restApiId=rid)["items"]}
    assert paths == {"/", "/pets", "/pets/{id}"}
    ag.create_deployment(restApiId=rid, stageName="prod")
    status, _, _, body = call(shared_stratus, "GET", "/prod/pets", host=host_of(rid, shared_stratus.port))
    assert status == 200 and json.loads(body) == [{"id": 1}]

    exported = json.loads(ag.get_export(restApiId=rid, stageName="prod", exportType="oas30",
                                        parameters={"extensions": "integrations"})["body"].read())
    assert exported["openapi"].startswith("3.0")
    assert set(exported["paths"]) == {"/pets", "/pets/{id}"}
    assert exported["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock"
    swagger_out = json.loads(ag.get_export(restApiId=rid, stageName="prod", exportType="swagger")["body"].read())
    assert swagger_out["swagger"] == "2.0" and swagger_out["basePath"] == "/prod"

    # PutRestApi in overwrite mode from an OpenAPI 3 YAML document.
    yaml_doc = """openapi: 3.0.1
info:
  title: pets2
  version: '2'
paths:
  /cats:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 201}'
        responses:
          default:
            statusCode: '201'
"""
    ag.put_rest_api(restApiId=rid, mode="overwrite", body=yaml_doc.encode())
    paths = {r["path"] for r in ag.get_resources(restApiId=rid)["items"]}
    assert paths == {"/", "/cats"}
    ag.create_deployment(restApiId=rid, stageName="prod")
    status, _, _, _ = call(shared_stratus, "DELETE", "/prod/cats", host=host_of(rid, shared_stratus.port))
    assert status == 201

    # Malformed documents: clear BadRequestException at creation, nothing created.
    before = len(ag.get_rest_apis(limit=500)["items"])
    for bad in [b"", b"{not json", b'{"info": {}}', b"openapi: 3.0.1\npaths:\n  nope: {}\n",
                json.dumps({"swagger": "2.0", "paths": {"/a": {"get": {
                    "x-amazon-apigateway-integration": {"type": "warp"}}}}}).encode(),
                json.dumps({"swagger": "2.0", "paths": {"/a/{x}": {}, "/a/{y}": {}}}).encode()]:
        with pytest.raises(ClientError) as e:
            ag.import_rest_api(body=bad)
        assert code(e) == "BadRequestException", bad
    assert len(ag.get_rest_apis(limit=500)["items"]) == before


def test_bad_input_at_request_time(shared_stratus, ag):
    rid, res_id = mock_api(ag, name="bad")
    host = host_of(rid, shared_stratus.port)
    status, headers, _, body = call(shared_stratus, "GET", "/dev/items", host=host,
                                    body=b"x" * (10 * 1024 * 1024 + 1))
    assert status == 413
    # Header injection through a mapped value is refused when the mapping is created.
    with pytest.raises(ClientError) as e:
        ag.put_integration_response(restApiId=rid, resourceId=res_id, httpMethod="GET",
                                    statusCode="200",
                                    responseParameters={"method.response.header.X": "'a\r\nSet-Cookie: b'"})
    assert code(e) == "BadRequestException"
    # Odd paths never crash the gateway.
    for path in ["/dev/items/../items", "/dev//items", "/dev/%ff%fe", "/dev/items?%zz=1"]:
        status, _, _, _ = call(shared_stratus, "GET", path, host=host)
        assert status in (200, 403), path
    status, _, _, _ = call(shared_stratus, "GET", "/dev/items", host=host)
    assert status == 200


def test_aws_cli(shared_stratus):
    _, out, _ = aws_cli(shared_stratus, "apigateway", "create-rest-api", "--name", "cli-api")
    api = json.loads(out)
    _, out, _ = aws_cli(shared_stratus, "apigateway", "get-resources", "--rest-api-id", api["id"])
    assert json.loads(out)["items"][0]["path"] == "/"
    rc, _, err = aws_cli(shared_stratus, "apigateway", "get-rest-api", "--rest-api-id", "nope",
                         check=False)
    assert rc != 0 and "NotFoundException" in err
    _, out, _ = aws_cli(shared_stratus, "apigatewayv2", "create-api", "--name", "cli-http",
                        "--protocol-type", "HTTP")
    assert json.loads(out)["ProtocolType"] == "HTTP"


# ---- Lambda: proxy integration and authorizers ---------------------------------------------

ECHO = """import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"X-Fn": "echo"}, "body": json.dumps(event)}
"""

TOKEN_AUTH = """def handler(event, context):
    token = event.get("authorizationToken", "")
    if token == "fail":
        raise Exception("Unauthorized")
    effect = "Allow" if token == "allow" else "Deny"
    return {"principalId": "user-" + token,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
            "context": {"tier": "gold", "n": 7}}
"""

REQUEST_AUTH = """import os
calls = 0
def handler(event, context):
    global calls
    calls += 1
    ok = event["headers"].get("X-Pass") == "yes"
    return {"principalId": "req",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow" if ok else "Deny",
                 "Resource": "arn:aws:execute-api:*"}]},
            "context": {"calls": calls}}
"""


@pytest.fixture(scope="module")
def lam(shared_stratus):
    client = make_client(shared_stratus, "lambda")
    if not lambda_available(client):
        pytest.skip("the Lambda service is not available in this build")
    return client


def test_lambda_proxy_event_and_response(shared_stratus, ag, lam):
    fn = create_python_function(lam, "apigw-echo", ECHO)
    api = ag.create_rest_api(name="lambda")
    rid = api["id"]; root = root_of(ag, rid)
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="{proxy+}")
    ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="ANY", authorizationType="NONE")
    ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="ANY", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=lambda_uri(fn))
    ag.create_deployment(restApiId=rid, stageName="test", variables={"env": "t"})
    status, headers, _, body = call(shared_stratus, "POST", "/test/a/b?x=1&x=2&y=3",
                                    host=host_of(rid, shared_stratus.port),
                                    headers={"Content-Type": "application/json", "X-Multi": "1"},
                                    body='{"hello": "world"}')
    assert status == 200, body
    assert headers["x-fn"] == "echo"
    ev = json.loads(body)
    assert ev["resource"] == "/{proxy+}" and ev["path"] == "/a/b"
    assert ev["httpMethod"] == "POST" and ev["pathParameters"] == {"proxy": "a/b"}
    assert ev["queryStringParameters"] == {"x": "2", "y": "3"}
    assert ev["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert ev["stageVariables"] == {"env": "t"}
    assert ev["body"] == '{"hello": "world"}' and ev["isBase64Encoded"] is False
    rc = ev["requestContext"]
    assert rc["stage"] == "test" and rc["path"] == "/test/a/b" and rc["apiId"] == rid
    assert rc["accountId"] == "000000000000" and rc["resourcePath"] == "/{proxy+}"
    assert set(rc["identity"]) >= {"sourceIp", "userAgent", "accessKey", "cognitoIdentityId"}
    assert ev["multiValueHeaders"]["X-Multi"] == ["1"]
    assert "X-Amzn-Trace-Id" in ev["headers"] and "X-Forwarded-For" in ev["headers"]


def test_lambda_non_proxy_body_is_still_validated(shared_stratus, ag, lam):
    # Proxy events skip Lambda's payload check (the gateway writes them as JSON); a non-proxy
    # integration passes the client's body through, so Lambda must still refuse one that is not
    # JSON (InvalidRequestContentException), which the gateway answers with a 500 as AWS does.
    fn = lam.get_function(FunctionName="apigw-echo")["Configuration"]["FunctionArn"] \
        if _exists(lam, "apigw-echo") else create_python_function(lam, "apigw-echo", ECHO)
    api = ag.create_rest_api(name="lambda-aws")
    rid = api["id"]; root = root_of(ag, rid)
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="raw")
    ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="POST", authorizationType="NONE")
    ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="POST", type="AWS",
                       integrationHttpMethod="POST", uri=lambda_uri(fn),
                       passthroughBehavior="WHEN_NO_MATCH")
    ag.put_method_response(restApiId=rid, resourceId=res["id"], httpMethod="POST",
                           statusCode="200")
    ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="POST",
                                statusCode="200")
    ag.create_deployment(restApiId=rid, stageName="t")
    host = host_of(rid, shared_stratus.port)
    status, _, _, body = call(shared_stratus, "POST", "/t/raw", host=host,
                              headers={"Content-Type": "application/json"}, body='{"a": 1}')
    assert status == 200, body
    assert json.loads(json.loads(body)["body"]) == {"a": 1}
    status, _, _, body = call(shared_stratus, "POST", "/t/raw", host=host,
                              headers={"Content-Type": "application/json"}, body="{not json")
    assert status == 500, body
    assert json.loads(body) == {"message": "Internal server error"}


def _exists(lam, name):
    try:
        lam.get_function(FunctionName=name)
        return True
    except ClientError:
        return False


def test_lambda_authorizers_token_and_request(shared_stratus, ag, lam):
    echo = lam.get_function(FunctionName="apigw-echo")["Configuration"]["FunctionArn"] \
        if any(f["FunctionName"] == "apigw-echo" for f in lam.list_functions()["Functions"]) \
        else create_python_function(lam, "apigw-echo", ECHO)
    tok = create_python_function(lam, "apigw-token-auth", TOKEN_AUTH)
    req = create_python_function(lam, "apigw-request-auth", REQUEST_AUTH)
    api = ag.create_rest_api(name="auth")
    rid = api["id"]; root = root_of(ag, rid)
    ta = ag.create_authorizer(restApiId=rid, name="tok", type="TOKEN", authorizerUri=lambda_uri(tok),
                              identitySource="method.request.header.Authorization",
                              authorizerResultTtlInSeconds=0)
    ra = ag.create_authorizer(restApiId=rid, name="req", type="REQUEST", authorizerUri=lambda_uri(req),
                              identitySource="method.request.header.X-Pass",
                              authorizerResultTtlInSeconds=300)
    for part, auth in [("t", ta["id"]), ("r", ra["id"])]:
        res = ag.create_resource(restApiId=rid, parentId=root, pathPart=part)
        ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="GET",
                      authorizationType="CUSTOM", authorizerId=auth)
        ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="GET", type="AWS_PROXY",
                           integrationHttpMethod="POST", uri=lambda_uri(echo))
    with pytest.raises(ClientError) as e:
        ag.delete_authorizer(restApiId=rid, authorizerId=ta["id"])
    assert code(e) == "ConflictException"
    ag.create_deployment(restApiId=rid, stageName="s")
    host = host_of(rid, shared_stratus.port)

    status, _, _, body = call(shared_stratus, "GET", "/s/t", host=host)
    assert status == 401 and json.loads(body) == {"message": "Unauthorized"}
    status, _, _, body = call(shared_stratus, "GET", "/s/t", host=host, headers={"Authorization": "deny"})
    assert status == 403
    assert json.loads(body) == {"message": "User is not authorized to access this resource with an explicit deny"}
    status, _, _, body = call(shared_stratus, "GET", "/s/t", host=host, headers={"Authorization": "fail"})
    assert status == 401
    status, _, _, body = call(shared_stratus, "GET", "/s/t", host=host, headers={"Authorization": "allow"})
    assert status == 200, body
    ctx = json.loads(body)["requestContext"]["authorizer"]
    assert ctx["principalId"] == "user-allow" and ctx["tier"] == "gold" and ctx["n"] == "7"

    status, _, _, _ = call(shared_stratus, "GET", "/s/r", host=host)
    assert status == 401
    first = call(shared_stratus, "GET", "/s/r", host=host, headers={"X-Pass": "yes"})
    assert first[0] == 200, first[3]
    second = call(shared_stratus, "GET", "/s/r", host=host, headers={"X-Pass": "yes"})
    # The second request is served from the authorizer cache (TTL 300): same context.
    assert json.loads(first[3])["requestContext"]["authorizer"]["calls"] == \
        json.loads(second[3])["requestContext"]["authorizer"]["calls"]
    ag.flush_stage_authorizers_cache(restApiId=rid, stageName="s")
    status, _, _, _ = call(shared_stratus, "GET", "/s/r", host=host, headers={"X-Pass": "no"})
    assert status == 403


def test_cognito_user_pools_authorizer(shared_stratus, ag):
    idp = make_client(shared_stratus, "cognito-idp")
    try:
        pool = idp.create_user_pool(PoolName="apigw-pool")["UserPool"]
    except ClientError as e:
        pytest.skip(f"the Cognito service is not available: {e}")
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool["Id"], Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool["Id"], Username="alice", Password="Passw0rd!x",
                                Permanent=True)
    tokens = idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!x"})[
        "AuthenticationResult"]
    api = ag.create_rest_api(name="cognito")
    rid = api["id"]
    root = root_of(ag, rid)
    auth = ag.create_authorizer(restApiId=rid, name="pool", type="COGNITO_USER_POOLS",
                                providerARNs=[pool["Arn"]],
                                identitySource="method.request.header.Authorization")
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="me")
    ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="GET",
                  authorizationType="COGNITO_USER_POOLS", authorizerId=auth["id"])
    ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="GET",
                                statusCode="200",
                                responseTemplates={"application/json": '{"user": "$context.authorizer.claims.cognito:username"}'})
    ag.create_deployment(restApiId=rid, stageName="dev")
    host = host_of(rid, shared_stratus.port)
    assert call(shared_stratus, "GET", "/dev/me", host=host)[0] == 401
    assert call(shared_stratus, "GET", "/dev/me", host=host,
                headers={"Authorization": "not-a-token"})[0] == 401
    status, _, _, body = call(shared_stratus, "GET", "/dev/me", host=host,
                              headers={"Authorization": tokens["IdToken"]})
    assert status == 200, body


def test_apis_survive_kill_9(stratus):
    ag = make_client(stratus, "apigateway")
    v2 = make_client(stratus, "apigatewayv2")
    rid, _ = mock_api(ag, name="durable")
    key = ag.create_api_key(name="durable", enabled=True)
    http_api = v2.create_api(Name="durable-http", ProtocolType="HTTP",
                             Target="http://127.0.0.1:9/")["ApiId"]
    stratus.kill()
    stratus.start()
    ag = make_client(stratus, "apigateway")
    v2 = make_client(stratus, "apigatewayv2")
    status, _, _, body = call(stratus, "GET", "/dev/items", host=host_of(rid, stratus.port))
    assert status == 200 and json.loads(body) == {"hello": "world"}
    assert ag.get_api_key(apiKey=key["id"])["name"] == "durable"
    assert v2.get_stages(ApiId=http_api)["Items"][0]["StageName"] == "$default"


def test_request_validators(shared_stratus, ag):
    api = ag.create_rest_api(name="validated")
    rid = api["id"]
    root = root_of(ag, rid)
    ag.create_model(restApiId=rid, name="Pet", contentType="application/json", schema=json.dumps({
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer"}}}))
    v = ag.create_request_validator(restApiId=rid, name="all", validateRequestBody=True,
                                    validateRequestParameters=True)
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="pets")
    ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="POST", authorizationType="NONE",
                  requestValidatorId=v["id"], requestModels={"application/json": "Pet"},
                  requestParameters={"method.request.header.X-Tenant": True,
                                     "method.request.querystring.dry": False})
    ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="POST", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="POST",
                                statusCode="200", responseTemplates={"application/json": '{"ok": 1}'})
    ag.create_deployment(restApiId=rid, stageName="dev")
    host = host_of(rid, shared_stratus.port)
    hdrs = {"Content-Type": "application/json"}
    status, _, _, body = call(shared_stratus, "POST", "/dev/pets", host=host, headers=hdrs,
                              body={"name": "rex"})
    assert status == 400
    assert json.loads(body) == {"message": "Missing required request parameters: [X-Tenant]"}
    hdrs["X-Tenant"] = "t1"
    for bad in [{"age": 3}, {"name": ""}, {"name": "rex", "age": "old"}, "not json"]:
        status, _, _, body = call(shared_stratus, "POST", "/dev/pets", host=host, headers=hdrs,
                                  body=bad if isinstance(bad, dict) else bad)
        assert status == 400, bad
        assert json.loads(body) == {"message": "Invalid request body"}
    status, _, _, body = call(shared_stratus, "POST", "/dev/pets", host=host, headers=hdrs,
                              body={"name": "rex", "age": 3})
    assert status == 200, body
