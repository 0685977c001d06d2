/**
 * The coordinator of a live room (AVChatRoom), inside the room's GroupActor: it places viewers
 * on shards, orders messages (MsgSeq), admits them by priority, keeps the owner's admins, mutes
 * and bans, the latest joiners and each shard's count, and relays every message, serialised once,
 * to the shards (`actors/LiveShard.ts`), which hold the sockets. No viewer is stored beyond the
 * latest 1,000 joiners, and no message is stored at all (docs/ARCHITECTURE.md, "Live rooms").
 */
import type { App } from "../../domain/app.ts";
import { callbackEnabled } from "../../domain/callbacks.ts";
import { GroupErrorCode, groupError, type MsgPriority } from "../../domain/group.ts";
import { GroupTipType, type GroupEvent, type GroupMessage, type GroupSendResult } from "../../domain/groupMessage.ts";
import { afterMemberExitFields, afterNewMemberJoinFields, afterSendMsgFields, GroupCallback, memberStateChangeFields } from "../../domain/groupCallbacks.ts";
import { muteUntilFor } from "../../domain/groupRules.ts";
import {
  admitByPriority,
  announcesMembership,
  grantSeats,
  heldPlaces,
  isBanned,
  releasePlaces,
  maxListedJoiners,
  maxLiveAdmins,
  placesFromBlocks,
  placeViewer,
  relayPlan,
  seatBlockMs,
  seatBlockSize,
  signTicket,
  takePlaces,
  ticketLifetimeSeconds,
  trimBacklog,
  type LiveItem,
  type LiveSettings,
  type Places,
} from "../../domain/liveRoom.ts";
import { checkMessageSize, type MsgBody } from "../../domain/message.ts";
import type { TokenBucket } from "../../domain/rateLimit.ts";
import { OrderedRelay } from "../../mechanisms/orderedRelay.ts";
import { liveShard } from "../refs.ts";
import type { GroupCaller, GroupHost } from "./host.ts";
import { sendOperatorOf } from "./callbacks.ts";

/** A live room needs a little more than other groups' parts: its own tables, and the app's key for tickets. */
export interface LiveHost extends GroupHost {
  readonly sql: SqlStorage;
  appRecord(): Promise<App>;
}

/** The group's host, with its SQLite and the app's record beside it. */
export function liveHost(host: GroupHost, sql: SqlStorage, appRecord: () => Promise<App>): LiveHost {
  return Object.assign(Object.create(host) as GroupHost, { sql, appRecord });
}

export interface LiveJoin {
  status: "JoinedSuccess" | "AlreadyInGroup";
  live: { groupId: string; shard: number; ticket: string; expiresAt: number };
  /** Whether the room is crowded enough that joins take places from seat blocks (not a wire field). */
  blocks?: boolean;
}

/** A block of places a joiner's actor hands out itself, and the room's bans when they changed since `bansVersion`. */
export interface LiveSeats {
  shard: number;
  seats: number;
  /** How long the places stay good (ms). */
  validMs: number;
  /** Whether joins should keep taking places from blocks (false once the room is small again). */
  blocks: boolean;
  bansVersion: string;
  bans?: { userId: string; until: number }[];
}

/** Who came online and went offline on a shard since its last report. */
export interface AudienceChanges {
  joined: { userId: string; at: number }[];
  left: string[];
}

export interface LiveDraft {
  random: number;
  body: MsgBody;
  cloudCustomData?: string;
  priority?: MsgPriority;
  /** REST ForbidCallbackControl. */
  forbidBeforeCallback?: boolean;
  forbidAfterCallback?: boolean;
}

/** Where a send comes from: a viewer's live connection (its shard vouches it joined), or anywhere else. */
export type LiveSendPath = "shard" | "elsewhere";

type Role = "AppAdmin" | "Owner" | "Admin" | "Viewer";

const dedupeWindowMs = 5 * 60 * 1000;
const maxRemembered = 10_000;
/** Items that may wait for one shard that falls behind before its lowest priorities are dropped. */
const maxBacklog = 2_000;
/** Members listed per get_members page. */
const membersPerPage = 100;

const schema = [
  "CREATE TABLE IF NOT EXISTS live_shards (shard INTEGER PRIMARY KEY, sockets INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS live_bans (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL, description TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS live_mutes (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS live_admins (user_id TEXT PRIMARY KEY)",
  "CREATE TABLE IF NOT EXISTS live_joiners (user_id TEXT PRIMARY KEY, n INTEGER NOT NULL, joined_at INTEGER NOT NULL, shard INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS live_joiners_by_n ON live_joiners (n)",
  // The last `live.keepLast` messages, for late joiners (at most 100 rows).
  "CREATE TABLE IF NOT EXISTS live_recent (seq INTEGER PRIMARY KEY, message TEXT NOT NULL)",
  // Messages dropped, by priority: by the room's rate (shard -1) and by each shard behind its rate
  // (kept after the shard retires, so the room's totals stay whole). At most 4 rows a shard number.
  "CREATE TABLE IF NOT EXISTS live_drops (shard INTEGER NOT NULL, priority TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (shard, priority))",
];

