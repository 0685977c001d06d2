import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { userActor } from "../../src/actors/refs.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import type { UserEvent } from "../../src/domain/events.ts";
import type { C2CMessage, MsgBody, StoredC2CMessage } from "../../src/domain/message.ts";
import { aRandom, TestClient, text } from "./clients.ts";
import { anApp, aUserId, twoUsers, type TestApp } from "./helpers.ts";

type MessageEvent = { seq: number; message: StoredC2CMessage };
type Sync = { events: UserEvent[]; cursor: number; complete: boolean };

const everyElement = [
  { MsgType: "TIMTextElem", MsgContent: { Text: "hello 👋 ünïcode" } },
  { MsgType: "TIMFaceElem", MsgContent: { Index: 3, Data: "smile" } },
  { MsgType: "TIMLocationElem", MsgContent: { Desc: "Shenzhen", Latitude: 22.54, Longitude: 114.05 } },
  { MsgType: "TIMCustomElem", MsgContent: { Data: '{"order":42}', Desc: "order", Ext: "ext", Sound: "dingdong.aiff" } },
  { MsgType: "TIMSoundElem", MsgContent: { Url: "https://media.example/a.m4a", UUID: "snd-1", Size: 2048, Second: 3, Download_Flag: 2 } },
  {
    MsgType: "TIMImageElem",
    MsgContent: {
      UUID: "img-1",
      ImageFormat: 1,
      ImageInfoArray: [
        { Type: 1, Size: 1000, Width: 800, Height: 600, URL: "https://media.example/o.jpg" },
        { Type: 2, Size: 500, Width: 400, Height: 300, URL: "https://media.example/l.jpg" },
        { Type: 3, Size: 100, Width: 198, Height: 148, URL: "https://media.example/t.jpg" },
      ],
    },
  },
  { MsgType: "TIMFileElem", MsgContent: { Url: "https://media.example/f.pdf", UUID: "file-1", FileSize: 12345, FileName: "f.pdf", Download_Flag: 2 } },
  {
    MsgType: "TIMVideoFileElem",
    MsgContent: {
      VideoUrl: "https://media.example/v.mp4",
      VideoUUID: "vid-1",
      VideoSize: 99999,
      VideoSecond: 12,
      VideoFormat: "mp4",
      VideoDownloadFlag: 2,
      ThumbUrl: "https://media.example/v.jpg",
      ThumbUUID: "thumb-1",
      ThumbSize: 1000,
      ThumbWidth: 320,
      ThumbHeight: 180,
      ThumbFormat: "JPG",
      ThumbDownloadFlag: 2,
    },
  },
  {
    MsgType: "TIMRelayElem",
    MsgContent: {
      Title: "Chat history",
      MsgNum: 2,
      CompatibleText: "upgrade to see merged messages",
      AbstractList: ["a: hi", "b: hello"],
      MsgList: [
        { From_Account: "a", MsgTimeStamp: 1700000000, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hi" } }] },
        { From_Account: "b", MsgTimeStamp: 1700000001, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hello" } }] },
      ],
    },
  },
];

describe("login", () => {
  it("answers with the user's current sync sequence", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    expect(client.loginResponse).toMatchObject({ code: 0, data: { userId: a, seq: 0 } });
  });

  it.each([
    [
      "a UserSig signed with another key",
      async (app: TestApp, user: string) => generateUserSig({ sdkAppId: app.sdkAppId, secretKey: "another-key", identifier: user }),
      70009,
    ],
    ["a UserSig for someone else", async (app: TestApp) => app.sig("someone_else"), 70013],
    ["an empty UserSig", async () => "", 70002],
  ])("refuses %s and closes the socket", async (_name, makeSig, code) => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a, { userSig: await makeSig(app, a) });
    expect(client.loginResponse?.code).toBe(code);
    expect((await client.waitForClose()).code).toBe(4001);
  });

  it("refuses an account that does not exist (70107)", async () => {
    const app = await anApp();
    const client = await TestClient.connect(app, "never_imported");
    expect(client.loginResponse?.code).toBe(70107);
  });

  it("refuses any frame before login, then closes", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a, { noLogin: true });
    const answer = await client.request("sync", { after: 0 });
    expect(answer.code).toBe(6014);
    expect((await client.waitForClose()).code).toBe(4002);
  });

  it("closes the connection when the UserSig expires while connected", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a, { userSig: await app.sig(a, 3) });
    expect(client.loginResponse?.code).toBe(0);
    // The actor's alarm closes it at the expiry, without waiting for a frame.
    expect((await client.waitForClose(8000)).code).toBe(4004);
    expect(client.eventsOf("userSigExpired")).toHaveLength(1);
  });
});

