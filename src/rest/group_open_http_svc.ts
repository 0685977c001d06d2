/**
 * group_open_http_svc: groups managed by the app admin — lifecycle and profile, members,
 * messages and read receipts. Each command maps Tencent's fields to one call on the group's
 * actor (or the D1 directory for lists across groups) with the app admin as the caller; a
 * From_Account, where a command takes one, names the user acting for tips and messages.
 */
import { z } from "zod";
import type { GroupCaller } from "../actors/GroupActor.ts";
import { createGroup, groupNamed } from "../actors/group/entry.ts";
import { userActor } from "../actors/refs.ts";
import { maxImportedMessages } from "../actors/group/imports.ts";
import { UserId } from "../domain/account.ts";
import { isAppAdmin } from "../domain/app.ts";
import { ImError, unwrap } from "../domain/errors.ts";
import {
  ApplyJoinOption,
  AssignableRole,
  communityGroupIdPrefix,
  GroupErrorCode,
  GroupFaceUrl,
  GroupIntroduction,
  GroupName,
  GroupNotification,
  GroupRole,
  GroupType,
  groupBatchLimits,
  InviteJoinOption,
  MsgFlag,
  MsgPriority,
  muteForever,
  NameCard,
  OnOff,
} from "../domain/group.ts";
import type { GroupMessageDraft } from "../domain/groupMessage.ts";
import { MsgBody, MsgRandom, MsgSeq, msgKey } from "../domain/message.ts";
import { optional, withEarlierNames } from "../domain/wire.ts";
import { existingAccounts } from "../store/accounts.ts";
import { GroupDirectory } from "../store/groups.ts";
import { command, type CommandContext } from "./command.ts";
import { inParallel } from "./parallel.ts";
import { asSet, DefinedDataWire, definedData, NameFilter, wantsMembers, wireGroupBase, wireGroupInfo, wireGroupMessage, wireMember, wireSelfInfo, type GroupInfoFilter } from "./groupWire.ts";

const paramErrorCode = GroupErrorCode.invalidParameter;

/** The REST caller: the app admin, acting as `userId` where the command names one. */
function admin(userId?: string): GroupCaller {
  return userId ? { userId, appAdmin: true } : { appAdmin: true };
}

/** As `admin`, naming the admin who signed the call: callbacks' Operator_Account when no user is named. */
function signedAdmin(ctx: CommandContext, userId?: string): GroupCaller {
  return { ...admin(userId), adminId: ctx.caller, ...(ctx.clientIp ? { clientIp: ctx.clientIp } : {}) };
}

function group(ctx: CommandContext, groupId: string) {
  return groupNamed(ctx.env, ctx.app.sdkAppId, groupId);
}

const GroupId = z.string();
const Flag = optional(z.literal([0, 1]));
const MuteSeconds = z.number().int().min(0).max(muteForever);
const SeqItems = z.array(z.object({ MsgSeq })).min(1, "must name at least one message");
/** A Community topic's messages instead of the group's own; "" means the group's own. */
const TopicId = optional(z.string({ error: "must be a string" }));
const inTopic = (topicId: string | undefined) => (topicId !== undefined ? { topicId } : {});

/** create_group and import_group share these; MaxMemberCount is what create_group called MaxMemberNum. */
function groupFields<T extends z.ZodType>(type: T) {
  return {
    Type: type,
    Name: GroupName,
    Owner_Account: optional(UserId),
    GroupId: optional(z.string()),
    Introduction: optional(GroupIntroduction),
    Notification: optional(GroupNotification),
    FaceUrl: optional(GroupFaceUrl),
    MaxMemberNum: optional(z.number().int().min(0)),
    ApplyJoinOption: optional(ApplyJoinOption),
    InviteJoinOption: optional(InviteJoinOption),
    AppDefinedData: optional(DefinedDataWire),
    MemberList: optional(
      z.array(z.object({ Member_Account: UserId, Role: optional(AssignableRole), AppMemberDefinedData: optional(DefinedDataWire) })),
    ),
    SupportTopic: Flag,
  };
}

