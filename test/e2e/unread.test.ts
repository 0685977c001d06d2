/**
 * Unread counts and gaps, with the client SDK in Node against `wrangler dev`:
 * each device reaches the server through its own relay, so the network can
 * drop it, keep it offline or deliver late and bunched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import EdgeIMChat, { type Chat, type Message } from "../../src/sdk/index.ts";
import { NetProxy } from "../support/net-proxy.ts";
import { defaultApp, rest, sig } from "./clients.ts";

const { EVENT } = EdgeIMChat;

/** Polls `check` until it gives a truthy value. */
async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One installation of the app: an SDK instance, its network and what it has shown. */
interface Device {
  name: string;
  userID: string;
  chat: Chat;
  net: NetProxy;
  /** Messages shown by MESSAGE_RECEIVED, in order (across logins: the cursor store persists). */
  received: Message[];
  errors: unknown[];
  online: boolean;
}

describe("unread counts and gaps", () => {
  let server: RunningServer;
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const devices: Device[] = [];
  let accounts = 0;

  /** Distinct accounts for every test and run. */
  async function someUsers(n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => `ur_${stamp}_${accounts++}`);
    expect((await rest(server, "im_open_login_svc/multiaccount_import", { Accounts: ids })).ErrorCode).toBe(0);
    return ids;
  }

  async function aDevice(userID: string, name: string): Promise<Device> {
    const net = await NetProxy.start(server.port);
    const values = new Map<string, string>();
    const chat = EdgeIMChat.create({
      SDKAppID: defaultApp.sdkAppId,
      endpoint: net.base,
      deviceID: `${name}-${stamp}`,
      cursorStore: { get: (k) => values.get(k) ?? null, set: (k, v) => void values.set(k, v) },
    });
    const device: Device = { name, userID, chat, net, received: [], errors: [], online: false };
    chat.on(EVENT.MESSAGE_RECEIVED, (e) => device.received.push(...(e.data as Message[])));
    chat.on(EVENT.ERROR, (e) => device.errors.push(e.data));
    devices.push(device);
    return device;
  }

  async function logIn(device: Device): Promise<void> {
    await device.chat.login({ userID: device.userID, userSig: await sig(device.userID) });
    await until(() => device.chat.isReady(), `${device.name} ready`);
    device.online = true;
  }

  beforeAll(async () => {
    server = await startServer({ persistTo: freshStateDir() });
  });
  afterAll(async () => {
    for (const d of devices) {
      if (d.online) await d.chat.logout().catch(() => undefined);
      await d.net.close();
    }
    await server?.stop();
  });

  it("shows a message pushed right after the last sync page, without waiting for the next one", async () => {
    const [alice, bob] = await someUsers(2);
    const sender = await aDevice(alice!, "alice-phone");
    await logIn(sender);
    const phone = await aDevice(bob!, "bob-phone");
    // The sync answer reaches the phone in one piece with the message sent just after it was read.
    let sent: Promise<string> | undefined;
    phone.net.bunchAfter(
      (text) => text.includes('"complete":true'),
      300,
      () => (sent = sender.chat.sendMessage(sender.chat.createTextMessage({ to: bob!, payload: { text: "right behind the page" } })).then((r) => r.data.message.ID)),
    );
    await logIn(phone);
    const id = await until(() => sent, "the send to start");
    await until(() => phone.received.some((m) => m.ID === id), "the message on Bob's phone", 2_000).catch(async (error) => {
      throw new Error(`${String(error)}; Bob's phone received ${JSON.stringify(phone.received.map((m) => m.ID))}, sent ${await id}`);
    });
    expect(phone.chat.getTotalUnreadMessageCount()).toBe(1);
    expect(phone.errors).toEqual([]);
  });
});