describe("sending", () => {
  it("delivers every element type unchanged, live and from history", async () => {
    const { app, a, b } = await twoUsers();
    const receiver = await TestClient.connect(app, b);
    const answer = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: everyElement, CloudCustomData: "cc" });
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, MsgTime: expect.any(Number), MsgKey: expect.stringMatching(/^\d+_\d+_\d+$/) });
    const [live] = await receiver.waitForEvents<MessageEvent>("message", 1);
    expect(live!.message).toMatchObject({ from: a, to: b, flow: "in", body: everyElement, cloudCustomData: "cc", key: answer.body.MsgKey });
    const history = await receiver.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: a });
    expect(history.messages[0]!.body).toEqual(everyElement);
  });

  it("answers with MsgTime, MsgSeq and MsgKey = MsgSeq_MsgRandom_MsgTime", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const random = aRandom();
    const ack = await sender.call<{ key: string; time: number; msgSeq: number }>("sendMessage", { to: b, random, body: text("x") });
    expect(ack.key).toBe(`${ack.msgSeq}_${random}_${ack.time}`);
    expect(Math.abs(ack.time - Date.now() / 1000)).toBeLessThan(5);
  });

  it("reaches every online device of the recipient and the sender's other devices", async () => {
    const { app, a, b } = await twoUsers();
    const [a1, a2] = [await TestClient.connect(app, a, { device: "a-1" }), await TestClient.connect(app, a, { device: "a-2" })];
    const [b1, b2] = [await TestClient.connect(app, b, { device: "b-1" }), await TestClient.connect(app, b, { device: "b-2" })];
    const ack = await a1.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("to all") });
    for (const client of [b1, b2]) expect((await client.waitForEvents<MessageEvent>("message", 1))[0]!.message).toMatchObject({ key: ack.key, flow: "in" });
    expect((await a2.waitForEvents<MessageEvent>("message", 1))[0]!.message).toMatchObject({ key: ack.key, flow: "out", peer: b });
  });

  it("does not store a retried send twice", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const random = aRandom();
    const first = await sender.call<{ key: string }>("sendMessage", { to: b, random, body: text("once") });
    const again = await sender.call<{ key: string }>("sendMessage", { to: b, random, body: text("once") });
    const viaRest = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: random, MsgBody: text("once") });
    expect(again.key).toBe(first.key);
    expect(viaRest.body.MsgKey).toBe(first.key);
    const receiver = await TestClient.connect(app, b);
    const synced = await receiver.call<Sync>("sync", { after: 0 });
    expect(synced.events.filter((e) => e.kind === "message")).toHaveLength(1);
  });

  it("does not store a retry even after the sender's actor was evicted", async () => {
    const { app, a, b } = await twoUsers();
    const random = aRandom();
    const first = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: random, MsgBody: text("once") });
    await evictDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: a }));
    const again = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: random, MsgBody: text("once") });
    expect(again.body.MsgKey).toBe(first.body.MsgKey);
  });

  it("keeps one copy when a retry follows a first attempt that reached only the recipient", async () => {
    const { app, a, b } = await twoUsers();
    const random = aRandom();
    // The first attempt: the recipient stored it, then the sender's actor went down before storing its copy.
    const first: C2CMessage = { key: `77_${random}_1700000000`, from: a, to: b, msgSeq: 77, random, time: 1_700_000_000, body: [{ MsgType: "TIMTextElem", MsgContent: { Text: "once" } }] };
    const recipient = userActor(env, { sdkAppId: app.sdkAppId, userId: b });
    await recipient.receiveC2C(first, { unread: true, lastMessage: true, push: true }, {});
    const retry = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: random, MsgBody: text("once") });
    expect(retry.body.MsgKey).toBe(first.key);
    const receiver = await TestClient.connect(app, b);
    expect((await receiver.call<Sync>("sync", { after: 0 })).events).toHaveLength(1);
    const sender = await TestClient.connect(app, a);
    expect((await sender.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: b })).messages.map((m) => m.key)).toEqual([first.key]);
  });

  it("keeps the order of concurrent sends from one connection", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const receiver = await TestClient.connect(app, b);
    const randoms = Array.from({ length: 40 }, () => aRandom());
    await Promise.all(randoms.map((random, i) => sender.call("sendMessage", { to: b, random, body: text(`#${i}`) })));
    const live = await receiver.waitForEvents<MessageEvent>("message", 40);
    expect(live.map((e) => e.message.random)).toEqual(randoms);
    expect(live.map((e) => e.seq)).toEqual([...live.map((e) => e.seq)].sort((x, y) => x - y));
    const synced = await receiver.call<Sync>("sync", { after: 0 });
    expect(synced.events.map((e) => (e as MessageEvent).message.random)).toEqual(randoms);
  });

  it("keeps the order of concurrent sends from one connection right after the actor was evicted", async () => {
    for (let round = 0; round < 3; round++) {
      const { app, a, b } = await twoUsers();
      const sender = await TestClient.connect(app, a);
      const receiver = await TestClient.connect(app, b);
      await evictDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: a }));
      const randoms = Array.from({ length: 30 }, () => aRandom());
      await Promise.all(randoms.map((random, i) => sender.call("sendMessage", { to: b, random, body: text(`#${i}`) })));
      const live = await receiver.waitForEvents<MessageEvent>("message", 30);
      expect(live.map((e) => e.message.random)).toEqual(randoms);
      await TestClient.closeAll();
    }
  });

  it("delivers MsgLifeTime 0 only to online devices and stores nothing", async () => {
    const { app, a, b } = await twoUsers();
    await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("offline, lost"), MsgLifeTime: 0 });
    const receiver = await TestClient.connect(app, b);
    await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("online"), MsgLifeTime: 0 });
    const [live] = await receiver.waitForEvents<MessageEvent>("message", 1);
    expect(live).toMatchObject({ seq: 0, message: { body: text("online") } });
    expect((await receiver.call<Sync>("sync", { after: 0 })).events).toEqual([]);
  });

  it("answers 90012 for a recipient that does not exist", async () => {
    const { app, a } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    expect((await sender.request("sendMessage", { to: "ghost", random: aRandom(), body: text("?") })).code).toBe(90012);
    expect((await app.rest("openim/sendmsg", { From_Account: a, To_Account: "ghost", MsgRandom: 1, MsgBody: text("?") })).body.ErrorCode).toBe(90012);
  });

  it("answers 93000 for a message over 12 KB", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const big = text("x".repeat(12 * 1024));
    expect((await sender.request("sendMessage", { to: b, random: aRandom(), body: big })).code).toBe(93000);
    const viaRest = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: 1, MsgBody: text("y"), CloudCustomData: "z".repeat(12 * 1024) });
    expect(viaRest.body.ErrorCode).toBe(93000);
  });

  it.each([
    ["an unknown element type", { MsgBody: [{ MsgType: "TIMNopeElem", MsgContent: {} }] }, 90002],
    ["an empty MsgBody", { MsgBody: [] }, 90002],
    ["two custom elements", { MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: {} }, { MsgType: "TIMCustomElem", MsgContent: {} }] }, 90002],
    ["a text element without Text", { MsgBody: [{ MsgType: "TIMTextElem", MsgContent: {} }] }, 90002],
    ["no MsgRandom", { MsgRandom: undefined }, 90005],
    ["a MsgRandom over 32 bits", { MsgRandom: 2 ** 32 }, 90005],
    ["MsgLifeTime over 7 days", { MsgLifeTime: 604801 }, 90026],
    ["no To_Account", { To_Account: undefined }, 90003],
  ])("rejects %s over REST", async (_name, change, code) => {
    const { app, a, b } = await twoUsers();
    const body = { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("x"), ...change };
    expect((await app.rest("openim/sendmsg", body)).body.ErrorCode).toBe(code);
  });
});

