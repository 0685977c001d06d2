/**
 * One-to-one messages of a user: sending (dedupe, per-peer order, delivery to
 * the peer's actor, then this user's copy), receiving, online-only pushes,
 * imports, recall, edit, delete-for-me and read receipts. A send is answered
 * only after both sides' stores have written it.
 */
import { capture, ErrorCode, ImError, unwrap, type Outcome } from "../../domain/errors.ts";
import { checkMessageSize, msgKey, type C2CDraft, type C2CMessage, type MsgBody, type StoredC2CMessage } from "../../domain/message.ts";
import { friendshipSendCode } from "../../domain/relations.ts";
import { RelationStore } from "../../store/relations.ts";
import type { UserHost } from "./host.ts";
import {
  C2CCallback,
  c2cAfterSendMsgFields,
  c2cMsgWithdrawFields,
  c2cSendFailedFields,
  c2cSendMsgFields,
  callbackEnabled,
  decisionOnFailure,
  isDeliveryRefusal,
  optPlatform,
  type BeforeDecision,
  type CallbackSettings,
} from "../../domain/callbacks.ts";
import { askBefore } from "../../callbacks/send.ts";
import { logEvent } from "../../ops/log.ts";
import { checkC2CMute, checkDirtyWords } from "../../domain/moderation.ts";
import type { Counts } from "../../domain/stats.ts";

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
  /** Answer with the recipient's unread count over all its one-to-one conversations (C2C.CallbackAfterSendMsg's UnreadMsgNum). */
  countUnread?: boolean;
}

/** What the recipient checks before accepting a message (not for imported history). */
export interface SenderRelation {
  /** Whether the sender lists the recipient as a friend; set when the app requires friendship. */
  senderHasRecipient?: boolean;
}

/** What applying a peer's recall or edit found: the message's time, or why nothing changed. */
export type ApplyResult = { time: number } | "missing" | "alreadyDone";

/** A recall applied, with the recipient's unread count afterwards, or why nothing changed. */
export type RevokeResult = { time: number; unread: number } | "missing" | "alreadyDone";

const beforeSendCommand = C2CCallback.beforeSendMsg;
const afterSendCommand = C2CCallback.afterSendMsg;
const withdrawCommand = C2CCallback.afterMsgWithDraw;

/** A retried send (same peer and MsgRandom) inside this window returns the first result. */
const dedupeWindowMs = 5 * 60_000;
const maxRecentSends = 512;

export class C2CMessages {
  private readonly host: UserHost;
  private peerQueues = new Map<string, Promise<unknown>>();
  /** Sends of the last few minutes by (peer, MsgRandom), covering online-only ones the store never sees. */
  private recentSends = new Map<string, { sending: Promise<SendResult>; at: number }>();
  /** Since when `recentSends` holds every send: the actor's start, or the newest entry it let go. */
  private rememberedSince = Date.now();

  constructor(host: UserHost) {
    this.host = host;
  }

