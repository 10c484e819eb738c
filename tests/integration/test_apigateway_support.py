"""Helpers shared by the API Gateway tests (no tests here): data-plane requests with
http.client, Lambda functions from inline sources, and tiny local HTTP servers (an upstream for
HTTP integrations, an OIDC issuer serving a JWKS)."""
import base64
import http.client
import io
import json
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAMBDA_ROLE = "arn:aws:iam::000000000000:role/apigw-test-role"


def call(server, method, path, host=None, headers=None, body=None, timeout=60):
    """One data-plane request; returns (status, {lower-name: value}, raw headers list, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    h = dict(headers or {})
    if host:
        h["Host"] = host
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    raw = r.getheaders()
    conn.close()
    return r.status, {k.lower(): v for k, v in raw}, raw, data


def host_of(api_id, port):
    return f"{api_id}.execute-api.localhost:{port}"


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100644 << 16
            zf.writestr(info, content)
    return buf.getvalue()


def lambda_available(lam):
    try:
        lam.list_functions()
        return True
    except Exception:  # noqa: BLE001 - any failure means no Lambda service yet
        return False


def create_python_function(lam, name, source, handler="index.handler", runtime="python3.12"):
    lam.create_function(FunctionName=name, Runtime=runtime, Role=LAMBDA_ROLE, Handler=handler,
                        Code={"ZipFile": make_zip({handler.split(".")[0] + ".py": source})},
                        Timeout=30)
    deadline = time.time() + 30
    while time.time() < deadline:
        state = lam.get_function(FunctionName=name)["Configuration"].get("State", "Active")
        if state == "Active":
            break
        time.sleep(0.2)
    return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def lambda_uri(fn_arn, region="us-east-1"):
    return (f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations")


class Upstream:
    """A local HTTP server that echoes what it received as JSON (for HTTP integrations)."""

    def __init__(self, delay=0.0):
        delay_s = delay

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if delay_s:
                    time.sleep(delay_s)
                out = json.dumps({"method": self.command, "path": self.path,
                                  "headers": {k: v for k, v in self.headers.items()},
                                  "body": body.decode("utf-8", "replace")}).encode()
                status = 418 if self.path.startswith("/teapot") else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Upstream", "yes")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class OidcIssuer:
    """An OIDC issuer on localhost: discovery document and JWKS for an RSA key, and RS256 tokens
    minted with python3-jwt."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import rsa
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        pub = self.key.public_key().public_numbers()

        def b64(n):
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        self.jwks = {"keys": [{"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                               "n": b64(pub.n), "e": b64(pub.e)}]}
        issuer = self
        self.fetches = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                issuer.fetches += 1
                if self.path == "/.well-known/openid-configuration":
                    out = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    out = issuer.jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def token(self, **claims):
        import jwt
        now = int(time.time())
        body = {"iss": self.url, "sub": "user-1", "aud": "my-app", "iat": now, "exp": now + 300}
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})
