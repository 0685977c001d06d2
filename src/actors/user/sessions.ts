/**
 * A user's devices: the hibernating sockets of one user, their login, the
 * login policy that kicks other devices, pushes to every logged-in device,
 * presence, and the deadlines (login within 10 s, UserSig expiry).
 */
import type { z } from "zod";
import { viewOf, type App, type AppView } from "../../domain/app.ts";
import { checkCredentials } from "../../domain/auth.ts";
import { devicesToKick, type Device, type Platform } from "../../domain/devices.ts";
import { capture, ErrorCode, type Outcome } from "../../domain/errors.ts";
import type { UserEvent } from "../../domain/events.ts";
import type { ConnectQuery, OpData } from "../../domain/protocol.ts";
import { closePastDeadline, loginDeadlineMs } from "../../gateway/deadlines.ts";
import { CloseCode } from "../../gateway/session.ts";
import { closeSocket, send, SocketHub } from "../../mechanisms/socketHub.ts";
import { logEvent } from "../../ops/log.ts";
import type { UserHost } from "./host.ts";

/** What a socket carries through hibernation. */
interface Attachment {
  sdkAppId: number;
  userId: string;
  device: string;
  platform: Platform;
  /** The device's IP address as the edge saw it (callbacks' ClientIP); absent when not known. */
  clientIp?: string;
  connectedAt: number;
  loggedInAt?: number;
  sigExpiresAt?: number;
  /** The app's frames-per-second limit when this socket logged in. */
  frameRate?: number;
  /** Logged out or kicked: its close is not a disconnect. */
  ended?: boolean;
}

const maxPendingSockets = 16;
/** A device with no heartbeat for this long counts as PushOnline (Tencent: 400 s). */
const heartbeatStaleMs = 400_000;
/** For sockets that logged in before the limit was kept with them. */
const defaultFrameRate = 100;

export interface SessionsHost extends Pick<UserHost, "me" | "store" | "requireAccount"> {
  readonly ctx: DurableObjectState;
  /** The app with its keys (cached by the actor for a minute). */
  appRecord(): Promise<App>;
  /** Make sure the alarm fires by `at`. */
  wakeBy(at: number): Promise<void>;
  /** A login, logout or disconnect, for State.StateChange. */
  stateChanged(change: StateChange): void;
}

export interface StateChange {
  action: "Login" | "Logout" | "Disconnect";
  reason: string;
  platform: Platform;
  /** The device's IP address, when known (callbacks' ClientIP). */
  clientIp?: string;
  /** Devices a login kicked. */
  kicked?: Platform[];
}

export class UserSessions {
  private readonly host: SessionsHost;
  private readonly hub: SocketHub<Attachment>;
  private readonly lastFrameAt = new WeakMap<WebSocket, number>();

  constructor(host: SessionsHost) {
    this.host = host;
    this.hub = new SocketHub<Attachment>(host.ctx);
  }

