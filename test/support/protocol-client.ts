/** A test client speaking the gateway protocol (docs/PROTOCOL.md) over any standard WebSocket. */
import type { EventFrame, ResponseFrame } from "../../src/domain/protocol.ts";

export class ProtocolClient {
  readonly events: EventFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  private nextId = 1;
  private waiting = new Map<number | string, (frame: ResponseFrame) => void>();
  private listeners = new Set<() => void>();
  readonly responses: ResponseFrame[] = [];
  loginResponse?: ResponseFrame;

  readonly ws: WebSocket;
  readonly userId: string;
  private static open = new Set<ProtocolClient>();

  /** Closes every client still open and waits until the server has seen each close. */
  static async closeAll(): Promise<void> {
    const clients = [...ProtocolClient.open];
    ProtocolClient.open.clear();
    for (const client of clients) client.close();
    await Promise.all(clients.map((c) => c.waitForClose().catch(() => undefined)));
  }

  constructor(ws: WebSocket, userId: string) {
    this.ws = ws;
    this.userId = userId;
    ProtocolClient.open.add(this);
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(e.data as string) as ResponseFrame | EventFrame;
      if ("event" in frame) this.events.push(frame);
      else {
        this.responses.push(frame);
        const resolve = frame.id !== null ? this.waiting.get(frame.id) : undefined;
        if (resolve) {
          this.waiting.delete(frame.id!);
          resolve(frame);
        }
      }
      this.notify();
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      this.notify();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Sends a request and resolves with its response frame. */
  request(op: string, data?: unknown): Promise<ResponseFrame> {
    const id = this.nextId++;
    const answer = new Promise<ResponseFrame>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(JSON.stringify({ id, op, data }));
    return this.withTimeout(answer, `response to ${op}`);
  }

  /** Sends a request and returns its data, failing on an error code. */
  async call<T = Record<string, unknown>>(op: string, data?: unknown): Promise<T> {
    const response = await this.request(op, data);
    if (response.code !== 0) throw new Error(`${op} failed: ${response.code} ${response.message}`);
    return response.data as T;
  }

  sendRaw(text: string | ArrayBuffer): void {
    this.ws.send(text);
  }

  /** Waits until `predicate` holds, re-checking on every frame or close. */
  until<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    return this.withTimeout(
      new Promise<T>((resolve) => {
        const check = () => {
          const value = predicate();
          if (value) {
            this.listeners.delete(check);
            resolve(value);
          }
        };
        this.listeners.add(check);
        check();
      }),
      what,
      timeoutMs,
    );
  }

  eventsOf<T = Record<string, unknown>>(kind: string): T[] {
    return this.events.filter((e) => e.event === kind).map((e) => e.data as T);
  }

  waitForEvents<T = Record<string, unknown>>(kind: string, count: number, timeoutMs = 5000): Promise<T[]> {
    return this.until(() => this.eventsOf<T>(kind).length >= count && this.eventsOf<T>(kind), `${count} ${kind} events for ${this.userId}`, timeoutMs);
  }

  waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed ?? undefined, `close of ${this.userId}'s socket`, timeoutMs);
  }

  close(): void {
    try {
      this.ws.close(1000, "bye");
    } catch {
      // already closed
    }
  }

  private withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
    return Promise.race([
      promise,
      new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)),
    ]);
  }
}

export const text = (t: string) => [{ MsgType: "TIMTextElem" as const, MsgContent: { Text: t } }];

let random = 1;
/** A MsgRandom unique within the run. */
export function aRandom(): number {
  return (Date.now() % 1_000_000) * 1000 + (random++ % 1000);
}
