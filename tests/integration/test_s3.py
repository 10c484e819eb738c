"""S3 through boto3 (client and resource): buckets, objects, versions, multipart, presigned URLs,
virtual-hosted addressing, CORS, websites, lifecycle, and S3's exact errors."""
import base64
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import make_client


@pytest.fixture(scope="module")
def s3(shared_stratus):
    return make_client(shared_stratus, "s3")


def new_bucket(s3, prefix="b"):
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def raw(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def error_code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def test_buckets_create_list_head_delete_and_errors(shared_stratus, s3):
    name = new_bucket(s3)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    # us-east-1 keeps the legacy 200 for a bucket you already own.
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Not_Valid")
    assert error_code(e) == "InvalidBucketName"
    eu = make_client(shared_stratus, "s3", region="eu-west-1")
    eu_name = f"eu-{uuid.uuid4().hex[:10]}"
    eu.create_bucket(Bucket=eu_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert eu.get_bucket_location(Bucket=eu_name)["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as e:
        eu.create_bucket(Bucket=eu_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_code(e) == "BucketAlreadyOwnedByYou"
    with pytest.raises(ClientError) as e:
        eu.create_bucket(Bucket=f"eu2-{uuid.uuid4().hex[:8]}")
    assert error_code(e) == "IllegalLocationConstraintException"
    other = make_client(shared_stratus, "s3", access_key="111111111111")
    with pytest.raises(ClientError) as e:
        other.create_bucket(Bucket=name)
    assert error_code(e) == "BucketAlreadyExists"
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["Error"]["Code"] == "404"


def test_error_xml_is_s3s(shared_stratus, s3):
    name = new_bucket(s3)
    status, headers, body = raw(shared_stratus, "GET", f"/{name}/missing%20key")
    assert status == 404
    assert headers["content-type"] == "application/xml"
    for element in (b"<Code>NoSuchKey</Code>", b"<Message>The specified key does not exist.</Message>",
                    b"<Key>missing key</Key>", b"<RequestId>", b"<HostId>"):
        assert element in body
    assert "x-amz-request-id" in headers
    status, _, body = raw(shared_stratus, "GET", "/no-such-bucket-here/key")
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body
    assert b"<BucketName>no-such-bucket-here</BucketName>" in body
    # GET / with no credentials lists buckets (S3 is the fallback service).
    status, _, body = raw(shared_stratus, "GET", "/")
    assert status == 200 and b"<ListAllMyBucketsResult" in body


def test_objects_metadata_ranges_conditions_and_checksums(shared_stratus, s3):
    server = shared_stratus
    name = new_bucket(s3)
    body = os.urandom(300_000)
    put = s3.put_object(Bucket=name, Key="dir/é file+1.bin", Body=body, ContentType="application/x-test",
                        Metadata={"Color": "blue"}, CacheControl="max-age=60")
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=name, Key="dir/é file+1.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"color": "blue"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentLength"] == len(body)
    part = s3.get_object(Bucket=name, Key="dir/é file+1.bin", Range="bytes=100-199")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 100-199/{len(body)}"
    assert part["Body"].read() == body[100:200]
    assert s3.get_object(Bucket=name, Key="dir/é file+1.bin", Range="bytes=-10")["Body"].read() == body[-10:]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="dir/é file+1.bin", Range=f"bytes={len(body)}-")
    assert error_code(e) == "InvalidRange"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    etag = put["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="dir/é file+1.bin", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="dir/é file+1.bin", IfMatch='"nope"')
    assert error_code(e) == "PreconditionFailed"
    assert s3.head_object(Bucket=name, Key="dir/é file+1.bin", IfMatch=etag)["ContentLength"] == len(body)
    # Conditional create (If-None-Match: * is newer than Debian's boto3: sent raw).
    status, _, resp = raw(server, "PUT", f"/{name}/dir/%C3%A9%20file%2B1.bin", b"x", {"If-None-Match": "*"})
    assert status == 412 and b"<Code>PreconditionFailed</Code>" in resp
    status, _, resp = raw(server, "PUT", f"/{name}/fresh", b"x", {"If-None-Match": "*"})
    assert status == 200
    # Flexible checksums and Content-MD5.
    r = s3.put_object(Bucket=name, Key="sum", Body=b"hello world", ChecksumAlgorithm="SHA256")
    assert r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"hello world").digest()).decode()
    h = s3.head_object(Bucket=name, Key="sum", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == r["ChecksumSHA256"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="bad", Body=b"abc", ContentMD5=base64.b64encode(hashlib.md5(b"xyz").digest()).decode())
    assert error_code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="bad", Body=b"abc", ChecksumCRC32="AAAAAA==")
    assert error_code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=name, Key="bad")
    assert e.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k" * 1025, Body=b"x")
    assert error_code(e) == "KeyTooLongError"
    # Odd keys round-trip and never escape anything.
    for key in ("../../etc/passwd", "a//b/", "%2F", "ключ/日本", " lead space", "dot./."):
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == key.encode()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert {"../../etc/passwd", "a//b/", "%2F", "ключ/日本"} <= keys


