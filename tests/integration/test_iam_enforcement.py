"""Enforcement (--enforce-iam true): signatures verified against real secrets, every operation of
every service authorized as <prefix>:<Action> on its resources, with resource policies, session
policies, boundaries and explicit denies; replay, presigned expiry and tampering refused; soft
mode logs instead of denying.

The matrix runs each registered service's representative operations as an allowed and a denied
identity: the allowed one must get past authorization (success or a non-authorization error such
as a missing resource), the denied one must get the protocol's AccessDenied in AWS's wording."""
import datetime
import json
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Stratus, make_zip

ACCOUNT = "000000000000"
REGION = "us-east-1"
DENIED_CODES = {"AccessDenied", "AccessDeniedException", "AuthorizationError"}


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="stratus-iam-") as d:
        s = Stratus(d, ["--enforce-iam", "true"]).start()
        yield s
        s.stop()


def client(server, service, key="test", secret="test", token=None, **cfg):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}, **cfg))


def user_with_policy(root_iam, name, statements):
    root_iam.create_user(UserName=name)
    if statements:
        arn = root_iam.create_policy(PolicyName=name + "-policy", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))["Policy"]["Arn"]
        root_iam.attach_user_policy(UserName=name, PolicyArn=arn)
    k = root_iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", ""), \
            e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


