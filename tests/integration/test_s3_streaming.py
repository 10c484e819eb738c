"""S3 object bodies of 1 MiB and more, which stratus receives straight to disk as they arrive
(hashing on the way) instead of in memory: every integrity check and framing rule of the
in-memory path must hold on this one too, and nothing half-received may become visible."""
import base64
import hashlib
import http.client
import os
import socket
import time
import uuid
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import make_client

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(shared_stratus):
    return make_client(shared_stratus, "s3")


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"stream-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def body_of(size, seed=1):
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def raw(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def code_of(xml):
    text = xml.decode()
    return text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else text


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def aws_chunked(payload, chunk=64 * 1024, trailers=()):
    out = bytearray()
    for i in range(0, len(payload), chunk):
        piece = payload[i:i + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    for name, value in trailers:
        out += f"{name}:{value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def tmp_files(server):
    return os.listdir(os.path.join(server.data_dir, "blobs", "tmp"))


def test_large_put_with_each_checksum_round_trips(s3, bucket):
    data = body_of(3 * MIB + 17)
    resp = s3.put_object(Bucket=bucket, Key="plain", Body=data)
    assert resp["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    got = s3.get_object(Bucket=bucket, Key="plain")
    assert got["ContentLength"] == len(data) and got["Body"].read() == data
    for algorithm in ("CRC32", "CRC32C", "SHA1", "SHA256"):
        resp = s3.put_object(Bucket=bucket, Key=f"sum-{algorithm}", Body=data,
                             ChecksumAlgorithm=algorithm)
        head = s3.head_object(Bucket=bucket, Key=f"sum-{algorithm}", ChecksumMode="ENABLED")
        assert head[f"Checksum{algorithm}"] == resp[f"Checksum{algorithm}"]
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert head["ChecksumSHA256"] == expected


def test_wrong_digests_store_nothing(shared_stratus, s3, bucket):
    data = body_of(2 * MIB, seed=2)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad-md5", Body=data,
                      ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    assert e.value.response["Error"]["Code"] == "BadDigest"
    status, body = raw(shared_stratus, "PUT", f"/{bucket}/bad-crc", data,
                       {"x-amz-checksum-crc32": crc32_b64(b"other")})
    assert (status, code_of(body)) == (400, "BadDigest")
    status, body = raw(shared_stratus, "PUT", f"/{bucket}/bad-sha", data,
                       {"x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()})
    assert (status, code_of(body)) == (400, "XAmzContentSHA256Mismatch")
    for key in ("bad-md5", "bad-crc", "bad-sha"):
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=key)
    assert tmp_files(shared_stratus) == []


def test_unsigned_aws_chunked_bodies_with_trailers(shared_stratus, s3, bucket):
    data = body_of(2 * MIB + 5, seed=3)
    headers = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
               "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": "x-amz-checksum-crc32"}
    wire = aws_chunked(data, trailers=[("x-amz-checksum-crc32", crc32_b64(data))])
    status, body = raw(shared_stratus, "PUT", f"/{bucket}/chunked", wire, headers)
    assert status == 200, body
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == crc32_b64(data)
    assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert "ContentEncoding" not in got

    cases = {
        "bad-trailer": (aws_chunked(data, trailers=[("x-amz-checksum-crc32", crc32_b64(b"x"))]),
                        headers, "BadDigest"),
        "no-last-chunk": (aws_chunked(data)[:-5], headers, "IncompleteBody"),
        "bad-size": (b"zz\r\n" + data, headers, "InvalidRequest"),
        "wrong-length": (aws_chunked(data, trailers=[("x-amz-checksum-crc32", crc32_b64(data))]),
                         {**headers, "x-amz-decoded-content-length": "5"}, "InvalidRequest"),
        "undeclared": (aws_chunked(data, trailers=[("x-amz-checksum-sha1", "AAAA")]),
                       headers, "MalformedTrailerError"),
    }
    for key, (wire, hdrs, code) in cases.items():
        status, body = raw(shared_stratus, "PUT", f"/{bucket}/{key}", wire, hdrs)
        assert (status, code_of(body)) == (400, code), key
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=key)
    assert tmp_files(shared_stratus) == []


def test_truncated_large_upload_leaves_nothing(shared_stratus, s3, bucket):
    with socket.create_connection(("127.0.0.1", shared_stratus.port)) as sock:
        sock.sendall(f"PUT /{bucket}/cut HTTP/1.1\r\nHost: x\r\nContent-Length: {8 * MIB}\r\n\r\n"
                     .encode() + body_of(3 * MIB))
        time.sleep(0.2)
    for _ in range(100):
        if not tmp_files(shared_stratus):
            break
        time.sleep(0.05)
    assert tmp_files(shared_stratus) == []
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="cut")
    assert e.value.response["Error"]["Code"] == "404"


def test_large_upload_parts_and_presigned_put(shared_stratus, s3, bucket):
    parts = [body_of(5 * MIB, seed=10), body_of(2 * MIB, seed=11)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    etags = []
    for n, part in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n,
                           Body=part)
        assert r["ETag"] == '"%s"' % hashlib.md5(part).hexdigest()
        etags.append(r["ETag"])
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up["UploadId"])["Parts"]
    assert [p["Size"] for p in listed] == [len(p) for p in parts]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"".join(parts)

    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned"})
    data = body_of(MIB + 1, seed=12)
    path = url.split(str(shared_stratus.port), 1)[1]
    status, body = raw(shared_stratus, "PUT", path, data)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="presigned")["Body"].read() == data
