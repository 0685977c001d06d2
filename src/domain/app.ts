/**
 * An app (tenant): its identity, keys, admins, status and settings.
 * Every piece of data in edge-im is keyed by the app's SDKAppID.
 */
import { z } from "zod";
import { LoginPolicy } from "./devices.ts";
import { GroupPolicy } from "./group.ts";
import { CallbackSettings } from "./callbacks.ts";
import { LiveSettings } from "./liveRoom.ts";
import { DirtyWords } from "./moderation.ts";

/** Tencent's per-command REST limits that differ from the app-wide default. */
export const tencentCommandRateLimits: Readonly<Record<string, number>> = {
  "im_open_login_svc/multiaccount_import": 100,
  "im_open_login_svc/account_delete": 100,
  "im_open_login_svc/account_check": 100,
  "group_open_http_svc/get_appid_group_list": 1,
  "group_open_http_svc/send_broadcast_msg": 1,
};

export const AppSettings = z.object({
  /** REST calls per second per command, unless `commandRateLimits` names the command. */
  restRateLimit: z.number().int().positive().default(200),
  /** Per-command REST limits ("service/command" → calls per second). */
  commandRateLimits: z.record(z.string(), z.number().int().positive()).default({}),
  /** How long after sending a client may recall its own message (Tencent: 2 minutes). */
  recallWindowSeconds: z.number().int().min(0).default(120),
  /** How long one-to-one history is kept. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** Connections per platform class; a new login beyond it kicks the oldest. */
  loginPolicy: LoginPolicy.default(LoginPolicy.parse({})),
  /** Frames per second one connection may send before it is refused, then disconnected. */
  connectionFrameRate: z.number().int().min(1).default(100),
  /** The app's own profile tags (Tag_Profile_Custom_*); others are refused. */
  profileCustomTags: z.array(z.string().regex(/^Tag_Profile_Custom_[A-Za-z]{1,8}$/)).max(50).default([]),
  /** The app's own friend tags (Tag_SNS_Custom_*). */
  friendCustomTags: z.array(z.string().regex(/^Tag_SNS_Custom_[A-Za-z]{1,8}$/)).max(50).default([]),
  /** One-to-one messages only between friends (errors 20009–20011). */
  requireFriendship: z.boolean().default(false),
  /** Group limits (members, groups per user, message rate, mentions, attributes). */
  groups: GroupPolicy.prefault({}),
  /**
   * Fan-out hubs holding the app's group connections (users are spread over them by id). A group
   * message costs one call per hub serving any of its members; raise it as online users grow.
   */
  fanoutHubs: z.number().int().min(1).max(1024).default(16),
  /** Live rooms: shard size, relay fan-out, tips, slow consumers, bans (`domain/liveRoom.ts`). */
  live: LiveSettings.prefault({}),
  /** Third-party callbacks into the app's backend (`domain/callbacks.ts`); none when absent. */
  callbacks: CallbackSettings.optional(),
  /** Sensitive words (openim_dirty_words): a message containing one is refused with 80001. */
  dirtyWords: DirtyWords.default([]),
});
export type AppSettings = z.infer<typeof AppSettings>;

export const AppStatus = z.enum(["active", "disabled"]);
export type AppStatus = z.infer<typeof AppStatus>;

export interface App {
  sdkAppId: number;
  name: string;
  /** HMAC key for TLSSigAPIv2 UserSigs. */
  secretKey?: string;
  /** PEM public key for v1 (ECDSA) UserSigs, for apps that still issue them. */
  publicKey?: string;
  admins: string[];
  status: AppStatus;
  settings: AppSettings;
}

/**
 * The app's callbacks as the doors see them: everything but the signing token, which only the
 * AppActor and the app's own actors hold, for `callbacks/send.ts`.
 */
export type CallbacksView = Omit<CallbackSettings, "token"> & { hasToken: boolean };

/** What the doors may see of an app: everything but its keys and its callbacks' token. */
export type AppView = Omit<App, "secretKey" | "publicKey" | "settings"> & { settings: Omit<AppSettings, "callbacks"> & { callbacks?: CallbacksView } };

export function viewOf(app: App): AppView {
  const { secretKey: _secret, publicKey: _public, settings, ...view } = app;
  const { callbacks, ...others } = settings;
  if (!callbacks) return { ...view, settings: others };
  const { token, ...shown } = callbacks;
  return { ...view, settings: { ...others, callbacks: { ...shown, hasToken: token !== undefined } } };
}

export function isAppAdmin(app: Pick<App, "admins">, identifier: string): boolean {
  return app.admins.includes(identifier);
}

/** Calls per second allowed for one REST command of this app. */
export function restRateLimitFor(settings: AppSettings, command: string): number {
  return settings.commandRateLimits[command] ?? tencentCommandRateLimits[command] ?? settings.restRateLimit;
}

export const SdkAppId = z.coerce.number().int().min(1).max(0xffffffff);

/** Parses the comma-separated admin list of the IM_ADMIN variable. */
export function parseAdminList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Settings the console and `edgeim_admin_svc/set_app_settings` change; callbacks have their own command. */
export type SettingsChange = Record<string, unknown>;

/**
 * The settings after `change` is merged over `current` (objects field by field, anything else
 * replaced), or what is wrong with it: a name that is no setting (so a typo is not silently
 * dropped), or a value out of range, each named by its path.
 */
export function mergeSettings(current: AppSettings, change: SettingsChange): { merged: unknown } | { problem: string } {
  if ("callbacks" in change) return { problem: "callbacks: set them with edgeim_admin_svc/set_callback" };
  const unknown = unknownSetting(change, AppSettings.parse({}), "");
  if (unknown) return { problem: `${unknown}: no such setting` };
  return { merged: mergeObjects(current, change) };
}

/** Settings whose keys are the operator's own (a record), not names of settings. */
const openRecords = new Set(["commandRateLimits"]);

function unknownSetting(change: Record<string, unknown>, shape: Record<string, unknown>, prefix: string): string | undefined {
  for (const [key, value] of Object.entries(change)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!Object.hasOwn(shape, key)) return path;
    const known = shape[key];
    if (!openRecords.has(path) && isPlainObject(known) && isPlainObject(value)) {
      const inner = unknownSetting(value, known, path);
      if (inner) return inner;
    }
  }
  return undefined;
}

function mergeObjects(base: Record<string, unknown>, change: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(change)) {
    const current = base[key];
    out[key] = isPlainObject(current) && isPlainObject(value) && !openRecords.has(key) ? mergeObjects(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
