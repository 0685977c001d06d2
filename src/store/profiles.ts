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

/** Nick and image of up to a page of users in one query (the ids go as one JSON parameter, past D1's 100 bindings). */
export async function nicksAndImages(db: D1Database, sdkAppId: number, userIds: string[]): Promise<Map<string, { nick: string; image: string }>> {
  const found = new Map<string, { nick: string; image: string }>();
  if (userIds.length === 0) return found;
  const { results } = await db
    .prepare("SELECT user_id, tag, value FROM profiles WHERE sdkappid = ? AND tag IN ('Tag_Profile_IM_Nick', 'Tag_Profile_IM_Image') AND user_id IN (SELECT value FROM json_each(?))")
    .bind(sdkAppId, JSON.stringify(userIds))
    .all<{ user_id: string; tag: string; value: string }>();
  for (const row of results) {
    const entry = found.get(row.user_id) ?? { nick: "", image: "" };
    const value = JSON.parse(row.value) as unknown;
    if (typeof value === "string") entry[row.tag === "Tag_Profile_IM_Nick" ? "nick" : "image"] = value;
    found.set(row.user_id, entry);
  }
  return found;
}