describe("cost", () => {
  it("writes 6 SQLite rows on each side per message (the message with its 3 indexes, the conversation and its index), and the sender 1 more for its statistics", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    await sender.call("sendMessage", { to: b, random: aRandom(), body: text("opens the conversation") });
    const actors = [a, b].map((userId) => userActor(env, { sdkAppId: app.sdkAppId, userId }));
    const before = await Promise.all(actors.map((s) => s.storageUsage()));
    for (let i = 0; i < 10; i++) await sender.call("sendMessage", { to: b, random: aRandom(), body: text(`#${i}`) });
    const after = await Promise.all(actors.map((s) => s.storageUsage()));
    expect(after.map((u, i) => (u.rowsWritten - before[i]!.rowsWritten) / 10)).toEqual([7, 6]);
  });
});

describe("offline and roaming", () => {
  it("gives a device that reconnects exactly what it missed, in order, after hibernation", async () => {
    const { app, a, b } = await twoUsers();
    const receiver = await TestClient.connect(app, b);
    await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("seen") });
    const [seen] = await receiver.waitForEvents<MessageEvent>("message", 1);
    receiver.close();
    await receiver.waitForClose();
    const missed = [];
    for (let i = 0; i < 5; i++) {
      missed.push((await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text(`missed ${i}`) })).body.MsgKey);
    }
    await evictDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: b }));
    const back = await TestClient.connect(app, b);
    const synced = await back.call<Sync>("sync", { after: seen!.seq });
    expect(synced.events.map((e) => (e as MessageEvent).message.key)).toEqual(missed);
    expect(synced.complete).toBe(true);
    expect(synced.cursor).toBe(synced.events.at(-1)!.seq);
  });

  it("keeps delivering to a socket across the actor's hibernation", async () => {
    const { app, a, b } = await twoUsers();
    const receiver = await TestClient.connect(app, b);
    await evictDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: b }));
    await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("after hibernation") });
    expect((await receiver.waitForEvents<MessageEvent>("message", 1))[0]!.message.body).toEqual(text("after hibernation"));
    expect((await receiver.request("getTotalUnread")).code).toBe(0);
  });

  it("pages sync in bounded pages", async () => {
    const { app, a, b } = await twoUsers();
    for (let i = 0; i < 7; i++) await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text(`${i}`) });
    const client = await TestClient.connect(app, b);
    const seen: string[] = [];
    let cursor = 0;
    for (;;) {
      const page = await client.call<Sync>("sync", { after: cursor, limit: 3 });
      expect(page.events.length).toBeLessThanOrEqual(3);
      seen.push(...page.events.map((e) => JSON.stringify((e as MessageEvent).message.body)));
      cursor = page.cursor;
      if (page.complete) break;
    }
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => JSON.stringify(text(`${i}`))));
  });

  it("lets a new device page back through a conversation, newest first", async () => {
    const { app, a, b } = await twoUsers();
    for (let i = 0; i < 5; i++) await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text(`${i}`) });
    const client = await TestClient.connect(app, b);
    const first = await client.call<{ messages: StoredC2CMessage[]; complete: boolean; next: number }>("getMessageList", { peer: a, limit: 3 });
    expect(first.messages.map((m) => m.body)).toEqual([text("4"), text("3"), text("2")]);
    expect(first.complete).toBe(false);
    const second = await client.call<{ messages: StoredC2CMessage[]; complete: boolean }>("getMessageList", { peer: a, before: first.next, limit: 3 });
    expect(second.messages.map((m) => m.body)).toEqual([text("1"), text("0")]);
    expect(second.complete).toBe(true);
  });
});

