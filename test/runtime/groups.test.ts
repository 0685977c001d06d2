/** Groups through their actors: membership, messages by MsgSeq, fan-out through the hubs, the directory. */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { groupActor } from "../../src/actors/refs.ts";
import type { GroupActor, GroupCaller } from "../../src/actors/GroupActor.ts";
import type { GroupHost } from "../../src/actors/group/host.ts";
import type { GroupType } from "../../src/domain/group.ts";
import type { GroupMessage } from "../../src/domain/groupMessage.ts";
import type { Outcome } from "../../src/domain/errors.ts";
import { GroupDirectory } from "../../src/store/groups.ts";
import { ProtocolClient } from "../support/protocol-client.ts";
import { aRandom, TestClient, text } from "./clients.ts";
import { appWithUsers, type TestApp } from "./helpers.ts";

let groupCounter = 0;

async function aGroup(type: GroupType, size = 4, settings = {}) {
  const { app, ids } = await appWithUsers(size, settings);
  const [owner, ...others] = ids as [string, ...string[]];
  const groupId = `g${Date.now().toString(36)}${groupCounter++}`;
  const ref = { sdkAppId: app.sdkAppId, groupId };
  const stub = groupActor(env, ref);
  const admin: GroupCaller = { appAdmin: true };
  const as = (userId: string): GroupCaller => ({ userId, appAdmin: false });
  ok(await stub.create(admin, { type, name: "team", owner }));
  return { app, ids, owner, others, groupId, stub, admin, as };
}