/** The room's own rate in `live_drops`, beside the shards' numbers. */
const roomRate = -1;
const priorities: MsgPriority[] = ["High", "Normal", "Low", "Lowest"];

/** What an operator reads of a live room (edgeim_admin_svc/get_live_room). */
export interface LiveRoomInfo {
  onlineCount: number;
  shards: { shard: number; sockets: number; dropped: Record<MsgPriority, number> }[];
  /** Refused by the room's rate (MsgFreqCtrl), since the room was created. */
  rateDropped: Record<MsgPriority, number>;
  /** Dropped by shards behind their broadcast rate, retired shards included. */
  shardDropped: Record<MsgPriority, number>;
}

export class GroupLive {
  private readonly host: LiveHost;
  private ready = false;
  /** Per open shard: the viewers it last reported, and the places given there that no arrival has taken yet. */
  private shards?: Map<number, ShardLoad>;
  private bucket?: TokenBucket;
  private readonly sent = new Map<string, { result: GroupSendResult; at: number }>();
  /** Sends waiting on their before-callback, so a retry meanwhile gets the same answer. */
  private readonly sending = new Map<string, Promise<GroupSendResult>>();
  /** Bans change under this version; a joiner's actor holding the same version has the same list. */
  private readonly bansEpoch = crypto.randomUUID();
  private banChanges = 0;
  private readonly relay: OrderedRelay<LiveItem>;
  private queued: LiveItem[] = [];
  private readonly relayTargets = new Map<number, number[]>();
  /** The newest joiner's number (`live_joiners.n`), once read. */
  private lastJoiner?: number;
  private settings?: LiveSettings;
  /** Refusals by the room's rate not yet written to `live_drops` (written at most once a second). */
  private unsavedDrops: Record<MsgPriority, number> = noDrops();
  private dropsSaving?: ReturnType<typeof setTimeout>;

  constructor(host: LiveHost) {
    this.host = host;
    this.relay = new OrderedRelay<LiveItem>({
      call: (shard, items) => this.callShard(shard, items),
      trim: (backlog) => trimBacklog(backlog, maxBacklog).kept,
      failed: (shard, error) => console.error(JSON.stringify({ event: "live_relay_failed", group: host.groupId, shard, message: String(error) })),
    });
  }

  // ---------------------------------------------------------------- joining and leaving

  async join(caller: GroupCaller): Promise<LiveJoin> {
    const profile = this.host.profile();
    const userId = requireUser(caller);
    const [settings, app, appSettings] = [await this.liveSettings(), await this.host.appRecord(), await this.host.settings()];
    this.refuseBanned(userId);
    const shards = this.openShards();
    const listed = this.sqlOne<{ shard: number }>("SELECT shard FROM live_joiners WHERE user_id = ?", userId);
    let shard: number;
    // A viewer who joins again while listed keeps its shard, so its devices are counted once there.
    const already = listed !== undefined && shards.has(listed.shard);
    if (already) shard = listed.shard;
    else {
      shard = placeViewer(this.load(), settings.shardSize).shard;
      this.reserve(shard, 1);
    }
    this.host.transaction(() => {
      this.listJoiner(userId, shard);
      if (!already) this.host.callbacks.after(appSettings, GroupCallback.afterNewMemberJoin, caller, afterNewMemberJoinFields(profile, "Apply", userId, [userId]));
    });
    if (!already) this.host.callbacks.deliverSoon();
    if (!already && announcesMembership(this.audience(), settings)) this.tip(GroupTipType.memberJoined, userId, [userId]);
    const expiresAt = Math.floor(Date.now() / 1000) + ticketLifetimeSeconds;
    if (!app.secretKey) throw groupError(GroupErrorCode.invalidRequest, "the app has no secret key to sign live-room tickets with");
    const ticket = await signTicket(app.secretKey, { sdkAppId: this.host.sdkAppId, groupId: this.host.groupId, shard, userId, expiresAt });
    return { status: already ? "AlreadyInGroup" : "JoinedSuccess", live: { groupId: this.host.groupId, shard, ticket, expiresAt }, blocks: placesFromBlocks(this.expectedAudience(), settings) };
  }

