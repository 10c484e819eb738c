// Starts a real stratus on an ephemeral port with a temporary data directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.STRATUS_BIN ?? join(root, "build", "stratus");

export async function startStratus(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-js-"));
  const proc = spawn(bin, ["serve", "--port", "0", "--data-dir", dataDir, ...extraArgs], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stratus not ready:\n" + log)), 20000);
    proc.stderr.on("data", (chunk) => {
      log += chunk;
      const m = /ready on http:\/\/[0-9.]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on("exit", (code) => reject(new Error(`stratus exited ${code}:\n${log}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    clientConfig: {
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    },
    async stop() {
      const exited = new Promise((resolve) => proc.on("exit", resolve));
      proc.kill("SIGTERM");
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
