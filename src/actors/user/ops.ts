/**
 * What each WebSocket op does for the connected user: one line each, calling
 * the same actor methods and sns actions the REST door calls.
 */
import type { z } from "zod";
import { capture, unwrap, type Outcome } from "../../domain/errors.ts";
import type { OpData, OpName } from "../../domain/protocol.ts";
import { block, blockedPage, checkBlocked, unblock } from "../../sns/blocklist.ts";
import type { SnsContext } from "../../sns/context.ts";
import {
  acceptRequest,
  addFriends,
  checkFriends,
  createLists,
  deleteFriends,
  deleteLists,
  dropRequest,
  friendPage,
  friendRequests,
  readLists,
  rejectRequest,
  removeFromList,
  updateFriends,
} from "../../sns/friends.ts";
import { readProfiles, updateProfile } from "../../sns/profiles.ts";
import type { UserRef } from "../refs.ts";
import type { GroupActor } from "../GroupActor.ts";
import type { GroupCaller } from "../group/host.ts";
import { createGroup, groupNamed } from "../group/entry.ts";
import { GroupDirectory } from "../../store/groups.ts";
import { clientTopic, type TopicProfile } from "../../domain/groupTopics.ts";
import type { Platform } from "../../domain/devices.ts";
import type { UserActor } from "../UserActor.ts";
import { forgetPlacement, joinGroup } from "./liveJoin.ts";

export interface OpContext {
  actor: UserActor;
  me: UserRef;
  /** The connected device's platform (callbacks' OptPlatform). */
  platform: Platform;
  /** The connected device's IP address, when known (callbacks' ClientIP). */
  clientIp?: string;
  /** Closes this connection after the answer (logout). */
  closeSoon(): void;
  sns(): Promise<SnsContext>;
  /** The connected user as a group sees it (an app admin acts with owner rights). */
  groupCaller(): Promise<GroupCaller>;
}

type Handler<K extends OpName> = (c: OpContext, data: z.infer<(typeof OpData)[K]>) => Promise<Outcome<unknown>>;

/** Runs an action on one group for the connected user; a bad group id is its answer's code. */
const group = <T>(c: OpContext, groupId: string, action: (stub: DurableObjectStub<GroupActor>, caller: GroupCaller) => Promise<Outcome<T>>): Promise<Outcome<T>> =>
  capture(async () => unwrap(await action(groupNamed(c.actor.env, c.me.sdkAppId, groupId), await c.groupCaller())));

const definedData = (items?: { key: string; value: string }[]) => items?.map(({ key, value }) => ({ key, value }));

/** A Community topic's messages rather than the group's own, when the op names one. */
const inTopic = (topicID?: string) => (topicID !== undefined ? { topicId: topicID } : {});

/** Runs an sns action for the connected user; its errors become the answer's code. */
const sns = <T>(c: OpContext, action: (ctx: SnsContext) => Promise<T>) => capture(async () => action(await c.sns()));

