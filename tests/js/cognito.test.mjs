// Cognito user pools with the AWS SDK for JavaScript v3.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  CreateUserPoolClientCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  GetUserCommand,
  ListUsersCommand,
  NotAuthorizedException,
  paginateListUsers,
} from "@aws-sdk/client-cognito-identity-provider";
import { startStratus } from "./stratus.mjs";

let s;
let idp;

before(async () => {
  s = await startStratus();
  idp = new CognitoIdentityProviderClient(s.clientConfig);
});

after(async () => {
  assert.equal(await s.stop(), 0);
});

test("pools, users, password sign-in, GetUser, pagination and typed errors", async () => {
  const pool = (await idp.send(new CreateUserPoolCommand({ PoolName: "sdk" }))).UserPool;
  const client = (await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: pool.Id, ClientName: "c", ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    PreventUserExistenceErrors: "ENABLED",
  }))).UserPoolClient;
  for (const name of ["u1", "u2", "u3"]) {
    await idp.send(new AdminCreateUserCommand({ UserPoolId: pool.Id, Username: name, MessageAction: "SUPPRESS" }));
  }
  await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.Id, Username: "u1", Password: "Passw0rd!", Permanent: true }));
  const auth = await idp.send(new InitiateAuthCommand({
    ClientId: client.ClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: "u1", PASSWORD: "Passw0rd!" },
  }));
  assert.equal(auth.AuthenticationResult.TokenType, "Bearer");
  const me = await idp.send(new GetUserCommand({ AccessToken: auth.AuthenticationResult.AccessToken }));
  assert.equal(me.Username, "u1");
  const names = [];
  for await (const page of paginateListUsers({ client: idp, pageSize: 2 }, { UserPoolId: pool.Id })) {
    names.push(...page.Users.map((u) => u.Username));
  }
  assert.deepEqual(names.sort(), ["u1", "u2", "u3"]);
  const filtered = await idp.send(new ListUsersCommand({ UserPoolId: pool.Id, Filter: 'username = "u2"' }));
  assert.equal(filtered.Users.length, 1);
  await assert.rejects(
    idp.send(new InitiateAuthCommand({ ClientId: client.ClientId, AuthFlow: "USER_PASSWORD_AUTH",
                                       AuthParameters: { USERNAME: "ghost", PASSWORD: "Passw0rd!" } })),
    (err) => err instanceof NotAuthorizedException && err.message === "Incorrect username or password.");
});
