"""kill -9 durability: every acknowledged DynamoDB write, its index entry and its stream record
survive a SIGKILL, exactly once."""
import random
import tempfile
import threading
import time

from conftest import Stratus, make_client


def test_acknowledged_writes_and_stream_records_survive_sigkill():
    with tempfile.TemporaryDirectory(prefix="stratus-ddb-kill-") as data_dir:
        server = Stratus(data_dir).start()
        ddb = make_client(server, "dynamodb")
        ddb.create_table(
            TableName="durable",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            BillingMode="PAY_PER_REQUEST")
        acked = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            client = make_client(server, "dynamodb")
            i = 0
            while not stop.is_set():
                key = f"w{n}-{i}"
                try:
                    client.put_item(TableName="durable", Item={"pk": {"S": key}, "g": {"S": "all"}})
                except Exception:
                    return  # the server died mid-request: not acknowledged
                with lock:
                    acked.append(key)
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            with lock:
                if len(acked) >= 50:
                    break
            time.sleep(0.01)
        time.sleep(random.uniform(0.1, 0.4))
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        assert len(acked) >= 50

        server.start()
        try:
            ddb = make_client(server, "dynamodb")
            streams = make_client(server, "dynamodbstreams")
            items = set()
            kwargs = {"TableName": "durable"}
            while True:
                r = ddb.scan(**kwargs)
                items |= {i["pk"]["S"] for i in r["Items"]}
                if "LastEvaluatedKey" not in r:
                    break
                kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]
            missing = [k for k in acked if k not in items]
            assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
            index = set()
            kwargs = {"TableName": "durable", "IndexName": "byG", "KeyConditionExpression": "g = :g",
                      "ExpressionAttributeValues": {":g": {"S": "all"}}}
            while True:
                r = ddb.query(**kwargs)
                index |= {i["pk"]["S"] for i in r["Items"]}
                if "LastEvaluatedKey" not in r:
                    break
                kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]
            assert index == items
            arn = ddb.describe_table(TableName="durable")["Table"]["LatestStreamArn"]
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            keys = []
            while True:
                r = streams.get_records(ShardIterator=it, Limit=1000)
                keys += [x["dynamodb"]["Keys"]["pk"]["S"] for x in r["Records"]]
                if not r["Records"]:
                    break
                it = r["NextShardIterator"]
            assert len(keys) == len(set(keys)), "duplicate stream records"
            assert set(keys) == items, "stream records and items differ"
            # New writes after the restart continue the sequence.
            ddb.put_item(TableName="durable", Item={"pk": {"S": "after"}, "g": {"S": "all"}})
            r = streams.get_records(ShardIterator=it)
            assert [x["dynamodb"]["Keys"]["pk"]["S"] for x in r["Records"]] == ["after"]
        finally:
            assert server.stop() == 0
