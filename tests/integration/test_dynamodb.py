"""DynamoDB through boto3 (client and resource), and the aws CLI."""
import json
import time
import uuid
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client


@pytest.fixture(scope="module")
def ddb(shared_stratus):
    return make_client(shared_stratus, "dynamodb")


@pytest.fixture(scope="module")
def resource(shared_stratus):
    return boto3.resource("dynamodb", endpoint_url=shared_stratus.url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(retries={"max_attempts": 1}))


def new_table(ddb, range_type=None, **extra):
    name = "t" + uuid.uuid4().hex[:10]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    defs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_type:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        defs.append({"AttributeName": "sk", "AttributeType": range_type})
    defs += extra.pop("extra_defs", [])
    ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=defs,
                     BillingMode="PAY_PER_REQUEST", **extra)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    return name


def error_of(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_table_lifecycle_and_waiters(ddb):
    name = "life" + uuid.uuid4().hex[:8]
    d = ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                         ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                         Tags=[{"Key": "env", "Value": "test"}])["TableDescription"]
    assert d["TableStatus"] == "CREATING"
    assert d["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert name in ddb.list_tables()["TableNames"]
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "env", "Value": "test"}]
    ddb.tag_resource(ResourceArn=t["TableArn"], Tags=[{"Key": "team", "Value": "x"}])
    ddb.untag_resource(ResourceArn=t["TableArn"], TagKeys=["env"])
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "team", "Value": "x"}]
    code, msg = error_of(ddb.create_table, TableName=name,
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                         BillingMode="PAY_PER_REQUEST")
    assert code == "ResourceInUseException"
    u = ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert u["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    code, msg = error_of(ddb.describe_table, TableName=name)
    assert code == "ResourceNotFoundException"


def test_create_table_validation(ddb):
    code, msg = error_of(ddb.create_table, TableName="bad1",
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                                               {"AttributeName": "b", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    assert msg == ("One or more parameter values were invalid: Number of attributes in KeySchema does "
                   "not exactly match number of attributes defined in AttributeDefinitions")
    code, msg = error_of(ddb.create_table, TableName="bad2",
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}])
    assert code == "ValidationException"


def test_items_numbers_and_return_values(ddb):
    t = new_table(ddb)
    ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "0001.50"}, "big": {"N": "1e125"},
                                    "b": {"B": b"\x00\x01"}, "l": {"L": [{"S": "x"}, {"NULL": True}]},
                                    "m": {"M": {"k": {"BOOL": False}}}, "ss": {"SS": ["b", "a"]}})
    item = ddb.get_item(TableName=t, Key={"pk": {"S": "a"}})["Item"]
    assert item["n"] == {"N": "1.5"}
    assert item["big"] == {"N": "1" + "0" * 125}
    assert item["b"] == {"B": b"\x00\x01"}
    old = ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"]["n"] == {"N": "1.5"}
    r = ddb.update_item(TableName=t, Key={"pk": {"S": "a"}},
                        UpdateExpression="SET n = n + :d, #c = if_not_exists(#c, :z) ADD cnt :one",
                        ExpressionAttributeNames={"#c": "count"},
                        ExpressionAttributeValues={":d": {"N": "0.1"}, ":z": {"N": "0"}, ":one": {"N": "1"}},
                        ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"n": {"N": "2.1"}, "count": {"N": "0"}, "cnt": {"N": "1"}}
    r = ddb.update_item(TableName=t, Key={"pk": {"S": "a"}}, UpdateExpression="REMOVE cnt",
                        ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"cnt": {"N": "1"}}
    r = ddb.delete_item(TableName=t, Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")
    assert r["Attributes"]["pk"] == {"S": "a"}
    assert "Item" not in ddb.get_item(TableName=t, Key={"pk": {"S": "a"}})
    # 38 digits exactly, no floating point anywhere.
    ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "v": {"N": "12345678901234567890123456789012345678"}})
    r = ddb.update_item(TableName=t, Key={"pk": {"S": "p"}}, UpdateExpression="SET v = v - :x",
                        ExpressionAttributeValues={":x": {"N": "0.00000000000000000000000000000000000001e38"}},
                        ReturnValues="ALL_NEW")
    assert r["Attributes"]["v"] == {"N": "12345678901234567890123456789012345677"}
    code, msg = error_of(ddb.update_item, TableName=t, Key={"pk": {"S": "p"}}, UpdateExpression="SET v = v + :x",
                         ExpressionAttributeValues={":x": {"N": "0.1"}})
    assert msg == "Attempting to store more than 38 significant digits in a Number"
    code, msg = error_of(ddb.update_item, TableName=t, Key={"pk": {"S": "p"}},
                         UpdateExpression="SET v = :x",
                         ExpressionAttributeValues={":x": {"N": "123456789012345678901234567890123456789"}})
    assert msg == ("ExpressionAttributeValues contains invalid value: Attempting to store more than 38 "
                   "significant digits in a Number for key :x")


