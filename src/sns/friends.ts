/** Friend actions (add, verify, import, update, delete, check, read) and friend lists. */
import { ImError } from "../domain/errors.ts";
import { AllowType, defaultAllowType, type ProfileValue } from "../domain/profile.ts";
import { decideFriendAdd, friendRelation, maxFriendLists, maxFriends, SnsErrorCode, type AddType, type FriendRelation } from "../domain/relations.ts";
import {
  friendAddFields,
  pairListFields,
  prevFriendAddFields,
  prevFriendResponseFields,
  SnsCallback,
  type FriendResponseItem,
  type ItemRefusal,
  type Pair,
} from "../domain/snsCallbacks.ts";
import { getProfiles } from "../store/profiles.ts";
import type { FriendRequestRow, FriendRow } from "../store/relations.ts";
import type { SnsContext } from "./context.ts";

export interface ItemResult {
  userId: string;
  code: number;
  info: string;
}

const ok = (userId: string): ItemResult => ({ userId, code: 0, info: "" });
const fail = (userId: string, code: number, info: string): ItemResult => ({ userId, code, info });

export interface FriendDraft {
  to: string;
  remark?: string;
  listName?: string;
  addSource?: string;
  addWording?: string;
}

async function allowTypes(ctx: SnsContext, ids: string[]): Promise<Map<string, AllowType>> {
  const profiles = await getProfiles(ctx.env.DB, ctx.sdkAppId, ids, ["Tag_Profile_IM_AllowType"]);
  return new Map(ids.map((id) => [id, (profiles.get(id)?.get("Tag_Profile_IM_AllowType") as AllowType | undefined) ?? defaultAllowType]));
}

/**
 * Adds friends with the verification each target chose. A target that had
 * asked `from` first becomes a friend at once (the add answers that request).
 */
export async function addFriends(ctx: SnsContext, from: string, drafts: FriendDraft[], addType: AddType, force: boolean): Promise<ItemResult[]> {
  const tos = drafts.map((d) => d.to);
  const [known, mine, iBlocked, blockedMe, counts, allow, lists] = await Promise.all([
    ctx.accounts([from, ...tos]),
    ctx.relations.friendsAmong(from, tos),
    ctx.relations.blockedAmong(from, tos),
    ctx.relations.blockersAmong(from, tos),
    ctx.relations.friendCounts([from, ...tos]),
    allowTypes(ctx, tos),
    ctx.relations.listNames(from),
  ]);
  if (!known.has(from)) throw new ImError(SnsErrorCode.accountNotFound, `From_Account "${from}" does not exist`);
  // Targets that asked `from` first: adding them answers their request.
  const [theirRequests, refusedByBackend] = await Promise.all([ctx.relations.requestsTo(from, tos), askBeforeAdding(ctx, from, drafts, known, addType, force)]);

  const statements: D1PreparedStatement[] = [];
  const results: ItemResult[] = [];
  const seen = new Set<string>();
  let myCount = counts.get(from) ?? 0;
  const newLists = new Set<string>();
  const added: Pair[] = [];
  for (const draft of drafts) {
    const to = draft.to;
    if (seen.has(to)) {
      results.push(fail(to, SnsErrorCode.invalidParameter, "named twice in this call"));
      continue;
    }
    seen.add(to);
    if (to === from) {
      results.push(fail(to, SnsErrorCode.invalidParameter, "cannot add oneself"));
      continue;
    }
    if (!known.has(to)) {
      results.push(fail(to, SnsErrorCode.accountNotFound, "account does not exist"));
      continue;
    }
    const refusal = refusedByBackend.get(to);
    if (refusal) {
      results.push(fail(to, refusal.code, refusal.info));
      continue;
    }
    const listName = draft.listName || undefined;
    if (listName && !lists.includes(listName) && !newLists.has(listName)) {
      if (lists.length + newLists.size >= maxFriendLists) {
        results.push(fail(to, SnsErrorCode.tooManyFriendLists, `at most ${maxFriendLists} friend lists`));
        continue;
      }
      newLists.add(listName);
      statements.push(ctx.relations.addListStatement(from, listName));
    }
    const theirs = theirRequests.get(to);
    const answersTheirRequest = theirs !== undefined;
    const decision = decideFriendAdd({
      allowType: allow.get(to)!,
      force: force || answersTheirRequest,
      iBlockedThem: iBlocked.has(to),
      theyBlockedMe: blockedMe.has(to),
      alreadyFriends: mine.has(to),
      myFriendCount: myCount,
      theirFriendCount: counts.get(to) ?? 0,
      addType,
    });
    const row = friendRow(draft, listName);
    if (decision.outcome === "refused") {
      results.push(fail(to, decision.code, decision.info));
    } else if (decision.outcome === "pending") {
      statements.push(
        ctx.relations.requestStatement({
          target: to,
          requester: from,
          addType,
          addSource: draft.addSource ?? "",
          addWording: draft.addWording ?? "",
          remark: draft.remark ?? "",
          listName: listName ?? "",
        }),
      );
      results.push(fail(to, SnsErrorCode.pendingApproval, "waiting for the account to accept"));
      ctx.tell(to, "friendApplicationListUpdated");
      ctx.tell(from, "friendApplicationListUpdated");
    } else {
      myCount++;
      statements.push(ctx.relations.addFriendStatement(from, row));
      added.push({ from, to, initiator: from });
      if (addType === "Add_Type_Both" || answersTheirRequest) {
        added.push({ from: to, to: from, initiator: from });
        statements.push(
          ctx.relations.addFriendStatement(to, {
            friend: from,
            remark: theirs?.remark ?? "",
            lists: theirs?.listName ? [theirs.listName] : [],
            addSource: theirs?.addSource ?? draft.addSource ?? "",
            addWording: theirs?.addWording ?? "",
            custom: {},
          }),
        );
        ctx.tell(to, "friendListUpdated");
      }
      statements.push(ctx.relations.deleteRequestStatement(to, from), ctx.relations.deleteRequestStatement(from, to));
      if (answersTheirRequest) ctx.tell(to, "friendApplicationListUpdated");
      ctx.tell(from, "friendListUpdated");
      results.push(ok(to));
    }
  }
  if (added.length > 0) ctx.callbackAfter(SnsCallback.friendAdd, from, friendAddFields(added, { clientCmd: "friend_add", admin: ctx.admin, force }));
  await ctx.commit(statements);
  return results;
}

