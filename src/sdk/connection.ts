/**
 * One logical connection to the gateway: it logs in, keeps the socket alive,
 * reconnects with exponential backoff and jitter after any drop, and carries
 * requests, holding those made while disconnected until the connection is back
 * or their deadline passes. Knows frames, not chat.
 */
import type { EventFrame, ResponseFrame } from "../domain/protocol.ts";
import { ChatError, SdkErrorCode, TYPES } from "./constants.ts";

export interface ConnectionOptions {
  url: string;
  userSig: string;
  /** Called after every successful login with its answer (first login and each reconnect). */
  onLogin(data: { seq: number; userId: string }, isReconnect: boolean): Promise<void>;
  onEvent(frame: EventFrame): void;
  onNetState(state: string): void;
  /** The connection ended for good (kicked out, UserSig refused or expired, or closed with one of `finalCloseCodes`). */
  onEnd(reason: { type: string; code?: number; message?: string }): void;
  /** Close codes after which the server will not take this connection back (type "closed"); any other close reconnects. */
  finalCloseCodes?: readonly number[];
}

interface Pending {
  frame: string;
  resolve(frame: ResponseFrame): void;
  reject(error: ChatError): void;
  deadline: number;
  sent: boolean;
}

const heartbeatMs = 30_000;
const requestTimeoutMs = 15_000;
const backoffBaseMs = 500;
const backoffMaxMs = 30_000;

