/**
 * `npm run bench:c2c`: one-to-one throughput and latency of edge-im against a
 * bare Durable Object relay, both under `wrangler dev` (tracing off) on fresh
 * state. Prints figures as it goes; the last line is one JSON object:
 *
 *   relayMaxPerSec     bare relay: delivered messages/s with every pair's window full
 *   maxPerSec          edge-im: the same
 *   fractionOfRelay    maxPerSec / relayMaxPerSec
 *   halfRatePerSec     the paced rate of the latency run (half of maxPerSec)
 *   p50Ms, p99Ms, maxMs  send → deliver latency at that rate
 *   lost               messages acknowledged but never delivered (both runs)
 *   doRequestsPerMessage   Durable Object invocations per acknowledged message, both sides:
 *                          WebSocket frames plus calls (RPC, fetch, alarm, socket events)
 *   doFramesPerMessage, doCallsPerMessage  the two parts of that sum (Cloudflare bills a
 *                          WebSocket frame at 1/20 of a request)
 *   rowsWrittenPerMessage  SQLite rows written per acknowledged message, index entries included,
 *                          both sides
 *   The last three are measured over both edge-im runs by the server's own counters
 *   (POST /local/usage, src/demo/usage.ts), read just before the first send and after the
 *   last delivery, so connecting and logging in are left out.
 *
 * Options: --pairs N (16), --window N (4), --seconds N (8).
 */
import { join } from "node:path";
import { repoRoot, startServer, startServerWithOwnKey, type RunningServer } from "../scripts/dev-server.ts";
import { generateUserSig } from "../src/domain/usersig.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const pairs = option("pairs", 16);
const windowSize = option("window", 4);
const seconds = option("seconds", 8);

interface Connection {
  /** Resolves when the server acknowledges the send. */
  send(to: string, id: number): Promise<void>;
  onDeliver(listener: (id: number) => void): void;
  close(): void;
}

/** What the server counted for a set of users' actors (edge-im only). */
interface Usage {
  frames: number;
  calls: number;
  rowsWritten: number;
}

interface Target {
  name: string;
  connect(user: string): Promise<Connection>;
  usage?(users: string[]): Promise<Usage>;
}

async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  return ws;
}

/** Request/response over one socket: frames with ids, and events. */
function framed(ws: WebSocket, onEvent: (frame: { event: string; data: never }) => void) {
  let nextId = 1;
  const waiting = new Map<number, (frame: { code: number }) => void>();
  ws.addEventListener("message", (e) => {
    const frame = JSON.parse(e.data as string);
    if (frame.event) onEvent(frame);
    else waiting.get(frame.id)?.(frame), waiting.delete(frame.id);
  });
  return (payload: Record<string, unknown>) =>
    new Promise<{ code: number }>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, ...payload }));
    });
}

