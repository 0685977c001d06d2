/**
 * A group's messages: sending (rules, dedupe, rate, one stored copy with the
 * next MsgSeq, then fan-out), history by MsgSeq, recall, edit, deletion and
 * members' read points. Nothing is written per member when a message is sent:
 * a member's unread count is the group's last MsgSeq less the member's read one.
 *
 * A Community's topics are streams of their own: a message sent with a topic id
 * is stored once here, numbered by the topic's own MsgSeq, read, recalled and
 * edited by (topic, MsgSeq), and delivered to the community's members. Members'
 * read points, unread counts and mention flags are the group's own stream's:
 * topics keep none per member.
 */
import { askBefore } from "../../callbacks/send.ts";
import { callbackEnabled, decisionOnFailure, type BeforeDecision, type CallbackSettings } from "../../domain/callbacks.ts";
import { ErrorCode } from "../../domain/errors.ts";
import { logEvent } from "../../ops/log.ts";
import { GroupErrorCode, groupError } from "../../domain/group.ts";
import { admitGroupMessage, checkMessageAudience, decideRecall, decideSend, firstVisibleSeq, storesHistory } from "../../domain/groupRules.ts";
import type { GroupMessage, GroupMessageDraft, GroupSendResult } from "../../domain/groupMessage.ts";
import type { GroupProfile } from "../../domain/group.ts";
import { checkMessageSize, type MsgBody } from "../../domain/message.ts";
import type { TokenBucket } from "../../domain/rateLimit.ts";
import type { GroupCaller, GroupHost } from "./host.ts";
import type { GroupTopics } from "./topics.ts";

const beforeSendCommand = "Group.CallbackBeforeSendMsg";
const afterSendCommand = "Group.CallbackAfterSendMsg";

/** A retried send (same sender and Random) inside this window returns the first result. */
const dedupeWindowSeconds = 5 * 60;

export class GroupMessages {
  private readonly host: GroupHost;
  private readonly topics: Pick<GroupTopics, "topicOf">;
  private bucket?: TokenBucket;

  constructor(host: GroupHost, topics: Pick<GroupTopics, "topicOf">) {
    this.host = host;
    this.topics = topics;
  }

  /**
   * A retry of a send still in progress (the same sender, Random and stream) waits for it and gets
   * its answer: the before-callback lets other requests run meanwhile, and the store's dedupe only
   * sees messages already stored.
   */
  async send(caller: GroupCaller, draft: GroupMessageDraft): Promise<GroupSendResult> {
    const key = `${caller.userId ?? "@TIM#SYSTEM"}\n${draft.random}\n${draft.topicId ?? ""}`;
    const pending = this.sending.get(key);
    if (pending) return pending;
    const sending = this.sendOnce(caller, draft);
    this.sending.set(key, sending);
    try {
      return await sending;
    } finally {
      if (this.sending.get(key) === sending) this.sending.delete(key);
    }
  }

  private readonly sending = new Map<string, Promise<GroupSendResult>>();

