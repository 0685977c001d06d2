/** The outbox drain, with an in-memory store and a clock the test moves. */
import { describe, expect, it } from "vitest";
import { defaultDrainPolicy, drainOutbox, retryDelayMs, type DrainPolicy, type OutboxRow, type OutboxStore } from "../../src/mechanisms/outbox.ts";

interface StoredRow extends OutboxRow {
  dueAt: number;
  parked: boolean;
  error?: string;
}

/** The store's contract, in memory: what D1 and a Durable Object's SQLite do with SQL. */
class MemoryOutbox implements OutboxStore {
  rows: StoredRow[] = [];
  private nextId = 1;

  add(target: string, kind = "notice", payload: unknown = {}, dueAt = 0): number {
    const id = this.nextId++;
    this.rows.push({ id, target, kind, payload, attempts: 0, dueAt, parked: false });
    return id;
  }

  waiting(): StoredRow[] {
    return this.rows.filter((r) => !r.parked);
  }

  async claim(now: number, holdUntil: number, limit: number): Promise<OutboxRow[]> {
    const waiting = this.waiting();
    const taken = waiting
      .filter((r) => r.dueAt <= now && !waiting.some((e) => e.target === r.target && e.id < r.id && e.dueAt > now))
      .slice(0, limit);
    for (const r of taken) r.dueAt = holdUntil;
    return taken.map(({ id, target, kind, payload, attempts }) => ({ id, target, kind, payload, attempts }));
  }

  async done(ids: number[]): Promise<void> {
    this.rows = this.rows.filter((r) => !ids.includes(r.id));
  }

  async reschedule(id: number, at: number, attempts: number, error?: string): Promise<void> {
    Object.assign(this.find(id), { dueAt: at, attempts, error });
  }

  async park(id: number, attempts: number, error: string): Promise<void> {
    Object.assign(this.find(id), { parked: true, attempts, error });
  }

  async nextDue(): Promise<number | null> {
    const waiting = this.waiting();
    const heads = waiting.filter((r) => !waiting.some((e) => e.target === r.target && e.id < r.id));
    return heads.length > 0 ? Math.min(...heads.map((r) => r.dueAt)) : null;
  }

  find(id: number): StoredRow {
    return this.rows.find((r) => r.id === id)!;
  }
}

/** A store, a clock, and a delivery that records what it was given and fails where told. */
function makeDeps(options: { failing?: (row: OutboxRow) => boolean; deliveryMs?: (row: OutboxRow) => number } = {}) {
  const store = new MemoryOutbox();
  let clock = 1_000_000;
  const delivered: OutboxRow[] = [];
  const parked: { id: number; attempts: number; error: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const deps = {
    store,
    now: () => clock,
    async deliver(row: OutboxRow) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, options.deliveryMs?.(row) ?? 0));
        if (options.failing?.(row)) throw new Error(`${row.target} is unreachable`);
        delivered.push(row);
      } finally {
        inFlight--;
      }
    },
    parked: (row: OutboxRow, attempts: number, error: string) => parked.push({ id: row.id, attempts, error }),
  };
  return {
    deps,
    store,
    delivered,
    parked,
    maxInFlight: () => maxInFlight,
    advance: (ms: number) => (clock += ms),
    at: () => clock,
  };
}