function edgeIm(server: RunningServer, sdkAppId: number, secretKey: string): Target {
  return {
    name: "edge-im",
    async connect(user) {
      const ws = await openSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${sdkAppId}&userid=${user}&platform=Web&device=bench`);
      const listeners: ((id: number) => void)[] = [];
      const request = framed(ws, (frame) => {
        if (frame.event === "message") {
          const data = frame.data as { message: { flow: string; random: number } };
          if (data.message.flow === "in") for (const l of listeners) l(data.message.random);
        }
      });
      const login = await request({ op: "login", data: { userSig: await generateUserSig({ sdkAppId, secretKey, identifier: user }) } });
      if (login.code !== 0) throw new Error(`login failed: ${JSON.stringify(login)}`);
      return {
        async send(to, id) {
          for (;;) {
            const answer = await request({ op: "sendMessage", data: { to, random: id, body: [{ MsgType: "TIMTextElem", MsgContent: { Text: `benchmark message ${id}` } }] } });
            if (answer.code === 0) return;
            if (answer.code !== 60007) throw new Error(`send failed: ${JSON.stringify(answer)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        onDeliver: (listener) => void listeners.push(listener),
        close: () => ws.close(),
      };
    },
    async usage(users) {
      const response = await fetch(`${server.base}/local/usage`, { method: "POST", body: JSON.stringify({ sdkAppId, users }) });
      if (!response.ok) throw new Error(`/local/usage answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as Usage;
    },
  };
}

function relay(server: RunningServer): Target {
  return {
    name: "bare relay",
    async connect(user) {
      const ws = await openSocket(`${server.base.replace("http", "ws")}/?user=${user}`);
      const listeners: ((id: number) => void)[] = [];
      const request = framed(ws, (frame) => {
        const data = frame.data as { body: string };
        for (const l of listeners) l(Number(data.body.slice("benchmark message ".length)));
      });
      return {
        async send(to, id) {
          await request({ to, from: user, body: `benchmark message ${id}` });
        },
        onDeliver: (listener) => void listeners.push(listener),
        close: () => ws.close(),
      };
    },
  };
}

interface Run {
  delivered: number;
  acked: number;
  lost: number;
  seconds: number;
  latencies: number[];
  /** The server's counts for this run's users, from the first send to the last delivery. */
  usage?: Usage;
}

let nextMessageId = 1;

/**
 * Drives `pairs` sender→receiver pairs for `seconds`. With `ratePerSec`
 * unset each sender keeps `windowSize` sends in flight; otherwise it paces
 * its share of that rate.
 */
async function drive(target: Target, tag: string, ratePerSec?: number): Promise<Run> {
  const sentAt = new Map<number, number>();
  const delivered = new Set<number>();
  const latencies: number[] = [];
  let acked = 0;
  const senders: Connection[] = [];
  const receivers: Connection[] = [];
  const users = Array.from({ length: pairs }, (_, p) => [`bench_${tag}_s${p}`, `bench_${tag}_r${p}`]).flat();
  for (let p = 0; p < pairs; p++) {
    senders.push(await target.connect(`bench_${tag}_s${p}`));
    const receiver = await target.connect(`bench_${tag}_r${p}`);
    receiver.onDeliver((id) => {
      const at = sentAt.get(id);
      if (at === undefined || delivered.has(id)) return;
      delivered.add(id);
      latencies.push(performance.now() - at);
    });
    receivers.push(receiver);
  }
  const usageBefore = await target.usage?.(users);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const send = async (p: number) => {
    const id = nextMessageId++;
    sentAt.set(id, performance.now());
    await senders[p]!.send(`bench_${tag}_r${p}`, id);
    acked++;
  };
  const lanes: Promise<void>[] = [];
  for (let p = 0; p < pairs; p++) {
    if (ratePerSec === undefined) {
      for (let w = 0; w < windowSize; w++) {
        lanes.push((async () => {
          while (performance.now() < deadline) await send(p);
        })());
      }
    } else {
      const interval = (1000 * pairs) / ratePerSec;
      lanes.push((async () => {
        const pending: Promise<void>[] = [];
        for (let next = started + (interval * p) / pairs; next < deadline; next += interval) {
          const wait = next - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          pending.push(send(p));
        }
        await Promise.all(pending);
      })());
    }
  }
  await Promise.all(lanes);
  const elapsed = (performance.now() - started) / 1000;
  const drainUntil = performance.now() + 5000;
  while (delivered.size < acked && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  const usageAfter = await target.usage?.(users);
  for (const c of [...senders, ...receivers]) c.close();
  const run: Run = { delivered: delivered.size, acked, lost: acked - delivered.size, seconds: elapsed, latencies };
  if (usageBefore && usageAfter) {
    run.usage = { frames: usageAfter.frames - usageBefore.frames, calls: usageAfter.calls - usageBefore.calls, rowsWritten: usageAfter.rowsWritten - usageBefore.rowsWritten };
  }
  return run;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function importAccounts(server: RunningServer, sdkAppId: number, secretKey: string, admin: string, users: string[]): Promise<void> {
  const userSig = await generateUserSig({ sdkAppId, secretKey, identifier: admin });
  for (let i = 0; i < users.length; i += 100) {
    const url = `${server.base}/v4/im_open_login_svc/multiaccount_import?sdkappid=${sdkAppId}&identifier=${admin}&usersig=${userSig}&random=1&contenttype=json`;
    const answer = (await (await fetch(url, { method: "POST", body: JSON.stringify({ Accounts: users.slice(i, i + 100) }) })).json()) as { ErrorCode: number };
    if (answer.ErrorCode !== 0) throw new Error(`import failed: ${JSON.stringify(answer)}`);
  }
}

async function main(): Promise<void> {
  console.log(`c2c benchmark: ${pairs} pairs, window ${windowSize}, ${seconds} s per run`);

  const relayServer = await startServer({ wranglerConfig: join(repoRoot, "bench", "relay", "wrangler.toml") });
  let relayRun: Run;
  try {
    await drive(relay(relayServer), "warm", undefined);
    relayRun = await drive(relay(relayServer), "max");
  } finally {
    await relayServer.stop();
  }
  const relayMax = relayRun.delivered / relayRun.seconds;
  console.log(`bare relay: ${round(relayMax)} messages/s delivered, lost ${relayRun.lost}, p50 ${round(percentile(relayRun.latencies, 50))} ms`);

  const { server, app } = await startServerWithOwnKey();
  let maxRun: Run;
  let halfRun: Run;
  let halfRate: number;
  try {
    const users = ["warm", "max", "half"].flatMap((tag) => Array.from({ length: pairs }, (_, p) => [`bench_${tag}_s${p}`, `bench_${tag}_r${p}`]).flat());
    await importAccounts(server, app.sdkAppId, app.secretKey, app.admins[0]!, users);
    const target = edgeIm(server, app.sdkAppId, app.secretKey);
    await drive(target, "warm", undefined);
    maxRun = await drive(target, "max");
    const max = maxRun.delivered / maxRun.seconds;
    console.log(`edge-im max: ${round(max)} messages/s delivered, lost ${maxRun.lost}, p50 ${round(percentile(maxRun.latencies, 50))} ms, p99 ${round(percentile(maxRun.latencies, 99))} ms`);
    halfRate = max / 2;
    halfRun = await drive(target, "half", halfRate);
  } finally {
    await server.stop();
  }
  const max = maxRun.delivered / maxRun.seconds;
  const acked = maxRun.acked + halfRun.acked;
  const perMessage = (count: (u: Usage) => number) => round((count(maxRun.usage!) + count(halfRun.usage!)) / acked, 2);
  const result = {
    pairs,
    window: windowSize,
    seconds,
    relayMaxPerSec: round(relayMax),
    maxPerSec: round(max),
    fractionOfRelay: round(max / relayMax, 2),
    halfRatePerSec: round(halfRate),
    achievedHalfRatePerSec: round(halfRun.delivered / halfRun.seconds),
    p50Ms: round(percentile(halfRun.latencies, 50)),
    p99Ms: round(percentile(halfRun.latencies, 99)),
    maxMs: round(Math.max(...halfRun.latencies)),
    lost: maxRun.lost + halfRun.lost,
    doRequestsPerMessage: perMessage((u) => u.frames + u.calls),
    doFramesPerMessage: perMessage((u) => u.frames),
    doCallsPerMessage: perMessage((u) => u.calls),
    rowsWrittenPerMessage: perMessage((u) => u.rowsWritten),
  };
  console.log(`edge-im at half rate (${result.halfRatePerSec}/s): p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms, lost ${halfRun.lost}`);
  console.log(
    `edge-im per message, measured: ${result.doRequestsPerMessage} Durable Object invocations (${result.doFramesPerMessage} frames, ${result.doCallsPerMessage} calls), ${result.rowsWrittenPerMessage} SQLite rows written`,
  );
  console.log(JSON.stringify(result));
}

await main();
