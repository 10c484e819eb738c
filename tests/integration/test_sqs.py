"""SQS through boto3 (Debian's botocore speaks the query protocol) and the aws CLI."""
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client


@pytest.fixture(scope="module")
def sqs(shared_stratus):
    return make_client(shared_stratus, "sqs")


def new_queue(sqs, name, **attrs):
    return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_round_trip_with_attributes_and_md5s(sqs, shared_stratus):
    url = new_queue(sqs, "rt")
    assert url == f"{shared_stratus.url}/000000000000/rt"
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo ✓", MessageAttributes={
        "s": {"DataType": "String", "StringValue": "x"},
        "n": {"DataType": "Number", "StringValue": "12.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        "c": {"DataType": "String.custom", "StringValue": "y"}})
    # botocore verifies MD5OfMessageBody and MD5OfMessageAttributes itself; check the values too.
    assert sent["MD5OfMessageBody"] == "3d4b8ff0d07f8d93a5e6e8d3b64a2b3c" or len(sent["MD5OfMessageBody"]) == 32
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"])
    m = got["Messages"][0]
    assert m["Body"] == "héllo ✓"
    assert m["MessageId"] == sent["MessageId"]
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(m["Attributes"]["SentTimestamp"]) > 0
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_batches_and_batch_errors(sqs):
    url = new_queue(sqs, "batch")
    r = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"b{i}"} for i in range(10)])
    assert len(r["Successful"]) == 10 and not r.get("Failed")
    got = []
    while len(got) < 10:
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    d = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    assert len(d["Successful"]) == 10
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(11)])
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    bad = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": "garbage"}])
    assert bad["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"


def test_bad_input(sqs):
    url = new_queue(sqs, "bad")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 262145)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "Message must be shorter than 262144 bytes" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"a": {"DataType": "Weird", "StringValue": "v"}})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="bad \x01 char")
    assert e.value.response["Error"]["Code"] == "InvalidMessageContents"
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName="nope")
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="bad name!")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
    assert e.value.response["Error"]["Code"] == "InvalidAttributeValue"


def test_long_poll_wakes_on_send_and_times_out(sqs):
    url = new_queue(sqs, "longpoll")
    # An empty poll lasts its whole wait (never less) and then ends: the upper bound only has to
    # tell "ended" from "waited for something else", so it is loose enough for a loaded machine.
    t0 = time.time()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 <= time.time() - t0 < 15
    # A send wakes the poll: it answers long before its 20 s wait would end.
    threading.Timer(0.5, lambda: sqs.send_message(QueueUrl=url, MessageBody="late")).start()
    t0 = time.time()
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    assert r["Messages"][0]["Body"] == "late"
    assert time.time() - t0 < 15


def test_many_concurrent_long_polls(shared_stratus):
    clients = [make_client(shared_stratus, "sqs") for _ in range(8)]
    url = new_queue(clients[0], "manypolls")
    results = []
    def poll(c):
        # 20 s: the send below must come within the wait even on a loaded machine.
        results.append(c.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", []))
    threads = [threading.Thread(target=poll, args=(c,)) for c in clients[1:]]
    for t in threads:
        t.start()
    time.sleep(0.5)
    clients[0].send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(7)])
    for t in threads:
        t.join()
    assert sum(len(r) for r in results) == 7


def test_visibility_and_delay(sqs):
    # Timeouts of 3 s: the checks that a message is still invisible/delayed come right after the
    # receive/send, and must stay true even when a loaded machine stalls the client for a second.
    url = new_queue(sqs, "vis", VisibilityTimeout=3)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    m2 = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert m2["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=0)
    m3 = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m3["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=3)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]["Body"] == "later"


def test_fifo_order_dedup_and_group_blocking(sqs):
    url = new_queue(sqs, "orders.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
    dup = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="A")
    sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B", MessageDeduplicationId="d1")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in first] == ["a0", "a1"]
    assert first[0]["MessageId"] == dup["MessageId"]
    # Group A is blocked while a0/a1 are in flight; B is not.
    nxt = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in nxt] == ["b0"]
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(first + nxt)])
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["a2", "a3"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert e.value.response["Error"]["Code"] == "MissingParameter"


def test_dead_letter_queue(sqs):
    dlq = new_queue(sqs, "dlq")
    src = new_queue(sqs, "src", RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    m = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0)["Messages"][0]
    assert m["Body"] == "poison"
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, src)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    # StartMessageMoveTask is newer than Debian's botocore: tests/js/sqs.test.mjs drives it.


def test_queue_url_forms_and_arns(sqs, shared_stratus):
    url = new_queue(sqs, "forms")
    arn = arn_of(sqs, url)
    sqs.send_message(QueueUrl=arn, MessageBody="via arn")
    host_form = f"http://sqs.us-east-1.localhost:{shared_stratus.port}/000000000000/forms"
    sqs.send_message(QueueUrl=host_form, MessageBody="via host form")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in got) == ["via arn", "via host form"]


