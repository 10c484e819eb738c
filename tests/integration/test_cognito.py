"""Cognito user pools with boto3 and the aws CLI: pools, clients, users, groups, every auth flow,
tokens verified with the pool's JWKS by python3-jwt, and the error paths (wrong passwords,
lockout, hidden user existence, tampered and alg:none tokens, replayed SRP sessions)."""
import base64
import json

import jwt
import pytest
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client
from cognito_helpers import (http, last_code, outbox, srp_a, srp_sign_in, srp_signature, totp,
                             verify)

PASSWORD = "Passw0rd!"


@pytest.fixture(scope="module")
def idp(shared_stratus):
    return make_client(shared_stratus, "cognito-idp")


@pytest.fixture(scope="module")
def pool(idp):
    p = idp.create_user_pool(PoolName="main", AutoVerifiedAttributes=["email"],
                             Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}])["UserPool"]
    c = idp.create_user_pool_client(
        UserPoolId=p["Id"], ClientName="web", PreventUserExistenceErrors="ENABLED",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                           "ALLOW_ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]
    return p["Id"], c["ClientId"]


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def sign_up(server, idp, pool, username, email=None, password=PASSWORD):
    pool_id, client_id = pool
    r = idp.sign_up(ClientId=client_id, Username=username, Password=password,
                    UserAttributes=[{"Name": "email", "Value": email or f"{username}@example.com"}])
    assert r["UserConfirmed"] is False
    idp.confirm_sign_up(ClientId=client_id, Username=username,
                        ConfirmationCode=last_code(server, pool_id, username))
    return r["UserSub"]


def password_auth(idp, client_id, username, password=PASSWORD):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def test_pool_lifecycle_with_cli(shared_stratus):
    _, out, _ = aws_cli(shared_stratus, "cognito-idp", "create-user-pool", "--pool-name", "cli-pool",
                        "--username-attributes", "email")
    pool = json.loads(out)["UserPool"]
    assert pool["Id"].startswith("us-east-1_")
    assert pool["Arn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool['Id']}"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    _, out, _ = aws_cli(shared_stratus, "cognito-idp", "list-user-pools", "--max-results", "60")
    assert pool["Id"] in [p["Id"] for p in json.loads(out)["UserPools"]]
    _, out, _ = aws_cli(shared_stratus, "cognito-idp", "create-user-pool-client", "--user-pool-id", pool["Id"],
                        "--client-name", "cli", "--generate-secret")
    client = json.loads(out)["UserPoolClient"]
    assert len(client["ClientSecret"]) == 51
    aws_cli(shared_stratus, "cognito-idp", "delete-user-pool", "--user-pool-id", pool["Id"])
    code, _, err = aws_cli(shared_stratus, "cognito-idp", "describe-user-pool", "--user-pool-id", pool["Id"],
                           check=False)
    assert code != 0 and "ResourceNotFoundException" in err


def test_sign_up_confirm_and_tokens_verify_with_jwks(shared_stratus, idp, pool):
    pool_id, client_id = pool
    sub = sign_up(shared_stratus, idp, pool, "alice")
    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1,
                     RoleArn="arn:aws:iam::000000000000:role/admins")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    r = password_auth(idp, client_id, "alice")["AuthenticationResult"]
    assert r["TokenType"] == "Bearer" and r["ExpiresIn"] == 3600
    id_claims = verify(shared_stratus, pool_id, r["IdToken"], audience=client_id)
    assert id_claims["sub"] == sub
    assert id_claims["cognito:username"] == "alice"
    assert id_claims["cognito:groups"] == ["admins"]
    assert id_claims["cognito:preferred_role"] == "arn:aws:iam::000000000000:role/admins"
    assert id_claims["email_verified"] is True
    assert id_claims["token_use"] == "id"
    access = verify(shared_stratus, pool_id, r["AccessToken"])
    assert access["client_id"] == client_id and access["username"] == "alice"
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert jwt.get_unverified_header(r["AccessToken"])["alg"] == "RS256"
    user = idp.get_user(AccessToken=r["AccessToken"])
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email"] == "alice@example.com"
    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": r["RefreshToken"]})["AuthenticationResult"]
    assert "RefreshToken" not in refreshed
    assert verify(shared_stratus, pool_id, refreshed["IdToken"])["origin_jti"] == id_claims["origin_jti"]


def test_srp_sign_in_and_replay(shared_stratus, idp, pool):
    pool_id, client_id = pool
    sign_up(shared_stratus, idp, pool, "bob")
    r = srp_sign_in(idp, client_id, pool_id, "bob", PASSWORD)
    verify(shared_stratus, pool_id, r["AuthenticationResult"]["AccessToken"])
    # The same PASSWORD_VERIFIER answer twice: the session is single-use.
    a, A = srp_a()
    init = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                             AuthParameters={"USERNAME": "bob", "SRP_A": format(A, "x")})
    p = init["ChallengeParameters"]
    sig, ts = srp_signature(pool_id, p["USER_ID_FOR_SRP"], PASSWORD, a, A, p)
    answer = dict(ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", Session=init["Session"],
                  ChallengeResponses={"USERNAME": "bob", "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                                      "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig})
    idp.respond_to_auth_challenge(**answer)
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(**answer)
    assert error_code(e) == "NotAuthorizedException"
    # SRP_A = 0 (mod N) is an attack: refused without crashing.
    init = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                             AuthParameters={"USERNAME": "bob", "SRP_A": "0"})
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", Session=init["Session"],
            ChallengeResponses={"USERNAME": "bob", "PASSWORD_CLAIM_SECRET_BLOCK": init["ChallengeParameters"]["SECRET_BLOCK"],
                                "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": "AAAA"})
    assert error_code(e) == "NotAuthorizedException"


