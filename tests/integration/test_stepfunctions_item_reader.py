"""Distributed Map dataset readers and result options through boto3 against stratus's own S3:
ItemReader InputType MANIFEST (an S3 Inventory manifest.json and its gzip CSV files),
InputType PARQUET (a file written by real Parquet writers, see
src/services/stepfunctions/testdata/make_parquet_fixtures.mjs), ManifestType ATHENA_DATA,
ResultWriter WriterConfig (COMPACT/FLATTEN, JSON/JSONL, with and without an S3 export) and
ItemBatcher's MaxItemsPerBatchPath."""
import gzip
import json
import os
import uuid

import pytest

from conftest import make_client
from test_stepfunctions import create, sfn_client, wait_done

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "services",
                        "stepfunctions", "testdata")
ECHO = {"E": {"Type": "Pass", "End": True}}


def distributed(processor_states, start, **fields):
    m = {"Type": "Map", "End": True,
         "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                           "StartAt": start, "States": processor_states}}
    m.update(fields)
    return {"StartAt": "Map", "States": {"Map": m}}


@pytest.fixture(scope="module")
def env(shared_stratus):
    s3 = make_client(shared_stratus, "s3")
    bucket = f"ireader-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return sfn_client(shared_stratus), s3, bucket


def run(sfn, definition, input_=None):
    arn = create(sfn, definition)
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(input_ or {}))["executionArn"]
    return wait_done(sfn, ex, timeout=60)


def fixture(name):
    with open(os.path.join(TESTDATA, name), "rb") as f:
        return f.read()


def reader(input_type, bucket, key, **config):
    return {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": dict({"InputType": input_type}, **config),
            "Parameters": {"Bucket": bucket, "Key": key}}


def put_inventory(s3, bucket):
    """An inventory as S3 publishes one: manifest.json in the destination bucket naming
    gzip-compressed CSV files (no header row) with the fileSchema's columns."""
    rows = [[f"src-{bucket}", f"data/{i}.json", str(10 * i), f"2024-01-0{i}T00:00:00.000Z"] for i in range(1, 6)]
    files = []
    for n, chunk in enumerate([rows[:3], rows[3:]]):
        key = f"inv/src/cfg/data/part-{n}.csv.gz"
        body = gzip.compress("".join(",".join(f'"{v}"' for v in r) + "\n" for r in chunk).encode())
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        files.append({"key": key, "size": len(body), "MD5checksum": "0" * 32})
    manifest = {"sourceBucket": f"src-{bucket}", "destinationBucket": f"arn:aws:s3:::{bucket}",
                "version": "2016-11-30", "creationTimestamp": "1704067200000", "fileFormat": "CSV",
                "fileSchema": "Bucket, Key, Size, LastModifiedDate", "files": files}
    s3.put_object(Bucket=bucket, Key="inv/src/cfg/2024-01-01T00-00Z/manifest.json", Body=json.dumps(manifest))
    return rows


def test_s3_inventory_manifest(env):
    sfn, s3, bucket = env
    rows = put_inventory(s3, bucket)
    d = run(sfn, distributed(ECHO, "E", ItemReader=reader("MANIFEST", bucket, "inv/src/cfg/2024-01-01T00-00Z/manifest.json")))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [
        {"Bucket": r[0], "Key": r[1], "Size": r[2], "LastModifiedDate": r[3]} for r in rows]
    # MaxItems stops inside the second file.
    d = run(sfn, distributed(ECHO, "E", ItemReader=reader("MANIFEST", bucket, "inv/src/cfg/2024-01-01T00-00Z/manifest.json",
                                                          MaxItems=4)))
    assert d["status"] == "SUCCEEDED", d
    assert [i["Key"] for i in json.loads(d["output"])] == ["data/1.json", "data/2.json", "data/3.json", "data/4.json"]