/**
 * Sns.CallbackPrevFriendAdd: the app's backend may refuse some of the adds that could go ahead
 * (each named once, not oneself, an existing account); the others proceed. Only a client's add
 * asks: Tencent does not ask about adds made through REST.
 */
async function askBeforeAdding(ctx: SnsContext, from: string, drafts: FriendDraft[], known: Set<string>, addType: AddType, force: boolean): Promise<Map<string, ItemRefusal>> {
  if (!ctx.fromClient || !ctx.callbackOn(SnsCallback.prevFriendAdd)) return new Map();
  const askable = new Map<string, FriendDraft>();
  for (const draft of drafts) if (draft.to !== from && known.has(draft.to) && !askable.has(draft.to)) askable.set(draft.to, draft);
  const items = [...askable.values()];
  return ctx.askPerItem(SnsCallback.prevFriendAdd, prevFriendAddFields(ctx.origin.operator, from, items, addType, force), [...askable.keys()]);
}

function friendRow(draft: FriendDraft, listName: string | undefined): Omit<FriendRow, "addTime"> {
  return {
    friend: draft.to,
    remark: draft.remark ?? "",
    lists: listName ? [listName] : [],
    addSource: draft.addSource ?? "",
    addWording: draft.addWording ?? "",
    custom: {},
  };
}

export interface ImportedFriend extends Omit<FriendDraft, "listName"> {
  lists?: string[];
  addTime?: number;
  custom?: Record<string, string | number>;
}

