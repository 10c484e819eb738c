// DynamoDB through the AWS SDK for JavaScript v3, the rest of issue #7's scope (dynamodb.test.mjs
// has the basics): PartiQL, TransactGetItems, TTL and its sweeper, tags, parallel Scan, secondary
// indexes, the legacy parameters, client-dynamodb-streams iterators, and lib-dynamodb's
// DocumentClient batch, transaction and PartiQL commands.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  DynamoDBClient,
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  PutItemCommand,
  GetItemCommand,
  UpdateItemCommand,
  DeleteItemCommand,
  QueryCommand,
  ScanCommand,
  BatchWriteItemCommand,
  TransactGetItemsCommand,
  ExecuteStatementCommand,
  BatchExecuteStatementCommand,
  ExecuteTransactionCommand,
  UpdateTimeToLiveCommand,
  DescribeTimeToLiveCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListTagsOfResourceCommand,
  ConditionalCheckFailedException,
  DuplicateItemException,
  TransactionCanceledException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  GetCommand,
  BatchWriteCommand,
  BatchGetCommand,
  TransactWriteCommand,
  TransactGetCommand,
  ExecuteStatementCommand as DocExecuteStatementCommand,
  BatchExecuteStatementCommand as DocBatchExecuteStatementCommand,
  ExecuteTransactionCommand as DocExecuteTransactionCommand,
  ScanCommand as DocScanCommand,
  paginateScan as docPaginateScan,
} from "@aws-sdk/lib-dynamodb";
import {
  DynamoDBStreamsClient,
  ListStreamsCommand,
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
  doc = DynamoDBDocumentClient.from(ddb);
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

// A table keyed pk (S) [+ sk (N)], ACTIVE when it returns.
async function table(name, { sort = true, ...extra } = {}) {
  const keys = [{ AttributeName: "pk", KeyType: "HASH" }];
  const defs = [{ AttributeName: "pk", AttributeType: "S" }];
  if (sort) {
    keys.push({ AttributeName: "sk", KeyType: "RANGE" });
    defs.push({ AttributeName: "sk", AttributeType: "N" });
  }
  const out = await ddb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: keys,
      AttributeDefinitions: [...defs, ...(extra.AttributeDefinitions ?? [])],
      BillingMode: "PAY_PER_REQUEST",
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "AttributeDefinitions")),
    }),
  );
  await waitUntilTableExists({ client: ddb, minDelay: 1, maxWaitTime: 20 }, { TableName: name });
  return out.TableDescription;
}

async function until(fn, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
}

