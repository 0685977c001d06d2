/** Group attributes and counters: REST with Tencent's field names, client ops, and the events members receive. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { groupActor } from "../../src/actors/refs.ts";
import type { GroupCaller } from "../../src/actors/GroupActor.ts";
import type { GroupType } from "../../src/domain/group.ts";
import { groupAttrCommands } from "../../src/rest/group_attr_commands.ts";
import { TestClient } from "./clients.ts";
import { appWithUsers, type RestAnswer, type TestApp } from "./helpers.ts";

let groupCounter = 0;

async function aGroup(type: GroupType, options: { size?: number; supportTopic?: boolean } = {}) {
  const { app, ids } = await appWithUsers(options.size ?? 3);
  const [owner, ...others] = ids as [string, ...string[]];
  const groupId = `${type === "Community" ? "@TGS#_" : ""}attr${Date.now().toString(36)}${groupCounter++}`;
  const stub = groupActor(env, { sdkAppId: app.sdkAppId, groupId });
  const admin: GroupCaller = { appAdmin: true };
  const created = await stub.create(admin, { type, name: "team", owner, members: others.map((userId) => ({ userId })), supportTopic: options.supportTopic ?? false });
  if (!created.ok) throw new Error(`create failed: ${created.code} ${created.info}`);
  return { app, owner, others, groupId, stub };
}

const groupConnection = (app: TestApp, userId: string) => TestClient.connectGroups(app, userId);

/** A group_open_http_svc attribute or counter command, through the REST door. */
async function groupOpen(app: TestApp, name: keyof typeof groupAttrCommands, body: unknown): Promise<RestAnswer["body"]> {
  return (await app.rest(`group_open_http_svc/${name}`, body)).body;
}

async function attributesOf(app: TestApp, groupId: string) {
  const answer = await app.rest("group_open_attr_http_svc/get_group_attr", { GroupId: groupId });
  expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
  return answer.body.GroupAttrAry as { key: string; value: string }[];
}

async function countersOf(app: TestApp, groupId: string, keys?: string[]) {
  const answer = await groupOpen(app, "get_group_counter", { GroupId: groupId, ...(keys ? { GroupCounterKeys: keys } : {}) });
  expect(answer).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
  return answer.GroupCounter as { Key: string; Value: number }[];
}