const CreateBody = withEarlierNames({ MaxMemberCount: "MaxMemberNum" }, z.object(groupFields(GroupType)));
type CreateFields = z.infer<typeof CreateBody>;

async function create(ctx: CommandContext, body: CreateFields, createTime?: number) {
  const created = unwrap(
    await createGroup(ctx.env, ctx.app.sdkAppId, signedAdmin(ctx), {
      type: body.Type,
      name: body.Name,
      ...(body.GroupId !== undefined ? { groupId: body.GroupId } : {}),
      ...(body.Owner_Account !== undefined ? { owner: body.Owner_Account } : {}),
      ...(body.Introduction !== undefined ? { introduction: body.Introduction } : {}),
      ...(body.Notification !== undefined ? { notification: body.Notification } : {}),
      ...(body.FaceUrl !== undefined ? { faceUrl: body.FaceUrl } : {}),
      ...(body.MaxMemberNum !== undefined ? { maxMemberNum: body.MaxMemberNum } : {}),
      ...(body.ApplyJoinOption !== undefined ? { applyJoinOption: body.ApplyJoinOption } : {}),
      ...(body.InviteJoinOption !== undefined ? { inviteJoinOption: body.InviteJoinOption } : {}),
      ...(body.AppDefinedData !== undefined ? { appDefinedData: definedData(body.AppDefinedData) } : {}),
      members: (body.MemberList ?? []).map((m) => ({
        userId: m.Member_Account,
        ...(m.Role !== undefined ? { role: m.Role } : {}),
        ...(m.AppMemberDefinedData !== undefined ? { appMemberDefinedData: definedData(m.AppMemberDefinedData) } : {}),
      })),
      ...(body.SupportTopic === 1 ? { supportTopic: true } : {}),
      ...(createTime !== undefined ? { createTime } : {}),
    }),
  );
  return { GroupId: created.groupId };
}

// ---------------------------------------------------------------------------------------------
// Lifecycle and profile

export const createGroupCommand = command({
  body: CreateBody,
  paramErrorCode,
  handle: (ctx, body) => create(ctx, body),
});

export const importGroup = command({
  // Live rooms keep no history, so there is nothing to import them into.
  body: withEarlierNames(
    { MaxMemberCount: "MaxMemberNum" },
    z.object({ ...groupFields(GroupType.exclude(["AVChatRoom"])), CreateTime: optional(z.number().int().min(0)) }),
  ),
  paramErrorCode,
  async handle(ctx, body) {
    if (body.CreateTime !== undefined && body.CreateTime > Date.now() / 1000) throw new ImError(paramErrorCode, "CreateTime: must not be in the future");
    return create(ctx, body, body.CreateTime);
  },
});

const ResponseFilter = optional(
  z.object({
    GroupBaseInfoFilter: NameFilter,
    MemberInfoFilter: NameFilter,
    AppDefinedDataFilter_Group: NameFilter,
    AppDefinedDataFilter_GroupMember: NameFilter,
  }),
);

