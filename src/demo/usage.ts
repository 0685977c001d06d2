/**
 * Local-only usage counters for benchmarks: POST /local/usage
 * {"sdkAppId": 1400000000, "users": ["alice", "bob"], "groups": ["@TGS#…"], "hubs": true}
 * answers the summed counts of those actors since they woke: entries (frames
 * and calls) and SQLite rows written, for the users' actors, the groups'
 * actors and (with `hubs`) every fan-out hub of the app, the total first and
 * then each kind; with `each` also every actor's own counts, in the order asked
 * (an actor that was evicted and woke again counts from zero: a reader that
 * polls sees its counts fall). Like the web chat page's sign-in helper it answers only when
 * IM_DEMO is "true" (`npm run dev`); a deployed Worker answers 404.
 *
 * With `live: {groupId, shards}` it also answers `live`: the room's coordinator's drops by
 * priority (its rate), and each of shards 0…shards−1: its entries, sockets, viewers and drops
 * by priority (its broadcast budget), since it woke.
 */
import { Hono } from "hono";
import { z } from "zod";
import { appActor, fanoutHub, groupActor, liveShard, userActor } from "../actors/refs.ts";
import { UserId } from "../domain/account.ts";
import type { Env } from "../env.ts";

export const usageDoor = new Hono<{ Bindings: Env }>();

const UsageRequest = z.object({
  sdkAppId: z.number().int().positive(),
  users: z.array(UserId).max(1000).default([]),
  groups: z.array(z.string().min(1).max(64)).max(1000).default([]),
  hubs: z.boolean().default(false),
  each: z.boolean().default(false),
  live: z.object({ groupId: z.string().min(1).max(64), shards: z.number().int().min(0).max(1000) }).optional(),
});

interface Counts {
  actors: number;
  frames: number;
  calls: number;
  rowsWritten: number;
}

function sum(each: { frames: number; calls: number; rowsWritten?: number }[]): Counts {
  const total: Counts = { actors: each.length, frames: 0, calls: 0, rowsWritten: 0 };
  for (const usage of each) {
    total.frames += usage.frames;
    total.calls += usage.calls;
    total.rowsWritten += usage.rowsWritten ?? 0;
  }
  return total;
}

usageDoor.post("/local/usage", async (c) => {
  if (c.env.IM_DEMO !== "true") return c.json({ error: "not found" }, 404);
  const body = UsageRequest.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: "expected {sdkAppId, users: [userID…], groups: [groupID…], hubs: boolean, each: boolean}" }, 400);
  const { sdkAppId, users, groups, hubs, each } = body.data;
  const hubCount = hubs ? ((await appActor(c.env, sdkAppId).describe(sdkAppId))?.settings.fanoutHubs ?? 0) : 0;
  const [byUser, byGroup, byHub] = await Promise.all([
    Promise.all(users.map((userId) => userActor(c.env, { sdkAppId, userId }).storageUsage())),
    Promise.all(groups.map((groupId) => groupActor(c.env, { sdkAppId, groupId }).usage())),
    Promise.all(Array.from({ length: hubCount }, (_, hub) => fanoutHub(c.env, sdkAppId, hub).usage())),
  ]);
  const kinds = { users: sum(byUser), groups: sum(byGroup), hubs: sum(byHub) };
  const total = { ...sum([kinds.users, kinds.groups, kinds.hubs]), actors: users.length + groups.length + hubCount, ...kinds };
  const counts = (list: { frames: number; calls: number; rowsWritten?: number }[]) => list.map(({ frames, calls, rowsWritten }) => ({ frames, calls, rowsWritten: rowsWritten ?? 0 }));
  const live = body.data.live && (await liveUsage(c.env, sdkAppId, body.data.live.groupId, body.data.live.shards));
  return c.json({ ...(each ? { ...total, each: { users: counts(byUser), groups: counts(byGroup), hubs: counts(byHub) } } : total), ...(live ? { live } : {}) });
});

async function liveUsage(env: Env, sdkAppId: number, groupId: string, shards: number) {
  const room = await groupActor(env, { sdkAppId, groupId }).liveDropped();
  const each = await Promise.all(
    Array.from({ length: shards }, async (_, n) => {
      const shard = liveShard(env, sdkAppId, groupId, n);
      const [usage, stats] = await Promise.all([shard.usage(), shard.stats()]);
      return { shard: n, frames: usage.frames, calls: usage.calls, ...stats };
    }),
  );
  return { roomDropped: room.ok ? room.value : null, shards: each };
}
