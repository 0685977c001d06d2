/**
 * The console's rules, without the runtime: who a session is, what it may touch, and how long a
 * caller who keeps sending wrong keys waits before the next try.
 */
import { z } from "zod";

/** How long a console session lasts; it is renewed when less than half is left. */
export const sessionSeconds = 30 * 60;

/**
 * A signed-in console: the deployment's operator (every app, creating apps) or one app's
 * operator (that app only). `csrf` must come back in the X-CSRF-Token header of every
 * state-changing call.
 */
export const SessionClaims = z.discriminatedUnion("role", [
  z.object({ role: z.literal("deployment"), csrf: z.string().min(16) }),
  z.object({ role: z.literal("app"), app: z.number().int().positive(), csrf: z.string().min(16) }),
]);
export type SessionClaims = z.infer<typeof SessionClaims>;

/** Why a session may not act for `sdkAppId`, or undefined when it may. */
export function scopeProblem(session: SessionClaims, sdkAppId: number): string | undefined {
  if (session.role === "deployment" || session.app === sdkAppId) return undefined;
  return `this session belongs to app ${session.app}; it may not act for app ${sdkAppId}`;
}

/** Wrong keys one caller may send before it has to wait. */
export const freeFailures = 5;
/** The longest wait after wrong keys. */
export const maxBackoffMs = 15 * 60_000;
/** Failures older than this are forgotten. */
export const failureMemoryMs = 60 * 60_000;

export interface FailureRecord {
  /** Wrong keys in a row (reset by a right one, or by an hour without one). */
  failures: number;
  /** When the last wrong key came. */
  lastAt: number;
}

/**
 * Until when the caller must wait before its next try: free for the first few wrong keys,
 * then 1 s, 2 s, 4 s, … doubling up to 15 minutes after the last one.
 */
export function retryAt(record: FailureRecord | undefined, now: number): number {
  if (!record || now - record.lastAt > failureMemoryMs || record.failures < freeFailures) return 0;
  const wait = Math.min(maxBackoffMs, 1000 * 2 ** (record.failures - freeFailures));
  return record.lastAt + wait;
}

/** The record after one more wrong key. */
export function afterFailure(record: FailureRecord | undefined, now: number): FailureRecord {
  const fresh = !record || now - record.lastAt > failureMemoryMs;
  return { failures: fresh ? 1 : record.failures + 1, lastAt: now };
}

/**
 * Whose wrong keys a try counts with: an IPv4 address as it is, an IPv6 address by its /64 (one
 * subscriber's network holds 2^64 addresses, so counting each alone would let a script step
 * through them), an IPv4-mapped IPv6 address as its IPv4 one.
 */
export function guardedAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(":")}::/64`;
}

/** Compares two secrets in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let diff = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i++) diff |= (left[i % (left.length || 1)] ?? 0) ^ (right[i % (right.length || 1)] ?? 0);
  return diff === 0;
}
