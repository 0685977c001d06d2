/** recentcontact: the conversation list. */
import { z } from "zod";
import { userActor } from "../actors/refs.ts";
import { UserId } from "../domain/account.ts";
import { ErrorCode, unwrap } from "../domain/errors.ts";
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
      SessionItem: page.conversations.map((c) => ({ Type: 1, To_Account: c.peer, MsgTime: c.time, TopFlag: c.pinned ? 1 : 0 })),
    };
  },
});

export const deleteContact = command({
  body: z.object({
    From_Account: UserId,
    Type: z.literal(1, "only 1 (one-to-one) conversations can be deleted here"),
    To_Account: UserId,
    ClearRamble: optional(z.literal([0, 1])),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const owner = { sdkAppId: ctx.app.sdkAppId, userId: body.From_Account };
    unwrap(await userActor(ctx.env, owner).deleteConversation(body.To_Account, body.ClearRamble === 1));
    return {};
  },
});

export const recentcontact = { get_list: getList, delete: deleteContact };