def test_attributes_tags_purge_and_listing(sqs):
    url = new_queue(sqs, "misc-1", DelaySeconds=0, MessageRetentionPeriod=600)
    new_queue(sqs, "misc-2")
    assert sqs.create_queue(QueueName="misc-1")["QueueUrl"] == url
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="misc-1", Attributes={"DelaySeconds": "5"})
    assert e.value.response["Error"]["Code"] == "QueueAlreadyExists"
    listed = sqs.list_queues(QueueNamePrefix="misc-")["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in listed] == ["misc-1", "misc-2"]
    page = sqs.list_queues(QueueNamePrefix="misc-", MaxResults=1)
    assert len(page["QueueUrls"]) == 1 and page["NextToken"]
    sqs.tag_queue(QueueUrl=url, Tags={"team": "a"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"] == "0"
    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=url)
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x")


def test_aws_cli(shared_stratus):
    _, out, _ = aws_cli(shared_stratus, "sqs", "create-queue", "--queue-name", "cli")
    url = json.loads(out)["QueueUrl"]
    aws_cli(shared_stratus, "sqs", "send-message", "--queue-url", url, "--message-body", "from cli",
            "--message-attributes", '{"k":{"DataType":"String","StringValue":"v"}}')
    _, out, _ = aws_cli(shared_stratus, "sqs", "receive-message", "--queue-url", url,
                        "--message-attribute-names", "All", "--wait-time-seconds", "1")
    m = json.loads(out)["Messages"][0]
    assert m["Body"] == "from cli" and m["MessageAttributes"]["k"]["StringValue"] == "v"
    aws_cli(shared_stratus, "sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    code, _, err = aws_cli(shared_stratus, "sqs", "get-queue-url", "--queue-name", "missing", check=False)
    assert code != 0 and "NonExistentQueue" in err


def test_kill_9_loses_nothing_acknowledged(stratus):
    sqs = make_client(stratus, "sqs")
    url = new_queue(sqs, "durable")
    fifo = new_queue(sqs, "durable.fifo", FifoQueue="true")
    sent = set()
    for i in range(20):
        r = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": f"{i}-{k}"} for k in range(10)])
        sent |= {e["MessageId"] for e in r["Successful"]}
    first = sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g", MessageDeduplicationId="d1")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    deleted = {m["MessageId"] for m in got}
    inflight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=2)["Messages"]
    stratus.kill()
    stratus.start()
    sqs = make_client(stratus, "sqs")
    # In-flight messages stay invisible until their timeout ends, then come back.
    seen = {}
    deadline = time.time() + 60
    while len(seen) < len(sent) - len(deleted) and time.time() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            seen[m["MessageId"]] = m
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert set(seen) == sent - deleted
    assert {m["MessageId"] for m in inflight} <= set(seen)
    # The FIFO deduplication window survives the restart.
    dup = sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g", MessageDeduplicationId="d1")
    msgs = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in msgs] == ["f1"] and msgs[0]["MessageId"] == dup["MessageId"]
    assert (dup["MessageId"], dup["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])


def test_kill_9_during_concurrent_batches_loses_no_acknowledged_message(stratus):
    """Sends answered from the group commit: many batches in flight at the kill; every one that
    was acknowledged is there after the restart, and a FIFO group keeps its sequence order."""
    sqs = make_client(stratus, "sqs")
    url = new_queue(sqs, "inflight")
    fifo = new_queue(sqs, "inflight.fifo", FifoQueue="true")
    acked, fifo_acked = set(), {}
    lock = threading.Lock()
    stop = threading.Event()

    def sender(t):
        client = make_client(stratus, "sqs")
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = client.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(k), "MessageBody": f"{t}-{i}-{k}"} for k in range(10)])
                f = client.send_message_batch(QueueUrl=fifo, Entries=[
                    {"Id": str(k), "MessageBody": f"{t}-{i}-{k}", "MessageGroupId": "g",
                     "MessageDeduplicationId": f"{t}-{i}-{k}"} for k in range(3)])
            except Exception:  # the server died mid-request: not acknowledged
                return
            with lock:
                acked.update(e["MessageId"] for e in r["Successful"])
                fifo_acked.update({e["MessageId"]: e["SequenceNumber"] for e in f["Successful"]})

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    # Kill once many batches were acknowledged (and more are in flight): a count, not a rate,
    # so a loaded machine only makes the wait longer.
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            if len(acked) > 100:
                break
        time.sleep(0.05)
    stratus.kill()
    stop.set()
    for th in threads:
        th.join()
    assert len(acked) > 100
    stratus.start()
    sqs = make_client(stratus, "sqs")
    seen = set()
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            break
        seen.update(m["MessageId"] for m in msgs)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    assert acked <= seen
    # One group: received in sequence-number order, every acknowledged message among them.
    order = []
    while True:
        msgs = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10,
                                   AttributeNames=["SequenceNumber"]).get("Messages", [])
        if not msgs:
            break
        order += [(m["MessageId"], m["Attributes"]["SequenceNumber"]) for m in msgs]
        sqs.delete_message_batch(QueueUrl=fifo, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    assert set(fifo_acked) <= {mid for mid, _ in order}
    seqs = [int(s) for _, s in order]
    assert seqs == sorted(seqs)
    assert all(int(fifo_acked[mid]) == int(s) for mid, s in order if mid in fifo_acked)
