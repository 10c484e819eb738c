"""Cognito's OAuth2/OIDC data plane with plain HTTP: discovery, client_credentials with custom
scopes, authorization code + PKCE through the hosted UI's forms, implicit grant, userInfo,
revocation, logout, refused open redirects, and federation — an external OIDC provider (a
second stratus pool) and SAML 2.0 with a response signed by xmlsec1 with a key made here."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from conftest import make_client
from cognito_helpers import http, parse_page, pkce, verify

PASSWORD = "Passw0rd!"
CALLBACK = "http://localhost:3000/callback"


@pytest.fixture(scope="module")
def idp(shared_stratus):
    return make_client(shared_stratus, "cognito-idp")


@pytest.fixture(scope="module")
def app(shared_stratus, idp):
    pool = idp.create_user_pool(PoolName="oauth")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool, Domain="oauth-app")
    idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read orders"}])
    web = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code", "implicit"], AllowedOAuthScopes=["openid", "email", "profile"],
        CallbackURLs=[CALLBACK], LogoutURLs=["http://localhost:3000/bye"],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    machine = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="machine", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["orders/read"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool, Username="olive", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "olive@example.com"},
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool, Username="olive", Password=PASSWORD, Permanent=True)
    return {"pool": pool, "web": web, "machine": machine, "base": f"{shared_stratus.url}/_cognito/oauth-app"}


def authorize_url(app, **extra):
    params = {"response_type": "code", "client_id": app["web"]["ClientId"], "redirect_uri": CALLBACK,
              "scope": "openid email", "state": "st-1"}
    params.update(extra)
    return app["base"] + "/oauth2/authorize?" + urllib.parse.urlencode(params)


def login(server, url, username, password):
    """Follows authorize → login form → POST; returns the final redirect Location."""
    status, headers, body = http(url)
    assert status == 200, body
    form = parse_page(body).forms[0]
    fields = dict(form["fields"], username=username, password=password)
    status, headers, body = http(server.url + form["action"], data=fields)
    assert status == 302, body
    return headers["Location"]


def query(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def test_discovery_document(shared_stratus, app):
    status, _, body = http(f"{shared_stratus.url}/{app['pool']}/.well-known/openid-configuration")
    doc = json.loads(body)
    assert doc["issuer"] == f"{shared_stratus.url}/{app['pool']}"
    assert doc["token_endpoint"] == app["base"] + "/oauth2/token"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    status, _, body = http(doc["jwks_uri"])
    assert status == 200 and json.loads(body)["keys"][0]["kty"] == "RSA"
    status, _, _ = http(f"{shared_stratus.url}/us-east-1_doesnotexist/.well-known/jwks.json")
    assert status == 404


def test_client_credentials(shared_stratus, app):
    m = app["machine"]
    basic = base64.b64encode(f"{m['ClientId']}:{m['ClientSecret']}".encode()).decode()
    status, _, body = http(app["base"] + "/oauth2/token", data={"grant_type": "client_credentials", "scope": "orders/read"},
                           headers={"Authorization": "Basic " + basic})
    assert status == 200, body
    token = json.loads(body)
    claims = verify(shared_stratus, app["pool"], token["access_token"])
    assert claims["scope"] == "orders/read" and claims["client_id"] == m["ClientId"] and claims["sub"] == m["ClientId"]
    status, _, body = http(app["base"] + "/oauth2/token", data={"grant_type": "client_credentials", "scope": "orders/write"},
                           headers={"Authorization": "Basic " + basic})
    assert status == 400 and json.loads(body)["error"] == "invalid_scope"
    bad = base64.b64encode(f"{m['ClientId']}:wrong".encode()).decode()
    status, _, body = http(app["base"] + "/oauth2/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": "Basic " + bad})
    assert status == 401 and json.loads(body)["error"] == "invalid_client"


def test_code_flow_with_pkce_userinfo_refresh_revoke(shared_stratus, app):
    verifier, challenge = pkce()
    loc = login(shared_stratus, authorize_url(app, code_challenge=challenge, code_challenge_method="S256",
                                              nonce="n-123"), "olive", PASSWORD)
    assert loc.startswith(CALLBACK)
    q = query(loc)
    assert q["state"] == "st-1"
    token_req = {"grant_type": "authorization_code", "client_id": app["web"]["ClientId"], "code": q["code"],
                 "redirect_uri": CALLBACK}
    status, _, body = http(app["base"] + "/oauth2/token", data=dict(token_req, code_verifier="wrong-verifier"))
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    # A code issued with a challenge needs its verifier: none at all is refused too.
    q = query(login(shared_stratus, authorize_url(app, code_challenge=challenge, code_challenge_method="S256",
                                                  nonce="n-123"), "olive", PASSWORD))
    status, _, body = http(app["base"] + "/oauth2/token", data=dict(token_req, code=q["code"]))
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    # The failed attempt used the code up (codes are single-use): sign in again.
    q = query(login(shared_stratus, authorize_url(app, code_challenge=challenge, code_challenge_method="S256",
                                                  nonce="n-123"), "olive", PASSWORD))
    token_req["code"] = q["code"]
    status, _, body = http(app["base"] + "/oauth2/token", data=dict(token_req, code_verifier=verifier))
    assert status == 200, body
    tokens = json.loads(body)
    id_claims = verify(shared_stratus, app["pool"], tokens["id_token"], audience=app["web"]["ClientId"])
    assert id_claims["nonce"] == "n-123" and id_claims["email"] == "olive@example.com"
    assert verify(shared_stratus, app["pool"], tokens["access_token"])["scope"] == "openid email"
    status, _, body = http(app["base"] + "/oauth2/token", data=dict(token_req, code_verifier=verifier))
    assert status == 400, "a code works once"
    status, _, body = http(app["base"] + "/oauth2/userInfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert status == 200 and json.loads(body)["email"] == "olive@example.com"
    status, headers, _ = http(app["base"] + "/oauth2/userInfo", headers={"Authorization": "Bearer nope"})
    assert status == 401 and "invalid_token" in headers["WWW-Authenticate"]
    status, _, body = http(app["base"] + "/oauth2/token", data={"grant_type": "refresh_token", "client_id": app["web"]["ClientId"],
                                                              "refresh_token": tokens["refresh_token"]})
    assert status == 200 and "access_token" in json.loads(body)
    status, _, _ = http(app["base"] + "/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": app["web"]["ClientId"]})
    assert status == 200
    status, _, body = http(app["base"] + "/oauth2/token", data={"grant_type": "refresh_token", "client_id": app["web"]["ClientId"],
                                                              "refresh_token": tokens["refresh_token"]})
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"


def test_implicit_flow_and_wrong_password(shared_stratus, app):
    loc = login(shared_stratus, authorize_url(app, response_type="token"), "olive", PASSWORD)
    frag = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).fragment))
    assert frag["token_type"] == "Bearer" and frag["state"] == "st-1"
    verify(shared_stratus, app["pool"], frag["access_token"])
    status, _, body = http(authorize_url(app))
    form = parse_page(body).forms[0]
    status, _, body = http(shared_stratus.url + form["action"], data=dict(form["fields"], username="olive", password="nope"))
    assert status == 400 and "Incorrect username or password." in body


def test_open_redirects_refused(shared_stratus, app):
    status, headers, body = http(authorize_url(app, redirect_uri="https://evil.example/steal"))
    assert status == 400 and "Location" not in headers and "redirect_mismatch" in body
    status, headers, _ = http(authorize_url(app, scope="openid orders/read"))
    assert status == 302 and query(headers["Location"])["error"] == "invalid_scope"
    status, headers, body = http(app["base"] + "/logout?" + urllib.parse.urlencode(
        {"client_id": app["web"]["ClientId"], "logout_uri": "https://evil.example/"}))
    assert status == 400 and "Location" not in headers
    status, headers, _ = http(app["base"] + "/logout?" + urllib.parse.urlencode(
        {"client_id": app["web"]["ClientId"], "logout_uri": "http://localhost:3000/bye"}))
    assert status == 302 and headers["Location"] == "http://localhost:3000/bye"
    status, _, body = http(app["base"] + "/oauth2/authorize?client_id=nope&redirect_uri=x&response_type=code")
    assert status == 400


def test_host_style_domain(shared_stratus, app):
    status, _, body = http(f"{shared_stratus.url}/oauth2/authorize?" + urllib.parse.urlencode(
        {"response_type": "code", "client_id": app["web"]["ClientId"], "redirect_uri": CALLBACK}),
        headers={"Host": f"oauth-app.auth.localhost:{shared_stratus.port}"})
    assert status == 200 and "<form" in body


# ---------------------------------------------------------------- federation: OIDC

def test_oidc_federation_with_a_second_pool(shared_stratus, idp):
    # Pool B is the external IdP; pool A trusts it.
    pool_b = idp.create_user_pool(PoolName="idp-b")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool_b, Domain="idp-b")
    pool_a = idp.create_user_pool(PoolName="app-a")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool_a, Domain="app-a")
    broker_cb = f"{shared_stratus.url}/_cognito/app-a/oauth2/idpresponse"
    b_client = idp.create_user_pool_client(
        UserPoolId=pool_b, ClientName="for-a", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"], CallbackURLs=[broker_cb])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_b, Username="bella", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "bella@idp-b.example"}])
    idp.admin_set_user_password(UserPoolId=pool_b, Username="bella", Password=PASSWORD, Permanent=True)
    idp.create_identity_provider(
        UserPoolId=pool_a, ProviderName="PoolB", ProviderType="OIDC",
        ProviderDetails={"client_id": b_client["ClientId"], "client_secret": b_client["ClientSecret"],
                         "oidc_issuer": f"{shared_stratus.url}/{pool_b}", "authorize_scopes": "openid email",
                         "attributes_request_method": "GET"},
        AttributeMapping={"email": "email"})
    a_client = idp.create_user_pool_client(
        UserPoolId=pool_a, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO", "PoolB"])["UserPoolClient"]
    start = f"{shared_stratus.url}/_cognito/app-a/oauth2/authorize?" + urllib.parse.urlencode(
        {"response_type": "code", "client_id": a_client["ClientId"], "redirect_uri": CALLBACK,
         "scope": "openid email", "identity_provider": "PoolB", "state": "fed"})
    status, headers, body = http(start)
    assert status == 302, body
    at_b = headers["Location"]
    assert at_b.startswith(f"{shared_stratus.url}/_cognito/idp-b/oauth2/authorize")
    back_at_a = login(shared_stratus, at_b, "bella", PASSWORD)
    assert back_at_a.startswith(broker_cb)
    status, headers, body = http(back_at_a)
    assert status == 302, body
    q = query(headers["Location"])
    assert headers["Location"].startswith(CALLBACK) and q["state"] == "fed"
    status, _, body = http(f"{shared_stratus.url}/_cognito/app-a/oauth2/token", data={
        "grant_type": "authorization_code", "client_id": a_client["ClientId"], "code": q["code"], "redirect_uri": CALLBACK})
    assert status == 200, body
    claims = verify(shared_stratus, pool_a, json.loads(body)["id_token"])
    assert claims["cognito:username"].startswith("PoolB_")
    assert claims["email"] == "bella@idp-b.example"
    assert claims["identities"][0]["providerName"] == "PoolB"
    user = idp.admin_get_user(UserPoolId=pool_a, Username=claims["cognito:username"])
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"


# ---------------------------------------------------------------- federation: SAML

SAML_RESPONSE = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="{now}" Destination="{acs}"><saml:Issuer>https://idp.example/saml</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_assert1" Version="2.0" IssueInstant="{now}"><saml:Issuer>https://idp.example/saml</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_assert1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature><saml:Subject><saml:NameID>{name_id}</saml:NameID></saml:Subject><saml:Conditions NotBefore="{before}" NotOnOrAfter="{after}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>{email}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"""