describe("devices", () => {
  it("lets several web connections stay together", async () => {
    const { app, a } = await twoUsers();
    const tabs = [await TestClient.connect(app, a, { device: "t1" }), await TestClient.connect(app, a, { device: "t2" }), await TestClient.connect(app, a, { device: "t3" })];
    const status = await app.rest("openim/query_online_status", { To_Account: [a], IsNeedDetail: 1 });
    expect((status.body.QueryResult as { Detail: unknown[] }[])[0]!.Detail).toHaveLength(3);
    expect(tabs.every((t) => t.closed === null)).toBe(true);
  });

  it("kicks the older phone when a second phone logs in, telling it first", async () => {
    const { app, a } = await twoUsers();
    const old = await TestClient.connect(app, a, { platform: "Android", device: "phone-1" });
    const web = await TestClient.connect(app, a, { platform: "Web", device: "tab" });
    const next = await TestClient.connect(app, a, { platform: "iOS", device: "phone-2" });
    expect(next.loginResponse?.code).toBe(0);
    expect((await old.waitForClose()).code).toBe(4003);
    expect(old.eventsOf("kickedOut")).toEqual([{ reason: "multipleLogin" }]);
    expect(web.closed).toBeNull();
  });

  it("follows the app's policy", async () => {
    const { app, a } = await twoUsers({ loginPolicy: { web: 1, mobile: 1, pad: 1, desktop: 1, other: 1 } });
    const first = await TestClient.connect(app, a, { device: "t1" });
    await TestClient.connect(app, a, { device: "t2" });
    expect((await first.waitForClose()).code).toBe(4003);
  });

  it("replaces a device's old connection when it reconnects", async () => {
    const { app, a } = await twoUsers();
    const stale = await TestClient.connect(app, a, { device: "same" });
    await TestClient.connect(app, a, { device: "same" });
    await stale.waitForClose();
    expect(stale.eventsOf("kickedOut")).toEqual([{ reason: "sameDeviceLogin" }]);
  });

  it("is logged out everywhere by REST kick", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    expect((await app.rest("im_open_login_svc/kick", { UserID: a })).body.ErrorCode).toBe(0);
    expect((await client.waitForClose()).code).toBe(4003);
    const status = await app.rest("openim/query_online_status", { To_Account: [a] });
    expect(status.body.QueryResult).toEqual([{ To_Account: a, Status: "Offline" }]);
  });
});

