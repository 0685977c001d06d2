/**
 * A durable outbox's drain. An action writes its post-commit effects (telling a user's devices,
 * later third-party callbacks) as rows in the same transaction as its change; a drain delivers
 * them after the answer. Rows of one target are delivered in the order they were written; a
 * failed row is retried with exponential backoff and parked after `maxAttempts`. Small pools, so
 * a burst cannot fan out to unbounded RPCs. Storage-agnostic: the rows live wherever the action
 * writes (D1 in `store/outbox.ts`, a Durable Object's SQLite in `sqliteOutbox.ts`).
 */

export interface OutboxRow {
  /** Increases in the order rows were written. */
  id: number;
  /** A target's rows are delivered one at a time, in id order ("user:alice"). */
  target: string;
  /** What delivering the row means, chosen by whoever drains the outbox. */
  kind: string;
  payload: unknown;
  /** Failed deliveries so far. */
  attempts: number;
}

export interface OutboxStore {
  /**
   * Up to `limit` rows, in id order, that are due at `now` and whose target has no earlier row
   * still waiting. They are held until `holdUntil`: another drain passes them (and the rows
   * behind them) by, and takes them up again only if this one dies.
   */
  claim(now: number, holdUntil: number, limit: number): Promise<OutboxRow[]>;
  /** Removes delivered rows. */
  done(ids: number[]): Promise<void>;
  /** Sets when a row is next tried (after a failure, or behind its target's failed row). */
  reschedule(id: number, at: number, attempts: number, error?: string): Promise<void>;
  /** Keeps a row that will not be tried again; it no longer holds back its target's later rows. */
  park(id: number, attempts: number, error: string): Promise<void>;
  /** When the first waiting row of any target is due; null when nothing waits. */
  nextDue(): Promise<number | null>;
}

export interface DrainDeps {
  store: OutboxStore;
  /** Delivers one row; a rejection is a failed attempt. */
  deliver(row: OutboxRow): Promise<void>;
  now(): number;
  /** Told of each row given up on, so it can be logged. */
  parked?(row: OutboxRow, attempts: number, error: string): void;
  /** How a kind of row retries, when not as the policy says (after-callbacks: for a day). */
  retryOf?(row: OutboxRow): Pick<DrainPolicy, "maxAttempts" | "maxDelayMs"> | undefined;
}

export interface DrainPolicy {
  /** Targets delivered to at once. */
  concurrency: number;
  /** Rows taken per claim. */
  batchSize: number;
  /** Attempts before a row is parked. */
  maxAttempts: number;
  /** The wait after the first failure; it doubles with each further one, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A delivery that has not settled within this long counts as failed. */
  deliveryTimeoutMs: number;
  /** How long claimed rows stay with this drain. */
  holdMs: number;
  /** No new claim after this long: a pass after an answer must end within its `waitUntil`. */
  budgetMs: number;
}

export const defaultDrainPolicy: DrainPolicy = {
  concurrency: 8,
  batchSize: 100,
  maxAttempts: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  deliveryTimeoutMs: 10_000,
  holdMs: 30_000,
  budgetMs: 15_000,
};

export interface DrainReport {
  delivered: number;
  /** Failed attempts that will be retried. */
  failed: number;
  parked: number;
  /** When the outbox next has a row due (null when empty): the time to arm an alarm for. */
  nextDue: number | null;
}

/** The wait before the next attempt, after `attempts` failed ones. */
export function retryDelayMs(attempts: number, policy: Pick<DrainPolicy, "baseDelayMs" | "maxDelayMs"> = defaultDrainPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
}

/** Delivers what is due, claim by claim, until nothing is or the budget is spent. */
export async function drainOutbox(deps: DrainDeps, policy: DrainPolicy = defaultDrainPolicy): Promise<DrainReport> {
  const report = { delivered: 0, failed: 0, parked: 0 };
  const started = deps.now();
  while (deps.now() - started < policy.budgetMs) {
    const now = deps.now();
    const holdUntil = now + policy.holdMs;
    const rows = await deps.store.claim(now, holdUntil, policy.batchSize);
    if (rows.length === 0) break;
    const delivered: number[] = [];
    await inPool(lines(rows), policy.concurrency, (line) => drainLine(line, holdUntil, deps, policy, report, delivered));
    // Until removed, delivered rows stay held, so no other drain passes a target's later rows ahead of them.
    if (delivered.length > 0) await deps.store.done(delivered);
    report.delivered += delivered.length;
  }
  return { ...report, nextDue: await deps.store.nextDue() };
}

/** One target's rows, in order; a failure holds back the rest until it is retried. */
async function drainLine(line: OutboxRow[], holdUntil: number, deps: DrainDeps, policy: DrainPolicy, report: Omit<DrainReport, "nextDue">, delivered: number[]): Promise<void> {
  for (const [i, row] of line.entries()) {
    // Past the hold another drain may have taken these rows: delivering now could overtake it.
    if (deps.now() >= holdUntil) return;
    try {
      await withTimeout(deps.deliver(row), policy.deliveryTimeoutMs);
      delivered.push(row.id);
    } catch (error) {
      const attempts = row.attempts + 1;
      const reason = describe(error);
      const retry = { ...policy, ...deps.retryOf?.(row) };
      if (attempts >= retry.maxAttempts) {
        await deps.store.park(row.id, attempts, reason);
        deps.parked?.(row, attempts, reason);
        report.parked++;
        continue;
      }
      const at = deps.now() + retryDelayMs(attempts, retry);
      await deps.store.reschedule(row.id, at, attempts, reason);
      report.failed++;
      // The rows behind it become due with it, so one claim takes the whole line again.
      for (const later of line.slice(i + 1)) await deps.store.reschedule(later.id, at, later.attempts);
      return;
    }
  }
}

function lines(rows: OutboxRow[]): OutboxRow[][] {
  const byTarget = new Map<string, OutboxRow[]>();
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    const line = byTarget.get(row.target);
    if (line) line.push(row);
    else byTarget.set(row.target, [row]);
  }
  return [...byTarget.values()];
}

async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