  /**
   * A block of places for a crowded room's joins: the joiners' actors place viewers from it and
   * sign their tickets themselves, so a join burst costs the coordinator one request per block
   * (docs/ARCHITECTURE.md, "Join bursts"). The bans come along when they changed since `bansVersion`;
   * the places the last block left unused come back (`unused`), so they do not hold room on their shard.
   */
  async seats(bansVersion: string, unused?: { shard: number; seats: number }): Promise<LiveSeats> {
    this.host.profile();
    const settings = await this.liveSettings();
    if (unused) this.release(unused.shard, unused.seats);
    const grant = grantSeats(this.load(), settings.shardSize, seatBlockSize);
    this.reserve(grant.shard, grant.seats);
    const version = `${this.bansEpoch}:${this.banChanges}`;
    const seats: LiveSeats = { shard: grant.shard, seats: grant.seats, validMs: seatBlockMs, blocks: placesFromBlocks(this.expectedAudience(), settings), bansVersion: version };
    if (version !== bansVersion) seats.bans = this.activeBans();
    return seats;
  }

  async quit(caller: GroupCaller): Promise<void> {
    const profile = this.host.profile();
    const userId = requireUser(caller);
    const [settings, appSettings] = [await this.liveSettings(), await this.host.settings()];
    this.host.transaction(() => {
      this.sql("DELETE FROM live_joiners WHERE user_id = ?", userId);
      this.host.callbacks.after(appSettings, GroupCallback.afterMemberExit, caller, afterMemberExitFields(profile, "Quit", userId, [userId]));
    });
    this.host.callbacks.deliverSoon();
    if (announcesMembership(this.audience(), settings)) this.tip(GroupTipType.memberQuit, userId, [userId]);
    this.enqueue({ kind: "leave", userIds: [userId] });
  }

  // ---------------------------------------------------------------- messages

  async send(caller: GroupCaller, draft: LiveDraft, path: LiveSendPath): Promise<GroupSendResult> {
    const key = `${caller.userId ?? "@TIM#SYSTEM"}\n${draft.random}`;
    const pending = this.sending.get(key);
    if (pending) return pending;
    const sending = this.sendOnce(caller, draft, path);
    this.sending.set(key, sending);
    try {
      return await sending;
    } finally {
      if (this.sending.get(key) === sending) this.sending.delete(key);
    }
  }

  private async sendOnce(caller: GroupCaller, draft: LiveDraft, path: LiveSendPath): Promise<GroupSendResult> {
    const profile = this.host.profile();
    const role = this.roleOf(caller);
    const now = Date.now();
    const nowSeconds = Math.floor(now / 1000);
    const from = caller.userId ?? "@TIM#SYSTEM";
    if (role !== "AppAdmin") {
      this.refuseBanned(from);
      if (path !== "shard" && role === "Viewer") throw groupError(GroupErrorCode.noPermission, "viewers send through their live connection (/v1/live), which vouches that they joined");
      const muted = this.sqlOne<{ until: number }>("SELECT until FROM live_mutes WHERE user_id = ?", from);
      if (muted && muted.until > nowSeconds) throw groupError(GroupErrorCode.muted, "you are muted in this live room");
      if (profile.muteAllMember && role === "Viewer") throw groupError(GroupErrorCode.muted, "the whole live room is muted");
    }
    checkMessageSize(draft.body, draft.cloudCustomData);
    const key = `${from}\n${draft.random}`;
    const retried = this.sent.get(key);
    if (retried && now - retried.at < dedupeWindowMs) return retried.result;

    const priority = draft.priority ?? "Normal";
    const policy = await this.host.policy();
    const admission = admitByPriority(this.bucket, policy.messagesPerSecond, priority, Date.now());
    this.bucket = admission.bucket;
    if (!admission.admitted) {
      this.refused(priority);
      return { seq: 0, time: nowSeconds, random: draft.random, dropReason: "MsgFreqCtrl" };
    }
    // As in every group: the app's backend may refuse, drop or rewrite the message before it is numbered.
    const appSettings = await this.host.settings();
    let { body, cloudCustomData } = draft;
    if (!draft.forbidBeforeCallback && callbackEnabled(appSettings.callbacks, GroupCallback.beforeSendMsg)) {
      const decision = await this.host.callbacks.askBeforeSend(appSettings.callbacks, caller, profile, from, draft);
      if (decision.kind === "refuse") throw groupError(decision.code, decision.info);
      if (decision.kind === "drop") return { seq: 0, time: nowSeconds, random: draft.random, dropReason: "" };
      if (decision.body) body = decision.body;
      if (decision.cloudCustomData !== undefined) cloudCustomData = decision.cloudCustomData;
    }
    const afterSend = !draft.forbidAfterCallback && callbackEnabled(appSettings.callbacks, GroupCallback.afterSendMsg);
    const keepLast = appSettings.live.keepLast;
    const message: GroupMessage = { groupId: this.host.groupId, seq: 0, from, random: draft.random, time: nowSeconds, body, priority, isRevoked: false, isModified: false };
    if (cloudCustomData !== undefined) message.cloudCustomData = cloudCustomData;
    // The MsgSeq is the one thing written per message (with the recent ring, when the app keeps one,
    // and the after-callback, committed with it).
    const seq = this.host.transaction(() => {
      message.seq = this.host.store.takeSeq();
      if (keepLast > 0) {
        this.sql("INSERT INTO live_recent (seq, message) VALUES (?, ?)", message.seq, JSON.stringify(message));
        this.sql("DELETE FROM live_recent WHERE seq <= ?", message.seq - keepLast);
      }
      if (afterSend) this.host.callbacks.after(appSettings, GroupCallback.afterSendMsg, caller, afterSendMsgFields(profile, message, undefined, sendOperatorOf(caller, message.from)));
      // Down messages: the audience as the shards last reported it.
      this.host.stats.count({ GroupUpMsgNum: 1, GroupDownMsgNum: this.audience() }, [{ marker: "sent", counts: { GroupSendMsgGroupNum: 1 } }]);
      return message.seq;
    });
    if (afterSend) this.host.callbacks.deliverSoon();
    const event: GroupEvent = { kind: "groupMessage", message };
    this.enqueue({ kind: "message", seq, priority, text: JSON.stringify({ event: event.kind, data: event }) });
    const result: GroupSendResult = { seq, time: nowSeconds, random: draft.random, dropReason: "" };
    this.remember(key, result, now);
    return result;
  }

