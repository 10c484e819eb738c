"""SNS FIFO topic deduplication survives kill -9: a Publish retried after a restart within the
5-minute window with the same MessageDeduplicationId (or the same body, with content-based
deduplication) is answered with the original MessageId and SequenceNumber and delivered once."""
import time

from conftest import make_client


def fifo_queue(sqs, name):
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def bodies_in(sqs, url, want):
    """What the queue holds: waits (up to 30 s) for `want` bodies, then 2 s more for extras."""
    got, deadline = [], time.time() + 30
    while time.time() < deadline:
        if len(got) >= want:
            deadline = min(deadline, time.time() + 2)
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in msgs:
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_fifo_topic_dedup_window_survives_kill_9(stratus):
    sns, sqs = make_client(stratus, "sns"), make_client(stratus, "sqs")
    topic = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    content = sns.create_topic(Name="content.fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    q, a = fifo_queue(sqs, "orders-sub.fifo")
    qc, ac = fifo_queue(sqs, "content-sub.fifo")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=content, Protocol="sqs", Endpoint=ac, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=topic, Message="order-1", MessageGroupId="g", MessageDeduplicationId="d-1")
    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "x", "Message": "order-2", "MessageGroupId": "g", "MessageDeduplicationId": "d-2"}])
    by_content = sns.publish(TopicArn=content, Message="same body", MessageGroupId="g")
    lonely = sns.create_topic(Name="lonely.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    unsubscribed = sns.publish(TopicArn=lonely, Message="m", MessageGroupId="g", MessageDeduplicationId="d")
    # Before the restart, a duplicate already answers as the original.
    again = sns.publish(TopicArn=topic, Message="order-1", MessageGroupId="g", MessageDeduplicationId="d-1")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])

    stratus.kill()
    stratus.start()
    sns, sqs = make_client(stratus, "sns"), make_client(stratus, "sqs")
    retry = sns.publish(TopicArn=topic, Message="order-1", MessageGroupId="g", MessageDeduplicationId="d-1")
    assert retry["MessageId"] == first["MessageId"]
    assert retry["SequenceNumber"] == first["SequenceNumber"]
    retry_batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "y", "Message": "order-2", "MessageGroupId": "g", "MessageDeduplicationId": "d-2"}])
    assert retry_batch["Successful"][0]["MessageId"] == batch["Successful"][0]["MessageId"]
    assert retry_batch["Successful"][0]["SequenceNumber"] == batch["Successful"][0]["SequenceNumber"]
    retry_content = sns.publish(TopicArn=content, Message="same body", MessageGroupId="g")
    assert retry_content["MessageId"] == by_content["MessageId"]
    assert retry_content["SequenceNumber"] == by_content["SequenceNumber"]
    # A topic without subscriptions remembers its publishes too.
    assert sns.publish(TopicArn=lonely, Message="m", MessageGroupId="g",
                       MessageDeduplicationId="d")["MessageId"] == unsubscribed["MessageId"]
    # A new dedup id is a new message, numbered after the ones before the restart.
    fresh = sns.publish(TopicArn=topic, Message="order-3", MessageGroupId="g", MessageDeduplicationId="d-3")
    assert fresh["MessageId"] != first["MessageId"]
    assert int(fresh["SequenceNumber"]) > int(batch["Successful"][0]["SequenceNumber"])

    assert bodies_in(sqs, q, 3) == ["order-1", "order-2", "order-3"]
    assert bodies_in(sqs, qc, 1) == ["same body"]

    # A deleted topic's window goes with it: a new topic of the same name starts afresh, and
    # stays so across a restart.
    sns.delete_topic(TopicArn=lonely)
    lonely = sns.create_topic(Name="lonely.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    stratus.kill()
    stratus.start()
    sns = make_client(stratus, "sns")
    anew = sns.publish(TopicArn=lonely, Message="m", MessageGroupId="g", MessageDeduplicationId="d")
    assert anew["MessageId"] != unsubscribed["MessageId"]