def test_listing_pagination_delimiters_and_v1(s3):
    name = new_bucket(s3)
    keys = [f"logs/{i:03d}.txt" for i in range(120)] + ["a/x", "a/y", "b", "c/d/e"]
    for k in keys:
        s3.put_object(Bucket=name, Key=k, Body=b"")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name, PaginationConfig={"PageSize": 25})
    seen = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert seen == sorted(keys)
    top = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "c/", "logs/"]
    assert [o["Key"] for o in top["Contents"]] == ["b"]
    assert top["KeyCount"] == 4
    v1 = s3.get_paginator("list_objects").paginate(Bucket=name, Prefix="logs/", PaginationConfig={"PageSize": 50})
    assert sum(len(p.get("Contents", [])) for p in v1) == 120
    after = s3.list_objects_v2(Bucket=name, StartAfter="logs/118.txt")
    assert [o["Key"] for o in after["Contents"]] == ["logs/119.txt"]
    res = boto3.resource("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")
    assert len(list(res.Bucket(name).objects.filter(Prefix="a/"))) == 2
    res.Object(name, "via-resource").put(Body=b"resource")
    assert res.Object(name, "via-resource").get()["Body"].read() == b"resource"
    deleted = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": k} for k in keys[:100]]})
    assert len(deleted["Deleted"]) == 100
    assert s3.list_objects_v2(Bucket=name, Prefix="logs/")["KeyCount"] == 20


def test_versioning_and_delete_markers(s3):
    name = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=name, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=name, Key="doc", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=name, Key="doc", VersionId=v1)["Body"].read() == b"one"
    marker = s3.delete_object(Bucket=name, Key="doc")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="doc")
    assert error_code(e) == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    versions = s3.list_object_versions(Bucket=name)
    assert [v["VersionId"] for v in versions["Versions"]] == [v2, v1]
    assert versions["DeleteMarkers"][0]["IsLatest"] is True
    s3.delete_object(Bucket=name, Key="doc", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=name, Key="doc")["Body"].read() == b"two"
    s3.delete_object(Bucket=name, Key="doc", VersionId=v2)
    assert s3.get_object(Bucket=name, Key="doc")["Body"].read() == b"one"
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_code(e) == "BucketNotEmpty"