export const getGroupInfo = command({
  body: z.object({
    GroupIdList: z.array(z.string()).min(1, "must name at least one group").max(groupBatchLimits.getGroupInfo, `at most ${groupBatchLimits.getGroupInfo} groups per request`),
    ResponseFilter,
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const f = body.ResponseFilter;
    const filter: GroupInfoFilter | undefined = f && {
      ...(f.GroupBaseInfoFilter ? { base: new Set(f.GroupBaseInfoFilter) } : {}),
      ...(f.MemberInfoFilter ? { member: new Set(f.MemberInfoFilter) } : {}),
      ...(f.AppDefinedDataFilter_Group ? { groupData: new Set(f.AppDefinedDataFilter_Group) } : {}),
      ...(f.AppDefinedDataFilter_GroupMember ? { memberData: new Set(f.AppDefinedDataFilter_GroupMember) } : {}),
    };
    // Each group answers for itself: one that fails carries its own ErrorCode; the call is still OK.
    const GroupInfo = await inParallel(body.GroupIdList, 10, async (groupId) => {
      try {
        const stub = group(ctx, groupId);
        const info = unwrap(await stub.info(admin()));
        const members = wantsMembers(filter) ? unwrap(await stub.memberPage(admin(), { offset: 0, limit: groupBatchLimits.memberPage })).members : undefined;
        return wireGroupInfo(info, ctx.app.sdkAppId, filter, members);
      } catch (error) {
        if (!(error instanceof ImError)) throw error;
        return { GroupId: groupId, ErrorCode: error.code, ErrorInfo: error.message };
      }
    });
    return { GroupInfo };
  },
});

export const modifyGroupBaseInfo = command({
  body: withEarlierNames(
    { ShutUpAllMember: "MuteAllMember" },
    z.object({
      GroupId,
      From_Account: optional(UserId),
      Name: optional(GroupName),
      // An empty text clears it: these are values a group may have empty, not unused options.
      Introduction: GroupIntroduction.optional(),
      Notification: GroupNotification.optional(),
      FaceUrl: GroupFaceUrl.optional(),
      MaxMemberNum: optional(z.number().int().min(0)),
      ApplyJoinOption: optional(ApplyJoinOption),
      InviteJoinOption: optional(InviteJoinOption),
      MuteAllMember: optional(OnOff),
      HistoryMsgBeforeJoin: optional(OnOff),
      AppDefinedData: optional(DefinedDataWire),
    }),
  ),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(
      await group(ctx, body.GroupId).modifyProfile(signedAdmin(ctx, body.From_Account), {
        ...(body.Name !== undefined ? { name: body.Name } : {}),
        ...(body.Introduction !== undefined ? { introduction: body.Introduction } : {}),
        ...(body.Notification !== undefined ? { notification: body.Notification } : {}),
        ...(body.FaceUrl !== undefined ? { faceUrl: body.FaceUrl } : {}),
        ...(body.MaxMemberNum !== undefined ? { maxMemberNum: body.MaxMemberNum } : {}),
        ...(body.ApplyJoinOption !== undefined ? { applyJoinOption: body.ApplyJoinOption } : {}),
        ...(body.InviteJoinOption !== undefined ? { inviteJoinOption: body.InviteJoinOption } : {}),
        ...(body.MuteAllMember !== undefined ? { muteAllMember: body.MuteAllMember === "On" } : {}),
        ...(body.HistoryMsgBeforeJoin !== undefined ? { historyMsgBeforeJoin: body.HistoryMsgBeforeJoin === "On" } : {}),
        ...(body.AppDefinedData !== undefined ? { appDefinedData: definedData(body.AppDefinedData) } : {}),
      }),
    );
    return {};
  },
});

export const destroyGroup = command({
  body: z.object({ GroupId }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).destroy(signedAdmin(ctx)));
    return {};
  },
});

export const changeGroupOwner = command({
  body: z.object({ GroupId, NewOwner_Account: UserId, From_Account: optional(UserId) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).changeOwner(signedAdmin(ctx, body.From_Account), body.NewOwner_Account));
    return {};
  },
});

