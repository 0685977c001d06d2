/**
 * AppActor: one per app. Holds the app's configuration in memory, verifies
 * UserSigs (remembering ones already verified) and keeps the app's REST rate
 * limit. Every REST call passes through it once, so key rotation, disabling
 * an app and limits take effect at once, everywhere. Its alarm drains what the
 * app's outbox still holds.
 */
import { DurableObject } from "cloudflare:workers";
import { isAppAdmin, parseAdminList, restRateLimitFor, viewOf, AppSettings, type App, type AppStatus, type AppView } from "../domain/app.ts";
import { capture, ErrorCode, ImError, type Outcome } from "../domain/errors.ts";
import { withDirtyWords, withoutDirtyWords } from "../domain/moderation.ts";
import { takeToken, type TokenBucket } from "../domain/rateLimit.ts";
import { checkCredentials, type Credentials } from "../domain/auth.ts";
import type { Env } from "../env.ts";
import { ensureAppRow, findApp, randomSecretKey, setSecretKey, updateApp } from "../store/apps.ts";
import { sameSecret } from "../domain/console.ts";
import { logEvent } from "../ops/log.ts";
import { callbacksFromConfig, type CallbackSettings } from "../domain/callbacks.ts";
import { AlarmScheduler } from "../mechanisms/alarms.ts";
import { drainAppOutbox } from "./appOutbox.ts";
import { ActorStats } from "./stats.ts";
import type { Counts } from "../domain/stats.ts";
import { RestLog, restLogSize, type RestCall } from "./restLog.ts";

/** A decision, sent back over RPC as plain data. */
export type Grant = { ok: true; app: AppView; sigExpiresAt: number } | { ok: false; code: number; info: string };

export type { Credentials };

const appCacheMs = 60_000;
const missingAppCacheMs = 2_000;
const maxRememberedSigs = 1024;
export class AppActor extends DurableObject<Env> {
  private app: App | null = null;
  private appLoadedAt = -Infinity;
  private buckets = new Map<string, TokenBucket>();
  /** UserSig → when it expires (unix seconds) and whom it names. */
  private verifiedSigs = new Map<string, { identifier: string; expiresAt: number }>();

  /** Authorizes one REST call: the app is active, the caller an admin with a valid UserSig, within the rate limit. */
  async authorizeRest(credentials: Credentials, command: string): Promise<Grant> {
    return this.decide(async () => {
      const { app, sigExpiresAt } = await this.authenticate(credentials);
      if (!isAppAdmin(app, credentials.identifier)) {
        throw new ImError(ErrorCode.notAppAdmin, `"${credentials.identifier}" is not an admin of app ${app.sdkAppId}`);
      }
      const limit = restRateLimitFor(app.settings, command);
      const { allowed, bucket } = takeToken(this.buckets.get(command), limit, Date.now());
      this.buckets.set(command, bucket);
      if (!allowed) throw new ImError(ErrorCode.restRateLimited, `${command} is limited to ${limit} calls per second`);
      return { app, sigExpiresAt };
    });
  }

  /**
   * Authorizes one call from the console, whose session was checked by the console door: the app
   * exists, is active (unless the call may reach a disabled app, to enable it again), and the
   * command is within its rate limit, which console calls share with REST.
   */
  async authorizeConsole(sdkAppId: number, command: string, options: { allowDisabled: boolean }): Promise<Grant> {
    return this.decide(async () => {
      const app = await this.load(sdkAppId);
      if (!app) throw new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${sdkAppId} is not an app of this server`);
      if (app.status === "disabled" && !options.allowDisabled) throw new ImError(ErrorCode.appDisabled, `app ${sdkAppId} is disabled`);
      const limit = restRateLimitFor(app.settings, command);
      const { allowed, bucket } = takeToken(this.buckets.get(command), limit, Date.now());
      this.buckets.set(command, bucket);
      if (!allowed) throw new ImError(ErrorCode.restRateLimited, `${command} is limited to ${limit} calls per second`);
      return { app, sigExpiresAt: 0 };
    });
  }

  /** Whether `secretKey` is the app's: an app's operator signs in to the console with it. */
  async checkSecretKey(sdkAppId: number, secretKey: string): Promise<Grant> {
    return this.decide(async () => {
      const app = await this.load(sdkAppId);
      if (!app || !app.secretKey || !sameSecret(app.secretKey, secretKey)) {
        // One answer for both, so the sign-in form does not tell which SDKAppIDs exist.
        throw new ImError(ErrorCode.userSigVerifyFailed, "the SDKAppID or the secret key is wrong");
      }
      if (app.status === "disabled") throw new ImError(ErrorCode.appDisabled, `app ${sdkAppId} is disabled; the deployment's operator can enable it`);
      return { app, sigExpiresAt: 0 };
    });
  }

