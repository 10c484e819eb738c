"""AWS_IAM authorization of execute-api requests (REST methods and HTTP API routes) through real
clients: requests are signed by botocore's own SigV4 signers (SigV4Auth, SigV4QueryAuth) for
service execute-api. Under --enforce-iam the signature is verified with the key's secret and
execute-api:Invoke on arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path> is
decided by IAM (identity policies, explicit denies, the REST API's resource policy); without
enforcement any well-formed signature is accepted. The Lambda behind the API echoes its event's
requestContext, so the caller's identity fields are checked as the function sees them."""
import json
import tempfile
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.auth
import botocore.credentials
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config

from conftest import Stratus, make_zip

ACCOUNT = "000000000000"
REGION = "us-east-1"
ECHO = '''
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event["requestContext"])}
'''


def boto(server, service, key="test", secret="test"):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def call(url, key=None, secret=None, token=None, presign=False, method="GET"):
    """(status, parsed body, headers) of a request signed by botocore for execute-api (unsigned
    when key is None)."""
    req = AWSRequest(method=method, url=url, headers={})
    if key:
        creds = botocore.credentials.Credentials(key, secret, token)
        if presign:
            botocore.auth.SigV4QueryAuth(creds, "execute-api", REGION, expires=300).add_auth(req)
        else:
            botocore.auth.SigV4Auth(creds, "execute-api", REGION).add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, method=method, headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null"), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


