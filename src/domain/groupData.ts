/**
 * A group's shared data beside its profile: who may read and write its
 * attributes (their limits are `applyGroupAttributes` in group.ts), and its
 * counters, integers changed by Set, Increase or Decrease.
 */
import { utf8Length } from "./account.ts";
import { GroupErrorCode, groupError, type GroupAttribute, type GroupProfile } from "./group.ts";
import type { Actor } from "./groupRules.ts";

/** Members read and write attributes (seat lists and the like); app admins too. */
export function decideAttributeAccess(actor: Actor): void {
  if (actor === "NotMember") throw groupError(GroupErrorCode.noPermission, "only members use the group's attributes");
}

/**
 * The write a caller made was against attributes that have changed since it read them (10056):
 * it must read them again before writing.
 */
export function checkAttributeVersion(expected: number | undefined, current: number): void {
  if (expected !== undefined && expected !== current) {
    throw groupError(GroupErrorCode.attributeWriteConflict, `the attributes changed since version ${expected} (now ${current}); read them again`);
  }
}

export function sameAttributes(a: readonly GroupAttribute[], b: readonly GroupAttribute[]): boolean {
  if (a.length !== b.length) return false;
  const before = new Map(a.map((item) => [item.key, item.value]));
  return b.every((item) => before.get(item.key) === item.value);
}

// ---------------------------------------------------------------------------------------------
// Counters

export type CounterMode = "Set" | "Increase" | "Decrease";

/** Tencent's counter limits: 20 keys a group, keys of 1–128 bytes, signed 64-bit values. */
export const counterLimits = { maxKeys: 20, maxKeyBytes: 128 } as const;

/**
 * JSON numbers are exact only within ±(2^53−1), so values stay there rather than at int64's
 * full range: a value outside it would come back different from what was stored.
 */
const maxCounterValue = Number.MAX_SAFE_INTEGER;

export interface CounterChange {
  key: string;
  value: number;
}

/** Counters exist in every group but a topic-enabled community (Tencent's rule). */
export function decideCountersAllowed(profile: Pick<GroupProfile, "type" | "supportTopic">): void {
  if (profile.type === "Community" && profile.supportTopic) {
    throw groupError(GroupErrorCode.noPermission, "a Community group with topics has no counters");
  }
}

/** Members read and change counters; app admins too. */
export function decideCounterAccess(actor: Actor): void {
  if (actor === "NotMember") throw groupError(GroupErrorCode.noPermission, "only members use the group's counters");
}

/**
 * Applies counter changes. Set stores the value; Increase and Decrease add or subtract it from
 * the current value (0 for a new key). Answers every counter and the changed ones' new values;
 * a result beyond the limits changes nothing (10004).
 */
export function applyGroupCounters(
  current: Readonly<Record<string, number>>,
  mode: CounterMode,
  changes: readonly CounterChange[],
): { counters: Record<string, number>; changed: Record<string, number> } {
  const counters: Record<string, number> = { ...current };
  const changed: Record<string, number> = {};
  for (const { key, value } of changes) {
    if (key.length === 0 || utf8Length(key) > counterLimits.maxKeyBytes) {
      throw groupError(GroupErrorCode.invalidParameter, `counter keys are 1–${counterLimits.maxKeyBytes} bytes`);
    }
    if (!Number.isSafeInteger(value)) throw groupError(GroupErrorCode.invalidParameter, `the value of counter ${key} must be an integer within ±${maxCounterValue}`);
    const before = Object.hasOwn(counters, key) ? counters[key]! : 0;
    const after = mode === "Set" ? value : mode === "Increase" ? before + value : before - value;
    if (!Number.isSafeInteger(after)) throw groupError(GroupErrorCode.invalidParameter, `counter ${key} would leave ±${maxCounterValue}`);
    counters[key] = after;
    changed[key] = after;
  }
  if (Object.keys(counters).length > counterLimits.maxKeys) {
    throw groupError(GroupErrorCode.invalidParameter, `a group holds at most ${counterLimits.maxKeys} counters`);
  }
  return { counters, changed };
}

/** Removes these counters (all when `keys` is absent); answers what is left and what went. */
export function deleteGroupCounters(current: Readonly<Record<string, number>>, keys?: readonly string[]): { counters: Record<string, number>; deleted: string[] } {
  const counters: Record<string, number> = { ...current };
  const deleted: string[] = [];
  for (const key of keys ?? Object.keys(current)) {
    if (Object.hasOwn(counters, key)) {
      delete counters[key];
      deleted.push(key);
    }
  }
  return { counters, deleted };
}
