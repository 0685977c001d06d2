/**
 * Live rooms (AVChatRoom) through REST. group_open_http_svc: ban_group_member,
 * unban_group_member, get_group_ban_member, get_online_member_num,
 * send_broadcast_msg (its table takes them from `liveGroupCommands`);
 * group_open_avchatroom_http_svc: get_members, check_members, modify_admin,
 * get_admin_list; and edge-im's own edgeim_admin_svc/set_live_settings,
 * get_live_settings and get_live_room. Each room command calls one method of the room's GroupActor (`group/live.ts`).
 */
import { z } from "zod";
import type { GroupCaller } from "../actors/group/host.ts";
import { UserId } from "../domain/account.ts";
import { ErrorCode, ImError, unwrap } from "../domain/errors.ts";
import { GroupErrorCode, groupError } from "../domain/group.ts";
import { LiveSettings, maxLiveAdmins } from "../domain/liveRoom.ts";
import { appActor } from "../actors/refs.ts";
import { MsgBody, MsgRandom } from "../domain/message.ts";
import { optional } from "../domain/wire.ts";
import { nicksAndImages } from "../store/profiles.ts";
import { GroupDirectory } from "../store/groups.ts";
import { existingAccounts } from "../store/accounts.ts";
import { isAppAdmin } from "../domain/app.ts";
import { command } from "./command.ts";
import { GroupIdField, groupOf } from "./group_attr_commands.ts";

const paramErrorCode = GroupErrorCode.invalidParameter;
const appAdmin: GroupCaller = { appAdmin: true };
const Accounts = (max: number) => z.array(UserId).min(1, "must name at least one account").max(max, `at most ${max} accounts`);

export const banGroupMember = command({
  body: z.object({
    GroupId: GroupIdField,
    Members_Account: Accounts(20),
    Duration: z.number().int().min(1).max(0xffffffff),
    Description: optional(z.string().max(300)),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).ban(appAdmin, body.Members_Account, body.Duration, body.Description ?? ""));
    return {};
  },
});

export const unbanGroupMember = command({
  body: z.object({ GroupId: GroupIdField, Members_Account: Accounts(20) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).unban(appAdmin, body.Members_Account));
    return {};
  },
});

export const getGroupBanMember = command({
  body: z.object({ GroupId: GroupIdField, Offset: optional(z.number().int().min(0)), Limit: optional(z.number().int().min(1).max(100)) }),
  paramErrorCode,
  async handle(ctx, body) {
    const page = unwrap(await groupOf(ctx, body.GroupId).bannedPage(appAdmin, body.Offset ?? 0, body.Limit ?? 100));
    return { BannedAccountList: page.banned.map((b) => ({ Member_Account: b.userId, BannedUntil: b.until })), NextOffset: page.nextOffset };
  },
});

export const getOnlineMemberNum = command({
  body: z.object({ GroupId: GroupIdField }),
  paramErrorCode,
  async handle(ctx, body) {
    return { OnlineMemberNum: unwrap(await groupOf(ctx, body.GroupId).onlineCount()) };
  },
});

/** Live rooms reached per directory page; the whole app's rooms are walked page by page. */
const broadcastPage = 200;

export const sendBroadcastMsg = command({
  body: z.object({ From_Account: optional(UserId), Random: MsgRandom, MsgBody, CloudCustomData: optional(z.string()) }),
  paramErrorCode,
  async handle(ctx, body) {
    if (body.From_Account !== undefined && !isAppAdmin(ctx.app, body.From_Account)) {
      const found = await existingAccounts(ctx.env.DB, ctx.app.sdkAppId, [body.From_Account]);
      if (!found.has(body.From_Account)) throw groupError(GroupErrorCode.accountNotFound, `From_Account: account "${body.From_Account}" does not exist`);
    }
    const caller: GroupCaller = body.From_Account ? { userId: body.From_Account, appAdmin: true } : appAdmin;
    const draft = { random: body.Random, body: body.MsgBody, priority: "High" as const, ...(body.CloudCustomData !== undefined ? { cloudCustomData: body.CloudCustomData } : {}) };
    const directory = new GroupDirectory(ctx.env.DB, ctx.app.sdkAppId);
    let after = 0;
    for (;;) {
      const page = await directory.page(after, broadcastPage, "AVChatRoom");
      // A room that fails (dismissed meanwhile) does not stop the others.
      await Promise.all(page.groups.map((g) => groupOf(ctx, g.groupId).liveSend(caller, draft, "elsewhere").catch(() => undefined)));
      if (page.groups.length < broadcastPage) break;
      after = page.groups.at(-1)!.next;
    }
    // Each room numbers the message in its own MsgSeq; the sources name no broadcast-wide sequence, so 0.
    return { MsgSeq: 0 };
  },
});

export const liveGroupCommands = {
  ban_group_member: banGroupMember,
  unban_group_member: unbanGroupMember,
  get_group_ban_member: getGroupBanMember,
  get_online_member_num: getOnlineMemberNum,
  send_broadcast_msg: sendBroadcastMsg,
};

// ---------------------------------------------------------------------------------------------
// group_open_avchatroom_http_svc

