"""S3 object bodies of 1 MiB and more, which stratus receives straight to disk as they arrive
(hashing on the way) instead of in memory: every integrity check and framing rule of the
in-memory path must hold on this one too, and nothing half-received may become visible."""
import base64
import hashlib
import hmac
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


# ---- signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER])
#
# No client installed here sends signed chunks: botocore (boto3 and the aws CLI) signs a PUT over
# http with the hex SHA-256 of the whole body even with payload_signing_enabled (see
# test_boto3_payload_signing_streams), so these requests are signed with botocore's SigV4Auth and
# their chunks signed here, from the chunk-signing rules in S3's documentation.

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class ChunkSigner:
    """Signs the head of a chunked PUT with botocore, then each chunk and the trailers."""

    def __init__(self, server, path, mode, decoded_length, wire_length, trailer=None,
                 secret="test"):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        headers = {"Content-Encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(decoded_length),
                   "X-Amz-Content-SHA256": mode,
                   "Content-Length": str(wire_length)}
        if trailer:
            headers["x-amz-trailer"] = trailer
        req = AWSRequest(method="PUT", url=server.url + path, headers=headers)
        SigV4Auth(Credentials("test", secret), "s3", "us-east-1").add_auth(req)
        self.headers = dict(req.headers.items())
        self.previous = self.headers["Authorization"].rsplit("Signature=", 1)[1]
        self.amz_date = self.headers["X-Amz-Date"]
        day = self.amz_date[:8]
        self.scope = f"{day}/us-east-1/s3/aws4_request"
        key = _hmac(("AWS4" + secret).encode(), day)
        for part in ("us-east-1", "s3", "aws4_request"):
            key = _hmac(key, part)
        self.key = key

    def _sign(self, algorithm, last_line):
        sts = "\n".join([algorithm, self.amz_date, self.scope, self.previous, last_line])
        self.previous = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        return self.previous

    def chunk(self, data):
        sig = self._sign("AWS4-HMAC-SHA256-PAYLOAD",
                         EMPTY_SHA256 + "\n" + hashlib.sha256(data).hexdigest())
        head = f"{len(data):x};chunk-signature={sig}\r\n".encode()
        return head + data + b"\r\n" if data else head

    def trailers(self, pairs):
        canonical = "".join(f"{n}:{v}\n" for n, v in sorted(pairs))
        sig = self._sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(canonical.encode()).hexdigest())
        lines = "".join(f"{n}:{v}\r\n" for n, v in pairs)
        return (lines + f"x-amz-trailer-signature:{sig}\r\n\r\n").encode()


def chunk_sizes(total, chunk):
    return [min(chunk, total - i) for i in range(0, total, chunk)]


def signed_wire_length(sizes, trailer_bytes=None):
    sig_ext = len(";chunk-signature=") + 64 + 2
    n = sum(len(f"{s:x}") + sig_ext + s + 2 for s in sizes) + 1 + sig_ext
    return n + (trailer_bytes if trailer_bytes is not None else 2)


def signed_put(server, bucket, key, data, chunk=64 * 1024, trailers=None, mutate=None):
    """PUTs `data` as signed chunks (with signed trailers when given); `mutate(wire)` may break
    the wire bytes (Content-Length follows them). Returns (status, body)."""
    mode = SIGNED_TRAILER if trailers else SIGNED
    trailer_names = ",".join(n for n, _ in trailers) if trailers else None
    # Sign twice: the first pass only measures the wire (the length is part of the signed head).
    def build(length):
        s = ChunkSigner(server, f"/{bucket}/{key}", mode, len(data), length, trailer_names)
        wire = b"".join(s.chunk(data[i:i + chunk]) for i in range(0, len(data), chunk))
        wire += s.chunk(b"")
        wire += s.trailers(trailers) if trailers else b"\r\n"
        return s, wire
    _, wire = build(0)
    if mutate:
        wire = mutate(wire)
    signer, signed = build(len(wire))
    if mutate:
        signed = mutate(signed)
    headers = dict(signer.headers)
    return raw(server, "PUT", f"/{bucket}/{key}", signed, headers)