test("PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction", async () => {
  await table("js_pq");
  await ddb.send(new ExecuteStatementCommand({ Statement: `INSERT INTO "js_pq" VALUE {'pk': 'a', 'sk': 1, 'tags': <<'x', 'y'>>, 'm': {'k': [1, true, null]}}` }));
  await ddb.send(
    new ExecuteStatementCommand({ Statement: `INSERT INTO "js_pq" VALUE {'pk': ?, 'sk': ?}`, Parameters: [{ S: "a" }, { N: "2" }] }),
  );
  await assert.rejects(
    ddb.send(new ExecuteStatementCommand({ Statement: `INSERT INTO "js_pq" VALUE {'pk': 'a', 'sk': 1}` })),
    (e) => e instanceof DuplicateItemException && e.message === "Duplicate primary key exists in table",
  );
  const sel = await ddb.send(
    new ExecuteStatementCommand({ Statement: `SELECT * FROM "js_pq" WHERE pk = ? AND sk >= 1`, Parameters: [{ S: "a" }] }),
  );
  assert.deepEqual(sel.Items.map((i) => i.sk.N), ["1", "2"]);
  assert.deepEqual(sel.Items[0].tags.SS.sort(), ["x", "y"]);
  assert.deepEqual(sel.Items[0].m, { M: { k: { L: [{ N: "1" }, { BOOL: true }, { NULL: true }] } } });
  const upd = await ddb.send(
    new ExecuteStatementCommand({ Statement: `UPDATE "js_pq" SET v = 5 REMOVE tags WHERE pk = 'a' AND sk = 1 RETURNING ALL_NEW *` }),
  );
  assert.deepEqual(upd.Items[0].v, { N: "5" });
  assert.equal(upd.Items[0].tags, undefined);
  const proj = await ddb.send(new ExecuteStatementCommand({ Statement: `SELECT pk, v FROM "js_pq" WHERE v = 5` }));
  assert.deepEqual(proj.Items, [{ pk: { S: "a" }, v: { N: "5" } }]);

  const batch = await ddb.send(
    new BatchExecuteStatementCommand({
      Statements: [
        { Statement: `DELETE FROM "js_pq" WHERE pk = 'a' AND sk = 2` },
        { Statement: `UPDATE "js_pq" SET v = 1 WHERE pk = 'zz' AND sk = 1` },
        { Statement: `SELECT * FROM "js_pq" WHERE pk = 'a' AND sk = 1` },
      ],
    }),
  );
  assert.equal(batch.Responses[0].Error, undefined);
  assert.equal(batch.Responses[1].Error.Code, "ConditionalCheckFailed");
  assert.equal(batch.Responses[2].Item.v.N, "5");

  await ddb.send(
    new ExecuteTransactionCommand({
      TransactStatements: [
        { Statement: `INSERT INTO "js_pq" VALUE {'pk': 'b', 'sk': 1}` },
        { Statement: `UPDATE "js_pq" SET v = v + 1 WHERE pk = 'a' AND sk = 1` },
      ],
    }),
  );
  await assert.rejects(
    ddb.send(
      new ExecuteTransactionCommand({
        TransactStatements: [
          { Statement: `INSERT INTO "js_pq" VALUE {'pk': 'c', 'sk': 1}` },
          { Statement: `INSERT INTO "js_pq" VALUE {'pk': 'b', 'sk': 1}` },
        ],
      }),
    ),
    (e) => {
      assert.ok(e instanceof TransactionCanceledException);
      assert.equal(e.CancellationReasons.length, 2);
      assert.equal(e.CancellationReasons[0].Code, "None");
      assert.notEqual(e.CancellationReasons[1].Code, "None");
      return true;
    },
  );
  const all = await ddb.send(new ExecuteStatementCommand({ Statement: `SELECT * FROM "js_pq"` }));
  assert.deepEqual(all.Items.map((i) => `${i.pk.S}${i.sk.N}`).sort(), ["a1", "b1"]);
  assert.equal(all.Items.find((i) => i.pk.S === "a").v.N, "6");
  // ClientRequestToken: the same transaction again is applied once; another one with the token is refused.
  const bump = { Statement: `UPDATE "js_pq" SET v = v + 10 WHERE pk = 'a' AND sk = 1` };
  const first = await ddb.send(
    new ExecuteTransactionCommand({ TransactStatements: [bump], ClientRequestToken: "pq-1", ReturnConsumedCapacity: "TOTAL" }),
  );
  assert.deepEqual(first.ConsumedCapacity, [{ TableName: "js_pq", CapacityUnits: 2 }]);
  await ddb.send(new ExecuteTransactionCommand({ TransactStatements: [bump], ClientRequestToken: "pq-1" }));
  const once = await ddb.send(new ExecuteStatementCommand({ Statement: `SELECT v FROM "js_pq" WHERE pk = 'a' AND sk = 1` }));
  assert.equal(once.Items[0].v.N, "16");
  await assert.rejects(
    ddb.send(
      new ExecuteTransactionCommand({
        TransactStatements: [{ Statement: `DELETE FROM "js_pq" WHERE pk = 'a' AND sk = 1` }],
        ClientRequestToken: "pq-1",
      }),
    ),
    { name: "IdempotentParameterMismatchException" },
  );
  await assert.rejects(
    ddb.send(new ExecuteStatementCommand({ Statement: `SELEC * FROM "js_pq"` })),
    { name: "ValidationException" },
  );

  // Paging through NextToken.
  for (let i = 0; i < 7; i++) {
    await ddb.send(new ExecuteStatementCommand({ Statement: `INSERT INTO "js_pq" VALUE {'pk': 'p', 'sk': ${i}}` }));
  }
  let token;
  const pages = [];
  do {
    const r = await ddb.send(
      new ExecuteStatementCommand({ Statement: `SELECT sk FROM "js_pq" WHERE pk = 'p'`, Limit: 3, NextToken: token }),
    );
    pages.push(r.Items.map((i) => Number(i.sk.N)));
    token = r.NextToken;
  } while (token);
  assert.deepEqual(pages.flat(), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(pages.length >= 3);
});

test("DocumentClient PartiQL with native values", async () => {
  await table("js_pq_doc");
  await doc.send(
    new DocExecuteStatementCommand({
      Statement: `INSERT INTO "js_pq_doc" VALUE {'pk': ?, 'sk': ?, 'info': ?}`,
      Parameters: ["u1", 1, { name: "Ada", langs: ["en", "fr"], age: 36 }],
    }),
  );
  const r = await doc.send(
    new DocExecuteStatementCommand({ Statement: `SELECT * FROM "js_pq_doc" WHERE pk = ?`, Parameters: ["u1"] }),
  );
  assert.deepEqual(r.Items, [{ pk: "u1", sk: 1, info: { name: "Ada", langs: ["en", "fr"], age: 36 } }]);
  const b = await doc.send(
    new DocBatchExecuteStatementCommand({
      Statements: [
        { Statement: `INSERT INTO "js_pq_doc" VALUE {'pk': ?, 'sk': ?}`, Parameters: ["u2", 2] },
        { Statement: `SELECT info.name FROM "js_pq_doc" WHERE pk = ? AND sk = ?`, Parameters: ["u1", 1] },
      ],
    }),
  );
  assert.equal(b.Responses[0].Error, undefined);
  assert.deepEqual(b.Responses[1].Item, { info: { name: "Ada" } });
  await doc.send(
    new DocExecuteTransactionCommand({
      TransactStatements: [
        { Statement: `UPDATE "js_pq_doc" SET info.age = ? WHERE pk = ? AND sk = ?`, Parameters: [37, "u1", 1] },
        { Statement: `DELETE FROM "js_pq_doc" WHERE pk = ? AND sk = ?`, Parameters: ["u2", 2] },
      ],
    }),
  );
  const got = await doc.send(new GetCommand({ TableName: "js_pq_doc", Key: { pk: "u1", sk: 1 } }));
  assert.equal(got.Item.info.age, 37);
  const gone = await doc.send(new GetCommand({ TableName: "js_pq_doc", Key: { pk: "u2", sk: 2 } }));
  assert.equal(gone.Item, undefined);
});

test("TransactGetItems (client and DocumentClient) and DocumentClient transactions", async () => {
  await table("js_tget");
  await doc.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: "js_tget", Item: { pk: "acct", sk: 1, bal: 100, owner: "ada" } } },
        { Put: { TableName: "js_tget", Item: { pk: "acct", sk: 2, bal: 5 } } },
        { Put: { TableName: "js_tget", Item: { pk: "gone", sk: 1 } } },
        { Put: { TableName: "js_tget", Item: { pk: "meta", sk: 1, owner: "ada" } } },
      ],
    }),
  );
  await doc.send(
    new TransactWriteCommand({
      ClientRequestToken: "move-1",
      TransactItems: [
        {
          Update: {
            TableName: "js_tget",
            Key: { pk: "acct", sk: 1 },
            UpdateExpression: "SET bal = bal - :x",
            ConditionExpression: "bal >= :x",
            ExpressionAttributeValues: { ":x": 30 },
          },
        },
        {
          Update: {
            TableName: "js_tget",
            Key: { pk: "acct", sk: 2 },
            UpdateExpression: "SET bal = bal + :x",
            ExpressionAttributeValues: { ":x": 30 },
          },
        },
        { Delete: { TableName: "js_tget", Key: { pk: "gone", sk: 1 } } },
        {
          ConditionCheck: {
            TableName: "js_tget",
            Key: { pk: "meta", sk: 1 },
            ConditionExpression: "#o = :o",
            ExpressionAttributeNames: { "#o": "owner" },
            ExpressionAttributeValues: { ":o": "ada" },
          },
        },
      ],
    }),
  );
  const docGet = await doc.send(
    new TransactGetCommand({
      TransactItems: [
        { Get: { TableName: "js_tget", Key: { pk: "acct", sk: 1 }, ProjectionExpression: "bal" } },
        { Get: { TableName: "js_tget", Key: { pk: "acct", sk: 2 } } },
        { Get: { TableName: "js_tget", Key: { pk: "gone", sk: 1 } } },
      ],
    }),
  );
  assert.deepEqual(docGet.Responses[0].Item, { bal: 70 });
  assert.equal(docGet.Responses[1].Item.bal, 35);
  assert.equal(docGet.Responses[2].Item, undefined);
  const raw = await ddb.send(
    new TransactGetItemsCommand({
      TransactItems: [{ Get: { TableName: "js_tget", Key: { pk: { S: "acct" }, sk: { N: "1" } } } }],
      ReturnConsumedCapacity: "TOTAL",
    }),
  );
  assert.equal(raw.Responses[0].Item.owner.S, "ada");
  assert.deepEqual(raw.ConsumedCapacity, [{ TableName: "js_tget", CapacityUnits: 2, ReadCapacityUnits: 2 }]);
  // The same token with a different request: AWS's IdempotentParameterMismatchException.
  await assert.rejects(
    doc.send(
      new TransactWriteCommand({
        ClientRequestToken: "move-1",
        TransactItems: [{ Put: { TableName: "js_tget", Item: { pk: "other", sk: 1 } } }],
      }),
    ),
    { name: "IdempotentParameterMismatchException" },
  );
  // A ConditionCheck that fails cancels the whole transaction, with the item when asked.
  await assert.rejects(
    doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: "js_tget", Item: { pk: "new", sk: 1 } } },
          {
            ConditionCheck: {
              TableName: "js_tget",
              Key: { pk: "acct", sk: 2 },
              ConditionExpression: "bal > :big",
              ExpressionAttributeValues: { ":big": 1000 },
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            },
          },
        ],
      }),
    ),
    (e) => {
      assert.ok(e instanceof TransactionCanceledException);
      assert.deepEqual(e.CancellationReasons.map((r) => r.Code), ["None", "ConditionalCheckFailed"]);
      assert.equal(e.CancellationReasons[1].Item.bal.N, "35");
      return true;
    },
  );
  const none = await doc.send(new GetCommand({ TableName: "js_tget", Key: { pk: "new", sk: 1 } }));
  assert.equal(none.Item, undefined);
});

