"""Distributed Map over S3 through boto3: ItemReader (s3:getObject with JSON and CSV, and
s3:listObjectsV2), ResultWriter (s3:putObject: manifest.json and the SUCCEEDED/FAILED/PENDING
files under <Prefix>/<mapRunId>/), AWS's States.ItemReaderFailed for a missing object or a bad
CSV, and a map run that survives kill -9."""
import json
import tempfile
import time
import uuid

import pytest

from conftest import Stratus, make_client
from test_stepfunctions import create, sfn_client, wait_done


def distributed(processor_states, start, **fields):
    m = {"Type": "Map", "End": True,
         "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                           "StartAt": start, "States": processor_states}}
    m.update(fields)
    return {"StartAt": "Map", "States": {"Map": m}}


DOUBLE = {"D": {"Type": "Pass", "Parameters": {"v.$": "$.v", "twice.$": "States.MathAdd($.v, $.v)"}, "End": True}}
ECHO = {"E": {"Type": "Pass", "End": True}}


@pytest.fixture(scope="module")
def env(shared_stratus):
    s3 = make_client(shared_stratus, "s3")
    bucket = f"dmap-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return shared_stratus, sfn_client(shared_stratus), s3, bucket


def run(sfn, definition, input_=None):
    arn = create(sfn, definition)
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(input_ or {}))["executionArn"]
    return wait_done(sfn, ex), ex


def read_json(s3, bucket, key):
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_json_reader_with_result_writer(env):
    _, sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="in/items.json", Body=json.dumps([{"v": 1}, {"v": 2}, {"v": 3}]))
    d, ex = run(sfn, distributed(DOUBLE, "D",
                                 ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                             "ReaderConfig": {"InputType": "JSON"},
                                             "Parameters": {"Bucket.$": "$.bucket", "Key": "in/items.json"}},
                                 ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                               "Parameters": {"Bucket.$": "$.bucket", "Prefix": "results"}}),
                {"bucket": bucket})
    assert d["status"] == "SUCCEEDED", d
    output = json.loads(d["output"])
    assert set(output) == {"MapRunArn", "ResultWriterDetails"}
    details = output["ResultWriterDetails"]
    assert details["Bucket"] == bucket
    assert details["Key"].startswith("results/") and details["Key"].endswith("/manifest.json")
    run_id = details["Key"].split("/")[1]
    manifest = read_json(s3, bucket, details["Key"])
    assert manifest["DestinationBucket"] == bucket
    assert manifest["MapRunArn"] == output["MapRunArn"]
    assert output["MapRunArn"].endswith("/Map:" + run_id) and ":mapRun:" in output["MapRunArn"]
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    assert succeeded["Key"] == f"results/{run_id}/SUCCEEDED_0.json"
    body = s3.get_object(Bucket=bucket, Key=succeeded["Key"])["Body"].read()
    assert succeeded["Size"] == len(body)
    results = json.loads(body)
    assert [json.loads(r["Output"]) for r in results] == [{"v": 1, "twice": 2}, {"v": 2, "twice": 4}, {"v": 3, "twice": 6}]
    assert [json.loads(r["Input"]) for r in results] == [{"v": 1}, {"v": 2}, {"v": 3}]
    assert all(r["Status"] == "SUCCEEDED" for r in results)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"results/{run_id}/")["Contents"]]
    assert sorted(listed) == [f"results/{run_id}/SUCCEEDED_0.json", f"results/{run_id}/manifest.json"]
    events = [e["type"] for e in sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]]
    assert events.count("MapRunStarted") == 1 and events.count("MapRunSucceeded") == 1


def test_csv_first_row_with_max_items_and_item_selector(env):
    _, sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="data.csv", Body=b'id,name\n1,ann\n2,"b, ""bob"""\n3,cid\n')
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW",
                                                             "MaxItems": 2},
                                            "Parameters": {"Bucket": bucket, "Key": "data.csv"}},
                                ItemSelector={"row.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index",
                                              "tag.$": "$.tag"}),
               {"tag": "t"})
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"row": {"id": "1", "name": "ann"}, "index": 0, "tag": "t"},
                                       {"row": {"id": "2", "name": 'b, "bob"'}, "index": 1, "tag": "t"}]


@pytest.mark.parametrize("delimiter,sep", [("COMMA", ","), ("PIPE", "|"), ("SEMICOLON", ";"), ("SPACE", " "),
                                             ("TAB", "\t")])
