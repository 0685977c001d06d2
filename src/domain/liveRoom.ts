/**
 * Live rooms (AVChatRoom): the pure decisions of a sharded audience. The room's
 * coordinator (its GroupActor) places viewers on shards, keeps order, bans,
 * mutes and admins, and admits messages by priority; each LiveShard holds at
 * most `shardSize` sockets and broadcasts to them (docs/ARCHITECTURE.md,
 * "Live rooms").
 */
import { z } from "zod";
import { MsgPriority } from "./group.ts";
import { MsgBody, MsgRandom } from "./message.ts";
import { OpData } from "./protocol.ts";
import type { TokenBucket } from "./rateLimit.ts";
import { Platform } from "./devices.ts";
import { UserId } from "./account.ts";

export const LiveSettings = z.object({
  /** Sockets one shard holds before the coordinator opens another (the platform's ceiling is 32,768). */
  shardSize: z.number().int().min(1).max(30_000).default(500),
  /** Shards the coordinator calls itself; past it each call reaches a relay shard that calls up to this many. */
  directFanout: z.number().int().min(2).max(256).default(64),
  /** Join and quit tips are sent while the audience is at most this. */
  tipsUpTo: z.number().int().min(0).default(1_000),
  /** Messages a connection may leave unacknowledged before it is closed as a slow consumer (4009). */
  unackedLimit: z.number().int().min(4).max(10_000).default(256),
  /** Deliveries (messages × sockets) one shard makes per second before it drops low priorities. */
  shardDeliveriesPerSecond: z.number().int().min(1).default(20_000),
  /** Users one room may hold banned at once. */
  maxBans: z.number().int().min(1).max(10_000).default(10_000),
  /** Messages the room keeps for late joiners, answered at their live login; 0 keeps none. */
  keepLast: z.number().int().min(0).max(100).default(0),
});
export type LiveSettings = z.infer<typeof LiveSettings>;

/** Admins a live room has besides its owner (AV modify_admin). */
export const maxLiveAdmins = 5;
/** The latest joiners a room lists (AV get_members); older viewers are not kept by name. */
export const maxListedJoiners = 1_000;
/** How long a join's ticket lets its viewer into its shard, reconnects included. */
export const ticketLifetimeSeconds = 24 * 60 * 60;
/** How often a shard tells the coordinator its count while it changes. */
export const shardReportIntervalMs = 1_000;
/**
 * A device acks after this many messages (docs/PROTOCOL.md): a quarter of the default
 * `unackedLimit`, so a device that reads keeps three quarters of the limit in hand.
 */
export const ackEvery = 64;

/**
 * The shard for a new viewer: the lowest-numbered open shard with room, else a new one (the
 * lowest number not in use). `load` counts sockets reported plus places given since the report.
 */
export function placeViewer(load: ReadonlyMap<number, number>, shardSize: number): { shard: number; opened: boolean } {
  const open = [...load.keys()].sort((a, b) => a - b);
  for (const shard of open) if (load.get(shard)! < shardSize) return { shard, opened: false };
  let shard = 0;
  while (load.has(shard)) shard++;
  return { shard, opened: true };
}

/** Places given on one shard and not yet seen arriving there: `count` of them, given at `at` (ms). */
export interface Places {
  count: number;
  at: number;
}

/** How long a given place is held for its viewer (a block lasts a second, a shard reports within one, a login takes the rest). */
export const placeHoldMs = 5_000;

/** The places still held: given less than `placeHoldMs` ago and not yet taken by an arrival. */
export function heldPlaces(places: readonly Places[], nowMs: number): number {
  let held = 0;
  for (const p of places) if (nowMs - p.at < placeHoldMs) held += p.count;
  return held;
}

/**
 * A shard reported `arrivals` new viewers: they took the oldest places held there. What is left
 * stays held until it expires, so viewers placed but not yet logged in keep counting on their
 * shard however many reports come first.
 */
export function takePlaces(places: readonly Places[], arrivals: number, nowMs: number): Places[] {
  let left = arrivals;
  const kept: Places[] = [];
  for (const p of places) {
    if (nowMs - p.at >= placeHoldMs) continue;
    const taken = Math.min(left, p.count);
    left -= taken;
    if (p.count > taken) kept.push({ count: p.count - taken, at: p.at });
  }
  return kept;
}

