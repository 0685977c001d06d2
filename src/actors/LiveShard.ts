/**
 * LiveShard: one shard of a live room's audience, named `SDKAppID:GroupId:n`, holding at most
 * about the app's `live.shardSize` viewers' live connections (/v1/live). The room's coordinator
 * (its GroupActor) places viewers here with a signed ticket, relays each message serialised once,
 * and this shard broadcasts it to its sockets; as a relay head it also passes the batch on to the
 * rest of its block. It admits messages at the delivery rate it measures itself making, tells the
 * coordinator its count and its drops while they change, and forgets everything when it empties
 * (docs/ARCHITECTURE.md, "Live rooms").
 */
import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import { checkCredentials } from "../domain/auth.ts";
import { optPlatform, type OptPlatform } from "../domain/callbacks.ts";
import { devicesToKick, type Platform } from "../domain/devices.ts";
import { capture, ErrorCode, ImError, type Outcome } from "../domain/errors.ts";
import { GroupErrorCode, groupError, type MsgPriority } from "../domain/group.ts";
import type { GroupMessage } from "../domain/groupMessage.ts";
import {
  admitByPriority,
  audienceChanges,
  checkTicket,
  keepRecent,
  isBanned,
  isSlowConsumer,
  LiveOpData,
  LiveQuery,
  measureDeliveryRate,
  parseLiveShardName,
  relaxDeliveryRate,
  shardAdmissionRate,
  shardReportIntervalMs,
  trimBacklog,
  type LiveItem,
  type LiveOpName,
  type LiveSettings,
} from "../domain/liveRoom.ts";
import { heartbeatPing, heartbeatPong, type OpData } from "../domain/protocol.ts";
import type { TokenBucket } from "../domain/rateLimit.ts";
import type { Env } from "../env.ts";
import { closePastDeadline, loginDeadlineMs } from "../gateway/deadlines.ts";
import { CloseCode, handleFrame, type SessionHost } from "../gateway/session.ts";
import { AlarmScheduler } from "../mechanisms/alarms.ts";
import { OrderedRelay } from "../mechanisms/orderedRelay.ts";
import { closeSocket, SocketHub } from "../mechanisms/socketHub.ts";
import { countEntries, entryCounts, type EntryCounts } from "../ops/entryCount.ts";
import { findAccount } from "../store/accounts.ts";
import { AppCache } from "./appCache.ts";
import type { GroupActor } from "./GroupActor.ts";
import { groupActor, liveShard } from "./refs.ts";

interface Attachment {
  userId: string;
  device: string;
  /** The device's platform (callbacks' OptPlatform). */
  platform: Platform;
  /** The device's IP address at the upgrade, when known (callbacks' ClientIP). */
  clientIp?: string;
  ticket: string;
  connectedAt: number;
  loggedInAt?: number;
  sigExpiresAt?: number;
  frameRate?: number;
}

/** Close codes of the live connection besides the gateway's (docs/PROTOCOL.md). */
export const LiveCloseCode = { slowConsumer: 4009, dismissed: 4010, banned: 4011 } as const;

/** Recent MsgSeqs sent here, to count what a connection has not acked. */
const recentKept = 20_000;
/** How old the room's count may be when a viewer asks for it (docs/PROTOCOL.md: "at most a few seconds old"). */
const onlineCountFreshMs = 3_000;
/** Items waiting for one relay target that falls behind, before the lowest priorities go. */
const maxRelayBacklog = 2_000;
/** Arrivals (and departures) one report names at most; the rest go with the next. */
const maxReportedChanges = 1_000;

