// API Gateway REST and HTTP APIs through the AWS SDK for JavaScript v3, with the data plane
// driven by fetch: a CDK-style REST API (resource by resource, MOCK), a SAM-style import,
// API keys with a usage plan, and an HTTP API with routes, CORS and a stage.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  APIGatewayClient,
  CreateRestApiCommand,
  GetResourcesCommand,
  CreateResourceCommand,
  PutMethodCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  CreateDeploymentCommand,
  GetRestApiCommand,
  ImportRestApiCommand,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  NotFoundException,
  ConflictException,
} from "@aws-sdk/client-api-gateway";
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  GetRoutesCommand,
  BadRequestException,
} from "@aws-sdk/client-apigatewayv2";
import { createServer } from "node:http";
import { startStratus } from "./stratus.mjs";

let stratus;
let upstream;
let upstreamUrl;
before(async () => {
  stratus = await startStratus();
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
});
after(async () => {
  upstream.close();
  assert.equal(await stratus.stop(), 0);
});

function execute(apiId, path, init = {}) {
  // fetch cannot set Host; the path form reaches the same data plane.
  return fetch(`${stratus.endpoint}/_aws/execute-api/${apiId}${path}`, init);
}

async function mockApi(ag, name, extra = {}) {
  const api = await ag.send(new CreateRestApiCommand({ name }));
  const root = (await ag.send(new GetResourcesCommand({ restApiId: api.id }))).items.find(
    (r) => r.path === "/",
  );
  const res = await ag.send(
    new CreateResourceCommand({ restApiId: api.id, parentId: root.id, pathPart: "hello" }),
  );
  await ag.send(
    new PutMethodCommand({
      restApiId: api.id,
      resourceId: res.id,
      httpMethod: "GET",
      authorizationType: "NONE",
      ...extra,
    }),
  );
  await ag.send(
    new PutIntegrationCommand({
      restApiId: api.id,
      resourceId: res.id,
      httpMethod: "GET",
      type: "MOCK",
      requestTemplates: { "application/json": '{"statusCode": 200}' },
    }),
  );
  await ag.send(
    new PutIntegrationResponseCommand({
      restApiId: api.id,
      resourceId: res.id,
      httpMethod: "GET",
      statusCode: "200",
      responseTemplates: { "application/json": '{"greeting": "hi"}' },
    }),
  );
  await ag.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: "prod" }));
  return api.id;
}

test("REST API built resource by resource serves MOCK responses", async () => {
  const ag = new APIGatewayClient(stratus.clientConfig);
  const id = await mockApi(ag, "js-mock");
  const r = await execute(id, "/prod/hello");
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { greeting: "hi" });
  assert.ok(r.headers.get("x-amzn-requestid"));
  const missing = await execute(id, "/prod/nope");
  assert.equal(missing.status, 403);
  assert.deepEqual(await missing.json(), { message: "Missing Authentication Token" });
  await assert.rejects(ag.send(new GetRestApiCommand({ restApiId: "nope" })), NotFoundException);
  await assert.rejects(
    ag.send(new CreateResourceCommand({ restApiId: id, parentId: "x", pathPart: "y" })),
    NotFoundException,
  );
});

test("SAM-style OpenAPI import", async () => {
  const ag = new APIGatewayClient(stratus.clientConfig);
  const doc = {
    openapi: "3.0.1",
    info: { title: "sam-api", version: "1" },
    paths: {
      "/up/{proxy+}": {
        "x-amazon-apigateway-any-method": {
          parameters: [{ name: "proxy", in: "path", required: true }],
          "x-amazon-apigateway-integration": {
            type: "http_proxy",
            httpMethod: "ANY",
            uri: `${upstreamUrl}/{proxy}`,
            requestParameters: { "integration.request.path.proxy": "method.request.path.proxy" },
          },
        },
      },
    },
  };
  const api = await ag.send(
    new ImportRestApiCommand({ body: new TextEncoder().encode(JSON.stringify(doc)) }),
  );
  assert.equal(api.name, "sam-api");
  await ag.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: "Prod" }));
  const r = await execute(api.id, "/Prod/up/a/b?x=1", { method: "POST", body: "payload" });
  assert.equal(r.status, 200);
  const seen = await r.json();
  assert.equal(seen.method, "POST");
  assert.equal(seen.url, "/a/b?x=1");
  assert.equal(seen.body, "payload");
});

test("API keys and usage plans", async () => {
  const ag = new APIGatewayClient(stratus.clientConfig);
  const id = await mockApi(ag, "js-keys", { apiKeyRequired: true });
  assert.equal((await execute(id, "/prod/hello")).status, 403);
  const key = await ag.send(new CreateApiKeyCommand({ name: "js", enabled: true }));
  assert.equal(key.value.length, 40);
  await assert.rejects(
    ag.send(new CreateApiKeyCommand({ name: "dup", value: key.value })),
    ConflictException,
  );
  const plan = await ag.send(
    new CreateUsagePlanCommand({ name: "js-plan", apiStages: [{ apiId: id, stage: "prod" }] }),
  );
  await ag.send(
    new CreateUsagePlanKeyCommand({ usagePlanId: plan.id, keyId: key.id, keyType: "API_KEY" }),
  );
  const ok = await execute(id, "/prod/hello", { headers: { "x-api-key": key.value } });
  assert.equal(ok.status, 200);
});

test("HTTP API with routes, a stage and CORS", async () => {
  const v2 = new ApiGatewayV2Client(stratus.clientConfig);
  const api = await v2.send(
    new CreateApiCommand({
      Name: "js-http",
      ProtocolType: "HTTP",
      CorsConfiguration: { AllowOrigins: ["https://web.example"], AllowMethods: ["GET"] },
    }),
  );
  const integ = await v2.send(
    new CreateIntegrationCommand({
      ApiId: api.ApiId,
      IntegrationType: "HTTP_PROXY",
      IntegrationMethod: "GET",
      IntegrationUri: `${upstreamUrl}/items/{id}`,
      PayloadFormatVersion: "1.0",
    }),
  );
  await v2.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: "GET /items/{id}",
      Target: `integrations/${integ.IntegrationId}`,
    }),
  );
  await assert.rejects(
    v2.send(new CreateRouteCommand({ ApiId: api.ApiId, RouteKey: "GET no-slash" })),
    BadRequestException,
  );
  await v2.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: "live", AutoDeploy: true }));
  assert.equal((await v2.send(new GetRoutesCommand({ ApiId: api.ApiId }))).Items.length, 1);
  const r = await execute(api.ApiId, "/live/items/9", { headers: { origin: "https://web.example" } });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).url, "/items/9");
  assert.equal(r.headers.get("access-control-allow-origin"), "https://web.example");
  const pre = await execute(api.ApiId, "/live/items/9", {
    method: "OPTIONS",
    headers: { origin: "https://web.example", "access-control-request-method": "GET" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-methods"), "GET");
  const nf = await execute(api.ApiId, "/live/other");
  assert.equal(nf.status, 404);
  assert.deepEqual(await nf.json(), { message: "Not Found" });
});