  // ---------------------------------------------------------------- bans, mutes, admins

  async ban(caller: GroupCaller, userIds: string[], durationSeconds: number, description: string): Promise<void> {
    const profile = this.host.profile();
    this.requireManager(caller);
    const [settings, appSettings] = [await this.liveSettings(), await this.host.settings()];
    const targets = [...new Set(userIds)];
    this.refuseManagers(targets, "ban");
    const nowSeconds = Math.floor(Date.now() / 1000);
    const until = nowSeconds + durationSeconds;
    this.sql("DELETE FROM live_bans WHERE until <= ?", nowSeconds);
    const banned = this.sqlOne<{ n: number }>("SELECT COUNT(*) AS n FROM live_bans WHERE user_id NOT IN (SELECT value FROM json_each(?))", JSON.stringify(targets))!.n;
    if (banned + targets.length > settings.maxBans) throw groupError(GroupErrorCode.invalidParameter, `a live room holds at most ${settings.maxBans} banned users`);
    // Those listed among the joiners are the ones known to leave: Group.CallbackAfterMemberExit names them (Kicked).
    const removed = this.listed(targets);
    this.host.transaction(() => {
      for (const userId of targets) {
        this.sql("INSERT INTO live_bans (user_id, until, description) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until, description = excluded.description", userId, until, description);
        this.sql("DELETE FROM live_joiners WHERE user_id = ?", userId);
      }
      if (removed.length > 0) this.host.callbacks.after(appSettings, GroupCallback.afterMemberExit, caller, afterMemberExitFields(profile, "Kicked", caller.userId ?? caller.adminId ?? "", removed));
    });
    this.banChanges++;
    this.host.callbacks.deliverSoon();
    // The tip goes first, so the banned viewers see it before their sockets close.
    this.tip(liveTip.banned, caller.userId ?? "", targets);
    this.enqueue({ kind: "ban", userIds: targets, until });
  }

  async unban(caller: GroupCaller, userIds: string[]): Promise<void> {
    this.host.profile();
    this.requireManager(caller);
    const targets = [...new Set(userIds)];
    this.host.transaction(() => {
      for (const userId of targets) this.sql("DELETE FROM live_bans WHERE user_id = ?", userId);
    });
    this.banChanges++;
    this.tip(liveTip.unbanned, caller.userId ?? "", targets);
    this.enqueue({ kind: "unban", userIds: targets });
  }

  bannedPage(caller: GroupCaller, offset: number, limit: number): { banned: { userId: string; until: number }[]; nextOffset: number } {
    this.host.profile();
    this.requireManager(caller);
    const rows = this.sqlAll<{ user_id: string; until: number }>(
      "SELECT user_id, until FROM live_bans WHERE until > ? ORDER BY user_id LIMIT ? OFFSET ?",
      Math.floor(Date.now() / 1000),
      limit + 1,
      offset,
    );
    const more = rows.length > limit;
    return { banned: rows.slice(0, limit).map((r) => ({ userId: r.user_id, until: r.until })), nextOffset: more ? offset + limit : 0 };
  }

