/**
 * openconfigsvr: a user's global mute (setnospeaking, getnospeaking) and the app's statistics
 * per day (getappinfo).
 *
 * A global mute is kept with the account in D1 and told to the user's actor at once, which
 * checks it on every send from the user (its devices and REST sends naming it) without a call.
 */
import { z } from "zod";
import { UserId } from "../domain/account.ts";
import { ErrorCode, ImError, unwrap } from "../domain/errors.ts";
import { muteLeft, muteUntil, NospeakingTime } from "../domain/moderation.ts";
import { appInfoRows, lastDays, RequestField } from "../domain/stats.ts";
import { optional } from "../domain/wire.ts";
import { userActor } from "../actors/refs.ts";
import { findAccount, setGlobalMute } from "../store/accounts.ts";
import { readStats } from "../store/stats.ts";
import { command } from "./command.ts";

/** The spec gives these commands no codes of their own: the message services' parameter error. */
const paramErrorCode = ErrorCode.messageJsonInvalid;

/** getappinfo answers this many days, today included. */
export const appInfoDays = 30;

export const setNoSpeaking = command({
  body: z.object({
    Set_Account: UserId,
    C2CmsgNospeakingTime: optional(NospeakingTime),
    GroupmsgNospeakingTime: optional(NospeakingTime),
  }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const now = Math.floor(Date.now() / 1000);
    const change = {
      ...(body.C2CmsgNospeakingTime !== undefined ? { c2cUntil: muteUntil(body.C2CmsgNospeakingTime, now) } : {}),
      ...(body.GroupmsgNospeakingTime !== undefined ? { groupUntil: muteUntil(body.GroupmsgNospeakingTime, now) } : {}),
    };
    if (!(await setGlobalMute(env.DB, app.sdkAppId, body.Set_Account, change))) {
      throw new ImError(ErrorCode.accountNotFound, `Set_Account: account "${body.Set_Account}" does not exist`);
    }
    const account = await findAccount(env.DB, app.sdkAppId, body.Set_Account);
    const mute = { c2cUntil: account?.c2cMuteUntil ?? 0, groupUntil: account?.groupMuteUntil ?? 0 };
    unwrap(await userActor(env, { sdkAppId: app.sdkAppId, userId: body.Set_Account }).setGlobalMute(mute));
    return {};
  },
});

export const getNoSpeaking = command({
  body: z.object({ Get_Account: UserId }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const account = await findAccount(env.DB, app.sdkAppId, body.Get_Account);
    if (!account) throw new ImError(ErrorCode.accountNotFound, `Get_Account: account "${body.Get_Account}" does not exist`);
    const now = Math.floor(Date.now() / 1000);
    return {
      C2CmsgNospeakingTime: muteLeft(account.c2cMuteUntil ?? 0, now),
      GroupmsgNospeakingTime: muteLeft(account.groupMuteUntil ?? 0, now),
    };
  },
});

export const getAppInfo = command({
  body: z.object({ RequestField: optional(RequestField) }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const days = lastDays(Date.now(), appInfoDays);
    const rows = await readStats(env.DB, app.sdkAppId, days.at(-1)!);
    const fields = body.RequestField?.length ? body.RequestField : undefined;
    return { Result: appInfoRows({ sdkAppId: app.sdkAppId, name: app.name }, rows, days, fields) };
  },
});

export const openconfigsvr = { setnospeaking: setNoSpeaking, getnospeaking: getNoSpeaking, getappinfo: getAppInfo };
