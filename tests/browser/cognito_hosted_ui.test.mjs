// The Cognito hosted UI in a real browser: Debian's Chromium (headless), driven by
// playwright-core. A user signs up on the hosted page, confirms with the code from the outbox,
// signs in, and the app exchanges the authorization code with its PKCE verifier for tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { startStratus } from "../js/stratus.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let s;
let browser;
let app;        // a tiny "single-page app" origin that receives the redirect
let appUrl;

async function api(op, body) {
  const r = await fetch(s.endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${op}` },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  if (r.status !== 200) throw new Error(`${op}: ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  s = await startStratus();
  app = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!doctype html><title>app</title><p id=done>signed in</p>");
  });
  await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
  appUrl = `http://localhost:${app.address().port}/callback`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
           "--disable-extensions", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  app?.close();
  assert.equal(await s.stop(), 0);
});

test("sign up, confirm and sign in on the hosted UI; code + PKCE exchange", async () => {
  const poolId = (await api("CreateUserPool", { PoolName: "browser", AutoVerifiedAttributes: ["email"] })).UserPool.Id;
  await api("CreateUserPoolDomain", { UserPoolId: poolId, Domain: "browser-app" });
  const clientId = (await api("CreateUserPoolClient", {
    UserPoolId: poolId, ClientName: "spa", AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ["code"],
    AllowedOAuthScopes: ["openid", "email"], CallbackURLs: [appUrl], SupportedIdentityProviders: ["COGNITO"],
  })).UserPoolClient.ClientId;

  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const base = `${s.endpoint}/_cognito/browser-app`;
  const authorize = `${base}/oauth2/authorize?` + new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: appUrl, scope: "openid email", state: "xyz",
    code_challenge: challenge, code_challenge_method: "S256",
  });

  const page = await browser.newPage();
  await page.goto(authorize);
  assert.equal(await page.title(), "Sign in");
  await page.click("#signup-link");
  await page.fill("#username", "walter");
  await page.fill("#email", "walter@example.com");
  await page.fill("#password", "Passw0rd!");
  await page.click("#signup-button");
  await page.waitForSelector("#code");
  const outbox = await (await fetch(`${s.endpoint}/_stratus/cognito/outbox?userPoolId=${poolId}&username=walter`)).json();
  await page.fill("#code", outbox.messages.at(-1).Code);
  await page.click("#confirm-button");

  // Back on the sign-in page: a wrong password first, then the right one.
  await page.fill("#username", "walter");
  await page.fill("#password", "not-it");
  await page.click("#signin");
  assert.equal((await page.textContent("#error")).trim(), "Incorrect username or password.");
  await page.fill("#username", "walter");
  await page.fill("#password", "Passw0rd!");
  await Promise.all([page.waitForURL((u) => u.href.startsWith(appUrl)), page.click("#signin")]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get("state"), "xyz");
  const code = landed.searchParams.get("code");
  assert.ok(code);

  const token = await fetch(`${base}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: clientId, code, redirect_uri: appUrl,
                                code_verifier: verifier }),
  });
  assert.equal(token.status, 200);
  const tokens = await token.json();
  const claims = JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url"));
  assert.equal(claims["cognito:username"], "walter");
  assert.equal(claims.email, "walter@example.com");

  // The hosted UI remembers the browser: authorize again signs in without the form.
  await Promise.all([page.waitForURL((u) => u.href.startsWith(appUrl)), page.goto(authorize)]);
  assert.ok(new URL(page.url()).searchParams.get("code"));
  await page.close();
});
