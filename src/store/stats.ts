/** D1 access for statistics (`app_stats`, `stats_flushes`; migrations/0006_stats.sql). */
import { dayOf, type StatRow } from "../domain/stats.ts";
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

/** The app's counts from `fromDay` on, and its running totals (day 0). */
export async function readStats(db: D1Database, sdkAppId: number, fromDay: number): Promise<StatRow[]> {
  const { results } = await db
    .prepare("SELECT day, field, value FROM app_stats WHERE sdkappid = ?1 AND (day = 0 OR day >= ?2)")
    .bind(sdkAppId, fromDay)
    .all<StatRow>();
  return results;
}