describe("conversations, unread and receipts", () => {
  it("counts unread, and reading on one device clears it on all and tells the sender", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const [b1, b2] = [await TestClient.connect(app, b, { device: "b1" }), await TestClient.connect(app, b, { device: "b2" })];
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text(`${i}`) })).key);
    expect(await b1.call("getTotalUnread")).toMatchObject({ total: 3 });
    const list = await b1.call<{ conversations: { peer: string; unreadCount: number; lastMessage: StoredC2CMessage }[] }>("getConversationList");
    expect(list.conversations).toEqual([expect.objectContaining({ peer: a, unreadCount: 3, lastMessage: expect.objectContaining({ key: keys[2] }) })]);

    await b1.call("setMessageRead", { peer: a });
    for (const device of [b1, b2]) expect((await device.waitForEvents("conversationRead", 1))[0]).toMatchObject({ peer: a });
    expect(await b2.call("getTotalUnread")).toMatchObject({ total: 0 });
    expect((await sender.waitForEvents("peerRead", 1))[0]).toMatchObject({ peer: b, key: keys[2] });
    const history = await sender.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: b });
    expect(history.messages.every((m) => m.isPeerRead)).toBe(true);
  });

  it("records nothing and tells no one when a read changes nothing", async () => {
    const { app, a, b } = await twoUsers();
    const reader = await TestClient.connect(app, b);
    const sender = await TestClient.connect(app, a);
    for (let i = 0; i < 3; i++) await reader.call("setMessageRead", { peer: a });
    await app.rest("openim/admin_set_msg_read", { Report_Account: b, Peer_Account: a });
    await sender.call("sendMessage", { to: b, random: aRandom(), body: text("one") });
    await reader.call("setMessageRead", { peer: a });
    await reader.call("setMessageRead", { peer: a });
    await sender.waitForEvents("peerRead", 1);
    const synced = await reader.call<Sync>("sync", { after: 0 });
    expect(synced.events.map((e) => e.kind)).toEqual(["message", "conversationRead"]);
    expect((await sender.call<Sync>("sync", { after: 0 })).events.map((e) => e.kind)).toEqual(["message", "peerRead"]);
    expect(sender.eventsOf("peerRead")).toHaveLength(1);
  });

  it("sends per-message read receipts only for messages that asked", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const receiver = await TestClient.connect(app, b);
    const asked = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("ack me"), needReadReceipt: true });
    const plain = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("plain") });
    const sent = await receiver.call<{ keys: string[] }>("sendReadReceipts", { peer: a, keys: [asked.key, plain.key] });
    expect(sent.keys).toEqual([asked.key]);
    expect((await sender.waitForEvents("readReceipts", 1))[0]).toMatchObject({ peer: b, keys: [asked.key] });
    const history = await sender.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: b });
    expect(history.messages.find((m) => m.key === asked.key)!.receiptRead).toBe(true);
  });

  it("pins and deletes conversations, optionally with their history", async () => {
    const { app, a, b } = await twoUsers();
    const c = aUserId("c");
    await app.rest("im_open_login_svc/account_import", { UserID: c });
    await app.rest("openim/sendmsg", { From_Account: b, To_Account: a, MsgRandom: aRandom(), MsgBody: text("from b") });
    await app.rest("openim/sendmsg", { From_Account: c, To_Account: a, MsgRandom: aRandom(), MsgBody: text("from c") });
    const client = await TestClient.connect(app, a);
    await client.call("pinConversation", { peer: b, pinned: true });
    const list = await app.rest("recentcontact/get_list", { From_Account: a, TimeStamp: 0, StartIndex: 0, TopTimeStamp: 0, TopStartIndex: 0, AssistFlags: 7 });
    expect(list.body.SessionItem).toEqual([
      { Type: 1, To_Account: b, MsgTime: expect.any(Number), TopFlag: 1 },
      { Type: 1, To_Account: c, MsgTime: expect.any(Number), TopFlag: 0 },
    ]);
    expect(list.body.CompleteFlag).toBe(1);

    await app.rest("recentcontact/delete", { From_Account: a, Type: 1, To_Account: b, ClearRamble: 1 });
    await client.call("deleteConversation", { peer: c });
    expect((await client.call<{ conversations: unknown[] }>("getConversationList")).conversations).toEqual([]);
    expect((await client.call<{ messages: unknown[] }>("getMessageList", { peer: b })).messages).toEqual([]);
    expect((await client.call<{ messages: unknown[] }>("getMessageList", { peer: c })).messages).toHaveLength(1);
    expect(client.eventsOf("conversationDeleted").map((e) => e.peer)).toEqual([b, c]);
  });
});

