/**
 * A live room against `wrangler dev` with real sockets: viewers join on their usual connection,
 * open the live connection the join names, and the room's messages reach every viewer across
 * several shards (the app's shard size set small through edgeim_admin_svc/set_live_settings).
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import type { GroupMessage } from "../../src/domain/groupMessage.ts";
import { aRandom, ProtocolClient, text } from "../support/protocol-client.ts";
import { connect, defaultApp, pollUntil, rest, sig } from "./clients.ts";

interface LiveAnswer {
  status: string;
  live: { groupId: string; shard: number; ticket: string; expiresAt: number };
}

describe("a live room across shards", () => {
  let server: RunningServer;
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const groupId = `live_${stamp}`;
  const viewers = Array.from({ length: 7 }, (_, i) => `lv_${stamp}_${i}`);
  const owner = `lo_${stamp}`;

  async function openLive(userId: string, live: LiveAnswer["live"], device = `${userId}-live`): Promise<ProtocolClient> {
    const query = new URLSearchParams({ sdkappid: String(defaultApp.sdkAppId), userid: userId, groupid: live.groupId, shard: String(live.shard), ticket: live.ticket, device });
    const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/live?${query}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot open the live connection")), { once: true });
    });
    const client = new ProtocolClient(ws, userId);
    client.loginResponse = await client.request("login", { userSig: await sig(userId) });
    return client;
  }

  const messages = (client: ProtocolClient) => client.eventsOf<{ message: GroupMessage }>("groupMessage").map((e) => e.message);

  beforeAll(async () => {
    server = await startServer({ persistTo: freshStateDir() });
    expect((await rest(server, "im_open_login_svc/multiaccount_import", { Accounts: [owner, ...viewers] })).ErrorCode).toBe(0);
    expect(await rest(server, "edgeim_admin_svc/set_live_settings", { ShardSize: 2, TipsUpTo: 0 })).toMatchObject({ ErrorCode: 0, ShardSize: 2 });
    expect((await rest(server, "group_open_http_svc/create_group", { Type: "AVChatRoom", Name: "show", GroupId: groupId, Owner_Account: owner })).ErrorCode).toBe(0);
  });
  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
  });

  it("delivers every message once to every viewer on four shards, counts them, and bans across shards", async () => {
    const watching: { userId: string; live: LiveAnswer["live"]; client: ProtocolClient }[] = [];
    for (const userId of viewers) {
      const device = await connect(server, userId, `${userId}-main`);
      const joined = await device.call<LiveAnswer>("joinGroup", { groupID: groupId });
      expect(joined.status).toBe("JoinedSuccess");
      const client = await openLive(userId, joined.live);
      expect(client.loginResponse).toMatchObject({ code: 0, data: { groupId, shard: joined.live.shard } });
      watching.push({ userId, live: joined.live, client });
    }
    expect(watching.map((w) => w.live.shard)).toEqual([0, 0, 1, 1, 2, 2, 3]);

    // Viewers send through their live connections; the backend through REST.
    for (let i = 0; i < 5; i++) {
      const answer = await watching[i % watching.length]!.client.call<{ seq: number; dropReason: string }>("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text(`c${i}`) });
      expect(answer.dropReason).toBe("");
    }
    expect((await rest(server, "group_open_http_svc/send_group_msg", { GroupId: groupId, Random: aRandom(), MsgBody: text("gift"), MsgPriority: "High", From_Account: owner })).ErrorCode).toBe(0);
    for (const { client } of watching) {
      await client.waitForEvents("groupMessage", 6, 15_000);
      const got = messages(client);
      expect(got.map((m) => (m.body[0]!.MsgContent as { Text: string }).Text)).toEqual(["c0", "c1", "c2", "c3", "c4", "gift"]);
      expect(new Set(got.map((m) => m.seq)).size).toBe(6);
    }
    // Nothing arrives twice, even a moment later.
    await new Promise((r) => setTimeout(r, 300));
    for (const { client } of watching) expect(messages(client)).toHaveLength(6);

    // Shards report within about a second.
    const online = await pollUntil(async () => {
      const answer = await rest(server, "group_open_http_svc/get_online_member_num", { GroupId: groupId });
      return answer.OnlineMemberNum === viewers.length && answer;
    }, "the online count", 10_000);
    expect(online.OnlineMemberNum).toBe(7);
    const present = await rest(server, "group_open_avchatroom_http_svc/check_members", { GroupId: groupId, Member_Account: [viewers[0], viewers[6], owner] });
    expect(present.Member_Account).toEqual([viewers[0], viewers[6]]);

    // A reconnect with the same ticket lands on the same shard, counted once.
    const reconnected = await openLive(watching[3]!.userId, watching[3]!.live, `${watching[3]!.userId}-live`);
    expect(reconnected.loginResponse?.code).toBe(0);
    expect((await watching[3]!.client.waitForClose(5_000)).code).toBe(4003);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await rest(server, "group_open_http_svc/get_online_member_num", { GroupId: groupId })).OnlineMemberNum).toBe(7);

    // A ban removes the viewer from its shard (shard 3) and keeps it out.
    const banned = watching[6]!;
    expect((await rest(server, "group_open_http_svc/ban_group_member", { GroupId: groupId, Members_Account: [banned.userId], Duration: 600 })).ErrorCode).toBe(0);
    expect((await banned.client.waitForClose(10_000)).code).toBe(4011);
    const again = await openLive(banned.userId, banned.live, `${banned.userId}-again`);
    expect(again.loginResponse?.code).toBe(10007);
    const device = await connect(server, banned.userId, `${banned.userId}-other`);
    expect((await device.request("joinGroup", { groupID: groupId })).code).toBe(10007);
  });

  /** The HTTP status a WebSocket upgrade to `path` is refused with (Node's fetch will not send an Upgrade). */
  function upgradeStatus(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(`${server.base}${path}`, {
        headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
      });
      request.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("upgrade", (_response, socket) => {
        socket.destroy();
        resolve(101);
      });
      request.on("error", reject);
      request.end();
    });
  }

  it("refuses a live connection to another app's room and a malformed one", async () => {
    const query = new URLSearchParams({ sdkappid: "1499999999", userid: viewers[0]!, groupid: groupId, shard: "0", ticket: "1.x" });
    expect(await upgradeStatus(`/v1/live?${query}`)).toBe(403);
    expect(await upgradeStatus(`/v1/live?sdkappid=${defaultApp.sdkAppId}&userid=x`)).toBe(400);
  });
});
