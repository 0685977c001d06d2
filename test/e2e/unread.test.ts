/**
 * Unread counts and gaps, with the client SDK in Node against `wrangler dev`:
 * each device reaches the server through its own relay, so the network can
 * drop it, keep it offline or deliver late and bunched.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStateDir, startServer, type RunningServer } from "../../scripts/dev-server.ts";
import EdgeIMChat, { type Chat, type Message } from "../../src/sdk/index.ts";
import { NetProxy } from "../support/net-proxy.ts";
import { connect, defaultApp, rest, sig, pollUntil } from "./clients.ts";

const { EVENT } = EdgeIMChat;

const until = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000) => pollUntil(check, what, timeoutMs);

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
  /** Messages sent from this device. */
  sent: Message[];
  /** Set when the network dropped it: it has until it reconnects, plus a second, to converge. */
  droppedAt?: number;
  netState: string;
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
    const device: Device = { name, userID, chat, net, received: [], errors: [], online: false, sent: [], netState: "" };
    chat.on(EVENT.MESSAGE_RECEIVED, (e) => device.received.push(...(e.data as Message[])));
    chat.on(EVENT.NET_STATE_CHANGE, (e) => (device.netState = (e.data as { state: string }).state));
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
    // What the server logged as internal errors, so a failure here can be traced.
    for (const line of server?.output().split("\n") ?? []) if (/internal_error|worker_error/.test(line)) console.error(line);
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

  // ---------------------------------------------------------------- the property

  /** One step of two users' day, with indices resolved against what exists when it runs. */
  type Step =
    | { kind: "send"; user: number; device: number; count: number; drop?: number }
    | { kind: "notice"; user: number }
    | { kind: "read"; user: number; device: number; peer: number }
    | { kind: "delete"; user: number; device: number; pick: number }
    | { kind: "recall"; user: number; device: number; pick: number }
    | { kind: "pin"; user: number; device: number; peer: number }
    | { kind: "toggleOnline"; device: number };

  const deviceCount = 5;
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant("send"), user: fc.nat(1), device: fc.nat(2), count: fc.constant(1) }), weight: 4 },
    {
      arbitrary: fc.record({ kind: fc.constant("send"), user: fc.nat(1), device: fc.nat(2), count: fc.integer({ min: 2, max: 6 }), drop: fc.option(fc.nat(deviceCount - 1), { nil: undefined }) }),
      weight: 2,
    },
    { arbitrary: fc.record({ kind: fc.constant("notice"), user: fc.nat(1) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("read"), user: fc.nat(1), device: fc.nat(2), peer: fc.nat(1) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant("delete"), user: fc.nat(1), device: fc.nat(2), pick: fc.nat(50) }), weight: 1 },
    
    { arbitrary: fc.record({ kind: fc.constant("recall"), user: fc.nat(1), device: fc.nat(2), pick: fc.nat(50) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("pin"), user: fc.nat(1), device: fc.nat(2), peer: fc.nat(1) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("toggleOnline"), device: fc.nat(deviceCount - 1) }), weight: 1 },
  ) as fc.Arbitrary<Step>;

  interface Sent {
    id: string;
    from: string;
    to: string;
    text: string;
    time: number;
    revoked: boolean;
    hiddenFor: Set<string>;
  }

  /** What the server should hold, built only from the steps that succeeded. */
  class World {
    readonly messages: Sent[] = [];
    readonly unread = new Map<string, number>();
    /** Index into `messages` at which the user last read the conversation. */
    readonly readAt = new Map<string, number>();
    readonly pinned = new Set<string>();
    readonly users: string[];
    readonly notice: string;
    constructor(users: string[], notice: string) {
      this.users = users;
      this.notice = notice;
    }

    conversationOf(m: Sent, user: string): string | undefined {
      if (m.from === user) return m.from === this.notice ? undefined : m.to;
      return m.to === user ? m.from : undefined;
    }

    sent(m: Sent): void {
      this.messages.push(m);
      const key = `${m.to}>${m.from}`;
      this.unread.set(key, (this.unread.get(key) ?? 0) + 1);
    }

    read(user: string, peer: string): void {
      this.unread.set(`${user}>${peer}`, 0);
      this.readAt.set(`${user}>${peer}`, this.messages.length);
    }

    history(user: string, peer: string): Sent[] {
      return this.messages.filter((m) => this.conversationOf(m, user) === peer);
    }

    peers(user: string): string[] {
      return [...new Set(this.messages.map((m) => this.conversationOf(m, user)).filter((p): p is string => p !== undefined))];
    }

    visible(user: string): Sent[] {
      return this.messages.filter((m) => this.conversationOf(m, user) !== undefined && !m.hiddenFor.has(user));
    }

    conversations(user: string): ConversationView[] {
      return this.peers(user)
        .map((peer) => {
          const last = this.history(user, peer).filter((m) => !m.hiddenFor.has(user)).at(-1);
          return {
            id: `C2C${peer}`,
            unread: this.unread.get(`${user}>${peer}`) ?? 0,
            pinned: this.pinned.has(`${user}>${peer}`),
            last: last ? { show: last.revoked ? "[Recalled]" : last.text, from: last.from, time: last.time, revoked: last.revoked } : null,
          };
        })
        .sort((a, b) => a.id.localeCompare(b.id));
    }

    /** Messages from `peer` since `user` last read: the most the conversation can show as unread. */
    receivedSinceRead(user: string, peer: string): number {
      return this.messages.slice(this.readAt.get(`${user}>${peer}`) ?? 0).filter((m) => m.from === peer && m.to === user).length;
    }
  }

  interface ConversationView {
    id: string;
    unread: number;
    pinned: boolean;
    last: { show: string; from: string; time: number; revoked: boolean } | null;
  }

  async function conversationsOn(device: Device): Promise<{ list: ConversationView[]; pinnedFirst: boolean; total: number }> {
    const { conversationList } = (await device.chat.getConversationList()).data;
    const list = conversationList
      .map((c) => ({
        id: c.conversationID,
        unread: c.unreadCount,
        pinned: c.isPinned,
        last: c.lastMessage ? { show: c.lastMessage.messageForShow, from: c.lastMessage.fromAccount, time: c.lastMessage.lastTime, revoked: c.lastMessage.isRevoked } : null,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const firstUnpinned = conversationList.findIndex((c) => !c.isPinned);
    const pinnedFirst = firstUnpinned < 0 || conversationList.slice(firstUnpinned).every((c) => !c.isPinned);
    return { list, pinnedFirst, total: device.chat.getTotalUnreadMessageCount() };
  }

  /** What is wrong with one device against the world, or nothing. */
  async function problemsOf(device: Device, world: World): Promise<string[]> {
    const problems: string[] = [];
    const { list, pinnedFirst, total } = await conversationsOn(device);
    const expected = world.conversations(device.userID);
    if (JSON.stringify(list) !== JSON.stringify(expected)) problems.push(`conversations ${JSON.stringify(list)}\n    expected ${JSON.stringify(expected)}`);
    if (!pinnedFirst) problems.push("a pinned conversation is listed after an unpinned one");
    const sum = list.reduce((n, c) => n + c.unread, 0);
    if (total !== sum) problems.push(`total unread ${total} is not the sum ${sum} of the conversations'`);
    for (const c of list) {
      const most = world.receivedSinceRead(device.userID, c.id.slice(3));
      if (c.unread > most) problems.push(`${c.id} shows ${c.unread} unread but only ${most} messages came from the peer since the last read`);
    }
    const shown = [...device.received, ...device.sent].map((m) => m.ID);
    const twice = shown.filter((id, i) => shown.indexOf(id) !== i);
    if (twice.length > 0) problems.push(`shown twice: ${twice.join(", ")}`);
    const mine = new Set(world.messages.filter((m) => world.conversationOf(m, device.userID) !== undefined).map((m) => m.id));
    const foreign = shown.filter((id) => !mine.has(id));
    if (foreign.length > 0) problems.push(`shown but not the user's: ${foreign.join(", ")}`);
    const missing = world.visible(device.userID).filter((m) => !shown.includes(m.id));
    if (missing.length > 0) problems.push(`missing: ${missing.map((m) => `${m.id} (${m.text})`).join(", ")}`);
    return problems;
  }

  /** Every online device matches the world within a second (a dropped one: a second after it is back). */
  async function converged(world: World, devices: Device[]): Promise<void> {
    const started = Date.now();
    for (;;) {
      const report: string[] = [];
      for (const d of devices.filter((d) => d.online)) {
        for (const p of await problemsOf(d, world)) report.push(`${d.name}: ${p}`);
      }
      if (report.length === 0) return;
      const reconnecting = devices.some((d) => d.online && d.droppedAt !== undefined && d.netState !== "connected");
      const deadline = Math.max(...devices.map((d) => (d.online && d.droppedAt !== undefined ? d.droppedAt + 5_000 : 0)), started + 1_000);
      if (Date.now() > deadline && !reconnecting) throw new Error(`devices did not converge within a second:\n  ${report.join("\n  ")}${await serverSide(devices)}`);
      if (Date.now() > started + 15_000) throw new Error(`a device did not reconnect:\n  ${report.join("\n  ")}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** What the server answers each user now, to tell a device's mistake from the server's. */
  async function serverSide(devices: Device[]): Promise<string> {
    const lines: string[] = [];
    for (const userID of new Set(devices.map((d) => d.userID))) {
      const client = await connect(server, userID, `inspector-${stamp}`);
      const answer = await client.request("getConversationList", {});
      client.close();
      lines.push(`${userID} on the server: ${JSON.stringify(answer.data, (k, v) => (k === "body" ? v[0]?.MsgContent?.Text : v))}`);
    }
    const states = devices.map((d) => `${d.name}:${d.online ? d.netState : "logged out"}${d.droppedAt ? `, dropped ${Date.now() - d.droppedAt} ms ago` : ""}`);
    return `\n  ${lines.join("\n  ")}\n  devices: ${states.join("; ")}`;
  }

  /** The server's history of each conversation, paged as an app scrolls back: each visible message once, in order. */
  async function historyProblems(device: Device, world: World): Promise<string[]> {
    const problems: string[] = [];
    for (const peer of world.peers(device.userID)) {
      const ids: string[] = [];
      let next: string | undefined;
      for (let page = 0; page < 50; page++) {
        const { data } = await device.chat.getMessageList({ conversationID: `C2C${peer}`, nextReqMessageID: next });
        ids.unshift(...data.messageList.map((m) => m.ID));
        if (data.isCompleted) break;
        next = data.nextReqMessageID;
      }
      const expected = world.history(device.userID, peer).filter((m) => !m.hiddenFor.has(device.userID)).map((m) => m.id);
      if (JSON.stringify(ids) !== JSON.stringify(expected)) problems.push(`${device.name}: history with ${peer} ${JSON.stringify(ids)}\n    expected ${JSON.stringify(expected)}`);
    }
    return problems;
  }

  const steps = Number(process.env.UNREAD_STEPS ?? 300);
  const stepsPerRun = 25;

  it(
    `keeps every device's conversations, unread counts and messages the same (${steps} steps)`,
    async () => {
      let texts = 0;
      const run = async (plan: Step[]) => {
        const [alice, bob, notice] = await someUsers(3);
        const run = accounts;
        const users = [alice!, bob!];
        const world = new World(users, notice!);
        const names = ["a0", "a1", "a2", "b0", "b1"];
        const devicesHere = await Promise.all(names.map((n) => aDevice(n.startsWith("a") ? alice! : bob!, `${n}-${run}`)));
        const [a0, a1, a2, b0, b1] = devicesHere as [Device, Device, Device, Device, Device];
        const byUser = [[a0, a1, a2], [b0, b1]];
        try {
          await Promise.all(devicesHere.map(logIn));
          for (const [i, step] of plan.entries()) {
            try {
              await perform(step, world, byUser, devicesHere, () => `${stamp}-${texts++}`);
              await converged(world, devicesHere);
              const reader = byUser.map((ds) => ds.filter((d) => d.online)[i % ds.filter((d) => d.online).length]!);
              const problems = (await Promise.all(reader.map((d) => historyProblems(d, world)))).flat();
              if (problems.length > 0) throw new Error(`history is wrong:\n  ${problems.join("\n  ")}`);
            } catch (error) {
              throw new Error(`step ${i} ${JSON.stringify(step)}: ${(error as Error).message}`);
            }
          }
          const errors = devicesHere.flatMap((d) => d.errors.map((e) => `${d.name}: ${String(e)}`));
          if (errors.length > 0) throw new Error(`the SDK reported errors: ${errors.join("; ")}`);
        } finally {
          for (const d of devicesHere) {
            if (d.online) await d.chat.logout().catch(() => undefined);
            d.online = false;
            await d.net.close();
          }
        }
      };
      await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: stepsPerRun - 5, maxLength: stepsPerRun + 5 }), run), {
        numRuns: Math.max(1, Math.round(steps / stepsPerRun)),
        // Shrinking replays sequences against the server: bounded, so a failure is reported in time.
        interruptAfterTimeLimit: Math.max(120_000, steps * 600),
        markInterruptAsFailure: false,
      });
    },
    Math.max(300_000, steps * 2_000),
  );

  async function perform(step: Step, world: World, byUser: Device[][], all: Device[], nextText: () => string): Promise<void> {
    const onlineOf = (user: number) => byUser[user]!.filter((d) => d.online);
    const pick = (user: number, device: number) => onlineOf(user)[device % onlineOf(user).length]!;
    const peerOf = (user: number, peer: number) => (peer === 0 ? world.users[1 - user]! : world.notice);
    switch (step.kind) {
      case "send": {
        const device = pick(step.user, step.device);
        const to = world.users[1 - step.user]!;
        const burst = (async () => {
          for (let i = 0; i < step.count; i++) {
            const text = nextText();
            const message = device.chat.createTextMessage({ to, payload: { text } });
            const { data } = await device.chat.sendMessage(message);
            device.sent.push(data.message);
            world.sent({ id: data.message.ID, from: device.userID, to, text, time: data.message.time, revoked: false, hiddenFor: new Set() });
          }
        })();
        if (step.drop !== undefined && all[step.drop]!.online) {
          // The network drops a device while the burst is under way.
          await new Promise((r) => setTimeout(r, 15));
          const dropped = all[step.drop]!;
          dropped.droppedAt = Date.now();
          dropped.netState = "disconnected";
          dropped.net.cut();
        }
        await burst;
        return;
      }
      case "notice": {
        const to = world.users[step.user]!;
        const text = nextText();
        const answer = await rest(server, "openim/sendmsg", {
          SyncOtherMachine: 2,
          From_Account: world.notice,
          To_Account: to,
          MsgRandom: Math.floor(Math.random() * 2 ** 32),
          MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }],
        });
        if (answer.ErrorCode !== 0) throw new Error(`sendmsg: ${JSON.stringify(answer)}`);
        world.sent({ id: String(answer.MsgKey), from: world.notice, to, text, time: Number(answer.MsgTime), revoked: false, hiddenFor: new Set() });
        return;
      }
      case "read": {
        const device = pick(step.user, step.device);
        const peer = peerOf(step.user, step.peer);
        await device.chat.setMessageRead({ conversationID: `C2C${peer}` });
        world.read(device.userID, peer);
        return;
      }
      case "delete": {
        const device = pick(step.user, step.device);
        const candidates = world.visible(device.userID);
        if (candidates.length === 0) return;
        const m = candidates[step.pick % candidates.length]!;
        const peer = world.conversationOf(m, device.userID)!;
        await device.chat.deleteMessage([{ ID: m.id, conversationID: `C2C${peer}` } as Message]);
        m.hiddenFor.add(device.userID);
        return;
      }
      case "recall": {
        const device = pick(step.user, step.device);
        const candidates = world.visible(device.userID).filter((m) => m.from === device.userID && !m.revoked);
        if (candidates.length === 0) return;
        const m = candidates[step.pick % candidates.length]!;
        await device.chat.revokeMessage({ ID: m.id, conversationID: `C2C${m.to}` } as Message);
        m.revoked = true;
        return;
      }
      case "pin": {
        const device = pick(step.user, step.device);
        const peer = peerOf(step.user, step.peer);
        if (!world.peers(device.userID).includes(peer)) return;
        const key = `${device.userID}>${peer}`;
        const pinned = !world.pinned.has(key);
        await device.chat.pinConversation({ conversationID: `C2C${peer}`, isPinned: pinned });
        if (pinned) world.pinned.add(key);
        else world.pinned.delete(key);
        return;
      }
      case "toggleOnline": {
        const device = all[step.device]!;
        // Each user keeps one device online, so there is always one to act from.
        if (device === byUser[0]![0] || device === byUser[1]![0]) return;
        if (device.online) {
          await device.chat.logout();
          device.online = false;
        } else {
          device.droppedAt = undefined;
          await logIn(device);
        }
        return;
      }
    }
  }
});
