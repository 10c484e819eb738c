"""apigateway:invoke's AuthType and AllowNullValues through boto3: an HTTP API whose route
requires IAM authorization refuses NO_AUTH (ApiGateway.403) and accepts IAM_ROLE and
RESOURCE_POLICY, whose requests carry a SigV4 signature for execute-api; RequestBody members
that are null are dropped unless AllowNullValues is true. The API's Lambda integration echoes
what it received. Under IAM enforcement the signing credentials are a session of the execution
role, assumed as states.amazonaws.com: a role that does not trust Step Functions fails the task,
and the API's AWS_IAM check needs execute-api:Invoke in the role's policies."""
import json
import tempfile
import uuid

from conftest import Stratus, create_function, make_client
from test_stepfunctions import create, sfn_client, wait_done

ECHO = '''
import json
def handler(event, context):
    headers = event.get("headers") or {}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"auth": headers.get("authorization", ""),
                                "host": headers.get("host", ""),
                                "body": event.get("body")})}
'''


def echo_api(server):
    lam = make_client(server, "lambda")
    agw = make_client(server, "apigatewayv2")
    fn = create_function(lam, f"echo-{uuid.uuid4().hex[:8]}", {"app.py": ECHO})
    fn_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    api = agw.create_api(Name=f"sfn-auth-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")["ApiId"]
    integ = agw.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn,
                                   PayloadFormatVersion="2.0")["IntegrationId"]
    agw.create_route(ApiId=api, RouteKey="POST /iam", Target=f"integrations/{integ}", AuthorizationType="AWS_IAM")
    agw.create_route(ApiId=api, RouteKey="POST /open", Target=f"integrations/{integ}")
    agw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    return f"{api}.execute-api.us-east-1.amazonaws.com"


def invoke(sfn, endpoint, path, **params):
    arn = create(sfn, {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke",
        "Parameters": dict({"ApiEndpoint": endpoint, "Method": "POST", "Path": path}, **params),
        "End": True}}})
    return wait_done(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"], timeout=60)


def test_auth_type_and_null_values(lambda_server):
    sfn = sfn_client(lambda_server)
    endpoint = echo_api(lambda_server)
    body = {"keep": 1, "gone": None, "nested": {"gone": None, "x": [1]}}

    d = invoke(sfn, endpoint, "iam", RequestBody=body)  # NO_AUTH, the default
    assert d["status"] == "FAILED" and d["error"] == "ApiGateway.403", d

    for auth in ("IAM_ROLE", "RESOURCE_POLICY"):
        d = invoke(sfn, endpoint, "iam", AuthType=auth, RequestBody=body)
        assert d["status"] == "SUCCEEDED", d
        out = json.loads(d["output"])
        assert out["StatusCode"] == 200
        echoed = out["ResponseBody"]
        assert echoed["auth"].startswith("AWS4-HMAC-SHA256 Credential=000000000000/"), echoed
        assert "/us-east-1/execute-api/aws4_request" in echoed["auth"]
        assert echoed["host"] == endpoint
        assert json.loads(echoed["body"]) == {"keep": 1, "nested": {"x": [1]}}  # nulls dropped

    d = invoke(sfn, endpoint, "open", AllowNullValues=True, RequestBody=body)
    assert d["status"] == "SUCCEEDED", d
    echoed = json.loads(d["output"])["ResponseBody"]
    assert echoed["auth"] == ""  # NO_AUTH: unsigned
    assert json.loads(echoed["body"]) == body  # nulls kept

    d = invoke(sfn, endpoint, "open", AuthType="COGNITO")
    assert d["status"] == "FAILED" and d["error"] == "States.Runtime"
    assert "NO_AUTH, IAM_ROLE or RESOURCE_POLICY" in d["cause"]


def iam_mock_api(ag):
    """A REST API whose GET /items requires IAM authorization (MOCK integration)."""
    rid = ag.create_rest_api(name=f"sfn-iam-{uuid.uuid4().hex[:6]}")["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="items")["id"]
    ag.put_method(restApiId=rid, resourceId=res, httpMethod="GET", authorizationType="AWS_IAM")
    ag.put_integration(restApiId=rid, resourceId=res, httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    ag.put_method_response(restApiId=rid, resourceId=res, httpMethod="GET", statusCode="200")
    ag.put_integration_response(restApiId=rid, resourceId=res, httpMethod="GET", statusCode="200",
                                responseTemplates={"application/json": '{"ok": true}'})
    ag.create_deployment(restApiId=rid, stageName="dev")
    return f"{rid}.execute-api.us-east-1.amazonaws.com"


def test_iam_role_is_assumed_under_enforcement():
    with tempfile.TemporaryDirectory(prefix="stratus-sfn-iam-") as d:
        server = Stratus(d, ["--enforce-iam", "true"]).start()
        try:
            iam = make_client(server, "iam")  # the bootstrap root
            roles = {}
            for name, service in (("sfn-exec", "states.amazonaws.com"), ("lambda-only", "lambda.amazonaws.com")):
                roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                                                            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
            endpoint = iam_mock_api(make_client(server, "apigateway"))
            sfn = sfn_client(server)

            def run(role, auth):
                arn = sfn.create_state_machine(name=f"iam-{uuid.uuid4().hex[:8]}", roleArn=role, definition=json.dumps(
                    {"StartAt": "Call", "States": {"Call": {
                        "Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke", "End": True,
                        "Parameters": {"ApiEndpoint": endpoint, "Method": "GET", "Stage": "dev", "Path": "items",
                                       "AuthType": auth}}}}))["stateMachineArn"]
                return wait_done(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"], timeout=60)

            # As on AWS, the role's session needs execute-api:Invoke on the method (AWS_IAM).
            d0 = run(roles["sfn-exec"], "IAM_ROLE")
            assert d0["status"] == "FAILED" and d0["error"] == "ApiGateway.403", d0
            assert "is not authorized to perform: execute-api:Invoke" in d0["cause"], d0
            iam.put_role_policy(RoleName="sfn-exec", PolicyName="invoke", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                        "Resource": "arn:aws:execute-api:us-east-1:*:*/dev/GET/items"}]}))
            d1 = run(roles["sfn-exec"], "IAM_ROLE")
            assert d1["status"] == "SUCCEEDED", d1
            assert json.loads(d1["output"])["ResponseBody"] == {"ok": True}
            d2 = run(roles["sfn-exec"], "NO_AUTH")
            assert d2["status"] == "FAILED" and d2["error"] == "ApiGateway.403", d2
            d3 = run(roles["lambda-only"], "IAM_ROLE")
            assert d3["status"] == "FAILED" and d3["error"] == "States.TaskFailed", d3
            assert "Unable to assume the execution role" in d3["cause"] and "AccessDenied" in d3["cause"], d3
        finally:
            server.stop()
