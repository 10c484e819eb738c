// Step Functions through the AWS SDK for JavaScript v3 (@aws-sdk/client-sfn).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  SFNClient,
  CreateStateMachineCommand,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ValidateStateMachineDefinitionCommand,
  CreateActivityCommand,
  GetActivityTaskCommand,
  SendTaskSuccessCommand,
  InvalidDefinition,
  paginateGetExecutionHistory,
} from "@aws-sdk/client-sfn";
import { startStratus } from "./stratus.mjs";

const ROLE = "arn:aws:iam::000000000000:role/sfn";
let stratus;
let sfn;
before(async () => {
  stratus = await startStratus();
  // disableHostPrefix: StartSyncExecution's "sync-" host prefix cannot resolve on 127.0.0.1.
  sfn = new SFNClient({ ...stratus.clientConfig, disableHostPrefix: true });
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

async function waitDone(executionArn) {
  const deadline = Date.now() + 60000; // a count of polls would be a time bound on a loaded machine
  while (Date.now() < deadline) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== "RUNNING") return d;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("execution did not finish");
}

const machine = (definition, type = "STANDARD") =>
  sfn.send(new CreateStateMachineCommand({
    name: `js-${Math.random().toString(36).slice(2, 10)}`,
    definition: JSON.stringify(definition),
    roleArn: ROLE,
    type,
  }));

test("standard execution with Map, Choice and JSONata, and its history", async () => {
  const { stateMachineArn } = await machine({
    QueryLanguage: "JSONata",
    StartAt: "Double",
    States: {
      Double: {
        Type: "Map",
        Items: "{% $states.input.values %}",
        ItemProcessor: { StartAt: "X2", States: { X2: { Type: "Pass", Output: "{% $states.input * 2 %}", End: true } } },
        Output: "{% {'doubled': $states.result} %}",
        Next: "Check",
      },
      Check: {
        Type: "Choice",
        Choices: [{ Condition: "{% $sum($states.input.doubled) > 10 %}", Next: "Big" }],
        Default: "Small",
      },
      Big: { Type: "Succeed" },
      Small: { Type: "Fail", Error: "TooSmall" },
    },
  });
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ values: [1, 2, 3] }) }));
  const d = await waitDone(executionArn);
  assert.equal(d.status, "SUCCEEDED");
  assert.deepEqual(JSON.parse(d.output), { doubled: [2, 4, 6] });
  const types = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 5 }, { executionArn })) {
    for (const e of page.events) types.push(e.type);
  }
  assert.equal(types[0], "ExecutionStarted");
  assert.equal(types.filter((t) => t === "MapIterationSucceeded").length, 3);
  assert.equal(types.at(-1), "ExecutionSucceeded");
  const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
  assert.ok(h.events[0].timestamp instanceof Date);
  const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
  assert.equal(list.executions.length, 1);
});

test("invalid definitions are refused with AWS's error", async () => {
  await assert.rejects(
    machine({ StartAt: "A", States: { A: { Type: "Pass", Next: "B" } } }),
    (e) => e instanceof InvalidDefinition && /MISSING_TRANSITION_TARGET/.test(e.message),
  );
  const v = await sfn.send(new ValidateStateMachineDefinitionCommand({
    definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Bogus" } } }),
  }));
  assert.equal(v.result, "FAIL");
  assert.equal(v.diagnostics[0].code, "SCHEMA_VALIDATION_FAILED");
  assert.equal(v.diagnostics[0].location, "/States/A/Type");
});

test("express StartSyncExecution", async () => {
  const { stateMachineArn } = await machine(
    { StartAt: "P", States: { P: { Type: "Pass", Parameters: { "greeting.$": "States.Format('hi {}', $.who)" }, End: true } } },
    "EXPRESS",
  );
  const r = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn, input: JSON.stringify({ who: "js" }) }));
  assert.equal(r.status, "SUCCEEDED");
  assert.deepEqual(JSON.parse(r.output), { greeting: "hi js" });
});

test("activity worker round trip", async () => {
  const { activityArn } = await sfn.send(new CreateActivityCommand({ name: "js-worker" }));
  const { stateMachineArn } = await machine({ StartAt: "T", States: { T: { Type: "Task", Resource: activityArn, End: true } } });
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: "{\"n\":1}" }));
  const task = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: "js" }));
  assert.deepEqual(JSON.parse(task.input), { n: 1 });
  await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: "{\"ok\":true}" }));
  const d = await waitDone(executionArn);
  assert.equal(d.status, "SUCCEEDED");
  assert.deepEqual(JSON.parse(d.output), { ok: true });
});