def echo_function(server):
    iam = boto(server, "iam")
    try:
        iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    lam = boto(server, "lambda")
    name = f"iam-echo-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
                        Handler="app.handler", Code={"ZipFile": make_zip({"app.py": ECHO})})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def rest_api(server, fn_arn, policy=None):
    ag = boto(server, "apigateway")
    kw = {"policy": policy} if policy else {}
    rid = ag.create_rest_api(name=f"iam-{uuid.uuid4().hex[:6]}", **kw)["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="items")["id"]
    ag.put_method(restApiId=rid, resourceId=res, httpMethod="GET", authorizationType="AWS_IAM")
    ag.put_integration(restApiId=rid, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                       integrationHttpMethod="POST",
                       uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations")
    ag.create_deployment(restApiId=rid, stageName="dev")
    return rid, f"{server.url}/restapis/{rid}/dev/_user_request_/items"


def http_api(server, fn_arn):
    agw = boto(server, "apigatewayv2")
    api = agw.create_api(Name=f"iam-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")["ApiId"]
    integ = agw.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn,
                                   PayloadFormatVersion="2.0")["IntegrationId"]
    agw.create_route(ApiId=api, RouteKey="GET /items", Target=f"integrations/{integ}", AuthorizationType="AWS_IAM")
    agw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    return api, f"{server.url}/_aws/execute-api/{api}/items"


def user(iam, name, statements):
    u = iam.create_user(UserName=name)["User"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return {"arn": u["Arn"], "id": u["UserId"], "key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}


@pytest.fixture(scope="module")
def enforced():
    with tempfile.TemporaryDirectory(prefix="stratus-agw-iam-") as d:
        s = Stratus(d, ["--enforce-iam", "true"]).start()
        yield s
        s.stop()


@pytest.fixture(scope="module")
def world(enforced):
    fn = echo_function(enforced)
    rid, rest_url = rest_api(enforced, fn)
    api, http_url = http_api(enforced, fn)
    iam = boto(enforced, "iam")
    invoke_items = {"Effect": "Allow", "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*/*/GET/items"}
    users = {
        "invoker": user(iam, "invoker", [invoke_items]),
        "nobody": user(iam, "nobody", []),
        "denied": user(iam, "denied", [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{rid}/*"}]),
    }
    return {"fn": fn, "rid": rid, "rest": rest_url, "api": api, "http": http_url, "users": users}


def arn_of(rid, stage="dev"):
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{rid}/{stage}/GET/items"


def test_rest_allowed_caller_reaches_lambda_with_identity(world):
    u = world["users"]["invoker"]
    status, body, _ = call(world["rest"], u["key"], u["secret"])
    assert status == 200, body
    ident = body["identity"]
    assert ident["accessKey"] == u["key"]
    assert ident["accountId"] == ACCOUNT
    assert ident["caller"] == u["id"] and ident["user"] == u["id"]
    assert ident["userArn"] == u["arn"]
    assert ident["cognitoIdentityId"] is None and ident["cognitoAuthenticationType"] is None
    assert "authorizer" not in body or not body["authorizer"].get("iam")
    # The presigned (query string) form is verified the same way.
    status, body, _ = call(world["rest"], u["key"], u["secret"], presign=True)
    assert status == 200, body
    assert body["identity"]["userArn"] == u["arn"]


def test_rest_caller_without_permission_is_denied(world):
    u = world["users"]["nobody"]
    status, body, headers = call(world["rest"], u["key"], u["secret"])
    assert status == 403
    assert body == {"Message": f"User: {u['arn']} is not authorized to perform: execute-api:Invoke "
                               f"on resource: {arn_of(world['rid'])}"}
    assert headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_rest_explicit_deny(world):
    u = world["users"]["denied"]
    status, body, _ = call(world["rest"], u["key"], u["secret"])
    assert status == 403
    assert body == {"Message": f"User: {u['arn']} is not authorized to perform: execute-api:Invoke "
                               f"on resource: {arn_of(world['rid'])} with an explicit deny"}


def test_rest_bad_signature_unknown_key_and_unsigned(world):
    u = world["users"]["invoker"]
    status, body, _ = call(world["rest"], u["key"], "not-the-secret")
    assert status == 403
    assert body["message"].startswith("The request signature we calculated does not match the signature "
                                      "you provided. Check your AWS Secret Access Key and signing method."), body
    status, body, _ = call(world["rest"], u["key"], "x", presign=True)
    assert status == 403 and body["message"].startswith("The request signature we calculated"), body
    status, body, _ = call(world["rest"], "AKIANOSUCHKEY0000000", "x")
    assert status == 403 and body == {"message": "The security token included in the request is invalid."}
    status, body, headers = call(world["rest"])
    assert status == 403 and body == {"message": "Missing Authentication Token"}
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_rest_resource_policy_grants_a_user_without_identity_policy(enforced, world):
    nobody = world["users"]["nobody"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": nobody["arn"]}, "Action": "execute-api:Invoke",
        "Resource": "execute-api:/dev/GET/items"}]})
    rid, url = rest_api(enforced, world["fn"], policy=policy)
    status, body, _ = call(url, nobody["key"], nobody["secret"])
    assert status == 200, body
    assert body["identity"]["userArn"] == nobody["arn"]
    # The same user is still refused on the API without the policy.
    assert call(world["rest"], nobody["key"], nobody["secret"])[0] == 403


def test_http_api_iam(world):
    u = world["users"]["invoker"]
    status, body, _ = call(world["http"], u["key"], u["secret"])
    assert status == 200, body
    assert body["authorizer"]["iam"] == {"accessKey": u["key"], "accountId": ACCOUNT, "callerId": u["id"],
                                         "cognitoIdentity": None, "principalOrgId": None,
                                         "userArn": u["arn"], "userId": u["id"]}
    n = world["users"]["nobody"]
    assert call(world["http"], n["key"], n["secret"])[:2] == (403, {"message": "Forbidden"})
    assert call(world["http"])[:2] == (403, {"message": "Forbidden"})
    status, body, _ = call(world["http"], u["key"], "wrong")
    assert status == 403 and body["message"].startswith("The request signature we calculated"), body


def test_without_enforcement_any_well_formed_signature_is_accepted():
    with tempfile.TemporaryDirectory(prefix="stratus-agw-iam-open-") as d:
        server = Stratus(d).start()
        try:
            fn = echo_function(server)
            _, url = rest_api(server, fn)
            status, body, _ = call(url, "123456789012", "any-secret")
            assert status == 200, body
            # The account comes from the access key, as for AWS APIs without enforcement.
            assert body["identity"]["accessKey"] == "123456789012"
            assert body["identity"]["accountId"] == "123456789012"
            assert body["identity"]["userArn"] == "arn:aws:iam::123456789012:root"
            assert call(url)[:2] == (403, {"message": "Missing Authentication Token"})
        finally:
            server.stop()