  private async sendOnce(caller: GroupCaller, draft: GroupMessageDraft): Promise<GroupSendResult> {
    const profile = this.host.profile();
    const topicId = draft.topicId;
    const topic = topicId === undefined ? undefined : this.topics.topicOf(topicId);
    const { actor, member } = this.host.actorOf(caller);
    const now = Date.now();
    const nowSeconds = Math.floor(now / 1000);
    // A topic muted as a whole silences its non-managers as the group's own mute does, and the group's mute covers its topics.
    decideSend({ type: profile.type, muteAllMember: profile.muteAllMember || topic?.muteAllMember === true }, { actor, muteUntil: member?.muteUntil }, nowSeconds);
    // Receipts count read points, which are the group stream's alone.
    if (topic && draft.needReadReceipt) throw groupError(GroupErrorCode.invalidParameter, "topic messages do not take read receipts");
    checkMessageSize(draft.body, draft.cloudCustomData);
    const policy = await this.host.policy();
    checkMessageAudience({ mentions: draft.atUsers?.length ?? 0, targeted: draft.to?.length ?? 0 }, policy);
    const from = caller.userId ?? "@TIM#SYSTEM";

    const retried = this.host.store.findRetry(this.host.groupId, from, draft.random, nowSeconds - dedupeWindowSeconds, topicId);
    if (retried) return { seq: retried.seq, time: retried.time, random: retried.random, dropReason: "" };

    const admission = admitGroupMessage(this.bucket, policy, now);
    this.bucket = admission.bucket;
    // High priority is never dropped (gifts and the like); the rest are, past the group's rate.
    if (!admission.admitted && draft.priority !== "High") return { seq: 0, time: nowSeconds, random: draft.random, dropReason: admission.dropReason };

    const callbacks = (await this.host.settings()).callbacks;
    if (!draft.forbidBeforeCallback && callbackEnabled(callbacks, beforeSendCommand)) {
      const decision = await this.askBeforeSend(callbacks, profile, from, draft);
      if (decision.kind === "refuse") throw groupError(decision.code, decision.info);
      // The sender is told of success; nothing is stored or delivered.
      if (decision.kind === "drop") return { seq: 0, time: nowSeconds, random: draft.random, dropReason: "" };
      if (decision.body) draft = { ...draft, body: decision.body };
      if (decision.cloudCustomData !== undefined) draft = { ...draft, cloudCustomData: decision.cloudCustomData };
    }
    const afterSend = !draft.forbidAfterCallback && callbackEnabled(callbacks, afterSendCommand);

    const message: GroupMessage = {
      groupId: this.host.groupId,
      ...(topicId !== undefined ? { topicId } : {}),
      seq: 0,
      from,
      random: draft.random,
      time: nowSeconds,
      body: draft.body,
      priority: draft.priority ?? "Normal",
      isRevoked: false,
      isModified: false,
    };
    if (draft.cloudCustomData !== undefined) message.cloudCustomData = draft.cloudCustomData;
    if (draft.to) message.to = [...new Set(draft.to)];
    if (draft.atUsers?.length) message.atUsers = [...new Set(draft.atUsers)];
    if (draft.atAll) message.atAll = true;
    if (draft.needReadReceipt) message.needReadReceipt = true;
    if (draft.noUnread) message.noUnread = true;

    const keep = storesHistory(profile.type) && !draft.onlineOnly;
    if (keep && topicId !== undefined) {
      this.host.transaction(() => {
        message.seq = this.host.store.takeTopicSeq(topicId, nowSeconds);
        // Destroyed while the app's policy was loading.
        if (message.seq === 0) throw groupError(GroupErrorCode.groupNotFound, `topic ${topicId} does not exist`);
        this.host.store.insertMessage(message, now);
        if (member) this.host.store.updateMember({ ...member, lastSendMsgTime: nowSeconds });
        // The after-callback commits with the message: an answered send's callback is never lost.
        if (afterSend) this.queueAfterSend(profile, message, draft);
      });
    } else if (keep) {
      this.host.transaction(() => {
        message.seq = this.host.store.takeSeq();
        // Targeted messages and NoUnread ones count toward no one's unread.
        this.host.store.insertMessage(message, now, this.host.store.countUnread(!message.to && !draft.noUnread));
        if (member) {
          // The sender has read its own message, and everything before it.
          this.host.store.updateMember({ ...member, lastSendMsgTime: nowSeconds, readSeq: Math.max(member.readSeq, message.seq) });
        }
        if (afterSend) this.queueAfterSend(profile, message, draft);
      });
      this.host.directoryChanged({ kind: "group" });
    } else if (afterSend) {
      // Nothing is stored for it, but its callback is, before the answer.
      this.queueAfterSend(profile, message, draft);
    }
    this.host.publish({ kind: "groupMessage", message }, this.recipientsOf(message));
    // Read points and mentions are the group stream's (topics keep none per member).
    if (keep && topicId === undefined) {
      // The sender has read up to its own message: its devices' unread counts agree.
      if (member) this.host.senderRead(member.userId, message.seq, this.host.store.unreadIndexAt(message.seq));
      if (message.atUsers) this.host.mentioned(message.atUsers.filter((u) => u !== from), message.seq);
    }
    if (afterSend) this.host.callbacks.deliverSoon();
    return { seq: message.seq, time: message.time, random: message.random, dropReason: "" };
  }

