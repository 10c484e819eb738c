"""Step Functions versions and aliases through boto3 and the aws CLI: publishing (explicit, on
create and on update), listing, deleting, aliases with routing weights, and executions started
by version and alias ARN.

Debian's botocore ships a Step Functions model from before versions, aliases, RedriveExecution
and TestState; the clients here load AWS's current model (models/stepfunctions-2016-11-23.json,
the one stratus serves) through botocore's data path, as AWS_DATA_PATH does for the CLI.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_stepfunctions import ROLE

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "models", "stepfunctions-2016-11-23.json")


@pytest.fixture(scope="module")
def data_path():
    d = tempfile.mkdtemp(prefix="sfn-model-")
    os.makedirs(os.path.join(d, "stepfunctions", "2016-11-23"))
    shutil.copy(MODEL, os.path.join(d, "stepfunctions", "2016-11-23", "service-2.json"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def sfn_client(server, data_path):
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, data_path)
    return boto3.Session(botocore_session=core).client(
        "stepfunctions", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=120, inject_host_prefix=False))


def aws_cli(server, data_path, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(), "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": "", "AWS_DATA_PATH": data_path}
    proc = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.url, "--output", "json", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"aws {' '.join(args)} failed: {proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def wait_done(sfn, arn, timeout=30):
    deadline = time.time() + timeout
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING" or time.time() > deadline:
            return d
        time.sleep(0.02)


def machine(result):
    return json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}})


def error_code(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"]


def test_versions(shared_stratus, data_path):
    sfn = sfn_client(shared_stratus, data_path)
    name = f"ver-{uuid.uuid4().hex[:8]}"
    created = sfn.create_state_machine(name=name, definition=machine("v1"), roleArn=ROLE, publish=True,
                                       versionDescription="first")
    arn = created["stateMachineArn"]
    assert created["stateMachineVersionArn"] == arn + ":1"
    # Publishing an unchanged revision returns the same version.
    again = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert again["stateMachineVersionArn"] == arn + ":1"
    # A revision id that is not the current one conflicts.
    assert error_code(sfn.publish_state_machine_version, stateMachineArn=arn, revisionId="nope") == "ConflictException"
    upd = sfn.update_state_machine(stateMachineArn=arn, definition=machine("v2"), publish=True)
    assert upd["stateMachineVersionArn"] == arn + ":2"
    rev = sfn.describe_state_machine(stateMachineArn=arn)["revisionId"]
    assert upd["revisionId"] == rev
    sfn.update_state_machine(stateMachineArn=arn, definition=machine("v3"))
    v3 = sfn.publish_state_machine_version(stateMachineArn=arn, description="third",
                                           revisionId=sfn.describe_state_machine(stateMachineArn=arn)["revisionId"])
    assert v3["stateMachineVersionArn"] == arn + ":3"
    listed = [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]]
    assert listed == [arn + ":3", arn + ":2", arn + ":1"]
    page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2)
    assert len(page["stateMachineVersions"]) == 2 and "nextToken" in page
    # A version describes its own definition and description.
    d1 = sfn.describe_state_machine(stateMachineArn=arn + ":1")
    assert json.loads(d1["definition"])["States"]["P"]["Result"] == "v1"
    assert d1["description"] == "first" and d1["stateMachineArn"] == arn + ":1"
    # Executions by version ARN run that version and say so.
    ex = sfn.start_execution(stateMachineArn=arn + ":1")["executionArn"]
    d = wait_done(sfn, ex)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == "v1"
    assert d["stateMachineVersionArn"] == arn + ":1" and d["stateMachineArn"] == arn
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=arn + ":1")["executions"]] == [ex]
    sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":2")
    assert error_code(sfn.describe_state_machine, stateMachineArn=arn + ":2") == "StateMachineDoesNotExist"
    assert error_code(sfn.start_execution, stateMachineArn=arn + ":2") == "StateMachineDoesNotExist"
    assert error_code(sfn.list_state_machine_versions, stateMachineArn=arn + ":1") == "InvalidArn"
    # Deleting the machine removes its versions.
    sfn.delete_state_machine(stateMachineArn=arn)
    sfn.create_state_machine(name=name, definition=machine("new"), roleArn=ROLE)
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []


def test_aliases(shared_stratus, data_path):
    sfn = sfn_client(shared_stratus, data_path)
    name = f"alias-{uuid.uuid4().hex[:8]}"
    arn = sfn.create_state_machine(name=name, definition=machine("one"), roleArn=ROLE, publish=True)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=machine("two"), publish=True)
    v1, v2 = arn + ":1", arn + ":2"
    alias = sfn.create_state_machine_alias(name="live", description="prod",
                                           routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
    alias_arn = alias["stateMachineAliasArn"]
    assert alias_arn == arn + ":live"
    # Identical creation is idempotent, a different routing conflicts.
    assert sfn.create_state_machine_alias(name="live", description="prod", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"] == alias_arn
    assert error_code(sfn.create_state_machine_alias, name="live", routingConfiguration=[
        {"stateMachineVersionArn": v2, "weight": 100}]) == "ConflictException"
    # Weights must sum to 100 and versions must exist.
    assert error_code(sfn.create_state_machine_alias, name="bad", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 40}]) == "ValidationException"
    assert error_code(sfn.create_state_machine_alias, name="bad", routingConfiguration=[
        {"stateMachineVersionArn": arn + ":9", "weight": 100}]) == "ResourceNotFound"
    d = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert d["name"] == "live" and d["description"] == "prod"
    assert d["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}]
    ex = sfn.start_execution(stateMachineArn=alias_arn)["executionArn"]
    out = wait_done(sfn, ex)
    assert json.loads(out["output"]) == "one"
    assert out["stateMachineAliasArn"] == alias_arn and out["stateMachineVersionArn"] == v1
    # A version an alias routes to cannot be deleted.
    assert error_code(sfn.delete_state_machine_version, stateMachineVersionArn=v1) == "ConflictException"
    # Split routing: both versions are chosen over enough executions.
    sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 50}])
    seen = set()
    for _ in range(40):
        e = sfn.start_execution(stateMachineArn=alias_arn)["executionArn"]
        seen.add(wait_done(sfn, e)["stateMachineVersionArn"])
        if len(seen) == 2:
            break
    assert seen == {v1, v2}
    assert [a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]] == [alias_arn]
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert error_code(sfn.describe_state_machine_alias, stateMachineAliasArn=alias_arn) == "ResourceNotFound"
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)


def test_versions_and_aliases_with_the_aws_cli(shared_stratus, data_path):
    name = f"cliver-{uuid.uuid4().hex[:8]}"
    created = aws_cli(shared_stratus, data_path, "stepfunctions", "create-state-machine", "--name", name,
                      "--definition", machine("cli"), "--role-arn", ROLE, "--publish")
    arn, version = created["stateMachineArn"], created["stateMachineVersionArn"]
    alias_arn = aws_cli(shared_stratus, data_path, "stepfunctions", "create-state-machine-alias", "--name", "prod",
                        "--routing-configuration",
                        json.dumps([{"stateMachineVersionArn": version, "weight": 100}]))["stateMachineAliasArn"]
    out = aws_cli(shared_stratus, data_path, "stepfunctions", "list-state-machine-versions", "--state-machine-arn", arn)
    assert [v["stateMachineVersionArn"] for v in out["stateMachineVersions"]] == [version]
    ex = aws_cli(shared_stratus, data_path, "stepfunctions", "start-execution", "--state-machine-arn",
                 alias_arn)["executionArn"]
    d = wait_done(sfn_client(shared_stratus, data_path), ex)
    assert json.loads(d["output"]) == "cli" and d["stateMachineAliasArn"] == alias_arn
    aws_cli(shared_stratus, data_path, "stepfunctions", "delete-state-machine-alias", "--state-machine-alias-arn", alias_arn)
    aws_cli(shared_stratus, data_path, "stepfunctions", "delete-state-machine-version", "--state-machine-version-arn", version)
