// The foundation's services through the AWS SDK for JavaScript v3.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  GetLogEventsCommand,
  FilterLogEventsCommand,
  DescribeLogGroupsCommand,
  DeleteLogGroupCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  paginateDescribeLogGroups,
} from "@aws-sdk/client-cloudwatch-logs";
import { startStratus } from "./stratus.mjs";

let stratus;
before(async () => {
  stratus = await startStratus();
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

test("STS GetCallerIdentity", async () => {
  const sts = new STSClient(stratus.clientConfig);
  const id = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Account, "000000000000");
  assert.equal(id.Arn, "arn:aws:iam::000000000000:root");
  assert.match(id.$metadata.requestId, /^[0-9a-f-]{36}$/);
});

test("CloudWatch Logs round trip", async () => {
  const logs = new CloudWatchLogsClient(stratus.clientConfig);
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/js/app" }));
  await assert.rejects(
    logs.send(new CreateLogGroupCommand({ logGroupName: "/js/app" })),
    (e) => e instanceof ResourceAlreadyExistsException,
  );
  await logs.send(new CreateLogStreamCommand({ logGroupName: "/js/app", logStreamName: "s" }));
  const t = Date.now();
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: "/js/app",
      logStreamName: "s",
      logEvents: [
        { timestamp: t, message: JSON.stringify({ level: "ERROR", msg: "boom" }) },
        { timestamp: t + 1, message: "plain INFO line" },
      ],
    }),
  );
  const got = await logs.send(
    new GetLogEventsCommand({ logGroupName: "/js/app", logStreamName: "s", startFromHead: true }),
  );
  assert.equal(got.events.length, 2);
  assert.equal(got.events[1].message, "plain INFO line");
  const filtered = await logs.send(
    new FilterLogEventsCommand({ logGroupName: "/js/app", filterPattern: '{ $.level = "ERROR" }' }),
  );
  assert.equal(filtered.events.length, 1);
  assert.equal(filtered.events[0].logStreamName, "s");
  await logs.send(new DeleteLogGroupCommand({ logGroupName: "/js/app" }));
  await assert.rejects(
    logs.send(new GetLogEventsCommand({ logGroupName: "/js/app", logStreamName: "s" })),
    (e) => e instanceof ResourceNotFoundException,
  );
});

test("CloudWatch Logs paginator", async () => {
  const logs = new CloudWatchLogsClient(stratus.clientConfig);
  for (let i = 0; i < 5; i++) {
    await logs.send(new CreateLogGroupCommand({ logGroupName: `/js/p${i}` }));
  }
  const names = [];
  for await (const page of paginateDescribeLogGroups(
    { client: logs, pageSize: 2 },
    { logGroupNamePrefix: "/js/p" },
  )) {
    names.push(...page.logGroups.map((g) => g.logGroupName));
  }
  assert.deepEqual(names, ["/js/p0", "/js/p1", "/js/p2", "/js/p3", "/js/p4"]);
  const all = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/js/p", limit: 50 }));
  assert.equal(all.logGroups.length, 5);
});
