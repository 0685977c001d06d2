/**
 * Local-only usage counters for benchmarks: POST /local/usage
 * {"sdkAppId": 1400000000, "users": ["alice", "bob"]} answers the summed
 * counts of those users' actors since they woke: entries (frames and calls)
 * and SQLite rows written. Like the web chat page's sign-in helper it answers
 * only when IM_DEMO is "true" (`npm run dev`); a deployed Worker answers 404.
 */
import { Hono } from "hono";
import { z } from "zod";
import { userActor } from "../actors/refs.ts";
import { UserId } from "../domain/account.ts";
import type { Env } from "../env.ts";

export const usageDoor = new Hono<{ Bindings: Env }>();

const UsageRequest = z.object({ sdkAppId: z.number().int().positive(), users: z.array(UserId).max(1000) });

usageDoor.post("/local/usage", async (c) => {
  if (c.env.IM_DEMO !== "true") return c.json({ error: "not found" }, 404);
  const body = UsageRequest.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ error: "expected {sdkAppId, users: [userID…]}" }, 400);
  const { sdkAppId, users } = body.data;
  const each = await Promise.all(users.map((userId) => userActor(c.env, { sdkAppId, userId }).storageUsage()));
  const total = { actors: users.length, frames: 0, calls: 0, rowsWritten: 0 };
  for (const usage of each) {
    total.frames += usage.frames;
    total.calls += usage.calls;
    total.rowsWritten += usage.rowsWritten;
  }
  return c.json(total);
});