function ok<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected OK, got ${outcome.code} ${outcome.info}`);
  return outcome.value;
}

function code(outcome: Outcome<unknown>): number {
  return outcome.ok ? 0 : outcome.code;
}

const groupConnection = (app: TestApp, userId: string) => TestClient.connectGroups(app, userId);

const messagesOf = (client: ProtocolClient) => client.eventsOf<{ message: GroupMessage }>("groupMessage").map((e) => e.message);

describe("Public group", () => {
  it("needs the owner's approval to join; the applicant then receives the group's messages", async () => {
    const { app, owner, others, stub, as } = await aGroup("Public");
    const [applicant] = others as [string];
    const ownerDevice = await groupConnection(app, owner);
    const applicantDevice = await groupConnection(app, applicant);
    expect(ok(await stub.join(as(applicant), "let me in"))).toEqual({ status: "WaitAdminApproval" });
    const [request] = await ownerDevice.waitForEvents<{ operationType: number; operatorId: string; message: string }>("groupSystemNotice", 1);
    expect(request).toMatchObject({ operationType: 1, operatorId: applicant, message: "let me in" });
    expect(code(await stub.sendMessage(as(applicant), { random: aRandom(), body: text("too early") }))).toBe(10007);

    ok(await stub.handleApplication(as(owner), applicant, true));
    await applicantDevice.waitForEvents("groupListUpdated", 1);
    const sent = ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("welcome") }));
    expect(sent).toMatchObject({ seq: 1, dropReason: "" });
    const [received] = await applicantDevice.waitForEvents<{ message: GroupMessage }>("groupMessage", 1);
    expect(received!.message).toMatchObject({ seq: 1, from: owner, body: text("welcome") });
  });

  it("does not show a late joiner the history from before it joined", async () => {
    const { owner, others, stub, admin, as } = await aGroup("Public");
    const [late] = others as [string];
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("before") }));
    ok(await stub.addMembers(admin, [late]));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("after") }));
    const history = ok(await stub.history(as(late), { count: 20 }));
    expect(history.messages.map((m) => m.body)).toEqual([text("after")]);
  });

  it("refuses a muted member (10017) and a member of a muted-all group, but not the owner", async () => {
    const { owner, others, stub, admin, as } = await aGroup("Public");
    const [member] = others as [string];
    ok(await stub.addMembers(admin, [member]));
    ok(await stub.mute(as(owner), [member], 60));
    expect(code(await stub.sendMessage(as(member), { random: aRandom(), body: text("hi") }))).toBe(10017);
    ok(await stub.mute(as(owner), [member], 0));
    expect(code(await stub.sendMessage(as(member), { random: aRandom(), body: text("hi") }))).toBe(0);
    ok(await stub.modifyProfile(as(owner), { muteAllMember: true }));
    expect(code(await stub.sendMessage(as(member), { random: aRandom(), body: text("hi") }))).toBe(10017);
    expect(code(await stub.sendMessage(as(owner), { random: aRandom(), body: text("hi") }))).toBe(0);
  });

  it("does not let the owner quit (10009), nor a member kick another (10007)", async () => {
    const { owner, others, stub, admin, as } = await aGroup("Public");
    ok(await stub.addMembers(admin, others));
    expect(code(await stub.quit(as(owner)))).toBe(10009);
    expect(code(await stub.removeMembers(as(others[0]!), [others[1]!]))).toBe(10007);
  });
});

describe("Meeting group", () => {
  it("shows a late joiner the history from before it joined, and lets anyone join without approval", async () => {
    const { owner, others, stub, as } = await aGroup("ChatRoom");
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("before") }));
    expect(ok(await stub.join(as(others[0]!)))).toEqual({ status: "JoinedSuccess" });
    const history = ok(await stub.history(as(others[0]!), { count: 20 }));
    expect(history.messages.map((m) => m.body)).toEqual([text("before")]);
  });
});

describe("Work group", () => {
  it("is joined by invitation only, and only the app admin dismisses it", async () => {
    const { owner, others, stub, admin, as } = await aGroup("Private");
    expect(code(await stub.join(as(others[0]!)))).toBe(10007);
    expect(ok(await stub.addMembers(as(owner), [others[0]!]))).toEqual([{ userId: others[0], result: 1 }]);
    expect(code(await stub.destroy(as(owner)))).toBe(10007);
    ok(await stub.destroy(admin));
    expect(code(await stub.info(admin))).toBe(10010);
  });
});

describe("group messages", () => {
  it("numbers messages from 1, does not store a retried send twice, and reaches every member's devices", async () => {
    const { app, owner, others, stub, admin, as } = await aGroup("Public", 5);
    ok(await stub.addMembers(admin, others));
    const devices = await Promise.all(others.map((id) => groupConnection(app, id)));
    const random = aRandom();
    const first = ok(await stub.sendMessage(as(owner), { random, body: text("one") }));
    const again = ok(await stub.sendMessage(as(owner), { random, body: text("one") }));
    const second = ok(await stub.sendMessage(as(others[0]!), { random: aRandom(), body: text("two") }));
    expect([first.seq, again.seq, second.seq]).toEqual([1, 1, 2]);
    for (const device of devices) {
      await device.waitForEvents("groupMessage", 2);
      expect(messagesOf(device).map((m) => m.seq)).toEqual([1, 2]);
    }
  });

  it("sends recalls and edits to every member; a member recalls only its own, within the window", async () => {
    const { app, owner, others, stub, admin, as } = await aGroup("Public", 3);
    ok(await stub.addMembers(admin, others));
    const device = await groupConnection(app, others[1]!);
    const mine = ok(await stub.sendMessage(as(others[0]!), { random: aRandom(), body: text("typo") }));
    const theirs = ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("owner's") }));
    ok(await stub.modifyMessage(as(others[0]!), mine.seq, text("fixed")));
    expect(ok(await stub.recall(as(others[0]!), [theirs.seq]))).toEqual([{ seq: theirs.seq, code: 10007 }]);
    expect(ok(await stub.recall(as(others[0]!), [mine.seq]))).toEqual([{ seq: mine.seq, code: 0 }]);
    expect(ok(await stub.recall(as(owner), [theirs.seq]))).toEqual([{ seq: theirs.seq, code: 0 }]);
    expect((await device.waitForEvents<{ message: GroupMessage }>("groupMessageModified", 1))[0]!.message.body).toEqual(text("fixed"));
    expect((await device.waitForEvents<{ seq: number }>("groupMessageRevoked", 2)).map((e) => e.seq)).toEqual([mine.seq, theirs.seq]);
    const history = ok(await stub.history(as(others[1]!), { count: 10, withRecalled: true }));
    expect(history.messages.every((m) => m.isRevoked)).toBe(true);
  });

  it("delivers a targeted message (To_Account) only to its targets and the sender", async () => {
    const { app, owner, others, stub, admin, as } = await aGroup("Public", 3);
    ok(await stub.addMembers(admin, others));
    const [target, bystander] = await Promise.all(others.map((id) => groupConnection(app, id)));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("psst"), to: [others[0]!] }));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("everyone") }));
    await target!.waitForEvents("groupMessage", 2);
    await bystander!.waitForEvents("groupMessage", 1);
    expect(messagesOf(bystander!).map((m) => m.body)).toEqual([text("everyone")]);
    expect(ok(await stub.history(as(others[1]!), { count: 10 })).messages.map((m) => m.body)).toEqual([text("everyone")]);
  });

  it("drops messages above the group's rate with MsgFreqCtrl, never queueing them", async () => {
    const { owner, stub, as } = await aGroup("Public", 1, { groups: { messagesPerSecond: 5 } });
    const results = [];
    for (let i = 0; i < 20; i++) results.push(ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text(`#${i}`) })));
    const dropped = results.filter((r) => r.dropReason === "MsgFreqCtrl");
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((r) => r.seq === 0)).toBe(true);
    const kept = results.filter((r) => r.dropReason === "");
    expect(kept.map((r) => r.seq)).toEqual(kept.map((_, i) => i + 1));
  });

  it("costs one call per fan-out hub, however many members are online", async () => {
    const { app, owner, others, stub, admin, as } = await aGroup("Public", 40, { fanoutHubs: 4 });
    ok(await stub.addMembers(admin, others));
    await Promise.all(others.slice(0, 30).map((id) => groupConnection(app, id)));
    const before = await stub.usage();
    for (let i = 0; i < 5; i++) ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text(`#${i}`) }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await stub.usage();
    expect((after.hubCalls - before.hubCalls) / 5).toBeLessThanOrEqual(4);
  });
});

