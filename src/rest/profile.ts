/** profile: portrait_set and portrait_get. */
import { z } from "zod";
import { UserId } from "../domain/account.ts";
import { ProfileErrorCode } from "../domain/profile.ts";
import { optional } from "../domain/wire.ts";
import { SnsContext } from "../sns/context.ts";
import { maxProfilesPerCall, readProfiles, updateProfile } from "../sns/profiles.ts";
import { command, type CommandContext } from "./command.ts";

const paramErrorCode = ProfileErrorCode.invalidParameter;
const Value = z.union([z.string(), z.number()], { error: "must be a string or a number" });

export function snsContext(ctx: CommandContext): SnsContext {
  return new SnsContext(ctx.env, ctx.app, ctx.waitUntil, { operator: ctx.caller, platform: "RESTAPI", ...(ctx.clientIp ? { clientIp: ctx.clientIp } : {}) });
}

export const portraitSet = command({
  body: z.object({ From_Account: UserId, ProfileItem: z.array(z.object({ Tag: z.string(), Value })).min(1).max(50) }),
  paramErrorCode,
  errorDisplay: true,
  async handle(ctx, body) {
    await updateProfile(snsContext(ctx), body.From_Account, body.ProfileItem.map((i) => ({ tag: i.Tag, value: i.Value })), true);
    return {};
  },
});

export const portraitGet = command({
  body: z.object({ To_Account: z.array(UserId).min(1).max(maxProfilesPerCall), TagList: optional(z.array(z.string()).max(50)) }),
  paramErrorCode,
  errorDisplay: true,
  async handle(ctx, body) {
    const results = await readProfiles(snsContext(ctx), body.To_Account, body.TagList ?? []);
    return {
      UserProfileItem: results.map((r) => ({
        To_Account: r.userId,
        ProfileItem: r.items.map((i) => ({ Tag: i.tag, Value: i.value })),
        ResultCode: r.code,
        ResultInfo: r.info,
      })),
      Fail_Account: results.filter((r) => r.code !== 0).map((r) => r.userId),
    };
  },
});

export const profile = { portrait_set: portraitSet, portrait_get: portraitGet };
