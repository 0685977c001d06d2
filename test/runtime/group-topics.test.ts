/** Community topics: million_group_open_http_svc with Tencent's field names, client ops, and what members receive. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { groupActor } from "../../src/actors/refs.ts";
import type { GroupCaller } from "../../src/actors/GroupActor.ts";
import type { GroupType } from "../../src/domain/group.ts";
import { ProtocolClient } from "../support/protocol-client.ts";
import { TestClient } from "./clients.ts";
import { appWithUsers, type RestAnswer, type TestApp } from "./helpers.ts";

let groupCounter = 0;
const admin: GroupCaller = { appAdmin: true };

/** A group whose owner is ids[0], with an admin (ids[1]) and plain members; a topic-enabled Community unless told otherwise. */
async function aCommunity(options: { type?: GroupType; supportTopic?: boolean } = {}) {
  const type = options.type ?? "Community";
  const { app, ids } = await appWithUsers(4);
  const [owner, adminUser, member, outsider] = ids as [string, string, string, string];
  const groupId = `${type === "Community" ? "@TGS#_" : ""}topics${Date.now().toString(36)}${groupCounter++}`;
  const stub = groupActor(env, { sdkAppId: app.sdkAppId, groupId });
  const created = await stub.create(admin, {
    type,
    name: "club",
    owner,
    members: [{ userId: adminUser, role: "Admin" }, { userId: member }],
    supportTopic: options.supportTopic ?? true,
  });
  if (!created.ok) throw new Error(`create failed: ${created.code} ${created.info}`);
  return { app, owner, adminUser, member, outsider, groupId, stub };
}

/** A million_group_open_http_svc command's answer (TopicId is there for create_topic). */
const topicCommand = (app: TestApp, name: string, body: unknown) =>
  app.rest(`million_group_open_http_svc/${name}`, body).then((a) => a.body as RestAnswer["body"] & { TopicId: string });

async function groupConnection(app: TestApp, userId: string): Promise<ProtocolClient> {
  const query = new URLSearchParams({ sdkappid: String(app.sdkAppId), userid: userId });
  const response = await SELF.fetch(`https://im.example/v1/groups?${query}`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket;
  if (!ws) throw new Error(`no WebSocket: ${response.status}`);
  ws.accept();
  const client = new ProtocolClient(ws, userId);
  const login = await client.request("login", { userSig: await app.sig(userId) });
  if (login.code !== 0) throw new Error(`login failed: ${JSON.stringify(login)}`);
  return client;
}

describe("create_topic", () => {
  it("generates {GroupId}@TOPIC#_… when no TopicId is given, and takes the app's own TopicId", async () => {
    const { app, groupId } = await aCommunity();
    const generated = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "general", TopicId: "" });
    expect(generated).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(generated.TopicId).toMatch(new RegExp(`^${groupId.replace(/[#$]/g, "\\$&")}@TOPIC#_[A-Z2-7]{10}$`));
    const custom = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "music", TopicId: `${groupId}@TOPIC#_music`, Introduction: "songs" });
    expect(custom).toMatchObject({ ActionStatus: "OK", TopicId: `${groupId}@TOPIC#_music` });
  });

  it("refuses a TopicId of another group (10004), one already used (10021), and oversize fields (10004), creating nothing", async () => {
    const { app, groupId } = await aCommunity();
    await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "music", TopicId: `${groupId}@TOPIC#_music` });
    const attempts: [Record<string, unknown>, number][] = [
      [{ TopicName: "x", TopicId: "@TGS#_other@TOPIC#_music" }, 10004],
      [{ TopicName: "x", TopicId: `${groupId}@TOPIC#_` }, 10004],
      [{ TopicName: "again", TopicId: `${groupId}@TOPIC#_music` }, 10021],
      [{ TopicName: "n".repeat(31) }, 10004],
      [{ TopicName: "" }, 10004],
      [{ TopicName: "x", CustomString: "c".repeat(3_001) }, 10004],
      [{ TopicName: "x", Notification: "n".repeat(301) }, 10004],
      [{}, 10004],
    ];
    for (const [fields, code] of attempts) {
      expect(await topicCommand(app, "create_topic", { GroupId: groupId, ...fields })).toMatchObject({ ActionStatus: "FAIL", ErrorCode: code });
    }
    const all = await topicCommand(app, "get_topic", { GroupId: groupId });
    expect((all.TopicAndSelfInfo as unknown[]).length).toBe(1);
  });

  it("answers 11000 in groups without topics: other types, and a Community created without SupportTopic", async () => {
    for (const options of [{ type: "Public" as const }, { supportTopic: false }]) {
      const { app, groupId } = await aCommunity(options);
      expect(await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "t" })).toMatchObject({ ErrorCode: 11000 });
      expect(await topicCommand(app, "get_topic", { GroupId: groupId })).toMatchObject({ ErrorCode: 11000 });
      expect(await topicCommand(app, "modify_topic", { GroupId: groupId, TopicId: `${groupId}@TOPIC#_t`, TopicName: "u" })).toMatchObject({ ErrorCode: 11000 });
      expect(await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [`${groupId}@TOPIC#_t`] })).toMatchObject({ ErrorCode: 11000 });
    }
  });
});

