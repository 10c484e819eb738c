"""API Gateway REST request validators with boto3 and requests: an API built resource by
resource (CreateModel, CreateRequestValidator, PutMethod with requestValidatorId/requestModels/
requestParameters, MOCK integrations, deployment) and APIs imported from OpenAPI 3 and Swagger 2
with x-amazon-apigateway-request-validators. Valid requests reach the integration; missing
parameters answer BAD_REQUEST_PARAMETERS and bad bodies BAD_REQUEST_BODY, customisable through
gateway responses; hostile models are refused or fail closed."""
import json

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client


@pytest.fixture(scope="module")
def ag(shared_stratus):
    return make_client(shared_stratus, "apigateway")


def root_of(ag, rid):
    return [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]


def url(server, rid, stage, path):
    return f"http://127.0.0.1:{server.port}/restapis/{rid}/{stage}/_user_request_{path}"


def mock_method(ag, rid, res_id, verb, **method_kw):
    ag.put_method(restApiId=rid, resourceId=res_id, httpMethod=verb, authorizationType="NONE",
                  **method_kw)
    ag.put_integration(restApiId=rid, resourceId=res_id, httpMethod=verb, type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    ag.put_method_response(restApiId=rid, resourceId=res_id, httpMethod=verb, statusCode="200")
    ag.put_integration_response(restApiId=rid, resourceId=res_id, httpMethod=verb,
                                statusCode="200",
                                responseTemplates={"application/json": '{"ok": true}'})


def model_url(rid, name):
    return f"https://apigateway.amazonaws.com/restapis/{rid}/models/{name}"


@pytest.fixture(scope="module")
def built(shared_stratus, ag):
    """/pets/{id} POST validated by 'all'; /notes POST by 'body-only'; /search GET by
    'params-only'; /loop POST against a model whose $refs form a cycle."""
    rid = ag.create_rest_api(name="validated-crud")["id"]
    root = root_of(ag, rid)
    ag.create_model(restApiId=rid, name="Tag", contentType="application/json", schema=json.dumps(
        {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8}))
    ag.create_model(restApiId=rid, name="Pet", contentType="application/json", schema=json.dumps({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "age": {"type": "integer", "minimum": 0, "maximum": 40},
            "kind": {"enum": ["cat", "dog"]},
            "tags": {"type": "array", "maxItems": 3, "items": {"$ref": model_url(rid, "Tag")}},
            "owner": {"$ref": "#/definitions/owner"}},
        "definitions": {"owner": {"type": "object", "required": ["id"],
                                  "properties": {"id": {"type": "integer"}}}}}))
    ag.create_model(restApiId=rid, name="LoopA", contentType="application/json",
                    schema=json.dumps({"$ref": model_url(rid, "LoopB")}))
    ag.create_model(restApiId=rid, name="LoopB", contentType="application/json",
                    schema=json.dumps({"$ref": model_url(rid, "LoopA")}))
    v_all = ag.create_request_validator(restApiId=rid, name="all", validateRequestBody=True,
                                        validateRequestParameters=True)["id"]
    v_body = ag.create_request_validator(restApiId=rid, name="body-only",
                                         validateRequestBody=True,
                                         validateRequestParameters=False)["id"]
    v_params = ag.create_request_validator(restApiId=rid, name="params-only",
                                           validateRequestBody=False,
                                           validateRequestParameters=True)["id"]
    pets = ag.create_resource(restApiId=rid, parentId=root, pathPart="pets")["id"]
    pet = ag.create_resource(restApiId=rid, parentId=pets, pathPart="{id}")["id"]
    mock_method(ag, rid, pet, "POST", requestValidatorId=v_all,
                requestModels={"application/json": "Pet"},
                requestParameters={"method.request.path.id": True,
                                   "method.request.querystring.q": True,
                                   "method.request.header.X-Tenant": True,
                                   "method.request.querystring.optional": False})
    notes = ag.create_resource(restApiId=rid, parentId=root, pathPart="notes")["id"]
    mock_method(ag, rid, notes, "POST", requestValidatorId=v_body,
                requestModels={"$default": "Pet"},
                requestParameters={"method.request.header.X-Never-Checked": True})
    search = ag.create_resource(restApiId=rid, parentId=root, pathPart="search")["id"]
    mock_method(ag, rid, search, "GET", requestValidatorId=v_params,
                requestModels={"application/json": "Pet"},
                requestParameters={"method.request.querystring.term": True})
    loop = ag.create_resource(restApiId=rid, parentId=root, pathPart="loop")["id"]
    mock_method(ag, rid, loop, "POST", requestValidatorId=v_body,
                requestModels={"application/json": "LoopA"})
    ag.create_deployment(restApiId=rid, stageName="dev")
    m = ag.get_method(restApiId=rid, resourceId=pet, httpMethod="POST")
    assert m["requestValidatorId"] == v_all and m["requestModels"] == {"application/json": "Pet"}
    # A method may name only its API's models (or the built-in Empty and Error).
    with pytest.raises(ClientError) as e:
        ag.put_method(restApiId=rid, resourceId=pets, httpMethod="PUT", authorizationType="NONE",
                      requestModels={"application/json": "NoSuchModel"})
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert "Invalid model identifier specified: NoSuchModel" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ag.update_method(restApiId=rid, resourceId=pet, httpMethod="POST", patchOperations=[
            {"op": "replace", "path": "/requestModels/application~1json", "value": "Nope"}])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert ag.get_method(restApiId=rid, resourceId=pet,
                         httpMethod="POST")["requestModels"] == {"application/json": "Pet"}
    return rid


