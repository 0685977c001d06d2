/**
 * The group model: types, roles and options with Tencent's wire names, profile and member
 * fields with their byte limits, group ids, and the per-app limits with Tencent's defaults.
 * Who may do what lives in groupRules.ts.
 */
import { z } from "zod";
import { UserId, utf8Length } from "./account.ts";
import { ImError } from "./errors.ts";

/** Tencent's group codes (10xxx), named in the domain's words. */
export const GroupErrorCode = {
  internalError: 10002,
  unknownCommand: 10003,
  invalidParameter: 10004,
  tooManyAccounts: 10005,
  tooFrequent: 10006,
  noPermission: 10007,
  invalidRequest: 10008,
  ownerMayNotQuit: 10009,
  groupNotFound: 10010,
  jsonParseFailed: 10011,
  operatorInvalid: 10012,
  alreadyMember: 10013,
  groupFull: 10014,
  invalidGroupId: 10015,
  refusedByCallback: 10016,
  muted: 10017,
  answerTooLarge: 10018,
  accountNotFound: 10019,
  groupIdTaken: 10021,
  messageRateLimited: 10023,
  alreadyHandled: 10024,
  groupIdTakenByCaller: 10025,
  commandDisabled: 10026,
  recalledMessageNotFound: 10030,
  recallWindowPassed: 10031,
  messageNotRecallable: 10032,
  recallNotSupported: 10033,
  messageNotDeletable: 10034,
  liveRoomDeletionNotSupported: 10035,
  liveRoomCreationLimit: 10036,
  tooManyGroups: 10037,
  planMemberLimit: 10038,
  tooManyMentions: 10053,
  attributeWriteConflict: 10056,
  readReceiptNotFound: 10062,
  topicsNotEnabled: 11000,
  topicAlreadyDeleted: 110003,
} as const;

export function groupError(code: number, message: string): ImError {
  return new ImError(code, message);
}

// ---------------------------------------------------------------------------------------------
// Types, roles, options

/** Group types by their wire names: Private is Work, ChatRoom is Meeting. */
export const GroupType = z.enum(["Private", "Public", "ChatRoom", "Community", "AVChatRoom"]);
export type GroupType = z.infer<typeof GroupType>;

/** The names Tencent's current docs and SDK use, for messages people read. */
export const groupTypeLabel: Readonly<Record<GroupType, string>> = {
  Private: "Work",
  Public: "Public",
  ChatRoom: "Meeting",
  Community: "Community",
  AVChatRoom: "AVChatRoom",
};

export const GroupRole = z.enum(["Owner", "Admin", "Member"]);
export type GroupRole = z.infer<typeof GroupRole>;

/** Roles a member may be given with modify_group_member_info or on create; ownership moves only by transfer. */
export const AssignableRole = z.enum(["Admin", "Member"]);
export type AssignableRole = z.infer<typeof AssignableRole>;

export const MsgFlag = z.enum(["AcceptAndNotify", "AcceptNotNotify", "Discard"]);
export type MsgFlag = z.infer<typeof MsgFlag>;

export const ApplyJoinOption = z.enum(["FreeAccess", "NeedPermission", "DisableApply"]);
export type ApplyJoinOption = z.infer<typeof ApplyJoinOption>;

export const InviteJoinOption = z.enum(["FreeAccess", "NeedPermission", "DisableInvite"]);
export type InviteJoinOption = z.infer<typeof InviteJoinOption>;

/** "On"/"Off" switches on the wire (MuteAllMember, HistoryMsgBeforeJoin). */
export const OnOff = z.enum(["On", "Off"]);
export type OnOff = z.infer<typeof OnOff>;

export const MsgPriority = z.enum(["High", "Normal", "Low", "Lowest"]);
export type MsgPriority = z.infer<typeof MsgPriority>;

/** The drop reason send_group_msg reports when frequency control drops a message. */
export type MsgDropReason = "" | "MsgFreqCtrl";

// ---------------------------------------------------------------------------------------------
// Profile and member fields

/** Tencent's fixed byte limits (UTF-8) of group and member fields. */
export const groupFieldLimits = {
  nameBytes: 30,
  introductionBytes: 240,
  notificationBytes: 300,
  faceUrlBytes: 100,
  nameCardBytes: 50,
  definedDataKeyBytes: 16,
  appDefinedDataKeys: 10,
  appDefinedDataValueBytes: 512,
  appMemberDefinedDataKeys: 5,
  appMemberDefinedDataValueBytes: 64,
  topicCustomStringBytes: 3000,
} as const;

function bytesAtMost(max: number) {
  return z.string({ error: "must be a string" }).refine((s) => utf8Length(s) <= max, `must be at most ${max} bytes`);
}

