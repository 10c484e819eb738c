"""CloudWatch Logs (json 1.1) through boto3 and the aws CLI."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client


def now_ms():
    return int(time.time() * 1000)


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_group_stream_event_lifecycle(stratus):
    logs = make_client(stratus, "logs")
    logs.create_log_group(logGroupName="/app/api", tags={"team": "core"})
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="/app/api")
    assert error_code(e) == "ResourceAlreadyExistsException"
    logs.create_log_stream(logGroupName="/app/api", logStreamName="i-1")
    t = now_ms()
    resp = logs.put_log_events(
        logGroupName="/app/api", logStreamName="i-1",
        logEvents=[{"timestamp": t + i, "message": f"line {i}"} for i in range(5)])
    assert "nextSequenceToken" in resp
    got = logs.get_log_events(logGroupName="/app/api", logStreamName="i-1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"line {i}" for i in range(5)]
    assert all(e["ingestionTime"] >= t - 1000 for e in got["events"])
    # At the end, the forward token repeats.
    again = logs.get_log_events(logGroupName="/app/api", logStreamName="i-1",
                                nextToken=got["nextForwardToken"])
    assert again["events"] == []
    assert again["nextForwardToken"] == got["nextForwardToken"]

    groups = logs.describe_log_groups(logGroupNamePrefix="/app")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/app/api"]
    assert groups[0]["arn"].endswith(":log-group:/app/api:*")
    streams = logs.describe_log_streams(logGroupName="/app/api")["logStreams"]
    assert streams[0]["logStreamName"] == "i-1"
    assert streams[0]["lastEventTimestamp"] == t + 4
    assert logs.list_tags_log_group(logGroupName="/app/api")["tags"] == {"team": "core"}
    arn = groups[0]["arn"][:-len(":*")]  # logGroupArn is newer than Debian's botocore
    logs.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core", "env": "dev"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}

    logs.put_retention_policy(logGroupName="/app/api", retentionInDays=7)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName="/app/api", retentionInDays=2)
    assert error_code(e) == "InvalidParameterException"
    logs.delete_retention_policy(logGroupName="/app/api")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]

    logs.delete_log_group(logGroupName="/app/api")
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName="/app/api", logStreamName="i-1")
    assert error_code(e) == "ResourceNotFoundException"


def test_filter_patterns(stratus):
    logs = make_client(stratus, "logs")
    logs.create_log_group(logGroupName="svc")
    for s in ("a", "b"):
        logs.create_log_stream(logGroupName="svc", logStreamName=s)
    t = now_ms()
    logs.put_log_events(logGroupName="svc", logStreamName="a", logEvents=[
        {"timestamp": t, "message": "ERROR Failed to process order 7"},
        {"timestamp": t + 2, "message": json.dumps({"level": "ERROR", "latency": 250})},
        {"timestamp": t + 4, "message": "INFO all good"},
    ])
    logs.put_log_events(logGroupName="svc", logStreamName="b", logEvents=[
        {"timestamp": t + 1, "message": json.dumps({"level": "INFO", "latency": 5})},
        {"timestamp": t + 3, "message": "WARN disk at 91%"},
    ])

    def messages(**kw):
        return [e["message"] for e in logs.filter_log_events(logGroupName="svc", **kw)["events"]]

    assert len(messages()) == 5
    assert messages(filterPattern="ERROR")[0] == "ERROR Failed to process order 7"
    assert messages(filterPattern='"Failed to process"') == ["ERROR Failed to process order 7"]
    assert messages(filterPattern="?WARN ?INFO") == [
        json.dumps({"level": "INFO", "latency": 5}), "WARN disk at 91%", "INFO all good"]
    assert messages(filterPattern='{ $.level = "ERROR" }') == [json.dumps({"level": "ERROR", "latency": 250})]
    assert messages(filterPattern="{ $.latency > 100 }") == [json.dumps({"level": "ERROR", "latency": 250})]
    assert messages(filterPattern="INFO", logStreamNames=["a"]) == ["INFO all good"]
    # Interleaved across streams by timestamp.
    events = logs.filter_log_events(logGroupName="svc")["events"]
    assert [e["logStreamName"] for e in events] == ["a", "b", "a", "b", "a"]
    # The paginator walks the same events one page at a time.
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName="svc", PaginationConfig={"PageSize": 2})
    assert sum(len(p["events"]) for p in pages) == 5
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="svc", filterPattern="{ $.level = ")
    assert error_code(e) == "InvalidParameterException"


def test_put_log_events_rules(stratus):
    logs = make_client(stratus, "logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms()
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t, "message": "b"}, {"timestamp": t - 10, "message": "a"}])
    assert error_code(e) == "InvalidParameterException"
    assert "chronological" in e.value.response["Error"]["Message"]
    resp = logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t, "message": "ok"}, {"timestamp": t + 3 * 3600 * 1000, "message": "future"}])
    assert resp["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="g", logStreamName="missing",
                            logEvents=[{"timestamp": t, "message": "x"}])
    assert error_code(e) == "ResourceNotFoundException"


def test_describe_pagination(stratus):
    logs = make_client(stratus, "logs")
    for i in range(7):
        logs.create_log_group(logGroupName=f"/p/{i}")
    pages = list(logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/p/", PaginationConfig={"PageSize": 3}))
    assert [len(p["logGroups"]) for p in pages] == [3, 3, 1]
    names = [g["logGroupName"] for p in pages for g in p["logGroups"]]
    assert names == [f"/p/{i}" for i in range(7)]


def test_logs_survive_restart(stratus):
    logs = make_client(stratus, "logs")
    logs.create_log_group(logGroupName="durable")
    logs.create_log_stream(logGroupName="durable", logStreamName="s")
    logs.put_log_events(logGroupName="durable", logStreamName="s",
                        logEvents=[{"timestamp": now_ms(), "message": "kept"}])
    stratus.restart()
    logs = make_client(stratus, "logs")
    got = logs.get_log_events(logGroupName="durable", logStreamName="s")
    assert [e["message"] for e in got["events"]] == ["kept"]


def test_cli_logs_commands(stratus):
    aws_cli(stratus, "logs", "create-log-group", "--log-group-name", "/cli")
    aws_cli(stratus, "logs", "create-log-stream", "--log-group-name", "/cli",
            "--log-stream-name", "s")
    events = json.dumps([{"timestamp": now_ms(), "message": "hello from the cli"}])
    aws_cli(stratus, "logs", "put-log-events", "--log-group-name", "/cli",
            "--log-stream-name", "s", "--log-events", events)
    _, out, _ = aws_cli(stratus, "logs", "filter-log-events", "--log-group-name", "/cli",
                        "--filter-pattern", "hello")
    assert json.loads(out)["events"][0]["message"] == "hello from the cli"
    _, out, _ = aws_cli(stratus, "logs", "tail", "/cli", "--since", "1h", "--format", "short")
    assert "hello from the cli" in out
    code, _, err = aws_cli(stratus, "logs", "create-log-group", "--log-group-name", "/cli",
                           check=False)
    assert code != 0 and "ResourceAlreadyExistsException" in err
