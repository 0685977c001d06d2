/**
 * A group's life and membership: creation, profile, dismissal, owner
 * transfer, members and their roles, mute and custom fields, joining
 * (directly, by application or by invitation) and leaving. Each action asks
 * the pure rules of `domain/groupRules.ts`, writes in one transaction with its
 * directory change, then tells the members concerned.
 */
import { ErrorCode } from "../../domain/errors.ts";
import {
  checkBatchSize,
  GroupErrorCode,
  groupBatchLimits,
  groupDataLimits,
  groupError,
  groupIdTakenError,
  memberDataLimits,
  mergeDefinedData,
  type ApplyJoinOption,
  type AssignableRole,
  type DefinedDataItem,
  type GroupProfile,
  type GroupType,
  type InviteJoinOption,
  type MsgFlag,
} from "../../domain/group.ts";
import { GroupNoticeType, GroupTipType, type GroupEvent } from "../../domain/groupMessage.ts";
import {
  checkGroupsPerUser,
  checkInitialMembers,
  checkRoomForMembers,
  decideDismiss,
  decideHandleRequest,
  decideInvite,
  decideJoin,
  decideKick,
  decideMemberFieldEdit,
  decideMute,
  decideOwnerTransfer,
  decideProfileEdit,
  decideQuit,
  decideRoleChange,
  maxMemberNumFor,
  muteUntilFor,
  refusalCode,
  type GroupProfileField,
} from "../../domain/groupRules.ts";
import {
  afterChangeGroupOwnerFields,
  afterCreateGroupFields,
  afterGroupDestroyedFields,
  afterGroupFullFields,
  afterGroupInfoChangedFields,
  afterMemberExitFields,
  afterMemberFieldChangedFields,
  afterNewMemberJoinFields,
  becameFull,
  beforeApplyJoinFields,
  beforeCreateGroupFields,
  beforeInviteJoinFields,
  GroupCallback,
  readGroupBeforeAnswer,
  readInviteAnswer,
  type JoinType,
} from "../../domain/groupCallbacks.ts";
import type { AppSettings } from "../../domain/app.ts";
import { existingAccounts } from "../../store/accounts.ts";
import { GroupDirectory } from "../../store/groups.ts";
import { operatorOf, refuseOn } from "./callbacks.ts";
import type { StoredMember } from "./GroupStore.ts";
import type { GroupCaller, GroupHost } from "./host.ts";

export interface CreateGroupInput {
  type: GroupType;
  name: string;
  owner?: string;
  introduction?: string;
  notification?: string;
  faceUrl?: string;
  maxMemberNum?: number;
  applyJoinOption?: ApplyJoinOption;
  inviteJoinOption?: InviteJoinOption;
  appDefinedData?: DefinedDataItem[];
  members?: { userId: string; role?: AssignableRole; appMemberDefinedData?: DefinedDataItem[] }[];
  supportTopic?: boolean;
  /** import_group: when the group was created (unix seconds). An imported group is created silently. */
  createTime?: number;
}

export interface ProfileChanges {
  name?: string;
  introduction?: string;
  notification?: string;
  faceUrl?: string;
  maxMemberNum?: number;
  applyJoinOption?: ApplyJoinOption;
  inviteJoinOption?: InviteJoinOption;
  muteAllMember?: boolean;
  appDefinedData?: DefinedDataItem[];
  historyMsgBeforeJoin?: boolean;
}

export interface MemberChanges {
  role?: AssignableRole;
  msgFlag?: MsgFlag;
  nameCard?: string;
  appMemberDefinedData?: DefinedDataItem[];
  /** Seconds from now; 0 unmutes. */
  muteTime?: number;
}

/** add_group_member's per-member Result: 0 failed, 1 added, 2 already a member, 3 waiting for the invitee. */
export type AddResult = 0 | 1 | 2 | 3;

export interface GroupInfo {
  profile: GroupProfile;
  memberNum: number;
  nextMsgSeq: number;
  lastMsgTime: number;
}

