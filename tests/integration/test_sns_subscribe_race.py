"""Subscribe is idempotent under concurrency. Subscribe checked for an identical subscription in a
copy of the topic taken before it waited for the registry's lock, so identical Subscribe calls
made at once each found none and each added one: ListSubscriptionsByTopic then showed several,
and every Publish was delivered once per copy. With a 300 ms sleep put between the copy and the
lock, this test failed every time without the fix. The same stale copy let a Subscribe that
raced DeleteTopic answer with a subscription to the deleted topic."""
import functools
import json

from botocore.exceptions import ClientError

from conftest import at_once, make_client
from test_sns import drain, queue

SUBSCRIBERS = 4
ROUNDS = 3


def test_identical_subscribes_at_once_make_one_subscription(shared_stratus):
    sns, sqs = make_client(shared_stratus, "sns"), make_client(shared_stratus, "sqs")
    clients = [make_client(shared_stratus, "sns") for _ in range(SUBSCRIBERS)]
    for round_ in range(ROUNDS):
        topic = sns.create_topic(Name=f"sub-race-{round_}")["TopicArn"]
        url, arn = queue(sqs, f"sub-race-{round_}")
        answers = at_once(*(functools.partial(c.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                              Attributes={"RawMessageDelivery": "true"})
                            for c in clients))
        answers = [a["SubscriptionArn"] for a in answers]
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

        def subscribe():
            try:
                return clients[0].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
            except ClientError as e:
                return e.response["Error"]["Code"]

        answer, _ = at_once(subscribe, functools.partial(clients[1].delete_topic, TopicArn=topic))
        assert answer.startswith("arn:") or answer == "NotFound", answer
        assert sns.create_topic(Name=f"sub-delete-race-{round_}")["TopicArn"] == topic
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    stratus.restart()
    sns = make_client(stratus, "sns")
    for round_ in range(ROUNDS):
        topic = sns.create_topic(Name=f"sub-delete-race-{round_}")["TopicArn"]
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
