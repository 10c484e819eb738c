"""SNS through boto3 (query protocol) and the aws CLI: topics, subscriptions, deliveries to SQS,
HTTP subscribers that verify real signatures, email/sms recording, retries and dead letters,
and durability across kill -9."""
import base64
import http.server
import json
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client


@pytest.fixture(scope="module")
def clients(shared_stratus):
    return make_client(shared_stratus, "sns"), make_client(shared_stratus, "sqs")


def queue(sqs, name, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs, url, want, timeout=10):
    got = []
    deadline = time.time() + timeout
    while len(got) < want and time.time() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_topics_crud_and_errors(clients):
    sns, _ = clients
    arn = sns.create_topic(Name="crud", Attributes={"DisplayName": "Crud"}, Tags=[{"Key": "a", "Value": "1"}])["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:crud"
    assert sns.create_topic(Name="crud")["TopicArn"] == arn
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Crud" and attrs["Owner"] == "000000000000"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="New")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn + "-missing", Message="x")
    assert e.value.response["Error"]["Code"] == "NotFound"
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name="bad name")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="x" * 262145)
    assert e.value.response["Error"]["Message"] == "Invalid parameter: Message too long"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="x", MessageAttributes={"a": {"DataType": "Bogus", "StringValue": "1"}})
    assert e.value.response["Error"]["Code"] == "ParameterValueInvalid"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="{}", MessageStructure="json")
    assert "No default entry" in e.value.response["Error"]["Message"]
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_fanout_to_sqs_raw_structured_and_batch(clients):
    sns, sqs = clients
    topic = sns.create_topic(Name="fanout")["TopicArn"]
    q1, a1 = queue(sqs, "fan-1")
    q2, a2 = queue(sqs, "fan-2")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a1)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a2, Attributes={"RawMessageDelivery": "true"})
    mid = sns.publish(TopicArn=topic, Message="hi", Subject="subj",
                      MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    env = json.loads(drain(sqs, q1, 1)[0]["Body"])
    assert env["Type"] == "Notification" and env["MessageId"] == mid and env["Message"] == "hi"
    assert env["Subject"] == "subj" and env["MessageAttributes"]["k"] == {"Type": "String", "Value": "v"}
    raw = drain(sqs, q2, 1)[0]
    assert raw["Body"] == "hi" and raw["MessageAttributes"]["k"]["StringValue"] == "v"
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for sqs"}))
    assert json.loads(drain(sqs, q1, 1)[0]["Body"])["Message"] == "for sqs"
    assert drain(sqs, q2, 1)[0]["Body"] == "for sqs"
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": str(i), "Message": f"b{i}"} for i in range(10)])
    assert len(r["Successful"]) == 10
    assert sorted(m["Body"] for m in drain(sqs, q2, 10)) == sorted(f"b{i}" for i in range(10))
    assert len(drain(sqs, q1, 10)) == 10
    with pytest.raises(ClientError) as e:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}] * 2)
    assert e.value.response["Error"]["Code"] == "BatchEntryIdsNotDistinct"


def test_fifo_topic_to_fifo_queue(clients):
    sns, sqs = clients
    topic = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    q, a = queue(sqs, "orders.fifo", FifoQueue="true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
    for i in range(5):
        sns.publish(TopicArn=topic, Message=f"o{i}", MessageGroupId="g")
    sns.publish(TopicArn=topic, Message="o0", MessageGroupId="g")  # a duplicate within 5 minutes
    with pytest.raises(ClientError):
        sns.publish(TopicArn=topic, Message="x")
    got = drain(sqs, q, 5)
    assert [m["Body"] for m in got] == [f"o{i}" for i in range(5)]
    assert "Messages" not in sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1)


def test_trace_continues_into_the_queue(clients):
    sns, sqs = clients
    topic = sns.create_topic(Name="traced")["TopicArn"]
    q, a = queue(sqs, "traced")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a)
    root = "1-5759e988-bd862e3fe1be46a994272793"
    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    sns.meta.events.register("before-sign.sns.Publish", add_header)
    try:
        sns.publish(TopicArn=topic, Message="t")
    finally:
        sns.meta.events.unregister("before-sign.sns.Publish", add_header)
    m = drain(sqs, q, 1)[0]
    assert m["Attributes"]["AWSTraceHeader"].startswith(f"Root={root};")


