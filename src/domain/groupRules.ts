/**
 * Who may do what in a group, per group type: Tencent's rules table as plain functions.
 * Each takes the group's type and settings, the actor's standing and the target's role, and
 * returns a decision or throws an ImError with Tencent's 10xxx code. The GroupActor loads the
 * state, asks, then persists and notifies.
 */
import { ImError } from "./errors.ts";
import {
  GroupErrorCode,
  checkBatchSize,
  groupBatchLimits,
  groupError,
  groupTypeLabel,
  memberLimitOf,
  muteForever,
  type ApplyJoinOption,
  type AssignableRole,
  type GroupPolicy,
  type GroupRole,
  type GroupType,
  type InviteJoinOption,
  type MsgDropReason,
} from "./group.ts";
import { takeToken, type TokenBucket } from "./rateLimit.ts";

/** Who is acting: a member's role, someone outside the group, or an app admin (owner rights everywhere). */
export type Actor = GroupRole | "NotMember" | "AppAdmin";
/** Standing in the group itself, where an app admin's rights do not apply (joining, quitting). */
export type Membership = GroupRole | "NotMember";

/** App admins act as the app admin even when they are also members. */
export function actorOf(role: GroupRole | undefined, isAppAdmin: boolean): Actor {
  return isAppAdmin ? "AppAdmin" : (role ?? "NotMember");
}

const noPermission = (why: string) => groupError(GroupErrorCode.noPermission, why);
const label = (type: GroupType) => `${groupTypeLabel[type]} group`;

/** Work groups and live rooms have no admins (Tencent's table); there an Admin role counts as Member. */
export function hasAdmins(type: GroupType): boolean {
  return type === "Public" || type === "ChatRoom" || type === "Community";
}

export function hasOwnerRights(actor: Actor): boolean {
  return actor === "Owner" || actor === "AppAdmin";
}

/** Owner, app admin, or an admin where the type has admins: who approves requests and manages members. */
export function isManager(type: GroupType, actor: Actor): boolean {
  return hasOwnerRights(actor) || (actor === "Admin" && hasAdmins(type));
}

