/**
 * The SQLite store inside one UserActor: the user's copy of every one-to-one
 * message, the event log that shares the user's sync sequence, and the
 * conversation list. Synchronous, as Durable Object SQLite is; the actor wraps
 * multi-statement changes in transactionSync.
 */
import type { Conversation, UserEvent } from "../../domain/events.ts";
import type { C2CMessage, MsgBody, StoredC2CMessage } from "../../domain/message.ts";

/** Schema versions, applied in order once each; a change appends a version, never edits one. */
const migrations: string[][] = [
  [
  `CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    peer TEXT NOT NULL,
    outgoing INTEGER NOT NULL,
    msg_key TEXT NOT NULL,
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    msg_seq INTEGER NOT NULL,
    random INTEGER NOT NULL,
    time INTEGER NOT NULL,
    body TEXT NOT NULL,
    cloud_custom_data TEXT,
    need_receipt INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0,
    modified INTEGER NOT NULL DEFAULT 0,
    hidden INTEGER NOT NULL DEFAULT 0,
    receipt_read INTEGER NOT NULL DEFAULT 0,
    stored_at INTEGER NOT NULL
  )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS messages_by_key ON messages (peer, msg_key, outgoing)`,
  `CREATE INDEX IF NOT EXISTS messages_by_peer ON messages (peer, seq)`,
  `CREATE INDEX IF NOT EXISTS messages_by_random ON messages (peer, random)`,
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    stored_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS conversations (
    peer TEXT PRIMARY KEY,
    last_seq INTEGER,
    time INTEGER NOT NULL,
    unread INTEGER NOT NULL DEFAULT 0,
    peer_read_seq INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations (pinned DESC, time DESC)`,
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  ],
  // The user's own read point per conversation, so reading what is already read changes nothing.
  [`ALTER TABLE conversations ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0`],
  // The user's side of its group conversations: read point (a MsgSeq of the group), pin, and the
  // MsgSeq up to which a deleted conversation stays out of the list.
  [
    `CREATE TABLE IF NOT EXISTS group_state (
      group_id TEXT PRIMARY KEY,
      read_seq INTEGER NOT NULL DEFAULT 0,
      pinned INTEGER NOT NULL DEFAULT 0,
      hidden_up_to INTEGER NOT NULL DEFAULT -1
    )`,
  ],
  // The newest MsgSeq in which the user was mentioned (@), per group.
  [`ALTER TABLE group_state ADD COLUMN mention_seq INTEGER NOT NULL DEFAULT 0`],
  // The group's unread count at the read point: unread is the group's count less this one.
  [`ALTER TABLE group_state ADD COLUMN read_count INTEGER NOT NULL DEFAULT 0`],
];

type MessageRow = {
  seq: number;
  peer: string;
  outgoing: number;
  msg_key: string;
  sender: string;
  receiver: string;
  msg_seq: number;
  random: number;
  time: number;
  body: string;
  cloud_custom_data: string | null;
  need_receipt: number;
  revoked: number;
  modified: number;
  receipt_read: number;
  peer_read_seq: number | null;
};

type ConversationRow = {
  peer: string;
  last_seq: number | null;
  time: number;
  unread: number;
  pinned: number;
};

const messageColumns = `m.seq, m.peer, m.outgoing, m.msg_key, m.sender, m.receiver, m.msg_seq, m.random, m.time, m.body,
  m.cloud_custom_data, m.need_receipt, m.revoked, m.modified, m.receipt_read, c.peer_read_seq`;
const fromMessages = `FROM messages m LEFT JOIN conversations c ON c.peer = m.peer`;

function toMessage(row: MessageRow): StoredC2CMessage {
  const message: StoredC2CMessage = {
    seq: row.seq,
    peer: row.peer,
    flow: row.outgoing ? "out" : "in",
    key: row.msg_key,
    from: row.sender,
    to: row.receiver,
    msgSeq: row.msg_seq,
    random: row.random,
    time: row.time,
    body: JSON.parse(row.body) as MsgBody,
    isRevoked: row.revoked === 1,
    isModified: row.modified === 1,
    isPeerRead: row.outgoing === 1 && row.seq <= (row.peer_read_seq ?? 0),
    receiptRead: row.receipt_read === 1,
  };
  if (row.cloud_custom_data !== null) message.cloudCustomData = row.cloud_custom_data;
  if (row.need_receipt) message.needReadReceipt = true;
  return message;
}

export interface GroupState {
  readSeq: number;
  /** The group's unread count at the read point. */
  readCount: number;
  pinned: boolean;
  /** A deleted conversation stays out of the list until its group has a message after this MsgSeq (-1: shown). */
  hiddenUpTo: number;
  /** The newest MsgSeq that mentioned the user (0: none). */
  mentionSeq: number;
}

type EventData = Exclude<UserEvent, { kind: "message" } | { kind: "messageModified" }>;
type EventBody = EventData extends infer E ? (E extends { seq: number } ? Omit<E, "seq"> : never) : never;

export class UserStore {
  private readonly sql: SqlStorage;
  private seq = 0;
  /** SQLite rows written since this actor woke, index entries included (what storage is billed by). */
  readonly usage = { rowsWritten: 0 };

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.migrate();
    const row = this
      .exec<{ last: number | null }>("SELECT MAX(s) AS last FROM (SELECT MAX(seq) AS s FROM messages UNION ALL SELECT MAX(seq) FROM events)")
      .one();
    this.seq = Math.max(row.last ?? 0, Number(this.meta("seq_floor") ?? 0));
  }

  private exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    const cursor = this.sql.exec<T>(query, ...bindings);
    this.usage.rowsWritten += cursor.rowsWritten;
    return cursor;
  }

  private migrate(): void {
    this.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
    const version = Number(this.meta("schema_version") ?? 0);
    for (let v = version; v < migrations.length; v++) {
      for (const statement of migrations[v]!) this.exec(statement);
      this.setMeta("schema_version", String(v + 1));
    }
  }

  /** The last sync sequence handed out. */
  lastSeq(): number {
    return this.seq;
  }

  meta(key: string): string | undefined {
    return this.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", key).toArray()[0]?.v;
  }

  setMeta(key: string, value: string): void {
    this.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value);
  }

  // ---- messages ----

  /**
   * Stores the user's copy of a message and returns it with its sync
   * sequence, or null when this copy is already stored (a retried delivery).
   */
  insertMessage(message: C2CMessage, peer: string, outgoing: boolean, now: number): StoredC2CMessage | null {
    const seq = this.seq + 1;
    const written = this.exec(
      `INSERT INTO messages (seq, peer, outgoing, msg_key, sender, receiver, msg_seq, random, time, body, cloud_custom_data, need_receipt, stored_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (peer, msg_key, outgoing) DO NOTHING`,
      seq,
      peer,
      outgoing ? 1 : 0,
      message.key,
      message.from,
      message.to,
      message.msgSeq,
      message.random,
      message.time,
      JSON.stringify(message.body),
      message.cloudCustomData ?? null,
      message.needReadReceipt ? 1 : 0,
      now,
    ).rowsWritten;
    if (written === 0) return null;
    this.seq = seq;
    // A new copy is neither recalled, modified nor read yet: no need to read it back.
    return { ...message, seq, peer, flow: outgoing ? "out" : "in", isRevoked: false, isModified: false, isPeerRead: false, receiptRead: false };
  }

  message(seq: number, { visibleOnly = false } = {}): StoredC2CMessage | null {
    const filter = visibleOnly ? " AND m.hidden = 0" : "";
    const row = this.exec<MessageRow>(`SELECT ${messageColumns} ${fromMessages} WHERE m.seq = ?${filter}`, seq).toArray()[0];
    return row ? toMessage(row) : null;
  }

  findByKey(peer: string, key: string, outgoing?: boolean): StoredC2CMessage | null {
    const rows = this
      .exec<MessageRow>(`SELECT ${messageColumns} ${fromMessages} WHERE m.msg_key = ? AND m.peer = ? ORDER BY m.outgoing DESC`, key, peer)
      .toArray()
      .filter((r) => outgoing === undefined || (r.outgoing === 1) === outgoing);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  /** A message to or from `peer` with this random, stored since `sinceMs`: the first of a retried send. */
  findRetry(peer: string, random: number, outgoing: boolean, sinceMs: number): StoredC2CMessage | null {
    const row = this
      .exec<MessageRow>(
        `SELECT ${messageColumns} ${fromMessages} WHERE m.peer = ? AND m.random = ? AND m.outgoing = ? AND m.stored_at >= ? ORDER BY m.seq DESC LIMIT 1`,
        peer,
        random,
        outgoing ? 1 : 0,
        sinceMs,
      )
      .toArray()[0];
    return row ? toMessage(row) : null;
  }

  /** Messages of one conversation, newest first, before sequence `before` (exclusive). */
  history(peer: string, before: number, limit: number): StoredC2CMessage[] {
    return this
      .exec<MessageRow>(
        `SELECT ${messageColumns} ${fromMessages} WHERE m.peer = ? AND m.seq < ? AND m.hidden = 0 ORDER BY m.seq DESC LIMIT ?`,
        peer,
        before,
        limit,
      )
      .toArray()
      .map(toMessage);
  }

  /** Messages of one conversation within [minTime, maxTime], newest first, before `before`. */
  historyByTime(peer: string, minTime: number, maxTime: number, before: number, limit: number): StoredC2CMessage[] {
    return this
      .exec<MessageRow>(
        `SELECT ${messageColumns} ${fromMessages}
         WHERE m.peer = ? AND m.time >= ? AND m.time <= ? AND m.seq < ? AND m.hidden = 0 ORDER BY m.seq DESC LIMIT ?`,
        peer,
        minTime,
        maxTime,
        before,
        limit,
      )
      .toArray()
      .map(toMessage);
  }

  markRevoked(seq: number): void {
    this.exec("UPDATE messages SET revoked = 1 WHERE seq = ?", seq);
  }

  replaceBody(seq: number, body: MsgBody, cloudCustomData: string | undefined): void {
    this.exec(
      "UPDATE messages SET body = ?, cloud_custom_data = COALESCE(?, cloud_custom_data), modified = 1 WHERE seq = ?",
      JSON.stringify(body),
      cloudCustomData ?? null,
      seq,
    );
  }

  /** Hides the user's copies of these messages; returns the keys that were there. */
  hide(peer: string, keys: string[]): string[] {
    const hidden: string[] = [];
    for (const key of new Set(keys)) {
      const cursor = this.exec("UPDATE messages SET hidden = 1 WHERE peer = ? AND msg_key = ? AND hidden = 0", peer, key);
      if (cursor.rowsWritten > 0) hidden.push(key);
    }
    // A conversation whose last message is now hidden shows the newest one left.
    if (hidden.length > 0) {
      this.exec(
        `UPDATE conversations SET last_seq = (SELECT MAX(seq) FROM messages WHERE peer = ?1 AND hidden = 0)
         WHERE peer = ?1 AND last_seq IN (SELECT seq FROM messages WHERE peer = ?1 AND hidden = 1)`,
        peer,
      );
    }
    return hidden;
  }

  /** Marks outgoing messages as read by the receipt's sender; returns the keys that changed. */
  markReceiptsRead(peer: string, keys: string[]): string[] {
    const changed: string[] = [];
    for (const key of new Set(keys)) {
      const cursor = this.exec(
        "UPDATE messages SET receipt_read = 1 WHERE peer = ? AND msg_key = ? AND outgoing = 1 AND need_receipt = 1 AND receipt_read = 0",
        peer,
        key,
      );
      if (cursor.rowsWritten > 0) changed.push(key);
    }
    return changed;
  }

  // ---- events ----

  appendEvent<E extends EventBody>(event: E, now: number): E & { seq: number } {
    const seq = ++this.seq;
    const { kind, ...data } = event;
    this.exec("INSERT INTO events (seq, kind, data, stored_at) VALUES (?, ?, ?, ?)", seq, kind, JSON.stringify(data), now);
    return { ...event, seq };
  }

  /** Records that a message changed; sync answers it with the message as it is then. */
  appendModified(message: StoredC2CMessage, now: number): UserEvent & { kind: "messageModified" } {
    const seq = ++this.seq;
    const data = { peer: message.peer, key: message.key, outgoing: message.flow === "out" };
    this.exec("INSERT INTO events (seq, kind, data, stored_at) VALUES (?, 'messageModified', ?, ?)", seq, JSON.stringify(data), now);
    return { kind: "messageModified", seq, message };
  }

  /**
   * Everything after `after` in sync order: stored messages (as they are now)
   * and events, scanning at most `limit` sequence numbers. `through` is the last
   * sequence the page covers: rows it leaves out (hidden messages, edits of
   * swept messages) still count, so a short page never hides what follows.
   */
  eventsAfter(after: number, limit: number): { events: UserEvent[]; through: number; complete: boolean } {
    const messages = this
      .exec<MessageRow & { hidden: number }>(`SELECT ${messageColumns}, m.hidden ${fromMessages} WHERE m.seq > ? ORDER BY m.seq LIMIT ?`, after, limit)
      .toArray()
      .map((row) => ({ seq: row.seq, read: (): UserEvent[] => (row.hidden ? [] : [{ kind: "message", seq: row.seq, message: toMessage(row) }]) }));
    const events = this
      .exec<{ seq: number; kind: string; data: string }>("SELECT seq, kind, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
      .toArray()
      .map((row) => ({
        seq: row.seq,
        read: (): UserEvent[] => {
          const data = JSON.parse(row.data) as Record<string, unknown>;
          if (row.kind !== "messageModified") return [{ ...data, kind: row.kind, seq: row.seq } as UserEvent];
          const message = this.findByKey(String(data.peer), String(data.key), Boolean(data.outgoing));
          return message ? [{ kind: "messageModified", seq: row.seq, message }] : [];
        },
      }));
    const page = [...messages, ...events].sort((a, b) => a.seq - b.seq).slice(0, limit);
    const complete = page.length < limit;
    return { events: page.flatMap((row) => row.read()), through: complete ? Math.max(after, this.seq) : page.at(-1)!.seq, complete };
  }

  /** When the oldest message or event still held was stored (epoch ms), or null when there is none. */
  oldestStoredAt(): number | null {
    const row = this
      .exec<{ oldest: number | null }>("SELECT MIN(t) AS oldest FROM (SELECT MIN(time) * 1000 AS t FROM messages UNION ALL SELECT MIN(stored_at) FROM events)")
      .one();
    return row.oldest;
  }

  // ---- conversations ----

  /** Records a new message in its conversation (creating the conversation if needed). */
  touchConversation(peer: string, message: StoredC2CMessage | null, time: number, options: { unread: boolean; lastMessage: boolean }): void {
    this.exec(
      `INSERT INTO conversations (peer, last_seq, time, unread) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (peer) DO UPDATE SET
         last_seq = CASE WHEN ?2 IS NULL THEN last_seq ELSE ?2 END,
         time = MAX(time, ?3),
         unread = unread + ?4`,
      peer,
      options.lastMessage && message ? message.seq : null,
      time,
      options.unread ? 1 : 0,
    );
  }

  conversation(peer: string): Conversation | null {
    const row = this.exec<ConversationRow>("SELECT peer, last_seq, time, unread, pinned FROM conversations WHERE peer = ? AND time > 0", peer).toArray()[0];
    return row ? this.toConversation(row) : null;
  }

  conversations(offset: number, limit: number): Conversation[] {
    return this
      .exec<ConversationRow>(
        "SELECT peer, last_seq, time, unread, pinned FROM conversations WHERE time > 0 ORDER BY pinned DESC, time DESC, peer LIMIT ? OFFSET ?",
        limit,
        offset,
      )
      .toArray()
      .map((row) => this.toConversation(row));
  }

  private toConversation(row: ConversationRow): Conversation {
    return {
      peer: row.peer,
      lastMessage: row.last_seq === null ? null : this.message(row.last_seq, { visibleOnly: true }),
      time: row.time,
      unreadCount: row.unread,
      pinned: row.pinned === 1,
    };
  }

  /** Unread counts of the given peers, or of the (at most 1,000) most recent conversations with any. */
  unreadCounts(peers?: string[]): { peer: string; unread: number }[] {
    if (!peers) {
      return this
        .exec<{ peer: string; unread: number }>("SELECT peer, unread FROM conversations WHERE time > 0 AND unread > 0 ORDER BY time DESC LIMIT 1000")
        .toArray();
    }
    return peers.map((peer) => ({
      peer,
      unread: this.exec<{ unread: number }>("SELECT unread FROM conversations WHERE peer = ? AND time > 0", peer).toArray()[0]?.unread ?? 0,
    }));
  }

  totalUnread(): number {
    return this.exec<{ total: number | null }>("SELECT SUM(unread) AS total FROM conversations WHERE time > 0").one().total ?? 0;
  }

  /** Clears the unread count; returns the newest incoming message read up to `maxTime`, if any. */
  markRead(peer: string, maxTime: number): { changed: boolean; readUpTo: StoredC2CMessage | null } {
    const conversation = this.exec<{ unread: number; read_seq: number }>("SELECT unread, read_seq FROM conversations WHERE peer = ?", peer).toArray()[0];
    if (!conversation) return { changed: false, readUpTo: null };
    const row = this
      .exec<MessageRow>(
        `SELECT ${messageColumns} ${fromMessages} WHERE m.peer = ? AND m.outgoing = 0 AND m.time <= ? ORDER BY m.seq DESC LIMIT 1`,
        peer,
        maxTime,
      )
      .toArray()[0];
    const moved = row !== undefined && row.seq > conversation.read_seq;
    if (!moved && conversation.unread === 0) return { changed: false, readUpTo: null };
    this.exec("UPDATE conversations SET unread = 0, read_seq = MAX(read_seq, ?) WHERE peer = ?", row?.seq ?? 0, peer);
    return { changed: true, readUpTo: moved ? toMessage(row) : null };
  }

  /** The peer read up to the user's message `seq`. Returns whether that moved the read point. */
  setPeerRead(peer: string, seq: number): boolean {
    return this.exec("UPDATE conversations SET peer_read_seq = ? WHERE peer = ? AND peer_read_seq < ?", seq, peer, seq).rowsWritten > 0;
  }

  setPinned(peer: string, pinned: boolean): boolean {
    return this.exec("UPDATE conversations SET pinned = ? WHERE peer = ? AND time > 0 AND pinned <> ?", pinned ? 1 : 0, peer, pinned ? 1 : 0).rowsWritten > 0;
  }

  /** Removes the conversation from the list (and its history, if asked). Returns whether it existed. */
  deleteConversation(peer: string, clearHistory: boolean): boolean {
    const existed = this.exec("UPDATE conversations SET time = 0, unread = 0, last_seq = NULL, pinned = 0 WHERE peer = ? AND time > 0", peer).rowsWritten > 0;
    if (clearHistory) this.exec("UPDATE messages SET hidden = 1 WHERE peer = ?", peer);
    return existed;
  }

  // ---- retention ----

  /** Deletes messages sent, and events recorded, before `beforeMs`. Returns how many rows went. */
  sweep(beforeMs: number): number {
    const messages = this.exec("DELETE FROM messages WHERE time < ?", Math.floor(beforeMs / 1000)).rowsWritten;
    const events = this.exec("DELETE FROM events WHERE stored_at < ?", beforeMs).rowsWritten;
    if (messages + events > 0) this.setMeta("seq_floor", String(this.seq));
    return messages + events;
  }

  // ---- the user's side of its group conversations ----

  groupStates(): Map<string, GroupState> {
    const rows = this.exec<{ group_id: string; read_seq: number; read_count: number; pinned: number; hidden_up_to: number; mention_seq: number }>("SELECT * FROM group_state").toArray();
    return new Map(
      rows.map((r) => [r.group_id, { readSeq: r.read_seq, readCount: r.read_count, pinned: r.pinned === 1, hiddenUpTo: r.hidden_up_to, mentionSeq: r.mention_seq }]),
    );
  }

  groupState(groupId: string): GroupState {
    return this.groupStates().get(groupId) ?? { readSeq: 0, readCount: 0, pinned: false, hiddenUpTo: -1, mentionSeq: 0 };
  }

  /** Sets the read point where it is told (set_unread_msg_num may move it back); returns whether it changed. */
  setGroupReadPoint(groupId: string, seq: number, count: number): boolean {
    return (
      this.exec(
        "INSERT INTO group_state (group_id, read_seq, read_count) VALUES (?1, ?2, ?3) ON CONFLICT (group_id) DO UPDATE SET read_seq = ?2, read_count = ?3 WHERE read_seq <> ?2 OR read_count <> ?3",
        groupId,
        seq,
        count,
      ).rowsWritten > 0
    );
  }

  /** Records a mention of the user at `seq`; returns whether it is newer than the one kept. */
  setGroupMention(groupId: string, seq: number): boolean {
    return (
      this.exec(
        "INSERT INTO group_state (group_id, mention_seq) VALUES (?1, ?2) ON CONFLICT (group_id) DO UPDATE SET mention_seq = ?2 WHERE mention_seq < ?2",
        groupId,
        seq,
      ).rowsWritten > 0
    );
  }

  /** Moves the read point forward; returns whether it moved. */
  setGroupRead(groupId: string, seq: number, count: number): boolean {
    return (
      this.exec(
        "INSERT INTO group_state (group_id, read_seq, read_count) VALUES (?1, ?2, ?3) ON CONFLICT (group_id) DO UPDATE SET read_seq = ?2, read_count = ?3 WHERE read_seq < ?2",
        groupId,
        seq,
        count,
      ).rowsWritten > 0
    );
  }

  setGroupPinned(groupId: string, pinned: boolean): boolean {
    return (
      this.exec(
        "INSERT INTO group_state (group_id, pinned) VALUES (?1, ?2) ON CONFLICT (group_id) DO UPDATE SET pinned = ?2 WHERE pinned <> ?2",
        groupId,
        pinned ? 1 : 0,
      ).rowsWritten > 0
    );
  }

  /** Takes the conversation out of the list until a message after `upTo` arrives. */
  hideGroupConversation(groupId: string, upTo: number, count: number): void {
    this.exec(
      `INSERT INTO group_state (group_id, hidden_up_to, read_seq, read_count) VALUES (?1, ?2, ?2, ?3) ON CONFLICT (group_id) DO UPDATE SET
         hidden_up_to = ?2, read_seq = MAX(read_seq, ?2), read_count = MAX(read_count, ?3), pinned = 0`,
      groupId,
      upTo,
      count,
    );
  }

  /** Removes everything (the account was deleted). */
  purge(): void {
    for (const table of ["messages", "events", "conversations", "group_state"]) this.exec(`DELETE FROM ${table}`);
    this.exec("DELETE FROM meta WHERE k <> 'schema_version'");
    this.seq = 0;
  }
}