def test_wrong_password_lockout_and_hidden_existence(shared_stratus, idp, pool):
    _, client_id = pool
    sign_up(shared_stratus, idp, pool, "carol")
    with pytest.raises(ClientError) as unknown:
        password_auth(idp, client_id, "nobody-here")
    with pytest.raises(ClientError) as wrong:
        password_auth(idp, client_id, "carol", "Wrong-passw0rd")
    for e in (unknown, wrong):
        assert error_code(e) == "NotAuthorizedException"
        assert e.value.response["Error"]["Message"] == "Incorrect username or password."
    for _ in range(5):
        with pytest.raises(ClientError):
            password_auth(idp, client_id, "carol", "Wrong-passw0rd")
    with pytest.raises(ClientError) as locked:
        password_auth(idp, client_id, "carol")
    assert locked.value.response["Error"]["Message"] == "Password attempts exceeded"
    # Forgot password for an unknown user is indistinguishable from a known one.
    r = idp.forgot_password(ClientId=client_id, Username="nobody-here")
    assert "CodeDeliveryDetails" in r


def test_tampered_and_alg_none_tokens_refused(shared_stratus, idp, pool):
    pool_id, client_id = pool
    sign_up(shared_stratus, idp, pool, "dave")
    token = password_auth(idp, client_id, "dave")["AuthenticationResult"]["AccessToken"]
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["username"] = "alice"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"x"}').rstrip(b"=").decode()
    hs = jwt.encode(claims, "secret", algorithm="HS256", headers={"kid": "x"})
    for bad in (f"{header}.{forged_payload}.{sig}", f"{none_header}.{payload}.", f"{none_header}.{payload}.{sig}",
                hs, "not-a-token", token[:-4] + "AAAA"):
        with pytest.raises(ClientError) as e:
            idp.get_user(AccessToken=bad)
        assert error_code(e) == "NotAuthorizedException", bad
    with pytest.raises(jwt.InvalidSignatureError):
        verify(shared_stratus, pool_id, f"{header}.{forged_payload}.{sig}")


def test_revoke_and_global_sign_out(shared_stratus, idp, pool):
    _, client_id = pool
    sign_up(shared_stratus, idp, pool, "erin")
    r = password_auth(idp, client_id, "erin")["AuthenticationResult"]
    idp.revoke_token(ClientId=client_id, Token=r["RefreshToken"])
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": r["RefreshToken"]})
    assert error_code(e) == "NotAuthorizedException"
    r2 = password_auth(idp, client_id, "erin")["AuthenticationResult"]
    idp.global_sign_out(AccessToken=r2["AccessToken"])
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=r2["AccessToken"])
    assert e.value.response["Error"]["Message"] == "Access Token has been revoked"