  async mute(caller: GroupCaller, userIds: string[], muteTimeSeconds: number): Promise<void> {
    this.host.profile();
    this.requireManager(caller);
    const targets = [...new Set(userIds)];
    this.refuseManagers(targets, "mute");
    const muteUntil = muteUntilFor(muteTimeSeconds, Math.floor(Date.now() / 1000));
    this.host.transaction(() => {
      for (const userId of targets) {
        if (muteUntil === 0) this.sql("DELETE FROM live_mutes WHERE user_id = ?", userId);
        else this.sql("INSERT INTO live_mutes (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until", userId, muteUntil);
      }
    });
    this.tip(GroupTipType.memberProfileUpdated, caller.userId ?? "", targets, { muteUntil });
  }

  mutedMembers(caller: GroupCaller): { userId: string; mutedUntil: number }[] {
    this.host.profile();
    this.requireManager(caller);
    return this.sqlAll<{ user_id: string; until: number }>("SELECT user_id, until FROM live_mutes WHERE until > ? ORDER BY user_id", Math.floor(Date.now() / 1000)).map((r) => ({
      userId: r.user_id,
      mutedUntil: r.until,
    }));
  }

  /** AV modify_admin: the owner (or the app's admin) sets or cancels up to 5 admins. */
  async modifyAdmins(caller: GroupCaller, set: boolean, userIds: string[]): Promise<void> {
    const profile = this.host.profile();
    const role = this.roleOf(caller);
    if (role !== "Owner" && role !== "AppAdmin") throw groupError(GroupErrorCode.noPermission, "only the owner sets a live room's admins");
    const targets = [...new Set(userIds)].filter((u) => u !== profile.ownerAccount);
    const current = new Set(this.adminIds());
    const changed = targets.filter((u) => current.has(u) !== set);
    if (set && current.size + changed.length > maxLiveAdmins) {
      throw groupError(GroupErrorCode.invalidParameter, `a live room has at most ${maxLiveAdmins} admins besides its owner`);
    }
    this.host.transaction(() => {
      for (const userId of changed) {
        if (set) this.sql("INSERT OR IGNORE INTO live_admins (user_id) VALUES (?)", userId);
        else this.sql("DELETE FROM live_admins WHERE user_id = ?", userId);
      }
    });
    if (changed.length > 0) this.tip(set ? GroupTipType.adminSet : GroupTipType.adminCancelled, caller.userId ?? "", changed);
  }

  adminIds(): string[] {
    this.host.profile();
    return this.sqlAll<{ user_id: string }>("SELECT user_id FROM live_admins ORDER BY user_id").map((r) => r.user_id);
  }

  // ---------------------------------------------------------------- audience

  /** Viewers online: the sum of what each shard last reported (a shard reports within a second of a change). */
  onlineCount(): number {
    this.host.profile();
    return this.audience();
  }

  /** AV get_members: the latest joiners first, at most 1,000 in all; `before` is the last page's NextTimestamp. */
  members(before: number): { members: { userId: string; joinTime: number }[]; next: number } {
    this.host.profile();
    const rows = this.sqlAll<{ user_id: string; n: number; joined_at: number }>(
      "SELECT user_id, n, joined_at FROM live_joiners WHERE n < ? ORDER BY n DESC LIMIT ?",
      before > 0 ? before : Number.MAX_SAFE_INTEGER,
      membersPerPage + 1,
    );
    const page = rows.slice(0, membersPerPage);
    return { members: page.map((r) => ({ userId: r.user_id, joinTime: r.joined_at })), next: rows.length > membersPerPage ? page.at(-1)!.n : 0 };
  }

  /** AV check_members: which of these users are online in the room now (each open shard is asked). */
  async checkMembers(userIds: string[]): Promise<string[]> {
    this.host.profile();
    const wanted = [...new Set(userIds)];
    const answers = await Promise.all([...this.openShards().keys()].map((n) => this.shardStub(n).present(wanted).catch(() => [] as string[])));
    const present = new Set(answers.flat());
    return wanted.filter((u) => present.has(u));
  }

  // ---------------------------------------------------------------- what shards tell the coordinator