describe("group attributes over REST", () => {
  it("are set, modified, deleted and cleared, and read back with get_group_attr", async () => {
    const { app, groupId } = await aGroup("Public");
    expect(await attributesOf(app, groupId)).toEqual([]);

    const set = await groupOpen(app, "set_group_attr", { GroupId: groupId, GroupAttr: [{ key: "seat1", value: "alice" }, { key: "seat2", value: "bob" }] });
    expect(set).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(await attributesOf(app, groupId)).toEqual([{ key: "seat1", value: "alice" }, { key: "seat2", value: "bob" }]);

    await groupOpen(app, "modify_group_attr", { GroupId: groupId, GroupAttr: [{ key: "seat2", value: "carol" }, { key: "topic", value: "music" }] });
    expect(await attributesOf(app, groupId)).toEqual([{ key: "seat1", value: "alice" }, { key: "seat2", value: "carol" }, { key: "topic", value: "music" }]);

    await groupOpen(app, "delete_group_attr", { GroupId: groupId, GroupAttr: [{ key: "seat1" }] });
    expect(await attributesOf(app, groupId)).toEqual([{ key: "seat2", value: "carol" }, { key: "topic", value: "music" }]);

    // set_group_attr replaces every attribute.
    await groupOpen(app, "set_group_attr", { GroupId: groupId, GroupAttr: [{ key: "only", value: "1" }] });
    expect(await attributesOf(app, groupId)).toEqual([{ key: "only", value: "1" }]);

    expect(await groupOpen(app, "clear_group_attr", { GroupId: groupId })).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(await attributesOf(app, groupId)).toEqual([]);
  });

  it("tells every member's devices the attributes as they now are", async () => {
    const { app, owner, others, groupId } = await aGroup("Public");
    const devices = await Promise.all([owner, ...others].map((id) => groupConnection(app, id)));
    await groupOpen(app, "modify_group_attr", { GroupId: groupId, GroupAttr: [{ key: "seat1", value: "alice" }] });
    await groupOpen(app, "modify_group_attr", { GroupId: groupId, GroupAttr: [{ key: "seat2", value: "bob" }] });
    for (const device of devices) {
      const events = await device.waitForEvents<{ groupId: string; groupAttributes: Record<string, string> }>("groupAttributesUpdated", 2);
      expect(events.at(-1)).toEqual({ kind: "groupAttributesUpdated", groupId, groupAttributes: { seat1: "alice", seat2: "bob" } });
    }
  });

  it("refuses more than 16 keys, a value over 4,000 bytes and more than 16,000 bytes in all (10004), changing nothing", async () => {
    const { app, groupId } = await aGroup("ChatRoom");
    await groupOpen(app, "set_group_attr", { GroupId: groupId, GroupAttr: [{ key: "kept", value: "yes" }] });
    const tooMany = Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    const attempts = [
      { GroupAttr: tooMany },
      { GroupAttr: [{ key: "big", value: "x".repeat(4_001) }] },
      { GroupAttr: Array.from({ length: 4 }, (_, i) => ({ key: `part${i}`, value: "x".repeat(4_000) })) },
      { GroupAttr: [{ key: "", value: "empty key" }] },
      { GroupAttr: [{ key: "n", value: 5 }] },
    ];
    for (const attempt of attempts) {
      const answer = await groupOpen(app, "modify_group_attr", { GroupId: groupId, ...attempt });
      expect(answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10004 });
    }
    expect(await attributesOf(app, groupId)).toEqual([{ key: "kept", value: "yes" }]);
    // Sixteen keys, the limit itself, are accepted.
    expect(await groupOpen(app, "set_group_attr", { GroupId: groupId, GroupAttr: tooMany })).toMatchObject({ ErrorCode: 0 });
    expect(await attributesOf(app, groupId)).toHaveLength(16);
  });

  it("answers 10010 for a group that does not exist or was dismissed, 10015 for an id no group could have, 10004 without GroupId", async () => {
    const { app, groupId, stub } = await aGroup("Public");
    await groupOpen(app, "set_group_attr", { GroupId: groupId, GroupAttr: [{ key: "a", value: "1" }] });
    expect((await stub.destroy({ appAdmin: true })).ok).toBe(true);
    expect((await app.rest("group_open_attr_http_svc/get_group_attr", { GroupId: groupId })).body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10010 });
    expect(await groupOpen(app, "modify_group_attr", { GroupId: groupId, GroupAttr: [{ key: "a", value: "2" }] })).toMatchObject({ ErrorCode: 10010 });
    expect((await app.rest("group_open_attr_http_svc/get_group_attr", { GroupId: "no such group" })).body).toMatchObject({ ErrorCode: 10010 });
    expect((await app.rest("group_open_attr_http_svc/get_group_attr", { GroupId: "x".repeat(49) })).body).toMatchObject({ ErrorCode: 10015 });
    expect((await app.rest("group_open_attr_http_svc/get_group_attr", {})).body).toMatchObject({ ErrorCode: 10004, ErrorInfo: "GroupId: is required" });
  });

  it("are gone with a dismissed group: a new group under the same id starts without them", async () => {
    const { app, owner, groupId, stub } = await aGroup("Public");
    await groupOpen(app, "set_group_attr", { GroupId: groupId, GroupAttr: [{ key: "old", value: "1" }] });
    await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "likes", Value: 3 }] });
    expect((await stub.destroy({ appAdmin: true })).ok).toBe(true);
    expect((await stub.create({ appAdmin: true }, { type: "Public", name: "again", owner })).ok).toBe(true);
    expect(await attributesOf(app, groupId)).toEqual([]);
    expect(await countersOf(app, groupId)).toEqual([]);
  });
});

describe("group attributes from clients", () => {
  it("are read and written by members with getGroupAttributes, setGroupAttributes and deleteGroupAttributes", async () => {
    const { app, owner, others, groupId } = await aGroup("Public");
    const member = await TestClient.connect(app, others[0]!);
    const set = await member.call<{ groupAttributes: Record<string, string>; version: number }>("setGroupAttributes", {
      groupID: groupId,
      groupAttributes: { seat1: others[0]!, seat2: owner },
    });
    expect(set.groupAttributes).toEqual({ seat1: others[0], seat2: owner });
    const read = await member.call<{ groupAttributes: Record<string, string> }>("getGroupAttributes", { groupID: groupId, keyList: ["seat2"] });
    expect(read.groupAttributes).toEqual({ seat2: owner });
    await member.call("deleteGroupAttributes", { groupID: groupId, keyList: ["seat1"] });
    expect(await attributesOf(app, groupId)).toEqual([{ key: "seat2", value: owner }]);
    await member.call("deleteGroupAttributes", { groupID: groupId });
    expect(await attributesOf(app, groupId)).toEqual([]);
  });

  it("refuses a non-member (10007) and a write against attributes changed since it read them (10056), changing nothing", async () => {
    const { app, others, groupId, stub } = await aGroup("Public", { size: 4 });
    const outsider = others.at(-1)!;
    expect((await stub.removeMembers({ appAdmin: true }, [outsider])).ok).toBe(true);
    const stranger = await TestClient.connect(app, outsider);
    expect((await stranger.request("getGroupAttributes", { groupID: groupId })).code).toBe(10007);
    expect((await stranger.request("setGroupAttributes", { groupID: groupId, groupAttributes: { seat: "me" } })).code).toBe(10007);

    const first = await TestClient.connect(app, others[0]!);
    const second = await TestClient.connect(app, others[1]!);
    const seen = await first.call<{ version: number }>("getGroupAttributes", { groupID: groupId });
    await second.call("setGroupAttributes", { groupID: groupId, groupAttributes: { seat: "second" } });
    const late = await first.request("setGroupAttributes", { groupID: groupId, groupAttributes: { seat: "first" }, version: seen.version });
    expect(late.code).toBe(10056);
    expect(await attributesOf(app, groupId)).toEqual([{ key: "seat", value: "second" }]);
    const fresh = await first.call<{ version: number }>("getGroupAttributes", { groupID: groupId });
    await first.call("setGroupAttributes", { groupID: groupId, groupAttributes: { seat: "first" }, version: fresh.version });
    expect(await attributesOf(app, groupId)).toEqual([{ key: "seat", value: "first" }]);
  });
});