def test_multipart_upload_file_download_file_and_errors(shared_stratus, s3):
    name = new_bucket(s3)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "src.bin")
        data = os.urandom(12 * 1024 * 1024 + 123)
        with open(src, "wb") as f:
            f.write(data)
        s3.upload_file(src, name, "big.bin", Config=cfg)
        head = s3.head_object(Bucket=name, Key="big.bin")
        assert head["ContentLength"] == len(data)
        md5s = b"".join(hashlib.md5(data[i:i + 5 * 1024 * 1024]).digest()
                        for i in range(0, len(data), 5 * 1024 * 1024))
        assert head["ETag"] == '"%s-3"' % hashlib.md5(md5s).hexdigest()
        dst = os.path.join(d, "dst.bin")
        s3.download_file(name, "big.bin", dst, Config=cfg)
        with open(dst, "rb") as f:
            assert f.read() == data
    up = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    p1 = s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))
    p2 = s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=2, Body=b"tail")
    assert len(s3.list_parts(Bucket=name, Key="mp", UploadId=up)["Parts"]) == 2
    assert s3.list_multipart_uploads(Bucket=name)["Uploads"][0]["UploadId"] == up
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 2, "ETag": p2["ETag"]}, {"PartNumber": 1, "ETag": p1["ETag"]}]})
    assert error_code(e) == "InvalidPartOrder"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    assert error_code(e) == "InvalidPart"
    copy = s3.upload_part_copy(Bucket=name, Key="mp", UploadId=up, PartNumber=3,
                               CopySource={"Bucket": name, "Key": "big.bin"}, CopySourceRange="bytes=0-9")
    assert copy["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(data[:10]).hexdigest()
    s3.abort_multipart_upload(Bucket=name, Key="mp", UploadId=up)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=1, Body=b"x")
    assert error_code(e) == "NoSuchUpload"
    # A truncated upload: the connection promises more bytes than it sends.
    with socket.create_connection(("127.0.0.1", shared_stratus.port), timeout=10) as sock:
        sock.sendall(f"PUT /{name}/truncated HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode()
                     + b"y" * 1000)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=name, Key="truncated")


def test_copy_tagging_policy_and_configurations(s3):
    name = new_bucket(s3)
    s3.put_object(Bucket=name, Key="src", Body=b"data", Tagging="team=core", ContentType="text/plain")
    s3.copy_object(Bucket=name, Key="dst", CopySource={"Bucket": name, "Key": "src"})
    dst = s3.get_object(Bucket=name, Key="dst")
    assert dst["Body"].read() == b"data" and dst["ContentType"] == "text/plain"
    assert s3.get_object_tagging(Bucket=name, Key="dst")["TagSet"] == [{"Key": "team", "Value": "core"}]
    s3.copy_object(Bucket=name, Key="dst2", CopySource=f"{name}/src", MetadataDirective="REPLACE",
                   ContentType="application/json", Metadata={"a": "b"})
    assert s3.head_object(Bucket=name, Key="dst2")["Metadata"] == {"a": "b"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=name, Key="src", CopySource={"Bucket": name, "Key": "src"})
    assert error_code(e) == "InvalidRequest"
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "env", "Value": "dev"}]
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}' % name
    s3.put_bucket_policy(Bucket=name, Policy=policy)
    assert s3.get_bucket_policy(Bucket=name)["Policy"] == policy
    s3.delete_bucket_policy(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=name)
    assert error_code(e) == "NoSuchBucketPolicy"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=name, Policy="not json")
    assert error_code(e) == "MalformedPolicy"
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=name)
    assert error_code(e) == "NoSuchCORSConfiguration"
    assert s3.get_bucket_acl(Bucket=name)["Grants"][0]["Permission"] == "FULL_CONTROL"
    s3.head_bucket(Bucket=name, ExpectedBucketOwner="000000000000")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="src", ExpectedBucketOwner="111111111111")
    assert error_code(e) == "AccessDenied"
    assert s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]