export const getAppidGroupList = command({
  body: z.object({
    Limit: optional(z.number().int().min(1).max(groupBatchLimits.appGroupListPage)),
    Next: optional(z.number().int().min(0)),
    GroupType: optional(GroupType),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const limit = body.Limit ?? groupBatchLimits.appGroupListPage;
    const page = await new GroupDirectory(ctx.env.DB, ctx.app.sdkAppId).page(body.Next ?? 0, limit, body.GroupType);
    return {
      TotalCount: page.total,
      GroupIdList: page.groups.map((g) => ({ GroupId: g.groupId })),
      // 0 says there is no more; a full page points past its last group.
      Next: page.groups.length === limit ? page.groups.at(-1)!.next : 0,
    };
  },
});

/** Base fields the directory holds; any other asks each listed group's actor. */
const directoryFields = new Set(["Type", "Name", "Owner_Account", "MemberNum", "CreateTime", "NextMsgSeq", "LastMsgTime"]);

export const getJoinedGroupList = command({
  body: z.object({
    Member_Account: UserId,
    WithHugeGroups: Flag,
    WithNoActiveGroups: Flag,
    Limit: optional(z.number().int().min(0)),
    Offset: optional(z.number().int().min(0)),
    GroupType: optional(GroupType),
    ResponseFilter: optional(z.object({ GroupBaseInfoFilter: NameFilter, SelfInfoFilter: NameFilter })),
  }),
  paramErrorCode,
  /**
   * The list is one D1 query, whatever the number of groups. Fields the directory does not hold
   * (Introduction, FaceUrl, …) and SelfInfo cost one call to each listed group's actor (two when
   * both are asked for), so a caller asking for them pages with Limit.
   */
  async handle(ctx, body) {
    const all = await new GroupDirectory(ctx.env.DB, ctx.app.sdkAppId).joined(body.Member_Account);
    const listed = all.filter((g) => (body.GroupType ? g.type === body.GroupType : body.WithHugeGroups === 1 || g.type !== "AVChatRoom"));
    const offset = body.Offset ?? 0;
    const page = listed.slice(offset, body.Limit ? offset + body.Limit : undefined);
    const baseFields = asSet(body.ResponseFilter?.GroupBaseInfoFilter);
    const selfFields = asSet(body.ResponseFilter?.SelfInfoFilter);
    const needsActor = [...(baseFields ?? [])].some((f) => !directoryFields.has(f));
    const GroupIdList = await inParallel(page, 16, async (row) => {
      const item: Record<string, unknown> = { GroupId: row.groupId };
      if (baseFields) {
        const fromDirectory: Record<string, unknown> = {
          Type: row.type,
          Name: row.name,
          Owner_Account: row.owner ?? "",
          MemberNum: row.memberCount,
          CreateTime: row.createdAt,
          NextMsgSeq: row.lastSeq + 1,
          LastMsgTime: row.lastMsgTime,
        };
        const info = needsActor ? await group(ctx, row.groupId).info(admin()) : undefined;
        const base = info?.ok ? wireGroupBase(info.value, ctx.app.sdkAppId) : fromDirectory;
        for (const field of baseFields) if (Object.hasOwn(base, field)) item[field] = base[field];
      }
      if (selfFields) {
        const self = await group(ctx, row.groupId).membersOf(admin(), [body.Member_Account]);
        const member = self.ok ? self.value[0] : undefined;
        if (member) item.SelfInfo = wireSelfInfo(member, row.lastSeq, selfFields);
      }
      return item;
    });
    return { TotalCount: listed.length, GroupIdList };
  },
});

// ---------------------------------------------------------------------------------------------
// Members

const MemberFilters = {
  MemberInfoFilter: NameFilter,
  AppDefinedDataFilter_GroupMember: NameFilter,
};

function memberFilter(body: { MemberInfoFilter?: string[] | undefined; AppDefinedDataFilter_GroupMember?: string[] | undefined }) {
  return { fields: asSet(body.MemberInfoFilter), data: asSet(body.AppDefinedDataFilter_GroupMember) };
}

export const getGroupMemberInfo = command({
  body: z.object({
    GroupId,
    Limit: optional(z.number().int().min(0)),
    Offset: optional(z.number().int().min(0)),
    // Community groups page by Next ("" first) instead of Offset; here it carries the offset.
    Next: optional(z.string().regex(/^\d+$/, "must be the Next of the previous page")),
    MemberRoleFilter: optional(z.array(GroupRole)),
    ...MemberFilters,
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const stub = group(ctx, body.GroupId);
    const offset = body.Next !== undefined ? Number(body.Next) : (body.Offset ?? 0);
    const limit = body.Limit || groupBatchLimits.memberPage;
    const page = unwrap(await stub.memberPage(admin(), { offset, limit, ...(body.MemberRoleFilter ? { roles: body.MemberRoleFilter } : {}) }));
    const filter = memberFilter(body);
    const out: Record<string, unknown> = { MemberNum: page.memberNum, MemberList: page.members.map((m) => wireMember(m, filter)) };
    if (body.Next !== undefined || body.GroupId.startsWith(communityGroupIdPrefix)) out.Next = page.members.length === limit ? String(offset + limit) : "";
    return out;
  },
});

export const getSpecifiedGroupMemberInfo = command({
  body: z.object({ GroupId, Member_List_Account: z.array(UserId).min(1, "must name at least one member"), ...MemberFilters }),
  paramErrorCode,
  async handle(ctx, body) {
    const members = unwrap(await group(ctx, body.GroupId).membersOf(admin(), body.Member_List_Account));
    const filter = memberFilter(body);
    return { GroupId: body.GroupId, MemberList: members.map((m) => wireMember(m, filter)) };
  },
});

export const addGroupMember = command({
  body: z.object({ GroupId, Silence: Flag, MemberList: z.array(z.object({ Member_Account: UserId })).min(1, "must name at least one member") }),
  paramErrorCode,
  async handle(ctx, body) {
    const results = unwrap(await group(ctx, body.GroupId).addMembers(signedAdmin(ctx), body.MemberList.map((m) => m.Member_Account), { silence: body.Silence === 1 }));
    return { MemberList: results.map((r) => ({ Member_Account: r.userId, Result: r.result })) };
  },
});

export const deleteGroupMember = command({
  body: z.object({ GroupId, Silence: Flag, Reason: optional(z.string()), MemberToDel_Account: z.array(UserId).min(1, "must name at least one member") }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(
      await group(ctx, body.GroupId).removeMembers(signedAdmin(ctx), body.MemberToDel_Account, {
        silence: body.Silence === 1,
        ...(body.Reason !== undefined ? { reason: body.Reason } : {}),
      }),
    );
    return {};
  },
});

export const modifyGroupMemberInfo = command({
  body: withEarlierNames(
    { ShutUpTime: "MuteTime" },
    z.object({
      GroupId,
      Member_Account: UserId,
      Role: optional(AssignableRole),
      MsgFlag: optional(MsgFlag),
      // An empty name card clears it.
      NameCard: NameCard.optional(),
      AppMemberDefinedData: optional(DefinedDataWire),
      MuteTime: optional(MuteSeconds),
    }),
  ),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(
      await group(ctx, body.GroupId).modifyMember(signedAdmin(ctx), body.Member_Account, {
        ...(body.Role !== undefined ? { role: body.Role } : {}),
        ...(body.MsgFlag !== undefined ? { msgFlag: body.MsgFlag } : {}),
        ...(body.NameCard !== undefined ? { nameCard: body.NameCard } : {}),
        ...(body.AppMemberDefinedData !== undefined ? { appMemberDefinedData: definedData(body.AppMemberDefinedData) } : {}),
        ...(body.MuteTime !== undefined ? { muteTime: body.MuteTime } : {}),
      }),
    );
    return {};
  },
});

export const getRoleInGroup = command({
  body: z.object({ GroupId, User_Account: z.array(UserId).min(1, "must name at least one account") }),
  paramErrorCode,
  async handle(ctx, body) {
    const roles = unwrap(await group(ctx, body.GroupId).roles(body.User_Account));
    return { UserIdList: roles.map((r) => ({ Member_Account: r.userId, Role: r.role })) };
  },
});

export const forbidSendMsg = command({
  body: withEarlierNames({ ShutUpTime: "MuteTime" }, z.object({ GroupId, Members_Account: z.array(UserId).min(1, "must name at least one member"), MuteTime: MuteSeconds })),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).mute(admin(), body.Members_Account, body.MuteTime));
    return {};
  },
});

