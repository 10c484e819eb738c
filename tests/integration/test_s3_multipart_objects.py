"""Multipart objects are kept as the files their parts were uploaded as (completion commits
metadata only): boto3's multipart transfers, range GETs across part boundaries, GetObject and
HeadObject with partNumber, copies of multipart objects, COMPOSITE checksums, and kill -9 around
CompleteMultipartUpload — never a half object, never a file left behind after the restart."""
import base64
import hashlib
import os
import random
import tempfile
import threading
import time
import uuid
import zlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import Stratus, make_client

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(shared_stratus):
    return make_client(shared_stratus, "s3")


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"mpo-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def blob_files(data_dir):
    """Blob files on disk (<blobs>/<id[0..2]>/<id>), temporary files and other stores' aside."""
    root = os.path.join(data_dir, "blobs")
    return sum(1 for d, _, files in os.walk(root) for f in files
               if len(os.path.basename(d)) == 2 and len(f) == 32 and f.startswith(os.path.basename(d)))


def multipart(s3, bucket, key, parts, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    listed = []
    for n, part in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=part)
        listed.append({"PartNumber": n, "ETag": r["ETag"]})
    return up, listed


def test_boto3_transfers_ranges_and_part_numbers(tmp_path, s3, bucket):
    data = os.urandom(12 * MIB + 12345)
    src = tmp_path / "src"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "big", Config=cfg)
    dst = tmp_path / "dst"
    s3.download_file(bucket, "big", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')
    b1, b2 = 5 * MIB, 10 * MIB
    for first, last in [(0, 99), (b1 - 7, b1 + 6), (b1 - 1, b2), (b2, b2), (b1 - 3, len(data) - 1)]:
        got = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={first}-{last}")
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(data)}"
        assert got["Body"].read() == data[first:last + 1], (first, last)
    assert s3.get_object(Bucket=bucket, Key="big", Range="bytes=-100")["Body"].read() == data[-100:]
    for n, (lo, hi) in enumerate([(0, b1), (b1, b2), (b2, len(data))], 1):
        got = s3.get_object(Bucket=bucket, Key="big", PartNumber=n)
        assert got["PartsCount"] == 3
        assert got["ContentRange"] == f"bytes {lo}-{hi - 1}/{len(data)}"
        assert got["Body"].read() == data[lo:hi]
        head = s3.head_object(Bucket=bucket, Key="big", PartNumber=n)
        assert head["ContentLength"] == hi - lo and head["PartsCount"] == 3
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="big", PartNumber=4)
    assert e.value.response["Error"]["Code"] == "InvalidPartNumber"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={len(data)}-")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_copies_of_a_multipart_object(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB + 1), os.urandom(777)]
    data = b"".join(parts)
    up, listed = multipart(s3, bucket, "src", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="src", UploadId=up, MultipartUpload={"Parts": listed})
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="copy", PartNumber=3)["Body"].read() == parts[2]
    # UploadPartCopy of ranges that span part boundaries.
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="ranged")["UploadId"]
    b1 = len(parts[0])
    spans = [(b1 - 3 * MIB, b1 + 3 * MIB - 1), (b1 + 3 * MIB, len(data) - 1)]
    listed2 = []
    for n, (first, last) in enumerate(spans, 1):
        r = s3.upload_part_copy(Bucket=bucket, Key="ranged", UploadId=up2, PartNumber=n,
                                CopySource={"Bucket": bucket, "Key": "src"},
                                CopySourceRange=f"bytes={first}-{last}")
        assert r["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(data[first:last + 1]).hexdigest()
        listed2.append({"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="ranged", UploadId=up2, MultipartUpload={"Parts": listed2})
    assert s3.get_object(Bucket=bucket, Key="ranged")["Body"].read() == data[b1 - 3 * MIB:]
    # The source going leaves its copies whole.
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == data


def test_composite_checksum_of_parts(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(1000)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm="CRC32")["UploadId"]
    listed = []
    for n, part in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=up, PartNumber=n, Body=part,
                           ChecksumAlgorithm="CRC32")
        assert r["ChecksumCRC32"] == crc32_b64(part)
        listed.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    # Debian's botocore predates ChecksumType: read it from the response's XML.
    seen = []
    hook = lambda http_response, **kw: seen.append(http_response.content)
    s3.meta.events.register("after-call.s3.CompleteMultipartUpload", hook)
    try:
        done = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=up,
                                            MultipartUpload={"Parts": listed})
    finally:
        s3.meta.events.unregister("after-call.s3.CompleteMultipartUpload", hook)
    raw = b"".join(base64.b64decode(crc32_b64(p)) for p in parts)
    assert done["ChecksumCRC32"] == crc32_b64(raw) + "-2"
    assert b"<ChecksumType>COMPOSITE</ChecksumType>" in seen[0]
    head = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32_b64(raw) + "-2"
    assert s3.get_object(Bucket=bucket, Key="ck")["Body"].read() == b"".join(parts)


def test_completion_keeps_part_files_and_removal_frees_them():
    with tempfile.TemporaryDirectory(prefix="stratus-s3-mp-") as data_dir:
        server = Stratus(data_dir).start()
        try:
            s3 = make_client(server, "s3")
            s3.create_bucket(Bucket="files")
            parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(3 * MIB)]
            up, listed = multipart(s3, "files", "obj", parts)
            assert blob_files(data_dir) == 3
            s3.complete_multipart_upload(Bucket="files", Key="obj", UploadId=up,
                                         MultipartUpload={"Parts": listed})
            # No concatenated copy: the object is its parts' files.
            assert blob_files(data_dir) == 3
            assert s3.get_object(Bucket="files", Key="obj")["Body"].read() == b"".join(parts)
            # Abort frees an upload's parts the same way delete frees an object's (after the
            # grace period that lets responses in flight finish: checked in the unit tests).
            up2, _ = multipart(s3, "files", "aborted", parts[:1])
            assert blob_files(data_dir) == 4
            s3.abort_multipart_upload(Bucket="files", Key="aborted", UploadId=up2)
            s3.delete_object(Bucket="files", Key="obj")
            with pytest.raises(ClientError):
                s3.head_object(Bucket="files", Key="obj")
        finally:
            assert server.stop() == 0


