// SNS through the AWS SDK for JavaScript v3, delivering to SQS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand, PublishBatchCommand,
  SetSubscriptionAttributesCommand, GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand,
  NotFoundException, InvalidParameterException, GetTopicAttributesCommand, SetTopicAttributesCommand,
  TagResourceCommand, ListTagsForResourceCommand, UnsubscribeCommand, ListTopicsCommand, DeleteTopicCommand,
} from "@aws-sdk/client-sns";
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageCommand } from "@aws-sdk/client-sqs";
import { startStratus } from "./stratus.mjs";

let stratus;
let sns;
let sqs;
before(async () => {
  stratus = await startStratus();
  sns = new SNSClient(stratus.clientConfig);
  sqs = new SQSClient(stratus.clientConfig);
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

async function queue(name) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes.QueueArn;
  return { QueueUrl, arn };
}

async function receiveAll(QueueUrl, want) {
  let got = [];
  const deadline = Date.now() + 10000;
  while (got.length < want && Date.now() < deadline) {
    got = got.concat((await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }))).Messages ?? []);
  }
  return got;
}

test("publish to SQS with a filter policy", async () => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "js-topic" }));
  const q = await queue("js-sub");
  const { SubscriptionArn } = await sns.send(new SubscribeCommand({
    TopicArn, Protocol: "sqs", Endpoint: q.arn, ReturnSubscriptionArn: true,
    Attributes: { RawMessageDelivery: "true", FilterPolicy: JSON.stringify({ color: ["red", { prefix: "bl" }] }) },
  }));
  const attrs = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }))).Attributes;
  assert.equal(attrs.RawMessageDelivery, "true");
  assert.equal(attrs.FilterPolicyScope, "MessageAttributes");
  for (const color of ["red", "green", "blue"]) {
    await sns.send(new PublishCommand({ TopicArn, Message: color, MessageAttributes: { color: { DataType: "String", StringValue: color } } }));
  }
  const got = await receiveAll(q.QueueUrl, 2);
  assert.deepEqual(got.map((m) => m.Body).sort(), ["blue", "red"]);
  assert.equal(got[0].MessageAttributes.color.DataType, "String");
  const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
  assert.equal(subs.Subscriptions[0].SubscriptionArn, SubscriptionArn);
});

test("batch publish, body filtering and errors", async () => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "js-body" }));
  const q = await queue("js-body");
  const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: q.arn, ReturnSubscriptionArn: true }));
  await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName: "FilterPolicyScope", AttributeValue: "MessageBody" }));
  await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName: "FilterPolicy", AttributeValue: JSON.stringify({ order: { total: [{ numeric: [">", 100] }] } }) }));
  const r = await sns.send(new PublishBatchCommand({
    TopicArn,
    PublishBatchRequestEntries: [50, 150, 250].map((total, i) => ({ Id: `${i}`, Message: JSON.stringify({ order: { total } }) })),
  }));
  assert.equal(r.Successful.length, 3);
  const got = await receiveAll(q.QueueUrl, 2);
  assert.deepEqual(got.map((m) => JSON.parse(JSON.parse(m.Body).Message).order.total).sort(), [150, 250]);
  await assert.rejects(sns.send(new PublishCommand({ TopicArn: TopicArn + "-nope", Message: "x" })), (e) => e instanceof NotFoundException);
  await assert.rejects(
    sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName: "FilterPolicy", AttributeValue: JSON.stringify({ a: [{ exists: "yes" }] }) })),
    (e) => e instanceof InvalidParameterException && e.message === "Invalid parameter: FilterPolicy: exists match pattern must be either true or false.",
  );
});

test("FIFO topic to a FIFO queue in order, topic attributes, tags, unsubscribe, delete", async () => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({
    Name: "js-orders.fifo", Attributes: { FifoTopic: "true", ContentBasedDeduplication: "true" },
  }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-orders.fifo", Attributes: { FifoQueue: "true" } }));
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes.QueueArn;
  const { SubscriptionArn } = await sns.send(new SubscribeCommand({
    TopicArn, Protocol: "sqs", Endpoint: arn, Attributes: { RawMessageDelivery: "true" },
  }));
  const seqs = [];
  for (const body of ["o1", "o2", "o3", "o2"]) {
    seqs.push((await sns.send(new PublishCommand({ TopicArn, Message: body, MessageGroupId: "g" }))).SequenceNumber);
  }
  assert.ok(BigInt(seqs[0]) < BigInt(seqs[1]) && BigInt(seqs[1]) < BigInt(seqs[2]));
  const got = [];
  const deadline = Date.now() + 10000;
  while (got.length < 3 && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of r.Messages ?? []) {
      got.push(m.Body);
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  assert.deepEqual(got, ["o1", "o2", "o3"]);  // in order; the repeated o2 deduplicated

  await sns.send(new SetTopicAttributesCommand({ TopicArn, AttributeName: "DisplayName", AttributeValue: "Orders" }));
  const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn }))).Attributes;
  assert.equal(attrs.DisplayName, "Orders");
  assert.equal(attrs.FifoTopic, "true");
  await sns.send(new TagResourceCommand({ ResourceArn: TopicArn, Tags: [{ Key: "team", Value: "a" }] }));
  assert.deepEqual((await sns.send(new ListTagsForResourceCommand({ ResourceArn: TopicArn }))).Tags, [{ Key: "team", Value: "a" }]);
  await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
  assert.deepEqual((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions, []);
  await sns.send(new DeleteTopicCommand({ TopicArn }));
  const topics = (await sns.send(new ListTopicsCommand({}))).Topics.map((t) => t.TopicArn);
  assert.ok(!topics.includes(TopicArn));
});
