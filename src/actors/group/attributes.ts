/**
 * A group's attributes (key/value pairs members share, e.g. a seat list) and
 * its counters. Each write is checked by the pure rules, stored, and then
 * told to every member (GROUP_ATTRIBUTES_UPDATED, GROUP_COUNTER_UPDATED).
 */
import { applyGroupAttributes, type GroupAttribute } from "../../domain/group.ts";
import {
  applyGroupCounters,
  checkAttributeVersion,
  decideAttributeAccess,
  decideCounterAccess,
  decideCountersAllowed,
  deleteGroupCounters,
  sameAttributes,
  type CounterChange,
  type CounterMode,
} from "../../domain/groupData.ts";
import { afterGroupAttrChangedFields, GroupCallback, type AttrOptionType } from "../../domain/groupCallbacks.ts";
import { operatorOf } from "./callbacks.ts";
import type { GroupCaller, GroupHost } from "./host.ts";

/** "set" replaces every attribute, "modify" adds or replaces the keys given, "delete" removes them. */
export type AttributeWrite = { mode: "set" | "modify"; attributes: GroupAttribute[] } | { mode: "delete"; keys: string[] };

export interface AttributesRead {
  attributes: GroupAttribute[];
  /** Changes with every write; a writer that names an older one is refused with 10056. */
  version: number;
}

export class GroupAttributes {
  private readonly host: GroupHost;

  constructor(host: GroupHost) {
    this.host = host;
  }

  /** The attributes, all of them or those of `keys`. */
  read(caller: GroupCaller, keys?: string[]): AttributesRead {
    this.host.profile();
    decideAttributeAccess(this.host.actorOf(caller).actor);
    const { attributes, version } = this.host.store.attributes();
    return { attributes: keys && keys.length > 0 ? attributes.filter((a) => keys.includes(a.key)) : attributes, version };
  }

  async write(caller: GroupCaller, change: AttributeWrite, expectedVersion?: number): Promise<AttributesRead> {
    const settings = await this.host.settings();
    const limits = settings.groups.attributes;
    // Read after the await: another write may have landed while the app's limits were loading.
    const profile = this.host.profile();
    decideAttributeAccess(this.host.actorOf(caller).actor);
    const current = this.host.store.attributes();
    checkAttributeVersion(expectedVersion, current.version);
    const next =
      change.mode === "delete"
        ? applyGroupAttributes(current.attributes, "delete", change.keys, limits)
        : applyGroupAttributes(current.attributes, change.mode, change.attributes, limits);
    if (sameAttributes(current.attributes, next)) return current;
    const version = current.version + 1;
    this.host.transaction(() => {
      this.host.store.setAttributes(next, version);
      this.host.callbacks.after(settings, GroupCallback.afterGroupAttrChanged, caller, afterGroupAttrChangedFields(profile, operatorOf(caller), ...attrChange(change)));
    });
    this.host.callbacks.deliverSoon();
    this.host.publish(
      { kind: "groupAttributesUpdated", groupId: this.host.groupId, groupAttributes: Object.fromEntries(next.map((a) => [a.key, a.value])) },
      this.host.store.allMemberIds(),
    );
    return { attributes: next, version };
  }

  /** The counters, all of them or those of `keys` that exist. */
  counters(caller: GroupCaller, keys?: string[]): Record<string, number> {
    this.checkCounters(caller);
    const counters = this.host.store.counters();
    if (!keys || keys.length === 0) return counters;
    return Object.fromEntries(keys.filter((key) => Object.hasOwn(counters, key)).map((key) => [key, counters[key]!]));
  }

  /** Sets, increases or decreases counters; answers the changed ones' new values. */
  updateCounters(caller: GroupCaller, mode: CounterMode, changes: CounterChange[]): Record<string, number> {
    this.checkCounters(caller);
    const { counters, changed } = applyGroupCounters(this.host.store.counters(), mode, changes);
    this.host.store.setCounters(counters);
    this.host.publish({ kind: "groupCounterUpdated", groupId: this.host.groupId, counters: changed, deletedKeys: [] }, this.host.store.allMemberIds());
    return changed;
  }

  /** Deletes counters (all when `keys` is absent); answers the keys that were there. */
  deleteCounters(caller: GroupCaller, keys?: string[]): string[] {
    this.checkCounters(caller);
    const { counters, deleted } = deleteGroupCounters(this.host.store.counters(), keys);
    if (deleted.length === 0) return deleted;
    this.host.store.setCounters(counters);
    this.host.publish({ kind: "groupCounterUpdated", groupId: this.host.groupId, counters: {}, deletedKeys: deleted }, this.host.store.allMemberIds());
    return deleted;
  }

  private checkCounters(caller: GroupCaller): void {
    decideCountersAllowed(this.host.profile());
    decideCounterAccess(this.host.actorOf(caller).actor);
  }
}

/** OptionType and GroupAttr of Group.CallbackAfterGroupAttrChanged: a set of nothing is clear_group_attr; a delete names its keys. */
function attrChange(change: AttributeWrite): [AttrOptionType, GroupAttribute[]] {
  if (change.mode === "delete") return ["delete", change.keys.map((key) => ({ key, value: "" }))];
  if (change.mode === "set" && change.attributes.length === 0) return ["clear", []];
  return [change.mode, change.attributes];
}
