/**
 * Sends batches to many targets, in order per target, with one call in flight per target: what
 * arrives while a call is out waits and goes with the next, so a busy target gets fewer, larger
 * batches, and a slow one gets a bounded backlog (`trim`) instead of unbounded calls. A failed
 * call is reported and its batch is not retried (live rooms have nothing to catch up from). A
 * call says whether its batch waited behind the one before (`backToBack`): then the target was
 * busy all the time between the two, which is how a target can time its own work.
 */
export class OrderedRelay<T, K extends string | number = number> {
  private readonly lanes = new Map<K, { backlog: T[]; busy: boolean }>();
  private readonly call: (target: K, items: T[], backToBack: boolean) => Promise<unknown>;
  private readonly trim: (backlog: T[]) => T[];
  private readonly failed: (target: K, error: unknown) => void;
  private readonly waiters = new Set<() => void>();

  constructor(options: { call: (target: K, items: T[], backToBack: boolean) => Promise<unknown>; trim: (backlog: T[]) => T[]; failed: (target: K, error: unknown) => void }) {
    this.call = options.call;
    this.trim = options.trim;
    this.failed = options.failed;
  }

  send(target: K, items: T[]): void {
    if (items.length === 0) return;
    let lane = this.lanes.get(target);
    if (!lane) {
      lane = { backlog: [], busy: false };
      this.lanes.set(target, lane);
    }
    lane.backlog = this.trim([...lane.backlog, ...items]);
    if (!lane.busy) void this.drain(target, lane);
  }

  /** Resolves once nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  private async drain(target: K, lane: { backlog: T[]; busy: boolean }): Promise<void> {
    lane.busy = true;
    for (let backToBack = false; lane.backlog.length > 0; backToBack = true) {
      const batch = lane.backlog;
      lane.backlog = [];
      try {
        await this.call(target, batch, backToBack);
      } catch (error) {
        this.failed(target, error);
      }
    }
    lane.busy = false;
    this.lanes.delete(target);
    if (this.lanes.size === 0) {
      for (const resolve of this.waiters) resolve();
      this.waiters.clear();
    }
  }
}