def test_malformed_xml_and_unimplemented_operations(shared_stratus, s3):
    name = new_bucket(s3)
    status, _, body = raw(shared_stratus, "PUT", f"/{name}?tagging", b"<Tagging><TagSet><Tag>", {
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=" + "0" * 64,
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert status == 400 and b"<Code>MalformedXML</Code>" in body
    with pytest.raises(ClientError) as e:
        s3.get_bucket_replication(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_presigned_urls_get_put_and_expiry(shared_stratus, s3, signature):
    # Debian's boto3 presigns S3 URLs with SigV2 query auth unless told otherwise: both work
    # (SigV2 *headers* are refused, as S3 does in every region opened since 2014).
    name = new_bucket(s3)
    s3 = boto3.client("s3", endpoint_url=shared_stratus.url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(signature_version=signature))
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "up.txt"}, ExpiresIn=300)
    req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    get_url = s3.generate_presigned_url("get_object", Params={
        "Bucket": name, "Key": "up.txt", "ResponseContentType": "text/x-presigned"}, ExpiresIn=300)
    with urllib.request.urlopen(get_url) as r:
        assert r.read() == b"presigned body"
        assert r.headers["Content-Type"] == "text/x-presigned"
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "up.txt"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(expired)
    assert e.value.code == 403
    body = e.value.read()
    assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body


def test_virtual_hosted_addressing(shared_stratus, monkeypatch):
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost.localstack.cloud"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    vs3 = boto3.client("s3", endpoint_url=f"http://s3.localhost.localstack.cloud:{shared_stratus.port}",
                       region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
    name = f"vhost-{uuid.uuid4().hex[:10]}"
    vs3.create_bucket(Bucket=name)
    vs3.put_object(Bucket=name, Key="a/b.txt", Body=b"virtual")
    assert vs3.get_object(Bucket=name, Key="a/b.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in vs3.list_objects_v2(Bucket=name)["Contents"]] == ["a/b.txt"]
    # Unsigned virtual-hosted request with a region in the host name.
    status, _, body = raw(shared_stratus, "GET", "/a/b.txt",
                          headers={"Host": f"{name}.s3.us-east-1.localhost.localstack.cloud:{shared_stratus.port}"})
    assert status == 200 and body == b"virtual"
    status, _, body = raw(shared_stratus, "GET", "/", headers={"Host": f"{name}.s3.localhost"})
    assert status == 200 and b"<Key>a/b.txt</Key>" in body


def test_cors_preflight_and_actual_requests(shared_stratus, s3):
    name = new_bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type"}
    status, _, body = raw(shared_stratus, "OPTIONS", f"/{name}/k", headers=preflight)
    assert status == 403 and b"CORSResponse" in body
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    assert s3.get_bucket_cors(Bucket=name)["CORSRules"][0]["MaxAgeSeconds"] == 600
    status, headers, _ = raw(shared_stratus, "OPTIONS", f"/{name}/k", headers=preflight)
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PUT" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "content-type"
    assert headers["access-control-max-age"] == "600"
    status, headers, _ = raw(shared_stratus, "GET", f"/{name}/k", headers={"Origin": "https://app.example.com"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-expose-headers"] == "ETag"
    status, headers, _ = raw(shared_stratus, "GET", f"/{name}/k", headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in headers
    s3.delete_bucket_cors(Bucket=name)


def test_website_endpoint(shared_stratus, s3):
    name = new_bucket(s3, "site")
    s3.put_object(Bucket=name, Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="docs/index.html", Body=b"<h1>docs</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="404.html", Body=b"<h1>missing</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="old", Body=b"", WebsiteRedirectLocation="/docs/")
    host = {"Host": f"{name}.s3-website.localhost.localstack.cloud:{shared_stratus.port}"}
    status, _, body = raw(shared_stratus, "GET", "/", headers=host)
    assert status == 404 and b"NoSuchWebsiteConfiguration" in body
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "legacy/"},
                          "Redirect": {"ReplaceKeyPrefixWith": "docs/", "HttpRedirectCode": "301"}}]})
    assert s3.get_bucket_website(Bucket=name)["IndexDocument"]["Suffix"] == "index.html"
    status, headers, body = raw(shared_stratus, "GET", "/", headers=host)
    assert status == 200 and body == b"<h1>home</h1>" and headers["content-type"] == "text/html"
    status, _, body = raw(shared_stratus, "GET", "/docs/", headers=host)
    assert status == 200 and body == b"<h1>docs</h1>"
    status, headers, _ = raw(shared_stratus, "GET", "/docs", headers=host)
    assert status == 302 and headers["location"] == "/docs/"
    status, _, body = raw(shared_stratus, "GET", "/nope", headers=host)
    assert status == 404 and body == b"<h1>missing</h1>"
    status, headers, _ = raw(shared_stratus, "GET", "/legacy/page", headers=host)
    assert status == 301 and headers["location"].endswith("/docs/page")
    status, headers, _ = raw(shared_stratus, "GET", "/old", headers=host)
    assert status == 301 and headers["location"] == "/docs/"


