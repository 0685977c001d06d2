/**
 * One WebSocket connection's frames: parsing, the per-connection rate limit,
 * the login gate and dispatch of ops to the user's actor. Knows nothing of
 * storage; the actor that holds the socket implements SessionHost.
 */
import { z } from "zod";
import { ErrorCode, ImError, type Outcome } from "../domain/errors.ts";
import { maxFrameBytes, OpData, RequestFrame, type EventFrame, type OpName, type ResponseFrame } from "../domain/protocol.ts";
import { takeToken, type TokenBucket } from "../domain/rateLimit.ts";

/** Close codes the gateway uses (4000–4999 are the application's). */
export const CloseCode = {
  loginFailed: 4001,
  loginRequired: 4002,
  kickedOut: 4003,
  userSigExpired: 4004,
  rateLimited: 4008,
  frameTooLarge: 1009,
  loggedOut: 1000,
} as const;

export interface SessionHost {
  /** Whether this socket has logged in. */
  isLoggedIn(ws: WebSocket): boolean;
  /** Unix seconds when the socket's UserSig expires. */
  sigExpiresAt(ws: WebSocket): number;
  frameRate(ws: WebSocket): Promise<number>;
  login(ws: WebSocket, data: z.infer<(typeof OpData)["login"]>): Promise<Outcome<unknown>>;
  runOp(ws: WebSocket, op: Exclude<OpName, "login">, data: unknown): Promise<Outcome<unknown>>;
}

export function send(ws: WebSocket, frame: ResponseFrame | EventFrame): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // The socket closed meanwhile; the client will sync on reconnect.
  }
}

export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

function reply(ws: WebSocket, id: ResponseFrame["id"], outcome: Outcome<unknown>): void {
  if (outcome.ok) send(ws, { id, code: 0, message: "", data: outcome.value ?? {} });
  else send(ws, { id, code: outcome.code, message: outcome.info });
}

function fail(ws: WebSocket, id: ResponseFrame["id"], code: number, message: string): void {
  send(ws, { id, code, message });
}

interface Throttle {
  bucket?: TokenBucket;
  /** Frames refused in a row; past a second's worth the connection is closed. */
  refused: number;
}

const throttles = new WeakMap<WebSocket, Throttle>();

/** Handles one incoming frame. Never throws: every problem becomes an error frame or a close. */
export async function handleFrame(host: SessionHost, ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
  if (typeof raw !== "string") return fail(ws, null, ErrorCode.invalidParameter, "frames are JSON text; binary frames are not accepted");
  if (raw.length > maxFrameBytes) {
    fail(ws, null, ErrorCode.invalidParameter, `a frame may be at most ${maxFrameBytes} bytes`);
    return closeSocket(ws, CloseCode.frameTooLarge, "frame too large");
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fail(ws, null, ErrorCode.invalidParameter, "the frame is not JSON");
  }
  const frame = RequestFrame.safeParse(json);
  if (!frame.success) {
    const id = (json as { id?: unknown })?.id;
    return fail(ws, typeof id === "number" || typeof id === "string" ? id : null, ErrorCode.invalidParameter, `the frame is not a request: ${describe(frame.error)}`);
  }
  const { id, op } = frame.data;
  if (!(await admit(host, ws, id))) return;
  if (!Object.hasOwn(OpData, op)) return fail(ws, id, ErrorCode.badUrl, `unknown op "${op}"`);
  const data = OpData[op as OpName].safeParse(frame.data.data);
  if (!data.success) return fail(ws, id, ErrorCode.invalidParameter, `${op}: ${describe(data.error)}`);

  if (!host.isLoggedIn(ws)) {
    if (op !== "login") {
      fail(ws, id, ErrorCode.notLoggedIn, "log in first: the first frame must be the login op");
      return closeSocket(ws, CloseCode.loginRequired, "login required");
    }
    const outcome = await host.login(ws, data.data as z.infer<(typeof OpData)["login"]>);
    reply(ws, id, outcome);
    if (!outcome.ok) closeSocket(ws, CloseCode.loginFailed, "login failed");
    return;
  }
  if (op === "login") return fail(ws, id, ErrorCode.invalidParameter, "this connection is already logged in");
  if (Date.now() / 1000 > host.sigExpiresAt(ws)) {
    send(ws, { event: "userSigExpired", data: {} });
    return closeSocket(ws, CloseCode.userSigExpired, "UserSig expired");
  }
  try {
    reply(ws, id, await host.runOp(ws, op as Exclude<OpName, "login">, data.data));
  } catch (error) {
    console.error(JSON.stringify({ event: "ws_internal_error", op, message: String((error as Error)?.stack ?? error) }));
    fail(ws, id, error instanceof ImError ? error.code : ErrorCode.messageServiceInternal, "internal error; the request may be retried");
  }
}

/**
 * The per-connection rate limit: a refused request is answered 60007 with its
 * id, so the client may retry it; a second's worth refused in a row closes.
 */
async function admit(host: SessionHost, ws: WebSocket, id: ResponseFrame["id"]): Promise<boolean> {
  const limit = await host.frameRate(ws);
  const throttle = throttles.get(ws) ?? { refused: 0 };
  throttles.set(ws, throttle);
  const { allowed, bucket } = takeToken(throttle.bucket, limit, Date.now());
  throttle.bucket = bucket;
  if (allowed) {
    throttle.refused = 0;
    return true;
  }
  throttle.refused++;
  if (throttle.refused > limit) closeSocket(ws, CloseCode.rateLimited, "too many frames");
  else fail(ws, id, ErrorCode.restRateLimited, `at most ${limit} frames per second; slow down or be disconnected`);
  return false;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