@pytest.fixture(scope="module")
def world(server):
    """Resources created by the bootstrap root ("test"/"test")."""
    root = lambda svc: client(server, svc)  # noqa: E731
    q = root("sqs").create_queue(QueueName="mq")["QueueUrl"]
    t = root("sns").create_topic(Name="mt")["TopicArn"]
    root("dynamodb").create_table(TableName="mtab", BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    root("s3").create_bucket(Bucket="mbucket")
    root("s3").put_object(Bucket="mbucket", Key="k", Body=b"v")
    root("logs").create_log_group(logGroupName="/m/lg")
    root("iam").create_role(RoleName="mrole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                                                "Action": "sts:AssumeRole"}]}))
    return {"queue": q, "topic": t}


def matrix(world):
    """(service, operation, kwargs, action, resource) — every registered service."""
    q, t = world["queue"], world["topic"]
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope"
    return [
        ("sqs", "send_message", {"QueueUrl": q, "MessageBody": "x"}, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:mq"),
        ("sqs", "list_queues", {}, "sqs:ListQueues", "*"),
        ("sns", "publish", {"TopicArn": t, "Message": "m"}, "sns:Publish", t),
        ("sns", "list_topics", {}, "sns:ListTopics", "*"),
        ("dynamodb", "put_item", {"TableName": "mtab", "Item": {"k": {"S": "1"}}}, "dynamodb:PutItem",
         f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mtab"),
        ("dynamodb", "list_tables", {}, "dynamodb:ListTables", "*"),
        ("dynamodbstreams", "list_streams", {}, "dynamodb:ListStreams", "*"),
        ("s3", "get_object", {"Bucket": "mbucket", "Key": "k"}, "s3:GetObject", "arn:aws:s3:::mbucket/k"),
        ("s3", "list_objects_v2", {"Bucket": "mbucket"}, "s3:ListBucket", "arn:aws:s3:::mbucket"),
        ("s3", "list_buckets", {}, "s3:ListAllMyBuckets", "*"),
        ("logs", "describe_log_groups", {}, "logs:DescribeLogGroups", "*"),
        ("logs", "put_retention_policy", {"logGroupName": "/m/lg", "retentionInDays": 7},
         "logs:PutRetentionPolicy", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/m/lg"),
        ("lambda", "list_functions", {}, "lambda:ListFunctions", "*"),
        ("lambda", "get_function", {"FunctionName": "nope"}, "lambda:GetFunction", fn),
        ("stepfunctions", "list_state_machines", {}, "states:ListStateMachines", "*"),
        ("cognito-idp", "list_user_pools", {"MaxResults": 5}, "cognito-idp:ListUserPools", "*"),
        ("apigateway", "get_rest_apis", {}, "apigateway:GET", f"arn:aws:apigateway:{REGION}::/restapis"),
        ("apigatewayv2", "get_apis", {}, "apigateway:GET", f"arn:aws:apigateway:{REGION}::/v2/apis"),
        ("iam", "list_users", {}, "iam:ListUsers", "*"),
        ("iam", "get_role", {"RoleName": "mrole"}, "iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/mrole"),
        ("sts", "assume_role", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/mrole", "RoleSessionName": "m1"},
         "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/mrole"),
    ]


def test_matrix_every_service_allowed_and_denied(server, world):
    rows = matrix(world)
    assert {r[0] for r in rows} >= {"sqs", "sns", "dynamodb", "dynamodbstreams", "s3", "logs", "lambda",
                                    "stepfunctions", "cognito-idp", "apigateway", "apigatewayv2", "iam", "sts"}
    root_iam = client(server, "iam")
    allowed = user_with_policy(root_iam, "allowed", [
        {"Effect": "Allow", "Action": action, "Resource": resource} for _, _, _, action, resource in rows])
    denied = user_with_policy(root_iam, "denied", [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::some-other-bucket/*"}])
    # Admin with an explicit deny on each action: deny wins over allow.
    root_iam.create_user(UserName="deny-wins")
    root_iam.attach_user_policy(UserName="deny-wins", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    root_iam.put_user_policy(UserName="deny-wins", PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": sorted({r[3] for r in rows}), "Resource": "*"}]}))
    k = root_iam.create_access_key(UserName="deny-wins")["AccessKey"]
    deny_wins = (k["AccessKeyId"], k["SecretAccessKey"])
    failures = []
    for service, op, kwargs, action, resource in rows:
        for who, (key, secret), expect in (("denied", denied, False), ("deny-wins", deny_wins, False),
                                           ("allowed", allowed, True)):
            c = client(server, service, key, secret)
            err = error_of(lambda: getattr(c, op)(**kwargs))
            if expect:
                if err and err[0] in DENIED_CODES:
                    failures.append(f"{who} {service}.{op}: denied {err}")
            else:
                if not err or err[0] not in DENIED_CODES:
                    failures.append(f"{who} {service}.{op}: not denied ({err})")
                elif "is not authorized to perform: " + action not in err[1]:
                    failures.append(f"{who} {service}.{op}: message {err[1]!r} does not name {action}")
                elif who == "deny-wins" and "explicit deny" not in err[1]:
                    failures.append(f"{who} {service}.{op}: message {err[1]!r} does not say explicit deny")
    assert not failures, "\n".join(failures)


def test_denial_wording_per_protocol(server, world):
    root_iam = client(server, "iam")
    key, secret = user_with_policy(root_iam, "nobody", [])
    err = error_of(lambda: client(server, "dynamodb", key, secret).list_tables())
    assert err[0] == "AccessDeniedException" and err[2] == 400
    assert err[1] == (f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: "
                      "dynamodb:ListTables because no identity-based policy allows the "
                      "dynamodb:ListTables action")
    err = error_of(lambda: client(server, "iam", key, secret).list_users())
    assert err[0] == "AccessDenied" and err[2] == 403
    err = error_of(lambda: client(server, "s3", key, secret).list_buckets())
    assert err[0] == "AccessDenied" and err[2] == 403
    err = error_of(lambda: client(server, "lambda", key, secret).list_functions())
    assert err[0] == "AccessDeniedException" and err[2] == 403


def test_resource_policies_grant_same_account_principals(server, world):
    root = lambda svc: client(server, svc)  # noqa: E731
    key, secret = user_with_policy(root("iam"), "guest", [])
    guest_arn = f"arn:aws:iam::{ACCOUNT}:user/guest"
    q = root("sqs").create_queue(QueueName="shared")["QueueUrl"]
    qarn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:shared"
    guest_sqs = client(server, "sqs", key, secret)
    assert error_of(lambda: guest_sqs.send_message(QueueUrl=q, MessageBody="x"))[0] in DENIED_CODES
    root("sqs").set_queue_attributes(QueueUrl=q, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": guest_arn},
                                                "Action": "sqs:SendMessage", "Resource": qarn}]})})
    guest_sqs.send_message(QueueUrl=q, MessageBody="x")
    assert error_of(lambda: guest_sqs.purge_queue(QueueUrl=q))[0] in DENIED_CODES

    topic = root("sns").create_topic(Name="shared")["TopicArn"]
    guest_sns = client(server, "sns", key, secret)
    assert error_of(lambda: guest_sns.publish(TopicArn=topic, Message="m"))[0] == "AuthorizationError"
    root("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": guest_arn},
                                                "Action": "sns:Publish", "Resource": topic}]}))
    guest_sns.publish(TopicArn=topic, Message="m")

    root("s3").create_bucket(Bucket="shared-bucket")
    root("s3").put_object(Bucket="shared-bucket", Key="pub/a", Body=b"a")
    guest_s3 = client(server, "s3", key, secret)
    assert error_of(lambda: guest_s3.get_object(Bucket="shared-bucket", Key="pub/a"))[0] == "AccessDenied"
    root("s3").put_bucket_policy(Bucket="shared-bucket", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": guest_arn}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::shared-bucket/pub/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::shared-bucket/pub/secret"}]}))
    assert guest_s3.get_object(Bucket="shared-bucket", Key="pub/a")["Body"].read() == b"a"
    root("s3").put_object(Bucket="shared-bucket", Key="pub/secret", Body=b"s")
    assert error_of(lambda: guest_s3.get_object(Bucket="shared-bucket", Key="pub/secret"))[0] == "AccessDenied"


def test_roles_sessions_boundaries_and_conditions(server, world):
    root_iam = client(server, "iam")
    # A role with admin rights; the caller may assume it only with the right external id.
    root_iam.create_role(RoleName="admin", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/assumer"},
                                                "Action": "sts:AssumeRole",
                                                "Condition": {"StringEquals": {"sts:ExternalId": "secret-ext"}}}]}))
    root_iam.attach_role_policy(RoleName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key, secret = user_with_policy(root_iam, "assumer", [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    sts = client(server, "sts", key, secret)
    role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert error_of(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1"))[0] == "AccessDenied"
    assert error_of(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s1", ExternalId="wrong"))[0] == "AccessDenied"
    full = sts.assume_role(RoleArn=role, RoleSessionName="s1", ExternalId="secret-ext")["Credentials"]
    c = lambda svc, cr: client(server, svc, cr["AccessKeyId"], cr["SecretAccessKey"], cr["SessionToken"])  # noqa: E731
    c("sqs", full).list_queues()
    c("dynamodb", full).list_tables()
    # A session policy narrows the session to what it allows.
    narrow = sts.assume_role(RoleArn=role, RoleSessionName="n1", ExternalId="secret-ext", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]}))["Credentials"]
    c("sqs", narrow).list_queues()
    err = error_of(lambda: c("dynamodb", narrow).list_tables())
    assert err[0] == "AccessDeniedException" and "session policy" in err[1]
    # A permissions boundary caps an admin user.
    b = root_iam.create_policy(PolicyName="only-sqs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}))["Policy"]["Arn"]
    root_iam.create_user(UserName="bounded", PermissionsBoundary=b)
    root_iam.attach_user_policy(UserName="bounded", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    k = root_iam.create_access_key(UserName="bounded")["AccessKey"]
    client(server, "sqs", k["AccessKeyId"], k["SecretAccessKey"]).list_queues()
    err = error_of(lambda: client(server, "sns", k["AccessKeyId"], k["SecretAccessKey"]).list_topics())
    assert err[0] == "AuthorizationError" and "permissions boundary" in err[1]
    # Policy variables and tag conditions.
    root_iam.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "blue"}])
    root_iam.put_user_policy(UserName="tagged", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:${{aws:username}}-*"},
            {"Effect": "Allow", "Action": "sns:CreateTopic", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}))
    k = root_iam.create_access_key(UserName="tagged")["AccessKey"]
    tsqs = client(server, "sqs", k["AccessKeyId"], k["SecretAccessKey"])
    tsqs.create_queue(QueueName="tagged-q1")
    assert error_of(lambda: tsqs.create_queue(QueueName="other-q1"))[0] in DENIED_CODES
    client(server, "sns", k["AccessKeyId"], k["SecretAccessKey"]).create_topic(Name="blue-topic")


def test_signatures_are_verified(server, world):
    root_iam = client(server, "iam")
    key, secret = user_with_policy(root_iam, "signer", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    assert error_of(lambda: client(server, "sts", key, "wrong" * 8).get_caller_identity())[0] == "SignatureDoesNotMatch"
    assert error_of(lambda: client(server, "dynamodb", key, "wrong" * 8).list_tables())[0] == "InvalidSignatureException"
    assert error_of(lambda: client(server, "sts", "AKIAUNKNOWN000000000", "x").get_caller_identity())[0] == "InvalidClientTokenId"
    assert error_of(lambda: client(server, "dynamodb", "AKIAUNKNOWN000000000", "x").list_tables())[0] == "UnrecognizedClientException"
    assert error_of(lambda: client(server, "s3", "AKIAUNKNOWN000000000", "x").list_buckets())[0] == "InvalidAccessKeyId"
    # An inactive key stops working; a session without its token is refused.
    root_iam.update_access_key(UserName="signer", AccessKeyId=key, Status="Inactive")
    assert error_of(lambda: client(server, "sts", key, secret).get_caller_identity())[0] == "InvalidClientTokenId"
    root_iam.update_access_key(UserName="signer", AccessKeyId=key, Status="Active")
    creds = client(server, "sts", key, secret).get_session_token()["Credentials"]
    assert error_of(lambda: client(server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"]).get_caller_identity())[0] \
        == "InvalidClientTokenId"
    assert client(server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]) \
        .get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/signer"


def test_tampering_replay_and_presigned_expiry(server, world, monkeypatch):
    sqs = client(server, "sqs")
    # The body changed after signing.
    def tamper(request, **_):
        if request.body:
            body = request.body if isinstance(request.body, bytes) else request.body.encode()
            request.body = body.replace(b"mq", b"xx")
    sqs.meta.events.register("before-send.sqs.GetQueueUrl", tamper)
    err = error_of(lambda: sqs.get_queue_url(QueueName="mq"))
    assert err and err[0] in ("SignatureDoesNotMatch", "InvalidSignatureException")
    # A header that was signed, changed afterwards.
    sts = client(server, "sts")
    def change_date(request, **_):
        request.headers["X-Amz-Date"] = "20200101T000000Z"
    sts.meta.events.register("before-send.sts.GetCallerIdentity", change_date)
    err = error_of(sts.get_caller_identity)
    assert err and err[0] == "SignatureDoesNotMatch"
    # A request replayed 20 minutes later (signed 20 minutes ago).
    real_datetime = datetime.datetime

    class Past(real_datetime):
        @classmethod
        def utcnow(cls):
            return real_datetime.utcnow() - datetime.timedelta(minutes=20)
    if hasattr(botocore.auth, "get_current_datetime"):  # newer botocore
        monkeypatch.setattr(botocore.auth, "get_current_datetime", Past.utcnow)
    else:
        monkeypatch.setattr(botocore.auth.datetime, "datetime", Past)
    err = error_of(client(server, "sts").get_caller_identity)
    assert err and err[0] == "SignatureDoesNotMatch" and "Signature expired" in err[1]
    err = error_of(client(server, "dynamodb").list_tables)
    assert err and err[0] == "InvalidSignatureException"
    monkeypatch.undo()
    # A presigned URL past its expiry.
    # SigV4 presigning (botocore 1.29 presigns S3 with SigV2 by default, which stratus reads as
    # anonymous).
    url = client(server, "s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": "mbucket", "Key": "k"},
        ExpiresIn=1)
    assert urllib.request.urlopen(url).read() == b"v"
    time.sleep(2.2)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code == 403 and b"Request has expired" in e.value.read()
    assert server.alive()


def test_soft_mode_logs_instead_of_denying():
    with tempfile.TemporaryDirectory(prefix="stratus-iam-soft-") as d:
        s = Stratus(d, ["--enforce-iam", "true", "--iam-soft-mode", "true"]).start()
        try:
            root_iam = client(s, "iam")
            key, secret = user_with_policy(root_iam, "soft", [])
            client(s, "sqs", key, secret).list_queues()
            deadline = time.time() + 10  # the log is drained by a thread: wait for the line
            while time.time() < deadline and not any(
                    "would deny" in line and "sqs:ListQueues" in line for line in s.log):
                time.sleep(0.05)
            assert any("would deny" in line and "sqs:ListQueues" in line for line in s.log)
            # Signatures are still verified in soft mode.
            assert error_of(lambda: client(s, "sts", key, "bad" * 10).get_caller_identity())[0] == "SignatureDoesNotMatch"
        finally:
            s.stop()


FUNCTION = """import boto3, os
def handler(event, context):
    kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
    out = {"arn": boto3.client("sts", **kw).get_caller_identity()["Arn"]}
    sqs = boto3.client("sqs", **kw)
    sqs.send_message(QueueUrl=event["queue"], MessageBody="from the function")
    try:
        sqs.list_queues()
        out["list"] = "allowed"
    except Exception as e:
        out["list"] = e.response["Error"]["Code"]
    return out
"""


def test_functions_run_as_their_execution_role(server, world):
    root_iam = client(server, "iam")
    root_iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    queue = client(server, "sqs").create_queue(QueueName="fn-q")["QueueUrl"]
    root_iam.put_role_policy(RoleName="fn-exec", PolicyName="send", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                                "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:fn-q"}]}))
    lam = client(server, "lambda", read_timeout=60)
    lam.create_function(FunctionName="as-role", Runtime="python3.12", Handler="app.handler", Timeout=30,
                        Role=f"arn:aws:iam::{ACCOUNT}:role/fn-exec", Code={"ZipFile": make_zip({"app.py": FUNCTION})})
    lam.get_waiter("function_active_v2").wait(FunctionName="as-role", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    r = lam.invoke(FunctionName="as-role", Payload=json.dumps({"queue": queue}).encode())
    out = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, out
    assert out["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-exec/as-role"
    assert out["list"] in DENIED_CODES
    got = client(server, "sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert got[0]["Body"] == "from the function"
