/**
 * A user's side of its group conversations. Group messages are stored once,
 * in their group; nothing is written here when one is sent. What the user
 * keeps is its read point in each group (a MsgSeq), pins and deletions, all in
 * its own sync sequence so its devices agree. Unread is the group's last
 * MsgSeq, from the D1 directory, less the read point: one query for all of a
 * user's groups, whatever their number, and no call to any group.
 */
import { capture, type Outcome } from "../../domain/errors.ts";
import type { GroupConversation } from "../../domain/events.ts";
import { keepsUnreadCounts } from "../../domain/groupRules.ts";
import type { GroupType } from "../../domain/group.ts";
import { GroupDirectory } from "../../store/groups.ts";
import type { UserHost } from "./host.ts";
import { ErrorCode, unwrap } from "../../domain/errors.ts";
import type { GroupMessageDraft, GroupSendResult } from "../../domain/groupMessage.ts";
import { checkGroupMute } from "../../domain/moderation.ts";
import { groupNamed } from "../group/entry.ts";
import type { GroupCaller } from "../group/host.ts";

export class GroupConversations {
  private readonly host: UserHost;

  constructor(host: UserHost) {
    this.host = host;
  }

  /**
   * Sends to a group as this user, from its devices or through REST naming it: a globally muted
   * user is refused here (10017) with what this actor already holds, and a sender is counted once
   * a day (the group counts the messages).
   */
  async send(groupId: string, caller: GroupCaller, draft: GroupMessageDraft): Promise<GroupSendResult> {
    await this.host.requireAccount(ErrorCode.fromAccountInvalid);
    checkGroupMute(this.host.globalMute(), Math.floor(Date.now() / 1000));
    const sent = unwrap(await groupNamed(this.host.env, this.host.me.sdkAppId, groupId).sendMessage(caller, draft));
    if (!sent.dropReason) {
      this.host.stats.count({}, [
        { marker: "groupSend", counts: { GroupSendMsgUserNum: 1 } },
        { marker: "send", counts: { SendMsgUserNum: 1 } },
        { marker: "active", counts: { ActiveUserNum: 1 } },
      ]);
    }
    return sent;
  }

  /** The user's group conversations (deleted ones aside until a newer message), unsorted. */
  async list(): Promise<GroupConversation[]> {
    const joined = await new GroupDirectory(this.host.env.DB, this.host.me.sdkAppId).joined(this.host.me.userId);
    const states = this.host.store.groupStates();
    const conversations: GroupConversation[] = [];
    for (const group of joined) {
      if (group.type === "AVChatRoom") continue;
      const state = states.get(group.groupId) ?? { readSeq: 0, readCount: 0, pinned: false, hiddenUpTo: -1, mentionSeq: 0 };
      if (state.hiddenUpTo >= 0 && group.lastSeq <= state.hiddenUpTo) continue;
      // The group's own stream: a Community topic's messages have their own MsgSeq, and topics keep no per-member read point or unread count.
      const readUpTo = Math.max(state.readSeq, group.joinSeq - 1);
      const counts = keepsUnreadCounts(group.type as GroupType) && group.msgFlag !== "Discard";
      conversations.push({
        groupId: group.groupId,
        groupType: group.type,
        name: group.name,
        lastMessage: group.lastMessage,
        time: Math.max(group.lastMsgTime, group.joinedAt),
        // Counts, not MsgSeqs: targeted messages and NoUnread ones are in neither.
        unreadCount: counts ? Math.max(0, group.unreadTotal - Math.max(state.readCount, group.joinCount)) : 0,
        pinned: state.pinned,
        messageRemindType: group.msgFlag,
        mentionedSeq: state.mentionSeq > readUpTo ? state.mentionSeq : 0,
        mentionedAll: group.lastMessage?.atAll === true && group.lastMessage.seq > readUpTo,
      });
    }
    return conversations;
  }

  /** The user read the group up to `seq` (on a device, or by sending it); its devices are told once. */
  async markRead(groupId: string, seq: number, count: number): Promise<Outcome<{ readSeq: number }>> {
    return capture(() => {
      this.host.transaction(() => {
        if (this.host.store.setGroupRead(groupId, seq, count)) this.host.announce({ kind: "groupRead", groupId, readSeq: seq });
      });
      return { readSeq: this.host.store.groupState(groupId).readSeq };
    });
  }

  /** set_unread_msg_num: the read point where the group puts it, backwards too. */
  async setReadPoint(groupId: string, seq: number, count: number): Promise<Outcome<void>> {
    return capture(() => {
      this.host.transaction(() => {
        if (this.host.store.setGroupReadPoint(groupId, seq, count)) this.host.announce({ kind: "groupRead", groupId, readSeq: seq });
      });
    });
  }

  /** A message mentioned the user: its devices and its conversation list show it until read. */
  async mentioned(groupId: string, groupSeq: number): Promise<Outcome<void>> {
    return capture(() => {
      this.host.transaction(() => {
        if (this.host.store.setGroupMention(groupId, groupSeq)) this.host.announce({ kind: "groupMentioned", groupId, groupSeq });
      });
    });
  }

  async pin(groupId: string, pinned: boolean): Promise<Outcome<{ pinned: boolean }>> {
    return capture(() => {
      this.host.transaction(() => {
        if (this.host.store.setGroupPinned(groupId, pinned)) this.host.announce({ kind: "groupConversationPinned", groupId, pinned });
      });
      return { pinned };
    });
  }

  /** Takes the conversation out of the list (and its unread with it) until the group's next message. */
  async delete(groupId: string): Promise<Outcome<{ deleted: boolean }>> {
    return capture(async () => {
      const [group] = await new GroupDirectory(this.host.env.DB, this.host.me.sdkAppId).find([groupId]);
      this.host.transaction(() => {
        this.host.store.hideGroupConversation(groupId, group?.lastSeq ?? 0, group?.unreadTotal ?? 0);
        this.host.announce({ kind: "groupConversationDeleted", groupId });
      });
      return { deleted: true };
    });
  }
}
