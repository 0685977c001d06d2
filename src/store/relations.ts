/** D1 access for friends, friend requests, friend lists and blocklists. */

export interface FriendRow {
  friend: string;
  remark: string;
  lists: string[];
  addSource: string;
  addWording: string;
  addTime: number;
  custom: Record<string, string | number>;
}

export interface FriendRequestRow {
  requester: string;
  target: string;
  addType: string;
  addSource: string;
  addWording: string;
  remark: string;
  listName: string;
  createdAt: number;
}

const chunkSize = 90;

function chunks<T>(items: T[], size = chunkSize): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");

type RawFriend = { friend: string; remark: string; lists: string; add_source: string; add_wording: string; add_time: number; custom: string };

function toFriend(r: RawFriend): FriendRow {
  return {
    friend: r.friend,
    remark: r.remark,
    lists: JSON.parse(r.lists) as string[],
    addSource: r.add_source,
    addWording: r.add_wording,
    addTime: r.add_time,
    custom: JSON.parse(r.custom) as Record<string, string | number>,
  };
}

export class RelationStore {
  private readonly db: D1Database;
  private readonly sdkAppId: number;

  constructor(db: D1Database, sdkAppId: number) {
    this.db = db;
    this.sdkAppId = sdkAppId;
  }

  // ---- friends ----

