/**
 * Property-based tests of the WebSocket door: generated frames for every op, before and after
 * login, valid, with one thing wrong, and hostile. Every request frame gets exactly one response
 * with a numeric code (id echoed when the server could read one), or the socket closes with a
 * code docs/PROTOCOL.md documents; never silence, never an internal error.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { maxFrameBytes, OpData, type OpName } from "../../src/domain/protocol.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { deepRelayBody, hostileString, hostileValue, nearValid, oddStrings, preview, prototypeObject, toJsonText, validValue } from "../support/arbitraries.ts";
import { documentedCloseCodes, fcOptions, fuzzWorld, internalErrorCodes, runs, timeLimit, within, type FuzzWorld } from "./fuzz.ts";

/** How long a frame may go unanswered before it counts as silence. */
const answerTimeoutMs = 3_000;

/** One frame as sent: text or binary, and how it is shown in a counterexample. */
interface Frame {
  raw: string | Uint8Array;
  [fc.toStringMethod](): string;
}

function frame(raw: string | Uint8Array): Frame {
  return { raw, [fc.toStringMethod]: () => (typeof raw === "string" ? `text ${JSON.stringify(preview(raw, 200))}` : `binary <${raw.length} bytes>`) };
}

const bytesOf = (text: string) => new TextEncoder().encode(text).length;

/** The id the server must echo for this frame: the id it can read, or null. */
function expectedId(f: Frame): string {
  if (typeof f.raw !== "string" || bytesOf(f.raw) > maxFrameBytes) return "null";
  let json: unknown;
  try {
    json = JSON.parse(f.raw);
  } catch {
    return "null";
  }
  const id = (json as { id?: unknown } | null)?.id;
  return typeof id === "number" || typeof id === "string" ? JSON.stringify(id) : "null";
}

/** A socket speaking the protocol, recording everything the server sends. */
class Probe {
  readonly responses: { id: string; code: unknown; message: unknown }[] = [];
  /** Server frames that are neither a response nor an event (all but "pong" are wrong). */
  readonly strays: string[] = [];
  closed: { code: number; reason: string } | null = null;
  private listeners = new Set<() => void>();
  private static open = new Set<Probe>();
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
    Probe.open.add(this);
    ws.addEventListener("message", (e) => {
      const text = typeof e.data === "string" ? e.data : "<binary>";
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        this.strays.push(text);
      }
      if (parsed !== null && typeof parsed === "object" && "event" in parsed) {
        // events are pushed; nothing to match
      } else if (parsed !== null && typeof parsed === "object" && "id" in parsed) {
        const r = parsed as { id: unknown; code: unknown; message: unknown };
        this.responses.push({ id: JSON.stringify(r.id), code: r.code, message: r.message });
      } else if (parsed !== undefined) this.strays.push(text);
      this.notify();
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      Probe.open.delete(this);
      this.notify();
    });
  }

  static async closeAll(): Promise<void> {
    const probes = [...Probe.open];
    for (const p of probes) p.close();
    await Promise.all(probes.map((p) => p.until(() => p.closed !== null, 2_000)));
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  send(f: Frame): void {
    if (this.closed) return;
    try {
      this.ws.send(f.raw);
    } catch {
      // closed meanwhile; the close is recorded by the listener
    }
  }

  /** Resolves true once `predicate` holds, false after `ms`. */
  until(predicate: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        resolve(false);
      }, ms);
      this.listeners.add(check);
      check();
    });
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      // already closed
    }
  }
}

let world: FuzzWorld;
const sigs = new Map<string, string>();
/** Internal-error log lines the worker wrote during a case. */
const internalLogs: string[] = [];

beforeAll(async () => {
  world = await fuzzWorld();
  for (const u of world.users) sigs.set(u, await world.app.sig(u));
  sigs.set("expired", await generateUserSig({ sdkAppId: world.app.sdkAppId, secretKey: world.app.secretKey, identifier: world.users[0]!, expireSeconds: 10, now: 1_600_000_000 }));
  for (const method of ["log", "error", "warn"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const line = args.map(String).join(" ");
      if (/ws_internal_error|rest_internal_error|worker_error|Uncaught/.test(line)) internalLogs.push(line);
      original(...args);
    });
  }
}, 30_000);

afterEach(() => Probe.closeAll());
afterAll(() => vi.restoreAllMocks());

let connectCounter = 0;

async function connect(query: string): Promise<{ status: number; text: string; probe?: Probe }> {
  const response = await within(SELF.fetch(`https://im.example/v1/connect?${query}`, { headers: { Upgrade: "websocket" } }), 10_000, `connect ${query}`);
  const ws = response.webSocket;
  if (!ws) return { status: response.status, text: await response.text() };
  ws.accept();
  return { status: response.status, text: "", probe: new Probe(ws) };
}