export class Connection {
  private ws?: WebSocket;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private ready = false;
  private closedForGood = false;
  private attempt = 0;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private heartbeat?: ReturnType<typeof setInterval>;
  private lastPong = Date.now();
  private loggedInOnce = false;
  private readonly options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.options = options;
  }

  /** Opens the connection; resolves after the first login, rejects if it is refused. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstLogin = { resolve, reject };
      this.open();
    });
  }

  private firstLogin?: { resolve(): void; reject(error: ChatError): void };

  /** Sends a request; while disconnected it waits for the connection until `timeoutMs`. */
  request(op: string, data?: unknown, timeoutMs = requestTimeoutMs): Promise<ResponseFrame> {
    if (this.closedForGood) return Promise.reject(new ChatError(SdkErrorCode.notLoggedIn, "not logged in"));
    const id = this.nextId++;
    return new Promise<ResponseFrame>((resolve, reject) => {
      const entry: Pending = { frame: JSON.stringify({ id, op, data }), resolve, reject, deadline: Date.now() + timeoutMs, sent: false };
      this.pending.set(id, entry);
      this.later(() => this.expire(id), timeoutMs);
      if (this.ready) this.transmit(entry);
    });
  }

  /** Ends the connection on purpose: no reconnect, pending requests fail. */
  stop(): void {
    this.closedForGood = true;
    this.ready = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new ChatError(SdkErrorCode.notLoggedIn, "logged out before the request completed"));
    }
    try {
      this.ws?.close(1000, "logout");
    } catch {
      // already closed
    }
  }

  private later(work: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, ms);
    this.timers.add(timer);
  }

  private expire(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(
      p.sent
        ? new ChatError(SdkErrorCode.timeout, "the server did not answer in time")
        : new ChatError(SdkErrorCode.networkError, "not connected: the request could not be sent in time"),
    );
  }

  private transmit(p: Pending): void {
    try {
      this.ws!.send(p.frame);
      p.sent = true;
    } catch {
      // The socket is closing; the request goes out again after the reconnect.
    }
  }

  private open(): void {
    if (this.closedForGood) return;
    this.options.onNetState(TYPES.NET_STATE_CONNECTING);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url);
    } catch (error) {
      this.fail(new ChatError(SdkErrorCode.invalidParameter, `cannot connect to ${this.options.url}: ${String(error)}`));
      return;
    }
    this.ws = ws;
    let endReason: { type: string; code?: number; message?: string } | undefined;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ id: 0, op: "login", data: { userSig: this.options.userSig } }));
    });
    ws.addEventListener("message", (e) => {
      if (e.data === "pong") {
        this.lastPong = Date.now();
        return;
      }
      let frame: ResponseFrame | EventFrame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if ("event" in frame) {
        if (frame.event === "kickedOut") endReason = kickReason(frame.data);
        else if (frame.event === "userSigExpired") endReason = { type: TYPES.KICKED_OUT_USERSIG_EXPIRED };
        else this.options.onEvent(frame);
        return;
      }
      if (frame.id === 0) {
        void this.loggedIn(frame);
        return;
      }
      const p = typeof frame.id === "number" ? this.pending.get(frame.id) : undefined;
      if (p) {
        this.pending.delete(frame.id as number);
        p.resolve(frame);
      }
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      this.ready = false;
      if (this.heartbeat) clearInterval(this.heartbeat);
      for (const p of this.pending.values()) p.sent = false;
      if (this.closedForGood) return;
      if (endReason || e.code === 4003 || e.code === 4004) {
        this.end(endReason ?? { type: e.code === 4004 ? TYPES.KICKED_OUT_USERSIG_EXPIRED : TYPES.KICKED_OUT_MULT_DEVICE });
        return;
      }
      if (e.code === 4001) return; // the login answer already ended things
      if (this.options.finalCloseCodes?.includes(e.code)) {
        this.end({ type: "closed", code: e.code, message: e.reason });
        return;
      }
      this.options.onNetState(TYPES.NET_STATE_DISCONNECTED);
      this.scheduleReconnect();
    });
  }

  private async loggedIn(frame: ResponseFrame): Promise<void> {
    if (frame.code !== 0) {
      const error = new ChatError(frame.code, frame.message);
      if (this.firstLogin) this.fail(error);
      else this.end({ type: "loginRefused", code: frame.code, message: frame.message });
      return;
    }
    const isReconnect = this.loggedInOnce;
    this.loggedInOnce = true;
    this.attempt = 0;
    this.ready = true;
    this.lastPong = Date.now();
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    for (const p of this.pending.values()) if (!p.sent) this.transmit(p);
    try {
      await this.options.onLogin(frame.data as { seq: number; userId: string }, isReconnect);
    } catch (error) {
      if (this.firstLogin) return this.fail(error instanceof ChatError ? error : new ChatError(SdkErrorCode.networkError, String(error)));
    }
    this.options.onNetState(TYPES.NET_STATE_CONNECTED);
    this.firstLogin?.resolve();
    this.firstLogin = undefined;
  }

  private beat(): void {
    if (Date.now() - this.lastPong > heartbeatMs * 2.5) {
      // No answer to two heartbeats: the connection is dead even if the socket does not know it.
      try {
        this.ws?.close(4000, "heartbeat lost");
      } catch {
        // ignore
      }
      return;
    }
    try {
      this.ws?.send("ping");
    } catch {
      // closing
    }
  }

  private scheduleReconnect(): void {
    const cap = Math.min(backoffMaxMs, backoffBaseMs * 2 ** this.attempt++);
    this.later(() => this.open(), Math.random() * cap);
  }

  private fail(error: ChatError): void {
    this.closedForGood = true;
    this.firstLogin?.reject(error);
    this.firstLogin = undefined;
    this.stop();
  }

  private end(reason: { type: string; code?: number; message?: string }): void {
    this.stop();
    this.options.onEnd(reason);
  }
}

function kickReason(data: unknown): { type: string } {
  const reason = (data as { reason?: string })?.reason;
  if (reason === "kickedByAdmin" || reason === "accountDeleted") return { type: TYPES.KICKED_OUT_REST_API };
  return { type: reason === "sameDeviceLogin" ? TYPES.KICKED_OUT_MULT_ACCOUNT : TYPES.KICKED_OUT_MULT_DEVICE };
}