def test_conditions_and_return_values_on_failure(ddb):
    t = new_table(ddb)
    ddb.put_item(TableName=t, Item={"pk": {"S": "c"}, "v": {"N": "1"}})
    # (ReturnValuesOnConditionCheckFailure is newer than Debian's botocore: see the JS tests.)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item={"pk": {"S": "c"}}, ConditionExpression="attribute_not_exists(pk)")
    err = e.value.response
    assert err["Error"]["Code"] == "ConditionalCheckFailedException"
    assert err["Error"]["Message"] == "The conditional request failed"
    ddb.update_item(TableName=t, Key={"pk": {"S": "c"}}, UpdateExpression="SET v = :two",
                    ConditionExpression="v < :two AND attribute_type(v, :n)",
                    ExpressionAttributeValues={":two": {"N": "2"}, ":n": {"S": "N"}})
    # Legacy Expected still works.
    ddb.put_item(TableName=t, Item={"pk": {"S": "c"}, "v": {"N": "3"}},
                 Expected={"v": {"Value": {"N": "2"}}})
    code, _ = error_of(ddb.delete_item, TableName=t, Key={"pk": {"S": "c"}},
                       Expected={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}})
    assert code == "ConditionalCheckFailedException"


@pytest.mark.parametrize("expr,names,values,message", [
    ("a = = :v", None, {":v": {"S": "x"}},
     'Invalid ConditionExpression: Syntax error; token: "=", near: "= ="'),
    ("(a = :v", None, {":v": {"S": "x"}},
     'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":v"'),
    ("status = :v", None, {":v": {"S": "x"}},
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"),
    ("#s = :v", None, {":v": {"S": "x"}},
     "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #s"),
    ("a = :w", None, {":v": {"S": "x"}},
     "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :w"),
    ("a = :v", {"#unused": "x"}, {":v": {"S": "x"}},
     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"),
    ("a = :v", None, {":v": {"S": "x"}, ":extra": {"S": "y"}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}"),
    ("foo(a)", None, None, "Invalid ConditionExpression: Invalid function name; function: foo"),
    ("begins_with(a)", None, None,
     "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
    ("a between :hi and :lo", None, {":hi": {"N": "2"}, ":lo": {"N": "1"}},
     "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"),
])
def test_bad_condition_expressions(ddb, expr, names, values, message):
    t = new_table(ddb) if not hasattr(test_bad_condition_expressions, "t") else test_bad_condition_expressions.t
    test_bad_condition_expressions.t = t
    kw = {"ConditionExpression": expr}
    if names:
        kw["ExpressionAttributeNames"] = names
    if values:
        kw["ExpressionAttributeValues"] = values
    code, msg = error_of(ddb.put_item, TableName=t, Item={"pk": {"S": "x"}}, **kw)
    assert code == "ValidationException"
    assert msg == message


def test_bad_items(ddb):
    t = new_table(ddb, "N")
    cases = [
        ({"pk": {"S": "a"}}, "One or more parameter values were invalid: Missing the key sk in the item"),
        ({"pk": {"S": "a"}, "sk": {"S": "1"}},
         "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"),
        ({"pk": {"S": ""}, "sk": {"N": "1"}},
         "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"),
        ({"pk": {"S": "a"}, "sk": {"N": "abc"}}, "The parameter cannot be converted to a numeric value: abc"),
        ({"pk": {"S": "a"}, "sk": {"N": "1e126"}},
         "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ({"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": ["x", "x"]}},
         "One or more parameter values were invalid: Input collection [x, x] contains duplicates."),
        ({"pk": {"S": "a"}, "sk": {"N": "1"}, "big": {"S": "x" * (400 * 1024)}},
         "Item size has exceeded the maximum allowed size"),
    ]
    for item, message in cases:
        code, msg = error_of(ddb.put_item, TableName=t, Item=item)
        assert (code, msg) == ("ValidationException", message)
    code, msg = error_of(ddb.get_item, TableName=t, Key={"pk": {"S": "a"}})
    assert msg == "The provided key element does not match the schema"
    code, msg = error_of(ddb.get_item, TableName="nope" + uuid.uuid4().hex[:6], Key={"pk": {"S": "a"}})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")
    # Just under the limit is fine.
    ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "big": {"S": "x" * (400 * 1024 - 20)}})


@pytest.mark.parametrize("rtype,values", [
    ("S", ["", "a", "a\x00", "aa", "b", "\u00e9", "\U0001F600"]),
    ("N", ["-1e100", "-100", "-2.5", "-1", "0", "0.001", "1", "1.5", "2", "10", "1e100"]),
    ("B", [b"", b"\x00", b"\x00\x00", b"\x01", b"\xff", b"\xff\x00"]),
])
def test_query_sort_order_for_every_key_type(ddb, rtype, values):
    t = new_table(ddb, rtype)
    def enc(v):
        return {rtype: v if rtype != "N" else v}
    items = [v for v in values if not (rtype in "SB" and len(v) == 0)]
    import random
    shuffled = items[:]
    random.shuffle(shuffled)
    for v in shuffled:
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": enc(v)})
    ddb.put_item(TableName=t, Item={"pk": {"S": "other"}, "sk": enc(items[0])})
    got = ddb.query(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    seq = [i["sk"][rtype] for i in got["Items"]]
    if rtype == "N":
        assert [Decimal(x) for x in seq] == sorted(Decimal(x) for x in items)
    elif rtype == "S":
        assert seq == sorted(items, key=lambda s: s.encode("utf-8"))
    else:
        assert seq == sorted(items)
    rev = ddb.query(TableName=t, KeyConditionExpression="pk = :p", ScanIndexForward=False,
                    ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"][rtype] for i in rev["Items"]] == seq[::-1]


def test_query_conditions_paging_filter_and_count(ddb):
    t = new_table(ddb, "S")
    for i in range(30):
        ddb.put_item(TableName=t, Item={"pk": {"S": "u"}, "sk": {"S": f"item#{i:03d}"}, "n": {"N": str(i)},
                                        "pad": {"S": "x" * 100}})
    q = lambda **kw: ddb.query(TableName=t, **kw)
    v = {":p": {"S": "u"}}
    assert q(KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
             ExpressionAttributeValues={**v, ":b": {"S": "item#01"}})["Count"] == 10
    assert q(KeyConditionExpression="pk = :p AND sk > :b", ExpressionAttributeValues={**v, ":b": {"S": "item#025"}})["Count"] == 4
    assert q(KeyConditionExpression="pk = :p AND sk <= :b", ExpressionAttributeValues={**v, ":b": {"S": "item#004"}})["Count"] == 5
    assert q(KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
             ExpressionAttributeValues={**v, ":a": {"S": "item#010"}, ":b": {"S": "item#019"}})["Count"] == 10
    r = q(KeyConditionExpression="pk = :p", FilterExpression="n >= :ten AND NOT contains(sk, :x)",
          ExpressionAttributeValues={**v, ":ten": {"N": "10"}, ":x": {"S": "015"}})
    assert r["Count"] == 19 and r["ScannedCount"] == 30
    assert q(KeyConditionExpression="pk = :p", Select="COUNT", ExpressionAttributeValues=v)["Count"] == 30
    pages, start = [], None
    while True:
        kw = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": v, "Limit": 7,
              "ProjectionExpression": "sk"}
        if start:
            kw["ExclusiveStartKey"] = start
        r = q(**kw)
        pages.append([i["sk"]["S"] for i in r["Items"]])
        assert all(set(i) == {"sk"} for i in r["Items"])
        start = r.get("LastEvaluatedKey")
        if not start:
            break
    flat = [x for p in pages for x in p]
    assert flat == [f"item#{i:03d}" for i in range(30)]
    # Legacy KeyConditions.
    r = q(KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "u"}]},
                         "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "item#02"}]}})
    assert r["Count"] == 10
    code, msg = error_of(q, KeyConditionExpression="sk = :p", ExpressionAttributeValues=v)
    assert msg == "Query condition missed key schema element: pk"
    code, msg = error_of(q, KeyConditionExpression="pk = :p OR pk = :p", ExpressionAttributeValues=v)
    assert code == "ValidationException"


def test_one_megabyte_pages(ddb):
    t = new_table(ddb, "N")
    big = "y" * 100_000
    with_batch = [{"PutRequest": {"Item": {"pk": {"S": "big"}, "sk": {"N": str(i)}, "d": {"S": big}}}} for i in range(25)]
    ddb.batch_write_item(RequestItems={t: with_batch})
    r = ddb.query(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}})
    assert 9 <= r["Count"] <= 11
    assert "LastEvaluatedKey" in r
    total = r["Count"]
    while "LastEvaluatedKey" in r:
        r = ddb.query(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "big"}},
                      ExclusiveStartKey=r["LastEvaluatedKey"])
        total += r["Count"]
    assert total == 25


