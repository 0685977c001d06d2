/**
 * What the app admin does to a group's messages beyond what members do:
 * custom system notices to members, deleting everything one sender wrote,
 * clearing history, and naming stored messages by MsgKey.
 */
import { utf8Length } from "../../domain/account.ts";
import { GroupErrorCode, groupError } from "../../domain/group.ts";
import { GroupNoticeType, type GroupEvent } from "../../domain/groupMessage.ts";
import { storesHistory } from "../../domain/groupRules.ts";
import { maxMessageBytes } from "../../domain/message.ts";
import type { GroupCaller, GroupHost } from "./host.ts";

/** Members one system notice may name; more is the whole group. */
export const maxNoticeRecipients = 500;

export class GroupAdminMessages {
  private readonly host: GroupHost;

  constructor(host: GroupHost) {
    this.host = host;
  }

  /** A custom system notice (operation type 255) to these members, or to all of them. Returns who it was sent to. */
  notify(caller: GroupCaller, content: string, userIds?: string[]): string[] {
    this.host.profile();
    requireAppAdmin(caller);
    if (utf8Length(content) > maxMessageBytes) throw groupError(GroupErrorCode.invalidParameter, `Content must be at most ${maxMessageBytes} bytes`);
    if (userIds && userIds.length > maxNoticeRecipients) throw groupError(GroupErrorCode.tooManyAccounts, `at most ${maxNoticeRecipients} recipients per notice`);
    const recipients = userIds && userIds.length > 0 ? this.host.store.membersIn([...new Set(userIds)]).map((m) => m.userId) : this.host.store.allMemberIds();
    const event: GroupEvent = {
      kind: "groupSystemNotice",
      groupId: this.host.groupId,
      operationType: GroupNoticeType.custom,
      operatorId: caller.userId ?? "",
      time: Math.floor(Date.now() / 1000),
      message: content,
    };
    this.host.publish(event, recipients);
    return recipients;
  }

  deleteBySender(caller: GroupCaller, sender: string): number {
    const profile = this.host.profile();
    requireAppAdmin(caller);
    if (!storesHistory(profile.type)) throw groupError(GroupErrorCode.liveRoomDeletionNotSupported, "live rooms keep no messages to delete");
    return this.host.transaction(() => this.host.store.deleteBySender(sender));
  }

  /** Deletes the messages up to and including `upTo` (all when absent). */
  clear(caller: GroupCaller, upTo?: number): number {
    const profile = this.host.profile();
    requireAppAdmin(caller);
    if (!storesHistory(profile.type)) throw groupError(GroupErrorCode.liveRoomDeletionNotSupported, "live rooms keep no messages to clear");
    return this.host.transaction(() => this.host.store.clear(upTo));
  }

  /** Random and time of each stored message among `seqs` (for its MsgKey); missing ones are left out. */
  keys(seqs: number[]): { seq: number; random: number; time: number }[] {
    return seqs.flatMap((seq) => {
      const message = this.host.store.message(this.host.groupId, seq);
      return message ? [{ seq, random: message.random, time: message.time }] : [];
    });
  }
}

function requireAppAdmin(caller: GroupCaller): void {
  if (!caller.appAdmin) throw groupError(GroupErrorCode.noPermission, "only the app admin does this");
}
