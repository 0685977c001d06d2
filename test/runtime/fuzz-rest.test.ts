/**
 * Property-based tests of the REST door: generated paths, query strings and bodies for every
 * command answer in Tencent's envelope, never with a 5xx, never with an internal-error code,
 * never late, and a refused call changes nothing.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Command } from "../../src/rest/command.ts";
import { everyCommand } from "../../src/rest/commands.ts";
import {
  hostileBodyText,
  hostileString,
  hostileValue,
  nearValid,
  objectOf,
  otherTypeThan,
  pathName,
  preview,
  prototypeObject,
  toJsonText,
  validValue,
  withDeepMessageBody,
} from "../support/arbitraries.ts";
import { fcOptions, fuzzWorld, internalErrorCodes, runs, timeLimit, within, type FuzzWorld } from "./fuzz.ts";

/**
 * Every command the door answers, read from the command table so a new one is fuzzed too, but
 * edge-im's own administration of the app (a generated CallbackUrl would make later generated
 * sends call arbitrary addresses, a generated status or key rotation would lock the fuzzer out)
 * and the app's sensitive words (a generated word would refuse later generated messages with
 * 80001, so they would no longer be fuzzed). Those commands have their own tests.
 */
const commands = everyCommand()
  .filter(({ service }) => service !== "edgeim_admin_svc" && service !== "openim_dirty_words")
  .map(({ service, name, command }) => ({ path: `${service}/${name}`, command }));
const services = Object.fromEntries(commands.map(({ path }) => [path.split("/")[0]!, true]));

const requestTimeoutMs = 10_000;

interface Answer {
  status: number;
  text: string;
}

let world: FuzzWorld;
let adminSig: string;

beforeAll(async () => {
  world = await fuzzWorld();
  adminSig = await world.app.sig();
}, 30_000);

function goodQuery(): [string, string][] {
  return [
    ["sdkappid", String(world.app.sdkAppId)],
    ["identifier", world.app.admin],
    ["usersig", adminSig],
    ["random", "12345"],
    ["contenttype", "json"],
  ];
}

/** Percent-encodes as a hostile client would: a lone surrogate goes out as its three (invalid UTF-8) bytes. */
function encode(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const lone = c >= 0xd800 && c <= 0xdfff;
    out += lone ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("") : encodeURIComponent(ch);
  }
  return out;
}

const encodeQuery = (params: [string, string][]) => params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");

/**
 * Requests still running: a property stopped by its time limit leaves its last request behind, and
 * its writes must not be taken for the next call's.
 */
const inFlight = new Map<Promise<unknown>, string>();

async function send(pathAndQuery: string, body: string | Uint8Array | undefined, method = "POST"): Promise<Answer> {
  const what = `${method} ${preview(pathAndQuery, 200)} ${body === undefined ? "" : preview(body, 200)}`;
  const request = (async () => {
    const response = await SELF.fetch(`https://im.example${pathAndQuery}`, {
      method,
      body: method === "GET" || method === "HEAD" ? undefined : body,
      headers: { "content-type": "application/json" },
    });
    return { status: response.status, text: await response.text() };
  })();
  // Any request may change state: a snapshot kept from before it no longer stands.
  unchangedSince = undefined;
  inFlight.set(request, what);
  void request.finally(() => inFlight.delete(request)).catch(() => undefined);
  return within(request, requestTimeoutMs, what);
}

/**
 * The state once what earlier accepted calls set going has landed (two snapshots alike, 20 ms
 * apart): only the refused call's own effects may count against it.
 */
