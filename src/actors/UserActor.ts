/**
 * UserActor: one per (SDKAppID, UserID), named `SDKAppID:UserID`. The shell
 * around the user's parts: its devices (`user/sessions.ts`), its one-to-one
 * messages (`user/c2c.ts`), its conversations and read state
 * (`user/conversations.ts`) and its retention (`user/retention.ts`), all on one
 * SQLite store (`user/UserStore.ts`) and one alarm. Each RPC method below is
 * one action, shared by the REST door, the WebSocket ops and other actors.
 */
import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import { isAppAdmin, viewOf, type App, type AppSettings, type AppView } from "../domain/app.ts";
import { optPlatform } from "../domain/callbacks.ts";
import { capture, ErrorCode, ImError, type Outcome } from "../domain/errors.ts";
import type { UserEvent } from "../domain/events.ts";
import type { C2CDraft, C2CMessage, MsgBody } from "../domain/message.ts";
import { ConnectQuery, heartbeatPing, heartbeatPong, type OpData, type OpName } from "../domain/protocol.ts";
import type { Env } from "../env.ts";
import { CloseCode, handleFrame, type SessionHost } from "../gateway/session.ts";
import { AlarmScheduler } from "../mechanisms/alarms.ts";
import { closeSocket } from "../mechanisms/socketHub.ts";
import { SnsContext, type SnsEvent } from "../sns/context.ts";
import { findAccount } from "../store/accounts.ts";
import { countEntries, entryCounts, type EntryCounts } from "../ops/entryCount.ts";
import { AppCache } from "./appCache.ts";
import { userActor, type UserRef } from "./refs.ts";
import { C2CMessages, type DeliveryOptions, type SenderRelation } from "./user/c2c.ts";
import { Conversations } from "./user/conversations.ts";
import { GroupConversations } from "./user/groups.ts";
import type { UserHost } from "./user/host.ts";
import { userOps, type OpContext } from "./user/ops.ts";
import { sweepExpiredHistory, sweepEveryMs } from "./user/retention.ts";
import { UserSessions } from "./user/sessions.ts";
import { UserCallbacks } from "./user/callbacks.ts";
import { UserStore } from "./user/UserStore.ts";
import { ActorStats } from "./stats.ts";
import type { GlobalMute } from "../domain/moderation.ts";
import type { GroupMessageDraft } from "../domain/groupMessage.ts";
import type { GroupCaller } from "./group/host.ts";

export type { ApplyResult, DeliveryOptions, SendResult, SenderRelation } from "./user/c2c.ts";


export function parseUserActorName(name: string): UserRef {
  const colon = name.indexOf(":");
  return { sdkAppId: Number(name.slice(0, colon)), userId: name.slice(colon + 1) };
}