  /** Group.CallbackBeforeSendMsg: the app's backend allows, refuses, drops or rewrites the message. */
  private async askBeforeSend(settings: CallbackSettings, profile: GroupProfile, from: string, draft: GroupMessageDraft): Promise<BeforeDecision> {
    const decision = await askBefore(
      {
        sdkAppId: this.host.sdkAppId,
        settings,
        command: beforeSendCommand,
        fields: sendFields(profile, from, draft.random, draft.body, draft.cloudCustomData, draft.onlineOnly, draft.topicId),
        eventTime: Date.now(),
        platform: "RESTAPI",
        count: (counts) => this.host.stats.count(counts),
      },
      "group",
    );
    if (decision.kind !== "allow" || (decision.body === undefined && decision.cloudCustomData === undefined)) return decision;
    try {
      checkMessageSize(decision.body ?? draft.body, decision.cloudCustomData ?? draft.cloudCustomData);
    } catch {
      logEvent({ event: "callback_answer_invalid", app: this.host.sdkAppId, command: beforeSendCommand, reason: "the rewritten message is too large" });
      return decisionOnFailure(settings, "the rewritten message is too large");
    }
    return decision;
  }

  /** Group.CallbackAfterSendMsg for a message as stored, ordered with the group's other after-callbacks. */
  private queueAfterSend(profile: GroupProfile, message: GroupMessage, draft: GroupMessageDraft): void {
    const fields = {
      ...sendFields(profile, message.from, message.random, message.body, message.cloudCustomData, draft.onlineOnly, message.topicId),
      MsgSeq: message.seq,
      MsgTime: message.time,
      ...(message.atUsers || message.atAll ? { GroupAtInfo: groupAtInfo(message) } : {}),
    };
    this.host.callbacks.queue(afterSendCommand, "group", fields, "RESTAPI");
  }

  /** History newest first, up to `upTo` (the newest when absent), as the caller may see it; a topic's when `topicId` is given. */
  history(caller: GroupCaller, upTo: number | undefined, count: number, withRecalled: boolean, topicId?: string): { messages: GroupMessage[]; complete: boolean } {
    const from = this.visibleFrom(caller, topicId);
    const rows = this.host.store.history(this.host.groupId, from, upTo ?? Number.MAX_SAFE_INTEGER, count + 1, withRecalled, topicId);
    const messages = rows.slice(0, count).filter((m) => this.visibleTo(m, caller));
    return { messages, complete: rows.length <= count };
  }

  /**
   * Messages after `after`, oldest first: a member's device catching up. `through` is the last
   * MsgSeq the page covers, including messages it leaves out (targeted at others): ask from there.
   */
  after(caller: GroupCaller, after: number, limit: number, topicId?: string): { messages: GroupMessage[]; complete: boolean; through: number; nextSeq: number } {
    const from = this.visibleFrom(caller, topicId);
    const rows = this.host.store.after(this.host.groupId, after, from, limit + 1, topicId);
    const page = rows.slice(0, limit);
    const complete = rows.length <= limit;
    const nextSeq = topicId === undefined ? this.host.store.nextSeq() : this.topics.topicOf(topicId).nextMsgSeq;
    return {
      messages: page.filter((m) => this.visibleTo(m, caller)),
      complete,
      through: complete ? Math.max(after, nextSeq - 1) : page.at(-1)!.seq,
      nextSeq,
    };
  }

  async recall(caller: GroupCaller, seqs: number[], topicId?: string): Promise<{ seq: number; code: number }[]> {
    const profile = this.host.profile();
    const { actor } = this.host.actorOf(caller);
    const window = (await this.host.settings()).recallWindowSeconds;
    // Asked after the wait, so a topic destroyed meanwhile is refused too.
    if (topicId !== undefined) this.topics.topicOf(topicId);
    const now = Date.now();
    return seqs.map((seq) => {
      const message = this.host.store.message(this.host.groupId, seq, topicId);
      try {
        const decision = decideRecall(
          profile.type,
          actor,
          message ? { fromActor: message.from === caller.userId, sentAtMs: message.time * 1000, recalled: message.isRevoked } : undefined,
          now,
          window,
        );
        if (decision === "alreadyRecalled") return { seq, code: GroupErrorCode.recalledMessageNotFound };
        this.host.transaction(() => this.host.store.markRecalled(seq, topicId));
        this.host.publish({ kind: "groupMessageRevoked", groupId: this.host.groupId, seq, ...(topicId !== undefined ? { topicId } : {}) }, this.recipientsOf(message!));
        return { seq, code: 0 };
      } catch (error) {
        return { seq, code: (error as { code?: number }).code ?? ErrorCode.messageServiceInternal };
      }
    });
  }