describe("get_topic", () => {
  it("lists every topic when TopicIdList is empty, and answers each asked-for topic with its own ErrorCode", async () => {
    const { app, groupId, member } = await aCommunity();
    const music = `${groupId}@TOPIC#_music`;
    await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "music", TopicId: music, FaceUrl: "https://f/m.png", CustomString: "{}" });
    const { TopicId: general } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "general" });

    const all = await topicCommand(app, "get_topic", { GroupId: groupId, From_Account: member, TopicIdList: [] });
    expect(all).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    const infos = all.TopicAndSelfInfo as { ErrorCode: number; TopicInfo: Record<string, unknown>; SelfInfo: Record<string, unknown> }[];
    expect(infos.map((i) => i.TopicInfo.TopicId).sort()).toEqual([general, music].sort());
    const musicInfo = infos.find((i) => i.TopicInfo.TopicId === music)!;
    expect(musicInfo).toMatchObject({
      ErrorCode: 0,
      ErrorInfo: "",
      TopicInfo: { TopicName: "music", GroupID: groupId, FaceUrl: "https://f/m.png", NextMsgSeq: 1, ShutUpAllFlag: 0, CustomString: "{}", LastMsgTime: 0 },
      SelfInfo: { ShutUpTime: 0, MsgFlag: "AcceptAndNotify" },
    });
    expect(musicInfo.TopicInfo.CreateTime).toBeGreaterThan(0);

    const some = await topicCommand(app, "get_topic", { GroupId: groupId, TopicIdList: [music, `${groupId}@TOPIC#_none`], ResponseFilter: ["TopicName"] });
    expect(some.TopicAndSelfInfo).toEqual([
      { ErrorCode: 0, ErrorInfo: "", TopicInfo: { TopicName: "music", TopicId: music } },
      { ErrorCode: 10010, ErrorInfo: expect.any(String), TopicInfo: { TopicId: `${groupId}@TOPIC#_none` } },
    ]);
  });
});

