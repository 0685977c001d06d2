/**
 * Third-party callbacks in Tencent IM's format: the app's configuration, the request (URL,
 * signature, body) and how a before-callback's answer decides the action. Pure: the HTTP call
 * is `callbacks/send.ts`.
 */
import { z } from "zod";
import { MsgBody, type C2CMessage } from "./message.ts";

/** Why a callback URL cannot be used, or null when it can. `ownHost` is the worker's host, when known. */
export function callbackUrlProblem(url: string, ownHost?: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "the callback URL is not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "the callback URL must be http or https";
  if (parsed.username || parsed.password) return "the callback URL must not carry credentials";
  // A callback into the worker itself would call back again for its own request: a loop.
  if (ownHost !== undefined && reachesHost(parsed, ownHost)) return "the callback URL points at this server (a loop)";
  return null;
}

/**
 * Whether `url` reaches the server known as `ownHost` (a request's Host: name and optional port),
 * whatever the spelling: case, a trailing dot, and for a loopback server any loopback name or
 * address on its port. A named server is the same whatever the port: its platform may answer on
 * several. A DNS name that resolves to the server cannot be told without resolving it.
 */
function reachesHost(url: URL, ownHost: string): boolean {
  let own: URL;
  try {
    own = new URL(`${url.protocol}//${ownHost}`);
  } catch {
    return false;
  }
  const name = (u: URL) => u.hostname.toLowerCase().replace(/\.$/, "");
  const ownPorts = own.port ? [Number(own.port)] : [80, 443];
  if (isLoopback(name(own))) return isLoopback(name(url)) && ownPorts.includes(portOf(url));
  return name(url) === name(own);
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname.endsWith(".localhost") ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname) ||
    hostname === "0.0.0.0" ||
    hostname === "[::1]" ||
    hostname === "[::]" ||
    // ::ffff:127.x.y.z, as the URL parser writes it
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(hostname)
  );
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

