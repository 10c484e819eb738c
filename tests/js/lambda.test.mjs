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
  ResourceNotFoundException,
  TooManyRequestsException,
  waitUntilFunctionActiveV2,
} from "@aws-sdk/client-lambda";
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
