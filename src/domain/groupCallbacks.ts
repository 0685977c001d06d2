/**
 * The group callbacks (Group.Callback*): their names, the body each sends with the fields as
 * Tencent names them, and how the before-callbacks' answers decide. One place for REST and client
 * ops alike: the group's actor builds every body here. Pure.
 */
import { z } from "zod";
import { CallbackCode, type BeforeDecision, type OptPlatform } from "./callbacks.ts";
import type { DefinedDataItem, GroupAttribute, GroupProfile, GroupType } from "./group.ts";
import type { GroupMessage } from "./groupMessage.ts";
import type { MsgBody } from "./message.ts";

export const GroupCallback = {
  beforeCreateGroup: "Group.CallbackBeforeCreateGroup",
  afterCreateGroup: "Group.CallbackAfterCreateGroup",
  beforeApplyJoinGroup: "Group.CallbackBeforeApplyJoinGroup",
  beforeInviteJoinGroup: "Group.CallbackBeforeInviteJoinGroup",
  afterNewMemberJoin: "Group.CallbackAfterNewMemberJoin",
  afterMemberExit: "Group.CallbackAfterMemberExit",
  beforeSendMsg: "Group.CallbackBeforeSendMsg",
  afterSendMsg: "Group.CallbackAfterSendMsg",
  afterRecallMsg: "Group.CallbackAfterRecallMsg",
  afterGroupFull: "Group.CallbackAfterGroupFull",
  afterGroupDestroyed: "Group.CallbackAfterGroupDestroyed",
  afterGroupInfoChanged: "Group.CallbackAfterGroupInfoChanged",
  afterChangeGroupOwner: "Group.CallbackAfterChangeGroupOwner",
  afterMemberFieldChanged: "Group.CallbackAfterMemberFieldChanged",
  afterGroupAttrChanged: "Group.CallbackAfterGroupAttrChanged",
  onMemberStateChange: "Group.CallbackOnMemberStateChange",
} as const;

/** Who acted, as callbacks name it: the request's OptPlatform and ClientIP, and Operator_Account. */
export interface CallbackOrigin {
  platform: OptPlatform;
  /** Empty when unknown. */
  clientIp?: string;
}

/** `{Member_Account}` items, as every member list of the group callbacks is. */
const accounts = (userIds: readonly string[]) => userIds.map((userId) => ({ Member_Account: userId }));
const keyValues = (items: readonly DefinedDataItem[]) => items.map(({ key, value }) => ({ Key: key, Value: value }));
const ofGroup = (profile: Pick<GroupProfile, "groupId" | "type">) => ({ GroupId: profile.groupId, Type: profile.type });

export function beforeCreateGroupFields(create: { operator: string; owner?: string; type: GroupType; name: string; ownerCreated: number; members: readonly string[] }) {
  return {
    Operator_Account: create.operator,
    Owner_Account: create.owner ?? "",
    Type: create.type,
    Name: create.name,
    /** How many groups of this type the owner created before. */
    CreateGroupNum: create.ownerCreated,
    MemberList: accounts(create.members),
  };
}

export function afterCreateGroupFields(profile: GroupProfile, operator: string, members: readonly string[]) {
  return {
    GroupId: profile.groupId,
    Operator_Account: operator,
    Owner_Account: profile.ownerAccount ?? "",
    Type: profile.type,
    Name: profile.name,
    MemberList: accounts(members),
    UserDefinedDataList: keyValues(profile.appDefinedData),
  };
}

export function beforeApplyJoinFields(profile: GroupProfile, requestor: string) {
  return { ...ofGroup(profile), Requestor_Account: requestor };
}

export function beforeInviteJoinFields(profile: GroupProfile, operator: string, invitees: readonly string[]) {
  return { ...ofGroup(profile), Operator_Account: operator, DestinationMembers: accounts(invitees) };
}

/** "Apply": the member asked (and was let in); "Invited": someone added or invited the member. */
export type JoinType = "Apply" | "Invited";

export function afterNewMemberJoinFields(profile: GroupProfile, joinType: JoinType, operator: string, joined: readonly string[]) {
  return { ...ofGroup(profile), JoinType: joinType, Operator_Account: operator, NewMemberList: accounts(joined) };
}

export type ExitType = "Quit" | "Kicked";