describe("modify_topic and destroy_topic", () => {
  it("change a topic's profile and mute it (MuteAllMember, or the earlier ShutUpAllMember)", async () => {
    const { app, groupId } = await aCommunity();
    const { TopicId } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "news", Notification: "read me" });
    const modified = await topicCommand(app, "modify_topic", { GroupId: groupId, TopicId, TopicName: "headlines", Notification: "", Introduction: "daily", MuteAllMember: "On" });
    expect(modified).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    const [info] = (await topicCommand(app, "get_topic", { GroupId: groupId, TopicIdList: [TopicId] })).TopicAndSelfInfo as { TopicInfo: Record<string, unknown> }[];
    expect(info!.TopicInfo).toMatchObject({ TopicName: "headlines", Notification: "", Introduction: "daily", ShutUpAllFlag: 1 });
    await topicCommand(app, "modify_topic", { GroupId: groupId, TopicId, ShutUpAllMember: "Off" });
    const [after] = (await topicCommand(app, "get_topic", { GroupId: groupId, TopicIdList: [TopicId] })).TopicAndSelfInfo as { TopicInfo: Record<string, unknown> }[];
    expect(after!.TopicInfo).toMatchObject({ TopicName: "headlines", ShutUpAllFlag: 0 });
  });

  it("refuses oversize fields (10004) and an unknown topic (10010), changing nothing", async () => {
    const { app, groupId } = await aCommunity();
    const { TopicId } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "news" });
    for (const fields of [{ TopicName: "n".repeat(31) }, { CustomString: "c".repeat(3_001) }, { FaceUrl: "f".repeat(101) }, { MuteAllMember: "Yes" }]) {
      expect(await topicCommand(app, "modify_topic", { GroupId: groupId, TopicId, ...fields })).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10004 });
    }
    expect(await topicCommand(app, "modify_topic", { GroupId: groupId, TopicId: `${groupId}@TOPIC#_none`, TopicName: "x" })).toMatchObject({ ErrorCode: 10010 });
    const [info] = (await topicCommand(app, "get_topic", { GroupId: groupId, TopicIdList: [TopicId] })).TopicAndSelfInfo as { TopicInfo: Record<string, unknown> }[];
    expect(info!.TopicInfo).toMatchObject({ TopicName: "news", CustomString: "", FaceUrl: "", ShutUpAllFlag: 0 });
  });

  it("destroy_topic answers each topic in DestroyResultItem: 0, 10010 unknown, 110003 already destroyed", async () => {
    const { app, groupId } = await aCommunity();
    const { TopicId } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "old" });
    const unknown = `${groupId}@TOPIC#_unknown`;
    const first = await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [TopicId, unknown] });
    expect(first).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(first.DestroyResultItem).toEqual([
      { ErrorCode: 0, ErrorInfo: "", TopicId },
      { ErrorCode: 10010, ErrorInfo: expect.any(String), TopicId: unknown },
    ]);
    const again = await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [TopicId] });
    expect(again.DestroyResultItem).toEqual([{ ErrorCode: 110003, ErrorInfo: expect.any(String), TopicId }]);
    expect((await topicCommand(app, "get_topic", { GroupId: groupId })).TopicAndSelfInfo).toEqual([]);
    expect(await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [] })).toMatchObject({ ErrorCode: 10004 });
  });

  it("a dismissed community's topics are gone: a new community under the same id starts without them", async () => {
    const { app, owner, groupId, stub } = await aCommunity();
    await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "old", TopicId: `${groupId}@TOPIC#_old` });
    expect((await stub.destroy(admin)).ok).toBe(true);
    expect(await topicCommand(app, "get_topic", { GroupId: groupId })).toMatchObject({ ErrorCode: 10010 });
    expect((await stub.create(admin, { type: "Community", name: "new", owner, supportTopic: true })).ok).toBe(true);
    expect((await topicCommand(app, "get_topic", { GroupId: groupId })).TopicAndSelfInfo).toEqual([]);
    expect(await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [`${groupId}@TOPIC#_old`] })).toMatchObject({
      DestroyResultItem: [{ ErrorCode: 10010 }],
    });
  });
});