export class GroupMembership {
  private readonly host: GroupHost;

  constructor(host: GroupHost) {
    this.host = host;
  }

  async create(caller: GroupCaller, input: CreateGroupInput): Promise<{ groupId: string }> {
    const existing = this.host.store.profile();
    if (existing) throw groupIdTakenError(this.host.groupId, existing.ownerAccount, input.owner);
    const policy = await this.host.policy();
    const maxMemberNum = maxMemberNumFor(input.type, input.maxMemberNum, policy);
    const members = dedupeMembers((input.members ?? []).filter((m) => m.userId !== input.owner));
    checkInitialMembers(input.type, members, { withOwner: input.owner !== undefined, maxMemberNum: maxMemberNum || Number.MAX_SAFE_INTEGER });
    const everyone = [...(input.owner ? [input.owner] : []), ...members.map((m) => m.userId)];
    await this.requireAccounts(everyone);
    await this.requireRoomInTheirLists(input.type, everyone);
    // An imported group is created silently: no callbacks either.
    const imported = input.createTime !== undefined;
    const settings = await this.host.settings();
    if (!imported) {
      const decision = await this.host.callbacks.ask(
        settings,
        GroupCallback.beforeCreateGroup,
        caller,
        async () =>
          beforeCreateGroupFields({
            operator: operatorOf(caller),
            owner: input.owner,
            type: input.type,
            name: input.name,
            ownerCreated: input.owner ? await new GroupDirectory(this.host.env.DB, this.host.sdkAppId).createdCount(input.owner, input.type) : 0,
            members: members.map((m) => m.userId),
          }),
        readGroupBeforeAnswer,
      );
      refuseOn(decision);
    }
    // Another create of this id may have landed while this one waited.
    const taken = this.host.store.profile();
    if (taken) throw groupIdTakenError(this.host.groupId, taken.ownerAccount, input.owner);

    const now = Math.floor(Date.now() / 1000);
    const profile: GroupProfile = {
      groupId: this.host.groupId,
      type: input.type,
      name: input.name,
      introduction: input.introduction ?? "",
      notification: input.notification ?? "",
      faceUrl: input.faceUrl ?? "",
      ...(input.owner ? { ownerAccount: input.owner } : {}),
      createTime: input.createTime ?? now,
      maxMemberNum,
      ...(input.applyJoinOption ? { applyJoinOption: input.applyJoinOption } : {}),
      ...(input.inviteJoinOption ? { inviteJoinOption: input.inviteJoinOption } : {}),
      muteAllMember: false,
      appDefinedData: mergeDefinedData([], input.appDefinedData ?? [], groupDataLimits),
      infoSeq: 0,
      supportTopic: input.type === "Community" && input.supportTopic === true,
    };
    const joined: StoredMember[] = [
      ...(input.owner ? [newMember(input.owner, "Owner", now, 1)] : []),
      ...members.map((m) => ({ ...newMember(m.userId, m.role ?? "Member", now, 1), appMemberDefinedData: mergeDefinedData([], m.appMemberDefinedData ?? [], memberDataLimits) })),
    ];
    this.host.transaction(() => {
      this.host.store.setProfile(profile);
      for (const member of joined) this.host.store.addMember(member);
      this.host.directoryChanged({ kind: "joined", userIds: everyone, joinSeq: 1, joinedAt: now, joinCount: 0 });
      if (!imported) {
        this.host.callbacks.after(settings, GroupCallback.afterCreateGroup, caller, afterCreateGroupFields(profile, operatorOf(caller), members.map((m) => m.userId)));
        if (becameFull(maxMemberNum, 0, joined.length)) this.host.callbacks.after(settings, GroupCallback.afterGroupFull, caller, afterGroupFullFields(profile));
      }
    });
    await this.host.flushDirectory();
    const operator = caller.userId ?? input.owner ?? "";
    if (!imported) this.notice(everyone, GroupNoticeType.created, operator);
    this.host.publish({ kind: "groupListUpdated", groupId: this.host.groupId }, everyone);
    this.host.callbacks.deliverSoon();
    return { groupId: this.host.groupId };
  }