export function afterMemberExitFields(profile: GroupProfile, exitType: ExitType, operator: string, left: readonly string[]) {
  return { ...ofGroup(profile), ExitType: exitType, Operator_Account: operator, ExitMemberList: accounts(left) };
}

/**
 * Group.CallbackOnMemberStateChange (AVChatRoom): viewers who came online in the room or went
 * offline, batched per shard report. The spec gives `MemberList[]` without its items' shape;
 * `{Member_Account}` is how every other member list of the group callbacks is written.
 */
export function memberStateChangeFields(profile: Pick<GroupProfile, "groupId" | "type">, eventType: "Online" | "Offline", userIds: readonly string[]) {
  return { ...ofGroup(profile), EventType: eventType, MemberList: accounts(userIds) };
}

/** Whether the group became full with these joins (a MaxMemberNum of 0 has no limit). */
export function becameFull(maxMemberNum: number, before: number, after: number): boolean {
  return maxMemberNum > 0 && after > before && after >= maxMemberNum;
}

export function afterGroupFullFields(profile: GroupProfile) {
  return { GroupId: profile.groupId };
}

export function afterGroupDestroyedFields(profile: GroupProfile, members: readonly string[]) {
  return { ...ofGroup(profile), Owner_Account: profile.ownerAccount ?? "", Name: profile.name, MemberList: accounts(members) };
}

/**
 * The profile fields a change touched, as they now are; null when none the callback reports
 * changed (MaxMemberNum, the join options and MuteAllMember are not among them). Tencent also
 * reports changed custom fields as UserDefinedDataList, which the spec's table leaves out.
 */
export function afterGroupInfoChangedFields(
  next: GroupProfile,
  operator: string,
  changed: { name?: boolean; introduction?: boolean; notification?: boolean; faceUrl?: boolean; appDefinedData?: readonly DefinedDataItem[] },
): Record<string, unknown> | null {
  const fields: Record<string, unknown> = {};
  if (changed.name) fields.Name = next.name;
  if (changed.introduction) fields.Introduction = next.introduction;
  if (changed.notification) fields.Notification = next.notification;
  if (changed.faceUrl) fields.FaceUrl = next.faceUrl;
  if (changed.appDefinedData) fields.UserDefinedDataList = keyValues(changed.appDefinedData);
  if (Object.keys(fields).length === 0) return null;
  return { ...ofGroup(next), Operator_Account: operator, ...fields };
}

export function afterChangeGroupOwnerFields(profile: GroupProfile, operator: string, oldOwner: string | undefined, newOwner: string) {
  return { ...ofGroup(profile), Operator_Account: operator, OldOwner_Account: oldOwner ?? "", NewOwner_Account: newOwner };
}

/** A member's Role or NameCard as they now are; custom fields, when they changed, as modify_group_member_info names them. */
export function afterMemberFieldChangedFields(
  profile: GroupProfile,
  operator: string,
  member: { userId: string; role: string; nameCard: string },
  changedData?: readonly DefinedDataItem[],
) {
  return {
    ...ofGroup(profile),
    Operator_Account: operator,
    Modified_Account: member.userId,
    Role: member.role,
    NameCard: member.nameCard,
    ...(changedData ? { AppMemberDefinedData: keyValues(changedData) } : {}),
  };
}

export type AttrOptionType = "set" | "modify" | "clear" | "delete";

/** The attributes written (set, modify), removed (delete: their keys, value ""), or none (clear). */
export function afterGroupAttrChangedFields(profile: GroupProfile, operator: string, optionType: AttrOptionType, attributes: readonly GroupAttribute[]) {
  return { ...ofGroup(profile), Operator_Account: operator, OptionType: optionType, GroupAttr: attributes.map(({ key, value }) => ({ key, value })) };
}

export function afterRecallMsgFields(profile: GroupProfile, operator: string, seqs: readonly number[], topicId?: string) {
  return { Operator_Account: operator, ...ofGroup(profile), MsgSeqList: seqs.map((seq) => ({ MsgSeq: seq })), ...(topicId !== undefined ? { TopicId: topicId } : {}) };
}