async function steadySnapshot(): Promise<unknown> {
  let last = await world.snapshot();
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await world.snapshot();
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

/** Waits for requests left running; returns whether there were any. */
async function settled(): Promise<boolean> {
  if (inFlight.size === 0) return false;
  // A request that never answers fails the property here, naming itself, instead of hanging the run.
  await within(Promise.allSettled([...inFlight.keys()]), 2 * requestTimeoutMs, `requests still unanswered: ${[...inFlight.values()].join(" | ")}`);
  return true;
}

const call = (path: string, body: unknown) => send(`/v4/${path}?${encodeQuery(goodQuery())}`, toJsonText(body));

interface Envelope {
  ActionStatus: "OK" | "FAIL";
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

/** The answer is HTTP 200 in Tencent's envelope, with no internal-error code; returns the envelope. */
function envelopeOf(answer: Answer, what: string): Envelope {
  const context = `${what} → HTTP ${answer.status} ${preview(answer.text, 300)}`;
  expect(answer.status, context).toBe(200);
  let body: Envelope;
  try {
    body = JSON.parse(answer.text) as Envelope;
  } catch {
    throw new Error(`not JSON: ${context}`);
  }
  expect(["OK", "FAIL"], context).toContain(body.ActionStatus);
  expect(typeof body.ErrorCode, context).toBe("number");
  expect(typeof body.ErrorInfo, context).toBe("string");
  expect(body.ActionStatus === "OK", context).toBe(body.ErrorCode === 0);
  expect(internalErrorCodes.has(body.ErrorCode), `internal error code ${body.ErrorCode}: ${context}`).toBe(false);
  return body;
}

/** The state after the last call, when that call was refused (and so is also the state before the next). */
let unchangedSince: unknown;

/** Runs one call and checks the envelope; a refused call must leave the app's data as it was. */
async function callLeavesNoTrace(path: string, what: string, run: () => Promise<Answer>): Promise<Envelope> {
  if (await settled()) unchangedSince = undefined;
  const before = unchangedSince ?? (await steadySnapshot());
  unchangedSince = undefined;
  const envelope = envelopeOf(await run(), `${path} ${what}`);
  if (envelope.ActionStatus === "FAIL") {
    const after = await world.snapshot();
    expect(after, `state changed by a refused ${path} (${envelope.ErrorCode} ${envelope.ErrorInfo}): ${what}`).toEqual(before);
    unchangedSince = after;
  }
  return envelope;
}

const validBodies = new Map<string, fc.Arbitrary<unknown>>();
function validBodyFor(path: string, command: Command): fc.Arbitrary<unknown> {
  if (!validBodies.has(path)) validBodies.set(path, validValue(command.body, world.hints));
  return validBodies.get(path)!;
}

/** The top-level field names a command's body has. */
function fieldsOf(command: Command): string[] {
  const schema = z.toJSONSchema(command.body, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, unknown> };
  return Object.keys(schema.properties ?? {});
}

const aCommand = () => fc.constantFrom(...commands);

describe("REST fuzz: every command", () => {
  it("has a generator for valid bodies", () => {
    expect(commands.length).toBeGreaterThanOrEqual(31);
    for (const { path, command } of commands) expect(() => fc.sample(validBodyFor(path, command), 5), path).not.toThrow();
  });

  const validRuns = runs(400);
  it(
    "answers valid bodies in the envelope, and a refused one changes nothing",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          aCommand().chain(({ path, command }) => validBodyFor(path, command).map((body) => ({ path, body }))),
          async ({ path, body }) => {
            await callLeavesNoTrace(path, preview(body), () => call(path, body));
          },
        ),
        fcOptions(validRuns),
      );
    },
    timeLimit(validRuns, 60),
  );

  const nearRuns = runs(400);
  it(
    "answers bodies with one field wrong in the envelope, and a refused one changes nothing",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          aCommand().chain(({ path, command }) => nearValid(validBodyFor(path, command)).map((near) => ({ path, near }))),
          async ({ path, near }) => {
            await callLeavesNoTrace(path, `${near.change} at ${pathName(near.path) || "(body)"}: ${preview(near.body)}`, () => call(path, near.body));
          },
        ),
        fcOptions(nearRuns),
      );
    },
    timeLimit(nearRuns, 60),
  );

  const hostileRuns = runs(400);
  it(
    "answers hostile bodies in the envelope, and a refused one changes nothing",
    async () => {
      const hostileBody = (fields: string[], valid: fc.Arbitrary<unknown>) =>
        fc.oneof(
          hostileBodyText.map((raw) => ({ raw })),
          hostileValue.map((value) => ({ raw: toJsonText(value) })),
          prototypeObject.map((value) => ({ raw: toJsonText(value) })),
          valid.chain(withDeepMessageBody).map((value) => ({ raw: toJsonText(value) })),
          fc
            .uniqueArray(fc.oneof(fc.constantFrom(...fields, "Identifier", "__proto__", "constructor"), hostileString), { minLength: 1, maxLength: 6 })
            .chain((keys) => fc.tuple(...keys.map((k) => hostileValue.map((v) => [k, v] as [string, unknown]))))
            .map((entries) => ({ raw: toJsonText(objectOf(entries)) })),
        );
      await fc.assert(
        fc.asyncProperty(
          aCommand().chain(({ path, command }) => hostileBody(fieldsOf(command), validBodyFor(path, command)).map((body) => ({ path, body }))),
          async ({ path, body }) => {
            await callLeavesNoTrace(path, preview(body.raw), () => send(`/v4/${path}?${encodeQuery(goodQuery())}`, body.raw));
          },
        ),
        fcOptions(hostileRuns),
      );
    },
    timeLimit(hostileRuns, 60),
  );

  const typeRuns = runs(300);
  it(
    "names a field that is present with the wrong type as wrong, not as missing",
    async () => {
      const wrongTopField = aCommand().chain(({ path, command }) =>
        validBodyFor(path, command)
          .filter((body) => typeof body === "object" && body !== null && Object.keys(body).length > 0)
          .chain((body) =>
            fc
              .constantFrom(...Object.keys(body as object))
              .chain((field) => otherTypeThan((body as Record<string, unknown>)[field]).map((value) => ({ path, field, body: { ...(body as object), [field]: value } }))),
          ),
      );
      await fc.assert(
        fc.asyncProperty(wrongTopField, async ({ path, field, body }) => {
          const envelope = envelopeOf(await call(path, body), `${path} ${preview(body)}`);
          if (envelope.ActionStatus === "FAIL") expect(envelope.ErrorInfo, `${path} ${field}=${preview((body as Record<string, unknown>)[field])}`).not.toMatch(new RegExp(`^${field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is required`));
        }),
        fcOptions(typeRuns),
      );
    },
    timeLimit(typeRuns, 40),
  );
});

