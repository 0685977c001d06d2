/**
 * An app's REST call log: its last calls (command, caller, code, time, duration), kept in its
 * AppActor's SQLite. Never bodies or signatures: what the door's log line says, and no more.
 */

/** Calls kept per app. */
export const restLogSize = 1000;
/** Older entries are removed once per this many new ones: one delete statement for a hundred inserts. */
const pruneEvery = 100;

export interface RestCall {
  /** "service/command". */
  command: string;
  /** The identifier in the URL (the admin that signed, or claimed to). */
  caller: string;
  code: number;
  /** Epoch ms the call arrived. */
  at: number;
  ms: number;
}

export class RestLog {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec("CREATE TABLE IF NOT EXISTS rest_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, command TEXT NOT NULL, caller TEXT NOT NULL, code INTEGER NOT NULL, ms INTEGER NOT NULL)");
  }

  add(call: RestCall): void {
    const { id } = this.sql
      .exec<{ id: number }>("INSERT INTO rest_log (at, command, caller, code, ms) VALUES (?, ?, ?, ?, ?) RETURNING id", call.at, call.command.slice(0, 100), call.caller.slice(0, 64), call.code, call.ms)
      .one();
    if (id % pruneEvery === 0) this.sql.exec("DELETE FROM rest_log WHERE id <= ?", id - restLogSize);
  }

  latest(limit: number, before?: number): (RestCall & { id: number })[] {
    type Row = { id: number; at: number; command: string; caller: string; code: number; ms: number };
    return this.sql
      .exec<Row>(
        "SELECT id, at, command, caller, code, ms FROM rest_log WHERE id < ? AND id > (SELECT COALESCE(MAX(id), 0) FROM rest_log) - ? ORDER BY id DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER,
        restLogSize,
        limit,
      )
      .toArray();
  }
}