def test_signed_aws_chunked_bodies_stream(shared_stratus, s3, bucket):
    data = body_of(3 * MIB + 7, seed=20)
    status, body = signed_put(shared_stratus, bucket, "signed", data)
    assert status == 200, body
    got = s3.get_object(Bucket=bucket, Key="signed")
    assert got["Body"].read() == data
    assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert "ContentEncoding" not in got

    status, body = signed_put(shared_stratus, bucket, "signed-trailer", data, chunk=MIB,
                              trailers=[("x-amz-checksum-crc32", crc32_b64(data))])
    assert status == 200, body
    got = s3.get_object(Bucket=bucket, Key="signed-trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == crc32_b64(data)
    assert tmp_files(shared_stratus) == []


def test_signed_aws_chunked_hostile_framing(shared_stratus, s3, bucket):
    data = body_of(2 * MIB + 100, seed=21)
    trailers = [("x-amz-checksum-crc32", crc32_b64(data))]

    def flip_middle_data_byte(wire):
        w = bytearray(wire)
        w[len(w) // 2] ^= 1
        return bytes(w)

    def second_signature(wire):
        at = wire.index(b"chunk-signature=", wire.index(b"chunk-signature=") + 1) + 20
        w = bytearray(wire)
        w[at] = ord("0") if w[at] != ord("0") else ord("1")
        return bytes(w)

    def trailer_signature(wire):
        at = wire.index(b"x-amz-trailer-signature:") + 30
        w = bytearray(wire)
        w[at] = ord("0") if w[at] != ord("0") else ord("1")
        return bytes(w)

    def bad_hex(wire):
        return b"1000g" + wire[wire.index(b";"):]

    def oversized(wire):
        return b"7fffffff" + wire[wire.index(b";"):]

    def truncated(wire):
        return wire[:len(wire) * 2 // 3]

    def no_crlf_after_data(wire):
        first = wire.index(b"\r\n") + 2 + 64 * 1024
        return wire[:first] + b"XX" + wire[first + 2:]

    cases = {
        "wrong-data-mid-stream": (flip_middle_data_byte, None, 403, "SignatureDoesNotMatch"),
        "wrong-chunk-signature": (second_signature, None, 403, "SignatureDoesNotMatch"),
        "wrong-trailer-signature": (trailer_signature, trailers, 403, "SignatureDoesNotMatch"),
        "bad-size-hex": (bad_hex, None, 400, "InvalidRequest"),
        "oversized-chunk": (oversized, None, 400, "IncompleteBody"),
        "truncated": (truncated, None, 400, "IncompleteBody"),
        "no-crlf-after-data": (no_crlf_after_data, None, 400, "InvalidRequest"),
    }
    for key, (mutate, tr, want_status, want_code) in cases.items():
        status, body = signed_put(shared_stratus, bucket, key, data, trailers=tr, mutate=mutate)
        assert (status, code_of(body)) == (want_status, want_code), key
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=bucket, Key=key)
        assert e.value.response["Error"]["Code"] == "404", key
    assert tmp_files(shared_stratus) == []


def vm_hwm_kib(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_signed_aws_chunked_body_past_the_in_memory_limit(shared_stratus, s3, bucket):
    # 300 MiB: more than --max-body-bytes (256 MiB), which used to bound signed chunked bodies;
    # streamed, the server's peak memory must not grow by anything like the body's size.
    size, chunk = 300 * MIB, MIB
    block = body_of(chunk, seed=22)
    sizes = chunk_sizes(size, chunk)
    signer = ChunkSigner(shared_stratus, f"/{bucket}/huge", SIGNED, size, signed_wire_length(sizes))
    md5 = hashlib.md5()
    before = vm_hwm_kib(shared_stratus)

    def wire():
        for n in sizes:
            md5.update(block[:n])
            yield signer.chunk(block[:n])
        yield signer.chunk(b"") + b"\r\n"

    conn = http.client.HTTPConnection("127.0.0.1", shared_stratus.port, timeout=120)
    conn.request("PUT", f"/{bucket}/huge", body=wire(), headers=signer.headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 200, body
    assert resp.getheader("ETag") == '"%s"' % md5.hexdigest()
    head = s3.head_object(Bucket=bucket, Key="huge")
    assert head["ContentLength"] == size
    grown_mib = (vm_hwm_kib(shared_stratus) - before) / 1024
    assert grown_mib < 100, f"peak RSS grew by {grown_mib:.0f} MiB for a 300 MiB body"
    s3.delete_object(Bucket=bucket, Key="huge")


def test_boto3_payload_signing_streams(shared_stratus, bucket):
    # What botocore sends with payload signing on over http: the hex SHA-256 of the whole body in
    # x-amz-content-sha256 (not signed chunks), which the streamed path checks.
    from botocore.config import Config
    import boto3
    client = boto3.client("s3", endpoint_url=shared_stratus.url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(s3={"payload_signing_enabled": True},
                                        retries={"max_attempts": 1}))
    sent = []
    client.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **kw: sent.append(request.headers.get("x-amz-content-sha256")))
    data = body_of(5 * MIB, seed=23)
    client.put_object(Bucket=bucket, Key="boto-signed", Body=data)
    sha = sent[0].decode() if isinstance(sent[0], bytes) else sent[0]
    assert sha == hashlib.sha256(data).hexdigest()
    assert client.get_object(Bucket=bucket, Key="boto-signed")["Body"].read() == data


def test_many_streamed_bodies_at_once(shared_stratus, s3, bucket):
    # More bodies in flight than hashing threads (one per core) and io threads, each larger than
    # the hasher's 8 MiB backlog, plain and signed-chunked mixed: every one must come out whole
    # (no body waits on another's hashing forever, none gets another's digest).
    from concurrent.futures import ThreadPoolExecutor
    bodies = {f"par-{i}": body_of(9 * MIB + i, seed=100 + i) for i in range(8)}

    def put(item):
        key, data = item
        if int(key.split("-")[1]) % 2:
            status, body = signed_put(shared_stratus, bucket, key, data, chunk=MIB)
            assert status == 200, body
        else:
            make_client(shared_stratus, "s3").put_object(Bucket=bucket, Key=key, Body=data)
        return key

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(put, bodies.items())) == sorted(bodies)
    for key, data in bodies.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), key
        assert got["Body"].read() == data, key
    assert tmp_files(shared_stratus) == []
