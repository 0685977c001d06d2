/** D1 access for the apps' outboxes: one table, every row and query scoped to an app. */
import type { OutboxRow, OutboxStore } from "../mechanisms/outbox.ts";

/** D1 binds at most 100 parameters per statement. */
const chunkSize = 90;

type RawRow = { id: number; target: string; kind: string; payload: string; attempts: number };

/** A row waits while its target has an earlier row that is not parked and not due (held or backing off). */
const waitingBehind = (now: string) =>
  `EXISTS (SELECT 1 FROM outbox e WHERE e.sdkappid = o.sdkappid AND e.target = o.target AND e.parked_at IS NULL AND e.id < o.id AND e.due_at > ${now})`;

export class D1Outbox implements OutboxStore {
  private readonly db: D1Database;
  private readonly sdkAppId: number;

  constructor(db: D1Database, sdkAppId: number) {
    this.db = db;
    this.sdkAppId = sdkAppId;
  }

  /** Adds a row; put the statement in the batch of the change it follows from. */
  addStatement(target: string, kind: string, payload: unknown, now = Date.now()): D1PreparedStatement {
    return this.db
      .prepare("INSERT INTO outbox (sdkappid, target, kind, payload, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(this.sdkAppId, target, kind, JSON.stringify(payload), now, now);
  }

  /** Adds one row per target that `select` (a query with one column, `target`) returns: any number, in one statement. */
  addEachStatement(select: { sql: string; params: unknown[] }, kind: string, payload: unknown, now = Date.now()): D1PreparedStatement {
    return this.db
      .prepare(`INSERT INTO outbox (sdkappid, target, kind, payload, due_at, created_at) SELECT ?, t.target, ?, ?, ?, ? FROM (${select.sql}) t`)
      .bind(this.sdkAppId, kind, JSON.stringify(payload), now, now, ...select.params);
  }

  async claim(now: number, holdUntil: number, limit: number): Promise<OutboxRow[]> {
    // One statement, so two drains never take the same row.
    const { results } = await this.db
      .prepare(
        `UPDATE outbox SET due_at = ?3 WHERE id IN (
           SELECT o.id FROM outbox o
           WHERE o.sdkappid = ?1 AND o.parked_at IS NULL AND o.due_at <= ?2 AND NOT ${waitingBehind("?2")}
           ORDER BY o.id LIMIT ?4)
         RETURNING id, target, kind, payload, attempts`,
      )
      .bind(this.sdkAppId, now, holdUntil, limit)
      .all<RawRow>();
    return results.map((r) => ({ id: r.id, target: r.target, kind: r.kind, payload: JSON.parse(r.payload), attempts: r.attempts })).sort((a, b) => a.id - b.id);
  }

  async done(ids: number[]): Promise<void> {
    const statements = [];
    for (let i = 0; i < ids.length; i += chunkSize) {
      const part = ids.slice(i, i + chunkSize);
      statements.push(this.db.prepare(`DELETE FROM outbox WHERE sdkappid = ? AND id IN (${part.map(() => "?").join(", ")})`).bind(this.sdkAppId, ...part));
    }
    if (statements.length > 0) await this.db.batch(statements);
  }

  async reschedule(id: number, at: number, attempts: number, error?: string): Promise<void> {
    await this.db
      .prepare("UPDATE outbox SET due_at = ?, attempts = ?, last_error = COALESCE(?, last_error) WHERE sdkappid = ? AND id = ?")
      .bind(at, attempts, error ?? null, this.sdkAppId, id)
      .run();
  }

  async park(id: number, attempts: number, error: string): Promise<void> {
    await this.db
      .prepare("UPDATE outbox SET parked_at = ?, attempts = ?, last_error = ? WHERE sdkappid = ? AND id = ?")
      .bind(Date.now(), attempts, error, this.sdkAppId, id)
      .run();
  }

  async nextDue(): Promise<number | null> {
    // Only the first waiting row of each target: the rows behind it go when it goes.
    const row = await this.db
      .prepare(
        `SELECT MIN(o.due_at) AS at FROM outbox o WHERE o.sdkappid = ? AND o.parked_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.sdkappid = o.sdkappid AND e.target = o.target AND e.parked_at IS NULL AND e.id < o.id)`,
      )
      .bind(this.sdkAppId)
      .first<{ at: number | null }>();
    return row?.at ?? null;
  }
}