/** A group needs a name; an empty one is refused like an oversize one. */
export const GroupName = bytesAtMost(groupFieldLimits.nameBytes).refine((s) => s.length > 0, "must not be empty");
export const GroupIntroduction = bytesAtMost(groupFieldLimits.introductionBytes);
export const GroupNotification = bytesAtMost(groupFieldLimits.notificationBytes);
export const GroupFaceUrl = bytesAtMost(groupFieldLimits.faceUrlBytes);
export const NameCard = bytesAtMost(groupFieldLimits.nameCardBytes);

/** Custom field keys, group and member alike: 1–16 bytes of letters, digits and '_'. */
export const definedDataKeyPattern = /^[A-Za-z0-9_]{1,16}$/;

export interface DefinedDataItem {
  key: string;
  value: string;
}

function definedData(maxKeys: number, maxValueBytes: number, what: string) {
  return z
    .array(
      z.object({
        key: z.string().regex(definedDataKeyPattern, "keys are 1–16 bytes of letters, digits or '_'"),
        value: bytesAtMost(maxValueBytes),
      }),
    )
    .max(maxKeys, `${what} holds at most ${maxKeys} keys`)
    .refine((items) => new Set(items.map((i) => i.key)).size === items.length, "keys must be unique");
}

/** A group's AppDefinedData as stored: at most 10 keys, values ≤512 bytes. */
export const AppDefinedData = definedData(groupFieldLimits.appDefinedDataKeys, groupFieldLimits.appDefinedDataValueBytes, "AppDefinedData");
/** A member's AppMemberDefinedData as stored: at most 5 keys, values ≤64 bytes. */
export const AppMemberDefinedData = definedData(
  groupFieldLimits.appMemberDefinedDataKeys,
  groupFieldLimits.appMemberDefinedDataValueBytes,
  "AppMemberDefinedData",
);

/**
 * Applies changes to custom data: an empty value deletes its key (modify_group_base_info), others
 * replace or add. The result must still fit the key count, so the check is on the merged list.
 */
export function mergeDefinedData(
  current: readonly DefinedDataItem[],
  changes: readonly DefinedDataItem[],
  limits: { maxKeys: number; maxValueBytes: number },
): DefinedDataItem[] {
  const merged = new Map(current.map((i) => [i.key, i.value]));
  for (const { key, value } of changes) {
    if (!definedDataKeyPattern.test(key)) throw groupError(GroupErrorCode.invalidParameter, `custom data key ${JSON.stringify(key)} must be 1–16 bytes of letters, digits or '_'`);
    if (utf8Length(value) > limits.maxValueBytes) throw groupError(GroupErrorCode.invalidParameter, `the value of ${key} must be at most ${limits.maxValueBytes} bytes`);
    if (value === "") merged.delete(key);
    else merged.set(key, value);
  }
  if (merged.size > limits.maxKeys) throw groupError(GroupErrorCode.invalidParameter, `at most ${limits.maxKeys} custom data keys`);
  return [...merged].map(([key, value]) => ({ key, value }));
}

export const groupDataLimits = {
  maxKeys: groupFieldLimits.appDefinedDataKeys,
  maxValueBytes: groupFieldLimits.appDefinedDataValueBytes,
} as const;

export const memberDataLimits = {
  maxKeys: groupFieldLimits.appMemberDefinedDataKeys,
  maxValueBytes: groupFieldLimits.appMemberDefinedDataValueBytes,
} as const;

// ---------------------------------------------------------------------------------------------
// Group ids

/** Prefix of ids the server generates; custom ids of ordinary groups may not use it. */
export const generatedGroupIdPrefix = "@TGS#";
/** Community ids, generated or custom, carry this prefix (Tencent's Group object docs). */
export const communityGroupIdPrefix = "@TGS#_";
/** Topics of a Community group are `{GroupId}@TOPIC#_{suffix}`. */
export const topicIdSeparator = "@TOPIC#_";
export const maxCustomGroupIdBytes = 48;

const printableAscii = /^[\x20-\x7e]+$/;

/** The type marker after @TGS# in generated ids; only cosmetic, mirroring ids Tencent hands out (unverified per type). */
const generatedIdMarker: Readonly<Record<GroupType, string>> = {
  Private: "1",
  Public: "2",
  ChatRoom: "3",
  Community: "c",
  AVChatRoom: "a",
};

/** Unbiased with one byte per character: 32 symbols, byte & 31. */
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export const generatedIdRandomBytes = 10;

/**
 * A new server-assigned id from `random` (at least 10 bytes, e.g. crypto.getRandomValues):
 * `@TGS#2XXXXXXXXXX`, and for Community `@TGS#_@TGS#cXXXXXXXXXX` as Tencent's samples show.
 */
