/** sns: friends, friend lists and blocklists. */
import { z } from "zod";
import { UserId } from "../domain/account.ts";
import { ImError } from "../domain/errors.ts";
import { SnsErrorCode } from "../domain/relations.ts";
import { optional } from "../domain/wire.ts";
import { getProfiles } from "../store/profiles.ts";
import type { FriendRow } from "../store/relations.ts";
import { block, blockedPage, checkBlocked, unblock } from "../sns/blocklist.ts";
import {
  addFriends,
  checkFriends,
  createLists,
  deleteAllFriends,
  deleteFriends,
  deleteLists,
  friendPage,
  importFriends,
  readLists,
  updateFriends,
  type ItemResult,
} from "../sns/friends.ts";
import { command } from "./command.ts";
import { snsContext } from "./profile.ts";

const paramErrorCode = SnsErrorCode.invalidParameter;
const common = { paramErrorCode, errorDisplay: true } as const;
const Ids = (max: number) => z.array(UserId).min(1).max(max);
const AddSource = z.string().regex(/^AddSource_Type_[A-Za-z0-9_]{1,8}$/, "must be AddSource_Type_ and at most 8 letters");
const ListName = z.string().min(1).max(30);
const TagValue = z.union([z.string(), z.number()]);

function resultItems(results: ItemResult[]) {
  return {
    ResultItem: results.map((r) => ({ To_Account: r.userId, ResultCode: r.code, ResultInfo: r.info })),
    Fail_Account: results.filter((r) => r.code !== 0).map((r) => r.userId),
  };
}

/** friend_check's and black_list_check's per-account answer. */
function relationItems(results: { userId: string; relation: string }[]) {
  return results.map((r) => ({ To_Account: r.userId, Relation: r.relation, ResultCode: 0, ResultInfo: "" }));
}

/** A friend row as Tencent's standard and custom friend tags. */
function snsTags(row: FriendRow): { Tag: string; Value: unknown }[] {
  return [
    { Tag: "Tag_SNS_IM_Group", Value: row.lists },
    { Tag: "Tag_SNS_IM_Remark", Value: row.remark },
    { Tag: "Tag_SNS_IM_AddSource", Value: row.addSource },
    { Tag: "Tag_SNS_IM_AddWording", Value: row.addWording },
    { Tag: "Tag_SNS_IM_AddTime", Value: row.addTime },
    ...Object.entries(row.custom).map(([Tag, Value]) => ({ Tag, Value })),
  ];
}

export const friendAdd = command({
  body: z.object({
    From_Account: UserId,
    AddFriendItem: z
      .array(z.object({ To_Account: UserId, Remark: optional(z.string().max(96)), GroupName: optional(ListName), AddSource: optional(AddSource), AddWording: optional(z.string().max(256)) }))
      .min(1)
      .max(100),
    AddType: optional(z.enum(["Add_Type_Both", "Add_Type_Single"])),
    ForceAddFlags: optional(z.literal([0, 1])),
  }),
  ...common,
  async handle(ctx, body) {
    const drafts = body.AddFriendItem.map((i) => ({ to: i.To_Account, remark: i.Remark, listName: i.GroupName, addSource: i.AddSource, addWording: i.AddWording }));
    return resultItems(await addFriends(snsContext(ctx), body.From_Account, drafts, body.AddType ?? "Add_Type_Both", body.ForceAddFlags === 1));
  },
});

export const friendImport = command({
  body: z.object({
    From_Account: UserId,
    AddFriendItem: z
      .array(
        z.object({
          To_Account: UserId,
          Remark: optional(z.string().max(96)),
          GroupName: optional(z.array(ListName).max(32)),
          AddSource: optional(AddSource),
          AddWording: optional(z.string().max(256)),
          AddTime: optional(z.number().int().min(0)),
          CustomItem: optional(z.array(z.object({ Tag: z.string().regex(/^Tag_SNS_Custom_[A-Za-z]{1,8}$/), Value: TagValue })).max(20)),
        }),
      )
      .min(1)
      .max(100),
  }),
  ...common,
  async handle(ctx, body) {
    const declared = ctx.app.settings.friendCustomTags;
    const undeclared = body.AddFriendItem.flatMap((i) => i.CustomItem ?? []).find((c) => !declared.includes(c.Tag));
    if (undeclared) throw new ImError(paramErrorCode, `${undeclared.Tag} is not a custom friend tag of this app`);
    const items = body.AddFriendItem.map((i) => ({
      to: i.To_Account,
      remark: i.Remark,
      lists: i.GroupName,
      addSource: i.AddSource,
      addWording: i.AddWording,
      addTime: i.AddTime,
      custom: Object.fromEntries((i.CustomItem ?? []).map((c) => [c.Tag, c.Value])),
    }));
    return resultItems(await importFriends(snsContext(ctx), body.From_Account, items));
  },
});