async function mutedMembers(ctx: CommandContext, groupId: string) {
  return unwrap(await group(ctx, groupId).mutedMembers(admin()));
}

export const getGroupMutedAccount = command({
  body: z.object({ GroupId }),
  paramErrorCode,
  async handle(ctx, body) {
    const muted = await mutedMembers(ctx, body.GroupId);
    return { GroupId: body.GroupId, MutedAccountList: muted.map((m) => ({ Member_Account: m.userId, MutedUntil: m.mutedUntil })) };
  },
});

/**
 * The command's name before Tencent renamed "ShutUp" to "Mute" (2022): the same list, answered
 * under the names clients of that time read (ShuttedUinList, ShuttedUntil).
 */
export const getGroupShuttedUin = command({
  body: z.object({ GroupId }),
  paramErrorCode,
  async handle(ctx, body) {
    const muted = await mutedMembers(ctx, body.GroupId);
    return { GroupId: body.GroupId, ShuttedUinList: muted.map((m) => ({ Member_Account: m.userId, ShuttedUntil: m.mutedUntil })) };
  },
});

export const importGroupMember = command({
  body: z.object({
    GroupId,
    MemberList: z
      .array(
        z.object({
          Member_Account: UserId,
          Role: optional(AssignableRole),
          JoinTime: optional(z.number().int().min(0)),
          UnreadMsgNum: optional(z.number().int().min(0)),
        }),
      )
      .min(1, "must name at least one member"),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const now = Date.now() / 1000;
    if (body.MemberList.some((m) => m.JoinTime !== undefined && m.JoinTime > now)) throw new ImError(paramErrorCode, "MemberList: JoinTime must not be in the future");
    const results = unwrap(
      await group(ctx, body.GroupId).importMembers(
        admin(),
        body.MemberList.map((m) => ({
          userId: m.Member_Account,
          ...(m.Role !== undefined ? { role: m.Role } : {}),
          ...(m.JoinTime !== undefined ? { joinTime: m.JoinTime } : {}),
          ...(m.UnreadMsgNum !== undefined ? { unreadMsgNum: m.UnreadMsgNum } : {}),
        })),
      ),
    );
    return { MemberList: results.map((r) => ({ Member_Account: r.userId, Result: r.result })) };
  },
});

export const setUnreadMsgNum = command({
  body: z.object({ GroupId, Member_Account: UserId, UnreadMsgNum: z.number().int().min(0) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).setUnread(admin(), body.Member_Account, body.UnreadMsgNum));
    return {};
  },
});

