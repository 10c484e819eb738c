"""An SRP sign-in answers as the user is when it completes, not as the user was when it began.
InitiateAuth (USER_SRP_AUTH) kept the user's password verifier in the sign-in session and
RespondToAuthChallenge (PASSWORD_VERIFIER) checked the proof against that copy, without looking at
the user again: a sign-in begun before AdminSetUserPassword completed after it with the old
password, and one begun before AdminDisableUser was issued tokens for the disabled user. Both
failed every time without the fix (no sleep needed: the session is the stale copy)."""
import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from cognito_helpers import srp_a, srp_sign_in, srp_signature

OLD, NEW = "Passw0rd!", "N3wPassw0rd!"


@pytest.fixture(scope="module")
def idp(shared_stratus):
    return make_client(shared_stratus, "cognito-idp")


@pytest.fixture(scope="module")
def pool(idp):
    p = idp.create_user_pool(PoolName="srp-session")["UserPool"]
    c = idp.create_user_pool_client(UserPoolId=p["Id"], ClientName="web",
                                    ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    return p["Id"], c["ClientId"]


def user(idp, pool_id, name):
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=OLD, Permanent=True)


def begin(idp, client_id, name):
    a, A = srp_a()
    r = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                          AuthParameters={"USERNAME": name, "SRP_A": format(A, "x")})
    return a, A, r


def finish(idp, client_id, pool_id, begun, password):
    a, A, r = begun
    p = r["ChallengeParameters"]
    sig, ts = srp_signature(pool_id, p["USER_ID_FOR_SRP"], password, a, A, p)
    return idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", Session=r["Session"],
        ChallengeResponses={"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                            "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig})


def test_old_password_does_not_complete_a_sign_in_after_the_password_changed(idp, pool):
    pool_id, client_id = pool
    user(idp, pool_id, "carol")
    begun = begin(idp, client_id, "carol")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="carol", Password=NEW, Permanent=True)
    with pytest.raises(ClientError) as e:
        finish(idp, client_id, pool_id, begun, OLD)
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == "Incorrect username or password."
    assert "AccessToken" in srp_sign_in(idp, client_id, pool_id, "carol", NEW)["AuthenticationResult"]


def test_a_user_disabled_during_a_sign_in_gets_no_tokens(idp, pool):
    pool_id, client_id = pool
    user(idp, pool_id, "dave")
    begun = begin(idp, client_id, "dave")
    idp.admin_disable_user(UserPoolId=pool_id, Username="dave")
    with pytest.raises(ClientError) as e:
        finish(idp, client_id, pool_id, begun, OLD)
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == "User is disabled."
    idp.admin_enable_user(UserPoolId=pool_id, Username="dave")
    assert "AccessToken" in srp_sign_in(idp, client_id, pool_id, "dave", OLD)["AuthenticationResult"]