test("DocumentClient batches: BatchWrite puts and deletes, BatchGet with projections", async () => {
  await table("js_dbatch");
  await table("js_dbatch2", { sort: false });
  await doc.send(
    new BatchWriteCommand({
      RequestItems: {
        js_dbatch: Array.from({ length: 20 }, (_, i) => ({ PutRequest: { Item: { pk: "p", sk: i, big: "x".repeat(10), i } } })),
        js_dbatch2: [{ PutRequest: { Item: { pk: "solo", when: new Set([1, 2]) } } }],
      },
    }),
  );
  const w = await doc.send(
    new BatchWriteCommand({
      RequestItems: { js_dbatch: [0, 1, 2].map((sk) => ({ DeleteRequest: { Key: { pk: "p", sk } } })) },
    }),
  );
  assert.deepEqual(w.UnprocessedItems, {});
  const g = await doc.send(
    new BatchGetCommand({
      RequestItems: {
        js_dbatch: { Keys: [0, 3, 19].map((sk) => ({ pk: "p", sk })), ProjectionExpression: "sk, #i", ExpressionAttributeNames: { "#i": "i" } },
        js_dbatch2: { Keys: [{ pk: "solo" }, { pk: "missing" }], ConsistentRead: true },
      },
    }),
  );
  assert.deepEqual(g.Responses.js_dbatch.map((x) => x.sk).sort((a, b) => a - b), [3, 19]);
  assert.deepEqual(g.Responses.js_dbatch[0], { sk: g.Responses.js_dbatch[0].sk, i: g.Responses.js_dbatch[0].sk });
  assert.equal(g.Responses.js_dbatch2.length, 1);
  assert.deepEqual([...g.Responses.js_dbatch2[0].when].sort(), [1, 2]);
  assert.deepEqual(g.UnprocessedKeys, {});
  await assert.rejects(
    doc.send(
      new BatchWriteCommand({
        RequestItems: { js_dbatch: [{ PutRequest: { Item: { pk: "d", sk: 1 } } }, { DeleteRequest: { Key: { pk: "d", sk: 1 } } }] },
      }),
    ),
    { name: "ValidationException", message: "Provided list of item keys contains duplicates" },
  );
  let count = 0;
  for await (const page of docPaginateScan({ client: doc, pageSize: 6 }, { TableName: "js_dbatch" })) count += page.Items.length;
  assert.equal(count, 17);
});

