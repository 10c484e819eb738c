"""S3 under kill -9: every acknowledged PUT survives with its exact bytes (small objects in the
store, large ones as blob files), events queued with a PUT are still delivered after a restart,
and files left by interrupted writes are garbage-collected."""
import hashlib
import http.client
import os
import random
import tempfile
import threading
import time
import uuid

from conftest import Stratus, make_client


def put(port, bucket, key, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PUT", f"/{bucket}/{key}", body=body)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


def test_acknowledged_puts_survive_sigkill_and_orphans_are_collected():
    with tempfile.TemporaryDirectory(prefix="stratus-s3-crash-") as data_dir:
        server = Stratus(data_dir).start()
        s3 = make_client(server, "s3")
        bucket = f"crash-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        # Events for a destination that cannot take them stay queued across the crash.
        missing = f"arn:aws:lambda:us-east-1:000000000000:function:absent-{uuid.uuid4().hex[:6]}"
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"],
                                              "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "evt"}]}}}]})

        acknowledged = {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            rng = random.Random(n)
            i = 0
            while not stop.is_set():
                key = f"w{n}/{i}"
                size = rng.choice([0, 10, 5000, 200_000, 1_500_000])
                body = os.urandom(size)
                try:
                    status = put(server.port, bucket, key, body)
                except OSError:
                    return
                if status == 200:
                    with lock:
                        acknowledged[key] = hashlib.md5(body).hexdigest()
                i += 1

        assert put(server.port, bucket, "evt-before-crash", b"event") == 200
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.0, 2.0))
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        assert len(acknowledged) > 20

        # Leftovers of interrupted writes: a temp file and a published blob no metadata names.
        blobs = os.path.join(data_dir, "blobs")
        orphan_id = "f" * 32
        os.makedirs(os.path.join(blobs, "ff"), exist_ok=True)
        orphan = os.path.join(blobs, "ff", orphan_id)
        temp = os.path.join(blobs, "tmp", "0" * 32)
        for path in (orphan, temp):
            with open(path, "wb") as f:
                f.write(b"half-written")
            os.utime(path, (time.time() - 60, time.time() - 60))

        server.start()
        s3 = make_client(server, "s3")
        with lock:
            expected = dict(acknowledged)
        for key, digest in expected.items():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert hashlib.md5(body).hexdigest() == digest, key
        deadline = time.time() + 10
        while time.time() < deadline and (os.path.exists(orphan) or os.path.exists(temp)):
            time.sleep(0.1)
        assert not os.path.exists(orphan) and not os.path.exists(temp)
        # After the start-up sweep every blob file belongs to an object: one per object stored as
        # a blob (larger than 128 KiB), whether or not its PUT was acknowledged before the kill.
        files = sum(len(os.listdir(os.path.join(blobs, sub))) for sub in os.listdir(blobs) if sub != "tmp")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        large = sum(1 for p in pages for o in p.get("Contents", []) if o["Size"] > 128 * 1024)
        assert files == large
        # The event queued with the PUT before the crash is still being retried after it.
        deadline = time.time() + 10
        while time.time() < deadline and not any(missing in line for line in server.log[-200:]):
            time.sleep(0.2)
        assert any(missing in line and "notification" in line for line in server.log)
        assert server.stop() == 0


def test_small_puts_in_segments_survive_sigkill_whole_and_a_torn_tail_is_dropped():
    """Small bodies are appended to shared segment files (data-dir/segments) and group-synced
    before their commit: after kill -9 every acknowledged PUT reads back with its bytes and ETag,
    an overwrite in flight shows either its old or its new body (never a mix), every listed
    object's bytes match its ETag, and junk past the last committed byte of a segment is dropped
    at restart without disturbing later PUTs."""
    with tempfile.TemporaryDirectory(prefix="stratus-s3-seg-crash-") as data_dir:
        server = Stratus(data_dir).start()
        s3 = make_client(server, "s3")
        bucket = f"seg-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        acked = {}      # key -> md5 of the last acknowledged body
        in_flight = {}  # key -> md5 of a body sent but not (yet) acknowledged
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            rng = random.Random(1000 + n)
            i = 0
            while not stop.is_set():
                # A small key space per writer: overwrites (dead space in segments) and new keys.
                key = f"w{n}/{rng.randrange(40) if i % 2 else i}"
                body = os.urandom(rng.choice([1, 100, 4096, 4096, 60_000, 131_072]))
                digest = hashlib.md5(body).hexdigest()
                with lock:
                    in_flight[key] = digest
                try:
                    status = put(server.port, bucket, key, body)
                except OSError:
                    return
                with lock:
                    if status == 200:
                        acked[key] = digest
                        in_flight.pop(key, None)
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.5, 2.5))
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        assert len(acked) > 50
        segments = os.path.join(data_dir, "segments")
        files = sorted(f for f in os.listdir(segments) if f.endswith(".seg"))
        assert files, "small bodies were not stored in segment files"
        # A torn append after the last committed byte of the newest segment.
        newest = os.path.join(segments, files[-1])
        size_before = os.path.getsize(newest)
        with open(newest, "ab") as f:
            f.write(b"torn-append-" * 100)

        server.start()
        s3 = make_client(server, "s3")
        for key, digest in acked.items():
            obj = s3.get_object(Bucket=bucket, Key=key)
            got = hashlib.md5(obj["Body"].read()).hexdigest()
            allowed = {digest, in_flight.get(key)}
            assert got in allowed, key
            assert obj["ETag"].strip('"') == got, key
        listed = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                assert len(body) == o["Size"], o["Key"]
                assert hashlib.md5(body).hexdigest() == o["ETag"].strip('"'), o["Key"]
                listed += 1
        assert listed >= len({k for k in acked})
        # The junk is gone (the file is cut back to its last committed byte, or removed when
        # nothing committed names it), and new PUTs land in a new segment and read back.
        if os.path.exists(newest):
            assert os.path.getsize(newest) <= size_before
        fresh = os.urandom(4096)
        assert put(server.port, bucket, "after-restart", fresh) == 200
        assert s3.get_object(Bucket=bucket, Key="after-restart")["Body"].read() == fresh
        assert server.stop() == 0