describe("the directory", () => {
  it("lists a user's groups and the app's groups as soon as membership changes are answered", async () => {
    const { app, owner, others, groupId, stub, admin } = await aGroup("Public", 3);
    const directory = new GroupDirectory(env.DB, app.sdkAppId);
    expect((await directory.joined(owner)).map((g) => g.groupId)).toEqual([groupId]);
    ok(await stub.addMembers(admin, [others[0]!]));
    expect((await directory.joined(others[0]!)).map((g) => g.groupId)).toEqual([groupId]);
    ok(await stub.removeMembers(admin, [others[0]!]));
    expect(await directory.joined(others[0]!)).toEqual([]);
    expect((await directory.list("", 10)).groups.map((g) => g.groupId)).toEqual([groupId]);
  });

  it("follows the group's last MsgSeq within about a second", async () => {
    const { app, owner, groupId, stub, as } = await aGroup("Public", 1);
    for (let i = 0; i < 3; i++) ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text(`#${i}`) }));
    const directory = new GroupDirectory(env.DB, app.sdkAppId);
    const deadline = Date.now() + 3000;
    let lastSeq = 0;
    while (Date.now() < deadline && lastSeq < 3) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      lastSeq = (await directory.find([groupId]))[0]?.lastSeq ?? 0;
    }
    expect(lastSeq).toBe(3);
  });
});

