/** Community topics: million_group_open_http_svc with Tencent's field names, client ops, and what members receive. */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { groupActor } from "../../src/actors/refs.ts";
import type { GroupCaller } from "../../src/actors/GroupActor.ts";
import type { GroupType } from "../../src/domain/group.ts";
import { ProtocolClient } from "../support/protocol-client.ts";
import { aRandom, TestClient, text } from "./clients.ts";
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

const groupConnection = (app: TestApp, userId: string) => TestClient.connectGroups(app, userId);

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

// ------------------------------------------------------------------------------------------ topic messages

const groupCommand = (app: TestApp, name: string, body: Record<string, unknown>) => app.rest(`group_open_http_svc/${name}`, body).then((a) => a.body);

/** send_group_msg's answer: MsgSeq and MsgTime when it went through. */
const sendTo = (app: TestApp, groupId: string, words: string, extra: Record<string, unknown> = {}) =>
  groupCommand(app, "send_group_msg", { GroupId: groupId, Random: aRandom(), MsgBody: text(words), ...extra }) as Promise<RestAnswer["body"] & { MsgSeq: number; MsgTime: number }>;

/** group_msg_get_simple's messages, newest first: [MsgSeq, text] (text "" for a recalled one). */
async function historyOf(app: TestApp, groupId: string, extra: Record<string, unknown> = {}): Promise<[number, string][]> {
  const body = await groupCommand(app, "group_msg_get_simple", { GroupId: groupId, ReqMsgNumber: 20, WithRecalledMsg: 1, ...extra });
  if (body.ErrorCode !== 0) throw new Error(`group_msg_get_simple failed: ${body.ErrorCode} ${body.ErrorInfo}`);
  return (body.RspMsgList as { MsgSeq: number; MsgBody: { MsgContent: { Text: string } }[] }[]).map((m) => [m.MsgSeq, m.MsgBody[0]?.MsgContent.Text ?? ""]);
}

/** get_topic's TopicInfo of one topic. */
async function topicInfoOf(app: TestApp, groupId: string, topicId: string): Promise<Record<string, unknown>> {
  const [item] = (await topicCommand(app, "get_topic", { GroupId: groupId, TopicIdList: [topicId] })).TopicAndSelfInfo as { TopicInfo: Record<string, unknown> }[];
  return item!.TopicInfo;
}

/** A topic-enabled community with two topics. */
async function aCommunityWithTopics() {
  const community = await aCommunity();
  const { app, groupId } = community;
  const { TopicId: music } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "music", TopicId: `${groupId}@TOPIC#_music` });
  const { TopicId: news } = await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "news" });
  return { ...community, music, news };
}

