/**
 * edgeim_admin_svc: edge-im's own administration commands, outside Tencent's names. Like every
 * REST command, only an admin of the app may call them.
 *
 * get_app, set_app_settings, set_app_status, rotate_secret_key and mint_usersig read and change
 * the app itself; the console calls the same commands.
 *
 * get_callback / set_callback read and set the app's third-party callbacks in Tencent's field
 * style. A change is applied through the AppActor, so REST sends see it at once; user actors
 * keep the app's settings for up to a minute (UserActor's settings cache), so one-to-one sends
 * and presence see it within 60 s.
 */
import { z } from "zod";
import { UserId } from "../domain/account.ts";
import { AppSettings, mergeSettings, type AppView, type CallbacksView } from "../domain/app.ts";
import { generateUserSig } from "../domain/usersig.ts";
import { checkBody } from "../domain/wire.ts";
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

/** The app as answered: never its keys. */
export function describeApp(app: AppView): Record<string, unknown> {
  return {
    SdkAppId: app.sdkAppId,
    Name: app.name,
    Admins: app.admins,
    Status: app.status === "active" ? "Active" : "Disabled",
    Settings: { ...app.settings, callbacks: undefined },
  };
}

export const getApp = command({
  body: z.object({}),
  paramErrorCode,
  async handle({ app }) {
    return describeApp(app);
  },
});

export const setAppSettings = command({
  body: z.object({
    /** The settings to change, in `domain/app.ts`'s names; objects are merged field by field. */
    Settings: z.record(z.string(), z.unknown()),
  }),
  paramErrorCode,
  async handle({ env, app }, body) {
    // The callbacks are set_callback's, and the view holds them without their token: they stay out
    // of the change, and the AppActor keeps the stored ones.
    const { callbacks: _kept, ...current } = app.settings;
    const merged = mergeSettings(current, body.Settings);
    if ("problem" in merged) throw new ImError(paramErrorCode, `Settings.${merged.problem}`);
    const checked = checkBody(AppSettings.omit({ callbacks: true }), merged.merged);
    if (!checked.ok) throw new ImError(paramErrorCode, `Settings.${checked.info}`);
    const view = await appActor(env, app.sdkAppId).configure(app.sdkAppId, { settings: checked.data });
    return describeApp(view);
  },
});

export const setAppStatus = command({
  body: z.object({ Status: z.enum(["Active", "Disabled"]) }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const status = body.Status === "Active" ? "active" : "disabled";
    const view = await appActor(env, app.sdkAppId).configure(app.sdkAppId, { status });
    return describeApp(view);
  },
});

export const rotateSecretKey = command({
  body: z.object({}),
  paramErrorCode,
  async handle({ env, app }) {
    const rotated = await appActor(env, app.sdkAppId).rotateSecretKey(app.sdkAppId);
    if (!rotated.ok) throw new ImError(rotated.code, rotated.info);
    return { SdkAppId: app.sdkAppId, SecretKey: rotated.secretKey };
  },
});

/** The longest UserSig the console mints for testing: 30 days. */
const maxMintedExpireSeconds = 30 * 86_400;

export const mintUserSig = command({
  body: z.object({
    UserID: UserId,
    /** Seconds the UserSig is valid; a day by default. */
    Expire: z.number().int().min(60).max(maxMintedExpireSeconds).optional(),
  }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const keys = await appActor(env, app.sdkAppId).appWithKeys(app.sdkAppId);
    if (!keys?.secretKey) throw new ImError(ErrorCode.sdkAppIdInvalid, `app ${app.sdkAppId} has no secret key to sign with`);
    const expireSeconds = body.Expire ?? 86_400;
    const userSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: keys.secretKey, identifier: body.UserID, expireSeconds });
    return { UserID: body.UserID, UserSig: userSig, ExpireTime: Math.floor(Date.now() / 1000) + expireSeconds };
  },
});

export const edgeimAdminSvc = {
  get_callback: getCallback,
  set_callback: setCallback,
  get_app: getApp,
  set_app_settings: setAppSettings,
  set_app_status: setAppStatus,
  rotate_secret_key: rotateSecretKey,
  mint_usersig: mintUserSig,
};
