/** openim: one-to-one messages, read state, online status. */
import { z } from "zod";
import type { SendResult } from "../actors/UserActor.ts";
import { groupNamed } from "../actors/group/entry.ts";
import { userActor, type UserRef } from "../actors/refs.ts";
import { UserId } from "../domain/account.ts";
import { ErrorCode, ImError, unwrap } from "../domain/errors.ts";
import { maxMsgLifeTimeSeconds, MsgBody, MsgRandom, MsgSeq, msgKey, type C2CMessage, type StoredC2CMessage } from "../domain/message.ts";
import { optional, withEarlierNames } from "../domain/wire.ts";
import { command, type CommandContext } from "./command.ts";
import { inParallel } from "./parallel.ts";
import { existingAccounts } from "../store/accounts.ts";
import { isAppAdmin } from "../domain/app.ts";

const paramErrorCode = ErrorCode.messageJsonInvalid;
const fieldErrorCodes = {
  From_Account: ErrorCode.fromAccountInvalid,
  To_Account: ErrorCode.toAccountInvalid,
  Peer_Account: ErrorCode.toAccountInvalid,
  MsgRandom: ErrorCode.msgRandomInvalid,
  MsgBody: ErrorCode.msgBodyInvalid,
  MsgLifeTime: ErrorCode.msgLifeTimeInvalid,
  MsgKey: ErrorCode.msgKeyInvalid,
};

const MsgKeyField = z.string().regex(/^\d+_\d+_\d+$/, "must be a MsgKey (MsgSeq_MsgRandom_MsgTime)");
const SendMsgControl = optional(z.array(z.string()));

/** The fields sendmsg and batchsendmsg share. */
const messageFields = {
  SyncOtherMachine: optional(z.literal([1, 2])),
  From_Account: optional(UserId),
  MsgLifeTime: optional(z.number().int().min(0).max(maxMsgLifeTimeSeconds, "must be at most 604800 seconds (7 days)")),
  MsgSeq: optional(MsgSeq),
  MsgRandom: MsgRandom,
  MsgBody: MsgBody,
  CloudCustomData: optional(z.string()),
  SendMsgControl,
  ForbidCallbackControl: optional(z.array(z.string())),
  IsNeedReadReceipt: optional(z.literal([0, 1])),
};

type MessageFields = z.infer<z.ZodObject<typeof messageFields>>;

function user(ctx: CommandContext, userId: string): UserRef {
  return { sdkAppId: ctx.app.sdkAppId, userId };
}

/** Sends as From_Account (or as the calling admin) to one recipient. */
async function sendOne(ctx: CommandContext, body: MessageFields, to: string): Promise<SendResult> {
  const from = user(ctx, body.From_Account ?? ctx.caller);
  return unwrap(
    await userActor(ctx.env, from).sendC2C({
      to,
      random: body.MsgRandom,
      msgSeq: body.MsgSeq,
      body: body.MsgBody,
      cloudCustomData: body.CloudCustomData,
      needReadReceipt: body.IsNeedReadReceipt === 1,
      lifeTimeSeconds: body.MsgLifeTime,
      syncToSender: body.SyncOtherMachine !== 2,
      noUnread: body.SendMsgControl?.includes("NoUnread"),
      noLastMessage: body.SendMsgControl?.includes("NoLastMsg"),
      platform: "RESTAPI",
      ...(ctx.clientIp ? { clientIp: ctx.clientIp } : {}),
      forbidBeforeCallback: body.ForbidCallbackControl?.includes("ForbidBeforeSendMsgCallback"),
      forbidAfterCallback: body.ForbidCallbackControl?.includes("ForbidAfterSendMsgCallback"),
    }),
  );
}

export const sendmsg = command({
  body: z.object({ ...messageFields, To_Account: UserId }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const sent = await sendOne(ctx, body, body.To_Account);
    return { MsgTime: sent.time, MsgKey: sent.key };
  },
});

const maxBatchRecipients = 500;