export const friendUpdate = command({
  body: z.object({
    From_Account: UserId,
    UpdateItem: z.array(z.object({ To_Account: UserId, SnsItem: z.array(z.object({ Tag: z.string(), Value: z.unknown() })).min(1).max(20) })).min(1).max(100),
  }),
  ...common,
  async handle(ctx, body) {
    const declared = ctx.app.settings.friendCustomTags;
    const updates = [];
    const invalid: ItemResult[] = [];
    for (const item of body.UpdateItem) {
      const update: { to: string; remark?: string; lists?: string[]; custom: Record<string, string | number> } = { to: item.To_Account, custom: {} };
      const problem = item.SnsItem.map((s) => {
        if (s.Tag === "Tag_SNS_IM_Remark") return typeof s.Value === "string" && s.Value.length <= 96 ? void (update.remark = s.Value) : "Tag_SNS_IM_Remark must be a string of at most 96 characters";
        if (s.Tag === "Tag_SNS_IM_Group") {
          const lists = z.array(ListName).max(32).safeParse(s.Value);
          return lists.success ? void (update.lists = lists.data) : "Tag_SNS_IM_Group must be an array of list names";
        }
        if (declared.includes(s.Tag)) return typeof s.Value === "string" || Number.isInteger(s.Value) ? void (update.custom[s.Tag] = s.Value as string | number) : `${s.Tag} must be a string or an integer`;
        return `${s.Tag} cannot be updated`;
      }).find((p) => p !== undefined);
      if (problem) invalid.push({ userId: item.To_Account, code: paramErrorCode, info: problem });
      else updates.push(update);
    }
    const results = await updateFriends(snsContext(ctx), body.From_Account, updates);
    const byId = new Map([...results, ...invalid].map((r) => [r.userId, r]));
    return resultItems(body.UpdateItem.map((i) => byId.get(i.To_Account)!));
  },
});

const DeleteType = optional(z.enum(["Delete_Type_Both", "Delete_Type_Single"]));

export const friendDelete = command({
  body: z.object({ From_Account: UserId, To_Account: Ids(1000), DeleteType }),
  ...common,
  async handle(ctx, body) {
    return resultItems(await deleteFriends(snsContext(ctx), body.From_Account, [...new Set(body.To_Account)], body.DeleteType ?? "Delete_Type_Both"));
  },
});

export const friendDeleteAll = command({
  body: z.object({ From_Account: UserId, DeleteType }),
  ...common,
  async handle(ctx, body) {
    await deleteAllFriends(snsContext(ctx), body.From_Account, body.DeleteType ?? "Delete_Type_Single");
    return {};
  },
});

export const friendCheck = command({
  body: z.object({ From_Account: UserId, To_Account: Ids(1000), CheckType: z.enum(["CheckResult_Type_Both", "CheckResult_Type_Single"]) }),
  ...common,
  async handle(ctx, body) {
    const results = await checkFriends(snsContext(ctx), body.From_Account, body.To_Account, body.CheckType === "CheckResult_Type_Single");
    return { InfoItem: relationItems(results), Fail_Account: [] };
  },
});

export const friendGet = command({
  body: z.object({ From_Account: UserId, StartIndex: optional(z.number().int().min(0)), StandardSequence: optional(z.number().int()), CustomSequence: optional(z.number().int()) }),
  ...common,
  async handle(ctx, body) {
    const page = await friendPage(snsContext(ctx), body.From_Account, body.StartIndex ?? 0);
    return {
      UserDataItem: page.friends.map((f) => ({ To_Account: f.friend, ValueItem: snsTags(f) })),
      StandardSequence: 0,
      CustomSequence: 0,
      FriendNum: page.total,
      NextStartIndex: page.next,
      CompleteFlag: page.complete ? 1 : 0,
    };
  },
});

