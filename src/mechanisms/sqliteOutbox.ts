/**
 * An outbox in a Durable Object's own SQLite: the object adds rows in the same synchronous
 * block (one implicit transaction) as the change they follow from, and drains them with
 * `drainOutbox`. One object owns the table, so no row needs an app column. An object with
 * outboxes drained by different jobs gives each a table of its own.
 */
import type { OutboxRow, OutboxStore } from "./outbox.ts";

type RawRow = { id: number; target: string; kind: string; payload: string; attempts: number };

export class SqliteOutbox implements OutboxStore {
  private readonly sql: SqlStorage;
  private readonly table: string;

  constructor(sql: SqlStorage, table = "outbox") {
    this.sql = sql;
    this.table = table;
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL, parked_at INTEGER, last_error TEXT, created_at INTEGER NOT NULL)`);
    sql.exec(`CREATE INDEX IF NOT EXISTS ${table}_lines ON ${table} (target, id) WHERE parked_at IS NULL`);
  }

  /** Adds a row; call it in the same synchronous block as the change, so both commit together. */
  add(target: string, kind: string, payload: unknown, now = Date.now()): void {
    this.sql.exec(`INSERT INTO ${this.table} (target, kind, payload, due_at, created_at) VALUES (?, ?, ?, ?, ?)`, target, kind, JSON.stringify(payload), now, now);
  }

  async claim(now: number, holdUntil: number, limit: number): Promise<OutboxRow[]> {
    const rows = this.sql
      .exec<RawRow>(
        `UPDATE ${this.table} SET due_at = ?3 WHERE id IN (
           SELECT o.id FROM ${this.table} o WHERE o.parked_at IS NULL AND o.due_at <= ?1
             AND NOT EXISTS (SELECT 1 FROM ${this.table} e WHERE e.target = o.target AND e.parked_at IS NULL AND e.id < o.id AND e.due_at > ?1)
           ORDER BY o.id LIMIT ?2)
         RETURNING id, target, kind, payload, attempts`,
        now,
        limit,
        holdUntil,
      )
      .toArray();
    return rows.map((r) => ({ id: r.id, target: r.target, kind: r.kind, payload: JSON.parse(r.payload), attempts: r.attempts })).sort((a, b) => a.id - b.id);
  }

  async done(ids: number[]): Promise<void> {
    for (const id of ids) this.sql.exec(`DELETE FROM ${this.table} WHERE id = ?`, id);
  }

  async reschedule(id: number, at: number, attempts: number, error?: string): Promise<void> {
    this.sql.exec(`UPDATE ${this.table} SET due_at = ?, attempts = ?, last_error = COALESCE(?, last_error) WHERE id = ?`, at, attempts, error ?? null, id);
  }

  async park(id: number, attempts: number, error: string): Promise<void> {
    this.sql.exec(`UPDATE ${this.table} SET parked_at = ?, attempts = ?, last_error = ? WHERE id = ?`, Date.now(), attempts, error, id);
  }

  async nextDue(): Promise<number | null> {
    const [row] = this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(o.due_at) AS at FROM ${this.table} o WHERE o.parked_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM ${this.table} e WHERE e.target = o.target AND e.parked_at IS NULL AND e.id < o.id)`,
      )
      .toArray();
    return row?.at ?? null;
  }
}
