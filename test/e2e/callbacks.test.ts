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

interface Received {
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

const text = (t: string) => [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }];
const textOf = (body: unknown) => ((body as { MsgContent: { Text: string } }[])[0]?.MsgContent.Text ?? "");

/** Answers by the message's text, so each test picks what the backend does. */
function answer(received: Received, res: ServerResponse): void {
  const json = (value: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  const said = textOf(received.body.MsgBody);
  if (said === "refuse") return json({ ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "not allowed here" });
  if (said === "own code") return json({ ActionStatus: "FAIL", ErrorCode: 120005, ErrorInfo: "the backend's own reason" });
  if (said === "drop") return json({ ActionStatus: "OK", ErrorCode: 2 });
  if (said === "rewrite") return json({ ActionStatus: "OK", ErrorCode: 0, MsgBody: text("rewritten"), CloudCustomData: "by the backend" });
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
  const received: Received[] = [];
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const url = new URL(req.url!, "http://x");
        const got = { path: url.pathname, query: url.searchParams, body: (raw ? JSON.parse(raw) : {}) as Record<string, unknown> };
        received.push(got);
        answer(got, res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    ({ server, app } = await startServerWithOwnKey({
      vars: {
        IM_CALLBACK_URL: `http://127.0.0.1:${port}/im-callback`,
        IM_CALLBACK_COMMANDS: "C2C.CallbackBeforeSendMsg",
        IM_CALLBACK_TOKEN: "xxx",
      },
    }));
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b] })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
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
    expect(received).toHaveLength(1);
    const { query, body } = received[0]!;
    expect(query.get("SdkAppid")).toBe(String(app.sdkAppId));
    expect(query.get("CallbackCommand")).toBe("C2C.CallbackBeforeSendMsg");
    expect(query.get("contenttype")).toBe("json");
    expect(query.has("ClientIP")).toBe(true);
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
    expect(received).toHaveLength(0);
    expect((await held(sent.MsgKey))?.MsgBody).toEqual(text("refuse"));
  });

  it("never logs a message body", () => {
    const lines = server.output().split("\n").filter((l) => l.includes('"event":"callback"'));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line).not.toMatch(/MsgBody|rewritten|hello/);
  });
});
