import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { usageDoor } from "../../src/demo/usage.ts";
import { aRandom, TestClient, text } from "./clients.ts";
import { twoUsers, type TestApp } from "./helpers.ts";

interface Usage {
  actors: number;
  frames: number;
  calls: number;
  rowsWritten: number;
}

/** /local/usage as `npm run dev` serves it (IM_DEMO=true). */
async function usage(app: TestApp, users: string[]): Promise<Usage> {
  const response = await usageDoor.request("/local/usage", { method: "POST", body: JSON.stringify({ sdkAppId: app.sdkAppId, users }) }, { ...env, IM_DEMO: "true" });
  expect(response.status).toBe(200);
  return (await response.json()) as Usage;
}

const delta = (after: Usage, before: Usage) => ({ frames: after.frames - before.frames, calls: after.calls - before.calls, rowsWritten: after.rowsWritten - before.rowsWritten });

describe("local usage counters", () => {
  it("count a message sent over a socket as one frame into the sender's actor and one call into the recipient's", async () => {
    const { app, a, b } = await twoUsers();
    const sender = await TestClient.connect(app, a);
    await sender.call("sendMessage", { to: b, random: aRandom(), body: text("opens the conversation") });
    const before = [await usage(app, [a]), await usage(app, [b])];
    for (let i = 0; i < 10; i++) await sender.call("sendMessage", { to: b, random: aRandom(), body: text(`#${i}`) });
    const after = [await usage(app, [a]), await usage(app, [b])];
    // 6 rows per message, and the sender's statistics row.
    expect(delta(after[0]!, before[0]!)).toEqual({ frames: 10, calls: 0, rowsWritten: 70 });
    expect(delta(after[1]!, before[1]!)).toEqual({ frames: 0, calls: 10, rowsWritten: 60 });
  });

  it("count a REST send as one call into each side's actor, and reading them costs nothing", async () => {
    const { app, a, b } = await twoUsers();
    const before = await usage(app, [a, b]);
    const sent = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("hi") });
    expect(sent.body.ErrorCode).toBe(0);
    const after = await usage(app, [a, b]);
    expect(after.actors).toBe(2);
    expect(after.calls - before.calls).toBe(2);
    expect(await usage(app, [a, b])).toEqual(after);
  });

  it("are absent unless the server runs locally with IM_DEMO=true", async () => {
    const response = await SELF.fetch("https://im.example/local/usage", { method: "POST", body: JSON.stringify({ sdkAppId: 1400000000, users: ["alice"] }) });
    expect(response.status).toBe(404);
  });
});