describe("topic messages over REST", () => {
  afterEach(() => ProtocolClient.closeAll());

  it("send_group_msg with TopicId numbers each topic from 1, apart from the group's own MsgSeq; get_topic's NextMsgSeq and LastMsgTime follow", async () => {
    const { app, groupId, owner, member, music, news } = await aCommunityWithTopics();
    expect(await sendTo(app, groupId, "group 1", { From_Account: owner })).toMatchObject({ ActionStatus: "OK", MsgSeq: 1, MsgDropReason: "" });
    expect(await sendTo(app, groupId, "music 1", { From_Account: member, TopicId: music })).toMatchObject({ ActionStatus: "OK", MsgSeq: 1 });
    const last = await sendTo(app, groupId, "music 2", { TopicId: music });
    expect(last).toMatchObject({ MsgSeq: 2 });
    expect(await sendTo(app, groupId, "news 1", { TopicId: news })).toMatchObject({ MsgSeq: 1 });
    // TopicId "" is the group's own stream, as Tencent clients send unused fields.
    expect(await sendTo(app, groupId, "group 2", { TopicId: "" })).toMatchObject({ MsgSeq: 2 });

    expect(await historyOf(app, groupId)).toEqual([
      [2, "group 2"],
      [1, "group 1"],
    ]);
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([
      [2, "music 2"],
      [1, "music 1"],
    ]);
    expect(await historyOf(app, groupId, { TopicId: news, ReqMsgSeq: 1 })).toEqual([[1, "news 1"]]);
    expect(await topicInfoOf(app, groupId, music)).toMatchObject({ NextMsgSeq: 3, LastMsgTime: last.MsgTime });
    expect(await topicInfoOf(app, groupId, news)).toMatchObject({ NextMsgSeq: 2 });
    const info = await groupCommand(app, "get_group_info", { GroupIdList: [groupId] });
    expect((info.GroupInfo as Record<string, unknown>[])[0]).toMatchObject({ NextMsgSeq: 3 });
  });

  it("a retried Random is the same message within its topic, and a new one in another stream", async () => {
    const { app, groupId, owner, music, news } = await aCommunityWithTopics();
    const random = aRandom();
    const first = await sendTo(app, groupId, "once", { From_Account: owner, Random: random, TopicId: music });
    expect(await sendTo(app, groupId, "once", { From_Account: owner, Random: random, TopicId: music })).toMatchObject({ MsgSeq: first.MsgSeq });
    expect(await sendTo(app, groupId, "once", { From_Account: owner, Random: random, TopicId: news })).toMatchObject({ MsgSeq: 1 });
    expect(await sendTo(app, groupId, "once", { From_Account: owner, Random: random })).toMatchObject({ MsgSeq: 1 });
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([[1, "once"]]);
    expect(await topicInfoOf(app, groupId, music)).toMatchObject({ NextMsgSeq: 2 });
  });

  it("group_msg_recall and modify_group_msg with TopicId act on the topic's message, not the group's of the same MsgSeq, and tell members' devices", async () => {
    const { app, groupId, member, music } = await aCommunityWithTopics();
    const device = await groupConnection(app, member);
    await sendTo(app, groupId, "group 1");
    const sent = await sendTo(app, groupId, "music 1", { TopicId: music });
    await sendTo(app, groupId, "music 2", { TopicId: music });

    const recall = await groupCommand(app, "group_msg_recall", { GroupId: groupId, TopicId: music, MsgSeqList: [{ MsgSeq: 1 }, { MsgSeq: 9 }] });
    expect(recall).toMatchObject({ ActionStatus: "OK" });
    expect(recall.RecallRetList).toEqual([
      { MsgSeq: 1, RetCode: 0, MsgKey: expect.stringMatching(new RegExp(`^1_\\d+_${sent.MsgTime}$`)) },
      { MsgSeq: 9, RetCode: 10030, MsgKey: "" },
    ]);
    const [revoked] = await device.waitForEvents<{ groupId: string; seq: number; topicId?: string }>("groupMessageRevoked", 1);
    expect(revoked).toEqual({ kind: "groupMessageRevoked", groupId, seq: 1, topicId: music });

    const modified = await app.rest("openim/modify_group_msg", { GroupId: groupId, TopicId: music, MsgSeq: 2, MsgBody: text("music 2, edited") });
    expect(modified.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    const [edit] = await device.waitForEvents<{ message: { topicId?: string; seq: number; body: unknown; isModified: boolean } }>("groupMessageModified", 1);
    expect(edit!.message).toMatchObject({ topicId: music, seq: 2, body: text("music 2, edited"), isModified: true });

    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([
      [2, "music 2, edited"],
      [1, ""],
    ]);
    expect(await historyOf(app, groupId)).toEqual([[1, "group 1"]]);
    // A recalled topic message cannot be edited (10030), like a group's.
    expect((await app.rest("openim/modify_group_msg", { GroupId: groupId, TopicId: music, MsgSeq: 1, MsgBody: text("x") })).body).toMatchObject({ ErrorCode: 10030 });
  });

  it("members' devices receive a topic's messages with its topicId, the group's own without", async () => {
    const { app, groupId, owner, member, music } = await aCommunityWithTopics();
    const device = await groupConnection(app, member);
    await sendTo(app, groupId, "in music", { From_Account: owner, TopicId: music });
    await sendTo(app, groupId, "in the group", { From_Account: owner });
    const events = await device.waitForEvents<{ message: Record<string, unknown> }>("groupMessage", 2);
    expect(events.map((e) => e.message)).toEqual([
      expect.objectContaining({ groupId, topicId: music, seq: 1, from: owner, body: text("in music") }),
      expect.not.objectContaining({ topicId: expect.anything() }),
    ]);
    expect(events[1]!.message).toMatchObject({ groupId, seq: 1, body: text("in the group") });
  });

  it("refuses TopicId in a group without topics (11000), an unknown, destroyed or other group's topic (10010), storing nothing", async () => {
    const { app, groupId, owner, music, news } = await aCommunityWithTopics();
    const other = await aCommunityWithTopics();
    const plain = await aCommunity({ type: "Public" });
    const noTopics = await aCommunity({ supportTopic: false });
    await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [news] });

    // The other community is in another app: its topic is unknown here as any other group's would be.
    for (const [inApp, target, topicId, code] of [
      [plain.app, plain.groupId, `${plain.groupId}@TOPIC#_x`, 11000],
      [noTopics.app, noTopics.groupId, `${noTopics.groupId}@TOPIC#_x`, 11000],
      [app, groupId, `${groupId}@TOPIC#_none`, 10010],
      [app, groupId, news, 10010],
      [app, groupId, other.music, 10010],
      [other.app, other.groupId, music, 10010],
    ] as [TestApp, string, string, number][]) {
      expect(await sendTo(inApp, target, "x", { TopicId: topicId }), `send to ${topicId}`).toMatchObject({ ActionStatus: "FAIL", ErrorCode: code });
      expect(await groupCommand(inApp, "group_msg_get_simple", { GroupId: target, ReqMsgNumber: 5, TopicId: topicId })).toMatchObject({ ErrorCode: code });
      expect(await groupCommand(inApp, "group_msg_recall", { GroupId: target, TopicId: topicId, MsgSeqList: [{ MsgSeq: 1 }] })).toMatchObject({ ErrorCode: code });
      expect((await inApp.rest("openim/modify_group_msg", { GroupId: target, TopicId: topicId, MsgSeq: 1, MsgBody: text("x") })).body).toMatchObject({ ErrorCode: code });
    }
    // Nothing was stored anywhere: the streams are as they were.
    expect(await historyOf(app, groupId)).toEqual([]);
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([]);
    expect(await historyOf(other.app, other.groupId, { TopicId: other.music })).toEqual([]);
    expect(await topicInfoOf(other.app, other.groupId, other.music)).toMatchObject({ NextMsgSeq: 1, LastMsgTime: 0 });
    expect(await historyOf(plain.app, plain.groupId)).toEqual([]);
    expect(await sendTo(app, groupId, "still works", { From_Account: owner, TopicId: music })).toMatchObject({ MsgSeq: 1 });
  });

  it("takes no read receipts for topic messages (10004)", async () => {
    const { app, groupId, owner, music } = await aCommunityWithTopics();
    expect(await sendTo(app, groupId, "x", { From_Account: owner, TopicId: music, NeedReadReceipt: 1 })).toMatchObject({ ErrorCode: 10004 });
    expect(await topicInfoOf(app, groupId, music)).toMatchObject({ NextMsgSeq: 1 });
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([]);
  });

  it("a topic destroyed and created again under its id starts from MsgSeq 1 with no history", async () => {
    const { app, groupId, music } = await aCommunityWithTopics();
    await sendTo(app, groupId, "old 1", { TopicId: music });
    await sendTo(app, groupId, "old 2", { TopicId: music });
    await topicCommand(app, "destroy_topic", { GroupId: groupId, TopicIdList: [music] });
    await topicCommand(app, "create_topic", { GroupId: groupId, TopicName: "music again", TopicId: music });
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([]);
    expect(await topicInfoOf(app, groupId, music)).toMatchObject({ NextMsgSeq: 1, LastMsgTime: 0 });
    expect(await sendTo(app, groupId, "new 1", { TopicId: music })).toMatchObject({ MsgSeq: 1 });
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([[1, "new 1"]]);
  });
});

