/**
 * `joinGroup` on /v1/connect, with a live room's joins taken off its coordinator once it is
 * crowded: the joining user's actor places the viewer from a block of places the coordinator gave
 * this isolate (at most one request per block, and blocks last a second), checks the room's bans
 * as the block brought them, and signs the ticket with the app's key itself. Other groups, and
 * live rooms below `live.tipsUpTo`, join through the group's actor as before
 * (docs/ARCHITECTURE.md, "Join bursts").
 */
import { capture, ErrorCode, ImError, unwrap, type Outcome } from "../../domain/errors.ts";
import { GroupErrorCode, groupError } from "../../domain/group.ts";
import { isBanned, signTicket, ticketLifetimeSeconds } from "../../domain/liveRoom.ts";
import type { Env } from "../../env.ts";
import { AppCache } from "../appCache.ts";
import { groupNamed } from "../group/entry.ts";
import type { LiveJoin, LiveSeats } from "../group/live.ts";
import type { UserActor } from "../UserActor.ts";
import type { OpContext } from "./ops.ts";

/** What this isolate knows of one crowded live room. */
interface CrowdedRoom {
  block?: { shard: number; left: number; until: number };
  asking?: Promise<void>;
  bansVersion: string;
  bans: Map<string, number>;
}

/** Rooms this isolate places joins in itself, by `SDKAppID:GroupId` (bounded: the oldest go first). */
const crowded = new Map<string, CrowdedRoom>();
const maxRooms = 1_000;
/** Apps' keys for signing tickets, per isolate. */
const apps = new Map<number, AppCache>();
/** Per user's actor: where it placed its viewer in each room, so its devices share a shard. */
const placements = new WeakMap<UserActor, Map<string, LiveJoin["live"]>>();
const maxPlacements = 100;
/** A kept place is given again while its ticket has at least this long to run. */
const placementReuseSeconds = 60 * 60;

export function joinGroup(c: OpContext, groupId: string, applyMessage: string): Promise<Outcome<unknown>> {
  return capture(async () => {
    const { sdkAppId } = c.me;
    const key = `${sdkAppId}:${groupId}`;
    const stub = groupNamed(c.actor.env, sdkAppId, groupId);
    const room = crowded.get(key);
    if (room) {
      const placed = await placeFromBlock(c, stub, room, key, groupId).catch((error: unknown) => {
        if (!(error instanceof RoomChanged)) throw error;
        // The room is gone or no longer live: the group's actor answers as it would anyone.
        crowded.delete(key);
        return null;
      });
      if (placed) return placed;
    }
    const joined = unwrap(await stub.join(await c.groupCaller(), applyMessage));
    if (!isLiveJoin(joined)) return joined;
    const { blocks, ...answer } = joined;
    keepPlacement(c.actor, groupId, answer.live);
    if (blocks) remember(key);
    else crowded.delete(key);
    return answer;
  });
}

async function placeFromBlock(c: OpContext, stub: ReturnType<typeof groupNamed>, room: CrowdedRoom, key: string, groupId: string): Promise<LiveJoin | null> {
  const { sdkAppId, userId } = c.me;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const kept = placements.get(c.actor)?.get(groupId);
  if (kept && kept.expiresAt - nowSeconds > placementReuseSeconds) {
    if (!fresh(room.block)) await refresh(stub, room, key);
    refuseBanned(room, userId, nowSeconds);
    return { status: "AlreadyInGroup", live: kept };
  }
  // The seat first: a stale block brings the room's latest bans with the next.
  const shard = await takeSeat(stub, room, key);
  refuseBanned(room, userId, nowSeconds);
  const app = await appOf(c.actor.env, sdkAppId).record();
  if (!app.secretKey) throw groupError(GroupErrorCode.invalidRequest, "the app has no secret key to sign live-room tickets with");
  const expiresAt = nowSeconds + ticketLifetimeSeconds;
  const ticket = await signTicket(app.secretKey, { sdkAppId, groupId, shard, userId, expiresAt });
  const live = { groupId, shard, ticket, expiresAt };
  keepPlacement(c.actor, groupId, live);
  return { status: "JoinedSuccess", live };
}

/** The bans as the latest block brought them (at most a second old); the shard checks them again at login. */
function refuseBanned(room: CrowdedRoom, userId: string, nowSeconds: number): void {
  const until = room.bans.get(userId);
  if (isBanned(until, nowSeconds)) throw groupError(GroupErrorCode.noPermission, `you are banned from this live room until ${new Date(until! * 1000).toISOString()}`);
}

/**
 * A place from this isolate's block, asking the coordinator for the next block when it is used up
 * or stale. A room that became small again is forgotten once its last block is given out.
 */
async function takeSeat(stub: ReturnType<typeof groupNamed>, room: CrowdedRoom, key: string): Promise<number> {
  for (;;) {
    const block = room.block;
    if (fresh(block) && block.left > 0) {
      block.left--;
      return block.shard;
    }
    await refresh(stub, room, key);
  }
}

function fresh(block: CrowdedRoom["block"]): block is NonNullable<CrowdedRoom["block"]> {
  return block !== undefined && block.until > Date.now();
}

/** The next block and the room's bans: one request at a time per room and isolate. The stale block's unused places go back. */
function refresh(stub: ReturnType<typeof groupNamed>, room: CrowdedRoom, key: string): Promise<void> {
  const stale = room.block;
  const unused = stale && stale.left > 0 ? { shard: stale.shard, seats: stale.left } : undefined;
  if (stale) stale.left = 0;
  room.asking ??= stub
    .liveSeats(room.bansVersion, unused)
    .then((outcome) => {
      if (!outcome.ok) throw new RoomChanged(outcome.info);
      absorb(room, key, outcome.value);
    })
    .finally(() => (room.asking = undefined));
  return room.asking;
}

function absorb(room: CrowdedRoom, key: string, seats: LiveSeats): void {
  room.block = { shard: seats.shard, left: seats.seats, until: Date.now() + seats.validMs };
  if (seats.bans) room.bans = new Map(seats.bans.map((b) => [b.userId, b.until]));
  room.bansVersion = seats.bansVersion;
  if (!seats.blocks && crowded.get(key) === room) crowded.delete(key);
}

/** The user left the room: its next join is placed afresh. */
export function forgetPlacement(actor: UserActor, groupId: string): void {
  placements.get(actor)?.delete(groupId);
}

function remember(key: string): void {
  if (crowded.has(key)) return;
  if (crowded.size >= maxRooms) crowded.delete(crowded.keys().next().value!);
  crowded.set(key, { bansVersion: "", bans: new Map() });
}

function keepPlacement(actor: UserActor, groupId: string, live: LiveJoin["live"]): void {
  let kept = placements.get(actor);
  if (!kept) placements.set(actor, (kept = new Map()));
  kept.delete(groupId);
  if (kept.size >= maxPlacements) kept.delete(kept.keys().next().value!);
  kept.set(groupId, live);
}

function appOf(env: Env, sdkAppId: number): AppCache {
  let cache = apps.get(sdkAppId);
  if (!cache) {
    if (apps.size >= 64) apps.clear();
    cache = new AppCache(env, () => sdkAppId, (id) => new ImError(ErrorCode.sdkAppIdInvalid, `SDKAppID ${id} is not an app of this server`));
    apps.set(sdkAppId, cache);
  }
  return cache;
}

/** The coordinator would not give a block: the room was dismissed, or is not a live room. */
class RoomChanged extends Error {}

function isLiveJoin(answer: unknown): answer is LiveJoin {
  return typeof answer === "object" && answer !== null && "live" in answer;
}