export class LiveShard extends DurableObject<Env> implements SessionHost {
  private readonly hub: SocketHub<Attachment>;
  private readonly alarms: AlarmScheduler;
  private readonly apps: AppCache;
  private readonly relay: OrderedRelay<LiveItem>;
  private readonly name: { sdkAppId: number; groupId: string; shard: number };
  /** Per connection: messages sent since its last ack (in memory: a wake forgives what came before). */
  private readonly unacked = new WeakMap<WebSocket, number>();
  private readonly sending = new WeakMap<WebSocket, Promise<unknown>>();
  private recentSeqs: number[] = [];
  /** The newest MsgSeq this shard has heard of (sent, dropped or kept for late joiners); 0 when it does not know. */
  private newestSeq = 0;
  private budget?: TokenBucket;
  private opened?: Promise<void>;
  private bans?: Map<string, number>;
  /** The room's latest messages for late joiners (the app's `live.keepLast`), from the coordinator and the stream. */
  private recent: GroupMessage[] = [];
  /** The users this shard last told the coordinator it holds. */
  private reported?: Set<string>;
  /** A shard that wakes reports once at its next alarm: the coordinator may have missed a change before it slept. */
  private countDirty = true;
  private memberCount = 0;
  /** When `memberCount` was last heard from the coordinator, and the ask under way, if any. */
  private memberCountAt = 0;
  private countAsked?: Promise<number>;
  /** Messages this shard dropped by priority because it fell behind, since it woke. */
  private readonly dropped: Record<MsgPriority, number> = { High: 0, Normal: 0, Low: 0, Lowest: 0 };
  /** Drops not yet told to the coordinator, which keeps the room's counts (they go with the next report). */
  private unreportedDrops: Record<MsgPriority, number> = { High: 0, Normal: 0, Low: 0, Lowest: 0 };
  /** Deliveries per second this shard measured itself making while busy (in memory: a wake starts from the app's setting). */
  private deliveryRate?: number;
  /** When the last relayed batch came in, and the deliveries it made. */
  private lastBatch?: { at: number; deliveries: number };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.name = parseLiveShardName(ctx.id.name!);
    this.hub = new SocketHub<Attachment>(ctx);
    this.apps = new AppCache(env, () => this.name.sdkAppId, (id) => new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${id} is not an app of this server`));
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(heartbeatPing, heartbeatPong));
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS reported (user_id TEXT PRIMARY KEY)");
    this.relay = new OrderedRelay<LiveItem>({
      call: (shard, items, backToBack) => liveShard(env, this.name.sdkAppId, this.name.groupId, shard).deliver(items, [], backToBack),
      trim: (backlog) => trimBacklog(backlog, maxRelayBacklog).kept,
      failed: (shard, error) => console.error(JSON.stringify({ event: "live_relay_failed", group: this.name.groupId, from: this.name.shard, shard, message: String(error) })),
    });
    this.alarms = new AlarmScheduler(
      ctx.storage,
      [
        { name: "deadlines", run: (now) => this.closePastDeadline(now) },
        { name: "report", run: () => this.report() },
      ],
      (job, error) => console.error(JSON.stringify({ event: "alarm_job_failed", actor: ctx.id.name, job, message: String(error) })),
    );
    // The runtime holds the counting view, so every entry (frame or call) is counted once.
    return countEntries(this, ["usage", "stats"]);
  }

  /** Since this shard woke: its entries (deliveries, logins, socket events), the per-message cost. */
  async usage(): Promise<EntryCounts> {
    return entryCounts(this);
  }

  /** What this shard holds now, what it dropped for falling behind since it woke, and the rate it admits at. */
  async stats(): Promise<{ sockets: number; viewers: number; dropped: Record<MsgPriority, number>; deliveriesPerSecond: number }> {
    const open = this.loggedIn();
    const configured = (await this.liveSettings()).shardDeliveriesPerSecond;
    return {
      sockets: open.length,
      viewers: new Set(open.map((s) => s.attachment.userId)).size,
      dropped: { ...this.dropped },
      deliveriesPerSecond: shardAdmissionRate(this.deliveryRate, configured),
    };
  }

  // ---------------------------------------------------------------- from the coordinator

  /**
   * Applies a batch from the coordinator (or a relay head) in order, broadcasting each frame once
   * to every logged-in socket, then hands it on to `relayTo` (this shard's block, when it heads one).
   * `backToBack`: the batch waited while the one before was out, so the time since that one came
   * is what this shard took to deliver it.
   */
  async deliver(items: LiveItem[], relayTo: number[], backToBack = false): Promise<void> {
    for (const shard of relayTo) this.relay.send(shard, items);
    const settings = await this.liveSettings();
    const now = Date.now();
    if (backToBack && this.lastBatch) this.deliveryRate = measureDeliveryRate(this.deliveryRate, this.lastBatch.deliveries, now - this.lastBatch.at);
    else if (!backToBack) this.deliveryRate = relaxDeliveryRate(this.deliveryRate, settings.shardDeliveriesPerSecond);
    let deliveries = 0;
    let dropped = false;
    for (const item of items) {
      switch (item.kind) {
        case "message": {
          this.newestSeq = Math.max(this.newestSeq, item.seq);
          if (settings.keepLast > 0) this.remember(item.text, settings.keepLast);
          const sent = this.broadcastMessage(item, settings, now);
          if (sent === null) dropped = true;
          else deliveries += sent;
          break;
        }
        case "event":
          this.broadcast(item.text);
          break;
        case "ban":
          this.banned(item.userIds, item.until);
          break;
        case "unban":
          this.unbanned(item.userIds);
          break;
        case "leave":
          for (const userId of item.userIds) for (const { ws } of this.hub.open(`user:${userId}`)) closeSocket(ws, CloseCode.loggedOut, "left the room");
          break;
        case "dismissed":
          this.broadcast(item.text);
          for (const { ws } of this.hub.open()) closeSocket(ws, LiveCloseCode.dismissed, "the room was dismissed");
          this.forget();
          break;
      }
    }
    this.lastBatch = { at: now, deliveries };
    // The coordinator keeps the room's drop counts: they go with the next report, within a second.
    if (dropped) await this.reportSoon();
  }

  /** Which of these users have a logged-in connection here. */
  async present(userIds: string[]): Promise<string[]> {
    return userIds.filter((userId) => this.hub.open(`user:${userId}`).some((s) => s.attachment.loggedInAt !== undefined));
  }

  /** Sends a message to every logged-in socket: the deliveries made, or null when it was dropped. */
  private broadcastMessage(item: Extract<LiveItem, { kind: "message" }>, settings: LiveSettings, now: number): number | null {
    const sockets = this.loggedIn();
    if (sockets.length === 0) return 0;
    // Past the rate it measured itself delivering at, the shard drops the lowest priorities first,
    // so it drops as messages come rather than building a backlog in the relay.
    const rate = shardAdmissionRate(this.deliveryRate, settings.shardDeliveriesPerSecond);
    const admission = admitByPriority(this.budget, rate, item.priority, now, sockets.length);
    this.budget = admission.bucket;
    if (!admission.admitted) {
      this.dropped[item.priority]++;
      this.unreportedDrops[item.priority]++;
      return null;
    }
    this.recentSeqs.push(item.seq);
    if (this.recentSeqs.length > recentKept) this.recentSeqs = this.recentSeqs.slice(-settings.unackedLimit - 1);
    for (const { ws } of sockets) {
      const unacked = (this.unacked.get(ws) ?? 0) + 1;
      // A connection that stopped reading is cut before it holds more than the limit in memory.
      if (isSlowConsumer(unacked, settings)) {
        closeSocket(ws, LiveCloseCode.slowConsumer, `more than ${settings.unackedLimit} messages unacknowledged`);
        continue;
      }
      this.unacked.set(ws, unacked);
      sendText(ws, item.text);
    }
    return sockets.length;
  }

  /** Keeps a relayed message for late joiners' logins. */
  private remember(text: string, keepLast: number): void {
    this.recent.push((JSON.parse(text) as { data: { message: GroupMessage } }).data.message);
    if (this.recent.length > 2 * keepLast) this.recent = keepRecent(this.recent, keepLast);
  }

  private broadcast(text: string): void {
    for (const { ws } of this.loggedIn()) sendText(ws, text);
  }

  private banned(userIds: string[], until: number): void {
    const bans = this.banList();
    for (const userId of userIds) {
      bans.set(userId, until);
      this.ctx.storage.sql.exec("INSERT INTO bans (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until", userId, until);
      for (const { ws } of this.hub.open(`user:${userId}`)) closeSocket(ws, LiveCloseCode.banned, "banned from the room");
    }
  }

  private unbanned(userIds: string[]): void {
    const bans = this.banList();
    for (const userId of userIds) {
      bans.delete(userId);
      this.ctx.storage.sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
    }
  }

  // ---------------------------------------------------------------- sockets

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const query = LiveQuery.parse(Object.fromEntries(new URL(request.url).searchParams));
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const clientIp = request.headers.get("CF-Connecting-IP") ?? undefined;
    const attachment: Attachment = {
      userId: query.userid,
      device: query.device ?? crypto.randomUUID(),
      platform: query.platform,
      ...(clientIp ? { clientIp } : {}),
      ticket: query.ticket,
      connectedAt: Date.now(),
    };
    this.hub.accept(server, attachment, [`user:${query.userid}`, `device:${query.userid}\n${attachment.device}`]);
    await this.alarms.armBy(attachment.connectedAt + loginDeadlineMs);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await handleFrame(this, ws, message, LiveOpData);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    if (this.hub.attachment(ws).loggedInAt !== undefined) await this.reportSoon();
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
    const { sdkAppId, groupId, shard } = this.name;
    return capture(async () => {
      const app = await this.apps.record();
      const sigExpiresAt = await checkCredentials(app, { sdkAppId, identifier: attachment.userId, userSig: data.userSig });
      if (!app.admins.includes(attachment.userId) && !(await findAccount(this.env.DB, sdkAppId, attachment.userId))) {
        throw new ImError(ErrorCode.accountNotFound, `account "${attachment.userId}" does not exist`);
      }
      if (!app.secretKey) throw groupError(GroupErrorCode.noPermission, "this app cannot check live-room tickets");
      const refusal = await checkTicket(app.secretKey, attachment.ticket, { sdkAppId, groupId, shard, userId: attachment.userId }, Math.floor(Date.now() / 1000));
      if (refusal) throw groupError(GroupErrorCode.noPermission, refusal);
      await this.open();
      if (isBanned(this.banList().get(attachment.userId), Math.floor(Date.now() / 1000))) throw groupError(GroupErrorCode.noPermission, "you are banned from this live room");
      // A device's new connection replaces its old one, so a reconnect is not counted twice.
      for (const other of this.hub.open(`device:${attachment.userId}\n${attachment.device}`)) {
        if (other.ws !== ws) closeSocket(other.ws, CloseCode.kickedOut, "replaced by a new connection of this device");
      }
      // One user holds no more live connections than its devices may hold on /v1/connect.
      const others = this.hub.open(`user:${attachment.userId}`).filter((s) => s.ws !== ws && s.attachment.loggedInAt !== undefined && s.attachment.device !== attachment.device);
      const incoming = { id: attachment.device, platform: attachment.platform, loggedInAt: Date.now() };
      const kick = new Set(devicesToKick(others.map((s) => ({ id: s.attachment.device, platform: s.attachment.platform, loggedInAt: s.attachment.loggedInAt! })), incoming, app.settings.loginPolicy).map((d) => d.id));
      for (const other of others) if (kick.has(other.attachment.device)) closeSocket(other.ws, CloseCode.kickedOut, "replaced by a newer live connection of this user");
      this.hub.attach(ws, { ...attachment, loggedInAt: Date.now(), sigExpiresAt, frameRate: app.settings.connectionFrameRate });
      await this.alarms.armBy(sigExpiresAt * 1000);
      await this.reportSoon();
      return {
        userId: attachment.userId,
        device: attachment.device,
        groupId,
        shard,
        serverTime: Math.floor(Date.now() / 1000),
        memberCount: Math.max(this.memberCount, this.viewers()),
        // A late joiner sees the room's latest messages (none unless the app keeps some).
        recentMessages: keepRecent(this.recent, app.settings.live.keepLast),
      };
    });
  }

  async runOp(ws: WebSocket, op: string, data: unknown): Promise<Outcome<unknown>> {
    const caller = callerOf(this.hub.attachment(ws));
    const name = op as Exclude<LiveOpName, "login">;
    if (name === "ack") return capture(() => this.ack(ws, (data as z.infer<(typeof LiveOpData)["ack"]>).seq));
    const groupID = (data as { groupID: string }).groupID;
    if (groupID !== this.name.groupId) return { ok: false, code: GroupErrorCode.invalidParameter, info: `this connection is for live room ${this.name.groupId}, not ${groupID}` };
    const room = groupActor(this.env, this.name);
    switch (name) {
      case "sendGroupMessage": {
        const { groupID: _room, ...draft } = data as z.infer<(typeof LiveOpData)["sendGroupMessage"]>;
        // One connection's sends reach the room in the order they were sent.
        const previous = this.sending.get(ws) ?? Promise.resolve();
        const sent = previous.then(async (): Promise<Outcome<unknown>> => await room.liveSend(caller, draft, "shard"));
        this.sending.set(ws, sent.catch(() => undefined));
        return sent;
      }
      case "getGroupOnlineMemberCount":
        return { ok: true, value: { memberCount: await this.roomCount() } };
      case "quitGroup": {
        const outcome = await room.quit(caller);
        // After the answer has gone out (a microtask would close before it).
        if (outcome.ok) setTimeout(() => closeSocket(ws, CloseCode.loggedOut, "left the room"), 0);
        return outcome;
      }
    }
  }

  /** The device has processed everything up to `seq`: what is left unacked is what was sent after it. */
  private ack(ws: WebSocket, seq: number): Record<string, never> {
    // An ack past the newest message sent would let a device that reads nothing keep receiving.
    if (this.newestSeq > 0 && seq > this.newestSeq) throw groupError(GroupErrorCode.invalidParameter, `ack: seq ${seq} is past the newest message sent (${this.newestSeq})`);
    let after = 0;
    for (let i = this.recentSeqs.length - 1; i >= 0 && this.recentSeqs[i]! > seq; i--) after++;
    this.unacked.set(ws, Math.min(this.unacked.get(ws) ?? 0, after));
    return {};
  }

  // ---------------------------------------------------------------- count, open, retire

  private loggedIn(): { ws: WebSocket; attachment: Attachment }[] {
    return this.hub.open().filter((s) => s.attachment.loggedInAt !== undefined);
  }

  private viewers(): number {
    return new Set(this.loggedIn().map((s) => s.attachment.userId)).size;
  }

  /**
   * The room's count as the coordinator last said, asked again once it is older than a few seconds:
   * a shard whose own count does not change hears nothing from its reports. One ask at a time, so
   * a shard's viewers polling the count cost the coordinator at most one call per interval.
   */
  private async roomCount(): Promise<number> {
    if (Date.now() - this.memberCountAt > onlineCountFreshMs) {
      this.countAsked ??= groupActor(this.env, this.name)
        .onlineCount()
        .then((answer) => {
          if (answer.ok) {
            this.memberCount = answer.value;
            this.memberCountAt = Date.now();
          }
          return this.memberCount;
        })
        .finally(() => (this.countAsked = undefined));
      await this.countAsked.catch(() => undefined);
    }
    return Math.max(this.memberCount, this.viewers());
  }

  /** The count (and drops) are reported at most once a second while they change, so a burst of joins is one call. */
  private async reportSoon(): Promise<void> {
    this.countDirty = true;
    await this.alarms.armBy(Date.now() + shardReportIntervalMs);
  }

  private async report(): Promise<number | null> {
    if (!this.countDirty) return null;
    this.countDirty = false;
    const viewers = this.viewers();
    const reported = this.reportedUsers();
    const changes = audienceChanges(reported, this.onlineSince());
    const joined = changes.joined.slice(-maxReportedChanges);
    const left = changes.left.slice(0, maxReportedChanges);
    // What does not fit goes with the next report.
    if (joined.length < changes.joined.length || left.length < changes.left.length) this.countDirty = true;
    const dropped = { ...this.unreportedDrops };
    let answer: Awaited<ReturnType<DurableObjectStub<GroupActor>["liveShardReport"]>>;
    try {
      answer = await groupActor(this.env, this.name).liveShardReport(this.name.shard, viewers, { joined, left }, dropped);
    } catch (error) {
      // Reported again when the alarm retries.
      this.countDirty = true;
      throw error;
    }
    if (answer.ok) {
      // Drops counted while the report was out stay for the next one.
      for (const priority of Object.keys(dropped) as MsgPriority[]) this.unreportedDrops[priority] -= dropped[priority];
      for (const { userId } of joined) {
        reported.add(userId);
        this.ctx.storage.sql.exec("INSERT OR IGNORE INTO reported (user_id) VALUES (?)", userId);
      }
      for (const userId of left) {
        reported.delete(userId);
        this.ctx.storage.sql.exec("DELETE FROM reported WHERE user_id = ?", userId);
      }
      this.memberCount = answer.value.memberCount;
      this.memberCountAt = Date.now();
      if (answer.value.retire && this.viewers() === 0) this.forget();
    }
    return this.countDirty ? Date.now() + shardReportIntervalMs : null;
  }

  /** The first login since the shard was empty asks the coordinator for the room's bans (and to be relayed to again). */
  private open(): Promise<void> {
    this.opened ??= (async () => {
      const answer = await groupActor(this.env, this.name).liveShardOpened(this.name.shard);
      if (!answer.ok) throw new ImError(answer.code, answer.info);
      this.recent = keepRecent([...answer.value.recent, ...this.recent], (await this.liveSettings()).keepLast);
      for (const message of this.recent) this.newestSeq = Math.max(this.newestSeq, message.seq);
      const bans = this.banList();
      for (const { userId, until } of answer.value.bans) {
        bans.set(userId, until);
        this.ctx.storage.sql.exec("INSERT INTO bans (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until", userId, until);
      }
    })();
    this.opened.catch(() => (this.opened = undefined));
    return this.opened;
  }

  /** Retired (empty) or dismissed: nothing is kept; a later viewer opens the shard afresh. */
  private forget(): void {
    this.opened = undefined;
    this.bans = new Map();
    this.recentSeqs = [];
    this.newestSeq = 0;
    this.recent = [];
    this.reported = new Set();
    this.ctx.storage.sql.exec("DELETE FROM bans");
    this.ctx.storage.sql.exec("DELETE FROM reported");
  }

  /** Each logged-in user, with when its earliest connection here logged in. */
  private onlineSince(): Map<string, number> {
    const since = new Map<string, number>();
    for (const { attachment } of this.loggedIn()) {
      const at = since.get(attachment.userId);
      if (at === undefined || attachment.loggedInAt! < at) since.set(attachment.userId, attachment.loggedInAt!);
    }
    return since;
  }

  private reportedUsers(): Set<string> {
    this.reported ??= new Set(this.ctx.storage.sql.exec<{ user_id: string }>("SELECT user_id FROM reported").toArray().map((r) => r.user_id));
    return this.reported;
  }

  private banList(): Map<string, number> {
    this.bans ??= new Map(this.ctx.storage.sql.exec<{ user_id: string; until: number }>("SELECT user_id, until FROM bans").toArray().map((r) => [r.user_id, r.until]));
    return this.bans;
  }

  private async liveSettings(): Promise<LiveSettings> {
    return (await this.apps.record()).settings.live;
  }

  private closePastDeadline(now: number): number | null {
    return closePastDeadline(this.hub.all().map((ws) => ({ ws, state: this.hub.attachment(ws) })), now);
  }
}

/** The viewer as the room sees it: its callbacks name the device's platform and address. */
function callerOf({ userId, platform, clientIp }: Attachment): { userId: string; appAdmin: false; platform: OptPlatform; clientIp?: string } {
  return { userId, appAdmin: false, platform: optPlatform(platform), ...(clientIp ? { clientIp } : {}) };
}

function sendText(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // closed meanwhile
  }
}