export function generateGroupId(type: GroupType, random: Uint8Array): string {
  if (random.length < generatedIdRandomBytes) throw new RangeError(`generateGroupId needs ${generatedIdRandomBytes} random bytes`);
  let tail = "";
  for (let i = 0; i < generatedIdRandomBytes; i++) tail += idAlphabet[random[i]! & 31];
  const id = `${generatedGroupIdPrefix}${generatedIdMarker[type]}${tail}`;
  return type === "Community" ? `${communityGroupIdPrefix}${id}` : id;
}

/** Whether an id could name a group at all (any type): what lookups check before touching storage. */
export function isWellFormedGroupId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= maxCustomGroupIdBytes && printableAscii.test(id);
}

/**
 * Checks an id the app chose on create or import. Printable ASCII, ≤48 bytes; ordinary groups
 * may not start with @TGS#, Community groups must start with @TGS#_. Refused with 10015.
 */
export function checkCustomGroupId(type: GroupType, id: string): void {
  const invalid = (why: string) => groupError(GroupErrorCode.invalidGroupId, `GroupId ${why}`);
  if (id.length === 0) throw invalid("must not be empty");
  if (!printableAscii.test(id)) throw invalid("must be printable ASCII");
  if (id.length > maxCustomGroupIdBytes) throw invalid(`must be at most ${maxCustomGroupIdBytes} bytes`);
  if (id.includes(topicIdSeparator)) throw invalid(`must not contain ${topicIdSeparator}`);
  if (type === "Community") {
    if (!id.startsWith(communityGroupIdPrefix) || id.length === communityGroupIdPrefix.length) {
      throw invalid(`of a Community group must start with ${communityGroupIdPrefix}`);
    }
  } else if (id.startsWith(generatedGroupIdPrefix)) {
    throw invalid(`must not start with ${generatedGroupIdPrefix}, which marks generated ids`);
  }
}

/**
 * The error for a create whose id is already used: 10025 when the caller (the requested owner)
 * already owns that group, so a retried create can tell it succeeded; 10021 otherwise.
 */
export function groupIdTakenError(groupId: string, existingOwner: string | undefined, requestedOwner: string | undefined): ImError {
  if (existingOwner !== undefined && existingOwner === requestedOwner) {
    return groupError(GroupErrorCode.groupIdTakenByCaller, `group ${groupId} already exists and is yours`);
  }
  return groupError(GroupErrorCode.groupIdTaken, `group id ${groupId} is already used`);
}

// ---------------------------------------------------------------------------------------------
// Per-app limits and settings

/**
 * Group limits of an app, with Tencent's defaults. Members per type: 6,000 for Work, Public and
 * Meeting (Tencent's higher editions; the base edition has 200), 100,000 for Community,
 * unlimited for AVChatRoom.
 */
export const GroupPolicy = z.object({
  maxMembers: z
    .object({
      Private: z.number().int().positive().default(6_000),
      Public: z.number().int().positive().default(6_000),
      ChatRoom: z.number().int().positive().default(6_000),
      Community: z.number().int().positive().default(100_000),
    })
    .prefault({}),
  /** Groups one user may be in (created or joined); live rooms do not count. */
  maxGroupsPerUser: z.number().int().positive().default(500),
  /** Messages per second one group accepts before dropping with MsgDropReason "MsgFreqCtrl". */
  messagesPerSecond: z.number().int().positive().default(40),
  maxMentionsPerMessage: z.number().int().positive().default(30),
  /** Members one targeted message (To_Account) may name. */
  maxTargetedRecipients: z.number().int().positive().default(50),
  attributes: z
    .object({
      maxKeys: z.number().int().positive().default(16),
      maxKeyBytes: z.number().int().positive().default(32),
      maxValueBytes: z.number().int().positive().default(4_000),
      maxTotalBytes: z.number().int().positive().default(16_000),
    })
    .prefault({}),
  /**
   * Whether an invitation to a Work group waits for the invitee's consent
   * (add_group_member's Result 3). Tencent's Work groups add invitees directly by default.
   */
  inviteeMustAccept: z.boolean().default(false),
});
export type GroupPolicy = z.infer<typeof GroupPolicy>;

export const defaultGroupPolicy: GroupPolicy = GroupPolicy.parse({});

/** The most members a group of this type may have in this app. */
export function memberLimitOf(type: GroupType, policy: GroupPolicy): number {
  return type === "AVChatRoom" ? Number.POSITIVE_INFINITY : policy.maxMembers[type];
}

