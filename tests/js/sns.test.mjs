// SNS through the AWS SDK for JavaScript v3, delivering to SQS and to HTTP endpoints whose
// signatures a third-party verifier (npm sns-validator) checks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createVerify, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import MessageValidator from "sns-validator";
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
  const deadline = Date.now() + 30000;
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
  const deadline = Date.now() + 30000;
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

// sns-validator (AWS's own JS validator) accepts only an https: SigningCertURL on a trusted host and
// fetches the certificate with https.get. Stratus speaks plain HTTP, so this test puts it behind a
// TLS-terminating front (as a deployment would) and tells it so with --external-url; the test
// process trusts the front's self-signed certificate the way a subscriber trusts its CA.
function tlsFront() {
  const dir = mkdtempSync(join(tmpdir(), "stratus-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  const key = readFileSync(join(dir, "key.pem"));
  const cert = readFileSync(join(dir, "cert.pem"));
  rmSync(dir, { recursive: true, force: true });
  const front = { backendPort: 0, certFetches: 0, cert };
  front.server = https.createServer({ key, cert }, (req, res) => {
    if (/^\/_stratus\/sns\/.*\.pem$/.test(req.url)) front.certFetches++;
    const up = http.request({ host: "127.0.0.1", port: front.backendPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
  });
  return front;
}

// An HTTP subscription endpoint that records every delivery.
function subscriber() {
  const sub = { received: [], waiters: [] };
  sub.server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      res.end("ok");
      sub.received.push({ headers: req.headers, body });
      sub.waiters = sub.waiters.filter((w) => !w());
    });
  });
  sub.next = (i) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no delivery #${i} (got ${sub.received.length})`)), 30000);
    const check = () => {
      if (sub.received.length <= i) return false;
      clearTimeout(timer);
      resolve(sub.received[i]);
      return true;
    };
    if (!check()) sub.waiters.push(check);
  });
  return sub;
}

const listen = (server) => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
const close = (server) => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });

