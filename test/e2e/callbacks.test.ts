/**
 * Third-party callbacks end to end: `wrangler dev` calls a real HTTP receiver on loopback that
 * the test runs, and the receiver's answers steer what happens to the messages.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { ProtocolClient } from "../support/protocol-client.ts";

interface Received {
  path: string;
  /** Whether the receiver answered 200. */
  ok: boolean;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

const text = (t: string) => [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }];
const textOf = (body: unknown) => ((body as { MsgContent: { Text: string } }[])[0]?.MsgContent.Text ?? "");

/** While set, the receiver answers every after-callback with 503. */
let receiverDown = false;

/** Answers before-callbacks by the message's text, so each test picks what the backend does. */
function answer(received: Received, res: ServerResponse): void {
  const json = (value: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  const command = received.query.get("CallbackCommand");
  if (command !== "C2C.CallbackBeforeSendMsg" && command !== "Group.CallbackBeforeSendMsg") {
    if (!receiverDown) return json({ ActionStatus: "OK", ErrorCode: 0 });
    received.ok = false;
    res.writeHead(503);
    return void res.end();
  }
  const said = textOf(received.body.MsgBody);
  if (said === "refuse") return json({ ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "not allowed here" });
  if (said === "own code") return json({ ActionStatus: "FAIL", ErrorCode: 120005, ErrorInfo: "the backend's own reason" });
  if (said === "group own code") return json({ ActionStatus: "FAIL", ErrorCode: 10150, ErrorInfo: "the backend's own group reason" });
  if (said === "drop") return json({ ActionStatus: "OK", ErrorCode: 2 });
  if (said === "rewrite") return json({ ActionStatus: "OK", ErrorCode: 0, MsgBody: text("rewritten"), CloudCustomData: "by the backend" });
  if (said === "a moment") {
    setTimeout(() => json({ ActionStatus: "OK", ErrorCode: 0 }), 500);
    return;
  }
  if (said === "slow") {
    setTimeout(() => json({ ActionStatus: "OK", ErrorCode: 1 }), 5_000);
    return;
  }
  if (said === "redirect") {
    res.writeHead(302, { location: "/followed" });
    return void res.end();
  }
  if (said === "huge") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ ActionStatus: "FAIL", ErrorCode: 1, Padding: "x".repeat(200_000) }));
  }
  if (said === "not json") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end("{ErrorCode: 1");
  }
  json({ ActionStatus: "OK", ErrorCode: 0 });
}