describe("group conversations", () => {
  type Listed = { conversations: { groupId?: string; peer?: string; unreadCount: number; pinned: boolean; lastMessage: { body: unknown } | null }[] };
  const groupIn = (list: Listed, groupId: string) => list.conversations.find((c) => c.groupId === groupId);

  /** Reads the list until `check` holds: the directory follows the group within about a second. */
  async function listUntil(client: ProtocolClient, check: (list: Listed) => boolean): Promise<Listed> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const list = await client.call<Listed>("getConversationList");
      if (check(list) || Date.now() > deadline) return list;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  it("gives a member who was away the right unread count, never counting its own messages", async () => {
    const { app, owner, others, groupId, stub, admin, as } = await aGroup("Public", 2);
    const [member] = others as [string];
    ok(await stub.addMembers(admin, [member]));
    for (let i = 0; i < 3; i++) ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text(`#${i}`) }));
    ok(await stub.sendMessage(as(member), { random: aRandom(), body: text("mine") }));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("last") }));
    const device = await TestClient.connect(app, member);
    const list = await listUntil(device, (l) => groupIn(l, groupId)?.lastMessage !== null && groupIn(l, groupId)!.unreadCount === 1);
    expect(groupIn(list, groupId)).toMatchObject({ unreadCount: 1, lastMessage: { body: text("last") } });
    expect(await device.call("getTotalUnread")).toMatchObject({ total: 1, byGroup: [{ groupId, unread: 1 }] });
    const ownerDevice = await TestClient.connect(app, owner);
    expect(groupIn(await listUntil(ownerDevice, () => true), groupId)).toMatchObject({ unreadCount: 0 });
  });

  it("clears unread on every device when one reads, and keeps none for a Meeting group", async () => {
    const { app, owner, others, groupId, stub, admin, as } = await aGroup("Public", 2);
    const [member] = others as [string];
    ok(await stub.addMembers(admin, [member]));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("hi") }));
    const [phone, laptop] = [await TestClient.connect(app, member, { device: "phone" }), await TestClient.connect(app, member, { device: "laptop" })];
    await listUntil(phone, (l) => groupIn(l, groupId)?.unreadCount === 1);
    await phone.call("setGroupMessageRead", { groupID: groupId });
    expect((await laptop.waitForEvents<{ groupId: string; readSeq: number }>("groupRead", 1))[0]).toMatchObject({ groupId, readSeq: 1 });
    expect(groupIn(await laptop.call<Listed>("getConversationList"), groupId)).toMatchObject({ unreadCount: 0 });

    const meeting = await aGroup("ChatRoom", 2);
    ok(await meeting.stub.join(meeting.as(meeting.others[0]!)));
    ok(await meeting.stub.sendMessage(meeting.as(meeting.owner), { random: aRandom(), body: text("hi") }));
    const attendee = await TestClient.connect(meeting.app, meeting.others[0]!);
    const list = await listUntil(attendee, (l) => groupIn(l, meeting.groupId)?.lastMessage !== null);
    expect(groupIn(list, meeting.groupId)).toMatchObject({ unreadCount: 0 });
  });

  it("pins and deletes a group conversation; a new message brings a deleted one back", async () => {
    const { app, owner, groupId, stub, as } = await aGroup("Public", 1);
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("one") }));
    const device = await TestClient.connect(app, owner);
    await device.call("pinGroupConversation", { groupID: groupId, pinned: true });
    expect(groupIn(await listUntil(device, () => true), groupId)).toMatchObject({ pinned: true });
    await listUntil(device, (l) => groupIn(l, groupId)?.lastMessage !== null);
    await device.call("deleteGroupConversation", { groupID: groupId });
    expect(groupIn(await device.call<Listed>("getConversationList"), groupId)).toBeUndefined();
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("two") }));
    expect(groupIn(await listUntil(device, (l) => groupIn(l, groupId) !== undefined), groupId)).toMatchObject({ pinned: false });
  });

  it("is listed by recentcontact/get_list as Type 2", async () => {
    const { app, owner, groupId } = await aGroup("Public", 1);
    const answer = await app.rest("recentcontact/get_list", { From_Account: owner, TimeStamp: 0, StartIndex: 0, TopTimeStamp: 0, TopStartIndex: 0, AssistFlags: 7 });
    expect(answer.body.SessionItem).toEqual([{ Type: 2, GroupId: groupId, MsgTime: expect.any(Number), TopFlag: 0 }]);
  });
});