test("TTL: Update/DescribeTimeToLive and the sweeper deleting an expired item", async () => {
  await table("js_ttl", { sort: false, StreamSpecification: { StreamEnabled: true, StreamViewType: "OLD_IMAGE" } });
  const before = await ddb.send(new DescribeTimeToLiveCommand({ TableName: "js_ttl" }));
  assert.deepEqual(before.TimeToLiveDescription, { TimeToLiveStatus: "DISABLED" });
  const set = await ddb.send(
    new UpdateTimeToLiveCommand({ TableName: "js_ttl", TimeToLiveSpecification: { Enabled: true, AttributeName: "exp" } }),
  );
  assert.deepEqual(set.TimeToLiveSpecification, { Enabled: true, AttributeName: "exp" });
  const d = await ddb.send(new DescribeTimeToLiveCommand({ TableName: "js_ttl" }));
  assert.deepEqual(d.TimeToLiveDescription, { TimeToLiveStatus: "ENABLED", AttributeName: "exp" });
  const now = Math.floor(Date.now() / 1000);
  await doc.send(new PutCommand({ TableName: "js_ttl", Item: { pk: "old", exp: now - 60 } }));
  await doc.send(new PutCommand({ TableName: "js_ttl", Item: { pk: "future", exp: now + 3600 } }));
  await doc.send(new PutCommand({ TableName: "js_ttl", Item: { pk: "text", exp: "not a number" } }));
  await doc.send(new PutCommand({ TableName: "js_ttl", Item: { pk: "none" } }));
  // The sweeper runs every 5 seconds (dynamodb_service.cc, kTtlSweepInterval).
  const swept = await until(
    async () => (await doc.send(new GetCommand({ TableName: "js_ttl", Key: { pk: "old" } }))).Item === undefined,
    20000,
  );
  assert.ok(swept, "the expired item was not deleted within 20 s");
  for (const pk of ["future", "text", "none"]) {
    const r = await doc.send(new GetCommand({ TableName: "js_ttl", Key: { pk } }));
    assert.equal(r.Item?.pk, pk);
  }
  // Its REMOVE stream record names the DynamoDB service as the one who deleted it.
  const arn = (await ddb.send(new DescribeTableCommand({ TableName: "js_ttl" }))).Table.LatestStreamArn;
  const streams = new DynamoDBStreamsClient(stratus.clientConfig);
  const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription.Shards[0].ShardId;
  const it = await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }));
  const recs = (await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records;
  const removal = recs.find((r) => r.eventName === "REMOVE");
  assert.equal(removal.dynamodb.Keys.pk.S, "old");
  assert.deepEqual(removal.userIdentity, { Type: "Service", PrincipalId: "dynamodb.amazonaws.com" });
  await assert.rejects(
    ddb.send(new UpdateTimeToLiveCommand({ TableName: "js_ttl", TimeToLiveSpecification: { Enabled: true, AttributeName: "exp" } })),
    { name: "ValidationException", message: "TimeToLive is already enabled" },
  );
  await ddb.send(new UpdateTimeToLiveCommand({ TableName: "js_ttl", TimeToLiveSpecification: { Enabled: false, AttributeName: "exp" } }));
  const off = await ddb.send(new DescribeTimeToLiveCommand({ TableName: "js_ttl" }));
  assert.equal(off.TimeToLiveDescription.TimeToLiveStatus, "DISABLED");
});

