// Creates a pool, clients and a user for the benchmarks; prints their ids as JSON.
//   node setup.mjs <endpoint> <stratus|cognito-local>
const [endpoint, kind] = process.argv.slice(2);
const PASSWORD = "Bench-passw0rd!";
const USER = "bench@example.com";  // cognito-local pools take email usernames

async function api(op, body) {
  const r = await fetch(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${op}`,
               // cognito-local reads the region from a (not verified) credential scope.
               ...(kind === "cognito-local" ? { Authorization: "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00" } : {}) },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${op}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

const poolId = (await api("CreateUserPool", { PoolName: "bench" })).UserPool.Id;
const clientId = (await api("CreateUserPoolClient", {
  UserPoolId: poolId, ClientName: "bench",
  ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
})).UserPoolClient.ClientId;
await api("AdminCreateUser", { UserPoolId: poolId, Username: USER, MessageAction: "SUPPRESS",
                               TemporaryPassword: PASSWORD });
await api("AdminSetUserPassword", { UserPoolId: poolId, Username: USER, Password: PASSWORD, Permanent: true });
const auth = await api("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: clientId,
                                         AuthParameters: { USERNAME: USER, PASSWORD } });
const out = { poolId, clientId, username: USER, password: PASSWORD, accessToken: auth.AuthenticationResult.AccessToken };
if (kind === "stratus") {
  await api("CreateUserPoolDomain", { UserPoolId: poolId, Domain: "bench" });
  await api("CreateResourceServer", { UserPoolId: poolId, Identifier: "api", Name: "api",
                                      Scopes: [{ ScopeName: "read", ScopeDescription: "read" }] });
  const m = (await api("CreateUserPoolClient", {
    UserPoolId: poolId, ClientName: "machine", GenerateSecret: true, AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthFlows: ["client_credentials"], AllowedOAuthScopes: ["api/read"],
  })).UserPoolClient;
  out.machineBasic = Buffer.from(`${m.ClientId}:${m.ClientSecret}`).toString("base64");
}
console.log(JSON.stringify(out));