describe("recall, edit, delete", () => {
  it("recalls within the window on both sides, with an event to every device", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const receiver = await TestClient.connect(app, b);
    const sent = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("oops") });
    await sender.call("revokeMessage", { peer: b, key: sent.key });
    expect((await receiver.waitForEvents("messageRevoked", 1))[0]).toMatchObject({ peer: a, key: sent.key });
    expect((await sender.waitForEvents("messageRevoked", 1))[0]).toMatchObject({ peer: b, key: sent.key });
    const history = await receiver.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: a });
    expect(history.messages[0]).toMatchObject({ key: sent.key, isRevoked: true });
    expect((await sender.request("revokeMessage", { peer: b, key: sent.key })).code).toBe(20023);
  });

  it("refuses a client's recall after the window (20016), but not an admin's", async () => {
    const { app, a, b } = await twoUsers({ recallWindowSeconds: 1 });
    const sender = await TestClient.connect(app, a);
    const sent = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("late") });
    await new Promise((r) => setTimeout(r, 2100));
    expect((await sender.request("revokeMessage", { peer: b, key: sent.key })).code).toBe(20016);
    const byAdmin = await app.rest("openim/admin_msgwithdraw", { From_Account: a, To_Account: b, MsgKey: sent.key });
    expect(byAdmin.body.ErrorCode).toBe(0);
    const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: b, Peer_Account: a, MaxCnt: 10 });
    expect((roam.body.MsgList as { MsgFlagBits: number }[])[0]!.MsgFlagBits).toBe(1);
  });

  it("does not let the recipient recall the sender's message", async () => {
    const { app, a, b } = await twoUsers();
    const sent = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("mine") });
    const receiver = await TestClient.connect(app, b);
    expect((await receiver.request("revokeMessage", { peer: a, key: sent.body.MsgKey })).code).toBe(20022);
  });

  it("edits a message on both sides (client and modify_c2c_msg)", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    const receiver = await TestClient.connect(app, b);
    const sent = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("typo") });
    await sender.call("modifyMessage", { peer: b, key: sent.key, body: text("fixed") });
    expect((await receiver.waitForEvents<MessageEvent>("messageModified", 1))[0]!.message).toMatchObject({ key: sent.key, body: text("fixed"), isModified: true });
    await app.rest("openim/modify_c2c_msg", { From_Account: a, To_Account: b, MsgKey: sent.key, MsgBody: text("fixed again"), CloudCustomData: "v3" });
    const history = await receiver.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: a });
    expect(history.messages[0]).toMatchObject({ body: text("fixed again"), cloudCustomData: "v3", isModified: true });
    const synced = await receiver.call<Sync>("sync", { after: 0 });
    expect(synced.events.map((e) => e.kind)).toEqual(["message", "messageModified", "messageModified"]);
  });

  it("never lets a recall and an edit interleave: an edit after a recall is refused and changes nothing", async () => {
    for (let round = 0; round < 5; round++) {
      const { app, a, b } = await twoUsers();
      const sender = await TestClient.connect(app, a);
      const receiver = await TestClient.connect(app, b);
      const sent = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("race") });
      // Both reach the sender's actor back to back, as a client's recall and a backend's edit may.
      const stub = userActor(env, { sdkAppId: app.sdkAppId, userId: a });
      const [recall, edit] = await Promise.all([stub.revoke(b, sent.key, true), stub.modify(b, sent.key, text("edited") as MsgBody)]);
      expect(recall.ok).toBe(true);
      // The recall came first, so the edit is refused and changes nothing.
      expect(edit).toMatchObject({ ok: false, code: 20023 });
      const synced = await receiver.call<Sync>("sync", { after: 0 });
      expect(synced.events.map((e) => e.kind)).toEqual(["message", "messageRevoked"]);
      expect(receiver.eventsOf("messageModified")).toEqual([]);
      const history = await receiver.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: a });
      expect(history.messages[0]).toMatchObject({ isRevoked: true, body: text("race") });
      await TestClient.closeAll();
    }
  });

  it("recalls and edits a message the sender kept no copy of (SyncOtherMachine 2) from the recipient's", async () => {
    const { app, a, b } = await twoUsers();
    const receiver = await TestClient.connect(app, b);
    const notice = await app.rest("openim/sendmsg", { SyncOtherMachine: 2, From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("notice") });
    const edited = await app.rest("openim/modify_c2c_msg", { From_Account: a, To_Account: b, MsgKey: notice.body.MsgKey, MsgBody: text("notice, corrected") });
    expect(edited.body.ErrorCode).toBe(0);
    expect((await receiver.waitForEvents<MessageEvent>("messageModified", 1))[0]!.message.body).toEqual(text("notice, corrected"));
    const recalled = await app.rest("openim/admin_msgwithdraw", { From_Account: a, To_Account: b, MsgKey: notice.body.MsgKey });
    expect(recalled.body.ErrorCode).toBe(0);
    expect((await receiver.waitForEvents("messageRevoked", 1))[0]).toMatchObject({ peer: a, key: notice.body.MsgKey });
    const again = await app.rest("openim/admin_msgwithdraw", { From_Account: a, To_Account: b, MsgKey: notice.body.MsgKey });
    expect(again.body.ErrorCode).toBe(20023);
    const missing = await app.rest("openim/admin_msgwithdraw", { From_Account: a, To_Account: b, MsgKey: "1_2_3" });
    expect(missing.body.ErrorCode).toBe(20022);
  });

  it("shows the newest message left as the conversation's last after the last one is deleted for the user", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    await sender.call("sendMessage", { to: b, random: aRandom(), body: text("first") });
    const second = await sender.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("second") });
    await sender.call("deleteMessages", { peer: b, keys: [second.key] });
    const list = await sender.call<{ conversations: { lastMessage: StoredC2CMessage | null }[] }>("getConversationList");
    expect(list.conversations[0]!.lastMessage?.body).toEqual(text("first"));
  });

  it("deletes a message for the user only", async () => {
    const { app, a, b } = await twoUsers();
    const sent = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("gone for b") });
    const receiver = await TestClient.connect(app, b);
    await receiver.call("deleteMessages", { peer: a, keys: [sent.body.MsgKey] });
    expect((await receiver.call<{ messages: unknown[] }>("getMessageList", { peer: a })).messages).toEqual([]);
    const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, MaxCnt: 10 });
    expect(roam.body.MsgCnt).toBe(1);
  });
});

