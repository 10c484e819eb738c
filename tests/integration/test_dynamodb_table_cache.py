"""Reads after DeleteTable returned answer ResourceNotFoundException, also while other reads of
the table were loading it. The table catalog caches a table's record on its first read after a
change; a load that read the record before a DeleteTable committed used to cache it after the
delete had dropped the cache, and GetItem then answered 200 for the deleted table, with no
expiry. The window is short, so reads run throughout several changes; with a 400 ms sleep put
between a load's store read and its caching, this test failed every time without the fix."""
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import in_threads, make_client

ROUNDS = 6


def test_reads_after_delete_table_are_not_found(shared_stratus):
    ddb = make_client(shared_stratus, "dynamodb")
    for _ in range(ROUNDS):
        name = "cache-" + uuid.uuid4().hex[:8]
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        stop = threading.Event()

        def reader():
            client = make_client(shared_stratus, "dynamodb")
            while not stop.is_set():
                try:
                    client.get_item(TableName=name, Key={"k": {"S": "x"}})
                except ClientError:
                    pass

        with in_threads(reader, 2, stop):
            # Each UpdateTable drops the cached record, so the readers keep loading it.
            for enabled in (True, False, True):
                spec = {"StreamEnabled": enabled}
                if enabled:
                    spec["StreamViewType"] = "NEW_IMAGE"
                ddb.update_table(TableName=name, StreamSpecification=spec)
            ddb.delete_table(TableName=name)
            for _ in range(3):
                with pytest.raises(ClientError) as e:
                    ddb.get_item(TableName=name, Key={"k": {"S": "x"}})
                assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