// ---------------------------------------------------------------------------------------------
// Messages

export const sendGroupMsg = command({
  body: z.object({
    GroupId,
    Random: MsgRandom,
    MsgBody,
    From_Account: optional(UserId),
    MsgPriority: optional(MsgPriority),
    OnlineOnlyFlag: Flag,
    SendMsgControl: optional(z.array(z.string())),
    ForbidCallbackControl: optional(z.array(z.string())),
    CloudCustomData: optional(z.string()),
    To_Account: optional(z.array(UserId)),
    NeedReadReceipt: Flag,
    GroupAtInfo: optional(z.array(z.object({ GroupAtAllFlag: Flag, GroupAt_Account: optional(UserId) }))),
    TopicId,
  }),
  paramErrorCode,
  async handle(ctx, body) {
    if (body.From_Account !== undefined && !isAppAdmin(ctx.app, body.From_Account)) {
      const found = await existingAccounts(ctx.env.DB, ctx.app.sdkAppId, [body.From_Account]);
      if (!found.has(body.From_Account)) throw new ImError(GroupErrorCode.accountNotFound, `From_Account: account "${body.From_Account}" does not exist`);
    }
    const mentions = body.GroupAtInfo ?? [];
    const atUsers = mentions.flatMap((m) => (m.GroupAt_Account !== undefined && m.GroupAtAllFlag !== 1 ? [m.GroupAt_Account] : []));
    const draft: GroupMessageDraft = {
      ...inTopic(body.TopicId),
      random: body.Random,
      body: body.MsgBody,
      ...(body.CloudCustomData !== undefined ? { cloudCustomData: body.CloudCustomData } : {}),
      ...(body.MsgPriority !== undefined ? { priority: body.MsgPriority } : {}),
      ...(body.OnlineOnlyFlag === 1 ? { onlineOnly: true } : {}),
      ...(body.To_Account?.length ? { to: body.To_Account } : {}),
      ...(atUsers.length > 0 ? { atUsers } : {}),
      ...(mentions.some((m) => m.GroupAtAllFlag === 1) ? { atAll: true } : {}),
      ...(body.NeedReadReceipt === 1 ? { needReadReceipt: true } : {}),
      ...(body.SendMsgControl?.includes("NoUnread") ? { noUnread: true } : {}),
      ...(body.ForbidCallbackControl?.includes("ForbidBeforeSendMsgCallback") ? { forbidBeforeCallback: true } : {}),
      ...(body.ForbidCallbackControl?.includes("ForbidAfterSendMsgCallback") ? { forbidAfterCallback: true } : {}),
    };
    // A message sent as a user goes through its actor, which holds its global mute and counts it as a sender.
    const sent = unwrap(
      body.From_Account !== undefined
        ? await userActor(ctx.env, { sdkAppId: ctx.app.sdkAppId, userId: body.From_Account }).sendGroupMessage(body.GroupId, signedAdmin(ctx, body.From_Account), draft)
        : await group(ctx, body.GroupId).sendMessage(signedAdmin(ctx), draft),
    );
    return { MsgTime: sent.time, MsgSeq: sent.seq, MsgDropReason: sent.dropReason };
  },
});

