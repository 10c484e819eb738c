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
