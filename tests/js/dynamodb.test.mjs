// DynamoDB and DynamoDB Streams through the AWS SDK for JavaScript v3, including lib-dynamodb's
// DocumentClient.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  DynamoDBClient,
  CreateTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  ConditionalCheckFailedException,
  TransactionCanceledException,
  ResourceNotFoundException,
  waitUntilTableExists,
  paginateQuery,
  paginateScan,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  GetCommand,
  UpdateCommand,
  DeleteCommand,
  QueryCommand as DocQueryCommand,
  ScanCommand as DocScanCommand,
  BatchWriteCommand,
  BatchGetCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  DynamoDBStreamsClient,
  DescribeStreamCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { startStratus } from "./stratus.mjs";

let stratus;
let ddb;
let doc;
before(async () => {
  stratus = await startStratus();
  ddb = new DynamoDBClient(stratus.clientConfig);
  doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

async function table(name, extra = {}) {
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      ...extra,
    }),
  );
  await waitUntilTableExists({ client: ddb, minDelay: 1, maxWaitTime: 20 }, { TableName: name });
}

test("DocumentClient round trip with native JS types", async () => {
  await table("js_doc");
  await doc.send(
    new PutCommand({
      TableName: "js_doc",
      Item: { pk: "u1", sk: 1, name: "Ada", tags: new Set(["x", "y"]), meta: { a: [1, "b", null, true] }, n: 0.1 },
    }),
  );
  const got = await doc.send(new GetCommand({ TableName: "js_doc", Key: { pk: "u1", sk: 1 } }));
  assert.equal(got.Item.name, "Ada");
  assert.deepEqual([...got.Item.tags].sort(), ["x", "y"]);
  assert.deepEqual(got.Item.meta, { a: [1, "b", null, true] });
  const upd = await doc.send(
    new UpdateCommand({
      TableName: "js_doc",
      Key: { pk: "u1", sk: 1 },
      UpdateExpression: "SET n = n + :d, #m.a = list_append(#m.a, :more) REMOVE tags",
      ExpressionAttributeNames: { "#m": "meta" },
      ExpressionAttributeValues: { ":d": 0.2, ":more": ["z"] },
      ReturnValues: "ALL_NEW",
    }),
  );
  assert.equal(upd.Attributes.n, 0.3); // exact decimal arithmetic: 0.1 + 0.2 = 0.3
  assert.deepEqual(upd.Attributes.meta.a, [1, "b", null, true, "z"]);
  assert.equal(upd.Attributes.tags, undefined);
  await assert.rejects(
    doc.send(
      new PutCommand({
        TableName: "js_doc",
        Item: { pk: "u1", sk: 1 },
        ConditionExpression: "attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    ),
    (e) => {
      assert.ok(e instanceof ConditionalCheckFailedException);
      assert.equal(e.message, "The conditional request failed");
      assert.equal(e.Item.name.S, "Ada");
      return true;
    },
  );
  await doc.send(new DeleteCommand({ TableName: "js_doc", Key: { pk: "u1", sk: 1 } }));
  const gone = await doc.send(new GetCommand({ TableName: "js_doc", Key: { pk: "u1", sk: 1 } }));
  assert.equal(gone.Item, undefined);
});

test("batches, queries and paginators", async () => {
  await table("js_batch");
  const items = Array.from({ length: 50 }, (_, i) => ({ pk: i % 2 ? "odd" : "even", sk: i, v: `v${i}` }));
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { js_batch: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
  const bg = await doc.send(
    new BatchGetCommand({ RequestItems: { js_batch: { Keys: [{ pk: "odd", sk: 1 }, { pk: "even", sk: 2 }] } } }),
  );
  assert.equal(bg.Responses.js_batch.length, 2);
  const q = await doc.send(
    new DocQueryCommand({
      TableName: "js_batch",
      KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
      ExpressionAttributeValues: { ":p": "odd", ":a": 10, ":b": 20 },
      ScanIndexForward: false,
    }),
  );
  assert.deepEqual(q.Items.map((x) => x.sk), [19, 17, 15, 13, 11]);
  let seen = 0;
  for await (const page of paginateQuery(
    { client: ddb, pageSize: 4 },
    { TableName: "js_batch", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "even" } } },
  )) {
    assert.ok(page.Items.length <= 4);
    seen += page.Items.length;
  }
  assert.equal(seen, 25);
  let scanned = 0;
  for await (const page of paginateScan({ client: ddb, pageSize: 7 }, { TableName: "js_batch" })) {
    scanned += page.Count;
  }
  assert.equal(scanned, 50);
  const f = await doc.send(
    new DocScanCommand({ TableName: "js_batch", FilterExpression: "contains(v, :x)", ExpressionAttributeValues: { ":x": "4" } }),
  );
  assert.equal(f.Count, 14); // v4, v14, v24, v34, v40..v49
});

test("transactions cancel atomically with reasons", async () => {
  await table("js_tx");
  await doc.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: "js_tx", Item: { pk: "a", sk: 1, bal: 10 } } },
        { Put: { TableName: "js_tx", Item: { pk: "b", sk: 1, bal: 0 } } },
      ],
    }),
  );
  await assert.rejects(
    ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: "js_tx",
              Key: { pk: { S: "a" }, sk: { N: "1" } },
              UpdateExpression: "SET bal = bal - :x",
              ConditionExpression: "bal >= :x",
              ExpressionAttributeValues: { ":x": { N: "20" } },
            },
          },
          { Put: { TableName: "js_tx", Item: { pk: { S: "c" }, sk: { N: "1" } } } },
        ],
      }),
    ),
    (e) => {
      assert.ok(e instanceof TransactionCanceledException);
      assert.deepEqual(e.CancellationReasons.map((r) => r.Code), ["ConditionalCheckFailed", "None"]);
      return true;
    },
  );
  const c = await doc.send(new GetCommand({ TableName: "js_tx", Key: { pk: "c", sk: 1 } }));
  assert.equal(c.Item, undefined);
});

