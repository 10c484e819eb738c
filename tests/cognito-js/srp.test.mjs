// amazon-cognito-identity-js (the library Amplify builds on) against stratus's Cognito: sign-up,
// confirmation with the code from the outbox, SRP sign-in (USER_SRP_AUTH → PASSWORD_VERIFIER,
// which only succeeds when stratus computes SRP-6a byte for byte as the library does), refresh,
// attributes, password change, sign-out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} from "amazon-cognito-identity-js";
import { startStratus } from "../js/stratus.mjs";

let s;
let pool;
let poolId;
let clientId;

async function api(op, body) {
  const r = await fetch(s.endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${op}`,
    },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  if (r.status !== 200) throw new Error(`${op}: ${JSON.stringify(json)}`);
  return json;
}

async function lastCode(username) {
  const r = await fetch(`${s.endpoint}/_stratus/cognito/outbox?userPoolId=${poolId}&username=${username}`);
  const { messages } = await r.json();
  return messages.at(-1).Code;
}

const promisify = (fn) => new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

function signIn(username, password, flow) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  if (flow) user.setAuthenticationFlowType(flow);
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: reject,
      newPasswordRequired: () => reject(new Error("unexpected NEW_PASSWORD_REQUIRED")),
    });
  });
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

before(async () => {
  s = await startStratus();
  const created = await api("CreateUserPool", { PoolName: "js", AutoVerifiedAttributes: ["email"] });
  poolId = created.UserPool.Id;
  const client = await api("CreateUserPoolClient", {
    UserPoolId: poolId,
    ClientName: "web",
    ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
  });
  clientId = client.UserPoolClient.ClientId;
  pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint: s.endpoint });
});

after(async () => {
  assert.equal(await s.stop(), 0);
});

test("sign-up, confirm with the outbox code, SRP sign-in", async () => {
  const attrs = [new CognitoUserAttribute({ Name: "email", Value: "ada@example.com" })];
  const signedUp = await promisify((cb) => pool.signUp("ada", "Passw0rd!", attrs, null, cb));
  assert.equal(signedUp.userConfirmed, false);
  assert.equal(signedUp.codeDeliveryDetails.DeliveryMedium, "EMAIL");
  const code = await lastCode("ada");
  const user = new CognitoUser({ Username: "ada", Pool: pool });
  assert.equal(await promisify((cb) => user.confirmRegistration(code, true, cb)), "SUCCESS");

  const { session } = await signIn("ada", "Passw0rd!");
  assert.ok(session.isValid());
  const id = claims(session.getIdToken().getJwtToken());
  assert.equal(id["cognito:username"], "ada");
  assert.equal(id.email, "ada@example.com");
  assert.equal(id.email_verified, true);
  assert.equal(id.iss, `${s.endpoint}/${poolId}`);
  assert.equal(id.token_use, "id");
  const access = claims(session.getAccessToken().getJwtToken());
  assert.equal(access.client_id, clientId);
  assert.equal(access.token_use, "access");
  assert.equal(access.origin_jti, id.origin_jti);
});

test("SRP sign-in with a wrong password fails with Cognito's error", async () => {
  await assert.rejects(signIn("ada", "Wrong-passw0rd"), (err) => {
    assert.equal(err.code, "NotAuthorizedException");
    assert.equal(err.message, "Incorrect username or password.");
    return true;
  });
});

test("USER_PASSWORD_AUTH, refresh, attributes, password change, sign-out", async () => {
  const { user, session } = await signIn("ada", "Passw0rd!", "USER_PASSWORD_AUTH");
  const refreshed = await promisify((cb) => user.refreshSession(session.getRefreshToken(), cb));
  assert.ok(refreshed.getAccessToken().getJwtToken());
  const attributes = await promisify((cb) => user.getUserAttributes(cb));
  assert.equal(attributes.find((a) => a.Name === "email").Value, "ada@example.com");
  await promisify((cb) =>
    user.updateAttributes([new CognitoUserAttribute({ Name: "name", Value: "Ada L" })], cb));
  await promisify((cb) => user.changePassword("Passw0rd!", "Newer-passw0rd", cb));
  const again = await signIn("ada", "Newer-passw0rd");
  assert.equal(claims(again.session.getIdToken().getJwtToken()).name, "Ada L");
  await new Promise((resolve, reject) => again.user.globalSignOut({ onSuccess: resolve, onFailure: reject }));
  await assert.rejects(promisify((cb) => again.user.getUserAttributes(cb)), /revoked|NotAuthorized/);
});

test("forgot password with the outbox code, then SRP sign-in", async () => {
  const user = new CognitoUser({ Username: "ada", Pool: pool });
  await new Promise((resolve, reject) =>
    user.forgotPassword({ onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve }));
  const code = await lastCode("ada");
  await new Promise((resolve, reject) =>
    user.confirmPassword(code, "Reset-passw0rd", { onSuccess: resolve, onFailure: reject }));
  const { session } = await signIn("ada", "Reset-passw0rd");
  assert.ok(session.isValid());
});
