/**
 * Group attributes, Community topics and their messages, and group read
 * receipts with the client SDK in Node against `wrangler dev`: each step is an
 * SDK call a member's app makes, each check what that member's app would show.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import EdgeIMChat, { type Chat, type EventData, type Message } from "../../src/sdk/index.ts";
import { defaultApp, rest, sig, pollUntil } from "./clients.ts";

const { EVENT, TYPES } = EdgeIMChat;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const until = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000) => pollUntil(check, what, timeoutMs);

/** What one installation of a member's app has seen. */
interface Device {
  userID: string;
  chat: Chat;
  /** Text messages received, in the order shown. */
  messages: Message[];
  revoked: Message[];
  modified: Message[];
  attributes: EventData["groupAttributesUpdated"][];
  topicsCreated: EventData["onTopicCreated"][];
  topicsUpdated: EventData["onTopicUpdated"][];
  topicsDeleted: EventData["onTopicDeleted"][];
}

describe("group attributes, topics and read receipts through the SDK", () => {
  let server: RunningServer;
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const devices: Device[] = [];
  let count = 0;

  async function users(n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => `gx_${stamp}_${count++}`);
    expect((await rest(server, "im_open_login_svc/multiaccount_import", { Accounts: ids })).ErrorCode).toBe(0);
    return ids;
  }

  /** Logs in a device of `userID`; pass `store` to come back as the same device. */
  async function device(userID: string, deviceID = `${userID}-main`, store = new Map<string, string>()): Promise<Device> {
    const chat = EdgeIMChat.create({
      SDKAppID: defaultApp.sdkAppId,
      endpoint: server.base,
      deviceID,
      cursorStore: { get: (k) => store.get(k) ?? null, set: (k, v) => void store.set(k, v) },
    });
    const d: Device = { userID, chat, messages: [], revoked: [], modified: [], attributes: [], topicsCreated: [], topicsUpdated: [], topicsDeleted: [] };
    chat.on(EVENT.MESSAGE_RECEIVED, (e) => d.messages.push(...e.data.filter((m) => m.type === TYPES.MSG_TEXT)));
    chat.on(EVENT.MESSAGE_REVOKED, (e) => d.revoked.push(...e.data));
    chat.on(EVENT.MESSAGE_MODIFIED, (e) => d.modified.push(...e.data));
    chat.on(EVENT.GROUP_ATTRIBUTES_UPDATED, (e) => d.attributes.push(e.data));
    chat.on(EVENT.TOPIC_CREATED, (e) => d.topicsCreated.push(e.data));
    chat.on(EVENT.TOPIC_UPDATED, (e) => d.topicsUpdated.push(e.data));
    chat.on(EVENT.TOPIC_DELETED, (e) => d.topicsDeleted.push(e.data));
    await chat.login({ userID, userSig: await sig(userID) });
    devices.push(d);
    return d;
  }

  const codeOf = (promise: Promise<unknown>) => promise.then(() => 0, (error: { code: number }) => error.code);

  beforeAll(async () => {
    server = await startServer({ persistTo: freshStateDir() });
  });
  afterAll(async () => {
    for (const d of devices) await d.chat.logout().catch(() => undefined);
    await server?.stop();
  });

  it("attributes set on one device reach another member's device, and init replaces them all", async () => {
    const [owner, member, outsider] = await users(3);
    const phone = await device(owner!, `${owner}-phone`);
    const tablet = await device(owner!, `${owner}-tablet`);
    const m = await device(member!);
    const o = await device(outsider!);
    const { groupID } = (await phone.chat.createGroup({ type: TYPES.GRP_PUBLIC, name: "Seats", memberList: [{ userID: member! }] })).data.group;
    expect((await m.chat.getGroupAttributes({ groupID })).data).toEqual({ groupAttributes: {} });

    expect((await phone.chat.setGroupAttributes({ groupID, groupAttributes: { seat1: owner!, seat2: "" } })).data).toEqual({ groupAttributes: { seat1: owner, seat2: "" } });
    const update = await until(() => m.attributes.at(-1), "the update on the member's device");
    expect(update).toEqual({ groupID, groupAttributes: { seat1: owner, seat2: "" } });
    await until(() => tablet.attributes.length > 0, "the update on the owner's other device");

    // The member read the attributes before the owner's write, and has heard of it since: its own write goes through.
    await m.chat.setGroupAttributes({ groupID, groupAttributes: { seat2: member! } });
    await until(() => phone.attributes.at(-1)?.groupAttributes.seat2 === member, "the member's seat on the owner's phone");
    expect((await m.chat.getGroupAttributes({ groupID, keyList: ["seat1", "seat2"] })).data).toEqual({ groupAttributes: { seat1: owner, seat2: member } });

    await phone.chat.initGroupAttributes({ groupID, groupAttributes: { topic: "launch" } });
    await until(() => m.attributes.at(-1)?.groupAttributes.topic === "launch", "the initialised attributes");
    expect(m.attributes.at(-1)!.groupAttributes).toEqual({ topic: "launch" });
    expect((await m.chat.getGroupAttributes({ groupID })).data.groupAttributes).toEqual({ topic: "launch" });

    expect((await m.chat.deleteGroupAttributes({ groupID, keyList: [] })).data).toEqual({ keyList: [] });
    await until(() => phone.attributes.at(-1) && Object.keys(phone.attributes.at(-1)!.groupAttributes).length === 0, "every attribute deleted");

    // Someone outside the group neither reads nor writes them, and hears nothing.
    expect(await codeOf(o.chat.getGroupAttributes({ groupID }))).toBe(10007);
    expect(await codeOf(o.chat.setGroupAttributes({ groupID, groupAttributes: { seat1: outsider! } }))).toBe(10007);
    expect(o.attributes).toEqual([]);
    expect((await phone.chat.getGroupAttributes({ groupID })).data.groupAttributes).toEqual({});
  });

  it("a Community topic is created, listed, renamed and deleted, and members' devices hear of each", async () => {
    const [owner, member, outsider] = await users(3);
    const ow = await device(owner!);
    const m = await device(member!);
    const o = await device(outsider!);
    const { group } = (await ow.chat.createGroup({ type: TYPES.GRP_COMMUNITY, name: "Guild", isSupportTopic: true, memberList: [{ userID: member! }] })).data;
    expect(group.isSupportTopic).toBe(true);
    const groupID = group.groupID;

    const { topicID } = (await ow.chat.createTopicInCommunity({ groupID, topicName: "general", introduction: "talk here" })).data;
    expect(topicID.startsWith(`${groupID}@TOPIC#_`)).toBe(true);
    expect(await until(() => m.topicsCreated.at(-1), "TOPIC_CREATED at the member")).toEqual({ groupID, topicID });

    const listed = (await m.chat.getTopicList({ groupID })).data;
    expect(listed.failureTopicList).toEqual([]);
    expect(listed.successTopicList).toEqual([expect.objectContaining({ topicID, topicName: "general", introduction: "talk here", muteAllMembers: false })]);

    // Only the owner and admins manage topics; someone outside does not even see them.
    expect(await codeOf(m.chat.createTopicInCommunity({ groupID, topicName: "mine" }))).toBe(10007);
    expect(await codeOf(o.chat.getTopicList({ groupID }))).toBe(10007);

    expect((await ow.chat.updateTopicProfile({ groupID, topicID, topicName: "lobby" })).data.topic).toMatchObject({ topicID, topicName: "lobby" });
    expect(await until(() => m.topicsUpdated.at(-1), "TOPIC_UPDATED at the member")).toEqual({ groupID, topic: expect.objectContaining({ topicID, topicName: "lobby", introduction: "talk here" }) });

    // No list given: every topic goes.
    expect((await ow.chat.deleteTopicFromCommunity({ groupID })).data).toEqual({ successTopicList: [{ topicID }], failureTopicList: [] });
    expect(await until(() => m.topicsDeleted.at(-1), "TOPIC_DELETED at the member")).toEqual({ groupID, topicIDList: [topicID] });
    expect((await m.chat.getTopicList({ groupID })).data.successTopicList).toEqual([]);
    expect(o.topicsCreated).toEqual([]);
  });

  it("a topic's messages are the topic's conversation: received, paged, recalled, edited and caught up apart from the community's own", async () => {
    const [owner, member] = await users(2);
    const ow = await device(owner!);
    const store = new Map<string, string>();
    let m = await device(member!, `${member}-laptop`, store);
    const { groupID } = (await ow.chat.createGroup({ type: TYPES.GRP_COMMUNITY, name: "Club", isSupportTopic: true, memberList: [{ userID: member! }] })).data.group;
    const { topicID: general } = (await ow.chat.createTopicInCommunity({ groupID, topicName: "general" })).data;
    const { topicID: news } = (await ow.chat.createTopicInCommunity({ groupID, topicName: "news" })).data;
    await until(() => m.topicsCreated.length === 2, "both topics at the member");

    const send = async (d: Device, to: string, text: string) =>
      (await d.chat.sendMessage(d.chat.createTextMessage({ to, conversationType: TYPES.CONV_GROUP, payload: { text } }))).data.message;
    const shown = (d: Device, to: string) => d.messages.filter((x) => x.conversationID === `GROUP${to}`).map((x) => x.payload.text);

    // Each topic numbers its messages from 1, apart from the community's own stream.
    const lobby1 = await send(ow, groupID, "lobby 1");
    const general1 = await send(ow, general, "general 1");
    const lobby2 = await send(ow, groupID, "lobby 2");
    const general2 = await send(ow, general, "general 2");
    const news1 = await send(m, news, "news 1");
    expect([lobby1, lobby2].map((x) => [x.conversationID, x.sequence])).toEqual([[`GROUP${groupID}`, 1], [`GROUP${groupID}`, 2]]);
    expect([general1, general2].map((x) => [x.conversationID, x.to, x.sequence])).toEqual([[`GROUP${general}`, general, 1], [`GROUP${general}`, general, 2]]);
    expect(news1).toMatchObject({ conversationID: `GROUP${news}`, to: news, sequence: 1 });

    await until(() => shown(m, general).length === 2 && shown(m, groupID).length === 2, "the topic's and the lobby's messages at the member");
    expect(shown(m, general)).toEqual(["general 1", "general 2"]);
    expect(shown(m, groupID)).toEqual(["lobby 1", "lobby 2"]);
    expect(m.messages.find((x) => x.ID === general1.ID)).toMatchObject({ conversationID: `GROUP${general}`, to: general, from: owner, flow: "in", sequence: 1 });
    expect(await until(() => shown(ow, news).length === 1 && shown(ow, news), "the member's news at the owner")).toEqual(["news 1"]);
    // The sender's own device does not receive its topic message as new.
    expect(shown(m, news)).toEqual([]);

    // A topic keeps no unread count and no conversation in the list; the lobby's messages count.
    await until(() => m.chat.getTotalUnreadMessageCount() === 2, "the lobby's two unread");
    const { conversationList } = (await m.chat.getConversationList()).data;
    expect(conversationList.map((c) => [c.conversationID, c.unreadCount])).toEqual([[`GROUP${groupID}`, 2]]);
    expect(conversationList[0]!.lastMessage?.messageForShow).toBe("lobby 2");
    expect((await m.chat.getConversationProfile(`GROUP${general}`)).data.conversation.unreadCount).toBe(0);

    // History pages by the topic's own MsgSeq, and holds none of the lobby's.
    for (let i = 3; i <= 17; i++) await send(ow, general, `general ${i}`);
    const newest = (await m.chat.getMessageList({ conversationID: `GROUP${general}` })).data;
    expect(newest.isCompleted).toBe(false);
    const oldest = (await m.chat.getMessageList({ conversationID: `GROUP${general}`, nextReqMessageID: newest.nextReqMessageID })).data;
    expect(oldest.isCompleted).toBe(true);
    const history = [...oldest.messageList, ...newest.messageList];
    expect(history.map((x) => x.payload.text)).toEqual(Array.from({ length: 17 }, (_, i) => `general ${i + 1}`));
    expect(history.map((x) => x.sequence)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(history.every((x) => x.conversationID === `GROUP${general}` && x.to === general)).toBe(true);
    expect((await m.chat.getMessageList({ conversationID: `GROUP${groupID}` })).data.messageList.map((x) => x.payload.text)).toEqual(["lobby 1", "lobby 2"]);

    // Recalling the topic's MsgSeq 2 recalls that message, not the lobby's MsgSeq 2.
    await ow.chat.revokeMessage(general2);
    const revoked = await until(() => m.revoked.at(-1), "the recall at the member");
    expect(revoked).toMatchObject({ ID: general2.ID, conversationID: `GROUP${general}`, isRevoked: true });
    expect(m.messages.find((x) => x.ID === general2.ID)!.isRevoked).toBe(true);
    expect(m.messages.find((x) => x.ID === lobby2.ID)!.isRevoked).toBe(false);
    expect((await m.chat.getMessageList({ conversationID: `GROUP${groupID}` })).data.messageList.map((x) => x.payload.text)).toEqual(["lobby 1", "lobby 2"]);
    expect((await m.chat.getMessageList({ conversationID: `GROUP${general}` })).data.messageList.map((x) => x.payload.text)).not.toContain("general 2");

    // An edit names its topic too.
    news1.payload = { text: "news 1, corrected" };
    await m.chat.modifyMessage(news1);
    expect(await until(() => ow.modified.at(-1), "the edit at the owner")).toMatchObject({ ID: news1.ID, conversationID: `GROUP${news}`, payload: { text: "news 1, corrected" } });

    // Back from being away, the member's device catches up each topic it knows, once each.
    await m.chat.logout();
    await send(ow, general, "general 18");
    await send(ow, news, "news 2");
    await send(ow, groupID, "lobby 3");
    await pause(1_500);
    m = await device(member!, `${member}-laptop`, store);
    await until(() => shown(m, general).length === 1 && shown(m, news).length === 1 && shown(m, groupID).length === 1, "what the member missed");
    await pause(3_000);
    expect([shown(m, general), shown(m, news), shown(m, groupID)]).toEqual([["general 18"], ["news 2"], ["lobby 3"]]);
    expect(m.messages.find((x) => x.payload.text === "general 18")).toMatchObject({ to: general, sequence: 18 });
  });

  it("read receipts: two members read a message, the sender's counts say 2 read and 1 unread, and who", async () => {
    const [sender, reader1, reader2, idle, outsider] = await users(5);
    const s = await device(sender!);
    const r1 = await device(reader1!);
    const r2 = await device(reader2!);
    const i = await device(idle!);
    const o = await device(outsider!);
    const { groupID } = (await s.chat.createGroup({ type: TYPES.GRP_WORK, name: "Receipts", memberList: [reader1, reader2, idle].map((userID) => ({ userID: userID! })) })).data.group;

    const send = async (text: string, needReadReceipt: boolean) =>
      (await s.chat.sendMessage(s.chat.createTextMessage({ to: groupID, conversationType: TYPES.CONV_GROUP, payload: { text }, needReadReceipt }))).data.message;
    const plain = await send("no receipt wanted", false);
    const asked = await send("please confirm", true);
    expect(asked.needReadReceipt).toBe(true);

    for (const reader of [r1, r2]) {
      const received = await until(() => reader.messages.length === 2 && reader.messages, `both messages at ${reader.userID}`);
      expect(received.map((m) => m.needReadReceipt)).toEqual([false, true]);
      await reader.chat.sendMessageReadReceipt(received);
    }
    await until(() => i.messages.length === 2, "both messages at the idle member");

    const [counted] = (await s.chat.getMessageReadReceiptList([asked])).data.messageList;
    expect(counted!.readReceiptInfo).toEqual({ readCount: 2, unreadCount: 1 });

    const read = (await s.chat.getGroupMessageReadMemberList({ message: asked, filter: 0, cursor: "", count: 100 })).data;
    expect(read).toMatchObject({ groupID, messageID: asked.ID, isCompleted: true });
    expect([...read.readUserIDList].sort()).toEqual([reader1, reader2].sort());
    const unread = (await s.chat.getGroupMessageReadMemberList({ message: asked, filter: 1 })).data;
    expect(unread.unreadUserIDList).toEqual([idle]);

    // Paging: one member per page, the cursor carries on to the second.
    const first = (await s.chat.getGroupMessageReadMemberList({ message: asked, filter: 0, count: 1 })).data;
    expect(first.isCompleted).toBe(false);
    const second = (await s.chat.getGroupMessageReadMemberList({ message: asked, filter: 0, cursor: first.cursor, count: 1 })).data;
    expect([...first.readUserIDList, ...second.readUserIDList].sort()).toEqual([reader1, reader2].sort());

    // A message sent without asking has no receipts (10062); someone outside the group sees none (10007).
    expect(await codeOf(s.chat.getGroupMessageReadMemberList({ message: plain, filter: 0 }))).toBe(10062);
    expect(await codeOf(o.chat.getGroupMessageReadMemberList({ message: asked, filter: 0 }))).toBe(10007);
    expect(await codeOf(o.chat.getMessageReadReceiptList([asked]))).toBe(10007);
    expect(await codeOf(o.chat.sendMessageReadReceipt([{ ...asked, flow: "in" }]))).toBe(10007);
    expect((await s.chat.getMessageReadReceiptList([asked])).data.messageList[0]!.readReceiptInfo).toEqual({ readCount: 2, unreadCount: 1 });
  });
});