  /** Accepts a new connection for this user; it must log in within 10 s. */
  async connect(query: z.infer<typeof ConnectQuery>, clientIp?: string): Promise<Response> {
    const pending = this.hub.all().filter((ws) => !this.hub.attachment(ws).loggedInAt).length;
    if (pending >= maxPendingSockets) return new Response("too many connections waiting to log in", { status: 429 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const device = query.device ?? crypto.randomUUID();
    const attachment: Attachment = { ...this.host.me, device, platform: query.platform, ...(clientIp ? { clientIp } : {}), connectedAt: Date.now() };
    this.hub.accept(server, attachment, [`device:${device}`]);
    await this.host.wakeBy(attachment.connectedAt + loginDeadlineMs);
    return new Response(null, { status: 101, webSocket: client });
  }

  frameSeen(ws: WebSocket): void {
    this.lastFrameAt.set(ws, Date.now());
  }

  closed(ws: WebSocket, code: number, reason: string): void {
    const attachment = this.hub.attachment(ws);
    if (attachment.loggedInAt) logEvent({ event: "ws", op: "disconnect", app: attachment.sdkAppId, user: attachment.userId, platform: attachment.platform, code });
    if (attachment.loggedInAt && !attachment.ended) this.host.stateChanged({ action: "Disconnect", reason: "LinkClose", platform: attachment.platform, clientIp: attachment.clientIp });
    closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  /** The device logs out: its close that follows is no disconnect. */
  loggingOut(ws: WebSocket): void {
    const attachment = this.hub.attachment(ws);
    if (!attachment.loggedInAt || attachment.ended) return;
    this.hub.attach(ws, { ...attachment, ended: true });
    this.host.stateChanged({ action: "Logout", reason: "Unregister", platform: attachment.platform, clientIp: attachment.clientIp });
  }

  platformOf(ws: WebSocket): Platform {
    return this.hub.attachment(ws).platform;
  }

  clientIpOf(ws: WebSocket): string | undefined {
    return this.hub.attachment(ws).clientIp;
  }

  isLoggedIn(ws: WebSocket): boolean {
    return this.hub.attachment(ws).loggedInAt !== undefined;
  }

  sigExpiresAt(ws: WebSocket): number {
    return this.hub.attachment(ws).sigExpiresAt ?? 0;
  }

  frameRate(ws: WebSocket): number {
    return this.hub.attachment(ws).frameRate ?? defaultFrameRate;
  }

  /** Verifies the UserSig here, with the app's keys cached in this actor: logins never queue on one object per app. */
  async login(ws: WebSocket, data: z.infer<(typeof OpData)["login"]>): Promise<Outcome<unknown>> {
    const started = Date.now();
    const attachment = this.hub.attachment(ws);
    const { me } = this.host;
    const grant = await capture(async () => {
      const app = await this.host.appRecord();
      const sigExpiresAt = await checkCredentials(app, { sdkAppId: me.sdkAppId, identifier: me.userId, userSig: data.userSig });
      await this.host.requireAccount(ErrorCode.accountNotFound);
      return { app: viewOf(app), sigExpiresAt };
    });
    logEvent({ event: "ws", op: "login", app: me.sdkAppId, user: me.userId, platform: attachment.platform, code: grant.ok ? 0 : grant.code, ms: Date.now() - started });
    if (!grant.ok) return grant;
    const { app, sigExpiresAt } = grant.value;
    const incoming: Device = { id: attachment.device, platform: attachment.platform, loggedInAt: Date.now() };
    const kicked = this.applyLoginPolicy(ws, incoming, app);
    this.hub.attach(ws, { ...attachment, loggedInAt: incoming.loggedInAt, sigExpiresAt, frameRate: app.settings.connectionFrameRate });
    this.host.stateChanged({ action: "Login", reason: "Register", platform: attachment.platform, clientIp: attachment.clientIp, kicked });
    await this.host.wakeBy(sigExpiresAt * 1000);
    return { ok: true, value: { userId: me.userId, device: attachment.device, seq: this.host.store.lastSeq(), serverTime: Math.floor(Date.now() / 1000) } };
  }

  /** Kicks the devices the policy says the new login replaces; returns their platforms. */
  private applyLoginPolicy(ws: WebSocket, incoming: Device, app: AppView): Platform[] {
    const others = this.loggedIn().filter((s) => s.ws !== ws);
    const kick = new Set(devicesToKick(others.map((s) => deviceOf(s.attachment)), incoming, app.settings.loginPolicy).map((d) => d.id));
    const kicked: Platform[] = [];
    for (const other of others) {
      if (!kick.has(other.attachment.device)) continue;
      // Reported as the new login's KickedDevice, not as a disconnect of its own.
      this.hub.attach(other.ws, { ...other.attachment, ended: true });
      kickSocket(other.ws, other.attachment.device === incoming.id ? "sameDeviceLogin" : "multipleLogin");
      kicked.push(other.attachment.platform);
    }
    return kicked;
  }

  /** Pushes an event to every logged-in device. Returns how many got it. */
  push(event: UserEvent): number {
    return this.tell(event.kind, event);
  }

  /** Sends an unsequenced event to every logged-in device. */
  tell(event: string, data: unknown): number {
    const sessions = this.loggedIn();
    for (const { ws } of sessions) send(ws, { event, data });
    return sessions.length;
  }

  /** Logs the user out everywhere (REST kick, account deletion). Returns how many devices were. */
  kickAll(reason: string): number {
    const devices = this.loggedIn().length;
    for (const ws of this.hub.all()) {
      const attachment = this.hub.attachment(ws);
      if (attachment.loggedInAt && !attachment.ended) {
        this.hub.attach(ws, { ...attachment, ended: true });
        this.host.stateChanged({ action: "Logout", reason: "Kicked", platform: attachment.platform, clientIp: attachment.clientIp });
      }
      kickSocket(ws, reason);
    }
    return devices;
  }

  /** Whether a device other than `except` is logged in and has not logged out. */
  anyDeviceOnline(except?: WebSocket): boolean {
    return this.loggedIn().some((s) => s.ws !== except && !s.attachment.ended);
  }

  onlineStatus(): { status: "Online" | "PushOnline" | "Offline"; devices: { platform: Platform; status: "Online" | "PushOnline" }[] } {
    const now = Date.now();
    const devices = this.loggedIn().map(({ ws, attachment }) => {
      const lastSeen = Math.max(attachment.loggedInAt ?? 0, this.lastFrameAt.get(ws) ?? 0, this.host.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0);
      return { platform: attachment.platform, status: now - lastSeen < heartbeatStaleMs ? ("Online" as const) : ("PushOnline" as const) };
    });
    const status = devices.some((d) => d.status === "Online") ? "Online" : devices.length > 0 ? "PushOnline" : "Offline";
    return { status, devices };
  }

  /** Alarm job: closes sockets that did not log in within 10 s, and sockets whose UserSig expired. */
  closePastDeadline(now: number): number | null {
    return closePastDeadline(this.hub.all().map((ws) => ({ ws, state: this.hub.attachment(ws) })), now);
  }


  private loggedIn(): { ws: WebSocket; attachment: Attachment }[] {
    return this.hub.open().filter((s) => s.attachment.loggedInAt !== undefined);
  }
}

function kickSocket(ws: WebSocket, reason: string): void {
  send(ws, { event: "kickedOut", data: { reason } });
  closeSocket(ws, CloseCode.kickedOut, reason);
}

function deviceOf(a: Attachment): Device {
  return { id: a.device, platform: a.platform, loggedInAt: a.loggedInAt ?? a.connectedAt };
}