/** A connection of `user`, on a device of its own so it never kicks another. */
async function connectAs(user: string): Promise<Probe> {
  const query = new URLSearchParams({ sdkappid: String(world.app.sdkAppId), userid: user, platform: "Web", device: `fuzz-${connectCounter++}` });
  const { probe, status, text } = await connect(query.toString());
  if (!probe) throw new Error(`no WebSocket for ${user}: ${status} ${text}`);
  return probe;
}

let sentinelCounter = 0;

/**
 * Sends `frames` back to back and checks the protocol's promise: each is answered exactly
 * once with a numeric code (its id echoed, or null), or the socket closes with a documented code.
 */
async function sendAndCheck(probe: Probe, frames: Frame[]): Promise<void> {
  const what = frames.map((f) => f[fc.toStringMethod]()).join(" | ");
  const start = probe.responses.length;
  const strays = probe.strays.length;
  internalLogs.length = 0;
  const wanted = new Map<string, number>();
  for (const f of frames) {
    if (f.raw === "ping") continue;
    wanted.set(expectedId(f), (wanted.get(expectedId(f)) ?? 0) + 1);
  }
  for (const f of frames) probe.send(f);
  const received = () => {
    const counts = new Map<string, number>();
    for (const r of probe.responses.slice(start)) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    return counts;
  };
  const allAnswered = () => [...wanted].every(([id, n]) => (received().get(id) ?? 0) >= n);
  const oversize = frames.find((f) => typeof f.raw === "string" && bytesOf(f.raw) > maxFrameBytes);
  const answered = await probe.until(() => probe.closed !== null || allAnswered(), answerTimeoutMs);
  if (oversize) {
    await probe.until(() => probe.closed !== null, answerTimeoutMs);
    const bytes = bytesOf(oversize.raw as string);
    // An earlier frame may have closed the connection first (a failed login, a frame before login).
    const expected = oversize === frames[0] ? [1009] : [...documentedCloseCodes];
    expect(expected, `a ${bytes}-byte frame (${(oversize.raw as string).length} UTF-16 units) must close with 1009; got ${JSON.stringify(probe.responses.slice(start))}`).toContain(probe.closed?.code);
  }
  expect(answered, `silence: no answer and no close within ${answerTimeoutMs} ms after ${what}; got ${JSON.stringify(probe.responses.slice(start))}`).toBe(true);

  if (!probe.closed) {
    // A request after them flushes any duplicate answer before counting.
    const sentinel = `sentinel-${sentinelCounter++}`;
    probe.send(frame(JSON.stringify({ id: sentinel, op: "getTotalUnread" })));
    wanted.set(JSON.stringify(sentinel), 1);
    const flushed = await probe.until(() => probe.closed !== null || (received().get(JSON.stringify(sentinel)) ?? 0) >= 1, answerTimeoutMs);
    expect(flushed, `silence: the request after ${what} got no answer`).toBe(true);
  }

  const counts = received();
  for (const [id, n] of counts) {
    const expected = wanted.get(id) ?? 0;
    if (probe.closed) expect(n, `${n} answers with id ${id} (at most ${expected} expected) after ${what}`).toBeLessThanOrEqual(expected);
    else expect(n, `${n} answers with id ${id} (${expected} expected) after ${what}`).toBe(expected);
  }
  for (const r of probe.responses.slice(start)) {
    expect(typeof r.code, `answer without a numeric code after ${what}: ${JSON.stringify(r)}`).toBe("number");
    expect(typeof r.message, `answer without a message after ${what}: ${JSON.stringify(r)}`).toBe("string");
    expect(internalErrorCodes.has(r.code as number), `internal error ${r.code} "${r.message}" after ${what}`).toBe(false);
  }
  expect(probe.strays.slice(strays).filter((s) => s !== "pong"), `frames that are not JSON responses or events after ${what}`).toEqual([]);
  if (probe.closed) expect(documentedCloseCodes.has(probe.closed.code), `undocumented close ${JSON.stringify(probe.closed)} after ${what}`).toBe(true);
  expect(internalLogs, `the worker logged an internal error after ${what}`).toEqual([]);
}

// ---------------------------------------------------------------- frames

const ops = Object.keys(OpData) as OpName[];

/** `data` for a login: this user's UserSig, another's, an expired one, or garbage. */
const loginData = (user: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant({ userSig: sigs.get(user)! }) },
    { weight: 1, arbitrary: fc.constantFrom(...world.users.filter((u) => u !== user)).map((u) => ({ userSig: sigs.get(u)! })) },
    { weight: 1, arbitrary: fc.constant({ userSig: sigs.get("expired")! }) },
    { weight: 1, arbitrary: hostileString.map((userSig) => ({ userSig })) },
  );

