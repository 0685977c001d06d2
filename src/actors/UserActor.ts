/**
 * UserActor: one per (SDKAppID, UserID). Holds the user's WebSockets
 * (hibernating), the user's copy of every one-to-one message, the user's sync
 * sequence and conversation list. A send is answered only after both sides'
 * stores have written it.
 */
import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import { isAppAdmin, viewOf, type App, type AppSettings, type AppView } from "../domain/app.ts";
import { checkCredentials } from "../domain/auth.ts";
import { devicesToKick, type Device, type Platform } from "../domain/devices.ts";
import { capture, ErrorCode, ImError, unwrap, type Outcome } from "../domain/errors.ts";
import type { Conversation, SyncPage, UserEvent } from "../domain/events.ts";
import { checkMessageSize, msgKey, type C2CDraft, type C2CMessage, type MsgBody, type StoredC2CMessage } from "../domain/message.ts";
import { ConnectQuery, heartbeatPing, heartbeatPong, type OpData, type OpName } from "../domain/protocol.ts";
import type { Env } from "../env.ts";
import { CloseCode, closeSocket, handleFrame, send, type SessionHost } from "../gateway/session.ts";
import { countEntries, entryCounts, type EntryCounts } from "../ops/entryCount.ts";
import { logEvent } from "../ops/log.ts";
import { findAccount } from "../store/accounts.ts";
import { SnsContext, type SnsEvent } from "../sns/context.ts";
import { RelationStore } from "../store/relations.ts";
import { friendshipSendCode } from "../domain/relations.ts";
import { userOps, type OpContext } from "./userOps.ts";
import { UserStore } from "./UserStore.ts";

export interface UserRef {
  sdkAppId: number;
  userId: string;
}

export interface SendResult {
  key: string;
  time: number;
  msgSeq: number;
  random: number;
  /** The sender's sync sequence of its copy; 0 when the sender keeps none. */
  seq: number;
}

export interface DeliveryOptions {
  unread: boolean;
  lastMessage: boolean;
  /** Push to the recipient's online devices (false for imported history). */
  push: boolean;
}

/** What the recipient checks before accepting a message (not for imported history). */
export interface SenderRelation {
  /** Whether the sender lists the recipient as a friend; set when the app requires friendship. */
  senderHasRecipient?: boolean;
}

/** What a socket carries through hibernation. */
interface Attachment {
  sdkAppId: number;
  userId: string;
  device: string;
  platform: Platform;
  connectedAt: number;
  loggedInAt?: number;
  sigExpiresAt?: number;
}

/** A retried send (same peer and MsgRandom) inside this window returns the first result. */
const dedupeWindowMs = 5 * 60_000;
const loginDeadlineMs = 10_000;
const maxPendingSockets = 16;
const settingsCacheMs = 60_000;
const sweepEveryMs = 6 * 3600_000;
/** A device with no heartbeat for this long counts as PushOnline (Tencent: 400 s). */
const heartbeatStaleMs = 400_000;
const maxRecentSends = 512;

export function userActorName(ref: UserRef): string {
  return `${ref.sdkAppId}:${ref.userId}`;
}

