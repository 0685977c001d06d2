/**
 * Third-party callbacks in Tencent IM's format: the app's configuration, the request (URL,
 * signature, body) and how a before-callback's answer decides the action. Pure: the HTTP call
 * is `callbacks/send.ts`.
 */
import { z } from "zod";

/** Why a callback URL cannot be used, or null when it can. `ownHost` is the worker's host, when known. */
export function callbackUrlProblem(url: string, ownHost?: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "the callback URL is not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "the callback URL must be http or https";
  if (parsed.username || parsed.password) return "the callback URL must not carry credentials";
  // A callback into the worker itself would call back again for its own request: a loop.
  if (ownHost !== undefined && parsed.host.toLowerCase() === ownHost.toLowerCase()) return "the callback URL points at this server (a loop)";
  return null;
}

export const CallbackSettings = z.object({
  url: z.string().superRefine((url, ctx) => {
    const problem = callbackUrlProblem(url);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  /** The commands sent ("C2C.CallbackBeforeSendMsg", …), or "*" for all. */
  commands: z.union([z.literal("*"), z.array(z.string())]).default([]),
  /** Signs each request (Sign, RequestTime) when set. */
  token: z.string().min(1).optional(),
  /** How long a before-callback may take; the action never waits longer. */
  timeoutMs: z.number().int().min(100).max(10_000).default(2_000),
  /** What a before-callback that times out or answers badly means: the action proceeds, or is refused with 80003. */
  onTimeout: z.enum(["proceed", "refuse"]).default("proceed"),
});
export type CallbackSettings = z.infer<typeof CallbackSettings>;

/** Whether the app sends `command`. */
export function callbackEnabled(settings: CallbackSettings | undefined, command: string): settings is CallbackSettings {
  if (!settings) return false;
  return settings.commands === "*" || settings.commands.includes(command);
}

/**
 * The default app's callbacks from configuration (IM_CALLBACK_URL, IM_CALLBACK_COMMANDS,
 * IM_CALLBACK_TOKEN): none without a URL; an error message when the URL cannot be used.
 */
export function callbacksFromConfig(vars: { url?: string; commands?: string; token?: string }): { settings?: CallbackSettings; error?: string } {
  const url = vars.url?.trim();
  if (!url) return {};
  const list = (vars.commands ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const parsed = CallbackSettings.safeParse({
    url,
    commands: list.length === 1 && list[0] === "*" ? "*" : list,
    ...(vars.token ? { token: vars.token } : {}),
  });
  if (!parsed.success) return { error: `IM_CALLBACK_URL: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  return { settings: parsed.data };
}
