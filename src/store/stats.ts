/** D1 access for statistics (`app_stats`, `stats_flushes`; migrations/0006_stats.sql). */
import { dayOf, minuteFields, minuteOf, minutesKept, type StatRow } from "../domain/stats.ts";
import type { CountBatch } from "../mechanisms/counters.ts";

/**
 * Adds one object's batch of counts, in one D1 transaction: the counts only if the object's last
 * batch taken is older (so a batch sent again is not counted twice), the day's peak of users
 * online when that count went up, and the batch's number.
 */
export async function addCountBatch(db: D1Database, sdkAppId: number, source: string, batch: CountBatch, now = Date.now()): Promise<void> {
  const statements = [
    db
      .prepare(
        `INSERT INTO app_stats (sdkappid, day, field, value)
         SELECT ?1, json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]'), json_extract(e.value, '$[2]') FROM json_each(?2) e
         WHERE NOT EXISTS (SELECT 1 FROM stats_flushes WHERE source = ?3 AND seq >= ?4)
         ON CONFLICT (sdkappid, day, field) DO UPDATE SET value = value + excluded.value`,
      )
      .bind(sdkAppId, JSON.stringify(batch.entries), source, batch.seq),
  ];
  // The real-time figures, in the minute the batch arrives; minutes older than a day go.
  const minute = minuteOf(now);
  statements.push(
    db
      .prepare(
        `INSERT INTO app_stats_minutes (sdkappid, minute, field, value)
         SELECT ?1, ?2, json_extract(e.value, '$[1]'), json_extract(e.value, '$[2]') FROM json_each(?3) e
         WHERE json_extract(e.value, '$[0]') <> 0 AND json_extract(e.value, '$[1]') IN (SELECT value FROM json_each(?4))
           AND NOT EXISTS (SELECT 1 FROM stats_flushes WHERE source = ?5 AND seq >= ?6)
         ON CONFLICT (sdkappid, minute, field) DO UPDATE SET value = value + excluded.value`,
      )
      .bind(sdkAppId, minute, JSON.stringify(batch.entries), JSON.stringify(minuteFields), source, batch.seq),
    db.prepare("DELETE FROM app_stats_minutes WHERE sdkappid = ? AND minute < ?").bind(sdkAppId, minute - minutesKept),
  );
  // The peak is read where the count changes, so it is as exact as the batches are frequent.
  if (batch.entries.some(([day, field, n]) => day === 0 && field === "OnlineNum" && n > 0)) {
    statements.push(
      db
        .prepare(
          `INSERT INTO app_stats (sdkappid, day, field, value)
           SELECT ?1, ?2, 'MaxOnlineNum', value FROM app_stats WHERE sdkappid = ?1 AND day = 0 AND field = 'OnlineNum'
           ON CONFLICT (sdkappid, day, field) DO UPDATE SET value = MAX(value, excluded.value)`,
        )
        .bind(sdkAppId, dayOf(now)),
    );
  }
  statements.push(
    db.prepare("INSERT INTO stats_flushes (source, seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = MAX(seq, excluded.seq)").bind(source, batch.seq),
  );
  await db.batch(statements);
}

/** The app's per-minute figures from `fromMinute` on. */
export async function readMinutes(db: D1Database, sdkAppId: number, fromMinute: number): Promise<{ minute: number; field: string; value: number }[]> {
  const { results } = await db
    .prepare("SELECT minute, field, value FROM app_stats_minutes WHERE sdkappid = ? AND minute >= ?")
    .bind(sdkAppId, fromMinute)
    .all<{ minute: number; field: string; value: number }>();
  return results;
}

/** The app's users online now (never below 0: a count can lag a restart, see ARCHITECTURE.md). */
export async function onlineNow(db: D1Database, sdkAppId: number): Promise<number> {
  const row = await db.prepare("SELECT value FROM app_stats WHERE sdkappid = ? AND day = 0 AND field = 'OnlineNum'").bind(sdkAppId).first<{ value: number }>();
  return Math.max(0, row?.value ?? 0);
}

/** The app's counts from `fromDay` on, and its running totals (day 0). */
export async function readStats(db: D1Database, sdkAppId: number, fromDay: number): Promise<StatRow[]> {
  const { results } = await db
    .prepare("SELECT day, field, value FROM app_stats WHERE sdkappid = ?1 AND (day = 0 OR day >= ?2)")
    .bind(sdkAppId, fromDay)
    .all<StatRow>();
  return results;
}