def test_scan_parallel_segments(ddb):
    t = new_table(ddb)
    with_batch = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"N": str(i)}}}} for i in range(25)]
    ddb.batch_write_item(RequestItems={t: with_batch})
    seen = []
    for seg in range(4):
        r = ddb.scan(TableName=t, Segment=seg, TotalSegments=4)
        seen += [i["pk"]["S"] for i in r["Items"]]
    assert sorted(seen) == sorted(f"k{i}" for i in range(25))
    r = ddb.scan(TableName=t, FilterExpression="v < :five", ExpressionAttributeValues={":five": {"N": "5"}})
    assert r["Count"] == 5 and r["ScannedCount"] == 25
    r = ddb.scan(TableName=t, ScanFilter={"v": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "20"}]}})
    assert r["Count"] == 5
    code, msg = error_of(ddb.scan, TableName=t, Segment=4, TotalSegments=4)
    assert msg == "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4"


def test_secondary_indexes(ddb):
    name = "idx" + uuid.uuid4().hex[:8]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gk", "lk")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                   {"AttributeName": "lk", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}])
    for i in range(6):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": str(i)}, "gk": {"S": f"g{i % 2}"},
                                           "lk": {"S": str(9 - i)}, "x": {"S": "inc"}, "y": {"S": "not"}})
    r = ddb.query(TableName=name, IndexName="byG", KeyConditionExpression="gk = :g",
                  ExpressionAttributeValues={":g": {"S": "g1"}})
    assert r["Count"] == 3
    assert set(r["Items"][0]) == {"pk", "sk", "gk"}
    r = ddb.query(TableName=name, IndexName="byL", KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["lk"]["S"] for i in r["Items"]] == ["4", "5", "6", "7", "8", "9"]
    assert set(r["Items"][0]) == {"pk", "sk", "lk", "x"}
    # Moving an item's index key moves its entry in the same write.
    ddb.update_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"S": "1"}}, UpdateExpression="SET gk = :g",
                    ExpressionAttributeValues={":g": {"S": "g0"}})
    r = ddb.query(TableName=name, IndexName="byG", KeyConditionExpression="gk = :g",
                  ExpressionAttributeValues={":g": {"S": "g1"}})
    assert r["Count"] == 2
    ddb.delete_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"S": "3"}})
    r = ddb.query(TableName=name, IndexName="byG", KeyConditionExpression="gk = :g",
                  ExpressionAttributeValues={":g": {"S": "g1"}})
    assert r["Count"] == 1
    assert ddb.scan(TableName=name, IndexName="byG")["Count"] == 5
    code, msg = error_of(ddb.put_item, TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": "z"}, "gk": {"N": "1"}})
    assert msg == "One or more parameter values were invalid: Type mismatch for Index Key gk Expected: S Actual: N IndexName: byG"
    code, msg = error_of(ddb.query, TableName=name, IndexName="nope", KeyConditionExpression="gk = :g",
                         ExpressionAttributeValues={":g": {"S": "g1"}})
    assert msg == "The table does not have the specified index: nope"
    # A GSI added later is backfilled.
    ddb.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "y", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "byY",
                                                              "KeySchema": [{"AttributeName": "y", "KeyType": "HASH"}],
                                                              "Projection": {"ProjectionType": "ALL"}}}])
    r = ddb.query(TableName=name, IndexName="byY", KeyConditionExpression="y = :y",
                  ExpressionAttributeValues={":y": {"S": "not"}})
    assert r["Count"] == 5
    desc = ddb.describe_table(TableName=name)["Table"]
    assert {g["IndexName"]: g["IndexStatus"] for g in desc["GlobalSecondaryIndexes"]} == {"byG": "ACTIVE", "byY": "ACTIVE"}


