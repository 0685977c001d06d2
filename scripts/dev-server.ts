/**
 * Starts edge-im the way `npm run dev` does, on a free port with its own
 * state folder (end-to-end tests and benchmarks). `script` starts another
 * worker's wrangler dev instead (the benchmark's bare relay).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDefaultAppConfig, type DefaultAppConfig } from "./config.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface RunningServer {
  base: string;
  port: number;
  persistTo: string;
  /** Everything the dev command printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function freshStateDir(): string {
  return mkdtempSync(join(tmpdir(), "edge-im-e2e-"));
}

export interface ServerOptions {
  persistTo?: string;
  args?: string[];
  wranglerConfig?: string;
  port?: number;
}

/**
 * Starts a server. A port found free can be taken by another process before
 * wrangler binds it (servers start in parallel); then it tries another.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const portTaken = /Address already in use/.test(String(error));
      if (!portTaken || options.port !== undefined || attempt >= 4) throw error;
    }
  }
}

/**
 * Starts edge-im with a secret key of its own, written to an env file in its
 * state folder and passed as `--env-file` (in place of `.dev.vars`): a
 * benchmark runs from a fresh clone without `npm run dev` having made a key.
 * `vars` adds other variables to that file (the default app's callbacks). It has a console key
 * (IM_CONSOLE_KEY) of its own too.
 */
export async function startServerWithOwnKey(
  options: Omit<ServerOptions, "wranglerConfig"> & { vars?: Record<string, string> } = {},
): Promise<{ server: RunningServer; app: Required<DefaultAppConfig> }> {
  const { vars = {}, ...serverOptions } = options;
  const persistTo = options.persistTo ?? freshStateDir();
  const envFile = join(persistTo, "server.vars");
  const secretKey = randomBytes(32).toString("hex");
  const consoleKey = randomBytes(32).toString("hex");
  const lines = Object.entries({ ...vars, IM_SECRET_KEY: secretKey, IM_CONSOLE_KEY: consoleKey }).map(([name, value]) => `${name}=${value}\n`);
  writeFileSync(envFile, lines.join(""), { mode: 0o600 });
  const app = { ...readDefaultAppConfig(repoRoot, [envFile]), secretKey, consoleKey };
  const server = await startServer({ ...serverOptions, persistTo, args: [...(options.args ?? []), "--env-file", envFile] });
  return { server, app };
}

async function startOnce(options: ServerOptions): Promise<RunningServer> {
  const port = options.port ?? (await freePort());
  const persistTo = options.persistTo ?? freshStateDir();
  const command = options.wranglerConfig
    ? [join(repoRoot, "node_modules", "wrangler", "bin", "wrangler.js"), "dev", "--config", options.wranglerConfig, "--ip", "127.0.0.1"]
    : [join(repoRoot, "scripts", "dev.ts")];
  const child = spawn(
    process.execPath,
    [...command, "--port", String(port), "--persist-to", persistTo, ...(options.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const ready = options.wranglerConfig ? /Ready on/ : /edge-im is running|IM_SECRET_KEY is not set/;
  await waitFor(() => ready.test(output), child, () => output, 90_000);
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    persistTo,
    output: () => output,
    stop: () => stop(child),
  };
}

async function waitFor(ready: () => boolean, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`the server did not start within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the whole process group (the dev script, wrangler and workerd). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}