describe("bad frames", () => {
  it("answers malformed JSON, non-requests, unknown ops and bad data without closing", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    client.responses.length = 0;
    client.sendRaw("{nope");
    client.sendRaw(JSON.stringify({ hello: 1 }));
    client.sendRaw(JSON.stringify({ id: 7, op: "fly", data: {} }));
    client.sendRaw(JSON.stringify({ id: 8, op: "sendMessage", data: { to: "x" } }));
    client.sendRaw(new Uint8Array([1, 2, 3]).buffer);
    await client.until(() => client.responses.length >= 5, "five error responses");
    expect(client.responses.map((r) => r.code)).toEqual([6017, 6017, 60009, 6017, 6017]);
    expect(client.responses[3]!.message).toMatch(/^sendMessage: /);
    expect((await client.request("getTotalUnread")).code).toBe(0);
    expect(client.closed).toBeNull();
  });

  it("refuses a second login on the same connection", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    expect((await client.request("login", { userSig: await app.sig(a) })).code).toBe(6017);
  });

  it("closes a connection that floods frames, after telling it to slow down", async () => {
    const { app, a } = await twoUsers({ connectionFrameRate: 5 });
    const client = await TestClient.connect(app, a);
    for (let i = 0; i < 40; i++) client.sendRaw(JSON.stringify({ id: 100 + i, op: "getTotalUnread" }));
    expect((await client.waitForClose()).code).toBe(4008);
    expect(client.responses.some((r) => r.code === 60007)).toBe(true);
  });

  it("refuses frames over 64 KiB and closes", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    client.sendRaw(JSON.stringify({ id: 1, op: "sync", data: { after: 0 }, pad: "x".repeat(70_000) }));
    expect((await client.waitForClose()).code).toBe(1009);
  });
});

