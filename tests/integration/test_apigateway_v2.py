"""API Gateway HTTP APIs (apigatewayv2) with boto3: quick create, routes, integrations, stages
with auto-deploy, CORS, route throttling, JWT authorizers against a local OIDC issuer (tokens
minted with python3-jwt), Lambda proxy (payload 1.0 and 2.0) and Lambda REQUEST authorizers
with simple responses, OpenAPI import/export and bad input."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from test_apigateway_support import (OidcIssuer, Upstream, call, create_python_function,
                                     host_of, lambda_available)


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def v2(shared_stratus):
    return make_client(shared_stratus, "apigatewayv2")


@pytest.fixture(scope="module")
def upstream():
    with Upstream() as up:
        yield up


def test_control_plane(v2, upstream):
    api = v2.create_api(Name="crud", ProtocolType="HTTP", Description="d",
                        CorsConfiguration={"AllowOrigins": ["https://a.example"]}, Tags={"t": "1"})
    aid = api["ApiId"]
    assert api["ApiEndpoint"].startswith(f"http://{aid}.execute-api.localhost:")
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    with pytest.raises(ClientError) as e:
        v2.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert code(e) == "BadRequestException"
    integ = v2.create_integration(ApiId=aid, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                  IntegrationUri=upstream.url, PayloadFormatVersion="1.0")
    assert integ["TimeoutInMillis"] == 30000 and integ["ConnectionType"] == "INTERNET"
    with pytest.raises(ClientError) as e:
        v2.create_integration(ApiId=aid, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                              IntegrationUri="ftp://x", PayloadFormatVersion="1.0")
    assert code(e) == "BadRequestException"
    route = v2.create_route(ApiId=aid, RouteKey="GET /items/{id}",
                            Target="integrations/" + integ["IntegrationId"])
    assert route["AuthorizationType"] == "NONE"
    for bad in ["GET items", "FETCH /x", "GET /{proxy+}/more", "GET /a//b"]:
        with pytest.raises(ClientError) as e:
            v2.create_route(ApiId=aid, RouteKey=bad)
        assert code(e) == "BadRequestException", bad
    with pytest.raises(ClientError) as e:
        v2.create_route(ApiId=aid, RouteKey="GET /items/{id}")
    assert code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        v2.create_route(ApiId=aid, RouteKey="GET /other", Target="integrations/nope")
    assert code(e) == "BadRequestException"
    with pytest.raises(ClientError) as e:
        v2.delete_integration(ApiId=aid, IntegrationId=integ["IntegrationId"])
    assert code(e) == "ConflictException"
    stage = v2.create_stage(ApiId=aid, StageName="dev", StageVariables={"a": "b"})
    assert stage["StageName"] == "dev" and "DeploymentId" not in stage
    dep = v2.create_deployment(ApiId=aid, StageName="dev", Description="first")
    assert dep["DeploymentStatus"] == "DEPLOYED"
    assert v2.get_stage(ApiId=aid, StageName="dev")["DeploymentId"] == dep["DeploymentId"]
    assert [d["DeploymentId"] for d in v2.get_deployments(ApiId=aid)["Items"]] == [dep["DeploymentId"]]
    updated = v2.update_route(ApiId=aid, RouteId=route["RouteId"], RouteKey="GET /things/{id}")
    assert updated["RouteKey"] == "GET /things/{id}"
    with pytest.raises(ClientError) as e:
        v2.create_authorizer(ApiId=aid, Name="j", AuthorizerType="JWT",
                             IdentitySource=["$request.header.Authorization"])
    assert code(e) == "BadRequestException"
    arn = f"arn:aws:apigateway:us-east-1::/apis/{aid}"
    v2.tag_resource(ResourceArn=arn, Tags={"u": "2"})
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"t": "1", "u": "2"}
    v2.untag_resource(ResourceArn=arn, TagKeys=["t"])
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"u": "2"}
    v2.delete_cors_configuration(ApiId=aid)
    assert "CorsConfiguration" not in v2.get_api(ApiId=aid)
    v2.delete_api(ApiId=aid)
    with pytest.raises(ClientError) as e:
        v2.get_api(ApiId=aid)
    assert code(e) == "NotFoundException"
    assert e.value.response["Error"]["Message"] == f"Invalid API identifier specified {aid}"


def test_quick_create_routes_and_default_stage(shared_stratus, v2, upstream):
    api = v2.create_api(Name="quick", ProtocolType="HTTP", Target=upstream.url)
    aid = api["ApiId"]
    host = host_of(aid, shared_stratus.port)
    stages = v2.get_stages(ApiId=aid)["Items"]
    assert stages[0]["StageName"] == "$default" and stages[0]["AutoDeploy"] is True
    status, headers, _, body = call(shared_stratus, "PUT", "/any/path?q=1", host=host, body="hi")
    assert status == 200, body
    seen = json.loads(body)
    assert seen["method"] == "PUT" and seen["body"] == "hi"
    assert "apigw-requestid" in headers

    # Specific routes win over the greedy one; methods decide before paths fall back.
    mock_target = v2.create_integration(ApiId=aid, IntegrationType="HTTP_PROXY",
                                        IntegrationMethod="GET",
                                        IntegrationUri=upstream.url + "/item/{id}",
                                        PayloadFormatVersion="1.0")
    v2.create_route(ApiId=aid, RouteKey="GET /items/{id}",
                    Target="integrations/" + mock_target["IntegrationId"])
    status, _, _, body = call(shared_stratus, "GET", "/items/42", host=host)
    assert json.loads(body)["path"] == "/item/42"
    status, _, _, body = call(shared_stratus, "POST", "/items/42", host=host)
    assert json.loads(body)["path"] == "/"  # the $default route's upstream root


def test_named_stage_not_found_and_cors(shared_stratus, v2, upstream):
    api = v2.create_api(Name="cors", ProtocolType="HTTP",
                        CorsConfiguration={"AllowOrigins": ["https://app.example"],
                                           "AllowMethods": ["GET", "POST"],
                                           "AllowHeaders": ["content-type", "authorization"],
                                           "ExposeHeaders": ["x-upstream"], "MaxAge": 300})
    aid = api["ApiId"]
    integ = v2.create_integration(ApiId=aid, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                  IntegrationUri=upstream.url, PayloadFormatVersion="1.0")
    v2.create_route(ApiId=aid, RouteKey="ANY /pets", Target="integrations/" + integ["IntegrationId"])
    v2.create_stage(ApiId=aid, StageName="prod", AutoDeploy=True)
    host = host_of(aid, shared_stratus.port)
    status, _, _, body = call(shared_stratus, "GET", "/prod/pets", host=host)
    assert status == 200
    status, headers, _, body = call(shared_stratus, "GET", "/prod/nothing", host=host)
    assert status == 404 and json.loads(body) == {"message": "Not Found"}
    status, _, _, body = call(shared_stratus, "GET", "/pets", host=host)
    assert status == 404  # no $default stage: the first segment must name a stage
    status, headers, _, _ = call(shared_stratus, "OPTIONS", "/prod/pets", host=host,
                                 headers={"Origin": "https://app.example",
                                          "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-max-age"] == "300"
    status, headers, _, _ = call(shared_stratus, "GET", "/prod/pets", host=host,
                                 headers={"Origin": "https://app.example"})
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-expose-headers"] == "x-upstream"
    status, headers, _, _ = call(shared_stratus, "OPTIONS", "/prod/pets", host=host,
                                 headers={"Origin": "https://evil.example",
                                          "Access-Control-Request-Method": "POST"})
    assert status == 204 and "access-control-allow-origin" not in headers


def test_route_throttling(shared_stratus, v2, upstream):
    api = v2.create_api(Name="thr", ProtocolType="HTTP", Target=upstream.url)
    aid = api["ApiId"]
    v2.update_stage(ApiId=aid, StageName="$default",
                    DefaultRouteSettings={"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.01})
    host = host_of(aid, shared_stratus.port)
    codes = [call(shared_stratus, "GET", "/x", host=host)[0] for _ in range(3)]
    assert codes[0] == 200 and codes[-1] == 429
    status, _, _, body = call(shared_stratus, "GET", "/x", host=host)
    assert json.loads(body) == {"message": "Too Many Requests"}


def test_jwt_authorizer(shared_stratus, v2, upstream):
    with OidcIssuer() as issuer:
        api = v2.create_api(Name="jwt", ProtocolType="HTTP")
        aid = api["ApiId"]
        auth = v2.create_authorizer(ApiId=aid, Name="oidc", AuthorizerType="JWT",
                                    IdentitySource=["$request.header.Authorization"],
                                    JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]})
        integ = v2.create_integration(ApiId=aid, IntegrationType="HTTP_PROXY",
                                      IntegrationMethod="ANY", IntegrationUri=upstream.url,
                                      PayloadFormatVersion="1.0")
        v2.create_route(ApiId=aid, RouteKey="GET /me", AuthorizationType="JWT",
                        AuthorizerId=auth["AuthorizerId"],
                        Target="integrations/" + integ["IntegrationId"])
        v2.create_route(ApiId=aid, RouteKey="GET /admin", AuthorizationType="JWT",
                        AuthorizerId=auth["AuthorizerId"], AuthorizationScopes=["admin"],
                        Target="integrations/" + integ["IntegrationId"])
        v2.create_stage(ApiId=aid, StageName="$default", AutoDeploy=True)
        host = host_of(aid, shared_stratus.port)

        def get(path, token=None):
            headers = {"Authorization": "Bearer " + token} if token else {}
            return call(shared_stratus, "GET", path, host=host, headers=headers)

        status, _, _, body = get("/me")
        assert status == 401 and json.loads(body) == {"message": "Unauthorized"}
        assert get("/me", "garbage")[0] == 401
        assert get("/me", issuer.token())[0] == 200
        assert get("/me", issuer.token(aud="other"))[0] == 401
        assert get("/me", issuer.token(exp=1))[0] == 401
        assert get("/me", issuer.token(iss="https://someone.else"))[0] == 401
        # A token signed by another key with the same kid.
        other = OidcIssuer()
        forged = other.token(iss=issuer.url)
        assert get("/me", forged)[0] == 401
        status, _, _, body = get("/admin", issuer.token(scope="read"))
        assert status == 403 and json.loads(body) == {"message": "Forbidden"}
        assert get("/admin", issuer.token(scope="read admin"))[0] == 200
        # Keys are cached: the JWKS is not fetched per request.
        before = issuer.fetches
        for _ in range(3):
            assert get("/me", issuer.token())[0] == 200
        assert issuer.fetches == before


# ---- Lambda --------------------------------------------------------------------------------

V2_ECHO = """import json
def handler(event, context):
    if event.get("rawPath") == "/inferred":
        return {"just": "an object"}
    if event.get("version") == "1.0":
        return {"statusCode": 201, "headers": {"x-fn": "v1"}, "body": json.dumps(event)}
    return {"statusCode": 201, "headers": {"x-fn": "v2"}, "cookies": ["a=1", "b=2"],
            "body": json.dumps(event)}
