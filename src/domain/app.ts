/**
 * An app (tenant): its identity, keys, admins, status and settings.
 * Every piece of data in edge-im is keyed by the app's SDKAppID.
 */
import { z } from "zod";
import { LoginPolicy } from "./devices.ts";
import { GroupPolicy } from "./group.ts";
import { CallbackSettings } from "./callbacks.ts";
import { DirtyWords } from "./moderation.ts";

/** Tencent's per-command REST limits that differ from the app-wide default. */
export const tencentCommandRateLimits: Readonly<Record<string, number>> = {
  "im_open_login_svc/multiaccount_import": 100,
  "im_open_login_svc/account_delete": 100,
  "im_open_login_svc/account_check": 100,
  "group_open_http_svc/get_appid_group_list": 1,
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

/** What the doors may see of an app: everything but its keys. */
export type AppView = Omit<App, "secretKey" | "publicKey">;

export function viewOf(app: App): AppView {
  const { secretKey: _secret, publicKey: _public, ...view } = app;
  return view;
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