test("tags: TagResource, UntagResource, ListTagsOfResource", async () => {
  const desc = await table("js_tags", { sort: false, Tags: [{ Key: "team", Value: "data" }] });
  const arn = desc.TableArn;
  assert.equal(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/js_tags");
  await ddb.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: "env", Value: "dev" }, { Key: "team", Value: "platform" }] }));
  const listed = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
  assert.deepEqual(
    listed.Tags.map((t) => `${t.Key}=${t.Value}`).sort(),
    ["env=dev", "team=platform"],
  );
  await ddb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["team", "absent"] }));
  const left = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
  assert.deepEqual(left.Tags, [{ Key: "env", Value: "dev" }]);
  assert.equal(left.NextToken, undefined);
  await assert.rejects(
    ddb.send(new ListTagsOfResourceCommand({ ResourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/js_no_such" })),
    { name: "ResourceNotFoundException" },
  );
});

test("parallel Scan segments cover the table once", async () => {
  await table("js_pscan", { sort: false });
  const items = Array.from({ length: 60 }, (_, i) => ({ pk: `k${i}`, v: i }));
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(new BatchWriteCommand({ RequestItems: { js_pscan: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  const total = 4;
  const segments = await Promise.all(
    Array.from({ length: total }, async (_, Segment) => {
      const keys = [];
      for await (const page of docPaginateScan({ client: doc, pageSize: 5 }, { TableName: "js_pscan", Segment, TotalSegments: total })) {
        keys.push(...page.Items.map((x) => x.pk));
      }
      return keys;
    }),
  );
  const all = segments.flat();
  assert.equal(all.length, 60);
  assert.equal(new Set(all).size, 60);
  assert.ok(segments.filter((s) => s.length > 0).length >= 2, "the items were not spread over segments");
  const filtered = await doc.send(
    new DocScanCommand({ TableName: "js_pscan", Segment: 1, TotalSegments: total, FilterExpression: "v >= :z", ExpressionAttributeValues: { ":z": 0 } }),
  );
  assert.equal(filtered.Count, segments[1].length);
  await assert.rejects(
    ddb.send(new ScanCommand({ TableName: "js_pscan", Segment: 4, TotalSegments: 4 })),
    {
      name: "ValidationException",
      message: "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4",
    },
  );
});

test("secondary indexes: GSI and LSI queries, a GSI added by UpdateTable", async () => {
  await table("js_idx", {
    AttributeDefinitions: [
      { AttributeName: "gk", AttributeType: "S" },
      { AttributeName: "lk", AttributeType: "N" },
    ],
    GlobalSecondaryIndexes: [{ IndexName: "byG", KeySchema: [{ AttributeName: "gk", KeyType: "HASH" }], Projection: { ProjectionType: "KEYS_ONLY" } }],
    LocalSecondaryIndexes: [
      {
        IndexName: "byL",
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "lk", KeyType: "RANGE" }],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["x"] },
      },
    ],
  });
  for (let i = 0; i < 6; i++) {
    await doc.send(new PutCommand({ TableName: "js_idx", Item: { pk: "p", sk: i, gk: `g${i % 2}`, lk: 10 - i, x: "inc", y: `y${i % 3}` } }));
  }
  const g = await ddb.send(
    new QueryCommand({ TableName: "js_idx", IndexName: "byG", KeyConditionExpression: "gk = :g", ExpressionAttributeValues: { ":g": { S: "g1" } } }),
  );
  assert.equal(g.Count, 3);
  assert.deepEqual(Object.keys(g.Items[0]).sort(), ["gk", "pk", "sk"]);
  const l = await ddb.send(
    new QueryCommand({
      TableName: "js_idx",
      IndexName: "byL",
      KeyConditionExpression: "pk = :p AND lk > :l",
      ExpressionAttributeValues: { ":p": { S: "p" }, ":l": { N: "6" } },
      ScanIndexForward: false,
    }),
  );
  assert.deepEqual(l.Items.map((i) => i.lk.N), ["10", "9", "8", "7"]);
  assert.deepEqual(Object.keys(l.Items[0]).sort(), ["lk", "pk", "sk", "x"]);
  await ddb.send(
    new UpdateTableCommand({
      TableName: "js_idx",
      AttributeDefinitions: [{ AttributeName: "y", AttributeType: "S" }],
      GlobalSecondaryIndexUpdates: [
        { Create: { IndexName: "byY", KeySchema: [{ AttributeName: "y", KeyType: "HASH" }], Projection: { ProjectionType: "ALL" } } },
      ],
    }),
  );
  const y = await ddb.send(
    new QueryCommand({ TableName: "js_idx", IndexName: "byY", KeyConditionExpression: "y = :y", ExpressionAttributeValues: { ":y": { S: "y0" } }, Select: "COUNT" }),
  );
  assert.equal(y.Count, 2);
  const d = await ddb.send(new DescribeTableCommand({ TableName: "js_idx" }));
  assert.deepEqual(d.Table.GlobalSecondaryIndexes.map((x) => [x.IndexName, x.IndexStatus]).sort(), [["byG", "ACTIVE"], ["byY", "ACTIVE"]]);
});

test("legacy parameters: Expected, AttributesToGet, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter", async () => {
  await table("js_legacy");
  for (let i = 0; i < 4; i++) {
    await ddb.send(
      new PutItemCommand({ TableName: "js_legacy", Item: { pk: { S: "p" }, sk: { N: String(i) }, name: { S: "x".repeat(i + 1) }, tags: { SS: ["a"] } } }),
    );
  }
  const got = await ddb.send(
    new GetItemCommand({ TableName: "js_legacy", Key: { pk: { S: "p" }, sk: { N: "2" } }, AttributesToGet: ["name"], ConsistentRead: true }),
  );
  assert.deepEqual(got.Item, { name: { S: "xxx" } });
  // Expected: a condition in the old form.
  await assert.rejects(
    ddb.send(
      new PutItemCommand({
        TableName: "js_legacy",
        Item: { pk: { S: "p" }, sk: { N: "0" } },
        Expected: { name: { ComparisonOperator: "EQ", AttributeValueList: [{ S: "nope" }] } },
      }),
    ),
    (e) => e instanceof ConditionalCheckFailedException,
  );
  await ddb.send(
    new PutItemCommand({
      TableName: "js_legacy",
      Item: { pk: { S: "p" }, sk: { N: "9" } },
      Expected: { pk: { Exists: false } },
    }),
  );
  await ddb.send(
    new UpdateItemCommand({
      TableName: "js_legacy",
      Key: { pk: { S: "p" }, sk: { N: "1" } },
      AttributeUpdates: {
        count: { Value: { N: "5" }, Action: "ADD" },
        tags: { Value: { SS: ["b"] }, Action: "ADD" },
        name: { Action: "DELETE" },
      },
      Expected: { name: { Value: { S: "xx" } } },
    }),
  );
  const item = (await ddb.send(new GetItemCommand({ TableName: "js_legacy", Key: { pk: { S: "p" }, sk: { N: "1" } } }))).Item;
  assert.equal(item.count.N, "5");
  assert.equal(item.name, undefined);
  assert.deepEqual(item.tags.SS.sort(), ["a", "b"]);
  const q = await ddb.send(
    new QueryCommand({
      TableName: "js_legacy",
      KeyConditions: {
        pk: { ComparisonOperator: "EQ", AttributeValueList: [{ S: "p" }] },
        sk: { ComparisonOperator: "BETWEEN", AttributeValueList: [{ N: "0" }, { N: "3" }] },
      },
      QueryFilter: { name: { ComparisonOperator: "BEGINS_WITH", AttributeValueList: [{ S: "xx" }] } },
      ConditionalOperator: "AND",
      AttributesToGet: ["sk"],
    }),
  );
  assert.deepEqual(q.Items, [{ sk: { N: "2" } }, { sk: { N: "3" } }]);
  assert.equal(q.ScannedCount, 4);
  const s = await ddb.send(
    new ScanCommand({
      TableName: "js_legacy",
      ScanFilter: {
        name: { ComparisonOperator: "NULL" },
        count: { ComparisonOperator: "NOT_NULL" },
      },
      ConditionalOperator: "OR",
    }),
  );
  assert.deepEqual(s.Items.map((i) => i.sk.N).sort(), ["1", "9"]);
  await ddb.send(
    new DeleteItemCommand({ TableName: "js_legacy", Key: { pk: { S: "p" }, sk: { N: "9" } }, Expected: { name: { Exists: false } } }),
  );
  await assert.rejects(
    ddb.send(
      new GetItemCommand({ TableName: "js_legacy", Key: { pk: { S: "p" }, sk: { N: "1" } }, AttributesToGet: ["a"], ProjectionExpression: "a" }),
    ),
    {
      name: "ValidationException",
      message:
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
    },
  );
});

test("streams: ListStreams, KEYS_ONLY records, LATEST and AFTER_SEQUENCE_NUMBER iterators", async () => {
  await table("js_streams2", { StreamSpecification: { StreamEnabled: true, StreamViewType: "KEYS_ONLY" } });
  const arn = (await ddb.send(new DescribeTableCommand({ TableName: "js_streams2" }))).Table.LatestStreamArn;
  const streams = new DynamoDBStreamsClient(stratus.clientConfig);
  const list = await streams.send(new ListStreamsCommand({ TableName: "js_streams2" }));
  assert.deepEqual(list.Streams.map((s) => s.StreamArn), [arn]);
  const desc = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription;
  assert.equal(desc.StreamViewType, "KEYS_ONLY");
  assert.equal(desc.StreamStatus, "ENABLED");
  assert.deepEqual(desc.KeySchema, [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }]);
  const shard = desc.Shards[0].ShardId;
  const latest = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: "LATEST" }))).ShardIterator;
  await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: { js_streams2: [1, 2, 3].map((i) => ({ PutRequest: { Item: { pk: { S: "s" }, sk: { N: String(i) }, v: { S: "big" } } } })) },
    }),
  );
  const recs = (await streams.send(new GetRecordsCommand({ ShardIterator: latest }))).Records;
  assert.deepEqual(recs.map((r) => r.dynamodb.Keys.sk.N), ["1", "2", "3"]);
  assert.equal(recs[0].dynamodb.NewImage, undefined);
  assert.equal(recs[0].dynamodb.StreamViewType, "KEYS_ONLY");
  assert.equal(recs[0].eventSource, "aws:dynamodb");
  const after = (
    await streams.send(
      new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: recs[0].dynamodb.SequenceNumber }),
    )
  ).ShardIterator;
  const rest = await streams.send(new GetRecordsCommand({ ShardIterator: after, Limit: 1 }));
  assert.deepEqual(rest.Records.map((r) => r.dynamodb.Keys.sk.N), ["2"]);
  const more = await streams.send(new GetRecordsCommand({ ShardIterator: rest.NextShardIterator }));
  assert.deepEqual(more.Records.map((r) => r.dynamodb.Keys.sk.N), ["3"]);
  await assert.rejects(
    streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: "shardId-00000000000000000000-00000000", ShardIteratorType: "LATEST" })),
    { name: "ResourceNotFoundException" },
  );
});

