"""Requests that wait for a long time must not hold the server's worker threads.

The server runs with `--workers 2`, so a handler that blocked a worker while it waits (a long
poll, a synchronous invoke waiting for its function, an in-process call waiting for its answer)
would, with a few such requests pending, starve every other blocking operation: CreateQueue,
PutItem, CreateActivity... would then hang until the waits end. Each test keeps several waits
pending and checks that other operations are answered while every wait is still pending (the
waits last 20-60 s, far longer than the operations need even on a loaded machine)."""
import json
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
from botocore.config import Config

from conftest import Stratus, create_function

WAITERS = 6  # three times the server's worker threads


@pytest.fixture
def small_pool():
    # A fresh server per test: threads a pool started beyond its limit for an earlier test's
    # waiters stay idle for 30 s and would serve this test's tasks, hiding a starvation bug.
    with tempfile.TemporaryDirectory(prefix="stratus-pool-") as data_dir:
        s = Stratus(data_dir, extra_args=["--workers", "2"]).start()
        yield s
        try:
            s.stop()
        except subprocess.TimeoutExpired:  # a starved server may not stop: never leave it behind
            s.kill()
            raise


def client(server, service):
    import boto3
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=10,
                                      read_timeout=120))


def start_waiters(fn, n):
    results, threads = [], []
    for i in range(n):
        t = threading.Thread(target=lambda i=i: results.append(fn(i)), daemon=True)
        t.start()
        threads.append(t)
    return threads, results


def other_operations(server):
    """Operations that run on a worker thread: each must be answered while the waits pend."""
    sqs, ddb, sfn = client(server, "sqs"), client(server, "dynamodb"), client(server, "stepfunctions")
    name = "t" + uuid.uuid4().hex[:8]
    sqs.create_queue(QueueName=name)
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": str(i)}})
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 5
    sfn.create_activity(name=name)


def test_long_polls_hold_no_worker_threads(small_pool):
    sqs, sfn = client(small_pool, "sqs"), client(small_pool, "stepfunctions")
    url = sqs.create_queue(QueueName="polled")["QueueUrl"]
    act = sfn.create_activity(name="polled")["activityArn"]
    sqs_polls, sqs_got = start_waiters(
        lambda i: client(small_pool, "sqs").receive_message(QueueUrl=url, WaitTimeSeconds=20)
        .get("Messages", []), WAITERS)
    act_polls, act_got = start_waiters(
        lambda i: client(small_pool, "stepfunctions").get_activity_task(activityArn=act,
                                                                         workerName=f"w{i}"),
        WAITERS)
    time.sleep(2)  # the polls reach the server and wait there

    other_operations(small_pool)
    pending = [t for t in sqs_polls + act_polls if t.is_alive()]
    assert len(pending) == 2 * WAITERS, "a long poll ended before the other operations were answered"

    # The polls are still live: each is answered by what arrives.
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)}
                                                  for i in range(WAITERS)])
    machine = sfn.create_state_machine(
        name="m" + uuid.uuid4().hex[:8], roleArn="arn:aws:iam::000000000000:role/sfn",
        definition=json.dumps({"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": act, "TimeoutSeconds": 120, "End": True}}}))
    for i in range(WAITERS):
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"n": i}))
    for t in sqs_polls + act_polls:
        t.join(timeout=90)
    assert sorted(m["Body"] for got in sqs_got for m in got) == [str(i) for i in range(WAITERS)]
    assert sorted(json.loads(t["input"])["n"] for t in act_got if t.get("taskToken")) == \
        list(range(WAITERS))


SLEEPER = """
import time
def handler(event, context):
    time.sleep(event["sleep"])
    return {"slept": event["sleep"]}
"""


def test_synchronous_invokes_and_task_states_hold_no_worker_threads(small_pool):
    lam, sfn = client(small_pool, "lambda"), client(small_pool, "stepfunctions")
    fn = create_function(lam, "sleeper", {"app.py": SLEEPER}, Timeout=120)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=2 * WAITERS + 2)
    invokes, invoked = start_waiters(
        lambda i: json.loads(client(small_pool, "lambda").invoke(
            FunctionName=fn, Payload=json.dumps({"sleep": 25}))["Payload"].read()), WAITERS)
    # Task states whose in-process Invoke waits on a worker for the function's answer.
    fn_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    machine = sfn.create_state_machine(
        name="m" + uuid.uuid4().hex[:8], roleArn="arn:aws:iam::000000000000:role/sfn",
        definition=json.dumps({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName": fn_arn, "Payload": {"sleep": 25}},
            "OutputPath": "$.Payload"}}}))["stateMachineArn"]
    executions = [sfn.start_execution(stateMachineArn=machine)["executionArn"]
                  for _ in range(WAITERS)]
    time.sleep(2)

    other_operations(small_pool)
    assert all(t.is_alive() for t in invokes), "an invoke ended before the other operations"
    assert all(sfn.describe_execution(executionArn=e)["status"] == "RUNNING" for e in executions)

    for t in invokes:
        t.join(timeout=120)
    assert invoked == [{"slept": 25}] * WAITERS
    deadline = time.time() + 120
    while time.time() < deadline:
        states = [sfn.describe_execution(executionArn=e) for e in executions]
        if all(s["status"] != "RUNNING" for s in states):
            break
        time.sleep(0.5)
    assert [json.loads(s.get("output", "null")) for s in states] == [{"slept": 25}] * WAITERS, states