/** friend_import: one-way adds without verification, keeping the given details. */
export async function importFriends(ctx: SnsContext, from: string, items: ImportedFriend[]): Promise<ItemResult[]> {
  const tos = items.map((i) => i.to);
  const [known, counts, lists] = await Promise.all([ctx.accounts([from, ...tos]), ctx.relations.friendCounts([from]), ctx.relations.listNames(from)]);
  if (!known.has(from)) throw new ImError(SnsErrorCode.accountNotFound, `From_Account "${from}" does not exist`);
  const existing = await ctx.relations.friendsAmong(from, tos);
  const statements: D1PreparedStatement[] = [];
  const results: ItemResult[] = [];
  const allLists = new Set(lists);
  let count = counts.get(from) ?? 0;
  const seen = new Set<string>();
  for (const item of items) {
    const problem = seen.has(item.to)
      ? "named twice in this call"
      : item.to === from
        ? "cannot add oneself"
        : existing.has(item.to)
          ? "already in the friend list"
          : undefined;
    seen.add(item.to);
    if (problem) {
      results.push(fail(item.to, SnsErrorCode.invalidParameter, problem));
      continue;
    }
    if (!known.has(item.to)) {
      results.push(fail(item.to, SnsErrorCode.accountNotFound, "account does not exist"));
      continue;
    }
    if (count >= maxFriends) {
      results.push(fail(item.to, SnsErrorCode.friendListFull, `the friend list is full (${maxFriends})`));
      continue;
    }
    const itemLists = [...new Set(item.lists ?? [])];
    const added = itemLists.filter((l) => !allLists.has(l));
    if (allLists.size + added.length > maxFriendLists) {
      results.push(fail(item.to, SnsErrorCode.tooManyFriendLists, `at most ${maxFriendLists} friend lists`));
      continue;
    }
    for (const l of added) {
      allLists.add(l);
      statements.push(ctx.relations.addListStatement(from, l));
    }
    count++;
    statements.push(
      ctx.relations.addFriendStatement(from, {
        friend: item.to,
        remark: item.remark ?? "",
        lists: itemLists,
        addSource: item.addSource ?? "",
        addWording: item.addWording ?? "",
        addTime: item.addTime,
        custom: item.custom ?? {},
      }),
    );
    results.push(ok(item.to));
  }
  if (results.some((r) => r.code === 0)) ctx.tell(from, "friendListUpdated");
  // No Sns.CallbackFriendAdd: Tencent does not send it for imported friends.
  await ctx.commit(statements);
  return results;
}

export type RequestResponse = "agree" | "agreeAndAdd";

/**
 * Sns.CallbackPrevFriendResponse: the app's backend may refuse a client's answer to a request,
 * an accept or a reject alike; the answer then fails with the backend's code and the request
 * stays pending. Tencent does not ask about answers made through REST.
 */
async function askBeforeAnswering(ctx: SnsContext, target: string, item: FriendResponseItem): Promise<void> {
  if (!ctx.fromClient) return;
  const fields = prevFriendResponseFields(ctx.origin.operator, target, [item]);
  const refusal = (await ctx.askPerItem(SnsCallback.prevFriendResponse, fields, [item.to])).get(item.to);
  if (refusal) throw new ImError(refusal.code, refusal.info);
}

/** The target answers a pending request: agree (the requester gets the target) or agree and add back. */
export async function acceptRequest(ctx: SnsContext, target: string, requester: string, response: RequestResponse, remark?: string): Promise<void> {
  const request = await ctx.relations.request(target, requester);
  if (!request) throw new ImError(SnsErrorCode.invalidParameter, `there is no friend request from "${requester}"`);
  await askBeforeAnswering(ctx, target, { to: requester, remark, action: response });
  const statements = [
    ctx.relations.addFriendStatement(requester, {
      friend: target,
      remark: request.remark,
      lists: request.listName ? [request.listName] : [],
      addSource: request.addSource,
      addWording: request.addWording,
      custom: {},
    }),
    ctx.relations.deleteRequestStatement(target, requester),
  ];
  if (request.listName) statements.unshift(ctx.relations.addListStatement(requester, request.listName));
  const pairs: Pair[] = [{ from: requester, to: target, initiator: requester }];
  if (response === "agreeAndAdd") {
    statements.push(ctx.relations.addFriendStatement(target, { friend: requester, remark: remark ?? "", lists: [], addSource: request.addSource, addWording: "", custom: {} }));
    pairs.push({ from: target, to: requester, initiator: requester });
  }
  ctx.callbackAfter(SnsCallback.friendAdd, target, friendAddFields(pairs, { clientCmd: "friend_response", admin: ctx.admin, force: false }));
  for (const user of [target, requester]) {
    ctx.tell(user, "friendListUpdated");
    ctx.tell(user, "friendApplicationListUpdated");
  }
  await ctx.commit(statements);
}

