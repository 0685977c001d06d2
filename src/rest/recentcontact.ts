/** recentcontact: the conversation list. */
import { z } from "zod";
import { userActor } from "../actors/refs.ts";
import { UserId } from "../domain/account.ts";
import { ErrorCode, ImError, unwrap } from "../domain/errors.ts";
import { optional } from "../domain/wire.ts";
import { command } from "./command.ts";

const pageSize = 100;
const paramErrorCode = ErrorCode.invalidConversationParam;

export const getList = command({
  body: z.object({
    From_Account: UserId,
    TimeStamp: optional(z.number().int().min(0)),
    StartIndex: optional(z.number().int().min(0)),
    TopTimeStamp: optional(z.number().int().min(0)),
    TopStartIndex: optional(z.number().int().min(0)),
    AssistFlags: optional(z.number().int().min(0)),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const owner = { sdkAppId: ctx.app.sdkAppId, userId: body.From_Account };
    const start = body.StartIndex ?? 0;
    const page = unwrap(await userActor(ctx.env, owner).listConversations(start, pageSize));
    const pinned = page.conversations.filter((c) => c.pinned).length;
    return {
      CompleteFlag: page.complete ? 1 : 0,
      TimeStamp: body.TimeStamp ?? 0,
      StartIndex: start + page.conversations.length,
      TopTimeStamp: body.TopTimeStamp ?? 0,
      TopStartIndex: (body.TopStartIndex ?? 0) + pinned,
      // Type 1: one-to-one (To_Account); Type 2: group (GroupId).
      SessionItem: page.conversations.map((c) =>
        "groupId" in c ? { Type: 2, GroupId: c.groupId, MsgTime: c.time, TopFlag: c.pinned ? 1 : 0 } : { Type: 1, To_Account: c.peer, MsgTime: c.time, TopFlag: c.pinned ? 1 : 0 },
      ),
    };
  },
});

export const deleteContact = command({
  body: z.object({
    From_Account: UserId,
    Type: z.literal([1, 2], "must be 1 (one-to-one) or 2 (group)"),
    To_Account: optional(UserId),
    /** For Type 2: the group conversation to delete (Tencent's spelling, lowercase "id"; recalled from its docs). */
    ToGroupid: optional(z.string().min(1).max(64)),
    ClearRamble: optional(z.literal([0, 1])),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const owner = { sdkAppId: ctx.app.sdkAppId, userId: body.From_Account };
    const actor = userActor(ctx.env, owner);
    if (body.Type === 2) {
      if (!body.ToGroupid) throw new ImError(paramErrorCode, "ToGroupid: is required for a group conversation (Type 2)");
      unwrap(await actor.deleteGroupConversation(body.ToGroupid));
    } else {
      if (!body.To_Account) throw new ImError(paramErrorCode, "To_Account: is required for a one-to-one conversation (Type 1)");
      unwrap(await actor.deleteConversation(body.To_Account, body.ClearRamble === 1));
    }
    return {};
  },
});

export const recentcontact = { get_list: getList, delete: deleteContact };