export const userOps: { [K in Exclude<OpName, "login">]: Handler<K> } = {
  logout: async (c) => {
    c.closeSoon();
    return { ok: true, value: {} };
  },
  sendMessage: (c, d) => c.actor.sendC2C({ ...d, syncToSender: true, platform: c.platform, ...(c.clientIp ? { clientIp: c.clientIp } : {}) }),
  sync: (c, d) => c.actor.sync(d.after, d.limit),
  getMessageList: (c, d) => c.actor.getMessageList(d.peer, d.before, d.limit),
  getConversationList: (c, d) => c.actor.listConversations(d?.offset ?? 0, d?.limit ?? 100),
  deleteConversation: (c, d) => c.actor.deleteConversation(d.peer, d.clearHistory ?? false),
  pinConversation: (c, d) => c.actor.pinConversation(d.peer, d.pinned),
  getTotalUnread: (c) => c.actor.unread(),
  setMessageRead: (c, d) => c.actor.markRead(d.peer, undefined, c.platform),
  sendReadReceipts: (c, d) => c.actor.sendReadReceipts(d.peer, d.keys),
  revokeMessage: (c, d) => c.actor.revoke(d.peer, d.key, false, c.platform),
  modifyMessage: (c, d) => c.actor.modify(d.peer, d.key, d.body, d.cloudCustomData),
  deleteMessages: (c, d) => c.actor.deleteMessages(d.peer, d.keys),

  getUserProfile: (c, d) => sns(c, async (ctx) => ({ profiles: await readProfiles(ctx, d.userIDList, d.tags ?? []) })),
  updateMyProfile: (c, d) => sns(c, async (ctx) => updateProfile(ctx, c.me.userId, d.items, false).then(() => ({}))),

  getFriendList: (c, d) => sns(c, (ctx) => friendPage(ctx, c.me.userId, d?.after ?? 0, d?.limit)),
  addFriend: (c, d) =>
    sns(c, async (ctx) => {
      const [result] = await addFriends(
        ctx,
        c.me.userId,
        [{ to: d.to, remark: d.remark, listName: d.listName, addSource: d.source, addWording: d.wording }],
        d.type ?? "Add_Type_Both",
        false,
      );
      return result;
    }),
  deleteFriend: (c, d) => sns(c, async (ctx) => ({ results: await deleteFriends(ctx, c.me.userId, d.userIDList, d.type ?? "Delete_Type_Both") })),
  checkFriend: (c, d) => sns(c, async (ctx) => ({ results: await checkFriends(ctx, c.me.userId, d.userIDList, d.type === "CheckResult_Type_Single") })),
  updateFriend: (c, d) => sns(c, async (ctx) => (await updateFriends(ctx, c.me.userId, [{ to: d.to, remark: d.remark, lists: d.lists }]))[0]),
  getFriendApplicationList: (c) => sns(c, (ctx) => friendRequests(ctx, c.me.userId)),
  acceptFriendApplication: (c, d) => sns(c, async (ctx) => acceptRequest(ctx, c.me.userId, d.userID, d.type ?? "agreeAndAdd", d.remark).then(() => ({}))),
  refuseFriendApplication: (c, d) => sns(c, async (ctx) => rejectRequest(ctx, c.me.userId, d.userID).then(() => ({}))),
  deleteFriendApplication: (c, d) => sns(c, async (ctx) => dropRequest(ctx, d.userID, c.me.userId).then(() => ({}))),
  getFriendLists: (c) => sns(c, async (ctx) => ({ lists: await readLists(ctx, c.me.userId) })),
  createFriendList: (c, d) => sns(c, async (ctx) => ({ results: await createLists(ctx, c.me.userId, [d.name], d.userIDList ?? []) })),
  deleteFriendList: (c, d) => sns(c, async (ctx) => deleteLists(ctx, c.me.userId, [d.name]).then(() => ({}))),
  addToFriendList: (c, d) => sns(c, async (ctx) => ({ results: await createLists(ctx, c.me.userId, [d.name], d.userIDList) })),
  removeFromFriendList: (c, d) => sns(c, async (ctx) => ({ results: await removeFromList(ctx, c.me.userId, d.name, d.userIDList) })),

  addToBlacklist: (c, d) => sns(c, async (ctx) => ({ results: await block(ctx, c.me.userId, d.userIDList) })),
  removeFromBlacklist: (c, d) => sns(c, async (ctx) => ({ results: await unblock(ctx, c.me.userId, d.userIDList) })),
  getBlacklist: (c, d) => sns(c, (ctx) => blockedPage(ctx, c.me.userId, d?.offset ?? 0, d?.limit ?? 100)),
  checkBlacklist: (c, d) => sns(c, async (ctx) => ({ results: await checkBlocked(ctx, c.me.userId, d.userIDList, d.type === "BlackCheckResult_Type_Single") })),

  createGroup: (c, d) =>
    capture(async () =>
      unwrap(
        await createGroup(c.actor.env, c.me.sdkAppId, await c.groupCaller(), {
          type: d.type,
          name: d.name,
          owner: c.me.userId,
          ...(d.groupID ? { groupId: d.groupID } : {}),
          ...(d.introduction !== undefined ? { introduction: d.introduction } : {}),
          ...(d.notification !== undefined ? { notification: d.notification } : {}),
          ...(d.avatar !== undefined ? { faceUrl: d.avatar } : {}),
          ...(d.maxMemberNum !== undefined ? { maxMemberNum: d.maxMemberNum } : {}),
          ...(d.joinOption ? { applyJoinOption: d.joinOption } : {}),
          members: (d.memberList ?? []).map((m) => ({ userId: m.userID, ...(m.role ? { role: m.role } : {}) })),
          ...(d.groupCustomField ? { appDefinedData: definedData(d.groupCustomField) } : {}),
          ...(d.isSupportTopic ? { supportTopic: true } : {}),
        }),
      ),
    ),
  dismissGroup: (c, d) => group(c, d.groupID, (g, caller) => g.destroy(caller)),
  getGroupList: (c) => capture(async () => ({ groups: await new GroupDirectory(c.actor.env.DB, c.me.sdkAppId).joined(c.me.userId) })),
  getGroupProfile: (c, d) => group(c, d.groupID, (g, caller) => g.info(caller)),
  searchGroupByID: (c, d) => group(c, d.groupID, (g, caller) => g.info(caller)),
  updateGroupProfile: (c, d) =>
    group(c, d.groupID, (g, caller) =>
      g.modifyProfile(caller, {
        ...(d.name !== undefined ? { name: d.name } : {}),
        ...(d.introduction !== undefined ? { introduction: d.introduction } : {}),
        ...(d.notification !== undefined ? { notification: d.notification } : {}),
        ...(d.avatar !== undefined ? { faceUrl: d.avatar } : {}),
        ...(d.maxMemberNum !== undefined ? { maxMemberNum: d.maxMemberNum } : {}),
        ...(d.joinOption ? { applyJoinOption: d.joinOption } : {}),
        ...(d.muteAllMembers !== undefined ? { muteAllMember: d.muteAllMembers } : {}),
        ...(d.groupCustomField ? { appDefinedData: definedData(d.groupCustomField) } : {}),
      }),
    ),
  // A crowded live room's joins are placed by the joiner's own actor (user/liveJoin.ts).
  joinGroup: (c, d) => joinGroup(c, d.groupID, d.applyMessage ?? ""),
  quitGroup: (c, d) => (forgetPlacement(c.actor, d.groupID), group(c, d.groupID, (g, caller) => g.quit(caller))),
  changeGroupOwner: (c, d) => group(c, d.groupID, (g, caller) => g.changeOwner(caller, d.newOwnerID)),
  getGroupApplicationList: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.applications(caller), (applications) => ({ applications }))),
  handleGroupApplication: (c, d) => group(c, d.groupID, (g, caller) => g.handleApplication(caller, d.applicant, d.handleAction === "Agree", d.handleMessage ?? "")),
  getGroupMemberList: (c, d) => group(c, d.groupID, (g, caller) => g.memberPage(caller, { offset: d.offset ?? 0, limit: d.count ?? 15 })),
  getGroupMemberProfile: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.membersOf(caller, d.userIDList), (members) => ({ members }))),
  addGroupMember: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.addMembers(caller, d.userIDList), (results) => ({ results }))),
  deleteGroupMember: (c, d) => group(c, d.groupID, (g, caller) => g.removeMembers(caller, d.userIDList, { ...(d.reason !== undefined ? { reason: d.reason } : {}) })),
  setGroupMemberRole: (c, d) => group(c, d.groupID, (g, caller) => g.modifyMember(caller, d.userID, { role: d.role })),
  setGroupMemberMuteTime: (c, d) => group(c, d.groupID, (g, caller) => g.modifyMember(caller, d.userID, { muteTime: d.muteTime })),
  setGroupMemberNameCard: (c, d) => group(c, d.groupID, (g, caller) => g.modifyMember(caller, d.userID ?? c.me.userId, { nameCard: d.nameCard })),
  setGroupMemberCustomField: (c, d) =>
    group(c, d.groupID, (g, caller) => g.modifyMember(caller, d.userID ?? c.me.userId, { appMemberDefinedData: definedData(d.memberCustomField)! })),
  setMessageRemindType: (c, d) => group(c, d.groupID, (g, caller) => g.modifyMember(caller, c.me.userId, { msgFlag: d.messageRemindType })),
  sendGroupMessage: (c, d) => {
    const { groupID, topicID, ...draft } = d;
    return capture(async () => unwrap(await c.actor.sendGroupMessage(groupID, await c.groupCaller(), { ...draft, ...inTopic(topicID) })));
  },
  getGroupMessageList: (c, d) =>
    group(c, d.groupID, async (g, caller) =>
      wrap(await g.history(caller, { ...inTopic(d.topicID), ...(d.before !== undefined ? { upTo: d.before - 1 } : {}), count: d.limit ?? 20 }), (page) => ({
        ...page,
        next: page.messages.at(-1)?.seq ?? 0,
      })),
    ),
  syncGroupMessages: (c, d) => group(c, d.groupID, (g, caller) => g.messagesAfter(caller, d.after, d.limit ?? 100, d.topicID)),
  revokeGroupMessage: (c, d) =>
    group(c, d.groupID, async (g, caller) => {
      const results = await g.recall(caller, [d.seq], d.topicID);
      if (!results.ok) return results;
      const [result] = results.value;
      return result!.code === 0 ? { ok: true, value: {} } : { ok: false, code: result!.code, info: "the message could not be recalled" };
    }),
  modifyGroupMessage: (c, d) => group(c, d.groupID, (g, caller) => g.modifyMessage(caller, d.seq, d.body, d.cloudCustomData, d.topicID)),
  // The group keeps read points for receipts; the user's own actor keeps the one its devices share.
  setGroupMessageRead: (c, d) =>
    group(c, d.groupID, async (g, caller) => {
      const read = await g.markRead(caller, d.seq ?? Number.MAX_SAFE_INTEGER);
      return read.ok ? c.actor.groupRead(d.groupID, read.value.readSeq, read.value.readCount) : read;
    }),
  pinGroupConversation: (c, d) => c.actor.pinGroupConversation(d.groupID, d.pinned),
  deleteGroupConversation: (c, d) => c.actor.deleteGroupConversation(d.groupID),

  getGroupAttributes: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.readAttributes(caller, d.keyList), attributeMap)),
  setGroupAttributes: (c, d) =>
    group(c, d.groupID, async (g, caller) => wrap(await g.writeAttributes(caller, { mode: "modify", attributes: Object.entries(d.groupAttributes).map(([key, value]) => ({ key, value })) }, d.version), attributeMap)),
  deleteGroupAttributes: (c, d) =>
    group(c, d.groupID, async (g, caller) =>
      wrap(await g.writeAttributes(caller, d.keyList?.length ? { mode: "delete", keys: d.keyList } : { mode: "set", attributes: [] }, d.version), attributeMap),
    ),
  createTopicInCommunity: (c, d) =>
    group(c, d.groupID, async (g, caller) =>
      wrap(await g.createTopic(caller, { name: d.topicName, ...topicFields(d), ...(d.topicID ? { topicId: d.topicID } : {}) }), (t) => ({ topicID: t.topicId })),
    ),
  getTopicList: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.readTopics(caller, d.topicIDList), (read) => topicLists(read.topics))),
  updateTopicProfile: (c, d) =>
    group(c, d.groupID, async (g, caller) =>
      wrap(await g.modifyTopic(caller, d.topicID, { ...topicFields(d), ...(d.topicName !== undefined ? { name: d.topicName } : {}), ...(d.muteAllMembers !== undefined ? { muteAllMember: d.muteAllMembers } : {}) }), (t) => ({
        topic: clientTopic(t),
      })),
    ),
  deleteTopicFromCommunity: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.destroyTopics(caller, d.topicIDList), topicLists)),
  sendGroupReadReceipts: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.acknowledgeReceipts(caller, c.me.userId, d.seqs), (readSeq) => ({ readSeq }))),
  getGroupMessageReadReceipts: (c, d) => group(c, d.groupID, async (g, caller) => wrap(await g.receiptCounts(caller, d.seqs), (receipts) => ({ receipts }))),
  getGroupMessageReadMembers: (c, d) =>
    group(c, d.groupID, (g, caller) => g.receiptDetail(caller, d.seq, { read: d.filter === "read", cursor: d.cursor ?? "", count: d.count ?? 100 })),
};

