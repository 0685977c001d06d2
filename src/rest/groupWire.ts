/**
 * Groups on the wire: Tencent's field names for profiles, members and messages,
 * and the ResponseFilters that pick among them. Mapped once here; the actors
 * speak only the domain's camelCase.
 */
import { z } from "zod";
import type { StoredMember } from "../actors/group/GroupStore.ts";
import type { GroupInfo } from "../actors/group/membership.ts";
import type { DefinedDataItem, MsgPriority } from "../domain/group.ts";
import type { GroupMessage } from "../domain/groupMessage.ts";
import { msgKey } from "../domain/message.ts";
import { optional } from "../domain/wire.ts";

/** `[{Key, Value}]` (AppDefinedData, AppMemberDefinedData); limits are checked when merged into the stored data. */
export const DefinedDataWire = z.array(z.object({ Key: z.string(), Value: z.string() }));

export function definedData(items: z.infer<typeof DefinedDataWire>): DefinedDataItem[] {
  return items.map((i) => ({ key: i.Key, value: i.Value }));
}

function wireData(items: readonly DefinedDataItem[], keys?: ReadonlySet<string>): { Key: string; Value: string }[] {
  return items.filter((i) => !keys || keys.has(i.key)).map((i) => ({ Key: i.key, Value: i.value }));
}

const onOff = (on: boolean) => (on ? "On" : "Off");

/** A list of names in a filter; "" or [] is not given. */
export const NameFilter = optional(z.array(z.string()));

// ---------------------------------------------------------------------------------------------
// Group profiles

/** A group's base fields by their wire names (GroupBaseInfoFilter names these). */
export function wireGroupBase(info: GroupInfo, sdkAppId: number): Record<string, unknown> {
  const p = info.profile;
  const muted = onOff(p.muteAllMember);
  return {
    Type: p.type,
    Name: p.name,
    Appid: sdkAppId,
    Introduction: p.introduction,
    Notification: p.notification,
    FaceUrl: p.faceUrl,
    Owner_Account: p.ownerAccount ?? "",
    CreateTime: p.createTime,
    InfoSeq: p.infoSeq,
    // The profile keeps no time of its last change; its creation is the latest time known to be right.
    LastInfoTime: p.lastInfoTime ?? p.createTime,
    LastMsgTime: info.lastMsgTime,
    NextMsgSeq: info.nextMsgSeq,
    MemberNum: info.memberNum,
    MaxMemberNum: p.maxMemberNum,
    ApplyJoinOption: p.applyJoinOption ?? "",
    InviteJoinOption: p.inviteJoinOption ?? "",
    MuteAllMember: muted,
    // The name before Tencent's 2022 rename; asked for by older clients' filters.
    ShutUpAllMember: muted,
  };
}

/**
 * What get_group_info's ResponseFilter asks for. Without a filter, everything; with one, only
 * what it names (Tencent: fields not in a filter are not returned).
 */
export interface GroupInfoFilter {
  base?: ReadonlySet<string>;
  member?: ReadonlySet<string>;
  groupData?: ReadonlySet<string>;
  memberData?: ReadonlySet<string>;
}

export function wantsMembers(filter: GroupInfoFilter | undefined): boolean {
  return !filter || filter.member !== undefined;
}

export function wireGroupInfo(info: GroupInfo, sdkAppId: number, filter: GroupInfoFilter | undefined, members?: StoredMember[]): Record<string, unknown> {
  const base = wireGroupBase(info, sdkAppId);
  const { ShutUpAllMember: _earlier, ...current } = base;
  const out: Record<string, unknown> = { GroupId: info.profile.groupId, ErrorCode: 0, ErrorInfo: "", ...(filter ? pick(base, filter.base) : current) };
  if (!filter || filter.groupData) out.AppDefinedData = wireData(info.profile.appDefinedData, filter?.groupData);
  if (members) {
    const memberFilter = filter ? { fields: filter.member, data: filter.memberData } : undefined;
    out.MemberList = members.map((m) => wireMember(m, memberFilter));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Members

/** A member's fields by their wire names; MsgSeq is how far the member has read. */
function wireMemberFields(m: StoredMember): Record<string, unknown> {
  return {
    Role: m.role,
    JoinTime: m.joinTime,
    MsgSeq: m.readSeq,
    MsgFlag: m.msgFlag,
    LastSendMsgTime: m.lastSendMsgTime,
    MuteUntil: m.muteUntil,
    // The name before Tencent's 2022 rename.
    ShutUpUntil: m.muteUntil,
    NameCard: m.nameCard,
  };
}

/**
 * A member for MemberList. Without filters, every field and all custom data; a field filter
 * keeps the fields it names (Member_Account always) and no custom data unless a data filter
 * names keys.
 */
export function wireMember(m: StoredMember, filter?: { fields?: ReadonlySet<string> | undefined; data?: ReadonlySet<string> | undefined }): Record<string, unknown> {
  const { ShutUpUntil: _earlier, ...current } = wireMemberFields(m);
  const out: Record<string, unknown> = { Member_Account: m.userId, ...(filter?.fields ? pick(wireMemberFields(m), filter.fields) : current) };
  if (filter?.data) out.AppMemberDefinedData = wireData(m.appMemberDefinedData, filter.data);
  else if (!filter?.fields) out.AppMemberDefinedData = wireData(m.appMemberDefinedData);
  return out;
}

/** get_joined_group_list's SelfInfo: the member's own standing, by SelfInfoFilter. */
export function wireSelfInfo(m: StoredMember, lastSeq: number, fields: ReadonlySet<string>): Record<string, unknown> {
  return pick({ ...wireMemberFields(m), UnreadMsgNum: Math.max(0, lastSeq - m.readSeq) }, fields);
}

// ---------------------------------------------------------------------------------------------
// Messages

/** MsgPriority in group_msg_get_simple: 1 High … 4 Lowest. */
const priorityNumber: Readonly<Record<MsgPriority, number>> = { High: 1, Normal: 2, Low: 3, Lowest: 4 };

/** A stored message as group_msg_get_simple lists it; a recalled one is a placeholder (IsPlaceMsg 2) without its body. */
export function wireGroupMessage(m: GroupMessage): Record<string, unknown> {
  return {
    From_Account: m.from,
    IsPlaceMsg: m.isRevoked ? 2 : 0,
    IsSystemMsg: 0,
    MsgBody: m.isRevoked ? [] : m.body,
    MsgPriority: priorityNumber[m.priority],
    MsgRandom: m.random,
    MsgSeq: m.seq,
    MsgTimeStamp: m.time,
    MsgKey: msgKey(m.seq, m.random, m.time),
    ...(m.cloudCustomData !== undefined ? { CloudCustomData: m.cloudCustomData } : {}),
  };
}

function pick(from: Record<string, unknown>, names: ReadonlySet<string> | undefined): Record<string, unknown> {
  if (!names) return {};
  const out: Record<string, unknown> = {};
  for (const name of names) if (Object.hasOwn(from, name)) out[name] = from[name];
  return out;
}

export function asSet(names: string[] | undefined): ReadonlySet<string> | undefined {
  return names ? new Set(names) : undefined;
}
