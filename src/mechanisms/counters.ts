/**
 * Statistics counts of one Durable Object, waiting to be added to the app's totals. They live in
 * one row of the object's own SQLite, written in the same synchronous block as the action that
 * counts (so they commit with it, in the same write), and are handed to a sink in batches. A
 * batch keeps its number until the sink took it, so a batch sent again after a crash can be
 * recognised by the sink and not counted twice.
 */
import { addCounts, dayOf, pendingEntries, type Counts, type PendingCounts } from "../domain/stats.ts";

/** A batch as the sink receives it: its number and [day, field, n] rows. */
export interface CountBatch {
  seq: number;
  entries: [number, string, number][];
}

interface State {
  pending: PendingCounts;
  /** The batch handed to the sink and not yet acknowledged. */
  sending?: CountBatch;
  /** The last batch number used. */
  seq: number;
  /** Per marker (e.g. "login"), the last day it was counted: distinct users per day without scanning. */
  seen: Record<string, number>;
  /** Flags the owner keeps with its counts (e.g. whether the user counts as online). */
  flags: Record<string, boolean>;
}

export class PendingCounters {
  private readonly sql: SqlStorage;
  private loaded?: State;
  readonly usage = { rowsWritten: 0 };

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /**
   * Adds `counts` now, and each of `daily`'s counts only the first time its marker is seen today.
   * One row written, whatever the number of fields.
   */
  add(counts: Counts, daily: { marker: string; counts: Counts }[] = [], now = Date.now()): void {
    const state = this.state;
    const day = dayOf(now);
    addCounts(state.pending, day, counts);
    for (const { marker, counts: once } of daily) {
      if (state.seen[marker] === day) continue;
      state.seen[marker] = day;
      addCounts(state.pending, day, once);
    }
    this.save();
  }

  flag(name: string): boolean {
    // An object that never counted has no table, and no flag set.
    if (!this.loaded && !this.exists()) return false;
    return this.state.flags[name] === true;
  }

  /** Sets a flag and adds `counts` with it, in one write. */
  setFlag(name: string, value: boolean, counts: Counts = {}, now = Date.now()): void {
    const state = this.state;
    state.flags[name] = value;
    addCounts(state.pending, dayOf(now), counts);
    this.save();
  }

  /** Whether anything waits for the sink. */
  get waiting(): boolean {
    if (!this.exists() && !this.loaded) return false;
    const state = this.state;
    return state.sending !== undefined || pendingEntries(state.pending).length > 0;
  }

  /** Hands what is pending to `sink`; on failure the same batch (same number) is offered next time. */
  async flush(sink: (batch: CountBatch) => Promise<void>): Promise<void> {
    const state = this.state;
    if (!state.sending) {
      const entries = pendingEntries(state.pending);
      if (entries.length === 0) return;
      state.seq += 1;
      state.sending = { seq: state.seq, entries };
      state.pending = {};
      this.save();
    }
    const batch = state.sending!;
    await sink(batch);
    if (this.state.sending?.seq === batch.seq) {
      delete this.state.sending;
      this.save();
    }
  }

  private get state(): State {
    if (this.loaded) return this.loaded;
    this.ensureTable();
    const row = this.sql.exec<{ v: string }>("SELECT v FROM stats WHERE k = 'state'").toArray()[0];
    const parsed = row ? (JSON.parse(row.v) as Partial<State>) : {};
    this.loaded = { pending: parsed.pending ?? {}, sending: parsed.sending, seq: parsed.seq ?? 0, seen: parsed.seen ?? {}, flags: parsed.flags ?? {} };
    return this.loaded;
  }

  private save(): void {
    const cursor = this.sql.exec("INSERT INTO stats (k, v) VALUES ('state', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", JSON.stringify(this.loaded));
    this.usage.rowsWritten += cursor.rowsWritten;
  }

  private ensureTable(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS stats (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID");
  }

  private exists(): boolean {
    return this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stats'").toArray().length > 0;
  }
}