def test_parquet_file(env):
    sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="pq/lite.parquet", Body=fixture("lite_plain_snappy.parquet"))
    d = run(sfn, distributed(ECHO, "E", ItemReader=reader("PARQUET", bucket, "pq/lite.parquet")))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [
        {"id": 1, "big": 9007199254740992, "name": "alpha", "score": 1.5, "ratio": 0.25, "ok": True},
        {"id": -2, "big": -5, "name": None, "score": -0.125, "ratio": 2.0, "ok": False},
        {"id": 3, "big": 0, "name": 'gamma "q"', "score": 1e100, "ratio": -1.5, "ok": True}]
    s3.put_object(Bucket=bucket, Key="pq/dict.parquet", Body=fixture("hyparquet_dictionary.parquet"))
    d = run(sfn, distributed(ECHO, "E", ItemReader=reader("PARQUET", bucket, "pq/dict.parquet", MaxItems=4),
                             ItemSelector={"city.$": "$$.Map.Item.Value.city", "n.$": "$$.Map.Item.Value.n"}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"city": "Oslo", "n": 0}, {"city": "Lima", "n": 1},
                                       {"city": None, "n": 2}, {"city": "Oslo", "n": 3}]


def test_athena_manifest_of_parquet_files(env):
    sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="athena/a.parquet", Body=fixture("lite_plain_gzip.parquet"))
    s3.put_object(Bucket=bucket, Key="athena/b.parquet", Body=fixture("lite_v2_snappy.parquet"))
    s3.put_object(Bucket=bucket, Key="athena/q-manifest.csv",
                  Body=f"s3://{bucket}/athena/a.parquet\ns3://{bucket}/athena/b.parquet\n")
    d = run(sfn, distributed(ECHO, "E", ItemReader=reader("PARQUET", bucket, "athena/q-manifest.csv",
                                                          ManifestType="ATHENA_DATA"),
                             ItemSelector={"id.$": "$$.Map.Item.Value.id"}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"id": 1}, {"id": -2}, {"id": 3}] * 2


@pytest.mark.parametrize("key,body,config", [
    ("bad/not.parquet", b"PAR1 this is not parquet PAR1", {}),
    ("bad/repeated.parquet", None, {}),
    ("bad/manifest.json", b'{"fileFormat":"ORC","fileSchema":"Bucket, Key","files":[]}', {"InputType": "MANIFEST"}),
])
def test_unreadable_datasets_fail_with_item_reader_failed(env, key, body, config):
    sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key=key, Body=body if body is not None else fixture("lite_repeated.parquet"))
    d = run(sfn, distributed(ECHO, "E", ItemReader=reader(config.get("InputType", "PARQUET"), bucket, key)))
    assert d["status"] == "FAILED" and d["error"] == "States.ItemReaderFailed", d
    if body is None:
        assert "tags" in d["cause"], d


def test_writer_config_without_resource_and_batch_path(env):
    sfn, s3, bucket = env
    d = run(sfn, distributed(ECHO, "E", ItemsPath="$.items", ItemBatcher={"MaxItemsPerBatchPath": "$.per"},
                             ItemSelector={"v.$": "$$.Map.Item.Value"},
                             ResultWriter={"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}),
            {"items": [1, 2, 3], "per": 2})
    assert d["status"] == "SUCCEEDED", d
    # Each iteration's output is its batch object; FLATTEN keeps objects as they are.
    assert json.loads(d["output"]) == [{"Items": [{"v": 1}, {"v": 2}]}, {"Items": [{"v": 3}]}]
    d = run(sfn, distributed({"P": {"Type": "Pass", "OutputPath": "$.x", "End": True}}, "P",
                             ResultWriter={"WriterConfig": {"Transformation": "FLATTEN"}}),
            [{"x": [1, 2]}, {"x": [3]}])
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [1, 2, 3]


def test_compact_jsonl_export(env):
    sfn, s3, bucket = env
    d = run(sfn, distributed(ECHO, "E", ResultWriter={
        "Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "jsonl"},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}), [{"a": 1}, {"a": 2}])
    assert d["status"] == "SUCCEEDED", d
    key = json.loads(d["output"])["ResultWriterDetails"]["Key"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    assert succeeded["Key"].endswith("/SUCCEEDED_0.jsonl")
    body = s3.get_object(Bucket=bucket, Key=succeeded["Key"])["Body"].read().decode()
    assert body == '{"a":1}\n{"a":2}\n'
