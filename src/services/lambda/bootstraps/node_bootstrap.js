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
// invocation. Requests may be pipelined (answered in order): the runtime sends an invocation's
// response and its next `next` in one write.
class RuntimeClient {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.hostHeader = `Host: ${host}:${port}\r\n`;
    this.socket = null;
    this.connecting = null;
    this.buf = null;
    this.waiters = [];
  }

  connect() {
    if (this.socket) return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.connecting = new Promise((resolve, reject) => {
      const s = net.createConnection({ host: this.host, port: this.port }, () => {
        this.connecting = null;
        resolve();
      });
      s.setNoDelay(true);
      s.on("data", (d) => {
        this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
        this.pump();
      });
      const fail = (e) => {
        if (this.socket !== s) return;
        const waiters = this.waiters;
        this.waiters = [];
        this.socket = null;
        this.buf = null;
        if (this.connecting) {
          this.connecting = null;
          reject(e);
        }
        for (const w of waiters) w.reject(e);
      };
      s.on("error", fail);
      s.on("close", () => fail(new Error("Runtime API connection closed")));
      this.socket = s;
    });
    return this.connecting;
  }

  pump() {
    while (this.waiters.length && this.buf) {
      const buf = this.buf;
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = buf.toString("latin1", 0, end).split("\r\n");
      const status = Number(lines[0].slice(9, 12));
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(":");
        if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (buf.length < end + 4 + length) return;
      const body = buf.subarray(end + 4, end + 4 + length);
      this.buf = buf.length > end + 4 + length ? buf.subarray(end + 4 + length) : null;
      this.waiters.shift().resolve({ status, headers, body });
    }
  }

  // Sends one request (connected already) and returns its response's promise.
  send(method, urlPath, body, headers) {
    let head = `${method} ${PREFIX}${urlPath} HTTP/1.1\r\n${this.hostHeader}`;
    if (headers) for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    const p = new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (body === undefined) {
      this.socket.write(head + "Content-Length: 0\r\n\r\n", "latin1");
    } else if (typeof body === "string") {
      this.socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    } else {
      this.socket.write(head + `Content-Length: ${body.length}\r\n\r\n`, "latin1");
      this.socket.write(body);
    }
    return p;
  }

  async request(method, urlPath, body, headers) {
    await this.connect();
    return this.send(method, urlPath, body, headers);
  }

  // POSTs an invocation's outcome and asks for the next invocation in the same write.
  async postThenNext(urlPath, body, headers) {
    await this.connect();
    this.socket.cork();
    const posted = this.send("POST", urlPath, body, headers);
    const next = this.send("GET", "/invocation/next");
    this.socket.uncork();
    await posted;
    return next;
  }
}

const client = new RuntimeClient(HOST, PORT);

async function call(method, urlPath, body, headers) {
  try {
    return await client.request(method, urlPath, body, headers);
  } catch (e) {
    // One reconnect: the server may have closed an idle keep-alive connection.
    return client.request(method, urlPath, body, headers);
  }
}

// Posts an outcome and returns the next invocation.
async function finish(urlPath, body, headers) {
  try {
    return await client.postThenNext(urlPath, body, headers);
  } catch (e) {
    // The connection broke (an idle keep-alive closed by the server): once more, one by one.
    await call("POST", urlPath, body, headers);
    return call("GET", "/invocation/next");
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

const JSON_HEADERS = { "Content-Type": "application/json" };

function errorHeaders(body) {
  return { "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": body.errorType };
}

function finishError(urlPath, body) {
  return finish(urlPath, JSON.stringify(body), errorHeaders(body));
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

// Runs one invocation; returns the next one (the outcome and the next `next` go in one write).
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
    return finishError(`/invocation/${requestId}/error`, body);
  }
  let data;
  try {
    data = outcome.result === undefined ? "null" : JSON.stringify(outcome.result);
    if (data === undefined) data = "null";
  } catch (e) {
    const body = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
    console.error(`Invoke Error \t${JSON.stringify(body)}`);
    return finishError(`/invocation/${requestId}/error`, body);
  }
  return finish(`/invocation/${requestId}/response`, data, JSON_HEADERS);
}

async function main() {
  patchConsole();
  process.on("unhandledRejection", (reason) => {
    console.error(`Unhandled Promise Rejection \t${JSON.stringify(errorBody(reason))}`);
  });
  const handler = await loadHandler(process.env._HANDLER ?? "");
  let next = await call("GET", "/invocation/next");
  for (;;) {
    if (next.status !== 200) {
      await new Promise((r) => setTimeout(r, 10));
      next = await call("GET", "/invocation/next");
      continue;
    }
    next = await invokeOnce(handler, next);
  }
}

main().catch((e) => {
  process.stderr.write(`stratus node runtime: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