test("ReturnValues forms, 38-digit numbers, 1 MB pages, Select COUNT, item size limit", async () => {
  await table("js_forms");
  const key = { pk: { S: "r" }, sk: { N: "1" } };
  const none = await ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { ...key, a: { N: "1" }, b: { S: "x" } }, ReturnValues: "NONE" }));
  assert.equal(none.Attributes, undefined);
  const old = await ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { ...key, a: { N: "2" }, b: { S: "x" } }, ReturnValues: "ALL_OLD" }));
  assert.deepEqual(old.Attributes, { ...key, a: { N: "1" }, b: { S: "x" } });
  const upd = (rv) =>
    ddb.send(
      new UpdateItemCommand({
        TableName: "js_forms",
        Key: key,
        UpdateExpression: "SET a = a + :one",
        ExpressionAttributeValues: { ":one": { N: "1" } },
        ReturnValues: rv,
      }),
    );
  assert.deepEqual((await upd("UPDATED_OLD")).Attributes, { a: { N: "2" } });
  assert.deepEqual((await upd("UPDATED_NEW")).Attributes, { a: { N: "4" } });
  assert.deepEqual((await upd("ALL_NEW")).Attributes, { ...key, a: { N: "5" }, b: { S: "x" } });
  assert.deepEqual((await upd("ALL_OLD")).Attributes, { ...key, a: { N: "5" }, b: { S: "x" } });
  const del = await ddb.send(new DeleteItemCommand({ TableName: "js_forms", Key: key, ReturnValues: "ALL_OLD" }));
  assert.equal(del.Attributes.a.N, "6");

  // Numbers: 38 significant digits, exact arithmetic, DynamoDB's normalization and limits.
  const big = "12345678901234567890123456789012345678";
  await ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { ...key, n: { N: big }, f: { N: "0010.500" } } }));
  const sum = await ddb.send(
    new UpdateItemCommand({
      TableName: "js_forms",
      Key: key,
      UpdateExpression: "SET n = n - :d, f = f + :t",
      ExpressionAttributeValues: { ":d": { N: "12345678901234567890123456789012345677" }, ":t": { N: "0.25" } },
      ReturnValues: "UPDATED_NEW",
    }),
  );
  assert.deepEqual(sum.Attributes, { n: { N: "1" }, f: { N: "10.75" } });
  const wrapped = DynamoDBDocumentClient.from(ddb, { unmarshallOptions: { wrapNumbers: true } });
  await ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { ...key, n: { N: big } } }));
  const got = await wrapped.send(new GetCommand({ TableName: "js_forms", Key: { pk: "r", sk: 1 } }));
  assert.equal(got.Item.n.value, big);
  await assert.rejects(
    ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { ...key, n: { N: big + "9" } } })),
    { name: "ValidationException", message: "Attempting to store more than 38 significant digits in a Number" },
  );

  // 1 MB pages: a query over ~1.5 MB stops at 1 MB with a LastEvaluatedKey; COUNT counts all.
  const filler = "z".repeat(100 * 1024);
  for (let i = 0; i < 15; i++) {
    await ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { pk: { S: "big" }, sk: { N: String(i) }, filler: { S: filler } } }));
  }
  const page = await ddb.send(
    new QueryCommand({ TableName: "js_forms", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "big" } } }),
  );
  assert.ok(page.Count < 15 && page.Count >= 9, `a 1 MB page held ${page.Count} items of 100 KB`);
  assert.deepEqual(page.LastEvaluatedKey, { pk: { S: "big" }, sk: { N: String(page.Count - 1) } });
  const rest = await ddb.send(
    new QueryCommand({
      TableName: "js_forms",
      KeyConditionExpression: "pk = :p",
      ExpressionAttributeValues: { ":p": { S: "big" } },
      ExclusiveStartKey: page.LastEvaluatedKey,
    }),
  );
  assert.equal(page.Count + rest.Count, 15);
  assert.equal(rest.LastEvaluatedKey, undefined);
  const counted = await ddb.send(
    new QueryCommand({
      TableName: "js_forms",
      KeyConditionExpression: "pk = :p AND sk >= :s",
      ExpressionAttributeValues: { ":p": { S: "big" }, ":s": { N: "10" } },
      Select: "COUNT",
    }),
  );
  assert.equal(counted.Count, 5);
  assert.equal(counted.Items, undefined);

  // Items are limited to 400 KB.
  await assert.rejects(
    ddb.send(new PutItemCommand({ TableName: "js_forms", Item: { ...key, huge: { S: "h".repeat(400 * 1024) } } })),
    { name: "ValidationException", message: "Item size has exceeded the maximum allowed size" },
  );
});