describe("group counters over REST", () => {
  it("are set, increased and decreased, answering the changed counters' values", async () => {
    const { app, groupId } = await aGroup("Public");
    const set = await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "likes", Value: 10 }, { Key: "gifts", Value: 2 }], Mode: "Set" });
    expect(set).toMatchObject({ ActionStatus: "OK", GroupCounter: [{ Key: "likes", Value: 10 }, { Key: "gifts", Value: 2 }] });
    const up = await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "likes", Value: 5 }, { Key: "views", Value: 1 }], Mode: "Increase" });
    expect(up.GroupCounter).toEqual([{ Key: "likes", Value: 15 }, { Key: "views", Value: 1 }]);
    const down = await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "gifts", Value: 7 }], Mode: "Decrease" });
    expect(down.GroupCounter).toEqual([{ Key: "gifts", Value: -5 }]);
    expect(await countersOf(app, groupId, ["likes", "nothing"])).toEqual([{ Key: "likes", Value: 15 }]);
    expect(await countersOf(app, groupId)).toEqual([{ Key: "likes", Value: 15 }, { Key: "gifts", Value: -5 }, { Key: "views", Value: 1 }]);
  });

  it("are deleted by key, or all at once", async () => {
    const { app, groupId } = await aGroup("Private");
    await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "a", Value: 1 }, { Key: "b", Value: 2 }, { Key: "c", Value: 3 }] });
    expect(await groupOpen(app, "delete_group_counter", { GroupId: groupId, GroupCounterKeys: ["a"] })).toMatchObject({ ActionStatus: "OK" });
    expect(await countersOf(app, groupId)).toEqual([{ Key: "b", Value: 2 }, { Key: "c", Value: 3 }]);
    await groupOpen(app, "delete_group_counter", { GroupId: groupId });
    expect(await countersOf(app, groupId)).toEqual([]);
  });

  it("tell members' devices which counters changed and which were deleted", async () => {
    const { app, others, groupId } = await aGroup("Public");
    const device = await groupConnection(app, others[0]!);
    await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "likes", Value: 1 }], Mode: "Increase" });
    await groupOpen(app, "delete_group_counter", { GroupId: groupId, GroupCounterKeys: ["likes"] });
    const events = await device.waitForEvents("groupCounterUpdated", 2);
    expect(events).toEqual([
      { kind: "groupCounterUpdated", groupId, counters: { likes: 1 }, deletedKeys: [] },
      { kind: "groupCounterUpdated", groupId, counters: {}, deletedKeys: ["likes"] },
    ]);
  });

  it("refuses a 21st counter, a non-integer, a value leaving ±(2^53−1) and a bad Mode (10004), changing nothing", async () => {
    const { app, groupId } = await aGroup("Public");
    const twenty = Array.from({ length: 20 }, (_, i) => ({ Key: `c${i}`, Value: i }));
    expect(await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: twenty })).toMatchObject({ ErrorCode: 0 });
    const attempts = [
      { GroupCounter: [{ Key: "c20", Value: 1 }] },
      { GroupCounter: [{ Key: "c0", Value: 1.5 }] },
      { GroupCounter: [{ Key: "c1", Value: "2" }] },
      { GroupCounter: [{ Key: "c1", Value: Number.MAX_SAFE_INTEGER }], Mode: "Increase" },
      { GroupCounter: [{ Key: "c1", Value: 1 }], Mode: "Multiply" },
      { GroupCounter: [{ Key: "k".repeat(129), Value: 1 }] },
      { GroupCounter: [] },
    ];
    for (const attempt of attempts) {
      expect(await groupOpen(app, "update_group_counter", { GroupId: groupId, ...attempt })).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10004 });
    }
    expect(await countersOf(app, groupId)).toEqual(twenty);
  });

  it("do not exist in a Community group with topics (10007)", async () => {
    const { app, groupId } = await aGroup("Community", { supportTopic: true });
    expect(await groupOpen(app, "update_group_counter", { GroupId: groupId, GroupCounter: [{ Key: "a", Value: 1 }] })).toMatchObject({ ErrorCode: 10007 });
    expect(await groupOpen(app, "get_group_counter", { GroupId: groupId })).toMatchObject({ ErrorCode: 10007 });
  });
});
