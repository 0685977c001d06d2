/**
 * `npm run dev`: makes sure a local secret key exists, applies pending D1
 * migrations to the local database, starts `wrangler dev` and, once it is
 * ready, prints the default app's SDKAppID, admin and a ready admin UserSig.
 * Arguments after `--` go to wrangler dev (e.g. `npm run dev -- --port 9000`).
 */
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateUserSig } from "../src/domain/usersig.ts";
import { ensureDevVars, readDefaultAppConfig } from "./config.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const wrangler = join(root, "node_modules", ".bin", "wrangler");

function argValues(name: string): string[] {
  return args.flatMap((a, i) => (a === name ? [args[i + 1]!] : a.startsWith(`${name}=`) ? [a.slice(name.length + 1)] : []));
}

function argValue(name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes("=") ? args[i]!.split("=").slice(1).join("=") : args[i + 1];
}

const envFiles = argValues("--env-file");
const written = envFiles.length === 0 ? ensureDevVars(root) : [];
if (written.length > 0) console.log(`edge-im: wrote a random ${written.join(" and ")} to .dev.vars`);

// The web chat page loads the SDK bundle: build it from the current source.
const bundled = spawnSync(process.execPath, [join(root, "scripts", "build-demo.ts")], { cwd: root, stdio: "inherit" });
if (bundled.status !== 0) {
  console.error("edge-im: building the web chat page failed");
  process.exit(1);
}

const persistTo = argValue("--persist-to");
const migrate = spawnSync(
  wrangler,
  ["d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])],
  { cwd: root, env: { ...env, CI: "true" }, encoding: "utf8" },
);
if (migrate.status !== 0) {
  process.stderr.write(migrate.stdout + migrate.stderr);
  console.error("edge-im: applying D1 migrations failed");
  process.exit(1);
}
console.log(/No migrations to apply/.test(migrate.stdout) ? "edge-im: database is up to date" : "edge-im: applied pending D1 migrations");

const port = Number(argValue("--port") ?? "8787");
const host = argValue("--ip") ?? "127.0.0.1";
// IM_DEMO turns on the web chat page's sign-in helper, which mints UserSigs: for local use only.
const child = spawn(wrangler, ["dev", "--ip", host, "--port", String(port), "--var", "IM_DEMO:true", ...args.filter((_, i) => !isOwn(i))], {
  cwd: root,
  env,
  stdio: ["inherit", "pipe", "inherit"],
});

/** --ip and --port are passed once, explicitly, with their defaults. */
function isOwn(i: number): boolean {
  const a = args[i]!;
  const prev = args[i - 1];
  return a === "--port" || a === "--ip" || a.startsWith("--port=") || a.startsWith("--ip=") || prev === "--port" || prev === "--ip";
}

let announced = false;
child.stdout!.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  if (!announced && /Ready on/.test(chunk.toString())) {
    announced = true;
    void announce();
  }
});

async function announce(): Promise<void> {
  const app = readDefaultAppConfig(root, envFiles);
  const admin = app.admins[0] ?? "administrator";
  const base = `http://${host}:${port}`;
  if (!app.secretKey) {
    console.log("edge-im: IM_SECRET_KEY is not set; the default app will refuse every request");
    return;
  }
  const userSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
  const url = `${base}/v4/im_open_login_svc/account_import?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${userSig}&random=1&contenttype=json`;
  console.log(
    [
      "",
      "edge-im is running",
      `  URL        ${base}`,
      `  SDKAppID   ${app.sdkAppId}`,
      `  admin      ${admin}`,
      `  UserSig    ${userSig}`,
      "",
      `  Web chat   ${base}/demo/`,
      `  Console    ${base}/console/`,
      app.consoleKey ? `  Console key ${app.consoleKey}` : "  Console key (none: set IM_CONSOLE_KEY to sign in as the deployment's operator)",
      "",
      "Try it:",
      `  curl -s -X POST '${url}' -d '{"UserID":"alice","Nick":"Alice"}'`,
      "",
    ].join("\n"),
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
