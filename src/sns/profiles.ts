/** Profile actions, shared by REST (profile/*) and the user's own client. */
import { ImError } from "../domain/errors.ts";
import { adminOnlyTags, checkProfileItem, isKnownTag, ProfileErrorCode, type ProfileValue } from "../domain/profile.ts";
import { portraitSetFields, SnsCallback } from "../domain/snsCallbacks.ts";
import { getProfiles, setProfileStatements } from "../store/profiles.ts";
import type { SnsContext } from "./context.ts";

export interface ProfileItem {
  tag: string;
  value: ProfileValue;
}

export const maxProfilesPerCall = 100;

/** Sets tags of one user, all or none. A client (`byAdmin` false) may not set admin-only tags. */
export async function updateProfile(ctx: SnsContext, userId: string, items: ProfileItem[], byAdmin: boolean): Promise<void> {
  if (items.length === 0) throw new ImError(ProfileErrorCode.invalidParameter, "ProfileItem: at least one tag is needed");
  for (const item of items) {
    const problem = checkProfileItem(item.tag, item.value, ctx.app.settings.profileCustomTags);
    if (problem) throw new ImError(problem.code, problem.info);
    if (!byAdmin && adminOnlyTags.has(item.tag)) throw new ImError(ProfileErrorCode.invalidParameter, `${item.tag} can only be set by the app's admin`);
  }
  if (new Set(items.map((i) => i.tag)).size !== items.length) throw new ImError(ProfileErrorCode.invalidParameter, "ProfileItem: a tag is given twice");
  if (!(await ctx.accounts([userId])).has(userId)) throw new ImError(ProfileErrorCode.accountNotFound, `account "${userId}" does not exist`);
  // The user's other devices and everyone who lists the user (a popular user has thousands).
  ctx.tell(userId, "profileUpdated", { userID: userId });
  ctx.tellListersOf(userId, "profileUpdated", { userID: userId });
  ctx.callbackAfter(SnsCallback.portraitSet, userId, portraitSetFields(ctx.origin.operator, userId, items));
  await ctx.commit(setProfileStatements(ctx.env.DB, ctx.sdkAppId, userId, items));
}

export interface ProfileResult {
  userId: string;
  items: ProfileItem[];
  code: number;
  info: string;
}

/** Profiles of up to 100 users; `tags` empty means every tag the user has. */
export async function readProfiles(ctx: SnsContext, userIds: string[], tags: string[]): Promise<ProfileResult[]> {
  if (userIds.length > maxProfilesPerCall) throw new ImError(ProfileErrorCode.invalidParameter, `To_Account: at most ${maxProfilesPerCall} users per call`);
  const unknown = tags.find((t) => !isKnownTag(t, ctx.app.settings.profileCustomTags));
  if (unknown) throw new ImError(ProfileErrorCode.invalidParameter, `TagList: unknown tag ${unknown}`);
  const existing = await ctx.accounts(userIds);
  const profiles = await getProfiles(ctx.env.DB, ctx.sdkAppId, [...existing], tags);
  return userIds.map((userId) => {
    if (!existing.has(userId)) {
      return { userId, items: [], code: ProfileErrorCode.accountNotFound, info: "account does not exist" };
    }
    const profile = profiles.get(userId) ?? new Map<string, ProfileValue>();
    const wanted = tags.length > 0 ? tags : [...profile.keys()];
    return { userId, items: wanted.filter((t) => profile.has(t)).map((tag) => ({ tag, value: profile.get(tag)! })), code: 0, info: "" };
  });
}
