"""REST API resource policies on NONE and CUSTOM (Lambda authorizer) methods, and on the account
root of AWS_IAM methods, under --enforce-iam (AWS's "How API Gateway resource policies affect
authorization workflow"): NONE methods need an allow from the policy for the anonymous caller,
Lambda- and Cognito-authorized methods are refused by an explicit deny whatever the authorizer
answers, and
aws:SourceIp is the connection's peer address (127.0.0.1 here). Without enforcement resource
policies are not evaluated."""
import json
import tempfile
import uuid

import pytest

from conftest import Stratus, make_zip
from test_apigateway_iam import ACCOUNT, REGION, boto, call, echo_function

AUTHORIZER = '''
def handler(event, context):
    return {"principalId": "alice", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": event["methodArn"]}]}}
'''


def ip_allow_list(*cidrs):
    """AWS's documented allow-list: allow everyone, explicitly deny outside `cidrs`."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": list(cidrs)}}}]})


def authorizer_function(server):
    lam = boto(server, "lambda")
    name = f"rp-authz-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
                        Handler="app.handler", Code={"ZipFile": make_zip({"app.py": AUTHORIZER})})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def lambda_uri(fn_arn):
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


def api(server, fn_arn, auth, policy=None, authorizer=None):
    """A REST API with GET /items authorized by `auth` (NONE, CUSTOM, COGNITO_USER_POOLS or AWS_IAM),
    deployed to dev; `authorizer` is the CUSTOM authorizer's function ARN or the user pool's ARN."""
    ag = boto(server, "apigateway")
    kw = {"policy": policy} if policy else {}
    rid = ag.create_rest_api(name=f"rp-{uuid.uuid4().hex[:6]}", **kw)["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    res = ag.create_resource(restApiId=rid, parentId=root, pathPart="items")["id"]
    mkw = {}
    if auth == "COGNITO_USER_POOLS":
        mkw["authorizerId"] = ag.create_authorizer(
            restApiId=rid, name="pool", type="COGNITO_USER_POOLS", providerARNs=[authorizer],
            identitySource="method.request.header.Authorization")["id"]
    if auth == "CUSTOM":
        mkw["authorizerId"] = ag.create_authorizer(
            restApiId=rid, name="tok", type="TOKEN", authorizerUri=lambda_uri(authorizer),
            identitySource="method.request.header.Authorization", authorizerResultTtlInSeconds=0)["id"]
    ag.put_method(restApiId=rid, resourceId=res, httpMethod="GET", authorizationType=auth, **mkw)
    ag.put_integration(restApiId=rid, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=lambda_uri(fn_arn))
    ag.create_deployment(restApiId=rid, stageName="dev")
    return rid, f"{server.url}/restapis/{rid}/dev/_user_request_/items"


def method_arn(rid):
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{rid}/dev/GET/items"


def denial(rid, explicit, user="anonymous"):
    m = f"User: {user} is not authorized to perform: execute-api:Invoke on resource: {method_arn(rid)}"
    return {"Message": m + (" with an explicit deny" if explicit else "")}


def get(url, headers=None):
    import urllib.error
    import urllib.request
    r = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture(scope="module")
def enforced():
    with tempfile.TemporaryDirectory(prefix="stratus-agw-rp-") as d:
        s = Stratus(d, ["--enforce-iam", "true"]).start()
        s.fn = echo_function(s)
        s.authz = authorizer_function(s)
        yield s
        s.stop()


def test_none_method_without_policy_is_open(enforced):
    _, url = api(enforced, enforced.fn, "NONE")
    status, body = get(url)
    assert status == 200, body
    assert body["identity"]["sourceIp"] == "127.0.0.1"


def test_ip_allow_list_admits_listed_address(enforced):
    _, url = api(enforced, enforced.fn, "NONE", ip_allow_list("10.0.0.0/8", "127.0.0.1/32"))
    status, body = get(url)
    assert status == 200, body


def test_ip_allow_list_refuses_unlisted_address_with_explicit_deny(enforced):
    rid, url = api(enforced, enforced.fn, "NONE", ip_allow_list("192.0.2.0/24"))
    status, body = get(url)
    assert (status, body) == (403, denial(rid, explicit=True))


def test_none_method_needs_an_allow_for_anonymous(enforced):
    # Only an account principal is allowed: nothing allows the anonymous caller (implicit deny).
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    rid, url = api(enforced, enforced.fn, "NONE", policy)
    assert get(url) == (403, denial(rid, explicit=False))
    # A policy allowing another stage only leaves dev implicitly denied too.
    other = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/*"}]})
    rid, url = api(enforced, enforced.fn, "NONE", other)
    assert get(url) == (403, denial(rid, explicit=False))


def test_custom_authorizer_method_refused_by_explicit_deny(enforced):
    rid, url = api(enforced, enforced.fn, "CUSTOM", ip_allow_list("192.0.2.0/24"), enforced.authz)
    assert get(url, {"Authorization": "tok"}) == (403, denial(rid, explicit=True))


def test_custom_authorizer_method_allowed_by_authorizer_when_policy_is_silent(enforced):
    # The policy allows 127.0.0.1: the authorizer's allow admits.
    _, url = api(enforced, enforced.fn, "CUSTOM", ip_allow_list("127.0.0.1/32"), enforced.authz)
    status, body = get(url, {"Authorization": "tok"})
    assert status == 200, body
    assert body["authorizer"]["principalId"] == "alice"
    # No statement applies to the anonymous caller: the authorizer's allow is enough (AWS's table).
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    _, url = api(enforced, enforced.fn, "CUSTOM", policy, enforced.authz)
    status, body = get(url, {"Authorization": "tok"})
    assert status == 200, body
    # The authorizer still refuses a request without its token.
    assert get(url)[0] == 401


def test_cognito_method_refused_by_explicit_deny_and_allowed_from_listed_address(enforced):
    idp = boto(enforced, "cognito-idp")
    pool = idp.create_user_pool(PoolName=f"rp-{uuid.uuid4().hex[:6]}")["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool["Id"], Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool["Id"], Username="alice", Password="Passw0rd!x", Permanent=True)
    token = idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!x"})[
        "AuthenticationResult"]["IdToken"]
    rid, url = api(enforced, enforced.fn, "COGNITO_USER_POOLS", ip_allow_list("192.0.2.0/24"), pool["Arn"])
    assert get(url, {"Authorization": token}) == (403, denial(rid, explicit=True))
    _, url = api(enforced, enforced.fn, "COGNITO_USER_POOLS", ip_allow_list("127.0.0.1/32"), pool["Arn"])
    status, body = get(url, {"Authorization": token})
    assert status == 200, body
    assert body["authorizer"]["claims"]["cognito:username"] == "alice"


def test_account_root_on_aws_iam_method_is_stopped_by_explicit_deny(enforced):
    rid, url = api(enforced, enforced.fn, "AWS_IAM", ip_allow_list("192.0.2.0/24"))
    status, body, _ = call(url, "test", "test")
    assert (status, body) == (403, denial(rid, explicit=True, user=f"arn:aws:iam::{ACCOUNT}:root"))
    _, url = api(enforced, enforced.fn, "AWS_IAM", ip_allow_list("127.0.0.1/32"))
    status, body, _ = call(url, "test", "test")
    assert status == 200, body


def test_without_enforcement_resource_policies_are_not_evaluated():
    deny_all = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    with tempfile.TemporaryDirectory(prefix="stratus-agw-rp-open-") as d:
        server = Stratus(d).start()
        try:
            fn = echo_function(server)
            _, url = api(server, fn, "NONE", deny_all)
            status, body = get(url)
            assert status == 200, body
        finally:
            server.stop()