test("validation errors carry DynamoDB's messages", async () => {
  await table("js_bad");
  await assert.rejects(
    ddb.send(
      new QueryCommand({
        TableName: "js_bad",
        KeyConditionExpression: "pk = :p AND",
        ExpressionAttributeValues: { ":p": { S: "x" } },
      }),
    ),
    { name: "ValidationException", message: 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"' },
  );
  await assert.rejects(
    ddb.send(new PutItemCommand({ TableName: "js_bad", Item: { pk: { S: "x" }, sk: { N: "1e200" } } })),
    { name: "ValidationException", message: "Number overflow. Attempting to store a number with magnitude larger than supported range" },
  );
  await assert.rejects(ddb.send(new DescribeTableCommand({ TableName: "js_missing" })), (e) => e instanceof ResourceNotFoundException);
});

test("streams: records in commit order through client-dynamodb-streams", async () => {
  await table("js_stream", { StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" } });
  const desc = await ddb.send(new DescribeTableCommand({ TableName: "js_stream" }));
  const arn = desc.Table.LatestStreamArn;
  await doc.send(new PutCommand({ TableName: "js_stream", Item: { pk: "k", sk: 1, v: 1 } }));
  await doc.send(new PutCommand({ TableName: "js_stream", Item: { pk: "k", sk: 1, v: 2 } }));
  await doc.send(new DeleteCommand({ TableName: "js_stream", Key: { pk: "k", sk: 1 } }));
  const streams = new DynamoDBStreamsClient(stratus.clientConfig);
  const sd = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  const shard = sd.StreamDescription.Shards[0].ShardId;
  const it = await streams.send(
    new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const recs = await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  assert.deepEqual(recs.Records.map((r) => r.eventName), ["INSERT", "MODIFY", "REMOVE"]);
  assert.equal(recs.Records[1].dynamodb.OldImage.v.N, "1");
  assert.equal(recs.Records[1].dynamodb.NewImage.v.N, "2");
  assert.ok(recs.Records[0].dynamodb.ApproximateCreationDateTime instanceof Date);
  assert.ok(recs.NextShardIterator);
});