describe("topics from clients", () => {
  it("are created and deleted by the owner and admins, listed by members, and announced to members' devices", async () => {
    const { app, owner, adminUser, member, groupId } = await aCommunity();
    const memberDevice = await groupConnection(app, member);
    const ownerClient = await TestClient.connect(app, owner);
    const adminClient = await TestClient.connect(app, adminUser);
    const memberClient = await TestClient.connect(app, member);

    const { topicID } = await ownerClient.call<{ topicID: string }>("createTopicInCommunity", { groupID: groupId, topicName: "lobby", avatar: "https://f/l.png", customData: "x" });
    expect(topicID.startsWith(`${groupId}@TOPIC#_`)).toBe(true);
    const [created] = await memberDevice.waitForEvents<{ topic: { topicId: string; name: string } }>("topicCreated", 1);
    expect(created!.topic).toMatchObject({ topicId: topicID, name: "lobby" });

    const list = await memberClient.call<{ successTopicList: unknown[]; failureTopicList: unknown[] }>("getTopicList", { groupID: groupId });
    expect(list.successTopicList).toEqual([
      expect.objectContaining({ topicID, topicName: "lobby", avatar: "https://f/l.png", customData: "x", muteAllMembers: false, introduction: "", notification: "" }),
    ]);
    expect(list.failureTopicList).toEqual([]);

    const updated = await adminClient.call<{ topic: { topicName: string; muteAllMembers: boolean } }>("updateTopicProfile", { groupID: groupId, topicID, topicName: "hall", muteAllMembers: true });
    expect(updated.topic).toMatchObject({ topicName: "hall", muteAllMembers: true });
    await memberDevice.waitForEvents("topicUpdated", 1);

    const deleted = await adminClient.call<{ successTopicList: unknown[]; failureTopicList: unknown[] }>("deleteTopicFromCommunity", {
      groupID: groupId,
      topicIDList: [topicID, `${groupId}@TOPIC#_none`],
    });
    expect(deleted.successTopicList).toEqual([{ topicID }]);
    expect(deleted.failureTopicList).toEqual([{ topicID: `${groupId}@TOPIC#_none`, code: 10010, message: expect.any(String) }]);
    const [gone] = await memberDevice.waitForEvents<{ topicIds: string[] }>("topicDeleted", 1);
    expect(gone!.topicIds).toEqual([topicID]);
  });

  it("refuse a member managing topics and a non-member reading them (10007), changing nothing", async () => {
    const { app, member, outsider, groupId } = await aCommunity();
    const { TopicId } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "rules" });
    const memberClient = await TestClient.connect(app, member);
    const outsiderClient = await TestClient.connect(app, outsider);
    expect((await memberClient.request("createTopicInCommunity", { groupID: groupId, topicName: "mine" })).code).toBe(10007);
    expect((await memberClient.request("updateTopicProfile", { groupID: groupId, topicID: TopicId, topicName: "mine" })).code).toBe(10007);
    expect((await memberClient.request("deleteTopicFromCommunity", { groupID: groupId, topicIDList: [TopicId] })).code).toBe(10007);
    expect((await outsiderClient.request("getTopicList", { groupID: groupId })).code).toBe(10007);
    const all = await topicCommand(app, "get_topic", { GroupId: groupId });
    expect(all.TopicAndSelfInfo).toEqual([expect.objectContaining({ ErrorCode: 0, TopicInfo: expect.objectContaining({ TopicId, TopicName: "rules" }) })]);
  });
});

describe("topicOf, for topic messages", () => {
  it("answers a live topic's profile, 10010 for an unknown or destroyed one, 11000 in a group without topics", async () => {
    const { app, groupId, stub } = await aCommunity();
    const { TopicId } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "live" });
    const found = await stub.topicOf(TopicId);
    expect(found).toMatchObject({ ok: true, value: { topicId: TopicId, name: "live", nextMsgSeq: 1 } });
    expect(await stub.topicOf(`${groupId}@TOPIC#_none`)).toMatchObject({ ok: false, code: 10010 });
    await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [TopicId] });
    expect(await stub.topicOf(TopicId)).toMatchObject({ ok: false, code: 10010 });
    const plain = await aCommunity({ type: "Public" });
    expect(await plain.stub.topicOf(`${plain.groupId}@TOPIC#_x`)).toMatchObject({ ok: false, code: 11000 });
  });
});