export const batchsendmsg = command({
  body: z.object({
    ...messageFields,
    To_Account: z.array(UserId).min(1, "must name at least one recipient"),
  }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const recipients = [...new Set(body.To_Account)];
    if (recipients.length > maxBatchRecipients) {
      throw new ImError(ErrorCode.tooManyRecipients, `To_Account: at most ${maxBatchRecipients} recipients per call`);
    }
    // One MsgSeq for the whole batch, as Tencent gives one MsgKey.
    const shared = { ...body, MsgSeq: body.MsgSeq ?? crypto.getRandomValues(new Uint32Array(1))[0]! };
    const errors: { To_Account: string; ErrorCode: number }[] = [];
    let first: SendResult | undefined;
    await inParallel(recipients, 16, async (to) => {
      try {
        const sent = await sendOne(ctx, shared, to);
        first ??= sent;
      } catch (error) {
        if (!(error instanceof ImError)) throw error;
        errors.push({ To_Account: to, ErrorCode: error.code });
      }
    });
    return { MsgKey: first?.key ?? "", ErrorList: errors };
  },
});

export const importmsg = command({
  body: z.object({
    SyncFromOldSystem: z.literal([1, 2, 5]),
    From_Account: UserId,
    To_Account: UserId,
    MsgSeq: optional(MsgSeq),
    MsgRandom: MsgRandom,
    MsgTimeStamp: z.number().int().min(0),
    MsgBody: MsgBody,
    CloudCustomData: optional(z.string()),
  }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    if (body.From_Account === body.To_Account) throw new ImError(ErrorCode.toAccountInvalid, "To_Account: must differ from From_Account");
    const msgSeq = body.MsgSeq ?? body.MsgRandom;
    const message: C2CMessage = {
      key: msgKey(msgSeq, body.MsgRandom, body.MsgTimeStamp),
      from: body.From_Account,
      to: body.To_Account,
      msgSeq,
      random: body.MsgRandom,
      time: body.MsgTimeStamp,
      body: body.MsgBody,
    };
    if (body.CloudCustomData !== undefined) message.cloudCustomData = body.CloudCustomData;
    // 1 and 2 import history (read, not pushed); 5 imports live messages (unread, pushed).
    const live = body.SyncFromOldSystem === 5;
    const to = user(ctx, body.To_Account);
    const from = user(ctx, body.From_Account);
    // Both accounts are checked before either copy is written: a refused import leaves nothing behind.
    const found = await existingAccounts(ctx.env.DB, ctx.app.sdkAppId, [from.userId, to.userId]);
    if (!found.has(from.userId) && !isAppAdmin(ctx.app, from.userId)) throw new ImError(ErrorCode.fromAccountInvalid, `account "${from.userId}" does not exist`);
    if (!found.has(to.userId) && !isAppAdmin(ctx.app, to.userId)) throw new ImError(ErrorCode.toAccountNotFound, `account "${to.userId}" does not exist`);
    unwrap(await userActor(ctx.env, to).importMessage(message, false, { unread: live, lastMessage: true, push: live }));
    unwrap(await userActor(ctx.env, from).importMessage(message, true, { unread: false, lastMessage: true, push: live }));
    return {};
  },
});

const maxRoamPage = 100;

export const adminGetroammsg = command({
  // Tencent's earlier documentation named the two sides From_Account and To_Account; clients still send them.
  body: withEarlierNames(
    { From_Account: "Operator_Account", To_Account: "Peer_Account" },
    z.object({
      Operator_Account: UserId,
      Peer_Account: UserId,
      MaxCnt: optional(z.number().int().min(1).max(maxRoamPage)),
      MinTime: optional(z.number().int().min(0)),
      MaxTime: optional(z.number().int().min(0)),
      LastMsgKey: optional(MsgKeyField),
    }),
  ),
  paramErrorCode,
  fieldErrorCodes: { ...fieldErrorCodes, Operator_Account: ErrorCode.fromAccountInvalid, LastMsgKey: ErrorCode.msgKeyInvalid },
  async handle(ctx, body) {
    const operator = user(ctx, body.Operator_Account);
    const actor = userActor(ctx.env, operator);
    let before: number | undefined;
    if (body.LastMsgKey) {
      const last = unwrap(await actor.findMessage(body.Peer_Account, body.LastMsgKey));
      if (!last) throw new ImError(ErrorCode.msgKeyInvalid, "LastMsgKey: no such message in this conversation");
      before = last.seq;
    }
    const page = unwrap(
      await actor.roamMessages(body.Peer_Account, {
        minTime: body.MinTime ?? 0,
        maxTime: body.MaxTime ?? Number.MAX_SAFE_INTEGER,
        before,
        limit: body.MaxCnt ?? maxRoamPage,
      }),
    );
    const last = page.messages.at(-1);
    return {
      Complete: page.complete ? 1 : 0,
      MsgCnt: page.messages.length,
      LastMsgTime: last?.time ?? 0,
      LastMsgKey: last?.key ?? "",
      MsgList: page.messages.map(toRoamItem),
    };
  },
});

