/**
 * Live rooms through the SDK and the web chat page against `wrangler dev`: viewers join with
 * `joinGroup` and get the room's comments through MESSAGE_RECEIVED, once each, across several
 * shards (the app's shard size set to 2); the online count; a dropped live connection comes back
 * without being counted twice; the page in Chromium joins a room and shows its comments.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import EdgeIMChat, { type Chat, type Message } from "../../src/sdk/index.ts";
import { aRandom, text } from "../support/protocol-client.ts";
import { defaultApp, pollUntil, rest, sig } from "./clients.ts";

const { EVENT, TYPES } = EdgeIMChat;
const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

interface Viewer {
  userID: string;
  chat: Chat;
  received: Message[];
}

/** What the SDK keeps of a watched room, read to show which shard a viewer landed on and to drop its socket. */
interface LiveInternals {
  live: { rooms: Map<string, { ticket: { shard: number }; connection: { ws?: WebSocket } }> };
}
const internals = (chat: Chat) => chat as unknown as LiveInternals;

describe("live rooms through the SDK", () => {
  let server: RunningServer;
  let browser: Browser | undefined;
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const groupId = `live_sdk_${stamp}`;
  const owner = `lso_${stamp}`;
  const userIDs = Array.from({ length: 7 }, (_, i) => `lsv_${stamp}_${i}`);
  const viewers: Viewer[] = [];

  const comments = (viewer: Viewer) => viewer.received.filter((m) => m.type === TYPES.MSG_TEXT);
  const texts = (viewer: Viewer) => comments(viewer).map((m) => m.payload.text);
  const backend = (words: string, priority?: string) =>
    rest(server, "group_open_http_svc/send_group_msg", { GroupId: groupId, Random: aRandom(), MsgBody: text(words), From_Account: owner, ...(priority ? { MsgPriority: priority } : {}) });

  async function aViewer(userID: string): Promise<Viewer> {
    const chat = EdgeIMChat.create({ SDKAppID: defaultApp.sdkAppId, endpoint: server.base, deviceID: `${userID}-device` });
    const received: Message[] = [];
    chat.on(EVENT.MESSAGE_RECEIVED, (e) => received.push(...e.data));
    await chat.login({ userID, userSig: await sig(userID) });
    return { userID, chat, received };
  }

  beforeAll(async () => {
    server = await startServer({ persistTo: freshStateDir() });
    expect((await rest(server, "im_open_login_svc/multiaccount_import", { Accounts: [owner, ...userIDs] })).ErrorCode).toBe(0);
    // A connection more than 96 messages behind its acks is cut off (4009): the SDK must ack every 64.
    expect(await rest(server, "edgeim_admin_svc/set_live_settings", { ShardSize: 2, UnackedLimit: 96 })).toMatchObject({ ErrorCode: 0, ShardSize: 2, UnackedLimit: 96 });
    expect((await rest(server, "group_open_http_svc/create_group", { Type: "AVChatRoom", Name: "launch", GroupId: groupId, Owner_Account: owner })).ErrorCode).toBe(0);
  });
  afterAll(async () => {
    for (const viewer of viewers) await viewer.chat.logout().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  it("joins viewers on three or more shards, and each gets every comment once through MESSAGE_RECEIVED", async () => {
    for (const userID of userIDs) {
      const viewer = await aViewer(userID);
      const joined = await viewer.chat.joinGroup({ groupID: groupId, type: TYPES.GRP_AVCHATROOM });
      expect(joined.data.status).toBe(TYPES.JOIN_STATUS_SUCCESS);
      viewers.push(viewer);
    }
    const shards = viewers.map((v) => internals(v.chat).live.rooms.get(groupId)!.ticket.shard);
    expect(new Set(shards).size).toBeGreaterThanOrEqual(3);

    // The room's first viewer saw the others join (tips are on for a small audience).
    await pollUntil(() => viewers[0]!.received.filter((m) => m.type === TYPES.MSG_GRP_TIP && m.payload.operationType === TYPES.GRP_TIP_MBR_JOIN).length >= 6, "join tips", 10_000);

    expect((await backend("welcome", "High")).ErrorCode).toBe(0);
    const mine = viewers[2]!.chat.createTextMessage({ to: groupId, conversationType: TYPES.CONV_GROUP, payload: { text: "first!" }, priority: TYPES.MSG_PRIORITY_LOW });
    const sent = await viewers[2]!.chat.sendMessage(mine);
    expect(sent.data.message).toMatchObject({ status: "success", conversationID: `GROUP${groupId}` });
    expect(sent.data.message.sequence).toBeGreaterThan(0);

    for (const viewer of viewers) {
      const expected = viewer === viewers[2] ? ["welcome"] : ["welcome", "first!"];
      await pollUntil(() => texts(viewer).length >= expected.length, `${viewer.userID}'s comments`, 15_000);
      expect(comments(viewer)[0]).toMatchObject({ conversationID: `GROUP${groupId}`, conversationType: TYPES.CONV_GROUP, from: owner, flow: "in", priority: "High", to: groupId });
    }
    // Nothing arrives twice, even a moment later; the sender's own comment is not "received" back.
    await new Promise((r) => setTimeout(r, 500));
    for (const viewer of viewers) expect(texts(viewer)).toEqual(viewer === viewers[2] ? ["welcome"] : ["welcome", "first!"]);
    expect(comments(viewers[0]!)[1]).toMatchObject({ from: viewers[2]!.userID, priority: "Low", sequence: sent.data.message.sequence });
    // A live room is a comment stream, not a conversation.
    expect((await viewers[0]!.chat.getConversationList()).data.conversationList.map((c) => c.conversationID)).not.toContain(`GROUP${groupId}`);
  });

  it("counts the viewers online, and a dropped live connection comes back on its shard without counting twice", async () => {
    const count = async () => (await viewers[1]!.chat.getGroupOnlineMemberCount(groupId)).data.memberCount;
    await pollUntil(async () => (await count()) === userIDs.length, "7 online", 10_000);

    const dropped = viewers[4]!;
    const room = internals(dropped.chat).live.rooms.get(groupId)!;
    const { shard } = room.ticket;
    const before = room.connection.ws!;
    // The network drops under the SDK: the socket closes without the app doing anything.
    before.close(4000, "network lost");
    await pollUntil(() => room.connection.ws !== before && room.connection.ws!.readyState === WebSocket.OPEN, "the live connection back", 10_000);
    expect(internals(dropped.chat).live.rooms.get(groupId)!.ticket.shard).toBe(shard);
    // The count is a few seconds old at most: it comes back to 7 and never counts the viewer twice.
    const seen: number[] = [];
    for (const started = Date.now(); Date.now() - started < 5_000; await new Promise((r) => setTimeout(r, 250))) {
      seen.push(await count(), (await dropped.chat.getGroupOnlineMemberCount(groupId)).data.memberCount);
    }
    expect(Math.max(...seen)).toBe(userIDs.length);
    expect(seen.slice(-2)).toEqual([userIDs.length, userIDs.length]);

    expect((await backend("after the drop")).ErrorCode).toBe(0);
    for (const viewer of viewers) await pollUntil(() => texts(viewer).includes("after the drop"), `${viewer.userID} after the drop`, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(dropped).filter((t) => t === "after the drop")).toHaveLength(1);
  });

  it("acks as it reads, so a long stream reaches every viewer in full on the same connection", async () => {
    const sockets = viewers.map((v) => internals(v.chat).live.rooms.get(groupId)!.connection.ws);
    const before = viewers.map((v) => texts(v).length);
    const words = Array.from({ length: 160 }, (_, i) => `burst ${i}`);
    // Within the room's rate (40/s), so none is dropped.
    for (const [i, word] of words.entries()) {
      expect((await backend(word)).ErrorCode).toBe(0);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1_000));
    }
    for (const [n, viewer] of viewers.entries()) {
      await pollUntil(() => texts(viewer).length >= before[n]! + words.length, `${viewer.userID}'s burst`, 20_000);
      expect(texts(viewer).slice(before[n])).toEqual(words);
    }
    expect(viewers.map((v) => internals(v.chat).live.rooms.get(groupId)!.connection.ws)).toEqual(sockets);
  });

  it("tells a banned viewer with the ban's tip and a notice, and stops its stream", async () => {
    const banned = viewers[5]!;
    expect((await rest(server, "group_open_http_svc/ban_group_member", { GroupId: groupId, Members_Account: [banned.userID], Duration: 600 })).ErrorCode).toBe(0);
    const tip = await pollUntil(() => banned.received.find((m) => m.type === TYPES.MSG_GRP_TIP && m.payload.operationType === TYPES.GRP_TIP_BAN_AVCHATROOM_MEMBER), "the ban's tip", 10_000);
    expect(tip).toMatchObject({ conversationID: `GROUP${groupId}`, payload: { userIDList: [banned.userID] } });
    const notice = await pollUntil(() => banned.received.find((m) => m.type === TYPES.MSG_GRP_SYS_NOTICE), "the notice", 10_000);
    expect(notice).toMatchObject({ conversationID: TYPES.CONV_SYSTEM, payload: { operationType: 4, groupProfile: { groupID: groupId, name: "launch" } } });
    await expect(banned.chat.getGroupOnlineMemberCount(groupId)).rejects.toMatchObject({ code: 10007 });
    await expect(banned.chat.joinGroup({ groupID: groupId })).rejects.toMatchObject({ code: 10007 });
    // The others saw the tip too.
    await pollUntil(() => viewers[0]!.received.some((m) => m.type === TYPES.MSG_GRP_TIP && m.payload.operationType === TYPES.GRP_TIP_BAN_AVCHATROOM_MEMBER), "the tip at another viewer", 10_000);
    expect((await rest(server, "group_open_http_svc/unban_group_member", { GroupId: groupId, Members_Account: [banned.userID] })).ErrorCode).toBe(0);
  });

  it("stops the stream and the count when a viewer quits", async () => {
    const leaving = viewers[6]!;
    await leaving.chat.quitGroup(groupId);
    await expect(leaving.chat.getGroupOnlineMemberCount(groupId)).rejects.toMatchObject({ code: 10007 });
    // Viewer 5 was banned, viewer 6 quits.
    await pollUntil(async () => (await viewers[0]!.chat.getGroupOnlineMemberCount(groupId)).data.memberCount === userIDs.length - 2, "5 online", 10_000);
    expect((await backend("after the quit")).ErrorCode).toBe(0);
    await pollUntil(() => texts(viewers[0]!).includes("after the quit"), "the comment after the quit", 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(leaving)).not.toContain("after the quit");
  });

  it.skipIf(!executablePath && !process.env.CI)("the web chat page joins a live room, shows its comments and the online count, and sends one", async () => {
    if (!executablePath) throw new Error("Chromium is not installed (apt-get install chromium)");
    browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await (await browser.newContext({ viewport: { width: 900, height: 600 } })).newPage();
    const userID = `lsp_${stamp}`;
    expect((await rest(server, "im_open_login_svc/account_import", { UserID: userID })).ErrorCode).toBe(0);
    await page.goto(`${server.base}/demo/`);
    await page.fill("#user-id", userID);
    await page.click("#login-form button");
    await page.waitForSelector("#net.connected");
    await page.fill("#join-id", groupId);
    await page.click("#join-group button");
    await page.waitForSelector(`#conversations li[data-group="${groupId}"]:has-text("📺")`);
    // Five viewers watched already; the page's user makes six.
    await expect.poll(() => page.textContent("#online"), { timeout: 15_000 }).toBe(`● ${userIDs.length - 1} online`);

    expect((await backend("hello from the stage")).ErrorCode).toBe(0);
    await page.waitForSelector(`#messages li.in:has-text("hello from the stage")`, { timeout: 15_000 });
    await page.fill("#text", "great show");
    await page.click("#composer button[type=submit]");
    await page.waitForSelector(`#messages li.out:has-text("great show")`);
    await pollUntil(() => texts(viewers[0]!).includes("great show"), "the page's comment at a viewer", 15_000);
  });
});