GOOD_PET = {"name": "rex", "age": 3, "kind": "dog", "tags": ["good"], "owner": {"id": 7}}


def test_valid_request_reaches_the_integration(shared_stratus, built):
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q=x"), json=GOOD_PET,
                      headers={"X-Tenant": "t1"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}


def test_missing_parameters(shared_stratus, built):
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q=x"), json=GOOD_PET, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"message": "Missing required request parameters: [X-Tenant]"}
    assert r.headers["x-amzn-ErrorType"] == "BadRequestException"
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1"), json=GOOD_PET, timeout=30)
    assert r.status_code == 400
    message = r.json()["message"]
    prefix = "Missing required request parameters: ["
    assert message.startswith(prefix) and message.endswith("]")
    assert sorted(message[len(prefix):-1].split(", ")) == ["X-Tenant", "q"]
    # Present but blank counts as missing (AWS: "included and not blank").
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q="), json=GOOD_PET,
                      headers={"X-Tenant": ""}, timeout=30)
    assert r.status_code == 400
    message = r.json()["message"]
    assert sorted(message[len(prefix):-1].split(", ")) == ["X-Tenant", "q"]
    # Parameters are checked before the body: a bad body with a missing parameter names the
    # parameter.
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q=x"), json={}, timeout=30)
    assert r.json() == {"message": "Missing required request parameters: [X-Tenant]"}
    # A params-only validator ignores the body; a body-only validator ignores parameters.
    r = requests.get(url(shared_stratus, built, "dev", "/search"), timeout=30)
    assert r.status_code == 400
    assert r.json() == {"message": "Missing required request parameters: [term]"}
    r = requests.get(url(shared_stratus, built, "dev", "/search?term=a"), data="not json",
                     headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(url(shared_stratus, built, "dev", "/notes"), json=GOOD_PET, timeout=30)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("body", [
    {"age": 3},                                    # required
    {"name": ""},                                  # minLength
    {"name": "rex", "age": "old"},                 # type
    {"name": "rex", "age": 41},                    # maximum
    {"name": "rex", "kind": "cow"},                # enum
    {"name": "rex", "extra": 1},                   # additionalProperties
    {"name": "rex", "tags": ["a", "b", "c", "d"]},  # maxItems
    {"name": "rex", "tags": ["UPPER"]},            # pattern through a model $ref
    {"name": "rex", "owner": {}},                  # required through #/definitions
    ["rex"],                                       # not an object
])
def test_invalid_bodies(shared_stratus, built, body):
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q=x"), json=body,
                      headers={"X-Tenant": "t1"}, timeout=30)
    assert r.status_code == 400, body
    assert r.json() == {"message": "Invalid request body"}
    assert r.headers["x-amzn-ErrorType"] == "BadRequestException"


def test_non_json_body_and_content_types(shared_stratus, built):
    hdrs = {"X-Tenant": "t1", "Content-Type": "application/json"}
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q=x"), data="{name: rex",
                      headers=hdrs, timeout=30)
    assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}
    # $default applies to any content type; the model is JSON, so text fails.
    r = requests.post(url(shared_stratus, built, "dev", "/notes"), data="hello",
                      headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}
    r = requests.post(url(shared_stratus, built, "dev", "/notes"), data=json.dumps(GOOD_PET),
                      headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 200, r.text


def test_hostile_models(shared_stratus, ag, built):
    # A $ref cycle cannot be evaluated: the body is refused (fail closed), the server lives on.
    for _ in range(3):
        r = requests.post(url(shared_stratus, built, "dev", "/loop"), json={"a": 1}, timeout=30)
        assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}
    r = requests.post(url(shared_stratus, built, "dev", "/pets/1?q=x"), json=GOOD_PET,
                      headers={"X-Tenant": "t1"}, timeout=30)
    assert r.status_code == 200
    # Schemas that cannot be evaluated are refused when stored.
    deep = "{}"
    for _ in range(500):
        deep = '{"items": ' + deep + "}"
    for schema in ["not json", "[1]", json.dumps({"type": "strng"}),
                   json.dumps({"required": "name"}), json.dumps({"pattern": "(unclosed"}),
                   json.dumps({"minLength": -1}), deep]:
        with pytest.raises(ClientError) as e:
            ag.create_model(restApiId=built, name="Bad", contentType="application/json",
                            schema=schema)
        assert e.value.response["Error"]["Code"] == "BadRequestException", schema
        assert e.value.response["Error"]["Message"].startswith("Invalid model specified"), schema
    with pytest.raises(ClientError) as e:
        ag.update_model(restApiId=built, modelName="Tag", patchOperations=[
            {"op": "replace", "path": "/schema", "value": json.dumps({"type": 5})}])
    assert e.value.response["Error"]["Code"] == "BadRequestException"


