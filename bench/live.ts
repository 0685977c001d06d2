/**
 * `npm run bench:live`: a live room (AVChatRoom) with as many viewers as this machine holds, against
 * `wrangler dev` (tracing off) on fresh state with a key of its own, beside the same audience on one
 * bare Durable Object broadcasting (`bench/broadcast/`), measured in the same run. Prints figures as
 * it goes; the last line is one JSON object:
 *
 *   viewers      --viewers, by default what the open-file limit holds: wrangler's proxy costs about
 *                4 descriptors per socket, so (ulimit −n − 2,000) / 4, at most 4,500
 *   shards       the app's shard size is set so the audience fills --shards (3) shards
 *   ramp         viewers joining --ramp-width (32) at a time, each as an app's user does: /v1/connect,
 *                login, joinGroup (the ticket), then /v1/live and login there; joins/s overall and
 *                per second of the ramp
 *   latency      --messages (50) messages sent one at a time by the room's owner over /v1/connect:
 *                the time until the last viewer has each (p50, p99, max), and until the first
 *   sustained    --sustained-rate (10) messages/s for --sustained-seconds (10): deliveries/s
 *                (receipts / (last receipt − first send)), receipts still missing --drain-seconds
 *                (60) after the last send, duplicates, and what the shards dropped by priority
 *   memory       the server processes' resident memory (from /proc) before the ramp and with every
 *                viewer connected, divided by the viewers; edge-im's includes each viewer's user
 *                actor, woken by its join
 *   overload     --overload-rate (160) messages/s for --overload-seconds (5), priorities in turn
 *                High, Normal, Low, Lowest, into a room whose rate is 40/s: what the room refused
 *                by priority (MsgDropReason), what the shards dropped by priority for falling
 *                behind, and whether every viewer got every High message
 *   perMessage   Durable Object entries per message in the latency phase (the shards' calls, the
 *                viewers' ack frames) from the server's counters (POST /local/usage)
 *   bare         ramp, latency, sustained and memory for the bare broadcast (--skip-baseline:
 *                none), and `ratio`: edge-im's time to the last viewer over the bare one's (target
 *                at most 1.5)
 *
 * Viewers are raw WebSocket clients in this process; each acks every 64th message as the protocol
 * asks. The room's unacked limit is raised to 1,024 so this client, busy with the whole audience on
 * a shared machine, is not taken for a slow consumer. BENCH_SERVER_LOG=file keeps what the server printed.
 */
import { execSync } from "node:child_process";
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

const fileLimit = Number(execSync("ulimit -n", { shell: "/bin/bash" }).toString().trim()) || 1024;
const viewerCount = option("viewers", Math.max(10, Math.min(4_500, Math.floor((fileLimit - 2_000) / 4))));
const shardTarget = option("shards", 3);
const rampWidth = option("ramp-width", 32);
const messageCount = option("messages", 50);
const sustainedRate = option("sustained-rate", 10);
const sustainedSeconds = option("sustained-seconds", 10);
const overloadRate = option("overload-rate", 160);
const overloadSeconds = option("overload-seconds", 5);
const priorities = ["High", "Normal", "Low", "Lowest"] as const;
type Priority = (typeof priorities)[number];

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

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

/** The server processes (the process group of the one started with its state folder), from /proc. */
function serverProcesses(server: RunningServer): string[] {
  const all: { pid: string; pgrp: string }[] = [];
  let group: string | undefined;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const pgrp = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]!;
      all.push({ pid, pgrp });
      if (group === undefined && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(server.persistTo)) group = pgrp;
    } catch {
      // exited meanwhile
    }
  }
  return all.filter((p) => p.pgrp === group).map((p) => p.pid);
}