  /**
   * A shard's count changed, who came and went there, and what it dropped since its last report.
   * At zero it is retired: it is no longer relayed to, and it forgets its state.
   */
  async shardReport(shard: number, sockets: number, changes?: AudienceChanges, dropped?: Partial<Record<MsgPriority, number>>): Promise<{ memberCount: number; retire: boolean }> {
    if (this.host.store.profile() === null) return { memberCount: 0, retire: true };
    if (dropped) this.addDrops(shard, dropped);
    if (changes && (changes.joined.length > 0 || changes.left.length > 0)) await this.audienceChanged(shard, changes);
    const shards = this.openShards();
    if (sockets === 0) {
      shards.delete(shard);
      this.sql("DELETE FROM live_shards WHERE shard = ?", shard);
      return { memberCount: this.audience(), retire: true };
    }
    // Arrivals take the places given for them; places whose viewers have not logged in yet stay held.
    const entry = shards.get(shard);
    const arrivals = changes ? changes.joined.length : Math.max(0, sockets - (entry?.sockets ?? 0));
    shards.set(shard, { sockets, places: takePlaces(entry?.places ?? [], arrivals, Date.now()) });
    this.sql("INSERT INTO live_shards (shard, sockets) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET sockets = excluded.sockets", shard, sockets);
    return { memberCount: this.audience(), retire: false };
  }

  /** The room as an operator sees it: its shards with their viewers and drops, and the room's drops. */
  roomInfo(): LiveRoomInfo {
    this.host.profile();
    this.saveDrops();
    const drops = this.sqlAll<{ shard: number; priority: MsgPriority; n: number }>("SELECT shard, priority, n FROM live_drops");
    const byShard = new Map<number, Record<MsgPriority, number>>();
    const shardDropped = noDrops();
    for (const { shard, priority, n } of drops) {
      if (!byShard.has(shard)) byShard.set(shard, noDrops());
      byShard.get(shard)![priority] += n;
      if (shard !== roomRate) shardDropped[priority] += n;
    }
    const shards = [...this.openShards()].sort(([a], [b]) => a - b).map(([shard, load]) => ({ shard, sockets: load.sockets, dropped: byShard.get(shard) ?? noDrops() }));
    return { onlineCount: this.audience(), shards, rateDropped: byShard.get(roomRate) ?? noDrops(), shardDropped };
  }

  /** A shard's first viewer since it woke empty: it is relayed to again, and learns the active bans. */
  async shardOpened(shard: number): Promise<{ bans: { userId: string; until: number }[]; recent: GroupMessage[] }> {
    this.host.profile();
    const keepLast = (await this.liveSettings()).keepLast;
    const shards = this.openShards();
    if (!shards.has(shard)) {
      shards.set(shard, { sockets: 0, places: [{ count: 1, at: Date.now() }] });
      this.sql("INSERT OR IGNORE INTO live_shards (shard, sockets) VALUES (?, 0)", shard);
    }
    const recent = this.sqlAll<{ message: string }>("SELECT message FROM live_recent ORDER BY seq DESC LIMIT ?", keepLast)
      .map((r) => JSON.parse(r.message) as GroupMessage)
      .reverse();
    return { bans: this.activeBans(), recent };
  }

  /** The room was dismissed: every shard tells its viewers and closes; the room's live state goes. */
  dismissed(operatorId: string): void {
    const event: GroupEvent = { kind: "groupSystemNotice", groupId: this.host.groupId, operationType: 5, operatorId, time: Math.floor(Date.now() / 1000) };
    this.enqueue({ kind: "dismissed", text: JSON.stringify({ event: event.kind, data: event }) });
    this.flush();
    this.ensure();
    for (const table of ["live_shards", "live_bans", "live_mutes", "live_admins", "live_joiners", "live_recent", "live_drops"]) this.sql(`DELETE FROM ${table}`);
    this.unsavedDrops = noDrops();
    this.banChanges++;
    this.shards = new Map();
    this.lastJoiner = 0;
  }

  /** Resolves when every relayed item has been handed to its shard (tests and benchmarks wait on it). */
  relayed(): Promise<void> {
    this.flush();
    return this.relay.idle();
  }

  /** An event of the room's other parts (profile tips, attributes, counters) for every viewer. */
  relayEvent(event: GroupEvent): void {
    this.enqueue({ kind: "event", text: JSON.stringify({ event: event.kind, data: event }) });
  }

  // ---------------------------------------------------------------- inside

  private tip(operationType: number, operatorId: string, userIds: string[], profile?: Record<string, unknown>): void {
    const event: GroupEvent = { kind: "groupTip", groupId: this.host.groupId, operationType, operatorId, userIds, time: Math.floor(Date.now() / 1000), ...(profile ? { profile } : {}) };
    this.enqueue({ kind: "event", text: JSON.stringify({ event: event.kind, data: event }) });
  }