/** The target rejects a pending request (the backend may refuse the reject, as an accept). */
export async function rejectRequest(ctx: SnsContext, target: string, requester: string): Promise<void> {
  if (!(await ctx.relations.request(target, requester))) throw new ImError(SnsErrorCode.invalidParameter, `there is no friend request from "${requester}"`);
  await askBeforeAnswering(ctx, target, { to: requester, action: "reject" });
  await removeRequest(ctx, target, requester);
}

/** The requester withdraws its request. */
export async function dropRequest(ctx: SnsContext, target: string, requester: string): Promise<void> {
  if (!(await ctx.relations.request(target, requester))) throw new ImError(SnsErrorCode.invalidParameter, "there is no such friend request");
  await removeRequest(ctx, target, requester);
}

async function removeRequest(ctx: SnsContext, target: string, requester: string): Promise<void> {
  ctx.tell(target, "friendApplicationListUpdated");
  ctx.tell(requester, "friendApplicationListUpdated");
  await ctx.commit([ctx.relations.deleteRequestStatement(target, requester)]);
}

export async function friendRequests(ctx: SnsContext, user: string): Promise<{ incoming: FriendRequestRow[]; outgoing: FriendRequestRow[] }> {
  return ctx.relations.requestsOf(user, 500);
}

export type DeleteType = "Delete_Type_Both" | "Delete_Type_Single";

export async function deleteFriends(ctx: SnsContext, from: string, tos: string[], deleteType: DeleteType): Promise<ItemResult[]> {
  const mine = await ctx.relations.friendsAmong(from, tos);
  const statements: D1PreparedStatement[] = [];
  const removed: Pair[] = [];
  const results = tos.map((to) => {
    if (!mine.has(to)) return fail(to, SnsErrorCode.invalidParameter, "not in the friend list");
    statements.push(ctx.relations.deleteFriendStatement(from, to));
    removed.push({ from, to, initiator: from });
    if (deleteType === "Delete_Type_Both") {
      statements.push(ctx.relations.deleteFriendStatement(to, from));
      removed.push({ from: to, to: from, initiator: from });
      ctx.tell(to, "friendListUpdated");
    }
    return ok(to);
  });
  if (statements.length > 0) ctx.tell(from, "friendListUpdated");
  if (removed.length > 0) ctx.callbackAfter(SnsCallback.friendDelete, from, pairListFields(removed));
  await ctx.commit(statements);
  return results;
}

export async function deleteAllFriends(ctx: SnsContext, from: string, deleteType: DeleteType): Promise<void> {
  const all = await ctx.relations.allFriendIds(from);
  await deleteFriends(ctx, from, all, deleteType);
}

export async function checkFriends(ctx: SnsContext, from: string, tos: string[], single: boolean): Promise<{ userId: string; relation: FriendRelation }[]> {
  const [mine, theirs] = await Promise.all([ctx.relations.friendsAmong(from, tos), single ? new Set<string>() : ctx.relations.listedBy(from, tos)]);
  return tos.map((to) => ({ userId: to, relation: friendRelation(mine.has(to), theirs.has(to), single) }));
}

export const friendPageSize = 100;

/**
 * One page of `owner`'s friends in the order they were added. `after` is the
 * `next` of the previous page (0 for the first): a position, not a count, so
 * a page reads only its own rows.
 */
export async function friendPage(ctx: SnsContext, owner: string, after: number, limit = friendPageSize) {
  const [rows, total] = await Promise.all([ctx.relations.friendPage(owner, after, limit + 1), ctx.relations.friendCount(owner)]);
  const page = rows.slice(0, limit);
  const complete = rows.length <= limit;
  return { friends: page.map(({ pos: _pos, ...f }) => f), total, next: complete ? 0 : page.at(-1)!.pos, complete };
}

