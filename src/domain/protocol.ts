/**
 * The WebSocket protocol (docs/PROTOCOL.md): frames and the data of each op.
 * The SDK imports these schemas; the gateway validates every frame with them.
 */
import { z } from "zod";
import { C2CDraft, MsgBody } from "./message.ts";
import { Platform } from "./devices.ts";
import { UserId } from "./account.ts";
import { ApplyJoinOption, AssignableRole, GroupType, MsgFlag } from "./group.ts";
import { GroupMessageDraft } from "./groupMessage.ts";
import { maxTopicsPerCommunity } from "./groupTopics.ts";

/** Text frame a client sends to keep its connection alive; answered "pong" without waking the actor. */
export const heartbeatPing = "ping";
export const heartbeatPong = "pong";

/** Largest frame the gateway reads, in bytes. */
export const maxFrameBytes = 64 * 1024;

export const RequestFrame = z.object({
  /** Client-chosen request id, echoed in the response. */
  id: z.union([z.number().int(), z.string().max(64)]),
  op: z.string().max(64),
  data: z.unknown().optional(),
});
export type RequestFrame = z.infer<typeof RequestFrame>;

export interface ResponseFrame {
  id: number | string | null;
  code: number;
  message: string;
  data?: unknown;
}

export interface EventFrame {
  event: string;
  data: unknown;
}

const Cursor = z.number().int().min(0);
const Limit = (max: number) => z.number().int().min(1).max(max).optional();
const MessageKey = z.string().min(1).max(80);
const UserIds = (max: number) => z.array(UserId).min(1).max(max);
/** A group id as clients send it (its rules are checked where groups are created). */
const GroupIdField = z.string().min(1).max(64);
/** A topic id: the community's id, @TOPIC#_ and a suffix of up to 48 bytes. */
const TopicIdField = z.string().min(1).max(128);
const AttributeKeys = z.array(z.string()).max(64);

