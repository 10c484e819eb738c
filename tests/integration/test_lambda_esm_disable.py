"""A message sent once GetEventSourceMapping shows the mapping Disabled (or gone) is not delivered. The
mapping's record used to be committed Disabled before its pollers were told to stop, so a client
watching the mapping (another process, or a waiter running beside the update) could see Disabled
while a poller still took and delivered its next message. The window is short; with a 1 s sleep
put between the commit and the stop, this test failed every time without the fix."""
import functools
import threading
import time

from botocore.exceptions import ClientError

from conftest import at_once, create_function, make_client
from test_lambda_esm import RECORDER, messages, queue_depth, wait_for

ROUNDS = 2


def test_no_delivery_once_the_mapping_shows_disabled(lambda_server):
    lam, sqs, logs = (make_client(lambda_server, s) for s in ("lambda", "sqs", "logs"))
    watcher = make_client(lambda_server, "lambda")
    url = sqs.create_queue(QueueName="esm-disable")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "esm-disable-fn", RECORDER)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="esm-disable-fn",
                                           BatchSize=1)["UUID"]
    for round_ in range(ROUNDS):
        sqs.send_message(QueueUrl=url, MessageBody=f"warm-{round_}")
        assert wait_for(lambda: any(m.startswith(f"GOT warm-{round_} ") for m in messages(logs, "esm-disable-fn")), 30)
        update = threading.Thread(target=lambda: lam.update_event_source_mapping(UUID=uuid, Enabled=False))
        update.start()
        while watcher.get_event_source_mapping(UUID=uuid)["State"] != "Disabled":
            pass
        sqs.send_message(QueueUrl=url, MessageBody=f"while-disabled-{round_}")
        update.join()
        time.sleep(3)  # past the pollers' long poll: anything taken would have been delivered
        assert not any(f"while-disabled-{round_}" in m for m in messages(logs, "esm-disable-fn"))
        assert queue_depth(sqs, url) == 1
        left = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
        assert [m["Body"] for m in left] == [f"while-disabled-{round_}"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=left[0]["ReceiptHandle"])
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)


def test_no_delivery_once_the_mapping_is_gone(lambda_server):
    # The same for DeleteEventSourceMapping: once GetEventSourceMapping answers
    # ResourceNotFoundException, no poller of the mapping takes another message.
    lam, sqs, logs = (make_client(lambda_server, s) for s in ("lambda", "sqs", "logs"))
    watcher = make_client(lambda_server, "lambda")
    url = sqs.create_queue(QueueName="esm-delete")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "esm-delete-fn", RECORDER)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="esm-delete-fn", BatchSize=1)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="warm")
    assert wait_for(lambda: any(m.startswith("GOT warm ") for m in messages(logs, "esm-delete-fn")), 30)
    delete = threading.Thread(target=lambda: lam.delete_event_source_mapping(UUID=uuid))
    delete.start()
    while True:
        try:
            watcher.get_event_source_mapping(UUID=uuid)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ResourceNotFoundException"
            break
    sqs.send_message(QueueUrl=url, MessageBody="after-delete")
    delete.join()
    time.sleep(3)  # past the pollers' long poll: anything taken would have been delivered
    assert not any("after-delete" in m for m in messages(logs, "esm-delete-fn"))
    assert queue_depth(sqs, url) == 1


def test_concurrent_updates_leave_one_poller(lambda_server):
    # Two UpdateEventSourceMapping calls at once used to each start pollers for the mapping, the
    # second replacing the first in the runner table without stopping it: the first poller ran on,
    # unseen, and kept delivering after the mapping was Disabled. With a sleep put between an
    # update's commit and its start of the pollers, this failed every time without the fix.
    lam, sqs, logs = (make_client(lambda_server, s) for s in ("lambda", "sqs", "logs"))
    url = sqs.create_queue(QueueName="esm-concurrent")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_function(lam, "esm-concurrent-fn", RECORDER)
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="esm-concurrent-fn",
                                           BatchSize=1, Enabled=False)["UUID"]
    clients = [make_client(lambda_server, "lambda") for _ in range(2)]
    for round_ in range(ROUNDS):
        at_once(*(functools.partial(c.update_event_source_mapping, UUID=uuid, Enabled=True,
                                    BatchSize=i + 1) for i, c in enumerate(clients)))
        sqs.send_message(QueueUrl=url, MessageBody=f"enabled-{round_}")
        assert wait_for(lambda: any(m.startswith(f"GOT enabled-{round_} ") for m in messages(logs, "esm-concurrent-fn")), 30)
        lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"while-disabled-{round_}-{i}")
        time.sleep(3)  # past the pollers' long poll: anything taken would have been delivered
        assert not any("while-disabled" in m for m in messages(logs, "esm-concurrent-fn"))
        assert queue_depth(sqs, url) == 3
        while queue_depth(sqs, url):
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