/** Places given but not used (a block's rest, once it is stale) go back: the newest first. */
export function releasePlaces(places: readonly Places[], count: number): Places[] {
  let left = count;
  const kept: Places[] = [];
  for (let i = places.length - 1; i >= 0; i--) {
    const p = places[i]!;
    const released = Math.min(left, p.count);
    left -= released;
    if (p.count > released) kept.unshift({ count: p.count - released, at: p.at });
  }
  return kept;
}

/** Places one seat request gives a user's actor to hand out itself, and how long they stay good. */
export const seatBlockSize = 64;
export const seatBlockMs = 1_000;

/**
 * A block of places for the joins of a crowded room: up to `block` on the shard `placeViewer`
 * picks, never more than it has room for (at least one, on a new shard when all are full).
 */
export function grantSeats(load: ReadonlyMap<number, number>, shardSize: number, block: number): { shard: number; seats: number } {
  const { shard } = placeViewer(load, shardSize);
  return { shard, seats: Math.max(1, Math.min(block, shardSize - (load.get(shard) ?? 0))) };
}

/**
 * Whether joins are placed from seat blocks rather than one by one by the coordinator: above the
 * audience at which join tips stop, a join is anonymous to the room (no tip), so it needs nothing
 * the coordinator must do at once.
 */
export function placesFromBlocks(audience: number, settings: Pick<LiveSettings, "tipsUpTo">): boolean {
  return !announcesMembership(audience, settings);
}

/** Who came and went on a shard between two reports: the users it holds now against those it last reported. */
export function audienceChanges(reported: ReadonlySet<string>, now: ReadonlyMap<string, number>): { joined: { userId: string; at: number }[]; left: string[] } {
  const joined = [...now].filter(([userId]) => !reported.has(userId)).map(([userId, at]) => ({ userId, at })).sort((a, b) => a.at - b.at);
  const left = [...reported].filter((userId) => !now.has(userId));
  return { joined, left };
}

/** The newest `keep` messages by MsgSeq, oldest first, each once. */
export function keepRecent<T extends { seq: number }>(messages: readonly T[], keep: number): T[] {
  const bySeq = new Map<number, T>();
  for (const m of messages) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(Math.max(0, bySeq.size - keep));
}

/**
 * Which shards the coordinator calls for one broadcast, and which each of those relays to:
 * up to `fanout` shards directly; past that, one relay call per block of `fanout` shards.
 * Two tiers reach fanout² shards (64² × 500 sockets = 2 million viewers).
 */
export function relayPlan(shards: number[], fanout: number): { shard: number; relayTo: number[] }[] {
  const sorted = [...shards].sort((a, b) => a - b);
  if (sorted.length <= fanout) return sorted.map((shard) => ({ shard, relayTo: [] }));
  const blocks: { shard: number; relayTo: number[] }[] = [];
  const blockSize = Math.ceil(sorted.length / fanout);
  for (let i = 0; i < sorted.length; i += blockSize) {
    const [head, ...rest] = sorted.slice(i, i + blockSize);
    blocks.push({ shard: head!, relayTo: rest });
  }
  return blocks;
}

/**
 * What a priority leaves in the bucket for those above it, as a share of the bucket: under
 * overload Lowest stops when the bucket is half empty, Low at three quarters, Normal when it is
 * empty, and High is never refused. So the lowest priorities are dropped first.
 */
const reserveShare: Record<MsgPriority, number> = { High: -Infinity, Normal: 0, Low: 0.25, Lowest: 0.5 };

/**
 * Admits `cost` units (one message into the room, or one message's deliveries in a shard) at
 * `perSecond` with a burst of one second's worth. High is always admitted and may drive the
 * bucket below zero, which holds back the other priorities until it refills.
 */