/** The data of each op, by op name. */
export const OpData = {
  login: z.object({ userSig: z.string() }),
  logout: z.object({}).optional(),
  sendMessage: C2CDraft.pick({ to: true, random: true, body: true, cloudCustomData: true, needReadReceipt: true, lifeTimeSeconds: true }).extend({
    to: UserId,
  }),
  sync: z.object({ after: Cursor, limit: Limit(200) }),
  getMessageList: z.object({ peer: UserId, before: Cursor.optional(), limit: Limit(100) }),
  getConversationList: z.object({ offset: z.number().int().min(0).optional(), limit: Limit(100) }).optional(),
  deleteConversation: z.object({ peer: UserId, clearHistory: z.boolean().optional() }),
  pinConversation: z.object({ peer: UserId, pinned: z.boolean() }),
  getTotalUnread: z.object({}).optional(),
  setMessageRead: z.object({ peer: UserId }),
  sendReadReceipts: z.object({ peer: UserId, keys: z.array(MessageKey).min(1).max(100) }),
  revokeMessage: z.object({ peer: UserId, key: MessageKey }),
  modifyMessage: z.object({ peer: UserId, key: MessageKey, body: MsgBody, cloudCustomData: z.string().optional() }),
  deleteMessages: z.object({ peer: UserId, keys: z.array(MessageKey).min(1).max(100) }),

  // profiles
  getUserProfile: z.object({ userIDList: UserIds(100), tags: z.array(z.string()).max(50).optional() }),
  updateMyProfile: z.object({ items: z.array(z.object({ tag: z.string(), value: z.union([z.string(), z.number()]) })).min(1).max(50) }),

  // friends
  getFriendList: z.object({ after: z.number().int().min(0).optional(), limit: Limit(100) }).optional(),
  addFriend: z.object({
    to: UserId,
    type: z.enum(["Add_Type_Both", "Add_Type_Single"]).optional(),
    source: z.string().max(64).optional(),
    wording: z.string().max(256).optional(),
    remark: z.string().max(96).optional(),
    listName: z.string().min(1).max(30).optional(),
  }),
  deleteFriend: z.object({ userIDList: UserIds(100), type: z.enum(["Delete_Type_Both", "Delete_Type_Single"]).optional() }),
  checkFriend: z.object({ userIDList: UserIds(1000), type: z.enum(["CheckResult_Type_Both", "CheckResult_Type_Single"]).optional() }),
  updateFriend: z.object({ to: UserId, remark: z.string().max(96).optional(), lists: z.array(z.string().min(1).max(30)).max(32).optional() }),
  getFriendApplicationList: z.object({}).optional(),
  acceptFriendApplication: z.object({ userID: UserId, type: z.enum(["agree", "agreeAndAdd"]).optional(), remark: z.string().max(96).optional() }),
  refuseFriendApplication: z.object({ userID: UserId }),
  deleteFriendApplication: z.object({ userID: UserId }),
  getFriendLists: z.object({}).optional(),
  createFriendList: z.object({ name: z.string().min(1).max(30), userIDList: z.array(UserId).max(100).optional() }),
  deleteFriendList: z.object({ name: z.string().min(1).max(30) }),
  addToFriendList: z.object({ name: z.string().min(1).max(30), userIDList: UserIds(100) }),
  removeFromFriendList: z.object({ name: z.string().min(1).max(30), userIDList: UserIds(100) }),

  // blocklist
  addToBlacklist: z.object({ userIDList: UserIds(100) }),
  removeFromBlacklist: z.object({ userIDList: UserIds(100) }),
  getBlacklist: z.object({ offset: z.number().int().min(0).optional(), limit: Limit(100) }).optional(),
  checkBlacklist: z.object({ userIDList: UserIds(1000), type: z.enum(["BlackCheckResult_Type_Both", "BlackCheckResult_Type_Single"]).optional() }),

  // groups (the group's own actor decides what the connected user may do)
  createGroup: z.object({
    type: GroupType.default("Private"),
    name: z.string(),
    groupID: z.string().min(1).max(48).optional(),
    introduction: z.string().optional(),
    notification: z.string().optional(),
    avatar: z.string().optional(),
    maxMemberNum: z.number().int().min(0).optional(),
    joinOption: ApplyJoinOption.optional(),
    memberList: z.array(z.object({ userID: UserId, role: AssignableRole.optional() })).max(100).optional(),
    groupCustomField: z.array(z.object({ key: z.string(), value: z.string() })).max(10).optional(),
  }),
  dismissGroup: z.object({ groupID: GroupIdField }),
  getGroupList: z.object({}).optional(),
  getGroupProfile: z.object({ groupID: GroupIdField }),
  searchGroupByID: z.object({ groupID: GroupIdField }),
  updateGroupProfile: z.object({
    groupID: GroupIdField,
    name: z.string().optional(),
    introduction: z.string().optional(),
    notification: z.string().optional(),
    avatar: z.string().optional(),
    maxMemberNum: z.number().int().min(0).optional(),
    joinOption: ApplyJoinOption.optional(),
    muteAllMembers: z.boolean().optional(),
    groupCustomField: z.array(z.object({ key: z.string(), value: z.string() })).max(10).optional(),
  }),
  joinGroup: z.object({ groupID: GroupIdField, applyMessage: z.string().max(300).optional() }),
  quitGroup: z.object({ groupID: GroupIdField }),
  changeGroupOwner: z.object({ groupID: GroupIdField, newOwnerID: UserId }),
  getGroupApplicationList: z.object({ groupID: GroupIdField }),
  handleGroupApplication: z.object({ groupID: GroupIdField, applicant: UserId, handleAction: z.enum(["Agree", "Reject"]), handleMessage: z.string().max(300).optional() }),
  getGroupMemberList: z.object({ groupID: GroupIdField, count: z.number().int().min(1).max(100).optional(), offset: z.number().int().min(0).optional() }),
  getGroupMemberProfile: z.object({ groupID: GroupIdField, userIDList: UserIds(50) }),
  addGroupMember: z.object({ groupID: GroupIdField, userIDList: UserIds(100) }),
  deleteGroupMember: z.object({ groupID: GroupIdField, userIDList: UserIds(100), reason: z.string().max(300).optional() }),
  setGroupMemberRole: z.object({ groupID: GroupIdField, userID: UserId, role: AssignableRole }),
  setGroupMemberMuteTime: z.object({ groupID: GroupIdField, userID: UserId, muteTime: z.number().int().min(0).max(0xffffffff) }),
  setGroupMemberNameCard: z.object({ groupID: GroupIdField, userID: UserId.optional(), nameCard: z.string() }),
  setGroupMemberCustomField: z.object({ groupID: GroupIdField, userID: UserId.optional(), memberCustomField: z.array(z.object({ key: z.string(), value: z.string() })).max(5) }),
  setMessageRemindType: z.object({ groupID: GroupIdField, messageRemindType: MsgFlag }),
  sendGroupMessage: GroupMessageDraft.pick({ random: true, body: true, cloudCustomData: true, priority: true, to: true, atUsers: true, atAll: true, needReadReceipt: true }).extend({
    groupID: GroupIdField,
  }),
  /** History newest first: pass the answer's `next` as `before` for the page before. */
  getGroupMessageList: z.object({ groupID: GroupIdField, before: Cursor.optional(), limit: Limit(100) }),
  /** What a device missed: messages after MsgSeq `after`, oldest first. */
  syncGroupMessages: z.object({ groupID: GroupIdField, after: Cursor, limit: Limit(200) }),
  revokeGroupMessage: z.object({ groupID: GroupIdField, seq: Cursor }),
  modifyGroupMessage: z.object({ groupID: GroupIdField, seq: Cursor, body: MsgBody, cloudCustomData: z.string().optional() }),
  setGroupMessageRead: z.object({ groupID: GroupIdField, seq: Cursor.optional() }),
  pinGroupConversation: z.object({ groupID: GroupIdField, pinned: z.boolean() }),
  deleteGroupConversation: z.object({ groupID: GroupIdField }),

  // group attributes (`version`: the one the last read answered; a write against an older one is refused with 10056)
  getGroupAttributes: z.object({ groupID: GroupIdField, keyList: AttributeKeys.optional() }),
  setGroupAttributes: z.object({ groupID: GroupIdField, groupAttributes: z.record(z.string(), z.string()), version: Cursor.optional() }),
  /** An empty or absent keyList deletes every attribute. */
  deleteGroupAttributes: z.object({ groupID: GroupIdField, keyList: AttributeKeys.optional(), version: Cursor.optional() }),

  // Community topics
  createTopicInCommunity: z.object({
    groupID: GroupIdField,
    topicName: z.string(),
    topicID: TopicIdField.optional(),
    avatar: z.string().optional(),
    notification: z.string().optional(),
    introduction: z.string().optional(),
    customData: z.string().optional(),
  }),
  /** An empty or absent topicIDList lists every topic. */
  getTopicList: z.object({ groupID: GroupIdField, topicIDList: z.array(TopicIdField).max(maxTopicsPerCommunity).optional() }),
  updateTopicProfile: z.object({
    groupID: GroupIdField,
    topicID: TopicIdField,
    topicName: z.string().optional(),
    avatar: z.string().optional(),
    notification: z.string().optional(),
    introduction: z.string().optional(),
    customData: z.string().optional(),
    muteAllMembers: z.boolean().optional(),
  }),
  deleteTopicFromCommunity: z.object({ groupID: GroupIdField, topicIDList: z.array(TopicIdField).min(1).max(maxTopicsPerCommunity) }),
} as const;
export type OpName = keyof typeof OpData;

export const ConnectQuery = z.object({
  /** Decimal digits only, as the REST door reads it ("0x…" or "1e9" are not SDKAppIDs). */
  sdkappid: z.string().regex(/^\d{1,10}$/, "must be a SDKAppID (decimal digits)").transform(Number).pipe(z.number().int().min(1).max(0xffffffff)),
  userid: UserId,
  platform: Platform.default("Web"),
  /** Stable per installation or tab; a reconnect with the same id replaces the old connection. */
  device: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/).optional(),
});