def make_idp_key(tmp):
    key, cert = os.path.join(tmp, "idp.key"), os.path.join(tmp, "idp.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=idp.example"], check=True, capture_output=True)
    der_b64 = "".join(l for l in open(cert).read().splitlines() if "CERTIFICATE" not in l)
    return key, cert, der_b64


def sign_saml(tmp, key, cert, **fields):
    template = os.path.join(tmp, "response.xml")
    with open(template, "w") as f:
        f.write(SAML_RESPONSE.format(**fields))
    out = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{key},{cert}", "--id-attr:ID",
                          "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", template],
                         check=True, capture_output=True, text=True)
    return out.stdout


def test_saml_federation_with_signed_assertion(shared_stratus, idp):
    pool = idp.create_user_pool(PoolName="saml-app")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool, Domain="saml-app")
    acs = f"{shared_stratus.url}/_cognito/saml-app/saml2/idpresponse"
    with tempfile.TemporaryDirectory() as tmp:
        key, cert, der_b64 = make_idp_key(tmp)
        metadata = ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/saml">'
                    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                    '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
                    f'<ds:X509Certificate>{der_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
                    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                    'Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Corp", ProviderType="SAML",
                                     ProviderDetails={"MetadataFile": metadata}, AttributeMapping={"email": "email"})
        client = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"], CallbackURLs=[CALLBACK],
            SupportedIdentityProviders=["Corp"])["UserPoolClient"]

        def start():
            status, headers, body = http(f"{shared_stratus.url}/_cognito/saml-app/oauth2/authorize?" + urllib.parse.urlencode(
                {"response_type": "code", "client_id": client["ClientId"], "redirect_uri": CALLBACK,
                 "identity_provider": "Corp", "state": "s"}))
            assert status == 302, body
            assert headers["Location"].startswith("https://idp.example/sso?SAMLRequest=")
            return query(headers["Location"])["RelayState"]

        now = datetime.now(timezone.utc)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        fields = dict(now=now.strftime(fmt), before=(now - timedelta(minutes=1)).strftime(fmt),
                      after=(now + timedelta(minutes=5)).strftime(fmt), acs=acs, name_id="saml-user-1",
                      audience=f"urn:amazon:cognito:sp:{pool}", email="sam@corp.example")
        signed = sign_saml(tmp, key, cert, **fields)

        # Tampered after signing: refused.
        tampered = signed.replace("sam@corp.example", "admin@corp.example")
        status, headers, _ = http(acs, data={"SAMLResponse": base64.b64encode(tampered.encode()).decode(),
                                             "RelayState": start()})
        assert status == 302 and query(headers["Location"])["error"] == "invalid_request"
        # Signed for another audience: refused.
        other = sign_saml(tmp, key, cert, **dict(fields, audience="urn:amazon:cognito:sp:someone-else"))
        status, headers, _ = http(acs, data={"SAMLResponse": base64.b64encode(other.encode()).decode(),
                                             "RelayState": start()})
        assert status == 302 and "error" in query(headers["Location"])
        # The genuine response signs the user in.
        status, headers, body = http(acs, data={"SAMLResponse": base64.b64encode(signed.encode()).decode(),
                                                "RelayState": start()})
        assert status == 302, body
        q = query(headers["Location"])
        status, _, body = http(f"{shared_stratus.url}/_cognito/saml-app/oauth2/token", data={
            "grant_type": "authorization_code", "client_id": client["ClientId"], "code": q["code"], "redirect_uri": CALLBACK})
        assert status == 200, body
        claims = verify(shared_stratus, pool, json.loads(body)["id_token"])
        assert claims["cognito:username"] == "Corp_saml-user-1"
        assert claims["email"] == "sam@corp.example"


