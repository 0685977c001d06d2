/**
 * group_open_http_svc's attribute and counter commands: modify_group_attr,
 * set_group_attr, delete_group_attr, clear_group_attr, get_group_counter,
 * update_group_counter and delete_group_counter. The service's table takes
 * them from `groupAttrCommands`.
 */
import { z } from "zod";
import { groupNamed } from "../actors/group/entry.ts";
import type { GroupCaller } from "../actors/group/host.ts";
import { unwrap } from "../domain/errors.ts";
import { GroupErrorCode } from "../domain/group.ts";
import { counterLimits } from "../domain/groupData.ts";
import { optional } from "../domain/wire.ts";
import { command, type CommandContext } from "./command.ts";

const paramErrorCode = GroupErrorCode.invalidParameter;
const appAdmin: GroupCaller = { appAdmin: true };

export const GroupIdField = z.string({ error: "must be a string" });
/** Group attributes are written in lowercase: `[{key, value}]`. */
const GroupAttr = z.array(z.object({ key: z.string({ error: "must be a string" }), value: z.string({ error: "must be a string" }) }));
const CounterKeys = z.array(z.string({ error: "must be a string" })).max(counterLimits.maxKeys, `at most ${counterLimits.maxKeys} keys`);

export function groupOf(ctx: CommandContext, groupId: string) {
  return groupNamed(ctx.env, ctx.app.sdkAppId, groupId);
}

export const modifyGroupAttr = command({
  body: z.object({ GroupId: GroupIdField, GroupAttr: GroupAttr.min(1) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).writeAttributes({ ...appAdmin, adminId: ctx.caller }, { mode: "modify", attributes: body.GroupAttr }));
    return {};
  },
});

export const setGroupAttr = command({
  body: z.object({ GroupId: GroupIdField, GroupAttr }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).writeAttributes({ ...appAdmin, adminId: ctx.caller }, { mode: "set", attributes: body.GroupAttr }));
    return {};
  },
});

export const deleteGroupAttr = command({
  body: z.object({ GroupId: GroupIdField, GroupAttr: z.array(z.object({ key: z.string({ error: "must be a string" }) })).min(1) }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).writeAttributes({ ...appAdmin, adminId: ctx.caller }, { mode: "delete", keys: body.GroupAttr.map((a) => a.key) }));
    return {};
  },
});

export const clearGroupAttr = command({
  body: z.object({ GroupId: GroupIdField }),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(await groupOf(ctx, body.GroupId).writeAttributes({ ...appAdmin, adminId: ctx.caller }, { mode: "set", attributes: [] }));
    return {};
  },
});

const counterList = (counters: Record<string, number>) => Object.entries(counters).map(([Key, Value]) => ({ Key, Value }));

export const getGroupCounter = command({
  body: z.object({ GroupId: GroupIdField, GroupCounterKeys: optional(CounterKeys) }),
  paramErrorCode,
  async handle(ctx, body) {
    return { GroupCounter: counterList(unwrap(await groupOf(ctx, body.GroupId).counters(appAdmin, body.GroupCounterKeys))) };
  },
});

export const updateGroupCounter = command({
  body: z.object({
    GroupId: GroupIdField,
    GroupCounter: z
      .array(z.object({ Key: z.string({ error: "must be a string" }), Value: z.number({ error: "must be a number" }).int() }))
      .min(1)
      .max(counterLimits.maxKeys, `at most ${counterLimits.maxKeys} counters`),
    Mode: optional(z.enum(["Set", "Increase", "Decrease"])),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const changes = body.GroupCounter.map((c) => ({ key: c.Key, value: c.Value }));
    return { GroupCounter: counterList(unwrap(await groupOf(ctx, body.GroupId).updateCounters(appAdmin, body.Mode ?? "Set", changes))) };
  },
});

export const deleteGroupCounter = command({
  body: z.object({ GroupId: GroupIdField, GroupCounterKeys: optional(CounterKeys) }),
  paramErrorCode,
  async handle(ctx, body) {
    const keys = body.GroupCounterKeys && body.GroupCounterKeys.length > 0 ? body.GroupCounterKeys : undefined;
    unwrap(await groupOf(ctx, body.GroupId).deleteCounters(appAdmin, keys));
    return {};
  },
});

export const groupAttrCommands = {
  modify_group_attr: modifyGroupAttr,
  set_group_attr: setGroupAttr,
  delete_group_attr: deleteGroupAttr,
  clear_group_attr: clearGroupAttr,
  get_group_counter: getGroupCounter,
  update_group_counter: updateGroupCounter,
  delete_group_counter: deleteGroupCounter,
};