def test_admin_create_user_new_password_and_totp_mfa(shared_stratus, idp, pool):
    pool_id, client_id = pool
    u = idp.admin_create_user(UserPoolId=pool_id, Username="frank", TemporaryPassword="Temp-passw0rd",
                              UserAttributes=[{"Name": "email", "Value": "frank@example.com"}],
                              DesiredDeliveryMediums=["EMAIL"])["User"]
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert "Temp-passw0rd" in outbox(shared_stratus, pool_id, "frank")[-1]["Message"]
    r = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": "frank", "PASSWORD": "Temp-passw0rd"})
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    r = idp.admin_respond_to_auth_challenge(UserPoolId=pool_id, ClientId=client_id,
                                            ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
                                            ChallengeResponses={"USERNAME": "frank", "NEW_PASSWORD": "Final-passw0rd"})
    access = r["AuthenticationResult"]["AccessToken"]
    assert idp.admin_get_user(UserPoolId=pool_id, Username="frank")["UserStatus"] == "CONFIRMED"
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
    assert idp.verify_software_token(AccessToken=access, UserCode=totp(secret))["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=access,
                                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    r = password_auth(idp, client_id, "frank", "Final-passw0rd")
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=r["Session"],
                                      ChallengeResponses={"USERNAME": "frank", "SOFTWARE_TOKEN_MFA_CODE": "000000"})
    assert error_code(e) == "CodeMismatchException"
    # The code of the next step (one step of clock drift is allowed; the verified one is used up).
    done = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=r["Session"],
                                         ChallengeResponses={"USERNAME": "frank",
                                                             "SOFTWARE_TOKEN_MFA_CODE": totp(secret, step=1)})
    assert "IdToken" in done["AuthenticationResult"]
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF")


def test_sms_mfa_codes_go_to_the_outbox(shared_stratus, idp):
    p = idp.create_user_pool(PoolName="sms", MfaConfiguration="OFF")["UserPool"]
    c = idp.create_user_pool_client(UserPoolId=p["Id"], ClientName="c",
                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.set_user_pool_mfa_config(UserPoolId=p["Id"], MfaConfiguration="OPTIONAL",
                                 SmsMfaConfiguration={"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns"}})
    idp.admin_create_user(UserPoolId=p["Id"], Username="gus", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "phone_number", "Value": "+15555550100"},
                                          {"Name": "phone_number_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=p["Id"], Username="gus", Password=PASSWORD, Permanent=True)
    idp.admin_set_user_mfa_preference(UserPoolId=p["Id"], Username="gus",
                                      SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    r = password_auth(idp, c["ClientId"], "gus")
    assert r["ChallengeName"] == "SMS_MFA"
    assert r["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"].endswith("0100")
    code = last_code(shared_stratus, p["Id"], "gus")
    done = idp.respond_to_auth_challenge(ClientId=c["ClientId"], ChallengeName="SMS_MFA", Session=r["Session"],
                                         ChallengeResponses={"USERNAME": "gus", "SMS_MFA_CODE": code})
    assert "AccessToken" in done["AuthenticationResult"]


def test_users_groups_listing_and_attributes(shared_stratus, idp, pool):
    pool_id, client_id = pool
    for name in ("hank", "hilda", "ivan"):
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{name}@corp.io"},
                                              {"Name": "custom:tier", "Value": "gold"}])
    found = idp.list_users(UserPoolId=pool_id, Filter='username ^= "hi"')["Users"]
    assert [u["Username"] for u in found] == ["hilda"]
    found = idp.list_users(UserPoolId=pool_id, Filter='email = "ivan@corp.io"')["Users"]
    assert [u["Username"] for u in found] == ["ivan"]
    with pytest.raises(ClientError) as e:
        idp.list_users(UserPoolId=pool_id, Filter="password = 'x'")
    assert error_code(e) == "InvalidParameterException"
    idp.create_group(UserPoolId=pool_id, GroupName="staff")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="hank", GroupName="staff")
    assert [u["Username"] for u in idp.list_users_in_group(UserPoolId=pool_id, GroupName="staff")["Users"]] == ["hank"]
    assert [g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="hank")["Groups"]] == ["staff"]
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="hank",
                                     UserAttributes=[{"Name": "custom:tier", "Value": "platinum"}])
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username="hank")["UserAttributes"]}
    assert attrs["custom:tier"] == "platinum"
    with pytest.raises(ClientError) as e:
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="hank",
                                         UserAttributes=[{"Name": "custom:unknown", "Value": "x"}])
    assert error_code(e) == "InvalidParameterException"
    idp.admin_disable_user(UserPoolId=pool_id, Username="hank")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="hank", Password=PASSWORD, Permanent=True)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, "hank")
    assert e.value.response["Error"]["Message"] == "User is disabled."
    idp.admin_delete_user(UserPoolId=pool_id, Username="hank")
    with pytest.raises(ClientError) as e:
        idp.admin_get_user(UserPoolId=pool_id, Username="hank")
    assert error_code(e) == "UserNotFoundException"