/**
 * The fields Group.CallbackBeforeSendMsg and AfterSendMsg share. `operator` is who made the
 * request: the sender from a client, the admin who signed a REST send_group_msg even when its
 * From_Account names the sender, so the backend can tell an admin's send apart.
 */
export function sendMsgFields(
  profile: Pick<GroupProfile, "groupId" | "type">,
  message: { from: string; random: number; body: MsgBody; cloudCustomData?: string; onlineOnly?: boolean; topicId?: string },
  operator: string,
): Record<string, unknown> {
  return {
    ...ofGroup(profile),
    From_Account: message.from,
    Operator_Account: operator,
    Random: message.random,
    OnlineOnlyFlag: message.onlineOnly ? 1 : 0,
    MsgBody: message.body,
    ...(message.cloudCustomData !== undefined ? { CloudCustomData: message.cloudCustomData } : {}),
    ...(message.topicId !== undefined ? { TopicId: message.topicId } : {}),
  };
}

/** Group.CallbackAfterSendMsg: the message as stored. */
export function afterSendMsgFields(profile: Pick<GroupProfile, "groupId" | "type">, message: GroupMessage, onlineOnly: boolean | undefined, operator: string): Record<string, unknown> {
  return {
    ...sendMsgFields(profile, { ...message, onlineOnly }, operator),
    MsgSeq: message.seq,
    MsgTime: message.time,
    ...(message.atUsers || message.atAll ? { GroupAtInfo: groupAtInfo(message) } : {}),
  };
}

function groupAtInfo(message: GroupMessage): { GroupAtAllFlag: number; GroupAt_Account?: string }[] {
  return [...(message.atAll ? [{ GroupAtAllFlag: 1 }] : []), ...(message.atUsers ?? []).map((u) => ({ GroupAtAllFlag: 0, GroupAt_Account: u }))];
}

const Answer = z.object({ ErrorCode: z.number().int(), ErrorInfo: z.string().optional() });

/** Codes a backend may refuse a group action with itself; they reach the caller as they are. */
const ownGroupCodes = [10_100, 10_200] as const;

/**
 * Reads the answer of a group before-callback that allows or refuses (BeforeCreateGroup,
 * BeforeApplyJoinGroup, BeforeInviteJoinGroup): 0 allows, 1 refuses with 10016, a code in
 * 10100–10200 refuses with that code (Tencent's pages for these commands give the range; the
 * compatibility spec's table names it for BeforeSendMsg only). The drop (2) is BeforeSendMsg's
 * alone, so any other answer is a failure.
 */
export function readGroupBeforeAnswer(answer: unknown): { decision: BeforeDecision } | { failure: string } {
  const parsed = Answer.safeParse(answer);
  if (!parsed.success) return { failure: "the answer has no numeric ErrorCode" };
  const { ErrorCode: code, ErrorInfo: info } = parsed.data;
  const reason = (info ?? "").slice(0, 200) || "refused by the app's backend";
  const [low, high] = ownGroupCodes;
  if (code === 0) return { decision: { kind: "allow" } };
  if (code === 1) return { decision: { kind: "refuse", code: CallbackCode.groupRefused, info: reason } };
  if (code >= low && code <= high) return { decision: { kind: "refuse", code, info: reason } };
  return { failure: `the answer's ErrorCode ${code} is not 0, 1 or within ${low}–${high}` };
}

const InviteAnswer = Answer.extend({ RefusedMembers_Account: z.array(z.string()).optional() });

/** What BeforeInviteJoinGroup decided: everyone refused, or these invitees refused (none when empty). */
export type InviteDecision = { kind: "refuse"; code: number; info: string } | { kind: "allow"; refused: string[] };

/** ErrorCode 0 lets every invitee in but those of `RefusedMembers_Account`; 1 (or a code of the backend's own) refuses the whole invitation. */
export function readInviteAnswer(answer: unknown): { decision: InviteDecision } | { failure: string } {
  const parsed = InviteAnswer.safeParse(answer);
  if (!parsed.success) return { failure: "the answer has no numeric ErrorCode, or RefusedMembers_Account is not a list of accounts" };
  const read = readGroupBeforeAnswer(answer);
  if ("failure" in read) return read;
  if (read.decision.kind === "refuse") return { decision: read.decision };
  return { decision: { kind: "allow", refused: parsed.data.RefusedMembers_Account ?? [] } };
}
