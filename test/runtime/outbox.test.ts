import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appActor, userActor } from "../../src/actors/refs.ts";
import { drainOutbox, retryDelayMs, type OutboxRow } from "../../src/mechanisms/outbox.ts";
import { SqliteOutbox } from "../../src/mechanisms/sqliteOutbox.ts";
import { D1Outbox } from "../../src/store/outbox.ts";
import { TestClient } from "./clients.ts";
import { anApp, appWithUsers, type TestApp } from "./helpers.ts";

interface OutboxEntry {
  id: number;
  target: string;
  kind: string;
  attempts: number;
  due_at: number;
  parked_at: number | null;
  last_error: string | null;
  created_at: number;
}

async function outboxOf(app: TestApp): Promise<OutboxEntry[]> {
  const { results } = await env.DB.prepare("SELECT * FROM outbox WHERE sdkappid = ? ORDER BY id").bind(app.sdkAppId).all<OutboxEntry>();
  return results;
}

async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const allowAny = (app: TestApp, id: string) =>
  app.rest("profile/portrait_set", { From_Account: id, ProfileItem: [{ Tag: "Tag_Profile_IM_AllowType", Value: "AllowType_Type_AllowAny" }] });

const addFriend = (app: TestApp, from: string, to: string) =>
  app.rest("sns/friend_add", { From_Account: from, AddFriendItem: [{ To_Account: to, AddSource: "AddSource_Type_Test" }] });

