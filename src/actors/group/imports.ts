/**
 * Bringing a group's past from another system (import_group_member,
 * import_group_msg): members with their own join time, role and unread count,
 * and messages with their own send time. Nothing is delivered to devices; an
 * import is history, not news.
 */
import { ErrorCode } from "../../domain/errors.ts";
import { GroupErrorCode, groupError, type AssignableRole } from "../../domain/group.ts";
import type { GroupMessage } from "../../domain/groupMessage.ts";
import { checkGroupsPerUser, checkRoomForMembers, hasAdmins, refusalCode, storesHistory } from "../../domain/groupRules.ts";
import { checkMessageSize, type MsgBody } from "../../domain/message.ts";
import { existingAccounts } from "../../store/accounts.ts";
import { GroupDirectory } from "../../store/groups.ts";
import type { StoredMember } from "./GroupStore.ts";
import type { GroupCaller, GroupHost } from "./host.ts";

/** Members one import_group_member call may bring (Tencent's limit). */
export const maxImportedMembers = 500;
/** Messages one import_group_msg call may bring (Tencent's limit). */
export const maxImportedMessages = 20;

export interface ImportedMember {
  userId: string;
  role?: AssignableRole;
  /** Unix seconds; now when absent. */
  joinTime?: number;
  /** How many of the group's newest messages the member has not read. */
  unreadMsgNum?: number;
}

export interface ImportedMessage {
  from: string;
  /** Unix seconds. */
  sendTime: number;
  random: number;
  body: MsgBody;
  cloudCustomData?: string;
}

/** import_group_member's per-member Result: 0 failed, 1 imported, 2 already a member. */
export type ImportResult = 0 | 1 | 2;

export class GroupImports {
  private readonly host: GroupHost;

  constructor(host: GroupHost) {
    this.host = host;
  }

  async members(caller: GroupCaller, members: ImportedMember[]): Promise<{ userId: string; result: ImportResult }[]> {
    const profile = this.host.profile();
    requireAppAdmin(caller);
    if (!storesHistory(profile.type)) throw groupError(GroupErrorCode.noPermission, "live rooms take no imported members");
    if (members.length > maxImportedMembers) throw groupError(GroupErrorCode.tooManyAccounts, `at most ${maxImportedMembers} members per import`);
    if (members.some((m) => m.role === "Admin") && !hasAdmins(profile.type)) throw groupError(GroupErrorCode.invalidParameter, "this group type has no admins");
    const unique = [...new Map(members.map((m) => [m.userId, m])).values()];
    const ids = unique.map((m) => m.userId);
    const policy = await this.host.policy();
    const found = await existingAccounts(this.host.env.DB, this.host.sdkAppId, ids);
    const counts = await new GroupDirectory(this.host.env.DB, this.host.sdkAppId).joinedCounts(ids);
    const now = Math.floor(Date.now() / 1000);
    const results: { userId: string; result: ImportResult }[] = [];
    this.host.transaction(() => {
      let count = this.host.store.memberCount();
      const lastSeq = this.host.store.nextSeq() - 1;
      // Members imported together share a directory row change when they share a join time and unread count.
      const joinedAt = new Map<string, { at: number; count: number; userIds: string[] }>();
      const total = this.host.store.unreadTotal();
      for (const m of unique) {
        if (this.host.store.member(m.userId)) {
          results.push({ userId: m.userId, result: 2 });
          continue;
        }
        const refused =
          (!found.has(m.userId) ? ErrorCode.accountNotFound : 0) ||
          refusalCode(() => checkGroupsPerUser(profile.type, counts.get(m.userId) ?? 0, policy)) ||
          refusalCode(() => checkRoomForMembers(count, 1, profile.maxMemberNum || Number.MAX_SAFE_INTEGER));
        if (refused) {
          results.push({ userId: m.userId, result: 0 });
          continue;
        }
        const joinTime = m.joinTime ?? now;
        // Imported members were there all along: they see the group's (imported) history from its start.
        const member: StoredMember = {
          userId: m.userId,
          role: m.role ?? "Member",
          joinTime,
          nameCard: "",
          msgFlag: "AcceptAndNotify",
          muteUntil: 0,
          appMemberDefinedData: [],
          lastSendMsgTime: 0,
          joinSeq: 1,
          readSeq: Math.max(0, lastSeq - (m.unreadMsgNum ?? 0)),
        };
        this.host.store.addMember(member);
        count++;
        const joinCount = Math.max(0, total - (m.unreadMsgNum ?? 0));
        const key = `${joinTime}:${joinCount}`;
        const entry = joinedAt.get(key) ?? { at: joinTime, count: joinCount, userIds: [] };
        entry.userIds.push(m.userId);
        joinedAt.set(key, entry);
        results.push({ userId: m.userId, result: 1 });
      }
      for (const { at, count, userIds } of joinedAt.values()) this.host.directoryChanged({ kind: "joined", userIds, joinSeq: 1, joinedAt: at, joinCount: count });
    });
    if (results.some((r) => r.result === 1)) await this.host.flushDirectory();
    return results;
  }

  /** Stores each message under the group's next MsgSeq; a message sent in the future or before the group existed is refused (10004). */
  messages(caller: GroupCaller, messages: ImportedMessage[]): { seq: number; time: number; result: number }[] {
    const profile = this.host.profile();
    requireAppAdmin(caller);
    if (!storesHistory(profile.type)) throw groupError(GroupErrorCode.noPermission, "live rooms keep no history to import into");
    if (messages.length > maxImportedMessages) throw groupError(GroupErrorCode.invalidParameter, `at most ${maxImportedMessages} messages per import`);
    const now = Date.now();
    const nowSeconds = Math.floor(now / 1000);
    const results = this.host.transaction(() =>
      messages.map((m) => {
        if (m.sendTime > nowSeconds || m.sendTime < profile.createTime) return { seq: 0, time: m.sendTime, result: GroupErrorCode.invalidParameter };
        const tooLarge = refusalCode(() => checkMessageSize(m.body, m.cloudCustomData));
        if (tooLarge) return { seq: 0, time: m.sendTime, result: tooLarge };
        const message: GroupMessage = {
          groupId: this.host.groupId,
          seq: this.host.store.takeSeq(),
          from: m.from,
          random: m.random,
          time: m.sendTime,
          body: m.body,
          priority: "Normal",
          isRevoked: false,
          isModified: false,
          ...(m.cloudCustomData !== undefined ? { cloudCustomData: m.cloudCustomData } : {}),
        };
        this.host.store.insertMessage(message, now);
        return { seq: message.seq, time: message.time, result: 0 };
      }),
    );
    if (results.some((r) => r.result === 0)) this.host.directoryChanged({ kind: "group" });
    return results;
  }
}

function requireAppAdmin(caller: GroupCaller): void {
  if (!caller.appAdmin) throw groupError(GroupErrorCode.noPermission, "only the app admin imports");
}