def test_batches(ddb):
    t = new_table(ddb)
    ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(25)]})
    r = ddb.batch_get_item(RequestItems={t: {"Keys": [{"pk": {"S": f"b{i}"}} for i in range(0, 30, 3)]}})
    assert len(r["Responses"][t]) == 9
    assert r["UnprocessedKeys"] == {}
    ddb.batch_write_item(RequestItems={t: [{"DeleteRequest": {"Key": {"pk": {"S": f"b{i}"}}}} for i in range(10)]})
    assert ddb.scan(TableName=t, Select="COUNT")["Count"] == 15
    code, msg = error_of(ddb.batch_write_item, RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": "d"}}}}] * 2})
    assert msg == "Provided list of item keys contains duplicates"


def test_transactions(ddb):
    t = new_table(ddb)
    ddb.put_item(TableName=t, Item={"pk": {"S": "acct1"}, "bal": {"N": "100"}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "acct2"}, "bal": {"N": "0"}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": t, "Key": {"pk": {"S": "acct1"}}, "UpdateExpression": "SET bal = bal - :a",
                    "ConditionExpression": "bal >= :a", "ExpressionAttributeValues": {":a": {"N": "60"}}}},
        {"Update": {"TableName": t, "Key": {"pk": {"S": "acct2"}}, "UpdateExpression": "SET bal = bal + :a",
                    "ExpressionAttributeValues": {":a": {"N": "60"}}}},
        {"Put": {"TableName": t, "Item": {"pk": {"S": "log1"}}}},
    ], ClientRequestToken="tok-1")
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": t, "Key": {"pk": {"S": "acct1"}}, "UpdateExpression": "SET bal = bal - :a",
                        "ConditionExpression": "bal >= :a", "ExpressionAttributeValues": {":a": {"N": "60"}}}},
            {"Put": {"TableName": t, "Item": {"pk": {"S": "log2"}}}},
        ])
    resp = e.value.response
    assert resp["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in resp["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": t, "Key": {"pk": {"S": k}}}}
                                                for k in ("acct1", "acct2", "log2")])["Responses"]
    assert got[0]["Item"]["bal"] == {"N": "40"} and got[1]["Item"]["bal"] == {"N": "60"}
    assert "Item" not in got[2]
    # The same token again is idempotent: nothing is applied twice.
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": t, "Key": {"pk": {"S": "acct1"}}, "UpdateExpression": "SET bal = bal - :a",
                    "ConditionExpression": "bal >= :a", "ExpressionAttributeValues": {":a": {"N": "60"}}}},
        {"Update": {"TableName": t, "Key": {"pk": {"S": "acct2"}}, "UpdateExpression": "SET bal = bal + :a",
                    "ExpressionAttributeValues": {":a": {"N": "60"}}}},
        {"Put": {"TableName": t, "Item": {"pk": {"S": "log1"}}}},
    ], ClientRequestToken="tok-1")
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "acct1"}})["Item"]["bal"] == {"N": "40"}
    code, msg = error_of(ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": t, "Item": {"pk": {"S": "same"}}}},
        {"Delete": {"TableName": t, "Key": {"pk": {"S": "same"}}}}])
    assert msg == "Transaction request cannot include multiple operations on one item"