describe("the outbox drain", () => {
  it("delivers every due row once and empties the outbox", async () => {
    const t = makeDeps();
    for (const target of ["user:a", "user:b", "user:a"]) t.store.add(target);
    const report = await drainOutbox(t.deps);
    expect(report).toEqual({ delivered: 3, failed: 0, parked: 0, nextDue: null });
    expect(t.delivered.map((r) => r.id).sort()).toEqual([1, 2, 3]);
    expect(t.store.rows).toEqual([]);
  });

  it("delivers one target's rows in the order they were written", async () => {
    // Earlier rows take longer, so rows delivered side by side would arrive out of order.
    const t = makeDeps({ deliveryMs: (row) => 20 - row.id });
    for (let i = 0; i < 20; i++) t.store.add(i % 2 === 0 ? "user:a" : "user:b", "notice", { n: i });
    await drainOutbox(t.deps);
    const of = (target: string) => t.delivered.filter((r) => r.target === target).map((r) => (r.payload as { n: number }).n);
    expect(of("user:a")).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(of("user:b")).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it("has at most `concurrency` deliveries in flight", async () => {
    const t = makeDeps({ deliveryMs: () => 2 });
    for (let i = 0; i < 50; i++) t.store.add(`user:${i}`);
    await drainOutbox(t.deps);
    expect(t.delivered).toHaveLength(50);
    expect(t.maxInFlight()).toBe(defaultDrainPolicy.concurrency);
  });

  it("takes further claims until nothing is due", async () => {
    const t = makeDeps();
    for (let i = 0; i < 250; i++) t.store.add(`user:${i}`);
    const report = await drainOutbox(t.deps, { ...defaultDrainPolicy, batchSize: 100 });
    expect(report.delivered).toBe(250);
    expect(t.store.rows).toEqual([]);
  });

  it("retries a failed row after 1 s, 2 s, 4 s…, keeping its target's later rows behind it", async () => {
    let down = true;
    const t = makeDeps({ failing: (row) => down && row.target === "user:a" });
    const first = t.store.add("user:a", "notice", { n: 1 });
    t.store.add("user:a", "notice", { n: 2 });
    const start = t.at();

    const report = await drainOutbox(t.deps);
    expect(report).toEqual({ delivered: 0, failed: 1, parked: 0, nextDue: start + 1_000 });
    expect(t.store.find(first)).toMatchObject({ attempts: 1, dueAt: start + 1_000, error: "user:a is unreachable" });

    t.advance(999);
    expect((await drainOutbox(t.deps)).failed).toBe(0); // not due yet: nothing was tried
    t.advance(1);
    expect(await drainOutbox(t.deps)).toMatchObject({ failed: 1, nextDue: t.at() + 2_000 });
    t.advance(2_000);
    expect(await drainOutbox(t.deps)).toMatchObject({ failed: 1, nextDue: t.at() + 4_000 });
    expect(t.store.find(first).attempts).toBe(3);
    expect(t.delivered).toEqual([]);

    down = false;
    t.advance(4_000);
    expect(await drainOutbox(t.deps)).toMatchObject({ delivered: 2, nextDue: null });
    expect(t.delivered.map((r) => (r.payload as { n: number }).n)).toEqual([1, 2]);
  });

  it("does not let one target's failure hold back other targets", async () => {
    const t = makeDeps({ failing: (row) => row.target === "user:down", deliveryMs: () => 1 });
    t.store.add("user:down");
    for (let i = 0; i < 30; i++) t.store.add(`user:${i}`);
    t.store.add("user:down");
    const report = await drainOutbox(t.deps);
    expect(report).toMatchObject({ delivered: 30, failed: 1 });
    expect(t.store.rows.map((r) => r.target)).toEqual(["user:down", "user:down"]);
  });

  it("parks a row after maxAttempts, keeps it, and then delivers the rows behind it", async () => {
    const t = makeDeps({ failing: (row) => (row.payload as { bad?: boolean }).bad === true });
    const bad = t.store.add("user:a", "notice", { bad: true });
    t.store.add("user:a", "notice", { bad: false });
    const policy: DrainPolicy = { ...defaultDrainPolicy, maxAttempts: 3 };
    await drainOutbox(t.deps, policy);
    t.advance(retryDelayMs(1));
    await drainOutbox(t.deps, policy);
    t.advance(retryDelayMs(2));
    const report = await drainOutbox(t.deps, policy);
    expect(report).toEqual({ delivered: 1, failed: 0, parked: 1, nextDue: null });
    expect(t.parked).toEqual([{ id: bad, attempts: 3, error: "user:a is unreachable" }]);
    expect(t.store.find(bad)).toMatchObject({ parked: true, attempts: 3 });
    // Parked rows are not tried again.
    t.advance(3_600_000);
    expect(await drainOutbox(t.deps, policy)).toEqual({ delivered: 0, failed: 0, parked: 0, nextDue: null });
  });

  it("lets a kind of row retry longer and wait less between attempts than the policy", async () => {
    const t = makeDeps({ failing: () => true });
    const patient = t.store.add("callback:a", "callback");
    const plain = t.store.add("user:a", "notice");
    const deps = { ...t.deps, retryOf: (row: OutboxRow) => (row.kind === "callback" ? { maxAttempts: 5, maxDelayMs: 2_000 } : undefined) };
    const policy: DrainPolicy = { ...defaultDrainPolicy, maxAttempts: 3 };
    for (let i = 0; i < 3; i++) {
      await drainOutbox(deps, policy);
      t.advance(60_000);
    }
    expect(t.store.find(plain)).toMatchObject({ parked: true, attempts: 3 });
    expect(t.store.find(patient)).toMatchObject({ parked: false, attempts: 3, dueAt: t.at() - 60_000 + 2_000 });
    for (let i = 0; i < 2; i++) {
      await drainOutbox(deps, policy);
      t.advance(60_000);
    }
    expect(t.store.find(patient)).toMatchObject({ parked: true, attempts: 5 });
  });

  it("caps the wait between attempts", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(30)).toBe(defaultDrainPolicy.maxDelayMs);
  });

  it("counts a delivery that never settles as failed", async () => {
    const t = makeDeps();
    t.store.add("user:a");
    const report = await drainOutbox({ ...t.deps, deliver: () => new Promise(() => {}) }, { ...defaultDrainPolicy, deliveryTimeoutMs: 5 });
    expect(report.failed).toBe(1);
    expect(t.store.find(1).error).toBe("no answer within 5 ms");
  });

  it("leaves rows to another drain once its hold on them has ended", async () => {
    const t = makeDeps();
    t.store.add("user:a");
    t.store.add("user:a");
    const slow = {
      ...t.deps,
      deliver: async (row: OutboxRow) => {
        t.advance(defaultDrainPolicy.holdMs); // the first delivery outlasts the hold
        await t.deps.deliver(row);
      },
    };
    await drainOutbox(slow, { ...defaultDrainPolicy, budgetMs: 1 });
    expect(t.delivered.map((r) => r.id)).toEqual([1]);
    expect(t.store.rows.map((r) => r.id)).toEqual([2]);
  });

  it("skips rows another drain holds, and the rows behind them", async () => {
    const t = makeDeps();
    t.store.add("user:a");
    await t.store.claim(t.at(), t.at() + 30_000, 1); // another drain holds row 1
    t.store.add("user:a");
    t.store.add("user:b");
    const report = await drainOutbox(t.deps);
    expect(t.delivered.map((r) => r.target)).toEqual(["user:b"]);
    expect(report.nextDue).toBe(t.at() + 30_000);
  });
});