  info(caller: GroupCaller): GroupInfo {
    const profile = this.host.profile();
    void caller;
    return { profile, memberNum: this.host.store.memberCount(), nextMsgSeq: this.host.store.nextSeq(), lastMsgTime: this.host.store.lastMessageTime() };
  }

  async modifyProfile(caller: GroupCaller, changes: ProfileChanges): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    const { actor } = this.host.actorOf(caller);
    const fields = (Object.keys(changes) as GroupProfileField[]).filter((f) => changes[f] !== undefined);
    if (fields.length === 0) return;
    decideProfileEdit(profile.type, actor, fields);
    const next: GroupProfile = { ...profile, infoSeq: profile.infoSeq + 1, lastInfoTime: Math.floor(Date.now() / 1000) };
    if (changes.name !== undefined) next.name = changes.name;
    if (changes.introduction !== undefined) next.introduction = changes.introduction;
    if (changes.notification !== undefined) next.notification = changes.notification;
    if (changes.faceUrl !== undefined) next.faceUrl = changes.faceUrl;
    if (changes.applyJoinOption !== undefined) next.applyJoinOption = changes.applyJoinOption;
    if (changes.inviteJoinOption !== undefined) next.inviteJoinOption = changes.inviteJoinOption;
    if (changes.muteAllMember !== undefined) next.muteAllMember = changes.muteAllMember;
    if (changes.historyMsgBeforeJoin !== undefined) next.historyMsgBeforeJoin = changes.historyMsgBeforeJoin;
    if (changes.appDefinedData !== undefined) next.appDefinedData = mergeDefinedData(profile.appDefinedData, changes.appDefinedData, groupDataLimits);
    if (changes.maxMemberNum !== undefined) {
      next.maxMemberNum = maxMemberNumFor(profile.type, changes.maxMemberNum, await this.host.policy());
      if (next.maxMemberNum > 0 && next.maxMemberNum < this.host.store.memberCount()) {
        throw groupError(GroupErrorCode.invalidParameter, "MaxMemberNum cannot be below the number of members");
      }
    }
    const infoChanged = afterGroupInfoChangedFields(next, operatorOf(caller), {
      name: changes.name !== undefined,
      introduction: changes.introduction !== undefined,
      notification: changes.notification !== undefined,
      faceUrl: changes.faceUrl !== undefined,
      ...(changes.appDefinedData !== undefined ? { appDefinedData: changes.appDefinedData } : {}),
    });
    this.host.transaction(() => {
      this.host.store.setProfile(next);
      this.host.directoryChanged({ kind: "group" });
      if (infoChanged) this.host.callbacks.after(settings, GroupCallback.afterGroupInfoChanged, caller, infoChanged);
    });
    this.host.callbacks.deliverSoon();
    if (changes.name !== undefined) await this.host.flushDirectory();
    const changed: Record<string, unknown> = {};
    for (const field of fields) changed[field] = next[field as keyof GroupProfile];
    this.tip(GroupTipType.groupProfileUpdated, caller.userId ?? "", [], changed);
  }

  async destroy(caller: GroupCaller): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    decideDismiss(profile.type, this.host.actorOf(caller).actor);
    const everyone = this.host.store.allMemberIds();
    this.host.transaction(() => {
      this.host.store.wipe();
      this.host.directoryChanged({ kind: "destroyed" });
      // The callback outbox is a table of its own: the wipe leaves it, and this row, in place.
      this.host.callbacks.after(settings, GroupCallback.afterGroupDestroyed, caller, afterGroupDestroyedFields(profile, everyone));
    });
    this.host.callbacks.deliverSoon();
    await this.host.flushDirectory();
    this.notice(everyone, GroupNoticeType.dismissed, caller.userId ?? "");
    this.host.publish({ kind: "groupListUpdated", groupId: this.host.groupId }, everyone);
  }

  async changeOwner(caller: GroupCaller, newOwner: string): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    const target = this.host.store.member(newOwner);
    if (decideOwnerTransfer(profile.type, this.host.actorOf(caller).actor, target?.role ?? "NotMember") === "unchanged") return;
    this.host.transaction(() => {
      const old = profile.ownerAccount ? this.host.store.member(profile.ownerAccount) : null;
      if (old) this.host.store.updateMember({ ...old, role: "Member" });
      this.host.store.updateMember({ ...target!, role: "Owner" });
      this.host.store.setProfile({ ...profile, ownerAccount: newOwner, infoSeq: profile.infoSeq + 1, lastInfoTime: Math.floor(Date.now() / 1000) });
      this.host.directoryChanged({ kind: "group" });
      this.host.callbacks.after(settings, GroupCallback.afterChangeGroupOwner, caller, afterChangeGroupOwnerFields(profile, operatorOf(caller), profile.ownerAccount, newOwner));
    });
    this.host.callbacks.deliverSoon();
    await this.host.flushDirectory();
    this.tip(GroupTipType.groupProfileUpdated, caller.userId ?? "", [newOwner], { ownerAccount: newOwner });
  }

  memberPage(caller: GroupCaller, page: { offset: number; limit: number; roles?: string[] }): { memberNum: number; members: StoredMember[] } {
    this.host.profile();
    this.requireMemberOrAdmin(caller);
    checkBatchSize("members per page", page.limit, groupBatchLimits.memberPage);
    return { memberNum: this.host.store.memberCount(), members: this.host.store.members(page.offset, page.limit, page.roles) };
  }

  membersOf(caller: GroupCaller, userIds: string[]): StoredMember[] {
    this.host.profile();
    this.requireMemberOrAdmin(caller);
    checkBatchSize("members", userIds.length, groupBatchLimits.getSpecifiedMembers);
    return this.host.store.membersIn(userIds);
  }

  async addMembers(caller: GroupCaller, userIds: string[], options: { silence?: boolean }): Promise<{ userId: string; result: AddResult }[]> {
    let profile = this.host.profile();
    checkBatchSize("members to add", userIds.length, groupBatchLimits.addMembers);
    const { actor } = this.host.actorOf(caller);
    const policy = await this.host.policy();
    const decision = decideInvite(profile, actor, policy);
    const unique = [...new Set(userIds)];
    const settings = await this.host.settings();
    const invitees = unique.filter((userId) => !this.host.store.member(userId));
    // The backend may refuse the invitation, or some of the invitees (their Result is 0).
    const refusedByBackend = new Set<string>();
    if (invitees.length > 0) {
      const asked = await this.host.callbacks.ask(
        settings,
        GroupCallback.beforeInviteJoinGroup,
        caller,
        () => beforeInviteJoinFields(profile, operatorOf(caller), invitees),
        readInviteAnswer,
      );
      refuseOn(asked);
      if (asked && "refused" in asked) for (const userId of asked.refused) refusedByBackend.add(userId);
    }
    const found = await existingAccounts(this.host.env.DB, this.host.sdkAppId, unique);
    const counts = await new GroupDirectory(this.host.env.DB, this.host.sdkAppId).joinedCounts(unique);
    // Read again after the waits: the group may have changed, or gone.
    profile = this.host.profile();
    const now = Math.floor(Date.now() / 1000);
    const results: { userId: string; result: AddResult }[] = [];
    const added: string[] = [];
    const waiting: string[] = [];
    this.host.transaction(() => {
      const countBefore = this.host.store.memberCount();
      let count = countBefore;
      const joinSeq = this.host.store.nextSeq();
      for (const userId of unique) {
        if (this.host.store.member(userId)) {
          results.push({ userId, result: 2 });
          continue;
        }
        const refused =
          (refusedByBackend.has(userId) ? GroupErrorCode.refusedByCallback : 0) ||
          (!found.has(userId) ? ErrorCode.accountNotFound : 0) ||
          refusalCode(() => checkGroupsPerUser(profile.type, counts.get(userId) ?? 0, policy)) ||
          refusalCode(() => checkRoomForMembers(count, 1, profile.maxMemberNum || Number.MAX_SAFE_INTEGER));
        if (refused) {
          results.push({ userId, result: 0 });
          continue;
        }
        if (decision !== "add") {
          this.host.store.addRequest(userId, "invite", caller.userId, "", now);
          results.push({ userId, result: 3 });
          waiting.push(userId);
          continue;
        }
        this.host.store.addMember(newMember(userId, "Member", now, joinSeq));
        this.host.store.removeRequest(userId);
        count++;
        added.push(userId);
        results.push({ userId, result: 1 });
      }
      if (added.length > 0) {
        this.host.directoryChanged({ kind: "joined", userIds: added, joinSeq, joinedAt: now, joinCount: this.host.store.unreadTotal() });
        this.joined(settings, caller, profile, "Invited", added, countBefore);
      }
    });
    this.host.callbacks.deliverSoon();
    if (added.length > 0) await this.host.flushDirectory();
    const operator = caller.userId ?? "";
    if (added.length > 0) {
      if (!options.silence) this.tip(GroupTipType.memberJoined, operator, added);
      this.notice(added, GroupNoticeType.invited, operator);
      this.host.publish({ kind: "groupListUpdated", groupId: this.host.groupId }, added);
    }
    if (waiting.length > 0) {
      if (decision === "awaitInvitee") this.notice(waiting, GroupNoticeType.inviteToAccept, operator);
      else this.notice(this.host.store.managerIds(), GroupNoticeType.joinRequest, operator, waiting.join(","));
    }
    return results;
  }

  async removeMembers(caller: GroupCaller, userIds: string[], options: { reason?: string; silence?: boolean }): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    checkBatchSize("members to remove", userIds.length, groupBatchLimits.deleteMembers);
    const { actor } = this.host.actorOf(caller);
    const targets = this.host.store.membersIn([...new Set(userIds)]);
    for (const target of targets) decideKick(profile.type, actor, target.role);
    if (targets.length === 0) return;
    const removed = targets.map((t) => t.userId);
    this.host.transaction(() => {
      for (const userId of removed) this.host.store.removeMember(userId);
      this.host.directoryChanged({ kind: "left", userIds: removed });
      this.host.callbacks.after(settings, GroupCallback.afterMemberExit, caller, afterMemberExitFields(profile, "Kicked", operatorOf(caller), removed));
    });
    this.host.callbacks.deliverSoon();
    await this.host.flushDirectory();
    if (!options.silence) this.tip(GroupTipType.memberKicked, caller.userId ?? "", removed);
    this.notice(removed, GroupNoticeType.kicked, caller.userId ?? "", options.reason);
    this.host.publish({ kind: "groupListUpdated", groupId: this.host.groupId }, removed);
  }

  async modifyMember(caller: GroupCaller, userId: string, changes: MemberChanges): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    const { actor } = this.host.actorOf(caller);
    const target = this.host.store.member(userId);
    if (!target) throw groupError(GroupErrorCode.noPermission, `"${userId}" is not a member of this group`);
    const self = caller.userId === userId;
    const next = { ...target };
    let roleChanged = false;
    if (changes.role !== undefined && decideRoleChange(profile.type, actor, target.role, changes.role) === "changed") {
      next.role = changes.role;
      roleChanged = true;
    }
    if (changes.nameCard !== undefined) {
      decideMemberFieldEdit(profile.type, actor, { self, role: target.role }, "nameCard");
      next.nameCard = changes.nameCard;
    }
    if (changes.msgFlag !== undefined) {
      decideMemberFieldEdit(profile.type, actor, { self, role: target.role }, "msgFlag");
      next.msgFlag = changes.msgFlag;
    }
    if (changes.appMemberDefinedData !== undefined) {
      decideMemberFieldEdit(profile.type, actor, { self, role: target.role }, "appMemberDefinedData");
      next.appMemberDefinedData = mergeDefinedData(target.appMemberDefinedData, changes.appMemberDefinedData, memberDataLimits);
    }
    if (changes.muteTime !== undefined) {
      decideMute(profile.type, actor, target.role);
      next.muteUntil = muteUntilFor(changes.muteTime, Math.floor(Date.now() / 1000));
    }
    // Role, NameCard and custom fields are what Group.CallbackAfterMemberFieldChanged reports; mute and MsgFlag are not.
    const fieldsChanged = roleChanged || next.nameCard !== target.nameCard || changes.appMemberDefinedData !== undefined;
    this.host.transaction(() => {
      this.host.store.updateMember(next);
      if (next.msgFlag !== target.msgFlag) this.host.directoryChanged({ kind: "msgFlag", userId, msgFlag: next.msgFlag });
      if (fieldsChanged) {
        this.host.callbacks.after(settings, GroupCallback.afterMemberFieldChanged, caller, afterMemberFieldChangedFields(profile, operatorOf(caller), next, changes.appMemberDefinedData));
      }
    });
    this.host.callbacks.deliverSoon();
    if (next.msgFlag !== target.msgFlag) await this.host.flushDirectory();
    const operator = caller.userId ?? "";
    if (roleChanged) {
      this.tip(next.role === "Admin" ? GroupTipType.adminSet : GroupTipType.adminCancelled, operator, [userId]);
      this.notice([userId], next.role === "Admin" ? GroupNoticeType.adminSet : GroupNoticeType.adminCancelled, operator);
    }
    if (changes.muteTime !== undefined) this.tip(GroupTipType.memberProfileUpdated, operator, [userId], { muteUntil: next.muteUntil });
  }

  roles(userIds: string[]): { userId: string; role: string }[] {
    this.host.profile();
    checkBatchSize("accounts", userIds.length, groupBatchLimits.getRoleInGroup);
    const members = new Map(this.host.store.membersIn(userIds).map((m) => [m.userId, m.role]));
    return userIds.map((userId) => ({ userId, role: members.get(userId) ?? "NotMember" }));
  }

  async mute(caller: GroupCaller, userIds: string[], muteTimeSeconds: number): Promise<void> {
    const profile = this.host.profile();
    checkBatchSize("members to mute", userIds.length, groupBatchLimits.muteMembers);
    const { actor } = this.host.actorOf(caller);
    const targets = this.host.store.membersIn([...new Set(userIds)]);
    for (const target of targets) decideMute(profile.type, actor, target.role);
    const muteUntil = muteUntilFor(muteTimeSeconds, Math.floor(Date.now() / 1000));
    this.host.transaction(() => {
      for (const target of targets) this.host.store.updateMember({ ...target, muteUntil });
    });
    if (targets.length > 0) this.tip(GroupTipType.memberProfileUpdated, caller.userId ?? "", targets.map((t) => t.userId), { muteUntil });
  }

  mutedMembers(caller: GroupCaller): { userId: string; mutedUntil: number }[] {
    this.host.profile();
    this.requireMemberOrAdmin(caller);
    return this.host.store.mutedMembers(Math.floor(Date.now() / 1000));
  }

  async join(caller: GroupCaller, applyMessage: string): Promise<{ status: "JoinedSuccess" | "WaitAdminApproval" | "AlreadyInGroup" }> {
    const profile = this.host.profile();
    const userId = requireUser(caller);
    const member = this.host.store.member(userId);
    const decision = decideJoin(profile, member?.role ?? "NotMember");
    if (decision === "alreadyMember") return { status: "AlreadyInGroup" };
    const policy = await this.host.policy();
    const counts = await new GroupDirectory(this.host.env.DB, this.host.sdkAppId).joinedCounts([userId]);
    checkGroupsPerUser(profile.type, counts.get(userId) ?? 0, policy);
    const settings = await this.host.settings();
    refuseOn(await this.host.callbacks.ask(settings, GroupCallback.beforeApplyJoinGroup, caller, () => beforeApplyJoinFields(profile, userId), readGroupBeforeAnswer));
    // Read again after the waits: the group may be gone, or the user in it.
    this.host.profile();
    if (this.host.store.member(userId)) return { status: "AlreadyInGroup" };
    const now = Math.floor(Date.now() / 1000);
    if (decision === "awaitApproval") {
      this.host.transaction(() => this.host.store.addRequest(userId, "apply", userId, applyMessage, now));
      this.notice(this.host.store.managerIds(), GroupNoticeType.joinRequest, userId, applyMessage);
      return { status: "WaitAdminApproval" };
    }
    await this.admit(caller, userId, "Apply", now);
    return { status: "JoinedSuccess" };
  }

  async quit(caller: GroupCaller): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    const userId = requireUser(caller);
    const member = this.host.store.member(userId);
    const { ownerLeaves } = decideQuit(profile.type, member?.role ?? "NotMember");
    this.host.transaction(() => {
      this.host.store.removeMember(userId);
      if (ownerLeaves) {
        const { ownerAccount: _owner, ...rest } = profile;
        this.host.store.setProfile({ ...rest, infoSeq: profile.infoSeq + 1 });
      }
      this.host.directoryChanged({ kind: "left", userIds: [userId] });
      this.host.callbacks.after(settings, GroupCallback.afterMemberExit, caller, afterMemberExitFields(profile, "Quit", userId, [userId]));
    });
    this.host.callbacks.deliverSoon();
    await this.host.flushDirectory();
    this.tip(GroupTipType.memberQuit, userId, [userId]);
    this.host.publish({ kind: "groupListUpdated", groupId: this.host.groupId }, [userId]);
  }

  applications(caller: GroupCaller): { userId: string; kind: "apply" | "invite"; by?: string; message: string; at: number }[] {
    const profile = this.host.profile();
    decideHandleRequest(profile.type, this.host.actorOf(caller).actor);
    return this.host.store.requests(100);
  }

  async handleApplication(caller: GroupCaller, applicant: string, approve: boolean, message: string): Promise<void> {
    const profile = this.host.profile();
    const request = this.host.store.request(applicant);
    if (!request) throw groupError(GroupErrorCode.alreadyHandled, `there is no pending request from "${applicant}"`);
    // An invitation waiting for the invitee is answered by the invitee; an application, by a manager.
    if (request.kind === "invite" && caller.userId === applicant) {
      // the invitee answers for itself
    } else decideHandleRequest(profile.type, this.host.actorOf(caller).actor);
    const operator = caller.userId ?? "";
    if (!approve) {
      this.host.transaction(() => this.host.store.removeRequest(applicant));
      this.notice([applicant], GroupNoticeType.requestRefused, operator, message);
      return;
    }
    checkRoomForMembers(this.host.store.memberCount(), 1, profile.maxMemberNum || Number.MAX_SAFE_INTEGER);
    await this.admit(caller, applicant, request.kind === "invite" ? "Invited" : "Apply", Math.floor(Date.now() / 1000));
    this.notice([applicant], GroupNoticeType.requestAccepted, operator, message);
  }

  /** Lets one user in: an application (JoinType Apply) or an invitation the invitee or a manager accepted (Invited). */
  private async admit(caller: GroupCaller, userId: string, joinType: JoinType, now: number): Promise<void> {
    const settings = await this.host.settings();
    const profile = this.host.profile();
    const countBefore = this.host.store.memberCount();
    checkRoomForMembers(countBefore, 1, profile.maxMemberNum || Number.MAX_SAFE_INTEGER);
    this.host.transaction(() => {
      const joinSeq = this.host.store.nextSeq();
      this.host.store.addMember(newMember(userId, "Member", now, joinSeq));
      this.host.store.removeRequest(userId);
      this.host.directoryChanged({ kind: "joined", userIds: [userId], joinSeq, joinedAt: now, joinCount: this.host.store.unreadTotal() });
      this.joined(settings, caller, profile, joinType, [userId], countBefore);
    });
    this.host.callbacks.deliverSoon();
    await this.host.flushDirectory();
    this.tip(GroupTipType.memberJoined, caller.userId ?? "", [userId]);
    this.host.publish({ kind: "groupListUpdated", groupId: this.host.groupId }, [userId]);
  }

  /** Group.CallbackAfterNewMemberJoin, and AfterGroupFull when these joins filled the group (inside the joins' transaction). */
  private joined(settings: AppSettings, caller: GroupCaller, profile: GroupProfile, joinType: JoinType, userIds: string[], countBefore: number): void {
    this.host.callbacks.after(settings, GroupCallback.afterNewMemberJoin, caller, afterNewMemberJoinFields(profile, joinType, operatorOf(caller), userIds));
    if (becameFull(profile.maxMemberNum, countBefore, countBefore + userIds.length)) {
      this.host.callbacks.after(settings, GroupCallback.afterGroupFull, caller, afterGroupFullFields(profile));
    }
  }

  private requireMemberOrAdmin(caller: GroupCaller): void {
    const { actor } = this.host.actorOf(caller);
    if (actor === "NotMember") throw groupError(GroupErrorCode.noPermission, "you are not a member of this group");
  }

  private async requireAccounts(userIds: string[]): Promise<void> {
    const found = await existingAccounts(this.host.env.DB, this.host.sdkAppId, userIds);
    for (const userId of userIds) {
      if (!found.has(userId) && !(await this.host.isAppAdmin(userId))) throw groupError(GroupErrorCode.accountNotFound, `account "${userId}" does not exist`);
    }
  }

  private async requireRoomInTheirLists(type: GroupType, userIds: string[]): Promise<void> {
    const policy = await this.host.policy();
    const counts = await new GroupDirectory(this.host.env.DB, this.host.sdkAppId).joinedCounts(userIds);
    for (const userId of userIds) checkGroupsPerUser(type, counts.get(userId) ?? 0, policy);
  }

  /** A group tip (TIMGroupTipElem) to every member. */
  private tip(operationType: number, operatorId: string, userIds: string[], profile?: Record<string, unknown>): void {
    const event: GroupEvent = { kind: "groupTip", groupId: this.host.groupId, operationType, operatorId, userIds, time: Math.floor(Date.now() / 1000), ...(profile ? { profile } : {}) };
    this.host.publish(event, [...new Set([...this.host.store.allMemberIds(), ...userIds])]);
  }

  /** A system notice (TIMGroupSystemNoticeElem) to the users it concerns. */
  private notice(userIds: string[], operationType: number, operatorId: string, message?: string): void {
    const event: GroupEvent = { kind: "groupSystemNotice", groupId: this.host.groupId, operationType, operatorId, time: Math.floor(Date.now() / 1000), ...(message ? { message } : {}) };
    this.host.publish(event, userIds);
  }
}

function newMember(userId: string, role: StoredMember["role"], now: number, joinSeq: number): StoredMember {
  return { userId, role, joinTime: now, nameCard: "", msgFlag: "AcceptAndNotify", muteUntil: 0, appMemberDefinedData: [], lastSendMsgTime: 0, joinSeq, readSeq: joinSeq - 1 };
}

function dedupeMembers<T extends { userId: string }>(members: T[]): T[] {
  const seen = new Set<string>();
  return members.filter((m) => !seen.has(m.userId) && seen.add(m.userId));
}

function requireUser(caller: GroupCaller): string {
  if (!caller.userId) throw groupError(GroupErrorCode.invalidParameter, "this action needs the user it is for");
  return caller.userId;
}