/** Items one REST request may carry (beyond them: 10005). */
export const groupBatchLimits = {
  createMemberList: 100,
  addMembers: 300,
  deleteMembers: 100,
  getGroupInfo: 50,
  getSpecifiedMembers: 50,
  getRoleInGroup: 500,
  muteMembers: 500,
  banMembers: 20,
  recallMessages: 10,
  historyPage: 20,
  receiptDetailPage: 200,
  readReceipts: 50,
  counters: 20,
  memberPage: 6_000,
  appGroupListPage: 10_000,
} as const;

export function checkBatchSize(what: string, count: number, limit: number): void {
  if (count > limit) throw groupError(GroupErrorCode.tooManyAccounts, `at most ${limit} ${what} per request`);
}

// ---------------------------------------------------------------------------------------------
// Group attributes

export interface GroupAttribute {
  key: string;
  value: string;
}

/**
 * Writes attributes: "set" replaces them all, "modify" adds or replaces the given keys, "delete"
 * removes them. The result must fit the app's limits (Tencent: 16 keys, 4,000-byte values,
 * 16,000 bytes in all; the 32-byte key limit and whether keys count toward the total are unverified).
 */
export function applyGroupAttributes(
  current: readonly GroupAttribute[],
  mode: "set" | "modify" | "delete",
  changes: readonly GroupAttribute[] | readonly string[],
  limits: GroupPolicy["attributes"],
): GroupAttribute[] {
  const merged = new Map(mode === "set" ? [] : current.map((a) => [a.key, a.value]));
  if (mode === "delete") {
    for (const key of changes as readonly string[]) merged.delete(key);
  } else {
    for (const { key, value } of changes as readonly GroupAttribute[]) {
      if (key.length === 0 || utf8Length(key) > limits.maxKeyBytes) {
        throw groupError(GroupErrorCode.invalidParameter, `attribute keys are 1–${limits.maxKeyBytes} bytes`);
      }
      if (utf8Length(value) > limits.maxValueBytes) {
        throw groupError(GroupErrorCode.invalidParameter, `the value of attribute ${key} must be at most ${limits.maxValueBytes} bytes`);
      }
      merged.set(key, value);
    }
  }
  if (merged.size > limits.maxKeys) throw groupError(GroupErrorCode.invalidParameter, `a group holds at most ${limits.maxKeys} attributes`);
  let total = 0;
  for (const [key, value] of merged) total += utf8Length(key) + utf8Length(value);
  if (total > limits.maxTotalBytes) throw groupError(GroupErrorCode.invalidParameter, `a group's attributes hold at most ${limits.maxTotalBytes} bytes in all`);
  return [...merged].map(([key, value]) => ({ key, value }));
}

// ---------------------------------------------------------------------------------------------
// The stored shapes

/** Seconds since the epoch, as Tencent's group fields carry time. */
const seconds = z.number().int().min(0);

/** Mute until this second; 0 is not muted, 4294967295 is forever. */
export const muteForever = 0xffffffff;

export const GroupProfile = z.object({
  groupId: z.string(),
  type: GroupType,
  name: GroupName,
  introduction: GroupIntroduction.default(""),
  notification: GroupNotification.default(""),
  faceUrl: GroupFaceUrl.default(""),
  /** Absent when the group was created without an owner, or a Work owner quit. */
  ownerAccount: UserId.optional(),
  createTime: seconds,
  maxMemberNum: z.number().int().positive(),
  /** Absent means the type's default (groupRules.effectiveApplyJoinOption). */
  applyJoinOption: ApplyJoinOption.optional(),
  /** Absent means the type's default (groupRules.effectiveInviteJoinOption). */
  inviteJoinOption: InviteJoinOption.optional(),
  /** Absent means the type's default (groupRules.seesHistoryBeforeJoin). */
  historyMsgBeforeJoin: z.boolean().optional(),
  muteAllMember: z.boolean().default(false),
  appDefinedData: AppDefinedData.default([]),
  infoSeq: z.number().int().min(0).default(0),
  /** When the profile last changed (unix seconds); absent until it first does. */
  lastInfoTime: seconds.optional(),
  /** Community only. */
  supportTopic: z.boolean().default(false),
});
export type GroupProfile = z.infer<typeof GroupProfile>;

export const GroupMember = z.object({
  userId: UserId,
  role: GroupRole,
  joinTime: seconds,
  nameCard: NameCard.default(""),
  msgFlag: MsgFlag.default("AcceptAndNotify"),
  muteUntil: seconds.max(muteForever).default(0),
  appMemberDefinedData: AppMemberDefinedData.default([]),
  lastSendMsgTime: seconds.default(0),
});
export type GroupMember = z.infer<typeof GroupMember>;