def test_ttl(ddb):
    t = new_table(ddb)
    ddb.update_time_to_live(TableName=t, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    d = ddb.describe_time_to_live(TableName=t)["TimeToLiveDescription"]
    assert d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    now = int(time.time())
    ddb.put_item(TableName=t, Item={"pk": {"S": "old"}, "exp": {"N": str(now - 10)}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "new"}, "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "str"}, "exp": {"S": "not a number"}})
    deadline = time.time() + 20
    while time.time() < deadline:
        if "Item" not in ddb.get_item(TableName=t, Key={"pk": {"S": "old"}}):
            break
        time.sleep(0.5)
    assert "Item" not in ddb.get_item(TableName=t, Key={"pk": {"S": "old"}})
    assert "Item" in ddb.get_item(TableName=t, Key={"pk": {"S": "new"}})
    assert "Item" in ddb.get_item(TableName=t, Key={"pk": {"S": "str"}})
    code, msg = error_of(ddb.update_time_to_live, TableName=t,
                         TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert msg == "TimeToLive is already enabled"


def test_streams(shared_stratus, ddb):
    streams = make_client(shared_stratus, "dynamodbstreams")
    t = new_table(ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=t, Item={"pk": {"S": "s1"}, "v": {"N": "1"}})
    ddb.update_item(TableName=t, Key={"pk": {"S": "s1"}}, UpdateExpression="SET v = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "s1"}, "v": {"N": "2"}})  # unchanged: no record
    ddb.delete_item(TableName=t, Key={"pk": {"S": "s1"}})
    assert arn in [s["StreamArn"] for s in streams.list_streams(TableName=t)["Streams"]]
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED" and desc["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    shard = desc["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    r = streams.get_records(ShardIterator=it)
    recs = r["Records"]
    assert [x["eventName"] for x in recs] == ["INSERT", "MODIFY", "REMOVE"]
    assert recs[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"} and recs[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert recs[0]["dynamodb"]["Keys"] == {"pk": {"S": "s1"}}
    seqs = [int(x["dynamodb"]["SequenceNumber"]) for x in recs]
    assert seqs == sorted(seqs)
    assert streams.get_records(ShardIterator=r["NextShardIterator"])["Records"] == []
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                    SequenceNumber=recs[0]["dynamodb"]["SequenceNumber"])["ShardIterator"]
    assert len(streams.get_records(ShardIterator=it, Limit=1)["Records"]) == 1
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    ddb.put_item(TableName=t, Item={"pk": {"S": "s2"}})
    assert [x["dynamodb"]["Keys"]["pk"]["S"] for x in streams.get_records(ShardIterator=latest)["Records"]] == ["s2"]
    # Transactions write their records atomically too.
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": t, "Item": {"pk": {"S": f"tx{i}"}}}} for i in range(3)])
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(streams.get_records(ShardIterator=it)["Records"]) == 7
    ddb.update_table(TableName=t, StreamSpecification={"StreamEnabled": False})
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"


def test_resource_table_batch_writer_and_conditions(resource):
    table = resource.create_table(
        TableName="res" + uuid.uuid4().hex[:8],
        KeySchema=[{"AttributeName": "user", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "user", "AttributeType": "S"}, {"AttributeName": "ts", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST")
    table.wait_until_exists()
    with table.batch_writer() as bw:
        for i in range(60):
            bw.put_item(Item={"user": f"u{i % 3}", "ts": i, "price": Decimal("1.10") * i, "tags": {"a", "b"},
                              "meta": {"nested": [1, "two", None, True]}})
    r = table.query(KeyConditionExpression=Key("user").eq("u1") & Key("ts").between(10, 30),
                    FilterExpression=Attr("price").gt(Decimal("20")) & Attr("meta.nested[1]").eq("two"))
    assert [int(i["ts"]) for i in r["Items"]] == [19, 22, 25, 28]
    assert r["Items"][0]["price"] == Decimal("20.9")
    assert r["Items"][0]["tags"] == {"a", "b"}
    r = table.scan(FilterExpression=Attr("ts").is_in([1, 2, 3]) | Attr("user").begins_with("zz"))
    assert r["Count"] == 3
    table.update_item(Key={"user": "u0", "ts": 0}, UpdateExpression="SET meta.nested[0] = :v, tags = :t",
                      ExpressionAttributeValues={":v": 42, ":t": {"x"}})
    item = table.get_item(Key={"user": "u0", "ts": 0})["Item"]
    assert item["meta"]["nested"][0] == 42 and item["tags"] == {"x"}
    with pytest.raises(ClientError) as e:
        table.put_item(Item={"user": "u0", "ts": 0}, ConditionExpression=Attr("user").not_exists())
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    table.delete()


def test_aws_cli(shared_stratus):
    name = "cli" + uuid.uuid4().hex[:8]
    aws_cli(shared_stratus, "dynamodb", "create-table", "--table-name", name,
            "--attribute-definitions", "AttributeName=id,AttributeType=S",
            "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    aws_cli(shared_stratus, "dynamodb", "wait", "table-exists", "--table-name", name)
    aws_cli(shared_stratus, "dynamodb", "put-item", "--table-name", name,
            "--item", json.dumps({"id": {"S": "1"}, "n": {"N": "3.140"}}))
    _, out, _ = aws_cli(shared_stratus, "dynamodb", "get-item", "--table-name", name,
                        "--key", json.dumps({"id": {"S": "1"}}))
    assert json.loads(out)["Item"]["n"] == {"N": "3.14"}
    _, out, _ = aws_cli(shared_stratus, "dynamodb", "scan", "--table-name", name)
    assert json.loads(out)["Count"] == 1
    code, _, err = aws_cli(shared_stratus, "dynamodb", "query", "--table-name", name,
                           "--key-condition-expression", "id = :v AND", "--expression-attribute-values",
                           json.dumps({":v": {"S": "1"}}), check=False)
    assert code != 0 and "Syntax error" in err
    aws_cli(shared_stratus, "dynamodb", "delete-table", "--table-name", name)


def test_aws_cli_full_scope(shared_stratus):
    """The rest of the scope through the aws CLI: UpdateTable and streams, tags, TTL, PITR,
    expressions, indexes, batches, transactions, PartiQL, parallel and paginated scans and
    the dynamodbstreams commands."""
    def cli(*args, check=True):
        code, out, err = aws_cli(shared_stratus, *args, check=check)
        return json.loads(out) if code == 0 and out.strip() else (code, err)

    name = "clifull" + uuid.uuid4().hex[:8]
    cli("dynamodb", "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
        "AttributeName=gk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
        "--global-secondary-indexes",
        json.dumps([{"IndexName": "byG", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                     "Projection": {"ProjectionType": "ALL"}}]),
        "--billing-mode", "PAY_PER_REQUEST", "--tags", "Key=team,Value=data")
    cli("dynamodb", "wait", "table-exists", "--table-name", name)
    assert name in cli("dynamodb", "list-tables")["TableNames"]
    d = cli("dynamodb", "update-table", "--table-name", name,
            "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")["TableDescription"]
    stream_arn = d["LatestStreamArn"]
    arn = d["TableArn"]
    # Tags.
    cli("dynamodb", "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=dev")
    cli("dynamodb", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    assert cli("dynamodb", "list-tags-of-resource", "--resource-arn", arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    # TTL and point-in-time recovery flags.
    cli("dynamodb", "update-time-to-live", "--table-name", name,
        "--time-to-live-specification", "Enabled=true,AttributeName=exp")
    assert cli("dynamodb", "describe-time-to-live", "--table-name", name)["TimeToLiveDescription"] == \
        {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    cli("dynamodb", "update-continuous-backups", "--table-name", name,
        "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true")
    pitr = cli("dynamodb", "describe-continuous-backups", "--table-name", name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    # Batches and expressions.
    cli("dynamodb", "batch-write-item", "--request-items", json.dumps({name: [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}, "gk": {"S": f"g{i % 2}"},
                                 "n": {"N": str(i * 10)}}}} for i in range(8)]}))
    got = cli("dynamodb", "batch-get-item", "--request-items", json.dumps(
        {name: {"Keys": [{"pk": {"S": "p"}, "sk": {"N": "1"}}, {"pk": {"S": "p"}, "sk": {"N": "99"}}]}}))
    assert [i["sk"]["N"] for i in got["Responses"][name]] == ["1"]
    upd = cli("dynamodb", "update-item", "--table-name", name, "--key", '{"pk":{"S":"p"},"sk":{"N":"1"}}',
              "--update-expression", "SET n = n + :d, tags = list_append(if_not_exists(tags, :e), :t)",
              "--condition-expression", "attribute_exists(pk)",
              "--expression-attribute-values", '{":d":{"N":"5"},":e":{"L":[]},":t":{"L":[{"S":"x"}]}}',
              "--return-values", "UPDATED_NEW")
    assert upd["Attributes"] == {"n": {"N": "15"}, "tags": {"L": [{"S": "x"}]}}
    code, err = cli("dynamodb", "put-item", "--table-name", name, "--item", '{"pk":{"S":"p"},"sk":{"N":"1"}}',
                    "--condition-expression", "attribute_not_exists(pk)", check=False)
    assert code != 0 and "ConditionalCheckFailedException" in err
    q = cli("dynamodb", "query", "--table-name", name, "--index-name", "byG",
            "--key-condition-expression", "gk = :g", "--filter-expression", "n >= :min",
            "--expression-attribute-values", '{":g":{"S":"g1"},":min":{"N":"30"}}')
    assert sorted(int(i["sk"]["N"]) for i in q["Items"]) == [3, 5, 7]
    q = cli("dynamodb", "query", "--table-name", name, "--key-condition-expression", "pk = :p AND sk BETWEEN :a AND :b",
            "--expression-attribute-values", '{":p":{"S":"p"},":a":{"N":"2"},":b":{"N":"4"}}',
            "--no-scan-index-forward", "--projection-expression", "sk")
    assert q["Items"] == [{"sk": {"N": "4"}}, {"sk": {"N": "3"}}, {"sk": {"N": "2"}}]
    # The CLI's own pagination follows LastEvaluatedKey; parallel segments cover the table once.
    assert len(cli("dynamodb", "scan", "--table-name", name, "--page-size", "3")["Items"]) == 8
    seen = []
    for seg in range(3):
        seen += [i["sk"]["N"] for i in cli("dynamodb", "scan", "--table-name", name,
                                             "--segment", str(seg), "--total-segments", "3")["Items"]]
    assert sorted(seen, key=int) == [str(i) for i in range(8)]
    assert cli("dynamodb", "scan", "--table-name", name, "--select", "COUNT")["Count"] == 8
    # Transactions.
    cli("dynamodb", "transact-write-items", "--transact-items", json.dumps([
        {"Put": {"TableName": name, "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
        {"Delete": {"TableName": name, "Key": {"pk": {"S": "p"}, "sk": {"N": "0"}}}},
        {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "p"}, "sk": {"N": "2"}},
                            "ConditionExpression": "n = :v", "ExpressionAttributeValues": {":v": {"N": "20"}}}}]))
    tg = cli("dynamodb", "transact-get-items", "--transact-items", json.dumps([
        {"Get": {"TableName": name, "Key": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
        {"Get": {"TableName": name, "Key": {"pk": {"S": "p"}, "sk": {"N": "0"}}}}]))["Responses"]
    assert tg[0]["Item"]["pk"] == {"S": "t"} and "Item" not in tg[1]
    code, err = cli("dynamodb", "transact-write-items", "--transact-items", json.dumps([
        {"Put": {"TableName": name, "Item": {"pk": {"S": "t"}, "sk": {"N": "2"}}}},
        {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "p"}, "sk": {"N": "2"}},
                            "ConditionExpression": "n = :v", "ExpressionAttributeValues": {":v": {"N": "0"}}}}]),
        check=False)
    assert code != 0 and "TransactionCanceledException" in err and "[None, ConditionalCheckFailed]" in err
    # PartiQL.
    cli("dynamodb", "execute-statement", "--statement", f"INSERT INTO \"{name}\" VALUE {{'pk': 'q', 'sk': 1, 'gk': 'g9'}}")
    r = cli("dynamodb", "execute-statement", "--statement", f"SELECT * FROM \"{name}\".\"byG\" WHERE gk = ?",
            "--parameters", '[{"S":"g9"}]')
    assert [i["pk"]["S"] for i in r["Items"]] == ["q"]
    r = cli("dynamodb", "batch-execute-statement", "--statements", json.dumps([
        {"Statement": f"UPDATE \"{name}\" SET v = 1 WHERE pk = 'q' AND sk = 1"},
        {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'q', 'sk': 1}}"}]))["Responses"]
    assert "Error" not in r[0] and r[1]["Error"]["Code"] == "DuplicateItem"
    cli("dynamodb", "execute-transaction", "--transact-statements", json.dumps([
        {"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'q' AND sk = 1"},
        {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'q', 'sk': 2}}"}]))
    assert [i["sk"]["N"] for i in cli("dynamodb", "execute-statement", "--statement",
                                      f"SELECT sk FROM \"{name}\" WHERE pk = 'q'")["Items"]] == ["2"]
    # Streams.
    assert stream_arn in [s["StreamArn"] for s in cli("dynamodbstreams", "list-streams", "--table-name", name)["Streams"]]
    desc = cli("dynamodbstreams", "describe-stream", "--stream-arn", stream_arn)["StreamDescription"]
    it = cli("dynamodbstreams", "get-shard-iterator", "--stream-arn", stream_arn, "--shard-id",
             desc["Shards"][0]["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    recs = cli("dynamodbstreams", "get-records", "--shard-iterator", it)["Records"]
    assert recs[0]["eventName"] == "INSERT" and recs[0]["dynamodb"]["NewImage"]["pk"] == {"S": "p"}
    assert "MODIFY" in [r["eventName"] for r in recs] and "REMOVE" in [r["eventName"] for r in recs]
    cli("dynamodb", "delete-table", "--table-name", name)
    cli("dynamodb", "wait", "table-not-exists", "--table-name", name)


def test_unimplemented_operations_fail_loudly(ddb):
    code, msg = error_of(ddb.create_backup, TableName="xyz", BackupName="backup1")
    assert code == "NotImplemented"


def test_partiql(ddb):
    t = new_table(ddb, "N")
    ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 1, 'tags': <<'x','y'>>, 'm': {{'k': [1, true, null]}}}}")
    ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': ?, 'sk': ?}}", Parameters=[{"S": "a"}, {"N": "2"}])
    code, msg = error_of(ddb.execute_statement, Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 1}}")
    assert (code, msg) == ("DuplicateItemException", "Duplicate primary key exists in table")
    items = ddb.execute_statement(Statement=f"SELECT * FROM \"{t}\" WHERE pk = 'a' AND sk >= 1")["Items"]
    assert [i["sk"]["N"] for i in items] == ["1", "2"]
    assert items[0]["tags"] == {"SS": ["x", "y"]}
    r = ddb.execute_statement(Statement=f"UPDATE \"{t}\" SET v = 5 REMOVE tags WHERE pk = 'a' AND sk = 1 RETURNING ALL_NEW *")
    assert r["Items"][0]["v"] == {"N": "5"} and "tags" not in r["Items"][0]
    assert ddb.execute_statement(Statement=f"SELECT pk, v FROM \"{t}\" WHERE v = 5")["Items"] == [{"pk": {"S": "a"}, "v": {"N": "5"}}]
    r = ddb.batch_execute_statement(Statements=[
        {"Statement": f"DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 2"},
        {"Statement": f"UPDATE \"{t}\" SET v = 1 WHERE pk = 'zz' AND sk = 1"}])["Responses"]
    assert r[1]["Error"]["Code"] == "ConditionalCheckFailed"
    ddb.execute_transaction(TransactStatements=[{"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'b', 'sk': 1}}"},
                                                {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'b', 'sk': 2}}"}])
    assert len(ddb.execute_statement(Statement=f"SELECT * FROM \"{t}\"")["Items"]) == 3
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'c', 'sk': 1}}"},
            {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'b', 'sk': 1}}"}])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(ddb.execute_statement(Statement=f"SELECT * FROM \"{t}\"")["Items"]) == 3
    code, msg = error_of(ddb.execute_statement, Statement=f"SELEC * FROM \"{t}\"")
    assert code == "ValidationException"
    # Paging through NextToken.
    for i in range(10):
        ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'p', 'sk': {i}}}")
    seen, token = 0, None
    while True:
        kw = {"Statement": f"SELECT * FROM \"{t}\" WHERE pk = 'p'", "Limit": 3}
        if token:
            kw["NextToken"] = token
        r = ddb.execute_statement(**kw)
        seen += len(r["Items"])
        token = r.get("NextToken")
        if not token:
            break
    assert seen == 10


def test_legacy_parameters_size_filters_and_consistent_reads(ddb):
    """The legacy parameters SDKs still send (AttributesToGet, AttributeUpdates, QueryFilter),
    size() in filters and consistent reads, through boto3."""
    t = new_table(ddb, "N")
    for i in range(4):
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                        "name": {"S": "x" * (i + 1)}, "tags": {"SS": ["a"]}})
    got = ddb.get_item(TableName=t, Key={"pk": {"S": "p"}, "sk": {"N": "2"}},
                       AttributesToGet=["name"], ConsistentRead=True,
                       ReturnConsumedCapacity="TOTAL")
    assert got["Item"] == {"name": {"S": "xxx"}}
    assert got["ConsumedCapacity"]["CapacityUnits"] == 1.0
    ddb.update_item(TableName=t, Key={"pk": {"S": "p"}, "sk": {"N": "1"}},
                    AttributeUpdates={"count": {"Value": {"N": "5"}, "Action": "ADD"},
                                      "tags": {"Value": {"SS": ["b"]}, "Action": "ADD"},
                                      "name": {"Action": "DELETE"}})
    item = ddb.get_item(TableName=t, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})["Item"]
    assert item["count"] == {"N": "5"} and "name" not in item
    assert sorted(item["tags"]["SS"]) == ["a", "b"]
    q = ddb.query(TableName=t, KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}],
                                                     "ComparisonOperator": "EQ"}},
                  QueryFilter={"name": {"AttributeValueList": [{"S": "xx"}],
                                        "ComparisonOperator": "GE"}})
    assert [i["sk"]["N"] for i in q["Items"]] == ["2", "3"]  # "x" < "xx"; item 1 has no name
    q = ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                  FilterExpression="size(#n) > :two", ConsistentRead=True,
                  ExpressionAttributeNames={"#n": "name"},
                  ExpressionAttributeValues={":p": {"S": "p"}, ":two": {"N": "2"}})
    assert [i["sk"]["N"] for i in q["Items"]] == ["2", "3"]
    assert q["ScannedCount"] == 4
    code, message = error_of(ddb.get_item, TableName=t, Key={"pk": {"S": "p"}, "sk": {"N": "1"}},
                             AttributesToGet=["a"], ProjectionExpression="a")
    assert code == "ValidationException"
    assert message == ("Can not use both expression and non-expression parameters in the same "
                       "request: Non-expression parameters: {AttributesToGet} Expression "
                       "parameters: {ProjectionExpression}")