  /** Items queued in one turn go to each shard in one call. */
  private enqueue(item: LiveItem): void {
    this.queued.push(item);
    if (this.queued.length === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    if (this.queued.length === 0) return;
    const items = this.queued;
    this.queued = [];
    const fanout = this.settings?.directFanout ?? 64;
    this.relayTargets.clear();
    for (const { shard, relayTo } of relayPlan([...this.openShards().keys()], fanout)) {
      this.relayTargets.set(shard, relayTo);
      this.relay.send(shard, items);
    }
  }

  /** A relay head passes each batch on to the rest of its block, as the latest plan has it. */
  private async callShard(shard: number, items: LiveItem[]): Promise<void> {
    await this.shardStub(shard).deliver(items, this.relayTargets.get(shard) ?? []);
  }

  private shardStub(shard: number) {
    return liveShard(this.host.env, this.host.sdkAppId, this.host.groupId, shard);
  }

  private openShards(): Map<number, ShardLoad> {
    if (!this.shards) {
      this.ensure();
      this.shards = new Map(this.sqlAll<{ shard: number; sockets: number }>("SELECT shard, sockets FROM live_shards").map((r) => [r.shard, { sockets: r.sockets, places: [] }]));
    }
    return this.shards;
  }

  /** Each open shard's viewers as last reported plus the places held there for viewers still on their way. */
  private load(): Map<number, number> {
    const now = Date.now();
    return new Map([...this.openShards()].map(([n, s]) => [n, s.sockets + heldPlaces(s.places, now)]));
  }

  /** The audience as reported plus the places given since: a burst counts before its viewers arrive. */
  private expectedAudience(): number {
    let total = 0;
    for (const load of this.load().values()) total += load;
    return total;
  }

  /** Holds places on a shard until arrivals there take them (or they expire), opening it when it was not. */
  private reserve(shard: number, places: number): void {
    const shards = this.openShards();
    const entry = shards.get(shard);
    const now = Date.now();
    shards.set(shard, { sockets: entry?.sockets ?? 0, places: [...takePlaces(entry?.places ?? [], 0, now), { count: places, at: now }] });
    if (!entry) this.sql("INSERT OR IGNORE INTO live_shards (shard, sockets) VALUES (?, 0)", shard);
  }

  /** Places given and not used: the newest held places on the shard go. */
  private release(shard: number, places: number): void {
    const entry = this.openShards().get(shard);
    if (entry) entry.places = releasePlaces(entry.places, places);
  }

  /** A send refused by the room's rate: counted now, written within a second (one write per second of refusals, not one each). */
  private refused(priority: MsgPriority): void {
    this.unsavedDrops[priority]++;
    this.dropsSaving ??= setTimeout(() => this.saveDrops(), 1_000);
  }

  private saveDrops(): void {
    if (this.dropsSaving !== undefined) clearTimeout(this.dropsSaving);
    this.dropsSaving = undefined;
    const drops = this.unsavedDrops;
    this.unsavedDrops = noDrops();
    this.addDrops(roomRate, drops);
  }

  private addDrops(shard: number, drops: Partial<Record<MsgPriority, number>>): void {
    for (const priority of priorities) {
      const n = drops[priority] ?? 0;
      if (n > 0) this.sql("INSERT INTO live_drops (shard, priority, n) VALUES (?, ?, ?) ON CONFLICT (shard, priority) DO UPDATE SET n = n + excluded.n", shard, priority, n);
    }
  }

  private activeBans(): { userId: string; until: number }[] {
    return this.sqlAll<{ user_id: string; until: number }>("SELECT user_id, until FROM live_bans WHERE until > ?", Math.floor(Date.now() / 1000)).map((b) => ({ userId: b.user_id, until: b.until }));
  }

  /** Which of these users are among the listed joiners. */
  private listed(userIds: string[]): string[] {
    const rows = this.sqlAll<{ user_id: string }>("SELECT user_id FROM live_joiners WHERE user_id IN (SELECT value FROM json_each(?))", JSON.stringify(userIds));
    const found = new Set(rows.map((r) => r.user_id));
    return userIds.filter((u) => found.has(u));
  }

  /**
   * What a shard saw between two reports: viewers placed from seat blocks are listed here (the
   * coordinator did not see their joins), and the app hears of arrivals and departures, one
   * callback per kind per report, however many came.
   */
  private async audienceChanged(shard: number, changes: AudienceChanges): Promise<void> {
    const profile = this.host.profile();
    const appSettings = await this.host.settings();
    const known = new Set(this.listed(changes.joined.map((j) => j.userId)));
    const newcomers = changes.joined.filter((j) => !known.has(j.userId));
    const system: GroupCaller = { appAdmin: true };
    this.host.transaction(() => {
      for (const { userId, at } of newcomers) this.listJoiner(userId, shard, at);
      if (newcomers.length > 0) {
        // Tencent sends one per join with the joiner as the operator; a batch of several names the system.
        const operator = newcomers.length === 1 ? newcomers[0]!.userId : "@TIM#SYSTEM";
        this.host.callbacks.after(appSettings, GroupCallback.afterNewMemberJoin, system, afterNewMemberJoinFields(profile, "Apply", operator, newcomers.map((j) => j.userId)));
      }
      if (changes.joined.length > 0) this.host.callbacks.after(appSettings, GroupCallback.onMemberStateChange, system, memberStateChangeFields(profile, "Online", changes.joined.map((j) => j.userId)));
      if (changes.left.length > 0) this.host.callbacks.after(appSettings, GroupCallback.onMemberStateChange, system, memberStateChangeFields(profile, "Offline", changes.left));
    });
    this.host.callbacks.deliverSoon();
  }

  private audience(): number {
    let total = 0;
    for (const { sockets } of this.openShards().values()) total += sockets;
    return total;
  }

  private listJoiner(userId: string, shard: number, at = Date.now()): void {
    this.lastJoiner ??= this.sqlOne<{ n: number | null }>("SELECT MAX(n) AS n FROM live_joiners")?.n ?? 0;
    const n = ++this.lastJoiner;
    this.sql(
      "INSERT INTO live_joiners (user_id, n, joined_at, shard) VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET n = excluded.n, joined_at = excluded.joined_at, shard = excluded.shard",
      userId,
      n,
      Math.floor(at / 1000),
      shard,
    );
    if (n > maxListedJoiners) this.sql("DELETE FROM live_joiners WHERE n <= ?", n - maxListedJoiners);
  }

  private roleOf(caller: GroupCaller): Role {
    if (caller.appAdmin) return "AppAdmin";
    const userId = caller.userId;
    if (userId === undefined) return "Viewer";
    if (this.host.profile().ownerAccount === userId) return "Owner";
    return this.sqlOne("SELECT 1 AS one FROM live_admins WHERE user_id = ?", userId) ? "Admin" : "Viewer";
  }

  private requireManager(caller: GroupCaller): void {
    if (this.roleOf(caller) === "Viewer") throw groupError(GroupErrorCode.noPermission, "only the owner and the admins of a live room may do this");
  }

  private refuseManagers(userIds: string[], what: string): void {
    const owner = this.host.profile().ownerAccount;
    const admins = new Set(this.adminIds());
    const manager = userIds.find((u) => u === owner || admins.has(u));
    if (manager) throw groupError(GroupErrorCode.noPermission, `the owner and admins cannot be ${what === "ban" ? "banned" : "muted"} (${manager})`);
  }

  private refuseBanned(userId: string): void {
    const ban = this.sqlOne<{ until: number }>("SELECT until FROM live_bans WHERE user_id = ?", userId);
    // Tencent documents no code of its own for a banned viewer; 10007 (no permission) is the nearest.
    if (ban && isBanned(ban.until, Math.floor(Date.now() / 1000))) {
      throw groupError(GroupErrorCode.noPermission, `you are banned from this live room until ${new Date(ban.until * 1000).toISOString()}`);
    }
  }

  private remember(key: string, result: GroupSendResult, now: number): void {
    if (this.sent.size >= maxRemembered) {
      for (const [k, v] of this.sent) {
        if (now - v.at < dedupeWindowMs && this.sent.size < maxRemembered) break;
        this.sent.delete(k);
      }
    }
    this.sent.set(key, { result, at: now });
  }

  private async liveSettings(): Promise<LiveSettings> {
    this.settings = (await this.host.settings()).live;
    return this.settings;
  }

  private ensure(): void {
    if (this.ready) return;
    for (const statement of schema) this.host.sql.exec(statement);
    this.ready = true;
  }

  private sql(query: string, ...bindings: unknown[]): void {
    this.ensure();
    this.host.sql.exec(query, ...bindings);
  }

  private sqlAll<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T[] {
    this.ensure();
    return this.host.sql.exec<T>(query, ...bindings).toArray();
  }

  private sqlOne<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T | undefined {
    return this.sqlAll<T>(query, ...bindings)[0];
  }
}

interface ShardLoad {
  sockets: number;
  places: Places[];
}

function noDrops(): Record<MsgPriority, number> {
  return { High: 0, Normal: 0, Low: 0, Lowest: 0 };
}

/** Tencent's live-room tips (TIMGroupTipElem): 10 banned, 11 unbanned. */
export const liveTip = { banned: 10, unbanned: 11 } as const;

function requireUser(caller: GroupCaller): string {
  if (!caller.userId) throw groupError(GroupErrorCode.invalidParameter, "a user joins and leaves a live room; name one");
  return caller.userId;
}