def test_concurrent_heartbeats_are_answered_without_waiting_out_their_executions(small_pool):
    """SendTaskHeartbeat waits on a worker for the execution's driver to take the heartbeat, and
    the driver runs on a worker too: more concurrent heartbeats than workers once took every
    worker and left the drivers queued, so each heartbeat waited out its 10 s limit (and the
    executions' heartbeat deadlines passed meanwhile)."""
    sfn = client(small_pool, "stepfunctions")
    act = sfn.create_activity(name="beating")["activityArn"]
    machine = sfn.create_state_machine(
        name="m" + uuid.uuid4().hex[:8], roleArn="arn:aws:iam::000000000000:role/sfn",
        definition=json.dumps({"StartAt": "Work", "States": {"Work": {
            "Type": "Task", "Resource": act, "HeartbeatSeconds": 8, "TimeoutSeconds": 120,
            "End": True}}}))["stateMachineArn"]
    executions = [sfn.start_execution(stateMachineArn=machine)["executionArn"]
                  for _ in range(WAITERS)]
    tokens = []
    deadline = time.time() + 60
    while len(tokens) < WAITERS and time.time() < deadline:
        t = sfn.get_activity_task(activityArn=act, workerName="w")
        if t.get("taskToken"):
            tokens.append(t["taskToken"])
    assert len(tokens) == WAITERS

    slowest, errors = [], []

    def beat(token):
        c = client(small_pool, "stepfunctions")
        worst = 0.0
        try:
            for _ in range(6):
                t0 = time.time()
                c.send_task_heartbeat(taskToken=token)
                worst = max(worst, time.time() - t0)
                time.sleep(0.5)
            c.send_task_success(taskToken=token, output="{}")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        slowest.append(worst)

    threads = [threading.Thread(target=beat, args=(tok,)) for tok in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    # A heartbeat answers in milliseconds; one that waited for a worker took the full 10 s.
    assert max(slowest) < 8, slowest
    statuses = []
    deadline = time.time() + 60
    while time.time() < deadline:
        statuses = [sfn.describe_execution(executionArn=e)["status"] for e in executions]
        if "RUNNING" not in statuses:
            break
        time.sleep(0.2)
    assert statuses == ["SUCCEEDED"] * WAITERS, statuses


def test_jwt_authorizer_fetching_the_servers_own_jwks_from_every_worker(small_pool):
    """An HTTP API's JWT authorizer whose issuer is this server's own Cognito pool fetches the
    JWKS over loopback from a worker, and Cognito serves it from a worker: as many cold
    concurrent requests as workers once each waited on a worker for a fetch that needed one,
    until the fetch timed out and every request was refused."""
    from test_apigateway_support import Upstream, call

    idp = client(small_pool, "cognito-idp")
    pool = idp.create_user_pool(PoolName="gateway")["UserPool"]["Id"]
    app = idp.create_user_pool_client(UserPoolId=pool, ClientName="app",
                                      ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                         "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    password = "Correct-Horse-9"
    idp.admin_create_user(UserPoolId=pool, Username="gina", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="gina", Password=password, Permanent=True)
    token = idp.initiate_auth(ClientId=app, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "gina", "PASSWORD": password}
                              )["AuthenticationResult"]["AccessToken"]
    v2 = client(small_pool, "apigatewayv2")
    with Upstream() as upstream:
        api = v2.create_api(Name="own-jwks", ProtocolType="HTTP")["ApiId"]
        auth = v2.create_authorizer(ApiId=api, Name="cognito", AuthorizerType="JWT",
                                    IdentitySource=["$request.header.Authorization"],
                                    JwtConfiguration={"Issuer": f"{small_pool.url}/{pool}",
                                                      "Audience": [app]})["AuthorizerId"]
        integ = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                      IntegrationUri=upstream.url,
                                      PayloadFormatVersion="1.0")["IntegrationId"]
        v2.create_route(ApiId=api, RouteKey="GET /me", AuthorizationType="JWT", AuthorizerId=auth,
                        Target=f"integrations/{integ}")
        v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
        statuses = []
        start = threading.Barrier(WAITERS)

        def request():
            start.wait()
            statuses.append(call(small_pool, "GET", f"/_aws/execute-api/{api}/me",
                                 headers={"Authorization": f"Bearer {token}"})[0])

        threads = [threading.Thread(target=request) for _ in range(WAITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert statuses == [200] * WAITERS, statuses


def test_disabling_sqs_event_source_mappings_from_every_worker(small_pool):
    """Disabling (or updating, or deleting) a mapping waits on a worker until the mapping's
    pollers stop, and a poller stops after its in-process ReceiveMessage long poll is answered,
    which SQS does from a worker: as many concurrent disables as workers must still return."""
    lam, sqs = client(small_pool, "lambda"), client(small_pool, "sqs")
    fn = create_function(lam, "esm-target", {"app.py": "def handler(e, c):\n    return 1\n"})
    mappings = []
    for i in range(WAITERS):
        url = sqs.create_queue(QueueName=f"esm-src-{i}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        mappings.append(lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn,
                                                        BatchSize=1)["UUID"])
    time.sleep(3)  # the pollers are in their long polls
    answers, errors = [], []

    def disable(uuid_):
        try:
            answers.append(client(small_pool, "lambda").update_event_source_mapping(
                UUID=uuid_, Enabled=False)["State"])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=disable, args=(u,), daemon=True) for u in mappings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors, errors
    assert answers == ["Disabling"] * WAITERS, answers
    other_operations(small_pool)
