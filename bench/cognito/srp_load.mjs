// SRP sign-ins per second (InitiateAuth USER_SRP_AUTH + RespondToAuthChallenge PASSWORD_VERIFIER)
// against a cognito-idp endpoint. The client's 3072-bit exponentiations run in OpenSSL through
// node's Diffie-Hellman objects, so the client is not the bottleneck.
//   node srp_load.mjs <endpoint> <poolId> <clientId> <username> <password> <seconds> <concurrency>
import { createDiffieHellman, createHash, createHmac, randomBytes } from "node:crypto";
import http from "node:http";

const [endpoint, poolId, clientId, username, password, seconds = "10", concurrency = "8"] = process.argv.slice(2);
const N = BigInt("0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
  "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
  "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF");
const NBuf = Buffer.from(N.toString(16), "hex");
const poolName = poolId.split("_")[1];

const hex = (n) => n.toString(16);
function pad(n) {
  let h = hex(n);
  if (h.length % 2) h = "0" + h;
  else if ("89abcdef".includes(h[0])) h = "00" + h;
  return Buffer.from(h, "hex");
}
const big = (buf) => BigInt("0x" + (buf.length ? buf.toString("hex") : "0"));
const sha = (b) => createHash("sha256").update(b).digest();
const toBuf = (n) => Buffer.from(hex(n).padStart(hex(n).length + (hex(n).length % 2), "0"), "hex");
function modPow(base, exp) {  // OpenSSL's modexp via a DH object with prime N
  const dh = createDiffieHellman(NBuf, Buffer.from([2]));
  dh.setPrivateKey(toBuf(exp));
  return big(dh.computeSecret(toBuf(base)));
}
const k = big(sha(Buffer.concat([pad(N), pad(2n)])));

function ts() {
  const d = new Date();
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (x) => String(x).padStart(2, "0");
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${d.getUTCDate()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
function call(op, body) {
  const url = new URL(endpoint);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: "/", method: "POST", agent, headers: {
      "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${op}`,
      "Content-Length": Buffer.byteLength(data) } }, (res) => {
      let buf = "";
      res.on("data", (c) => (buf += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(buf)) : reject(new Error(`${op} ${res.statusCode} ${buf}`))));
    });
    req.on("error", reject);
    req.end(data);
  });
}

// The client's secret a (and so A) and g^x are computed once per run: the server still does all
// of its work per sign-in (fresh b, B, u, S), while the load generator spends one exponentiation
// per sign-in instead of three.
const a = big(randomBytes(32));
const A = modPow(2n, a);
const gxCache = new Map();
async function signIn() {
  const init = await call("InitiateAuth", { AuthFlow: "USER_SRP_AUTH", ClientId: clientId,
                                            AuthParameters: { USERNAME: username, SRP_A: hex(A) } });
  const p = init.ChallengeParameters;
  const B = BigInt("0x" + p.SRP_B);
  const salt = BigInt("0x" + p.SALT);
  const u = big(sha(Buffer.concat([pad(A), pad(B)])));
  const inner = sha(Buffer.from(`${poolName}${p.USER_ID_FOR_SRP}:${password}`));
  const x = big(sha(Buffer.concat([pad(salt), inner])));
  if (!gxCache.has(x)) gxCache.set(x, modPow(2n, x));
  const base = (((B - k * gxCache.get(x)) % N) + N) % N;
  const S = modPow(base, a + u * x);
  const prk = createHmac("sha256", pad(u)).update(pad(S)).digest();
  const key = createHmac("sha256", prk).update(Buffer.concat([Buffer.from("Caldera Derived Key"), Buffer.from([1])])).digest().subarray(0, 16);
  const timestamp = ts();
  const sig = createHmac("sha256", key).update(Buffer.concat([Buffer.from(poolName), Buffer.from(p.USER_ID_FOR_SRP),
    Buffer.from(p.SECRET_BLOCK, "base64"), Buffer.from(timestamp)])).digest("base64");
  const done = await call("RespondToAuthChallenge", { ChallengeName: "PASSWORD_VERIFIER", ClientId: clientId, Session: init.Session,
    ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp,
                          PASSWORD_CLAIM_SIGNATURE: sig } });
  if (!done.AuthenticationResult?.AccessToken) throw new Error("no tokens");
}

const deadline = Date.now() + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (Date.now() < deadline) {
    try { await signIn(); ok++; } catch (e) { failed++; if (failed < 3) console.error(String(e).slice(0, 300)); }
  }
}));
const secs = (Date.now() - started) / 1000;
console.log(JSON.stringify({ signins: ok, failed, seconds: secs, per_second: +(ok / secs).toFixed(1) }));
agent.destroy();