export const sendGroupSystemNotification = command({
  body: z.object({ GroupId, Content: z.string().min(1, "must not be empty"), ToMembers_Account: optional(z.array(UserId)) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).systemNotice(admin(), body.Content, body.ToMembers_Account));
    return {};
  },
});

export const groupMsgRecall = command({
  body: z.object({
    GroupId,
    MsgSeqList: SeqItems.max(groupBatchLimits.recallMessages, `at most ${groupBatchLimits.recallMessages} messages per request`),
    Reason: optional(z.string()),
    TopicId,
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const stub = group(ctx, body.GroupId);
    const seqs = body.MsgSeqList.map((m) => m.MsgSeq);
    const keys = new Map(unwrap(await stub.messageKeys(seqs, body.TopicId)).map((k) => [k.seq, msgKey(k.seq, k.random, k.time)]));
    const results = unwrap(await stub.recall(signedAdmin(ctx), seqs, body.TopicId));
    return { RecallRetList: results.map((r) => ({ MsgSeq: r.seq, RetCode: r.code, MsgKey: keys.get(r.seq) ?? "" })) };
  },
});

export const importGroupMsg = command({
  body: z.object({
    GroupId,
    RecentContactFlag: Flag,
    MsgList: z
      .array(z.object({ From_Account: UserId, SendTime: z.number().int().min(0), Random: optional(MsgRandom), MsgBody, CloudCustomData: optional(z.string()) }))
      .min(1, "must hold at least one message")
      .max(maxImportedMessages, `at most ${maxImportedMessages} messages per request`),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const results = unwrap(
      await group(ctx, body.GroupId).importMessages(
        admin(),
        body.MsgList.map((m) => ({
          from: m.From_Account,
          sendTime: m.SendTime,
          random: m.Random ?? crypto.getRandomValues(new Uint32Array(1))[0]!,
          body: m.MsgBody,
          ...(m.CloudCustomData !== undefined ? { cloudCustomData: m.CloudCustomData } : {}),
        })),
      ),
    );
    return { ImportMsgResult: results.map((r) => ({ MsgSeq: r.seq, MsgTime: r.time, Result: r.result })) };
  },
});

export const deleteGroupMsgBySender = command({
  body: z.object({ GroupId, Sender_Account: UserId }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).deleteMessagesBySender(admin(), body.Sender_Account));
    return {};
  },
});