def test_csv_delimiters(env, delimiter, sep):
    _, sfn, s3, bucket = env
    key = f"delim-{delimiter}.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=f'id{sep}note\n1{sep}"a,b"\n2{sep}c\n'.encode())
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "CSV", "CSVDelimiter": delimiter},
                                            "Parameters": {"Bucket": bucket, "Key": key}}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"id": "1", "note": "a,b"}, {"id": "2", "note": "c"}]


def test_jsonl_reader(env):
    _, sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="items.jsonl", Body=b'{"v": 1}\r\n\n{"v": 2}\n{"v": 3}\n')
    d, _ = run(sfn, distributed(DOUBLE, "D",
                                ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "JSONL", "MaxItems": 2},
                                            "Parameters": {"Bucket": bucket, "Key": "items.jsonl"}}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"v": 1, "twice": 2}, {"v": 2, "twice": 4}]
    s3.put_object(Bucket=bucket, Key="bad.jsonl", Body=b'{"v": 1}\n{nope\n')
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "JSONL"},
                                            "Parameters": {"Bucket": bucket, "Key": "bad.jsonl"}}))
    assert d["status"] == "FAILED" and d["error"] == "States.ItemReaderFailed", d
    assert "line 2" in d["cause"]


def test_csv_given_headers_and_max_items_path(env):
    _, sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="given.csv", Body=b"a,1\nb,2\nc,3\n")
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                                                             "CSVHeaders": ["letter", "n"], "MaxItemsPath": "$.max"},
                                            "Parameters": {"Bucket": bucket, "Key": "given.csv"}}),
               {"max": 2})
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"letter": "a", "n": "1"}, {"letter": "b", "n": "2"}]


def test_list_objects_v2_items_shaped_as_aws(env):
    _, sfn, s3, bucket = env
    for key, body in [("logs/a.txt", b"aaa"), ("logs/b.txt", b""), ("other/c.txt", b"c")]:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:listObjectsV2",
                                            "Parameters": {"Bucket": bucket, "Prefix": "logs/"}}))
    assert d["status"] == "SUCCEEDED", d
    items = json.loads(d["output"])
    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket, Prefix="logs/")["Contents"]}
    assert [i["Key"] for i in items] == ["logs/a.txt", "logs/b.txt"]
    for item in items:
        o = listed[item["Key"]]
        assert set(item) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
        assert item["Etag"] == o["ETag"] and item["Size"] == o["Size"] and item["StorageClass"] == "STANDARD"
        assert item["LastModified"] == int(o["LastModified"].timestamp())
    # Every page is read (MaxKeys 1: one key a page).
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:listObjectsV2",
                                            "Parameters": {"Bucket": bucket, "Prefix": "logs/", "MaxKeys": 1}}))
    assert d["status"] == "SUCCEEDED", d
    assert [i["Key"] for i in json.loads(d["output"])] == ["logs/a.txt", "logs/b.txt"]


def test_jsonata_arguments_for_the_reader(env):
    _, sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="j.json", Body=b"[10, 20]")
    definition = distributed({"E": {"Type": "Pass", "End": True}}, "E",
                             ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                         "ReaderConfig": {"InputType": "JSON"},
                                         "Arguments": {"Bucket": "{% $states.input.b %}", "Key": "j.json"}})
    definition["QueryLanguage"] = "JSONata"
    d, _ = run(sfn, definition, {"b": bucket})
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [10, 20]


@pytest.mark.parametrize("key,body,reader_config", [
    ("missing.json", None, {"InputType": "JSON"}),
    ("bad.csv", b"a,b\n1,2,3\n", {"InputType": "CSV"}),
    ("open-quote.csv", b'a,b\n"1,2\n', {"InputType": "CSV"}),
    ("object.json", b'{"not": "an array"}', {"InputType": "JSON"}),
    # Not supported yet: fails loudly, naming the input types stratus reads.
    ("inventory/manifest.json", b'{"files": []}', {"InputType": "MANIFEST"}),
])
def test_unreadable_items_fail_with_item_reader_failed(env, key, body, reader_config):
    _, sfn, s3, bucket = env
    if body is not None:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": reader_config,
              "Parameters": {"Bucket": bucket, "Key": key}}
    d, ex = run(sfn, distributed(ECHO, "E", ItemReader=reader))
    assert d["status"] == "FAILED", d
    assert d["error"] == "States.ItemReaderFailed" and d["cause"], d
    if body is None:
        assert "does not exist" in d["cause"]
    types = [e["type"] for e in sfn.get_execution_history(executionArn=ex)["events"]]
    assert "MapStateFailed" in types and "MapIterationStarted" not in types
    # The error is catchable like any other.
    caught = distributed(ECHO, "E", ItemReader=reader)
    caught["States"]["Map"]["Catch"] = [{"ErrorEquals": ["States.ItemReaderFailed"], "ResultPath": "$.err",
                                         "Next": "Handled"}]
    del caught["States"]["Map"]["End"]
    caught["States"]["Map"]["Next"] = "Handled"
    caught["States"]["Handled"] = {"Type": "Pass", "End": True}
    d, _ = run(sfn, caught)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"])["err"]["Error"] == "States.ItemReaderFailed"