function requireMember(actor: Actor, what: string): void {
  if (actor === "NotMember") throw noPermission(`only members may ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Settings with per-type defaults

/**
 * The join option in force. Unset, each type has Tencent's default: Work by invitation only,
 * Public with approval, Meeting and Community free. Live rooms are always free to join.
 * (Tencent's docs let Work/Meeting/Community change it since SDK 7.x; older REST docs say
 * Community ignores it. Here a set option is honoured for every type but live rooms.)
 */
export function effectiveApplyJoinOption(type: GroupType, option: ApplyJoinOption | undefined): ApplyJoinOption {
  if (type === "AVChatRoom") return "FreeAccess";
  if (option) return option;
  if (type === "Private") return "DisableApply";
  if (type === "Public") return "NeedPermission";
  return "FreeAccess";
}

/**
 * The invitation option in force. Unset: members invite freely in Work and Community groups; in
 * Public and Meeting groups only an app admin adds members (REST). Live rooms take no invitations.
 * (Tencent's 7.x SDK docs say Community invitations are off and fixed; its group-type table says
 * members invite. The table is followed.)
 */
export function effectiveInviteJoinOption(type: GroupType, option: InviteJoinOption | undefined): InviteJoinOption {
  if (type === "AVChatRoom") return "DisableInvite";
  if (option) return option;
  return type === "Private" || type === "Community" ? "FreeAccess" : "DisableInvite";
}

/**
 * Whether a new member sees messages from before they joined: on by default in Meeting and
 * Community groups, off in Work and Public groups; HistoryMsgBeforeJoin overrides. Live rooms keep no history.
 */
export function seesHistoryBeforeJoin(type: GroupType, historyMsgBeforeJoin: boolean | undefined): boolean {
  if (type === "AVChatRoom") return false;
  return historyMsgBeforeJoin ?? (type === "ChatRoom" || type === "Community");
}

/** The first MsgSeq a member who joined when the group's next seq was `nextMsgSeqAtJoin` may read. */
export function firstVisibleSeq(
  group: { type: GroupType; historyMsgBeforeJoin?: boolean | undefined },
  nextMsgSeqAtJoin: number,
): number {
  return seesHistoryBeforeJoin(group.type, group.historyMsgBeforeJoin) ? 1 : nextMsgSeqAtJoin;
}

/** Live rooms keep no history: messages reach whoever is online and are gone. */
export function storesHistory(type: GroupType): boolean {
  return type !== "AVChatRoom";
}

/** Meeting groups and live rooms keep no unread counts. */
export function keepsUnreadCounts(type: GroupType): boolean {
  return type !== "ChatRoom" && type !== "AVChatRoom";
}

/** Live rooms do not count toward the groups a user may be in. */
export function countsTowardGroupLimit(type: GroupType): boolean {
  return type !== "AVChatRoom";
}

// ---------------------------------------------------------------------------------------------
// Joining, inviting, leaving

export type JoinDecision = "join" | "awaitApproval" | "alreadyMember";

/** What happens when someone applies to join (the SDK's joinGroup). */
export function decideJoin(
  group: { type: GroupType; applyJoinOption?: ApplyJoinOption | undefined },
  applicant: Membership,
): JoinDecision {
  if (applicant !== "NotMember") return "alreadyMember";
  switch (effectiveApplyJoinOption(group.type, group.applyJoinOption)) {
    case "FreeAccess":
      return "join";
    case "NeedPermission":
      return "awaitApproval";
    case "DisableApply":
      throw noPermission(group.type === "Private" ? "a Work group is joined by invitation only" : "this group takes no applications");
  }
}

/** Who answers join requests and invitations waiting for approval: the owner, admins, app admins. */
export function decideHandleRequest(type: GroupType, actor: Actor): void {
  if (!isManager(type, actor)) throw noPermission("only the owner or an admin handles requests to join");
}

export type InviteDecision = "add" | "awaitApproval" | "awaitInvitee";

/**
 * What happens when `inviter` adds someone: added at once, waiting for the owner's or an admin's
 * approval (InviteJoinOption NeedPermission, for invitations by plain members), or waiting for
 * the invitee (Work groups, when the app asks for consent). An app admin (REST
 * add_group_member) adds to any group but a live room.
 */
export function decideInvite(
  group: { type: GroupType; inviteJoinOption?: InviteJoinOption | undefined },
  inviter: Actor,
  policy: Pick<GroupPolicy, "inviteeMustAccept">,
): InviteDecision {
  if (group.type === "AVChatRoom") throw noPermission("live rooms take no invitations; users join them themselves");
  requireMember(inviter, "invite");
  const consent: InviteDecision = group.type === "Private" && policy.inviteeMustAccept ? "awaitInvitee" : "add";
  if (inviter === "AppAdmin") return consent;
  switch (effectiveInviteJoinOption(group.type, group.inviteJoinOption)) {
    case "FreeAccess":
      return consent;
    case "NeedPermission":
      return isManager(group.type, inviter) ? consent : "awaitApproval";
    case "DisableInvite":
      throw noPermission(`members may not invite to this ${label(group.type)}`);
  }
}

export type QuitDecision = { ownerLeaves: boolean };

/** Whether a member may leave. Only a Work group's owner may; the group then has no owner. */
export function decideQuit(type: GroupType, member: Membership): QuitDecision {
  if (member === "NotMember") throw noPermission("not a member of this group");
  if (member === "Owner" && type !== "Private") {
    throw groupError(GroupErrorCode.ownerMayNotQuit, `the owner may not quit a ${label(type)}; transfer ownership or dismiss it`);
  }
  return { ownerLeaves: member === "Owner" };
}

/** Work groups are dismissed only by an app admin; other groups by their owner or an app admin. */
export function decideDismiss(type: GroupType, actor: Actor): void {
  if (actor === "AppAdmin") return;
  if (type === "Private") throw noPermission("only an app admin dismisses a Work group");
  if (actor !== "Owner") throw noPermission("only the owner dismisses the group");
}

// ---------------------------------------------------------------------------------------------
// Profile and roles

export type GroupProfileField =
  | "name"
  | "introduction"
  | "notification"
  | "faceUrl"
  | "appDefinedData"
  | "applyJoinOption"
  | "inviteJoinOption"
  | "muteAllMember"
  | "maxMemberNum"
  | "historyMsgBeforeJoin";

/** Fields the table's "who edits profile" column governs. */
const profileFields = new Set<GroupProfileField>(["name", "introduction", "notification", "faceUrl", "appDefinedData"]);
/** Fields that change how the group is run: the owner and admins (the owner alone where there are no admins). */
const managementFields = new Set<GroupProfileField>(["applyJoinOption", "inviteJoinOption", "muteAllMember"]);
// The rest (maxMemberNum, historyMsgBeforeJoin) are owner-level: the owner or an app admin.

/**
 * Who edits the profile, per the table: any member of a Work group; owner and admins of Public
 * and Community groups; the owner of Meeting groups and live rooms. (Tencent's group-type page
 * lets Meeting admins edit too; the spec's table says owner only, and is followed.)
 */
function mayEditProfile(type: GroupType, actor: Actor): boolean {
  if (hasOwnerRights(actor)) return true;
  if (actor === "NotMember") return false;
  if (type === "Private") return true;
  return actor === "Admin" && (type === "Public" || type === "Community");
}

/** Whether `actor` may change all of `fields` at once; refused as a whole with 10007. */
export function decideProfileEdit(type: GroupType, actor: Actor, fields: readonly GroupProfileField[]): void {
  requireMember(actor, "change the group's profile");
  for (const field of fields) {
    if (field === "muteAllMember" && type === "Private") throw noPermission("Work groups have no muting");
    if (field === "historyMsgBeforeJoin" && type === "AVChatRoom") {
      throw groupError(GroupErrorCode.invalidParameter, "live rooms keep no history");
    }
    const allowed = profileFields.has(field)
      ? mayEditProfile(type, actor)
      : managementFields.has(field)
        ? isManager(type, actor)
        : hasOwnerRights(actor);
    if (!allowed) throw noPermission(`you may not change ${field} of this ${label(type)}`);
  }
}

export type RoleChangeDecision = "changed" | "unchanged";

/** Only the owner (or an app admin) makes and unmakes admins, and only where the type has admins. */
export function decideRoleChange(type: GroupType, actor: Actor, target: GroupRole, newRole: AssignableRole): RoleChangeDecision {
  // Live-room admins (AV modify_admin) are a separate list, not a member role.
  if (!hasAdmins(type)) throw noPermission(`a ${label(type)} has no admins`);
  if (!hasOwnerRights(actor)) throw noPermission("only the owner sets admins");
  if (target === "Owner") throw noPermission("the owner's role changes only by transferring ownership");
  return target === newRole ? "unchanged" : "changed";
}

export type OwnerTransferDecision = "transfer" | "unchanged";

/** The owner or an app admin hands the group to a member; live rooms cannot change hands. */
export function decideOwnerTransfer(type: GroupType, actor: Actor, newOwner: Membership): OwnerTransferDecision {
  if (type === "AVChatRoom") throw noPermission("a live room's owner cannot change");
  if (!hasOwnerRights(actor)) throw noPermission("only the owner transfers the group");
  // Tencent's code for a new owner outside the group is not documented; 10004 as a bad parameter.
  if (newOwner === "NotMember") throw groupError(GroupErrorCode.invalidParameter, "the new owner must be a member");
  return newOwner === "Owner" ? "unchanged" : "transfer";
}

export type MemberField = "nameCard" | "appMemberDefinedData" | "msgFlag";

/**
 * Who changes a member's own fields: MsgFlag only the member (or an app admin); the name card and
 * custom data the member, or someone who outranks them (owner over all, admins over members).
 */
export function decideMemberFieldEdit(
  type: GroupType,
  actor: Actor,
  target: { self: boolean; role: GroupRole },
  field: MemberField,
): void {
  requireMember(actor, "change member information");
  if (target.self || actor === "AppAdmin") return;
  if (field === "msgFlag") throw noPermission("only members set how they receive the group's messages");
  if (!outranks(type, actor, target.role)) throw noPermission(`you may not change another member's ${field}`);
}

// ---------------------------------------------------------------------------------------------
// Kicking and muting

/** The owner and app admins act on everyone but the owner; admins on plain members only. */
function outranks(type: GroupType, actor: Actor, target: GroupRole): boolean {
  if (target === "Owner") return false;
  if (hasOwnerRights(actor)) return true;
  return actor === "Admin" && hasAdmins(type) && target === "Member";
}

/** Who removes whom. Nobody removes the owner; live rooms have no kicking (bans instead). */
export function decideKick(type: GroupType, actor: Actor, target: GroupRole): void {
  if (type === "AVChatRoom") throw noPermission("members cannot be removed from a live room; ban them instead");
  requireMember(actor, "remove members");
  if (target === "Owner") throw noPermission("nobody removes the owner");
  if (type === "Private" && !hasOwnerRights(actor)) throw noPermission("only the owner removes members of a Work group");
  if (!outranks(type, actor, target)) throw noPermission(actor === "Admin" ? "admins remove plain members only" : "only the owner or an admin removes members");
}

/** Who mutes (or unmutes) whom. Work groups have no muting; in live rooms only the owner mutes. */
export function decideMute(type: GroupType, actor: Actor, target: GroupRole): void {
  if (type === "Private") throw noPermission("Work groups have no muting");
  requireMember(actor, "mute members");
  if (target === "Owner") throw noPermission("nobody mutes the owner");
  if (!outranks(type, actor, target)) throw noPermission(actor === "Admin" ? "admins mute plain members only" : "only the owner or an admin mutes members");
}

/** The second until which a MuteTime (seconds; 0 unmutes, 4294967295 is forever) mutes, from `nowSeconds`. */
export function muteUntilFor(muteTimeSeconds: number, nowSeconds: number): number {
  if (muteTimeSeconds <= 0) return 0;
  if (muteTimeSeconds >= muteForever) return muteForever;
  return Math.min(muteForever, nowSeconds + muteTimeSeconds);
}

export function isMuted(muteUntil: number, nowSeconds: number): boolean {
  return muteUntil > nowSeconds;
}

// ---------------------------------------------------------------------------------------------
// Messages

/**
 * Whether `sender` may post: members only (10007); a muted member, or any plain member while
 * MuteAllMember is on, gets 10017 — the owner and admins are exempt from MuteAllMember. App
 * admins (REST) always may.
 */
export function decideSend(
  group: { type: GroupType; muteAllMember: boolean },
  sender: { actor: Actor; muteUntil?: number },
  nowSeconds: number,
): void {
  if (sender.actor === "AppAdmin") return;
  requireMember(sender.actor, "send messages to the group");
  if (isMuted(sender.muteUntil ?? 0, nowSeconds)) throw groupError(GroupErrorCode.muted, "you are muted in this group");
  if (group.muteAllMember && !isManager(group.type, sender.actor)) {
    throw groupError(GroupErrorCode.muted, "the whole group is muted");
  }
}

/** @mentions (10053) and targeted recipients (To_Account) within the app's limits. */
export function checkMessageAudience(
  message: { mentions: number; targeted: number },
  policy: Pick<GroupPolicy, "maxMentionsPerMessage" | "maxTargetedRecipients">,
): void {
  if (message.mentions > policy.maxMentionsPerMessage) {
    throw groupError(GroupErrorCode.tooManyMentions, `at most ${policy.maxMentionsPerMessage} @mentions per message`);
  }
  // Tencent's code for too many To_Account is not documented; 10004 as a bad parameter.
  if (message.targeted > policy.maxTargetedRecipients) {
    throw groupError(GroupErrorCode.invalidParameter, `a targeted message names at most ${policy.maxTargetedRecipients} members`);
  }
}

export type Admission = { admitted: boolean; bucket: TokenBucket; dropReason: MsgDropReason };

/**
 * The group's message rate: a token bucket of `messagesPerSecond`. Over it the message is dropped,
 * never queued, and the sender learns why ("MsgFreqCtrl"). MsgPriority does not change the order
 * of dropping here.
 */
export function admitGroupMessage(bucket: TokenBucket | undefined, policy: Pick<GroupPolicy, "messagesPerSecond">, nowMs: number): Admission {
  const taken = takeToken(bucket, policy.messagesPerSecond, nowMs);
  return { admitted: taken.allowed, bucket: taken.bucket, dropReason: taken.allowed ? "" : "MsgFreqCtrl" };
}

export type RecallDecision = "recall" | "alreadyRecalled";

/**
 * Whether `actor` may recall a message: its sender within the app's recall window (10031 after),
 * the owner, admins and app admins any message at any time. A missing message is 10030. Live
 * rooms keep no history, so there is nothing to recall (10033).
 */
export function decideRecall(
  type: GroupType,
  actor: Actor,
  message: { fromActor: boolean; sentAtMs: number; recalled?: boolean } | undefined,
  nowMs: number,
  recallWindowSeconds: number,
): RecallDecision {
  if (type === "AVChatRoom") throw groupError(GroupErrorCode.recallNotSupported, "live-room messages cannot be recalled");
  requireMember(actor, "recall messages");
  if (!message) throw groupError(GroupErrorCode.recalledMessageNotFound, "no such message");
  if (message.recalled) return "alreadyRecalled";
  if (isManager(type, actor)) return "recall";
  if (!message.fromActor) throw noPermission("members recall only their own messages");
  if (nowMs - message.sentAtMs > recallWindowSeconds * 1000) {
    throw groupError(GroupErrorCode.recallWindowPassed, `messages can be recalled within ${recallWindowSeconds} seconds of sending`);
  }
  return "recall";
}

// ---------------------------------------------------------------------------------------------
// Sizes

/** The MaxMemberNum a group gets: the requested one if the app allows it (10004 beyond), else the app's limit. */
export function maxMemberNumFor(type: GroupType, requested: number | undefined, policy: GroupPolicy): number {
  const limit = memberLimitOf(type, policy);
  if (requested === undefined || requested === 0) return Number.isFinite(limit) ? limit : 0;
  if (!Number.isInteger(requested) || requested < 0 || requested > limit) {
    throw groupError(GroupErrorCode.invalidParameter, `MaxMemberNum of a ${label(type)} must be at most ${limit}`);
  }
  return requested;
}

/** Room for `adding` more members (10014 when the group would overflow). A MaxMemberNum of 0 is unlimited. */
export function checkRoomForMembers(memberCount: number, adding: number, maxMemberNum: number): void {
  if (maxMemberNum > 0 && memberCount + adding > maxMemberNum) {
    throw groupError(GroupErrorCode.groupFull, `the group is full (${maxMemberNum} members)`);
  }
}

/** Whether a user in `joinedCount` groups may be in one more of this type (10037). */
export function checkGroupsPerUser(type: GroupType, joinedCount: number, policy: Pick<GroupPolicy, "maxGroupsPerUser">): void {
  if (countsTowardGroupLimit(type) && joinedCount >= policy.maxGroupsPerUser) {
    throw groupError(GroupErrorCode.tooManyGroups, `a user may be in at most ${policy.maxGroupsPerUser} groups`);
  }
}

/**
 * The members a create may name besides the owner: none for a live room (10007, users join it
 * themselves), at most 100, and the only role one may give is Admin, where the type has admins.
 */
export function checkInitialMembers(
  type: GroupType,
  members: readonly { role?: string | undefined }[],
  group: { withOwner: boolean; maxMemberNum: number },
): void {
  if (type === "AVChatRoom" && members.length > 0) throw noPermission("live rooms start empty; users join them through the SDK");
  checkBatchSize("initial members", members.length, groupBatchLimits.createMemberList);
  for (const { role } of members) {
    if (role === undefined || role === "" || role === "Member") continue;
    if (role !== "Admin") throw groupError(GroupErrorCode.invalidParameter, `an initial member's Role may only be Admin, not ${role}`);
    if (!hasAdmins(type)) throw groupError(GroupErrorCode.invalidParameter, `a ${label(type)} has no admins`);
  }
  checkRoomForMembers(group.withOwner ? 1 : 0, members.length, group.maxMemberNum);
}

/** The code a decision refuses with, or 0: for per-item results (recall RetCode, add/kick lists). */
export function refusalCode(decide: () => unknown): number {
  try {
    decide();
    return 0;
  } catch (error) {
    if (error instanceof ImError) return error.code;
    throw error;
  }
}
