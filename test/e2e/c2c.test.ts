/** One-to-one chat end to end: real WebSocket clients against `npm run dev`'s server, then a restart. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserEvent } from "../../src/domain/events.ts";
import type { StoredC2CMessage } from "../../src/domain/message.ts";
import { aRandom, ProtocolClient, text } from "../support/protocol-client.ts";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import { connect as connectTo, rest as restTo } from "./clients.ts";

type MessageEvent = { seq: number; message: StoredC2CMessage };

describe("one-to-one chat under wrangler dev", () => {
  const state = freshStateDir();
  const a = `e2e_a_${Date.now().toString(36)}`;
  const b = `e2e_b_${Date.now().toString(36)}`;
  let server: RunningServer;
  const connect = (userId: string, device: string) => connectTo(server, userId, device);
  const rest = (path: string, body: unknown) => restTo(server, path, body);

  beforeAll(async () => {
    server = await startServer({ persistTo: state });
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b] })).ErrorCode).toBe(0);
  });
  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
  });

  /** Sends as a client would: a request refused by the connection's rate limit (60007) is retried. */
  async function sendText(client: ProtocolClient, to: string, body: string): Promise<string> {
    const random = aRandom();
    for (;;) {
      const answer = await client.request("sendMessage", { to, random, body: text(body) });
      if (answer.code === 0) return (answer.data as { key: string }).key;
      if (answer.code !== 60007) throw new Error(`send failed: ${answer.code} ${answer.message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  let bCursor = 0;
  let sentKeys: string[] = [];

  it("delivers live, then exactly the 100 missed messages in order after B reconnects", async () => {
    const ca = await connect(a, "a-tab");
    let cb = await connect(b, "b-tab");
    const hello = await ca.call<{ key: string }>("sendMessage", { to: b, random: aRandom(), body: text("hello") });
    const [live] = await cb.waitForEvents<MessageEvent>("message", 1);
    expect(live!.message.key).toBe(hello.key);
    bCursor = live!.seq;

    cb.close();
    await cb.waitForClose();
    sentKeys = [];
    for (let i = 0; i < 100; i++) {
      sentKeys.push(await sendText(ca, b, `missed ${i}`));
    }

    cb = await connect(b, "b-tab");
    const received: MessageEvent[] = [];
    let cursor = bCursor;
    for (;;) {
      const page = await cb.call<{ events: UserEvent[]; cursor: number; complete: boolean }>("sync", { after: cursor, limit: 30 });
      received.push(...(page.events as MessageEvent[]));
      cursor = page.cursor;
      if (page.complete) break;
    }
    expect(received.map((e) => e.message.key)).toEqual(sentKeys);
    expect(received.map((e) => e.message.body)).toEqual(sentKeys.map((_, i) => text(`missed ${i}`)));
    expect(new Set(received.map((e) => e.seq)).size).toBe(100);
    expect(await cb.call("getTotalUnread")).toMatchObject({ total: 101 });
  });

  it("keeps the history intact across a server restart on the same state", async () => {
    await ProtocolClient.closeAll();
    await server.stop();
    server = await startServer({ persistTo: state });
    const cb = await connect(b, "b-tab");
    const history: StoredC2CMessage[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await cb.call<{ messages: StoredC2CMessage[]; complete: boolean; next: number }>("getMessageList", { peer: a, before, limit: 40 });
      history.push(...page.messages);
      before = page.next;
      if (page.complete) break;
    }
    expect(history.map((m) => m.key).reverse().slice(1)).toEqual(sentKeys);
    const synced = await cb.call<{ events: UserEvent[] }>("sync", { after: bCursor, limit: 200 });
    expect(synced.events).toHaveLength(100);
  });
});
