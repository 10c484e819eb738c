// SQS through the AWS SDK for JavaScript v3 (json protocol; the SDK checks every MD5).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  SQSClient, CreateQueueCommand, SendMessageCommand, SendMessageBatchCommand, ReceiveMessageCommand,
  DeleteMessageCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ChangeMessageVisibilityCommand,
  StartMessageMoveTaskCommand, ListMessageMoveTasksCommand, ListQueuesCommand, GetQueueUrlCommand,
  QueueDoesNotExist, TooManyEntriesInBatchRequest, SetQueueAttributesCommand, TagQueueCommand,
  UntagQueueCommand, ListQueueTagsCommand, PurgeQueueCommand, ChangeMessageVisibilityBatchCommand,
  ListDeadLetterSourceQueuesCommand, DeleteQueueCommand, AddPermissionCommand, RemovePermissionCommand,
} from "@aws-sdk/client-sqs";
import { startStratus } from "./stratus.mjs";

let stratus;
let sqs;
before(async () => {
  stratus = await startStratus();
  sqs = new SQSClient(stratus.clientConfig);
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

const arnOf = async (QueueUrl) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes.QueueArn;

test("send, receive and delete with attributes (MD5s verified by the SDK)", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-basic" }));
  assert.equal(QueueUrl, `${stratus.endpoint}/000000000000/js-basic`);
  await sqs.send(new SendMessageCommand({
    QueueUrl, MessageBody: "hello ✓",
    MessageAttributes: {
      s: { DataType: "String", StringValue: "x" },
      n: { DataType: "Number", StringValue: "1" },
      b: { DataType: "Binary", BinaryValue: new Uint8Array([0, 255]) },
    },
  }));
  const r = await sqs.send(new ReceiveMessageCommand({
    QueueUrl, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"], WaitTimeSeconds: 1,
  }));
  const m = r.Messages[0];
  assert.equal(m.Body, "hello ✓");
  assert.deepEqual([...m.MessageAttributes.b.BinaryValue], [0, 255]);
  assert.equal(m.Attributes.ApproximateReceiveCount, "1");
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
  const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
  assert.equal(empty.Messages, undefined);
});

test("batches, errors and long polling", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-batch" }));
  const sent = await sqs.send(new SendMessageBatchCommand({
    QueueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${i}` })),
  }));
  assert.equal(sent.Successful.length, 10);
  await assert.rejects(
    sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })) })),
    (e) => e instanceof TooManyEntriesInBatchRequest,
  );
  let got = [];
  while (got.length < 10) {
    got = got.concat((await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages ?? []);
  }
  const del = await sqs.send(new DeleteMessageBatchCommand({
    QueueUrl, Entries: got.map((m, i) => ({ Id: `${i}`, ReceiptHandle: m.ReceiptHandle })),
  }));
  assert.equal(del.Successful.length, 10);
  setTimeout(() => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "late" })), 300);
  const t0 = Date.now();
  const late = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
  assert.equal(late.Messages[0].Body, "late");
  assert.ok(Date.now() - t0 < 15000); // woken by the send, not at the end of the 20 s wait
  await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: "js-missing" })), (e) => e instanceof QueueDoesNotExist);
});

test("visibility change and FIFO groups", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({
    QueueName: "js.fifo", Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
  }));
  for (const b of ["a1", "a2", "b1"]) {
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: b, MessageGroupId: b[0] }));
  }
  const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
  assert.equal(first.Messages[0].Body, "a1");
  const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
  assert.deepEqual(second.Messages.map((m) => m.Body), ["b1"]);
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.Messages[0].ReceiptHandle, VisibilityTimeout: 0 }));
  const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
  assert.deepEqual(again.Messages.map((m) => m.Body), ["a1", "a2"]);
});

test("dead-letter queue and StartMessageMoveTask", async () => {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "js-dlq" }))).QueueUrl;
  const dlqArn = await arnOf(dlq);
  const src = (await sqs.send(new CreateQueueCommand({
    QueueName: "js-src",
    Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) },
  }))).QueueUrl;
  await sqs.send(new SendMessageCommand({ QueueUrl: src, MessageBody: "poison" }));
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, VisibilityTimeout: 0 }));
  assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: src }))).Messages, undefined);
  const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
  assert.ok(TaskHandle);
  const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, WaitTimeSeconds: 20 }));
  assert.equal(back.Messages[0].Body, "poison");
  const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
  assert.equal(tasks.Results[0].Status, "COMPLETED");
  assert.equal(tasks.Results[0].ApproximateNumberOfMessagesMoved, 1);
  const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: "js-" }));
  assert.ok(listed.QueueUrls.includes(src));
});

test("attributes, tags, permissions, visibility batches, purge and delete", async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-admin", tags: { team: "a" } }));
  const { QueueUrl: dlq } = await sqs.send(new CreateQueueCommand({ QueueName: "js-admin-dlq" }));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: {
    VisibilityTimeout: "45", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlq), maxReceiveCount: 3 }),
  } }));
  const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }))).Attributes;
  assert.equal(attrs.VisibilityTimeout, "45");
  assert.equal(JSON.parse(attrs.RedrivePolicy).maxReceiveCount, 3);
  assert.deepEqual((await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq }))).queueUrls, [QueueUrl]);
  await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: "test" } }));
  await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ["team"] }));
  assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { env: "test" });
  await sqs.send(new AddPermissionCommand({ QueueUrl, Label: "p1", AWSAccountIds: ["111122223333"], Actions: ["SendMessage"] }));
  const policy = JSON.parse((await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Policy"] }))).Attributes.Policy);
  assert.equal(policy.Statement[0].Sid, "p1");
  await sqs.send(new RemovePermissionCommand({ QueueUrl, Label: "p1" }));

  await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [0, 1, 2].map((i) => ({ Id: `m${i}`, MessageBody: `b${i}` })) }));
  const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }))).Messages;
  assert.equal(got.length, 3);
  const changed = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries: [
    ...got.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
    { Id: "bad", ReceiptHandle: "not-a-handle", VisibilityTimeout: 0 },
  ] }));
  assert.equal(changed.Successful.length, 3);
  assert.deepEqual(changed.Failed.map((f) => [f.Id, f.Code]), [["bad", "ReceiptHandleIsInvalid"]]);
  const back = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages;
  assert.deepEqual(back.map((m) => m.Body).sort(), ["b0", "b1", "b2"]);

  await sqs.send(new PurgeQueueCommand({ QueueUrl }));
  const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
  assert.equal(left.Attributes.ApproximateNumberOfMessages, "0");
  assert.equal(left.Attributes.ApproximateNumberOfMessagesNotVisible, "0");
  await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: "js-admin" })), QueueDoesNotExist);
});
