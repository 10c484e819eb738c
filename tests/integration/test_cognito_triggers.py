"""Cognito Lambda triggers through stratus's Lambda, with AWS's event shapes: pre sign-up
(auto-confirm, rejection), custom message, pre token generation (claims override), post
confirmation, and custom auth (define/create/verify)."""
import base64
import json

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, make_client
from cognito_helpers import http, outbox, verify

HANDLER = r'''
import json
def handler(event, context):
    src = event["triggerSource"]
    print(json.dumps({"seen": src}))
    if src == "PreSignUp_SignUp":
        if event["request"]["userAttributes"].get("email", "").endswith("@blocked.example"):
            raise Exception("Blocked domain")
        event["response"]["autoConfirmUser"] = event["request"]["userAttributes"].get("email", "").endswith("@trusted.example")
    elif src.startswith("CustomMessage_"):
        event["response"]["emailSubject"] = "Welcome"
        event["response"]["emailMessage"] = "Hello " + event["userName"] + ", code " + event["request"]["codeParameter"]
    elif src.startswith("TokenGeneration_"):
        event["response"]["claimsOverrideDetails"] = {"claimsToAddOrOverride": {"tenant": "acme"},
                                                      "claimsToSuppress": ["email"]}
    elif src == "DefineAuthChallenge_Authentication":
        s = event["request"]["session"]
        if s and s[-1]["challengeResult"]:
            event["response"].update(issueTokens=True, failAuthentication=False)
        elif len(s) >= 2:
            event["response"].update(issueTokens=False, failAuthentication=True)
        else:
            event["response"].update(challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False)
    elif src == "CreateAuthChallenge_Authentication":
        event["response"]["publicChallengeParameters"] = {"question": "2+2?"}
        event["response"]["privateChallengeParameters"] = {"answer": "4"}
    elif src == "VerifyAuthChallengeResponse_Authentication":
        event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == event["request"]["privateChallengeParameters"]["answer"]
    return event
'''


@pytest.fixture(scope="module")
def setup(shared_stratus):
    lam = make_client(shared_stratus, "lambda")
    create_function(lam, "cognito-triggers", {"app.py": HANDLER})
    arn = lam.get_function(FunctionName="cognito-triggers")["Configuration"]["FunctionArn"]
    idp = make_client(shared_stratus, "cognito-idp")
    config = {k: arn for k in ("PreSignUp", "CustomMessage", "PreTokenGeneration", "DefineAuthChallenge",
                               "CreateAuthChallenge", "VerifyAuthChallengeResponse")}
    pool = idp.create_user_pool(PoolName="triggers", AutoVerifiedAttributes=["email"], LambdaConfig=config)["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    return idp, pool, client


def test_pre_sign_up_custom_message_and_pre_token(shared_stratus, setup):
    idp, pool, client = setup
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client, Username="mallory", Password="Passw0rd!",
                    UserAttributes=[{"Name": "email", "Value": "m@blocked.example"}])
    assert e.value.response["Error"]["Code"] == "UserLambdaValidationException"
    assert e.value.response["Error"]["Message"] == "PreSignUp failed with error Blocked domain."
    r = idp.sign_up(ClientId=client, Username="trent", Password="Passw0rd!",
                    UserAttributes=[{"Name": "email", "Value": "t@trusted.example"}])
    assert r["UserConfirmed"] is True
    r = idp.sign_up(ClientId=client, Username="uma", Password="Passw0rd!",
                    UserAttributes=[{"Name": "email", "Value": "u@example.com"}])
    assert r["UserConfirmed"] is False
    msg = outbox(shared_stratus, pool, "uma")[-1]
    assert msg["Subject"] == "Welcome" and msg["Message"] == f"Hello uma, code {msg['Code']}"
    tokens = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "trent", "PASSWORD": "Passw0rd!"})["AuthenticationResult"]
    claims = verify(shared_stratus, pool, tokens["IdToken"])
    assert claims["tenant"] == "acme" and "email" not in claims


def test_custom_auth_challenge(setup):
    idp, pool, client = setup
    r = idp.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "trent"})
    assert r["ChallengeName"] == "CUSTOM_CHALLENGE" and r["ChallengeParameters"]["question"] == "2+2?"
    r = idp.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE", Session=r["Session"],
                                      ChallengeResponses={"USERNAME": "trent", "ANSWER": "5"})
    assert r["ChallengeName"] == "CUSTOM_CHALLENGE"
    r = idp.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE", Session=r["Session"],
                                      ChallengeResponses={"USERNAME": "trent", "ANSWER": "4"})
    assert "AccessToken" in r["AuthenticationResult"]


V2_HANDLER = r'''
def handler(event, context):
    assert event["version"] == "2", event["version"]
    scopes = event["request"]["scopes"]
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tier": "gold"}},
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "acme", "seen_scopes": " ".join(scopes),
                                      "client_id": "forged"},
            "claimsToSuppress": ["cognito:groups", "username", "iss"],
            "scopesToAdd": ["orders/read"],
            "scopesToSuppress": ["aws.cognito.signin.user.admin"]},
    }
    return event
'''


