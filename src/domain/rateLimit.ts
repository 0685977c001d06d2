/**
 * Token bucket: `limit` calls per second with a burst of one second's worth.
 * Pure, so the actor that owns the buckets only stores and passes the clock.
 */
export interface TokenBucket {
  tokens: number;
  /** Milliseconds, the clock of the last refill. */
  at: number;
}

export function takeToken(
  bucket: TokenBucket | undefined,
  limitPerSecond: number,
  nowMs: number,
): { allowed: boolean; bucket: TokenBucket } {
  const start = bucket ?? { tokens: limitPerSecond, at: nowMs };
  const elapsed = Math.max(0, nowMs - start.at);
  const tokens = Math.min(limitPerSecond, start.tokens + (elapsed * limitPerSecond) / 1000);
  if (tokens < 1) return { allowed: false, bucket: { tokens, at: nowMs } };
  return { allowed: true, bucket: { tokens: tokens - 1, at: nowMs } };
}
