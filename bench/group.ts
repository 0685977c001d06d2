/**
 * `npm run bench:group`: group messages through the fan-out hubs, against
 * `wrangler dev` (tracing off) on fresh state with a key of its own. Prints
 * figures as it goes; the last line is one JSON object:
 *
 *   bareBroadcast  first, the same load on one bare Durable Object holding every socket
 *               (`bench/broadcast/`: one SQLite write, a push to each socket): what this machine,
 *               wrangler's proxy and this client deliver at most; --skip-baseline leaves it out
 *   public      a Public group of --members (2,000) with --online (500) members holding a group
 *               connection (/v1/groups, logged in with their UserSig), --rate (40) messages/s for
 *               --seconds (30), sent by --senders (4) online members over /v1/connect:
 *     sent, accepted, dropped   messages sent, stored (MsgSeq given), refused by the group's rate
 *     deliveriesPerSec          first receipts by online members / (last receipt − first send)
 *     p50Ms, p99Ms, maxMs       send → deliver, over every online member's receipt of every message
 *     lost, duplicates          receipts missing and receipts beyond the first (both must be 0)
 *     serverCpuSeconds, serverCpuUsPerDelivery, clientCpuSeconds   CPU time of the server's
 *                               processes (from /proc) and of this client over the same span
 *     doRequestsPerMessage      Durable Object entries per accepted message, measured by the
 *                               server's counters (POST /local/usage): the senders' UserActors
 *                               (frames and calls), the group's actor and every fan-out hub,
 *                               read each second from just before the first send to after the
 *                               last receipt (an actor evicted meanwhile counts again from 0);
 *                               `perMessage` has each part and SQLite rows written
 *   community   the same for a Community group of --community-members (100,000) imported members
 *               with --community-online (2,000) online, at --community-rate (4: 2,000 sockets at
 *               40/s would be 80,000 deliveries/s, several times what one machine delivers)
 *   bigGroup    creating a Public group of --big-members (6,000: the owner and 5,999 members) and
 *               paging its member list 100 at a time
 *   manyGroups  a user in --groups (500) groups with one unread message in each: its login over
 *               /v1/connect, then its whole conversation list (getConversationList, 100 a page)
 *               with unread counts, and the entries that cost in the user's actor and in the
 *               groups' actors
 *   targets     p99 under 300 ms, nothing lost, Durable Object requests per message at most a
 *               tenth of the online members; per fan-out run
 *
 * Groups are made and listed through REST (create_group with 99 members, then
 * import_group_member 500 at a time; get_group_member_info); messages are sent by members'
 * clients (sendGroupMessage over /v1/connect), as an app's users would.
 *
 * Options: --members --online --rate --seconds --senders --community-members --community-online
 * --community-rate --community-seconds --big-members --groups, and --skip-baseline,
 * --skip-public, --skip-community, --skip-big, --skip-many. BENCH_SERVER_LOG=file keeps
 * what the server printed.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DefaultAppConfig } from "../scripts/config.ts";
import { repoRoot, startServer, startServerWithOwnKey, type RunningServer } from "../scripts/dev-server.ts";
import { generateUserSig } from "../src/domain/usersig.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const members = option("members", 2000);
const online = option("online", 500);
const rate = option("rate", 40);
const seconds = option("seconds", 30);
const senders = option("senders", 4);
const communityMembers = option("community-members", 100_000);
const communityOnline = option("community-online", 2000);
const communityRate = option("community-rate", 4);
const communitySeconds = option("community-seconds", seconds);
const bigMembers = option("big-members", 6000);
const groupCount = option("groups", 500);

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `work` over `items` with at most `width` at a time. */
async function inParallel<T>(items: T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

interface Answer {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** One WebSocket: requests with ids, and events. */
class Socket {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: Answer) => void>();
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket, onEvent: (event: string, data: Record<string, unknown>) => void) {
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(e.data as string) as Answer & { id?: number; event?: string };
      if (frame.event) onEvent(frame.event, frame.data as Record<string, unknown>);
      else if (typeof frame.id === "number") this.waiting.get(frame.id)?.(frame), this.waiting.delete(frame.id);
    });
    ws.addEventListener("close", () => {
      for (const resolve of this.waiting.values()) resolve({ code: -1, message: "closed" });
      this.waiting.clear();
    });
  }

  static async open(url: string, onEvent: (event: string, data: Record<string, unknown>) => void = () => {}): Promise<Socket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new Socket(ws, onEvent);
  }

  request(op: string, data: unknown): Promise<Answer> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, op, data }));
    });
  }

  /** A request that must succeed; a rate-limited one (60007) is retried. */
  async call(op: string, data: unknown): Promise<Record<string, unknown>> {
    for (;;) {
      const answer = await this.request(op, data);
      if (answer.code === 0) return answer.data ?? {};
      if (answer.code !== 60007) throw new Error(`${op}: ${answer.code} ${answer.message}`);
      await sleep(50);
    }
  }

  close(): void {
    this.ws.close();
  }
}

