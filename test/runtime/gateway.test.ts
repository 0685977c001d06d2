/** The WebSocket door under abuse: who may connect, frame limits and floods. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { aRandom, TestClient, text } from "./clients.ts";
import { anApp, appWithUsers, aUserId, twoUsers } from "./helpers.ts";

async function upgrade(query: string): Promise<Response> {
  return SELF.fetch(`https://im.example/v1/connect?${query}`, { headers: { Upgrade: "websocket" } });
}

describe("who may connect", () => {
  it("refuses an SDKAppID that is not an app of this server before the upgrade (60006)", async () => {
    const response = await upgrade(`sdkappid=1399999999&userid=${aUserId()}`);
    expect(response.webSocket).toBeNull();
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 60006 });
  });

  it("refuses a disabled app before the upgrade (60016)", async () => {
    const app = await anApp();
    await env.APP.get(env.APP.idFromName(String(app.sdkAppId))).configure(app.sdkAppId, { status: "disabled" });
    const response = await upgrade(`sdkappid=${app.sdkAppId}&userid=${aUserId()}`);
    expect(response.webSocket).toBeNull();
    expect(await response.json()).toMatchObject({ code: 60016 });
  });

  it("reads the SDKAppID as decimal digits only, as the REST door does", async () => {
    for (const sdkappid of ["0x53724E00", "1.4e9", " 1400000000", "+1400000000"]) {
      const response = await upgrade(`sdkappid=${encodeURIComponent(sdkappid)}&userid=${aUserId()}`);
      expect(response.status, sdkappid).toBe(400);
      expect(response.webSocket).toBeNull();
    }
  });
});

describe("frames before login", () => {
  it("closes a socket that sends a handful of frames that are not a login", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a, { noLogin: true });
    for (let i = 0; i < 50; i++) client.sendRaw(`hello ${i}`);
    expect((await client.waitForClose()).code).toBe(4002);
    expect(client.responses.length).toBeLessThanOrEqual(4);
  });
});

describe("login deadline", () => {
  it("closes sockets that have not logged in within 10 seconds with 4002, all of them at once", async () => {
    const { app, ids } = await appWithUsers(20);
    const started = Date.now();
    const clients = await Promise.all(ids.map((id) => TestClient.connect(app, id, { noLogin: true })));
    const closed = await Promise.all(clients.map((c) => c.waitForClose(15_000).then((e) => ({ code: e.code, after: Date.now() - started }))));
    expect(closed.every((c) => c.code === 4002)).toBe(true);
    expect(Math.min(...closed.map((c) => c.after))).toBeGreaterThanOrEqual(9_900);
    expect(Math.max(...closed.map((c) => c.after))).toBeLessThan(15_000);
  }, 25_000);
});

describe("floods", () => {
  it("cuts a burst of 2,000 frames with 4008 within a second, answering at most about three seconds' worth", async () => {
    const { app, a } = await twoUsers({ connectionFrameRate: 50 });
    const client = await TestClient.connect(app, a);
    client.responses.length = 0;
    const started = Date.now();
    for (let i = 0; i < 2000; i++) client.sendRaw(JSON.stringify({ id: i, op: "getTotalUnread" }));
    expect((await client.waitForClose()).code).toBe(4008);
    // About a second; the bound leaves room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(client.responses.filter((r) => r.code === 60007).length).toBeGreaterThan(0);
    // The burst allowance, what refills meanwhile, and a second's worth of refusals.
    expect(client.responses.length).toBeLessThanOrEqual(3 * 50 + 1);
  });

  it("cuts a steady flood (200 frames every 100 ms) within about a second", async () => {
    const { app, a } = await twoUsers({ connectionFrameRate: 50 });
    const client = await TestClient.connect(app, a);
    const started = Date.now();
    let id = 0;
    while (!client.closed && Date.now() - started < 3000) {
      for (let i = 0; i < 200; i++) client.sendRaw(JSON.stringify({ id: id++, op: "getTotalUnread" }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await client.waitForClose()).code).toBe(4008);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("counts frames that are not JSON too", async () => {
    const { app, a } = await twoUsers({ connectionFrameRate: 50 });
    const client = await TestClient.connect(app, a);
    client.responses.length = 0;
    for (let i = 0; i < 5000; i++) client.sendRaw(`hello ${i}`);
    expect((await client.waitForClose()).code).toBe(4008);
    expect(client.responses.length).toBeLessThanOrEqual(3 * 50 + 1);
  });

  it("lets a client that stays within its rate go on, answering every request", async () => {
    const { app, a } = await twoUsers({ connectionFrameRate: 50 });
    const client = await TestClient.connect(app, a);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => client.request("getTotalUnread")));
      expect(answers.every((r) => r.code === 0)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(client.closed).toBeNull();
  });

  it("keeps another pair's latency while one connection floods, and cuts the flooder", async () => {
    const { app, ids } = await appWithThree();
    const [flooder, sender, receiver] = ids as [string, string, string];
    const flood = await TestClient.connect(app, flooder);
    const from = await TestClient.connect(app, sender);
    const to = await TestClient.connect(app, receiver);

    const latencies = async (count: number) => {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const before = to.eventsOf("message").length;
        const started = Date.now();
        await from.call("sendMessage", { to: receiver, random: aRandom(), body: text(`#${i}`) });
        await to.until(() => to.eventsOf("message").length > before, "delivery");
        out.push(Date.now() - started);
      }
      return out.sort((x, y) => x - y);
    };
    const quiet = await latencies(10);
    const flooding = (async () => {
      for (let burst = 0; burst < 30 && !flood.closed; burst++) {
        for (let i = 0; i < 500; i++) flood.sendRaw(JSON.stringify({ id: i, op: "sendMessage", data: { to: receiver, random: aRandom(), body: text("spam") } }));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const loud = await latencies(10);
    await flooding;
    expect((await flood.waitForClose()).code).toBe(4008);
    // Sends accepted before the cut still arrive; let them, so nothing runs past the test.
    for (let seen = -1; seen !== to.eventsOf("message").length; ) {
      seen = to.eventsOf("message").length;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // The bound: the pair's slowest delivery during the flood stays under 250 ms (and under 10× its quiet median).
    expect(loud.at(-1)!).toBeLessThan(Math.max(250, 10 * quiet[5]!));
  });
});

describe("frame size", () => {
  it("answers a frame nested too deep to check, before and after login", async () => {
    const { app, a } = await twoUsers();
    let body: unknown = text("x");
    for (let i = 0; i < 450; i++) body = [{ MsgType: "TIMRelayElem", MsgContent: { Title: "t", MsgNum: 1, MsgList: [{ MsgBody: body }] } }];
    const frame = JSON.stringify({ id: 1, op: "sendMessage", data: { to: "x", random: 1, body } });
    for (const client of [await TestClient.connect(app, a, { noLogin: true }), await TestClient.connect(app, a)]) {
      client.responses.length = 0;
      client.sendRaw(frame);
      await client.until(() => client.responses.length > 0, "an answer");
      expect(client.responses[0]).toMatchObject({ code: 6017, message: expect.stringMatching(/nest/) });
    }
  });

  it("counts a frame's size in bytes, not characters", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    // 25,000 emoji: 50,000 UTF-16 code units, 100,000 bytes.
    client.sendRaw(JSON.stringify({ id: 1, op: "sync", data: { after: 0 }, pad: "😀".repeat(25_000) }));
    expect((await client.waitForClose()).code).toBe(1009);
  });
});

async function appWithThree() {
  const app = await anApp({ settings: { connectionFrameRate: 100 } });
  const ids = [aUserId("flood"), aUserId("s"), aUserId("r")];
  await app.rest("im_open_login_svc/multiaccount_import", { Accounts: ids });
  return { app, ids };
}