def test_http_api_jwt_authorizer_trusts_the_pool(shared_stratus, idp):
    """An HTTP API's JWT authorizer with the pool as issuer accepts the pool's ID and access tokens
    and refuses tampered, alg:none, HS256 (key confusion), other-pool and other-client tokens."""
    from test_apigateway_support import Upstream, call

    pool = idp.create_user_pool(PoolName="gateway")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="app",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
                                         )["UserPoolClient"]["ClientId"]
    other_client = idp.create_user_pool_client(UserPoolId=pool, ClientName="other",
                                               ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
                                               )["UserPoolClient"]["ClientId"]
    other_pool = idp.create_user_pool(PoolName="elsewhere")["UserPool"]["Id"]
    foreign_client = idp.create_user_pool_client(UserPoolId=other_pool, ClientName="app",
                                                 ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
                                                 )["UserPoolClient"]["ClientId"]

    def tokens(pool_id, client_id):
        if not idp.list_users(UserPoolId=pool_id, Filter='username = "gina"')["Users"]:
            idp.admin_create_user(UserPoolId=pool_id, Username="gina", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="gina", Password=PASSWORD, Permanent=True)
        return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "gina", "PASSWORD": PASSWORD})["AuthenticationResult"]

    mine = tokens(pool, client)
    v2 = make_client(shared_stratus, "apigatewayv2")
    with Upstream() as upstream:
        api = v2.create_api(Name="cognito-jwt", ProtocolType="HTTP")["ApiId"]
        auth = v2.create_authorizer(ApiId=api, Name="cognito", AuthorizerType="JWT",
                                    IdentitySource=["$request.header.Authorization"],
                                    JwtConfiguration={"Issuer": f"{shared_stratus.url}/{pool}", "Audience": [client]})
        integ = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                      IntegrationUri=upstream.url, PayloadFormatVersion="1.0")["IntegrationId"]
        v2.create_route(ApiId=api, RouteKey="GET /me", AuthorizationType="JWT", AuthorizerId=auth["AuthorizerId"],
                        Target=f"integrations/{integ}")
        v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)

        def status(token):
            return call(shared_stratus, "GET", f"/_aws/execute-api/{api}/me",
                        headers={"Authorization": f"Bearer {token}"})[0]

        assert status(mine["AccessToken"]) == 200
        assert status(mine["IdToken"]) == 200
        header, payload, sig = mine["AccessToken"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
        forged = b64(json.dumps(dict(claims, sub="someone-else")).encode())
        none_header = b64(json.dumps({"alg": "none", "kid": json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]}).encode())
        _, _, jwks = http(f"{shared_stratus.url}/{pool}/.well-known/jwks.json")
        public_jwk = json.dumps(json.loads(jwks)["keys"][0])
        hs_header = b64(json.dumps({"alg": "HS256", "kid": claims.get("kid", "x")}).encode())
        hs_sig = b64(hmac.new(public_jwk.encode(), f"{hs_header}.{payload}".encode(), hashlib.sha256).digest())
        refused = {
            "tampered payload": f"{header}.{forged}.{sig}",
            "alg none": f"{none_header}.{payload}.",
            "alg none with the old signature": f"{none_header}.{payload}.{sig}",
            "HS256 keyed with the public key": f"{hs_header}.{payload}.{hs_sig}",
            "another client's token": tokens(pool, other_client)["AccessToken"],
            "another pool's token": tokens(other_pool, foreign_client)["AccessToken"],
            "truncated signature": mine["AccessToken"][:-8],
            "not a JWT": "garbage",
        }
        for why, token in refused.items():
            assert status(token) == 401, why
        assert status(mine["AccessToken"]) == 200
