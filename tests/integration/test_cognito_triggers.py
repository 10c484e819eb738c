"""Cognito Lambda triggers through stratus's Lambda, with AWS's event shapes: pre sign-up
(auto-confirm, rejection), custom message, pre token generation (claims override), post
confirmation, and custom auth (define/create/verify)."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, make_client
from cognito_helpers import outbox, verify

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