describe("topic messages from clients", () => {
  afterEach(() => ProtocolClient.closeAll());

  type Page = { messages: { seq: number; topicId?: string; body: unknown }[]; complete: boolean };

  it("members send, page, catch up on, recall and edit a topic's messages with topicID", async () => {
    const { app, groupId, owner, member, music } = await aCommunityWithTopics();
    const ownerDevice = await groupConnection(app, owner);
    const client = await TestClient.connect(app, member);
    const first = await client.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, topicID: music, random: aRandom(), body: text("one") });
    expect(first.seq).toBe(1);
    const [delivered] = await ownerDevice.waitForEvents<{ message: { topicId?: string; seq: number; from: string } }>("groupMessage", 1);
    expect(delivered!.message).toMatchObject({ topicId: music, seq: 1, from: member });
    expect(await client.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, topicID: music, random: aRandom(), body: text("two") })).toMatchObject({ seq: 2 });
    expect(await client.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("group") })).toMatchObject({ seq: 1 });

    const page = await client.call<Page & { next: number }>("getGroupMessageList", { groupID: groupId, topicID: music, limit: 1 });
    expect(page).toMatchObject({ messages: [{ seq: 2, topicId: music, body: text("two") }], complete: false, next: 2 });
    const before = await client.call<Page>("getGroupMessageList", { groupID: groupId, topicID: music, before: page.messages[0]!.seq });
    expect(before).toMatchObject({ messages: [{ seq: 1, body: text("one") }], complete: true });
    const own = await client.call<Page>("getGroupMessageList", { groupID: groupId });
    expect(own.messages.map((m) => [m.seq, m.body, m.topicId])).toEqual([[1, text("group"), undefined]]);

    const caughtUp = await client.call<Page & { nextSeq: number; through: number }>("syncGroupMessages", { groupID: groupId, topicID: music, after: 1 });
    expect(caughtUp).toMatchObject({ messages: [{ seq: 2, topicId: music }], complete: true, through: 2, nextSeq: 3 });

    expect(await client.call("revokeGroupMessage", { groupID: groupId, topicID: music, seq: 1 })).toEqual({});
    expect((await ownerDevice.waitForEvents("groupMessageRevoked", 1))[0]).toEqual({ kind: "groupMessageRevoked", groupId, seq: 1, topicId: music });
    await client.call("modifyGroupMessage", { groupID: groupId, topicID: music, seq: 2, body: text("two, edited") });
    const [edit] = await ownerDevice.waitForEvents<{ message: { topicId?: string; seq: number; body: unknown } }>("groupMessageModified", 1);
    expect(edit!.message).toMatchObject({ topicId: music, seq: 2, body: text("two, edited") });
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([
      [2, "two, edited"],
      [1, ""],
    ]);
    expect(await historyOf(app, groupId)).toEqual([[1, "group"]]);
  });

  it("a muted topic refuses members (10017) but not its managers, and leaves the group and other topics open", async () => {
    const { app, groupId, owner, adminUser, member, music, news } = await aCommunityWithTopics();
    expect(await topicCommand(app, "modify_topic", { GroupId: groupId, TopicId: music, MuteAllMember: "On" })).toMatchObject({ ErrorCode: 0 });
    const [memberClient, adminClient, ownerClient] = await Promise.all([member, adminUser, owner].map((u) => TestClient.connect(app, u)));
    const say = (client: ProtocolClient, words: string, topicID?: string) =>
      client.request("sendGroupMessage", { groupID: groupId, ...(topicID ? { topicID } : {}), random: aRandom(), body: text(words) });
    expect((await say(memberClient!, "x", music)).code).toBe(10017);
    expect(await topicInfoOf(app, groupId, music)).toMatchObject({ NextMsgSeq: 1 });
    expect((await say(memberClient!, "news", news)).data).toMatchObject({ seq: 1 });
    expect((await say(memberClient!, "group")).data).toMatchObject({ seq: 1 });
    expect((await say(ownerClient!, "from the owner", music)).data).toMatchObject({ seq: 1 });
    expect((await say(adminClient!, "from an admin", music)).data).toMatchObject({ seq: 2 });
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([
      [2, "from an admin"],
      [1, "from the owner"],
    ]);
  });

  it("refuse a non-member (10007), another member's message (10007) and another group's topic (10010), changing nothing", async () => {
    const { app, groupId, owner, member, outsider, music } = await aCommunityWithTopics();
    const other = await aCommunityWithTopics();
    await sendTo(app, groupId, "the owner's", { From_Account: owner, TopicId: music });
    const outsiderClient = await TestClient.connect(app, outsider);
    const memberClient = await TestClient.connect(app, member);
    expect((await outsiderClient.request("sendGroupMessage", { groupID: groupId, topicID: music, random: aRandom(), body: text("x") })).code).toBe(10007);
    expect((await outsiderClient.request("getGroupMessageList", { groupID: groupId, topicID: music })).code).toBe(10007);
    expect((await outsiderClient.request("syncGroupMessages", { groupID: groupId, topicID: music, after: 0 })).code).toBe(10007);
    expect((await memberClient.request("modifyGroupMessage", { groupID: groupId, topicID: music, seq: 1, body: text("mine now") })).code).toBe(10007);
    expect((await memberClient.request("sendGroupMessage", { groupID: groupId, topicID: other.music, random: aRandom(), body: text("x") })).code).toBe(10010);
    expect((await memberClient.request("getGroupMessageList", { groupID: groupId, topicID: other.music })).code).toBe(10010);
    expect(await historyOf(app, groupId, { TopicId: music })).toEqual([[1, "the owner's"]]);
    expect(await topicInfoOf(app, groupId, music)).toMatchObject({ NextMsgSeq: 2 });
    expect(await historyOf(app, groupId)).toEqual([]);
  });

  it("leave the group conversation's unread count and last message to the group's own messages", async () => {
    const { app, groupId, owner, member, music } = await aCommunityWithTopics();
    await sendTo(app, groupId, "topic 1", { From_Account: owner, TopicId: music });
    await sendTo(app, groupId, "topic 2", { From_Account: owner, TopicId: music });
    await sendTo(app, groupId, "the group's", { From_Account: owner });
    const client = await TestClient.connect(app, member);
    type Listed = { conversations: { groupId?: string; unreadCount: number; lastMessage: { body: unknown } | null }[] };
    const deadline = Date.now() + 3000;
    let conversation: Listed["conversations"][number] | undefined;
    // The directory follows the group within about a second.
    while (Date.now() < deadline) {
      conversation = (await client.call<Listed>("getConversationList")).conversations.find((c) => c.groupId === groupId);
      if (conversation?.lastMessage) break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(conversation).toMatchObject({ unreadCount: 1, lastMessage: { body: text("the group's") } });
  });
});