describe("REST fuzz: URLs and methods", () => {
  /** Path segments: real names, near misses, odd and malformed percent-encoding. */
  const segment = fc.oneof(
    fc.constantFrom(...Object.keys(services), ...commands.map((c) => c.path.split("/")[1]!)),
    fc.constantFrom("", "__proto__", "constructor", "prototype", "hasOwnProperty", "OPENIM", "sendmsg ", "%", "%zz", "%E0%A4%A", "%00", "%2F", "..", ".", "%2e%2e"),
    hostileString.filter((s) => s.length < 200).map(encode),
  );
  const path = fc.oneof(
    aCommand().map((c) => `/v4/${c.path}`),
    fc.array(segment, { minLength: 0, maxLength: 4 }).map((segments) => `/v4/${segments.join("/")}`),
    fc.tuple(aCommand(), fc.constantFrom("/", "//", "/extra", "?", "#frag")).map(([c, tail]) => `/v4/${c.path}${tail}`),
    aCommand().map((c) => `/v4//${c.path}`),
  );

  type Params = [string, string][];
  /** A change to the signed query, printed in counterexamples by what it does. */
  const change = (describe: string, apply: (q: Params) => Params) => Object.assign(apply, { [fc.toStringMethod]: () => describe });
  const queryChange = fc.oneof(
    fc.constant(change("as signed", (q) => q)),
    fc.nat({ max: 4 }).map((i) => change(`without parameter ${i}`, (q) => q.filter((_, j) => j !== i))),
    fc.tuple(fc.nat({ max: 4 }), fc.oneof(hostileString, fc.constantFrom("0", "-1", "0x53724E00", "1e3", "1400000000.0", " 1400000000", "4294967296", "１４００"))).map(([i, value]) =>
      change(`parameter ${i} = ${JSON.stringify(preview(value, 80))}`, (q) => q.map(([k, v], j) => [k, j === i ? value : v] as [string, string])),
    ),
    fc.tuple(fc.nat({ max: 4 }), hostileString).map(([i, value]) => change(`parameter ${i} again, = ${JSON.stringify(preview(value, 80))}`, (q) => [...q, [q[i]![0], value] as [string, string]])),
    fc.nat({ max: 4 }).map((i) => change(`parameter ${i}'s name in upper case`, (q) => q.map(([k, v], j) => [j === i ? k.toUpperCase() : k, v] as [string, string]))),
    fc.constantFrom("__proto__", "constructor", "toString").map((k) => change(`with ${k}=x`, (q) => [...q, [k, "x"] as [string, string]])),
  );
  const rawQuery = fc.oneof(
    { weight: 5, arbitrary: queryChange.map((c) => Object.assign(() => encodeQuery(c(goodQuery())), { [fc.toStringMethod]: () => `query ${fc.stringify(c)}` })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom("", "&&&", "=", "sdkappid", "sdkappid=%", "sdkappid=%E0%A4%A&identifier=%", `${"a=1&".repeat(2000)}`)
        .map((q) => Object.assign(() => q, { [fc.toStringMethod]: () => `query ${JSON.stringify(preview(q, 80))}` })),
    },
  );
  const method = fc.oneof({ weight: 6, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") });

  const urlRuns = runs(400);
  it(
    "answers any /v4/ URL and method in the envelope, and a refused call changes nothing",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            path,
            query: rawQuery,
            method,
            body: aCommand().chain(({ path, command }) => validBodyFor(path, command)),
          }),
          async ({ path, query, method, body }) => {
            const pathAndQuery = `${path}?${query()}`;
            const answer = () => send(pathAndQuery, toJsonText(body), method);
            // Dot segments ("..", "%2e%2e") are resolved by the URL parser: such a request may never reach /v4.
            if (method === "HEAD" || !new URL(pathAndQuery, "https://im.example").pathname.startsWith("/v4")) {
              // HEAD has no body to carry the envelope, and other doors answer elsewhere; neither may fail.
              const head = await answer();
              expect(head.status, `HEAD ${pathAndQuery}`).toBeLessThan(500);
              return;
            }
            await callLeavesNoTrace(path, `${method} ${preview(pathAndQuery, 200)}`, answer);
          },
        ),
        fcOptions(urlRuns),
      );
    },
    timeLimit(urlRuns, 60),
  );

});
