/**
 * D1 access for the directory of groups (`groups`, `group_members`): what is
 * read across groups. Each group's actor writes its own rows; the statements
 * are idempotent, so a retried directory update changes nothing twice.
 */
import type { GroupMessage } from "../domain/groupMessage.ts";

export interface GroupRow {
  groupId: string;
  type: string;
  name: string;
  owner?: string;
  memberCount: number;
  createdAt: number;
  lastSeq: number;
  lastMsgTime: number;
  /** The newest message every member may see (not a targeted one), as of the last update. */
  lastMessage: GroupMessage | null;
  /** How many of its messages count as unread, as of the last update. */
  unreadTotal: number;
}

export interface GroupSnapshot extends GroupRow {
  /** The actor's change counter: an older snapshot never overwrites a newer one. */
  version: number;
}

type RawGroup = {
  group_id: string;
  type: string;
  name: string;
  owner: string | null;
  member_count: number;
  created_at: number;
  last_seq: number;
  last_msg_time: number;
  last_msg: string | null;
  unread_total: number;
};

function toRow(r: RawGroup): GroupRow {
  return {
    groupId: r.group_id,
    type: r.type,
    name: r.name,
    ...(r.owner ? { owner: r.owner } : {}),
    memberCount: r.member_count,
    createdAt: r.created_at,
    lastSeq: r.last_seq,
    lastMsgTime: r.last_msg_time,
    lastMessage: r.last_msg ? (JSON.parse(r.last_msg) as GroupMessage) : null,
    unreadTotal: r.unread_total,
  };
}

/** D1 binds at most 100 parameters per statement. */
const chunkSize = 90;

export class GroupDirectory {
  private readonly db: D1Database;
  private readonly sdkAppId: number;

  constructor(db: D1Database, sdkAppId: number) {
    this.db = db;
    this.sdkAppId = sdkAppId;
  }

  async upsert(group: GroupSnapshot): Promise<void> {
    await this.db
      .prepare(
        `INSERT INTO groups (sdkappid, group_id, type, name, owner, member_count, created_at, last_seq, last_msg_time, last_msg, unread_total, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sdkappid, group_id) DO UPDATE SET type = excluded.type, name = excluded.name, owner = excluded.owner,
           member_count = excluded.member_count, last_seq = excluded.last_seq, last_msg_time = excluded.last_msg_time,
           last_msg = excluded.last_msg, unread_total = excluded.unread_total, version = excluded.version
         WHERE excluded.version >= groups.version`,
      )
      .bind(
        this.sdkAppId,
        group.groupId,
        group.type,
        group.name,
        group.owner ?? null,
        group.memberCount,
        group.createdAt,
        group.lastSeq,
        group.lastMsgTime,
        group.lastMessage ? JSON.stringify(group.lastMessage) : null,
        group.unreadTotal,
        group.version,
      )
      .run();
  }

