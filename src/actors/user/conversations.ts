/**
 * A user's view of its one-to-one history: sync by sequence, history pages,
 * the conversation list with unread counts and pins, and read state.
 */
import { capture, ErrorCode, ImError, unwrap, type Outcome } from "../../domain/errors.ts";
import type { Conversation, GroupConversation, SyncPage } from "../../domain/events.ts";
import type { GroupConversations } from "./groups.ts";
import type { StoredC2CMessage } from "../../domain/message.ts";
import type { UserHost } from "./host.ts";
import { C2CCallback, c2cMsgReportFields } from "../../domain/callbacks.ts";

const reportCommand = C2CCallback.afterMsgReport;
export class Conversations {
  private readonly host: UserHost;
  private readonly groups: GroupConversations;

  constructor(host: UserHost, groups: GroupConversations) {
    this.host = host;
    this.groups = groups;
  }

  async sync(after: number, limit = 100): Promise<Outcome<SyncPage>> {
    return capture(() => {
      const page = this.host.store.eventsAfter(after, limit);
      return { events: page.events, cursor: page.through, complete: page.complete };
    });
  }

  /** One conversation's history, newest first, before sync sequence `before`. */
  async getMessageList(peer: string, before: number | undefined, limit = 20): Promise<Outcome<{ messages: StoredC2CMessage[]; complete: boolean; next: number }>> {
    return capture(() => {
      const messages = this.host.store.history(peer, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
      const complete = messages.length <= limit;
      const page = messages.slice(0, limit);
      return { messages: page, complete, next: page.at(-1)?.seq ?? 0 };
    });
  }

  /** History within a time range (admin_getroammsg), newest first, before sync sequence `before`. */
  async roamMessages(peer: string,
    range: { minTime: number; maxTime: number; before?: number; limit: number },
  ): Promise<Outcome<{ messages: StoredC2CMessage[]; complete: boolean }>> {
    return capture(() => {
      const rows = this.host.store.historyByTime(peer, range.minTime, range.maxTime, range.before ?? Number.MAX_SAFE_INTEGER, range.limit + 1);
      return { messages: rows.slice(0, range.limit), complete: rows.length <= range.limit };
    });
  }

  /** Finds a message of this user's by key (admin tools that address messages by MsgKey). */
  async findMessage(peer: string, key: string): Promise<Outcome<StoredC2CMessage | null>> {
    return capture(() => {
      return this.host.store.findByKey(peer, key);
    });
  }

  /** One-to-one and group conversations together: pinned first, then the most recent. */
  async listConversations(offset = 0, limit = 100): Promise<Outcome<{ conversations: (Conversation | GroupConversation)[]; complete: boolean }>> {
    return capture(async () => {
      const groups = await this.groups.list();
      const oneToOne = this.host.store.conversations(0, offset + limit + 1);
      const merged = [...oneToOne, ...groups].sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.time - a.time);
      const complete = oneToOne.length <= offset + limit && merged.length <= offset + limit;
      return { conversations: merged.slice(offset, offset + limit), complete };
    });
  }

  async deleteConversation(peer: string, clearHistory: boolean): Promise<Outcome<{ deleted: boolean }>> {
    return capture(() => {
      const deleted = this.host.transaction(() => {
        const existed = this.host.store.deleteConversation(peer, clearHistory);
        if (existed) this.host.announce({ kind: "conversationDeleted", peer });
        return existed;
      });
      return { deleted };
    });
  }

  async pinConversation(peer: string, pinned: boolean): Promise<Outcome<{ pinned: boolean }>> {
    return capture(() => {
      if (!this.host.store.conversation(peer)) throw new ImError(ErrorCode.invalidParameter, `there is no conversation with "${peer}"`);
      this.host.transaction(() => {
        if (this.host.store.setPinned(peer, pinned)) this.host.announce({ kind: "conversationPinned", peer, pinned });
      });
      return { pinned };
    });
  }

  async unread(peers?: string[]): Promise<Outcome<{ total: number; byPeer: { peer: string; unread: number }[]; byGroup: { groupId: string; unread: number }[] }>> {
    return capture(async () => {
      // A question about particular peers is about one-to-one conversations only.
      // Conversations the user muted (AcceptNotNotify) keep their count but stay out of the badge's total.
      const groups = peers ? [] : (await this.groups.list()).filter((g) => g.unreadCount > 0 && g.messageRemindType === "AcceptAndNotify");
      const groupTotal = groups.reduce((sum, g) => sum + g.unreadCount, 0);
      return {
        total: this.host.store.totalUnread() + groupTotal,
        byPeer: this.host.store.unreadCounts(peers),
        byGroup: groups.map((g) => ({ groupId: g.groupId, unread: g.unreadCount })),
      };
    });
  }

  /** Marks a conversation read (up to `maxTime`, unix seconds, or everything) and tells the peer; `platform` is where the report came from (OptPlatform). */
  async markRead(peer: string, maxTime?: number, platform?: string): Promise<Outcome<{ unread: 0 }>> {
    return capture(async () => {
      const report = this.host.callbacks.enabled(await this.host.settings(), reportCommand);
      // Reading what is already read changes nothing, records nothing and tells no one.
      const { readUpTo } = this.host.transaction(() => {
        const read = this.host.store.markRead(peer, maxTime ?? Number.MAX_SAFE_INTEGER);
        if (read.changed) this.host.announce({ kind: "conversationRead", peer });
        if (read.changed && report) {
          const now = Math.floor(Date.now() / 1000);
          const fields = c2cMsgReportFields(this.host.me.userId, peer, Math.min(maxTime ?? now, now), this.host.store.totalUnread());
          this.host.callbacks.queue(reportCommand, `c2c:${peer}`, fields, platform);
        }
        return read;
      });
      if (report) this.host.callbacks.deliverSoon();
      if (readUpTo) {
        const other = this.host.peer(peer);
        unwrap(await other.actor.applyPeerRead(this.host.me.userId, readUpTo.key));
      }
      return { unread: 0 as const };
    });
  }

  /** The peer read this user's messages up to and including `key`. */
  async applyPeerRead(peer: string, key: string): Promise<Outcome<void>> {
    return capture(() => {
      const message = this.host.store.findByKey(peer, key, true);
      if (!message) return;
      this.host.transaction(() => {
        if (this.host.store.setPeerRead(peer, message.seq)) this.host.announce({ kind: "peerRead", peer, key });
      });
    });
  }
}
