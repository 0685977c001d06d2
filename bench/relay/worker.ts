/**
 * Bare relay: one Durable Object per user holding its WebSocket. A frame
 * {id, to, body} is written to the sender's SQLite, passed by one RPC to the
 * recipient's object, written there and pushed to its socket; then acked.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  RELAY: DurableObjectNamespace<RelayUser>;
}

export class RelayUser extends DurableObject<Env> {
  private seq = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, peer TEXT, body TEXT)");
  }

  override async fetch(): Promise<Response> {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const frame = JSON.parse(raw as string) as { id: number; to: string; body: string; from: string };
    this.ctx.storage.sql.exec("INSERT INTO log (seq, peer, body) VALUES (?, ?, ?)", ++this.seq, frame.to, frame.body);
    await this.env.RELAY.get(this.env.RELAY.idFromName(frame.to)).deliver(frame.from, frame.body);
    ws.send(JSON.stringify({ id: frame.id, code: 0 }));
  }

  async deliver(from: string, body: string): Promise<void> {
    this.ctx.storage.sql.exec("INSERT INTO log (seq, peer, body) VALUES (?, ?, ?)", ++this.seq, from, body);
    for (const ws of this.ctx.getWebSockets()) ws.send(JSON.stringify({ event: "message", data: { from, body } }));
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const user = new URL(request.url).searchParams.get("user") ?? "";
    return env.RELAY.get(env.RELAY.idFromName(user)).fetch(request);
  },
};