const validData = new Map<OpName, fc.Arbitrary<unknown>>();
function validDataFor(op: OpName, user: string): fc.Arbitrary<unknown> {
  if (op === "login") return loginData(user);
  if (!validData.has(op)) validData.set(op, validValue(OpData[op], world.hints));
  return validData.get(op)!;
}

const anId = fc.oneof(fc.nat({ max: 1_000_000 }), fc.string({ minLength: 1, maxLength: 64, unit: "grapheme-ascii" }));

const request = (id: unknown, op: unknown, data: unknown) => frame(toJsonText(data === undefined ? { id, op } : { id, op, data }));

/** A frame the schema accepts, for any op. */
const validFrame = (user: string) => fc.constantFrom(...ops).chain((op) => fc.tuple(anId, validDataFor(op, user)).map(([id, data]) => request(id, op, data)));

/** A frame with one thing wrong: in its data, its id or its op. */
const nearValidFrame = (user: string) =>
  fc.constantFrom(...ops).chain((op) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(anId, nearValid(validDataFor(op, user))).map(([id, near]) => request(id, op, near.body)) },
      { weight: 1, arbitrary: fc.tuple(hostileValue, validDataFor(op, user)).map(([id, data]) => request(id, op, data)) },
      {
        weight: 1,
        arbitrary: fc.tuple(anId, fc.oneof(fc.constantFrom(op.toUpperCase(), `${op} `, "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", ""), hostileValue), validDataFor(op, user)).map(([id, badOp, data]) => request(id, badOp, data)),
      },
      { weight: 1, arbitrary: fc.tuple(anId, validDataFor(op, user)).map(([id, data]) => frame(toJsonText({ op, data, ...{ ident: id } }))) },
    ),
  );

/** Frames no client should send. */
const hostileFrame = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...oddStrings, "PING", "ping ", "pong", "{", "[]", "null", "1", '"x"', "{}", '{"id":1}', '{"op":"login"}').map(frame) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 80 }).filter((s) => s !== "ping").map(frame) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map(frame) },
  { weight: 2, arbitrary: fc.tuple(anId, fc.constantFrom(...ops), hostileValue).map(([id, op, data]) => request(id, op, data)) },
  { weight: 1, arbitrary: fc.tuple(anId, fc.constantFrom<OpName>("sendMessage", "modifyMessage"), deepRelayBody).map(([id, op, body]) => request(id, op, { to: "x", peer: "x", key: "1_1_1", random: 1, body })) },
  { weight: 1, arbitrary: fc.tuple(anId, fc.constantFrom(...ops), prototypeObject).map(([id, op, extra]) => frame(toJsonText(Object.assign(extra, { id, op })))) },
  { weight: 1, arbitrary: prototypeObject.map((p) => frame(toJsonText(p))) },
  {
    weight: 1,
    arbitrary: fc
      .record({ id: anId, unit: fc.constantFrom("a", "é", "😀"), bytes: fc.constantFrom(maxFrameBytes - 100, maxFrameBytes + 1, 100_050, 300_000) })
      .map(({ id, unit, bytes }) => frame(toJsonText({ id, op: "getTotalUnread", data: { pad: unit.repeat(Math.ceil(bytes / bytesOf(unit))) } }))),
  },
);

/** One to three frames sent back to back. */
const frames = (one: fc.Arbitrary<Frame>) => fc.array(one, { minLength: 1, maxLength: 3 });

// ---------------------------------------------------------------- properties

describe("WebSocket fuzz: after login", () => {
  let probe: Probe | undefined;
  const loggedIn = async () => {
    if (probe && !probe.closed) return probe;
    probe = await connectAs(world.users[0]!);
    probe.send(frame(JSON.stringify({ id: "login", op: "login", data: { userSig: sigs.get(world.users[0]!)! } })));
    const ok = await probe.until(() => probe!.responses.some((r) => r.id === '"login"'), answerTimeoutMs);
    if (!ok || probe.responses.find((r) => r.id === '"login"')?.code !== 0) throw new Error(`login failed: ${JSON.stringify(probe.responses)}`);
    return probe;
  };
  afterEach(() => {
    probe = undefined;
  });

  for (const [name, arb, ciRuns] of [
    ["valid frames for every op", () => frames(validFrame(world.users[0]!)), 300],
    ["frames with one thing wrong", () => frames(nearValidFrame(world.users[0]!)), 300],
    ["hostile frames", () => frames(fc.oneof(hostileFrame, nearValidFrame(world.users[0]!))), 300],
  ] as const) {
    const n = runs(ciRuns);
    it(
      `answers ${name} exactly once each, or closes with a documented code`,
      async () => {
        await fc.assert(
          fc.asyncProperty(arb(), async (batch) => sendAndCheck(await loggedIn(), batch)),
          fcOptions(n),
        );
      },
      timeLimit(n, 40),
    );
  }
});

