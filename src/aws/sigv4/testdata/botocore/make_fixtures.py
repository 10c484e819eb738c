#!/usr/bin/python3
"""Generates the botocore SigV4 fixtures that sigv4's botocore_fixtures_test.cc verifies.

Run once with Debian's python3-botocore (the first `python3` on PATH may lack it):

    /usr/bin/python3 src/aws/sigv4/testdata/botocore/make_fixtures.py > \
        src/aws/sigv4/testdata/botocore/fixtures.json

Every fixture is a request exactly as the real botocore client serializes and signs it (captured
in the before-send hook, so nothing goes on the network), or a URL from generate_presigned_url.
The clock is pinned so the output is reproducible; the C++ test verifies each fixture at that
time and checks that presigned URLs expire when they should.
"""
import base64
import datetime
import json
import sys
from urllib.parse import urlsplit, parse_qs

import botocore
import botocore.auth
import botocore.session
from botocore.config import Config

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEBYaDEXAMPLETOKEN+/=="
REGION = "us-east-1"
FIXED_NOW = datetime.datetime(2024, 1, 2, 3, 4, 5)
FIXED_EPOCH = 1704164645  # FIXED_NOW as Unix time


class _PinnedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED_NOW


class _DatetimeModule:
    """Stands in for the datetime module inside botocore.auth so signing time is fixed."""

    datetime = _PinnedDatetime

    def __getattr__(self, name):
        return getattr(datetime, name)


botocore.auth.datetime = _DatetimeModule()
try:
    import botocore.crt.auth

    botocore.crt.auth.datetime = _DatetimeModule()
    HAS_CRT = True
except ImportError:  # botocore without awscrt signs in Python only
    HAS_CRT = False

# Debian's botocore signs with the AWS CRT (aws-c-auth) when awscrt is installed, as the aws CLI
# does; the pure-Python signers are the fallback. Fixtures are made with each signer available.
_DEFAULT_AUTH = dict(botocore.auth.AUTH_TYPE_MAPS)
_PYTHON_AUTH = {
    "v4": botocore.auth.SigV4Auth,
    "v4-query": botocore.auth.SigV4QueryAuth,
    "s3v4": botocore.auth.S3SigV4Auth,
    "s3v4-query": botocore.auth.S3SigV4QueryAuth,
}


def use_signers(kind):
    botocore.auth.AUTH_TYPE_MAPS.clear()
    botocore.auth.AUTH_TYPE_MAPS.update(_DEFAULT_AUTH)
    if kind == "python":
        botocore.auth.AUTH_TYPE_MAPS.update(_PYTHON_AUTH)


class _Captured(Exception):
    pass


def _client(service, endpoint, token=False, config=None):
    session = botocore.session.get_session()
    client = session.create_client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN if token else None,
        config=config or Config(retries={"max_attempts": 0}),
    )
    return client


def _host_of(url):
    return urlsplit(url).netloc


def _target_of(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        pos = body.tell()
        data = body.read()
        body.seek(pos)
        return data
    return bytes(body)


def capture(name, service, endpoint, operation, params, dialect, token=False, config=None):
    client = _client(service, endpoint, token, config)
    seen = {}

    def before_send(request, **kwargs):
        headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in request.headers.items()]
        if not any(k.lower() == "host" for k, _ in headers):
            # The HTTP client adds Host from the URL; botocore signed that value.
            headers.insert(0, ["Host", _host_of(request.url)])
        seen["fixture"] = {
            "name": name,
            "kind": "header",
            "service": service,
            "dialect": dialect,
            "method": request.method,
            "target": _target_of(request.url),
            "headers": headers,
            "body_base64": base64.b64encode(_body_bytes(request.body)).decode(),
            "now": FIXED_EPOCH,
        }
        raise _Captured()

    client.meta.events.register("before-send", before_send)
    try:
        getattr(client, operation)(**params)
    except _Captured:
        pass
    return seen["fixture"]


def presign(name, service, endpoint, operation, params, dialect, expires, method=None,
            token=False, config=None, extra_headers=None):
    client = _client(service, endpoint, token, config)
    kwargs = {"ClientMethod": operation, "Params": params, "ExpiresIn": expires}
    if method:
        kwargs["HttpMethod"] = method
    url = client.generate_presigned_url(**kwargs)
    if not method:
        # botocore signs with the operation's own method (POST for the query protocol).
        api_name = client.meta.method_to_api_mapping[operation]
        method = client.meta.service_model.operation_model(api_name).http["method"]
    headers = [["Host", _host_of(url)]]
    for k, v in (extra_headers or {}).items():
        headers.append([k, v])
    return {
        "name": name,
        "kind": "presigned",
        "service": service,
        "dialect": dialect,
        "method": method,
        "target": _target_of(url),
        "headers": headers,
        "body_base64": "",
        "now": FIXED_EPOCH,
        "expires": expires,
        "url": url,
    }


