/**
 * One Durable Object alarm serving several jobs. Each job says when it next
 * needs to run; the alarm is armed for the soonest, and only ever moved
 * sooner outside a run, so a deadline set while a run is in progress is kept.
 * A job that fails is logged and tried again later without holding the others.
 */

export interface AlarmJob {
  readonly name: string;
  /** Does the job's due work; returns when it next needs to run (epoch ms), or null for never. */
  run(now: number): Promise<number | null> | number | null;
}

/** The part of Durable Object storage the scheduler touches. */
export interface AlarmStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(at: number): Promise<void>;
}

/** A failed job is tried again after this long. */
export const retryFailedJobMs = 60_000;

export class AlarmScheduler {
  private readonly storage: AlarmStorage;
  private readonly jobs: AlarmJob[];
  private readonly onError: (job: string, error: unknown) => void;

  constructor(storage: AlarmStorage, jobs: AlarmJob[], onError: (job: string, error: unknown) => void) {
    this.storage = storage;
    this.jobs = jobs;
    this.onError = onError;
  }

  /**
   * The alarm as this object last set or read it; undefined until read. Kept in memory so two jobs
   * arming at once cannot both read the old alarm and let the later time overwrite the sooner:
   * after its one await, each call compares and sets synchronously. (Calls are not chained on one
   * another: a call left waiting by a cancelled request would hold every later one.)
   */
  private armedAt: number | null | undefined;

  /** Makes sure the alarm fires no later than `at`. */
  async armBy(at: number): Promise<void> {
    if (this.armedAt === undefined) {
      const stored = await this.storage.getAlarm();
      if (this.armedAt === undefined) this.armedAt = stored;
    }
    if (this.armedAt !== null && this.armedAt <= at) return;
    this.armedAt = at;
    await this.storage.setAlarm(at);
  }

  /** The alarm was deleted by other means (the object was emptied): read it again before trusting memory. */
  forget(): void {
    this.armedAt = undefined;
  }

  /** The alarm handler: runs every job, then arms for the soonest next run. */
  async run(now = Date.now()): Promise<void> {
    // The alarm that fired is spent: what the jobs arm meanwhile, and what they return, sets the next.
    this.armedAt = null;
    let next = Infinity;
    for (const job of this.jobs) {
      try {
        const at = await job.run(now);
        if (at !== null) next = Math.min(next, Math.max(at, now));
      } catch (error) {
        this.onError(job.name, error);
        next = Math.min(next, now + retryFailedJobMs);
      }
    }
    // "If sooner": another request may have armed an earlier time while the jobs ran.
    if (next !== Infinity) await this.armBy(next);
  }
}
