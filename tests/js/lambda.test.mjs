// Lambda through the AWS SDK for JavaScript v3, and a function run by AWS's own Node.js runtime
// interface client (aws-lambda-ric from npm) instead of stratus's bootstrap.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  PublishVersionCommand,
  CreateAliasCommand,
  ListFunctionsCommand,
  DeleteFunctionCommand,
  PutFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  DeleteFunctionConcurrencyCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionCodeCommand,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
  PublishLayerVersionCommand,
  ListLayerVersionsCommand,
  CreateFunctionUrlConfigCommand,
  PutFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  AddPermissionCommand,
  GetPolicyCommand,
  TagResourceCommand,
  ListTagsCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { request as httpRequest } from "node:http";
import { startStratus } from "./stratus.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const role = "arn:aws:iam::000000000000:role/lambda-role";
const decoder = new TextDecoder();

let stratus;
let lambda;
before(async () => {
  stratus = await startStratus();
  lambda = new LambdaClient(stratus.clientConfig);
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

// Zips a directory tree with the zip tool (keeps the executable bits).
function zipDir(dir) {
  const out = join(mkdtempSync(join(tmpdir(), "stratus-zip-")), "code.zip");
  execFileSync("zip", ["-qr", "-X", out, "."], { cwd: dir });
  const bytes = readFileSync(out);
  rmSync(dirname(out), { recursive: true, force: true });
  return bytes;
}

function zipFiles(files) {
  const dir = mkdtempSync(join(tmpdir(), "stratus-fn-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
    if (name === "bootstrap") chmodSync(join(dir, name), 0o755);
  }
  const bytes = zipDir(dir);
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

async function create(name, zip, extra = {}) {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Role: role, Code: { ZipFile: zip },
    Runtime: "nodejs24.x", Handler: "index.handler", ...extra,
  }));
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
}

async function invoke(name, payload, extra = {}) {
  const r = await lambda.send(new InvokeCommand({
    FunctionName: name, Payload: payload === undefined ? undefined : JSON.stringify(payload), ...extra,
  }));
  return { ...r, body: r.Payload && r.Payload.length ? JSON.parse(decoder.decode(r.Payload)) : undefined };
}

test("create, invoke, tail logs, versions and aliases", async () => {
  await create("js-echo", zipFiles({
    "index.mjs": "export const handler = async (event, context) => { console.log('got', event.n); return { n: event.n * 2, fn: context.functionName }; };\n",
  }));
  const fn = await lambda.send(new GetFunctionCommand({ FunctionName: "js-echo" }));
  assert.equal(fn.Configuration.State, "Active");
  const r = await invoke("js-echo", { n: 21 }, { LogType: "Tail" });
  assert.equal(r.StatusCode, 200);
  assert.deepEqual(r.body, { n: 42, fn: "js-echo" });
  assert.equal(r.ExecutedVersion, "$LATEST");
  const tail = Buffer.from(r.LogResult, "base64").toString();
  assert.match(tail, /START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
  assert.match(tail, /\tINFO\tgot 21/);
  assert.match(tail, /REPORT RequestId: .*Duration: [0-9.]+ ms/);

  const v = await lambda.send(new PublishVersionCommand({ FunctionName: "js-echo" }));
  assert.equal(v.Version, "1");
  await lambda.send(new CreateAliasCommand({ FunctionName: "js-echo", Name: "prod", FunctionVersion: "1" }));
  const viaAlias = await invoke("js-echo:prod", { n: 1 });
  assert.equal(viaAlias.ExecutedVersion, "1");
  assert.deepEqual(viaAlias.body, { n: 2, fn: "js-echo" });
  const list = await lambda.send(new ListFunctionsCommand({}));
  assert.ok(list.Functions.some((f) => f.FunctionName === "js-echo"));
});

test("errors: function errors, missing functions, throttling", async () => {
  await create("js-throw", zipFiles({
    "index.js": "exports.handler = async () => { const e = new Error('kaput'); e.name = 'CustomError'; throw e; };\n",
  }));
  const r = await invoke("js-throw", {});
  assert.equal(r.FunctionError, "Unhandled");
  assert.equal(r.body.errorType, "CustomError");
  assert.equal(r.body.errorMessage, "kaput");
  await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: "js-missing" })), ResourceNotFoundException);
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: "js-throw", ReservedConcurrentExecutions: 0 }));
  await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: "js-throw" })), (e) => {
    assert.ok(e instanceof TooManyRequestsException);
    assert.equal(e.Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
    return true;
  });
  await lambda.send(new DeleteFunctionCommand({ FunctionName: "js-throw" }));
});