FAIL_ODD = {"Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
                      "Default": "Ok"},
            "Boom": {"Type": "Fail", "Error": "Odd", "Cause": "odd item"},
            "Ok": {"Type": "Pass", "End": True}}


def test_result_writer_reports_failed_iterations(env):
    _, sfn, s3, bucket = env
    items = [{"i": 0, "fail": False}, {"i": 1, "fail": True}, {"i": 2, "fail": False}]
    s3.put_object(Bucket=bucket, Key="mixed.json", Body=json.dumps(items))
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
              "Parameters": {"Bucket": bucket, "Key": "mixed.json"}}
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "mixed"}}
    d, _ = run(sfn, distributed(FAIL_ODD, "Check", ItemReader=reader, ResultWriter=writer, ToleratedFailureCount=1))
    assert d["status"] == "SUCCEEDED", d
    manifest = read_json(s3, bucket, json.loads(d["output"])["ResultWriterDetails"]["Key"])
    [failed_file] = manifest["ResultFiles"]["FAILED"]
    [failed] = read_json(s3, bucket, failed_file["Key"])
    assert failed["Status"] == "FAILED" and failed["Error"] == "Odd" and failed["Cause"] == "odd item"
    assert json.loads(failed["Input"]) == items[1]
    succeeded = read_json(s3, bucket, manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert [json.loads(r["Output"])["i"] for r in succeeded] == [0, 2]

    # Past the tolerance the results are still written, then the Map fails.
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="strict/").get("Contents", [])}
    strict = dict(writer, Parameters={"Bucket": bucket, "Prefix": "strict"})
    d, _ = run(sfn, distributed(FAIL_ODD, "Check", ItemReader=reader, ResultWriter=strict, MaxConcurrency=1))
    assert d["status"] == "FAILED" and d["error"] == "Odd", d
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="strict/")["Contents"]} - before
    [manifest_key] = [k for k in keys if k.endswith("manifest.json")]
    manifest = read_json(s3, bucket, manifest_key)
    assert len(manifest["ResultFiles"]["FAILED"]) == 1 and len(manifest["ResultFiles"]["PENDING"]) == 1
    [pending] = read_json(s3, bucket, manifest["ResultFiles"]["PENDING"][0]["Key"])
    assert pending["Status"] == "PENDING" and json.loads(pending["Input"]) == items[2]


def test_map_run_with_result_writer_survives_sigkill():
    with tempfile.TemporaryDirectory(prefix="stratus-dmap-") as data_dir:
        server = Stratus(data_dir).start()
        sfn, s3 = sfn_client(server), make_client(server, "s3")
        s3.create_bucket(Bucket="durable")
        s3.put_object(Bucket="durable", Key="items.json", Body=b'[{"n": 1}, {"n": 2}]')
        act = sfn.create_activity(name="dmap-durable")["activityArn"]
        definition = distributed({"T": {"Type": "Task", "Resource": act, "End": True}}, "T",
                                 ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                             "ReaderConfig": {"InputType": "JSON"},
                                             "Parameters": {"Bucket": "durable", "Key": "items.json"}},
                                 ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                               "Parameters": {"Bucket": "durable", "Prefix": "out"}})
        ex = sfn.start_execution(stateMachineArn=create(sfn, definition), input="{}")["executionArn"]
        first = sfn.get_activity_task(activityArn=act, workerName="before")
        assert json.loads(first["input"]) in ({"n": 1}, {"n": 2})
        server.kill()
        server.start()
        sfn, s3 = sfn_client(server), make_client(server, "s3")
        # The task handed out before the kill is still that worker's (not handed out again);
        # its token completes it after the restart.
        n_first = json.loads(first["input"])["n"]
        sfn.send_task_success(taskToken=first["taskToken"], output=json.dumps({"got": n_first}))
        done = 1
        deadline = time.time() + 30
        while done < 2 and time.time() < deadline:
            t = sfn.get_activity_task(activityArn=act, workerName="after")
            if t.get("taskToken"):
                n = json.loads(t["input"])["n"]
                assert n != n_first, "a task handed out before the restart was handed out again"
                sfn.send_task_success(taskToken=t["taskToken"], output=json.dumps({"got": n}))
                done += 1
        d = wait_done(sfn, ex)
        assert d["status"] == "SUCCEEDED", d
        manifest = json.loads(s3.get_object(Bucket="durable", Key=json.loads(d["output"])["ResultWriterDetails"]["Key"])
                              ["Body"].read())
        results = json.loads(s3.get_object(Bucket="durable", Key=manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
                             ["Body"].read())
        assert [json.loads(r["Output"]) for r in results] == [{"got": 1}, {"got": 2}]
        types = [e["type"] for e in sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]]
        assert types.count("MapRunStarted") == 1 and types.count("MapStateEntered") == 1
        # The map run and its child executions came through the kill consistent.
        [run] = sfn.list_map_runs(executionArn=ex)["mapRuns"]
        assert run["mapRunArn"] == manifest["MapRunArn"]
        desc = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
        assert desc["status"] == "SUCCEEDED" and desc["itemCounts"]["succeeded"] == 2, desc
        children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
        assert sorted(c["status"] for c in children) == ["SUCCEEDED", "SUCCEEDED"]
        assert {c["executionArn"] for c in children} == {r["ExecutionArn"] for r in results}
        assert server.stop() == 0


