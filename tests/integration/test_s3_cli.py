"""S3 through Debian's aws CLI v2: `aws s3 mb/cp/sync/ls/rm` (multipart above 8 MB) and
`aws s3api`."""
import filecmp
import json
import os
import tempfile
import uuid

from conftest import aws_cli


def test_s3_high_level_commands(shared_stratus):
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    aws_cli(shared_stratus, "s3", "mb", f"s3://{bucket}")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "src")
        os.makedirs(os.path.join(src, "sub", "deeper"))
        files = {"a.txt": b"alpha\n", "sub/b.json": b'{"b": 1}', "sub/deeper/c.bin": os.urandom(4096),
                 "big.bin": os.urandom(9 * 1024 * 1024 + 17), "with space.txt": b"space"}
        for rel, data in files.items():
            with open(os.path.join(src, rel), "wb") as f:
                f.write(data)
        aws_cli(shared_stratus, "s3", "cp", os.path.join(src, "big.bin"), f"s3://{bucket}/single/big.bin",
                "--no-progress")
        _, out, _ = aws_cli(shared_stratus, "s3api", "head-object", "--bucket", bucket, "--key", "single/big.bin")
        head = json.loads(out)
        assert head["ContentLength"] == len(files["big.bin"])
        assert head["ETag"].endswith('-2"')  # the CLI uploads in 8 MiB parts
        aws_cli(shared_stratus, "s3", "sync", src, f"s3://{bucket}/tree", "--no-progress")
        _, out, _ = aws_cli(shared_stratus, "s3", "ls", f"s3://{bucket}/tree/", "--recursive")
        listed = sorted(line.split(maxsplit=3)[3] for line in out.splitlines())
        assert listed == sorted(f"tree/{k}" for k in files)
        _, out, _ = aws_cli(shared_stratus, "s3", "ls", f"s3://{bucket}/tree/")
        assert "PRE sub/" in out
        # A second sync has nothing to do.
        _, out, _ = aws_cli(shared_stratus, "s3", "sync", src, f"s3://{bucket}/tree", "--no-progress")
        assert out.strip() == ""
        dst = os.path.join(d, "dst")
        aws_cli(shared_stratus, "s3", "sync", f"s3://{bucket}/tree", dst, "--no-progress")
        for rel in files:
            assert filecmp.cmp(os.path.join(src, rel), os.path.join(dst, rel), shallow=False), rel
        aws_cli(shared_stratus, "s3", "cp", f"s3://{bucket}/tree/a.txt", os.path.join(d, "copy.txt"))
        with open(os.path.join(d, "copy.txt"), "rb") as f:
            assert f.read() == b"alpha\n"
        aws_cli(shared_stratus, "s3", "rm", f"s3://{bucket}/tree", "--recursive")
        _, out, _ = aws_cli(shared_stratus, "s3", "ls", f"s3://{bucket}/tree/", check=False)
        assert out.strip() == ""
    aws_cli(shared_stratus, "s3", "rb", f"s3://{bucket}", "--force")
    code, _, err = aws_cli(shared_stratus, "s3", "ls", f"s3://{bucket}", check=False)
    assert code != 0 and "NoSuchBucket" in err


def test_s3api_commands(shared_stratus):
    bucket = f"api-{uuid.uuid4().hex[:10]}"
    aws_cli(shared_stratus, "s3api", "create-bucket", "--bucket", bucket)
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"payload")
        f.flush()
        _, out, _ = aws_cli(shared_stratus, "s3api", "put-object", "--bucket", bucket, "--key", "k",
                            "--body", f.name, "--content-type", "text/plain", "--metadata", "owner=me")
        assert json.loads(out)["ETag"]
    _, out, _ = aws_cli(shared_stratus, "s3api", "list-objects-v2", "--bucket", bucket)
    assert [o["Key"] for o in json.loads(out)["Contents"]] == ["k"]
    with tempfile.TemporaryDirectory() as d:
        target = os.path.join(d, "out")
        _, out, _ = aws_cli(shared_stratus, "s3api", "get-object", "--bucket", bucket, "--key", "k", target)
        meta = json.loads(out)
        assert meta["ContentType"] == "text/plain" and meta["Metadata"] == {"owner": "me"}
        with open(target, "rb") as f:
            assert f.read() == b"payload"
    code, _, err = aws_cli(shared_stratus, "s3api", "get-object", "--bucket", bucket, "--key", "none",
                           "/dev/null", check=False)
    assert code != 0 and "NoSuchKey" in err
    code, _, err = aws_cli(shared_stratus, "s3api", "create-bucket", "--bucket", "Bad..Name", check=False)
    assert code != 0 and "InvalidBucketName" in err
    aws_cli(shared_stratus, "s3api", "put-bucket-versioning", "--bucket", bucket,
            "--versioning-configuration", "Status=Enabled")
    _, out, _ = aws_cli(shared_stratus, "s3api", "get-bucket-versioning", "--bucket", bucket)
    assert json.loads(out)["Status"] == "Enabled"
    aws_cli(shared_stratus, "s3api", "delete-object", "--bucket", bucket, "--key", "k")
    _, out, _ = aws_cli(shared_stratus, "s3api", "list-object-versions", "--bucket", bucket)
    versions = json.loads(out)
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1
