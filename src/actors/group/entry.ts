/**
 * How the doors reach groups: a group id is checked before any object is
 * touched, and a new group's id is the app's own (checked) or generated here.
 */
import { checkCustomGroupId, generatedIdRandomBytes, generateGroupId, GroupErrorCode, groupError, isWellFormedGroupId } from "../../domain/group.ts";
import type { Outcome } from "../../domain/errors.ts";
import type { Env } from "../../env.ts";
import type { GroupActor } from "../GroupActor.ts";
import { groupActor } from "../refs.ts";
import type { GroupCaller } from "./host.ts";
import type { CreateGroupInput } from "./membership.ts";

/** The actor of an existing group id; 10015 for an id no group could have. */
export function groupNamed(env: Env, sdkAppId: number, groupId: string): DurableObjectStub<GroupActor> {
  if (!isWellFormedGroupId(groupId)) throw groupError(GroupErrorCode.invalidGroupId, `"${groupId}" is not a group id`);
  return groupActor(env, { sdkAppId, groupId });
}

/** Creates a group under the id asked for (checked: 10015, 10021, 10025) or a new one. */
export function createGroup(env: Env, sdkAppId: number, caller: GroupCaller, input: CreateGroupInput & { groupId?: string }): Promise<Outcome<{ groupId: string }>> {
  const { groupId: requested, ...rest } = input;
  let groupId: string;
  if (requested !== undefined) {
    checkCustomGroupId(input.type, requested);
    groupId = requested;
  } else groupId = generateGroupId(input.type, crypto.getRandomValues(new Uint8Array(generatedIdRandomBytes)));
  return groupActor(env, { sdkAppId, groupId }).create(caller, rest);
}
