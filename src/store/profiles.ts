/** D1 access for profiles: one row per (user, tag). */
import type { ProfileValue } from "../domain/profile.ts";

/** D1 binds at most 100 parameters per statement. */
const chunkSize = 90;

/** Statements that set tags of one user, for one batch. */
export function setProfileStatements(db: D1Database, sdkAppId: number, userId: string, items: { tag: string; value: ProfileValue }[]): D1PreparedStatement[] {
  const now = Date.now();
  const statement = db.prepare(
    "INSERT INTO profiles (sdkappid, user_id, tag, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
  );
  return items.map((i) => statement.bind(sdkAppId, userId, i.tag, JSON.stringify(i.value), now));
}

/** The given tags (or all, when `tags` is empty) of several users: user → tag → value. */
export async function getProfiles(db: D1Database, sdkAppId: number, userIds: string[], tags: string[]): Promise<Map<string, Map<string, ProfileValue>>> {
  const result = new Map<string, Map<string, ProfileValue>>();
  const unique = [...new Set(userIds)];
  const perChunk = Math.max(1, chunkSize - tags.length);
  for (let i = 0; i < unique.length; i += perChunk) {
    const part = unique.slice(i, i + perChunk);
    const tagFilter = tags.length > 0 ? ` AND tag IN (${tags.map(() => "?").join(", ")})` : "";
    const { results } = await db
      .prepare(`SELECT user_id, tag, value FROM profiles WHERE sdkappid = ? AND user_id IN (${part.map(() => "?").join(", ")})${tagFilter}`)
      .bind(sdkAppId, ...part, ...tags)
      .all<{ user_id: string; tag: string; value: string }>();
    for (const row of results) {
      let profile = result.get(row.user_id);
      if (!profile) result.set(row.user_id, (profile = new Map()));
      profile.set(row.tag, JSON.parse(row.value) as ProfileValue);
    }
  }
  return result;
}