export class UserActor extends DurableObject<Env> implements SessionHost {
  private readonly store: UserStore;
  private app?: { record: App; at: number };
  private accountExists = false;
  private peerQueues = new Map<string, Promise<unknown>>();
  /** Sends of the last few minutes by (peer, MsgRandom), covering online-only ones the store never sees. */
  private recentSends = new Map<string, { sending: Promise<SendResult>; at: number }>();
  /** Since when `recentSends` holds every send: the actor's start, or the newest entry it let go. */
  private rememberedSince = Date.now();
  private lastFrameAt = new WeakMap<WebSocket, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new UserStore(ctx.storage.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(heartbeatPing, heartbeatPong));
    return countEntries(this, ["storageUsage"]);
  }

  // ---------------------------------------------------------------- sending

  /** Sends a one-to-one message from this user. */
  async sendC2C(me: UserRef, draft: C2CDraft): Promise<Outcome<SendResult>> {
    return capture(async () => {
      if (draft.to === me.userId) throw new ImError(ErrorCode.toAccountInvalid, "a message cannot be sent to oneself");
      checkMessageSize(draft.body, draft.cloudCustomData);
      await this.requireAccount(me, ErrorCode.fromAccountInvalid);
      const dedupeKey = `${draft.to}\n${draft.random}`;
      const now = Date.now();
      const recent = this.recentSends.get(dedupeKey);
      if (recent && now - recent.at < dedupeWindowMs) return recent.sending;
      // Memory holds every send since `rememberedSince`; before that, ask the store.
      if (now - dedupeWindowMs < this.rememberedSince) {
        const retried = this.store.findRetry(draft.to, draft.random, true, now - dedupeWindowMs);
        if (retried) return resultOf(retried);
      }

      const sending = this.inOrder(draft.to, () => this.deliver(me, draft));
      this.remember(dedupeKey, sending);
      return sending;
    });
  }

  /** No timers: a pending timer would keep the actor from hibernating. Old entries go as new ones come. */
  private remember(key: string, sending: Promise<SendResult>): void {
    const entry = { sending, at: Date.now() };
    this.recentSends.delete(key);
    this.recentSends.set(key, entry);
    sending.catch(() => this.recentSends.get(key) === entry && this.recentSends.delete(key));
    for (const [oldKey, old] of this.recentSends) {
      if (this.recentSends.size <= maxRecentSends && entry.at - old.at < dedupeWindowMs) break;
      this.recentSends.delete(oldKey);
      this.rememberedSince = Math.max(this.rememberedSince, old.at);
    }
  }

  /** Messages to one peer leave in the order they were sent. */
  private inOrder<T>(peer: string, work: () => Promise<T>): Promise<T> {
    const previous = this.peerQueues.get(peer) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.peerQueues.set(peer, settled);
    void settled.then(() => this.peerQueues.get(peer) === settled && this.peerQueues.delete(peer));
    return next;
  }

  private async deliver(me: UserRef, draft: C2CDraft): Promise<SendResult> {
    const now = Date.now();
    const time = Math.floor(now / 1000);
    const msgSeq = draft.msgSeq ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    const message: C2CMessage = {
      key: msgKey(msgSeq, draft.random, time),
      from: me.userId,
      to: draft.to,
      msgSeq,
      random: draft.random,
      time,
      body: draft.body,
    };
    if (draft.cloudCustomData !== undefined) message.cloudCustomData = draft.cloudCustomData;
    if (draft.needReadReceipt) message.needReadReceipt = true;
    const peer = this.peer(me, draft.to);

    const relation: SenderRelation = {};
    if ((await this.settings(me)).requireFriendship) relation.senderHasRecipient = (await this.friends(me)).has(draft.to);
    if (draft.lifeTimeSeconds === 0) {
      unwrap(await peer.actor.pushOnline(peer.ref, message, relation));
      if (draft.syncToSender !== false) this.push({ kind: "message", seq: 0, message: this.view(message, draft.to, true) });
      return resultOf({ ...message, seq: 0 });
    }
    const received = unwrap(
      await peer.actor.receiveC2C(peer.ref, message, { unread: !draft.noUnread, lastMessage: !draft.noLastMessage, push: true }, relation),
    );
    // A retry whose first attempt reached the recipient (and not, before a crash, this store)
    // takes the first attempt's key and time, so both sides hold the same message once.
    const canonical = { ...message, key: received.key, time: received.time, msgSeq: received.msgSeq };
    if (draft.syncToSender === false) return resultOf({ ...canonical, seq: 0 });
    return resultOf(this.storeMessage(canonical, draft.to, true, { unread: false, lastMessage: !draft.noLastMessage, push: true }, now));
  }

  /**
   * Stores the recipient's copy of a message and answers with the copy kept:
   * idempotent on the message key, and on (sender, MsgRandom) within the
   * dedupe window, so a sender's retry never makes a second copy.
   */
  async receiveC2C(
    me: UserRef,
    message: C2CMessage,
    options: DeliveryOptions,
    relation: SenderRelation,
  ): Promise<Outcome<{ seq: number; key: string; time: number; msgSeq: number }>> {
    return capture(async () => {
      await this.requireAccount(me);
      await this.admitFrom(me, message.from, relation);
      const now = Date.now();
      const kept = this.store.findRetry(message.from, message.random, false, now - dedupeWindowMs) ?? this.storeMessage(message, message.from, false, options, now);
      return { seq: kept.seq, key: kept.key, time: kept.time, msgSeq: kept.msgSeq };
    });
  }

  /** Delivers an online-only message (MsgLifeTime 0) to the devices connected now; stores nothing. */
  async pushOnline(me: UserRef, message: C2CMessage, relation: SenderRelation): Promise<Outcome<{ devices: number }>> {
    return capture(async () => {
      await this.requireAccount(me);
      await this.admitFrom(me, message.from, relation);
      return { devices: this.push({ kind: "message", seq: 0, message: this.view(message, message.from, false) }) };
    });
  }

  /** Refuses a message from someone this user blocked (20007), or a non-friend when the app requires friendship. */
  private async admitFrom(me: UserRef, sender: string, relation: SenderRelation): Promise<void> {
    if ((await this.blocked(me)).has(sender)) throw new ImError(ErrorCode.senderBlocked, "the recipient has blocked the sender");
    if (relation.senderHasRecipient !== undefined) {
      const code = friendshipSendCode(relation.senderHasRecipient, (await this.friends(me)).has(sender));
      if (code !== 0) throw new ImError(code, code === 20009 ? "the sender and recipient are not friends" : "the sender and recipient are friends only one way");
    }
  }

  /** Profile and relationship changes: drop cached relations and tell this user's devices. */
  async relationsChanged(me: UserRef, events: SnsEvent[], data: Record<string, unknown>): Promise<Outcome<void>> {
    return capture(() => {
      this.identify(me);
      this.blockedCache = undefined;
      this.friendCache = undefined;
      for (const event of events) for (const { ws } of this.sessions()) send(ws, { event, data });
    });
  }

  /** The user's blocklist (at most 1,000), held while the actor is awake. */
  private blockedCache?: Promise<Set<string>>;
  /** The user's friends (at most 3,000), held while awake, only when the app requires friendship. */
  private friendCache?: Promise<Set<string>>;

  private blocked(me: UserRef): Promise<Set<string>> {
    this.blockedCache ??= new RelationStore(this.env.DB, me.sdkAppId).allBlocked(me.userId).then((ids) => new Set(ids));
    this.blockedCache.catch(() => (this.blockedCache = undefined));
    return this.blockedCache;
  }

  private friends(me: UserRef): Promise<Set<string>> {
    this.friendCache ??= new RelationStore(this.env.DB, me.sdkAppId).allFriendIds(me.userId).then((ids) => new Set(ids));
    this.friendCache.catch(() => (this.friendCache = undefined));
    return this.friendCache;
  }

  /** Imports a message into this user's history (importmsg): as sent or as received. */
  async importMessage(me: UserRef, message: C2CMessage, outgoing: boolean, options: DeliveryOptions): Promise<Outcome<{ seq: number }>> {
    return capture(async () => {
      await this.requireAccount(me, outgoing ? ErrorCode.fromAccountInvalid : ErrorCode.toAccountNotFound);
      const peer = outgoing ? message.to : message.from;
      return { seq: this.storeMessage(message, peer, outgoing, options, Date.now()).seq };
    });
  }

  /** Stores this user's copy (idempotent on the message key) and pushes it to the user's devices. */
  private storeMessage(message: C2CMessage, peer: string, outgoing: boolean, options: DeliveryOptions, now: number): StoredC2CMessage {
    const stored = this.ctx.storage.transactionSync(() => {
      if (this.store.lastSeq() === 0 && this.ref) this.store.setMeta("user", JSON.stringify(this.ref));
      const copy = this.store.insertMessage(message, peer, outgoing, now);
      if (!copy) return null;
      this.store.touchConversation(peer, copy, message.time, { unread: options.unread && !outgoing, lastMessage: options.lastMessage });
      return copy;
    });
    if (!stored) return this.store.findByKey(peer, message.key, outgoing)!;
    this.scheduleSweep();
    if (options.push) this.push({ kind: "message", seq: stored.seq, message: stored });
    return stored;
  }

  private view(message: C2CMessage, peer: string, outgoing: boolean): StoredC2CMessage {
    return { ...message, seq: 0, peer, flow: outgoing ? "out" : "in", isRevoked: false, isModified: false, isPeerRead: false, receiptRead: false };
  }

  // ---------------------------------------------------------------- reading

  async sync(me: UserRef, after: number, limit = 100): Promise<Outcome<SyncPage>> {
    return capture(() => {
      this.identify(me);
      const events = this.store.eventsAfter(after, limit);
      const last = this.store.lastSeq();
      const complete = events.length < limit;
      return { events, cursor: complete ? Math.max(after, last) : events.at(-1)!.seq, complete };
    });
  }

  /** One conversation's history, newest first, before sync sequence `before`. */
  async getMessageList(me: UserRef, peer: string, before: number | undefined, limit = 20): Promise<Outcome<{ messages: StoredC2CMessage[]; complete: boolean; next: number }>> {
    return capture(() => {
      this.identify(me);
      const messages = this.store.history(peer, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
      const complete = messages.length <= limit;
      const page = messages.slice(0, limit);
      return { messages: page, complete, next: page.at(-1)?.seq ?? 0 };
    });
  }

  /** History within a time range (admin_getroammsg), newest first, before sync sequence `before`. */
  async roamMessages(
    me: UserRef,
    peer: string,
    range: { minTime: number; maxTime: number; before?: number; limit: number },
  ): Promise<Outcome<{ messages: StoredC2CMessage[]; complete: boolean }>> {
    return capture(() => {
      this.identify(me);
      const rows = this.store.historyByTime(peer, range.minTime, range.maxTime, range.before ?? Number.MAX_SAFE_INTEGER, range.limit + 1);
      return { messages: rows.slice(0, range.limit), complete: rows.length <= range.limit };
    });
  }

  /** Finds a message of this user's by key (admin tools that address messages by MsgKey). */
  async findMessage(me: UserRef, peer: string, key: string): Promise<Outcome<StoredC2CMessage | null>> {
    return capture(() => {
      this.identify(me);
      return this.store.findByKey(peer, key);
    });
  }

  // ---------------------------------------------------------------- conversations

  async listConversations(me: UserRef, offset = 0, limit = 100): Promise<Outcome<{ conversations: Conversation[]; complete: boolean }>> {
    return capture(() => {
      this.identify(me);
      const rows = this.store.conversations(offset, limit + 1);
      return { conversations: rows.slice(0, limit), complete: rows.length <= limit };
    });
  }

  async deleteConversation(me: UserRef, peer: string, clearHistory: boolean): Promise<Outcome<{ deleted: boolean }>> {
    return capture(() => {
      this.identify(me);
      const deleted = this.ctx.storage.transactionSync(() => {
        const existed = this.store.deleteConversation(peer, clearHistory);
        if (existed) this.announce({ kind: "conversationDeleted", peer });
        return existed;
      });
      return { deleted };
    });
  }

  async pinConversation(me: UserRef, peer: string, pinned: boolean): Promise<Outcome<{ pinned: boolean }>> {
    return capture(() => {
      this.identify(me);
      if (!this.store.conversation(peer)) throw new ImError(ErrorCode.invalidParameter, `there is no conversation with "${peer}"`);
      this.ctx.storage.transactionSync(() => {
        if (this.store.setPinned(peer, pinned)) this.announce({ kind: "conversationPinned", peer, pinned });
      });
      return { pinned };
    });
  }

  async unread(me: UserRef, peers?: string[]): Promise<Outcome<{ total: number; byPeer: { peer: string; unread: number }[] }>> {
    return capture(() => {
      this.identify(me);
      return { total: this.store.totalUnread(), byPeer: this.store.unreadCounts(peers) };
    });
  }

  // ---------------------------------------------------------------- read state and receipts

  /** Marks a conversation read (up to `maxTime`, unix seconds, or everything) and tells the peer. */
  async markRead(me: UserRef, peer: string, maxTime?: number): Promise<Outcome<{ unread: 0 }>> {
    return capture(async () => {
      this.identify(me);
      const readUpTo = this.ctx.storage.transactionSync(() => {
        const last = this.store.markRead(peer, maxTime ?? Number.MAX_SAFE_INTEGER);
        this.announce({ kind: "conversationRead", peer });
        return last;
      });
      if (readUpTo) {
        const other = this.peer(me, peer);
        unwrap(await other.actor.applyPeerRead(other.ref, me.userId, readUpTo.key));
      }
      return { unread: 0 as const };
    });
  }

  /** The peer read this user's messages up to and including `key`. */
  async applyPeerRead(me: UserRef, peer: string, key: string): Promise<Outcome<void>> {
    return capture(() => {
      this.identify(me);
      const message = this.store.findByKey(peer, key, true);
      if (!message) return;
      this.ctx.storage.transactionSync(() => {
        if (this.store.setPeerRead(peer, message.seq)) this.announce({ kind: "peerRead", peer, key });
      });
    });
  }

  /** Sends read receipts for messages received from `peer` that asked for one. */
  async sendReadReceipts(me: UserRef, peer: string, keys: string[]): Promise<Outcome<{ keys: string[] }>> {
    return capture(async () => {
      this.identify(me);
      const wanted = keys.filter((key) => this.store.findByKey(peer, key, false)?.needReadReceipt);
      if (wanted.length === 0) return { keys: [] };
      const other = this.peer(me, peer);
      return unwrap(await other.actor.applyReadReceipts(other.ref, me.userId, wanted));
    });
  }

  async applyReadReceipts(me: UserRef, peer: string, keys: string[]): Promise<Outcome<{ keys: string[] }>> {
    return capture(() => {
      this.identify(me);
      return this.ctx.storage.transactionSync(() => {
        const changed = this.store.markReceiptsRead(peer, keys);
        if (changed.length > 0) this.announce({ kind: "readReceipts", peer, keys: changed });
        return { keys: changed };
      });
    });
  }

  // ---------------------------------------------------------------- recall, edit, delete

  /**
   * Recalls a message this user sent to `peer`. Clients may do so within the
   * app's window; admins (`byAdmin`) at any time.
   */
  async revoke(me: UserRef, peer: string, key: string, byAdmin: boolean): Promise<Outcome<void>> {
    return capture(async () => {
      this.identify(me);
      const message = this.store.findByKey(peer, key, true);
      if (!message) throw new ImError(ErrorCode.messageNotFound, "the message to recall does not exist");
      if (message.isRevoked) throw new ImError(ErrorCode.messageAlreadyRecalled, "the message was already recalled");
      if (!byAdmin) {
        const window = (await this.settings(me)).recallWindowSeconds;
        if (Date.now() / 1000 - message.time > window) {
          throw new ImError(ErrorCode.recallWindowPassed, `messages can be recalled within ${window} seconds of sending`);
        }
      }
      const other = this.peer(me, peer);
      unwrap(await other.actor.applyRevoke(other.ref, me.userId, key));
      this.applyRevokeHere(peer, key, true);
    });
  }

  /** The sender recalled a message it sent this user. */
  async applyRevoke(me: UserRef, peer: string, key: string): Promise<Outcome<void>> {
    return capture(() => {
      this.identify(me);
      this.applyRevokeHere(peer, key, false);
    });
  }

  private applyRevokeHere(peer: string, key: string, outgoing: boolean): void {
    const message = this.store.findByKey(peer, key, outgoing);
    if (!message || message.isRevoked) return;
    this.ctx.storage.transactionSync(() => {
      this.store.markRevoked(message.seq);
      this.announce({ kind: "messageRevoked", peer, key });
    });
  }

  /** Replaces the body of a message this user sent (modify_c2c_msg, or the sender's client). */
  async modify(me: UserRef, peer: string, key: string, body: MsgBody, cloudCustomData?: string): Promise<Outcome<StoredC2CMessage>> {
    return capture(async () => {
      this.identify(me);
      const message = this.store.findByKey(peer, key, true);
      if (!message) throw new ImError(ErrorCode.messageNotFound, "the message to modify does not exist");
      if (message.isRevoked) throw new ImError(ErrorCode.messageAlreadyRecalled, "a recalled message cannot be modified");
      checkMessageSize(body, cloudCustomData ?? message.cloudCustomData);
      const other = this.peer(me, peer);
      unwrap(await other.actor.applyModify(other.ref, me.userId, key, body, cloudCustomData));
      return this.applyModifyHere(peer, key, true, body, cloudCustomData)!;
    });
  }

  async applyModify(me: UserRef, peer: string, key: string, body: MsgBody, cloudCustomData?: string): Promise<Outcome<void>> {
    return capture(() => {
      this.identify(me);
      this.applyModifyHere(peer, key, false, body, cloudCustomData);
    });
  }

  private applyModifyHere(peer: string, key: string, outgoing: boolean, body: MsgBody, cloudCustomData?: string): StoredC2CMessage | null {
    const message = this.store.findByKey(peer, key, outgoing);
    if (!message) return null;
    return this.ctx.storage.transactionSync(() => {
      this.store.replaceBody(message.seq, body, cloudCustomData);
      const modified = this.store.message(message.seq)!;
      // A modification is an event of its own, so devices that synced the original see the change.
      this.push(this.store.appendModified(modified, Date.now()));
      return modified;
    });
  }

  /** Deletes messages from this user's own history only. */
  async deleteMessages(me: UserRef, peer: string, keys: string[]): Promise<Outcome<{ keys: string[] }>> {
    return capture(() => {
      this.identify(me);
      return this.ctx.storage.transactionSync(() => {
        const hidden = this.store.hide(peer, keys);
        if (hidden.length > 0) this.announce({ kind: "messagesDeleted", peer, keys: hidden });
        return { keys: hidden };
      });
    });
  }

  // ---------------------------------------------------------------- presence and sessions

  async onlineStatus(me: UserRef): Promise<Outcome<{ status: "Online" | "PushOnline" | "Offline"; devices: { platform: Platform; status: "Online" | "PushOnline" }[] }>> {
    return capture(() => {
      this.identify(me);
      const now = Date.now();
      const devices = this.sessions().map(({ ws, attachment }) => {
        const lastSeen = Math.max(
          attachment.loggedInAt ?? 0,
          this.lastFrameAt.get(ws) ?? 0,
          this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0,
        );
        return { platform: attachment.platform, status: now - lastSeen < heartbeatStaleMs ? ("Online" as const) : ("PushOnline" as const) };
      });
      const status = devices.some((d) => d.status === "Online") ? "Online" : devices.length > 0 ? "PushOnline" : "Offline";
      return { status, devices };
    });
  }

  /** Since this actor woke: its entries and the SQLite rows it wrote (index entries included), the per-message cost. */
  async storageUsage(): Promise<EntryCounts & { rowsWritten: number }> {
    return { ...entryCounts(this), ...this.store.usage };
  }

  /** Logs the user out everywhere (REST kick, or account deletion). */
  async kick(me: UserRef, reason: string): Promise<Outcome<{ devices: number }>> {
    return capture(() => {
      this.identify(me);
      const sessions = this.sessions();
      for (const { ws } of sessions) this.kickSocket(ws, reason);
      return { devices: sessions.length };
    });
  }

  /** Removes everything this actor holds for the user (the account was deleted). */
  async purge(me: UserRef): Promise<Outcome<void>> {
    return capture(async () => {
      this.identify(me);
      for (const ws of this.ctx.getWebSockets()) this.kickSocket(ws, "accountDeleted");
      this.store.purge();
      this.accountExists = false;
      await this.ctx.storage.deleteAlarm();
    });
  }

  private kickSocket(ws: WebSocket, reason: string): void {
    send(ws, { event: "kickedOut", data: { reason } });
    closeSocket(ws, CloseCode.kickedOut, reason);
  }

  // ---------------------------------------------------------------- WebSocket lifecycle

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const query = ConnectQuery.parse(Object.fromEntries(new URL(request.url).searchParams));
    const me = { sdkAppId: query.sdkappid, userId: query.userid };
    this.identify(me);
    const pending = this.ctx.getWebSockets().filter((ws) => !this.attachment(ws).loggedInAt).length;
    if (pending >= maxPendingSockets) return new Response("too many connections waiting to log in", { status: 429 });

    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    const attachment: Attachment = {
      ...me,
      device: query.device ?? crypto.randomUUID(),
      platform: query.platform,
      connectedAt: Date.now(),
    };
    this.setAttachment(server, attachment);
    await this.scheduleAlarm(attachment.connectedAt + loginDeadlineMs);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.lastFrameAt.set(ws, Date.now());
    await handleFrame(this, ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const attachment = this.attachment(ws);
    if (attachment.loggedInAt) logEvent({ event: "ws", op: "disconnect", app: attachment.sdkAppId, user: attachment.userId, platform: attachment.platform, code });
    closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeSocket(ws, 1011, "error");
  }

  // SessionHost

  isLoggedIn(ws: WebSocket): boolean {
    return this.attachment(ws).loggedInAt !== undefined;
  }

  sigExpiresAt(ws: WebSocket): number {
    return this.attachment(ws).sigExpiresAt ?? 0;
  }

  async frameRate(ws: WebSocket): Promise<number> {
    const attachment = this.attachment(ws);
    return (await this.settings(attachment)).connectionFrameRate;
  }

  async login(ws: WebSocket, data: z.infer<(typeof OpData)["login"]>): Promise<Outcome<unknown>> {
    const started = Date.now();
    const attachment = this.attachment(ws);
    const me = { sdkAppId: attachment.sdkAppId, userId: attachment.userId };
    // Verified here, with the app's keys cached in this actor: logins never queue on one object per app.
    const grant = await capture(async () => {
      const app = await this.appRecord(me);
      const sigExpiresAt = await checkCredentials(app, { sdkAppId: me.sdkAppId, identifier: me.userId, userSig: data.userSig });
      await this.requireAccount(me, ErrorCode.accountNotFound);
      return { app: viewOf(app), sigExpiresAt };
    });
    logEvent({ event: "ws", op: "login", app: me.sdkAppId, user: me.userId, platform: attachment.platform, code: grant.ok ? 0 : grant.code, ms: Date.now() - started });
    if (!grant.ok) return grant;
    const { app, sigExpiresAt } = grant.value;

    const incoming: Device = { id: attachment.device, platform: attachment.platform, loggedInAt: Date.now() };
    const others = this.sessions().filter((s) => s.ws !== ws);
    const kick = new Set(devicesToKick(others.map((s) => this.deviceOf(s.attachment)), incoming, app.settings.loginPolicy).map((d) => d.id));
    for (const other of others) {
      if (kick.has(other.attachment.device)) this.kickSocket(other.ws, other.attachment.device === incoming.id ? "sameDeviceLogin" : "multipleLogin");
    }
    this.setAttachment(ws, { ...attachment, loggedInAt: incoming.loggedInAt, sigExpiresAt });
    await this.scheduleAlarm(sigExpiresAt * 1000);
    return { ok: true, value: { userId: me.userId, device: attachment.device, seq: this.store.lastSeq(), serverTime: Math.floor(Date.now() / 1000) } };
  }

  async runOp(ws: WebSocket, op: Exclude<OpName, "login">, data: unknown): Promise<Outcome<unknown>> {
    const { sdkAppId, userId } = this.attachment(ws);
    const me = { sdkAppId, userId };
    const handler = userOps[op] as (c: OpContext, data: unknown) => Promise<Outcome<unknown>>;
    return handler(
      {
        actor: this,
        me,
        closeSoon: () => setTimeout(() => closeSocket(ws, CloseCode.loggedOut, "logged out"), 0),
        sns: async () => new SnsContext(this.env, await this.appView(me), (p) => this.ctx.waitUntil(p)),
      },
      data,
    );
  }

  // ---------------------------------------------------------------- alarm: login deadlines, expired UserSigs, retention

  override async alarm(): Promise<void> {
    const now = Date.now();
    let next = Infinity;
    for (const ws of this.ctx.getWebSockets()) {
      const a = this.attachment(ws);
      if (!a.loggedInAt) {
        if (now >= a.connectedAt + loginDeadlineMs) closeSocket(ws, CloseCode.loginRequired, "no login within 10 seconds");
        else next = Math.min(next, a.connectedAt + loginDeadlineMs);
      } else if (a.sigExpiresAt !== undefined) {
        if (now >= a.sigExpiresAt * 1000) {
          send(ws, { event: "userSigExpired", data: {} });
          closeSocket(ws, CloseCode.userSigExpired, "UserSig expired");
        } else next = Math.min(next, a.sigExpiresAt * 1000);
      }
    }
    const ref = this.storedRef();
    if (ref && this.store.lastSeq() > 0) {
      const lastSweep = Number(this.store.meta("last_sweep") ?? 0);
      if (now - lastSweep >= sweepEveryMs) {
        const retentionMs = (await this.settings(ref)).retentionDays * 86_400_000;
        this.store.sweep(now - retentionMs);
        this.store.setMeta("last_sweep", String(now));
      }
      next = Math.min(next, Math.max(now, lastSweep) + sweepEveryMs);
    }
    if (next !== Infinity) await this.ctx.storage.setAlarm(next);
  }

  private sweepScheduled = false;

  private scheduleSweep(): void {
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    void this.scheduleAlarm(Date.now() + sweepEveryMs);
  }

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  // ---------------------------------------------------------------- helpers

  /** Records an event in the user's sequence and pushes it to the user's devices. */
  private announce(event: Parameters<UserStore["appendEvent"]>[0]): void {
    this.push(this.store.appendEvent(event, Date.now()));
  }

  /** Pushes an event to every logged-in device. Returns how many got it. */
  private push(event: UserEvent): number {
    const sessions = this.sessions();
    for (const { ws } of sessions) send(ws, { event: event.kind, data: event });
    return sessions.length;
  }

  private sessions(): { ws: WebSocket; attachment: Attachment }[] {
    return this.ctx
      .getWebSockets()
      .map((ws) => ({ ws, attachment: this.attachment(ws) }))
      .filter((s) => s.attachment.loggedInAt !== undefined && s.ws.readyState === WebSocket.OPEN);
  }

  /** Attachments are read on every frame; deserializing once per socket and wake is enough. */
  private attachments = new WeakMap<WebSocket, Attachment>();

  private attachment(ws: WebSocket): Attachment {
    let attachment = this.attachments.get(ws);
    if (!attachment) {
      attachment = ws.deserializeAttachment() as Attachment;
      this.attachments.set(ws, attachment);
    }
    return attachment;
  }

  private setAttachment(ws: WebSocket, attachment: Attachment): void {
    ws.serializeAttachment(attachment);
    this.attachments.set(ws, attachment);
  }

  private deviceOf(a: Attachment): Device {
    return { id: a.device, platform: a.platform, loggedInAt: a.loggedInAt ?? a.connectedAt };
  }

  /** Another user of this user's app, and that user's actor. */
  private peer(me: UserRef, userId: string): { ref: UserRef; actor: DurableObjectStub<UserActor> } {
    const ref = { sdkAppId: me.sdkAppId, userId };
    return { ref, actor: userActor(this.env, ref) };
  }

  /** Remembers who this actor belongs to (in memory; stored with the first message, for the alarm). */
  private identify(me: UserRef): void {
    this.ref ??= me;
  }

  private ref?: UserRef;

  private storedRef(): UserRef | undefined {
    if (this.ref) return this.ref;
    const stored = this.store.meta("user");
    return stored ? (this.ref = JSON.parse(stored) as UserRef) : undefined;
  }

  /** Fails with `code` (90012 for a recipient, 90008 for a sender) unless the account exists. */
  private async requireAccount(me: UserRef, code: number = ErrorCode.toAccountNotFound): Promise<void> {
    this.identify(me);
    if (this.accountExists) return;
    const app = await this.appView(me);
    if (!isAppAdmin(app, me.userId) && !(await findAccount(this.env.DB, me.sdkAppId, me.userId))) {
      throw new ImError(code, `account "${me.userId}" does not exist`);
    }
    this.accountExists = true;
  }

  private async settings(me: UserRef): Promise<AppSettings> {
    return (await this.appView(me)).settings;
  }

  private async appView(me: UserRef): Promise<AppView> {
    return viewOf(await this.appRecord(me));
  }

  /** The app with its keys, from its AppActor, held for a minute (a key change reaches logins within it). */
  private async appRecord(me: UserRef): Promise<App> {
    if (this.app && Date.now() - this.app.at < settingsCacheMs) return this.app.record;
    const record = await this.env.APP.get(this.env.APP.idFromName(String(me.sdkAppId))).appWithKeys(me.sdkAppId);
    if (!record) throw new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${me.sdkAppId} is not an app of this server`);
    this.app = { record, at: Date.now() };
    return record;
  }
}

function resultOf(message: C2CMessage & { seq: number }): SendResult {
  return { key: message.key, time: message.time, msgSeq: message.msgSeq, random: message.random, seq: message.seq };
}

/** The actor of one user of one app. */
export function userActor(env: Env, ref: UserRef): DurableObjectStub<UserActor> {
  return env.USER.get(env.USER.idFromName(userActorName(ref)));
}