interface Counts {
  frames: number;
  calls: number;
  rowsWritten: number;
}

type Kind = "users" | "groups" | "hubs";
type Usage = Record<Kind, Counts>;
const kinds: Kind[] = ["users", "groups", "hubs"];
const zero = (): Counts => ({ frames: 0, calls: 0, rowsWritten: 0 });

/**
 * What a set of actors were entered with over a span. The server counts from each actor's
 * waking, and an idle actor may be evicted and woken again (counting from zero): so the
 * meter reads every actor's counts each second and, where they fell, adds the new ones whole.
 */
class UsageMeter {
  private readonly read: () => Promise<Record<Kind, Counts[]>>;
  private readonly used: Usage = { users: zero(), groups: zero(), hubs: zero() };
  private last?: Record<Kind, Counts[]>;
  private polling: Promise<void> = Promise.resolve();
  private timer?: ReturnType<typeof setInterval>;

  constructor(read: () => Promise<Record<Kind, Counts[]>>) {
    this.read = read;
  }

  async start(): Promise<void> {
    this.last = await this.read();
    this.timer = setInterval(() => void this.poll(), 1000);
  }

  async stop(): Promise<Usage> {
    clearInterval(this.timer);
    await this.poll();
    return this.used;
  }

  private poll(): Promise<void> {
    this.polling = this.polling.then(async () => {
      const now = await this.read();
      for (const kind of kinds) {
        now[kind].forEach((counts, i) => {
          const before = this.last![kind][i]!;
          const restarted = counts.frames < before.frames || counts.calls < before.calls || counts.rowsWritten < before.rowsWritten;
          for (const field of ["frames", "calls", "rowsWritten"] as const) this.used[kind][field] += restarted ? counts[field] : counts[field] - before[field];
        });
      }
      this.last = now;
    });
    return this.polling;
  }
}

/** The benchmark's view of one server: accounts, sockets, REST, usage counters. */
class Bench {
  private readonly sigs = new Map<string, Promise<string>>();

  readonly server: RunningServer;
  readonly app: Required<DefaultAppConfig>;

  constructor(server: RunningServer, app: Required<DefaultAppConfig>) {
    this.server = server;
    this.app = app;
  }

  get admin(): string {
    return this.app.admins[0]!;
  }

  sig(userId: string): Promise<string> {
    let sig = this.sigs.get(userId);
    if (!sig) this.sigs.set(userId, (sig = generateUserSig({ sdkAppId: this.app.sdkAppId, secretKey: this.app.secretKey, identifier: userId })));
    return sig;
  }

  /** A REST command that must succeed; 60007 (rate-limited) is retried. */
  async rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const url = `${this.server.base}/v4/${path}?sdkappid=${this.app.sdkAppId}&identifier=${this.admin}&usersig=${await this.sig(this.admin)}&random=${Math.floor(Math.random() * 2 ** 31)}&contenttype=json`;
    for (;;) {
      const answer = (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
      if (answer.ErrorCode === 0) return answer;
      if (answer.ErrorCode !== 60007) throw new Error(`${path}: ${JSON.stringify(answer).slice(0, 300)}`);
      await sleep(50);
    }
  }

  async importAccounts(ids: string[]): Promise<void> {
    await inParallel(chunks(ids, 100), 4, async (batch) => void (await this.rest("im_open_login_svc/multiaccount_import", { Accounts: batch })));
  }

  /** A logged-in /v1/connect connection. */
  async connect(userId: string, onEvent?: (event: string, data: Record<string, unknown>) => void): Promise<Socket> {
    const socket = await Socket.open(this.url("/v1/connect", userId), onEvent);
    await socket.call("login", { userSig: await this.sig(userId) });
    return socket;
  }

