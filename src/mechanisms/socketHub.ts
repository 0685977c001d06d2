/**
 * The one owner of a Durable Object's hibernating WebSockets: accepts them
 * with tags, keeps each socket's attachment (deserialized once per wake), and
 * finds sockets by tag instead of scanning. User actors use it for a user's
 * devices; group and live-room shards use it for their audiences.
 */
import type { EventFrame, ResponseFrame } from "../domain/protocol.ts";

/** The runtime's limits on a hibernating socket's tags. */
const maxTags = 10;
const maxTagLength = 256;

export class SocketHub<A extends object> {
  private readonly ctx: DurableObjectState;
  /** Attachments are read on every frame; deserializing once per socket and wake is enough. */
  private readonly attachments = new WeakMap<WebSocket, A>();

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx;
  }

  /** Accepts the server side of a new connection, tagged for lookups. */
  accept(ws: WebSocket, attachment: A, tags: string[] = []): void {
    if (tags.length > maxTags) throw new Error(`a socket takes at most ${maxTags} tags, not ${tags.length}`);
    const long = tags.find((tag) => new TextEncoder().encode(tag).length > maxTagLength);
    if (long !== undefined) throw new Error(`a socket's tag is at most ${maxTagLength} bytes: "${long.slice(0, 40)}…"`);
    this.ctx.acceptWebSocket(ws, tags);
    this.attach(ws, attachment);
  }

  attachment(ws: WebSocket): A {
    let attachment = this.attachments.get(ws);
    if (!attachment) {
      attachment = ws.deserializeAttachment() as A;
      this.attachments.set(ws, attachment);
    }
    return attachment;
  }

  /** Replaces what the socket carries through hibernation. */
  attach(ws: WebSocket, attachment: A): void {
    ws.serializeAttachment(attachment);
    this.attachments.set(ws, attachment);
  }

  /** Sockets still open, with their attachments (those with `tag`, if given). */
  open(tag?: string): { ws: WebSocket; attachment: A }[] {
    return this.ctx
      .getWebSockets(tag)
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((ws) => ({ ws, attachment: this.attachment(ws) }));
  }

  /** Every accepted socket, open or closing (for deadlines). */
  all(tag?: string): WebSocket[] {
    return this.ctx.getWebSockets(tag);
  }

  /** Sends one frame to every open socket with `tag`; returns how many got it. */
  broadcast(frame: ResponseFrame | EventFrame, tag?: string): number {
    const text = JSON.stringify(frame);
    const sockets = this.open(tag);
    for (const { ws } of sockets) sendText(ws, text);
    return sockets.length;
  }
}

export function send(ws: WebSocket, frame: ResponseFrame | EventFrame): void {
  sendText(ws, JSON.stringify(frame));
}

function sendText(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
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
