/**
 * The SQLite store inside one GroupActor: the group's profile, its members,
 * pending join requests and invitations, and its messages, stored once and
 * read by every member by sequence. A Community's topics each have their own
 * stream of messages, kept apart from the group's own (`topic_messages`, by
 * topic and the topic's sequence). Synchronous, as Durable Object SQLite is.
 */
import type { GroupAttribute, GroupMember, GroupProfile, MsgPriority } from "../../domain/group.ts";
import type { GroupMessage } from "../../domain/groupMessage.ts";
import type { TopicProfile } from "../../domain/groupTopics.ts";
import type { MsgBody } from "../../domain/message.ts";

const migrations: string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS members (
      user_id TEXT PRIMARY KEY,
      role TEXT NOT NULL,
      join_time INTEGER NOT NULL,
      join_seq INTEGER NOT NULL,
      name_card TEXT NOT NULL DEFAULT '',
      msg_flag TEXT NOT NULL DEFAULT 'AcceptAndNotify',
      mute_until INTEGER NOT NULL DEFAULT 0,
      data TEXT NOT NULL DEFAULT '[]',
      last_send INTEGER NOT NULL DEFAULT 0,
      read_seq INTEGER NOT NULL DEFAULT 0
    )`,
    `CREATE INDEX IF NOT EXISTS members_by_join ON members (join_time, user_id)`,
    `CREATE TABLE IF NOT EXISTS requests (
      user_id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      by TEXT,
      message TEXT NOT NULL DEFAULT '',
      at INTEGER NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY,
      sender TEXT NOT NULL,
      random INTEGER NOT NULL,
      time INTEGER NOT NULL,
      body TEXT NOT NULL,
      cloud_custom_data TEXT,
      priority TEXT NOT NULL DEFAULT 'Normal',
      recalled INTEGER NOT NULL DEFAULT 0,
      modified INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0,
      targets TEXT,
      at_users TEXT,
      at_all INTEGER NOT NULL DEFAULT 0,
      need_receipt INTEGER NOT NULL DEFAULT 0,
      stored_at INTEGER NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS messages_by_random ON messages (sender, random)`,
  ],
  [
    // A Community's topics; a destroyed one stays as a marker until its id is used again.
    `CREATE TABLE IF NOT EXISTS topics (
      topic_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      face_url TEXT NOT NULL DEFAULT '',
      notification TEXT NOT NULL DEFAULT '',
      introduction TEXT NOT NULL DEFAULT '',
      custom_string TEXT NOT NULL DEFAULT '',
      mute_all INTEGER NOT NULL DEFAULT 0,
      create_time INTEGER NOT NULL,
      next_msg_seq INTEGER NOT NULL DEFAULT 1,
      last_msg_time INTEGER NOT NULL DEFAULT 0,
      destroyed INTEGER NOT NULL DEFAULT 0
    )`,
  ],
  [
    // Topic messages: the group's message columns, numbered per topic.
    `CREATE TABLE IF NOT EXISTS topic_messages (
      topic_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      sender TEXT NOT NULL,
      random INTEGER NOT NULL,
      time INTEGER NOT NULL,
      body TEXT NOT NULL,
      cloud_custom_data TEXT,
      priority TEXT NOT NULL DEFAULT 'Normal',
      recalled INTEGER NOT NULL DEFAULT 0,
      modified INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0,
      targets TEXT,
      at_users TEXT,
      at_all INTEGER NOT NULL DEFAULT 0,
      need_receipt INTEGER NOT NULL DEFAULT 0,
      stored_at INTEGER NOT NULL,
      PRIMARY KEY (topic_id, seq)
    )`,
    `CREATE INDEX IF NOT EXISTS topic_messages_by_random ON topic_messages (topic_id, sender, random)`,
  ],
  // Which messages count as unread: a running count over the group's own messages (targeted ones
  // and those sent with NoUnread do not add to it), so unread is a difference of two counts.
  [`ALTER TABLE messages ADD COLUMN unread_index INTEGER NOT NULL DEFAULT 0`],
];

type MemberRow = {
  user_id: string;
  role: string;
  join_time: number;
  join_seq: number;
  name_card: string;
  msg_flag: string;
  mute_until: number;
  data: string;
  last_send: number;
  read_seq: number;
};

type MessageRow = {
  /** Present in topic messages only. */
  topic_id?: string;
  seq: number;
  sender: string;
  random: number;
  time: number;
  body: string;
  cloud_custom_data: string | null;
  priority: string;
  recalled: number;
  modified: number;
  deleted: number;
  targets: string | null;
  at_users: string | null;
  at_all: number;
  need_receipt: number;
};

/** A member as the group keeps it: the domain's member plus where it joined and read. */
export type StoredMember = GroupMember & { joinSeq: number; readSeq: number };

function toMember(row: MemberRow): StoredMember {
  return {
    userId: row.user_id,
    role: row.role as GroupMember["role"],
    joinTime: row.join_time,
    nameCard: row.name_card,
    msgFlag: row.msg_flag as GroupMember["msgFlag"],
    muteUntil: row.mute_until,
    appMemberDefinedData: JSON.parse(row.data) as GroupMember["appMemberDefinedData"],
    lastSendMsgTime: row.last_send,
    joinSeq: row.join_seq,
    readSeq: row.read_seq,
  };
}

function toMessage(groupId: string, row: MessageRow): GroupMessage {
  const message: GroupMessage = {
    groupId,
    seq: row.seq,
    from: row.sender,
    random: row.random,
    time: row.time,
    body: JSON.parse(row.body) as MsgBody,
    priority: row.priority as MsgPriority,
    isRevoked: row.recalled === 1,
    isModified: row.modified === 1,
  };
  if (row.cloud_custom_data !== null) message.cloudCustomData = row.cloud_custom_data;
  if (row.targets !== null) message.to = JSON.parse(row.targets) as string[];
  if (row.at_users !== null) message.atUsers = JSON.parse(row.at_users) as string[];
  if (row.at_all) message.atAll = true;
  if (row.need_receipt) message.needReadReceipt = true;
  if (row.topic_id !== undefined) message.topicId = row.topic_id;
  return message;
}

/** Where one stream of messages lives: the group's own (`topicId` absent) or one topic's; `bindings` go where `where` stands. */
function streamOf(topicId: string | undefined): { table: string; where: string; bindings: unknown[] } {
  return topicId === undefined ? { table: "messages", where: "1 = 1", bindings: [] } : { table: "topic_messages", where: "topic_id = ?", bindings: [topicId] };
}

export class GroupStore {
  private readonly sql: SqlStorage;
  readonly usage = { rowsWritten: 0 };

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
    const version = Number(this.meta("schema_version") ?? 0);
    for (let v = version; v < migrations.length; v++) {
      for (const statement of migrations[v]!) this.exec(statement);
      this.setMeta("schema_version", String(v + 1));
    }
  }

  private exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    const cursor = this.sql.exec<T>(query, ...bindings);
    this.usage.rowsWritten += cursor.rowsWritten;
    return cursor;
  }

  meta(key: string): string | undefined {
    return this.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", key).toArray()[0]?.v;
  }

  setMeta(key: string, value: string): void {
    this.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value);
  }

  // ---- profile

  profile(): GroupProfile | null {
    const raw = this.meta("profile");
    return raw ? (JSON.parse(raw) as GroupProfile) : null;
  }

  setProfile(profile: GroupProfile): void {
    this.setMeta("profile", JSON.stringify(profile));
  }

  /** The next MsgSeq to hand out (1 for a group without messages). */
  nextSeq(): number {
    return Number(this.meta("next_seq") ?? 1);
  }

  /** Messages that count as unread so far (the group's own stream). */
  unreadTotal(): number {
    return Number(this.meta("unread_total") ?? 0);
  }

  /** Counts one more unread-counting message, if it counts; returns the count up to it. */
  countUnread(counts: boolean): number {
    const total = this.unreadTotal() + (counts ? 1 : 0);
    if (counts) this.setMeta("unread_total", String(total));
    return total;
  }

  /** The unread count up to and including MsgSeq `seq`. */
  unreadIndexAt(seq: number): number {
    return this.exec<{ unread_index: number }>("SELECT unread_index FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1", seq).toArray()[0]?.unread_index ?? 0;
  }

  takeSeq(): number {
    const seq = this.nextSeq();
    this.setMeta("next_seq", String(seq + 1));
    return seq;
  }

  /** Removes everything: the group was dismissed. The id stays taken by this empty object's marker. */
  wipe(): void {
    this.receivers = null;
    for (const table of ["members", "requests", "messages", "topics", "topic_messages"]) this.exec(`DELETE FROM ${table}`);
    this.exec("DELETE FROM meta WHERE k NOT IN ('schema_version', 'next_seq')");
  }

  // ---- members

  member(userId: string): StoredMember | null {
    const row = this.exec<MemberRow>("SELECT * FROM members WHERE user_id = ?", userId).toArray()[0];
    return row ? toMember(row) : null;
  }

  membersIn(userIds: string[]): StoredMember[] {
    if (userIds.length === 0) return [];
    return this.exec<MemberRow>(`SELECT * FROM members WHERE user_id IN (SELECT value FROM json_each(?))`, JSON.stringify(userIds))
      .toArray()
      .map(toMember);
  }

  memberCount(): number {
    return this.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members").one().n;
  }

  /** Members in joining order, a page at a time. */
  members(offset: number, limit: number, roles?: string[]): StoredMember[] {
    const filter = roles && roles.length > 0 ? ` WHERE role IN (SELECT value FROM json_each(?3))` : "";
    return this.exec<MemberRow>(`SELECT * FROM members${filter} ORDER BY join_time, user_id LIMIT ?1 OFFSET ?2`, limit, offset, ...(filter ? [JSON.stringify(roles)] : []))
      .toArray()
      .map(toMember);
  }

  /** Members who receive messages (not MsgFlag Discard). */
  receivingMemberIds(): string[] {
    if (!this.receivers) {
      const ids = this.exec<{ user_id: string }>("SELECT user_id FROM members WHERE msg_flag <> 'Discard'").toArray().map((r) => r.user_id);
      this.receivers = { ids, set: new Set(ids) };
    }
    return this.receivers.ids;
  }

  /**
   * Who receives the group's messages, held in memory between membership changes: a message would
   * otherwise read every member's row. The same array comes back until it changes, so what is
   * derived from it (the members by hub) can be kept beside it.
   */
  private receivers: { ids: string[]; set: Set<string> } | null = null

  allMemberIds(): string[] {
    return this.exec<{ user_id: string }>("SELECT user_id FROM members").toArray().map((r) => r.user_id);
  }

  managerIds(): string[] {
    return this.exec<{ user_id: string }>("SELECT user_id FROM members WHERE role IN ('Owner', 'Admin')").toArray().map((r) => r.user_id);
  }

  addMember(member: StoredMember): boolean {
    this.receivers = null;
    return (
      this.exec(
        `INSERT INTO members (user_id, role, join_time, join_seq, name_card, msg_flag, mute_until, data, last_send, read_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`,
        member.userId,
        member.role,
        member.joinTime,
        member.joinSeq,
        member.nameCard,
        member.msgFlag,
        member.muteUntil,
        JSON.stringify(member.appMemberDefinedData),
        member.lastSendMsgTime,
        member.readSeq,
      ).rowsWritten > 0
    );
  }

  removeMember(userId: string): boolean {
    this.receivers = null;
    return this.exec("DELETE FROM members WHERE user_id = ?", userId).rowsWritten > 0;
  }

  updateMember(member: StoredMember): void {
    if (this.receivers && this.receivers.set.has(member.userId) !== (member.msgFlag !== "Discard")) this.receivers = null;
    this.exec(
      `UPDATE members SET role = ?, name_card = ?, msg_flag = ?, mute_until = ?, data = ?, last_send = ?, read_seq = ? WHERE user_id = ?`,
      member.role,
      member.nameCard,
      member.msgFlag,
      member.muteUntil,
      JSON.stringify(member.appMemberDefinedData),
      member.lastSendMsgTime,
      member.readSeq,
      member.userId,
    );
  }

  mutedMembers(nowSeconds: number): { userId: string; mutedUntil: number }[] {
    return this.exec<{ user_id: string; mute_until: number }>("SELECT user_id, mute_until FROM members WHERE mute_until > ? ORDER BY user_id", nowSeconds)
      .toArray()
      .map((r) => ({ userId: r.user_id, mutedUntil: r.mute_until }));
  }

  // ---- join requests and invitations

  addRequest(userId: string, kind: "apply" | "invite", by: string | undefined, message: string, at: number): void {
    this.exec(
      "INSERT INTO requests (user_id, kind, by, message, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, by = excluded.by, message = excluded.message, at = excluded.at",
      userId,
      kind,
      by ?? null,
      message,
      at,
    );
  }

  request(userId: string): { userId: string; kind: "apply" | "invite"; by?: string; message: string; at: number } | null {
    const row = this.exec<{ user_id: string; kind: string; by: string | null; message: string; at: number }>("SELECT * FROM requests WHERE user_id = ?", userId).toArray()[0];
    return row ? { userId: row.user_id, kind: row.kind as "apply" | "invite", ...(row.by ? { by: row.by } : {}), message: row.message, at: row.at } : null;
  }

  requests(limit: number): { userId: string; kind: "apply" | "invite"; by?: string; message: string; at: number }[] {
    return this.exec<{ user_id: string; kind: string; by: string | null; message: string; at: number }>("SELECT * FROM requests ORDER BY at LIMIT ?", limit)
      .toArray()
      .map((row) => ({ userId: row.user_id, kind: row.kind as "apply" | "invite", ...(row.by ? { by: row.by } : {}), message: row.message, at: row.at }));
  }

  removeRequest(userId: string): boolean {
    return this.exec("DELETE FROM requests WHERE user_id = ?", userId).rowsWritten > 0;
  }

  // ---- messages (the group's own, or a topic's where `topicId` is given)

  insertMessage(message: GroupMessage & { needReadReceipt?: boolean }, now: number, unreadIndex = this.unreadTotal()): void {
    const columns = `seq, sender, random, time, body, cloud_custom_data, priority, targets, at_users, at_all, need_receipt, stored_at`;
    const values = [
      message.seq,
      message.from,
      message.random,
      message.time,
      JSON.stringify(message.body),
      message.cloudCustomData ?? null,
      message.priority,
      message.to ? JSON.stringify(message.to) : null,
      message.atUsers ? JSON.stringify(message.atUsers) : null,
      message.atAll ? 1 : 0,
      message.needReadReceipt ? 1 : 0,
      now,
    ];
    if (message.topicId === undefined) this.exec(`INSERT INTO messages (${columns}, unread_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ...values, unreadIndex);
    else this.exec(`INSERT INTO topic_messages (topic_id, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, message.topicId, ...values);
  }

  message(groupId: string, seq: number, topicId?: string): GroupMessage | null {
    const s = streamOf(topicId);
    const row = this.exec<MessageRow>(`SELECT * FROM ${s.table} WHERE ${s.where} AND seq = ? AND deleted = 0`, ...s.bindings, seq).toArray()[0];
    return row ? toMessage(groupId, row) : null;
  }

  /** The first message from `sender` with `random` stored since `sinceSeconds`: a retried send. */
  findRetry(groupId: string, sender: string, random: number, sinceSeconds: number, topicId?: string): GroupMessage | null {
    const s = streamOf(topicId);
    const row = this.exec<MessageRow>(
      `SELECT * FROM ${s.table} WHERE ${s.where} AND sender = ? AND random = ? AND time >= ? ORDER BY seq LIMIT 1`,
      ...s.bindings,
      sender,
      random,
      sinceSeconds,
    ).toArray()[0];
    return row ? toMessage(groupId, row) : null;
  }

  /** Messages newest first with seq ≤ `upTo` and ≥ `from`, at most `limit`. */
  history(groupId: string, from: number, upTo: number, limit: number, withRecalled: boolean, topicId?: string): GroupMessage[] {
    const s = streamOf(topicId);
    const recalled = withRecalled ? "" : " AND recalled = 0";
    return this.exec<MessageRow>(
      `SELECT * FROM ${s.table} WHERE ${s.where} AND seq <= ? AND seq >= ? AND deleted = 0${recalled} ORDER BY seq DESC LIMIT ?`,
      ...s.bindings,
      upTo,
      from,
      limit,
    )
      .toArray()
      .map((row) => toMessage(groupId, row));
  }

  /** Messages after `after` in order (a member catching up), at most `limit`. */
  after(groupId: string, after: number, from: number, limit: number, topicId?: string): GroupMessage[] {
    const s = streamOf(topicId);
    return this.exec<MessageRow>(`SELECT * FROM ${s.table} WHERE ${s.where} AND seq > ? AND seq >= ? AND deleted = 0 ORDER BY seq LIMIT ?`, ...s.bindings, after, from, limit)
      .toArray()
      .map((row) => toMessage(groupId, row));
  }

  markRecalled(seq: number, topicId?: string): void {
    const s = streamOf(topicId);
    this.exec(`UPDATE ${s.table} SET recalled = 1 WHERE ${s.where} AND seq = ?`, ...s.bindings, seq);
  }

  replaceBody(seq: number, body: MsgBody, cloudCustomData?: string, topicId?: string): void {
    const s = streamOf(topicId);
    this.exec(
      `UPDATE ${s.table} SET body = ?, cloud_custom_data = COALESCE(?, cloud_custom_data), modified = 1 WHERE ${s.where} AND seq = ?`,
      JSON.stringify(body),
      cloudCustomData ?? null,
      ...s.bindings,
      seq,
    );
  }

  deleteBySender(sender: string): number {
    return this.exec("UPDATE messages SET deleted = 1 WHERE sender = ? AND deleted = 0", sender).rowsWritten;
  }

  /** Deletes messages up to and including `upTo` (all when absent). */
  clear(upTo?: number): number {
    return this.exec("UPDATE messages SET deleted = 1 WHERE seq <= ? AND deleted = 0", upTo ?? Number.MAX_SAFE_INTEGER).rowsWritten;
  }

  /** The newest message every member may see (targeted ones aside), for conversation lists. */
  lastPublicMessage(groupId: string): GroupMessage | null {
    const row = this.exec<MessageRow>("SELECT * FROM messages WHERE deleted = 0 AND targets IS NULL ORDER BY seq DESC LIMIT 1").toArray()[0];
    return row ? toMessage(groupId, row) : null;
  }

  lastMessageTime(): number {
    return this.exec<{ t: number | null }>("SELECT MAX(time) AS t FROM messages").one().t ?? 0;
  }

  // ---- attributes and counters (small, so one meta row each; wipe() clears them with the profile)

  attributes(): { attributes: GroupAttribute[]; version: number } {
    const raw = this.meta("attributes");
    return { attributes: raw ? (JSON.parse(raw) as GroupAttribute[]) : [], version: Number(this.meta("attributes_version") ?? 0) };
  }

  setAttributes(attributes: GroupAttribute[], version: number): void {
    this.setMeta("attributes", JSON.stringify(attributes));
    this.setMeta("attributes_version", String(version));
  }

  counters(): Record<string, number> {
    const raw = this.meta("counters");
    return raw ? (JSON.parse(raw) as Record<string, number>) : {};
  }

  setCounters(counters: Record<string, number>): void {
    this.setMeta("counters", JSON.stringify(counters));
  }

  // ---- Community topics

  /** A topic, live or destroyed. */
  topic(topicId: string): (TopicProfile & { destroyed: boolean }) | null {
    const row = this.exec<TopicRow>("SELECT * FROM topics WHERE topic_id = ?", topicId).toArray()[0];
    return row ? { ...toTopic(row), destroyed: row.destroyed === 1 } : null;
  }

  /** Live topics in creation order. */
  topics(): TopicProfile[] {
    return this.exec<TopicRow>("SELECT * FROM topics WHERE destroyed = 0 ORDER BY create_time, topic_id").toArray().map(toTopic);
  }

  topicCount(): number {
    return this.exec<{ n: number }>("SELECT COUNT(*) AS n FROM topics WHERE destroyed = 0").one().n;
  }

  /** Stores a topic, new or changed (a new one replaces a destroyed one's marker). */
  putTopic(topic: TopicProfile): void {
    this.exec(
      `INSERT OR REPLACE INTO topics (topic_id, name, face_url, notification, introduction, custom_string, mute_all, create_time, next_msg_seq, last_msg_time, destroyed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      topic.topicId,
      topic.name,
      topic.faceUrl,
      topic.notification,
      topic.introduction,
      topic.customString,
      topic.muteAllMember ? 1 : 0,
      topic.createTime,
      topic.nextMsgSeq,
      topic.lastMsgTime,
    );
  }

  /** Marks a topic destroyed and removes its messages: a topic created again under its id starts empty. */
  markTopicDestroyed(topicId: string): void {
    this.exec("UPDATE topics SET destroyed = 1 WHERE topic_id = ?", topicId);
    this.exec("DELETE FROM topic_messages WHERE topic_id = ?", topicId);
  }

  /** A message was sent in the topic: its next sequence moves on; answers the sequence taken. */
  takeTopicSeq(topicId: string, timeSeconds: number): number {
    const row = this.exec<{ next_msg_seq: number }>(
      "UPDATE topics SET next_msg_seq = next_msg_seq + 1, last_msg_time = ? WHERE topic_id = ? AND destroyed = 0 RETURNING next_msg_seq",
      timeSeconds,
      topicId,
    ).toArray()[0];
    return row ? row.next_msg_seq - 1 : 0;
  }
}

type TopicRow = {
  topic_id: string;
  name: string;
  face_url: string;
  notification: string;
  introduction: string;
  custom_string: string;
  mute_all: number;
  create_time: number;
  next_msg_seq: number;
  last_msg_time: number;
  destroyed: number;
};

function toTopic(row: TopicRow): TopicProfile {
  return {
    topicId: row.topic_id,
    name: row.name,
    faceUrl: row.face_url,
    notification: row.notification,
    introduction: row.introduction,
    customString: row.custom_string,
    muteAllMember: row.mute_all === 1,
    createTime: row.create_time,
    nextMsgSeq: row.next_msg_seq,
    lastMsgTime: row.last_msg_time,
  };
}
