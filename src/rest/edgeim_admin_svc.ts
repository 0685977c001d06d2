/**
 * edgeim_admin_svc: edge-im's own administration commands, outside Tencent's names. Like every
 * REST command, only an admin of the app may call them.
 *
 * get_callback / set_callback read and set the app's third-party callbacks in Tencent's field
 * style. A change is applied through the AppActor, so REST sends see it at once; user actors
 * keep the app's settings for up to a minute (UserActor's settings cache), so one-to-one sends
 * and presence see it within 60 s.
 */
import { z } from "zod";
import type { CallbacksView } from "../domain/app.ts";
import { callbackUrlProblem, CallbackSettings } from "../domain/callbacks.ts";
import { ErrorCode, ImError } from "../domain/errors.ts";
import { appActor } from "../actors/refs.ts";
import { command } from "./command.ts";

/** A field the door cannot take is the door's own code for a request it cannot read. */
const paramErrorCode = ErrorCode.jsonParse;

/** The callbacks as answered: the token is never echoed back, only whether one is set. */
function describeCallbacks(settings: CallbacksView | undefined): Record<string, unknown> {
  if (!settings) return { CallbackUrl: "", CallbackCommands: [], HasToken: false, TimeoutMs: 0, OnTimeout: "Proceed" };
  return {
    CallbackUrl: settings.url,
    CallbackCommands: settings.commands,
    HasToken: settings.hasToken,
    TimeoutMs: settings.timeoutMs,
    OnTimeout: settings.onTimeout === "refuse" ? "Refuse" : "Proceed",
  };
}

export const getCallback = command({
  body: z.object({}),
  paramErrorCode,
  async handle({ app }) {
    return describeCallbacks(app.settings.callbacks);
  },
});

export const setCallback = command({
  body: z.object({
    /** An empty URL turns the app's callbacks off. */
    CallbackUrl: z.string().max(2048),
    CallbackCommands: z.union([z.literal("*"), z.array(z.string().min(1).max(100)).max(200)]).optional(),
    /** Absent keeps the current token; "" removes it. */
    Token: z.string().max(256).optional(),
    TimeoutMs: z.number().int().min(100).max(10_000).optional(),
    OnTimeout: z.enum(["Proceed", "Refuse"]).optional(),
  }),
  paramErrorCode,
  async handle({ env, app, host }, body) {
    const actor = appActor(env, app.sdkAppId);
    if (body.CallbackUrl === "") {
      const view = await actor.setCallbacks(app.sdkAppId, undefined);
      return describeCallbacks(view.settings.callbacks);
    }
    const problem = callbackUrlProblem(body.CallbackUrl, host);
    if (problem) throw new ImError(paramErrorCode, `CallbackUrl: ${problem}`);
    const { token: _none, ...callbacks } = CallbackSettings.parse({
      url: body.CallbackUrl,
      commands: body.CallbackCommands ?? [],
      ...(body.TimeoutMs !== undefined ? { timeoutMs: body.TimeoutMs } : {}),
      onTimeout: body.OnTimeout === "Refuse" ? "refuse" : "proceed",
    });
    // The AppActor keeps the token set when `Token` is left out: it never travels back here.
    const view = await actor.setCallbacks(app.sdkAppId, callbacks, body.Token);
    return describeCallbacks(view.settings.callbacks);
  },
});

export const edgeimAdminSvc = { get_callback: getCallback, set_callback: setCallback };