export function admitByPriority(
  bucket: TokenBucket | undefined,
  perSecond: number,
  priority: MsgPriority,
  nowMs: number,
  cost = 1,
): { admitted: boolean; bucket: TokenBucket } {
  const start = bucket ?? { tokens: perSecond, at: nowMs };
  const elapsed = Math.max(0, nowMs - start.at);
  const tokens = Math.min(perSecond, start.tokens + (elapsed * perSecond) / 1000);
  const floor = reserveShare[priority] * perSecond;
  // A message costing more than the whole bucket is admitted into a full bucket, so a big shard still delivers Normal.
  if (priority !== "High" && tokens - Math.min(cost, perSecond) < floor) return { admitted: false, bucket: { tokens, at: nowMs } };
  return { admitted: true, bucket: { tokens: Math.max(tokens - cost, -perSecond), at: nowMs } };
}

/**
 * Deliveries a batch must have made to time the shard by: below it, the gap between two calls is
 * mostly the calls' own cost (and the machine's pauses), not the broadcast, and a small shard would
 * take itself for a slow one.
 */
export const minTimedDeliveries = 256;

/**
 * A shard's own broadcast rate, from the time between two relayed batches that came back to back
 * (the second waited while the first was out, so the shard was busy all along): deliveries made
 * over the milliseconds they took, smoothed over the last few samples. Workers' clocks stand still
 * while code runs, so the gap between two calls is what a shard can time.
 */
export function measureDeliveryRate(previous: number | undefined, deliveries: number, elapsedMs: number): number | undefined {
  if (deliveries < minTimedDeliveries || elapsedMs <= 0) return previous;
  const sample = (deliveries * 1000) / elapsedMs;
  return previous === undefined ? sample : previous * 0.7 + sample * 0.3;
}

/**
 * The rate a shard admits deliveries at: what it measured itself doing while busy, at most the
 * app's `live.shardDeliveriesPerSecond` (the ceiling, and the rate until it has measured).
 */
export function shardAdmissionRate(measured: number | undefined, configured: number): number {
  if (measured === undefined) return configured;
  return Math.max(1, Math.min(configured, Math.round(measured)));
}

/**
 * A batch that did not wait means the shard kept up: its measured rate rises by a quarter (and is
 * forgotten once it reaches the ceiling), so a shard that measured itself slow while the machine
 * was busy is not held to it.
 */
export function relaxDeliveryRate(measured: number | undefined, configured: number): number | undefined {
  if (measured === undefined || measured * 1.25 >= configured) return undefined;
  return measured * 1.25;
}

/** Whether a join or quit is announced in a room of this audience. */
export function announcesMembership(audience: number, settings: Pick<LiveSettings, "tipsUpTo">): boolean {
  return audience <= settings.tipsUpTo;
}

/** Whether a connection that has this many messages unacknowledged must be closed. */
export function isSlowConsumer(unacked: number, settings: Pick<LiveSettings, "unackedLimit">): boolean {
  return unacked > settings.unackedLimit;
}

/** The name of a room's shard: `SDKAppID:GroupId:n` (a group id never holds the last colon's digits alone). */
export function liveShardName(sdkAppId: number, groupId: string, shard: number): string {
  return `${sdkAppId}:${groupId}:${shard}`;
}

export function parseLiveShardName(name: string): { sdkAppId: number; groupId: string; shard: number } {
  const first = name.indexOf(":");
  const last = name.lastIndexOf(":");
  return { sdkAppId: Number(name.slice(0, first)), groupId: name.slice(first + 1, last), shard: Number(name.slice(last + 1)) };
}

/** What a ticket signs: the app, room, shard, user and expiry, so it opens nothing else. */
export function ticketText(t: { sdkAppId: number; groupId: string; shard: number; userId: string; expiresAt: number }): string {
  return `live-ticket\n${t.sdkAppId}\n${t.groupId}\n${t.shard}\n${t.userId}\n${t.expiresAt}`;
}

/** Ban bookkeeping: until when a user stays banned, and whether it still is. */
export function banUntil(durationSeconds: number, nowSeconds: number): number {
  return nowSeconds + durationSeconds;
}

export function isBanned(until: number | undefined, nowSeconds: number): boolean {
  return until !== undefined && until > nowSeconds;
}

