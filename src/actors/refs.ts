/**
 * Names and stubs of the actors. Doors, `sns/` and the actors themselves reach each other
 * through these, without importing an actor's code (the classes are imported as types only).
 */
import type { Env } from "../env.ts";
import type { AppActor } from "./AppActor.ts";
import type { FanoutHub } from "./FanoutHub.ts";
import type { GroupActor } from "./GroupActor.ts";
import type { SignInGuard } from "./SignInGuard.ts";
import type { LiveShard } from "./LiveShard.ts";
import type { UserActor } from "./UserActor.ts";

export interface UserRef {
  sdkAppId: number;
  userId: string;
}

export function userActorName(ref: UserRef): string {
  return `${ref.sdkAppId}:${ref.userId}`;
}

/** The actor of one user of one app. */
export function userActor(env: Env, ref: UserRef): DurableObjectStub<UserActor> {
  return env.USER.get(env.USER.idFromName(userActorName(ref)));
}

export interface GroupRef {
  sdkAppId: number;
  groupId: string;
}

export function groupActorName(ref: GroupRef): string {
  return `${ref.sdkAppId}:${ref.groupId}`;
}

/** The actor of one group of one app. */
export function groupActor(env: Env, ref: GroupRef): DurableObjectStub<GroupActor> {
  return env.GROUP.get(env.GROUP.idFromName(groupActorName(ref)));
}

/** One of an app's fan-out hubs (`domain/fanout.ts` says which holds a user). */
export function fanoutHub(env: Env, sdkAppId: number, index: number): DurableObjectStub<FanoutHub> {
  return env.HUB.get(env.HUB.idFromName(`${sdkAppId}:hub:${index}`));
}

/** The actor of one app, named by its SDKAppID. */
export function appActor(env: Env, sdkAppId: number): DurableObjectStub<AppActor> {
  return env.APP.get(env.APP.idFromName(String(sdkAppId)));
}

/** The guard counting wrong keys from one caller (`console:<address>`, `app:<SDKAppID>:<address>`). */
export function signInGuard(env: Env, subject: string): DurableObjectStub<SignInGuard> {
  return env.GUARD.get(env.GUARD.idFromName(subject));
}

/** Shard `n` of a live room's audience (`SDKAppID:GroupId:n`). */
export function liveShard(env: Env, sdkAppId: number, groupId: string, shard: number): DurableObjectStub<LiveShard> {
  return env.LIVE.get(env.LIVE.idFromName(`${sdkAppId}:${groupId}:${shard}`));
}