describe("WebSocket fuzz: before login", () => {
  const n = runs(250);
  it(
    "answers any first frames exactly once each, or closes with a documented code",
    async () => {
      const user = world.users[1]!;
      await fc.assert(
        fc.asyncProperty(frames(fc.oneof(validFrame(user), nearValidFrame(user), hostileFrame)), async (batch) => {
          const probe = await connectAs(user);
          try {
            await sendAndCheck(probe, batch);
          } finally {
            probe.close();
            await probe.until(() => probe.closed !== null, 2_000);
          }
        }),
        fcOptions(n),
      );
    },
    timeLimit(n, 60),
  );

  it(
    "closes with 1009 after any frame over 64 KiB, counted in bytes",
    async () => {
      const user = world.users[1]!;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom("a", "é", "😀"), fc.integer({ min: maxFrameBytes + 1, max: 3 * maxFrameBytes }), async (unit, bytes) => {
          const probe = await connectAs(user);
          const pad = unit.repeat(Math.ceil(bytes / bytesOf(unit)));
          probe.send(frame(JSON.stringify({ id: 1, op: "login", data: { userSig: sigs.get(user)!, pad } })));
          const closed = await probe.until(() => probe.closed !== null, answerTimeoutMs);
          expect(closed && probe.closed!.code, `a ${bytesOf(pad)}-byte frame of ${JSON.stringify(unit)} (${pad.length} UTF-16 units): ${JSON.stringify(probe.responses)}`).toBe(1009);
        }),
        fcOptions(runs(20)),
      );
    },
    timeLimit(runs(20), 100),
  );
});

describe("WebSocket fuzz: the connect URL", () => {
  const n = runs(150);
  it(
    "refuses a bad URL before the upgrade in JSON, and answers the login on any connection it accepts",
    async () => {
      const apps = () => [String(world.app.sdkAppId), "1400000000"];
      const sdkappid = fc.oneof(
        { weight: 3, arbitrary: fc.constant("fuzz-app") },
        { weight: 1, arbitrary: fc.constantFrom("1400000000", "1234567", "4294967295", "0x53724E00", "1.4e9", "1400000000.0", " 1400000000", "0", "-1", "", "4294967296") },
        { weight: 1, arbitrary: hostileString.filter((s) => s.length < 200) },
      );
      const userid = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...world.users) }, { weight: 1, arbitrary: hostileString.filter((s) => s.length < 200) });
      const platform = fc.oneof(fc.constantFrom("Web", "iOS", "Android", "Windows", undefined), hostileString.filter((s) => s.length < 50));
      const device = fc.oneof(fc.constant(undefined), fc.constantFrom("tab-1", "a".repeat(65), "a b", ""), hostileString.filter((s) => s.length < 80));
      await fc.assert(
        fc.asyncProperty(fc.record({ sdkappid, userid, platform, device }), async (q) => {
          const params = new URLSearchParams();
          const app = q.sdkappid === "fuzz-app" ? String(world.app.sdkAppId) : q.sdkappid;
          params.set("sdkappid", app);
          params.set("userid", q.userid);
          if (q.platform !== undefined) params.set("platform", q.platform);
          if (q.device !== undefined) params.set("device", q.device);
          const { status, text, probe } = await connect(params.toString());
          if (!probe) {
            expect(status, `connect ${params} → ${status} ${text}`).toBeGreaterThanOrEqual(400);
            expect(status, `connect ${params} → ${status} ${text}`).toBeLessThan(500);
            let body: { code?: unknown; message?: unknown } = {};
            expect(() => (body = JSON.parse(text)), `connect ${params} → ${status} ${text}: not JSON`).not.toThrow();
            expect(typeof body.code, `connect ${params} → ${status} ${text}`).toBe("number");
            expect(typeof body.message, `connect ${params} → ${status} ${text}`).toBe("string");
            return;
          }
          try {
            expect(apps(), `connect ${params} was upgraded though ${JSON.stringify(app)} is not an app of this server`).toContain(app);
            const sig = app === String(world.app.sdkAppId) && sigs.has(q.userid) ? sigs.get(q.userid)! : sigs.get(world.users[0]!)!;
            await sendAndCheck(probe, [frame(JSON.stringify({ id: 1, op: "login", data: { userSig: sig } }))]);
          } finally {
            probe.close();
            await probe.until(() => probe.closed !== null, 2_000);
          }
        }),
        fcOptions(n),
      );
    },
    timeLimit(n, 80),
  );
});