export interface FriendUpdate {
  to: string;
  remark?: string;
  lists?: string[];
  custom?: Record<string, ProfileValue>;
}

export async function updateFriends(ctx: SnsContext, from: string, updates: FriendUpdate[]): Promise<ItemResult[]> {
  const rows = await ctx.relations.friendsByIds(from, updates.map((u) => u.to));
  const lists = new Set(await ctx.relations.listNames(from));
  const statements: D1PreparedStatement[] = [];
  const results = updates.map((u) => {
    const row = rows.get(u.to);
    if (!row) return fail(u.to, SnsErrorCode.invalidParameter, "not in the friend list");
    const wanted = u.lists ? [...new Set(u.lists)] : row.lists;
    const added = wanted.filter((l) => !lists.has(l));
    if (lists.size + added.length > maxFriendLists) return fail(u.to, SnsErrorCode.tooManyFriendLists, `at most ${maxFriendLists} friend lists`);
    for (const l of added) {
      lists.add(l);
      statements.push(ctx.relations.addListStatement(from, l));
    }
    statements.push(ctx.relations.addFriendStatement(from, { ...row, remark: u.remark ?? row.remark, lists: wanted, custom: { ...row.custom, ...u.custom } }));
    return ok(u.to);
  });
  if (statements.length > 0) ctx.tell(from, "friendListUpdated");
  await ctx.commit(statements);
  return results;
}

// ---- friend lists ----

export async function createLists(ctx: SnsContext, owner: string, names: string[], members: string[]): Promise<ItemResult[]> {
  const lists = await ctx.relations.listNames(owner);
  const fresh = [...new Set(names)].filter((n) => !lists.includes(n));
  if (lists.length + fresh.length > maxFriendLists) throw new ImError(SnsErrorCode.tooManyFriendLists, `at most ${maxFriendLists} friend lists`);
  const statements = fresh.map((n) => ctx.relations.addListStatement(owner, n));
  const rows = await ctx.relations.friendsByIds(owner, members);
  const results = members.map((m) => {
    const row = rows.get(m);
    if (!row) return fail(m, SnsErrorCode.invalidParameter, "not in the friend list");
    statements.push(ctx.relations.addFriendStatement(owner, { ...row, lists: [...new Set([...row.lists, ...names])] }));
    return ok(m);
  });
  ctx.tell(owner, "friendListUpdated");
  await ctx.commit(statements);
  return results;
}

export async function removeFromList(ctx: SnsContext, owner: string, name: string, members: string[]): Promise<ItemResult[]> {
  const rows = await ctx.relations.friendsByIds(owner, members);
  const statements: D1PreparedStatement[] = [];
  const results = members.map((m) => {
    const row = rows.get(m);
    if (!row || !row.lists.includes(name)) return fail(m, SnsErrorCode.invalidParameter, `not in the list "${name}"`);
    statements.push(ctx.relations.addFriendStatement(owner, { ...row, lists: row.lists.filter((l) => l !== name) }));
    return ok(m);
  });
  ctx.tell(owner, "friendListUpdated");
  await ctx.commit(statements);
  return results;
}

export async function deleteLists(ctx: SnsContext, owner: string, names: string[]): Promise<void> {
  const lists = await ctx.relations.listNames(owner);
  const missing = names.find((n) => !lists.includes(n));
  if (missing) throw new ImError(SnsErrorCode.invalidParameter, `GroupName: there is no friend list "${missing}"`);
  ctx.tell(owner, "friendListUpdated");
  await ctx.commit(names.flatMap((n) => [ctx.relations.removeListFromFriendsStatement(owner, n), ctx.relations.deleteListStatement(owner, n)]));
}

export async function readLists(ctx: SnsContext, owner: string, names?: string[]): Promise<{ name: string; members: string[] }[]> {
  const lists = await ctx.relations.listNames(owner);
  const wanted = names && names.length > 0 ? names : lists;
  const missing = wanted.find((n) => !lists.includes(n));
  if (missing) throw new ImError(SnsErrorCode.invalidParameter, `GroupName: there is no friend list "${missing}"`);
  const members = await ctx.relations.listMembers(owner);
  return wanted.map((name) => ({ name, members: members.get(name) ?? [] }));
}
