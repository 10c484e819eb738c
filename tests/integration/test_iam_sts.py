"""STS temporary credentials through boto3: AssumeRole (session policies, duration, external id,
tags, source identity), GetSessionToken, GetFederationToken, AssumeRoleWithWebIdentity with
tokens of stratus's Cognito registered as an OIDC provider; GetCallerIdentity shows the caller."""
import base64
import json
from datetime import datetime, timezone

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import make_client

ACCOUNT = "000000000000"
PASSWORD = "Corr3ct-horse!"


def trust(principal, condition=None, action="sts:AssumeRole"):
    st = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def session_client(server, service, creds):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"],
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def iam(shared_stratus):
    return make_client(shared_stratus, "iam")


@pytest.fixture(scope="module")
def sts(shared_stratus):
    return make_client(shared_stratus, "sts")


def test_assume_role_returns_credentials_that_identify_the_session(shared_stratus, iam, sts):
    role = iam.create_role(RoleName="worker", MaxSessionDuration=7200,
                           AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]
    r = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="job-1", DurationSeconds=1800,
                        ExternalId="ext-1", SourceIdentity="alice",
                        Tags=[{"Key": "project", "Value": "p1"}])
    c = r["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and c["SessionToken"]
    left = (c["Expiration"] - datetime.now(timezone.utc)).total_seconds()
    assert 1700 < left <= 1800
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/job-1"
    assert r["AssumedRoleUser"]["AssumedRoleId"] == role["RoleId"] + ":job-1"
    assert r["SourceIdentity"] == "alice"
    ident = session_client(shared_stratus, "sts", c).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/job-1"
    assert ident["UserId"] == role["RoleId"] + ":job-1"


def test_assume_role_limits(shared_stratus, iam, sts):
    arn = iam.create_role(RoleName="short", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "MaxSessionDuration" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1", Policy="{broken")
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    # The server checks the model's range itself (botocore would refuse before sending).
    raw = boto3.client("sts", endpoint_url=shared_stratus.url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        raw.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=60)
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_session_policy_by_arn_and_inline(iam, sts):
    arn = iam.create_role(RoleName="scoped", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    r = sts.assume_role(RoleArn=arn, RoleSessionName="s1",
                        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
                        Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert r["PackedPolicySize"] > 0
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1",
                        PolicyArns=[{"arn": f"arn:aws:iam::{ACCOUNT}:policy/does-not-exist"}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_session_token_and_federation_token(shared_stratus, iam, sts):
    iam.create_user(UserName="fed")
    key = iam.create_access_key(UserName="fed")["AccessKey"]
    user_sts = boto3.client("sts", endpoint_url=shared_stratus.url, region_name="us-east-1",
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    t = user_sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert session_client(shared_stratus, "sts", t).get_caller_identity()["Arn"] == \
        f"arn:aws:iam::{ACCOUNT}:user/fed"
    f = user_sts.get_federation_token(Name="visitor", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    assert f["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/visitor"
    fed_ident = session_client(shared_stratus, "sts", f["Credentials"]).get_caller_identity()
    assert fed_ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/visitor"
    with pytest.raises(ClientError) as e:
        session_client(shared_stratus, "sts", t).get_session_token()
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def cognito_token(server):
    idp = make_client(server, "cognito-idp")
    pool = idp.create_user_pool(PoolName="web-identity")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="app",
                                         ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="wendy", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="wendy", Password=PASSWORD, Permanent=True)
    r = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": "wendy", "PASSWORD": PASSWORD})
    return r["AuthenticationResult"]["IdToken"], client


def test_assume_role_with_web_identity_from_cognito(shared_stratus, iam, sts):
    token, client_id = cognito_token(shared_stratus)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    issuer = claims["iss"]
    anonymous = boto3.client("sts", endpoint_url=shared_stratus.url, region_name="us-east-1",
                             config=Config(signature_version=botocore.UNSIGNED))
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/web"
    # No provider registered yet.
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=trust(
        {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/" + issuer.split("://", 1)[1]},
        {"StringEquals": {issuer.split("://", 1)[1] + ":aud": client_id}},
        action="sts:AssumeRoleWithWebIdentity"))
    with pytest.raises(ClientError) as e:
        anonymous.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web1", WebIdentityToken=token)
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"
    provider = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=[client_id],
                                                   ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    r = anonymous.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web1", WebIdentityToken=token)
    assert r["SubjectFromWebIdentityToken"] == claims["sub"]
    assert r["Audience"] == client_id
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/web/web1"
    ident = session_client(shared_stratus, "sts", r["Credentials"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/web/web1"
    # A tampered token (payload changed, signature kept) is refused.
    head, body, sig = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged["sub"] = "someone-else"
    body2 = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    with pytest.raises(ClientError) as e:
        anonymous.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web1",
                                                WebIdentityToken=f"{head}.{body2}.{sig}")
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"
    # The trust policy's audience condition is evaluated.
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID=client_id)
    with pytest.raises(ClientError) as e:
        anonymous.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web1", WebIdentityToken=token)
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID=client_id)
    iam.update_assume_role_policy(RoleName="web", PolicyDocument=trust(
        {"Federated": provider}, {"StringEquals": {issuer.split("://", 1)[1] + ":sub": "nobody"}},
        action="sts:AssumeRoleWithWebIdentity"))
    with pytest.raises(ClientError) as e:
        anonymous.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web1", WebIdentityToken=token)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