describe("sync after history expired", () => {
  it("does not skip what follows edits of a message that retention removed", async () => {
    const { app, a, b } = await twoUsers({ retentionDays: 30 });
    const [random, time] = [aRandom(), Math.floor(Date.now() / 1000) - 40 * 86_400];
    await app.rest("openim/importmsg", { SyncFromOldSystem: 2, From_Account: a, To_Account: b, MsgRandom: random, MsgTimeStamp: time, MsgBody: text("old") });
    for (const edit of ["old, edited", "old, edited again"]) {
      const edited = await app.rest("openim/modify_c2c_msg", { From_Account: a, To_Account: b, MsgKey: `${random}_${random}_${time}`, MsgBody: text(edit) });
      expect(edited.body.ErrorCode).toBe(0);
    }
    await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("new") });
    await app.rest("openim/admin_set_msg_read", { Report_Account: b, Peer_Account: a });
    const stub = userActor(env, { sdkAppId: app.sdkAppId, userId: b });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const client = await TestClient.connect(app, b);
    const seen: UserEvent[] = [];
    let after = 0;
    for (let page = 0; page < 10; page++) {
      const synced = await client.call<Sync>("sync", { after, limit: 2 });
      seen.push(...synced.events);
      after = synced.cursor;
      if (synced.complete) break;
    }
    expect(seen.map((e) => e.kind)).toEqual(["message", "conversationRead"]);
  });
});

describe("retention", () => {
  it("deletes history older than the app's retention period when the actor's alarm runs", async () => {
    const { app, a, b } = await twoUsers({ retentionDays: 30 });
    const day = 86_400;
    const now = Math.floor(Date.now() / 1000);
    for (const [age, label] of [[40, "old"], [20, "recent"]] as const) {
      await app.rest("openim/importmsg", { SyncFromOldSystem: 2, From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgTimeStamp: now - age * day, MsgBody: text(label) });
    }
    const stub = userActor(env, { sdkAppId: app.sdkAppId, userId: b });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const client = await TestClient.connect(app, b);
    const history = await client.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: a });
    expect(history.messages.map((m) => m.body)).toEqual([text("recent")]);
  });

  it("keeps sweeping for a user whose first stored item was a read, after an eviction", async () => {
    const { app, a, b } = await twoUsers({ retentionDays: 30 });
    await app.rest("openim/admin_set_msg_read", { Report_Account: b, Peer_Account: a });
    const reader = await TestClient.connect(app, b);
    await reader.call("setMessageRead", { peer: a });
    await TestClient.closeAll();
    await app.rest("openim/importmsg", { SyncFromOldSystem: 2, From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgTimeStamp: Math.floor(Date.now() / 1000) - 40 * 86_400, MsgBody: text("old") });
    const stub = userActor(env, { sdkAppId: app.sdkAppId, userId: b });
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const client = await TestClient.connect(app, b);
    expect((await client.call<{ messages: unknown[] }>("getMessageList", { peer: a })).messages).toEqual([]);
  });

  it("sets no alarm for a user who holds no history, and wakes a dormant one only when its history expires", async () => {
    const { app, a, b } = await twoUsers({ retentionDays: 30 });
    const stub = userActor(env, { sdkAppId: app.sdkAppId, userId: b });
    const client = await TestClient.connect(app, b);
    await client.call("getTotalUnread");
    await TestClient.closeAll();
    await runDurableObjectAlarm(stub);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();

    const sentAt = Math.floor(Date.now() / 1000) - 10 * 86_400;
    await app.rest("openim/importmsg", { SyncFromOldSystem: 2, From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgTimeStamp: sentAt, MsgBody: text("ten days old") });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const next = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(next).toBe((sentAt + 30 * 86_400) * 1000);
  });
});