export const CallbackSettings = z.object({
  url: z.string().superRefine((url, ctx) => {
    const problem = callbackUrlProblem(url);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  /** The commands sent ("C2C.CallbackBeforeSendMsg", …), or "*" for all. */
  commands: z.union([z.literal("*"), z.array(z.string())]).default([]),
  /** Signs each request (Sign, RequestTime) when set. */
  token: z.string().min(1).optional(),
  /** How long a before-callback may take; the action never waits longer. */
  timeoutMs: z.number().int().min(100).max(10_000).default(2_000),
  /** What a before-callback that times out or answers badly means: the action proceeds, or is refused with 80003. */
  onTimeout: z.enum(["proceed", "refuse"]).default("proceed"),
});
export type CallbackSettings = z.infer<typeof CallbackSettings>;

/** Whether the app sends `command`. */
export function callbackEnabled<S extends Pick<CallbackSettings, "commands">>(settings: S | undefined, command: string): settings is S {
  if (!settings) return false;
  return settings.commands === "*" || settings.commands.includes(command);
}

/**
 * The default app's callbacks from configuration (IM_CALLBACK_URL, IM_CALLBACK_COMMANDS,
 * IM_CALLBACK_TOKEN): none without a URL; an error message when the URL cannot be used.
 */
export function callbacksFromConfig(vars: { url?: string; commands?: string; token?: string }): { settings?: CallbackSettings; error?: string } {
  const url = vars.url?.trim();
  if (!url) return {};
  const list = (vars.commands ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const parsed = CallbackSettings.safeParse({
    url,
    commands: list.length === 1 && list[0] === "*" ? "*" : list,
    ...(vars.token ? { token: vars.token } : {}),
  });
  if (!parsed.success) return { error: `IM_CALLBACK_URL: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  return { settings: parsed.data };
}

/** The codes a before-callback's answer leads to. */
export const CallbackCode = {
  /** The backend refused a one-to-one message (its answer's ErrorCode 1). */
  c2cRefused: 20006,
  /** The backend refused a group action. */
  groupRefused: 10016,
  /** The callback timed out or answered badly and the app refuses in that case. */
  callbackFailed: 80003,
} as const;

/** Codes a backend may choose itself; they reach the sender as they are. */
const ownCodes = { c2c: [120_001, 130_000], group: [10_100, 10_200] } as const;

const optPlatforms = ["RESTAPI", "Web", "Android", "iOS", "Windows", "Mac", "iPad", "Unknown"] as const;
export type OptPlatform = (typeof optPlatforms)[number];

/** A sender's platform as callbacks name it; anything else is "Unknown". */
export function optPlatform(platform: string | undefined): OptPlatform {
  return optPlatforms.find((p) => p === platform) ?? "Unknown";
}

export interface CallbackRequest {
  sdkAppId: number;
  command: string;
  /** The acting client's IP address; empty when unknown. */
  clientIp?: string;
  platform: OptPlatform;
  token?: string;
  /** When the request is made (ms). */
  now: number;
}

/** `{url}?SdkAppid=&CallbackCommand=&contenttype=json&ClientIP=&OptPlatform=` (+ `Sign`, `RequestTime` with a token). */
export async function callbackRequestUrl(url: string, request: CallbackRequest): Promise<string> {
  const target = new URL(url);
  const query = target.searchParams;
  query.append("SdkAppid", String(request.sdkAppId));
  query.append("CallbackCommand", request.command);
  query.append("contenttype", "json");
  query.append("ClientIP", request.clientIp ?? "");
  query.append("OptPlatform", request.platform);
  if (request.token !== undefined) {
    const requestTime = Math.floor(request.now / 1000);
    query.append("Sign", await callbackSign(request.token, requestTime));
    query.append("RequestTime", String(requestTime));
  }
  return target.toString();
}

/** Tencent's signature: hex sha256(token + RequestTime), RequestTime in unix seconds. */
export async function callbackSign(token: string, requestTime: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${token}${requestTime}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The JSON body: the command, the event's time (ms) and the event's own fields. */
export function callbackBody(command: string, eventTime: number, fields: Record<string, unknown>): Record<string, unknown> {
  return { CallbackCommand: command, EventTime: eventTime, ...fields };
}

/** What a before-callback decided. */
export type BeforeDecision =
  | { kind: "allow"; body?: MsgBody; cloudCustomData?: string }
  | { kind: "refuse"; code: number; info: string }
  /** The sender is told of success; nobody receives the message. */
  | { kind: "drop" };

const Answer = z.object({
  ActionStatus: z.string().optional(),
  ErrorCode: z.number().int(),
  ErrorInfo: z.string().optional(),
  MsgBody: z.unknown().optional(),
  CloudCustomData: z.string().optional(),
});

/**
 * Reads a BeforeSendMsg answer: ErrorCode 0 allows (with any rewritten MsgBody and
 * CloudCustomData), 1 refuses with 20006 (10016 for groups), 2 drops, a code of the backend's own
 * range refuses with that code. Any other answer is a failure, with its reason.
 */
export function readBeforeSendAnswer(answer: unknown, scope: "c2c" | "group"): { decision: BeforeDecision } | { failure: string } {
  const parsed = Answer.safeParse(answer);
  if (!parsed.success) return { failure: "the answer has no numeric ErrorCode" };
  const { ErrorCode: code, ErrorInfo: info } = parsed.data;
  const refusedCode = scope === "c2c" ? CallbackCode.c2cRefused : CallbackCode.groupRefused;
  const [low, high] = ownCodes[scope];
  const reason = (info ?? "").slice(0, 200) || "refused by the app's backend";
  if (code === 2) return { decision: { kind: "drop" } };
  if (code === 1) return { decision: { kind: "refuse", code: refusedCode, info: reason } };
  if (code >= low && code <= high) return { decision: { kind: "refuse", code, info: reason } };
  if (code !== 0) return { failure: `the answer's ErrorCode ${code} is not 0, 1, 2 or within ${low}–${high}` };
  const decision: BeforeDecision = { kind: "allow" };
  if (parsed.data.MsgBody !== undefined) {
    const body = MsgBody.safeParse(parsed.data.MsgBody);
    if (!body.success) return { failure: "the answer's MsgBody is not a message body" };
    decision.body = body.data;
  }
  if (parsed.data.CloudCustomData !== undefined) decision.cloudCustomData = parsed.data.CloudCustomData;
  return { decision };
}

/** What a before-callback that failed (timeout, error, bad answer) means under the app's policy. */
export function decisionOnFailure(settings: Pick<CallbackSettings, "onTimeout">, reason: string): BeforeDecision {
  if (settings.onTimeout === "proceed") return { kind: "allow" };
  return { kind: "refuse", code: CallbackCode.callbackFailed, info: `the app's callback failed: ${reason}` };
}

export const C2CCallback = {
  beforeSendMsg: "C2C.CallbackBeforeSendMsg",
  afterSendMsg: "C2C.CallbackAfterSendMsg",
  afterMsgReport: "C2C.CallbackAfterMsgReport",
  afterMsgWithDraw: "C2C.CallbackAfterMsgWithDraw",
} as const;

/** The message fields C2C.CallbackBeforeSendMsg and AfterSendMsg share. */
export function c2cSendMsgFields(message: C2CMessage, onlineOnly: boolean): Record<string, unknown> {
  return {
    From_Account: message.from,
    To_Account: message.to,
    MsgSeq: message.msgSeq,
    MsgRandom: message.random,
    MsgTime: message.time,
    MsgKey: message.key,
    OnlineOnlyFlag: onlineOnly ? 1 : 0,
    MsgBody: message.body,
    CloudCustomData: message.cloudCustomData ?? "",
  };
}

/**
 * C2C.CallbackAfterSendMsg: the message as stored (after any rewrite), that it was sent (Tencent's
 * ErrorInfo then reads "send msg succeed"), and UnreadMsgNum, the recipient's unread count over
 * all its one-to-one conversations.
 */
export function c2cAfterSendMsgFields(message: C2CMessage, onlineOnly: boolean, recipientUnread: number): Record<string, unknown> {
  return { ...c2cSendMsgFields(message, onlineOnly), SendMsgResult: 0, ErrorInfo: "send msg succeed", UnreadMsgNum: recipientUnread };
}

/** The codes a recipient refuses a message with: blocked (20007), not friends (20009–20011). */
const deliveryRefusals: readonly number[] = [20_007, 20_009, 20_010, 20_011];

/** Whether a send that failed with `code` was refused by its recipient, which C2C.CallbackAfterSendMsg reports. */
export function isDeliveryRefusal(code: number): boolean {
  return deliveryRefusals.includes(code);
}

/**
 * C2C.CallbackAfterSendMsg for a message its recipient refused: SendMsgResult is the send's error
 * code, ErrorInfo its reason, and UnreadMsgNum -1, as Tencent reports a message not delivered
 * (its field table gives -1 for a failed send; its example shows only a success).
 */
export function c2cSendFailedFields(message: C2CMessage, onlineOnly: boolean, failure: { code: number; info: string }): Record<string, unknown> {
  return { ...c2cSendMsgFields(message, onlineOnly), SendMsgResult: failure.code, ErrorInfo: failure.info, UnreadMsgNum: -1 };
}

/** C2C.CallbackAfterMsgWithDraw: UnreadMsgNum is the recipient's unread count over all its one-to-one conversations. */
export function c2cMsgWithdrawFields(from: string, to: string, key: string, recipientUnread: number): Record<string, unknown> {
  return { From_Account: from, To_Account: to, MsgKey: key, UnreadMsgNum: recipientUnread };
}

/** C2C.CallbackAfterMsgReport: `reporter` read `peer`'s messages up to `lastReadTime` (unix seconds); `unread` is what it has left unread over all its one-to-one conversations. */
export function c2cMsgReportFields(reporter: string, peer: string, lastReadTime: number, unread: number): Record<string, unknown> {
  return { Report_Account: reporter, Peer_Account: peer, LastReadTime: lastReadTime, UnreadMsgNum: unread };
}