def test_sigkill_around_complete_leaves_whole_objects_or_whole_uploads():
    """Uploads are completed one after another while the server is killed at a random moment:
    after the restart each one is either a whole object (and no longer an upload) or still an
    upload whose parts complete now, and the blob files are exactly the parts of those."""
    with tempfile.TemporaryDirectory(prefix="stratus-s3-mpkill-") as data_dir:
        server = Stratus(data_dir).start()
        s3 = make_client(server, "s3")
        s3.create_bucket(Bucket="kill")
        uploads = {}
        for i in range(12):
            parts = [os.urandom(5 * MIB), os.urandom(random.randint(1, 2 * MIB))]
            up, listed = multipart(s3, "kill", f"o{i}", parts)
            uploads[f"o{i}"] = (up, listed, b"".join(parts))
        assert blob_files(data_dir) == 24
        completed = []

        def completer():
            client = make_client(server, "s3")
            for key, (up, listed, _) in uploads.items():
                try:
                    client.complete_multipart_upload(Bucket="kill", Key=key, UploadId=up,
                                                     MultipartUpload={"Parts": listed})
                except Exception:
                    return
                completed.append(key)

        # Time one complete, then kill at a random point of the others'.
        first = next(iter(uploads))
        up, listed, first_data = uploads[first]
        started = time.time()
        s3.complete_multipart_upload(Bucket="kill", Key=first, UploadId=up, MultipartUpload={"Parts": listed})
        one = time.time() - started
        completed.append(first)
        del uploads[first]
        t = threading.Thread(target=completer)
        t.start()
        time.sleep(random.uniform(0, one * len(uploads)))
        server.kill()
        t.join()
        server.start()
        s3 = make_client(server, "s3")
        uploads[first] = (up, listed, first_data)
        pending = {u["Key"]: u["UploadId"] for u in s3.list_multipart_uploads(Bucket="kill").get("Uploads", [])}
        for key, (up, listed, data) in uploads.items():
            if key in pending:
                assert key not in completed, key  # acknowledged completions survive
                with pytest.raises(ClientError):
                    s3.head_object(Bucket="kill", Key=key)
            else:
                assert s3.get_object(Bucket="kill", Key=key)["Body"].read() == data, key
        # Every file belongs to an object or a pending upload's part: nothing leaked, nothing lost.
        assert blob_files(data_dir) == 24
        for key, up in pending.items():
            _, listed, data = uploads[key]
            s3.complete_multipart_upload(Bucket="kill", Key=key, UploadId=up, MultipartUpload={"Parts": listed})
            assert s3.get_object(Bucket="kill", Key=key)["Body"].read() == data
        assert blob_files(data_dir) == 24
        assert server.stop() == 0
