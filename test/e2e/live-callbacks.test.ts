/**
 * Live-room callbacks end to end: `wrangler dev` calls a real HTTP receiver on loopback, which
 * refuses, drops and rewrites viewers' comments before they are sent, and hears of sends, joins
 * (one by one while the room is small, batched per shard report once it is crowded), exits and
 * viewers going online and offline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import type { GroupMessage } from "../../src/domain/groupMessage.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { aRandom, ProtocolClient, text } from "../support/protocol-client.ts";

interface Received {
  query: URLSearchParams;
  body: Record<string, unknown>;
}

interface LiveAnswer {
  status: string;
  live: { groupId: string; shard: number; ticket: string; expiresAt: number };
}

const textOf = (body: unknown) => ((body as { MsgContent: { Text: string } }[])[0]!.MsgContent.Text);

/** The backend: refuses comments saying "refuse", drops "drop", and rewrites "rewrite". */
function answer(received: Received, res: ServerResponse): void {
  const json = (value: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  if (received.query.get("CallbackCommand") !== "Group.CallbackBeforeSendMsg") return json({ ActionStatus: "OK", ErrorCode: 0 });
  switch (textOf(received.body.MsgBody)) {
    case "refuse":
      return json({ ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "not in this room" });
    case "drop":
      return json({ ActionStatus: "OK", ErrorCode: 2 });
    case "rewrite":
      return json({ ActionStatus: "OK", ErrorCode: 0, MsgBody: text("rewritten") });
  }
  json({ ActionStatus: "OK", ErrorCode: 0 });
}

describe("live-room callbacks under wrangler dev", () => {
  const tag = Date.now().toString(36);
  const groupId = `lcb_${tag}`;
  const owner = `lcb_owner_${tag}`;
  const viewers = [0, 1, 2, 3].map((i) => `lcb_v${i}_${tag}`);
  const received: Received[] = [];
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const got = { query: new URL(req.url!, "http://x").searchParams, body: (raw ? JSON.parse(raw) : {}) as Record<string, unknown> };
        received.push(got);
        answer(got, res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    ({ server, app } = await startServerWithOwnKey({ vars: { IM_CALLBACK_URL: `http://127.0.0.1:${port}/im-callback`, IM_CALLBACK_COMMANDS: "*" } }));
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [owner, ...viewers] })).ErrorCode).toBe(0);
    // Once it has a viewer the room is crowded: joins are placed from seat blocks and reported by the shards.
    expect((await rest("edgeim_admin_svc/set_live_settings", { TipsUpTo: 0 })).ErrorCode).toBe(0);
    expect((await rest("group_open_http_svc/create_group", { Type: "AVChatRoom", Name: "show", GroupId: groupId, Owner_Account: owner })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const sig = (userId: string) => generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: userId });

  async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const admin = app.admins[0]!;
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${await sig(admin)}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  async function open(path: string, userId: string): Promise<ProtocolClient> {
    const ws = new WebSocket(`${server.base.replace("http", "ws")}${path}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot open ${path}`)), { once: true });
    });
    const client = new ProtocolClient(ws, userId);
    client.loginResponse = await client.request("login", { userSig: await sig(userId) });
    expect(client.loginResponse.code).toBe(0);
    return client;
  }

  /** A viewer joins on its usual connection and watches on the live one, from an Android device. */
  async function watch(userId: string): Promise<ProtocolClient> {
    const device = await open(`/v1/connect?sdkappid=${app.sdkAppId}&userid=${userId}&platform=Web&device=d-${userId}`, userId);
    const { live } = await device.call<LiveAnswer>("joinGroup", { groupID: groupId });
    const query = new URLSearchParams({ sdkappid: String(app.sdkAppId), userid: userId, groupid: groupId, shard: String(live.shard), ticket: live.ticket, platform: "Android", device: `live-${userId}` });
    return open(`/v1/live?${query}`, userId);
  }

  async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const seen = (command: string) => received.filter((r) => r.query.get("CallbackCommand") === command && r.body.GroupId === groupId);
  const accounts = (list: unknown) => (list as { Member_Account: string }[]).map((m) => m.Member_Account);
  const stateOf = (eventType: string) => seen("Group.CallbackOnMemberStateChange").filter((r) => r.body.EventType === eventType).flatMap((r) => accounts(r.body.MemberList));

  let watching: ProtocolClient[] = [];

  it("tells the app of every viewer who joins once, batched per shard once the room is crowded, and of who came online", async () => {
    watching = [await watch(viewers[0]!)];
    watching.push(...(await Promise.all(viewers.slice(1).map(watch))));
    const joined = await until("every joiner", () => {
      const all = seen("Group.CallbackAfterNewMemberJoin").flatMap((r) => accounts(r.body.NewMemberList));
      return all.length >= viewers.length && all;
    });
    expect([...joined].sort()).toEqual([...viewers].sort());
    const first = seen("Group.CallbackAfterNewMemberJoin")[0]!;
    expect(first.body).toMatchObject({ Type: "AVChatRoom", JoinType: "Apply", Operator_Account: viewers[0], NewMemberList: [{ Member_Account: viewers[0] }] });
    // The three crowded joins came in fewer callbacks than joins.
    expect(seen("Group.CallbackAfterNewMemberJoin").length).toBeLessThan(viewers.length);
    const online = await until("every viewer online", () => stateOf("Online").length >= viewers.length && stateOf("Online"));
    expect([...online].sort()).toEqual([...viewers].sort());
  });

  it("asks before a comment is sent: refused with 10016, dropped quietly, rewritten for everyone", async () => {
    const [sender, other] = watching as [ProtocolClient, ProtocolClient];
    const refused = await sender.request("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("refuse") });
    expect(refused.code).toBe(10016);
    expect(refused.message).toContain("not in this room");
    const dropped = await sender.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("drop") });
    expect(dropped.seq).toBe(0);
    const rewritten = await sender.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("rewrite") });
    const plain = await sender.call<{ seq: number }>("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("hello") });
    const got = await other.waitForEvents<{ message: GroupMessage }>("groupMessage", 2, 10_000);
    expect(got.map((e) => textOf(e.message.body))).toEqual(["rewritten", "hello"]);

    const after = await until("two after-send callbacks", () => seen("Group.CallbackAfterSendMsg").length >= 2 && seen("Group.CallbackAfterSendMsg"));
    expect(after.map((r) => [r.body.MsgSeq, textOf(r.body.MsgBody)])).toEqual([
      [rewritten.seq, "rewritten"],
      [plain.seq, "hello"],
    ]);
    expect(after[0]!.body).toMatchObject({ Type: "AVChatRoom", From_Account: viewers[0], Operator_Account: viewers[0] });
    // Both callbacks name the live connection's device and address, as for any client's send.
    const asked = seen("Group.CallbackBeforeSendMsg").find((r) => textOf(r.body.MsgBody) === "hello")!;
    for (const callback of [asked, after[1]!]) {
      expect(callback.query.get("OptPlatform")).toBe("Android");
      expect(callback.query.get("ClientIP")).toMatch(/\d|:/);
    }
  });

  it("tells the app of a viewer who quits, one who is banned, and who went offline", async () => {
    expect((await watching[1]!.request("quitGroup", { groupID: groupId })).code).toBe(0);
    expect((await rest("group_open_http_svc/ban_group_member", { GroupId: groupId, Members_Account: [viewers[2]], Duration: 600 })).ErrorCode).toBe(0);
    const exits = await until("two exits", () => seen("Group.CallbackAfterMemberExit").length >= 2 && seen("Group.CallbackAfterMemberExit"));
    expect(exits.map((r) => [r.body.ExitType, accounts(r.body.ExitMemberList)])).toEqual([
      ["Quit", [viewers[1]]],
      ["Kicked", [viewers[2]]],
    ]);
    const offline = await until("both offline", () => stateOf("Offline").length >= 2 && stateOf("Offline"));
    expect([...offline].sort()).toEqual([viewers[1], viewers[2]].sort());
  });
});
