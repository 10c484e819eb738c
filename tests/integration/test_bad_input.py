"""Hostile and malformed requests get AWS-shaped errors, and the server keeps serving."""
import http.client
import json
import socket
import tempfile

import pytest

from conftest import Stratus, make_client

SIGNED = ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{svc}/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def request(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def logs_call(server, body, target="Logs_20140328.CreateLogGroup", content_type="application/x-amz-json-1.1"):
    return request(server, "POST", "/", body, {
        "X-Amz-Target": target, "Content-Type": content_type,
        "Authorization": SIGNED.format(svc="logs"), "X-Amz-Date": "20240101T000000Z"})


def assert_serving(server):
    sts = make_client(server, "sts")
    assert sts.get_caller_identity()["Account"] == "000000000000"
    status, _, body = request(server, "GET", "/_stratus/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_malformed_json_body(shared_stratus):
    status, headers, body = logs_call(shared_stratus, b'{"logGroupName": ')
    assert status == 400
    err = json.loads(body)
    assert err["__type"].endswith("SerializationException")
    assert "x-amzn-RequestId" in headers
    assert_serving(shared_stratus)


def test_wrong_json_types_and_invalid_utf8(shared_stratus):
    status, _, body = logs_call(shared_stratus, b'{"logGroupName": 42}')
    assert status == 400
    assert "SerializationException" in json.loads(body)["__type"] or "InvalidParameter" in json.loads(body)["__type"]
    status, _, _ = logs_call(shared_stratus, b'{"logGroupName": "\xff\xfe"}')
    assert status == 400
    assert_serving(shared_stratus)


def test_deeply_nested_json(shared_stratus):
    status, _, body = logs_call(shared_stratus, b"[" * 100000 + b"]" * 100000)
    assert status == 400
    assert_serving(shared_stratus)


def test_missing_required_member_is_a_validation_error(shared_stratus):
    status, _, body = logs_call(shared_stratus, b"{}")
    assert status == 400
    err = json.loads(body)
    assert err["__type"].endswith("InvalidParameterException")
    assert "logGroupName" in err["message"]


def test_unknown_operation_of_a_known_service(shared_stratus):
    status, _, body = logs_call(shared_stratus, b"{}", target="Logs_20140328.FlyToTheMoon")
    assert status == 400
    assert json.loads(body)["__type"].endswith("UnknownOperationException")


def test_unknown_target_prefix(shared_stratus):
    status, _, body = logs_call(shared_stratus, b"{}", target="NoSuchService_2020.DoIt")
    assert status == 400
    assert json.loads(body)["__type"] == "UnknownOperationException"


def test_unknown_query_action(shared_stratus):
    status, _, body = request(shared_stratus, "POST", "/", b"Action=FlyToTheMoon&Version=2011-06-15", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": SIGNED.format(svc="sts"), "X-Amz-Date": "20240101T000000Z"})
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body
    assert b"<RequestId>" in body


def test_unidentifiable_request(shared_stratus):
    # Nothing names a service: S3 is the fallback (as LocalStack users expect of `GET /`), so
    # this is a GetObject on bucket "some", answered in S3's XML.
    status, _, body = request(shared_stratus, "GET", "/some/where")
    assert status == 404
    assert b"<Code>NoSuchBucket</Code>" in body


def test_malformed_authorization_header(shared_stratus):
    status, _, body = request(shared_stratus, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=garbage",
        "X-Amz-Date": "20240101T000000Z"})
    assert status in (400, 403)
    assert b"IncompleteSignature" in body
    # A json-protocol service answers in its own dialect.
    status, _, body = request(shared_stratus, "POST", "/", b"{}", {
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=garbage",
        "X-Amz-Date": "20240101T000000Z"})
    assert status == 400
    assert json.loads(body)["__type"].endswith("IncompleteSignatureException")
    assert_serving(shared_stratus)


def test_huge_headers_get_431(shared_stratus):
    status, _, body = request(shared_stratus, "GET", "/_stratus/health",
                              headers={"X-Big": "a" * 200000})
    assert status == 431
    assert_serving(shared_stratus)


def test_garbage_bytes_and_truncated_bodies(shared_stratus):
    with socket.create_connection(("127.0.0.1", shared_stratus.port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage-not-http\r\n\r\n")
        data = s.recv(65536)
        assert data.startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", shared_stratus.port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                  b"X-Amz-Target: Logs_20140328.CreateLogGroup\r\n\r\n{\"logGroupName\"")
        s.shutdown(socket.SHUT_WR)  # the client gives up mid-body
        s.recv(65536)
    assert_serving(shared_stratus)


def test_oversized_body_gets_413():
    with tempfile.TemporaryDirectory() as d:
        server = Stratus(d, ["--max-body-bytes", "4096"]).start()
        try:
            status, _, body = logs_call(server, b'{"logGroupName": "' + b"x" * 10000 + b'"}')
            assert status == 413
            assert b"RequestEntityTooLarge" in body
            assert_serving(server)
        finally:
            assert server.stop() == 0


def test_gzip_request_bodies_are_accepted_and_bombs_refused(shared_stratus):
    import gzip
    body = gzip.compress(b'{"logGroupName": "gzipped-group"}')
    headers = {"X-Amz-Target": "Logs_20140328.CreateLogGroup",
               "Content-Type": "application/x-amz-json-1.1", "Content-Encoding": "gzip",
               "Authorization": SIGNED.format(svc="logs"), "X-Amz-Date": "20240101T000000Z"}
    status, _, resp = request(shared_stratus, "POST", "/", body, headers)
    assert status == 200, resp
    groups = make_client(shared_stratus, "logs").describe_log_groups(logGroupNamePrefix="gzipped")
    assert groups["logGroups"][0]["logGroupName"] == "gzipped-group"
    status, _, resp = request(shared_stratus, "POST", "/", b"\x1f\x8b garbage", headers)
    assert status == 400
    assert_serving(shared_stratus)
