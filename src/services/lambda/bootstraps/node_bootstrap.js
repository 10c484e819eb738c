// Stratus's Node.js runtime: speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and runs the
// handler named by _HANDLER ("file.function"; file may contain '/', and be .js, .mjs or .cjs).
// Written for stratus; embedded in the stratus binary and written out when the server starts.
"use strict";
const net = require("node:net");
const path = require("node:path");
const fs = require("node:fs");
const util = require("node:util");
const { pathToFileURL } = require("node:url");

const [HOST, PORT] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const i = api.lastIndexOf(":");
  return [api.slice(0, i), Number(api.slice(i + 1))];
})();
const PREFIX = "/2018-06-01/runtime";

// A minimal HTTP/1.1 client on one keep-alive connection: the Runtime API is one request at a
// time with Content-Length bodies, and node's http module costs more than the rest of an
// invocation.
class RuntimeClient {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.socket = null;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ host: this.host, port: this.port }, resolve);
      s.setNoDelay(true);
      s.on("data", (d) => {
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
        this.pump();
      });
      const fail = (e) => {
        const w = this.waiter;
        this.waiter = null;
        this.socket = null;
        this.buf = Buffer.alloc(0);
        if (w) w.reject(e);
        else reject(e);
      };
      s.on("error", fail);
      s.on("close", () => fail(new Error("Runtime API connection closed")));
      this.socket = s;
    });
  }

  pump() {
    if (!this.waiter) return;
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const lines = this.buf.toString("utf8", 0, end).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(":");
      if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.subarray(end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const w = this.waiter;
    this.waiter = null;
    w.resolve({ status, headers, body });
  }

  async request(method, urlPath, body, headers) {
    if (!this.socket) await this.connect();
    const data = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
    let head = `${method} ${PREFIX}${urlPath} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += `Content-Length: ${data ? data.length : 0}\r\n\r\n`;
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(data ? Buffer.concat([Buffer.from(head, "utf8"), data]) : head);
      this.pump();
    });
  }
}

const client = new RuntimeClient(HOST, PORT);

async function call(method, urlPath, body, headers = {}) {
  try {
    return await client.request(method, urlPath, body, headers);
  } catch (e) {
    // One reconnect: the server may have closed an idle keep-alive connection.
    return client.request(method, urlPath, body, headers);
  }
}

// console.* as Lambda formats it: "<ISO time>\t<request id>\t<LEVEL>\t<message>", one event per
// call (newlines inside a message become carriage returns).
let currentRequestId = undefined;
function patchConsole() {
  const write = (level) => (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId ?? "undefined"}\t${level}\t${util.format(...args)}`;
    process.stdout.write(line.replace(/\n/g, "\r") + "\n");
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
}

function errorBody(err, fallbackType = "Error") {
  if (err instanceof Error) {
    return {
      errorType: err.name && err.name !== "Error" ? err.name : (err.constructor?.name ?? fallbackType),
      errorMessage: err.message,
      trace: (err.stack ?? "").split("\n"),
    };
  }
  let message;
  try { message = typeof err === "string" ? err : JSON.stringify(err); } catch { message = String(err); }
  return { errorType: typeof err === "object" && err !== null ? "object" : typeof err, errorMessage: message, trace: [] };
}

async function postError(urlPath, body) {
  await call("POST", urlPath, JSON.stringify(body), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": body.errorType,
  });
}

async function initFailure(body) {
  console.error(`${body.errorType}: ${body.errorMessage}`);
  await postError("/init/error", body);
  process.exit(1);
}

async function loadHandler(spec) {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = spec.lastIndexOf(".");
  if (dot <= 0 || dot === spec.length - 1) {
    return initFailure({ errorType: "Runtime.MalformedHandlerName", errorMessage: `Bad handler ${spec}`, trace: [] });
  }
  const modulePath = spec.slice(0, dot);
  const names = spec.slice(dot + 1).split(".");
  const base = path.resolve(root, modulePath);
  let mod;
  try {
    let file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
    if (!file && fs.existsSync(base) && fs.statSync(base).isFile()) file = base;
    if (!file) {
      const err = new Error(`Cannot find module '${modulePath}'\nRequire stack:\n- /var/runtime/index.mjs`);
      err.code = "MODULE_NOT_FOUND";
      throw err;
    }
    if (file.endsWith(".mjs")) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e && e.code === "ERR_REQUIRE_ESM") mod = await import(pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      return initFailure({ errorType: "Runtime.UserCodeSyntaxError", errorMessage: `${e.name}: ${e.message}`, trace: (e.stack ?? "").split("\n") });
    }
    if (e && e.code === "MODULE_NOT_FOUND" || e && e.code === "ERR_MODULE_NOT_FOUND") {
      return initFailure({ errorType: "Runtime.ImportModuleError", errorMessage: `Error: ${e.message}`, trace: (e.stack ?? "").split("\n") });
    }
    return initFailure(errorBody(e));
  }
  let fn = mod;
  for (const n of names) fn = fn?.[n] ?? (fn?.default ? fn.default[n] : undefined);
  if (typeof fn !== "function") {
    return initFailure({ errorType: "Runtime.HandlerNotFound", errorMessage: `${spec} is undefined or not exported`, trace: [] });
  }
  return fn;
}

function makeContext(headers, done) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] ?? 0);
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: headers["lambda-runtime-cognito-identity"] ? JSON.parse(headers["lambda-runtime-cognito-identity"]) : undefined,
    clientContext: headers["lambda-runtime-client-context"] ? JSON.parse(headers["lambda-runtime-client-context"]) : undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    succeed: (result) => done(null, result),
    fail: (err) => done(err ?? "handled", undefined),
    done: (err, result) => done(err, result),
  };
  return context;
}

async function invokeOnce(handler, next) {
  const headers = next.headers;
  const requestId = headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  if (headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
  else delete process.env._X_AMZN_TRACE_ID;
  const outcome = await new Promise((resolve) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      resolve({ err, result });
    };
    try {
      const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : null;
      const returned = handler(event, makeContext(headers, done), done);
      if (returned && typeof returned.then === "function") {
        returned.then((r) => done(null, r), (e) => done(e ?? new Error("rejected"), undefined));
      }
    } catch (e) {
      done(e, undefined);
    }
  });
  if (outcome.err !== null && outcome.err !== undefined) {
    const body = errorBody(outcome.err);
    console.error(`Invoke Error \t${JSON.stringify(body)}`);
    await postError(`/invocation/${requestId}/error`, body);
    return;
  }
  let data;
  try {
    data = outcome.result === undefined ? "null" : JSON.stringify(outcome.result);
    if (data === undefined) data = "null";
  } catch (e) {
    const body = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
    console.error(`Invoke Error \t${JSON.stringify(body)}`);
    await postError(`/invocation/${requestId}/error`, body);
    return;
  }
  await call("POST", `/invocation/${requestId}/response`, data, { "Content-Type": "application/json" });
}

async function main() {
  patchConsole();
  process.on("unhandledRejection", (reason) => {
    console.error(`Unhandled Promise Rejection \t${JSON.stringify(errorBody(reason))}`);
  });
  const handler = await loadHandler(process.env._HANDLER ?? "");
  for (;;) {
    const next = await call("GET", "/invocation/next");
    if (next.status !== 200) {
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    await invokeOnce(handler, next);
  }
}

main().catch((e) => {
  process.stderr.write(`stratus node runtime: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