  /** A logged-in group connection (/v1/groups). */
  async groupConnection(userId: string, onEvent: (event: string, data: Record<string, unknown>) => void): Promise<Socket> {
    const socket = await Socket.open(this.url("/v1/groups", userId), onEvent);
    await socket.call("login", { userSig: await this.sig(userId) });
    return socket;
  }

  private url(path: string, userId: string): string {
    return `${this.server.base.replace("http", "ws")}${path}?sdkappid=${this.app.sdkAppId}&userid=${userId}&platform=Web&device=bench`;
  }

  /** A group of `owner` and `memberIds`: the first 99 at creation, the rest imported 500 at a time. */
  async createGroup(type: string, name: string, owner: string, memberIds: string[]): Promise<string> {
    const created = await this.rest("group_open_http_svc/create_group", {
      Type: type,
      Name: name,
      Owner_Account: owner,
      MemberList: memberIds.slice(0, 99).map((Member_Account) => ({ Member_Account })),
    });
    const groupId = created.GroupId as string;
    await inParallel(chunks(memberIds.slice(99), 500), 2, async (batch) => {
      const answer = await this.rest("group_open_http_svc/import_group_member", { GroupId: groupId, MemberList: batch.map((Member_Account) => ({ Member_Account })) });
      const failed = (answer.MemberList as { Member_Account: string; Result: number }[]).filter((m) => m.Result !== 1);
      if (failed.length > 0) throw new Error(`import_group_member: ${JSON.stringify(failed.slice(0, 3))}`);
    });
    return groupId;
  }

  /** One page of the member list (get_group_member_info): the members in it and the group's member count. */
  async memberPage(groupId: string, offset: number, limit: number): Promise<{ members: number; memberNum: number }> {
    const page = await this.rest("group_open_http_svc/get_group_member_info", { GroupId: groupId, Offset: offset, Limit: limit });
    return { members: (page.MemberList as unknown[]).length, memberNum: page.MemberNum as number };
  }