  async addMembers(groupId: string, userIds: string[], joinedAt: number, joinSeq: number, joinCount: number): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO group_members (sdkappid, user_id, group_id, joined_at, join_seq, join_count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (sdkappid, user_id, group_id) DO UPDATE SET joined_at = excluded.joined_at, join_seq = excluded.join_seq, join_count = excluded.join_count`,
    );
    for (let i = 0; i < userIds.length; i += chunkSize) {
      await this.db.batch(userIds.slice(i, i + chunkSize).map((userId) => insert.bind(this.sdkAppId, userId, groupId, joinedAt, joinSeq, joinCount)));
    }
  }

  async setMsgFlag(groupId: string, userId: string, msgFlag: string): Promise<void> {
    await this.db.prepare("UPDATE group_members SET msg_flag = ? WHERE sdkappid = ? AND group_id = ? AND user_id = ?").bind(msgFlag, this.sdkAppId, groupId, userId).run();
  }

  async removeMembers(groupId: string, userIds: string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += chunkSize) {
      await this.db
        .prepare("DELETE FROM group_members WHERE sdkappid = ? AND group_id = ? AND user_id IN (SELECT value FROM json_each(?))")
        .bind(this.sdkAppId, groupId, JSON.stringify(userIds.slice(i, i + chunkSize)))
        .run();
    }
  }

  async remove(groupId: string): Promise<void> {
    await this.db.batch([
      this.db.prepare("DELETE FROM group_members WHERE sdkappid = ? AND group_id = ?").bind(this.sdkAppId, groupId),
      this.db.prepare("DELETE FROM groups WHERE sdkappid = ? AND group_id = ?").bind(this.sdkAppId, groupId),
    ]);
  }

  /** The app's groups in id order after `after` (get_appid_group_list), optionally of one type. */
  async list(after: string, limit: number, type?: string): Promise<{ groups: GroupRow[]; total: number }> {
    const typeFilter = type ? " AND type = ?3" : "";
    const params = type ? [this.sdkAppId, after, type] : [this.sdkAppId, after];
    const [page, count] = await this.db.batch<RawGroup | { n: number }>([
      this.db.prepare(`SELECT * FROM groups WHERE sdkappid = ?1 AND group_id > ?2${typeFilter} ORDER BY group_id LIMIT ${Math.floor(limit)}`).bind(...params),
      this.db.prepare(`SELECT COUNT(*) AS n FROM groups WHERE sdkappid = ?1${type ? " AND type = ?2" : ""}`).bind(...(type ? [this.sdkAppId, type] : [this.sdkAppId])),
    ]);
    return { groups: (page!.results as RawGroup[]).map(toRow), total: (count!.results[0] as { n: number }).n };
  }

  async find(groupIds: string[]): Promise<GroupRow[]> {
    if (groupIds.length === 0) return [];
    const rows = await this.db
      .prepare("SELECT * FROM groups WHERE sdkappid = ? AND group_id IN (SELECT value FROM json_each(?))")
      .bind(this.sdkAppId, JSON.stringify(groupIds))
      .all<RawGroup>();
    return rows.results.map(toRow);
  }

  /** The groups a user is in, with where the user joined: one query, whatever their number. */
  async joined(userId: string): Promise<(GroupRow & { joinedAt: number; joinSeq: number; joinCount: number; msgFlag: string })[]> {
    const rows = await this.db
      .prepare(
        `SELECT g.*, m.joined_at, m.join_seq, m.join_count, m.msg_flag FROM group_members m JOIN groups g ON g.sdkappid = m.sdkappid AND g.group_id = m.group_id
         WHERE m.sdkappid = ? AND m.user_id = ? ORDER BY m.joined_at DESC, g.group_id`,
      )
      .bind(this.sdkAppId, userId)
      .all<RawGroup & { joined_at: number; join_seq: number; join_count: number; msg_flag: string }>();
    return rows.results.map((r) => ({ ...toRow(r), joinedAt: r.joined_at, joinSeq: r.join_seq, joinCount: r.join_count, msgFlag: r.msg_flag }));
  }

  /** How many groups (live rooms aside) each of these users is in: one query per 90 users. */
  async joinedCounts(userIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let i = 0; i < userIds.length; i += chunkSize) {
      const rows = await this.db
        .prepare(
          `SELECT m.user_id, COUNT(*) AS n FROM group_members m JOIN groups g ON g.sdkappid = m.sdkappid AND g.group_id = m.group_id
           WHERE m.sdkappid = ? AND m.user_id IN (SELECT value FROM json_each(?)) AND g.type <> 'AVChatRoom' GROUP BY m.user_id`,
        )
        .bind(this.sdkAppId, JSON.stringify(userIds.slice(i, i + chunkSize)))
        .all<{ user_id: string; n: number }>();
      for (const row of rows.results) counts.set(row.user_id, row.n);
    }
    return counts;
  }

  /** How many groups of `type` this user owns (and is in: an owner always is, but of a live room): CreateGroupNum. */
  async createdCount(userId: string, type: string): Promise<number> {
    const row = await this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM group_members m JOIN groups g ON g.sdkappid = m.sdkappid AND g.group_id = m.group_id
         WHERE m.sdkappid = ? AND m.user_id = ? AND g.owner = ? AND g.type = ?`,
      )
      .bind(this.sdkAppId, userId, userId, type)
      .first<{ n: number }>();
    return row?.n ?? 0;
  }

  /**
   * A page of the app's groups for get_appid_group_list, whose cursor (Next) is a number: the
   * row's rowid, which new groups only raise, so a page never repeats or skips a group.
   */
  async page(after: number, limit: number, type?: string): Promise<{ groups: { groupId: string; next: number }[]; total: number }> {
    const typeFilter = type ? " AND type = ?3" : "";
    const params = type ? [this.sdkAppId, after, type] : [this.sdkAppId, after];
    const [page, count] = await this.db.batch<{ group_id: string; next: number } | { n: number }>([
      this.db.prepare(`SELECT group_id, rowid AS next FROM groups WHERE sdkappid = ?1 AND rowid > ?2${typeFilter} ORDER BY rowid LIMIT ${Math.floor(limit)}`).bind(...params),
      this.db.prepare(`SELECT COUNT(*) AS n FROM groups WHERE sdkappid = ?1${type ? " AND type = ?2" : ""}`).bind(...(type ? [this.sdkAppId, type] : [this.sdkAppId])),
    ]);
    const rows = page!.results as { group_id: string; next: number }[];
    return { groups: rows.map((r) => ({ groupId: r.group_id, next: r.next })), total: (count!.results[0] as { n: number }).n };
  }
}