/** A stored message in admin_getroammsg's shape. */
function toRoamItem(m: StoredC2CMessage) {
  return {
    From_Account: m.from,
    To_Account: m.to,
    MsgSeq: m.msgSeq,
    MsgRandom: m.random,
    MsgTimeStamp: m.time,
    MsgFlagBits: m.isRevoked ? 1 : 0,
    IsPeerRead: m.isPeerRead ? 1 : 0,
    MsgKey: m.key,
    MsgBody: m.isRevoked ? [] : m.body,
    CloudCustomData: m.cloudCustomData ?? "",
  };
}

export const adminMsgwithdraw = command({
  body: z.object({ From_Account: UserId, To_Account: UserId, MsgKey: MsgKeyField }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const from = user(ctx, body.From_Account);
    unwrap(await userActor(ctx.env, from).revoke(body.To_Account, body.MsgKey, true));
    return {};
  },
});

export const modifyC2cMsg = command({
  body: z.object({ From_Account: UserId, To_Account: UserId, MsgKey: MsgKeyField, MsgBody: MsgBody, CloudCustomData: optional(z.string()) }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const from = user(ctx, body.From_Account);
    unwrap(await userActor(ctx.env, from).modify(body.To_Account, body.MsgKey, body.MsgBody, body.CloudCustomData));
    return {};
  },
});

/** Edits a stored group message (a topic's with TopicId): its body, and its CloudCustomData when given; members' devices are told. */
export const modifyGroupMsg = command({
  body: z.object({ GroupId: z.string(), MsgSeq: MsgSeq, MsgBody: MsgBody, CloudCustomData: optional(z.string()), TopicId: optional(z.string()) }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const group = groupNamed(ctx.env, ctx.app.sdkAppId, body.GroupId);
    unwrap(await group.modifyMessage({ appAdmin: true }, body.MsgSeq, body.MsgBody, body.CloudCustomData, body.TopicId));
    return {};
  },
});

export const adminSetMsgRead = command({
  body: z.object({ Report_Account: UserId, Peer_Account: UserId, MsgReadTime: optional(z.number().int().min(0)) }),
  paramErrorCode,
  fieldErrorCodes: { ...fieldErrorCodes, Report_Account: ErrorCode.fromAccountInvalid },
  async handle(ctx, body) {
    const reporter = user(ctx, body.Report_Account);
    unwrap(await userActor(ctx.env, reporter).markRead(body.Peer_Account, body.MsgReadTime, "RESTAPI"));
    return {};
  },
});

export const getC2cUnreadMsgNum = command({
  body: z.object({ To_Account: UserId, Peer_Account: optional(z.array(UserId).max(1000)) }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const owner = user(ctx, body.To_Account);
    const counts = unwrap(await userActor(ctx.env, owner).unread(body.Peer_Account));
    return {
      AllC2CUnreadMsgNum: counts.total,
      C2CUnreadMsgNumList: counts.byPeer.map((c) => ({ Peer_Account: c.peer, C2CUnreadMsgNum: c.unread })),
    };
  },
});

export const queryOnlineStatus = command({
  body: z.object({
    To_Account: z.array(UserId).min(1).max(maxBatchRecipients),
    IsNeedDetail: optional(z.literal([0, 1])),
  }),
  paramErrorCode,
  fieldErrorCodes,
  async handle(ctx, body) {
    const accounts = [...new Set(body.To_Account)];
    const results = new Map<string, object>();
    await inParallel(accounts, 32, async (userId) => {
      const ref = user(ctx, userId);
      const status = unwrap(await userActor(ctx.env, ref).onlineStatus());
      results.set(userId, {
        To_Account: userId,
        Status: status.status,
        ...(body.IsNeedDetail === 1 ? { Detail: status.devices.map((d) => ({ Platform: d.platform, Status: d.status })) } : {}),
      });
    });
    return { QueryResult: accounts.map((a) => results.get(a)), ErrorList: [] };
  },
});


export const openim = {
  sendmsg,
  batchsendmsg,
  importmsg,
  admin_getroammsg: adminGetroammsg,
  admin_msgwithdraw: adminMsgwithdraw,
  modify_c2c_msg: modifyC2cMsg,
  modify_group_msg: modifyGroupMsg,
  admin_set_msg_read: adminSetMsgRead,
  get_c2c_unread_msg_num: getC2cUnreadMsgNum,
  query_online_status: queryOnlineStatus,
};
