"""Subscribe is idempotent under concurrency. Subscribe checked for an identical subscription in a
copy of the topic taken before it waited for the registry's lock, so identical Subscribe calls
made at once each found none and each added one: ListSubscriptionsByTopic then showed several,
and every Publish was delivered once per copy. With a 300 ms sleep put between the copy and the
lock, this test failed every time without the fix. The same stale copy let a Subscribe that
raced DeleteTopic answer with a subscription to the deleted topic."""
import json
import threading

from botocore.exceptions import ClientError

from conftest import make_client
from test_sns import drain, queue

SUBSCRIBERS = 4
ROUNDS = 3


def subscribe_at_once(clients, **kwargs):
    barrier = threading.Barrier(len(clients))
    answers, errors = [], []

    def run(client):
        try:
            barrier.wait()
            answers.append(client.subscribe(**kwargs)["SubscriptionArn"])
        except ClientError as e:
            errors.append(e.response["Error"]["Code"])
        except Exception as e:  # noqa: BLE001 - reported in the test's thread
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers, errors


def test_identical_subscribes_at_once_make_one_subscription(shared_stratus):
    sns, sqs = make_client(shared_stratus, "sns"), make_client(shared_stratus, "sqs")
    clients = [make_client(shared_stratus, "sns") for _ in range(SUBSCRIBERS)]
    for round_ in range(ROUNDS):
        topic = sns.create_topic(Name=f"sub-race-{round_}")["TopicArn"]
        url, arn = queue(sqs, f"sub-race-{round_}")
        answers, errors = subscribe_at_once(clients, TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                            Attributes={"RawMessageDelivery": "true"})
        assert not errors, errors
        listed = [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
        assert len(listed) == 1, listed
        assert set(answers) == set(listed)
        sns.publish(TopicArn=topic, Message=json.dumps({"round": round_}))
        got = drain(sqs, url, 2, timeout=3)
        assert [m["Body"] for m in got] == [json.dumps({"round": round_})]


def test_subscribe_racing_delete_topic_leaves_no_subscription(stratus):
    # A Subscribe that took its copy of the topic before DeleteTopic stored its subscription
    # after it: a record for no topic, which came back on a topic of the same name after a restart.
    sns, sqs = make_client(stratus, "sns"), make_client(stratus, "sqs")
    clients = [make_client(stratus, "sns") for _ in range(2)]
    for round_ in range(ROUNDS):
        topic = sns.create_topic(Name=f"sub-delete-race-{round_}")["TopicArn"]
        _, arn = queue(sqs, f"sub-delete-race-{round_}")
        barrier = threading.Barrier(2)
        answer = {}

        def subscribe():
            barrier.wait()
            try:
                answer["arn"] = clients[0].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
            except ClientError as e:
                answer["error"] = e.response["Error"]["Code"]

        t = threading.Thread(target=subscribe)
        t.start()
        barrier.wait()
        clients[1].delete_topic(TopicArn=topic)
        t.join()
        assert "arn" in answer or answer["error"] == "NotFound", answer
        assert sns.create_topic(Name=f"sub-delete-race-{round_}")["TopicArn"] == topic
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    stratus.restart()
    sns = make_client(stratus, "sns")
    for round_ in range(ROUNDS):
        topic = sns.create_topic(Name=f"sub-delete-race-{round_}")["TopicArn"]
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
