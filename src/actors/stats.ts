/**
 * An actor's statistics: counts added in the actor's own SQLite with the action that counts
 * (`mechanisms/counters.ts`), added to the app's D1 totals by the actor's alarm a few seconds
 * later, one batch for everything counted meanwhile.
 */
import type { Counts } from "../domain/stats.ts";
import type { Env } from "../env.ts";
import { PendingCounters } from "../mechanisms/counters.ts";
import { addCountBatch } from "../store/stats.ts";

/** How long counts wait in the actor before they reach D1: today's figures move within it. */
export const statsFlushDelayMs = 5_000;

export interface StatsHost {
  readonly env: Env;
  readonly sdkAppId: number;
  /** The actor's name among all actors that count (e.g. "user:1400000000:alice"). */
  readonly source: string;
  readonly sql: SqlStorage;
  /** Make sure the alarm fires by `at`. */
  wakeBy(at: number): Promise<void>;
}

export class ActorStats {
  private readonly host: StatsHost;
  readonly counters: PendingCounters;
  private armed = false;

  constructor(host: StatsHost) {
    this.host = host;
    this.counters = new PendingCounters(host.sql);
  }

  /** Counts now, and `daily`'s counts the first time its marker comes up today. Call it with the action's own writes. */
  count(counts: Counts, daily: { marker: string; counts: Counts }[] = []): void {
    this.counters.add(counts, daily);
    this.flushSoon();
  }

  flag(name: string): boolean {
    return this.counters.flag(name);
  }

  setFlag(name: string, value: boolean, counts: Counts = {}): void {
    this.counters.setFlag(name, value, counts);
    this.flushSoon();
  }

  /** Alarm job: adds what is pending to D1; a failure is retried by the scheduler. */
  async alarmJob(now: number): Promise<number | null> {
    this.armed = false;
    if (!this.counters.waiting) return null;
    await this.counters.flush((batch) => addCountBatch(this.host.env.DB, this.host.sdkAppId, this.host.source, batch, now));
    return this.counters.waiting ? now + statsFlushDelayMs : null;
  }

  /** The actor's alarm was deleted: arm it again for what waits. */
  resume(): void {
    this.armed = false;
    if (this.counters.waiting) this.flushSoon();
  }

  /** Arms the alarm once per batch: counting costs no storage call beyond its own row. */
  private flushSoon(): void {
    if (this.armed) return;
    this.armed = true;
    void this.host.wakeBy(Date.now() + statsFlushDelayMs).catch(() => (this.armed = false));
  }
}
