/**
 * What each WebSocket op does for the connected user: one line each, calling
 * the same actor methods and sns actions the REST door calls.
 */
import type { z } from "zod";
import { capture, type Outcome } from "../../domain/errors.ts";
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
  removeFromList,
  updateFriends,
} from "../../sns/friends.ts";
import { readProfiles, updateProfile } from "../../sns/profiles.ts";
import type { UserRef } from "../refs.ts";
import type { UserActor } from "../UserActor.ts";

export interface OpContext {
  actor: UserActor;
  me: UserRef;
  /** Closes this connection after the answer (logout). */
  closeSoon(): void;
  sns(): Promise<SnsContext>;
}

type Handler<K extends OpName> = (c: OpContext, data: z.infer<(typeof OpData)[K]>) => Promise<Outcome<unknown>>;

/** Runs an sns action for the connected user; its errors become the answer's code. */
const sns = <T>(c: OpContext, action: (ctx: SnsContext) => Promise<T>) => capture(async () => action(await c.sns()));

export const userOps: { [K in Exclude<OpName, "login">]: Handler<K> } = {
  logout: async (c) => {
    c.closeSoon();
    return { ok: true, value: {} };
  },
  sendMessage: (c, d) => c.actor.sendC2C({ ...d, syncToSender: true }),
  sync: (c, d) => c.actor.sync(d.after, d.limit),
  getMessageList: (c, d) => c.actor.getMessageList(d.peer, d.before, d.limit),
  getConversationList: (c, d) => c.actor.listConversations(d?.offset ?? 0, d?.limit ?? 100),
  deleteConversation: (c, d) => c.actor.deleteConversation(d.peer, d.clearHistory ?? false),
  pinConversation: (c, d) => c.actor.pinConversation(d.peer, d.pinned),
  getTotalUnread: (c) => c.actor.unread(),
  setMessageRead: (c, d) => c.actor.markRead(d.peer),
  sendReadReceipts: (c, d) => c.actor.sendReadReceipts(d.peer, d.keys),
  revokeMessage: (c, d) => c.actor.revoke(d.peer, d.key, false),
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
  refuseFriendApplication: (c, d) => sns(c, async (ctx) => dropRequest(ctx, c.me.userId, d.userID).then(() => ({}))),
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
};