def test_express_execution_reads_and_writes(env):
    _, sfn, s3, bucket = env
    s3.put_object(Bucket=bucket, Key="express.json", Body=b'[{"v": 5}]')
    definition = distributed(DOUBLE, "D",
                             ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                         "ReaderConfig": {"InputType": "JSON"},
                                         "Parameters": {"Bucket": bucket, "Key": "express.json"}},
                             ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                           "Parameters": {"Bucket": bucket, "Prefix": "express"}})
    arn = create(sfn, definition, type_="EXPRESS")
    d = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert d["status"] == "SUCCEEDED", d
    manifest = read_json(s3, bucket, json.loads(d["output"])["ResultWriterDetails"]["Key"])
    [result] = read_json(s3, bucket, manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert json.loads(result["Output"]) == {"v": 5, "twice": 10}


def test_large_object_is_read_whole(env):
    """Objects past S3's inline size come back as a file region; the reader reads them to the end."""
    _, sfn, s3, bucket = env
    body = ("n,v\n0," + "v" * (300 * 1024) + "\n1,end\n").encode()
    s3.put_object(Bucket=bucket, Key="big.csv", Body=body)
    d, _ = run(sfn, distributed(ECHO, "E",
                                ItemReader={"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "CSV"},
                                            "Parameters": {"Bucket": bucket, "Key": "big.csv"}},
                                ItemSelector={"n.$": "$$.Map.Item.Value.n"}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [{"n": "0"}, {"n": "1"}]


@pytest.mark.parametrize("writer,named", [
    ({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"},
      "WriterConfig": {"Transformation": "SQUASH", "OutputType": "JSON"}}, "Transformation"),
    ({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"},
      "WriterConfig": {"Transformation": "NONE", "OutputType": "CSV"}}, "OutputType"),
    ({"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "PARQUET"}}, "OutputType"),
])
def test_bad_writer_config_fails_loudly(env, writer, named):
    # COMPACT/FLATTEN, JSONL and WriterConfig without a Resource work
    # (test_stepfunctions_item_reader.py); values AWS does not define fail the state.
    _, sfn, _, _ = env
    d, _ = run(sfn, distributed(ECHO, "E", ItemsPath="$.items", ResultWriter=writer), {"items": [1]})
    assert d["status"] == "FAILED" and d["error"] == "States.Runtime", d
    assert "WriterConfig " + named in d["cause"], d


def test_writer_config_none_json_writes_as_default(env):
    _, sfn, s3, bucket = env
    d, _ = run(sfn, distributed(ECHO, "E", ItemsPath="$.items",
                                ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                              "Parameters": {"Bucket": bucket, "Prefix": "wc"},
                                              "WriterConfig": {"Transformation": "NONE", "OutputType": "JSON"}}),
               {"items": [1, 2]})
    assert d["status"] == "SUCCEEDED", d
    manifest = read_json(s3, bucket, json.loads(d["output"])["ResultWriterDetails"]["Key"])
    entries = read_json(s3, bucket, manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert [json.loads(e["Output"]) for e in entries] == [1, 2]