export const friendGetList = command({
  body: z.object({ From_Account: UserId, To_Account: Ids(100), TagList: z.array(z.string()).min(1).max(50) }),
  ...common,
  async handle(ctx, body) {
    const rows = await snsContext(ctx).relations.friendsByIds(body.From_Account, body.To_Account);
    const profileTags = body.TagList.filter((t) => t.startsWith("Tag_Profile_"));
    const profiles = profileTags.length > 0 ? await getProfiles(ctx.env.DB, ctx.app.sdkAppId, [...rows.keys()], profileTags) : new Map();
    const items = body.To_Account.map((to) => {
      const row = rows.get(to);
      if (!row) return { To_Account: to, SnsProfileItem: [], ResultCode: paramErrorCode, ResultInfo: "not in the friend list" };
      const friendTags = snsTags(row).filter((t) => body.TagList.includes(t.Tag));
      const profile = profileTags.flatMap((tag) => (profiles.get(to)?.has(tag) ? [{ Tag: tag, Value: profiles.get(to)!.get(tag) }] : []));
      return { To_Account: to, SnsProfileItem: [...friendTags, ...profile], ResultCode: 0, ResultInfo: "" };
    });
    return { InfoItem: items, Fail_Account: items.filter((i) => i.ResultCode !== 0).map((i) => i.To_Account) };
  },
});

export const blackListAdd = command({
  body: z.object({ From_Account: UserId, To_Account: Ids(1000) }),
  ...common,
  async handle(ctx, body) {
    return resultItems(await block(snsContext(ctx), body.From_Account, body.To_Account));
  },
});

export const blackListDelete = command({
  body: z.object({ From_Account: UserId, To_Account: Ids(1000) }),
  ...common,
  async handle(ctx, body) {
    return resultItems(await unblock(snsContext(ctx), body.From_Account, body.To_Account));
  },
});

export const blackListGet = command({
  body: z.object({ From_Account: UserId, StartIndex: z.number().int().min(0), MaxLimited: z.number().int().min(1).max(1000), LastSequence: optional(z.number().int()) }),
  ...common,
  async handle(ctx, body) {
    const page = await blockedPage(snsContext(ctx), body.From_Account, body.StartIndex, body.MaxLimited);
    return {
      BlackListItem: page.blocked.map((b) => ({ To_Account: b.blocked, AddBlackTimeStamp: b.createdAt })),
      StartIndex: page.complete ? 0 : page.next,
      CurruentSequence: page.total,
    };
  },
});

export const blackListCheck = command({
  body: z.object({ From_Account: UserId, To_Account: Ids(1000), CheckType: z.enum(["BlackCheckResult_Type_Both", "BlackCheckResult_Type_Single"]) }),
  ...common,
  async handle(ctx, body) {
    const results = await checkBlocked(snsContext(ctx), body.From_Account, body.To_Account, body.CheckType === "BlackCheckResult_Type_Single");
    return { BlackListCheckItem: relationItems(results), Fail_Account: [] };
  },
});

export const groupAdd = command({
  body: z.object({ From_Account: UserId, GroupName: z.array(ListName).min(1).max(32), To_Account: optional(z.array(UserId).max(1000)) }),
  ...common,
  async handle(ctx, body) {
    const results = await createLists(snsContext(ctx), body.From_Account, body.GroupName, body.To_Account ?? []);
    return { CurrentSequence: 0, ...resultItems(results) };
  },
});

export const groupDelete = command({
  body: z.object({ From_Account: UserId, GroupName: z.array(ListName).min(1).max(32) }),
  ...common,
  async handle(ctx, body) {
    await deleteLists(snsContext(ctx), body.From_Account, body.GroupName);
    return { CurrentSequence: 0 };
  },
});

export const groupGet = command({
  body: z.object({ From_Account: UserId, NeedFriend: optional(z.string()), LastSequence: optional(z.number().int()), GroupName: optional(z.array(ListName).max(32)) }),
  ...common,
  async handle(ctx, body) {
    const lists = await readLists(snsContext(ctx), body.From_Account, body.GroupName);
    const withMembers = body.NeedFriend === "Need_Friend_Type_Yes";
    return {
      ResultItem: lists.map((l) => ({ GroupName: l.name, FriendNumber: l.members.length, ...(withMembers ? { To_Account: l.members } : {}) })),
      CurrentSequence: 0,
    };
  },
});

export const sns = {
  friend_add: friendAdd,
  friend_import: friendImport,
  friend_update: friendUpdate,
  friend_delete: friendDelete,
  friend_delete_all: friendDeleteAll,
  friend_check: friendCheck,
  friend_get: friendGet,
  friend_get_list: friendGetList,
  black_list_add: blackListAdd,
  black_list_delete: blackListDelete,
  black_list_get: blackListGet,
  black_list_check: blackListCheck,
  group_add: groupAdd,
  group_delete: groupDelete,
  group_get: groupGet,
};