  /**
   * Gives the app a new secret key. REST calls signed with the old one fail from this call on
   * (this object is the one that checks them); the app's user actors keep the old key for logins
   * until their cached app expires, within 60 s.
   */
  async rotateSecretKey(sdkAppId: number): Promise<{ ok: true; secretKey: string } | { ok: false; code: number; info: string }> {
    if (String(sdkAppId) === this.env.IM_SDKAPPID) {
      return { ok: false, code: ErrorCode.httpParse, info: "the default app's key is IM_SECRET_KEY: change it with `wrangler secret put IM_SECRET_KEY`" };
    }
    const app = await this.load(sdkAppId);
    if (!app) return { ok: false, code: ErrorCode.sdkAppIdInvalid, info: `app ${sdkAppId} does not exist` };
    const secretKey = randomSecretKey();
    await setSecretKey(this.env.DB, sdkAppId, secretKey);
    this.forget();
    return { ok: true, secretKey };
  }

  /**
   * The app with its keys, for the app's own actors (a UserActor verifies
   * its user's logins itself, so logins do not all pass through this object).
   */
  async appWithKeys(sdkAppId: number): Promise<App | null> {
    return this.load(sdkAppId);
  }

  /** The app as the doors and other actors may see it, or null when there is no such app. */
  async describe(sdkAppId: number): Promise<AppView | null> {
    const app = await this.load(sdkAppId);
    return app ? viewOf(app) : null;
  }

  /** The app's callbacks with their signing token, for whatever sends them (`callbacks/send.ts`); undefined when off. */
  async callbackSettings(sdkAppId: number): Promise<CallbackSettings | undefined> {
    return (await this.load(sdkAppId))?.settings.callbacks;
  }

  /** Changes the app's status or settings and applies them at once. */
  async configure(sdkAppId: number, change: { status?: AppStatus; settings?: Partial<AppSettings> }): Promise<AppView> {
    const app = await this.load(sdkAppId);
    if (!app) throw new ImError(ErrorCode.sdkAppIdInvalid, `app ${sdkAppId} does not exist`);
    const settings = change.settings ? AppSettings.parse({ ...app.settings, ...change.settings }) : undefined;
    await updateApp(this.env.DB, sdkAppId, { status: change.status, settings });
    this.forget();
    return viewOf((await this.load(sdkAppId))!);
  }

  /**
   * Sets the app's callbacks (undefined turns them off). `token` undefined keeps the one set and
   * "" removes it, so a caller never needs to read the token to keep it.
   */
  async setCallbacks(sdkAppId: number, callbacks: Omit<CallbackSettings, "token"> | undefined, token?: string): Promise<AppView> {
    if (!callbacks) return this.configure(sdkAppId, { settings: { callbacks: undefined } });
    const kept = token === undefined ? (await this.load(sdkAppId))?.settings.callbacks?.token : token || undefined;
    return this.configure(sdkAppId, { settings: { callbacks: { ...callbacks, ...(kept !== undefined ? { token: kept } : {}) } } });
  }

  private restCalls?: RestLog;

  /** Records answered REST calls of this app (the door gathers them for a second, `rest/restLog.ts`). */
  async recordRestCalls(calls: RestCall[]): Promise<void> {
    const log = (this.restCalls ??= new RestLog(this.ctx.storage.sql));
    this.ctx.storage.transactionSync(() => {
      for (const call of calls.slice(-restLogSize)) log.add(call);
    });
  }

  /** The app's latest REST calls, newest first, before the entry `before` when given. */
  async restLog(limit: number, before?: number): Promise<(RestCall & { id: number })[]> {
    this.restCalls ??= new RestLog(this.ctx.storage.sql);
    return this.restCalls.latest(limit, before);
  }

  /** Adds and removes sensitive words, one change at a time so none is lost to another. */
  async editDirtyWords(sdkAppId: number, change: { add?: string[]; remove?: string[] }): Promise<Outcome<string[]>> {
    const editing = this.wordEdits.then(() =>
      capture(async () => {
        const app = await this.load(sdkAppId);
        if (!app) throw new ImError(ErrorCode.sdkAppIdInvalid, `app ${sdkAppId} does not exist`);
        let words = app.settings.dirtyWords;
        if (change.add) words = withDirtyWords(words, change.add);
        if (change.remove) words = withoutDirtyWords(words, change.remove);
        return (await this.configure(sdkAppId, { settings: { dirtyWords: words } })).settings.dirtyWords;
      }),
    );
    this.wordEdits = editing.catch(() => undefined);
    return editing;
  }

  private wordEdits: Promise<unknown> = Promise.resolve();

  /** Drops everything remembered, so the next call reads the app afresh. */
  async forget(): Promise<void> {
    this.appLoadedAt = -Infinity;
    this.verifiedSigs.clear();
    this.buckets.clear();
  }

