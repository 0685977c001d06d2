/** Reads the default app's configuration the way wrangler does: `.dev.vars` over wrangler.toml [vars]. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DefaultAppConfig {
  sdkAppId: number;
  admins: string[];
  secretKey?: string;
  /** The deployment's console key (IM_CONSOLE_KEY), when set. */
  consoleKey?: string;
}

/** Minimal reader for the [vars] table of wrangler.toml (string values only). */
function tomlVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) inVars = line === "[vars]";
    const match = inVars && /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/.exec(line);
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match) continue;
    vars[match[1]!] = match[2]!.replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
  }
  return vars;
}

/**
 * `envFiles` are wrangler's `--env-file` arguments: when given, they replace
 * `.dev.vars`, later files overriding earlier ones.
 */
export function readDefaultAppConfig(root: string, envFiles: string[] = []): DefaultAppConfig {
  const toml = tomlVars(readFileSync(join(root, "wrangler.toml"), "utf8"));
  const files = envFiles.length > 0 ? envFiles : [join(root, ".dev.vars")];
  const local = Object.assign({}, ...files.filter((f) => existsSync(f)).map((f) => parseDotEnv(readFileSync(f, "utf8"))));
  const vars: Record<string, string | undefined> = { ...toml, ...local };
  return {
    sdkAppId: Number(vars.IM_SDKAPPID ?? "1400000000"),
    admins: (vars.IM_ADMIN ?? "administrator").split(",").map((s) => s.trim()).filter(Boolean),
    secretKey: vars.IM_SECRET_KEY || undefined,
    consoleKey: vars.IM_CONSOLE_KEY || undefined,
  };
}

/** The secrets `npm run dev` makes when `.dev.vars` lacks them: the default app's key and the console key. */
const devSecrets = ["IM_SECRET_KEY", "IM_CONSOLE_KEY"] as const;

/**
 * Creates `.dev.vars` with a random IM_SECRET_KEY and IM_CONSOLE_KEY, or adds whichever of them an
 * existing one lacks; returns the names it wrote.
 */
export function ensureDevVars(root: string): string[] {
  const path = join(root, ".dev.vars");
  const existing = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  const present = existing === undefined ? {} : parseDotEnv(existing);
  const missing = devSecrets.filter((name) => !present[name]);
  if (missing.length === 0) return [];
  const lines = missing.map((name) => `${name}=${randomBytes(32).toString("hex")}\n`).join("");
  if (existing === undefined) {
    writeFileSync(path, `# Local secrets for wrangler dev (never committed).\n${lines}`, { mode: 0o600, flag: "wx" });
  } else {
    writeFileSync(path, `${existing}${existing.endsWith("\n") || existing === "" ? "" : "\n"}${lines}`, { mode: 0o600 });
  }
  return missing;
}
