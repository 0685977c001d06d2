/**
 * Retention: history older than the app's `retentionDays` is deleted. The job
 * wakes when the oldest item is due (at most every 6 hours), so a dormant user
 * with history wakes only as its history expires, and never once it holds none.
 */
import { ErrorCode, ImError } from "../../domain/errors.ts";
import type { UserHost } from "./host.ts";

export const sweepEveryMs = 6 * 3600_000;

/** Alarm job: sweeps what is due and says when to look again. */
export async function sweepExpiredHistory(host: Pick<UserHost, "store" | "settings">, now: number): Promise<number | null> {
  const oldest = host.store.oldestStoredAt();
  if (oldest === null) return null;
  const lastSweep = Number(host.store.meta("last_sweep") ?? 0);
  let retentionMs: number;
  try {
    retentionMs = (await host.settings()).retentionDays * 86_400_000;
  } catch (error) {
    // The app is gone: nothing here will be read again.
    if (error instanceof ImError && error.code === ErrorCode.sdkAppIdInvalid) return null;
    throw error;
  }
  if (now - lastSweep >= sweepEveryMs && oldest < now - retentionMs) {
    host.store.sweep(now - retentionMs);
    host.store.setMeta("last_sweep", String(now));
    return sweepExpiredHistory(host, now);
  }
  return Math.max(oldest + retentionMs, lastSweep + sweepEveryMs);
}
