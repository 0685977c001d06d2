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
   * Makes sure the alarm fires no later than `at`. Calls take turns: two jobs arming at once
   * would otherwise both read the old alarm, and the later time could overwrite the sooner.
   */
  armBy(at: number): Promise<void> {
    const arming = this.arming.then(async () => {
      const current = await this.storage.getAlarm();
      if (current === null || current > at) await this.storage.setAlarm(at);
    });
    this.arming = arming.catch(() => undefined);
    return arming;
  }

  private arming: Promise<void> = Promise.resolve();

  /** The alarm handler: runs every job, then arms for the soonest next run. */
  async run(now = Date.now()): Promise<void> {
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
