// A DynamoDB stream driving a Lambda function, set up with the AWS SDK for JavaScript v3:
// client-lambda's CreateEventSourceMapping (with FilterCriteria), client-dynamodb writes, and the
// function's output read back through client-cloudwatch-logs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LambdaClient,
  CreateFunctionCommand,
  CreateEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  waitUntilFunctionActiveV2,
} from "@aws-sdk/client-lambda";
import { DynamoDBClient, CreateTableCommand, PutItemCommand, UpdateItemCommand, DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { startStratus } from "./stratus.mjs";

let stratus;
before(async () => {
  stratus = await startStratus();
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

function zipOf(files) {
  const dir = mkdtempSync(join(tmpdir(), "stratus-fn-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  execFileSync("zip", ["-qr", "-X", "code.zip", "."], { cwd: dir });
  const bytes = readFileSync(join(dir, "code.zip"));
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

test("a DynamoDB stream drives a function; FilterCriteria keeps only matching records", async () => {
  const lambda = new LambdaClient(stratus.clientConfig);
  const ddb = new DynamoDBClient(stratus.clientConfig);
  const logs = new CloudWatchLogsClient(stratus.clientConfig);
  const created = await ddb.send(
    new CreateTableCommand({
      TableName: "js_orders",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
    }),
  );
  const streamArn = created.TableDescription.LatestStreamArn;
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: "js-orders-fn",
      Runtime: "nodejs24.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::000000000000:role/lambda-role",
      Code: {
        ZipFile: zipOf({
          "index.js":
            "exports.handler = async (event) => {\n" +
            "  for (const r of event.Records) console.log('GOT ' + JSON.stringify(r));\n" +
            "  return {};\n" +
            "};\n",
        }),
      },
    }),
  );
  await waitUntilFunctionActiveV2({ client: lambda, minDelay: 1, maxWaitTime: 30 }, { FunctionName: "js-orders-fn" });
  const criteria = {
    Filters: [
      { Pattern: JSON.stringify({ eventName: ["INSERT", "MODIFY"], dynamodb: { NewImage: { status: { S: ["paid"] } } } }) },
      { Pattern: JSON.stringify({ eventName: ["REMOVE"] }) },
    ],
  };
  const m = await lambda.send(
    new CreateEventSourceMappingCommand({
      EventSourceArn: streamArn,
      FunctionName: "js-orders-fn",
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 10,
      FilterCriteria: criteria,
    }),
  );
  assert.deepEqual((await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).FilterCriteria, criteria);

  const put = (id, status) =>
    ddb.send(new PutItemCommand({ TableName: "js_orders", Item: { id: { S: id }, status: { S: status } } }));
  await put("o1", "new"); // dropped
  await put("o2", "paid"); // INSERT o2
  await ddb.send(
    new UpdateItemCommand({
      TableName: "js_orders",
      Key: { id: { S: "o1" } },
      UpdateExpression: "SET #s = :p",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":p": { S: "paid" } },
    }),
  ); // MODIFY o1
  await put("o3", "cancelled"); // dropped
  await ddb.send(new DeleteItemCommand({ TableName: "js_orders", Key: { id: { S: "o3" } } })); // REMOVE o3

  const delivered = async () => {
    try {
      const r = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/js-orders-fn" }));
      return r.events
        .map((e) => e.message.trim())
        .filter((msg) => msg.includes("GOT "))
        .map((msg) => JSON.parse(msg.slice(msg.indexOf("GOT ") + 4)));
    } catch {
      return [];
    }
  };
  const want = [
    ["INSERT", "o2"],
    ["MODIFY", "o1"],
    ["REMOVE", "o3"],
  ];
  const seen = async () => (await delivered()).map((r) => [r.eventName, r.dynamodb.Keys.id.S]);
  const deadline = Date.now() + 40000;
  while (Date.now() < deadline && JSON.stringify(await seen()) !== JSON.stringify(want)) {
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(await seen(), want);
  const first = (await delivered())[0];
  assert.equal(first.eventSource, "aws:dynamodb");
  assert.equal(first.eventSourceARN, streamArn);
  assert.deepEqual(first.dynamodb.NewImage, { id: { S: "o2" }, status: { S: "paid" } });
  await lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
});