def test_lifecycle_expiration_runs_in_the_background(s3):
    name = new_bucket(s3)
    for k in ("tmp/a", "tmp/b", "keep/c"):
        s3.put_object(Bucket=name, Key=k, Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [{
        "ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
        "Expiration": {"Date": "2020-01-01T00:00:00Z"}}]})
    assert s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][0]["ID"] == "expire-tmp"
    deadline = time.time() + 10
    while time.time() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
        if keys == ["keep/c"]:
            break
        time.sleep(0.2)
    assert keys == ["keep/c"]
    s3.delete_bucket_lifecycle(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=name)
    assert error_code(e) == "NoSuchLifecycleConfiguration"


def test_notifications_reach_sqs_or_are_retried(shared_stratus, s3):
    name = new_bucket(s3)
    sqs = make_client(shared_stratus, "sqs")
    try:
        queue_url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    except ClientError:
        queue_url, arn = None, f"arn:aws:sqs:us-east-1:000000000000:absent-{uuid.uuid4().hex[:8]}"
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [{
        "Id": "created", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}]})
    got = s3.get_bucket_notification_configuration(Bucket=name)
    assert got["QueueConfigurations"][0]["QueueArn"] == arn
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": arn, "Events": ["s3:Bogus"]}]})
    assert error_code(e) == "InvalidArgument"
    s3.put_object(Bucket=name, Key="skip.txt", Body=b"x")
    s3.put_object(Bucket=name, Key="cat.jpg", Body=b"meow")
    deadline = time.time() + 15
    if queue_url:
        import json
        records, tests = [], []
        while time.time() < deadline and not records:
            for m in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1,
                                         MaxNumberOfMessages=10).get("Messages", []):
                body = json.loads(m["Body"])
                if body.get("Event") == "s3:TestEvent":
                    tests.append(body)
                records += body.get("Records", [])
        # S3 sends a test event when the configuration is put (consumers skip it).
        assert tests and tests[0]["Bucket"] == name and tests[0]["Service"] == "Amazon S3"
        assert [r["s3"]["object"]["key"] for r in records] == ["cat.jpg"]
        assert records[0]["eventName"] == "ObjectCreated:Put"
        assert records[0]["s3"]["object"]["size"] == 4
    else:
        while time.time() < deadline and not any(arn in line for line in shared_stratus.log):
            time.sleep(0.2)
        assert any(arn in line and "retrying" in line for line in shared_stratus.log)


def test_notifications_invoke_lambda(shared_stratus, s3):
    from conftest import create_function
    lam = make_client(shared_stratus, "lambda")
    logs = make_client(shared_stratus, "logs")
    fn = f"s3-events-{uuid.uuid4().hex[:6]}"
    create_function(lam, fn, {"app.py": (
        "import json\n"
        "def handler(event, context):\n"
        "    for r in event['Records']:\n"
        "        print('S3EVENT', r['eventName'], r['s3']['bucket']['name'], r['s3']['object']['key'])\n")})
    arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    name = new_bucket(s3)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn,
                                          "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    s3.put_object(Bucket=name, Key="in/photo 1.jpg", Body=b"jpeg")
    s3.delete_object(Bucket=name, Key="in/photo 1.jpg")
    wanted = {f"S3EVENT ObjectCreated:Put {name} in/photo+1.jpg",
              f"S3EVENT ObjectRemoved:Delete {name} in/photo+1.jpg"}
    deadline, seen = time.time() + 30, set()
    while time.time() < deadline and not wanted <= seen:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn}")["events"]
            seen = {line.strip() for e in events for line in e["message"].splitlines()}
        except ClientError:
            pass
        time.sleep(0.5)
    assert wanted <= seen, seen