describe("a relationship change tells users' devices through the outbox", () => {
  it("friend_add answers, the new friend's device hears of it, and the outbox empties", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowAny(app, b!);
    const device = await TestClient.connect(app, b!);
    const answer = await addFriend(app, a!, b!);
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ResultItem: [{ To_Account: b, ResultCode: 0 }] });
    await device.waitForEvents("friendListUpdated", 1);
    await eventually(async () => (await outboxOf(app)).length === 0, "an empty outbox");
  });

  it("a block tells the blocked friend's device and the blocker's own", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowAny(app, b!);
    await addFriend(app, a!, b!);
    const blocker = await TestClient.connect(app, a!);
    const blocked = await TestClient.connect(app, b!);
    const answer = await app.rest("sns/black_list_add", { From_Account: a, To_Account: [b] });
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ResultItem: [{ To_Account: b, ResultCode: 0 }] });
    await blocked.waitForEvents("friendListUpdated", 1);
    await blocker.waitForEvents("blacklistUpdated", 1);
    expect(blocked.eventsOf("blacklistUpdated")).toEqual([]);
  });

  it("a profile change reaches every device of everyone who lists the user", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    for (const id of [a!, b!]) await allowAny(app, id);
    await addFriend(app, c!, a!);
    await addFriend(app, c!, b!);
    const devices = await Promise.all([a!, b!].map((id) => TestClient.connect(app, id)));
    await app.rest("profile/portrait_set", { From_Account: c, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Cee" }] });
    for (const device of devices) expect(await device.waitForEvents("profileUpdated", 1)).toEqual([{ userID: c }]);
  });

  it("a delivery that fails leaves the answer alone; the row waits for its retry and the app's alarm delivers it", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowAny(app, b!);
    await eventually(async () => (await outboxOf(app)).length === 0, "the profile change to be delivered");
    const bActor = userActor(env, { sdkAppId: app.sdkAppId, userId: b! });
    // b's actor accepts nothing for a while, so the delivery to it is still in flight when every actor is reset.
    const busy = runInDurableObject(bActor, (_, state) => state.blockConcurrencyWhile(() => new Promise((resolve) => setTimeout(resolve, 3000)))).catch(() => undefined);
    const answer = await addFriend(app, a!, b!);
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ResultItem: [{ To_Account: b, ResultCode: 0 }] });
    const held = await eventually(async () => (await outboxOf(app)).find((r) => r.target === `user:${b}` && r.due_at > r.created_at), "the drain to hold b's row");
    expect(held.attempts).toBe(0);

    await abortAllDurableObjects();
    await busy;
    // b's device comes back at once, before the retry is due.
    const device = await TestClient.connect(app, b!);
    const failed = await eventually(async () => (await outboxOf(app)).find((r) => r.id === held.id && r.attempts === 1), "the failed attempt to be kept");
    expect(Date.now()).toBeLessThan(failed.due_at);
    expect(failed).toMatchObject({ kind: "relationsChanged", parked_at: null, last_error: expect.stringContaining("abortAllDurableObjects") });
    expect(failed.due_at).toBeLessThanOrEqual(Date.now() + retryDelayMs(1));
    // The app's alarm is armed for the retry ("if sooner" than its backstop).
    await eventually(async () => (await runInDurableObject(appActor(env, app.sdkAppId), (_, state) => state.storage.getAlarm())) === failed.due_at, "the alarm to be armed");
    expect(device.eventsOf("friendListUpdated")).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, failed.due_at - Date.now())));
    // Due now: the alarm may already have fired by itself; if not, run it.
    await runDurableObjectAlarm(appActor(env, app.sdkAppId));
    await device.waitForEvents("friendListUpdated", 1);
    await eventually(async () => (await outboxOf(app)).length === 0, "an empty outbox");
    // Nothing left: the alarm is not armed again.
    expect(await runInDurableObject(appActor(env, app.sdkAppId), (_, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe("the D1 outbox", () => {
  it("keeps rows an app's drain cannot deliver, with their attempts and error, and parks them in the end", async () => {
    const app = await anApp();
    const outbox = new D1Outbox(env.DB, app.sdkAppId);
    const other = new D1Outbox(env.DB, app.sdkAppId + 1);
    await env.DB.batch([
      outbox.addStatement("user:x", "notice", { n: 1 }),
      outbox.addStatement("user:y", "notice", { n: 2 }),
      outbox.addStatement("user:x", "notice", { n: 3 }),
      other.addStatement("user:x", "notice", { n: 4 }),
    ]);
    let clock = Date.now();
    const delivered: unknown[] = [];
    const deps = {
      store: outbox,
      now: () => clock,
      async deliver(row: OutboxRow) {
        if (row.target === "user:x") throw new Error("x is unreachable");
        delivered.push(row.payload);
      },
    };
    const policy = { concurrency: 8, batchSize: 100, maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 60_000, deliveryTimeoutMs: 1000, holdMs: 30_000, budgetMs: 1000 };
    expect(await drainOutbox(deps, policy)).toEqual({ delivered: 1, failed: 1, parked: 0, nextDue: clock + 1000 });
    expect(delivered).toEqual([{ n: 2 }]);
    expect((await outboxOf(app)).map((r) => [r.target, r.attempts, r.due_at, r.last_error])).toEqual([
      ["user:x", 1, clock + 1000, "x is unreachable"],
      ["user:x", 0, clock + 1000, null],
    ]);
    clock += 1000;
    expect(await drainOutbox(deps, policy)).toEqual({ delivered: 0, failed: 1, parked: 1, nextDue: clock + 1000 });
    const [first, second] = await outboxOf(app);
    expect(first).toMatchObject({ attempts: 2, last_error: "x is unreachable" });
    expect(first!.parked_at).not.toBeNull();
    expect(second).toMatchObject({ attempts: 1, parked_at: null });
    // Another app's rows are its own.
    expect(await new D1Outbox(env.DB, app.sdkAppId + 1).nextDue()).not.toBeNull();
  });
});

describe("a Durable Object's own outbox", () => {
  it("keeps the same order, retries and parking in the object's SQLite", async () => {
    const app = await anApp();
    const result = await runInDurableObject(appActor(env, app.sdkAppId), async (_, state) => {
      const outbox = new SqliteOutbox(state.storage.sql);
      for (const [target, n] of [["x", 1], ["y", 2], ["x", 3], ["y", 4]] as const) outbox.add(target, "notice", { n });
      let clock = Date.now();
      const delivered: unknown[] = [];
      const deps = {
        store: outbox,
        now: () => clock,
        async deliver(row: OutboxRow) {
          if ((row.payload as { n: number }).n === 1) throw new Error("x is unreachable");
          delivered.push(row.payload);
        },
      };
      const policy = { concurrency: 8, batchSize: 100, maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 60_000, deliveryTimeoutMs: 1000, holdMs: 30_000, budgetMs: 1000 };
      const first = await drainOutbox(deps, policy);
      const afterFirst = [...delivered];
      clock += 1000;
      const second = await drainOutbox(deps, policy);
      const left = state.storage.sql.exec<{ id: number; attempts: number; parked: number }>("SELECT id, attempts, parked_at IS NOT NULL AS parked FROM outbox ORDER BY id").toArray();
      return { first, afterFirst, second, delivered, left, start: clock - 1000 };
    });
    expect(result.first).toEqual({ delivered: 2, failed: 1, parked: 0, nextDue: result.start + 1000 });
    expect(result.afterFirst).toEqual([{ n: 2 }, { n: 4 }]);
    // x's second row waited behind its first, which is parked after two attempts; then it went.
    expect(result.second).toEqual({ delivered: 1, failed: 0, parked: 1, nextDue: null });
    expect(result.delivered).toEqual([{ n: 2 }, { n: 4 }, { n: 3 }]);
    expect(result.left).toEqual([{ id: 1, attempts: 2, parked: 1 }]);
  });
});
