/**
 * One WebSocket connection's frames: the per-connection limit, parsing, the
 * login gate and dispatch of ops to the user's actor. Knows nothing of
 * storage; the actor that holds the socket implements SessionHost.
 *
 * Everything up to the op's dispatch is synchronous, so frames reach their op
 * in the order they arrived, even while the actor is still loading.
 */
import { z } from "zod";
import { ErrorCode, ImError, type Outcome } from "../domain/errors.ts";
import { deeperThan, maxJsonDepth } from "../domain/json.ts";
import { admitFrame, exceedsBytes, framesBeforeLogin, newFrameLimit, type FrameLimitState } from "../domain/frameLimit.ts";
import { closeSocket, send } from "../mechanisms/socketHub.ts";
import { maxFrameBytes, OpData, RequestFrame, type OpName, type ResponseFrame } from "../domain/protocol.ts";

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
  /** Frames per second this logged-in socket may send (the app's setting, kept with the socket). */
  frameRate(ws: WebSocket): number;
  login(ws: WebSocket, data: z.infer<(typeof OpData)["login"]>): Promise<Outcome<unknown>>;
  runOp(ws: WebSocket, op: Exclude<OpName, "login">, data: unknown): Promise<Outcome<unknown>>;
}

function reply(ws: WebSocket, id: ResponseFrame["id"], outcome: Outcome<unknown>): void {
  if (outcome.ok) send(ws, { id, code: 0, message: "", data: outcome.value ?? {} });
  else send(ws, { id, code: outcome.code, message: outcome.info });
}

function fail(ws: WebSocket, id: ResponseFrame["id"], code: number, message: string): void {
  send(ws, { id, code, message });
}

interface Connection {
  limit: FrameLimitState;
  /** Frames seen before login. */
  framesBeforeLogin: number;
  loggingIn: boolean;
  closed: boolean;
}

/** In memory only: a connection that hibernates starts afresh, which forgives at most a second. */
const connections = new WeakMap<WebSocket, Connection>();

function connectionOf(ws: WebSocket, now: number): Connection {
  let connection = connections.get(ws);
  if (!connection) {
    connection = { limit: newFrameLimit(now), framesBeforeLogin: 0, loggingIn: false, closed: false };
    connections.set(ws, connection);
  }
  return connection;
}

function cut(ws: WebSocket, connection: Connection, code: number, reason: string): void {
  connection.closed = true;
  closeSocket(ws, code, reason);
}

/** Handles one incoming frame against `ops` (a live connection has its own). Never throws: every problem becomes an error frame or a close. */
export async function handleFrame(host: SessionHost, ws: WebSocket, raw: string | ArrayBuffer, ops: Record<string, z.ZodType> = OpData): Promise<void> {
  const now = Date.now();
  const connection = connectionOf(ws, now);
  // Frames already in flight when the connection was cut are dropped unread.
  if (connection.closed) return;
  let id: ResponseFrame["id"] = null;
  let op = "";
  try {
    const loggedIn = host.isLoggedIn(ws);
    if (!loggedIn && ++connection.framesBeforeLogin > framesBeforeLogin) {
      return cut(ws, connection, CloseCode.loginRequired, "log in first: too many frames before login");
    }
    if (loggedIn) {
      const limit = host.frameRate(ws);
      const verdict = admitFrame(connection.limit, limit, now);
      if (verdict === "close") return cut(ws, connection, CloseCode.rateLimited, "too many frames");
      if (verdict === "refuse") return fail(ws, peekId(raw), ErrorCode.restRateLimited, `at most ${limit} frames per second; slow down or be disconnected`);
    }

    if (typeof raw !== "string") return fail(ws, null, ErrorCode.invalidParameter, "frames are JSON text; binary frames are not accepted");
    if (exceedsBytes(raw, maxFrameBytes)) {
      fail(ws, null, ErrorCode.invalidParameter, `a frame may be at most ${maxFrameBytes} bytes`);
      return cut(ws, connection, CloseCode.frameTooLarge, "frame too large");
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return fail(ws, null, ErrorCode.invalidParameter, "the frame is not JSON");
    }
    const rawId = (json as { id?: unknown } | null)?.id;
    id = typeof rawId === "number" || typeof rawId === "string" ? rawId : null;
    if (deeperThan(json, maxJsonDepth)) return fail(ws, id, ErrorCode.invalidParameter, `a frame may nest at most ${maxJsonDepth} levels deep`);
    const frame = RequestFrame.safeParse(json);
    if (!frame.success) {
      return fail(ws, id, ErrorCode.invalidParameter, `the frame is not a request: ${describe(frame.error)}`);
    }
    ({ id, op } = frame.data);
    if (!Object.hasOwn(ops, op)) return fail(ws, id, ErrorCode.badUrl, `unknown op "${op}"`);
    const data = ops[op]!.safeParse(frame.data.data);
    if (!data.success) return fail(ws, id, ErrorCode.invalidParameter, `${op}: ${describe(data.error)}`);

    if (!loggedIn) {
      if (op !== "login") {
        fail(ws, id, ErrorCode.notLoggedIn, "log in first: the first frame must be the login op");
        return cut(ws, connection, CloseCode.loginRequired, "login required");
      }
      if (connection.loggingIn) return fail(ws, id, ErrorCode.invalidParameter, "a login is already in progress on this connection");
      connection.loggingIn = true;
      const outcome = await host.login(ws, data.data as z.infer<(typeof OpData)["login"]>).finally(() => (connection.loggingIn = false));
      reply(ws, id, outcome);
      if (!outcome.ok) cut(ws, connection, CloseCode.loginFailed, "login failed");
      return;
    }
    if (op === "login") return fail(ws, id, ErrorCode.invalidParameter, "this connection is already logged in");
    if (now / 1000 > host.sigExpiresAt(ws)) {
      send(ws, { event: "userSigExpired", data: {} });
      return cut(ws, connection, CloseCode.userSigExpired, "UserSig expired");
    }
    reply(ws, id, await host.runOp(ws, op as Exclude<OpName, "login">, data.data));
  } catch (error) {
    console.error(JSON.stringify({ event: "ws_internal_error", op, message: String((error as Error)?.stack ?? error) }));
    fail(ws, id, error instanceof ImError ? error.code : ErrorCode.messageServiceInternal, "internal error; the request may be retried");
  }
}

/** A refused frame's id, when it leads the frame as the SDK writes it: read without parsing the frame. */
function peekId(raw: string | ArrayBuffer): ResponseFrame["id"] {
  if (typeof raw !== "string") return null;
  const match = /^\s*\{\s*"id"\s*:\s*(?:(\d{1,15})|"([A-Za-z0-9_.:-]{1,64})")/.exec(raw.slice(0, 100));
  if (!match) return null;
  return match[1] !== undefined ? Number(match[1]) : match[2]!;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