def set_pre_token_config(idp, pool, config):
    """UpdateUserPool with LambdaConfig.PreTokenGenerationConfig, which Debian's botocore 1.29
    predates: the client's own request, with the member written into its JSON body before it is
    signed."""
    def inject(request, **_):
        body = json.loads(request.data)
        body["LambdaConfig"] = {"PreTokenGenerationConfig": config}
        request.data = json.dumps(body).encode()
    idp.meta.events.register_first("before-sign.cognito-idp.UpdateUserPool", inject)
    try:
        idp.update_user_pool(UserPoolId=pool, LambdaConfig={})
    finally:
        idp.meta.events.unregister("before-sign.cognito-idp.UpdateUserPool", inject)


def test_pre_token_generation_v2_changes_the_access_token(shared_stratus):
    lam = make_client(shared_stratus, "lambda")
    create_function(lam, "cognito-pretoken-v2", {"app.py": V2_HANDLER})
    arn = lam.get_function(FunctionName="cognito-pretoken-v2")["Configuration"]["FunctionArn"]
    idp = make_client(shared_stratus, "cognito-idp")
    pool = idp.create_user_pool(PoolName="pretoken-v2")["UserPool"]["Id"]
    set_pre_token_config(idp, pool, {"LambdaVersion": "V2_0", "LambdaArn": arn})
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="vera", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="vera", Password="Passw0rd!", Permanent=True)
    idp.create_group(UserPoolId=pool, GroupName="staff")
    idp.admin_add_user_to_group(UserPoolId=pool, Username="vera", GroupName="staff")
    tokens = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "vera", "PASSWORD": "Passw0rd!"})["AuthenticationResult"]
    access = verify(shared_stratus, pool, tokens["AccessToken"])
    assert "cognito:groups" not in access  # suppressed from the access token only
    assert verify(shared_stratus, pool, tokens["IdToken"], audience=client)["cognito:groups"] == ["staff"]
    assert access["tenant"] == "acme"
    assert access["seen_scopes"] == "aws.cognito.signin.user.admin"  # the event's request.scopes
    assert access["scope"] == "orders/read"  # added, and the default scope suppressed
    # Claims Cognito sets itself are neither changed nor removed.
    assert access["username"] == "vera" and access["client_id"] == client and access["token_use"] == "access" and "iss" in access
    assert verify(shared_stratus, pool, tokens["IdToken"], audience=client)["tier"] == "gold"
    # Version 1 events say so (and a version 1 function's accessTokenGeneration is not applied).
    set_pre_token_config(idp, pool, {"LambdaVersion": "V1_0", "LambdaArn": arn})
    with pytest.raises(ClientError) as e:  # the handler insists on version 2
        idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "vera", "PASSWORD": "Passw0rd!"})
    assert e.value.response["Error"]["Code"] == "UserLambdaValidationException"


V3_HANDLER = r'''
def handler(event, context):
    assert event["version"] == "3", event["version"]
    if event["triggerSource"] == "TokenGeneration_ClientCredentials":
        event["response"]["claimsAndScopeOverrideDetails"] = {"accessTokenGeneration": {
            "claimsToAddOrOverride": {"machine": event["callerContext"]["clientId"],
                                      "seen_scopes": " ".join(event["request"]["scopes"])},
            "scopesToAdd": ["orders/audit"]}}
    return event
'''


def test_pre_token_generation_v3_changes_client_credentials_tokens(shared_stratus):
    lam = make_client(shared_stratus, "lambda")
    create_function(lam, "cognito-pretoken-v3", {"app.py": V3_HANDLER})
    arn = lam.get_function(FunctionName="cognito-pretoken-v3")["Configuration"]["FunctionArn"]
    idp = make_client(shared_stratus, "cognito-idp")
    pool = idp.create_user_pool(PoolName="pretoken-v3")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool, Domain="pretoken-v3")
    idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read orders"}])
    machine = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="machine", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["orders/read"])["UserPoolClient"]
    basic = base64.b64encode(f"{machine['ClientId']}:{machine['ClientSecret']}".encode()).decode()

    def token():
        status, _, body = http(f"{shared_stratus.url}/_cognito/pretoken-v3/oauth2/token",
                               data={"grant_type": "client_credentials", "scope": "orders/read"},
                               headers={"Authorization": "Basic " + basic})
        assert status == 200, body
        return verify(shared_stratus, pool, json.loads(body)["access_token"])

    set_pre_token_config(idp, pool, {"LambdaVersion": "V2_0", "LambdaArn": arn})
    assert "machine" not in token()  # version 2 does not run for machines
    set_pre_token_config(idp, pool, {"LambdaVersion": "V3_0", "LambdaArn": arn})
    claims = token()
    assert claims["machine"] == machine["ClientId"] and claims["seen_scopes"] == "orders/read"
    assert claims["scope"] == "orders/read orders/audit" and claims["client_id"] == machine["ClientId"]
