/**
 * The user's after-callbacks (C2C.CallbackAfterSendMsg, State.StateChange): rows of the actor's
 * own SQLite outbox, written in the same transaction as the action, so an answered action's
 * callback survives a crash. They are delivered after the answer, in order per conversation,
 * with the actor's alarm as the backstop, retried with backoff for a day and then dropped with
 * a log line. An actor whose app sends no callbacks never creates the table.
 */
import type { AppSettings } from "../../domain/app.ts";
import { callbackEnabled, optPlatform } from "../../domain/callbacks.ts";
import { sendCallback } from "../../callbacks/send.ts";
import { defaultDrainPolicy, drainOutbox, type DrainPolicy, type OutboxRow } from "../../mechanisms/outbox.ts";
import { SqliteOutbox } from "../../mechanisms/sqliteOutbox.ts";
import { logEvent } from "../../ops/log.ts";
import type { UserRef } from "../refs.ts";
import type { StateChange } from "./sessions.ts";

const stateChangeCommand = "State.StateChange";

/** How long an after-callback is tried before it is dropped. */
export const afterCallbackLifetimeMs = 24 * 3600_000;

/** Backoff up to 5 minutes, so a receiver that comes back is served again within minutes; about a day of attempts. */
const policy: DrainPolicy = { ...defaultDrainPolicy, maxDelayMs: 5 * 60_000, maxAttempts: 300 };

interface Queued {
  eventTime: number;
  platform: string;
  fields: Record<string, unknown>;
}

export interface CallbacksHost {
  readonly ctx: DurableObjectState;
  readonly me: UserRef;
  settings(): Promise<AppSettings>;
  /** Make sure the alarm fires by `at`. */
  wakeBy(at: number): Promise<void>;
}

export class UserCallbacks {
  private readonly host: CallbacksHost;
  private outboxStore?: SqliteOutbox;
  private queuedSinceDrain = false;
  private draining?: Promise<void>;
  private drainAgain = false;

  constructor(host: CallbacksHost) {
    this.host = host;
  }

  /** Whether the app sends `command` (from the actor's cached settings). */
  enabled(settings: AppSettings, command: string): boolean {
    return callbackEnabled(settings.callbacks, command);
  }

  /**
   * Queues an after-callback. Called inside the action's transaction, it commits with it;
   * `target` orders the rows ("c2c:<peer>"). Call `deliverSoon` once the action is done.
   */
  queue(command: string, target: string, fields: Record<string, unknown>, platform: string | undefined, now = Date.now()): void {
    const queued: Queued = { eventTime: now, platform: optPlatform(platform), fields };
    this.outbox.add(target, command, queued, now);
    this.queuedSinceDrain = true;
  }

  /** After the answer: delivers what was queued; the alarm takes over if this pass is cut short. */
  deliverSoon(): void {
    if (!this.queuedSinceDrain) return;
    this.queuedSinceDrain = false;
    void this.host.wakeBy(Date.now() + policy.holdMs);
    this.host.ctx.waitUntil(this.drain());
  }

  /** State.StateChange: a device logged in, logged out or disconnected. */
  async stateChanged(change: StateChange): Promise<void> {
    if (!this.enabled(await this.host.settings(), stateChangeCommand)) return;
    const fields: Record<string, unknown> = { Info: { Action: change.action, To_Account: this.host.me.userId, Reason: change.reason } };
    if (change.kicked && change.kicked.length > 0) fields.KickedDevice = change.kicked.map((platform) => ({ Platform: platform }));
    this.queue(stateChangeCommand, "state", fields, change.platform);
    this.deliverSoon();
  }

  /** Alarm job: delivers what is due; returns when the next row is. */
  async alarmJob(): Promise<number | null> {
    if (!this.outboxStore && !this.tableExists()) return null;
    await this.drain();
    return this.outbox.nextDue();
  }

  /** One pass at a time: a pass asked for while one runs follows it. */
  private drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.drainAgain = false;
          const report = await drainOutbox({
            store: this.outbox,
            now: Date.now,
            deliver: (row) => this.deliver(row),
            parked: (row, attempts, error) => this.drop(row, `failed ${attempts} times: ${error}`),
          }, policy);
          if (report.nextDue !== null) await this.host.wakeBy(report.nextDue);
        } while (this.drainAgain);
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const queued = row.payload as Queued;
    const { callbacks } = await this.host.settings();
    // The app turned the command off since: nothing is owed.
    if (!callbackEnabled(callbacks, row.kind)) return;
    if (Date.now() - queued.eventTime > afterCallbackLifetimeMs) {
      logEvent({ event: "callback_dropped", app: this.host.me.sdkAppId, command: row.kind, attempts: row.attempts, reason: "older than a day" });
      return;
    }
    const result = await sendCallback({
      sdkAppId: this.host.me.sdkAppId,
      settings: callbacks,
      command: row.kind,
      fields: queued.fields,
      eventTime: queued.eventTime,
      platform: optPlatform(queued.platform),
      attempt: row.attempts + 1,
    });
    if (!result.ok) throw new Error(result.reason);
  }

  /** A row given up on is removed, so a receiver that never comes back does not grow storage. */
  private drop(row: OutboxRow, reason: string): void {
    logEvent({ event: "callback_dropped", app: this.host.me.sdkAppId, command: row.kind, attempts: row.attempts, reason });
    void this.outbox.done([row.id]);
  }

  private get outbox(): SqliteOutbox {
    this.outboxStore ??= new SqliteOutbox(this.host.ctx.storage.sql);
    return this.outboxStore;
  }

  private tableExists(): boolean {
    return this.host.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").toArray().length > 0;
  }
}
