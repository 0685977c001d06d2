/**
 * FanoutHub: one of an app's `fanoutHubs` objects, named `SDKAppID:hub:N`,
 * holding the group connections of the users that hash to it
 * (`domain/fanout.ts`). A device opens this second connection
 * (`/v1/groups`) beside its own; a group delivers each event once per hub,
 * with the members it concerns, and the hub pushes it to their sockets.
 * One-to-one traffic never passes here.
 */
import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import { checkCredentials } from "../domain/auth.ts";
import { capture, ErrorCode, ImError, type Outcome } from "../domain/errors.ts";
import type { GroupEvent } from "../domain/groupMessage.ts";
import { ConnectQuery, heartbeatPing, heartbeatPong, type OpData, type OpName } from "../domain/protocol.ts";
import type { App } from "../domain/app.ts";
import type { Env } from "../env.ts";
import { closePastDeadline, loginDeadlineMs } from "../gateway/deadlines.ts";
import { handleFrame, type SessionHost } from "../gateway/session.ts";
import { AlarmScheduler } from "../mechanisms/alarms.ts";
import { closeSocket, SocketHub } from "../mechanisms/socketHub.ts";
import { findAccount } from "../store/accounts.ts";
import { countEntries, entryCounts, type EntryCounts } from "../ops/entryCount.ts";
import { AppCache } from "./appCache.ts";

interface Attachment {
  userId: string;
  device: string;
  connectedAt: number;
  loggedInAt?: number;
  sigExpiresAt?: number;
  frameRate?: number;
}


export interface Delivery {
  event: GroupEvent;
  userIds: string[];
}

export class FanoutHub extends DurableObject<Env> implements SessionHost {
  private readonly hub: SocketHub<Attachment>;
  private readonly alarms: AlarmScheduler;
  private readonly apps: AppCache;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.hub = new SocketHub<Attachment>(ctx);
    this.apps = new AppCache(env, () => this.sdkAppId, (id) => new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${id} is not an app of this server`));
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(heartbeatPing, heartbeatPong));
    this.alarms = new AlarmScheduler(ctx.storage, [{ name: "deadlines", run: (now) => this.closePastDeadline(now) }], (job, error) =>
      console.error(JSON.stringify({ event: "alarm_job_failed", actor: ctx.id.name, job, message: String(error) })),
    );
    // The runtime holds the counting view, so every entry (frame or call) is counted once.
    return countEntries(this, ["usage"]);
  }

  /** Since this hub woke: its entries (deliveries, logins, socket events), the per-message cost. */
  async usage(): Promise<EntryCounts> {
    return entryCounts(this);
  }

  private get sdkAppId(): number {
    return Number(this.ctx.id.name!.split(":")[0]);
  }

  /** Pushes each event to the logged-in devices of the users it names. Returns how many sockets got one. */
  async deliver(deliveries: Delivery[]): Promise<{ sockets: number }> {
    let sockets = 0;
    for (const { event, userIds } of deliveries) {
      const text = JSON.stringify({ event: event.kind, data: event });
      for (const userId of userIds) {
        for (const { ws, attachment } of this.hub.open(`user:${userId}`)) {
          if (attachment.loggedInAt === undefined) continue;
          try {
            ws.send(text);
            sockets++;
          } catch {
            // closed meanwhile: the device catches up by MsgSeq when it reconnects
          }
        }
      }
    }
    return { sockets };
  }

  /** How many of these users have a group connection here now. */
  async online(userIds: string[]): Promise<string[]> {
    return userIds.filter((userId) => this.hub.open(`user:${userId}`).some((s) => s.attachment.loggedInAt !== undefined));
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const query = ConnectQuery.parse(Object.fromEntries(new URL(request.url).searchParams));
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const attachment: Attachment = { userId: query.userid, device: query.device ?? crypto.randomUUID(), connectedAt: Date.now() };
    this.hub.accept(server, attachment, [`user:${query.userid}`]);
    await this.alarms.armBy(attachment.connectedAt + loginDeadlineMs);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await handleFrame(this, ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async alarm(): Promise<void> {
    await this.alarms.run();
  }

  // SessionHost

  isLoggedIn(ws: WebSocket): boolean {
    return this.hub.attachment(ws).loggedInAt !== undefined;
  }

  sigExpiresAt(ws: WebSocket): number {
    return this.hub.attachment(ws).sigExpiresAt ?? 0;
  }

  frameRate(ws: WebSocket): number {
    return this.hub.attachment(ws).frameRate ?? 10;
  }

  async login(ws: WebSocket, data: z.infer<(typeof OpData)["login"]>): Promise<Outcome<unknown>> {
    const attachment = this.hub.attachment(ws);
    return capture(async () => {
      const app = await this.appRecord();
      const sigExpiresAt = await checkCredentials(app, { sdkAppId: this.sdkAppId, identifier: attachment.userId, userSig: data.userSig });
      if (!app.admins.includes(attachment.userId) && !(await findAccount(this.env.DB, this.sdkAppId, attachment.userId))) {
        throw new ImError(ErrorCode.accountNotFound, `account "${attachment.userId}" does not exist`);
      }
      this.hub.attach(ws, { ...attachment, loggedInAt: Date.now(), sigExpiresAt, frameRate: 10 });
      await this.alarms.armBy(sigExpiresAt * 1000);
      return { userId: attachment.userId, device: attachment.device, serverTime: Math.floor(Date.now() / 1000) };
    });
  }

  /** This connection only receives; every request goes through the user's own connection. */
  async runOp(_ws: WebSocket, op: Exclude<OpName, "login">): Promise<Outcome<unknown>> {
    return { ok: false, code: ErrorCode.badUrl, info: `"${op}" goes through /v1/connect; this connection only receives group events` };
  }

  private closePastDeadline(now: number): number | null {
    return closePastDeadline(this.hub.all().map((ws) => ({ ws, state: this.hub.attachment(ws) })), now);
  }


  private appRecord(): Promise<App> {
    return this.apps.record();
  }

}