describe("group ops on a device's connection", () => {
  it("creates a group, adds a member, and exchanges messages and history through the ops", async () => {
    const { app, ids } = await appWithUsers(2);
    const [alice, bob] = ids as [string, string];
    const a = await TestClient.connect(app, alice);
    const b = await TestClient.connect(app, bob);
    const bobGroups = await groupConnection(app, bob);
    const { groupId } = await a.call<{ groupId: string }>("createGroup", { type: "Private", name: "pals", memberList: [{ userID: bob }] });
    expect(groupId).toMatch(/^@TGS#/);
    expect((await b.call<{ groups: { groupId: string }[] }>("getGroupList")).groups.map((g) => g.groupId)).toEqual([groupId]);
    const sent = await a.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("hello pals") });
    expect(sent.seq).toBe(1);
    expect((await bobGroups.waitForEvents<{ message: GroupMessage }>("groupMessage", 1))[0]!.message).toMatchObject({ groupId, seq: 1, from: alice });
    const page = await b.call<{ messages: GroupMessage[] }>("getGroupMessageList", { groupID: groupId });
    expect(page.messages.map((m) => m.body)).toEqual([text("hello pals")]);
    expect((await b.request("sendGroupMessage", { groupID: "x".repeat(60), random: aRandom(), body: text("x") })).code).toBe(10015);
  });
});

describe("a member's message settings, mentions and unread set by REST", () => {
  type Listed = { conversations: { groupId?: string; unreadCount: number; messageRemindType: string; mentionedSeq: number; mentionedAll: boolean }[] };
  const groupIn = (list: Listed, groupId: string) => list.conversations.find((c) => c.groupId === groupId)!;

  async function settle(client: ProtocolClient, groupId: string, check: (c: Listed["conversations"][number]) => boolean) {
    const deadline = Date.now() + 3000;
    for (;;) {
      const conversation = groupIn(await client.call<Listed>("getConversationList"), groupId);
      if ((conversation && check(conversation)) || Date.now() > deadline) return conversation;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  it("delivers nothing to a member who chose Discard, and keeps a muted (AcceptNotNotify) group out of the total", async () => {
    const { app, owner, others, groupId, stub, admin, as } = await aGroup("Public", 3);
    const [quiet, gone] = others as [string, string];
    ok(await stub.addMembers(admin, [quiet, gone]));
    ok(await stub.modifyMember(as(quiet), quiet, { msgFlag: "AcceptNotNotify" }));
    ok(await stub.modifyMember(as(gone), gone, { msgFlag: "Discard" }));
    const goneDevice = await groupConnection(app, gone);
    const quietDevice = await groupConnection(app, quiet);
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("hello") }));
    await quietDevice.waitForEvents("groupMessage", 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(messagesOf(goneDevice)).toEqual([]);
    const quietUser = await TestClient.connect(app, quiet);
    expect(await settle(quietUser, groupId, (c) => c.unreadCount === 1)).toMatchObject({ unreadCount: 1, messageRemindType: "AcceptNotNotify" });
    expect(await quietUser.call("getTotalUnread")).toMatchObject({ total: 0 });
  });

  it("shows a member who was away that it was mentioned, until it reads", async () => {
    const { app, owner, others, groupId, stub, admin, as } = await aGroup("Public", 2);
    const [member] = others as [string];
    ok(await stub.addMembers(admin, [member]));
    const sent = ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("@you look"), atUsers: [member] }));
    const device = await TestClient.connect(app, member);
    expect(await settle(device, groupId, (c) => c.mentionedSeq > 0 && c.unreadCount > 0)).toMatchObject({ mentionedSeq: sent.seq, unreadCount: 1 });
    await device.call("setGroupMessageRead", { groupID: groupId });
    expect(groupIn(await device.call<Listed>("getConversationList"), groupId)).toMatchObject({ mentionedSeq: 0, unreadCount: 0 });
  });

  it("counts neither targeted messages nor NoUnread ones as unread", async () => {
    const { app, owner, others, groupId, stub, admin, as } = await aGroup("Public", 3);
    const [member, other] = others as [string, string];
    ok(await stub.addMembers(admin, [member, other]));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("for everyone") }));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("for the other") , to: [other] }));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("for the member"), to: [member] }));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("quiet"), noUnread: true }));
    ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text("last") }));
    const device = await TestClient.connect(app, member);
    expect(await settle(device, groupId, (c) => c.unreadCount === 2)).toMatchObject({ unreadCount: 2 });
  });

  it("lets set_unread_msg_num set the count the member's devices show", async () => {
    const { app, owner, others, groupId, stub, admin, as } = await aGroup("Public", 2);
    const [member] = others as [string];
    ok(await stub.addMembers(admin, [member]));
    for (let i = 0; i < 5; i++) ok(await stub.sendMessage(as(owner), { random: aRandom(), body: text(`#${i}`) }));
    const device = await TestClient.connect(app, member);
    await settle(device, groupId, (c) => c.unreadCount === 5);
    await device.call("setGroupMessageRead", { groupID: groupId });
    const answer = await app.rest("group_open_http_svc/set_unread_msg_num", { GroupId: groupId, Member_Account: member, UnreadMsgNum: 2 });
    expect(answer.body.ErrorCode).toBe(0);
    expect(groupIn(await device.call<Listed>("getConversationList"), groupId)).toMatchObject({ unreadCount: 2 });
  });
});

