/**
 * The narrow view of a GroupActor that its parts (membership, messages,
 * fan-out, directory) work through.
 */
import type { AppSettings } from "../../domain/app.ts";
import type { OptPlatform } from "../../domain/callbacks.ts";
import type { GroupPolicy, GroupProfile } from "../../domain/group.ts";
import type { GroupEvent } from "../../domain/groupMessage.ts";
import type { Actor } from "../../domain/groupRules.ts";
import type { Env } from "../../env.ts";
import type { GroupCallbacks } from "./callbacks.ts";
import type { GroupStore, StoredMember } from "./GroupStore.ts";
import type { ActorStats } from "../stats.ts";

/** Who asks: a user (a member or not), or the app's admin through REST. */
export interface GroupCaller {
  /** The user acting, when there is one (REST may name one with From_Account). */
  userId?: string;
  /** Acting with the app admin's authority (REST, or a user who is an app admin). */
  appAdmin: boolean;
  /** The admin identifier that signed a REST call: callbacks' Operator_Account when no user is named. */
  adminId?: string;
  /** A client's device platform (callbacks' OptPlatform); absent for REST, which is "RESTAPI". */
  platform?: OptPlatform;
  /** The acting client's IP address, when known (callbacks' ClientIP). */
  clientIp?: string;
}

export interface GroupHost {
  readonly env: Env;
  readonly sdkAppId: number;
  readonly groupId: string;
  readonly store: GroupStore;
  /** The group's after-callbacks, in order per group. */
  readonly callbacks: GroupCallbacks;
  /** The group's statistics counts. */
  readonly stats: ActorStats;
  transaction<T>(work: () => T): T;
  /** The group's profile; fails with 10010 when there is no such group. */
  profile(): GroupProfile;
  settings(): Promise<AppSettings>;
  policy(): Promise<GroupPolicy>;
  /** The caller's standing in this group. */
  actorOf(caller: GroupCaller): { actor: Actor; member: StoredMember | null };
  /** Delivers an event to these users' online devices (after the change is stored). */
  publish(event: GroupEvent, userIds: string[]): void;
  /** The group's row in the directory, or its membership there, changed (call inside the change's transaction). */
  directoryChanged(change: DirectoryChange): void;
  /** Moves a member's own read point (kept by its user actor) to a message it sent. */
  senderRead(userId: string, seq: number, readCount: number): void;
  /** Sets a member's read point in its user actor, backwards too (set_unread_msg_num). */
  setMemberRead(userId: string, seq: number, readCount: number): Promise<void>;
  /** Tells mentioned members' actors, so members who are away see the mention. */
  mentioned(userIds: string[], seq: number): void;
  /** Brings the directory up to date before answering. */
  flushDirectory(): Promise<void>;
  /** Whether `userId` is one of the app's admins. */
  isAppAdmin(userId: string): Promise<boolean>;
}

export type DirectoryChange =
  | { kind: "group" }
  | { kind: "joined"; userIds: string[]; joinSeq: number; joinedAt: number; joinCount: number }
  | { kind: "left"; userIds: string[] }
  | { kind: "msgFlag"; userId: string; msgFlag: string }
  | { kind: "destroyed" };