  /**
   * Which of `ids` appear as `column` in rows of `table` whose `fixedColumn`
   * is `fixed`: the one shape behind every "which of these …" question.
   */
  private async among(table: "friends" | "blocklist", fixedColumn: string, fixed: string, column: string, ids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks([...new Set(ids)])) {
      const { results } = await this.db
        .prepare(`SELECT ${column} AS id FROM ${table} WHERE sdkappid = ? AND ${fixedColumn} = ? AND ${column} IN (${marks(part.length)})`)
        .bind(this.sdkAppId, fixed, ...part)
        .all<{ id: string }>();
      for (const r of results) found.add(r.id);
    }
    return found;
  }

  /** Which of `others` are in `owner`'s friend list. */
  friendsAmong(owner: string, others: string[]): Promise<Set<string>> {
    return this.among("friends", "owner", owner, "friend", others);
  }

  /** Which of `others` have `user` in their friend list. */
  listedBy(user: string, others: string[]): Promise<Set<string>> {
    return this.among("friends", "friend", user, "owner", others);
  }

  async friendCounts(owners: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(owners.map((o) => [o, 0]));
    for (const part of chunks([...new Set(owners)])) {
      const { results } = await this.db
        .prepare(`SELECT owner, n FROM friend_counts WHERE sdkappid = ? AND owner IN (${marks(part.length)})`)
        .bind(this.sdkAppId, ...part)
        .all<{ owner: string; n: number }>();
      for (const r of results) counts.set(r.owner, r.n);
    }
    return counts;
  }

  /**
   * A page of `owner`'s friends in the order they were added, after position
   * `after` (0 for the first page). Reads only the page's rows.
   */
  async friendPage(owner: string, after: number, limit: number): Promise<(FriendRow & { pos: number })[]> {
    const { results } = await this.db
      .prepare("SELECT * FROM friends WHERE sdkappid = ? AND owner = ? AND pos > ? ORDER BY pos LIMIT ?")
      .bind(this.sdkAppId, owner, after, limit)
      .all<RawFriend & { pos: number }>();
    return results.map((r) => ({ ...toFriend(r), pos: r.pos }));
  }

  /** Friend-list name → members, for one owner. */
  async listMembers(owner: string): Promise<Map<string, string[]>> {
    const { results } = await this.db
      .prepare("SELECT j.value AS name, f.friend FROM friends f, json_each(f.lists) j WHERE f.sdkappid = ? AND f.owner = ? ORDER BY f.pos")
      .bind(this.sdkAppId, owner)
      .all<{ name: string; friend: string }>();
    const members = new Map<string, string[]>();
    for (const r of results) members.set(r.name, [...(members.get(r.name) ?? []), r.friend]);
    return members;
  }

  async friendsByIds(owner: string, ids: string[]): Promise<Map<string, FriendRow>> {
    const found = new Map<string, FriendRow>();
    for (const part of chunks([...new Set(ids)])) {
      const { results } = await this.db
        .prepare(`SELECT * FROM friends WHERE sdkappid = ? AND owner = ? AND friend IN (${marks(part.length)})`)
        .bind(this.sdkAppId, owner, ...part)
        .all<RawFriend>();
      for (const r of results) found.set(r.friend, toFriend(r));
    }
    return found;
  }

  friendCount(owner: string): Promise<number> {
    return this.friendCounts([owner]).then((c) => c.get(owner) ?? 0);
  }

  /** Statements that put `friend` into `owner`'s list (replacing any earlier row). */
  addFriendStatement(owner: string, f: Omit<FriendRow, "addTime"> & { addTime?: number }): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO friends (sdkappid, owner, friend, pos, remark, lists, add_source, add_wording, add_time, custom)
         VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(pos), 0) + 1 FROM friends WHERE sdkappid = ?1 AND owner = ?2), ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (sdkappid, owner, friend) DO UPDATE SET remark = excluded.remark, lists = excluded.lists, add_source = excluded.add_source,
           add_wording = excluded.add_wording, custom = excluded.custom`,
      )
      .bind(this.sdkAppId, owner, f.friend, f.remark, JSON.stringify(f.lists), f.addSource, f.addWording, f.addTime ?? Math.floor(Date.now() / 1000), JSON.stringify(f.custom));
  }

  deleteFriendStatement(owner: string, friend: string): D1PreparedStatement {
    return this.db.prepare("DELETE FROM friends WHERE sdkappid = ? AND owner = ? AND friend = ?").bind(this.sdkAppId, owner, friend);
  }

  deleteRequestStatement(target: string, requester: string): D1PreparedStatement {
    return this.db.prepare("DELETE FROM friend_requests WHERE sdkappid = ? AND target = ? AND requester = ?").bind(this.sdkAppId, target, requester);
  }

  /** Everyone in `owner`'s list (ids only), for deleting them all. */
  async allFriendIds(owner: string): Promise<string[]> {
    const { results } = await this.db.prepare("SELECT friend FROM friends WHERE sdkappid = ? AND owner = ?").bind(this.sdkAppId, owner).all<{ friend: string }>();
    return results.map((r) => r.friend);
  }

  /** Writes `statements`; `withLast` (the change's outbox rows) commit in the same batch as the last of them. */
  async batch(statements: D1PreparedStatement[], withLast: D1PreparedStatement[] = []): Promise<void> {
    const parts = chunks(statements, 50);
    if (withLast.length === 0) {
      // nothing to add
    } else if (parts.length > 0) parts.at(-1)!.push(...withLast);
    else parts.push(withLast);
    for (const part of parts) await this.db.batch(part);
  }

  /** A query for outbox targets (`prefix` + owner) of everyone who has `user` in their friend list. */
  listingTargets(user: string, prefix: string): { sql: string; params: unknown[] } {
    return { sql: "SELECT ? || owner AS target FROM friends WHERE sdkappid = ? AND friend = ?", params: [prefix, this.sdkAppId, user] };
  }

  // ---- friend requests ----

  requestStatement(r: Omit<FriendRequestRow, "createdAt">): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO friend_requests (sdkappid, target, requester, add_type, add_source, add_wording, remark, list_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET add_type = excluded.add_type, add_source = excluded.add_source, add_wording = excluded.add_wording,
           remark = excluded.remark, list_name = excluded.list_name, created_at = excluded.created_at`,
      )
      .bind(this.sdkAppId, r.target, r.requester, r.addType, r.addSource, r.addWording, r.remark, r.listName, Math.floor(Date.now() / 1000));
  }

  async request(target: string, requester: string): Promise<FriendRequestRow | null> {
    const row = await this.db
      .prepare("SELECT * FROM friend_requests WHERE sdkappid = ? AND target = ? AND requester = ?")
      .bind(this.sdkAppId, target, requester)
      .first<Record<string, string | number>>();
    return row ? toRequest(row) : null;
  }

  /** The requests `target` has from each of `requesters`, by requester. */
  async requestsTo(target: string, requesters: string[]): Promise<Map<string, FriendRequestRow>> {
    const found = new Map<string, FriendRequestRow>();
    for (const part of chunks([...new Set(requesters)])) {
      const { results } = await this.db
        .prepare(`SELECT * FROM friend_requests WHERE sdkappid = ? AND target = ? AND requester IN (${marks(part.length)})`)
        .bind(this.sdkAppId, target, ...part)
        .all<Record<string, string | number>>();
      for (const row of results) found.set(String(row.requester), toRequest(row));
    }
    return found;
  }

  /** Requests to `user` and from `user`, newest first (at most `limit` of each). */
  async requestsOf(user: string, limit: number): Promise<{ incoming: FriendRequestRow[]; outgoing: FriendRequestRow[] }> {
    const [incoming, outgoing] = await this.db.batch<Record<string, string | number>>([
      this.db.prepare("SELECT * FROM friend_requests WHERE sdkappid = ? AND target = ? ORDER BY created_at DESC LIMIT ?").bind(this.sdkAppId, user, limit),
      this.db.prepare("SELECT * FROM friend_requests WHERE sdkappid = ? AND requester = ? ORDER BY created_at DESC LIMIT ?").bind(this.sdkAppId, user, limit),
    ]);
    return { incoming: incoming!.results.map(toRequest), outgoing: outgoing!.results.map(toRequest) };
  }

  // ---- friend lists ----

  async listNames(owner: string): Promise<string[]> {
    const { results } = await this.db
      .prepare("SELECT name FROM friend_lists WHERE sdkappid = ? AND owner = ? ORDER BY name")
      .bind(this.sdkAppId, owner)
      .all<{ name: string }>();
    return results.map((r) => r.name);
  }

  addListStatement(owner: string, name: string): D1PreparedStatement {
    return this.db
      .prepare("INSERT INTO friend_lists (sdkappid, owner, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .bind(this.sdkAppId, owner, name, Date.now());
  }

  deleteListStatement(owner: string, name: string): D1PreparedStatement {
    return this.db.prepare("DELETE FROM friend_lists WHERE sdkappid = ? AND owner = ? AND name = ?").bind(this.sdkAppId, owner, name);
  }

  /** Removes a list's name from every friend row of `owner` that carries it. */
  removeListFromFriendsStatement(owner: string, name: string): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE friends SET lists = (SELECT json_group_array(value) FROM json_each(friends.lists) WHERE value <> ?3)
         WHERE sdkappid = ?1 AND owner = ?2 AND EXISTS (SELECT 1 FROM json_each(friends.lists) WHERE value = ?3)`,
      )
      .bind(this.sdkAppId, owner, name);
  }

  // ---- blocklist ----

  /** Which of `others` `owner` has blocked. */
  blockedAmong(owner: string, others: string[]): Promise<Set<string>> {
    return this.among("blocklist", "owner", owner, "blocked", others);
  }

  /** Which of `others` have blocked `user`. */
  blockersAmong(user: string, others: string[]): Promise<Set<string>> {
    return this.among("blocklist", "blocked", user, "owner", others);
  }

  async blockedCount(owner: string): Promise<number> {
    const row = await this.db.prepare("SELECT COUNT(*) AS n FROM blocklist WHERE sdkappid = ? AND owner = ?").bind(this.sdkAppId, owner).first<{ n: number }>();
    return row?.n ?? 0;
  }

  async blockedPage(owner: string, offset: number, limit: number): Promise<{ blocked: string; createdAt: number }[]> {
    const { results } = await this.db
      .prepare("SELECT blocked, created_at FROM blocklist WHERE sdkappid = ? AND owner = ? ORDER BY created_at, blocked LIMIT ? OFFSET ?")
      .bind(this.sdkAppId, owner, limit, offset)
      .all<{ blocked: string; created_at: number }>();
    return results.map((r) => ({ blocked: r.blocked, createdAt: r.created_at }));
  }

  /** All of `owner`'s blocked ids (at most 1,000), for the owner's actor to hold in memory. */
  async allBlocked(owner: string): Promise<string[]> {
    const { results } = await this.db.prepare("SELECT blocked FROM blocklist WHERE sdkappid = ? AND owner = ?").bind(this.sdkAppId, owner).all<{ blocked: string }>();
    return results.map((r) => r.blocked);
  }

  blockStatement(owner: string, blocked: string): D1PreparedStatement {
    return this.db
      .prepare("INSERT INTO blocklist (sdkappid, owner, blocked, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .bind(this.sdkAppId, owner, blocked, Math.floor(Date.now() / 1000));
  }

  unblockStatement(owner: string, blocked: string): D1PreparedStatement {
    return this.db.prepare("DELETE FROM blocklist WHERE sdkappid = ? AND owner = ? AND blocked = ?").bind(this.sdkAppId, owner, blocked);
  }
}

function toRequest(row: Record<string, string | number>): FriendRequestRow {
  return {
    requester: String(row.requester),
    target: String(row.target),
    addType: String(row.add_type),
    addSource: String(row.add_source),
    addWording: String(row.add_wording),
    remark: String(row.remark),
    listName: String(row.list_name),
    createdAt: Number(row.created_at),
  };
}
