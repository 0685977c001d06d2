/**
 * Groups with the client SDK in Node against `wrangler dev`: every step is an
 * SDK call a member's app makes, and every check is what that member's app
 * would show (events received, lists, unread counts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import EdgeIMChat, { type Chat, type Conversation, type Group, type Message } from "../../src/sdk/index.ts";
import { defaultApp, rest, sig, pollUntil } from "./clients.ts";

const { EVENT, TYPES } = EdgeIMChat;

const until = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000) => pollUntil(check, what, timeoutMs);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one installation of a member's app has seen. */
interface Device {
  userID: string;
  chat: Chat;
  /** Group and one-to-one messages (not tips or notices), in the order shown. */
  messages: Message[];
  tips: Message[];
  notices: Message[];
  revoked: Message[];
  modified: Message[];
  groupLists: Group[][];
  conversations: Conversation[];
  store: Map<string, string>;
}

describe("groups through the SDK", () => {
  let server: RunningServer;
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const devices: Device[] = [];
  let count = 0;

  /** Four fresh accounts (take as many as needed). */
  async function users(): Promise<[string, string, string, string]> {
    const ids = Array.from({ length: 4 }, () => `gs_${stamp}_${count++}`) as [string, string, string, string];
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
    const d: Device = { userID, chat, messages: [], tips: [], notices: [], revoked: [], modified: [], groupLists: [], conversations: [], store };
    // Typed per event: no cast needed.
    chat.on(EVENT.MESSAGE_RECEIVED, (e: { data: Message[] }) => {
      for (const m of e.data) {
        if (m.type === TYPES.MSG_GRP_TIP) d.tips.push(m);
        else if (m.type === TYPES.MSG_GRP_SYS_NOTICE) d.notices.push(m);
        else d.messages.push(m);
      }
    });
    chat.on(EVENT.MESSAGE_REVOKED, (e) => d.revoked.push(...e.data));
    chat.on(EVENT.MESSAGE_MODIFIED, (e) => d.modified.push(...e.data));
    chat.on(EVENT.GROUP_LIST_UPDATED, (e) => d.groupLists.push(e.data));
    chat.on(EVENT.CONVERSATION_LIST_UPDATED, (e) => (d.conversations = e.data));
    await chat.login({ userID, userSig: await sig(userID) });
    devices.push(d);
    return d;
  }

  const texts = (messages: Message[], groupID: string) => messages.filter((m) => m.to === groupID).map((m) => m.payload.text);
  const conversation = (d: Device, groupID: string) => d.conversations.find((c) => c.conversationID === `GROUP${groupID}`);
  const send = async (d: Device, groupID: string, text: string, atUserList?: string[]) => {
    const options = { to: groupID, conversationType: TYPES.CONV_GROUP, payload: { text, atUserList: atUserList ?? [] } };
    return (await d.chat.sendMessage(atUserList ? d.chat.createTextAtMessage(options) : d.chat.createTextMessage(options))).data.message;
  };

  beforeAll(async () => {
    server = await startServer({ persistTo: freshStateDir() });
  });
  afterAll(async () => {
    for (const d of devices) await d.chat.logout().catch(() => undefined);
    await server?.stop();
  });

  it("a Public group: a join request approved by the owner on another device, @mentions, and a late joiner sees nothing from before", async () => {
    const [owner, member, joiner, late] = await users();
    const phone = await device(owner, `${owner}-phone`);
    const tablet = await device(owner, `${owner}-tablet`);
    const m = await device(member);
    const j = await device(joiner);

    const { group } = (await phone.chat.createGroup({ type: TYPES.GRP_PUBLIC, name: "Public square", memberList: [{ userID: member }] })).data;
    expect(group).toMatchObject({ type: "Public", name: "Public square", ownerID: owner, memberCount: 2, selfInfo: { role: TYPES.GRP_MBR_ROLE_OWNER } });
    const groupID = group.groupID;
    await until(() => m.groupLists.at(-1)?.some((g) => g.groupID === groupID), "the member's group list");

    expect((await j.chat.joinGroup({ groupID, applyMessage: "let me in" })).data).toEqual({ status: TYPES.JOIN_STATUS_WAIT_APPROVAL });
    // The request reaches both of the owner's devices; the tablet answers it.
    const request = await until(() => tablet.notices.find((n) => n.payload.operationType === 1), "the join request on the tablet");
    await until(() => phone.notices.some((n) => n.payload.operationType === 1), "the join request on the phone");
    expect(request).toMatchObject({ conversationType: TYPES.CONV_SYSTEM, payload: { operatorID: joiner, handleMessage: "let me in", groupProfile: { groupID } } });
    const { applicationList } = (await tablet.chat.getGroupApplicationList()).data;
    expect(applicationList).toEqual([expect.objectContaining({ groupID, applicant: joiner, applicationType: 0, note: "let me in" })]);
    await tablet.chat.handleGroupApplication({ handleAction: "Agree", handleMessage: "welcome", message: request });

    await until(() => j.notices.find((n) => n.payload.operationType === 2), "the acceptance notice");
    await until(() => j.groupLists.at(-1)?.some((g) => g.groupID === groupID), "the joiner's group list");
    const joinedTip = await until(() => m.tips.find((t) => t.payload.operationType === TYPES.GRP_TIP_MBR_JOIN), "the joined tip");
    expect(joinedTip).toMatchObject({ conversationID: `GROUP${groupID}`, payload: { operatorID: owner, userIDList: [joiner] } });
    expect((await j.chat.joinGroup({ groupID })).data.status).toBe(TYPES.JOIN_STATUS_ALREADY_IN_GROUP);

    // Messages with mentions: the joiner is named in one, everyone in the other.
    await send(phone, groupID, `hi @${joiner}`, [joiner]);
    await send(m, groupID, "hello @everyone", [TYPES.MSG_AT_ALL]);
    await until(() => texts(j.messages, groupID).length === 2, "two messages at the joiner");
    // Each device has its own group connection: wait for each, not just the first.
    await until(() => texts(tablet.messages, groupID).length === 2, "two messages at the owner's tablet");
    await until(() => texts(phone.messages, groupID).length === 1, "the other message at the owner's phone");
    expect(j.messages.map((x) => x.atUserList)).toEqual([[joiner], [TYPES.MSG_AT_ALL]]);
    expect(texts(tablet.messages, groupID)).toEqual([`hi @${joiner}`, "hello @everyone"]);
    // The phone sent one: it shows only the other as received.
    expect(texts(phone.messages, groupID)).toEqual(["hello @everyone"]);
    await until(() => conversation(j, groupID)?.unreadCount === 2, "two unread at the joiner");
    expect(conversation(j, groupID)!.groupAtInfoList.map((a) => a.atType)).toEqual([TYPES.CONV_AT_ME, TYPES.CONV_AT_ALL]);
    expect(conversation(j, groupID)!.groupProfile).toMatchObject({ groupID, name: "Public square", type: "Public" });
    await j.chat.setMessageRead({ conversationID: `GROUP${groupID}` });
    expect(conversation(j, groupID)).toMatchObject({ unreadCount: 0, groupAtInfoList: [] });

    // The late joiner applies and is approved; the history from before is not theirs to see.
    const l = await device(late);
    expect((await l.chat.joinGroup({ groupID })).data.status).toBe(TYPES.JOIN_STATUS_WAIT_APPROVAL);
    const lateRequest = await until(() => phone.notices.find((n) => n.payload.operationType === 1 && n.payload.operatorID === late), "the late request");
    await phone.chat.handleGroupApplication({ handleAction: "Agree", message: lateRequest });
    await until(() => l.groupLists.at(-1)?.some((g) => g.groupID === groupID), "the late joiner's group list");
    expect((await l.chat.getMessageList({ conversationID: `GROUP${groupID}` })).data).toMatchObject({ messageList: [], isCompleted: true });
    const history = (await m.chat.getMessageList({ conversationID: `GROUP${groupID}` })).data.messageList;
    expect(history.map((x) => x.payload.text)).toEqual([`hi @${joiner}`, "hello @everyone"]);
    await send(m, groupID, "after you joined");
    await until(() => texts(l.messages, groupID).length === 1, "the late joiner's first message");
    expect((await l.chat.getMessageList({ conversationID: `GROUP${groupID}` })).data.messageList.map((x) => x.payload.text)).toEqual(["after you joined"]);

    const { memberList, offset } = (await m.chat.getGroupMemberList({ groupID, count: 100 })).data;
    expect(memberList.map((x) => [x.userID, x.role]).sort()).toEqual(
      [
        [owner, "Owner"],
        [member, "Member"],
        [joiner, "Member"],
        [late, "Member"],
      ].sort(),
    );
    expect(offset).toBe(0);
  });

  it("a Meeting group shows a late joiner the history from before, and keeps no unread", async () => {
    const [owner, late] = await users();
    const o = await device(owner);
    const groupID = (await o.chat.createGroup({ type: TYPES.GRP_MEETING, name: "Stand-up" })).data.group.groupID;
    await send(o, groupID, "agenda");
    await send(o, groupID, "notes");
    const l = await device(late);
    expect((await l.chat.joinGroup({ groupID })).data).toMatchObject({ status: TYPES.JOIN_STATUS_SUCCESS, group: { groupID, type: "ChatRoom" } });
    expect((await l.chat.getMessageList({ conversationID: `GROUP${groupID}` })).data.messageList.map((x) => x.payload.text)).toEqual(["agenda", "notes"]);
    await until(() => l.groupLists.at(-1)?.some((g) => g.groupID === groupID), "the group list");
    await send(o, groupID, "any other business?");
    await until(() => texts(l.messages, groupID).length === 1, "the live message");
    expect(conversation(l, groupID)).toMatchObject({ unreadCount: 0, lastMessage: { messageForShow: "any other business?" } });
  });

  it("a Work group: members add others, and each added user's result is reported", async () => {
    const [owner, friend, another] = await users();
    const o = await device(owner);
    const groupID = (await o.chat.createGroup({ name: "Project", memberList: [{ userID: friend }] })).data.group.groupID;
    expect((await o.chat.getGroupProfile({ groupID })).data.group.type).toBe(TYPES.GRP_WORK);
    const f = await device(friend);
    const added = (await f.chat.addGroupMember({ groupID, userIDList: [another, owner, `nobody_${stamp}`] })).data;
    expect(added).toMatchObject({ successUserIDList: [another], existedUserIDList: [owner], failureUserIDList: [`nobody_${stamp}`] });
    const a = await device(another);
    expect((await a.chat.getGroupList()).data.groupList.map((g) => g.groupID)).toContain(groupID);
    await expect(a.chat.joinGroup({ groupID: `no_such_group_${stamp}` })).rejects.toMatchObject({ code: 10010 });
  });

  it("refuses a muted member (10017), and a recall and an edit reach every member", async () => {
    const [owner, member, other] = await users();
    const o = await device(owner);
    const groupID = (await o.chat.createGroup({ type: TYPES.GRP_PUBLIC, name: "Moderated", memberList: [{ userID: member }, { userID: other }] })).data.group.groupID;
    const m = await device(member);
    const x = await device(other);

    await o.chat.setGroupMemberMuteTime({ groupID, userID: member, muteTime: 60 });
    const muted = await until(() => x.tips.find((t) => t.payload.operationType === TYPES.GRP_TIP_MBR_PROFILE_UPDATED), "the mute tip");
    expect(muted.payload).toMatchObject({ operatorID: owner, userIDList: [member], memberList: [{ userID: member, muteTime: expect.any(Number) }] });
    await expect(send(m, groupID, "can I speak?")).rejects.toMatchObject({ code: 10017 });
    await o.chat.setGroupMemberMuteTime({ groupID, userID: member, muteTime: 0 });
    await send(m, groupID, "thanks");

    const typo = await send(o, groupID, "teh plan");
    await until(() => texts(x.messages, groupID).includes("teh plan") && texts(m.messages, groupID).includes("teh plan"), "the message everywhere");
    typo.payload = { text: "the plan" };
    expect((await o.chat.modifyMessage(typo)).data.message).toMatchObject({ isModified: true, payload: { text: "the plan" } });
    for (const d of [m, x]) await until(() => d.modified.some((y) => y.ID === typo.ID && y.payload.text === "the plan"), `the edit at ${d.userID}`);
    expect((await x.chat.getConversationList()).data.conversationList.find((c) => c.conversationID === `GROUP${groupID}`)!.lastMessage!.messageForShow).toBe("the plan");

    await o.chat.revokeMessage(typo);
    for (const d of [m, x]) await until(() => d.revoked.some((y) => y.ID === typo.ID && y.isRevoked), `the recall at ${d.userID}`);
    expect(conversation(x, groupID)!.lastMessage).toMatchObject({ isRevoked: true });
    // A member may not recall someone else's message.
    const mine = await send(x, groupID, "mine");
    await until(() => texts(m.messages, groupID).includes("mine"), "mine at the member");
    await expect(m.chat.revokeMessage(m.messages.find((y) => y.ID === mine.ID)!)).rejects.toMatchObject({ code: expect.any(Number) });
  });

  it("an offline member comes back to the messages it missed, once each, and the right unread count", async () => {
    const [owner, member] = await users();
    const o = await device(owner);
    const groupID = (await o.chat.createGroup({ type: TYPES.GRP_PUBLIC, name: "Away", memberList: [{ userID: member }] })).data.group.groupID;
    const store = new Map<string, string>();
    let m = await device(member, `${member}-laptop`, store);
    await send(o, groupID, "before");
    await until(() => texts(m.messages, groupID).length === 1, "the first message");
    await m.chat.setMessageRead({ conversationID: `GROUP${groupID}` });
    await m.chat.logout();

    const missed = ["one", "two", "three"];
    for (const text of missed) await send(o, groupID, text);
    // The directory's count of a group's messages follows within a second or so.
    await pause(1_500);
    m = await device(member, `${member}-laptop`, store);
    await until(() => texts(m.messages, groupID).length === 3, "the missed messages");
    await pause(300);
    expect(texts(m.messages, groupID)).toEqual(missed);
    expect(conversation(m, groupID)).toMatchObject({ unreadCount: 3, lastMessage: { messageForShow: "three" } });
    expect(m.chat.getTotalUnreadMessageCount()).toBe(3);

    // A new device of the same member starts from now, with the same count from the server.
    const phone = await device(member, `${member}-phone`);
    await until(() => conversation(phone, groupID)?.unreadCount === 3, "the count on a new device");
    expect(texts(phone.messages, groupID)).toEqual([]);
    await phone.chat.setMessageRead({ conversationID: `GROUP${groupID}` });
    await until(() => conversation(m, groupID)?.unreadCount === 0, "read on the other device");
  });

  it("a kick reaches every device of the kicked member: GROUP_LIST_UPDATED and a system notice", async () => {
    const [owner, member, other] = await users();
    const o = await device(owner);
    const groupID = (await o.chat.createGroup({ type: TYPES.GRP_PUBLIC, name: "Strict", memberList: [{ userID: member }, { userID: other }] })).data.group.groupID;
    const laptop = await device(member, `${member}-laptop`);
    const phone = await device(member, `${member}-phone`);
    const x = await device(other);
    for (const d of [laptop, phone]) await until(() => d.groupLists.at(-1)?.some((g) => g.groupID === groupID), "in the group list");

    await o.chat.deleteGroupMember({ groupID, userIDList: [member], reason: "spam" });
    for (const d of [laptop, phone]) {
      const notice = await until(() => d.notices.find((n) => n.payload.operationType === 4), `the kick notice on ${d.chat === laptop.chat ? "the laptop" : "the phone"}`);
      expect(notice.payload).toMatchObject({ operatorID: owner, groupProfile: { groupID }, handleMessage: "spam" });
      await until(() => d.groupLists.at(-1)?.every((g) => g.groupID !== groupID), "out of the group list");
    }
    const tip = await until(() => x.tips.find((t) => t.payload.operationType === TYPES.GRP_TIP_MBR_KICKED_OUT), "the kick tip");
    expect(tip.payload).toMatchObject({ operatorID: owner, userIDList: [member] });
    await expect(send(laptop, groupID, "still here?")).rejects.toMatchObject({ code: 10007 });
  });

  it("loses and repeats no group message when every connection drops in the middle of a burst", async () => {
    const [owner, member] = await users();
    const o = await device(owner);
    const groupID = (await o.chat.createGroup({ type: TYPES.GRP_PUBLIC, name: "Burst", memberList: [{ userID: member }] })).data.group.groupID;
    const m = await device(member);
    await until(() => m.groupLists.at(-1)?.some((g) => g.groupID === groupID), "in the group list");
    const sent: string[] = [];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < 30; i++) {
      if (i === 10) {
        const port = server.port;
        const state = server.persistTo;
        restarted = server.stop().then(async () => {
          server = await startServer({ persistTo: state, port });
        });
      }
      const message = o.chat.createTextMessage({ to: groupID, conversationType: TYPES.CONV_GROUP, payload: { text: `burst ${i}` } });
      // A send that could not reach the server in time fails; the app sends the same message again.
      for (let attempt = 0; ; attempt++) {
        const ok = await o.chat.sendMessage(message).then(
          () => true,
          () => false,
        );
        if (ok) break;
        expect(attempt).toBeLessThan(5);
        await restarted;
      }
      sent.push(`burst ${i}`);
    }
    await restarted;
    await until(() => texts(m.messages, groupID).length >= 30, "30 burst messages", 30_000);
    await pause(3_000);
    expect(texts(m.messages, groupID)).toEqual(sent);
  });
});