  /** A meter over these actors' counters (POST /local/usage). */
  meter(request: { users?: string[]; groups?: string[]; hubs?: boolean }): UsageMeter {
    return new UsageMeter(async () => {
      const response = await fetch(`${this.server.base}/local/usage`, { method: "POST", body: JSON.stringify({ sdkAppId: this.app.sdkAppId, ...request, each: true }) });
      if (!response.ok) throw new Error(`/local/usage answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { each: Record<Kind, Counts[]> }).each;
    });
  }

}


/**
 * CPU seconds used so far by the server's processes (wrangler and workerd: the process group
 * of the one started with its state folder), from /proc; null where there is none. With the
 * machine shared, CPU per delivery compares designs better than wall time does.
 */
function serverCpuSeconds(server: RunningServer): number | null {
  try {
    const processes: { pgrp: string; ticks: number }[] = [];
    let group: string | undefined;
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        processes.push({ pgrp: fields[2]!, ticks: Number(fields[11]) + Number(fields[12]) });
        if (group === undefined && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(server.persistTo)) group = fields[2];
      } catch {
        // exited meanwhile
      }
    }
    if (group === undefined) return null;
    return processes.filter((p) => p.pgrp === group).reduce((sum, p) => sum + p.ticks, 0) / 100;
  } catch {
    return null;
  }
}

/** Messages of a run are told apart by their Random: base + index. */
let nextRandomBase = 1_000_000;

/** Where a fan-out run sends and listens: an edge-im group, or the bare broadcast. */
interface Room {
  groupId: string;
  server: RunningServer;
  listen(userId: string, onEvent: (event: string, data: Record<string, unknown>) => void): Promise<Socket>;
  sender(userId: string): Promise<Socket>;
  send(socket: Socket, random: number, text: string): Promise<Record<string, unknown>>;
  /** The server's counters for the senders' actors, the group's and the hubs'. */
  meter?(senderIds: string[]): UsageMeter;
}

function edgeImGroup(bench: Bench, groupId: string): Room {
  return {
    groupId,
    server: bench.server,
    listen: (userId, onEvent) => bench.groupConnection(userId, onEvent),
    sender: (userId) => bench.connect(userId),
    send: (socket, random, text) => socket.call("sendGroupMessage", { groupID: groupId, random, body: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }] }),
    meter: (senderIds) => bench.meter({ users: senderIds, groups: [groupId], hubs: true }),
  };
}

function bareBroadcast(server: RunningServer): Room {
  const url = (userId: string) => `${server.base.replace("http", "ws")}/?user=${userId}`;
  return {
    groupId: "bare",
    server,
    listen: (userId, onEvent) => Socket.open(url(userId), onEvent),
    sender: (userId) => Socket.open(url(`sender_${userId}`)),
    send: (socket, random, text) => socket.call("send", { random, body: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }] }),
  };
}

/**
 * `onlineIds` listen while `senderIds` (online members too) send `runRate` messages/s for
 * `runSeconds`; every online member must receive every accepted message exactly once.
 */
async function fanoutRun(room: Room, label: string, onlineIds: string[], senderIds: string[], runRate: number, runSeconds: number) {
  const { groupId } = room;
  const count = Math.round(runRate * runSeconds);
  const base = nextRandomBase;
  nextRandomBase += count + 1;
  const sentAt = new Float64Array(count);
  const receipts = onlineIds.map(() => new Uint8Array(count));
  const latencies = new Float64Array(count * onlineIds.length);
  let firstReceipts = 0;
  let duplicates = 0;
  let lastReceipt = 0;

  const opened = performance.now();
  const sockets: Socket[] = new Array(onlineIds.length);
  await inParallel(onlineIds, 50, async (userId, m) => {
    sockets[m] = await room.listen(userId, (event, data) => {
      if (event !== "groupMessage") return;
      const message = data.message as { groupId: string; random: number };
      const i = message.random - base;
      if (message.groupId !== groupId || i < 0 || i >= count) return;
      if (receipts[m]![i]!++ > 0) return void duplicates++;
      const now = performance.now();
      latencies[firstReceipts++] = now - sentAt[i]!;
      lastReceipt = now;
    });
  });
  const sending = await Promise.all(senderIds.map((id) => room.sender(id)));
  console.log(`${label}: ${onlineIds.length} group connections logged in in ${round((performance.now() - opened) / 1000)} s; sending ${runRate}/s for ${runSeconds} s`);

  const meter = room.meter?.(senderIds);
  await meter?.start();
  const cpuBefore = { server: serverCpuSeconds(room.server), client: process.cpuUsage() };
  const accepted: boolean[] = new Array(count).fill(false);
  let dropped = 0;
  const started = performance.now();
  const acks: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / runRate - performance.now();
    if (wait > 0) await sleep(wait);
    sentAt[i] = performance.now();
    acks.push(
      room.send(sending[i % sending.length]!, base + i, `group benchmark ${i}`).then((answer) => {
        if (answer.dropReason) dropped++;
        else accepted[i] = true;
      }),
    );
  }
  await Promise.all(acks);
  const sendSeconds = (performance.now() - started) / 1000;
  const acceptedCount = accepted.filter(Boolean).length;
  const expected = acceptedCount * onlineIds.length;
  const drainUntil = performance.now() + 15_000;
  while (firstReceipts < expected && performance.now() < drainUntil) await sleep(50);
  await sleep(200);
  const cpu = { server: serverCpuSeconds(room.server), client: process.cpuUsage(cpuBefore.client) };
  const usage = await meter?.stop();
  for (const s of [...sockets, ...sending]) s.close();

  const sorted = latencies.slice(0, firstReceipts).sort();
  const used = usage ?? { users: zero(), groups: zero(), hubs: zero() };
  const perMessage = (n: number) => round(n / acceptedCount, 2);
  const requests = used.users.frames + used.users.calls + used.groups.calls + used.groups.frames + used.hubs.calls + used.hubs.frames;
  const result = {
    online: onlineIds.length,
    rate: runRate,
    seconds: runSeconds,
    sent: count,
    accepted: acceptedCount,
    dropped,
    achievedRatePerSec: round(count / sendSeconds),
    deliveries: firstReceipts,
    deliveriesPerSec: round(firstReceipts / ((lastReceipt - started) / 1000)),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(percentile(sorted, 100)),
    lost: expected - firstReceipts,
    duplicates,
    serverCpuSeconds: cpu.server === null || cpuBefore.server === null ? null : round(cpu.server - cpuBefore.server, 2),
    serverCpuUsPerDelivery: cpu.server === null || cpuBefore.server === null ? null : round(((cpu.server - cpuBefore.server) * 1e6) / firstReceipts),
    clientCpuSeconds: round((cpu.client.user + cpu.client.system) / 1e6, 2),
    doRequestsPerMessage: room.meter ? perMessage(requests) : null,
    perMessage: room.meter && {
      senderFrames: perMessage(used.users.frames),
      senderCalls: perMessage(used.users.calls),
      groupCalls: perMessage(used.groups.calls + used.groups.frames),
      hubCalls: perMessage(used.hubs.calls + used.hubs.frames),
      rowsWritten: perMessage(used.users.rowsWritten + used.groups.rowsWritten + used.hubs.rowsWritten),
    },
  };
  console.log(
    `${label}: ${result.accepted}/${result.sent} accepted (${dropped} dropped by the group's rate), ${result.deliveriesPerSec} deliveries/s, ` +
      `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms, lost ${result.lost}, duplicates ${duplicates}`,
  );
  console.log(`${label}: CPU ${result.serverCpuSeconds} s in the server (${result.serverCpuUsPerDelivery} µs per delivery), ${result.clientCpuSeconds} s in this client`);
  if (!result.perMessage) return result;
  console.log(
    `${label}: per message ${result.doRequestsPerMessage} Durable Object requests (sender ${result.perMessage.senderFrames} frames + ${result.perMessage.senderCalls} calls, ` +
      `group ${result.perMessage.groupCalls}, hubs ${result.perMessage.hubCalls}), ${result.perMessage.rowsWritten} SQLite rows written`,
  );
  return result;
}

function targets(run: { p99Ms: number; lost: number; duplicates: number; doRequestsPerMessage: number | null; online: number }) {
  return { p99Under300Ms: run.p99Ms < 300, nothingLost: run.lost === 0 && run.duplicates === 0, requestsAtMostTenthOfOnline: (run.doRequestsPerMessage ?? Infinity) <= run.online / 10 };
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, round(performance.now() - started)];
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = { options: { members, online, rate, seconds, senders, communityMembers, communityOnline, communityRate, communitySeconds, bigMembers, groups: groupCount } };
  if (!flag("skip-public") && !flag("skip-baseline")) {
    const broadcast = await startServer({ wranglerConfig: join(repoRoot, "bench", "broadcast", "wrangler.toml") });
    try {
      const ids = Array.from({ length: online }, (_, i) => `u${i}`);
      result.bareBroadcast = await fanoutRun(bareBroadcast(broadcast), "bare broadcast", ids, ids.slice(1, 1 + senders), rate, seconds);
    } finally {
      await broadcast.stop();
    }
  }
  const { server, app } = await startServerWithOwnKey();
  const bench = new Bench(server, app);
  try {
    const pool = Math.max(flag("skip-public") ? 0 : members, flag("skip-community") ? 0 : communityMembers, flag("skip-big") ? 0 : bigMembers);
    const users = Array.from({ length: pool }, (_, i) => `u${i}`);
    const [, importMs] = await timed(() => bench.importAccounts([bench.admin, "many_user", "many_peer", ...users]));
    console.log(`group benchmark: ${pool + 2} accounts imported in ${round(importMs / 1000)} s`);

    if (!flag("skip-public")) {
      const [groupId, createMs] = await timed(() => bench.createGroup("Public", "bench public", users[0]!, users.slice(1, members)));
      console.log(`public: a group of ${members} members made in ${round(createMs / 1000)} s`);
      const run = await fanoutRun(edgeImGroup(bench, groupId), "public", users.slice(0, online), users.slice(1, 1 + senders), rate, seconds);
      result.public = { ...run, members, createMs, targets: targets(run) };
    }

    if (!flag("skip-community")) {
      const [groupId, createMs] = await timed(() => bench.createGroup("Community", "bench community", users[0]!, users.slice(1, communityMembers)));
      console.log(`community: a group of ${communityMembers} members imported in ${round(createMs / 1000)} s`);
      const run = await fanoutRun(edgeImGroup(bench, groupId), "community", users.slice(0, communityOnline), users.slice(1, 1 + senders), communityRate, communitySeconds);
      result.community = { ...run, members: communityMembers, createMs, targets: targets(run) };
    }

    if (!flag("skip-big")) {
      const [groupId, createMs] = await timed(() => bench.createGroup("Public", "bench big", users[0]!, users.slice(1, bigMembers)));
      const pageMs: number[] = [];
      let listed = 0;
      let memberNum = 0;
      const [, allPagesMs] = await timed(async () => {
        for (let offset = 0; offset === 0 || offset < memberNum; offset += 100) {
          const [page, ms] = await timed(() => bench.memberPage(groupId, offset, 100));
          pageMs.push(ms);
          listed += page.members;
          memberNum = page.memberNum;
        }
      });
      if (listed !== bigMembers) throw new Error(`the member list held ${listed} members, not ${bigMembers}`);
      const sorted = Float64Array.from(pageMs).sort();
      result.bigGroup = { members: bigMembers, createMs, pages: pageMs.length, pageP50Ms: round(percentile(sorted, 50)), pageP99Ms: round(percentile(sorted, 99)), allPagesMs };
      console.log(`big group: ${bigMembers} members made in ${round(createMs / 1000)} s; ${pageMs.length} pages of 100: p50 ${round(percentile(sorted, 50))} ms, all ${allPagesMs} ms`);
    }

    if (!flag("skip-many")) result.manyGroups = await manyGroups(bench);
  } finally {
    if (process.env.BENCH_SERVER_LOG) writeFileSync(process.env.BENCH_SERVER_LOG, server.output());
    await server.stop();
  }
  console.log(JSON.stringify(result));
}

/** A user in `groupCount` groups, one unread message in each, logs in and lists its conversations. */
async function manyGroups(bench: Bench) {
  const user = "many_user";
  const peer = "many_peer";
  const groupIds: string[] = [];
  const sender = await bench.connect(peer);
  const [, createMs] = await timed(() =>
    inParallel(Array.from({ length: groupCount }, (_, i) => i), 4, async (i) => {
      const created = await bench.rest("group_open_http_svc/create_group", { Type: "Public", Name: `many ${i}`, Owner_Account: user, MemberList: [{ Member_Account: peer }] });
      groupIds[i] = created.GroupId as string;
      await sender.call("sendGroupMessage", { groupID: groupIds[i], random: i + 1, body: [{ MsgType: "TIMTextElem", MsgContent: { Text: `unread in ${i}` } }] });
    }),
  );
  sender.close();
  console.log(`many groups: ${groupCount} groups made, one message in each, in ${round(createMs / 1000)} s`);
  await sleep(2_000); // the directory's row of a group follows its last message within a second

  const measured = { users: [user], groups: groupIds };
  const meter = bench.meter(measured);
  await meter.start();
  const [socket, loginMs] = await timed(() => bench.connect(user));
  let conversations = 0;
  let unread = 0;
  let pages = 0;
  const pageMs: number[] = [];
  const [, listMs] = await timed(async () => {
    for (let offset = 0; ; offset += 100) {
      const [page, ms] = await timed(() => socket.call("getConversationList", { offset, limit: 100 }));
      pageMs.push(ms);
      pages++;
      const list = page.conversations as { groupId?: string; unreadCount: number }[];
      for (const c of list) if (c.groupId) conversations++, (unread += c.unreadCount);
      if (page.complete) break;
    }
  });
  const used = await meter.stop();
  socket.close();
  const figures = {
    groups: groupCount,
    loginMs,
    conversationListMs: listMs,
    firstPageMs: pageMs[0],
    pages,
    conversations,
    unread,
    doRequests: {
      userFrames: used.users.frames,
      userCalls: used.users.calls,
      groupCalls: used.groups.calls + used.groups.frames,
    },
  };
  if (conversations !== groupCount || unread !== groupCount) throw new Error(`expected ${groupCount} group conversations with 1 unread each: ${JSON.stringify(figures)}`);
  console.log(
    `many groups: login ${loginMs} ms; conversation list (${pages} pages, ${conversations} groups, ${unread} unread) ${listMs} ms, first page ${pageMs[0]} ms; ` +
      `Durable Object entries: the user's actor ${used.users.frames} frames + ${used.users.calls} calls, its ${groupCount} groups' actors ${figures.doRequests.groupCalls}`,
  );
  return figures;
}

await main();