export const getMembers = command({
  body: z.object({ GroupId: GroupIdField, Timestamp: optional(z.number().int().min(0)), Mark: optional(z.number().int()) }),
  paramErrorCode,
  async handle(ctx, body) {
    const page = unwrap(await groupOf(ctx, body.GroupId).liveMembers(body.Timestamp ?? 0));
    // Nick and avatar from the profiles, one read per page.
    const profiles = await nicksAndImages(ctx.env.DB, ctx.app.sdkAppId, page.members.map((m) => m.userId));
    return {
      MemberList: page.members.map((m) => ({ Member_Account: m.userId, JoinTime: m.joinTime, NickName: profiles.get(m.userId)?.nick ?? "", Avatar: profiles.get(m.userId)?.image ?? "" })),
      NextTimestamp: page.next,
    };
  },
});

export const checkMembers = command({
  body: z.object({ GroupId: GroupIdField, Member_Account: Accounts(500) }),
  paramErrorCode,
  async handle(ctx, body) {
    return { Member_Account: unwrap(await groupOf(ctx, body.GroupId).checkLiveMembers(body.Member_Account)) };
  },
});

export const modifyAdmin = command({
  body: z.object({ GroupId: GroupIdField, CommandType: z.literal([1, 2]), Admin_Account: Accounts(maxLiveAdmins) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).modifyLiveAdmins(appAdmin, body.CommandType === 1, body.Admin_Account));
    return {};
  },
});

export const getAdminList = command({
  body: z.object({ GroupId: GroupIdField }),
  paramErrorCode,
  async handle(ctx, body) {
    // The sources give only the field's name; each entry is shaped as other member lists are.
    return { Admin_List: unwrap(await groupOf(ctx, body.GroupId).liveAdmins()).map((userId) => ({ Member_Account: userId })) };
  },
});

export const groupOpenAvchatroomHttpSvc = {
  get_members: getMembers,
  check_members: checkMembers,
  modify_admin: modifyAdmin,
  get_admin_list: getAdminList,
};

// ---------------------------------------------------------------------------------------------
// edgeim_admin_svc: the app's live-room settings (edge-im's own extension, admin only)

function describeLive(live: LiveSettings): Record<string, number> {
  return {
    ShardSize: live.shardSize,
    DirectFanout: live.directFanout,
    TipsUpTo: live.tipsUpTo,
    UnackedLimit: live.unackedLimit,
    ShardDeliveriesPerSecond: live.shardDeliveriesPerSecond,
    MaxBans: live.maxBans,
    KeepLast: live.keepLast,
  };
}

export const setLiveSettings = command({
  body: z.object({
    ShardSize: optional(z.number().int()),
    DirectFanout: optional(z.number().int()),
    TipsUpTo: optional(z.number().int()),
    UnackedLimit: optional(z.number().int()),
    ShardDeliveriesPerSecond: optional(z.number().int()),
    MaxBans: optional(z.number().int()),
    KeepLast: optional(z.number().int()),
  }),
  paramErrorCode: ErrorCode.jsonParse,
  async handle({ env, app }, body) {
    const changed = LiveSettings.safeParse({
      ...app.settings.live,
      ...(body.ShardSize !== undefined ? { shardSize: body.ShardSize } : {}),
      ...(body.DirectFanout !== undefined ? { directFanout: body.DirectFanout } : {}),
      ...(body.TipsUpTo !== undefined ? { tipsUpTo: body.TipsUpTo } : {}),
      ...(body.UnackedLimit !== undefined ? { unackedLimit: body.UnackedLimit } : {}),
      ...(body.ShardDeliveriesPerSecond !== undefined ? { shardDeliveriesPerSecond: body.ShardDeliveriesPerSecond } : {}),
      ...(body.MaxBans !== undefined ? { maxBans: body.MaxBans } : {}),
      ...(body.KeepLast !== undefined ? { keepLast: body.KeepLast } : {}),
    });
    if (!changed.success) {
      const issue = changed.error.issues[0]!;
      throw new ImError(ErrorCode.jsonParse, `${issue.path.join(".")}: ${issue.message}`);
    }
    const view = await appActor(env, app.sdkAppId).configure(app.sdkAppId, { settings: { live: changed.data } });
    return describeLive(view.settings.live);
  },
});

export const getLiveSettings = command({
  body: z.object({}),
  paramErrorCode: ErrorCode.jsonParse,
  async handle({ app }) {
    return describeLive(app.settings.live);
  },
});

/** One room's audience and shards: each open shard's viewers (as it last reported) and what it dropped, and the room's drops. */
export const getLiveRoom = command({
  body: z.object({ GroupId: GroupIdField }),
  paramErrorCode,
  async handle(ctx, body) {
    const info = unwrap(await groupOf(ctx, body.GroupId).liveRoomInfo());
    return {
      GroupId: body.GroupId,
      OnlineMemberNum: info.onlineCount,
      ShardList: info.shards.map((s) => ({ Shard: s.shard, Sockets: s.sockets, Dropped: s.dropped })),
      RateDropped: info.rateDropped,
      ShardDropped: info.shardDropped,
    };
  },
});

/** Live rooms' settings reach rooms and shards within a minute (their cached app), and new rooms at once. */
export const liveAdminCommands = {
  set_live_settings: setLiveSettings,
  get_live_settings: getLiveSettings,
  get_live_room: getLiveRoom,
};
