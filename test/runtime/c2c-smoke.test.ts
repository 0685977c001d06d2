import { describe, expect, it } from "vitest";
import { aRandom, TestClient, text } from "./clients.ts";
import { anApp, aUserId } from "./helpers.ts";

describe("smoke", () => {
  it("A sends to B over WebSockets", async () => {
    const app = await anApp();
    const [a, b] = [aUserId("a"), aUserId("b")];
    await app.rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b] });
    const ca = await TestClient.connect(app, a);
    const cb = await TestClient.connect(app, b);
    expect(ca.loginResponse?.code).toBe(0);
    const ack = await ca.call("sendMessage", { to: b, random: aRandom(), body: text("hi") });
    const [event] = await cb.waitForEvents<{ message: { key: string; body: unknown } }>("message", 1);
    expect(event!.message.key).toBe(ack.key);
    expect(event!.message.body).toEqual(text("hi"));
  });
});