"""

SIMPLE_AUTH = """def handler(event, context):
    ok = event["headers"].get("x-token") == "let-me-in"
    return {"isAuthorized": ok, "context": {"user": "u1", "kind": event["type"]}}
"""


@pytest.fixture(scope="module")
def lam(shared_stratus):
    client = make_client(shared_stratus, "lambda")
    if not lambda_available(client):
        pytest.skip("the Lambda service is not available in this build")
    return client


def test_lambda_payload_formats_and_simple_authorizer(shared_stratus, v2, lam):
    fn = create_python_function(lam, "apigw-v2-echo", V2_ECHO)
    auth_fn = create_python_function(lam, "apigw-v2-auth", SIMPLE_AUTH)
    api = v2.create_api(Name="lambda", ProtocolType="HTTP", Target=fn)
    aid = api["ApiId"]
    host = host_of(aid, shared_stratus.port)
    status, headers, raw, body = call(shared_stratus, "POST", "/some/path?a=1&a=2", host=host,
                                      headers={"Cookie": "c1=x; c2=y", "Content-Type": "text/plain"},
                                      body="hello")
    assert status == 201, body
    assert headers["x-fn"] == "v2"
    assert [v for k, v in raw if k.lower() == "set-cookie"] == ["a=1", "b=2"]
    ev = json.loads(body)
    assert ev["version"] == "2.0" and ev["routeKey"] == "$default"
    assert ev["rawPath"] == "/some/path" and ev["rawQueryString"] == "a=1&a=2"
    assert ev["queryStringParameters"] == {"a": "1,2"}
    assert ev["cookies"] == ["c1=x", "c2=y"]
    assert ev["body"] == "hello" and ev["isBase64Encoded"] is False
    assert ev["requestContext"]["http"]["method"] == "POST"
    assert ev["requestContext"]["stage"] == "$default"
    status, headers, _, body = call(shared_stratus, "GET", "/inferred", host=host)
    assert status == 200 and json.loads(body) == {"just": "an object"}
    assert headers["content-type"] == "application/json"

    # Payload format 1.0 on an HTTP API.
    integ = v2.create_integration(ApiId=aid, IntegrationType="AWS_PROXY", IntegrationUri=fn,
                                  PayloadFormatVersion="1.0")
    authz = v2.create_authorizer(ApiId=aid, Name="simple", AuthorizerType="REQUEST",
                                 AuthorizerUri=fn.replace(fn, auth_fn),
                                 AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
                                 IdentitySource=["$request.header.x-token"],
                                 AuthorizerResultTtlInSeconds=0)
    v2.create_route(ApiId=aid, RouteKey="GET /v1/{id}", Target="integrations/" + integ["IntegrationId"],
                    AuthorizationType="CUSTOM", AuthorizerId=authz["AuthorizerId"])
    assert call(shared_stratus, "GET", "/v1/7", host=host)[0] == 401
    assert call(shared_stratus, "GET", "/v1/7", host=host, headers={"x-token": "nope"})[0] == 403
    status, _, _, body = call(shared_stratus, "GET", "/v1/7", host=host,
                              headers={"x-token": "let-me-in"})
    assert status == 201, body
    ev = json.loads(body)
    assert ev["version"] == "1.0" and ev["resource"] == "/v1/{id}"
    assert ev["pathParameters"] == {"id": "7"}
    assert ev["requestContext"]["authorizer"]["lambda"] == {"user": "u1", "kind": "REQUEST"}


def test_import_and_export(shared_stratus, v2, upstream):
    doc = {"openapi": "3.0.1", "info": {"title": "imported", "version": "3"},
           "paths": {"/up": {"get": {"x-amazon-apigateway-integration": {
               "type": "http_proxy", "httpMethod": "GET", "uri": upstream.url + "/up",
               "payloadFormatVersion": "1.0"}}}},
           "x-amazon-apigateway-cors": {"allowOrigins": ["*"]}}
    api = v2.import_api(Body=json.dumps(doc))
    aid = api["ApiId"]
    assert api["Name"] == "imported"
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=aid)["Items"]] == ["GET /up"]
    v2.create_stage(ApiId=aid, StageName="$default", AutoDeploy=True)
    status, _, _, body = call(shared_stratus, "GET", "/up", host=host_of(aid, shared_stratus.port))
    assert status == 200 and json.loads(body)["path"] == "/up"
    out = json.loads(v2.export_api(ApiId=aid, Specification="OAS30", OutputType="JSON")["body"].read())
    assert out["paths"]["/up"]["get"]["x-amazon-apigateway-integration"]["uri"] == upstream.url + "/up"
    for bad in ["", "{", json.dumps({"swagger": "2.0"}),
                json.dumps({"openapi": "3.0.1", "paths": {"/a": {"get": {
                    "x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "ftp://x"}}}}})]:
        with pytest.raises(ClientError) as e:
            v2.import_api(Body=bad)
        assert code(e) == "BadRequestException", bad