/** Resident memory of the server's processes, in MB. */
function serverRssMb(server: RunningServer): number {
  let kb = 0;
  for (const pid of serverProcesses(server)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kb / 1024;
}

interface Answer {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** One WebSocket with requests by id; events go to `onEvent`. */
class Socket {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: Answer) => void>();
  readonly ws: WebSocket;

  private constructor(ws: WebSocket, onEvent?: (event: string, data: Record<string, unknown>) => void) {
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(e.data as string) as Answer & { id?: number; event?: string };
      if (frame.event) onEvent?.(frame.event, frame.data as Record<string, unknown>);
      else if (typeof frame.id === "number") this.waiting.get(frame.id)?.(frame), this.waiting.delete(frame.id);
    });
    ws.addEventListener("close", () => {
      for (const resolve of this.waiting.values()) resolve({ code: -1, message: "closed" });
      this.waiting.clear();
    });
  }

  static async open(url: string, onEvent?: (event: string, data: Record<string, unknown>) => void): Promise<Socket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url.slice(0, 120)}`)), { once: true });
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

  /** Sends without waiting for the answer (acks). */
  tell(op: string, data: unknown): void {
    this.ws.send(JSON.stringify({ id: this.nextId++, op, data }));
  }

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

/**
 * What the audience received: per message (by its Random) the receipts and the last one's time,
 * per viewer the last MsgSeq (a receipt at or below it is a duplicate).
 */
class Receipts {
  readonly count: Uint32Array;
  readonly first: Float64Array;
  readonly last: Float64Array;
  readonly sentAt: Float64Array;
  readonly priority: (Priority | undefined)[];
  private readonly lastSeq: Float64Array;
  readonly base: number;
  duplicates = 0;
  total = 0;
  lastReceipt = 0;

  constructor(viewers: number, messages: number, base: number) {
    this.base = base;
    this.count = new Uint32Array(messages);
    this.first = new Float64Array(messages);
    this.last = new Float64Array(messages);
    this.sentAt = new Float64Array(messages);
    this.priority = new Array(messages);
    this.lastSeq = new Float64Array(viewers);
  }

  /** A viewer's receipt; the message index when it is one of this run's. */
  receive(viewer: number, message: { seq: number; random: number }): void {
    if (message.seq <= this.lastSeq[viewer]!) return void this.duplicates++;
    this.lastSeq[viewer] = message.seq;
    const i = message.random - this.base;
    if (i < 0 || i >= this.count.length) return;
    const now = performance.now();
    if (this.count[i]!++ === 0) this.first[i] = now;
    this.last[i] = now;
    this.total++;
    this.lastReceipt = now;
  }
}

/** Where a run sends and listens: the live room through edge-im, or the bare broadcast. */
interface Room {
  label: string;
  server: RunningServer;
  /** Connects viewer `i`; its receipts go to `receive`. */
  join(i: number, receive: (message: { seq: number; random: number }) => void): Promise<Socket>;
  /** The n-th of the sender's connections (each has its own frame rate). */
  sender(n: number): Promise<Socket>;
  send(sender: Socket, random: number, priority: Priority): Promise<{ dropped: boolean }>;
  usage?(): Promise<LiveUsage>;
  /** Each shard's drops by priority as the room keeps them (edgeim_admin_svc/get_live_room), retired shards included. */
  drops?(): Promise<{ shard: number; sockets: number; dropped: Record<Priority, number> }[]>;
}

interface LiveUsage {
  roomDropped: Record<Priority, number> | null;
  shards: { shard: number; frames: number; calls: number; sockets: number; viewers: number; dropped: Record<Priority, number> }[];
}

const body = (text: string) => [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }];

function liveRoom(server: RunningServer, app: Required<DefaultAppConfig>, groupId: string, owner: string, shards: number): Room {
  const sigs = new Map<string, Promise<string>>();
  const sig = (userId: string) => {
    let s = sigs.get(userId);
    if (!s) sigs.set(userId, (s = generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: userId })));
    return s;
  };
  const ws = server.base.replace("http", "ws");
  const query = (userId: string, device: string) => `sdkappid=${app.sdkAppId}&userid=${userId}&platform=Web&device=${device}`;
  const connect = async (userId: string, device = "main") => {
    const socket = await Socket.open(`${ws}/v1/connect?${query(userId, device)}`);
    await socket.call("login", { userSig: await sig(userId) });
    return socket;
  };
  return {
    label: "edge-im",
    server,
    async join(i, receive) {
      const userId = `v${i}`;
      const device = await connect(userId);
      const joined = (await device.call("joinGroup", { groupID: groupId })) as { live: { shard: number; ticket: string } };
      device.close();
      let sinceAck = 0;
      let live: Socket | undefined;
      const liveQuery = `${query(userId, "live")}&groupid=${encodeURIComponent(groupId)}&shard=${joined.live.shard}&ticket=${encodeURIComponent(joined.live.ticket)}`;
      live = await Socket.open(`${ws}/v1/live?${liveQuery}`, (event, data) => {
        if (event !== "groupMessage") return;
        const message = data.message as { seq: number; random: number };
        receive(message);
        // As the SDK does: the newest MsgSeq processed, after every 64 messages.
        if (++sinceAck >= 64) {
          sinceAck = 0;
          live!.tell("ack", { seq: message.seq });
        }
      });
      await live.call("login", { userSig: await sig(userId) });
      return live;
    },
    sender: (n) => connect(owner, `sender${n}`),
    async send(sender, random, priority) {
      const answer = await sender.call("sendGroupMessage", { groupID: groupId, random, body: body(`live ${random}`), priority });
      return { dropped: answer.dropReason === "MsgFreqCtrl" };
    },
    async drops() {
      const admin = app.admins[0]!;
      const url = `${server.base}/v4/edgeim_admin_svc/get_live_room?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${await sig(admin)}&random=${Math.floor(Math.random() * 2 ** 31)}&contenttype=json`;
      for (let attempt = 1; ; attempt++) {
        const answer = (await (await fetch(url, { method: "POST", body: JSON.stringify({ GroupId: groupId }) })).json()) as {
          ErrorCode: number;
          ShardList?: { Shard: number; Sockets: number; Dropped: Record<Priority, number> }[];
        };
        if (answer.ErrorCode === 0) return answer.ShardList!.map((s) => ({ shard: s.Shard, sockets: s.Sockets, dropped: s.Dropped }));
        if (attempt >= 5) throw new Error(`get_live_room answered ${JSON.stringify(answer).slice(0, 300)}`);
        await sleep(500);
      }
    },
    async usage() {
      // Under load a read can fail (the runtime drops a call now and then): try again.
      for (let attempt = 1; ; attempt++) {
        const response = await fetch(`${server.base}/local/usage`, { method: "POST", body: JSON.stringify({ sdkAppId: app.sdkAppId, live: { groupId, shards } }) });
        if (response.ok) return ((await response.json()) as { live: LiveUsage }).live;
        const problem = `/local/usage answered ${response.status}: ${await response.text()}`;
        if (attempt >= 5) throw new Error(problem);
        await sleep(500);
      }
    },
  };
}

function bareRoom(server: RunningServer): Room {
  const url = (user: string) => `${server.base.replace("http", "ws")}/?user=${user}`;
  return {
    label: "bare",
    server,
    join: (i, receive) => Socket.open(url(`v${i}`), (event, data) => event === "groupMessage" && receive(data.message as { seq: number; random: number })),
    sender: (n) => Socket.open(url(`sender${n}`)),
    async send(sender, random) {
      await sender.call("send", { random, body: body(`bare ${random}`) });
      return { dropped: false };
    },
  };
}

/** How long a phase waits, after its last send, for receipts still on their way. */
const drainMs = option("drain-seconds", 60) * 1000;

/**
 * What the shards dropped over a phase, by priority: the room's counts (each shard sends its drops
 * with its count report, within a second) after the phase less those before it.
 */
class DropMeter {
  readonly byPriority: Record<Priority, number> = { High: 0, Normal: 0, Low: 0, Lowest: 0 };
  /** Receipts the drops took: each dropped message times the viewers of its shard. */
  receipts = 0;
  private before = new Map<number, Record<Priority, number>>();
  private readonly room: Room;

  constructor(room: Room) {
    this.room = room;
  }

  async start(): Promise<void> {
    this.before = new Map((await this.room.drops!()).map((s) => [s.shard, s.dropped]));
  }

  async stop(): Promise<this> {
    // The shards' last drops reach the room with their next report.
    await sleep(2_500);
    for (const shard of await this.room.drops!()) {
      for (const p of priorities) {
        const added = shard.dropped[p] - (this.before.get(shard.shard)?.[p] ?? 0);
        this.byPriority[p] += added;
        this.receipts += added * shard.sockets;
      }
    }
    return this;
  }
}

let nextBase = 1_000_000;

/** A phase's receipts: the listeners of every viewer point here while it runs. */
function newReceipts(messages: number): Receipts {
  const receipts = new Receipts(viewerCount, messages, nextBase);
  nextBase += messages + 1;
  return receipts;
}

/** Viewer sockets the server closed during the phases (a slow consumer's 4009, say); none is expected. */
let closedViewers = 0;
let closing = false;

/** Joins every viewer, `rampWidth` at a time: joins/s overall and the slowest second. */
async function ramp(room: Room, current: { receipts?: Receipts }): Promise<{ sockets: Socket[]; seconds: number; joinsPerSec: number; perSecond: number[] }> {
  const sockets: Socket[] = new Array(viewerCount);
  const perSecond: number[] = [];
  closedViewers = 0;
  closing = false;
  let joined = 0;
  let lastJoined = 0;
  const started = performance.now();
  const ticker = setInterval(() => {
    perSecond.push(joined - lastJoined);
    lastJoined = joined;
    if (perSecond.length % 5 === 0) console.log(`${room.label}: ${joined}/${viewerCount} viewers joined after ${perSecond.length} s`);
  }, 1000);
  try {
    await inParallel(
      Array.from({ length: viewerCount }, (_, i) => i),
      rampWidth,
      async (i) => {
        sockets[i] = await room.join(i, (message) => current.receipts?.receive(i, message));
        sockets[i].ws.addEventListener("close", (e) => {
          if (!closing) closedViewers++, console.log(`${room.label}: viewer ${i} closed by the server: ${e.code} ${e.reason}`);
        });
        joined++;
      },
    );
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  const joinsPerSec = round(viewerCount / seconds);
  const spread = perSecond.length > 0 ? ` (per second: min ${Math.min(...perSecond)}, max ${Math.max(...perSecond)})` : "";
  console.log(`${room.label}: ${viewerCount} viewers joined in ${round(seconds)} s: ${joinsPerSec} joins/s${spread}`);
  return { sockets, seconds: round(seconds), joinsPerSec, perSecond };
}

/** Messages one at a time: the time until the first and the last viewer had each. */
async function latency(room: Room, senders: Socket[], current: { receipts?: Receipts }) {
  const receipts = (current.receipts = newReceipts(messageCount));
  const toLast: number[] = [];
  const toFirst: number[] = [];
  let lost = 0;
  for (let i = 0; i < messageCount; i++) {
    receipts.sentAt[i] = performance.now();
    await room.send(senders[i % senders.length]!, receipts.base + i, "Normal");
    const deadline = performance.now() + 10_000;
    while (receipts.count[i]! < viewerCount && performance.now() < deadline) await sleep(2);
    if (receipts.count[i]! < viewerCount) lost += viewerCount - receipts.count[i]!;
    else toLast.push(receipts.last[i]! - receipts.sentAt[i]!);
    toFirst.push(receipts.first[i]! - receipts.sentAt[i]!);
    await sleep(50);
  }
  const last = Float64Array.from(toLast).sort();
  const first = Float64Array.from(toFirst).sort();
  const figures = {
    messages: messageCount,
    toLastP50Ms: round(percentile(last, 50)),
    toLastP99Ms: round(percentile(last, 99)),
    toLastMaxMs: round(percentile(last, 100)),
    toFirstP50Ms: round(percentile(first, 50)),
    lost,
    duplicates: receipts.duplicates,
  };
  console.log(`${room.label}: one message → last of ${viewerCount} viewers: p50 ${figures.toLastP50Ms} ms, p99 ${figures.toLastP99Ms} ms, max ${figures.toLastMaxMs} ms (first: p50 ${figures.toFirstP50Ms} ms); lost ${lost}, duplicates ${receipts.duplicates}`);
  return figures;
}

/** `rate` messages/s for `seconds`, priorities as `priorityOf` says; what arrived, and what the room refused. */
async function stream(room: Room, senders: Socket[], current: { receipts?: Receipts }, rate: number, seconds: number, priorityOf: (i: number) => Priority) {
  const count = Math.round(rate * seconds);
  const receipts = (current.receipts = newReceipts(count));
  const refused: Record<Priority, number> = { High: 0, Normal: 0, Low: 0, Lowest: 0 };
  const admitted: boolean[] = new Array(count).fill(false);
  const started = performance.now();
  const answers: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const priority = priorityOf(i);
    receipts.priority[i] = priority;
    receipts.sentAt[i] = performance.now();
    answers.push(
      room.send(senders[i % senders.length]!, receipts.base + i, priority).then(({ dropped }) => {
        if (dropped) refused[priority]++;
        else admitted[i] = true;
      }),
    );
  }
  await Promise.all(answers);
  const sentSeconds = (performance.now() - started) / 1000;
  const expected = admitted.filter(Boolean).length * viewerCount;
  const drainUntil = performance.now() + drainMs;
  while (receipts.total < expected && performance.now() < drainUntil) await sleep(50);
  await sleep(300);
  return { count, receipts, refused, admitted, expected, started, sentSeconds };
}

async function sustained(room: Room, senders: Socket[], current: { receipts?: Receipts }) {
  const meter = room.drops ? new DropMeter(room) : undefined;
  await meter?.start();
  const run = await stream(room, senders, current, sustainedRate, sustainedSeconds, () => "Normal");
  await meter?.stop();
  const delivered = run.receipts.total;
  const figures = {
    rate: sustainedRate,
    seconds: sustainedSeconds,
    sent: run.count,
    achievedRatePerSec: round(run.count / run.sentSeconds),
    admitted: run.admitted.filter(Boolean).length,
    deliveries: delivered,
    deliveriesPerSec: round(delivered / ((run.receipts.lastReceipt - run.started) / 1000)),
    drainedSeconds: round((run.receipts.lastReceipt - run.started) / 1000),
    missing: run.expected - delivered,
    droppedByShards: meter ? meter.byPriority : null,
    /** Missing receipts the shards' drops do not account for: lost. */
    lost: run.expected - delivered - (meter?.receipts ?? 0),
    duplicates: run.receipts.duplicates,
  };
  console.log(
    `${room.label}: ${figures.rate} messages/s for ${figures.seconds} s to ${viewerCount} viewers: ${figures.deliveriesPerSec} deliveries/s ` +
      `(the last ${figures.drainedSeconds} s after the first send), missing ${figures.missing}, duplicates ${figures.duplicates}` +
      (figures.droppedByShards ? `; messages dropped by the shards (behind their budget) ${JSON.stringify(figures.droppedByShards)}; lost beyond those ${figures.lost}` : ""),
  );
  return figures;
}

async function overload(room: Room, senders: Socket[], current: { receipts?: Receipts }) {
  const meter = new DropMeter(room);
  await meter.start();
  const run = await stream(room, senders, current, overloadRate, overloadSeconds, (i) => priorities[i % priorities.length]!);
  await meter.stop();
  const shardDropped = meter.byPriority;
  let highLost = 0;
  for (let i = 0; i < run.count; i++) if (run.receipts.priority[i] === "High") highLost += viewerCount - run.receipts.count[i]!;
  const figures = {
    rate: overloadRate,
    seconds: overloadSeconds,
    sent: run.count,
    sentByPriority: Object.fromEntries(priorities.map((p) => [p, run.receipts.priority.filter((x) => x === p).length])),
    refusedByRoom: run.refused,
    droppedByShards: shardDropped,
    highLost,
    deliveries: run.receipts.total,
    missing: run.expected - run.receipts.total,
    lost: run.expected - run.receipts.total - meter.receipts,
  };
  console.log(
    `${room.label}: overload ${overloadRate}/s: the room refused ${JSON.stringify(run.refused)}, the shards dropped ${JSON.stringify(shardDropped)}; ` +
      `High receipts missing: ${highLost}; receipts lost beyond the drops: ${figures.lost}`,
  );
  return figures;
}

/** The sender's connections: a connection takes 100 frames/s, and the overload sends more. */
const senderCount = 4;
const openSenders = (room: Room) => Promise.all(Array.from({ length: senderCount }, (_, n) => room.sender(n)));

/** The bare broadcast: ramp, latency, sustained and memory with the same audience. */
async function bareRun() {
  const server = await startServer({ wranglerConfig: join(repoRoot, "bench", "broadcast", "wrangler.toml") });
  const room = bareRoom(server);
  const current: { receipts?: Receipts } = {};
  try {
    const rssBefore = serverRssMb(server);
    const joined = await ramp(room, current);
    await sleep(1_000);
    const rssAfter = serverRssMb(server);
    const senders = await openSenders(room);
    const figures = {
      ramp: { seconds: joined.seconds, joinsPerSec: joined.joinsPerSec },
      latency: await latency(room, senders, current),
      sustained: await sustained(room, senders, current),
      memory: { rssBeforeMb: round(rssBefore), rssAfterMb: round(rssAfter), kbPerSocket: round(((rssAfter - rssBefore) * 1024) / viewerCount) },
    };
    console.log(`bare: server memory ${figures.memory.rssBeforeMb} MB → ${figures.memory.rssAfterMb} MB: ${figures.memory.kbPerSocket} KB per socket`);
    closing = true;
    for (const s of [...joined.sockets, ...senders]) s?.close();
    return { ...figures, closedViewers };
  } finally {
    await server.stop();
  }
}

async function liveRun() {
  const { server, app } = await startServerWithOwnKey();
  const current: { receipts?: Receipts } = {};
  try {
    const admin = app.admins[0]!;
    const adminSig = generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
    const rest = async (path: string, payload: unknown) => {
      for (;;) {
        const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${await adminSig}&random=${Math.floor(Math.random() * 2 ** 31)}&contenttype=json`;
        const answer = (await (await fetch(url, { method: "POST", body: JSON.stringify(payload) })).json()) as Record<string, unknown>;
        if (answer.ErrorCode === 0) return answer;
        if (answer.ErrorCode !== 60007) throw new Error(`${path}: ${JSON.stringify(answer).slice(0, 300)}`);
        await sleep(50);
      }
    };
    const owner = "live_owner";
    const ids = [owner, ...Array.from({ length: viewerCount }, (_, i) => `v${i}`)];
    await inParallel(
      Array.from({ length: Math.ceil(ids.length / 100) }, (_, i) => ids.slice(i * 100, (i + 1) * 100)),
      4,
      async (batch) => void (await rest("im_open_login_svc/multiaccount_import", { Accounts: batch })),
    );
    const shardSize = Math.ceil(viewerCount / shardTarget);
    await rest("edgeim_admin_svc/set_live_settings", { ShardSize: shardSize, TipsUpTo: 0, UnackedLimit: 1_024 });
    const groupId = "bench_live";
    await rest("group_open_http_svc/create_group", { Type: "AVChatRoom", Name: "bench live", GroupId: groupId, Owner_Account: owner });
    console.log(`edge-im: ${ids.length} accounts, a live room with shards of ${shardSize} (${shardTarget} shards for ${viewerCount} viewers)`);

    const room = liveRoom(server, app, groupId, owner, shardTarget + 1);
    const rssBefore = serverRssMb(server);
    const joined = await ramp(room, current);
    await sleep(1_500);
    const rssAfter = serverRssMb(server);
    const usage = await room.usage!();
    const shards = usage.shards.filter((s) => s.sockets > 0);
    console.log(`edge-im: shards ${shards.map((s) => `${s.shard}: ${s.sockets} sockets`).join(", ")}`);
    const online = await rest("group_open_http_svc/get_online_member_num", { GroupId: groupId });
    const senders = await openSenders(room);

    const beforeLatency = await room.usage!();
    const latencyFigures = await latency(room, senders, current);
    const afterLatency = await room.usage!();
    const sum = (u: LiveUsage, field: "calls" | "frames") => u.shards.reduce((n, s) => n + s[field], 0);
    const perMessage = {
      shardCalls: round((sum(afterLatency, "calls") - sum(beforeLatency, "calls")) / messageCount, 2),
      ackFrames: round((sum(afterLatency, "frames") - sum(beforeLatency, "frames")) / messageCount, 2),
    };
    console.log(`edge-im: per message ${perMessage.shardCalls} shard calls and ${perMessage.ackFrames} ack frames into the shards`);
    const sustainedFigures = await sustained(room, senders, current);
    const overloadFigures = await overload(room, senders, current);
    const figures = {
      shardSize,
      shards: shards.map((s) => ({ shard: s.shard, sockets: s.sockets })),
      onlineMemberNum: online.OnlineMemberNum,
      ramp: { seconds: joined.seconds, joinsPerSec: joined.joinsPerSec, perSecond: joined.perSecond },
      latency: latencyFigures,
      sustained: sustainedFigures,
      memory: { rssBeforeMb: round(rssBefore), rssAfterMb: round(rssAfter), kbPerSocket: round(((rssAfter - rssBefore) * 1024) / viewerCount) },
      overload: overloadFigures,
      perMessage,
    };
    console.log(`edge-im: server memory ${figures.memory.rssBeforeMb} MB → ${figures.memory.rssAfterMb} MB: ${figures.memory.kbPerSocket} KB per viewer`);
    closing = true;
    for (const s of [...joined.sockets, ...senders]) s?.close();
    return { ...figures, closedViewers };
  } finally {
    if (process.env.BENCH_SERVER_LOG) writeFileSync(process.env.BENCH_SERVER_LOG, server.output());
    await server.stop();
  }
}

async function main(): Promise<void> {
  console.log(`live benchmark: ${viewerCount} viewers (open-file limit ${fileLimit}), ${shardTarget} shards`);
  const result: Record<string, unknown> = {
    options: { viewers: viewerCount, fileLimit, shards: shardTarget, rampWidth, messages: messageCount, sustainedRate, sustainedSeconds, overloadRate, overloadSeconds },
  };
  const bare = flag("skip-baseline") ? undefined : await bareRun();
  if (bare) result.bare = bare;
  const live = await liveRun();
  result.live = live;
  if (bare) {
    const ratio = { toLastP50: round(live.latency.toLastP50Ms / bare.latency.toLastP50Ms, 2), toLastP99: round(live.latency.toLastP99Ms / bare.latency.toLastP99Ms, 2) };
    result.ratio = { ...ratio, targetMet: ratio.toLastP50 <= 1.5 && ratio.toLastP99 <= 1.5 };
    console.log(`time to the last viewer, edge-im over one bare Durable Object: p50 ×${ratio.toLastP50}, p99 ×${ratio.toLastP99} (target ≤ 1.5)`);
  }
  console.log(JSON.stringify(result));
}

await main();