  modify(caller: GroupCaller, seq: number, body: MsgBody, cloudCustomData?: string, topicId?: string): GroupMessage {
    this.host.profile();
    if (topicId !== undefined) this.topics.topicOf(topicId);
    const { actor } = this.host.actorOf(caller);
    const message = this.host.store.message(this.host.groupId, seq, topicId);
    if (!message) throw groupError(GroupErrorCode.recalledMessageNotFound, `there is no message ${seq}`);
    if (message.isRevoked) throw groupError(GroupErrorCode.recalledMessageNotFound, "a recalled message cannot be modified");
    if (actor !== "AppAdmin" && message.from !== caller.userId) throw groupError(GroupErrorCode.noPermission, "members modify only their own messages");
    checkMessageSize(body, cloudCustomData ?? message.cloudCustomData);
    this.host.transaction(() => this.host.store.replaceBody(seq, body, cloudCustomData, topicId));
    const modified = this.host.store.message(this.host.groupId, seq, topicId)!;
    this.host.publish({ kind: "groupMessageModified", message: modified }, this.recipientsOf(modified));
    return modified;
  }

  /** The member read up to `seq` (clamped to the newest); returns the read point kept, and the unread count up to it. */
  markRead(caller: GroupCaller, seq: number): { readSeq: number; readCount: number } {
    this.host.profile();
    const { member } = this.host.actorOf(caller);
    if (!member) throw groupError(GroupErrorCode.noPermission, "you are not a member of this group");
    const readSeq = Math.min(seq, this.host.store.nextSeq() - 1);
    if (readSeq > member.readSeq) this.host.transaction(() => this.host.store.updateMember({ ...member, readSeq }));
    const kept = Math.max(readSeq, member.readSeq);
    return { readSeq: kept, readCount: this.host.store.unreadIndexAt(kept) };
  }

  /**
   * The first MsgSeq the caller may read: from joining, unless the group shows history from
   * before. A topic's whole history is open to members: topics are a Community's, which shows it.
   */
  private visibleFrom(caller: GroupCaller, topicId?: string): number {
    const profile = this.host.profile();
    if (topicId !== undefined) this.topics.topicOf(topicId);
    const { actor, member } = this.host.actorOf(caller);
    if (actor === "AppAdmin") return 1;
    if (!member) throw groupError(GroupErrorCode.noPermission, "you are not a member of this group");
    return topicId === undefined ? firstVisibleSeq(profile, member.joinSeq) : 1;
  }

  private visibleTo(message: GroupMessage, caller: GroupCaller): boolean {
    return !message.to || caller.appAdmin || message.to.includes(caller.userId ?? "") || message.from === caller.userId;
  }

  /** Its targets and sender, or every member but those who asked for nothing (MsgFlag Discard). */
  private recipientsOf(message: GroupMessage): string[] {
    return message.to ? [...new Set([...message.to, message.from])] : this.host.store.receivingMemberIds();
  }
}

/** The fields Group.CallbackBeforeSendMsg and AfterSendMsg share, as the spec names them; the sender is the operator. */
function sendFields(
  profile: GroupProfile,
  from: string,
  random: number,
  body: MsgBody,
  cloudCustomData: string | undefined,
  onlineOnly: boolean | undefined,
  topicId: string | undefined,
): Record<string, unknown> {
  return {
    GroupId: profile.groupId,
    Type: profile.type,
    From_Account: from,
    Operator_Account: from,
    Random: random,
    OnlineOnlyFlag: onlineOnly ? 1 : 0,
    MsgBody: body,
    ...(cloudCustomData !== undefined ? { CloudCustomData: cloudCustomData } : {}),
    ...(topicId !== undefined ? { TopicId: topicId } : {}),
  };
}

function groupAtInfo(message: GroupMessage): { GroupAtAllFlag: number; GroupAt_Account?: string }[] {
  return [...(message.atAll ? [{ GroupAtAllFlag: 1 }] : []), ...(message.atUsers ?? []).map((u) => ({ GroupAtAllFlag: 0, GroupAt_Account: u }))];
}