  /** Sends a one-to-one message from this user. */
  async sendC2C(draft: C2CDraft): Promise<Outcome<SendResult>> {
    return capture(async () => {
      if (draft.to === this.host.me.userId) throw new ImError(ErrorCode.toAccountInvalid, "a message cannot be sent to oneself");
      checkMessageSize(draft.body, draft.cloudCustomData);
      // Nothing is awaited before the send takes its place in the peer's queue: sends
      // from one connection leave in the order they arrived, even while the actor loads.
      const dedupeKey = `${draft.to}\n${draft.random}`;
      const now = Date.now();
      const recent = this.recentSends.get(dedupeKey);
      if (recent && now - recent.at < dedupeWindowMs) return recent.sending;
      // Memory holds every send since `rememberedSince`; before that, ask the store.
      if (now - dedupeWindowMs < this.rememberedSince) {
        const retried = this.host.store.findRetry(draft.to, draft.random, true, now - dedupeWindowMs);
        if (retried) return resultOf(retried);
      }

      const sending = this.inOrder(draft.to, async () => {
        await this.host.requireAccount(ErrorCode.fromAccountInvalid);
        return this.deliver(draft);
      });
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

  private async deliver(draft: C2CDraft): Promise<SendResult> {
    const now = Date.now();
    const time = Math.floor(now / 1000);
    const msgSeq = draft.msgSeq ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    const message: C2CMessage = {
      key: msgKey(msgSeq, draft.random, time),
      from: this.host.me.userId,
      to: draft.to,
      msgSeq,
      random: draft.random,
      time,
      body: draft.body,
    };
    if (draft.cloudCustomData !== undefined) message.cloudCustomData = draft.cloudCustomData;
    if (draft.needReadReceipt) message.needReadReceipt = true;
    const peer = this.host.peer(draft.to);
    const settings = await this.host.settings();
    checkC2CMute(this.host.globalMute(), time);
    checkDirtyWords(settings.dirtyWords, message.body);

    if (!draft.forbidBeforeCallback && callbackEnabled(settings.callbacks, beforeSendCommand)) {
      const decision = await this.askBeforeSend(settings.callbacks, message, draft, now);
      if (decision.kind === "refuse") throw new ImError(decision.code, decision.info);
      // Dropped: the sender is told of success and nobody, the sender's other devices included, receives it.
      if (decision.kind === "drop") {
        this.countSent(false);
        return resultOf({ ...message, seq: 0 });
      }
      if (decision.body) message.body = decision.body;
      if (decision.cloudCustomData !== undefined) message.cloudCustomData = decision.cloudCustomData;
    }

    const relation: SenderRelation = {};
    if (settings.requireFriendship) relation.senderHasRecipient = (await this.friends()).has(draft.to);
    const afterSend = !draft.forbidAfterCallback && this.host.callbacks.enabled(settings, afterSendCommand);
    const onlineOnly = draft.lifeTimeSeconds === 0;
    const origin = { platform: draft.platform, clientIp: draft.clientIp };
    const queueAfterSend = (sent: C2CMessage, recipientUnread: number) =>
      afterSend && this.host.callbacks.queueFrom(afterSendCommand, `c2c:${draft.to}`, c2cAfterSendMsgFields(sent, onlineOnly, recipientUnread), origin);
    // A message its recipient refuses (blocked, not friends) is reported too, with the refusal, before the sender hears of it.
    const delivered = <T>(outcome: Outcome<T>): T => {
      if (!outcome.ok && afterSend && isDeliveryRefusal(outcome.code)) {
        this.host.callbacks.queueFrom(afterSendCommand, `c2c:${draft.to}`, c2cSendFailedFields(message, onlineOnly, outcome), origin);
        this.host.callbacks.deliverSoon();
      }
      return unwrap(outcome);
    };
    if (onlineOnly) {
      const pushed = delivered(await peer.actor.pushOnline(message, relation, afterSend));
      if (draft.syncToSender !== false) this.host.push({ kind: "message", seq: 0, message: this.view(message, draft.to, true) });
      this.countSent(true);
      return this.afterSend(afterSend, () => queueAfterSend(message, pushed.unread ?? 0), resultOf({ ...message, seq: 0 }));
    }
    const received = delivered(
      await peer.actor.receiveC2C(message, { unread: !draft.noUnread, lastMessage: !draft.noLastMessage, push: true, countUnread: afterSend }, relation),
    );
    // A retry whose first attempt reached the recipient (and not, before a crash, this store)
    // takes the first attempt's key and time, so both sides hold the same message once.
    const canonical = { ...message, key: received.key, time: received.time, msgSeq: received.msgSeq };
    if (draft.syncToSender === false) {
      this.countSent(true);
      return this.afterSend(afterSend, () => queueAfterSend(canonical, received.unread ?? 0), resultOf({ ...canonical, seq: 0 }));
    }
    // The after-callback and the counts commit with the sender's copy: an answered send's callback is never lost.
    const stored = this.storeMessage(canonical, draft.to, true, { unread: false, lastMessage: !draft.noLastMessage, push: true }, now, () => {
      queueAfterSend(canonical, received.unread ?? 0);
      this.countSent(true);
    });
    return this.afterSend(afterSend, () => undefined, resultOf(stored));
  }

  /** Statistics of a send: one row written in this actor, whatever the number of fields. */
  private countSent(delivered: boolean): void {
    const counts: Counts = delivered ? { C2CUpMsgNum: 1, C2CDownMsgNum: 1 } : { C2CUpMsgNum: 1 };
    this.host.stats.count(counts, [
      { marker: "c2cSend", counts: { C2CSendMsgUserNum: 1 } },
      { marker: "send", counts: { SendMsgUserNum: 1 } },
      { marker: "active", counts: { ActiveUserNum: 1 } },
    ]);
  }

  /** Queues the after-send callback (when not already queued with the copy) and delivers it after the answer. */
  private afterSend(enabled: boolean, queue: () => unknown, result: SendResult): SendResult {
    if (!enabled) return result;
    queue();
    this.host.callbacks.deliverSoon();
    return result;
  }

  /** C2C.CallbackBeforeSendMsg: the app's backend allows, refuses, drops or rewrites the message. */
  private async askBeforeSend(settings: CallbackSettings, message: C2CMessage, draft: C2CDraft, now: number): Promise<BeforeDecision> {
    const decision = await askBefore(
      {
        sdkAppId: this.host.me.sdkAppId,
        settings,
        command: beforeSendCommand,
        count: (counts) => this.host.stats.count(counts),
        eventTime: now,
        platform: optPlatform(draft.platform),
        clientIp: draft.clientIp,
        fields: c2cSendMsgFields(message, draft.lifeTimeSeconds === 0),
      },
      "c2c",
    );
    if (decision.kind !== "allow" || (!decision.body && decision.cloudCustomData === undefined)) return decision;
    try {
      checkMessageSize(decision.body ?? message.body, decision.cloudCustomData ?? message.cloudCustomData);
    } catch {
      logEvent({ event: "callback_answer_invalid", app: this.host.me.sdkAppId, command: beforeSendCommand, reason: "the rewritten message is too large" });
      return decisionOnFailure(settings, "the rewritten message is too large");
    }
    return decision;
  }

  /**
   * Stores the recipient's copy of a message and answers with the copy kept:
   * idempotent on the message key, and on (sender, MsgRandom) within the
   * dedupe window, so a sender's retry never makes a second copy.
   */
  async receiveC2C(message: C2CMessage,
    options: DeliveryOptions,
    relation: SenderRelation,
  ): Promise<Outcome<{ seq: number; key: string; time: number; msgSeq: number; unread?: number }>> {
    return capture(async () => {
      await this.host.requireAccount();
      await this.admitFrom(message.from, relation);
      const now = Date.now();
      const kept = this.host.store.findRetry(message.from, message.random, false, now - dedupeWindowMs) ?? this.storeMessage(message, message.from, false, options, now);
      return { seq: kept.seq, key: kept.key, time: kept.time, msgSeq: kept.msgSeq, ...(options.countUnread ? { unread: this.host.store.totalUnread() } : {}) };
    });
  }

  /** Delivers an online-only message (MsgLifeTime 0) to the devices connected now; stores nothing. `countUnread` as in DeliveryOptions. */
  async pushOnline(message: C2CMessage, relation: SenderRelation, countUnread = false): Promise<Outcome<{ devices: number; unread?: number }>> {
    return capture(async () => {
      await this.host.requireAccount();
      await this.admitFrom(message.from, relation);
      const devices = this.host.push({ kind: "message", seq: 0, message: this.view(message, message.from, false) });
      return { devices, ...(countUnread ? { unread: this.host.store.totalUnread() } : {}) };
    });
  }

  /** Refuses a message from someone this user blocked (20007), or a non-friend when the app requires friendship. */
  private async admitFrom(sender: string, relation: SenderRelation): Promise<void> {
    if ((await this.blocked()).has(sender)) throw new ImError(ErrorCode.senderBlocked, "the recipient has blocked the sender");
    if (relation.senderHasRecipient !== undefined) {
      const code = friendshipSendCode(relation.senderHasRecipient, (await this.friends()).has(sender));
      if (code !== 0) throw new ImError(code, code === 20009 ? "the sender and recipient are not friends" : "the sender and recipient are friends only one way");
    }
  }

  /** Relationship changes: the cached blocklist and friends are read again when next needed. */
  forgetRelations(): void {
    this.blockedCache = undefined;
    this.friendCache = undefined;
  }

  /** The account was deleted: nothing remembered of it may answer for a re-imported one. */
  forget(): void {
    this.recentSends.clear();
    this.rememberedSince = Date.now();
    this.forgetRelations();
  }

  /** The user's blocklist (at most 1,000), held while the actor is awake. */
  private blockedCache?: Promise<Set<string>>;
  /** The user's friends (at most 3,000), held while awake, only when the app requires friendship. */
  private friendCache?: Promise<Set<string>>;

  private blocked(): Promise<Set<string>> {
    this.blockedCache ??= new RelationStore(this.host.env.DB, this.host.me.sdkAppId).allBlocked(this.host.me.userId).then((ids) => new Set(ids));
    this.blockedCache.catch(() => (this.blockedCache = undefined));
    return this.blockedCache;
  }

  private friends(): Promise<Set<string>> {
    this.friendCache ??= new RelationStore(this.host.env.DB, this.host.me.sdkAppId).allFriendIds(this.host.me.userId).then((ids) => new Set(ids));
    this.friendCache.catch(() => (this.friendCache = undefined));
    return this.friendCache;
  }

  /** Imports a message into this user's history (importmsg): as sent or as received. */
  async importMessage(message: C2CMessage, outgoing: boolean, options: DeliveryOptions): Promise<Outcome<{ seq: number }>> {
    return capture(async () => {
      await this.host.requireAccount(outgoing ? ErrorCode.fromAccountInvalid : ErrorCode.toAccountNotFound);
      const peer = outgoing ? message.to : message.from;
      return { seq: this.storeMessage(message, peer, outgoing, options, Date.now()).seq };
    });
  }

  /** Stores this user's copy (idempotent on the message key) and pushes it to the user's devices. */
  private storeMessage(message: C2CMessage, peer: string, outgoing: boolean, options: DeliveryOptions, now: number, alsoWrite?: () => void): StoredC2CMessage {
    const stored = this.host.transaction(() => {
      const copy = this.host.store.insertMessage(message, peer, outgoing, now);
      if (!copy) return null;
      this.host.store.touchConversation(peer, copy, message.time, { unread: options.unread && !outgoing, lastMessage: options.lastMessage });
      alsoWrite?.();
      return copy;
    });
    if (!stored) return this.host.store.findByKey(peer, message.key, outgoing)!;
    this.host.historyWritten();
    if (options.push) this.host.push({ kind: "message", seq: stored.seq, message: stored });
    return stored;
  }

  private view(message: C2CMessage, peer: string, outgoing: boolean): StoredC2CMessage {
    return { ...message, seq: 0, peer, flow: outgoing ? "out" : "in", isRevoked: false, isModified: false, isPeerRead: false, receiptRead: false };
  }

  /** Sends read receipts for messages received from `peer` that asked for one. */
  async sendReadReceipts(peer: string, keys: string[]): Promise<Outcome<{ keys: string[] }>> {
    return capture(async () => {
            const wanted = keys.filter((key) => this.host.store.findByKey(peer, key, false)?.needReadReceipt);
      if (wanted.length === 0) return { keys: [] };
      const other = this.host.peer(peer);
      return unwrap(await other.actor.applyReadReceipts(this.host.me.userId, wanted));
    });
  }

  async applyReadReceipts(peer: string, keys: string[]): Promise<Outcome<{ keys: string[] }>> {
    return capture(() => {
            return this.host.transaction(() => {
        const changed = this.host.store.markReceiptsRead(peer, keys);
        if (changed.length > 0) this.host.announce({ kind: "readReceipts", peer, keys: changed });
        return { keys: changed };
      });
    });
  }

  /**
   * Recalls a message this user sent to `peer`. Clients may do so within the
   * app's window; admins (`byAdmin`) at any time. A message the sender kept no
   * copy of (sent with SyncOtherMachine 2) is recalled from the recipient's.
   * Recalls and edits of one conversation take turns with its sends, so a
   * recall and an edit never interleave. `platform` is the recalling client's (callbacks' OptPlatform).
   */
  async revoke(peer: string, key: string, byAdmin: boolean, platform?: string): Promise<Outcome<void>> {
    return capture(() =>
      this.inOrder(peer, async () => {
                const message = this.host.store.findByKey(peer, key, true);
        // A client recalls only what its user holds; an admin may reach the recipient's copy.
        if (!message && !byAdmin) throw new ImError(ErrorCode.messageNotFound, "the message to recall does not exist");
        if (message?.isRevoked) throw new ImError(ErrorCode.messageAlreadyRecalled, "the message was already recalled");
        if (message && !byAdmin) {
          const window = (await this.host.settings()).recallWindowSeconds;
          if (Date.now() / 1000 - message.time > window) {
            throw new ImError(ErrorCode.recallWindowPassed, `messages can be recalled within ${window} seconds of sending`);
          }
        }
        const other = this.host.peer(peer);
        const there = unwrap(await other.actor.applyRevoke(this.host.me.userId, key));
        const settings = await this.host.settings();
        // UnreadMsgNum is the recipient's; 0 when the recipient held no copy to recall.
        const tell = this.host.callbacks.enabled(settings, withdrawCommand)
          ? () => this.host.callbacks.queue(withdrawCommand, `c2c:${peer}`, c2cMsgWithdrawFields(this.host.me.userId, peer, key, typeof there === "object" ? there.unread : 0), byAdmin ? "RESTAPI" : platform)
          : undefined;
        if (!message) {
          if (there === "missing") throw new ImError(ErrorCode.messageNotFound, "the message to recall does not exist");
          if (there === "alreadyDone") throw new ImError(ErrorCode.messageAlreadyRecalled, "the message was already recalled");
          tell?.();
        } else {
          // The after-callback commits with the recall of the sender's copy.
          this.applyRevokeHere(peer, key, true, tell);
        }
        if (tell) this.host.callbacks.deliverSoon();
      }),
    );
  }

  /** The sender recalled a message it sent this user; with this user's unread count over all its one-to-one conversations, for C2C.CallbackAfterMsgWithDraw. */
  async applyRevoke(peer: string, key: string): Promise<Outcome<RevokeResult>> {
    return capture(() => {
      const result = this.applyRevokeHere(peer, key, false);
      return typeof result === "object" ? { ...result, unread: this.host.store.totalUnread() } : result;
    });
  }

  private applyRevokeHere(peer: string, key: string, outgoing: boolean, alsoWrite?: () => void): ApplyResult {
    const message = this.host.store.findByKey(peer, key, outgoing);
    if (!message) return "missing";
    if (message.isRevoked) return "alreadyDone";
    this.host.transaction(() => {
      this.host.store.markRevoked(message.seq);
      this.host.announce({ kind: "messageRevoked", peer, key });
      alsoWrite?.();
    });
    return { time: message.time };
  }

  /**
   * Replaces the body of a message this user sent (modify_c2c_msg, or the
   * sender's client); from the recipient's copy when the sender kept none.
   */
  async modify(peer: string, key: string, body: MsgBody, cloudCustomData?: string): Promise<Outcome<StoredC2CMessage>> {
    return capture(() =>
      this.inOrder(peer, async () => {
                const message = this.host.store.findByKey(peer, key, true);
        if (message?.isRevoked) throw new ImError(ErrorCode.messageAlreadyRecalled, "a recalled message cannot be modified");
        checkMessageSize(body, cloudCustomData ?? message?.cloudCustomData);
        const other = this.host.peer(peer);
        const there = unwrap(await other.actor.applyModify(this.host.me.userId, key, body, cloudCustomData));
        if (message && there.result === "alreadyDone") {
          // The recall reached the recipient but not this copy (a crash between the two): finish it.
          this.applyRevokeHere(peer, key, true);
          throw new ImError(ErrorCode.messageAlreadyRecalled, "a recalled message cannot be modified");
        }
        if (message) return this.applyModifyHere(peer, key, true, body, cloudCustomData).message!;
        if (there.result === "missing") throw new ImError(ErrorCode.messageNotFound, "the message to modify does not exist");
        if (there.result === "alreadyDone") throw new ImError(ErrorCode.messageAlreadyRecalled, "a recalled message cannot be modified");
        // The sender kept no copy: answer with the recipient's, as the sender would see it.
        return { ...there.message!, seq: 0, peer, flow: "out" as const, isPeerRead: false };
      }),
    );
  }

  async applyModify(peer: string, key: string, body: MsgBody, cloudCustomData?: string): Promise<Outcome<{ result: ApplyResult; message?: StoredC2CMessage }>> {
    return capture(() => {
            return this.applyModifyHere(peer, key, false, body, cloudCustomData);
    });
  }

  /** A recalled message stays recalled: an edit that arrives after the recall changes nothing. */
  private applyModifyHere(peer: string, key: string, outgoing: boolean, body: MsgBody, cloudCustomData?: string): { result: ApplyResult; message?: StoredC2CMessage } {
    const message = this.host.store.findByKey(peer, key, outgoing);
    if (!message) return { result: "missing" };
    if (message.isRevoked) return { result: "alreadyDone" };
    return this.host.transaction(() => {
      this.host.store.replaceBody(message.seq, body, cloudCustomData);
      const modified = this.host.store.message(message.seq)!;
      // A modification is an event of its own, so devices that synced the original see the change.
      this.host.push(this.host.store.appendModified(modified, Date.now()));
      return { result: { time: message.time }, message: modified };
    });
  }

  /** Deletes messages from this user's own history only. */
  async deleteMessages(peer: string, keys: string[]): Promise<Outcome<{ keys: string[] }>> {
    return capture(() => {
            return this.host.transaction(() => {
        const hidden = this.host.store.hide(peer, keys);
        if (hidden.length > 0) this.host.announce({ kind: "messagesDeleted", peer, keys: hidden });
        return { keys: hidden };
      });
    });
  }
}

function resultOf(message: C2CMessage & { seq: number }): SendResult {
  return { key: message.key, time: message.time, msgSeq: message.msgSeq, random: message.random, seq: message.seq };
}