// A function URL is addressed by its host name; the request goes to the server's own address.
function urlGet(functionUrl, path) {
  const host = new URL(functionUrl).host;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: stratus.port, path, headers: { Host: host } }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("lifecycle waiters, layers, URLs, weighted aliases, concurrency, async destinations, policies, tags", async () => {
  // A layer under /opt, read by the function.
  const layer = await lambda.send(new PublishLayerVersionCommand({
    LayerName: "js-shared", Content: { ZipFile: zipFiles({ "nodejs/node_modules/shared/index.js": "exports.word = 'from-layer';\n" }) },
    CompatibleRuntimes: ["nodejs24.x"],
  }));
  assert.equal(layer.Version, 1);
  const layers = await lambda.send(new ListLayerVersionsCommand({ LayerName: "js-shared" }));
  assert.equal(layers.LayerVersions.length, 1);
  await create("js-wide", zipFiles({
    "index.js": "const shared = require('shared');\n" +
      "exports.handler = async (event) => event.requestContext ? { statusCode: 200, body: JSON.stringify({ path: event.rawPath, word: shared.word, v: process.env.STAGE }) }\n" +
      "  : (event.fail ? Promise.reject(new TypeError('bad ' + event.id)) : { word: shared.word, v: process.env.STAGE, id: event.id });\n",
  }), { Layers: [layer.LayerVersionArn], Environment: { Variables: { STAGE: "one" } } });
  assert.deepEqual((await invoke("js-wide", { id: 1 })).body, { word: "from-layer", v: "one", id: 1 });

  // Configuration and code updates report InProgress, and the v2 waiter sees them finish.
  const upd = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "js-wide", Environment: { Variables: { STAGE: "two" } } }));
  assert.equal(upd.LastUpdateStatus, "InProgress");
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: "js-wide" });
  assert.equal((await invoke("js-wide", { id: 2 })).body.v, "two");
  const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: "js-wide" }));
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "js-wide", Environment: { Variables: { STAGE: "three" } } }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: "js-wide" });
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: "js-wide" }));
  const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "js-wide" }));
  assert.deepEqual(versions.Versions.map((v) => v.Version), ["$LATEST", v1.Version, v2.Version]);

  // An alias that sends about half its invocations to the second version.
  await lambda.send(new CreateAliasCommand({ FunctionName: "js-wide", Name: "live", FunctionVersion: v1.Version }));
  await lambda.send(new UpdateAliasCommand({
    FunctionName: "js-wide", Name: "live", RoutingConfig: { AdditionalVersionWeights: { [v2.Version]: 0.5 } },
  }));
  const seen = { two: 0, three: 0 };
  for (let i = 0; i < 40; i++) {
    const r = await invoke("js-wide", { id: i }, { Qualifier: "live" });
    seen[r.body.v] += 1;
    assert.equal(r.ExecutedVersion, r.body.v === "two" ? v1.Version : v2.Version);
  }
  assert.ok(seen.two > 3 && seen.three > 3, JSON.stringify(seen));

  // Reserved concurrency.
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: "js-wide", ReservedConcurrentExecutions: 5 }));
  assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: "js-wide" }))).ReservedConcurrentExecutions, 5);
  await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "js-wide" }));
  assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: "js-wide" }))).ReservedConcurrentExecutions, undefined);

  // A function URL with the payload format 2.0 event.
  const url = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: "js-wide", AuthType: "NONE" }));
  const got = await urlGet(url.FunctionUrl, "/some/path");
  assert.equal(got.status, 200, got.body);
  assert.deepEqual(JSON.parse(got.body), { path: "/some/path", word: "from-layer", v: "three" });

  // Event invokes: retries, then the failure record on an SQS destination; successes on another.
  const sqs = new SQSClient(stratus.clientConfig);
  const queueArn = async (name) => {
    const q = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ["QueueArn"] }));
    return { url: q.QueueUrl, arn: a.Attributes.QueueArn };
  };
  const okQueue = await queueArn("js-on-success");
  const failQueue = await queueArn("js-on-failure");
  await lambda.send(new PutFunctionEventInvokeConfigCommand({
    FunctionName: "js-wide", MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 600,
    DestinationConfig: { OnSuccess: { Destination: okQueue.arn }, OnFailure: { Destination: failQueue.arn } },
  }));
  const eic = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "js-wide" }));
  assert.equal(eic.MaximumRetryAttempts, 1);
  assert.equal((await invoke("js-wide", { id: "a" }, { InvocationType: "Event" })).StatusCode, 202);
  assert.equal((await invoke("js-wide", { id: "b", fail: true }, { InvocationType: "Event" })).StatusCode, 202);
  const receive = async (queueUrl) => {
    for (let i = 0; i < 60; i++) {
      const m = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
      if (m.Messages?.length) return JSON.parse(m.Messages[0].Body);
    }
    assert.fail(`nothing arrived on ${queueUrl}`);
  };
  const success = await receive(okQueue.url);
  assert.equal(success.requestContext.condition, "Success");
  assert.deepEqual(success.responsePayload, { word: "from-layer", v: "three", id: "a" });
  const failure = await receive(failQueue.url);
  assert.equal(failure.requestContext.condition, "RetriesExhausted");
  assert.equal(failure.requestContext.approximateInvokeCount, 2);
  assert.equal(failure.responsePayload.errorType, "TypeError");
  assert.equal(failure.responsePayload.errorMessage, "bad b");

  // Resource policies and tags.
  await lambda.send(new AddPermissionCommand({
    FunctionName: "js-wide", StatementId: "apigw", Action: "lambda:InvokeFunction", Principal: "apigateway.amazonaws.com",
  }));
  const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: "js-wide" }))).Policy);
  assert.equal(policy.Statement[0].Sid, "apigw");
  const arn = (await lambda.send(new GetFunctionCommand({ FunctionName: "js-wide" }))).Configuration.FunctionArn;
  await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { team: "core" } }));
  assert.equal((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags.team, "core");

  // New code through UpdateFunctionCode.
  await lambda.send(new UpdateFunctionCodeCommand({
    FunctionName: "js-wide", ZipFile: zipFiles({ "index.js": "exports.handler = async () => 'new code';\n" }),
  }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: "js-wide" });
  assert.equal((await invoke("js-wide", {})).body, "new code");
});

