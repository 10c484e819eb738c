"""Helpers for the Cognito integration tests: outbox codes, JWKS verification with python3-jwt,
an SRP client (the same arithmetic amazon-cognito-identity-js does), TOTP, and a tiny OAuth2 user
agent over urllib that follows the hosted UI's forms."""
import base64
import hashlib
import hmac
import html.parser
import json
import os
import secrets
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import jwt

N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF", 16)
G = 2


def http(url, data=None, headers=None, method=None):
    """(status, headers, body) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    body = data
    if isinstance(data, dict):
        body = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def outbox(server, pool_id, username=None):
    q = {"userPoolId": pool_id}
    if username:
        q["username"] = username
    status, _, body = http(f"{server.url}/_stratus/cognito/outbox?" + urllib.parse.urlencode(q))
    assert status == 200, body
    return json.loads(body)["messages"]


def last_code(server, pool_id, username=None):
    return outbox(server, pool_id, username)[-1]["Code"]


def verify(server, pool_id, token, audience=None):
    """Verifies a token with the pool's JWKS as a back end would (python3-jwt)."""
    status, _, body = http(f"{server.url}/{pool_id}/.well-known/openid-configuration")
    assert status == 200, body
    config = json.loads(body)
    client = jwt.PyJWKClient(config["jwks_uri"])
    key = client.get_signing_key_from_jwt(token)
    opts = {"verify_aud": audience is not None}
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=config["issuer"], audience=audience,
                      options=opts)


def totp(secret_b32, at=None, step=0):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at or time.time()) // 30) + step
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{value:06d}"


# ---- SRP (client side), as amazon-cognito-identity-js computes it ----

def _pad(n):
    h = format(n, "x")
    if len(h) % 2:
        h = "0" + h
    elif h[0] in "89abcdef":
        h = "00" + h
    return bytes.fromhex(h)


def _h(b):
    return hashlib.sha256(b).digest()


def srp_a():
    a = int.from_bytes(secrets.token_bytes(128), "big")
    return a, pow(G, a, N)


def srp_signature(pool_id, user_id, password, a, A, params, now=None):
    pool_name = pool_id.split("_", 1)[1]
    B = int(params["SRP_B"], 16)
    salt = int(params["SALT"], 16)
    k = int.from_bytes(_h(_pad(N) + _pad(G)), "big")
    u = int.from_bytes(_h(_pad(A) + _pad(B)), "big")
    x = int.from_bytes(_h(_pad(salt) + _h(f"{pool_name}{user_id}:{password}".encode())), "big")
    S = pow((B - k * pow(G, x, N)) % N, a + u * x, N)
    prk = hmac.new(_pad(u), _pad(S), hashlib.sha256).digest()
    key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
    now = now or datetime.now(timezone.utc)
    ts = now.strftime("%a %b ") + str(now.day) + now.strftime(" %H:%M:%S UTC %Y")
    msg = pool_name.encode() + user_id.encode() + base64.b64decode(params["SECRET_BLOCK"]) + ts.encode()
    sig = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return sig, ts


def srp_sign_in(idp, client_id, pool_id, username, password):
    a, A = srp_a()
    r = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                          AuthParameters={"USERNAME": username, "SRP_A": format(A, "x")})
    p = r["ChallengeParameters"]
    sig, ts = srp_signature(pool_id, p["USER_ID_FOR_SRP"], password, a, A, p)
    return idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", Session=r.get("Session"),
        ChallengeResponses={"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                            "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig})


# ---- a user agent for the hosted UI ----

class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": {}})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][a.get("name")] = a.get("value", "")
        elif tag == "a":
            self.links.append(a.get("href"))


def parse_page(body):
    p = _Forms()
    p.feed(body)
    return p


def pkce():
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge
