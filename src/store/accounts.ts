/** D1 access for accounts, and for removing everything an account owns. */
import type { Account } from "../domain/account.ts";

/** D1 binds at most 100 parameters per statement; batches stay well under it. */
const chunkSize = 50;

function chunks<T>(items: T[], size = chunkSize): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Imports accounts; importing an existing one updates only the fields given. */
export async function importAccounts(
  db: D1Database,
  sdkAppId: number,
  accounts: { userId: string; nick?: string; faceUrl?: string }[],
): Promise<void> {
  if (accounts.length === 0) return;
  const now = Date.now();
  const statement = db.prepare(
    `INSERT INTO accounts (sdkappid, user_id, nick, face_url, created_at) VALUES (?1, ?2, COALESCE(?3, ''), COALESCE(?4, ''), ?5)
     ON CONFLICT (sdkappid, user_id) DO UPDATE SET nick = COALESCE(?3, nick), face_url = COALESCE(?4, face_url)`,
  );
  await db.batch(accounts.map((a) => statement.bind(sdkAppId, a.userId, a.nick ?? null, a.faceUrl ?? null, now)));
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
    .prepare("SELECT user_id, nick, face_url, created_at FROM accounts WHERE sdkappid = ? AND user_id = ?")
    .bind(sdkAppId, userId)
    .first<{ user_id: string; nick: string; face_url: string; created_at: number }>();
  return row ? { userId: row.user_id, nick: row.nick, faceUrl: row.face_url, createdAt: row.created_at } : null;
}

/**
 * Deletes accounts and every row that belongs to them, in one D1 batch per
 * chunk so that an account is never half deleted. Tables that hold per-user
 * data add their statements to `accountDataStatements`.
 */
export async function deleteAccounts(db: D1Database, sdkAppId: number, userIds: string[]): Promise<void> {
  for (const part of chunks(userIds)) {
    const placeholders = part.map(() => "?").join(", ");
    const statements = accountDataStatements.map((sql) =>
      db.prepare(sql.replaceAll("$ids", placeholders)).bind(sdkAppId, ...part),
    );
    await db.batch(statements);
  }
}

/** Every statement that removes a set of accounts' data; `$ids` stands for their placeholders. */
const accountDataStatements: string[] = ["DELETE FROM accounts WHERE sdkappid = ? AND user_id IN ($ids)"];
