/** Blocklist actions. Blocking ends the friendship both ways and stops the blocked user's messages. */
import { ImError } from "../domain/errors.ts";
import { blockRelation, maxBlocked, SnsErrorCode, type BlockRelation } from "../domain/relations.ts";
import { pairListFields, SnsCallback } from "../domain/snsCallbacks.ts";
import type { SnsContext } from "./context.ts";
import type { ItemResult } from "./friends.ts";

export async function block(ctx: SnsContext, owner: string, ids: string[]): Promise<ItemResult[]> {
  const [known, already, count, mine, theirs] = await Promise.all([
    ctx.accounts([owner, ...ids]),
    ctx.relations.blockedAmong(owner, ids),
    ctx.relations.blockedCount(owner),
    ctx.relations.friendsAmong(owner, ids),
    ctx.relations.listedBy(owner, ids),
  ]);
  if (!known.has(owner)) {
    throw new ImError(SnsErrorCode.accountNotFound, `From_Account "${owner}" does not exist`);
  }
  let total = count;
  const seen = new Set<string>();
  const statements: D1PreparedStatement[] = [];
  const results = ids.map((id): ItemResult => {
    if (id === owner || seen.has(id)) return { userId: id, code: SnsErrorCode.invalidParameter, info: id === owner ? "cannot block oneself" : "named twice in this call" };
    seen.add(id);
    if (!known.has(id)) return { userId: id, code: SnsErrorCode.accountNotFound, info: "account does not exist" };
    if (already.has(id)) return { userId: id, code: SnsErrorCode.invalidParameter, info: "already on the blocklist" };
    if (total >= maxBlocked) return { userId: id, code: SnsErrorCode.blocklistFull, info: `the blocklist is full (${maxBlocked})` };
    total++;
    statements.push(
      ctx.relations.blockStatement(owner, id),
      ctx.relations.deleteFriendStatement(owner, id),
      ctx.relations.deleteFriendStatement(id, owner),
      ctx.relations.deleteRequestStatement(owner, id),
      ctx.relations.deleteRequestStatement(id, owner),
    );
    // Only those whose friend list changes hear of it: a block is not announced to the blocked.
    if (theirs.has(id)) ctx.tell(id, "friendListUpdated");
    if (mine.has(id) || theirs.has(id)) ctx.tell(owner, "friendListUpdated");
    return { userId: id, code: 0, info: "" };
  });
  if (statements.length > 0) ctx.tell(owner, "blacklistUpdated");
  afterBlocklistChange(ctx, SnsCallback.blackListAdd, owner, results);
  await ctx.commit(statements);
  return results;
}

/** Sns.CallbackBlackListAdd / BlackListDelete: a pair for each id whose change went through. */
function afterBlocklistChange(ctx: SnsContext, command: string, owner: string, results: ItemResult[]): void {
  const pairs = results.filter((r) => r.code === 0).map((r) => ({ from: owner, to: r.userId, initiator: owner }));
  if (pairs.length > 0) ctx.callbackAfter(command, owner, pairListFields(pairs));
}

export async function unblock(ctx: SnsContext, owner: string, ids: string[]): Promise<ItemResult[]> {
  const blocked = await ctx.relations.blockedAmong(owner, ids);
  const statements: D1PreparedStatement[] = [];
  const results = ids.map((id): ItemResult => {
    if (!blocked.has(id)) return { userId: id, code: SnsErrorCode.invalidParameter, info: "not on the blocklist" };
    blocked.delete(id);
    statements.push(ctx.relations.unblockStatement(owner, id));
    return { userId: id, code: 0, info: "" };
  });
  if (statements.length > 0) ctx.tell(owner, "blacklistUpdated");
  afterBlocklistChange(ctx, SnsCallback.blackListDelete, owner, results);
  await ctx.commit(statements);
  return results;
}

export async function blockedPage(ctx: SnsContext, owner: string, offset: number, limit: number) {
  const [rows, total] = await Promise.all([ctx.relations.blockedPage(owner, offset, limit), ctx.relations.blockedCount(owner)]);
  return { blocked: rows, total, next: offset + rows.length, complete: offset + rows.length >= total };
}

export async function checkBlocked(ctx: SnsContext, owner: string, ids: string[], single: boolean): Promise<{ userId: string; relation: BlockRelation }[]> {
  const [mine, theirs] = await Promise.all([ctx.relations.blockedAmong(owner, ids), single ? new Set<string>() : ctx.relations.blockersAmong(owner, ids)]);
  return ids.map((id) => ({ userId: id, relation: blockRelation(mine.has(id), theirs.has(id), single) }));
}