def main():
    http = "http://localhost:4566"
    https = "https://localhost:4566"
    path_style = Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                        retries={"max_attempts": 0})
    virtual = Config(s3={"addressing_style": "virtual"}, signature_version="s3v4",
                     retries={"max_attempts": 0})
    fixtures = []
    for signer in (["crt", "python"] if HAS_CRT else ["python"]):
        use_signers(signer)
        for f in fixtures_for(http, https, path_style, virtual):
            f["name"] += "-" + signer
            f["signer"] = signer
            fixtures.append(f)
    json.dump({
        "generator": "make_fixtures.py with botocore " + botocore.__version__,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "fixtures": fixtures,
    }, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


def fixtures_for(http, https, path_style, virtual):
    return [
        # Header-signed requests, one per protocol family.
        capture("sts-get-caller-identity", "sts", http, "get_caller_identity", {}, "query"),
        capture("sts-get-caller-identity-token", "sts", http, "get_caller_identity", {}, "query",
                token=True),
        capture("sqs-send-message-unicode", "sqs", http, "send_message",
                {"QueueUrl": "http://localhost:4566/000000000000/q",
                 "MessageBody": "héllo wörld ✓ & = + / %"}, "query"),
        capture("dynamodb-put-item", "dynamodb", http, "put_item",
                {"TableName": "table-1", "Item": {"pk": {"S": "a b/c?d"}}}, "json"),
        capture("logs-put-log-events", "logs", http, "put_log_events",
                {"logGroupName": "/aws/lambda/fn", "logStreamName": "2024/01/02/[$LATEST]abc",
                 "logEvents": [{"timestamp": 1704164645000, "message": "hello"}]}, "json"),
        capture("lambda-invoke-arn", "lambda", http, "invoke",
                {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:my-fn",
                 "Payload": b'{"k": "v"}', "Qualifier": "$LATEST"}, "json"),
        capture("lambda-list-functions-marker", "lambda", http, "list_functions",
                {"MaxItems": 10, "Marker": "a b+c/d=e&f"}, "json"),
        capture("s3-put-object-special-key", "s3", http, "put_object",
                {"Bucket": "bucket", "Key": "dir/my file+é~$!'()*.txt", "Body": b"\x00\x01binary\xff"},
                "s3", config=path_style),
        capture("s3-put-object-https-unsigned", "s3", https, "put_object",
                {"Bucket": "bucket", "Key": "k", "Body": b"payload", "ContentMD5": "gQ2aDZFXb6szAWSZN1dMgA=="},
                "s3", config=path_style),
        capture("s3-get-object-dot-segments", "s3", http, "get_object",
                {"Bucket": "bucket", "Key": "a//b/../c/./d"}, "s3", config=path_style),
        capture("s3-list-objects-v2-prefix", "s3", http, "list_objects_v2",
                {"Bucket": "bucket", "Prefix": "some dir/ünï+code", "Delimiter": "/"}, "s3",
                config=path_style),
        capture("s3-virtual-host-token", "s3", "http://s3.localhost.localstack.cloud:4566",
                "get_object", {"Bucket": "bucket", "Key": "photos/2024/img.jpg"}, "s3",
                token=True, config=virtual),
        # Presigned URLs.
        presign("presign-s3-get", "s3", http, "get_object",
                {"Bucket": "bucket", "Key": "dir/my file+é.txt"}, "s3", 3600, config=path_style),
        presign("presign-s3-get-week", "s3", http, "get_object",
                {"Bucket": "bucket", "Key": "k"}, "s3", 604800, config=path_style),
        presign("presign-s3-put-content-type", "s3", http, "put_object",
                {"Bucket": "bucket", "Key": "upload.json", "ContentType": "application/json"},
                "s3", 900, method="PUT", config=path_style,
                extra_headers={"Content-Type": "application/json"}),
        presign("presign-s3-get-token", "s3", http, "get_object",
                {"Bucket": "bucket", "Key": "secret.txt"}, "s3", 60, token=True,
                config=path_style),
        presign("presign-sts-get-caller-identity", "sts", http, "get_caller_identity", {},
                "query", 60),
        # The EKS token form: a GET the cluster forwards to STS.
        presign("presign-sts-get-caller-identity-get", "sts", http, "get_caller_identity", {},
                "query", 60, method="GET"),
    ]


if __name__ == "__main__":
    main()