export class UserActor extends DurableObject<Env> implements SessionHost, UserHost {
  declare readonly env: Env;
  readonly store: UserStore;
  private readonly sessions: UserSessions;
  private readonly c2c: C2CMessages;
  private readonly conversations: Conversations;
  private readonly groupConversations: GroupConversations;
  private readonly alarms: AlarmScheduler;
  readonly callbacks: UserCallbacks;
  readonly stats: ActorStats;
  private readonly apps: AppCache;
  private accountExists = false;
  private sweepScheduled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new UserStore(ctx.storage.sql);
    this.apps = new AppCache(env, () => this.me.sdkAppId, (id) => new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${id} is not an app of this server`));
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(heartbeatPing, heartbeatPong));
    this.sessions = new UserSessions({
      ctx,
      me: this.me,
      store: this.store,
      requireAccount: (code) => this.requireAccount(code),
      appRecord: () => this.appRecord(),
      wakeBy: (at) => this.alarms.armBy(at),
      stateChanged: (change) => {
        if (change.action === "Login") this.loggedIn();
        this.ctx.waitUntil(this.callbacks.stateChanged(change));
      },
    });
    this.stats = new ActorStats({ env, sdkAppId: this.me.sdkAppId, source: `user:${ctx.id.name}`, sql: ctx.storage.sql, wakeBy: (at) => this.alarms.armBy(at) });
    this.callbacks = new UserCallbacks({ ctx, me: this.me, settings: () => this.settings(), wakeBy: (at) => this.alarms.armBy(at), count: (counts) => this.stats.count(counts) });
    this.c2c = new C2CMessages(this);
    this.groupConversations = new GroupConversations(this);
    this.conversations = new Conversations(this, this.groupConversations);
    this.alarms = new AlarmScheduler(
      ctx.storage,
      [
        {
          name: "deadlines",
          run: (now) => {
            const next = this.sessions.closePastDeadline(now);
            this.presenceChanged();
            return next;
          },
        },
        { name: "retention", run: (now) => sweepExpiredHistory(this, now) },
        { name: "callbacks", run: () => this.callbacks.alarmJob() },
        { name: "stats", run: (now) => this.stats.alarmJob(now) },
      ],
      (job, error) => console.error(JSON.stringify({ event: "alarm_job_failed", actor: ctx.id.name, job, message: String((error as Error)?.stack ?? error) })),
    );
    // The runtime holds the counting view, so every entry (frame or call) is counted once.
    return countEntries(this, ["storageUsage"]);
  }

  /** Whose actor this is, from the object's own name. */
  get me(): UserRef {
    this.ref ??= parseUserActorName(this.ctx.id.name!);
    return this.ref;
  }

  private ref?: UserRef;

  // ---------------------------------------------------------------- one-to-one messages (user/c2c.ts)

  sendC2C(draft: C2CDraft) {
    return this.c2c.sendC2C(draft);
  }
  receiveC2C(message: C2CMessage, options: DeliveryOptions, relation: SenderRelation) {
    return this.c2c.receiveC2C(message, options, relation);
  }
  pushOnline(message: C2CMessage, relation: SenderRelation, countUnread?: boolean) {
    return this.c2c.pushOnline(message, relation, countUnread);
  }
  importMessage(message: C2CMessage, outgoing: boolean, options: DeliveryOptions) {
    return this.c2c.importMessage(message, outgoing, options);
  }
  revoke(peer: string, key: string, byAdmin: boolean, platform?: string) {
    return this.c2c.revoke(peer, key, byAdmin, platform);
  }
  applyRevoke(peer: string, key: string) {
    return this.c2c.applyRevoke(peer, key);
  }
  modify(peer: string, key: string, body: MsgBody, cloudCustomData?: string) {
    return this.c2c.modify(peer, key, body, cloudCustomData);
  }
  applyModify(peer: string, key: string, body: MsgBody, cloudCustomData?: string) {
    return this.c2c.applyModify(peer, key, body, cloudCustomData);
  }
  deleteMessages(peer: string, keys: string[]) {
    return this.c2c.deleteMessages(peer, keys);
  }
  sendReadReceipts(peer: string, keys: string[]) {
    return this.c2c.sendReadReceipts(peer, keys);
  }
  applyReadReceipts(peer: string, keys: string[]) {
    return this.c2c.applyReadReceipts(peer, keys);
  }

  // ---------------------------------------------------------------- history and conversations (user/conversations.ts)

  sync(after: number, limit?: number) {
    return this.conversations.sync(after, limit);
  }
  getMessageList(peer: string, before: number | undefined, limit?: number) {
    return this.conversations.getMessageList(peer, before, limit);
  }
  roamMessages(peer: string, range: { minTime: number; maxTime: number; before?: number; limit: number }) {
    return this.conversations.roamMessages(peer, range);
  }
  findMessage(peer: string, key: string) {
    return this.conversations.findMessage(peer, key);
  }
  listConversations(offset?: number, limit?: number) {
    return this.conversations.listConversations(offset, limit);
  }
  deleteConversation(peer: string, clearHistory: boolean) {
    return this.conversations.deleteConversation(peer, clearHistory);
  }
  pinConversation(peer: string, pinned: boolean) {
    return this.conversations.pinConversation(peer, pinned);
  }
  unread(peers?: string[]) {
    return this.conversations.unread(peers);
  }
  markRead(peer: string, maxTime?: number, platform?: string) {
    return this.conversations.markRead(peer, maxTime, platform);
  }
  applyPeerRead(peer: string, key: string) {
    return this.conversations.applyPeerRead(peer, key);
  }

  // ---------------------------------------------------------------- the user's side of its groups (user/groups.ts)

  /** Sends a group message as this user (its devices, or REST naming it as From_Account). */
  sendGroupMessage(groupId: string, caller: GroupCaller, draft: GroupMessageDraft) {
    return capture(() => this.groupConversations.send(groupId, caller, draft));
  }
  /** The user read a group up to MsgSeq `seq`, where the group's unread count was `count` (on a device, or by sending to it). */
  groupRead(groupId: string, seq: number, count: number) {
    return this.groupConversations.markRead(groupId, seq, count);
  }
  setGroupReadPoint(groupId: string, seq: number, count: number) {
    return this.groupConversations.setReadPoint(groupId, seq, count);
  }
  groupMentioned(groupId: string, groupSeq: number) {
    return this.groupConversations.mentioned(groupId, groupSeq);
  }
  pinGroupConversation(groupId: string, pinned: boolean) {
    return this.groupConversations.pin(groupId, pinned);
  }
  deleteGroupConversation(groupId: string) {
    return this.groupConversations.delete(groupId);
  }

  // ---------------------------------------------------------------- the user's devices (user/sessions.ts)

  /** Profile and relationship changes: drop cached relations and tell this user's devices. */
  async relationsChanged(events: SnsEvent[], data: Record<string, unknown>): Promise<Outcome<void>> {
    return capture(() => {
      this.c2c.forgetRelations();
      for (const event of events) this.sessions.tell(event, data);
    });
  }

  async onlineStatus() {
    return capture(() => this.sessions.onlineStatus());
  }

  /** Logs the user out everywhere (REST kick). */
  async kick(reason: string): Promise<Outcome<{ devices: number }>> {
    return capture(() => {
      const devices = this.sessions.kickAll(reason);
      this.presenceChanged();
      return { devices };
    });
  }

  /** Removes everything this actor holds for the user (the account was deleted). */
  async purge(): Promise<Outcome<void>> {
    return capture(async () => {
      this.sessions.kickAll("accountDeleted");
      this.presenceChanged();
      this.store.purge();
      this.accountExists = false;
      this.c2c.forget();
      await this.ctx.storage.deleteAlarm();
      this.alarms.forget();
      // Counts already made still reach the app's statistics.
      this.stats.resume();
    });
  }

  /** Since this actor woke: its entries and the SQLite rows it wrote (index entries included), the per-message cost. */
  async storageUsage(): Promise<EntryCounts & { rowsWritten: number }> {
    return { ...entryCounts(this), rowsWritten: this.store.usage.rowsWritten + this.stats.counters.usage.rowsWritten };
  }

  // ---------------------------------------------------------------- WebSocket lifecycle

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const query = ConnectQuery.parse(Object.fromEntries(new URL(request.url).searchParams));
    // Unknown and disabled apps are refused before the upgrade (the app is cached for a minute).
    const app = await capture(async () => {
      const record = await this.appRecord();
      if (record.status === "disabled") throw new ImError(ErrorCode.appDisabled, `app ${record.sdkAppId} is disabled`);
    });
    if (!app.ok) return Response.json({ code: app.code, message: app.info }, { status: 403 });
    // Set by the edge (and by wrangler dev) for the client's own address.
    return this.sessions.connect(query, request.headers.get("CF-Connecting-IP") ?? undefined);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.sessions.frameSeen(ws);
    await handleFrame(this, ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.sessions.closed(ws, code, reason);
    this.presenceChanged(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeSocket(ws, 1011, "error");
  }

  // SessionHost: the gateway's view of this user's sockets.

  isLoggedIn(ws: WebSocket): boolean {
    return this.sessions.isLoggedIn(ws);
  }

  sigExpiresAt(ws: WebSocket): number {
    return this.sessions.sigExpiresAt(ws);
  }

  frameRate(ws: WebSocket): number {
    return this.sessions.frameRate(ws);
  }

  login(ws: WebSocket, data: z.infer<(typeof OpData)["login"]>): Promise<Outcome<unknown>> {
    return this.sessions.login(ws, data);
  }

  async runOp(ws: WebSocket, op: Exclude<OpName, "login">, data: unknown): Promise<Outcome<unknown>> {
    // A disabled app's devices are logged out at their next op, once this actor's cached app
    // (at most a minute old) says so. Every op awaits the same cached load, so ops keep their order.
    const status = await this.appRecord().then((app) => app.status, () => undefined);
    if (status === "disabled") {
      // After this op's answer, which says why.
      setTimeout(() => this.sessions.kickAll("appDisabled"), 0);
      return { ok: false, code: ErrorCode.appDisabled, info: `app ${this.me.sdkAppId} is disabled` };
    }
    const handler = userOps[op] as (c: OpContext, data: unknown) => Promise<Outcome<unknown>>;
    return handler(
      {
        actor: this,
        me: this.me,
        platform: this.sessions.platformOf(ws),
        clientIp: this.sessions.clientIpOf(ws),
        closeSoon: () => {
          this.sessions.loggingOut(ws);
          this.presenceChanged();
          setTimeout(() => closeSocket(ws, CloseCode.loggedOut, "logged out"), 0);
        },
        sns: async () => new SnsContext(this.env, await this.appView(), (p) => this.ctx.waitUntil(p), { operator: this.me.userId, platform: optPlatform(this.sessions.platformOf(ws)), clientIp: this.sessions.clientIpOf(ws) }),
        groupCaller: async () => ({
          userId: this.me.userId,
          appAdmin: isAppAdmin(await this.appView(), this.me.userId),
          platform: optPlatform(this.sessions.platformOf(ws)),
          ...(this.sessions.clientIpOf(ws) ? { clientIp: this.sessions.clientIpOf(ws) } : {}),
        }),
      },
      data,
    );
  }

  override async alarm(): Promise<void> {
    await this.alarms.run();
  }

  // ---------------------------------------------------------------- statistics (actors/stats.ts)

  /** A device logged in: a login, and the user is active today. */
  private loggedIn(): void {
    this.stats.count({ LoginTimes: 1 }, [
      { marker: "login", counts: { LoginUserNum: 1 } },
      { marker: "active", counts: { ActiveUserNum: 1 } },
    ]);
    this.presenceChanged();
  }

  /**
   * The user counts once in the app's users online while any device is logged in. The flag is
   * kept with the counts, so a count left by a restart that closed sockets silently is taken back
   * at the user's next logout.
   */
  private presenceChanged(closing?: WebSocket): void {
    const online = this.sessions.anyDeviceOnline(closing);
    if (online !== this.stats.flag("online")) this.stats.setFlag("online", online, { OnlineNum: online ? 1 : -1 });
  }

  // ---------------------------------------------------------------- UserHost: what the parts share

  transaction<T>(work: () => T): T {
    return this.ctx.storage.transactionSync(work);
  }

  push(event: UserEvent): number {
    return this.sessions.push(event);
  }

  announce(event: Parameters<UserStore["appendEvent"]>[0]): void {
    this.push(this.store.appendEvent(event, Date.now()));
  }

  peer(userId: string): { ref: UserRef; actor: DurableObjectStub<UserActor> } {
    const ref = { sdkAppId: this.me.sdkAppId, userId };
    return { ref, actor: userActor(this.env, ref) };
  }

  /** After the first write of a wake: the retention job then works out when it is next due. */
  historyWritten(): void {
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    void this.alarms.armBy(Date.now() + sweepEveryMs);
  }

  /** Fails with `code` (90012 for a recipient, 90008 for a sender) unless the account exists. */
  async requireAccount(code: number = ErrorCode.toAccountNotFound): Promise<void> {
    if (this.accountExists) return;
    const { me } = this;
    const app = await this.appView();
    if (!isAppAdmin(app, me.userId)) {
      const account = await findAccount(this.env.DB, me.sdkAppId, me.userId);
      if (!account) throw new ImError(code, `account "${me.userId}" does not exist`);
      this.mute = { c2cUntil: account.c2cMuteUntil ?? 0, groupUntil: account.groupMuteUntil ?? 0 };
    }
    this.accountExists = true;
  }

  /** The user's global mute, read with the account (once per wake) and updated by setnospeaking. */
  globalMute(): GlobalMute | undefined {
    return this.mute;
  }

  private mute?: GlobalMute;

  /** openconfigsvr/setnospeaking changed the user's global mute (already stored in D1). */
  async setGlobalMute(mute: GlobalMute): Promise<Outcome<void>> {
    return capture(() => {
      this.mute = mute;
    });
  }

  /** The app's settings with its callbacks' token, which its callbacks sign with. */
  async settings(): Promise<AppSettings> {
    return (await this.appRecord()).settings;
  }

  private async appView(): Promise<AppView> {
    return viewOf(await this.appRecord());
  }

  /** The app with its keys, held for a minute (a key change reaches logins within it). */
  private appRecord(): Promise<App> {
    return this.apps.record();
  }

}
