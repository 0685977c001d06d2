/** The client SDK in Node against `npm run dev`'s server: the one-to-one scenarios, written only with SDK calls. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import EdgeIMChat, { type Chat, type Message } from "../../src/sdk/index.ts";
import { defaultApp, rest, sig, pollUntil } from "./clients.ts";

const { EVENT } = EdgeIMChat;

/** A cursor store shared by SDK instances standing for the same device. */
function deviceStore() {
  const values = new Map<string, string>();
  return { get: (k: string) => values.get(k) ?? null, set: (k: string, v: string) => void values.set(k, v) };
}

/** Polls `check` (sync or async) until it gives a truthy value. */
const until = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000) => pollUntil(check, what, timeoutMs);

describe("the SDK under wrangler dev", () => {
  const state = freshStateDir();
  let server: RunningServer;
  const stamp = Date.now().toString(36);
  const a = `sdk_a_${stamp}`;
  const b = `sdk_b_${stamp}`;
  const chats: Chat[] = [];

  async function loggedIn(userID: string, store = deviceStore()): Promise<{ chat: Chat; received: Message[]; events: string[] }> {
    const chat = EdgeIMChat.create({ SDKAppID: defaultApp.sdkAppId, endpoint: server.base, deviceID: `${userID}-device`, cursorStore: store });
    chats.push(chat);
    const received: Message[] = [];
    const events: string[] = [];
    chat.on(EVENT.MESSAGE_RECEIVED, (e) => received.push(...(e.data as Message[])));
    for (const name of [EVENT.SDK_READY, EVENT.NET_STATE_CHANGE, EVENT.KICKED_OUT]) chat.on(name, (e) => events.push(`${name}:${JSON.stringify(e.data)}`));
    await chat.login({ userID, userSig: await sig(userID) });
    await until(() => chat.isReady(), "SDK_READY");
    return { chat, received, events };
  }

  beforeAll(async () => {
    server = await startServer({ persistTo: state });
    expect((await rest(server, "im_open_login_svc/multiaccount_import", { Accounts: [a, b] })).ErrorCode).toBe(0);
    await rest(server, "profile/portrait_set", { From_Account: a, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Alice" }] });
  });
  afterAll(async () => {
    for (const chat of chats) await chat.logout().catch(() => undefined);
    await server?.stop();
  });

  it("rejects calls before login and bad options with the SDK's error", async () => {
    const chat = EdgeIMChat.create({ SDKAppID: defaultApp.sdkAppId, endpoint: server.base });
    await expect(chat.getConversationList()).rejects.toMatchObject({ code: 6014 });
    await expect(chat.login({ userID: a, userSig: "" })).rejects.toMatchObject({ code: 6017 });
    await expect(chat.login({ userID: a, userSig: await sig("someone_else") })).rejects.toMatchObject({ code: 70013 });
    expect(() => EdgeIMChat.create({ SDKAppID: 1, endpoint: "nope" } as never)).toThrow(expect.objectContaining({ code: 6017 }));
  });

  it("delivers live, then exactly the 100 missed messages in order after B comes back", async () => {
    const alice = await loggedIn(a);
    const bStore = deviceStore();
    let bob = await loggedIn(b, bStore);
    const hello = alice.chat.createTextMessage({ to: b, payload: { text: "hello" } });
    await alice.chat.sendMessage(hello);
    await until(() => bob.received.length === 1, "hello");
    // The sender's own copy, pushed back to its device, is not "received" there.
    expect(alice.received).toEqual([]);
    expect(bob.received[0]).toMatchObject({ ID: hello.ID, conversationID: `C2C${a}`, flow: "in", type: "TIMTextElem", payload: { text: "hello" } });

    await bob.chat.logout();
    await expect(bob.chat.getConversationList()).rejects.toMatchObject({ code: 6014 });
    expect(() => bob.chat.createTextMessage({ to: a, payload: { text: "x" } })).toThrow(expect.objectContaining({ code: 6014 }));
    const sent: string[] = [];
    for (let i = 0; i < 100; i++) sent.push((await alice.chat.sendMessage(alice.chat.createTextMessage({ to: b, payload: { text: `missed ${i}` } }))).data.message.ID);

    bob = await loggedIn(b, bStore);
    await until(() => bob.received.length >= 100, "100 missed messages");
    await new Promise((r) => setTimeout(r, 300));
    expect(bob.received.map((m) => m.ID)).toEqual(sent);
    expect(bob.chat.getTotalUnreadMessageCount()).toBe(101);
    const { conversationList } = (await bob.chat.getConversationList()).data;
    expect(conversationList[0]).toMatchObject({ conversationID: `C2C${a}`, unreadCount: 101, lastMessage: { messageForShow: "missed 99" } });
    await until(async () => (await bob.chat.getConversationList()).data.conversationList[0]!.userProfile.nick === "Alice", "Alice's nick");
  });

  it("loses and duplicates nothing when the server restarts in the middle of a burst", async () => {
    const alice = await loggedIn(a);
    const bob = await loggedIn(b);
    const sent: string[] = [];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < 40; i++) {
      if (i === 15) {
        // Drop every connection: stop the server and bring it back on the same port and state.
        const port = server.port;
        restarted = server.stop().then(async () => {
          server = await startServer({ persistTo: state, port });
        });
      }
      const message = alice.chat.createTextMessage({ to: b, payload: { text: `burst ${i}` } });
      const result = await alice.chat.sendMessage(message).catch(async (error) => {
        // A send that could not reach the server in 10 s fails clearly; the app retries it.
        expect(error).toMatchObject({ code: expect.any(Number) });
        await restarted;
        return alice.chat.sendMessage(message);
      });
      sent.push(result.data.message.ID);
    }
    await restarted;
    await until(() => bob.received.length >= 40, "40 burst messages", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(bob.received.map((m) => m.ID)).toEqual(sent);
    expect(alice.events.some((e) => e.includes('"state":"disconnected"'))).toBe(true);
    expect(alice.events.at(-1)).toContain('"state":"connected"');
    // The history written before and after the restart is all there, in order.
    const history: string[] = [];
    let next: string | undefined;
    for (let page = 0; page < 3; page++) {
      const { data } = await bob.chat.getMessageList({ conversationID: `C2C${a}`, nextReqMessageID: next });
      history.unshift(...data.messageList.map((m) => m.ID));
      next = data.nextReqMessageID;
    }
    expect(history.slice(-40)).toEqual(sent);
  });

  it("reports KICKED_OUT when another phone logs in, and when an admin kicks", async () => {
    const phone = (deviceID: string) => EdgeIMChat.create({ SDKAppID: defaultApp.sdkAppId, endpoint: server.base, platform: "Android", deviceID, cursorStore: deviceStore() });
    const first = phone("phone-1");
    chats.push(first);
    const kicks: unknown[] = [];
    first.on(EVENT.KICKED_OUT, (e) => kicks.push(e.data));
    await first.login({ userID: a, userSig: await sig(a) });
    const second = phone("phone-2");
    chats.push(second);
    const secondKicks: unknown[] = [];
    second.on(EVENT.KICKED_OUT, (e) => secondKicks.push(e.data));
    await second.login({ userID: a, userSig: await sig(a) });
    await until(() => kicks.length === 1, "the first phone's KICKED_OUT");
    expect(kicks[0]).toEqual({ type: EdgeIMChat.TYPES.KICKED_OUT_MULT_DEVICE });
    expect(first.isReady()).toBe(false);
    await expect(first.getConversationList()).rejects.toMatchObject({ code: 6014 });

    await rest(server, "im_open_login_svc/kick", { UserID: a });
    await until(() => secondKicks.length === 1, "the second phone's KICKED_OUT");
    expect(secondKicks[0]).toEqual({ type: EdgeIMChat.TYPES.KICKED_OUT_REST_API });
  });

  it("recalls, marks read and reports receipts through events", async () => {
    const alice = await loggedIn(a);
    const bob = await loggedIn(b);
    const revoked: Message[] = [];
    const readByPeer: Message[] = [];
    bob.chat.on(EVENT.MESSAGE_REVOKED, (e) => revoked.push(...(e.data as Message[])));
    alice.chat.on(EVENT.MESSAGE_READ_BY_PEER, (e) => readByPeer.push(...(e.data as Message[])));
    const oops = (await alice.chat.sendMessage(alice.chat.createTextMessage({ to: b, payload: { text: "oops" } }))).data.message;
    await until(() => bob.received.some((m) => m.ID === oops.ID), "oops");
    await alice.chat.revokeMessage(oops);
    await until(() => revoked.length === 1, "revoke event");
    expect(revoked[0]).toMatchObject({ ID: oops.ID, isRevoked: true });
    await bob.chat.setMessageRead({ conversationID: `C2C${a}` });
    await until(() => readByPeer.length > 0, "read by peer");
    expect(bob.chat.getTotalUnreadMessageCount()).toBe(0);
    const page = await bob.chat.getMessageList({ conversationID: `C2C${a}` });
    expect(page.data.messageList.at(-1)).toMatchObject({ ID: oops.ID, isRevoked: true });
    const older = await bob.chat.getMessageList({ conversationID: `C2C${a}`, nextReqMessageID: page.data.nextReqMessageID });
    expect(older.data.messageList.at(-1)!.time).toBeLessThanOrEqual(page.data.messageList[0]!.time);
  });
});
