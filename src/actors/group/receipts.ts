/**
 * Read state kept by the group: each member's read point (the highest MsgSeq
 * it has read). Read receipts follow from it: a member has read message N
 * when its read point is at least N, so acknowledging a message is one write
 * to the member's row, whatever the number of messages. Receipts are kept for
 * groups of at most 200 members, where counting them means reading every row.
 */
import { GroupErrorCode, groupError } from "../../domain/group.ts";
import type { GroupMessage } from "../../domain/groupMessage.ts";
import { firstVisibleSeq } from "../../domain/groupRules.ts";
import type { StoredMember } from "./GroupStore.ts";
import type { GroupCaller, GroupHost } from "./host.ts";

/** The largest group that keeps read receipts (Tencent's limit). */
export const maxReceiptGroupMembers = 200;
/** Message ids one receipt call may name (group_msg_receipt, get_group_msg_receipt). */
export const maxReceiptMessages = 50;
/** Members one page of get_group_msg_receipt_detail lists. */
export const maxReceiptDetailPage = 200;

export interface ReceiptCount {
  seq: number;
  readNum: number;
  unreadNum: number;
  /** 0, or 10062 when the message does not exist or asked for no receipts. */
  code: number;
}

export class GroupReceipts {
  private readonly host: GroupHost;

  constructor(host: GroupHost) {
    this.host = host;
  }

  /** `userId` has read these messages, and so everything before the newest of them. Returns the read point kept. */
  acknowledge(caller: GroupCaller, userId: string, seqs: number[]): number {
    this.host.profile();
    this.requireReceiptSized();
    checkCount(seqs.length);
    const member = this.requireMember(userId);
    const readSeq = Math.min(Math.max(0, ...seqs), this.host.store.nextSeq() - 1);
    if (readSeq > member.readSeq) this.host.transaction(() => this.host.store.updateMember({ ...member, readSeq }));
    void caller;
    return Math.max(readSeq, member.readSeq);
  }

  counts(caller: GroupCaller, seqs: number[]): ReceiptCount[] {
    this.host.profile();
    this.requireReceiptSized();
    checkCount(seqs.length);
    this.requireMemberOrAdmin(caller);
    const members = this.host.store.members(0, maxReceiptGroupMembers);
    return seqs.map((seq) => {
      const message = this.receiptMessage(seq);
      if (!message) return { seq, readNum: 0, unreadNum: 0, code: GroupErrorCode.readReceiptNotFound };
      const readers = this.audience(message, members);
      const readNum = readers.filter((m) => m.readSeq >= seq).length;
      return { seq, readNum, unreadNum: readers.length - readNum, code: 0 };
    });
  }

  /** Who has read (or not) message `seq`, by user id, `count` after `cursor` ("" first). */
  detail(caller: GroupCaller, seq: number, read: boolean, cursor: string, count: number): { userIds: string[]; cursor: string; finished: boolean } {
    this.host.profile();
    this.requireReceiptSized();
    this.requireMemberOrAdmin(caller);
    if (count > maxReceiptDetailPage) throw groupError(GroupErrorCode.invalidParameter, `at most ${maxReceiptDetailPage} members per page`);
    const message = this.receiptMessage(seq);
    if (!message) throw groupError(GroupErrorCode.readReceiptNotFound, `message ${seq} has no read receipts`);
    const listed = this.audience(message, this.host.store.members(0, maxReceiptGroupMembers))
      .filter((m) => m.readSeq >= seq === read && m.userId > cursor)
      .map((m) => m.userId)
      .sort();
    const page = listed.slice(0, count);
    const finished = listed.length <= count;
    return { userIds: page, cursor: finished ? "" : (page.at(-1) ?? ""), finished };
  }

  /** Sets what the member has not read to the group's newest `unread` messages (no fewer than it may see, no more). */
  async setUnread(caller: GroupCaller, userId: string, unread: number): Promise<void> {
    const profile = this.host.profile();
    void caller;
    const member = this.requireMember(userId);
    const lastSeq = this.host.store.nextSeq() - 1;
    const floor = firstVisibleSeq(profile, member.joinSeq) - 1;
    const readSeq = Math.min(lastSeq, Math.max(floor, lastSeq - unread));
    this.host.transaction(() => this.host.store.updateMember({ ...member, readSeq }));
    // The count the member's devices show comes from its own actor's read point.
    await this.host.setMemberRead(userId, readSeq, Math.max(0, this.host.store.unreadTotal() - unread));
  }

  private requireMember(userId: string): StoredMember {
    const member = this.host.store.member(userId);
    if (!member) throw groupError(GroupErrorCode.noPermission, `"${userId}" is not a member of this group`);
    return member;
  }

  private requireReceiptSized(): void {
    if (this.host.store.memberCount() > maxReceiptGroupMembers) {
      throw groupError(GroupErrorCode.invalidRequest, `read receipts are kept for groups of at most ${maxReceiptGroupMembers} members`);
    }
  }

  private receiptMessage(seq: number): GroupMessage | null {
    const message = this.host.store.message(this.host.groupId, seq);
    return message && message.needReadReceipt && !message.isRevoked ? message : null;
  }

  /** The members a message is read by: those who were there when it was sent (or were named by it), its sender aside. */
  private audience(message: GroupMessage, members: StoredMember[]): StoredMember[] {
    return members.filter((m) => m.userId !== message.from && m.joinSeq <= message.seq && (!message.to || message.to.includes(m.userId)));
  }

  /** Read receipts say who read what: only the group's members (and app admins) may ask. */
  private requireMemberOrAdmin(caller: GroupCaller): void {
    if (this.host.actorOf(caller).actor === "NotMember") throw groupError(GroupErrorCode.noPermission, "only the group's members see its read receipts");
  }
}

function checkCount(count: number): void {
  if (count > maxReceiptMessages) throw groupError(GroupErrorCode.invalidParameter, `at most ${maxReceiptMessages} messages per request`);
}
