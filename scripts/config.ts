/** Reads the default app's configuration the way wrangler does: `.dev.vars` over wrangler.toml [vars]. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DefaultAppConfig {
  sdkAppId: number;
  admins: string[];
  secretKey?: string;
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
  };
}

/** Creates `.dev.vars` with a random IM_SECRET_KEY when it is missing; true when it did. */
export function ensureDevVars(root: string): boolean {
  const path = join(root, ".dev.vars");
  if (existsSync(path)) return false;
  writeFileSync(path, `# Local secrets for wrangler dev (never committed).\nIM_SECRET_KEY=${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  return true;
}