test("a function on the real aws-lambda-ric runtime interface client", async (t) => {
  const ric = join(here, "node_modules", "aws-lambda-ric");
  if (!existsSync(join(ric, "dist", "rapid-client.node"))) {
    assert.fail("aws-lambda-ric is not installed in tests/js (scripts/install-deps.sh installs it)");
  }
  const dir = mkdtempSync(join(tmpdir(), "stratus-ric-"));
  const pkg = join(dir, "node_modules", "aws-lambda-ric");
  mkdirSync(pkg, { recursive: true });
  for (const part of ["bin", "dist", "package.json"]) cpSync(join(ric, part), join(pkg, part), { recursive: true });
  writeFileSync(join(dir, "app.mjs"),
    "export const handler = async (event, context) => {\n" +
    "  console.log('ric says', event.word);\n" +
    "  if (event.fail) throw new RangeError('out of range');\n" +
    "  return { echoed: event.word, requestId: context.awsRequestId, left: context.getRemainingTimeInMillis() > 0 };\n" +
    "};\n");
  // provided.al2023: the package's bootstrap starts node with AWS's runtime interface client.
  writeFileSync(join(dir, "bootstrap"),
    "#!/bin/sh\ncd \"$LAMBDA_TASK_ROOT\"\nexec node node_modules/aws-lambda-ric/bin/index.mjs \"$_HANDLER\"\n");
  chmodSync(join(dir, "bootstrap"), 0o755);
  const zip = zipDir(dir);
  rmSync(dir, { recursive: true, force: true });
  await create("js-ric", zip, { Runtime: "provided.al2023", Handler: "app.handler", Timeout: 30, MemorySize: 256 });

  const ok = await invoke("js-ric", { word: "hello" }, { LogType: "Tail" });
  assert.equal(ok.StatusCode, 200, JSON.stringify(ok.body));
  assert.equal(ok.FunctionError, undefined, JSON.stringify(ok.body));
  assert.equal(ok.body.echoed, "hello");
  assert.match(ok.body.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(ok.body.left, true);
  assert.match(Buffer.from(ok.LogResult, "base64").toString(), /ric says hello/);

  const bad = await invoke("js-ric", { fail: true });
  assert.equal(bad.FunctionError, "Unhandled");
  assert.equal(bad.body.errorType, "RangeError");
  assert.equal(bad.body.errorMessage, "out of range");

  const again = await invoke("js-ric", { word: "warm" });
  assert.equal(again.body.echoed, "warm");
});
