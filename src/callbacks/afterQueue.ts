/**
 * After-callbacks of one Durable Object: rows of its own SQLite outbox, written in the same
 * transaction as the action, so an answered action's callback survives a crash. They are
 * delivered after the answer, in order per target (a conversation, a group), with the object's
 * alarm as the backstop, retried with backoff for a day and then dropped with a log line. An
 * object whose app sends no callbacks never creates the table.
 */
import type { AppSettings } from "../domain/app.ts";
import { callbackEnabled, optPlatform, type CallbackSettings } from "../domain/callbacks.ts";
import { defaultDrainPolicy, drainOutbox, type DrainPolicy, type OutboxRow } from "../mechanisms/outbox.ts";
import { SqliteOutbox } from "../mechanisms/sqliteOutbox.ts";
import type { Counts } from "../domain/stats.ts";
import { logEvent } from "../ops/log.ts";
import { sendCallback } from "./send.ts";

/** How long an after-callback is tried before it is dropped. */
export const afterCallbackLifetimeMs = 24 * 3600_000;

/** Backoff up to 5 minutes, so a receiver that comes back is served again within minutes; about a day of attempts. */
export const afterCallbackPolicy: DrainPolicy = { ...defaultDrainPolicy, maxDelayMs: 5 * 60_000, maxAttempts: 300 };
const policy = afterCallbackPolicy;

/** An after-callback as its outbox row holds it (the row's kind, or its payload's `command`, names the command). */
export interface QueuedCallback {
  eventTime: number;
  platform: string;
  /** Absent in rows queued before ClientIP was kept, and where it is not known. */
  clientIp?: string;
  fields: Record<string, unknown>;
}

/**
 * Delivers one queued after-callback; a failure rejects, so the drain retries it. Nothing is
 * owed when the app turned the command off since; past a day the row is dropped with a log line.
 */
export async function deliverQueuedCallback(
  sdkAppId: number,
  callbacks: CallbackSettings | undefined,
  command: string,
  queued: QueuedCallback,
  attempts: number,
  count?: (counts: Counts) => void,
): Promise<void> {
  if (!callbackEnabled(callbacks, command)) return;
  if (Date.now() - queued.eventTime > afterCallbackLifetimeMs) {
    logEvent({ event: "callback_dropped", app: sdkAppId, command, attempts, reason: "older than a day" });
    count?.({ CallbackDropped: 1 });
    return;
  }
  const result = await sendCallback({
    sdkAppId,
    settings: callbacks,
    command,
    fields: queued.fields,
    eventTime: queued.eventTime,
    platform: optPlatform(queued.platform),
    clientIp: queued.clientIp,
    attempt: attempts + 1,
    ...(count ? { count } : {}),
  });
  if (!result.ok) throw new Error(result.reason);
}

/** Logs an after-callback given up on; its row is removed, so a receiver that never comes back does not grow storage. */
export function logDroppedCallback(sdkAppId: number, command: string, attempts: number, reason: string): void {
  logEvent({ event: "callback_dropped", app: sdkAppId, command, attempts, reason });
}

export interface AfterQueueHost {
  readonly ctx: DurableObjectState;
  readonly sdkAppId: number;
  settings(): Promise<AppSettings>;
  /** Make sure the alarm fires by `at`. */
  wakeBy(at: number): Promise<void>;
  /** The object's statistics: attempts, failures, retries and drops. */
  count?(counts: Counts): void;
}

export class AfterCallbackQueue {
  protected readonly host: AfterQueueHost;
  private readonly table: string;
  private outboxStore?: SqliteOutbox;
  private queuedSinceDrain = false;
  private draining?: Promise<void>;
  private drainAgain = false;

  /** `table` is the outbox's own table: an object whose other outbox another job drains needs one apart. */
  constructor(host: AfterQueueHost, table = "outbox") {
    this.host = host;
    this.table = table;
  }

  /** Whether the app sends `command`. */
  enabled(settings: AppSettings, command: string): boolean {
    return callbackEnabled(settings.callbacks, command);
  }

  /**
   * Queues an after-callback. Called inside the action's transaction, it commits with it;
   * `target` orders the rows. Call `deliverSoon` once the action is done.
   */
  queue(command: string, target: string, fields: Record<string, unknown>, platform: string | undefined, now = Date.now()): void {
    this.queueFrom(command, target, fields, { platform }, now);
  }

  /** As `queue`, naming the acting client's IP address too (ClientIP). */
  queueFrom(command: string, target: string, fields: Record<string, unknown>, origin: { platform?: string; clientIp?: string }, now = Date.now()): void {
    const queued: QueuedCallback = { eventTime: now, platform: optPlatform(origin.platform), ...(origin.clientIp ? { clientIp: origin.clientIp } : {}), fields };
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
    const { callbacks } = await this.host.settings();
    await deliverQueuedCallback(this.host.sdkAppId, callbacks, row.kind, row.payload as QueuedCallback, row.attempts, (counts) => this.host.count?.(counts));
  }

  /** A row given up on is removed, so a receiver that never comes back does not grow storage. */
  private drop(row: OutboxRow, reason: string): void {
    logDroppedCallback(this.host.sdkAppId, row.kind, row.attempts, reason);
    this.host.count?.({ CallbackDropped: 1 });
    void this.outbox.done([row.id]);
  }

  private get outbox(): SqliteOutbox {
    this.outboxStore ??= new SqliteOutbox(this.host.ctx.storage.sql, this.table);
    return this.outboxStore;
  }

  private tableExists(): boolean {
    return this.host.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", this.table).toArray().length > 0;
  }
}