describe("callbacks under wrangler dev", () => {
  const a = `cb_a_${Date.now().toString(36)}`;
  const b = `cb_b_${Date.now().toString(36)}`;
  const c = `cb_c_${Date.now().toString(36)}`;
  const received: Received[] = [];
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };
  let vars: Record<string, string>;

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const url = new URL(req.url!, "http://x");
        const got = { path: url.pathname, ok: true, query: url.searchParams, body: (raw ? JSON.parse(raw) : {}) as Record<string, unknown> };
        received.push(got);
        answer(got, res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    vars = {
      IM_CALLBACK_URL: `http://127.0.0.1:${port}/im-callback`,
      IM_CALLBACK_COMMANDS: "C2C.CallbackBeforeSendMsg,C2C.CallbackAfterSendMsg,C2C.CallbackAfterMsgWithDraw,C2C.CallbackAfterMsgReport,State.StateChange,Group.CallbackBeforeSendMsg,Group.CallbackAfterSendMsg",
      IM_CALLBACK_TOKEN: "xxx",
    };
    ({ server, app } = await startServerWithOwnKey({ vars }));
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b, c] })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const admin = app.admins[0]!;
    const sig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${sig}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  let random = 1;
  const send = (said: string, extra: Record<string, unknown> = {}) =>
    rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: random++, MsgBody: text(said), ...extra });

  /** What b holds from a, newest last. */
  async function history(): Promise<{ MsgKey: string; MsgBody: unknown; CloudCustomData: string }[]> {
    const answer = await rest("openim/admin_getroammsg", { Operator_Account: b, Peer_Account: a, MaxCnt: 100, MinTime: 0, MaxTime: 2 ** 31 });
    return ((answer.MsgList as { MsgKey: string; MsgBody: unknown; CloudCustomData: string; MsgTimeStamp: number }[]) ?? []).slice();
  }
  const held = async (key: unknown) => (await history()).find((m) => m.MsgKey === key);

  it("asks the backend in Tencent's format, signed, before a message is stored", async () => {
    received.length = 0;
    const sent = await send("hello", { CloudCustomData: "cd" });
    expect(sent.ErrorCode).toBe(0);
    const before = received.filter((r) => r.query.get("CallbackCommand") === "C2C.CallbackBeforeSendMsg");
    expect(before).toHaveLength(1);
    const { query, body } = before[0]!;
    expect(query.get("SdkAppid")).toBe(String(app.sdkAppId));
    expect(query.get("CallbackCommand")).toBe("C2C.CallbackBeforeSendMsg");
    expect(query.get("contenttype")).toBe("json");
    expect(query.get("ClientIP")).toMatch(/\d|:/);
    expect(query.get("OptPlatform")).toBe("RESTAPI");
    const requestTime = query.get("RequestTime")!;
    expect(Math.abs(Number(requestTime) - Date.now() / 1000)).toBeLessThan(30);
    expect(query.get("Sign")).toBe(createHash("sha256").update(`xxx${requestTime}`).digest("hex"));
    expect(body).toMatchObject({
      CallbackCommand: "C2C.CallbackBeforeSendMsg",
      From_Account: a,
      To_Account: b,
      MsgRandom: random - 1,
      MsgKey: sent.MsgKey,
      MsgTime: sent.MsgTime,
      OnlineOnlyFlag: 0,
      MsgBody: text("hello"),
      CloudCustomData: "cd",
    });
    expect(Math.abs((body.EventTime as number) - Date.now())).toBeLessThan(30_000);
    expect((await held(sent.MsgKey))?.MsgBody).toEqual(text("hello"));
  });

  it("refuses with 20006, or with the backend's own code, and stores nothing", async () => {
    const before = (await history()).length;
    const refused = await send("refuse");
    expect(refused).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 20006 });
    const own = await send("own code");
    expect(own).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 120005 });
    expect(own.ErrorInfo).toContain("the backend's own reason");
    expect((await history()).length).toBe(before);
  });

  it("drops silently: the sender sees success, nobody receives it", async () => {
    const dropped = await send("drop");
    expect(dropped).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(dropped.MsgKey).toBeTruthy();
    expect(await held(dropped.MsgKey)).toBeUndefined();
    const senderSide = await rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, MaxCnt: 100, MinTime: 0, MaxTime: 2 ** 31 });
    expect((senderSide.MsgList as { MsgKey: string }[]).some((m) => m.MsgKey === dropped.MsgKey)).toBe(false);
  });

  it("stores and delivers what the backend rewrote", async () => {
    const sent = await send("rewrite");
    expect(sent.ErrorCode).toBe(0);
    expect(await held(sent.MsgKey)).toMatchObject({ MsgBody: text("rewritten"), CloudCustomData: "by the backend" });
  });

  it("does not wait past the timeout for a backend that answers after 5 s, and proceeds", async () => {
    const started = Date.now();
    const sent = await send("slow");
    const took = Date.now() - started;
    expect(sent.ErrorCode).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(3_500);
    expect((await held(sent.MsgKey))?.MsgBody).toEqual(text("slow"));
    expect(server.output()).toMatch(/"event":"callback".*"outcome":"timeout"/);
  }, 20_000);

  it("takes a redirect, a huge answer or one that is not JSON as a failure, proceeds, and logs why", async () => {
    for (const [said, outcome] of [["redirect", "redirect"], ["huge", "too_large"], ["not json", "invalid_json"]] as const) {
      const sent = await send(said);
      expect(sent.ErrorCode, said).toBe(0);
      expect((await held(sent.MsgKey))?.MsgBody, said).toEqual(text(said));
      expect(server.output()).toMatch(new RegExp(`"event":"callback".*"outcome":"${outcome}"`));
    }
    // The redirect was not followed.
    expect(received.filter((r) => r.path === "/followed")).toHaveLength(0);
  }, 20_000);

  it("honours ForbidCallbackControl on sendmsg", async () => {
    received.length = 0;
    const sent = await send("refuse", { ForbidCallbackControl: ["ForbidBeforeSendMsgCallback"] });
    expect(sent.ErrorCode).toBe(0);
    expect(received.filter((r) => r.query.get("CallbackCommand") === "C2C.CallbackBeforeSendMsg")).toHaveLength(0);
    expect((await held(sent.MsgKey))?.MsgBody).toEqual(text("refuse"));
  });

  const afterSends = () => received.filter((r) => r.ok && r.query.get("CallbackCommand") === "C2C.CallbackAfterSendMsg");
  /** What `user` has unread over all its one-to-one conversations. */
  const c2cUnread = async (user: string) =>
    ((await rest("openim/get_c2c_unread_msg_num", { To_Account: user })).C2CUnreadMsgNumList as { C2CUnreadMsgNum: number }[]).reduce((sum, p) => sum + p.C2CUnreadMsgNum, 0);
  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("tells the backend of each message sent, as stored, after the answer", async () => {
    const sent = await send("after me", { CloudCustomData: "cd2" });
    const unread = await c2cUnread(b);
    expect(unread).toBeGreaterThan(0);
    const after = await until("the after-send callback", () => afterSends().find((r) => r.body.MsgKey === sent.MsgKey));
    expect(after.body).toMatchObject({
      CallbackCommand: "C2C.CallbackAfterSendMsg",
      From_Account: a,
      To_Account: b,
      MsgTime: sent.MsgTime,
      MsgBody: text("after me"),
      CloudCustomData: "cd2",
      SendMsgResult: 0,
      ErrorInfo: "send msg succeed",
      UnreadMsgNum: unread,
    });
    expect(after.query.get("OptPlatform")).toBe("RESTAPI");
    const rewritten = await send("rewrite");
    const seen = await until("the rewritten message's callback", () => afterSends().find((r) => r.body.MsgKey === rewritten.MsgKey));
    expect(seen.body).toMatchObject({ MsgBody: text("rewritten"), CloudCustomData: "by the backend" });
    const dropped = await send("drop");
    const refused = await send("refuse");
    const forbidden = await send("quiet", { ForbidCallbackControl: ["ForbidAfterSendMsgCallback"] });
    expect(forbidden.ErrorCode).toBe(0);
    const last = await send("last");
    await until("the last message's callback", () => afterSends().find((r) => r.body.MsgKey === last.MsgKey));
    const keys = afterSends().map((r) => r.body.MsgKey);
    expect(keys).not.toContain(dropped.MsgKey);
    expect(keys).not.toContain(forbidden.MsgKey);
    expect(afterSends().some((r) => textOf(r.body.MsgBody) === "refuse" && r.body.MsgKey === refused.MsgKey)).toBe(false);
  });

  it("tells the backend of a message its recipient refused, with the refusal's code and UnreadMsgNum -1", async () => {
    expect((await rest("sns/black_list_add", { From_Account: c, To_Account: [a] })).ErrorCode).toBe(0);
    const msgRandom = random++;
    const refused = await rest("openim/sendmsg", { From_Account: a, To_Account: c, MsgRandom: msgRandom, MsgBody: text("to someone who blocked me") });
    expect(refused.ErrorCode).toBe(20007);
    const after = await until("the failed send's callback", () => afterSends().find((r) => r.body.To_Account === c && r.body.MsgRandom === msgRandom));
    expect(after.body).toMatchObject({
      CallbackCommand: "C2C.CallbackAfterSendMsg",
      From_Account: a,
      To_Account: c,
      MsgBody: text("to someone who blocked me"),
      SendMsgResult: 20007,
      UnreadMsgNum: -1,
    });
    expect(after.body.ErrorInfo).toBe(refused.ErrorInfo);
    expect(after.query.get("OptPlatform")).toBe("RESTAPI");
  });

  it("a receiver down while 100 messages are sent gets every after-callback, in order, once it is back", async () => {
    receiverDown = true;
    const keys: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      const sent = await send(`while down ${i}`);
      expect(sent.ErrorCode).toBe(0);
      keys.push(sent.MsgKey);
    }
    await until("a refused attempt", () => (received.some((r) => !r.ok) ? true : undefined));
    receiverDown = false;
    const firstSeen = () => [...new Set(afterSends().map((r) => r.body.MsgKey).filter((k) => keys.includes(k)))];
    await until("all 100 after-callbacks", () => (firstSeen().length === 100 ? true : undefined), 45_000);
    expect(firstSeen()).toEqual(keys);
  }, 60_000);

  it("stores a group send retried while the backend is still being asked once, and answers both with it", async () => {
    const created = await rest("group_open_http_svc/create_group", { Owner_Account: a, Type: "Public", Name: "retries", MemberList: [{ Member_Account: b }] });
    const groupId = created.GroupId as string;
    const send = () => rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: a, Random: 777, MsgBody: text("a moment") });
    const [first, retry] = await Promise.all([send(), send()]);
    expect([first.ErrorCode, retry.ErrorCode]).toEqual([0, 0]);
    expect(retry.MsgSeq).toBe(first.MsgSeq);
    const stored = (await rest("group_open_http_svc/group_msg_get_simple", { GroupId: groupId, ReqMsgNumber: 20 })).RspMsgList as unknown[];
    expect(stored).toHaveLength(1);
  });

  it("asks the backend before a group message, which refuses, drops or rewrites it, and tells it of each one stored, in order", async () => {
    const created = await rest("group_open_http_svc/create_group", { Owner_Account: a, Type: "Public", Name: "callbacks", MemberList: [{ Member_Account: b }] });
    expect(created.ErrorCode).toBe(0);
    const groupId = created.GroupId as string;
    let groupRandom = 1;
    const sendToGroup = (said: string, extra: Record<string, unknown> = {}) =>
      rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: a, Random: groupRandom++, MsgBody: text(said), ...extra });
    const stored = async () =>
      ((await rest("group_open_http_svc/group_msg_get_simple", { GroupId: groupId, ReqMsgNumber: 20 })).RspMsgList as { MsgSeq: number; MsgBody: unknown; CloudCustomData?: string }[]) ?? [];
    const ofGroup = (command: string) => received.filter((r) => r.ok && r.query.get("CallbackCommand") === command && r.body.GroupId === groupId);

    const hello = await sendToGroup("hello", { CloudCustomData: "cd" });
    expect(hello.ErrorCode).toBe(0);
    const [before] = ofGroup("Group.CallbackBeforeSendMsg");
    expect(before?.query.get("Sign")).toBe(createHash("sha256").update(`xxx${before?.query.get("RequestTime")}`).digest("hex"));
    expect(before?.body).toMatchObject({
      CallbackCommand: "Group.CallbackBeforeSendMsg",
      GroupId: groupId,
      Type: "Public",
      From_Account: a,
      // Who made the request: the admin of a REST send, the sender being From_Account.
      Operator_Account: app.admins[0],
      Random: 1,
      OnlineOnlyFlag: 0,
      MsgBody: text("hello"),
      CloudCustomData: "cd",
    });

    expect(await sendToGroup("refuse")).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10016 });
    const own = await sendToGroup("group own code");
    expect(own).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10150 });
    expect(own.ErrorInfo).toContain("the backend's own group reason");
    expect(await sendToGroup("drop")).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    const rewritten = await sendToGroup("rewrite");
    expect(rewritten.ErrorCode).toBe(0);
    const unasked = await sendToGroup("refuse", { ForbidCallbackControl: ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"] });
    expect(unasked.ErrorCode).toBe(0);
    const last = await sendToGroup("last");

    const kept = await stored();
    expect(kept.map((m) => textOf(m.MsgBody)).sort()).toEqual(["hello", "last", "refuse", "rewritten"]);
    expect(kept.find((m) => m.MsgSeq === rewritten.MsgSeq)).toMatchObject({ MsgBody: text("rewritten"), CloudCustomData: "by the backend" });

    await until("the last group message's callback", () => ofGroup("Group.CallbackAfterSendMsg").find((r) => r.body.MsgSeq === last.MsgSeq));
    const afters = ofGroup("Group.CallbackAfterSendMsg");
    expect(afters.map((r) => r.body.MsgSeq)).toEqual([hello.MsgSeq, rewritten.MsgSeq, last.MsgSeq]);
    expect(afters[0]!.body).toMatchObject({ GroupId: groupId, Type: "Public", From_Account: a, Operator_Account: app.admins[0], MsgTime: hello.MsgTime, MsgBody: text("hello"), CloudCustomData: "cd" });
    expect(afters[1]!.body).toMatchObject({ MsgBody: text("rewritten"), CloudCustomData: "by the backend" });
  });

  it("tells the backend of logins, logouts and disconnects (State.StateChange)", async () => {
    const states = () => received.filter((r) => r.ok && r.query.get("CallbackCommand") === "State.StateChange").map((r) => ({ platform: r.query.get("OptPlatform"), ...(r.body.Info as { Action: string; To_Account: string; Reason: string }) }));
    const connectAs = async (userId: string, device: string) => {
      const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=${userId}&platform=Android&device=${device}`);
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve(), { once: true });
        ws.addEventListener("error", () => reject(new Error("cannot connect")), { once: true });
      });
      const client = new ProtocolClient(ws, userId);
      const login = await client.request("login", { userSig: await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: userId }) });
      expect(login.code).toBe(0);
      return client;
    };
    const first = await connectAs(a, "phone");
    await until("the login", () => states().find((s) => s.Action === "Login"));
    expect(states()).toEqual([{ platform: "Android", Action: "Login", To_Account: a, Reason: "Register" }]);
    expect((await first.request("logout")).code).toBe(0);
    await first.waitForClose();
    await until("the logout", () => states().find((s) => s.Action === "Logout"));
    const second = await connectAs(a, "phone");
    second.close();
    await until("the disconnect", () => states().find((s) => s.Action === "Disconnect"));
    await new Promise((r) => setTimeout(r, 500));
    expect(states().map((s) => s.Action)).toEqual(["Login", "Logout", "Login", "Disconnect"]);
    expect(states().every((s) => s.To_Account === a && s.platform === "Android")).toBe(true);
    const addresses = received.filter((r) => r.ok && r.query.get("CallbackCommand") === "State.StateChange").map((r) => r.query.get("ClientIP"));
    for (const address of addresses) expect(address).toMatch(/\d|:/);
  });

  const named = (command: string) => received.filter((r) => r.ok && r.query.get("CallbackCommand") === command);

  it("tells the backend of recalls and read reports", async () => {
    const sent = await send("to recall");
    expect((await rest("openim/admin_msgwithdraw", { From_Account: a, To_Account: b, MsgKey: sent.MsgKey })).ErrorCode).toBe(0);
    const withdraw = await until("the recall's callback", () => named("C2C.CallbackAfterMsgWithDraw").find((r) => r.body.MsgKey === sent.MsgKey));
    expect(withdraw.body).toMatchObject({ CallbackCommand: "C2C.CallbackAfterMsgWithDraw", From_Account: a, To_Account: b, MsgKey: sent.MsgKey, UnreadMsgNum: await c2cUnread(b) });
    expect(withdraw.query.get("OptPlatform")).toBe("RESTAPI");

    // UnreadMsgNum counts what b has left unread in every one-to-one conversation, c's message too.
    expect((await rest("openim/sendmsg", { From_Account: c, To_Account: b, MsgRandom: random++, MsgBody: text("from c") })).ErrorCode).toBe(0);
    const readTime = Math.floor(Date.now() / 1000);
    expect((await rest("openim/admin_set_msg_read", { Report_Account: b, Peer_Account: a, MsgReadTime: readTime })).ErrorCode).toBe(0);
    const report = await until("the read report's callback", () => named("C2C.CallbackAfterMsgReport").at(-1));
    expect(report.body).toMatchObject({ Report_Account: b, Peer_Account: a, LastReadTime: readTime, UnreadMsgNum: 1 });
    expect(report.query.get("OptPlatform")).toBe("RESTAPI");
    // Reading what is already read reports nothing.
    const reports = named("C2C.CallbackAfterMsgReport").length;
    expect((await rest("openim/admin_set_msg_read", { Report_Account: b, Peer_Account: a, MsgReadTime: readTime })).ErrorCode).toBe(0);
    const last = await send("after the reads");
    await until("a later callback", () => afterSends().find((r) => r.body.MsgKey === last.MsgKey));
    expect(named("C2C.CallbackAfterMsgReport")).toHaveLength(reports);
  });

  it("names a client's platform in its sends' callbacks", async () => {
    const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=${a}&platform=iOS&device=ipad-like`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot connect")), { once: true });
    });
    const client = new ProtocolClient(ws, a);
    expect((await client.request("login", { userSig: await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: a }) })).code).toBe(0);
    const answer = await client.request("sendMessage", { to: b, random: 777_001, body: text("from a phone") });
    expect(answer.code).toBe(0);
    const key = (answer.data as { key: string }).key;
    const before = named("C2C.CallbackBeforeSendMsg").find((r) => r.body.MsgKey === key)!;
    expect(before.query.get("OptPlatform")).toBe("iOS");
    expect(before.query.get("ClientIP")).toMatch(/\d|:/);
    const after = await until("the after-send callback", () => afterSends().find((r) => r.body.MsgKey === key));
    expect(after.query.get("OptPlatform")).toBe("iOS");
    expect((await client.request("revokeMessage", { peer: b, key })).code).toBe(0);
    const withdraw = await until("the recall's callback", () => named("C2C.CallbackAfterMsgWithDraw").find((r) => r.body.MsgKey === key));
    expect(withdraw.query.get("OptPlatform")).toBe("iOS");
    client.close();
  });

  it("never logs a message body", () => {
    const lines = server.output().split("\n").filter((l) => l.includes('"event":"callback"'));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line).not.toMatch(/MsgBody|rewritten|hello/);
  });

  it("delivers after a restart the after-callbacks answered sends queued before it", async () => {
    receiverDown = true;
    const keys: unknown[] = [];
    for (let i = 0; i < 5; i++) keys.push((await send(`before the restart ${i}`)).MsgKey);
    await until("a refused attempt", () => (received.some((r) => !r.ok && r.body.MsgKey === keys[0]) ? true : undefined));
    await server.stop();
    receiverDown = false;
    ({ server, app } = await startServerWithOwnKey({ vars, persistTo: server.persistTo }));
    // Nothing wakes the sender's actor but its alarm.
    const firstSeen = () => [...new Set(afterSends().map((r) => r.body.MsgKey).filter((k) => keys.includes(k)))];
    await until("the 5 after-callbacks", () => (firstSeen().length === 5 ? true : undefined), 60_000);
    expect(firstSeen()).toEqual(keys);
  }, 150_000);
});