def test_in_process_callers_get_items_as_json(shared_stratus, ddb):
    """GetItem and Query answer HTTP clients with the stored item text spliced in; a caller inside
    stratus (a Step Functions task) must still receive the items as JSON values."""
    name = new_table(ddb, "N")
    ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": "1.50"}, "m": {"M": {"x": {"NS": ["2.0", "1"]}}}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": "2"}, "b": {"B": b"\x00\x01"}})
    sfn = boto3.client("stepfunctions", endpoint_url=shared_stratus.url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(retries={"max_attempts": 1}, inject_host_prefix=False))
    definition = {"StartAt": "Get", "States": {
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "ResultPath": "$.got",
                "ResultSelector": {"sk.$": "$.Item.sk.N", "x.$": "$.Item.m.M.x.NS"},
                "Parameters": {"TableName": name, "Key": {"pk": {"S": "p"}, "sk": {"N": "1.5"}}}, "Next": "Query"},
        "Query": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:query", "ResultPath": "$.q",
                  "ResultSelector": {"count.$": "$.Count", "last.$": "$.Items[1].b.B", "first.$": "$.Items[0].sk.N"},
                  "Parameters": {"TableName": name, "KeyConditionExpression": "pk = :p",
                                 "ExpressionAttributeValues": {":p": {"S": "p"}}}, "End": True}}}
    arn = sfn.create_state_machine(name="m" + uuid.uuid4().hex[:8], definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::000000000000:role/sfn",
                                   type="EXPRESS")["stateMachineArn"]
    r = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert r["status"] == "SUCCEEDED", r
    out = json.loads(r["output"])
    assert out["got"] == {"sk": "1.5", "x": ["2", "1"]}
    assert out["q"] == {"count": 2, "first": "1.5", "last": "AAE="}


def test_step_functions_map_of_hundreds_of_concurrent_dynamodb_tasks(ddb, shared_stratus):
    """Each inline Map iteration's DynamoDB task waits on a server thread for its answer, which
    the DynamoDB engine produces on another: 300 iterations at once (more than the server's
    64 worker threads) once starved those answers and hung the whole server."""
    name = new_table(ddb)
    sfn = boto3.client("stepfunctions", endpoint_url=shared_stratus.url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(retries={"max_attempts": 1}, inject_host_prefix=False, read_timeout=30))
    put = {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
           "Parameters": {"TableName": name, "Item": {"pk": {"S.$": "States.Format('item-{}', $)"}}}}
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 0, "End": True, "ResultSelector": {"n.$": "States.ArrayLength($)"},
        "ItemProcessor": {"StartAt": "Put", "States": {"Put": put}}}}}
    arn = sfn.create_state_machine(name="m" + uuid.uuid4().hex[:8], definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::000000000000:role/sfn",
                                   type="EXPRESS")["stateMachineArn"]
    r = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps(list(range(300))))
    assert r["status"] == "SUCCEEDED", r
    assert json.loads(r["output"]) == {"n": 300}
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 300