describe("after a crash", () => {
  it("brings the directory to the member list that was committed, when the group's alarm runs", async () => {
    const { app, groupId, stub, admin } = await aGroup("Public", 1);
    const { ids } = await appWithUsersIn(app, 100);
    // The members are committed with their directory rows in the group's outbox, then the object
    // goes away before it writes the directory (as a crash between the two writes would leave it).
    await runInDurableObject(stub, async (actor: GroupActor) => {
      const host = actor as unknown as GroupHost;
      host.transaction(() => {
        for (const userId of ids) host.store.addMember({ userId, role: "Member", joinTime: 1, nameCard: "", msgFlag: "AcceptAndNotify", muteUntil: 0, appMemberDefinedData: [], lastSendMsgTime: 0, joinSeq: 1, readSeq: 0 });
        host.directoryChanged({ kind: "joined", userIds: ids, joinSeq: 1, joinedAt: 1, joinCount: 0 });
      });
    });
    await evictDurableObject(stub);
    const directory = new GroupDirectory(env.DB, app.sdkAppId);
    expect(await directory.joined(ids[0]!)).toEqual([]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const members = ok(await stub.memberPage(admin, { offset: 0, limit: 200 }));
    expect(members.memberNum).toBe(101);
    for (const userId of [ids[0]!, ids[57]!, ids[99]!]) expect((await directory.joined(userId)).map((g) => g.groupId)).toEqual([groupId]);
    expect((await directory.find([groupId]))[0]).toMatchObject({ memberCount: 101 });
  });
});

async function appWithUsersIn(app: TestApp, count: number): Promise<{ ids: string[] }> {
  const ids = Array.from({ length: count }, (_, i) => `crash${Date.now().toString(36)}${i}`);
  await app.rest("im_open_login_svc/multiaccount_import", { Accounts: ids });
  return { ids };
}