test("HTTP deliveries pass sns-validator: SubscriptionConfirmation and Notification, SignatureVersion 1 and 2; tampering fails", async () => {
  const front = tlsFront();
  const frontPort = await listen(front.server);
  const sub = subscriber();
  const subPort = await listen(sub.server);
  const signed = await startStratus(["--external-url", `https://127.0.0.1:${frontPort}`]);
  front.backendPort = signed.port;
  const savedCa = https.globalAgent.options.ca;
  https.globalAgent.options.ca = [front.cert];
  const validator = new MessageValidator(/^127\.0\.0\.1:\d+$/);
  const validate = (msg) => new Promise((resolve, reject) => validator.validate(msg, (err, m) => (err ? reject(err) : resolve(m))));
  const invalid = (e) => e.message === "The message signature is invalid.";
  const client = new SNSClient(signed.clientConfig);
  try {
    let n = 0;
    for (const version of ["1", "2"]) {
      const { TopicArn } = await client.send(new CreateTopicCommand({ Name: `js-signed-${version}`, Attributes: { SignatureVersion: version } }));
      await client.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: `http://127.0.0.1:${subPort}/hook` }));

      const c = await sub.next(n++);
      assert.equal(c.headers["x-amz-sns-message-type"], "SubscriptionConfirmation");
      const confirm = JSON.parse(c.body);
      assert.equal(confirm.SignatureVersion, version);
      assert.ok(confirm.SigningCertURL.startsWith(`https://127.0.0.1:${frontPort}/_stratus/sns/`), confirm.SigningCertURL);
      assert.equal((await validate(c.body)).Token, confirm.Token);
      await assert.rejects(validate({ ...confirm, Token: confirm.Token.replace(/.$/, (x) => (x === "0" ? "1" : "0")) }), invalid);
      await assert.rejects(validate({ ...confirm, TopicArn: TopicArn + "x" }), invalid);
      // The subscriber confirms by visiting the SubscribeURL (over the same https front).
      const status = await new Promise((resolve, reject) => https.get(confirm.SubscribeURL, (r) => { r.resume(); resolve(r.statusCode); }).on("error", reject));
      assert.equal(status, 200);
      const subs = (await client.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions;
      assert.ok(subs[0].SubscriptionArn.startsWith(TopicArn + ":"), subs[0].SubscriptionArn);

      await client.send(new PublishCommand({
        TopicArn, Subject: "greeting", Message: "héllo ✓ \"quoted\"\nline two",
        MessageAttributes: { color: { DataType: "String", StringValue: "red" } },
      }));
      const d1 = await sub.next(n++);
      assert.equal(d1.headers["x-amz-sns-message-type"], "Notification");
      assert.equal(d1.headers["x-amz-sns-subscription-arn"], subs[0].SubscriptionArn);
      const note = JSON.parse(d1.body);
      assert.equal(note.SignatureVersion, version);
      assert.equal((await validate(d1.body)).Message, "héllo ✓ \"quoted\"\nline two");
      await assert.rejects(validate({ ...note, Message: "forged" }), invalid);
      await assert.rejects(validate({ ...note, Subject: "other" }), invalid);
      await assert.rejects(validate({ ...note, Timestamp: "2001-01-01T00:00:00.000Z" }), invalid);
      // The signature is over the digest SignatureVersion names: claiming the other one fails.
      await assert.rejects(validate({ ...note, SignatureVersion: version === "1" ? "2" : "1" }), invalid);

      await client.send(new PublishCommand({ TopicArn, Message: "no subject" }));  // Subject left out of the signed string
      const d2 = await sub.next(n++);
      const plain = JSON.parse(d2.body);
      assert.ok(!("Subject" in plain));
      assert.equal((await validate(d2.body)).Message, "no subject");
      await assert.rejects(validate({ ...plain, Subject: "added" }), invalid);

      // Unsubscribing posts a signed UnsubscribeConfirmation.
      await client.send(new UnsubscribeCommand({ SubscriptionArn: subs[0].SubscriptionArn }));
      const u = await sub.next(n++);
      assert.equal(u.headers["x-amz-sns-message-type"], "UnsubscribeConfirmation");
      const bye = JSON.parse(u.body);
      assert.equal(bye.SignatureVersion, version);
      assert.ok(bye.SubscribeURL.includes("Action=ConfirmSubscription"), bye.SubscribeURL);
      // sns-validator 0.3.5 checks an UnsubscribeConfirmation against the Notification field list
      // (without Token), unlike AWS's documented signed fields (those of SubscriptionConfirmation,
      // which AWS signs), so it cannot check this type: verify it with node's crypto against the
      // certificate the validator fetched, over AWS's documented canonical string.
      const verifyConfirmation = async (msg) => {
        const pem = await new Promise((resolve, reject) => https.get(msg.SigningCertURL, (r) => {
          let b = "";
          r.on("data", (c) => { b += c; });
          r.on("end", () => resolve(b));
        }).on("error", reject));
        const keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
        const v = createVerify(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
        v.update(keys.filter((k) => k in msg).map((k) => `${k}\n${msg[k]}\n`).join(""), "utf8");
        return v.verify(new X509Certificate(pem).publicKey, msg.Signature, "base64");
      };
      assert.equal(await verifyConfirmation(bye), true);
      assert.equal(await verifyConfirmation({ ...bye, Message: "forged" }), false);
      assert.equal(await verifyConfirmation({ ...bye, Token: bye.Token.replace(/.$/, (x) => (x === "0" ? "1" : "0")) }), false);
      // The same check passes a SubscriptionConfirmation sns-validator accepted (it is not lax).
      assert.equal(await verifyConfirmation(confirm), true);
    }
    assert.ok(front.certFetches >= 1, "the validator fetched the certificate from stratus");
  } finally {
    https.globalAgent.options.ca = savedCa;
    await close(sub.server);
    assert.equal(await signed.stop(), 0);
    await close(front.server);
  }
});
