/**
 * Bare broadcast: one Durable Object holds every socket. A frame
 * {id, op: "send", data: {random}} is written once to SQLite, pushed to every
 * socket as a groupMessage event and acknowledged; {op: "login"} is answered
 * at once (sockets need no credentials here).
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  ROOM: DurableObjectNamespace<Room>;
}

export class Room extends DurableObject<Env> {
  private seq = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, body TEXT)");
  }

  override async fetch(): Promise<Response> {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const frame = JSON.parse(raw as string) as { id: number; op: string; data: { random: number; body: unknown } };
    if (frame.op === "send") {
      const message = { groupId: "bare", seq: ++this.seq, random: frame.data.random, body: frame.data.body, time: Math.floor(Date.now() / 1000) };
      this.ctx.storage.sql.exec("INSERT INTO log (seq, body) VALUES (?, ?)", message.seq, JSON.stringify(message.body));
      const text = JSON.stringify({ event: "groupMessage", data: { kind: "groupMessage", message } });
      for (const socket of this.ctx.getWebSockets()) socket.send(text);
    }
    ws.send(JSON.stringify({ id: frame.id, code: 0, message: "", data: {} }));
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return env.ROOM.get(env.ROOM.idFromName("room")).fetch(request);
  },
};