def test_customised_gateway_responses(shared_stratus, ag):
    rid = ag.create_rest_api(name="validated-custom")["id"]
    root = root_of(ag, rid)
    ag.create_model(restApiId=rid, name="Pet", contentType="application/json", schema=json.dumps(
        {"type": "object", "required": ["name"]}))
    v = ag.create_request_validator(restApiId=rid, name="all", validateRequestBody=True,
                                    validateRequestParameters=True)["id"]
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="pets")["id"]
    mock_method(ag, rid, res, "POST", requestValidatorId=v,
                requestModels={"application/json": "Pet"},
                requestParameters={"method.request.querystring.q": True})
    ag.put_gateway_response(
        restApiId=rid, responseType="BAD_REQUEST_BODY", statusCode="422",
        responseParameters={"gatewayresponse.header.X-Why": "'schema'"},
        responseTemplates={"application/json":
                           '{"error": "$context.error.validationErrorString", '
                           '"type": "$context.error.responseType"}'})
    ag.put_gateway_response(
        restApiId=rid, responseType="BAD_REQUEST_PARAMETERS",
        responseTemplates={"application/json": '{"params": $context.error.messageString}'})
    ag.create_deployment(restApiId=rid, stageName="dev")
    r = requests.post(url(shared_stratus, rid, "dev", "/pets?q=1"), json={"age": 1}, timeout=30)
    assert r.status_code == 422, r.text
    assert r.headers["X-Why"] == "schema"
    # The template substitutes the string as is (AWS does too), quotes and all.
    assert r.text == ('{"error": "[object has missing required properties (["name"])]", '
                      '"type": "BAD_REQUEST_BODY"}')
    r = requests.post(url(shared_stratus, rid, "dev", "/pets"), json={"name": "a"}, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"params": "Missing required request parameters: [q]"}
    r = requests.post(url(shared_stratus, rid, "dev", "/pets?q=1"), json={"name": "a"}, timeout=30)
    assert r.status_code == 200


def mock_integration(body='{"ok": true}'):
    return {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200",
                                      "responseTemplates": {"application/json": body}}}}