def test_secret_hash_clients(shared_stratus, idp, pool):
    import hashlib
    import hmac
    pool_id, _ = pool
    c = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="server", GenerateSecret=True,
                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username="jane", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="jane", Password=PASSWORD, Permanent=True)
    secret_hash = base64.b64encode(hmac.new(c["ClientSecret"].encode(), ("jane" + c["ClientId"]).encode(),
                                            hashlib.sha256).digest()).decode()
    with pytest.raises(ClientError) as e:
        password_auth(idp, c["ClientId"], "jane")
    assert "SECRET_HASH was not received" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=c["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "jane", "PASSWORD": PASSWORD, "SECRET_HASH": "bad"})
    assert "Unable to verify secret hash" in e.value.response["Error"]["Message"]
    r = idp.initiate_auth(ClientId=c["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "jane", "PASSWORD": PASSWORD, "SECRET_HASH": secret_hash})
    assert "AccessToken" in r["AuthenticationResult"]


def test_flow_not_enabled_and_unknown_client(idp, pool):
    pool_id, _ = pool
    c = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="srp-only",
                                    ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    with pytest.raises(ClientError) as e:
        password_auth(idp, c["ClientId"], "alice")
    assert error_code(e) == "InvalidParameterException"
    assert e.value.response["Error"]["Message"] == "USER_PASSWORD_AUTH flow not enabled for this client"
    with pytest.raises(ClientError) as e:
        password_auth(idp, "nosuchclient", "alice")
    assert error_code(e) == "ResourceNotFoundException"


def test_key_rotation_keeps_old_tokens_valid(shared_stratus, idp, pool):
    pool_id, client_id = pool
    before = password_auth(idp, client_id, "alice")["AuthenticationResult"]["AccessToken"]
    status, _, body = http(f"{shared_stratus.url}/_stratus/cognito/rotate-keys?userPoolId={pool_id}", data=b"",
                           method="POST")
    assert status == 200, body
    after = password_auth(idp, client_id, "alice")["AuthenticationResult"]["AccessToken"]
    assert jwt.get_unverified_header(before)["kid"] != jwt.get_unverified_header(after)["kid"]
    verify(shared_stratus, pool_id, before)
    verify(shared_stratus, pool_id, after)
    idp.get_user(AccessToken=before)


def test_state_survives_kill_9():
    # The issuer is the server's external URL: pin it, since the restarted server gets a new port.
    import tempfile
    from conftest import Stratus
    with tempfile.TemporaryDirectory(prefix="stratus-cognito-") as data_dir:
        stratus = Stratus(data_dir, extra_args=["--external-url", "http://cognito.test:4566"]).start()
        try:
            _restart_scenario(stratus)
        finally:
            stratus.stop()


def _restart_scenario(stratus):
    idp = make_client(stratus, "cognito-idp")
    p = idp.create_user_pool(PoolName="durable")["UserPool"]
    c = idp.create_user_pool_client(UserPoolId=p["Id"], ClientName="c",
                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=p["Id"], Username="kim", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=p["Id"], Username="kim", Password=PASSWORD, Permanent=True)
    r = password_auth(idp, c["ClientId"], "kim")["AuthenticationResult"]
    stratus.kill()
    stratus.start()
    idp = make_client(stratus, "cognito-idp")
    assert idp.get_user(AccessToken=r["AccessToken"])["Username"] == "kim"
    idp.initiate_auth(ClientId=c["ClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                      AuthParameters={"REFRESH_TOKEN": r["RefreshToken"]})