/** Attributes as @tencentcloud/chat answers them: `{groupAttributes: {key: value}}`, with the version a later write may name. */
const attributeMap = (read: { attributes: { key: string; value: string }[]; version: number }) => ({
  groupAttributes: Object.fromEntries(read.attributes.map((a) => [a.key, a.value])),
  version: read.version,
});

const topicFields = (d: { avatar?: string; notification?: string; introduction?: string; customData?: string }) => ({
  ...(d.avatar !== undefined ? { faceUrl: d.avatar } : {}),
  ...(d.notification !== undefined ? { notification: d.notification } : {}),
  ...(d.introduction !== undefined ? { introduction: d.introduction } : {}),
  ...(d.customData !== undefined ? { customString: d.customData } : {}),
});

/** Per-topic results split as @tencentcloud/chat does: successTopicList and failureTopicList. */
function topicLists(results: { topicId: string; topic?: TopicProfile; code?: number; info?: string }[]) {
  return {
    successTopicList: results.filter((r) => !r.code).map((r) => (r.topic ? clientTopic(r.topic) : { topicID: r.topicId })),
    failureTopicList: results.filter((r) => r.code).map((r) => ({ topicID: r.topicId, code: r.code, message: r.info ?? "" })),
  };
}

function wrap<T, U>(outcome: Outcome<T>, shape: (value: T) => U): Outcome<U> {
  return outcome.ok ? { ok: true, value: shape(outcome.value) } : outcome;
}