def test_openapi3_import_with_validators(shared_stratus, ag):
    doc = {
        "openapi": "3.0.1", "info": {"title": "validated-oas3", "version": "1"},
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
            "params-only": {"validateRequestBody": False, "validateRequestParameters": True}},
        "x-amazon-apigateway-request-validator": "all",
        "paths": {
            "/orders": {
                "post": {
                    "parameters": [{"name": "store", "in": "query", "required": True,
                                    "schema": {"type": "string"}}],
                    "requestBody": {"$ref": "#/components/requestBodies/OrderBody"},
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": mock_integration()},
                "get": {
                    "x-amazon-apigateway-request-validator": "params-only",
                    "parameters": [{"name": "X-Store", "in": "header", "required": True,
                                    "schema": {"type": "string"}}],
                    "requestBody": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Order"}}}},
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": mock_integration()}}},
        "components": {
            "requestBodies": {"OrderBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Order"}}}}},
            "schemas": {
                "Item": {"type": "object", "required": ["sku"],
                         "properties": {"sku": {"type": "string"},
                                        "qty": {"type": "integer", "minimum": 1}}},
                "Order": {"type": "object", "required": ["items"],
                          "properties": {"items": {"type": "array", "minItems": 1,
                                                   "items": {"$ref": "#/components/schemas/Item"}}}}}},
    }
    rid = ag.import_rest_api(body=json.dumps(doc).encode())["id"]
    validators = {v["name"]: v for v in ag.get_request_validators(restApiId=rid)["items"]}
    assert validators["params-only"]["validateRequestBody"] is False
    orders = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/orders"][0]
    post = ag.get_method(restApiId=rid, resourceId=orders["id"], httpMethod="POST")
    assert post["requestValidatorId"] == validators["all"]["id"]
    assert post["requestModels"] == {"application/json": "Order"}
    get = ag.get_method(restApiId=rid, resourceId=orders["id"], httpMethod="GET")
    assert get["requestValidatorId"] == validators["params-only"]["id"]
    ag.create_deployment(restApiId=rid, stageName="prod")

    u = url(shared_stratus, rid, "prod", "/orders")
    good = {"items": [{"sku": "a1", "qty": 2}]}
    r = requests.post(u + "?store=s1", json=good, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(u, json=good, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"message": "Missing required request parameters: [store]"}
    for bad in [{}, {"items": []}, {"items": [{"qty": 2}]}, {"items": [{"sku": "a", "qty": 0}]}]:
        r = requests.post(u + "?store=s1", json=bad, timeout=30)
        assert r.status_code == 400, bad
        assert r.json() == {"message": "Invalid request body"}
    r = requests.get(u, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"message": "Missing required request parameters: [X-Store]"}
    r = requests.get(u, headers={"X-Store": "s"}, json={}, timeout=30)  # body not validated
    assert r.status_code == 200, r.text


def test_swagger2_import_with_body_parameter(shared_stratus, ag):
    doc = {
        "swagger": "2.0", "info": {"title": "validated-swagger", "version": "1"},
        "consumes": ["application/json"],
        "x-amazon-apigateway-request-validators": {
            "body": {"validateRequestBody": True, "validateRequestParameters": False}},
        "paths": {"/users": {"put": {
            "x-amazon-apigateway-request-validator": "body",
            "parameters": [{"name": "user", "in": "body", "required": True,
                            "schema": {"$ref": "#/definitions/User"}}],
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": mock_integration()}}},
        "definitions": {"User": {"type": "object", "required": ["email"],
                                 "properties": {"email": {"type": "string",
                                                          "pattern": "^[^@]+@[^@]+$"}}}},
    }
    rid = ag.import_rest_api(body=json.dumps(doc).encode())["id"]
    ag.create_deployment(restApiId=rid, stageName="v1")
    u = url(shared_stratus, rid, "v1", "/users")
    assert requests.put(u, json={"email": "a@b"}, timeout=30).status_code == 200
    r = requests.put(u, json={"email": "nope"}, timeout=30)
    assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}


@pytest.mark.parametrize("export_type", ["oas30", "swagger"])
def test_export_and_reimport_keeps_validation(shared_stratus, ag, built, export_type):
    doc = json.loads(ag.get_export(restApiId=built, stageName="dev", exportType=export_type,
                                   parameters={"extensions": "integrations"})["body"].read())
    assert doc["x-amazon-apigateway-request-validators"]["all"] == {
        "validateRequestBody": True, "validateRequestParameters": True}
    op = doc["paths"]["/pets/{id}"]["post"]
    assert op["x-amazon-apigateway-request-validator"] == "all"
    schemas = doc["components"]["schemas"] if export_type == "oas30" else doc["definitions"]
    local = "#/components/schemas/" if export_type == "oas30" else "#/definitions/"
    assert schemas["Pet"]["properties"]["tags"]["items"] == {"$ref": local + "Tag"}
    if export_type == "oas30":
        assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": local + "Pet"}
    else:
        assert {"in": "body", "name": "Pet", "required": True,
                "schema": {"$ref": local + "Pet"}} in op["parameters"]

    rid = ag.import_rest_api(body=json.dumps(doc).encode())["id"]
    ag.create_deployment(restApiId=rid, stageName="dev")
    u = url(shared_stratus, rid, "dev", "/pets/1?q=x")
    r = requests.post(u, json=GOOD_PET, headers={"X-Tenant": "t"}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(u, json={"name": "rex", "tags": ["UPPER"]}, headers={"X-Tenant": "t"},
                      timeout=30)
    assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}
    r = requests.post(u, json=GOOD_PET, timeout=30)
    assert r.json() == {"message": "Missing required request parameters: [X-Tenant]"}


def test_builtin_empty_model(shared_stratus, ag):
    # CDK's Model.EMPTY_MODEL names AWS's built-in "Empty" model: any JSON object passes.
    rid = ag.create_rest_api(name="validated-empty")["id"]
    v = ag.create_request_validator(restApiId=rid, name="body", validateRequestBody=True,
                                    validateRequestParameters=False)["id"]
    res = ag.create_resource(restApiId=rid, parentId=root_of(ag, rid), pathPart="any")["id"]
    mock_method(ag, rid, res, "POST", requestValidatorId=v,
                requestModels={"application/json": "Empty"})
    ag.create_deployment(restApiId=rid, stageName="dev")
    u = url(shared_stratus, rid, "dev", "/any")
    assert requests.post(u, json={"x": [1]}, timeout=30).status_code == 200
    assert requests.post(u, data="", headers={"Content-Type": "application/json"},
                         timeout=30).status_code == 200
    r = requests.post(u, json=[1], timeout=30)
    assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}
