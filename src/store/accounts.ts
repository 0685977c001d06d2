/** D1 access for accounts, and for removing everything an account owns. */
import type { Account } from "../domain/account.ts";

/** D1 binds at most 100 parameters per statement; batches stay well under it. */
const chunkSize = 50;

function chunks<T>(items: T[], size = chunkSize): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Imports accounts; importing an existing one is not an error. Nick and
 * FaceUrl, when given, become the profile's Nick and Image tags.
 */
export async function importAccounts(
  db: D1Database,
  sdkAppId: number,
  accounts: { userId: string; nick?: string; faceUrl?: string }[],
): Promise<void> {
  if (accounts.length === 0) return;
  const now = Date.now();
  const account = db.prepare("INSERT INTO accounts (sdkappid, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  const tag = db.prepare(
    "INSERT INTO profiles (sdkappid, user_id, tag, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
  );
  await db.batch(
    accounts.flatMap((a) => [
      account.bind(sdkAppId, a.userId, now),
      ...(a.nick !== undefined ? [tag.bind(sdkAppId, a.userId, "Tag_Profile_IM_Nick", JSON.stringify(a.nick), now)] : []),
      ...(a.faceUrl !== undefined ? [tag.bind(sdkAppId, a.userId, "Tag_Profile_IM_Image", JSON.stringify(a.faceUrl), now)] : []),
    ]),
  );
}

/** Which of `userIds` are imported accounts of the app. */
export async function existingAccounts(db: D1Database, sdkAppId: number, userIds: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks([...new Set(userIds)])) {
    const placeholders = part.map(() => "?").join(", ");
    const { results } = await db
      .prepare(`SELECT user_id FROM accounts WHERE sdkappid = ? AND user_id IN (${placeholders})`)
      .bind(sdkAppId, ...part)
      .all<{ user_id: string }>();
    for (const row of results) found.add(row.user_id);
  }
  return found;
}

export async function findAccount(db: D1Database, sdkAppId: number, userId: string): Promise<Account | null> {
  const row = await db
    .prepare("SELECT user_id, created_at, c2c_mute_until, group_mute_until FROM accounts WHERE sdkappid = ? AND user_id = ?")
    .bind(sdkAppId, userId)
    .first<{ user_id: string; created_at: number; c2c_mute_until: number; group_mute_until: number }>();
  return row ? { userId: row.user_id, createdAt: row.created_at, c2cMuteUntil: row.c2c_mute_until, groupMuteUntil: row.group_mute_until } : null;
}

/** Sets an account's global mute; false when there is no such account. */
export async function setGlobalMute(db: D1Database, sdkAppId: number, userId: string, mute: { c2cUntil?: number; groupUntil?: number }): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE accounts SET c2c_mute_until = COALESCE(?3, c2c_mute_until), group_mute_until = COALESCE(?4, group_mute_until) WHERE sdkappid = ?1 AND user_id = ?2",
    )
    .bind(sdkAppId, userId, mute.c2cUntil ?? null, mute.groupUntil ?? null)
    .run();
  return result.meta.changes > 0;
}

/**
 * Deletes accounts and every row that belongs to them, in one D1 batch per
 * chunk so that an account is never half deleted. Tables that hold per-user
 * data add their statements to `accountDataStatements`.
 */
export async function deleteAccounts(db: D1Database, sdkAppId: number, userIds: string[]): Promise<void> {
  for (const part of chunks(userIds)) {
    // ?1 is the SDKAppID; the ids are ?2… so a statement can name them twice.
    const placeholders = part.map((_, i) => `?${i + 2}`).join(", ");
    const statements = accountDataStatements.map((sql) =>
      db.prepare(sql.replaceAll("$ids", placeholders)).bind(sdkAppId, ...part),
    );
    await db.batch(statements);
  }
}

/** Every statement that removes a set of accounts' data: ?1 is the SDKAppID, `$ids` the accounts. */
const accountDataStatements: string[] = [
  "DELETE FROM profiles WHERE sdkappid = ?1 AND user_id IN ($ids)",
  "DELETE FROM friends WHERE sdkappid = ?1 AND (owner IN ($ids) OR friend IN ($ids))",
  "DELETE FROM friend_requests WHERE sdkappid = ?1 AND (target IN ($ids) OR requester IN ($ids))",
  "DELETE FROM friend_lists WHERE sdkappid = ?1 AND owner IN ($ids)",
  "DELETE FROM blocklist WHERE sdkappid = ?1 AND (owner IN ($ids) OR blocked IN ($ids))",
  "DELETE FROM accounts WHERE sdkappid = ?1 AND user_id IN ($ids)",
];