export interface TicketClaims {
  sdkAppId: number;
  groupId: string;
  shard: number;
  userId: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** Imported keys by secret: a join or login signs with the same few keys over and over. */
const macKeys = new Map<string, Promise<CryptoKey>>();

function macKey(key: string): Promise<CryptoKey> {
  let imported = macKeys.get(key);
  if (!imported) {
    if (macKeys.size >= 64) macKeys.clear();
    imported = crypto.subtle.importKey("raw", new TextEncoder().encode(`live:${key}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    macKeys.set(key, imported);
  }
  return imported;
}

async function ticketMac(key: string, claims: TicketClaims): Promise<string> {
  const hmac = await macKey(key);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(ticketText(claims))));
  return btoa(String.fromCharCode(...mac)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A ticket: `expiresAt.mac`, the mac keyed by the app's secret key (so only this server issues them). */
export async function signTicket(key: string, claims: TicketClaims): Promise<string> {
  return `${claims.expiresAt}.${await ticketMac(key, claims)}`;
}

/** Whether `ticket` lets this user into this shard now; the reason when it does not. */
export async function checkTicket(key: string, ticket: string, claims: Omit<TicketClaims, "expiresAt">, nowSeconds: number): Promise<string | null> {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  if (!match) return "the ticket is malformed; join the room again";
  const expiresAt = Number(match[1]);
  if (expiresAt <= nowSeconds) return "the ticket has expired; join the room again";
  const expected = await ticketMac(key, { ...claims, expiresAt });
  // Lengths are fixed; compare without an early exit.
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ match[2]!.charCodeAt(i);
  return diff === 0 ? null : "the ticket is not for this user, room and shard; join the room again";
}

/**
 * What the coordinator relays to its shards, in order: frames serialised once (a message, with
 * its priority and MsgSeq; a tip), and the changes a shard applies to its sockets.
 */
export type LiveItem =
  | { kind: "message"; seq: number; priority: MsgPriority; text: string }
  | { kind: "event"; text: string }
  | { kind: "ban"; userIds: string[]; until: number }
  | { kind: "unban"; userIds: string[] }
  | { kind: "leave"; userIds: string[] }
  | { kind: "dismissed"; text: string };

const dropOrder: MsgPriority[] = ["Lowest", "Low", "Normal"];

/**
 * Bounds what waits for one shard (or one relay target) that falls behind: drops messages of the
 * lowest priority first, oldest first, until at most `max` items wait. High messages, tips and
 * changes are never dropped. Returns what is kept and how many of each priority went.
 */
export function trimBacklog(items: LiveItem[], max: number): { kept: LiveItem[]; dropped: Partial<Record<MsgPriority, number>> } {
  let excess = items.length - max;
  if (excess <= 0) return { kept: items, dropped: {} };
  const drop = new Set<number>();
  const dropped: Partial<Record<MsgPriority, number>> = {};
  for (const priority of dropOrder) {
    for (let i = 0; i < items.length && excess > 0; i++) {
      const item = items[i]!;
      if (item.kind === "message" && item.priority === priority) {
        drop.add(i);
        dropped[priority] = (dropped[priority] ?? 0) + 1;
        excess--;
      }
    }
  }
  return { kept: items.filter((_, i) => !drop.has(i)), dropped };
}

const GroupIdField = z.string().min(1).max(64);

/** The ops of a live connection (docs/PROTOCOL.md, "The live connection"). */
export const LiveOpData = {
  login: OpData.login,
  sendGroupMessage: z.object({
    groupID: GroupIdField,
    random: MsgRandom,
    body: MsgBody,
    cloudCustomData: z.string().optional(),
    priority: MsgPriority.optional(),
  }),
  getGroupOnlineMemberCount: z.object({ groupID: GroupIdField }),
  ack: z.object({ seq: z.number().int().min(0) }),
  quitGroup: z.object({ groupID: GroupIdField }),
} as const;
export type LiveOpName = keyof typeof LiveOpData;

export const LiveQuery = z.object({
  sdkappid: z.string().regex(/^\d{1,10}$/, "must be a SDKAppID (decimal digits)").transform(Number).pipe(z.number().int().min(1).max(0xffffffff)),
  userid: UserId,
  groupid: GroupIdField,
  shard: z.string().regex(/^\d{1,6}$/, "must be a shard number").transform(Number),
  ticket: z.string().min(1).max(256),
  platform: Platform.default("Web"),
  device: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/).optional(),
});
export type LiveQuery = z.infer<typeof LiveQuery>;