class Subscriber(http.server.ThreadingHTTPServer):
    """An HTTP endpoint that records what SNS posts and answers with a configurable status."""
    def __init__(self, status=200, hang=False):
        self.received = []
        self.status = status
        self.hang = hang
        outer = self
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.received.append((dict(self.headers), body))
                if outer.hang:
                    time.sleep(30)
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *a):
                pass
        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait(self, n, timeout=10):
        deadline = time.time() + timeout
        while len(self.received) < n and time.time() < deadline:
            time.sleep(0.05)
        return self.received


def verify_signature(msg):
    """Verifies an SNS message the way subscribers do: fetch SigningCertURL, rebuild the
    canonical string, check the RSA signature (SHA1 for version 1, SHA256 for 2)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    pem = urllib.request.urlopen(msg["SigningCertURL"]).read()
    cert = x509.load_pem_x509_certificate(pem)
    if msg["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    canonical = "".join(f"{k}\n{msg[k]}\n" for k in keys if k in msg)
    algo = hashes.SHA1() if msg["SignatureVersion"] == "1" else hashes.SHA256()
    cert.public_key().verify(base64.b64decode(msg["Signature"]), canonical.encode(), padding.PKCS1v15(), algo)


@pytest.mark.parametrize("version", ["1", "2"])
def test_http_subscriber_confirms_and_verifies_signatures(clients, version):
    sns, _ = clients
    topic = sns.create_topic(Name=f"http-{version}", Attributes={"SignatureVersion": version})["TopicArn"]
    sub = Subscriber()
    try:
        arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url)["SubscriptionArn"]
        assert arn == "pending confirmation"
        headers, body = sub.wait(1)[0]
        confirm = json.loads(body)
        assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
        verify_signature(confirm)
        urllib.request.urlopen(confirm["SubscribeURL"]).read()  # the subscriber confirms
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert subs[0]["SubscriptionArn"].startswith(topic + ":")
        sns.publish(TopicArn=topic, Message="signed", Subject="s")
        headers, body = sub.wait(2)[1]
        note = json.loads(body)
        assert note["Type"] == "Notification" and note["Message"] == "signed"
        assert note["SignatureVersion"] == version
        assert headers["x-amz-sns-subscription-arn"] == subs[0]["SubscriptionArn"]
        verify_signature(note)
        tampered = dict(note, Message="forged")
        with pytest.raises(Exception):
            verify_signature(tampered)
        # Unsubscribing posts a signed UnsubscribeConfirmation whose SubscribeURL restores it.
        sub_arn = subs[0]["SubscriptionArn"]
        sns.unsubscribe(SubscriptionArn=sub_arn)
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
        headers, body = sub.wait(3)[2]
        bye = json.loads(body)
        assert headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
        assert headers["x-amz-sns-subscription-arn"] == sub_arn
        assert bye["Type"] == "UnsubscribeConfirmation" and bye["TopicArn"] == topic
        assert bye["SignatureVersion"] == version and bye["Token"]
        assert bye["Message"].startswith(f"You have chosen to deactivate subscription {sub_arn}.")
        assert "Action=ConfirmSubscription" in bye["SubscribeURL"] and bye["Token"] in bye["SubscribeURL"]
        verify_signature(bye)
        with pytest.raises(Exception):
            first = "1" if bye["Token"][0] == "0" else "0"  # always a different token
            verify_signature(dict(bye, Token=first + bye["Token"][1:]))
        urllib.request.urlopen(bye["SubscribeURL"]).read()  # restores the subscription
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [s["SubscriptionArn"] for s in subs] == [sub_arn]
        sns.publish(TopicArn=topic, Message="again")
        assert json.loads(sub.wait(4)[3][1])["Message"] == "again"
        with pytest.raises(ClientError) as e:  # a restore token works once
            sns.confirm_subscription(TopicArn=topic, Token=bye["Token"])
        assert e.value.response["Error"]["Code"] == "InvalidParameter"
    finally:
        sub.shutdown()


def test_failing_http_endpoint_retries_then_dead_letters(clients):
    sns, sqs = clients
    topic = sns.create_topic(Name="failing")["TopicArn"]
    dlq, dlq_arn = queue(sqs, "http-dlq")
    sub = Subscriber(status=500)
    try:
        arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url, ReturnSubscriptionArn=True)["SubscriptionArn"]
        token = json.loads(sub.wait(1)[0][1])["Token"]
        sns.confirm_subscription(TopicArn=topic, Token=token)
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
            {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}))
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                        AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
        sns.publish(TopicArn=topic, Message="doomed")
        dead = drain(sqs, dlq, 1, timeout=15)
        assert json.loads(dead[0]["Body"])["Message"] == "doomed"
        assert len(sub.received) == 1 + 3  # the confirmation, the first try and two retries
    finally:
        sub.shutdown()


def test_hanging_http_endpoint_blocks_nothing(clients):
    sns, sqs = clients
    topic = sns.create_topic(Name="hanging")["TopicArn"]
    q, a = queue(sqs, "beside-hanging")
    hang = Subscriber(hang=True)
    try:
        arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hang.url, ReturnSubscriptionArn=True)["SubscriptionArn"]
        token = json.loads(hang.wait(1)[0][1])["Token"]
        sns.confirm_subscription(TopicArn=topic, Token=token)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a)
        t0 = time.time()
        for i in range(5):
            sns.publish(TopicArn=topic, Message=f"m{i}")
        # A publish held behind the endpoint would take its 15 s delivery timeout: the bounds
        # tell that apart from a loaded machine's slowness.
        assert time.time() - t0 < 12
        assert len(drain(sqs, q, 5, timeout=12)) == 5
    finally:
        hang.shutdown()


def test_email_and_sms_are_recorded(clients, shared_stratus):
    sns, _ = clients
    topic = sns.create_topic(Name="mail")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"] == "pending confirmation"
    sns.publish(TopicArn=topic, Message="text me", Subject="hello")
    sns.publish(PhoneNumber="+15555550199", Message="direct")
    def sent():
        return json.loads(urllib.request.urlopen(shared_stratus.url + "/_stratus/sns/sent").read())["messages"]
    deadline = time.time() + 30
    while time.time() < deadline and len(sent()) < 3:
        time.sleep(0.1)
    msgs = sent()
    assert any(m["protocol"] == "sms" and m["endpoint"] == "+15555550100" and m["message"] == "text me" for m in msgs)
    assert any(m["endpoint"] == "+15555550199" and m["message"] == "direct" for m in msgs)
    confirm = [m for m in msgs if m["protocol"] == "email" and m["type"] == "SubscriptionConfirmation"][0]
    sns.confirm_subscription(TopicArn=topic, Token=confirm["token"])
    sns.publish(TopicArn=topic, Message="mail me", Subject="hello")
    deadline = time.time() + 30
    while time.time() < deadline and not any(m.get("message") == "mail me" and m["protocol"] == "email" for m in sent()):
        time.sleep(0.1)
    assert any(m.get("message") == "mail me" and m["protocol"] == "email" for m in sent())


def test_lambda_subscription_to_a_missing_function_is_retried_not_fatal(clients, shared_stratus):
    sns, _ = clients
    topic = sns.create_topic(Name="to-lambda")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:missing")
    sns.publish(TopicArn=topic, Message="x")
    deadline = time.time() + 30
    while time.time() < deadline and not any("lambda delivery" in line for line in shared_stratus.log):
        time.sleep(0.1)
    assert any("lambda delivery" in line for line in shared_stratus.log)
    assert shared_stratus.alive()


def test_sqs_delivery_to_a_missing_queue_is_retried_until_it_exists(clients):
    """A publish whose SQS send fails is still acknowledged (a durable retry item stands in for
    the delivery) and arrives once the queue exists."""
    sns, sqs = clients
    topic = sns.create_topic(Name="late-queue")["TopicArn"]
    arn = "arn:aws:sqs:us-east-1:000000000000:late-queue"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="before the queue")
    q, _ = queue(sqs, "late-queue")
    assert [m["Body"] for m in drain(sqs, q, 1, timeout=10)] == ["before the queue"]


def test_invalid_filter_policy_messages(clients):
    sns, sqs = clients
    topic = sns.create_topic(Name="filters")["TopicArn"]
    _, a = queue(sqs, "filters")
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a, Attributes={"FilterPolicy": json.dumps({"k": [{"cidr": "10.0.0.0"}]})})
    assert e.value.response["Error"]["Message"] == "Invalid parameter: Attributes Reason: FilterPolicy: Malformed CIDR, one '/' required"


def test_aws_cli(shared_stratus):
    _, out, _ = aws_cli(shared_stratus, "sns", "create-topic", "--name", "cli-topic")
    arn = json.loads(out)["TopicArn"]
    _, out, _ = aws_cli(shared_stratus, "sns", "publish", "--topic-arn", arn, "--message", "hello")
    assert json.loads(out)["MessageId"]
    code, _, err = aws_cli(shared_stratus, "sns", "publish", "--topic-arn", arn + "x", "--message", "m", check=False)
    assert code != 0 and "NotFound" in err


def test_kill_9_delivers_every_acknowledged_publish(stratus):
    sns, sqs = make_client(stratus, "sns"), make_client(stratus, "sqs")
    topic = sns.create_topic(Name="durable")["TopicArn"]
    q, a = queue(sqs, "durable")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
    acked = set()
    for i in range(30):
        r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": str(k), "Message": f"{i}-{k}"} for k in range(10)])
        acked |= {f"{i}-{e['Id']}" for e in r["Successful"]}
    stratus.kill()
    stratus.start()
    sqs = make_client(stratus, "sqs")
    bodies = []
    deadline = time.time() + 30
    while not acked <= set(bodies) and time.time() < deadline:
        bodies += [m["Body"] for m in drain(sqs, q, 10, timeout=2)]
    bodies += [m["Body"] for m in drain(sqs, q, 1, timeout=2)]  # anything redelivered
    assert set(bodies) == acked
    # SQS deliveries are durable before the publish answers: nothing is left to redeliver.
    assert len(bodies) == len(acked)


def test_kill_9_during_concurrent_publishes_delivers_every_acknowledged_one(stratus):
    """Publishes answered from the group commit, many in flight at the kill: every acknowledged
    message reaches both subscribed queues after the restart."""
    sns, sqs = make_client(stratus, "sns"), make_client(stratus, "sqs")
    topic = sns.create_topic(Name="inflight")["TopicArn"]
    queues = []
    for name in ("inflight-a", "inflight-b"):
        q, a = queue(sqs, name)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
        queues.append(q)
    acked, lock, stop = set(), threading.Lock(), threading.Event()

    def publisher(t):
        client = make_client(stratus, "sns")
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = client.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
                    {"Id": str(k), "Message": f"{t}-{i}-{k}"} for k in range(10)])
            except Exception:  # the server died mid-request: not acknowledged
                return
            with lock:
                acked.update(f"{t}-{i}-{e['Id']}" for e in r["Successful"])

    threads = [threading.Thread(target=publisher, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    time.sleep(1.5)
    stratus.kill()
    stop.set()
    for th in threads:
        th.join()
    assert len(acked) > 100
    stratus.start()
    sqs = make_client(stratus, "sqs")
    def receive_batch(q):  # one receive and one batch delete (thousands of messages to read)
        msgs = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if msgs:
            sqs.delete_message_batch(QueueUrl=q, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        return [m["Body"] for m in msgs]

    for q in queues:
        bodies = []
        deadline = time.time() + 120
        while not acked <= set(bodies) and time.time() < deadline:
            bodies += receive_batch(q)
        bodies += receive_batch(q) + receive_batch(q)
        assert acked <= set(bodies), f"{len(acked - set(bodies))} of {len(acked)} acknowledged missing"
        # Nothing acknowledged arrives twice (publishes cut off by the kill may be partial).
        twice = [b for b in acked if bodies.count(b) > 1]
        assert twice == []