  private get sdkAppId(): number {
    return Number(this.ctx.id.name);
  }

  /** Counts of what happens outside any user's or group's actor (callbacks of profile and relationship changes). */
  private readonly stats = new ActorStats({
    env: this.env,
    sdkAppId: this.sdkAppId,
    source: `app:${this.ctx.id.name}`,
    sql: this.ctx.storage.sql,
    wakeBy: (at) => this.alarms.armBy(at),
  });

  /** Adds to the app's statistics, for callers without an actor of their own (`sns/`, the app's outbox drain). */
  async countStats(counts: Counts): Promise<void> {
    this.stats.count(counts);
  }

  private readonly alarms: AlarmScheduler = new AlarmScheduler(
    this.ctx.storage,
    [
      { name: "outbox", run: async () => (await drainAppOutbox(this.env, this.sdkAppId, () => this.callbackSettings(this.sdkAppId))).nextDue },
      { name: "stats", run: (now) => this.stats.alarmJob(now) },
    ],
    (job, error) => logEvent({ event: "alarm_job_failed", app: this.sdkAppId, job, message: String(error) }),
  );

  /** Makes sure the app's outbox is looked at by `at`: the alarm moves only if that is sooner. */
  async drainOutboxBy(at: number): Promise<void> {
    await this.alarms.armBy(at);
  }

  /** Delivers the app's due outbox rows, then wakes again when the next one is due. */
  override async alarm(): Promise<void> {
    await this.alarms.run();
  }

  private async decide(authorize: () => Promise<{ app: App; sigExpiresAt: number }>): Promise<Grant> {
    try {
      const { app, sigExpiresAt } = await authorize();
      return { ok: true, app: viewOf(app), sigExpiresAt };
    } catch (error) {
      if (error instanceof ImError) return { ok: false, code: error.code, info: error.message };
      throw error;
    }
  }

  private async authenticate(credentials: Credentials): Promise<{ app: App; sigExpiresAt: number }> {
    const { sdkAppId, identifier, userSig } = credentials;
    const app = await this.load(sdkAppId);
    if (!app) throw new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${sdkAppId} is not an app of this server`);
    const now = Math.floor(Date.now() / 1000);
    const known = this.verifiedSigs.get(userSig);
    if (app.status === "active" && known && known.identifier === identifier && now <= known.expiresAt) return { app, sigExpiresAt: known.expiresAt };

    const sigExpiresAt = await checkCredentials(app, credentials, now);
    if (this.verifiedSigs.size >= maxRememberedSigs) this.verifiedSigs.delete(this.verifiedSigs.keys().next().value!);
    this.verifiedSigs.set(userSig, { identifier, expiresAt: sigExpiresAt });
    return { app, sigExpiresAt };
  }

  private async load(sdkAppId: number): Promise<App | null> {
    const age = Date.now() - this.appLoadedAt;
    if (age < (this.app ? appCacheMs : missingAppCacheMs)) return this.app;
    const previousKey = this.app?.secretKey;
    this.app = await this.readApp(sdkAppId);
    this.appLoadedAt = Date.now();
    if (this.app?.secretKey !== previousKey) this.verifiedSigs.clear();
    return this.app;
  }

  /** The default app takes its keys and admins from configuration; others live in D1. */
  private async readApp(sdkAppId: number): Promise<App | null> {
    if (String(sdkAppId) !== this.env.IM_SDKAPPID) return findApp(this.env.DB, sdkAppId);
    const admins = parseAdminList(this.env.IM_ADMIN);
    await ensureAppRow(this.env.DB, sdkAppId, admins);
    const row = await findApp(this.env.DB, sdkAppId);
    if (!this.env.IM_SECRET_KEY) {
      logEvent({ event: "config_error", app: sdkAppId, message: "IM_SECRET_KEY is not set; the default app refuses every UserSig" });
    }
    return {
      sdkAppId,
      name: row?.name ?? "default",
      secretKey: this.env.IM_SECRET_KEY || undefined,
      publicKey: this.env.IM_PUBLIC_KEY || undefined,
      admins,
      status: row?.status ?? "active",
      settings: this.withConfiguredCallbacks(sdkAppId, row?.settings ?? AppSettings.parse({})),
    };
  }

  /** Callbacks set in configuration replace those stored for the default app. */
  private withConfiguredCallbacks(sdkAppId: number, settings: AppSettings): AppSettings {
    const { settings: callbacks, error } = callbacksFromConfig({
      url: this.env.IM_CALLBACK_URL,
      commands: this.env.IM_CALLBACK_COMMANDS,
      token: this.env.IM_CALLBACK_TOKEN,
    });
    if (error) logEvent({ event: "config_error", app: sdkAppId, message: `${error}; callbacks stay off` });
    return callbacks ? { ...settings, callbacks } : settings;
  }
}