export const groupMsgGetSimple = command({
  body: z.object({
    GroupId,
    ReqMsgNumber: z.number().int().min(1).max(groupBatchLimits.historyPage, `at most ${groupBatchLimits.historyPage} messages per request`),
    ReqMsgSeq: optional(MsgSeq),
    WithRecalledMsg: Flag,
    TopicId,
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const page = unwrap(
      await group(ctx, body.GroupId).history(admin(), {
        ...inTopic(body.TopicId),
        count: body.ReqMsgNumber,
        withRecalled: body.WithRecalledMsg === 1,
        ...(body.ReqMsgSeq !== undefined ? { upTo: body.ReqMsgSeq } : {}),
      }),
    );
    return { GroupId: body.GroupId, IsFinished: page.complete ? 1 : 0, RspMsgList: page.messages.map(wireGroupMessage) };
  },
});

export const clearGroupMsg = command({
  body: z.object({ GroupId, MsgSeq: optional(MsgSeq) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).clearMessages(admin(), body.MsgSeq));
    return {};
  },
});

export const getGroupMsgReceipt = command({
  body: z.object({ GroupId, MsgSeqList: SeqItems }),
  paramErrorCode,
  async handle(ctx, body) {
    const counts = unwrap(await group(ctx, body.GroupId).receiptCounts(admin(), body.MsgSeqList.map((m) => m.MsgSeq)));
    return { GroupMsgReceiptList: counts.map((c) => ({ MsgSeq: c.seq, ReadNum: c.readNum, UnreadNum: c.unreadNum, Code: c.code })) };
  },
});

export const getGroupMsgReceiptDetail = command({
  body: z.object({
    GroupId,
    MsgSeq,
    Filter: Flag,
    Cursor: optional(z.string()),
    Count: optional(z.number().int().min(1)),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const read = body.Filter !== 1;
    const page = unwrap(await group(ctx, body.GroupId).receiptDetail(admin(), body.MsgSeq, { read, cursor: body.Cursor ?? "", count: body.Count ?? 100 }));
    return {
      IsFinished: page.finished ? 1 : 0,
      MsgSeq: body.MsgSeq,
      ReadList: read ? page.userIds.map((u) => ({ Read_Account: u })) : [],
      UnreadList: read ? [] : page.userIds.map((u) => ({ Unread_Account: u })),
      Cursor: page.cursor,
    };
  },
});

export const groupMsgReceipt = command({
  body: z.object({ GroupId, From_Account: UserId, MsgSeqList: SeqItems }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await group(ctx, body.GroupId).acknowledgeReceipts(admin(body.From_Account), body.From_Account, body.MsgSeqList.map((m) => m.MsgSeq)));
    return {};
  },
});


export const groupOpenHttpSvc = {
  create_group: createGroupCommand,
  get_group_info: getGroupInfo,
  modify_group_base_info: modifyGroupBaseInfo,
  destroy_group: destroyGroup,
  change_group_owner: changeGroupOwner,
  get_appid_group_list: getAppidGroupList,
  get_joined_group_list: getJoinedGroupList,
  import_group: importGroup,
  get_group_member_info: getGroupMemberInfo,
  get_specified_group_member_info: getSpecifiedGroupMemberInfo,
  add_group_member: addGroupMember,
  delete_group_member: deleteGroupMember,
  modify_group_member_info: modifyGroupMemberInfo,
  get_role_in_group: getRoleInGroup,
  forbid_send_msg: forbidSendMsg,
  get_group_muted_account: getGroupMutedAccount,
  get_group_shutted_uin: getGroupShuttedUin,
  import_group_member: importGroupMember,
  set_unread_msg_num: setUnreadMsgNum,
  send_group_msg: sendGroupMsg,
  send_group_system_notification: sendGroupSystemNotification,
  group_msg_recall: groupMsgRecall,
  import_group_msg: importGroupMsg,
  delete_group_msg_by_sender: deleteGroupMsgBySender,
  group_msg_get_simple: groupMsgGetSimple,
  clear_group_msg: clearGroupMsg,
  get_group_msg_receipt: getGroupMsgReceipt,
  get_group_msg_receipt_detail: getGroupMsgReceiptDetail,
  group_msg_receipt: groupMsgReceipt,
};
